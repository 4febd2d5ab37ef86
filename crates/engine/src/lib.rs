//! # volta-engine
//!
//! The event loop that runs Volta: strategies propose, the risk manager sizes and vetoes, a
//! broker fills and settles, and every order, fill, position and point of the equity curve is
//! journaled to the store as it happens. The clock, the feed, the venue (broker) and the
//! journal's store are injected, so a backtest and live trading run the same [`Engine`]: a
//! backtest on a [`SimulatedClock`], a [`SourceFeed`] replaying any market-data source (the
//! synthetic market, the store), and the simulated broker.
//!
//! On top of it, the backtester ([`Backtest`]): a configuration, a date range and the data
//! choice in; performance metrics ([`metrics`]), attribution by strategy, regime and
//! underlying, and a report ([`report`]: HTML with SVG charts, a JSON summary, the trade list)
//! out.
//!
//! For the models: [`labels`] trades every candidate the strategies propose forward alone, on
//! the backtester's own engine, fills and fees, and labels it (profitable after fees, return
//! on risk, horizon); [`scoring`] holds the model-backed [`volta_strategy::Scorer`]s that
//! filter the adaptive strategy ([`Backtest::run_scored`]); with the `validation` feature,
//! `validation` runs the purged walk-forward of the models and the out-of-sample backtest of
//! the filtered strategy, and writes its report.
//!
//! It is not the strategies (volta-strategy), the limits (volta-risk) or the broker
//! (volta-broker): it wires them.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_engine::{Backtest, BacktestConfig, DataChoice};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let backtest = Backtest {
//!     config: BacktestConfig::default(),
//!     config_text: None,
//!     start: NaiveDate::from_ymd_opt(2023, 1, 3).ok_or("date")?,
//!     end: NaiveDate::from_ymd_opt(2023, 3, 31).ok_or("date")?,
//!     data: DataChoice::Synthetic,
//!     journal: dir.path().join("journal.sqlite"),
//! };
//! let result = backtest.run(&mut |_, _| {})?;
//! // The starting cash at the close of 2022-12-30, then the 62 NYSE sessions of Q1 2023.
//! assert_eq!(result.equity.len(), 1 + 62);
//! assert_eq!(result.summary.metrics.starting_equity, 100_000.0);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod backtest;
pub mod book;
pub mod clock;
pub mod engine;
mod error;
pub mod events;
pub mod feed;
pub mod journal;
pub mod labels;
pub mod live;
pub mod metrics;
pub mod report;
mod report_error;
pub mod scoring;
pub mod signals;
#[cfg(feature = "validation")]
pub mod training;
#[cfg(feature = "validation")]
pub mod validation;
pub mod yardstick;

pub use backtest::{Backtest, BacktestConfig, BacktestResult, DataChoice, FillModelKind};
pub use clock::{Clock, SimulatedClock, StopSignal};
pub use engine::{Companion, Engine, EngineConfig, RunOutput};
pub use error::{EngineError, Result};
pub use events::{ChannelObserver, EngineEvent, EventLog, Observer, PositionView, TextLog};
pub use feed::{Check, Feed, FeedUnderlying, ReplayFeed, Session, SourceFeed};
pub use journal::Journal;
pub use labels::{CandidateLabel, LabelLeg, LabelReport, LabelSetup, label_candidates};
pub use live::{LiveFeed, LiveOptions};
pub use report_error::ReportError;
pub use scoring::{ModelFilter, ModelScorer, ScoreTable, SharedScorer};
pub use signals::{DaySignals, Signals};
pub use volta_broker::Venue;
pub use volta_strategy::Scorer;
