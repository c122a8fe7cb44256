//! The Bluesky listener's cost per Jetstream event: a replay of a realistic mix through the
//! real consumer into a real (file, WAL) SQLite store.
//!
//! The mix: 95% of events have nothing to do with papers (likes and reposts of other posts,
//! posts without arXiv links); the rest are posts linking arXiv and the likes, reposts and
//! replies they get. Process CPU time (every thread: the runtime and sqlx's SQLite thread),
//! from `/proc/self/stat`, is the figure: wall time swings with other load on a shared
//! 2-core machine. Target: ≥ 100,000 events per CPU-second. Run with
//! `cargo bench --bench jetstream`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotpapers::clock::SystemClock;
use hotpapers::config::BlueskyConfig;
use hotpapers::sources::bluesky::JetstreamConsumer;
use hotpapers::store::{SqliteStore, Store};
use serde_json::{Value, json};

const EVENTS: usize = 200_000;
const TARGET_PER_CPU_SECOND: f64 = 100_000.0;

/// User + system CPU time of the whole process, in USER_HZ (100 Hz) ticks; `None` off Linux.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    let mut fields = after_comm.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn commit(did: &str, t: i64, collection: &str, rkey: &str, record: Value) -> String {
    json!({"did": did, "time_us": t, "kind": "commit", "commit": {
        "rev": "3mptbypluud2a", "operation": "create", "collection": collection, "rkey": rkey,
        "record": record, "cid": "bafyreiguce4jh7kcbmof3pmcvasifqtw24b6isakj5ve5ga2b4z4alpc4i"
    }})
    .to_string()
}

fn iso(t_us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(t_us)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The replayed lines, deterministic.
fn events(now_us: i64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(0x00b5_7a11);
    let mut out = Vec::with_capacity(EVENTS);
    let mut paper_posts: Vec<String> = Vec::new();
    for i in 0..EVENTS {
        let t = now_us - (EVENTS - i) as i64 * 1_000;
        let did = format!("did:plc:user{:06}", rng.u32(..500_000));
        let rkey = format!("3k{i:010}");
        let roll = rng.u32(..1000);
        let line = if roll < 10 || paper_posts.is_empty() {
            // A post linking a paper (1%).
            let url = format!("https://arxiv.org/abs/2107.{:05}", rng.u32(1..20_000));
            paper_posts.push(format!("at://{did}/app.bsky.feed.post/{rkey}"));
            commit(
                &did,
                t,
                "app.bsky.feed.post",
                &rkey,
                json!({
                    "$type": "app.bsky.feed.post", "createdAt": iso(t), "langs": ["en"],
                    "text": "arxiv.org/abs/2107.0... worth a read",
                    "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
                                "index": {"byteEnd": 24, "byteStart": 0}}]
                }),
            )
        } else if roll < 50 {
            // A like or repost of a paper post (4%).
            let subject = &paper_posts[rng.usize(..paper_posts.len())];
            let collection = if roll.is_multiple_of(2) {
                "app.bsky.feed.like"
            } else {
                "app.bsky.feed.repost"
            };
            commit(
                &did,
                t,
                collection,
                &rkey,
                json!({
                    "$type": collection, "createdAt": iso(t), "subject": {"cid": "bafy", "uri": subject}
                }),
            )
        } else if roll < 800 {
            // A like of some other post (75%).
            let subject = format!(
                "at://did:plc:other{:06}/app.bsky.feed.post/3x{}",
                rng.u32(..1_000_000),
                rng.u32(..)
            );
            commit(
                &did,
                t,
                "app.bsky.feed.like",
                &rkey,
                json!({
                    "$type": "app.bsky.feed.like", "createdAt": iso(t), "subject": {"cid": "bafy", "uri": subject}
                }),
            )
        } else if roll < 900 {
            // A repost of some other post (10%).
            let subject = format!(
                "at://did:plc:other{:06}/app.bsky.feed.post/3y{}",
                rng.u32(..1_000_000),
                rng.u32(..)
            );
            commit(
                &did,
                t,
                "app.bsky.feed.repost",
                &rkey,
                json!({
                    "$type": "app.bsky.feed.repost", "createdAt": iso(t), "subject": {"cid": "bafy", "uri": subject}
                }),
            )
        } else {
            // A post without arXiv links (10%).
            commit(
                &did,
                t,
                "app.bsky.feed.post",
                &rkey,
                json!({
                    "$type": "app.bsky.feed.post", "createdAt": iso(t), "langs": ["en"],
                    "text": "good morning everyone, coffee first"
                }),
            )
        };
        out.push(line);
    }
    out
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("bench.db"))
                .await
                .expect("a store"),
        );
        let now_us = chrono::Utc::now().timestamp_micros();
        let lines = events(now_us);
        let cfg = BlueskyConfig::default();
        let mut consumer = JetstreamConsumer::new(&cfg, store, Arc::new(SystemClock));
        let cpu0 = process_cpu_time();
        let wall0 = Instant::now();
        for line in &lines {
            consumer.apply_text(line).await.expect("applied");
        }
        consumer.save_cursor().await.expect("saved");
        let wall = wall0.elapsed();
        let cpu = match (cpu0, process_cpu_time()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let stats = consumer.stats();
        println!(
            "jetstream replay: {EVENTS} events (95% irrelevant), {} posts stored, {} interactions counted, {} dropped in memory",
            stats.posts_stored, stats.interactions, stats.interactions_ignored
        );
        println!(
            "wall {:.2} s: {:.0} events/s",
            wall.as_secs_f64(),
            EVENTS as f64 / wall.as_secs_f64()
        );
        if let Some(cpu) = cpu.filter(|c| !c.is_zero()) {
            let rate = EVENTS as f64 / cpu.as_secs_f64();
            println!(
                "CPU {:.2} s: {:.0} events per CPU-second (target >= {TARGET_PER_CPU_SECOND:.0}): {}",
                cpu.as_secs_f64(),
                rate,
                if rate >= TARGET_PER_CPU_SECOND { "met" } else { "NOT met" }
            );
        }
    });
}
