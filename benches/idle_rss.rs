//! Idle memory of `hotpapers run` (target: RSS under 30 MB, whatever the store's size).
//!
//! Runs the release binary against the fake Discord of the tests (REST through
//! `[discord] proxy_url`, a loopback gateway) and the fake arXiv: it connects, registers its
//! commands, answers three `/hot` interactions, and then has nothing to do. Once the answers
//! are in, the bench samples the process's resident set (`VmRSS` in `/proc/PID/status`) every
//! 200 ms for a few seconds and prints the largest sample and the peak (`VmHWM`).
//!
//! `IDLE_RSS_DB=path` runs it against that store instead of a fresh one (e.g. the year of data
//! `QUERIES_BENCH_DB` of the queries bench keeps): idle memory must not grow with the store.
//! Linux only (it reads `/proc`). Run with `cargo bench --bench idle_rss`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::discord::{Fakes, GUILD, next_hit};

/// The target for the idle resident set.
const TARGET_MB: f64 = 30.0;
/// How long the idle bot is sampled.
const IDLE: Duration = Duration::from_secs(5);

/// `VmRSS` and `VmHWM` of `pid`, in MB.
fn memory(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut fakes = Fakes::start_with(None, 3).await;
    let mut child = match std::env::var_os("IDLE_RSS_DB") {
        Some(db) => {
            eprintln!("store: {}", std::path::Path::new(&db).display());
            let mut cmd = common::discord::run_command(dir.path(), &fakes.arxiv.uri());
            cmd.arg("run")
                .args(["--guild", GUILD])
                .env("HOTPAPERS_STORE__PATH", db)
                .env("HOTPAPERS_DISCORD__PROXY_URL", fakes.discord.uri())
                .env("DISCORD_TOKEN", common::discord::TOKEN);
            cmd.spawn().expect("start hotpapers run")
        }
        None => fakes.run(dir.path(), &["--guild", GUILD]),
    };
    let pid = child.id().expect("the child's pid");
    fakes.identify().await;
    // Registered, and the three interactions answered (at once or deferred then edited).
    let mut registered = false;
    let mut answered = 0;
    while !registered || answered < 3 {
        let hit = next_hit(&mut fakes.hits, |h| {
            (h.method == "PUT" && h.path.ends_with("/commands"))
                || (h.method == "POST" && h.path.ends_with("/callback"))
        })
        .await;
        if hit.method == "PUT" {
            registered = true;
        } else {
            answered += 1;
        }
    }
    let mut largest: f64 = 0.0;
    let mut peak: f64 = 0.0;
    let samples = (IDLE.as_millis() / 200) as usize;
    for _ in 0..samples {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some((rss, hwm)) = memory(pid) else {
            eprintln!("cannot read /proc/{pid}/status (Linux only)");
            break;
        };
        largest = largest.max(rss);
        peak = peak.max(hwm);
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    fakes.gateway.abort();
    println!("| what | idle RSS (largest sample) | peak RSS (VmHWM) | target | |");
    println!("|---|---|---|---|---|");
    println!(
        "| `hotpapers run`, connected, 3 commands answered, then idle {} s | {largest:.1} MB | {peak:.1} MB | < {TARGET_MB:.0} MB | {} |",
        IDLE.as_secs(),
        if largest < TARGET_MB {
            "met"
        } else {
            "NOT met"
        }
    );
}
