//! Real time: the engine's exchange-time events wait for the same instant on the wall clock, in
//! New York time. Only binaries read the wall clock; the engine gets it injected.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Utc, Weekday};
use volta_engine::clock::ensure_forward;
use volta_engine::{Clock, EngineError, StopSignal};

/// New York's offset from UTC at the UTC instant `utc`: −4 h from the second Sunday of March
/// (02:00 EST = 07:00 UTC) to the first Sunday of November (02:00 EDT = 06:00 UTC), −5 h
/// otherwise — the US rule since 2007.
pub(crate) fn new_york_offset(utc: NaiveDateTime) -> TimeDelta {
    let sunday = |month: u32, nth: u32| {
        (1..=31)
            .filter_map(|d| NaiveDate::from_ymd_opt(utc.year(), month, d))
            .filter(|d| d.weekday() == Weekday::Sun)
            .nth(nth as usize - 1)
    };
    let starts = sunday(3, 2).and_then(|d| d.and_hms_opt(7, 0, 0));
    let ends = sunday(11, 1).and_then(|d| d.and_hms_opt(6, 0, 0));
    match (starts, ends) {
        (Some(s), Some(e)) if s <= utc && utc < e => TimeDelta::hours(-4),
        _ => TimeDelta::hours(-5),
    }
}

/// The UTC instant of New York wall time `local` (market hours are never in the hour a
/// change skips or repeats).
pub(crate) fn new_york_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    let standard = local + TimeDelta::hours(5);
    if new_york_offset(standard) == TimeDelta::hours(-5) {
        standard
    } else {
        local + TimeDelta::hours(4)
    }
}

/// The monitor's wall clock: monotonic time since the trader started.
pub(crate) struct Monotonic(std::time::Instant);

impl Monotonic {
    #[expect(
        clippy::disallowed_methods,
        reason = "the binary owns the wall clock; the monitor gets it injected"
    )]
    pub(crate) fn start() -> Self {
        Self(std::time::Instant::now())
    }
}

impl volta_monitor::WallClock for Monotonic {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// New York time now.
pub(crate) fn new_york_now() -> NaiveDateTime {
    let utc = Utc::now().naive_utc();
    utc + new_york_offset(utc)
}

/// The real-time clock: each event waits until its exchange time comes in New York. A stop
/// asked for while it waits ends the wait with [`EngineError::Stopped`], so that no later
/// event of the day (the 15:45 decision) happens early; the engine's run ends there.
#[derive(Debug, Clone)]
pub(crate) struct WallClock {
    now: NaiveDateTime,
    stop: StopSignal,
}

impl WallClock {
    /// A clock at `start` (exchange time).
    pub(crate) const fn new(start: NaiveDateTime, stop: StopSignal) -> Self {
        Self { now: start, stop }
    }
}

impl Clock for WallClock {
    fn now(&self) -> NaiveDateTime {
        self.now
    }

    fn advance_to(&mut self, at: NaiveDateTime) -> volta_engine::Result<()> {
        ensure_forward(self.now, at)?;
        let due = new_york_to_utc(at);
        loop {
            if self.stop.is_raised() {
                return Err(EngineError::Stopped { at: self.now });
            }
            let left = due - Utc::now().naive_utc();
            if left <= TimeDelta::zero() {
                break;
            }
            let left = left.to_std().unwrap_or_default();
            std::thread::sleep(left.min(Duration::from_millis(200)));
        }
        self.now = at;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn t(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn new_york_time_follows_daylight_saving() {
        // 2026: EDT from Sunday 03-08 07:00 UTC to Sunday 11-01 06:00 UTC.
        assert_eq!(new_york_offset(t(2026, 3, 8, 6, 59)), TimeDelta::hours(-5));
        assert_eq!(new_york_offset(t(2026, 3, 8, 7, 0)), TimeDelta::hours(-4));
        assert_eq!(new_york_offset(t(2026, 11, 1, 5, 59)), TimeDelta::hours(-4));
        assert_eq!(new_york_offset(t(2026, 11, 1, 6, 0)), TimeDelta::hours(-5));
        // The 15:45 decision: 19:45 UTC in summer, 20:45 UTC in winter.
        assert_eq!(
            new_york_to_utc(t(2026, 7, 15, 15, 45)),
            t(2026, 7, 15, 19, 45)
        );
        assert_eq!(
            new_york_to_utc(t(2026, 12, 7, 15, 45)),
            t(2026, 12, 7, 20, 45)
        );
        // 2024: the change came on 03-10 and 11-03.
        assert_eq!(
            new_york_to_utc(t(2024, 3, 11, 9, 30)),
            t(2024, 3, 11, 13, 30)
        );
        assert_eq!(new_york_to_utc(t(2024, 3, 8, 9, 30)), t(2024, 3, 8, 14, 30));
        assert_eq!(
            new_york_to_utc(t(2024, 11, 4, 9, 30)),
            t(2024, 11, 4, 14, 30)
        );
    }

    #[test]
    #[expect(
        clippy::disallowed_methods,
        reason = "measures the clock's waits: wall time is the point"
    )]
    fn past_events_pass_at_once_future_ones_wait_and_a_stop_ends_the_wait() {
        let stop = StopSignal::new();
        let past = new_york_now() - TimeDelta::hours(1);
        let mut clock = WallClock::new(past, stop.clone());
        let begin = Instant::now();
        clock.advance_to(past + TimeDelta::minutes(30)).unwrap();
        assert!(begin.elapsed() < Duration::from_millis(100));
        let soon = new_york_now() + TimeDelta::milliseconds(300);
        clock.advance_to(soon).unwrap();
        assert!(
            begin.elapsed() >= Duration::from_millis(250),
            "{:?}",
            begin.elapsed()
        );
        let later = new_york_now() + TimeDelta::hours(1);
        let raiser = stop.clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            raiser.raise();
        });
        let err = clock.advance_to(later).unwrap_err();
        waker.join().unwrap();
        assert!(matches!(err, EngineError::Stopped { .. }), "{err}");
        assert_eq!(clock.now(), soon);
    }
}
