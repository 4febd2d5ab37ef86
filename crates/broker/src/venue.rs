//! The simulated broker as a [`Venue`]: the engine's market events fill and settle it.

use chrono::{NaiveDate, NaiveDateTime};
use volta_core::{ChainSnapshot, Money, Price, Underlying};

use crate::{MarkedAccount, Marks, Settlements, SimBroker, Venue};

impl Venue for SimBroker {
    fn on_quotes(&mut self, chain: &ChainSnapshot) -> crate::Result<()> {
        Self::on_quotes(self, chain)
    }

    fn on_stock_price(
        &mut self,
        underlying: &Underlying,
        price: Price,
        at: NaiveDateTime,
    ) -> crate::Result<()> {
        Self::on_stock_price(self, underlying, price, at)
    }

    fn on_session_close(
        &mut self,
        date: NaiveDate,
        settlements: &Settlements,
    ) -> crate::Result<()> {
        Self::on_session_close(self, date, settlements)
    }

    fn marked(&self) -> MarkedAccount {
        self.account_marked()
    }

    fn marks(&self) -> Marks {
        Self::marks(self)
    }

    fn accrue_interest(&mut self, date: NaiveDate, reserved: Money) -> crate::Result<Money> {
        Self::accrue_interest(self, date, reserved)
    }
}
