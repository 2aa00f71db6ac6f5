//! Ending a run early: when `--max-time` runs out or a signal (SIGINT, SIGTERM) arrives, the
//! run stops fetching, the writer commits what it holds, and the ledger says the run was
//! stopped. Fetchers race every listing against [`Stop::requested`], so a request that never
//! answers or a long `Retry-After` does not hold the run.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Which signal stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (cron and systemd timeouts, `kill`).
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Why a run stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--max-time` ran out.
    TimeBudget(Duration),
    Signal(Signal),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::TimeBudget(d) => write!(
                f,
                "stopped at --max-time {}",
                humantime::format_duration(*d)
            ),
            StopReason::Signal(s) => write!(f, "interrupted by {}", s.name()),
        }
    }
}

/// A request to stop, shared by everything a run spawns. The first reason given wins.
#[derive(Debug, Clone)]
pub struct Stop(Arc<watch::Sender<Option<StopReason>>>);

impl Default for Stop {
    fn default() -> Self {
        Stop(Arc::new(watch::channel(None).0))
    }
}

impl Stop {
    /// Asks the run to stop; later requests keep the first reason.
    pub fn request(&self, reason: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// Why the run was asked to stop, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        *self.0.borrow()
    }

    pub fn is_requested(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once a stop is requested (at once if it already was).
    pub async fn requested(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = rx.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let stop = Stop::default();
        assert!(!stop.is_requested());
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        stop.request(StopReason::Signal(Signal::Terminate));
        stop.request(StopReason::TimeBudget(Duration::from_secs(1)));
        waiter.await.unwrap();
        assert_eq!(stop.reason(), Some(StopReason::Signal(Signal::Terminate)));
        // Already stopped: resolves at once.
        stop.requested().await;
        assert_eq!(
            StopReason::TimeBudget(Duration::from_secs(600)).to_string(),
            "stopped at --max-time 10m"
        );
    }
}
