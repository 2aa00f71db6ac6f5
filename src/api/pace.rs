//! The request rate: at most `--max-rps`, evenly spaced, and halved when the gateway answers
//! 429 (its per-user limit is the tenant's, shared with every other tool, so the rate it
//! enforces can be below the one asked for). After each second without a 429 the rate grows
//! by a fifth again, up to `--max-rps`, so a passing burst of someone else's costs little.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// The lowest rate a run of 429s halves to: a request every two seconds still finishes a
/// quiet project's sync.
const MIN_RPS: f64 = 0.5;

/// How much the rate grows after each calm second.
const RECOVERY: f64 = 1.2;

/// A rate limiter whose rate halves at a 429 and recovers.
pub(super) struct Pace {
    max_rps: f64,
    state: Mutex<State>,
}

struct State {
    rps: f64,
    limiter: Arc<DefaultDirectRateLimiter>,
    /// The last change of rate: a halving waits a second after it (the 429s of requests
    /// already in flight are one signal, not one each), and so does a recovery.
    changed: Instant,
}

impl Pace {
    pub(super) fn new(max_rps: f64) -> Pace {
        // The flags keep the rate within 0.01..10000 a second; anything else that reaches
        // here (NaN, infinity, a rate whose period rounds to zero) is clamped, not a panic.
        let max_rps = if max_rps.is_finite() {
            max_rps.clamp(0.01, 1_000_000.0)
        } else {
            0.01
        };
        Pace {
            max_rps,
            state: Mutex::new(State {
                rps: max_rps,
                limiter: Arc::new(limiter(max_rps)),
                changed: Instant::now(),
            }),
        }
    }

    /// Waits for the next request's turn.
    pub(super) async fn until_ready(&self) {
        let limiter = Arc::clone(&self.lock().limiter);
        limiter.until_ready().await;
    }

    /// The rate now, requests a second.
    pub(super) fn rps(&self) -> f64 {
        self.lock().rps
    }

    /// The gateway answered 429: halve the rate, once a second at most.
    pub(super) fn throttled(&self) {
        let mut state = self.lock();
        if state.changed.elapsed() < Duration::from_secs(1) && state.rps < self.max_rps {
            return;
        }
        let rps = (state.rps / 2.0).max(MIN_RPS.min(self.max_rps));
        tracing::info!(
            "the gateway throttled the requests (429); the rate is halved to {rps:.1} a second"
        );
        state.set(rps);
    }

    /// A request went through: after a calm second, the rate grows again.
    pub(super) fn passed(&self) {
        let mut state = self.lock();
        if state.rps >= self.max_rps || state.changed.elapsed() < Duration::from_secs(1) {
            return;
        }
        let rps = (state.rps * RECOVERY).min(self.max_rps);
        tracing::debug!("the rate recovers to {rps:.1} a second");
        state.set(rps);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("pace lock")
    }
}

impl State {
    fn set(&mut self, rps: f64) {
        self.rps = rps;
        self.limiter = Arc::new(limiter(rps));
        self.changed = Instant::now();
    }
}

/// Evenly spaced requests: a burst of one keeps every one-second window under the gateway's
/// per-user limit.
fn limiter(rps: f64) -> DefaultDirectRateLimiter {
    let period = Duration::try_from_secs_f64(1.0 / rps)
        .unwrap_or(Duration::from_secs(100))
        .max(Duration::from_micros(1));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_halves_the_rate_once_a_second_and_calm_seconds_restore_it() {
        let pace = Pace::new(40.0);
        pace.throttled();
        assert_eq!(pace.rps(), 20.0);
        // The 429s of the requests that were in flight together are one signal.
        pace.throttled();
        pace.throttled();
        assert_eq!(pace.rps(), 20.0);
        // Within its first second the rate does not recover either.
        pace.passed();
        assert_eq!(pace.rps(), 20.0);
        pace.lock().changed -= Duration::from_secs(1);
        pace.throttled();
        assert_eq!(pace.rps(), 10.0);
        for _ in 0..20 {
            pace.lock().changed -= Duration::from_secs(1);
            pace.passed();
        }
        assert_eq!(pace.rps(), 40.0, "recovered up to --max-rps, not beyond");
        for _ in 0..20 {
            pace.lock().changed -= Duration::from_secs(1);
            pace.throttled();
        }
        assert_eq!(pace.rps(), MIN_RPS);
    }
}
