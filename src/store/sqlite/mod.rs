//! The embedded SQLite backend of the store traits.
//!
//! One file holds everything (papers, mailings, attention snapshots, Discord state), so a
//! self-hosted bot needs no database server. The schema lives in `migrations/*.sql`, compiled
//! into the binary with `sqlx::migrate!` and applied on [`SqliteStore::open`].
//!
//! This module opens the database (pool, WAL, migrations) and holds the helpers every concern
//! shares (timestamps, dates, ids, error text); each trait is implemented in its own file:
//! `papers.rs` ([`PaperStore`](super::PaperStore)), `mailings.rs`, `signals.rs`, `bluesky.rs`,
//! `subscriptions.rs`, `post_log.rs`, `cursors.rs` (the `kv` table and its key scheme) and
//! `summaries.rs` (the LLM summary cache and call counter), `mentions.rs` (the posts that shared
//! a paper), each with its unit tests.
//!
//! Storage conventions (later modules writing through [`SqliteStore::pool`] must follow them):
//! timestamps are RFC 3339 UTC text written by [`encode_timestamp`] (fixed width, so text order
//! is time order), dates are `YYYY-MM-DD` ([`encode_date`]), lists and records are JSON text.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction: it takes the write lock up front, so a
//! concurrent writer (another process on the same file) waits for the busy timeout instead of
//! failing half-way with a lock upgrade error.

mod bluesky;
mod cursors;
mod mailings;
mod mentions;
mod papers;
mod post_log;
mod reader;
mod signals;
mod subscriptions;
mod summaries;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use super::StoreError;
use crate::arxiv::ArxivId;
use reader::read_error;

/// The schema migrations in `migrations/`, embedded at compile time so the binary carries them.
///
/// Cargo notices edits to the embedded files but not a *new* file in `migrations/`; after
/// adding one, touch this file (or add a `build.rs` with `cargo:rerun-if-changed=migrations`).
static MIGRATOR: Migrator = sqlx::migrate!();

/// How often opening retries the switch to WAL while another process holds the lock it needs
/// (20 ms apart: at most about 2 s, and only when two processes open a new file at once).
const WAL_SWITCH_ATTEMPTS: u32 = 100;

/// How long a statement waits for another connection's lock before giving up, unless the
/// caller says otherwise (`[store] busy_timeout`). Long enough to ride out a concurrent
/// ingest's commit, short enough that a stuck process is reported.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of a file-backed pool. SQLite serializes writers anyway; a few connections let
/// reads (commands, rendering) proceed while an ingest transaction is open (WAL mode).
const MAX_FILE_CONNECTIONS: u32 = 4;

/// WAL pages after which a commit of a sqlx connection checkpoints them into the database
/// file (SQLite's default is 1,000, 4 MB; the rusqlite writer checkpoints in the background
/// instead, see `reader.rs`). When imports committed through sqlx, at 1,000 pages nearly every
/// commit also checkpointed (an fsync and the pages written twice); 8,000 pages (32 MB of WAL
/// on disk at most between checkpoints) makes checkpoints rare.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8000;

/// Bytes per page of a new database; an existing file keeps the size it was created with (a
/// change takes a `VACUUM` outside WAL mode). SQLite's default is 4,096. A paper's row is
/// ~3 KB (the abstract, JSON authors and links), so at 4 KB most pages held one row and a
/// bulk write was mostly page splits and WAL frames (two `pwrite`s each). Importing 10,000
/// papers, four runs each side by side: 4,096 took 0.74–0.99 s wall (0.26–0.44 s in the
/// kernel), 8,192 0.68–0.82 s, 16,384 0.66–0.69 s (0.17–0.24 s in the kernel). Page caches
/// are sized in KiB, so memory is the same.
const PAGE_SIZE: u32 = 16_384;

/// The page cache of the writer connection, in KiB (readers keep SQLite's 2,000).
///
/// Every write transaction ([`SqliteStore::begin_write`]) runs on one dedicated connection, so
/// its cache stays valid from one transaction to the next: a pool hands out its connections in
/// turn, and a connection drops its cache whenever another one has written since. A batch of
/// `import` (500 papers, ~2.5 MB of rows, the FTS segment, the indexes) overflows 2 MiB, and
/// the overflow is written to the WAL mid-transaction and read back. Importing 10,000 papers,
/// the pool made 47,000 `pread`s and 104,000 `pwrite`s; one writer with 2,000 KiB 42,000 and
/// 104,000, with 4,000 KiB 22,000 and 86,000, with 8,000 KiB 16,000 and 79,000. 4,000 KiB
/// costs ~2 MB of peak RSS over 2,000 (8,000 costs ~6 MB; `import` must stay under 100 MB), and
/// one writer instead of up to four connections filling their caches saves more than that.
const WRITER_CACHE_KIB: u32 = 4000;

/// Ids bound per `IN (...)` list. SQLite's default limit on bound variables is 32,766 (999 in
/// builds older than 3.32); 500 stays far below either while keeping round trips few.
const ID_CHUNK: usize = 500;

/// The `SqliteStore` backend: one SQLite database through a pool of connections, one more
/// connection for write transactions (see `WRITER_CACHE_KIB`), and read connections used on
/// the calling thread (`reader.rs`).
///
/// Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads, and writes of a single statement outside [`SqliteStore::begin_write`].
    pool: SqlitePool,
    /// At most one connection, for [`SqliteStore::begin_write`]; the same pool as `pool` for
    /// an in-memory database.
    writer: SqlitePool,
    /// The reads of commands and rendering, on the calling thread.
    readers: Arc<reader::Readers>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its parent directory) when missing, and
    /// brings its schema up to date.
    ///
    /// The connection settings are those a long-running bot sharing the file with CLI runs
    /// needs: WAL journal (readers never block the writer), foreign keys enforced, a 5 s busy
    /// timeout, and `synchronous = NORMAL` (durable across application crashes; WAL keeps the
    /// file consistent across power loss).
    ///
    /// Fails with [`StoreError::Open`] when the file is not a SQLite database or cannot be
    /// read, and with [`StoreError::Migrate`] when it was written by a newer hotpapers or
    /// belongs to another application. None of these files is modified.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_busy_timeout(path, BUSY_TIMEOUT).await
    }

    /// [`SqliteStore::open`] with the busy timeout `busy` (`[store] busy_timeout`; tests use a
    /// short one to observe locking without waiting 5 s).
    pub async fn open_with_busy_timeout(path: &Path, busy: Duration) -> Result<Self, StoreError> {
        let label = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::Open {
                    path: label.clone(),
                    message: format!(
                        "cannot create directory {}: {}",
                        parent.display(),
                        one_line(&e.to_string())
                    ),
                })?;
        }
        // No `journal_mode` here: switching a file to WAL rewrites its header, and a file that
        // turns out not to be ours must be left as it was. `init` switches after the check;
        // the mode is persistent, so every later connection opens in WAL.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(busy)
            .synchronous(SqliteSynchronous::Normal)
            .page_size(PAGE_SIZE)
            // A connection setting only: nothing is written to the file. (Readers keep SQLite's
            // 2 MiB page cache; the writer connection has a larger one, see `WRITER_CACHE_KIB`.)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_FILE_CONNECTIONS)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Open {
                path: label.clone(),
                message: describe(&e),
            })?;
        // Opened on the first write, after `init` has checked the file and migrated it.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options.pragma("cache_size", format!("-{WRITER_CACHE_KIB}")));
        let store = SqliteStore {
            pool,
            writer,
            readers: Arc::new(reader::Readers::new(
                reader::Target::File(path.display().to_string()),
                busy,
            )),
        };
        store.init(&label, true).await?;
        Ok(store)
    }

    /// A fresh private in-memory database with the full schema, for tests.
    ///
    /// It is a `memdb` database under a name of its own, so the read connections share it;
    /// it lives while a connection to it is open. The pool has exactly one connection, never
    /// recycled, so the database outlives every read.
    pub async fn in_memory() -> Result<Self, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let label = ":memory:";
        let open_error = |e: sqlx::Error| StoreError::Open {
            path: label.into(),
            message: describe(&e),
        };
        let name = format!(
            "/hotpapers-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let options = SqliteConnectOptions::new()
            .filename(&name)
            .vfs("memdb")
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let store = SqliteStore {
            writer: pool.clone(),
            pool,
            readers: Arc::new(reader::Readers::new(
                reader::Target::Memory(name),
                BUSY_TIMEOUT,
            )),
        };
        store.init(label, false).await?;
        Ok(store)
    }

    /// The connection pool, for modules that own tables of their own in this database
    /// (subscriptions, post log, digests, kv). They must follow the conventions in the module
    /// docs and use [`encode_timestamp`] / [`decode_timestamp`].
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs the read `f` on a read connection, on this thread (see `reader.rs`). One
    /// statement sees one snapshot of the database by itself.
    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.readers.read(f)
    }

    /// [`SqliteStore::read`] inside a read transaction, so that all of `f`'s statements (the
    /// chunks of a long id list, a count and its page) see the same snapshot.
    fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.readers.read(|conn| {
            let tx = conn.unchecked_transaction().map_err(read_error)?;
            let out = f(&tx)?;
            tx.commit().map_err(read_error)?;
            Ok(out)
        })
    }

    /// Runs the write `f` in one `BEGIN IMMEDIATE` transaction on the rusqlite read-write
    /// connection, on a blocking thread: one hand-off for the whole batch instead of two per
    /// statement (see `reader.rs`).
    async fn write_batch<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.write(f))
            .await
            .map_err(|e| StoreError::Query(format!("the write task failed: {e}")))?
    }

    /// Closes every connection, waiting for running queries; WAL content is checkpointed into
    /// the main file when the last connection closes. Call it on shutdown.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Checks that the database is ours (or empty), switches it to WAL when `wal`, and applies
    /// pending migrations.
    ///
    /// The first read is where SQLite notices a file that is not a database. A database with
    /// tables but no migration bookkeeping belongs to another application and is refused
    /// before anything (even the bookkeeping table or the journal mode) is written to it.
    async fn init(&self, label: &str, wal: bool) -> Result<(), StoreError> {
        let open_error = |e: sqlx::Error| StoreError::Open {
            path: label.to_string(),
            message: describe(&e),
        };
        let (tables, bookkeeping): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(name = '_sqlx_migrations'), 0) FROM sqlite_schema \
             WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(open_error)?;
        if tables > 0 && bookkeeping == 0 {
            return Err(StoreError::Migrate(format!(
                "the file is another application's SQLite database ({tables} tables, none of \
                 them hotpapers'); use another path"
            )));
        }
        if wal {
            // Switching needs a moment of exclusive access; when another process opening the
            // same new file holds it, that process is switching too: read the result instead.
            // Its switch may not be visible yet, so retry briefly (only this race waits).
            let mut mode = String::new();
            for attempt in 0..WAL_SWITCH_ATTEMPTS {
                mode = match sqlx::query_scalar("PRAGMA journal_mode = WAL")
                    .fetch_one(&self.pool)
                    .await
                {
                    Ok(mode) => mode,
                    Err(_) => sqlx::query_scalar("PRAGMA journal_mode")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(open_error)?,
                };
                if mode.eq_ignore_ascii_case("wal") || attempt + 1 == WAL_SWITCH_ATTEMPTS {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Open {
                    path: label.to_string(),
                    message: format!(
                        "cannot switch the journal to WAL (it stays '{mode}'); is the file on a \
                         network file system?"
                    ),
                });
            }
        }
        // Two processes opening a new file at once both see "nothing applied" and race to
        // apply the migrations; the loser fails on the one the winner just committed ("table
        // ... already exists"). Running the migrator again sees the winner's bookkeeping and
        // goes on from there. Each failed attempt means the winner committed one more
        // migration, so one attempt per migration (plus one) always suffices; on a genuinely
        // broken database every retry fails the same way and the last error is reported.
        let attempts = MIGRATOR.iter().count() + 1;
        let mut tries = 0;
        loop {
            tries += 1;
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(MigrateError::Execute(_) | MigrateError::ExecuteMigration(..))
                    if tries < attempts => {}
                Err(e) => return Err(migrate_error(e)),
            }
        }
    }

    /// Begins a write transaction holding the write lock from the start (see module docs), on
    /// the writer connection: writes of this process queue for it rather than for SQLite's lock.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error)
    }
}

/// The rows of `sql` over `keys`, `chunk` keys per statement, each read by `read`, in
/// statement order: `sql` has one `{}` where the `IN (…)` list's placeholders go (only they
/// are interpolated; the keys are bound). For reads on a rusqlite connection inside a write.
fn query_in<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    keys: &[&str],
    chunk: usize,
    mut read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::with_capacity(keys.len());
    for part in keys.chunks(chunk) {
        let sql = sql.replacen("{}", &placeholders(part.len()), 1);
        let mut q = conn.prepare_cached(&sql).map_err(read_error)?;
        let rows = q
            .query_map(rusqlite::params_from_iter(part), &mut read)
            .map_err(read_error)?;
        for row in rows {
            out.push(row.map_err(read_error)?);
        }
    }
    Ok(out)
}

/// `?, ?, ?` with `n` placeholders.
fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// `(?, ?, ?), (?, ?, ?), …`: `rows` tuples of `width` placeholders.
///
/// Anonymous `?`, never `?NNN`: sqlx looks up every parameter's name before binding it, and
/// SQLite finds a numbered name by walking a list of all of them, so numbered placeholders make
/// binding a multi-row statement quadratic (40% of an import's CPU at 6,500 per statement).
pub(super) fn tuples(rows: usize, width: usize) -> String {
    let one = format!("({})", placeholders(width));
    let mut s = String::with_capacity(rows * (one.len() + 2));
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push_str(&one);
    }
    s
}

/// Why a stored timestamp or date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not an RFC 3339 timestamp: {reason}")]
pub struct TimestampError {
    /// The stored text.
    pub value: String,
    /// chrono's explanation.
    pub reason: String,
}

/// The stored form of an instant: RFC 3339 in UTC with exactly nine fractional digits, e.g.
/// `2021-07-01T18:00:00.000000000Z`.
///
/// Fixed width makes text order equal time order (so SQL can `MAX()` and range-filter the
/// column) and nanoseconds make the round trip exact (so re-storing a value compares equal).
/// Years outside 0000–9999 have no such form and are rejected.
pub fn encode_timestamp(t: &DateTime<Utc>) -> Result<String, StoreError> {
    if !(0..=9999).contains(&t.year()) {
        return Err(StoreError::Query(format!(
            "timestamp {t} is outside the years 0000-9999 the store can hold"
        )));
    }
    Ok(t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
}

/// Reads a timestamp written by [`encode_timestamp`] (any RFC 3339 text is accepted).
pub fn decode_timestamp(s: &str) -> Result<DateTime<Utc>, TimestampError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| TimestampError {
            value: s.to_string(),
            reason: e.to_string(),
        })
}

/// The stored form of a date, `YYYY-MM-DD` (sortable as text). Years outside 0000–9999 are
/// rejected for the same reason as in [`encode_timestamp`].
pub fn encode_date(d: NaiveDate) -> Result<String, StoreError> {
    if !(0..=9999).contains(&d.year()) {
        return Err(StoreError::Query(format!(
            "date {d} is outside the years 0000-9999 the store can hold"
        )));
    }
    Ok(d.format("%Y-%m-%d").to_string())
}

/// The id stored as `key`; an unparsable one is [`StoreError::Corrupt`].
fn decode_id(key: &str) -> Result<ArxivId, StoreError> {
    ArxivId::parse(key).map_err(|e| corrupt(format!("paper id '{key}'"), &e.to_string()))
}

/// [`StoreError::Corrupt`] for `what`, with `message` on one line.
fn corrupt(what: String, message: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        message: one_line(message),
    }
}

/// [`StoreError::Query`] for a failed statement.
fn query_error(e: sqlx::Error) -> StoreError {
    StoreError::Query(describe(&e))
}

/// One-line text for a migration failure, saying what the user can do about it.
fn migrate_error(e: MigrateError) -> StoreError {
    let message = match e {
        MigrateError::VersionMissing(v) => format!(
            "the database has migration {v}, which this hotpapers does not know; it was written \
             by a newer hotpapers: upgrade, or use another database file"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} in the database differs from this hotpapers' migration {v}; the file \
             was written by an incompatible build"
        ),
        MigrateError::Dirty(v) => {
            format!("migration {v} was left partially applied; restore the database from a backup")
        }
        MigrateError::ExecuteMigration(e, v) => {
            let detail = describe(&e);
            if detail.contains("already exists") {
                format!("migration {v} failed: {detail} (is this another application's database?)")
            } else {
                format!("migration {v} failed: {detail}")
            }
        }
        MigrateError::Execute(e) => describe(&e),
        other => one_line(&other.to_string()),
    };
    StoreError::Migrate(message)
}

/// A one-line, user-facing description of an sqlx error: SQLite's result code is translated
/// into what it means for the user (locked, not a database, ...).
fn describe(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = e else {
        return one_line(&e.to_string());
    };
    let code: Option<i32> = db.code().and_then(|c| c.parse().ok());
    describe_code(code, one_line(db.message()))
}

/// What SQLite's result `code` (extended or primary) means for the user, before `message`.
fn describe_code(code: Option<i32>, message: String) -> String {
    // Extended result codes carry the primary code in their low byte.
    match code.map(|c| c & 0xff) {
        Some(5) => format!(
            "the database is busy: another process holds its lock and did not release it in time \
             ({message})"
        ),
        Some(6) => format!("a table is locked by another connection ({message})"),
        Some(8) => format!("the database is read-only ({message})"),
        Some(10) => format!("disk I/O error ({message})"),
        Some(11) => format!("the database file is corrupt ({message})"),
        Some(13) => format!("the disk is full ({message})"),
        Some(14) => {
            format!("cannot open the database file: missing directory or no permission ({message})")
        }
        Some(26) => {
            format!("the file is not a SQLite database (or is encrypted or damaged) ({message})")
        }
        _ => message,
    }
}

/// `s` with line breaks turned into spaces, so every error stays one line.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MailingStore, Signal, SignalStore};
    use chrono::TimeZone;

    /// A new store gets [`PAGE_SIZE`] pages; a store created with SQLite's default keeps its
    /// 4 KB pages, opens, migrates and takes writes as before.
    #[tokio::test]
    async fn new_stores_get_large_pages_and_old_ones_keep_theirs() {
        use crate::store::PaperStore;
        let page_size = |path: &Path| {
            let c = rusqlite::Connection::open(path).unwrap();
            c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
                .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.sqlite");
        drop(SqliteStore::open(&new).await.unwrap());
        assert_eq!(page_size(&new), i64::from(PAGE_SIZE));

        let old = dir.path().join("old.sqlite");
        {
            let c = rusqlite::Connection::open(&old).unwrap();
            // Switching to WAL writes the header, which fixes the page size.
            c.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
                .unwrap();
        }
        let store = SqliteStore::open(&old).await.unwrap();
        let paper = crate::arxiv::paper::Paper::sample("2107.00641", &["cs.LG"]);
        store
            .upsert_papers(std::slice::from_ref(&paper))
            .await
            .unwrap();
        assert_eq!(store.paper(&paper.id).await.unwrap(), Some(paper));
        assert_eq!(page_size(&old), 4096);
    }

    #[tokio::test]
    async fn sqlite_build_supports_the_schema() {
        let store = SqliteStore::in_memory().await.expect("in-memory store");
        let fts5: i64 = sqlx::query_scalar("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
            .fetch_one(store.pool())
            .await
            .expect("query");
        assert_eq!(fts5, 1, "bundled SQLite lacks FTS5");
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(store.pool())
            .await
            .expect("query");
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        // json_each/json_valid are built in from 3.38.
        assert!((major, minor) >= (3, 38), "SQLite {version} is too old");
    }

    #[test]
    fn timestamps_are_fixed_width_sortable_and_exact() {
        let a = Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 0).unwrap();
        let b = a + chrono::Duration::nanoseconds(1);
        let c = a + chrono::Duration::milliseconds(500);
        let ea = encode_timestamp(&a).unwrap();
        assert_eq!(ea, "2021-07-01T18:00:00.000000000Z");
        let (eb, ec) = (encode_timestamp(&b).unwrap(), encode_timestamp(&c).unwrap());
        assert!(ea < eb && eb < ec);
        assert_eq!(ea.len(), eb.len());
        for t in [a, b, c] {
            assert_eq!(decode_timestamp(&encode_timestamp(&t).unwrap()).unwrap(), t);
        }
        let year_0 = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            decode_timestamp(&encode_timestamp(&year_0).unwrap()).unwrap(),
            year_0
        );
        // Offsets are accepted on read and normalized to UTC.
        assert_eq!(decode_timestamp("2021-07-01T14:00:00-04:00").unwrap(), a);
    }

    #[test]
    fn out_of_range_years_and_bad_text_are_errors() {
        let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
        assert!(matches!(encode_timestamp(&far), Err(StoreError::Query(_))));
        let bc = Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap();
        assert!(encode_timestamp(&bc).is_err());
        let d = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert!(encode_date(d).is_err());
        assert_eq!(
            encode_date(NaiveDate::from_ymd_opt(2021, 7, 2).unwrap()).unwrap(),
            "2021-07-02"
        );
        for bad in ["", "yesterday", "2021-07-01", "2021-13-01T00:00:00Z"] {
            let e = decode_timestamp(bad).unwrap_err();
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn one_line_flattens_messages() {
        assert_eq!(one_line("a\nb\r\n  c  \n"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn placeholders_lists() {
        assert_eq!(placeholders(0), "");
        assert_eq!(placeholders(1), "?");
        assert_eq!(placeholders(3), "?, ?, ?");
    }

    #[tokio::test]
    async fn a_held_write_lock_is_a_clean_error() {
        use sqlx::Connection;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hp.sqlite");
        let store = SqliteStore::open_with_busy_timeout(&path, Duration::from_millis(50))
            .await
            .unwrap();

        // Another "process" takes the write lock and keeps it.
        let mut other =
            sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
                .await
                .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();

        let err = store
            .record_signals(&[Signal {
                paper: ArxivId::parse("2107.00641").unwrap(),
                source: "hn".into(),
                metric: "points".into(),
                value: 1.0,
                observed_at: Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap(),
            }])
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Query(_)), "{msg}");
        assert!(msg.contains("busy"), "{msg}");
        assert!(!msg.contains('\n'));
        // Reads still work under WAL while the writer holds its lock.
        assert!(store.latest_mailing().await.unwrap().is_none());

        // Opening a second store while the lock is held also works (no schema change needed).
        let second = SqliteStore::open_with_busy_timeout(&path, Duration::from_millis(50)).await;
        assert!(second.is_ok(), "{second:?}");

        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
        store
            .record_signals(&[Signal {
                paper: ArxivId::parse("2107.00641").unwrap(),
                source: "hn".into(),
                metric: "points".into(),
                value: 1.0,
                observed_at: Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap(),
            }])
            .await
            .unwrap();
    }
}
