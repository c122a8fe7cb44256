//! Whether this instance is healthy: what `/healthz` answers and `hotpapers health` checks.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::App;

/// How old the last ingest may be before the instance counts as unhealthy. arXiv mails five
/// days a week and takes holidays, so four days covers a long weekend without a false alarm.
pub const MAX_INGEST_AGE: Duration = Duration::days(4);

/// The health of a running instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Health {
    /// `"ok"` or `"unhealthy"`.
    pub status: &'static str,
    /// Whether the Discord gateway is connected; `None` when this process runs no gateway.
    pub gateway_connected: Option<bool>,
    /// Whether the store took a write just now.
    pub store_writable: bool,
    /// When the latest mailing was ingested, if any is stored.
    pub last_ingest: Option<DateTime<Utc>>,
    /// Its age in seconds.
    pub last_ingest_age_seconds: Option<i64>,
    /// Why the instance is unhealthy (empty when it is healthy), one short line each.
    pub reasons: Vec<String>,
}

impl Health {
    /// Whether nothing is wrong.
    pub fn is_healthy(&self) -> bool {
        self.reasons.is_empty()
    }
}

impl App {
    /// Checks the store (a write), the age of the last ingest, and `gateway` (the bot's
    /// connection, when this process runs one).
    pub async fn health(&self, gateway: Option<bool>) -> Health {
        let now = self.clock().now();
        let mut reasons = Vec::new();
        if gateway == Some(false) {
            reasons.push("the Discord gateway is not connected".to_string());
        }
        let store_writable = match self.store().check_writable(now).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "health check: the store does not take writes");
                reasons.push("the store does not take writes".to_string());
                false
            }
        };
        let last_ingest = match self.store().latest_mailing().await {
            Ok(m) => m.map(|m| m.ingested_at),
            Err(e) => {
                tracing::warn!(error = %e, "health check: cannot read the mailings");
                reasons.push("the store cannot be read".to_string());
                None
            }
        };
        let age = last_ingest.map(|t| (now - t).num_seconds());
        // No mailing yet is a fresh install, not a fault: the first digest ingests one.
        if let Some(t) = last_ingest
            && now - t > MAX_INGEST_AGE
        {
            reasons.push(format!(
                "the last ingest was {} hours ago (more than {} days)",
                (now - t).num_hours(),
                MAX_INGEST_AGE.num_days()
            ));
        }
        Health {
            status: if reasons.is_empty() {
                "ok"
            } else {
                "unhealthy"
            },
            gateway_connected: gateway,
            store_writable,
            last_ingest,
            last_ingest_age_seconds: age,
            reasons,
        }
    }
}
