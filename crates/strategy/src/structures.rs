//! Option structures built from an expiry's contracts: credit and debit spreads, iron
//! condors (short strangles with wings), iron butterflies (short straddles with wings) and
//! long straddles, each as one combo order priced from the quotes.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use volta_core::order::{ComboOrder, ComboSide, DollarGreeks, Leg, LegAction};
use volta_pricing::OptionRight;

use crate::error::Result;
use crate::select::{Candidate, ExpirySlice};

/// The shapes the strategies trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Structure {
    /// Sell a put, buy a lower put.
    PutCreditSpread,
    /// Sell a call, buy a higher call.
    CallCreditSpread,
    /// A put credit spread and a call credit spread: a short strangle with wings.
    IronCondor,
    /// Sell the at-the-money call and put, buy wings: a short straddle with wings.
    IronButterfly,
    /// Buy a put, sell a lower put.
    PutDebitSpread,
    /// Buy a call, sell a higher call.
    CallDebitSpread,
    /// Buy the at-the-money call and put.
    LongStraddle,
    /// Sell one put, alone (the PUT-write yardstick's cash-secured put).
    ShortPut,
}

impl Structure {
    /// Every structure.
    pub const ALL: [Self; 8] = [
        Self::PutCreditSpread,
        Self::CallCreditSpread,
        Self::IronCondor,
        Self::IronButterfly,
        Self::PutDebitSpread,
        Self::CallDebitSpread,
        Self::LongStraddle,
        Self::ShortPut,
    ];

    /// The structure [`Structure::as_str`] names.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The snake-case name used in configs and reports.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PutCreditSpread => "put_credit_spread",
            Self::CallCreditSpread => "call_credit_spread",
            Self::IronCondor => "iron_condor",
            Self::IronButterfly => "iron_butterfly",
            Self::PutDebitSpread => "put_debit_spread",
            Self::CallDebitSpread => "call_debit_spread",
            Self::LongStraddle => "long_straddle",
            Self::ShortPut => "short_put",
        }
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A structure ready to propose: one unit of the combo with its prices and greeks.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// The shape.
    pub structure: Structure,
    /// One unit, BUY (legs as held), limit set by [`Pricing`].
    pub order: ComboOrder,
    /// Net mid price per unit (negative: a credit).
    pub mid: f64,
    /// Net price per unit crossing every spread (buy at the ask, sell at the bid).
    pub natural: f64,
    /// Dollar greeks of one unit.
    pub greeks: DollarGreeks,
}

impl Trade {
    /// The credit received per unit at the order's limit (negative for a debit), dollars.
    #[must_use]
    pub fn credit(&self) -> Decimal {
        -self.order.limit()
    }
}

/// Where between the mid and the natural price the limit goes: 0 = the mid, 1 = the natural.
/// With the simulated broker's fill model at the same fraction, a limit at this price is
/// exactly reachable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    /// The fraction of the way from mid to natural conceded.
    pub edge: f64,
}

impl Default for Pricing {
    /// Half way: the simulated broker's default fill is at mid plus half the half-spread.
    fn default() -> Self {
        Self { edge: 0.5 }
    }
}

fn leg(c: &Candidate<'_>, action: LegAction) -> Result<Leg> {
    Ok(Leg::option(c.quote.key.clone(), action, 1)?)
}

/// Builds a one-unit BUY combo from (contract, action) legs.
fn build(
    structure: Structure,
    spot: f64,
    legs: &[(&Candidate<'_>, LegAction)],
    pricing: Pricing,
) -> Result<Trade> {
    let mut mid = 0.0;
    let mut natural = 0.0;
    let mut greeks = DollarGreeks::default();
    let mut order_legs = Vec::with_capacity(legs.len());
    for (c, action) in legs {
        let sign = action.sign() as f64;
        mid += sign * c.mid();
        natural += match action {
            LegAction::Buy => c.ask,
            LegAction::Sell => -c.bid,
        };
        let multiplier = f64::from(c.quote.key_multiplier());
        greeks.dollar_delta += sign * c.delta * multiplier * spot;
        greeks.vega_per_point += sign * c.vega * multiplier / 100.0;
        order_legs.push(leg(c, *action)?);
    }
    // Onto the exchange's grid (the cent for SPY, $0.05 for an SPX combo), away from the mid
    // toward the natural price: a limit a tick better than reachable would never fill. The
    // f64 price is taken at the cent first, so that float noise (2.0500000001) does not cost
    // a whole tick.
    let raw = mid + pricing.edge * (natural - mid);
    let cents = Decimal::from_f64((raw * 100.0).ceil() / 100.0)
        .unwrap_or_default()
        .round_dp(2);
    let order = ComboOrder::new(order_legs, ComboSide::Buy, 1, Decimal::ZERO)?;
    let order = order.with_limit(order.to_grid(cents, true));
    Ok(Trade {
        structure,
        order,
        mid,
        natural,
        greeks,
    })
}

/// Multiplier of a quote's contract (the standard 100 for every root Volta trades).
trait KeyMultiplier {
    fn key_multiplier(&self) -> u32;
}

impl KeyMultiplier for volta_core::OptionQuote {
    fn key_multiplier(&self) -> u32 {
        volta_core::OptionContract::from_key(self.key.clone()).multiplier()
    }
}

/// A credit spread on `right`: sell the out-of-the-money contract nearest `short_delta`, buy
/// the wing about `width` dollars further out. `None` when the slice has no such pair or the
/// pair pays no credit at the mid.
///
/// # Errors
/// Only if a combo cannot be built from listed contracts (it can).
pub fn credit_spread(
    slice: &ExpirySlice<'_>,
    right: OptionRight,
    short_delta: f64,
    width: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let (Some(short), structure) = (
        slice.by_delta(right, short_delta),
        match right {
            OptionRight::Put => Structure::PutCreditSpread,
            OptionRight::Call => Structure::CallCreditSpread,
        },
    ) else {
        return Ok(None);
    };
    let Some(long) = slice.wing(right, short.strike, width) else {
        return Ok(None);
    };
    let trade = build(
        structure,
        slice.spot,
        &[(short, LegAction::Sell), (long, LegAction::Buy)],
        pricing,
    )?;
    Ok(credit_only(trade))
}

/// An iron condor: a put credit spread and a call credit spread at the same |delta| and width.
///
/// # Errors
/// As [`credit_spread`].
pub fn iron_condor(
    slice: &ExpirySlice<'_>,
    short_delta: f64,
    width: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let (Some(sp), Some(sc)) = (
        slice.by_delta(OptionRight::Put, short_delta),
        slice.by_delta(OptionRight::Call, short_delta),
    ) else {
        return Ok(None);
    };
    if sp.strike >= sc.strike {
        return Ok(None);
    }
    short_pair_with_wings(Structure::IronCondor, slice, sp, sc, width, pricing)
}

/// An iron butterfly: sell the at-the-money put and call (same strike), buy wings `width` out.
///
/// # Errors
/// As [`credit_spread`].
pub fn iron_butterfly(
    slice: &ExpirySlice<'_>,
    width: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let Some(sc) = slice.at_the_money(OptionRight::Call) else {
        return Ok(None);
    };
    let Some(sp) = slice.puts.iter().find(|p| p.strike == sc.strike) else {
        return Ok(None);
    };
    short_pair_with_wings(Structure::IronButterfly, slice, sp, sc, width, pricing)
}

/// The short put `sp` and short call `sc` with long wings `width` beyond each: the iron condor
/// and the iron butterfly. `None` without both wings or without a net credit.
fn short_pair_with_wings(
    structure: Structure,
    slice: &ExpirySlice<'_>,
    sp: &Candidate<'_>,
    sc: &Candidate<'_>,
    width: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let (Some(lp), Some(lc)) = (
        slice.wing(OptionRight::Put, sp.strike, width),
        slice.wing(OptionRight::Call, sc.strike, width),
    ) else {
        return Ok(None);
    };
    let trade = build(
        structure,
        slice.spot,
        &[
            (lp, LegAction::Buy),
            (sp, LegAction::Sell),
            (sc, LegAction::Sell),
            (lc, LegAction::Buy),
        ],
        pricing,
    )?;
    Ok(credit_only(trade))
}

/// The trade if it collects a credit at both its mid and its limit.
fn credit_only(trade: Trade) -> Option<Trade> {
    (trade.mid < 0.0 && trade.order.limit() < Decimal::ZERO).then_some(trade)
}

/// A debit spread on `right`: buy the contract nearest `long_delta`, sell the one about `width`
/// further out of the money.
///
/// # Errors
/// As [`credit_spread`].
pub fn debit_spread(
    slice: &ExpirySlice<'_>,
    right: OptionRight,
    long_delta: f64,
    width: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let Some(long) = slice.side(right).iter().min_by(|a, b| {
        (a.delta.abs() - long_delta)
            .abs()
            .total_cmp(&(b.delta.abs() - long_delta).abs())
    }) else {
        return Ok(None);
    };
    let Some(short) = slice.wing(right, long.strike, width) else {
        return Ok(None);
    };
    let structure = match right {
        OptionRight::Put => Structure::PutDebitSpread,
        OptionRight::Call => Structure::CallDebitSpread,
    };
    let trade = build(
        structure,
        slice.spot,
        &[(long, LegAction::Buy), (short, LegAction::Sell)],
        pricing,
    )?;
    Ok((trade.mid > 0.0).then_some(trade))
}

/// A long straddle: buy the at-the-money call and put.
///
/// # Errors
/// As [`credit_spread`].
pub fn long_straddle(slice: &ExpirySlice<'_>, pricing: Pricing) -> Result<Option<Trade>> {
    let Some(call) = slice.at_the_money(OptionRight::Call) else {
        return Ok(None);
    };
    let Some(put) = slice.puts.iter().find(|p| p.strike == call.strike) else {
        return Ok(None);
    };
    build(
        Structure::LongStraddle,
        slice.spot,
        &[(call, LegAction::Buy), (put, LegAction::Buy)],
        pricing,
    )
    .map(Some)
}

/// A short put at the money: sell the put whose strike is nearest the underlying's price (the
/// lower one on a tie, just out of the money). `None` when the slice lists no put or the put
/// pays nothing at the mid.
///
/// # Errors
/// As [`credit_spread`].
pub fn short_put(slice: &ExpirySlice<'_>, pricing: Pricing) -> Result<Option<Trade>> {
    sell_put(slice, slice.at_the_money(OptionRight::Put), pricing)
}

/// A cash-secured short put out of the money: sell the put whose |delta| is nearest
/// `short_delta` (strike at or below the underlying's price). `None` when the slice lists no
/// such put or it pays nothing at the mid.
///
/// # Errors
/// As [`credit_spread`].
pub fn short_put_by_delta(
    slice: &ExpirySlice<'_>,
    short_delta: f64,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    sell_put(
        slice,
        slice.by_delta(OptionRight::Put, short_delta),
        pricing,
    )
}

/// The short put of `put`, if there is one and it pays something at the mid.
fn sell_put(
    slice: &ExpirySlice<'_>,
    put: Option<&Candidate<'_>>,
    pricing: Pricing,
) -> Result<Option<Trade>> {
    let Some(put) = put else {
        return Ok(None);
    };
    let trade = build(
        Structure::ShortPut,
        slice.spot,
        &[(put, LegAction::Sell)],
        pricing,
    )?;
    Ok((trade.mid < 0.0).then_some(trade))
}
