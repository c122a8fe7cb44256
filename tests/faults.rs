//! Fault tests of the store as the `hotpapers` binary meets them (issue 12): another process
//! holding the SQLite write lock, and the binary killed with SIGKILL in the middle of an import.
//!
//! Every wait is on an event (a child's exit) or on a condition (of the store file, or of the
//! child's threads in `/proc`) polled every few milliseconds in a bounded loop; none sleeps a
//! fixed time hoping that something happened meanwhile.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use common::sqlite::{self, ImportCounts, WriteLock};
use hotpapers::arxiv::MailingCalendar;
use hotpapers::arxiv::calendar::default_holidays;
use hotpapers::store::SqliteStore;

/// The real API page of six papers (one version and one mailing each).
const FIXTURE: &str = "arxiv_api_query_current_format.xml";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn db(dir: &Path) -> PathBuf {
    // Where `common::hotpapers_command` puts the store.
    dir.join("test.db")
}

/// `hotpapers import FILES…` in `dir` with `[store] busy_timeout` = `busy`. No network is
/// needed: arXiv points at a closed port.
fn import(dir: &Path, busy: &str, files: &[&str]) -> tokio::process::Command {
    let mut cmd = common::hotpapers_command(dir, "http://127.0.0.1:9");
    cmd.env("HOTPAPERS_STORE__BUSY_TIMEOUT", busy)
        .arg("import")
        .args(files)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// What importing `files` (in order) must leave in an empty store, worked out from the feeds
/// themselves: one paper per distinct id, one version row per distinct (id, version), the
/// categories of each paper's newest version, and each paper in the one mailing its
/// submission falls in (the default calendar; every category is in scope by default).
fn expected(files: &[Vec<u8>]) -> (ImportCounts, BTreeMap<NaiveDate, i64>) {
    let calendar = MailingCalendar::new(default_holidays());
    let mut newest: BTreeMap<String, (u32, chrono::DateTime<Utc>, BTreeSet<String>)> =
        BTreeMap::new();
    let mut versions: BTreeSet<(String, u32)> = BTreeSet::new();
    for body in files {
        let feed = hotpapers::arxiv::atom::parse_feed(body).expect("feed parses");
        assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
        for p in feed.entries {
            let key = p.id.key().to_string();
            versions.insert((key.clone(), p.version));
            let categories: BTreeSet<String> = p.categories.iter().cloned().collect();
            if newest.get(&key).is_none_or(|(v, _, _)| p.version >= *v) {
                newest.insert(key, (p.version, p.published, categories));
            }
        }
    }
    let mut per_mailing: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (_, published, _) in newest.values() {
        *per_mailing
            .entry(calendar.mailing_for_submission(*published).date)
            .or_default() += 1;
    }
    let papers = i64::try_from(newest.len()).unwrap();
    let counts = ImportCounts {
        papers,
        versions: i64::try_from(versions.len()).unwrap(),
        categories: newest.values().map(|(_, _, c)| c.len() as i64).sum(),
        mailings: i64::try_from(per_mailing.len()).unwrap(),
        members: papers,
        listed: papers,
    };
    (counts, per_mailing)
}

/// Row counts of the store at `path` and its members per mailing, read on a fresh connection.
async fn stored(path: &Path) -> (ImportCounts, BTreeMap<NaiveDate, i64>) {
    let mut conn = sqlite::connect(path, Duration::from_secs(5))
        .await
        .expect("open the store");
    let counts = sqlite::import_counts(&mut conn).await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT mailing_date, count(*) FROM mailing_papers GROUP BY mailing_date \
         ORDER BY mailing_date",
    )
    .fetch_all(&mut conn)
    .await
    .expect("members per mailing");
    // Each mailing row says how many papers it lists: the same number.
    let listed: Vec<(String, i64)> =
        sqlx::query_as("SELECT date, paper_count FROM mailings ORDER BY date")
            .fetch_all(&mut conn)
            .await
            .expect("mailings");
    assert_eq!(listed, rows, "paper_count disagrees with the membership");
    let per_mailing = rows
        .into_iter()
        .map(|(d, n)| (NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap(), n))
        .collect();
    use sqlx::Connection as _;
    conn.close().await.unwrap();
    (counts, per_mailing)
}

/// Writes the fixture feed to `dir/feed.xml`, creates the store and returns what importing
/// the feed must store.
async fn fixture_feed_and_store(dir: &Path) -> (ImportCounts, BTreeMap<NaiveDate, i64>) {
    let body = std::fs::read(common::fixture(FIXTURE)).unwrap();
    std::fs::write(dir.join("feed.xml"), &body).unwrap();
    let want = expected(std::slice::from_ref(&body));
    create_store(&db(dir)).await;
    want
}

/// An empty store with the full schema at `path`, as a first run leaves it.
async fn create_store(path: &Path) {
    let store = SqliteStore::open(path).await.expect("create the store");
    store.close().await;
}

/// The single line an error must be: `error: `, then plain words.
fn assert_one_clear_error_line(err: &str) {
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line, got:\n{err}");
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    for internal in [
        "panicked",
        "backtrace",
        "RUST_BACKTRACE",
        "sqlx",
        "SqliteError",
        "error returned from database",
        "code:",
        "BEGIN",
        "IMMEDIATE",
        "INSERT",
    ] {
        assert!(!line.contains(internal), "{internal:?} in {line}");
    }
}

/// Another process holds the write lock for the whole run: `import` waits `[store]
/// busy_timeout` (200 ms here), then fails with one clear line and writes nothing. Once the lock
/// is gone, the same import stores exactly the feed, and a second run changes no count.
///
/// Fails if the wait is not the setting's (`App::open` passing a zero busy timeout fails the
/// lower bound; the 5 s default, or no bound, the upper one), if the error is a panic or sqlx's
/// raw text, or if the failed run left rows behind or a rerun doubles them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_fails_the_import_in_one_line_and_a_rerun_stores_it_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (want, want_per_mailing) = fixture_feed_and_store(dir.path()).await;

    let lock = WriteLock::take(&db(dir.path())).await;
    let started = Instant::now();
    let out = import(dir.path(), "200ms", &["feed.xml"])
        .output()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing reported as imported");
    let err = stderr(&out);
    assert_one_clear_error_line(&err);
    assert!(
        err.contains("busy") && err.contains("another process"),
        "says why: {err}"
    );
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(4),
        "waited {waited:?} for a 200 ms busy_timeout"
    );
    // Reads go on under WAL while the lock is held: the failed run wrote nothing.
    assert_eq!(stored(&db(dir.path())).await.0, ImportCounts::default());
    lock.release().await;

    for run in ["first", "second"] {
        let out = import(dir.path(), "200ms", &["feed.xml"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{run} rerun: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with("imported 6 papers from 1 file;"),
            "{}",
            stdout(&out)
        );
        let (counts, per_mailing) = stored(&db(dir.path())).await;
        assert_eq!(counts, want, "after the {run} rerun");
        assert_eq!(per_mailing, want_per_mailing, "after the {run} rerun");
    }
}

/// Linux's syscall numbers of `nanosleep` and `clock_nanosleep`. In hotpapers' process only
/// SQLite's busy handler sleeps that way (it waits for a lock with `usleep`); tokio's timers and
/// sqlx's idle worker threads wait in `epoll_wait` and `futex`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const SLEEP_SYSCALLS: [&str; 2] = ["35", "230"];
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
const SLEEP_SYSCALLS: [&str; 2] = ["101", "115"];

/// Whether a thread of process `pid` is in a sleep syscall now (`/proc/PID/task/TID/syscall`
/// starts with the number of the syscall a blocked thread is in).
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn a_thread_sleeps(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("syscall")).is_ok_and(|s| {
            s.split_whitespace()
                .next()
                .is_some_and(|n| SLEEP_SYSCALLS.contains(&n))
        })
    })
}

/// The lock is held when `import` starts and released while the import waits for it
/// (`busy_timeout` 60 s): the import then succeeds with exact counts.
///
/// The child shows that it waits: a write meeting a held lock runs SQLite's busy handler, which
/// sleeps between attempts, and nothing else in the process sleeps in `nanosleep` (see
/// [`SLEEP_SYSCALLS`]). The test releases the lock once one of the child's threads is seen in
/// that sleep, so the release always comes while the child waits. Linux only (`/proc`).
///
/// Fails if a write that meets the held lock fails at once instead of waiting: the child exits
/// with an error before it is seen asleep (with `App::open` passing a zero busy timeout instead
/// of the setting, 20 runs out of 20 failed; with 1 ms, 16 of 20, the others catching the one
/// short sleep), or if the waiting write does not go on once the lock is free.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_waiting_for_the_write_lock_succeeds_once_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let (want, want_per_mailing) = fixture_feed_and_store(dir.path()).await;

    let lock = WriteLock::take(&db(dir.path())).await;
    let mut child = import(dir.path(), "60s", &["feed.xml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().expect("the child's pid");
    let deadline = Deadline::after(Duration::from_secs(20));
    while !a_thread_sleeps(pid) {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "the import ended instead of waiting for the lock: {}",
                stderr(&out)
            );
        }
        deadline.pause("the import to wait for the lock").await;
    }
    lock.release().await;

    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the import did not finish after the lock was released")
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("imported 6 papers from 1 file;"),
        "{}",
        stdout(&out)
    );
    let (counts, per_mailing) = stored(&db(dir.path())).await;
    assert_eq!(counts, want);
    assert_eq!(per_mailing, want_per_mailing);
}

// ---------------------------------------------------------------------------------------------
// kill -9 in the middle of an import.

/// Files of the generated import.
const FILES: usize = 8;
/// New papers per file.
const PER_FILE: usize = 400;
/// Papers of the previous file listed again per file, one version newer with one more
/// category (a later file replacing what an earlier one stored).
const REPLACED: usize = 40;

const CATEGORIES: &[&str] = &[
    "cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "math.OC", "quant-ph", "hep-th",
];

/// Paper `n` at `version`: submitted every 7 minutes from Mon 2025-03-03 (so a few dozen
/// mailings), 1–3 categories, three authors, a 600-character abstract.
fn generated_entry(n: usize, version: u32) -> common::Entry {
    let start = Utc.with_ymd_and_hms(2025, 3, 3, 12, 0, 0).unwrap();
    let mut categories: Vec<String> = (0..1 + n % 3)
        .map(|k| CATEGORIES[(n + k * 3) % CATEGORIES.len()].to_string())
        .collect();
    if version > 1 {
        categories.push("cs.NE".to_string());
    }
    let abstract_text = format!("We study problem {n} and show that ")
        + &"the proposed method improves on strong baselines; ".repeat(12);
    common::Entry {
        id: format!("2503.{:05}", n + 1),
        version,
        title: format!("On generated problem {n}: a study of\n  faults during imports"),
        authors: vec![
            "Ada Lovelace".to_string(),
            format!("Author {}", n % 97),
            "María José García-López".to_string(),
        ],
        categories,
        abstract_text,
        published: start + chrono::Duration::minutes(7 * n as i64),
    }
}

/// The generated import: file `f` lists papers `f * PER_FILE ..` and replaces `REPLACED` of
/// file `f - 1`'s.
fn generated_files() -> Vec<Vec<u8>> {
    (0..FILES)
        .map(|f| {
            let mut entries: Vec<common::Entry> = (f * PER_FILE..(f + 1) * PER_FILE)
                .map(|n| generated_entry(n, 1))
                .collect();
            if f > 0 {
                entries.extend(
                    ((f - 1) * PER_FILE..)
                        .step_by(PER_FILE / REPLACED)
                        .take(REPLACED)
                        .map(|n| generated_entry(n, 2)),
                );
            }
            common::atom_feed(&entries, entries.len(), 0).into_bytes()
        })
        .collect()
}

/// A bound on a polling loop: each check is a few milliseconds apart, and the loop fails
/// naming what it waited for once `limit` has passed.
struct Deadline(Instant);

impl Deadline {
    fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now() + limit)
    }

    async fn pause(&self, waiting_for: &str) {
        assert!(
            Instant::now() < self.0,
            "timed out waiting for {waiting_for}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs `import names…` in `dir` and kills it with SIGKILL once the store holds more than
/// `papers` papers and the process still runs; then checks the file it leaves (integrity,
/// foreign keys) and returns its counts.
#[cfg(unix)]
async fn import_killed_once_papers_exceed(dir: &Path, names: &[&str], papers: i64) -> ImportCounts {
    use sqlx::Connection as _;
    use std::os::unix::process::ExitStatusExt as _;

    let path = db(dir);
    let mut child = import(dir, "5s", names)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The journal is WAL once the WAL file exists; only then does a reader stay out of the
    // way of the child's switch to WAL on a new file.
    let deadline = Deadline::after(Duration::from_secs(20));
    let wal = dir.join("test.db-wal");
    while !wal.exists() {
        deadline.pause("the store to be created").await;
    }
    let mut reader = None;
    loop {
        if reader.is_none() {
            reader = sqlite::connect(&path, Duration::from_secs(1)).await.ok();
        }
        if let Some(conn) = reader.as_mut() {
            // An error until the migrations have created the table.
            let stored: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM papers")
                .fetch_one(conn)
                .await;
            if stored.is_ok_and(|n| n > papers) {
                break;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it stored more than {papers} papers"
        );
        deadline.pause("papers to be committed").await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed: make the generated feed larger"
    );
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
    if let Some(conn) = reader.take() {
        conn.close().await.unwrap();
    }

    // A fresh connection recovers the WAL the killed process left.
    let mut conn = sqlite::connect(&path, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sqlite::integrity_check(&mut conn).await, ["ok"]);
    assert_eq!(sqlite::foreign_key_violations(&mut conn).await, 0);
    let counts = sqlite::import_counts(&mut conn).await;
    conn.close().await.unwrap();
    counts
}

/// `import` of eight files is killed with SIGKILL once some of its papers are committed and
/// before it is done; rerun, it is killed again once it has committed papers the first run had
/// not. Each time the file passes `PRAGMA integrity_check` and `foreign_key_check`, and a third
/// run of the same import completes with exact counts: one row per distinct paper, per (paper,
/// version), per category of each paper's newest version, and each paper in exactly the one
/// mailing it belongs to, with every mailing's `paper_count` equal to its membership.
///
/// Relies only on the binary's behaviour and the store's contents, not on how `import` batches
/// its writes: a kill's trigger is "more papers are stored, the process still runs".
///
/// Fails if a crash can damage the file (a write outside a transaction torn by the kill), if a
/// killed run leaves what a rerun does not repair (a paper stored without its categories or
/// versions in another transaction, which the rerun then finds unchanged and skips: with
/// `upsert_papers` committing after the papers' rows, 10 runs out of 10 failed; a mailing
/// recorded from a partial membership and never completed; a marker that makes the rerun skip
/// files), or if the rerun doubles anything. The kills land between two of the killed run's
/// commits, so a crash inside a commit is not reached deterministically.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_way_leaves_a_sound_store_and_a_rerun_completes_it_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let files = generated_files();
    let mut names = Vec::new();
    for (i, body) in files.iter().enumerate() {
        let name = format!("part-{i}.xml");
        std::fs::write(dir.path().join(&name), body).unwrap();
        names.push(name);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (want, want_per_mailing) = expected(&files);
    assert_eq!(want.papers, (FILES * PER_FILE) as i64);
    let path = db(dir.path());

    // The first run is killed once its first papers are committed; the second, which starts
    // on the store the first left, once it has committed papers the first had not.
    let first = import_killed_once_papers_exceed(dir.path(), &names, 0).await;
    let second = import_killed_once_papers_exceed(dir.path(), &names, first.papers).await;
    for partial in [first, second] {
        assert!(partial.papers <= want.papers, "{partial:?}");
        assert!(partial.versions <= want.versions, "{partial:?}");
        assert!(partial.members <= want.members, "{partial:?}");
    }

    let out = import(dir.path(), "5s", &names).output().await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!(
            "imported {} papers from {FILES} files;",
            want.papers
        )),
        "{}",
        stdout(&out)
    );
    let (counts, per_mailing) = stored(&path).await;
    assert_eq!(counts, want);
    assert_eq!(per_mailing, want_per_mailing);
    let mut conn = sqlite::connect(&path, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(sqlite::integrity_check(&mut conn).await, ["ok"]);
    assert_eq!(
        sqlite::count(
            &mut conn,
            "SELECT count(*) FROM (SELECT paper_id FROM mailing_papers GROUP BY paper_id \
             HAVING count(*) > 1)"
        )
        .await,
        0,
        "a paper in two mailings"
    );
}
