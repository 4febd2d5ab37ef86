//! The circuit breaker: repeated errors, a rejected order or a lost connection stop new
//! openings until a person resets it; orders that close positions still go.

use chrono::NaiveDateTime;
use std::collections::VecDeque;

use crate::config::BreakerConfig;

/// Whether new openings may go, and why not.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    errors: VecDeque<NaiveDateTime>,
    tripped: Option<String>,
    trips: u32,
}

impl CircuitBreaker {
    /// A closed (healthy) breaker.
    #[must_use]
    pub const fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            errors: VecDeque::new(),
            tripped: None,
            trips: 0,
        }
    }

    /// Why new openings are stopped, if they are.
    #[must_use]
    pub fn tripped(&self) -> Option<&str> {
        self.tripped.as_deref()
    }

    /// How many times it has tripped (the alerting counts these).
    #[must_use]
    pub const fn trips(&self) -> u32 {
        self.trips
    }

    /// Stops new openings with a reason (the first reason is kept). Returns whether this call
    /// tripped it (so that the caller raises one alert, not one per error).
    pub fn trip(&mut self, reason: impl Into<String>) -> bool {
        if self.tripped.is_some() {
            return false;
        }
        self.tripped = Some(reason.into());
        self.trips += 1;
        true
    }

    /// An error from IB at `now` (exchange time, the broker's clock); trips after
    /// `max_errors` within the window.
    pub fn on_error(&mut self, now: NaiveDateTime, what: &str) -> bool {
        self.errors.push_back(now);
        while let Some(first) = self.errors.front() {
            let window = chrono::Duration::from_std(self.config.error_window())
                .unwrap_or(chrono::Duration::MAX);
            if now.signed_duration_since(*first) > window {
                self.errors.pop_front();
            } else {
                break;
            }
        }
        let count = self.errors.len();
        if count >= self.config.max_errors as usize {
            return self.trip(format!(
                "{count} errors from IB within {} s (last: {what})",
                self.config.error_window_seconds
            ));
        }
        false
    }

    /// An order IB (or the adapter) rejected.
    pub fn on_rejection(&mut self, what: &str) -> bool {
        self.config.trip_on_rejection && self.trip(format!("an order was rejected: {what}"))
    }

    /// The connection to TWS was lost.
    pub fn on_disconnect(&mut self) -> bool {
        self.config.trip_on_disconnect && self.trip("the connection to TWS / IB Gateway was lost")
    }

    /// A person looked: openings may go again.
    pub fn reset(&mut self) {
        self.tripped = None;
        self.errors.clear();
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate};

    use super::*;

    #[test]
    fn five_errors_within_the_window_trip_it_once_and_older_ones_do_not_count() {
        let mut b = CircuitBreaker::new(BreakerConfig::default());
        let t0 = NaiveDate::from_ymd_opt(2025, 3, 17)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap();
        for i in 0..4 {
            assert!(!b.on_error(t0 + Duration::seconds(i), "e"));
        }
        // The first four fall out of the 300 s window before the fifth.
        assert!(!b.on_error(t0 + Duration::seconds(400), "e"));
        assert!(b.tripped().is_none());
        for i in 401..404 {
            assert!(!b.on_error(t0 + Duration::seconds(i), "e"));
        }
        assert!(b.on_error(t0 + Duration::seconds(405), "code 200"));
        assert!(
            b.tripped().unwrap().contains("5 errors"),
            "{:?}",
            b.tripped()
        );
        assert!(!b.on_error(t0 + Duration::seconds(406), "e"));
        assert_eq!(b.trips(), 1);
        b.reset();
        assert!(b.tripped().is_none());
    }

    #[test]
    fn a_rejection_or_a_disconnect_trips_it_unless_configured_off() {
        let mut b = CircuitBreaker::new(BreakerConfig::default());
        assert!(b.on_rejection("201 margin"));
        assert!(!b.on_disconnect());
        assert!(b.tripped().unwrap().contains("201 margin"));
        let mut lenient = CircuitBreaker::new(BreakerConfig {
            trip_on_rejection: false,
            trip_on_disconnect: false,
            ..BreakerConfig::default()
        });
        assert!(!lenient.on_rejection("x"));
        assert!(!lenient.on_disconnect());
        assert!(lenient.tripped().is_none());
    }
}
