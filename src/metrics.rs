//! The process's operational metrics, served at `/metrics` in the Prometheus text format
//! when `[web] listen` is set.
//!
//! One registry per process ([`metrics`]), because what it counts happens in every layer:
//! upstream requests in `http`, Jetstream events in `sources`, ingests and collects in `app`,
//! commands and posts in the Discord front end. It sits at the bottom layer (beside `clock`)
//! so all of them can record without knowing who serves it. Recording is a few atomic
//! operations; nothing here blocks or fails.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A command and how it went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    /// The command's name (`hot`, `paper`…).
    pub command: String,
    /// `ok` or `error`.
    pub outcome: String,
}

/// A command's name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandName {
    /// The command's name.
    pub command: String,
}

/// A daily or manual post's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PostLabels {
    /// `sent`, `failed` or `skipped`.
    pub outcome: String,
}

/// An upstream request's host and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    /// Which upstream: `arxiv`, `hn`, `hf`, `bluesky`, `x`, `s2`, `llm`, or the host name.
    pub source: String,
    /// The HTTP status, or `error` when no response came (connection, timeout, size cap).
    pub status: String,
}

/// Every metric the process keeps.
pub struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    command_seconds: Family<CommandName, Histogram>,
    posts: Family<PostLabels, Counter>,
    upstream: Family<UpstreamLabels, Counter>,
    jetstream_events: Counter,
    jetstream_lag: Gauge<f64, AtomicU64>,
    last_ingest: Gauge<i64, AtomicI64>,
    last_collect: Gauge<i64, AtomicI64>,
    gateway: Gauge<i64, AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Command latency buckets, in seconds: from a 2 ms answer from the store to a 15 s deferred
/// one that waited for arXiv.
const LATENCY_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
];

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hotpapers");
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "commands",
            "Commands answered, by command and outcome",
            commands.clone(),
        );
        let command_seconds = Family::<CommandName, Histogram>::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS)
        });
        registry.register(
            "command_duration_seconds",
            "Time from receiving a command to having its answer",
            command_seconds.clone(),
        );
        let posts = Family::<PostLabels, Counter>::default();
        registry.register(
            "posts",
            "Digest posts: sent, failed or skipped",
            posts.clone(),
        );
        let upstream = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "HTTP requests to upstreams, by source and status",
            upstream.clone(),
        );
        let jetstream_events = Counter::default();
        registry.register(
            "jetstream_events",
            "Bluesky Jetstream events read",
            jetstream_events.clone(),
        );
        let jetstream_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "jetstream_lag_seconds",
            "How far behind real time the last Jetstream event was",
            jetstream_lag.clone(),
        );
        let last_ingest = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "last_ingest_timestamp_seconds",
            "Unix time of the last completed ingest (0: none since start)",
            last_ingest.clone(),
        );
        let last_collect = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "last_collect_timestamp_seconds",
            "Unix time of the last completed attention collect (0: none since start)",
            last_collect.clone(),
        );
        let gateway = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "gateway_connected",
            "1 while the Discord gateway is connected",
            gateway.clone(),
        );
        Metrics {
            registry,
            commands,
            command_seconds,
            posts,
            upstream,
            jetstream_events,
            jetstream_lag,
            last_ingest,
            last_collect,
            gateway,
        }
    }

    /// A command answered: `ok` unless it answered with an error, after `seconds`.
    pub fn command(&self, command: &str, ok: bool, seconds: f64) {
        self.commands
            .get_or_create(&CommandLabels {
                command: command.to_string(),
                outcome: if ok { "ok" } else { "error" }.to_string(),
            })
            .inc();
        self.command_seconds
            .get_or_create(&CommandName {
                command: command.to_string(),
            })
            .observe(seconds.max(0.0));
    }

    /// A post `sent`, `failed` or `skipped`.
    pub fn post(&self, outcome: &str) {
        self.posts
            .get_or_create(&PostLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// An upstream request to `source` that got `status` (`None`: no response).
    pub fn upstream(&self, source: &str, status: Option<u16>) {
        self.upstream
            .get_or_create(&UpstreamLabels {
                source: source.to_string(),
                status: status.map_or_else(|| "error".to_string(), |s| s.to_string()),
            })
            .inc();
    }

    /// A Jetstream event read, `lag_seconds` behind real time.
    pub fn jetstream_event(&self, lag_seconds: f64) {
        self.jetstream_events.inc();
        if lag_seconds.is_finite() {
            self.jetstream_lag.set(lag_seconds.max(0.0));
        }
    }

    /// An ingest completed at Unix time `at`.
    pub fn ingested(&self, at: i64) {
        self.last_ingest.set(at);
    }

    /// A collect completed at Unix time `at`.
    pub fn collected(&self, at: i64) {
        self.last_collect.set(at);
    }

    /// The Discord gateway connected or lost its connection.
    pub fn set_gateway_connected(&self, connected: bool) {
        self.gateway.set(i64::from(connected));
    }

    /// Whether the Discord gateway is connected now.
    pub fn gateway_connected(&self) -> bool {
        self.gateway.get() == 1
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_encode_in_the_prometheus_text_format() {
        let m = Metrics::new();
        m.command("hot", true, 0.003);
        m.command("hot", true, 0.004);
        m.command("paper", false, 1.2);
        m.post("sent");
        m.upstream("hn", Some(200));
        m.upstream("hn", None);
        m.jetstream_event(2.5);
        m.ingested(1_625_227_200);
        m.set_gateway_connected(true);
        let text = m.encode();
        for want in [
            r#"hotpapers_commands_total{command="hot",outcome="ok"} 2"#,
            r#"hotpapers_commands_total{command="paper",outcome="error"} 1"#,
            r#"hotpapers_command_duration_seconds_count{command="hot"} 2"#,
            r#"hotpapers_posts_total{outcome="sent"} 1"#,
            r#"hotpapers_upstream_requests_total{source="hn",status="200"} 1"#,
            r#"hotpapers_upstream_requests_total{source="hn",status="error"} 1"#,
            "hotpapers_jetstream_events_total 1",
            "hotpapers_jetstream_lag_seconds 2.5",
            "hotpapers_last_ingest_timestamp_seconds 1625227200",
            "hotpapers_gateway_connected 1",
        ] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
        assert!(m.gateway_connected());
        assert!(text.ends_with("# EOF\n"));
    }
}
