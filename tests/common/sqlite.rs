//! Direct access to a store file from a test, as another process would have it: a second
//! connection that holds the write lock, reads counts while the binary writes, or checks the
//! file's integrity after a crash. Nothing here goes through the store traits.

use std::path::Path;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// A connection to the existing database at `path` (never creates it), with no busy timeout
/// of its own beyond `busy`.
pub async fn connect(path: &Path, busy: Duration) -> sqlx::Result<SqliteConnection> {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .busy_timeout(busy),
    )
    .await
}

/// Another connection holding the database's write lock (`BEGIN IMMEDIATE`) until
/// [`WriteLock::release`] (or drop, which closes the connection and so ends the transaction).
pub struct WriteLock {
    conn: SqliteConnection,
}

impl WriteLock {
    /// Takes the write lock of the existing database at `path`.
    pub async fn take(path: &Path) -> WriteLock {
        let mut conn = connect(path, Duration::from_secs(5))
            .await
            .expect("connect to hold the lock");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .expect("take the write lock");
        WriteLock { conn }
    }

    /// Ends the transaction (nothing was written) and closes the connection.
    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .expect("release the lock");
        self.conn
            .close()
            .await
            .expect("close the lock's connection");
    }
}

/// `SELECT count(*)` of a statement (a `&'static str`, so no value is ever interpolated).
pub async fn count(conn: &mut SqliteConnection, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `PRAGMA integrity_check`'s rows: `["ok"]` for a sound file.
pub async fn integrity_check(conn: &mut SqliteConnection) -> Vec<String> {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(conn)
        .await
        .expect("integrity_check")
}

/// `PRAGMA foreign_key_check`'s row count: 0 when every reference resolves.
pub async fn foreign_key_violations(conn: &mut SqliteConnection) -> usize {
    sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(conn)
        .await
        .expect("foreign_key_check")
        .len()
}

/// Row counts of the tables an import writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub papers: i64,
    pub versions: i64,
    pub categories: i64,
    pub mailings: i64,
    pub members: i64,
    /// The sum of `mailings.paper_count` (equals `members` when the mailings are consistent).
    pub listed: i64,
}

pub async fn import_counts(conn: &mut SqliteConnection) -> ImportCounts {
    ImportCounts {
        papers: count(conn, "SELECT count(*) FROM papers").await,
        versions: count(conn, "SELECT count(*) FROM paper_versions").await,
        categories: count(conn, "SELECT count(*) FROM paper_categories").await,
        mailings: count(conn, "SELECT count(*) FROM mailings").await,
        members: count(conn, "SELECT count(*) FROM mailing_papers").await,
        listed: count(conn, "SELECT coalesce(sum(paper_count), 0) FROM mailings").await,
    }
}
