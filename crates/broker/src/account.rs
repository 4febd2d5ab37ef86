//! Positions, the account, and marking them to market.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use volta_core::order::Instrument;
use volta_core::{ChainSnapshot, ContractKey, Money, OptionContract, Price, Underlying};

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

/// The key positions are held under: options by OCC key, stock by underlying. Ordered so that
/// iteration (and so every report) is deterministic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PositionKey {
    Option(ContractKey),
    Stock(Underlying),
}

impl PositionKey {
    pub(crate) fn of(instrument: &Instrument) -> Self {
        match instrument {
            Instrument::Option(c) => Self::Option(c.key().clone()),
            Instrument::Stock(u) => Self::Stock(u.clone()),
        }
    }
}

/// The positions, with average-cost accounting.
#[derive(Debug, Clone, Default)]
pub(crate) struct Book {
    positions: BTreeMap<PositionKey, Position>,
}

impl Book {
    /// Adds `quantity` signed units bought (positive) or sold (negative) at `price` per share;
    /// returns the P&L realised by the units it closes. The trade's value
    /// `price × multiplier × quantity` (the cash it costs) always equals the change in cost
    /// basis minus the P&L realised, which is what makes the account reconcile.
    pub(crate) fn trade(&mut self, instrument: &Instrument, quantity: i64, price: Price) -> Money {
        if quantity == 0 {
            return Money::ZERO;
        }
        let key = PositionKey::of(instrument);
        let pos = self
            .positions
            .entry(key.clone())
            .or_insert_with(|| Position {
                instrument: instrument.clone(),
                quantity: 0,
                cost_basis: Money::ZERO,
                realised_pnl: Money::ZERO,
            });
        let multiplier = Decimal::from(instrument.multiplier());
        let value = |q: i64| Money::new(price.value() * multiplier * Decimal::from(q));
        let mut realised = Money::ZERO;
        let mut remaining = quantity;
        if pos.quantity != 0 && pos.quantity.signum() != quantity.signum() {
            // Closing: at most the units held, in the held direction's opposite.
            let closing = if quantity.abs() >= pos.quantity.abs() {
                -pos.quantity
            } else {
                quantity
            };
            let removed = if closing == -pos.quantity {
                pos.cost_basis
            } else {
                // Pro-rata share of the cost, to the cent; the last close takes the rest.
                Money::new(
                    (pos.cost_basis.value() * Decimal::from(closing.abs())
                        / Decimal::from(pos.quantity.abs()))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
                )
            };
            // The closing trade brings in −value(closing) (a long sold at 1.50: closing = −1,
            // value −150, proceeds 150; a short bought back pays value > 0) against the cost
            // it removes (negative for a short: the premium received).
            let pnl = -value(closing) - removed;
            realised += pnl;
            pos.realised_pnl += pnl;
            pos.cost_basis -= removed;
            pos.quantity += closing;
            remaining -= closing;
        }
        if remaining != 0 {
            pos.quantity += remaining;
            pos.cost_basis += value(remaining);
        }
        if pos.quantity == 0 {
            self.positions.remove(&key);
        }
        realised
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    /// The option contracts held, with their signed quantities.
    pub(crate) fn options(&self) -> impl Iterator<Item = (&OptionContract, i64)> {
        self.positions.values().filter_map(|p| match &p.instrument {
            Instrument::Option(c) => Some((c, p.quantity)),
            Instrument::Stock(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn partial_closes_realise_pro_rata_to_the_cent_and_the_last_close_takes_the_rest() {
        let spy = Instrument::Stock("SPY".parse().unwrap());
        let mut book = Book::default();
        assert_eq!(book.trade(&spy, 3, p("33.3333")), Money::ZERO);
        let pos = book.iter().next().unwrap().clone();
        assert_eq!(pos.cost_basis, m("99.9999"));
        // Sell 1 at 40: cost removed 33.33 (99.9999 / 3 to the cent), P&L 6.67.
        assert_eq!(book.trade(&spy, -1, p("40")), m("6.67"));
        assert_eq!(book.iter().next().unwrap().cost_basis, m("66.6699"));
        // Sell 3 at 30: closes 2 (cost 66.6699, proceeds 60) and opens 1 short at 30.
        assert_eq!(book.trade(&spy, -3, p("30")), m("-6.6699"));
        let pos = book.iter().next().unwrap();
        assert_eq!((pos.quantity, pos.cost_basis), (-1, m("-30")));
        assert_eq!(pos.average_price(), "30".parse::<Decimal>().unwrap());
        assert_eq!(pos.realised_pnl, m("0.0001"));
        // Cover at 31: −1; the position is gone.
        assert_eq!(book.trade(&spy, 1, p("31")), m("-1"));
        assert_eq!(book.iter().count(), 0);
    }

    #[test]
    fn unmarked_positions_count_at_cost() {
        let spy = Instrument::Stock("SPY".parse().unwrap());
        let mut book = Book::default();
        book.trade(&spy, 10, p("500"));
        let positions: Vec<Position> = book.iter().cloned().collect();
        let account = Account {
            starting_cash: m("10000"),
            cash: m("5000"),
            fees_paid: Money::ZERO,
            realised_pnl: Money::ZERO,
        };
        let marked = account.marked(&positions, &Marks::new());
        assert_eq!(marked.equity, m("10000"));
        assert_eq!(marked.unmarked, std::slice::from_ref(&spy));
        let mut marks = Marks::new();
        marks.insert(&spy, p("510"));
        let marked = account.marked(&positions, &marks);
        assert_eq!(
            (marked.equity, marked.unrealised_pnl),
            (m("10100"), m("100"))
        );
    }
}
