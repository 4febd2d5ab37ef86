//! The engine's clock, injected so that a backtest and live trading run the same loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDateTime;

use crate::error::{EngineError, Result};

/// Exchange time as the engine sees it. The engine asks the clock to reach each event's time
/// before handling it: a simulated clock jumps there, a live clock waits for it.
pub trait Clock {
    /// The current time, exchange time.
    fn now(&self) -> NaiveDateTime;

    /// Moves to `at` (or waits until it).
    ///
    /// # Errors
    /// [`EngineError::ClockWentBack`] for a time before [`Clock::now`]: data out of order.
    fn advance_to(&mut self, at: NaiveDateTime) -> Result<()>;
}

/// A backtest's clock: it jumps to each event's time and refuses to go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulatedClock {
    now: NaiveDateTime,
}

impl SimulatedClock {
    /// A clock standing at `start`.
    #[must_use]
    pub const fn new(start: NaiveDateTime) -> Self {
        Self { now: start }
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> NaiveDateTime {
        self.now
    }

    fn advance_to(&mut self, at: NaiveDateTime) -> Result<()> {
        ensure_forward(self.now, at)?;
        self.now = at;
        Ok(())
    }
}

/// Refuses a move from `now` back to `at`: every clock keeps time moving forward.
///
/// # Errors
/// [`EngineError::ClockWentBack`] when `at` is before `now`.
pub fn ensure_forward(now: NaiveDateTime, at: NaiveDateTime) -> Result<()> {
    if at < now {
        return Err(EngineError::ClockWentBack { now, requested: at });
    }
    Ok(())
}

/// A flag that asks a paper or live run to stop (set from a SIGINT/SIGTERM handler). Cloning
/// shares the flag.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A flag not yet raised.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop: it finishes the session under way without waiting, then stops.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    #[must_use]
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn moves_forward_and_refuses_to_go_back() {
        let t = |h| {
            NaiveDate::from_ymd_opt(2025, 3, 17)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        let mut clock = SimulatedClock::new(t(9));
        clock.advance_to(t(9)).unwrap();
        clock.advance_to(t(15)).unwrap();
        assert_eq!(clock.now(), t(15));
        let err = clock.advance_to(t(10)).unwrap_err();
        assert!(matches!(err, EngineError::ClockWentBack { .. }), "{err}");
        assert_eq!(clock.now(), t(15));
    }
}
