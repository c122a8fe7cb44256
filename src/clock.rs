//! Time as a dependency: the wall clock and sleeping go through [`Clock`] so that pacing,
//! retries and schedules can be tested deterministically with [`FakeClock`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A source of "now" and a way to wait.
#[async_trait]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Waits for `d` (real time for [`SystemClock`], instant for [`FakeClock`]).
    async fn sleep(&self, d: Duration);
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// A clock for tests: `sleep` returns at once, advances `now` and records the duration.
#[derive(Debug, Clone)]
pub struct FakeClock {
    state: Arc<Mutex<FakeState>>,
}

#[derive(Debug)]
struct FakeState {
    now: DateTime<Utc>,
    sleeps: Vec<Duration>,
}

impl FakeClock {
    /// A clock that reads `now` until advanced.
    pub fn new(now: DateTime<Utc>) -> Self {
        FakeClock {
            state: Arc::new(Mutex::new(FakeState {
                now,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves time forward without recording a sleep.
    pub fn advance(&self, d: Duration) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.now += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    }

    /// Sets the current instant.
    pub fn set(&self, now: DateTime<Utc>) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now = now;
    }

    /// Every duration passed to `sleep` so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sleeps
            .clone()
    }
}

#[async_trait]
impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now
    }

    async fn sleep(&self, d: Duration) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.sleeps.push(d);
        s.now += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn fake_clock_records_sleeps_and_advances() {
        let t0 = Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap();
        let c = FakeClock::new(t0);
        c.sleep(Duration::from_secs(3)).await;
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now(), t0 + chrono::Duration::seconds(5));
        assert_eq!(c.sleeps(), vec![Duration::from_secs(3)]);
    }
}
