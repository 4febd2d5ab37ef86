//! A broker's book: positions with exact cost-basis accounting, shared by the simulated broker
//! and the Interactive Brokers adapter so that both account for a fill to the same cent.

use std::collections::BTreeMap;

use super::account::Position;
use crate::order::Instrument;
use crate::{ContractKey, Money, OptionContract, Price, Underlying};
use rust_decimal::{Decimal, RoundingStrategy};

/// The key positions are held under: options by OCC key, stock by underlying. Ordered so that
/// iteration (and so every report) is deterministic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum PositionKey {
    Option(ContractKey),
    Stock(Underlying),
}

impl PositionKey {
    fn of(instrument: &Instrument) -> Self {
        match instrument {
            Instrument::Option(c) => Self::Option(c.key().clone()),
            Instrument::Stock(u) => Self::Stock(u.clone()),
        }
    }
}

/// The positions, with average-cost accounting.
#[derive(Debug, Clone, Default)]
pub struct Book {
    positions: BTreeMap<PositionKey, Position>,
}

impl Book {
    /// Adds `quantity` signed units bought (positive) or sold (negative) at `price` per share;
    /// returns the P&L realised by the units it closes. The trade's value
    /// `price × multiplier × quantity` (the cash it costs) always equals the change in cost
    /// basis minus the P&L realised, which is what makes the account reconcile.
    pub fn trade(&mut self, instrument: &Instrument, quantity: i64, price: Price) -> Money {
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

    /// The open positions, options by OCC key then stock by underlying.
    pub fn iter(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    /// The option contracts held, with their signed quantities.
    pub fn options(&self) -> impl Iterator<Item = (&OptionContract, i64)> {
        self.positions.values().filter_map(|p| match &p.instrument {
            Instrument::Option(c) => Some((c, p.quantity)),
            Instrument::Stock(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::{Account, Marks};

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

/// The fees charged per contract when an option is exercised or assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExerciseFees {
    /// Per contract exercised (a long option).
    pub exercise: Money,
    /// Per contract assigned (a short option).
    pub assignment: Money,
}

/// What settling an option position did to the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The event to report: `Expired`, `CashSettled`, `Exercised` or `Assigned`.
    pub kind: super::EventKind,
    /// The cash it moved, fees included, dollars.
    pub cash: Money,
    /// The exercise or assignment fee, dollars.
    pub fee: Money,
    /// The P&L it realised, dollars.
    pub realised: Money,
}

const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

impl Book {
    /// Settles `quantity` (signed) of `contract` at the underlying's settlement `price`, as OCC
    /// does: a cash-settled option pays its intrinsic value; a physical one in the money by at
    /// least a cent is exercised or assigned (exercise by exception) and delivers stock at the
    /// strike, entered at `price`; anything else expires worthless. `pin_band` (dollars) marks
    /// a settlement near the strike; `early` an assignment before expiry. The simulated broker
    /// and the IB adapter book expiries through this one function.
    pub fn settle_option(
        &mut self,
        contract: &OptionContract,
        quantity: i64,
        price: Price,
        fees: ExerciseFees,
        (pin_band, early): (Decimal, bool),
    ) -> Settled {
        use super::{EventKind, OptionSettlement};
        use crate::{OptionRight, SettlementType};
        let strike = contract.strike().value();
        let s = price.value();
        let intrinsic_value = match contract.right() {
            OptionRight::Call => (s - strike).max(Decimal::ZERO),
            OptionRight::Put => (strike - s).max(Decimal::ZERO),
        };
        let multiplier = i64::from(contract.multiplier());
        let exercised = match contract.settlement() {
            SettlementType::Cash => !intrinsic_value.is_zero(),
            SettlementType::Physical => intrinsic_value >= CENT,
        };
        // Below OCC's threshold the option is worthless: it leaves the book at 0.
        let close_at = if exercised {
            intrinsic_value
        } else {
            Decimal::ZERO
        };
        let intrinsic = Price::try_new(close_at).unwrap_or(Price::ZERO);
        let mut realised = self.trade(&Instrument::Option(contract.clone()), -quantity, intrinsic);
        let mut record = OptionSettlement {
            contract: contract.clone(),
            quantity,
            settlement_price: price,
            intrinsic,
            stock_delivered: 0,
            cash: Money::ZERO,
            fee: Money::ZERO,
            realised_pnl: realised,
            near_pin: (s - strike).abs() <= pin_band,
            early,
        };
        if !exercised {
            return Settled {
                kind: EventKind::Expired(record),
                cash: Money::ZERO,
                fee: Money::ZERO,
                realised,
            };
        }
        match contract.settlement() {
            SettlementType::Cash => {
                let cash =
                    Money::new(close_at * Decimal::from(multiplier) * Decimal::from(quantity));
                record.cash = cash;
                Settled {
                    kind: EventKind::CashSettled(record),
                    cash,
                    fee: Money::ZERO,
                    realised,
                }
            }
            SettlementType::Physical => {
                let per_contract = match contract.right() {
                    OptionRight::Call => multiplier,
                    OptionRight::Put => -multiplier,
                };
                let shares = quantity * per_contract;
                let cash = Money::new(-strike * Decimal::from(shares));
                let stock = Instrument::Stock(contract.underlying().clone());
                // The stock enters at the settlement price (see OptionSettlement's docs).
                realised += self.trade(&stock, shares, price);
                let fee_each = if quantity > 0 {
                    fees.exercise
                } else {
                    fees.assignment
                };
                let fee = Money::new(fee_each.value() * Decimal::from(quantity.unsigned_abs()));
                record.stock_delivered = shares;
                record.cash = cash;
                record.fee = fee;
                Settled {
                    kind: if quantity > 0 {
                        EventKind::Exercised(record)
                    } else {
                        EventKind::Assigned(record)
                    },
                    cash: cash - fee,
                    fee,
                    realised,
                }
            }
        }
    }
}
