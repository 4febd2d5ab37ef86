//! The `LiveMarket` trait: the market data a live trader asks for at each point of its day,
//! from whichever broker or vendor serves it (Interactive Brokers in volta-ib).

use chrono::NaiveDateTime;

use crate::{ChainSnapshot, ContractKey, Price, Underlying};

/// A live source of prices and option chains, asked at the moment the trader needs them (a
/// replayed source answers from what it recorded; a live one from the exchange, now).
///
/// The engine's live feed asks it for each underlying's chain at the decision time and for its
/// last price at the close; everything it returns is stamped `at`, the exchange time of the
/// question.
pub trait LiveMarket {
    /// What a request can fail with: the source's own typed error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// A short name for messages and the journal (`ib`, …).
    fn name(&self) -> &str;

    /// The underlying's last price at `at`.
    ///
    /// # Errors
    /// When the source has no price for it (unknown symbol, no trade and no two-sided quote,
    /// connection lost).
    fn last_price(
        &mut self,
        underlying: &Underlying,
        at: NaiveDateTime,
    ) -> Result<Price, Self::Error>;

    /// The part of the underlying's option chain a strategy can use at `at` (the source's
    /// expiry and strike window), quoting every contract in `held` that still trades as well,
    /// so that a position can always be marked and closed.
    ///
    /// # Errors
    /// As [`LiveMarket::last_price`].
    fn chain(
        &mut self,
        underlying: &Underlying,
        at: NaiveDateTime,
        held: &[ContractKey],
    ) -> Result<ChainSnapshot, Self::Error>;
}
