//! A token bucket that spaces requests, and the clock it (and the retry loop) reads.
//!
//! The bucket holds up to `burst` tokens and refills at `rate_per_second`; each request takes
//! one. A caller that finds the bucket empty *reserves* the next token (the level goes
//! negative) and sleeps until it is due, so concurrent callers queue in arrival order and N
//! requests from a full bucket take at least `(N − burst) / rate` seconds. Time comes from an
//! injected [`Clock`], so tests check the arithmetic with a fake clock and no real sleeping.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{DataError, Result};

/// A monotonic clock that can also wait: the one place the Yahoo source reads time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time elapsed since the clock's own origin (monotonic, never goes back).
    fn now(&self) -> Duration;
    /// Blocks the calling thread for `duration` (a fake clock advances its time instead).
    fn sleep(&self, duration: Duration);
}

/// The production clock: [`Instant`] for time, [`std::thread::sleep`] for waiting.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin is the moment of the call.
    #[must_use]
    // The workspace bans `Instant::now` so that library code takes time from an injected clock;
    // this type *is* that injected clock for production use, and the only caller of it in
    // volta-data. Tests substitute their own `Clock`.
    #[expect(
        clippy::disallowed_methods,
        reason = "the production implementation of the injected Clock"
    )]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// How fast requests may go: a sustained rate and a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second (> 0).
    pub requests_per_second: f64,
    /// Requests that may go back to back after a quiet spell (≥ 1).
    pub burst: u32,
}

impl Default for RateLimit {
    /// Two requests per second with a burst of five: a chain of 30 expiries takes ~13 s, well
    /// under the request rates at which Yahoo starts answering 429.
    fn default() -> Self {
        Self {
            requests_per_second: 2.0,
            burst: 5,
        }
    }
}

impl RateLimit {
    fn validate(&self) -> Result<()> {
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(DataError::InvalidSourceConfig {
                field: "rate_limit.requests_per_second",
                value: self.requests_per_second.to_string(),
                requirement: "finite and positive",
            });
        }
        if self.burst == 0 {
            return Err(DataError::InvalidSourceConfig {
                field: "rate_limit.burst",
                value: "0".to_owned(),
                requirement: "at least 1",
            });
        }
        Ok(())
    }
}

/// Bucket level (tokens; negative when callers have reserved tokens not yet refilled) and the
/// clock reading it was computed at.
#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Duration,
}

/// A thread-safe token bucket over an injected [`Clock`].
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    clock: Arc<dyn Clock>,
    level: Mutex<Level>,
}

impl TokenBucket {
    /// A full bucket.
    ///
    /// # Errors
    /// [`DataError::InvalidSourceConfig`] if the rate is not positive and finite or the burst
    /// is zero.
    pub fn try_new(limit: RateLimit, clock: Arc<dyn Clock>) -> Result<Self> {
        limit.validate()?;
        let at = clock.now();
        Ok(Self {
            limit,
            clock,
            level: Mutex::new(Level {
                tokens: f64::from(limit.burst),
                at,
            }),
        })
    }

    /// The limit this bucket enforces.
    #[must_use]
    pub const fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one token and returns how long the caller must wait before using it (zero when a
    /// token was available). The reservation holds even if the caller does not wait.
    pub fn reserve(&self) -> Duration {
        // A poisoned lock only means another thread panicked between two float updates; the
        // level is still a number, so carry on with it.
        let mut level = self.level.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.now();
        let elapsed = now.saturating_sub(level.at).as_secs_f64();
        let burst = f64::from(self.limit.burst);
        level.tokens = (level.tokens + elapsed * self.limit.requests_per_second).min(burst);
        level.at = now;
        level.tokens -= 1.0;
        if level.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-level.tokens / self.limit.requests_per_second)
        }
    }

    /// Takes one token, sleeping on the clock until it is due.
    pub fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            self.clock.sleep(wait);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A clock that only moves when someone sleeps on it (or the test advances it).
    #[derive(Debug, Default)]
    pub(crate) struct FakeClock {
        now: Mutex<Duration>,
        pub(crate) sleeps: Mutex<Vec<Duration>>,
    }

    impl FakeClock {
        pub(crate) fn advance(&self, by: Duration) {
            *self.now.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            *self.now.lock().unwrap()
        }
        fn sleep(&self, duration: Duration) {
            self.sleeps.lock().unwrap().push(duration);
            self.advance(duration);
        }
    }

    fn bucket(rate: f64, burst: u32) -> (Arc<FakeClock>, TokenBucket) {
        let clock = Arc::new(FakeClock::default());
        let bucket = TokenBucket::try_new(
            RateLimit {
                requests_per_second: rate,
                burst,
            },
            clock.clone(),
        )
        .unwrap();
        (clock, bucket)
    }

    #[test]
    fn burst_is_free_then_one_token_per_interval() {
        // 4 per second, burst 3: the first 3 go at t = 0, then one every 250 ms.
        let (clock, bucket) = bucket(4.0, 3);
        let mut starts = Vec::new();
        for _ in 0..7 {
            bucket.acquire();
            starts.push(clock.now());
        }
        let ms: Vec<u128> = starts.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 0, 0, 250, 500, 750, 1000]);
    }

    #[test]
    fn n_requests_take_n_minus_burst_over_rate() {
        // N = 20 at 5/s with burst 4: (20 − 4) / 5 = 3.2 s exactly.
        let (clock, bucket) = bucket(5.0, 4);
        for _ in 0..20 {
            bucket.acquire();
        }
        assert!(
            (clock.now().as_secs_f64() - 3.2).abs() < 1e-9,
            "{:?}",
            clock.now()
        );
    }

    #[test]
    fn refills_while_idle_but_never_beyond_burst() {
        let (clock, bucket) = bucket(2.0, 2);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        // Empty: the next token is due in 500 ms.
        assert_eq!(bucket.reserve(), Duration::from_millis(500));
        // A long pause refills to the burst (2), not to 20 tokens.
        clock.advance(Duration::from_secs(10));
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        assert_eq!(bucket.reserve(), Duration::from_millis(500));
    }

    #[test]
    fn reservations_queue_without_sleeping() {
        // Three callers arrive together at an empty bucket (1/s, burst 1): waits 0, 1 s, 2 s.
        let (_, bucket) = bucket(1.0, 1);
        let waits: Vec<Duration> = (0..3).map(|_| bucket.reserve()).collect();
        assert_eq!(
            waits,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }

    proptest::proptest! {
        /// From a full bucket, N back-to-back acquisitions end exactly (N − burst)/rate later
        /// (or at once when N ≤ burst), whatever the rate and burst.
        #[test]
        fn n_acquisitions_take_exactly_the_deficit_over_the_rate(
            rate in 0.1_f64..1000.0,
            burst in 1_u32..20,
            n in 0_u32..60,
        ) {
            let (clock, bucket) = bucket(rate, burst);
            for _ in 0..n {
                bucket.acquire();
            }
            let expected = f64::from(n.saturating_sub(burst)) / rate;
            let took = clock.now().as_secs_f64();
            proptest::prop_assert!((took - expected).abs() <= 1e-6 * expected.max(1.0),
                "took {took} s, expected {expected} s");
        }
    }

    #[test]
    fn rejects_a_zero_rate_or_burst() {
        let clock: Arc<dyn Clock> = Arc::new(FakeClock::default());
        for (rate, burst, field) in [
            (0.0, 1, "rate_limit.requests_per_second"),
            (f64::NAN, 1, "rate_limit.requests_per_second"),
            (1.0, 0, "rate_limit.burst"),
        ] {
            let limit = RateLimit {
                requests_per_second: rate,
                burst,
            };
            match TokenBucket::try_new(limit, clock.clone()) {
                Err(DataError::InvalidSourceConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error on {field}, got {other:?}"),
            }
        }
    }
}
