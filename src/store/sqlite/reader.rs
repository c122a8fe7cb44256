//! Reads on the calling thread: a small stack of rusqlite connections to the store's file.
//!
//! sqlx's SQLite driver runs each statement on a worker thread of its connection and wakes
//! the async side when it is done: two thread hand-offs per statement. On a small idle VM a
//! sleeping thread takes tens of microseconds to wake, and answering `/hot` takes about ten
//! statements, so the hand-offs, not SQLite, were most of its time. A read here runs on the
//! thread that asks for it, on a connection taken from the stack and put back afterwards;
//! its statements stay prepared in the connection's cache.
//!
//! Writes stay on sqlx's pool: SQLite has one writer at a time anyway, and they take the write
//! lock up front (`BEGIN IMMEDIATE`). Both drivers link the same SQLite (libsqlite3-sys,
//! bundled once), so in WAL mode a read here sees every commit the pool has made.
//!
//! The Bluesky listener's batches are written here too ([`Readers::write`], on a blocking
//! thread): a batch is hundreds of small statements, and through sqlx each was a hand-off to
//! its worker thread and back (54,000 context switches and more kernel than user time for a
//! 200,000-event replay).
//!
//! A read blocks the calling task's thread while it runs. Every read of the store is bounded
//! (an indexed lookup, one mailing's members, a search ranking at most 5,000 matches) and
//! takes a few milliseconds at most on a year of papers, less than handing it to another
//! thread would cost.

use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{WAL_AUTOCHECKPOINT_PAGES, WRITER_CACHE_KIB, describe_code, one_line};
use crate::store::StoreError;

/// Idle connections kept for the next read. Reads run on the runtime's worker threads (two
/// on the machines hotpapers targets), so a few cover every concurrent read; a read that
/// finds none idle opens another, which is dropped afterwards if the stack is full. Each
/// connection has its own page cache, so more would cost memory for nothing.
const MAX_IDLE: usize = 4;

/// Prepared statements kept per connection. A statement over an `IN (…)` list has one text
/// per list length, so a few dozen cover the commands' reads with room to spare.
const STATEMENT_CACHE: usize = 64;

/// Where the read connections open the database.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// A database file, opened read-only (it exists: the pool created and migrated it).
    File(String),
    /// A database in the process's memory, shared by name through SQLite's `memdb` VFS (a
    /// name starting with `/`), so the pool's connection and the readers see the same one.
    Memory(String),
}

/// The read connections of one store (see the module docs).
#[derive(Debug)]
pub(super) struct Readers {
    target: Target,
    busy: Duration,
    idle: Mutex<Vec<Connection>>,
    /// The read-write connection of [`Readers::write`], opened on first use; the lock is held
    /// for the whole write (SQLite has one writer at a time anyway).
    writer: Mutex<Option<Connection>>,
}

impl Readers {
    /// Readers of `target` that wait up to `busy` for a lock (in WAL mode, readers only wait
    /// while a checkpoint resets the log).
    pub(super) fn new(target: Target, busy: Duration) -> Readers {
        Readers {
            target,
            busy,
            idle: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
        }
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the read-write connection, on this
    /// thread (call it from a blocking task: it may wait up to the busy timeout for another
    /// process's lock). `f`'s error rolls everything back. The connection has the writer's
    /// settings: foreign keys enforced, `synchronous = NORMAL`, the same autocheckpoint and
    /// page cache (`WRITER_CACHE_KIB`).
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => self.open_writer()?,
        };
        let out = (|| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(read_error)?;
            let out = f(&tx)?;
            tx.commit().map_err(read_error)?;
            Ok(out)
        })();
        if conn.is_autocommit() {
            *slot = Some(conn);
        }
        out
    }

    fn open_writer(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = self.open_with(flags)?;
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
             PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}; \
             PRAGMA cache_size = -{WRITER_CACHE_KIB};"
        ))
        .map_err(read_error)?;
        Ok(conn)
    }

    /// Runs `f` on a read connection, on this thread.
    ///
    /// The connection is read-only (`SQLITE_OPEN_READONLY`), so a read can never write. A
    /// connection whose read failed is not reused: whatever state the error left is dropped
    /// with it.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match self.take() {
            Some(conn) => conn,
            None => self.open()?,
        };
        let out = f(&conn);
        if out.is_ok() && conn.is_autocommit() {
            self.put(conn);
        }
        out
    }

    fn take(&self) -> Option<Connection> {
        // A poisoned lock only means another reader panicked while pushing or popping: the
        // Vec itself is intact.
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.pop()
    }

    fn put(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        self.open_with(
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
    }

    fn open_with(&self, flags: OpenFlags) -> Result<Connection, StoreError> {
        let (opened, label) = match &self.target {
            Target::File(path) => (Connection::open_with_flags(path, flags), path.as_str()),
            Target::Memory(name) => (
                Connection::open_with_flags_and_vfs(name, flags, "memdb"),
                ":memory:",
            ),
        };
        let conn = opened.map_err(|e| StoreError::Open {
            path: label.to_string(),
            message: describe(&e),
        })?;
        conn.busy_timeout(self.busy).map_err(read_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

/// [`StoreError::Query`] for a failed read.
pub(super) fn read_error(e: rusqlite::Error) -> StoreError {
    StoreError::Query(describe(&e))
}

/// A one-line, user-facing description of a rusqlite error (see `describe_code`).
fn describe(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            let message = one_line(message.as_deref().unwrap_or(&code.to_string()));
            describe_code(Some(code.extended_code), message)
        }
        other => one_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_an_open_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.sqlite").display().to_string();
        let readers = Readers::new(Target::File(path.clone()), Duration::from_millis(10));
        let err = readers.read(|_| Ok(())).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Open { .. }), "{msg}");
        assert!(msg.contains(&path), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[tokio::test]
    async fn reads_see_every_commit_of_the_pool_at_once() {
        use crate::arxiv::paper::Paper;
        use crate::store::PaperStore;
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SqliteStore::open(&dir.path().join("hp.sqlite"))
            .await
            .unwrap();
        for (i, title) in ["first", "second", "third"].into_iter().enumerate() {
            let mut paper = Paper::sample("2107.00641", &["cs.LG"]);
            paper.title = title.into();
            paper.version = u32::try_from(i + 1).unwrap();
            store.upsert_papers(&[paper.clone()]).await.unwrap();
            // The read connection is kept between reads, and still sees the new commit.
            let read = store.paper(&paper.id).await.unwrap().unwrap();
            assert_eq!(read.title, title);
        }
        assert_eq!(store.readers.idle.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn connections_are_read_only_and_reused() {
        let store = super::super::SqliteStore::in_memory().await.unwrap();
        let err = store
            .readers
            .read(|c| {
                c.execute("CREATE TABLE t (x)", [])
                    .map(|_| ())
                    .map_err(read_error)
            })
            .unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        // The failed connection was dropped; a good read's connection is kept.
        for _ in 0..3 {
            store
                .readers
                .read(|c| {
                    c.query_row("SELECT count(*) FROM papers", [], |r| r.get::<_, i64>(0))
                        .map_err(read_error)
                })
                .unwrap();
        }
        assert_eq!(store.readers.idle.lock().unwrap().len(), 1);
    }
}
