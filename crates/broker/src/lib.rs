//! # volta-broker
//!
//! The [`Broker`] trait — place, modify and cancel combo orders, drain their events, read
//! positions and the account — and [`SimBroker`], the simulated broker that backtests and
//! simulated paper trading run on. The Interactive Brokers adapter implements the same trait,
//! so a strategy cannot tell them apart.
//!
//! The simulated broker fills combo limit orders against the legs' bid and ask with a
//! configurable [`FillModel`], charges IB's [`Commissions`] and the exchange, regulatory and
//! clearing fees of a dated [`fees::OptionFeeSchedule`], cancels DAY orders at the
//! close, and settles options at expiry: cash for European index options (SPX AM at the open,
//! SPXW PM at the close), exercise and assignment by OCC's $0.01 rule for American physically
//! settled ones (SPY, QQQ, IWM), with stock positions the engine must then handle, and
//! optional [`EarlyAssignment`] before ex-dividend dates. Every amount is exact
//! [`volta_core::Money`]; every order and fill is kept and every state change reported once.
//!
//! It is not a market simulator: quotes come from the data (a replayed or synthetic chain),
//! orders do not move them, and there is no queue or depth.
//!
//! Orders use volta-core's combo model and IB's BAG price convention ([`volta_core::order`]):
//! legs written as the position held, opened with BUY, a credit being a BUY at a negative
//! price.
//!
//! ```
//! use chrono::NaiveDate;
//! use volta_broker::{Broker, EventKind, OrderTag, Settlements, SimBroker, SimConfig};
//! use volta_core::order::{ComboOrder, ComboSide, Leg, LegAction};
//! use volta_core::{ChainSnapshot, Money, OptionQuote};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let day = NaiveDate::from_ymd_opt(2025, 3, 17).ok_or("date")?;
//! let expiry = NaiveDate::from_ymd_opt(2025, 3, 21).ok_or("date")?;
//! let mut broker = SimBroker::new(SimConfig::new("10000".parse()?, day.and_hms_opt(9, 30, 0).ok_or("time")?))?;
//!
//! // A SPY put credit spread: sell the 560 put, buy the 550 put, for at least 2.00.
//! let short = "SPY   250321P00560000".parse()?;
//! let long = "SPY   250321P00550000".parse()?;
//! let spread = vec![Leg::option(short, LegAction::Sell, 1)?, Leg::option(long, LegAction::Buy, 1)?];
//! let id = broker.place(
//!     ComboOrder::new(spread, ComboSide::Buy, 2, "-2.00".parse()?)?,
//!     OrderTag::new("put-spread", "p1", "open"),
//! )?;
//!
//! // Quotes: 560P 3.00/3.10, 550P 0.90/1.00, SPY at 565. Halfway to the touch, the short leg
//! // sells at 3.025 and the long buys at 0.975: net -2.05, rounded against us to -2.05.
//! let quote = |k: &str, b: &str, a: &str| -> Result<OptionQuote, Box<dyn std::error::Error>> {
//!     Ok(OptionQuote::new(k.parse()?, Some(b.parse()?), Some(a.parse()?)))
//! };
//! let chain = ChainSnapshot::try_new(
//!     day.and_hms_opt(10, 0, 0).ok_or("time")?,
//!     "SPY".parse()?,
//!     "565".parse()?,
//!     [quote("SPY   250321P00560000", "3.00", "3.10")?, quote("SPY   250321P00550000", "0.90", "1.00")?],
//! )?;
//! broker.on_quotes(&chain)?;
//! let fill = broker.order(id).and_then(|o| o.fill).ok_or("not filled")?;
//! assert_eq!(fill.net_price.to_string(), "-2.05");
//! // 2.05 × 100 × 2 = $410 received, less $2.99: 4 contracts × ($0.65 + ORF 0.0388 + OCC
//! // 0.055), FINRA's 2 × 0.002 and the SEC's 605 × 0.0000221 on the sale.
//! assert_eq!(broker.account().cash, "10407.01".parse::<Money>()?);
//!
//! // SPY closes at 570 on expiry day: both puts expire worthless, the credit is kept.
//! for d in [18, 19, 20, 21] {
//!     let date = NaiveDate::from_ymd_opt(2025, 3, d).ok_or("date")?;
//!     broker.on_session_close(date, &Settlements::new().with("SPY".parse()?, "569".parse()?, "570".parse()?))?;
//! }
//! assert!(broker.positions().is_empty());
//! assert_eq!(broker.account().net_realised_pnl(), "407.01".parse::<Money>()?);
//! let expired = broker.poll_events().iter().filter(|e| matches!(e.kind, EventKind::Expired(_))).count();
//! assert_eq!(expired, 2);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod commission;
mod error;
pub mod fees;
mod fill;
mod interest;
mod sim;
mod venue;

pub use commission::Commissions;
pub use error::{BrokerError, Result};
pub use fill::{ComboPrice, FillModel, FillOdds, SizeLimit};
pub use interest::CashInterest;
pub use sim::{Dividend, EarlyAssignment, SimBroker, SimConfig};
// The broker vocabulary lives in volta-core (so that every broker crate implements it); it is
// re-exported here under the names the engine and the tests have always used.
pub use volta_core::broker::{
    AM_SETTLEMENT_STAND_IN, Account, Broker, BrokerEvent, CancelReason, EventKind, Fill, LegFill,
    MarkedAccount, Marks, OptionSettlement, OrderId, OrderRequest, OrderState, OrderStatus,
    OrderTag, PinWarning, Position, SessionPrices, Settlements, StockOrder, TimeInForce, Venue,
};
