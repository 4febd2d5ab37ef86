//! What an option order costs beyond its premium: the broker's commission, the exchange's
//! proprietary-index surcharge, the regulatory and clearing fees — a schedule kept as data.
//!
//! The default is Interactive Brokers' Fixed pricing for US options, read from
//! `fees/ib-us-options.toml` (its source is named in the file and in
//! [`OptionFeeSchedule::source`]). A schedule is a list of dated periods; each holds the
//! commission tiers by premium, the surcharges by option root (SPX monthlies and SPXW weeklies
//! differ), the Options Regulatory Fee, the OCC clearing fee, and the FINRA and SEC fees that
//! apply to sales only.
//!
//! ```
//! use volta_broker::fees::{FeeLeg, OptionFeeSchedule};
//!
//! let fees = OptionFeeSchedule::interactive_brokers();
//! let on = chrono::NaiveDate::from_ymd_opt(2019, 5, 24).unwrap();
//! // Sell one SPX monthly put at $6.40: commission 0.65 → the $1 minimum, surcharge 0.50,
//! // ORF 0.0388, OCC 0.055, FINRA 0.002, SEC 640 × 0.0000221.
//! let leg = FeeLeg { root: "SPX", contracts: -1, price: "6.40".parse().unwrap(), multiplier: 100 };
//! let cost = fees.order(&[leg], on).unwrap();
//! assert_eq!(cost.total().to_string(), "1.61");
//! ```

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use volta_core::{Money, Price};

use crate::error::{BrokerError, Result};

/// The embedded default schedule.
const IB_US_OPTIONS: &str = include_str!("../fees/ib-us-options.toml");

/// One leg of a filled option order, as the fee schedule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeLeg<'a> {
    /// The option root (`SPX`, `SPXW`, `SPY`, …): surcharges depend on it.
    pub root: &'a str,
    /// Contracts traded: positive bought, negative sold.
    pub contracts: i64,
    /// The fill price per share (the premium).
    pub price: Price,
    /// Shares per contract.
    pub multiplier: u32,
}

/// An order's fees by component, in dollars (unrounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeBreakdown {
    /// The broker's commission (after its per-order minimum).
    pub commission: Decimal,
    /// Exchange proprietary-product surcharges (SPX).
    pub surcharge: Decimal,
    /// Options Regulatory Fee.
    pub orf: Decimal,
    /// OCC clearing fee.
    pub occ: Decimal,
    /// FINRA Trading Activity Fee (sales).
    pub finra_taf: Decimal,
    /// SEC transaction fee (sales).
    pub sec: Decimal,
}

impl FeeBreakdown {
    /// Everything, rounded half-up to the cent: what the order is charged.
    #[must_use]
    pub fn total(&self) -> Money {
        Money::new(
            self.commission + self.surcharge + self.orf + self.occ + self.finra_taf + self.sec,
        )
        .round_to_cents()
    }
}

/// A premium-tiered rate: `per_contract` for premiums below `below` (`None`: every premium).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Upper bound on the premium (exclusive), or `None` for the last tier.
    pub below: Option<Decimal>,
    /// Dollars per contract.
    pub per_contract: Decimal,
}

/// A surcharge on the contracts of some option roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surcharge {
    /// The roots it applies to.
    pub roots: Vec<String>,
    /// Its rates by premium.
    pub tiers: Vec<Tier>,
}

/// The fees in force over one date range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePeriod {
    /// First date it applies (inclusive).
    pub from: NaiveDate,
    /// First date it no longer applies; `None` for open ended.
    pub to: Option<NaiveDate>,
    /// Least commission per order.
    pub min_per_order: Decimal,
    /// The commission per contract, by premium.
    pub commission: Vec<Tier>,
    /// Per-root surcharges.
    pub surcharges: Vec<Surcharge>,
    /// Options Regulatory Fee per contract.
    pub orf_per_contract: Decimal,
    /// OCC clearing fee per contract.
    pub occ_per_contract: Decimal,
    /// Most OCC clearing fee per order.
    pub occ_max_per_order: Decimal,
    /// FINRA TAF per contract sold.
    pub finra_taf_per_contract_sold: Decimal,
    /// SEC fee per dollar of premium sold.
    pub sec_fee_per_dollar_sold: Decimal,
}

/// A dated fee schedule for option orders (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionFeeSchedule {
    source: String,
    periods: Vec<FeePeriod>,
}

impl Default for OptionFeeSchedule {
    fn default() -> Self {
        Self::interactive_brokers()
    }
}

impl OptionFeeSchedule {
    /// Interactive Brokers' Fixed pricing for US options (the embedded table).
    ///
    /// # Panics
    /// Never: the embedded table is parsed by the tests.
    #[must_use]
    pub fn interactive_brokers() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "the embedded table is checked by the tests"
        )]
        Self::from_toml(IB_US_OPTIONS).expect("the embedded IB fee table parses")
    }

    /// No fees at all (for tests that isolate the fill model).
    #[must_use]
    pub fn free() -> Self {
        Self {
            source: "no fees".to_owned(),
            periods: vec![FeePeriod {
                from: NaiveDate::MIN,
                to: None,
                min_per_order: Decimal::ZERO,
                commission: vec![Tier {
                    below: None,
                    per_contract: Decimal::ZERO,
                }],
                surcharges: Vec::new(),
                orf_per_contract: Decimal::ZERO,
                occ_per_contract: Decimal::ZERO,
                occ_max_per_order: Decimal::ZERO,
                finra_taf_per_contract_sold: Decimal::ZERO,
                sec_fee_per_dollar_sold: Decimal::ZERO,
            }],
        }
    }

    /// A flat commission per contract with a per-order minimum and no pass-through fees: the
    /// simulated broker's model before the schedule, for tests that isolate settlement and
    /// fills from the fee table.
    #[must_use]
    pub fn flat(per_contract: Decimal, min_per_order: Decimal) -> Self {
        let mut flat = Self::free();
        flat.source = format!("flat ${per_contract} per contract, ${min_per_order} minimum");
        flat.periods[0].commission[0].per_contract = per_contract;
        flat.periods[0].min_per_order = min_per_order;
        flat
    }

    /// A schedule from its TOML text (the format of `fees/ib-us-options.toml`).
    ///
    /// # Errors
    /// [`BrokerError::InvalidFeeSchedule`] naming what is wrong: bad TOML, a bad date or
    /// amount, a negative rate, tiers not ending in an open tier or not ascending, periods that
    /// overlap or are out of order.
    pub fn from_toml(text: &str) -> Result<Self> {
        let raw: RawSchedule = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut periods = Vec::with_capacity(raw.period.len());
        for (i, p) in raw.period.into_iter().enumerate() {
            let at = |field: &str| format!("period {} {field}", i + 1);
            let period = FeePeriod {
                from: date(&p.from, &at("from"))?,
                to: p.to.as_deref().map(|t| date(t, &at("to"))).transpose()?,
                min_per_order: amount(&p.min_per_order, &at("min_per_order"))?,
                commission: tiers(p.commission, &at("commission"))?,
                surcharges: p
                    .surcharge
                    .into_iter()
                    .map(|s| {
                        Ok(Surcharge {
                            tiers: tiers(s.tiers, &at(&format!("surcharge {:?}", s.roots)))?,
                            roots: s.roots,
                        })
                    })
                    .collect::<Result<_>>()?,
                orf_per_contract: amount(&p.orf_per_contract, &at("orf_per_contract"))?,
                occ_per_contract: amount(&p.occ_per_contract, &at("occ_per_contract"))?,
                occ_max_per_order: amount(&p.occ_max_per_order, &at("occ_max_per_order"))?,
                finra_taf_per_contract_sold: amount(
                    &p.finra_taf_per_contract_sold,
                    &at("finra_taf_per_contract_sold"),
                )?,
                sec_fee_per_dollar_sold: amount(
                    &p.sec_fee_per_dollar_sold,
                    &at("sec_fee_per_dollar_sold"),
                )?,
            };
            if period.to.is_some_and(|to| to <= period.from) {
                return Err(bad(format!("{}: ends before it starts", at("to"))));
            }
            if let Some(previous) = periods.last().map(|p: &FeePeriod| p.to) {
                match previous {
                    Some(end) if end <= period.from => {}
                    _ => {
                        return Err(bad(format!(
                            "{}: overlaps the period before (periods must be in date order, \
                             each but the last with an end)",
                            at("from")
                        )));
                    }
                }
            }
            periods.push(period);
        }
        if periods.is_empty() {
            return Err(bad("no [[period]]".to_owned()));
        }
        Ok(Self {
            source: raw.source,
            periods,
        })
    }

    /// Where the rates come from.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The period in force on `on`.
    #[must_use]
    pub fn period(&self, on: NaiveDate) -> Option<&FeePeriod> {
        self.periods
            .iter()
            .find(|p| p.from <= on && p.to.is_none_or(|to| on < to))
    }

    /// The fees of one filled option order on `on`.
    ///
    /// # Errors
    /// [`BrokerError::InvalidFeeSchedule`] when no period covers `on`.
    pub fn order(&self, legs: &[FeeLeg<'_>], on: NaiveDate) -> Result<FeeBreakdown> {
        let period = self
            .period(on)
            .ok_or_else(|| bad(format!("no fee period covers {on} ({})", self.source)))?;
        let mut fees = FeeBreakdown::default();
        for leg in legs {
            let contracts = Decimal::from(leg.contracts.unsigned_abs());
            let premium = leg.price.value();
            fees.commission += contracts * rate(&period.commission, premium);
            if let Some(s) = period
                .surcharges
                .iter()
                .find(|s| s.roots.iter().any(|r| r == leg.root))
            {
                fees.surcharge += contracts * rate(&s.tiers, premium);
            }
            fees.orf += contracts * period.orf_per_contract;
            fees.occ += contracts * period.occ_per_contract;
            if leg.contracts < 0 {
                fees.finra_taf += contracts * period.finra_taf_per_contract_sold;
                let sold = contracts * premium * Decimal::from(leg.multiplier);
                fees.sec += sold * period.sec_fee_per_dollar_sold;
            }
        }
        if !legs.is_empty() {
            fees.commission = fees.commission.max(period.min_per_order);
        }
        fees.occ = fees.occ.min(period.occ_max_per_order);
        Ok(fees)
    }
}

/// The rate of the first tier whose bound is above `premium`.
fn rate(tiers: &[Tier], premium: Decimal) -> Decimal {
    tiers
        .iter()
        .find(|t| t.below.is_none_or(|b| premium < b))
        .map_or(Decimal::ZERO, |t| t.per_contract)
}

fn bad(reason: String) -> BrokerError {
    BrokerError::InvalidFeeSchedule { reason }
}

fn date(text: &str, field: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad(format!("{field} = {text:?}: not a YYYY-MM-DD date")))
}

fn amount(text: &str, field: &str) -> Result<Decimal> {
    match text.parse::<Decimal>() {
        Ok(d) if d >= Decimal::ZERO => Ok(d),
        _ => Err(bad(format!(
            "{field} = {text:?}: not a non-negative decimal"
        ))),
    }
}

fn tiers(raw: Vec<RawTier>, field: &str) -> Result<Vec<Tier>> {
    let tiers: Vec<Tier> = raw
        .into_iter()
        .map(|t| {
            Ok(Tier {
                below: t.below.as_deref().map(|b| amount(b, field)).transpose()?,
                per_contract: amount(&t.per_contract, field)?,
            })
        })
        .collect::<Result<_>>()?;
    let bounds: Vec<Option<Decimal>> = tiers.iter().map(|t| t.below).collect();
    let open_last = matches!(bounds.last(), Some(None));
    let ascending = bounds[..bounds.len().saturating_sub(1)]
        .windows(2)
        .all(|w| w[0] < w[1]);
    let bounded_before = bounds[..bounds.len().saturating_sub(1)]
        .iter()
        .all(Option::is_some);
    if !(open_last && ascending && bounded_before) {
        return Err(bad(format!(
            "{field}: tiers must rise by `below` and end with one tier without `below`"
        )));
    }
    Ok(tiers)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    source: String,
    period: Vec<RawPeriod>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    from: String,
    to: Option<String>,
    min_per_order: String,
    commission: Vec<RawTier>,
    #[serde(default)]
    surcharge: Vec<RawSurcharge>,
    orf_per_contract: String,
    occ_per_contract: String,
    occ_max_per_order: String,
    finra_taf_per_contract_sold: String,
    sec_fee_per_dollar_sold: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    below: Option<String>,
    per_contract: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurcharge {
    roots: Vec<String>,
    tiers: Vec<RawTier>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn leg<'a>(root: &'a str, contracts: i64, price: &str) -> FeeLeg<'a> {
        FeeLeg {
            root,
            contracts,
            price: price.parse().unwrap(),
            multiplier: 100,
        }
    }

    fn on() -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, 5, 24).unwrap()
    }

    #[test]
    fn an_spx_condor_round_trip_costs_about_ten_dollars() {
        let fees = OptionFeeSchedule::interactive_brokers();
        // Open: +2665P @ 5.10, −2690P @ 6.40, −2920C @ 8.00, +2945C @ 3.20 (SPX monthlies).
        let open = [
            leg("SPX", 1, "5.10"),
            leg("SPX", -1, "6.40"),
            leg("SPX", -1, "8.00"),
            leg("SPX", 1, "3.20"),
        ];
        let f = fees.order(&open, on()).unwrap();
        // By hand: 4 × 0.65; 4 × 0.50 (every premium ≥ $1); 4 × 0.0388; 4 × 0.055; 2 sold ×
        // 0.002; (640 + 800) × 0.0000221.
        assert_eq!(f.commission, d("2.60"));
        assert_eq!(f.surcharge, d("2.00"));
        assert_eq!(f.orf, d("0.1552"));
        assert_eq!(f.occ, d("0.220"));
        assert_eq!(f.finra_taf, d("0.004"));
        assert_eq!(f.sec, d("0.0318240"));
        assert_eq!(f.total(), "5.01".parse().unwrap());
        // Close at lower prices, the wings under $1: SPX's lower surcharge tier.
        let close = [
            leg("SPX", -1, "0.60"),
            leg("SPX", 1, "1.10"),
            leg("SPX", 1, "1.40"),
            leg("SPX", -1, "0.35"),
        ];
        let g = fees.order(&close, on()).unwrap();
        assert_eq!(g.surcharge, d("1.80")); // 0.40 + 0.50 + 0.50 + 0.40
        // 2.60 + 1.80 + 0.1552 + 0.22 + 0.004 + 95 × 0.0000221 = 4.7813 → 4.78
        assert_eq!(g.total(), "4.78".parse().unwrap());
        // The old model charged 8 × 0.65 = $5.20 for the round trip.
        assert_eq!(f.total().value() + g.total().value(), d("9.79"));
    }

    #[test]
    fn spxw_pays_the_weekly_surcharge_and_spy_none() {
        let fees = OptionFeeSchedule::interactive_brokers();
        let weekly = fees.order(&[leg("SPXW", -2, "2.00")], on()).unwrap();
        assert_eq!(weekly.surcharge, d("1.16"));
        let cheap = fees.order(&[leg("SPXPM", 1, "0.50")], on()).unwrap();
        assert_eq!(cheap.surcharge, d("0.49"));
        let spy = fees
            .order(&[leg("SPY", -1, "1.20"), leg("SPY", 1, "0.45")], on())
            .unwrap();
        assert_eq!(spy.surcharge, Decimal::ZERO);
        // 1.30 + 0.0776 + 0.11 + 0.002 + 120 × 0.0000221 = 1.492252 → 1.49
        assert_eq!(spy.total(), "1.49".parse().unwrap());
    }

    #[test]
    fn low_premiums_pay_lower_commissions_and_the_minimum_holds() {
        let fees = OptionFeeSchedule::interactive_brokers();
        // 10 calls sold at $0.04: 10 × 0.25 = 2.50; + 0.388 + 0.55 + 0.02 + 40 × 0.0000221.
        let f = fees.order(&[leg("SPY", -10, "0.04")], on()).unwrap();
        assert_eq!(f.commission, d("2.50"));
        assert_eq!(f.total(), "3.46".parse().unwrap());
        let f = fees.order(&[leg("SPY", 3, "0.075")], on()).unwrap();
        assert_eq!(f.commission, d("1.50"));
        // One contract at $2: 0.65 → the $1.00 minimum.
        let f = fees.order(&[leg("SPY", 1, "2.00")], on()).unwrap();
        assert_eq!(f.commission, d("1.00"));
        // The OCC fee is capped at $55 per order.
        let f = fees.order(&[leg("SPY", 2000, "2.00")], on()).unwrap();
        assert_eq!(f.occ, d("55.00"));
        assert_eq!(
            OptionFeeSchedule::free()
                .order(&[leg("SPX", -3, "9")], on())
                .unwrap()
                .total(),
            Money::ZERO
        );
    }

    #[test]
    fn bad_schedules_are_refused_by_name() {
        let good = IB_US_OPTIONS;
        let err =
            OptionFeeSchedule::from_toml(&good.replace("\"0.0388\"", "\"-0.01\"")).unwrap_err();
        assert!(err.to_string().contains("orf_per_contract"), "{err}");
        let err = OptionFeeSchedule::from_toml(&good.replace("{ per_contract = \"0.65\" },", ""))
            .unwrap_err();
        assert!(err.to_string().contains("commission"), "{err}");
        let err =
            OptionFeeSchedule::from_toml(&good.replace("1990-01-01", "1990-13-01")).unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
        let dated = OptionFeeSchedule::from_toml(&good.replace(
            "from = \"1990-01-01\"",
            "from = \"2000-01-01\"\nto = \"2001-01-01\"",
        ))
        .unwrap();
        assert!(
            dated
                .period(NaiveDate::from_ymd_opt(2000, 6, 1).unwrap())
                .is_some()
        );
        let err = dated.order(&[leg("SPY", 1, "1")], on()).unwrap_err();
        assert!(
            err.to_string().contains("no fee period covers 2019-05-24"),
            "{err}"
        );
        assert!(
            OptionFeeSchedule::interactive_brokers()
                .source()
                .contains("Interactive Brokers")
        );
    }
}
