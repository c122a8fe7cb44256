// PLACEHOLDER (replaced at merge): the SCHEDULER helper owns this file.
//! The daily-post scheduler (placeholder: waits for shutdown).

use std::sync::Arc;

use serenity::http::Http;
use tokio::sync::Notify;

use crate::app::App;

/// Scheduler settings (placeholder).
pub struct SchedulerOptions {
    /// How late a missed post may still go out.
    pub grace_period: chrono::Duration,
    /// How old a mailing must be before it is posted.
    pub min_age: chrono::Duration,
    /// Posts in flight at once.
    pub parallel: usize,
}

impl SchedulerOptions {
    /// Placeholder: fixed values.
    pub fn from_config(_c: &crate::config::DiscordConfig) -> SchedulerOptions {
        SchedulerOptions {
            grace_period: chrono::Duration::hours(6),
            min_age: chrono::Duration::hours(24),
            parallel: 4,
        }
    }
}

/// The scheduler (placeholder).
pub struct Scheduler {
    _app: Arc<App>,
    _http: Arc<Http>,
    _options: SchedulerOptions,
    waker: Arc<Notify>,
}

impl Scheduler {
    /// Placeholder constructor.
    pub fn new(app: Arc<App>, http: Arc<Http>, options: SchedulerOptions) -> Scheduler {
        Scheduler {
            _app: app,
            _http: http,
            _options: options,
            waker: Arc::new(Notify::new()),
        }
    }

    /// Placeholder: the waker.
    pub fn waker(&self) -> Arc<Notify> {
        self.waker.clone()
    }

    /// Placeholder: waits until `shutdown` turns true (or its sender is gone).
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
}
