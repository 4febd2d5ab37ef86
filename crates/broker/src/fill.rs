//! The fill model: the price a combo fills at against a chain's bid and ask.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use volta_core::order::{ComboOrder, ComboSide, Instrument};
use volta_core::{ChainSnapshot, OptionQuote, Price};

use crate::error::{BrokerError, Result};

/// Where between mid and the touch a leg fills: buying pays `mid + f × half-spread`, selling
/// receives `mid − f × half-spread`, with `f = spread_fraction` in [0, 1]. `f = 0` fills at
/// mid, `f = 1` at the far touch (the ask when buying, the bid when selling). The default,
/// 0.5, is halfway: a common allowance for the price improvement a patient combo limit order
/// gets on liquid index and ETF options.
///
/// Quotes are taken as they are, and an order does not move the market. By default every
/// limit that reaches the model's price fills on the snapshot it meets, whatever its size
/// (the first model, kept as an option); [`FillModel::with_fill_odds`] and
/// [`FillModel::with_size_limit`] make fills uncertain and bounded by the day's volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillModel {
    spread_fraction: Decimal,
    fill_odds: Option<FillOdds>,
    size_limit: Option<SizeLimit>,
}

impl Default for FillModel {
    fn default() -> Self {
        Self {
            spread_fraction: Decimal::new(5, 1),
            fill_odds: None,
            size_limit: None,
        }
    }
}

/// The chance that a limit which reaches the model's price fills on one snapshot, by where it
/// sits in the spread: 1 at the natural price (crossing every spread) or beyond, `at_mid` at
/// the mid, linear in between; below the mid it falls linearly to 0 at the far side. A
/// patient limit is filled less often than an aggressive one — the effect the deterministic
/// model ignores.
///
/// No fill data is in the shared history, so `at_mid` is an assumption, not a fit: the default
/// 0.5 gives a limit half way between mid and natural (the strategies' default) a 75 % chance
/// per snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillOdds {
    /// Chance of a fill for a limit at the mid, in [0, 1].
    pub at_mid: Decimal,
    /// Seed of the draws (with the order id and the snapshot time, each draw is reproducible).
    pub seed: u64,
}

impl Default for FillOdds {
    fn default() -> Self {
        Self {
            at_mid: Decimal::new(5, 1),
            seed: 0,
        }
    }
}

/// The most contracts one leg may trade on one snapshot: `fraction_of_volume` of the leg's
/// volume that day, but at least `min_contracts` (the quoted size, which the data does not
/// carry, is rarely below ten contracts on the index and ETF options Volta trades). An order
/// above it does not fill on that snapshot; there are no partial fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimit {
    /// Fraction of the day's volume one leg may take, in [0, 1].
    pub fraction_of_volume: Decimal,
    /// Contracts always allowed per leg.
    pub min_contracts: u64,
}

impl Default for SizeLimit {
    fn default() -> Self {
        Self {
            fraction_of_volume: Decimal::new(1, 1),
            min_contracts: 10,
        }
    }
}

/// A combo's achievable price: one price per leg and their net, on the exchange's grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComboPrice {
    /// Net price per combo unit (IB BAG convention), on the order's price grid
    /// ([`volta_core::tick`]), rounded against us.
    pub net: Decimal,
    /// Per leg, in leg order, in dollars per share; they reproduce `net` exactly.
    pub legs: Vec<Price>,
}

impl FillModel {
    /// A model with fraction `spread_fraction` of the half-spread paid.
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] unless 0 ≤ `spread_fraction` ≤ 1.
    pub fn try_new(spread_fraction: Decimal) -> Result<Self> {
        if spread_fraction < Decimal::ZERO || spread_fraction > Decimal::ONE {
            return Err(BrokerError::InvalidConfig {
                name: "spread_fraction",
                value: spread_fraction.to_string(),
                requirement: "between 0 and 1",
            });
        }
        Ok(Self {
            spread_fraction,
            ..Self::default()
        })
    }

    /// The same model with a chance of no fill ([`FillOdds`]).
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] unless 0 ≤ `odds.at_mid` ≤ 1.
    pub fn with_fill_odds(self, odds: FillOdds) -> Result<Self> {
        if odds.at_mid < Decimal::ZERO || odds.at_mid > Decimal::ONE {
            return Err(BrokerError::InvalidConfig {
                name: "fill_odds.at_mid",
                value: odds.at_mid.to_string(),
                requirement: "a probability between 0 and 1",
            });
        }
        Ok(Self {
            fill_odds: Some(odds),
            ..self
        })
    }

    /// The same model with a size limit ([`SizeLimit`]).
    ///
    /// # Errors
    /// [`BrokerError::InvalidConfig`] unless 0 ≤ `limit.fraction_of_volume` ≤ 1.
    pub fn with_size_limit(self, limit: SizeLimit) -> Result<Self> {
        if limit.fraction_of_volume < Decimal::ZERO || limit.fraction_of_volume > Decimal::ONE {
            return Err(BrokerError::InvalidConfig {
                name: "size_limit.fraction_of_volume",
                value: limit.fraction_of_volume.to_string(),
                requirement: "a fraction between 0 and 1",
            });
        }
        Ok(Self {
            size_limit: Some(limit),
            ..self
        })
    }

    /// The chance-of-fill setting, if any.
    #[must_use]
    pub const fn fill_odds(&self) -> Option<FillOdds> {
        self.fill_odds
    }

    /// The size limit, if any.
    #[must_use]
    pub const fn size_limit(&self) -> Option<SizeLimit> {
        self.size_limit
    }

    /// Whether an order whose limit reaches the model's price actually fills on `chain`'s
    /// snapshot: within the size limit, and lucky under the fill odds (the draw is a hash of
    /// the seed, `order_key` and the snapshot time, so reruns agree). Always `true` for the
    /// deterministic model.
    ///
    /// # Errors
    /// [`BrokerError::Core`] on decimal overflow.
    pub fn fills(&self, order: &ComboOrder, chain: &ChainSnapshot, order_key: u64) -> Result<bool> {
        if let Some(limit) = self.size_limit {
            for leg in order.legs() {
                let Instrument::Option(c) = &leg.instrument else {
                    continue;
                };
                let volume = chain.get(c.key()).map_or(0, |q| q.volume);
                let share = (limit.fraction_of_volume * Decimal::from(volume)).floor();
                let allowed = share.to_u64().unwrap_or(u64::MAX).max(limit.min_contracts);
                if u64::from(leg.ratio) * u64::from(order.quantity()) > allowed {
                    return Ok(false);
                }
            }
        }
        let Some(odds) = self.fill_odds else {
            return Ok(true);
        };
        let (Some(mid), Some(natural)) = (
            Self::raw_net(order, chain, Decimal::ZERO)?,
            Self::raw_net(order, chain, Decimal::ONE)?,
        ) else {
            return Ok(false);
        };
        let chance = if natural == mid {
            Decimal::ONE
        } else {
            // 0 at the mid, 1 at the natural price, negative on the far side of the mid.
            let x = (order.limit() - mid) / (natural - mid);
            if x >= Decimal::ZERO {
                odds.at_mid + (Decimal::ONE - odds.at_mid) * x.min(Decimal::ONE)
            } else {
                (odds.at_mid * (Decimal::ONE + x)).max(Decimal::ZERO)
            }
        };
        let draw = unit_draw(odds.seed, order_key, chain.as_of().and_utc().timestamp());
        Ok(draw < chance)
    }

    /// The combo's unrounded net with every leg at `fraction` of the half-spread.
    fn raw_net(
        order: &ComboOrder,
        chain: &ChainSnapshot,
        fraction: Decimal,
    ) -> Result<Option<Decimal>> {
        let at = Self {
            spread_fraction: fraction,
            ..Self::default()
        };
        at.leg_prices(order, chain)
            .map(|legs| order.net_price(&legs))
            .transpose()
            .map_err(Into::into)
    }

    /// Every leg's price in the direction it trades (a leg held long is bought when the combo
    /// is bought, sold when it is sold): `None` if a leg is not an option, is missing from
    /// `chain`, lacks a side or is crossed.
    fn leg_prices(&self, order: &ComboOrder, chain: &ChainSnapshot) -> Option<Vec<Price>> {
        order
            .legs()
            .iter()
            .map(|leg| {
                let Instrument::Option(contract) = &leg.instrument else {
                    return None;
                };
                let buying = order.side().sign() * leg.action.sign() > 0;
                self.leg_price(chain.get(contract.key())?, buying)
            })
            .collect()
    }

    /// The fraction of the half-spread paid.
    #[must_use]
    pub const fn spread_fraction(&self) -> Decimal {
        self.spread_fraction
    }

    /// One leg's price when `buying` (else selling) against `quote`: `None` without both
    /// sides or with a crossed quote (ask < bid).
    #[must_use]
    pub fn leg_price(&self, quote: &OptionQuote, buying: bool) -> Option<Price> {
        between(quote.bid?, quote.ask?, self.spread_fraction, buying)
    }

    /// The price an all-option combo fills at against `chain`, or `None` if a leg is missing
    /// from the chain, lacks a side, is crossed, is a stock leg, or the chain is of another
    /// underlying. The limit is not checked.
    ///
    /// Each leg is priced by [`FillModel::leg_price`] in the direction it trades (a leg held
    /// long is bought when the combo is bought, sold when it is sold). The net is rounded to
    /// the order's price grid (the cent for SPY, $0.05 for an SPX combo) **against us** — up
    /// for a BUY (pay more, receive less), down for a SELL — and the rounding (under one tick
    /// per unit) is added to one leg's price in that same
    /// direction, so the legs reproduce the net exactly: the first leg bought in this trade
    /// whose ratio divides the rounding exactly takes it (its price rises), else the first
    /// leg sold that can (its price falls, staying ≥ 0). If no single leg can — only when
    /// every leg is sold and priced under a cent — there is no fill on this snapshot.
    ///
    /// # Errors
    /// [`BrokerError::Core`] on decimal overflow.
    pub fn combo_price(
        &self,
        order: &ComboOrder,
        chain: &ChainSnapshot,
    ) -> Result<Option<ComboPrice>> {
        if chain.underlying() != order.underlying() {
            return Ok(None);
        }
        let Some(mut legs) = self.leg_prices(order, chain) else {
            return Ok(None);
        };
        let raw = order.net_price(&legs)?;
        let net = order.to_grid(raw, order.side() == ComboSide::Buy);
        let residual = net - raw;
        if !residual.is_zero() && !absorb(order, &mut legs, residual) {
            return Ok(None);
        }
        Ok(Some(ComboPrice { net, legs }))
    }
}

/// The price `fraction` of the half-spread from the mid toward the ask when `buying`, toward
/// the bid when selling: `None` for a crossed quote (ask < bid).
pub(crate) fn between(bid: Price, ask: Price, fraction: Decimal, buying: bool) -> Option<Price> {
    let (bid, ask) = (bid.value(), ask.value());
    if ask < bid {
        return None;
    }
    let mid = (bid + ask) / Decimal::TWO;
    let give = fraction * (ask - bid) / Decimal::TWO;
    // mid ± give stays within [bid, ask] for a fraction ≤ 1, so it is non-negative.
    Price::try_new(if buying { mid + give } else { mid - give }).ok()
}

/// A reproducible uniform draw in [0, 1) from three integers (`SplitMix64` finaliser).
fn unit_draw(seed: u64, order_key: u64, at: i64) -> Decimal {
    let mut z = seed
        ^ order_key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ at.cast_unsigned().wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 bits, as a decimal fraction.
    Decimal::from(z >> 11) / Decimal::from(1_u64 << 53)
}

/// Moves one leg's price so that the legs' net rises by `residual` (which has the sign of
/// "worse for us"). Leg j changes by `residual / signed_ratio_j`: a rise for legs whose signed
/// ratio has the residual's sign (those bought in this trade), a fall for the others. Prefers
/// rises (a price never goes negative) and exact divisions. `false` if no leg can take it.
fn absorb(order: &ComboOrder, legs: &mut [Price], residual: Decimal) -> bool {
    let rises = |a: i64| (a > 0) == (residual > Decimal::ZERO);
    let candidates = order
        .legs()
        .iter()
        .enumerate()
        .filter(|(_, l)| rises(l.signed_ratio()))
        .chain(
            order
                .legs()
                .iter()
                .enumerate()
                .filter(|(_, l)| !rises(l.signed_ratio())),
        );
    for (j, leg) in candidates {
        let a = Decimal::from(leg.signed_ratio());
        let Some(delta) = residual.checked_div(a) else {
            continue;
        };
        if delta * a != residual {
            continue; // 1/3 of a cent does not terminate: the legs would not add up exactly
        }
        if let Ok(price) = Price::try_new(legs[j].value() + delta) {
            legs[j] = price;
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use volta_core::order::{Leg, LegAction};

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn leg(k: &str, action: LegAction, ratio: u32) -> Leg {
        Leg::option(k.parse().unwrap(), action, ratio).unwrap()
    }

    fn chain(quotes: &[(&str, &str, &str)]) -> ChainSnapshot {
        let when = NaiveDate::from_ymd_opt(2025, 3, 17)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let quotes = quotes.iter().map(|(k, b, a)| {
            OptionQuote::new(
                k.parse().unwrap(),
                Some(b.parse().unwrap()),
                Some(a.parse().unwrap()),
            )
        });
        ChainSnapshot::try_new(when, "SPY".parse().unwrap(), "565".parse().unwrap(), quotes)
            .unwrap()
    }

    fn legs(price: &ComboPrice) -> Vec<Decimal> {
        price.legs.iter().map(|p| p.value()).collect()
    }

    const C560: &str = "SPY   250321C00560000";
    const C570: &str = "SPY   250321C00570000";
    const C580: &str = "SPY   250321C00580000";

    #[test]
    fn a_butterfly_rounds_up_and_the_first_bought_leg_takes_the_rounding() {
        let order = ComboOrder::new(
            vec![
                leg(C560, LegAction::Buy, 1),
                leg(C570, LegAction::Sell, 2),
                leg(C580, LegAction::Buy, 1),
            ],
            ComboSide::Buy,
            1,
            d("3"),
        )
        .unwrap();
        let chain = chain(&[
            (C560, "12.00", "12.10"),
            (C570, "6.00", "6.10"),
            (C580, "2.00", "2.05"),
        ]);
        let price = FillModel::default()
            .combo_price(&order, &chain)
            .unwrap()
            .unwrap();
        // 12.075 − 2 × 6.025 + 2.0375 = 2.0625 → 2.07; the 560 call pays the 0.75¢.
        assert_eq!(price.net, d("2.07"));
        assert_eq!(legs(&price), [d("12.0825"), d("6.025"), d("2.0375")]);
        assert_eq!(order.net_price(&price.legs).unwrap(), price.net);
    }

    #[test]
    fn a_ratio_that_does_not_divide_the_rounding_passes_it_on() {
        // Sell 1 × 560 call, buy 3 × 580 calls: the bought leg's ratio 3 cannot take 0.25¢.
        let order = ComboOrder::new(
            vec![leg(C560, LegAction::Sell, 1), leg(C580, LegAction::Buy, 3)],
            ComboSide::Buy,
            1,
            d("0"),
        )
        .unwrap();
        let chain = chain(&[(C560, "12.00", "12.10"), (C580, "2.00", "2.05")]);
        let price = FillModel::default()
            .combo_price(&order, &chain)
            .unwrap()
            .unwrap();
        // −12.025 + 3 × 2.0375 = −5.9125 → −5.91: the 560 call sells for 0.25¢ less.
        assert_eq!(price.net, d("-5.91"));
        assert_eq!(legs(&price), [d("12.0225"), d("2.0375")]);
        assert_eq!(order.net_price(&price.legs).unwrap(), price.net);
    }

    #[test]
    fn sub_cent_sold_legs_that_cannot_take_the_rounding_do_not_fill() {
        let order = ComboOrder::new(
            vec![leg(C570, LegAction::Sell, 1), leg(C580, LegAction::Sell, 1)],
            ComboSide::Buy,
            1,
            d("0"),
        )
        .unwrap();
        // Each sells at 0.0025: net −0.005 rounds to 0.00, and neither leg can give 0.5¢.
        let chain = chain(&[(C570, "0", "0.01"), (C580, "0", "0.01")]);
        assert_eq!(
            FillModel::default().combo_price(&order, &chain).unwrap(),
            None
        );
    }

    fn spread(quantity: u32, limit: &str) -> ComboOrder {
        ComboOrder::new(
            vec![leg(C570, LegAction::Sell, 1), leg(C580, LegAction::Buy, 1)],
            ComboSide::Buy,
            quantity,
            d(limit),
        )
        .unwrap()
    }

    fn with_volume(volume: u64) -> ChainSnapshot {
        let c = chain(&[(C570, "6.00", "6.20"), (C580, "2.00", "2.10")]);
        let quotes = c.iter().map(|q| OptionQuote {
            volume,
            ..q.clone()
        });
        ChainSnapshot::try_new(
            c.as_of(),
            c.underlying().clone(),
            c.underlying_price(),
            quotes,
        )
        .unwrap()
    }

    #[test]
    fn the_size_limit_takes_a_share_of_the_volume_but_always_allows_a_few_contracts() {
        let model = FillModel::default()
            .with_size_limit(SizeLimit::default())
            .unwrap();
        // Volume 50 a leg: 10 % is 5, the floor of 10 contracts wins.
        assert!(
            model
                .fills(&spread(10, "-3.95"), &with_volume(50), 1)
                .unwrap()
        );
        assert!(
            !model
                .fills(&spread(11, "-3.95"), &with_volume(50), 1)
                .unwrap()
        );
        // Volume 500: 50 contracts a leg.
        assert!(
            model
                .fills(&spread(50, "-3.95"), &with_volume(500), 1)
                .unwrap()
        );
        assert!(
            !model
                .fills(&spread(51, "-3.95"), &with_volume(500), 1)
                .unwrap()
        );
        assert!(
            FillModel::default()
                .fills(&spread(1_000, "-3.95"), &with_volume(0), 1)
                .unwrap()
        );
        assert!(
            FillModel::default()
                .with_size_limit(SizeLimit {
                    fraction_of_volume: d("1.5"),
                    min_contracts: 1
                })
                .is_err()
        );
    }

    #[test]
    fn fill_odds_rise_from_the_mid_to_the_natural_price() {
        // Sell the 570 call (6.00/6.20), buy the 580 (2.00/2.10): mid −4.05, natural −3.90.
        let chain = with_volume(1_000);
        let odds = |at_mid: &str| {
            FillModel::default()
                .with_fill_odds(FillOdds {
                    at_mid: d(at_mid),
                    seed: 7,
                })
                .unwrap()
        };
        let rate = |model: FillModel, limit: &str| {
            let n = 4_000;
            let filled = (1..=n)
                .filter(|k| model.fills(&spread(1, limit), &chain, *k).unwrap())
                .count();
            filled as f64 / n as f64
        };
        // At the natural price or beyond: always.
        assert!((rate(odds("0.5"), "-3.90") - 1.0).abs() < 1e-12);
        assert!((rate(odds("0.5"), "-3.80") - 1.0).abs() < 1e-12);
        // At the mid: at_mid; half way to natural (−3.975): 0.5 + 0.5 × 0.5 = 0.75.
        assert!((rate(odds("0.5"), "-4.05") - 0.5).abs() < 0.025);
        assert!((rate(odds("0.5"), "-3.975") - 0.75).abs() < 0.025);
        // Beyond the mid, away from natural: falls to 0 at the far side (−4.20).
        assert!((rate(odds("0.5"), "-4.125") - 0.25).abs() < 0.025);
        assert!(rate(odds("0.5"), "-4.20").abs() < 1e-12);
        assert!(rate(odds("0"), "-4.05").abs() < 1e-12);
        // Reproducible: the same order on the same snapshot draws the same.
        let model = odds("0.5");
        let first: Vec<bool> = (1..=50)
            .map(|k| model.fills(&spread(1, "-4.05"), &chain, k).unwrap())
            .collect();
        let again: Vec<bool> = (1..=50)
            .map(|k| model.fills(&spread(1, "-4.05"), &chain, k).unwrap())
            .collect();
        assert_eq!(first, again);
        assert!(
            FillModel::default()
                .with_fill_odds(FillOdds {
                    at_mid: d("-0.1"),
                    seed: 0
                })
                .is_err()
        );
    }
}
