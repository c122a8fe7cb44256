//! Reads on the calling thread: a small stack of rusqlite connections to the store's file.
//!
//! sqlx's SQLite driver runs each statement on a worker thread of its connection and wakes
//! the async side when it is done: two thread hand-offs per statement. On a small idle VM a
//! sleeping thread takes tens of microseconds to wake, and answering `/hot` takes about ten
//! statements, so the hand-offs, not SQLite, were most of its time. A read here runs on the
//! thread that asks for it, on a connection taken from the stack and put back afterwards;
//! its statements stay prepared in the connection's cache.
//!
//! The bulk writes run here too, on one read-write connection ([`Readers::write`], on a
//! blocking thread, the write lock taken up front with `BEGIN IMMEDIATE`): the Bluesky
//! listener's batches, `upsert_papers` and `record_mailing`. A batch is hundreds of statements,
//! and through sqlx each was a hand-off to its worker thread and back (54,000 context switches
//! and more kernel than user time for a 200,000-event replay). The small writes stay on sqlx's
//! pool; both drivers link the same SQLite (libsqlite3-sys, bundled once), so in WAL mode each
//! side sees every commit of the other.
//!
//! That connection does not checkpoint inside its commits: a WAL hook counts the log's frames,
//! and a long log is copied into the database file by a checkpoint thread with a connection of
//! its own (see [`BACKGROUND_CHECKPOINT_FRAMES`]).
//!
//! A read blocks the calling task's thread while it runs. Every read of the store is bounded
//! (an indexed lookup, one mailing's members, a search ranking at most 5,000 matches) and
//! takes a few milliseconds at most on a year of papers, less than handing it to another
//! thread would cost.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak, mpsc};
use std::time::Duration;

use rusqlite::hooks::Wal;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tracing::warn;

use super::{WRITER_CACHE_KIB, describe_code, one_line};
use crate::store::StoreError;

/// Idle connections kept for the next read. Reads run on the runtime's worker threads (two
/// on the machines hotpapers targets), so a few cover every concurrent read; a read that
/// finds none idle opens another, which is dropped afterwards if the stack is full. Each
/// connection has its own page cache, so more would cost memory for nothing.
const MAX_IDLE: usize = 4;

/// Prepared statements kept per connection. A statement over an `IN (…)` list has one text
/// per list length, so a few dozen cover the commands' reads with room to spare.
const STATEMENT_CACHE: usize = 64;

/// How much a checkpoint does ([`Readers::checkpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Checkpoint {
    /// Copy what no reader still needs; never waits and never blocks anyone.
    Passive,
    /// Copy everything, waiting for readers and writers, then truncate the log to nothing.
    Truncate,
}

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
    /// The connection that copies the write-ahead log into the database file, opened on first
    /// use; the lock is held for the whole checkpoint, so that one runs at a time.
    checkpointer: Mutex<Option<Connection>>,
    /// The background checkpoints ([`Background`]).
    background: Background,
    /// Log frames at which a commit starts a background checkpoint
    /// ([`BACKGROUND_CHECKPOINT_FRAMES`]; tests lower it).
    checkpoint_frames: AtomicI32,
    /// Background checkpoints started so far.
    background_checkpoints: AtomicU64,
    /// Frames in the log after the writer's last commit.
    log_frames: AtomicI32,
}

/// Frames in the write-ahead log after a commit of the writer connection at which the writer
/// starts a background checkpoint (SQLite's own autocheckpoint threshold is 1,000, 4 MB).
///
/// SQLite's autocheckpoint runs inside the commit that crosses the threshold, on the writer's
/// thread: importing 10,000 papers, those checkpoints (the pages copied, two fsyncs) were
/// several percent of the writer's time and stalled it twice for ~50 ms. The writer connection
/// replaces it with a hook that only counts frames ([`count_wal_frames`]); past this many, a
/// passive checkpoint runs on its own connection and thread while the writer goes on (WAL mode
/// lets one checkpoint and one writer work at once), on the core the writer does not use.
const BACKGROUND_CHECKPOINT_FRAMES: i32 = 2000;

/// Frames in the log at which the writer, before its next transaction, copies what the
/// background checkpoints have not, so that the transaction starts the log over: the log stays
/// under ~32 MB (8,000 pages, what SQLite's autocheckpoint was set to before) during a long
/// import, instead of growing by the whole import.
const WAL_RESTART_FRAMES: i32 = 8000;

/// The store's checkpoint thread: one long-lived thread, woken by the writer, rather than one
/// per checkpoint (each new thread that allocates can get its own malloc arena, and a 50,000-
/// paper import grew by 20 MB of them).
#[derive(Debug, Default)]
struct Background {
    /// Wakes the thread; `None` until the first background checkpoint.
    wake: Mutex<Option<mpsc::Sender<()>>>,
    /// A checkpoint has been asked for and is not done yet.
    running: Mutex<bool>,
    /// Signalled whenever `running` turns false.
    idle: Condvar,
}

impl Background {
    fn lock_running(&self) -> std::sync::MutexGuard<'_, bool> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns once no background checkpoint is running.
    fn wait_idle(&self) {
        let mut running = self.lock_running();
        while *running {
            running = self.idle.wait(running).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Marks the checkpoint asked for as done.
    fn done(&self) {
        *self.lock_running() = false;
        self.idle.notify_all();
    }
}

/// Starts the checkpoint thread of `readers`: each wake-up is one passive checkpoint. It holds
/// the store weakly and ends when the store is dropped (its sender goes with it).
fn spawn_checkpoint_thread(readers: Weak<Readers>) -> std::io::Result<mpsc::Sender<()>> {
    let (wake, woken) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                let Some(readers) = readers.upgrade() else {
                    break;
                };
                if let Err(e) = readers.checkpoint_now(Checkpoint::Passive) {
                    warn!(error = %e, "background checkpoint of the store failed");
                }
                readers.background.done();
            }
        })?;
    Ok(wake)
}

thread_local! {
    /// Frames in the log after the last commit of a writer connection on this thread, set by
    /// [`count_wal_frames`] during the commit and read right after it on the same thread.
    static WAL_FRAMES: Cell<i32> = const { Cell::new(0) };
}

/// The writer connection's WAL hook: remembers how many frames the log holds.
fn count_wal_frames(_: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(frames);
    Ok(())
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
            checkpointer: Mutex::new(None),
            background: Background::default(),
            checkpoint_frames: AtomicI32::new(BACKGROUND_CHECKPOINT_FRAMES),
            background_checkpoints: AtomicU64::new(0),
            log_frames: AtomicI32::new(0),
        }
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the read-write connection, on this
    /// thread (call it from a blocking task: it may wait up to the busy timeout for another
    /// process's lock). `f`'s error rolls everything back. The connection has the writer's
    /// settings: foreign keys enforced, `synchronous = NORMAL` and its page cache
    /// (`WRITER_CACHE_KIB`); a commit that leaves the log long starts a background checkpoint
    /// (see [`BACKGROUND_CHECKPOINT_FRAMES`]).
    pub(super) fn write<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => self.open_writer()?,
        };
        if self.log_frames.load(Ordering::Relaxed) >= WAL_RESTART_FRAMES {
            // Background checkpoints copy while the writer writes, so they never catch up
            // with its last commit, and SQLite starts the log over only once every frame is
            // copied. Copy that last commit here (the background one has done the rest), so
            // that this transaction starts the log over instead of growing it without end.
            if let Err(e) = self.checkpoint(Checkpoint::Passive) {
                warn!(error = %e, "checkpoint of the store before a write failed");
            }
        }
        WAL_FRAMES.set(0);
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
        // Under the writer's lock, so that background checkpoints start in commit order.
        let frames = WAL_FRAMES.replace(0);
        if frames > 0 {
            self.log_frames.store(frames, Ordering::Relaxed);
        }
        if frames >= self.checkpoint_frames.load(Ordering::Relaxed) {
            self.checkpoint_in_background();
        }
        drop(slot);
        out
    }

    /// Asks the checkpoint thread for a passive checkpoint (starting the thread on first use),
    /// unless one is running already.
    fn checkpoint_in_background(self: &Arc<Self>) {
        let mut running = self.background.lock_running();
        if *running {
            return;
        }
        let mut wake = self
            .background
            .wake
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if wake.is_none() {
            match spawn_checkpoint_thread(Arc::downgrade(self)) {
                Ok(sender) => *wake = Some(sender),
                Err(e) => {
                    warn!(error = %e, "could not start the checkpoint thread of the store");
                    return;
                }
            }
        }
        if wake.as_ref().is_some_and(|w| w.send(()).is_ok()) {
            *running = true;
            self.background_checkpoints.fetch_add(1, Ordering::Relaxed);
        } else {
            // The thread is gone (it only ends with the store); start another next time.
            *wake = None;
        }
    }

    /// Copies the write-ahead log into the database file on the checkpointer connection, on
    /// this thread, once the background checkpoint running, if any, is done.
    /// [`Checkpoint::Truncate`] waits up to the busy timeout for writers and readers, then
    /// empties the log; busy readers only make it partial, not fail. A no-op on an in-memory
    /// database.
    pub(super) fn checkpoint(&self, mode: Checkpoint) -> Result<(), StoreError> {
        self.background.wait_idle();
        self.checkpoint_now(mode)
    }

    /// [`Readers::checkpoint`] without waiting for the background one (the checkpointer's lock
    /// still keeps them one at a time).
    fn checkpoint_now(&self, mode: Checkpoint) -> Result<(), StoreError> {
        let mut slot = self.checkpointer.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match slot.take() {
            Some(conn) => conn,
            None => {
                let conn = self.open_with(
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                conn.execute_batch("PRAGMA synchronous = NORMAL;")
                    .map_err(read_error)?;
                conn
            }
        };
        let sql = match mode {
            Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Checkpoint::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        let done = conn.query_row(sql, [], |_| Ok(())).map_err(read_error);
        *slot = Some(conn);
        done
    }

    /// The writer connection: read-write, with the writer's settings and the WAL hook that
    /// replaces SQLite's autocheckpoint (see [`BACKGROUND_CHECKPOINT_FRAMES`]).
    fn open_writer(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = self.open_with(flags)?;
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -{WRITER_CACHE_KIB};"
        ))
        .map_err(read_error)?;
        conn.wal_hook(Some(count_wal_frames));
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

    fn papers(n: usize) -> Vec<crate::arxiv::paper::Paper> {
        (1..=n)
            .map(|i| {
                let mut p = crate::arxiv::paper::Paper::sample(&format!("2107.{i:05}"), &["cs.LG"]);
                p.abstract_text = format!("Paper {i} about transformers. ").repeat(20);
                p
            })
            .collect()
    }

    /// A commit that leaves the log past the threshold has it copied into the database file
    /// by a checkpoint on another thread; the writer connection itself never checkpoints
    /// (SQLite's autocheckpoint is replaced by the frame-counting hook), and a full checkpoint
    /// waits for the background one.
    #[tokio::test]
    async fn a_long_log_is_checkpointed_in_the_background_not_by_the_writer() {
        use crate::store::{CursorStore, PaperStore};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hp.sqlite");
        let store = super::super::SqliteStore::open(&db).await.unwrap();
        store.checkpoint().await.unwrap();
        let size = || std::fs::metadata(&db).unwrap().len();
        let readers = &store.readers;

        // Below the threshold: the pages stay in the log, the file does not grow.
        let empty = size();
        store.upsert_papers(&papers(300)).await.unwrap();
        assert_eq!(readers.background_checkpoints.load(Ordering::Relaxed), 0);
        assert_eq!(size(), empty, "the writer checkpointed by itself");

        // Past it: the next commit starts one, which copies every page in.
        readers.checkpoint_frames.store(1, Ordering::Relaxed);
        store.upsert_papers(&papers(301)).await.unwrap();
        assert_eq!(readers.background_checkpoints.load(Ordering::Relaxed), 1);
        readers.background.wait_idle();
        assert!(size() > empty, "the background checkpoint copied nothing");

        // A full checkpoint after more writes empties the log; everything is readable.
        store.upsert_papers(&papers(302)).await.unwrap();
        store.checkpoint().await.unwrap();
        let wal = dir.path().join("hp.sqlite-wal");
        assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);
        let n: i64 = readers
            .read(|c| {
                c.query_row("SELECT count(*) FROM papers", [], |r| r.get(0))
                    .map_err(read_error)
            })
            .unwrap();
        assert_eq!(n, 302);
    }

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
