//! The few distributions the generator draws from, built on a seeded ChaCha8 stream.
//!
//! `ln`, `cos` and `exp` come from the platform's maths library, so the stream is reproducible
//! for a given build and platform.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(crate) fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; `1 - u` keeps the logarithm's argument in (0, 1].
    let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
    radius * (std::f64::consts::TAU * rng.random::<f64>()).cos()
}

/// `exp(N(mu, sigma))`: a median of `exp(mu)` with a long right tail, like transfer sizes.
pub(crate) fn log_normal(rng: &mut ChaCha8Rng, mu: f64, sigma: f64) -> f64 {
    (mu + sigma * standard_normal(rng)).exp()
}

/// A log-normal byte count with the given median, clamped to `[min, max]`.
pub(crate) fn bytes_around(
    rng: &mut ChaCha8Rng,
    median: f64,
    sigma: f64,
    min: u64,
    max: u64,
) -> u64 {
    (log_normal(rng, median.ln(), sigma) as u64).clamp(min, max)
}

/// The wait until the next event of a Poisson process with the given mean gap, in microseconds.
pub(crate) fn exponential_micros(rng: &mut ChaCha8Rng, mean_secs: f64) -> u64 {
    let gap = -mean_secs * (1.0 - rng.random::<f64>()).ln();
    (gap * 1e6) as u64 + 1
}

/// A uniform duration in `[lo_ms, hi_ms)` milliseconds, in microseconds.
pub(crate) fn millis_between(rng: &mut ChaCha8Rng, lo_ms: f64, hi_ms: f64) -> u64 {
    (rng.random_range(lo_ms..hi_ms) * 1000.0) as u64
}

/// A client's ephemeral source port (the IANA dynamic range Windows uses).
pub(crate) fn ephemeral_port(rng: &mut ChaCha8Rng) -> u16 {
    rng.random_range(49_152..=65_535)
}
