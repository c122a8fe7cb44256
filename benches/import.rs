//! `hotpapers import` end to end (parse + store) beside Python feedparser merely parsing the
//! same file, in one run on the same machine: the figures are ratios, not absolute times.
//!
//! It writes a deterministic 10,000-entry feed (and four more for the many-files case), then
//! times, alternately, `python3 -c "feedparser.parse(...)"` and the release binary importing
//! the file into a fresh store; each is the median of [`RUNS`] runs, wall clock and CPU
//! (user + system) from `/usr/bin/time`, with the peak RSS. A second peer,
//! `benches/peers/import_sqlite.py`, parses with feedparser and stores the same rows in the
//! same schema with Python's sqlite3 (SQLite 3.43+ for the schema's FTS5 options, or
//! `pip install pysqlite3-binary`). Needs `python3` with `feedparser` (`pip install
//! feedparser`) and GNU `/usr/bin/time`; without them the peer's row says so. Run with
//! `cargo bench --bench import`; `IMPORT_BENCH_FEED=/tmp/feed10k.xml cargo bench --bench import`
//! only writes the 10,000-entry feed there (and the four others of the many-files case as
//! `.1` to `.4`), for profiling the binary by hand.

use std::path::Path;
use std::process::Command;

#[path = "feed/mod.rs"]
mod feed;

const ENTRIES: usize = 10_000;
const RUNS: usize = 3;
/// The targets of the issue: import ≥ 20× faster than feedparser's parse; peak RSS < 100 MB.
const TARGET_RATIO: f64 = 20.0;
const TARGET_RSS_MB: f64 = 100.0;

/// One timed run: wall seconds, CPU seconds, peak RSS in MB.
#[derive(Clone, Copy, Debug)]
struct Run {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
}

/// Runs `cmd` under `/usr/bin/time` and reads its figures; `None` when it fails.
fn timed(cmd: Command) -> Option<Run> {
    let report = tempfile::NamedTempFile::new().ok()?;
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = cmd
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args);
    for (k, v) in envs {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let out = timed.output().ok()?;
    if !out.status.success() {
        eprintln!(
            "  (failed: {})",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let text = std::fs::read_to_string(report.path()).ok()?;
    let f: Vec<f64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let [wall, user, sys, rss_kb] = f[..] else {
        return None;
    };
    Some(Run {
        wall,
        cpu: user + sys,
        rss_mb: rss_kb / 1024.0,
    })
}

fn median(mut runs: Vec<Run>) -> Option<Run> {
    if runs.is_empty() {
        return None;
    }
    runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    Some(runs[runs.len() / 2])
}

fn feedparser(file: &Path) -> Command {
    let mut c = Command::new("python3");
    c.arg("-c")
        .arg("import sys, feedparser; d = feedparser.parse(sys.argv[1]); assert len(d.entries) > 0")
        .arg(file);
    c
}

/// The storage peer: feedparser parsing and Python's sqlite3 storing the same rows in the same
/// schema (`benches/peers/import_sqlite.py`), into a fresh store.
fn python_store(dir: &Path, file: &Path) -> Command {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("peer.db{suffix}")));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/import_sqlite.py");
    let mut c = Command::new("python3");
    c.arg(script).arg(file).arg(dir.join("peer.db"));
    c
}

fn import(dir: &Path, files: &[&Path]) -> Command {
    let _ = std::fs::remove_file(dir.join("bench.db"));
    let _ = std::fs::remove_file(dir.join("bench.db-wal"));
    let _ = std::fs::remove_file(dir.join("bench.db-shm"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_hotpapers"));
    c.current_dir(dir)
        .env("HOTPAPERS_STORE__PATH", dir.join("bench.db"))
        .env("HOTPAPERS_ARXIV__API_URL", "http://127.0.0.1:9/api/query")
        .env("RUST_LOG", "error")
        .arg("-q")
        .arg("import")
        .args(files);
    c
}

fn row(what: &str, r: Option<Run>) -> String {
    match r {
        Some(r) => format!(
            "| {what} | {:.2} s | {:.2} s | {:.0} MB |",
            r.wall, r.cpu, r.rss_mb
        ),
        None => format!("| {what} | n/a | n/a | n/a |"),
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let feed = feed::generate_feed(ENTRIES);
    let one = dir.path().join("feed-0.xml");
    std::fs::write(&one, &feed).expect("write the feed");
    // For profiling by hand: `IMPORT_BENCH_FEED=/tmp/feed10k.xml` only writes the feeds (the
    // four others as `/tmp/feed10k.xml.1` to `.4`).
    if let Some(keep) = std::env::var_os("IMPORT_BENCH_FEED") {
        let keep = Path::new(&keep);
        std::fs::write(keep, &feed).expect("write the kept feed");
        for k in 1..5 {
            let path = format!("{}.{k}", keep.display());
            std::fs::write(&path, feed::generate_feed_variant(ENTRIES, k)).expect("write a feed");
        }
        println!("feeds written to {} and .1 to .4", keep.display());
        return;
    }
    // Four more files with other ids, for the many-files case.
    let mut many = vec![one.clone()];
    for k in 1..5 {
        let path = dir.path().join(format!("feed-{k}.xml"));
        std::fs::write(&path, feed::generate_feed_variant(ENTRIES, k)).expect("write a feed");
        many.push(path);
    }
    let mb = feed.len() as f64 / 1e6;
    println!("import bench: {ENTRIES} entries, {mb:.1} MB per file, median of {RUNS} runs");
    let (mut peer, mut stored, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // Alternate, so background load hits all alike.
        peer.extend(timed(feedparser(&one)));
        stored.extend(timed(python_store(dir.path(), &one)));
        ours.extend(timed(import(dir.path(), &[&one])));
    }
    let mut five = Vec::new();
    for _ in 0..RUNS {
        let files: Vec<&Path> = many.iter().map(|p| p.as_path()).collect();
        five.extend(timed(import(dir.path(), &files)));
    }
    let (peer, stored, ours, five) = (median(peer), median(stored), median(ours), median(five));
    println!();
    println!("| what | wall | CPU | peak RSS |");
    println!("|---|---|---|---|");
    println!("{}", row("Python feedparser 6, parse only", peer));
    println!(
        "{}",
        row("Python feedparser + sqlite3, parse + store, 1 file", stored)
    );
    println!("{}", row("hotpapers import (parse + store), 1 file", ours));
    println!("{}", row("hotpapers import, 5 files", five));
    if let (Some(p), Some(o)) = (peer, ours) {
        let ratio = p.wall / o.wall;
        let cpu_ratio = p.cpu / o.cpu.max(1e-9);
        println!();
        println!(
            "ratio vs feedparser: {ratio:.1}x wall, {cpu_ratio:.1}x CPU (target >= {TARGET_RATIO}x): {}",
            if ratio >= TARGET_RATIO {
                "met"
            } else {
                "NOT met"
            }
        );
    } else {
        println!("\nfeedparser unavailable (pip install feedparser): no ratio");
    }
    match (stored, ours) {
        (Some(p), Some(o)) => println!(
            "ratio vs Python feedparser + sqlite3 storing the same rows: {:.1}x wall, {:.1}x CPU",
            p.wall / o.wall,
            p.cpu / o.cpu.max(1e-9)
        ),
        _ => println!(
            "Python sqlite3 peer unavailable (needs feedparser, and SQLite >= 3.43 or \
             pip install pysqlite3-binary)"
        ),
    }
    if let Some(f) = five {
        println!(
            "peak RSS with 5 files: {:.0} MB (target < {TARGET_RSS_MB} MB): {}",
            f.rss_mb,
            if f.rss_mb < TARGET_RSS_MB {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}
