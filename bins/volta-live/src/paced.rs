//! Sim-paper's clock: sessions paced on the wall clock. Library crates never read it (the
//! workspace's clippy.toml forbids `Instant::now` there); this is the clock the binary injects.
#![expect(
    clippy::disallowed_methods,
    reason = "the one place the trader reads the wall clock: the clock it injects into the engine"
)]

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use volta_engine::clock::ensure_forward;
use volta_engine::{Clock, StopSignal};

/// Length of a regular session (09:30–16:00), the span one paced session is stretched over.
const SESSION: TimeDelta = TimeDelta::minutes(390);

/// Sim-paper's clock: every session takes `session` of wall time (the open at its start, the
/// 15:45 decision 375/390 of the way, the close at its end), and the nights, weekends and
/// holidays between sessions take none — a year of sessions in minutes, at the pace a person
/// can watch. It waits in short slices and stops waiting once `stop` is raised, so that a stop
/// finishes the session under way at once.
#[derive(Debug, Clone)]
pub(crate) struct PacedClock {
    now: NaiveDateTime,
    session: Duration,
    stop: StopSignal,
    /// The session being paced: its date, its first event's market time and wall time.
    anchor: Option<(NaiveDate, NaiveDateTime, Instant)>,
}

impl PacedClock {
    /// A clock at `start` pacing each session over `session` of wall time (zero: no waiting).
    #[must_use]
    pub(crate) const fn new(start: NaiveDateTime, session: Duration, stop: StopSignal) -> Self {
        Self {
            now: start,
            session,
            stop,
            anchor: None,
        }
    }

    /// The wall time `at` is due: `session` × its share of a session after the session's first
    /// event.
    fn due(&mut self, at: NaiveDateTime) -> Instant {
        let anchor = match self.anchor {
            Some(a) if a.0 == at.date() => a,
            _ => {
                let a = (at.date(), at, Instant::now());
                self.anchor = Some(a);
                a
            }
        };
        let into = (at - anchor.1).num_milliseconds().max(0);
        let share = into as f64 / SESSION.num_milliseconds() as f64;
        anchor.2 + self.session.mul_f64(share.min(2.0))
    }
}

impl Clock for PacedClock {
    fn now(&self) -> NaiveDateTime {
        self.now
    }

    fn advance_to(&mut self, at: NaiveDateTime) -> volta_engine::Result<()> {
        ensure_forward(self.now, at)?;
        let due = self.due(at);
        while !self.stop.is_raised() {
            let left = due.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        self.now = at;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_session_takes_its_wall_time_and_the_night_none() {
        let at = |d, h, m| {
            NaiveDate::from_ymd_opt(2025, 3, d)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        let stop = StopSignal::new();
        let mut clock = PacedClock::new(at(17, 0, 0), Duration::from_millis(390), stop.clone());
        let begin = Instant::now();
        clock.advance_to(at(17, 9, 30)).unwrap();
        // 15:45 is 375 minutes in: 375 ms at 1 ms a minute; the close at 390 ms.
        clock.advance_to(at(17, 15, 45)).unwrap();
        let decided = begin.elapsed();
        assert!(decided >= Duration::from_millis(375), "{decided:?}");
        clock.advance_to(at(17, 16, 0)).unwrap();
        // The next session starts at once: the night between takes no wall time.
        clock.advance_to(at(18, 9, 30)).unwrap();
        let next = begin.elapsed();
        assert!(
            next >= Duration::from_millis(390) && next < Duration::from_millis(600),
            "{next:?}"
        );
        assert!(clock.advance_to(at(17, 16, 0)).is_err());
        // Raised, it stops waiting: the rest of the session passes at once.
        stop.raise();
        let raised = Instant::now();
        clock.advance_to(at(18, 16, 0)).unwrap();
        assert!(raised.elapsed() < Duration::from_millis(100));
        assert_eq!(clock.now(), at(18, 16, 0));
    }
}
