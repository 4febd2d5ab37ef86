//! When to retry a request and how long to wait first: capped exponential backoff with jitter.
//!
//! Retry `k` (1-based: the wait after the `k`-th failed attempt) waits
//! `d = min(max_delay, base_delay · 2^(k−1))` plus a jitter drawn uniformly from
//! `[0, jitter · d)`, so that clients that failed together do not retry together (the
//! "exponential backoff and jitter" scheme of Brooker, AWS Architecture Blog, 2015, in its
//! "equal jitter" flavour: the wait never drops below the exponential floor). A server's
//! `Retry-After` raises the wait to at least what it asked for.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Result};

/// How many times to try a request and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (≥ 1; 1 means never retry).
    pub max_attempts: u32,
    /// Wait before the first retry, before jitter.
    pub base_delay: Duration,
    /// Cap on the exponential wait (before jitter). A `Retry-After` longer than this is not
    /// waited out: the request fails with [`DataError::RateLimited`] so the caller can decide.
    pub max_delay: Duration,
    /// Jitter as a fraction of the wait, in `[0, 1]`: 0.5 adds up to 50 %.
    pub jitter: f64,
    /// Seed of the jitter's random generator (a fixed seed gives reproducible waits; give each
    /// process its own seed when many share one rate limit upstream).
    pub jitter_seed: u64,
}

impl Default for RetryPolicy {
    /// Four attempts, waits of 0.5 s, 1 s, 2 s (capped at 8 s) plus up to 50 % jitter.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            jitter: 0.5,
            jitter_seed: 0x0076_6f6c_7461, // "volta" in ASCII
        }
    }
}

impl RetryPolicy {
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |field, value: String, requirement| {
            Err(DataError::InvalidSourceConfig {
                field,
                value,
                requirement,
            })
        };
        if self.max_attempts == 0 {
            return bad("retry.max_attempts", "0".to_owned(), "at least 1");
        }
        if self.base_delay > self.max_delay {
            return bad(
                "retry.base_delay",
                format!("{:?}", self.base_delay),
                "at most retry.max_delay",
            );
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad("retry.jitter", self.jitter.to_string(), "in [0, 1]");
        }
        Ok(())
    }

    /// The exponential part of the wait after the `failed_attempts`-th failure (1-based):
    /// `min(max_delay, base_delay · 2^(failed_attempts − 1))`, without jitter.
    #[must_use]
    pub fn exponential_delay(&self, failed_attempts: u32) -> Duration {
        let doublings = failed_attempts.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1_u32 << doublings)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

/// The policy with its seeded jitter generator; shared by the threads of one source.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    rng: Mutex<ChaCha8Rng>,
}

impl Backoff {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(policy.jitter_seed)),
        }
    }

    pub(crate) const fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The wait after the `failed_attempts`-th failure: exponential, jittered, and at least
    /// `retry_after` when the server sent one.
    pub(crate) fn delay(&self, failed_attempts: u32, retry_after: Option<Duration>) -> Duration {
        let floor = self.policy.exponential_delay(failed_attempts);
        let u: f64 = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .random();
        let jittered = floor + floor.mul_f64(self.policy.jitter * u);
        retry_after.map_or(jittered, |r| jittered.max(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: f64) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            jitter,
            jitter_seed: 7,
        }
    }

    #[test]
    fn doubles_then_caps() {
        let p = policy(0.0);
        let ms: Vec<u128> = (1..=6)
            .map(|k| p.exponential_delay(k).as_millis())
            .collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        // No overflow however many failures.
        assert_eq!(p.exponential_delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_is_reproducible() {
        let a = Backoff::new(policy(0.5));
        let b = Backoff::new(policy(0.5));
        let mut spread = false;
        for k in 1..=50 {
            let (da, db) = (a.delay(k, None), b.delay(k, None));
            assert_eq!(da, db, "same seed, same waits");
            let floor = policy(0.5).exponential_delay(k);
            assert!(da >= floor && da < floor.mul_f64(1.5), "retry {k}: {da:?}");
            spread |= da != floor;
        }
        assert!(spread, "jitter never moved the wait");
    }

    #[test]
    fn retry_after_raises_the_wait() {
        let b = Backoff::new(policy(0.0));
        assert_eq!(
            b.delay(1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
        // A shorter Retry-After does not shorten the backoff.
        assert_eq!(
            b.delay(3, Some(Duration::from_millis(10))),
            Duration::from_millis(400)
        );
    }

    #[test]
    fn rejects_bad_policies() {
        let cases = [
            (
                RetryPolicy {
                    max_attempts: 0,
                    ..policy(0.1)
                },
                "retry.max_attempts",
            ),
            (
                RetryPolicy {
                    base_delay: Duration::from_secs(5),
                    ..policy(0.1)
                },
                "retry.base_delay",
            ),
            (policy(1.5), "retry.jitter"),
        ];
        for (p, field) in cases {
            match p.validate() {
                Err(DataError::InvalidSourceConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        }
    }
}
