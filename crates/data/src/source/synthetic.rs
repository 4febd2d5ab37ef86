//! The synthetic market as a source.

use chrono::NaiveDate;
use volta_core::{ChainSnapshot, ContractKey, DailyBar, Underlying};

use super::{ChainDate, ExpirySelection, MarketDataSource, check_range, select_expiries};
use crate::synthetic::SyntheticMarket;
use crate::{DataError, Result};

/// Serves one [`SyntheticMarket`]: its symbol's bars, and chains built on demand (each is a
/// pure function of the config and the session, so asking twice gives the same chain).
///
/// [`ChainDate::Latest`] is the last simulated session. Another symbol, or a session the
/// market did not simulate, is [`DataError::NotAvailable`].
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    market: SyntheticMarket,
    symbol: Underlying,
}

impl SyntheticSource {
    /// Serves `market`.
    ///
    /// # Errors
    /// [`DataError::Core`] if the market's symbol is not a valid underlying (it was validated
    /// when the market was built, so this does not happen for a generated market).
    pub fn new(market: SyntheticMarket) -> Result<Self> {
        let symbol = Underlying::try_new(&market.config().symbol)?;
        Ok(Self { market, symbol })
    }

    /// The market served.
    #[must_use]
    pub const fn market(&self) -> &SyntheticMarket {
        &self.market
    }

    fn not_available(&self, what: String) -> DataError {
        DataError::NotAvailable {
            source_name: self.name().to_owned(),
            what,
        }
    }

    fn check_symbol(&self, symbol: &Underlying) -> Result<()> {
        if symbol == &self.symbol {
            Ok(())
        } else {
            Err(self.not_available(format!(
                "data for {symbol}: the synthetic market simulates {}",
                self.symbol
            )))
        }
    }

    fn session(&self, symbol: &Underlying, date: ChainDate) -> Result<usize> {
        self.check_symbol(symbol)?;
        match date {
            ChainDate::Latest => self.market.days().len().checked_sub(1),
            ChainDate::On(day) => self.market.index_of(day),
        }
        .ok_or_else(|| {
            self.not_available(match date {
                ChainDate::Latest => format!("{symbol} sessions"),
                ChainDate::On(day) => format!("{symbol} session on {day}"),
            })
        })
    }
}

impl MarketDataSource for SyntheticSource {
    fn name(&self) -> &'static str {
        "synthetic"
    }

    fn daily_bars(
        &self,
        symbol: &Underlying,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBar>> {
        check_range(from, to)?;
        self.check_symbol(symbol)?;
        let days = self.market.days();
        let start = days.partition_point(|d| d.bar.date < from);
        let end = days.partition_point(|d| d.bar.date <= to);
        Ok(days[start..end].iter().map(|d| d.bar).collect())
    }

    fn expirations(&self, symbol: &Underlying, date: ChainDate) -> Result<Vec<NaiveDate>> {
        let index = self.session(symbol, date)?;
        Ok(self.market.chain(index)?.expiries().collect())
    }

    fn chain(
        &self,
        symbol: &Underlying,
        date: ChainDate,
        expiries: ExpirySelection,
    ) -> Result<ChainSnapshot> {
        let index = self.session(symbol, date)?;
        select_expiries(self.name(), self.market.chain(index)?, expiries)
    }

    /// The session's chain with the strikes of `held` added where the day's grid no longer
    /// reaches them ([`SyntheticMarket::chain_with`]).
    fn chain_quoting(
        &self,
        symbol: &Underlying,
        date: NaiveDate,
        held: &[ContractKey],
    ) -> Result<ChainSnapshot> {
        let index = self.session(symbol, ChainDate::On(date))?;
        self.market.chain_with(index, held)
    }
}
