//! The fill model: the price a combo fills at against a chain's bid and ask.

use rust_decimal::{Decimal, RoundingStrategy};
use volta_core::order::{ComboOrder, ComboSide, Instrument};
use volta_core::{ChainSnapshot, OptionQuote, Price};

use crate::error::{BrokerError, Result};

/// Where between mid and the touch a leg fills: buying pays `mid + f × half-spread`, selling
/// receives `mid − f × half-spread`, with `f = spread_fraction` in [0, 1]. `f = 0` fills at
/// mid, `f = 1` at the far touch (the ask when buying, the bid when selling). The default,
/// 0.5, is halfway: a common allowance for the price improvement a patient combo limit order
/// gets on liquid index and ETF options.
///
/// Quotes are taken as they are: no depth is modelled (any quantity fills at that price) and
/// an order does not move the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillModel {
    spread_fraction: Decimal,
}

impl Default for FillModel {
    fn default() -> Self {
        Self {
            spread_fraction: Decimal::new(5, 1),
        }
    }
}

/// A combo's achievable price: one price per leg and their net, on the cent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComboPrice {
    /// Net price per combo unit (IB BAG convention), on the cent, rounded against us.
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
        Ok(Self { spread_fraction })
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
        let (bid, ask) = (quote.bid?.value(), quote.ask?.value());
        if ask < bid {
            return None;
        }
        let mid = (bid + ask) / Decimal::TWO;
        let give = self.spread_fraction * (ask - bid) / Decimal::TWO;
        // mid ± give stays within [bid, ask] since f ≤ 1, so it is non-negative.
        Price::try_new(if buying { mid + give } else { mid - give }).ok()
    }

    /// The price an all-option combo fills at against `chain`, or `None` if a leg is missing
    /// from the chain, lacks a side, is crossed, is a stock leg, or the chain is of another
    /// underlying. The limit is not checked.
    ///
    /// Each leg is priced by [`FillModel::leg_price`] in the direction it trades (a leg held
    /// long is bought when the combo is bought, sold when it is sold). The net is rounded to
    /// the cent **against us** — up for a BUY (pay more, receive less), down for a SELL — and
    /// the rounding (under one cent per unit) is added to one leg's price in that same
    /// direction, so the legs reproduce the net exactly (a bought leg whose ratio divides it
    /// exactly is preferred; one is found for every combo of ratio-1 legs).
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
        let mut legs = Vec::with_capacity(order.legs().len());
        for leg in order.legs() {
            let Instrument::Option(contract) = &leg.instrument else {
                return Ok(None);
            };
            let Some(quote) = chain.get(contract.key()) else {
                return Ok(None);
            };
            let buying = order.side().sign() * leg.action.sign() > 0;
            let Some(price) = self.leg_price(quote, buying) else {
                return Ok(None);
            };
            legs.push(price);
        }
        let raw = order.net_price(&legs)?;
        let strategy = match order.side() {
            ComboSide::Buy => RoundingStrategy::ToPositiveInfinity,
            ComboSide::Sell => RoundingStrategy::ToNegativeInfinity,
        };
        let net = raw.round_dp_with_strategy(2, strategy);
        let residual = net - raw;
        if !residual.is_zero() && !absorb(order, &mut legs, residual) {
            return Ok(None);
        }
        Ok(Some(ComboPrice { net, legs }))
    }
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
