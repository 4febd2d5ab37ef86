//! Positions, the account, and marking them to market.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::order::Instrument;
use crate::{ChainSnapshot, ContractKey, Money, Price, Underlying};

/// An open position in one instrument.
///
/// Cost is tracked as the exact dollars paid for the open units (`cost_basis`), not as an
/// average price, so that realised P&L adds up to the cent: a partial close removes a pro-rata
/// share of the cost rounded to the cent, and the last close removes whatever is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The instrument.
    pub instrument: Instrument,
    /// Signed units held: contracts for options, shares for stock; positive long.
    pub quantity: i64,
    /// Dollars paid for the open units (negative for a short: the premium or proceeds
    /// received).
    pub cost_basis: Money,
    /// P&L realised on this position since it was opened, before fees, in dollars.
    pub realised_pnl: Money,
}

impl Position {
    /// Units of the underlying per unit held (100 for standard options, 1 for stock).
    #[must_use]
    pub const fn multiplier(&self) -> u32 {
        self.instrument.multiplier()
    }

    /// The average price per share (per option share) of the open units, in dollars:
    /// `cost_basis / (quantity × multiplier)`, always non-negative.
    #[must_use]
    pub fn average_price(&self) -> Decimal {
        let units = Decimal::from(self.quantity) * Decimal::from(self.multiplier());
        if units.is_zero() {
            return Decimal::ZERO;
        }
        self.cost_basis
            .value()
            .checked_div(units)
            .unwrap_or_default()
    }

    /// The position's value at `mark` per share: mark × multiplier × quantity (negative for a
    /// short), in dollars.
    #[must_use]
    pub fn market_value(&self, mark: Price) -> Money {
        Money::new(mark.value() * Decimal::from(self.multiplier()) * Decimal::from(self.quantity))
    }

    /// The P&L not yet realised at `mark`: market value − cost basis, in dollars.
    #[must_use]
    pub fn unrealised_pnl(&self, mark: Price) -> Money {
        self.market_value(mark) - self.cost_basis
    }
}

/// The account's booked numbers, all exact dollars.
///
/// They reconcile: `cash − starting_cash + fees_paid + Σ positions' cost_basis =
/// realised_pnl` at all times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Cash at the start.
    pub starting_cash: Money,
    /// Cash now: premiums, stock trades, exercise and settlement cash, less fees.
    pub cash: Money,
    /// Commissions and exercise/assignment fees paid so far.
    pub fees_paid: Money,
    /// P&L realised so far on closed units (including expiries), before fees.
    pub realised_pnl: Money,
}

impl Account {
    /// Realised P&L after fees.
    #[must_use]
    pub fn net_realised_pnl(&self) -> Money {
        self.realised_pnl - self.fees_paid
    }

    /// The account marked to market: positions valued at `marks`. A position without a mark
    /// is valued at its cost basis (no unrealised P&L) and listed in
    /// [`MarkedAccount::unmarked`], so a missing quote neither creates nor destroys equity.
    #[must_use]
    pub fn marked(&self, positions: &[Position], marks: &Marks) -> MarkedAccount {
        let mut market_value = Money::ZERO;
        let mut unrealised = Money::ZERO;
        let mut unmarked = Vec::new();
        for p in positions {
            if let Some(mark) = marks.get(&p.instrument) {
                market_value += p.market_value(mark);
                unrealised += p.unrealised_pnl(mark);
            } else {
                market_value += p.cost_basis;
                unmarked.push(p.instrument.clone());
            }
        }
        MarkedAccount {
            cash: self.cash,
            market_value,
            equity: self.cash + market_value,
            unrealised_pnl: unrealised,
            unmarked,
        }
    }
}

/// An account marked to market, in dollars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedAccount {
    /// Cash.
    pub cash: Money,
    /// Σ positions' market values (short positions count negative).
    pub market_value: Money,
    /// Cash + market value: what liquidating at the marks would leave, before fees.
    pub equity: Money,
    /// Σ positions' unrealised P&L at the marks.
    pub unrealised_pnl: Money,
    /// Instruments without a mark (valued at cost).
    pub unmarked: Vec<Instrument>,
}

/// Prices per share to value positions at, by instrument.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marks {
    options: HashMap<ContractKey, Price>,
    stocks: HashMap<Underlying, Price>,
}

impl Marks {
    /// No marks.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks from a chain: every option at its mid (quotes with both sides, not crossed) and
    /// the underlying's shares at the snapshot's underlying price.
    #[must_use]
    pub fn from_chain(chain: &ChainSnapshot) -> Self {
        let mut marks = Self::new();
        marks.add_chain(chain);
        marks
    }

    /// Adds (or replaces) the marks of a chain, as [`Marks::from_chain`].
    pub fn add_chain(&mut self, chain: &ChainSnapshot) {
        for q in chain.iter() {
            if let (Some(mid), Some(spread)) = (q.mid(), q.spread())
                && spread >= Decimal::ZERO
            {
                self.options.insert(q.key.clone(), mid);
            }
        }
        self.stocks
            .insert(chain.underlying().clone(), chain.underlying_price());
    }

    /// Sets one instrument's mark.
    pub fn insert(&mut self, instrument: &Instrument, price: Price) {
        match instrument {
            Instrument::Option(c) => {
                self.options.insert(c.key().clone(), price);
            }
            Instrument::Stock(u) => {
                self.stocks.insert(u.clone(), price);
            }
        }
    }

    /// One instrument's mark.
    #[must_use]
    pub fn get(&self, instrument: &Instrument) -> Option<Price> {
        match instrument {
            Instrument::Option(c) => self.options.get(c.key()).copied(),
            Instrument::Stock(u) => self.stocks.get(u).copied(),
        }
    }
}
