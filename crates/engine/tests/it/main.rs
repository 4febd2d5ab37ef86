//! The integration tests of volta-engine, in one test binary: one link instead of one per file.

mod backtest;
mod common;
mod events;
mod labels;
mod live_ib;
mod lookahead;
mod trades;
mod yardsticks;
mod zero_dte;
