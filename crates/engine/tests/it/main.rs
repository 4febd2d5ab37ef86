//! The integration tests of volta-engine, in one test binary: one link instead of one per file.

mod backtest;
mod common;
mod events;
mod live_ib;
mod labels;
mod lookahead;
mod trades;
mod yardsticks;
mod zero_dte;
