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

/// `t + d`, or the last instant chrono can represent when that would overflow: date
/// arithmetic with a configured or upstream duration must never panic.
pub fn saturating_add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t - d`, or the first instant chrono can represent when that would overflow.
pub fn saturating_sub(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
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
        s.now = saturating_add(s.now, d);
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
        s.now = saturating_add(s.now, d);
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

    #[tokio::test]
    async fn huge_durations_saturate_instead_of_panicking() {
        let t0 = Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap();
        // 300000 years fits a std Duration and a TimeDelta, but not a DateTime.
        let huge = Duration::from_secs(300_000 * 31_557_600);
        assert_eq!(saturating_add(t0, huge), DateTime::<Utc>::MAX_UTC);
        assert_eq!(saturating_sub(t0, huge), DateTime::<Utc>::MIN_UTC);
        assert_eq!(saturating_add(t0, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(saturating_sub(t0, Duration::MAX), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            saturating_add(t0, Duration::from_secs(1)),
            t0 + chrono::Duration::seconds(1)
        );
        assert_eq!(
            saturating_sub(t0, Duration::from_secs(1)),
            t0 - chrono::Duration::seconds(1)
        );
        let c = FakeClock::new(t0);
        c.sleep(huge).await;
        assert_eq!(c.now(), DateTime::<Utc>::MAX_UTC);
        c.advance(Duration::MAX);
        assert_eq!(c.now(), DateTime::<Utc>::MAX_UTC);
    }
}
