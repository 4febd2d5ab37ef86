//! Orders for multi-leg option positions: one combo model shared by strategies, the risk
//! manager, the simulated broker and the Interactive Brokers adapter, so that what a backtest
//! accepts is what IB will accept.
//!
//! # The price convention (IB's BAG orders)
//!
//! A combo is a set of legs, each an instrument with an action (buy or sell) and a ratio, and
//! an order buys or sells `quantity` units of it at one **net limit price per unit**. The net
//! price of the combo is Σ (+1 for a bought leg, −1 for a sold leg) × ratio × leg price, in
//! dollars per share (multiply by the multiplier, 100, for a contract's cash).
//!
//! Volta always writes the legs **as the position to be held** and **opens with BUY**:
//! - a debit structure (a long call spread) is a BUY at a positive price: at most that much is
//!   paid;
//! - a credit structure (a put credit spread: sell the 400 put, buy the 390 put) is a BUY at a
//!   **negative** price: −1.25 means "receive at least 1.25". IB accepts negative combo limit
//!   prices for exactly this ("a credit is a BUY at a negative price");
//! - closing is a SELL of the same combo: SELL at −0.40 means "pay at most 0.40" to close the
//!   credit spread.
//!
//! So the sign of the cash is fixed by one rule: BUY at price p pays p per unit (receives −p
//! when p < 0); SELL at p receives p. A BUY limit is reachable by any net price ≤ the limit, a
//! SELL limit by any net price ≥ it. The same numbers go to IB unchanged.
//!
//! ```
//! use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
//! use volta_core::{ContractKey, Money};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let short: ContractKey = "SPY   250321P00400000".parse()?;
//! let long: ContractKey = "SPY   250321P00390000".parse()?;
//! let spread = vec![
//!     Leg::option(short, LegAction::Sell, 1)?,
//!     Leg::option(long, LegAction::Buy, 1)?,
//! ];
//! // Open for a credit of at least 1.25 a share, 2 spreads: a BUY at -1.25.
//! let order = ComboOrder::new(spread, ComboSide::Buy, 2, "-1.25".parse()?)?;
//! assert!(order.is_credit());
//! // Net price of the legs at 2.10 (the 400 put) and 0.80 (the 390 put): -1.30, a credit of 1.30.
//! let net = order.net_price(&["2.10".parse()?, "0.80".parse()?])?;
//! assert_eq!(net.to_string(), "-1.3");
//! assert!(order.limit_reached(net)); // -1.30 <= -1.25: at least the credit asked
//! // Filling at -1.30: 1.30 × 100 × 2 = $260 received.
//! assert_eq!(order.cash_flow(net)?, "260".parse::<Money>()?);
//! // Its maximum loss: width 10 less the credit, per share, × 100 × 2.
//! assert_eq!(order.max_loss_at(net)?, Some("1740".parse::<Money>()?));
//! # Ok(())
//! # }
//! ```

use std::fmt;

use rust_decimal::Decimal;
use volta_pricing::OptionRight;

use crate::contract::{ContractKey, OptionContract, Underlying};
use crate::error::{CoreError, Result, invalid};
use crate::money::{Money, Price};
use crate::tick;

/// Dollar greeks of a position (or of one unit of a proposed combo).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DollarGreeks {
    /// Σ delta × multiplier × quantity × spot: dollars gained per 100 % move, to first order.
    pub dollar_delta: f64,
    /// Σ vega × multiplier × quantity / 100: dollars gained per volatility point.
    pub vega_per_point: f64,
}

/// Whether a leg is bought or sold when the combo is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegAction {
    /// Bought (held long once the combo is bought).
    Buy,
    /// Sold (held short once the combo is bought).
    Sell,
}

impl LegAction {
    /// +1 for a bought leg, −1 for a sold one.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }

    /// The other action.
    #[must_use]
    pub const fn reversed(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// What a leg trades.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instrument {
    /// A listed option.
    Option(OptionContract),
    /// Shares of an underlying (a covered leg, or stock delivered by assignment).
    Stock(Underlying),
}

impl Instrument {
    /// Units per quantity of 1: the option's multiplier (100), or 1 share.
    #[must_use]
    pub const fn multiplier(&self) -> u32 {
        match self {
            Self::Option(c) => c.multiplier(),
            Self::Stock(_) => 1,
        }
    }

    /// The underlying.
    #[must_use]
    pub const fn underlying(&self) -> &Underlying {
        match self {
            Self::Option(c) => c.underlying(),
            Self::Stock(u) => u,
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Option(c) => write!(f, "{}", c.key()),
            Self::Stock(u) => write!(f, "{u} stock"),
        }
    }
}

/// One leg of a combo.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Leg {
    /// What the leg trades.
    pub instrument: Instrument,
    /// Bought or sold when the combo is bought.
    pub action: LegAction,
    /// Units of this leg per unit of the combo (1 for verticals and condors, 2 for the body of
    /// a butterfly).
    pub ratio: u32,
}

impl Leg {
    /// An option leg on the standard contract of `key`.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `ratio` is 0.
    pub fn option(key: ContractKey, action: LegAction, ratio: u32) -> Result<Self> {
        Self::new(
            Instrument::Option(OptionContract::from_key(key)),
            action,
            ratio,
        )
    }

    /// A leg.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `ratio` is 0.
    pub fn new(instrument: Instrument, action: LegAction, ratio: u32) -> Result<Self> {
        if ratio == 0 {
            return Err(invalid("leg ratio", ratio, "at least 1"));
        }
        Ok(Self {
            instrument,
            action,
            ratio,
        })
    }

    /// Signed units held per combo unit bought: +ratio for a bought leg, −ratio for a sold one.
    #[must_use]
    pub const fn signed_ratio(&self) -> i64 {
        self.action.sign() * self.ratio as i64
    }
}

/// Buying or selling the combo (see the module docs for the price convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComboSide {
    /// Buy the legs as written: opens the position they describe.
    Buy,
    /// Sell the legs as written: closes (or reverses) it.
    Sell,
}

impl ComboSide {
    /// +1 to buy, −1 to sell.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }
}

/// A limit order for `quantity` units of a combo at one net price per unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComboOrder {
    legs: Vec<Leg>,
    side: ComboSide,
    quantity: u32,
    limit: Decimal,
}

/// The first option leg of `legs` (the first leg when none is an option).
fn first_option(legs: &[Leg]) -> &Leg {
    legs.iter()
        .find(|l| matches!(l.instrument, Instrument::Option(_)))
        .unwrap_or(&legs[0])
}

impl ComboOrder {
    /// A combo order. The legs must share one underlying and one multiplier (IB's BAG
    /// contracts do), their options one settlement time (AM or PM), and name each instrument
    /// once.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] for no legs, a quantity of 0, legs on different underlyings,
    /// multipliers or settlement times, or an instrument that appears twice.
    pub fn new(legs: Vec<Leg>, side: ComboSide, quantity: u32, limit: Decimal) -> Result<Self> {
        let Some(first) = legs.first() else {
            return Err(invalid("combo legs", 0, "at least one leg"));
        };
        if quantity == 0 {
            return Err(invalid("combo quantity", quantity, "at least 1"));
        }
        let underlying = first.instrument.underlying();
        for (i, leg) in legs.iter().enumerate() {
            if leg.instrument.underlying() != underlying {
                return Err(invalid(
                    "combo leg underlying",
                    leg.instrument.underlying(),
                    "the same underlying for every leg (IB's BAG contracts have one symbol)",
                ));
            }
            if leg.instrument.multiplier() != first.instrument.multiplier() {
                return Err(invalid(
                    "combo leg multiplier",
                    leg.instrument.multiplier(),
                    "the same multiplier for every leg",
                ));
            }
            if let (Instrument::Option(a), Instrument::Option(b)) =
                (&first_option(&legs).instrument, &leg.instrument)
                && a.settlement_time() != b.settlement_time()
            {
                return Err(invalid(
                    "combo leg settlement",
                    format!(
                        "{} ({:?}) with {} ({:?})",
                        b.key(),
                        b.settlement_time(),
                        a.key(),
                        a.settlement_time()
                    ),
                    "one settlement time for every leg: AM and PM series (SPX and SPXW) settle \
                     at different prices, so the combo's loss would not be bounded by its width",
                ));
            }
            if legs[..i].iter().any(|l| l.instrument == leg.instrument) {
                return Err(invalid(
                    "combo leg",
                    &leg.instrument,
                    "named once: merge the ratios",
                ));
            }
        }
        Ok(Self {
            legs,
            side,
            quantity,
            limit: limit.normalize(),
        })
    }

    /// The legs, as the position bought.
    #[must_use]
    pub fn legs(&self) -> &[Leg] {
        &self.legs
    }

    /// Buy or sell.
    #[must_use]
    pub const fn side(&self) -> ComboSide {
        self.side
    }

    /// Combo units.
    #[must_use]
    pub const fn quantity(&self) -> u32 {
        self.quantity
    }

    /// The net limit price per unit (negative: a credit when buying, a payment when selling).
    #[must_use]
    pub const fn limit(&self) -> Decimal {
        self.limit
    }

    /// The option root whose price grid the limit follows (the first option leg's); `None`
    /// for stock only.
    #[must_use]
    pub fn grid_root(&self) -> Option<&str> {
        self.legs.iter().find_map(|l| match &l.instrument {
            Instrument::Option(c) => Some(c.key().root()),
            Instrument::Stock(_) => None,
        })
    }

    /// Whether the exchange treats it as a complex order (more than one leg, or a ratio).
    #[must_use]
    pub fn is_complex(&self) -> bool {
        self.legs.len() > 1 || self.legs[0].ratio > 1
    }

    /// `price` moved to this order's grid ([`crate::tick`]): up when `up`, else down. Stock
    /// only: the cent.
    #[must_use]
    pub fn to_grid(&self, price: Decimal, up: bool) -> Decimal {
        if let Some(root) = self.grid_root() {
            return tick::round(price, root, self.is_complex(), up);
        }
        let cents = price * Decimal::ONE_HUNDRED;
        (if up { cents.ceil() } else { cents.floor() }) / Decimal::ONE_HUNDRED
    }

    /// Whether the limit is on the exchange's grid for this order ([`crate::tick`]).
    #[must_use]
    pub fn limit_on_grid(&self) -> bool {
        self.grid_root().map_or_else(
            || self.limit.round_dp(2) == self.limit,
            |root| tick::on_grid(self.limit, root, self.is_complex()),
        )
    }

    /// The underlying all legs share.
    #[must_use]
    pub fn underlying(&self) -> &Underlying {
        self.legs[0].instrument.underlying()
    }

    /// The multiplier all legs share.
    #[must_use]
    pub fn multiplier(&self) -> u32 {
        self.legs[0].instrument.multiplier()
    }

    /// Whether the order receives cash when filled at its limit.
    #[must_use]
    pub fn is_credit(&self) -> bool {
        Decimal::from(self.side.sign()) * self.limit < Decimal::ZERO
    }

    /// The same order with a new limit (IB's modify).
    #[must_use]
    pub fn with_limit(&self, limit: Decimal) -> Self {
        Self {
            limit: limit.normalize(),
            ..self.clone()
        }
    }

    /// The same order for another quantity (sizing).
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `quantity` is 0.
    pub fn with_quantity(&self, quantity: u32) -> Result<Self> {
        if quantity == 0 {
            return Err(invalid("combo quantity", quantity, "at least 1"));
        }
        Ok(Self {
            quantity,
            ..self.clone()
        })
    }

    /// The order that closes what this one opens: the same legs and quantity, the other side.
    #[must_use]
    pub fn closing(&self, limit: Decimal) -> Self {
        Self {
            side: match self.side {
                ComboSide::Buy => ComboSide::Sell,
                ComboSide::Sell => ComboSide::Buy,
            },
            limit: limit.normalize(),
            ..self.clone()
        }
    }

    /// The combo's net price per unit from one price per leg, in leg order.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] if `leg_prices` has another length than the legs;
    /// [`CoreError::Overflow`] on decimal overflow.
    pub fn net_price(&self, leg_prices: &[Price]) -> Result<Decimal> {
        if leg_prices.len() != self.legs.len() {
            return Err(invalid(
                "leg prices",
                leg_prices.len(),
                "one price per leg, in leg order",
            ));
        }
        self.legs
            .iter()
            .zip(leg_prices)
            .try_fold(Decimal::ZERO, |net, (leg, price)| {
                Decimal::from(leg.signed_ratio())
                    .checked_mul(price.value())
                    .and_then(|x| net.checked_add(x))
                    .ok_or(CoreError::Overflow {
                        operation: "combo net price",
                    })
            })
    }

    /// Whether a fill at net price `net` respects the limit: ≤ it when buying, ≥ when selling.
    #[must_use]
    pub fn limit_reached(&self, net: Decimal) -> bool {
        match self.side {
            ComboSide::Buy => net <= self.limit,
            ComboSide::Sell => net >= self.limit,
        }
    }

    /// Cash received (positive) or paid (negative) when the whole order fills at net price `net`
    /// per unit, before fees.
    ///
    /// # Errors
    /// [`CoreError::Overflow`] on decimal overflow.
    pub fn cash_flow(&self, net: Decimal) -> Result<Money> {
        let units = Decimal::from(self.multiplier()) * Decimal::from(self.quantity);
        net.checked_mul(units)
            .and_then(|x| x.checked_mul(Decimal::from(-self.side.sign())))
            .map(Money::new)
            .ok_or(CoreError::Overflow {
                operation: "combo cash flow",
            })
    }

    /// Signed units of each leg's instrument this order adds to the account when filled:
    /// ratio × quantity, positive for long.
    #[must_use]
    pub fn position_changes(&self) -> Vec<(&Instrument, i64)> {
        self.legs
            .iter()
            .map(|leg| {
                (
                    &leg.instrument,
                    self.side.sign() * leg.signed_ratio() * i64::from(self.quantity),
                )
            })
            .collect()
    }

    /// The most the position a BUY opens can lose at expiry, for an all-option combo of one
    /// expiry whose legs are balanced by right (as many long as short units of calls, and of
    /// puts), opened at net price `net` per unit: the worst payoff over all underlying prices
    /// plus the premium, × multiplier × quantity. `None` when the loss is unbounded (a naked
    /// short leg) or the combo is not of that shape (stock legs, several expiries, a SELL).
    ///
    /// The payoff of such a combo is piecewise linear in the underlying's price with kinks at
    /// the strikes and flat beyond them, so its minimum is at a strike, at zero, or at infinity.
    ///
    /// # Errors
    /// [`CoreError::Overflow`] on decimal overflow.
    pub fn max_loss_at(&self, net: Decimal) -> Result<Option<Money>> {
        if self.side != ComboSide::Buy {
            return Ok(None);
        }
        let mut legs = Vec::with_capacity(self.legs.len());
        for leg in &self.legs {
            let Instrument::Option(c) = &leg.instrument else {
                return Ok(None);
            };
            legs.push((c.key().right(), c.strike().value(), leg.signed_ratio()));
        }
        let expiries = self
            .legs
            .iter()
            .filter_map(|l| match &l.instrument {
                Instrument::Option(c) => Some(c.expiry()),
                Instrument::Stock(_) => None,
            })
            .collect::<std::collections::BTreeSet<_>>();
        // Calls: the slope far above the strikes is the net call units; a net short is unbounded.
        let call_units: i64 = legs
            .iter()
            .filter(|l| l.0 == OptionRight::Call)
            .map(|l| l.2)
            .sum();
        if expiries.len() != 1 || call_units < 0 {
            return Ok(None);
        }
        let payoff = |s: Decimal| -> Decimal {
            legs.iter()
                .map(|&(right, k, units)| {
                    let intrinsic = match right {
                        OptionRight::Call => (s - k).max(Decimal::ZERO),
                        OptionRight::Put => (k - s).max(Decimal::ZERO),
                    };
                    Decimal::from(units) * intrinsic
                })
                .sum()
        };
        let worst = legs
            .iter()
            .map(|l| l.1)
            .chain([Decimal::ZERO])
            .map(payoff)
            .min()
            .unwrap_or(Decimal::ZERO);
        let per_unit = net - worst; // premium paid less the worst payoff
        let units = Decimal::from(self.multiplier()) * Decimal::from(self.quantity);
        per_unit
            .max(Decimal::ZERO)
            .checked_mul(units)
            .map(|x| Some(Money::new(x)))
            .ok_or(CoreError::Overflow {
                operation: "combo max loss",
            })
    }
}

impl fmt::Display for ComboOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            ComboSide::Buy => "BUY",
            ComboSide::Sell => "SELL",
        };
        write!(f, "{side} {} × [", self.quantity)?;
        for (i, leg) in self.legs.iter().enumerate() {
            let action = match leg.action {
                LegAction::Buy => "+",
                LegAction::Sell => "-",
            };
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{action}{} {}", leg.ratio, leg.instrument)?;
        }
        write!(f, "] LMT {}", self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ContractKey {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    fn condor() -> Vec<Leg> {
        vec![
            Leg::option(key("SPY   250321P00390000"), LegAction::Buy, 1).unwrap(),
            Leg::option(key("SPY   250321P00400000"), LegAction::Sell, 1).unwrap(),
            Leg::option(key("SPY   250321C00450000"), LegAction::Sell, 1).unwrap(),
            Leg::option(key("SPY   250321C00465000"), LegAction::Buy, 1).unwrap(),
        ]
    }

    #[test]
    fn iron_condor_by_hand() {
        let order = ComboOrder::new(condor(), ComboSide::Buy, 3, d("-2.10")).unwrap();
        assert_eq!(
            order.to_string(),
            "BUY 3 × [+1 SPY   250321P00390000, -1 SPY   250321P00400000, \
             -1 SPY   250321C00450000, +1 SPY   250321C00465000] LMT -2.1"
        );
        // Legs at 0.90, 2.00, 1.60, 0.55: net = 0.90 - 2.00 - 1.60 + 0.55 = -2.15.
        let net = order
            .net_price(&[p("0.90"), p("2.00"), p("1.60"), p("0.55")])
            .unwrap();
        assert_eq!(net, d("-2.15"));
        assert!(order.limit_reached(net));
        assert!(!order.limit_reached(d("-2.05")));
        assert_eq!(order.cash_flow(net).unwrap(), Money::new(d("645"))); // 2.15·100·3
        // Worst case: the wider (call) wing, 15 - 2.15 = 12.85 a share, ·100·3.
        assert_eq!(order.max_loss_at(net).unwrap(), Some(Money::new(d("3855"))));
        // Closing pays: SELL at -0.40 is reached by -0.40 or more (paying 0.40 or less).
        let close = order.closing(d("-0.40"));
        assert_eq!(close.side(), ComboSide::Sell);
        assert!(close.limit_reached(d("-0.35")));
        assert!(!close.limit_reached(d("-0.45")));
        assert_eq!(close.cash_flow(d("-0.35")).unwrap(), Money::new(d("-105")));
        // Positions: the close undoes the open, leg by leg.
        let opened = order.position_changes();
        let closed = close.position_changes();
        for ((a, x), (b, y)) in opened.iter().zip(&closed) {
            assert_eq!(a, b);
            assert_eq!(x + y, 0);
        }
        assert_eq!(opened[1].1, -3);
    }

    #[test]
    fn debit_spread_and_unbounded_shapes() {
        let long_call = vec![
            Leg::option(key("SPY   250321C00450000"), LegAction::Buy, 1).unwrap(),
            Leg::option(key("SPY   250321C00460000"), LegAction::Sell, 1).unwrap(),
        ];
        let order = ComboOrder::new(long_call, ComboSide::Buy, 1, d("3.20")).unwrap();
        assert!(!order.is_credit());
        assert_eq!(order.cash_flow(d("3.10")).unwrap(), Money::new(d("-310")));
        // A debit spread loses at most its debit.
        assert_eq!(
            order.max_loss_at(d("3.10")).unwrap(),
            Some(Money::new(d("310")))
        );
        // A naked short call, a ratio spread short one extra call: unbounded.
        let naked = vec![Leg::option(key("SPY   250321C00450000"), LegAction::Sell, 1).unwrap()];
        let order = ComboOrder::new(naked, ComboSide::Buy, 1, d("-2")).unwrap();
        assert_eq!(order.max_loss_at(d("-2")).unwrap(), None);
        // A naked short put loses at most strike - credit (the underlying cannot go below 0).
        let put = vec![Leg::option(key("SPY   250321P00400000"), LegAction::Sell, 1).unwrap()];
        let order = ComboOrder::new(put, ComboSide::Buy, 1, d("-2")).unwrap();
        assert_eq!(
            order.max_loss_at(d("-2")).unwrap(),
            Some(Money::new(d("39800")))
        );
    }

    #[test]
    fn bad_combos_are_refused_with_the_reason() {
        let err = ComboOrder::new(Vec::new(), ComboSide::Buy, 1, d("1")).unwrap_err();
        assert!(err.to_string().contains("at least one leg"), "{err}");
        let err = ComboOrder::new(condor(), ComboSide::Buy, 0, d("1")).unwrap_err();
        assert!(err.to_string().contains("quantity"), "{err}");
        let mut mixed = condor();
        mixed.push(Leg::option(key("QQQ   250321P00400000"), LegAction::Buy, 1).unwrap());
        let err = ComboOrder::new(mixed, ComboSide::Buy, 1, d("1")).unwrap_err();
        assert!(err.to_string().contains("same underlying"), "{err}");
        let mut twice = condor();
        twice.push(twice[0].clone());
        let err = ComboOrder::new(twice, ComboSide::Buy, 1, d("1")).unwrap_err();
        assert!(err.to_string().contains("named once"), "{err}");
        // The 2019-05-24 condor: SPX (AM) wings around SPXW (PM) shorts.
        let roots = vec![
            Leg::option(key("SPX   190524P02665000"), LegAction::Buy, 1).unwrap(),
            Leg::option(key("SPXW  190524P02690000"), LegAction::Sell, 1).unwrap(),
            Leg::option(key("SPXW  190524C02920000"), LegAction::Sell, 1).unwrap(),
            Leg::option(key("SPX   190524C02945000"), LegAction::Buy, 1).unwrap(),
        ];
        let err = ComboOrder::new(roots, ComboSide::Buy, 1, d("-5")).unwrap_err();
        assert!(err.to_string().contains("one settlement time"), "{err}");
        assert!(err.to_string().contains("SPXW  190524P02690000"), "{err}");
        assert!(Leg::option(key("SPY   250321P00400000"), LegAction::Buy, 0).is_err());
        let order = ComboOrder::new(condor(), ComboSide::Buy, 1, d("1")).unwrap();
        assert!(order.net_price(&[p("1")]).is_err());
    }
}
