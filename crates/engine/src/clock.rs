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

/// The controls a person has over a paper or live run, shared between the engine and whoever
/// holds a clone (a SIGINT/SIGTERM handler, the dashboard's halt button). Cloning shares them.
///
/// - [`StopSignal::raise`]: stop the run after the session under way.
/// - [`StopSignal::halt_openings`]: keep running and managing positions, open nothing new.
/// - [`StopSignal::flatten`]: as a halt, and close every position at the next decision (as the
///   drawdown kill switch does).
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    stop: AtomicBool,
    no_openings: AtomicBool,
    flatten: AtomicBool,
}

impl StopSignal {
    /// No flag raised.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop: it finishes the session under way without waiting, then stops.
    pub fn raise(&self) {
        self.0.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    #[must_use]
    pub fn is_raised(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst)
    }

    /// Asks the engine to open nothing new from its next decision on (exits still run).
    pub fn halt_openings(&self) {
        self.0.no_openings.store(true, Ordering::SeqCst);
    }

    /// Whether new openings are halted (by [`StopSignal::halt_openings`] or
    /// [`StopSignal::flatten`]).
    #[must_use]
    pub fn openings_halted(&self) -> bool {
        self.0.no_openings.load(Ordering::SeqCst) || self.flatten_requested()
    }

    /// Asks the engine to close every position at its next decision and open nothing new.
    pub fn flatten(&self) {
        self.0.no_openings.store(true, Ordering::SeqCst);
        self.0.flatten.store(true, Ordering::SeqCst);
    }

    /// Whether flattening was asked for.
    #[must_use]
    pub fn flatten_requested(&self) -> bool {
        self.0.flatten.load(Ordering::SeqCst)
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

    #[test]
    fn controls_are_shared_by_clones() {
        let signal = StopSignal::new();
        let held = signal.clone();
        assert!(!held.openings_halted() && !held.flatten_requested() && !held.is_raised());
        signal.halt_openings();
        assert!(held.openings_halted() && !held.flatten_requested());
        signal.flatten();
        assert!(held.openings_halted() && held.flatten_requested() && !held.is_raised());
    }
}
