//! # volta-ib
//!
//! Interactive Brokers for Volta: [`IbBroker`] implements the engine's
//! [`Broker`](volta_core::broker::Broker) and [`Venue`](volta_core::broker::Venue) over TWS or
//! IB Gateway with `ibapi`'s blocking client, so the same engine, strategies and risk manager
//! that backtest on the simulated broker trade an IB paper (or, deliberately, live) account.
//!
//! - **Orders are never lost or doubled.** Each order intent is written to the
//!   [`ledger`] (SQLite, beside the journal) before it is sent, with `orderRef` naming it; its
//!   state only moves forward (intent → submitted → acknowledged → partially filled → filled /
//!   cancelled / rejected). On start and after every reconnect, [`IbBroker::reconcile`]
//!   matches IB's open orders, completed orders and executions with the ledger by `orderRef`.
//! - **Fills are IB's.** Prices from IB's executions (each booked once, by execution id),
//!   commissions from IB's commission reports, not from a model.
//! - **Combos as IB wants them** ([`contracts`]): a BAG on SMART with every leg's exchange set
//!   and the symbol set, legs as held, one net limit on the exchange's tick grid.
//! - **A circuit breaker** ([`CircuitBreaker`]): repeated errors, a rejection or a lost
//!   connection stop new openings; closing orders still go.
//! - **Market data** ([`IbMarketData`], the engine's `LiveMarket` on an API session of its
//!   own): the underlyings' prices and option chains, `reqSecDefOptParams` for expiries and
//!   strikes, then paced quote snapshots of the part a strategy can use and of every contract
//!   held.
//! - **Pre-open checks** ([`PreOpenReport`]): the account kind (paper or live) matches the mode,
//!   the clocks agree, the ledger is reconciled.
//!
//! Why the blocking client: the engine's loop is synchronous and single-threaded, the venue is
//! polled between events, and ibapi's blocking subscriptions are iterators with `try_next`;
//! an async runtime would add a second scheduler for nothing.
//!
//! With the `fake-tws` feature, the module `fake_tws` is a scripted TWS on 127.0.0.1
//! speaking the real wire protocol, for tests:
//!
//! ```
//! # #[cfg(feature = "fake-tws")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use chrono::NaiveDate;
//! use volta_core::broker::{Broker, EventKind, OrderTag};
//! use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
//! use volta_ib::fake_tws::FakeTws;
//! use volta_ib::{IbBroker, IbConfig, IbEndpoint};
//!
//! let tws = FakeTws::start()?;
//! let dir = tempfile::tempdir()?;
//! let now = NaiveDate::from_ymd_opt(2025, 3, 17).and_then(|d| d.and_hms_opt(10, 0, 0)).ok_or("date")?;
//! let config = IbConfig::new(IbEndpoint::TwsPaper).with_port(tws.port());
//! let mut broker = IbBroker::connect(config, dir.path().join("live.db"), "100000".parse()?, now)?;
//!
//! // A SPY put credit spread for 2.05: a BAG bought at −2.05.
//! let leg = |k: &str, a| Leg::option(k.parse().unwrap(), a, 1).unwrap();
//! let spread = ComboOrder::new(
//!     vec![leg("SPY   250321P00560000", LegAction::Sell), leg("SPY   250321P00550000", LegAction::Buy)],
//!     ComboSide::Buy, 1, "-2.05".parse()?,
//! )?;
//! let id = broker.place(spread, OrderTag::new("put-spread", "p1", "open: example"))?;
//! let filled = (0..500).any(|_| {
//!     std::thread::sleep(std::time::Duration::from_millis(10));
//!     broker.poll_events().iter().any(|e| matches!(e.kind, EventKind::Filled(_)))
//! });
//! assert!(filled);
//! assert_eq!(tws.placed_orders()[0].order_ref, broker.order_ref(id));
//! assert_eq!(broker.ledger().executions(id)?.len(), 2); // one per leg, from IB
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "fake-tws"))]
//! # fn main() {}
//! ```
#![deny(missing_docs)]

mod breaker;
mod broker;
mod chains;
mod checks;
mod config;
pub mod contracts;
mod error;
pub mod ledger;

#[cfg(feature = "fake-tws")]
pub mod fake_tws;

pub use breaker::CircuitBreaker;
pub use broker::{FaultPoint, IbBroker, LinkStatus};
pub use chains::{ChainRequest, ChainWindow, IbMarketData};
pub use checks::{MAX_CLOCK_SKEW_SECONDS, PreOpenReport, is_paper_account};
pub use config::{BreakerConfig, IbConfig, IbEndpoint, MarketDataKind};
pub use error::{IbError, Result};
