//! Capped exponential backoff with full jitter, for retrying a batch while the server is away.

use std::time::Duration;

use rand::Rng;

/// Retry delays: the n-th retry waits a random time in `[base·2ⁿ/2, base·2ⁿ]`, capped at `max`.
/// Half of the delay is random so that many collectors restarted together spread out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

/// The retry state of one batch.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Failed attempts so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The ceiling of the next delay, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.policy
            .initial
            .saturating_mul(factor)
            .min(self.policy.max)
    }

    /// The delay before the next attempt, chosen with `rng`; counts the attempt.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + ceiling.mul_f64(rng.random::<f64>() * 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_within_jitter_bounds() {
        let policy = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        let mut backoff = Backoff::new(policy);
        let mut rng = StdRng::seed_from_u64(7);
        let expected_ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
        for ceiling_ms in expected_ceilings {
            let ceiling = Duration::from_millis(ceiling_ms);
            assert_eq!(backoff.ceiling(), ceiling);
            let delay = backoff.next_delay(&mut rng);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{delay:?} vs {ceiling:?}"
            );
        }
        assert_eq!(backoff.attempts(), 8);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut rng = StdRng::seed_from_u64(1);
        let delays: std::collections::HashSet<Duration> = (0..20)
            .map(|_| Backoff::new(BackoffPolicy::default()).next_delay(&mut rng))
            .collect();
        assert!(delays.len() > 10);
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut backoff = Backoff::new(BackoffPolicy::default());
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..200 {
            assert!(backoff.next_delay(&mut rng) <= Duration::from_secs(10));
        }
    }
}
