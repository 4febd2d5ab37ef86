//! The prices a session close settles options at.

use std::collections::BTreeMap;

use crate::{Price, SettlementTime, Underlying};

/// How AM settlement is approximated, for reports: the one place the stand-in is described.
pub const AM_SETTLEMENT_STAND_IN: &str = "AM-settled series (SPX monthlies) settle at the \
    underlying's opening price on the settlement day, a stand-in for Cboe's Special Opening \
    Quotation (SOQ, ticker SET), which is computed from each component's opening print and is \
    not in the data; the two usually differ by a few index points.";

/// One underlying's prices in one session, in dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPrices {
    /// The opening price (AM settlement's stand-in: see [`SessionPrices::settlement_value`]).
    pub open: Price,
    /// The closing price: PM settlement, physical exercise by exception, early assignment.
    pub close: Price,
}

impl SessionPrices {
    /// The price that settles a contract of `time` on this session. PM: the close. AM: the
    /// open, standing in for the Special Opening Quotation ([`AM_SETTLEMENT_STAND_IN`]); this is
    /// the only place the approximation is made.
    #[must_use]
    pub const fn settlement_value(&self, time: SettlementTime) -> Price {
        match time {
            SettlementTime::Am => self.open,
            SettlementTime::Pm => self.close,
        }
    }
}

/// The session's settlement prices, per underlying.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settlements {
    prices: BTreeMap<Underlying, SessionPrices>,
}

impl Settlements {
    /// No prices.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one underlying's open and close.
    pub fn insert(&mut self, underlying: Underlying, open: Price, close: Price) {
        self.prices
            .insert(underlying, SessionPrices { open, close });
    }

    /// Builder form of [`Settlements::insert`].
    #[must_use]
    pub fn with(mut self, underlying: Underlying, open: Price, close: Price) -> Self {
        self.insert(underlying, open, close);
        self
    }

    /// One underlying's prices.
    #[must_use]
    pub fn get(&self, underlying: &Underlying) -> Option<SessionPrices> {
        self.prices.get(underlying).copied()
    }

    /// Every underlying's prices, by underlying.
    pub fn iter(&self) -> impl Iterator<Item = (&Underlying, &SessionPrices)> {
        self.prices.iter()
    }
}
