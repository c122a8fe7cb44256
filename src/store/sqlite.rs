//! The embedded SQLite backend of [`Store`].
//!
//! One file holds everything (papers, mailings, attention snapshots, Discord state), so a
//! self-hosted bot needs no database server. The schema lives in `migrations/*.sql`, compiled
//! into the binary with `sqlx::migrate!` and applied on [`SqliteStore::open`].
//!
//! Storage conventions (later modules writing through [`SqliteStore::pool`] must follow them):
//! timestamps are RFC 3339 UTC text written by [`encode_timestamp`] (fixed width, so text order
//! is time order), dates are `YYYY-MM-DD` ([`encode_date`]), lists and records are JSON text.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction: it takes the write lock up front, so a
//! concurrent writer (another process on the same file) waits for the busy timeout instead of
//! failing half-way with a lock upgrade error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};

use super::{
    BlueskyCounts, BlueskyInteraction, BlueskyPost, Extra, MailingPaper, MailingRecord,
    MailingSource, PostRecord, PostState, Signal, Store, StoreError, StoredBlueskyPost,
    UpsertStats,
};
use crate::arxiv::ArxivId;
use crate::arxiv::paper::{AnnounceType, Author, Link, Paper};
use crate::subscription::{Subscription, SubscriptionChange};

/// The schema migrations in `migrations/`, embedded at compile time so the binary carries them.
///
/// Cargo notices edits to the embedded files but not a *new* file in `migrations/`; after
/// adding one, touch this file (or add a `build.rs` with `cargo:rerun-if-changed=migrations`).
static MIGRATOR: Migrator = sqlx::migrate!();

/// How often opening retries the switch to WAL while another process holds the lock it needs
/// (20 ms apart: at most about 2 s, and only when two processes open a new file at once).
const WAL_SWITCH_ATTEMPTS: u32 = 100;

/// How long a statement waits for another connection's lock before giving up. Long enough to
/// ride out a concurrent ingest's commit, short enough that a stuck process is reported.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of a file-backed pool. SQLite serializes writers anyway; a few connections let
/// reads (commands, rendering) proceed while an ingest transaction is open (WAL mode).
const MAX_FILE_CONNECTIONS: u32 = 4;

/// Ids bound per `IN (...)` list. SQLite's default limit on bound variables is 32,766 (999 in
/// builds older than 3.32); 500 stays far below either while keeping round trips few.
const ID_CHUNK: usize = 500;

/// At most this many words of a search query are used, bounding the cost of one search.
const MAX_SEARCH_TERMS: usize = 16;

/// `SELECT` of every `subscriptions` column, followed by the given clause (a static string,
/// as sqlx wants).
macro_rules! select_subscriptions {
    ($clause:literal) => {
        concat!(
            "SELECT id, guild_id, channel_id, local_time, timezone, categories, count, \
             min_score, created_by, created_at, disabled_reason FROM subscriptions ",
            $clause
        )
    };
}

/// The `SqliteStore` backend: a pool of connections to one SQLite database.
///
/// Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
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

    /// [`SqliteStore::open`] with a custom busy timeout (tests use a short one to observe
    /// locking without waiting 5 s).
    async fn open_with_busy_timeout(path: &Path, busy: Duration) -> Result<Self, StoreError> {
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
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_FILE_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open {
                path: label.clone(),
                message: describe(&e),
            })?;
        let store = SqliteStore { pool };
        store.init(&label, true).await?;
        Ok(store)
    }

    /// A fresh private in-memory database with the full schema, for tests.
    ///
    /// It lives in exactly one connection (`max_connections(1)`, never recycled): every
    /// SQLite in-memory database belongs to its connection, so a second connection would see an
    /// empty database and a closed one would lose the data.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let label = ":memory:";
        let open_error = |e: sqlx::Error| StoreError::Open {
            path: label.into(),
            message: describe(&e),
        };
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(open_error)?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let store = SqliteStore { pool };
        store.init(label, false).await?;
        Ok(store)
    }

    /// The connection pool, for modules that own tables of their own in this database
    /// (subscriptions, post log, digests, kv). They must follow the conventions in the module
    /// docs and use [`encode_timestamp`] / [`decode_timestamp`].
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for running queries; WAL content is checkpointed into
    /// the main file when the last connection closes. Call it on shutdown.
    pub async fn close(&self) {
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

    /// Whether a Bluesky post is stored (a read, no write lock).
    async fn bluesky_post_stored(&self, uri: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM bluesky_posts WHERE uri = ?1)")
            .bind(uri)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error)
    }

    /// Begins a write transaction holding the write lock from the start (see module docs).
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error)
    }
}

#[async_trait]
impl Store for SqliteStore {
    /// Each input paper counts once in the stats, in input order: a paper whose stored version
    /// is newer counts as unchanged (its metadata stays; its version is still recorded), and a
    /// paper listed twice is handled twice.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<UpsertStats, StoreError> {
        let mut stats = UpsertStats::default();
        if papers.is_empty() {
            return Ok(stats);
        }
        // Encode (and validate) everything before touching the database.
        let rows = papers
            .iter()
            .map(|p| PaperRow::encode(p).map(|row| (row, p)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.begin_write().await?;
        for (row, paper) in &rows {
            let stored: Option<PaperRow> = sqlx::query_as(SELECT_PAPER_BY_ID)
                .bind(&row.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error)?;
            match stored {
                None => {
                    write_paper(&mut tx, row).await?;
                    replace_categories(&mut tx, &row.id, &paper.categories).await?;
                    stats.inserted += 1;
                }
                Some(stored) if row.version >= stored.version && *row != stored => {
                    write_paper(&mut tx, row).await?;
                    if row.categories != stored.categories {
                        replace_categories(&mut tx, &row.id, &paper.categories).await?;
                    }
                    stats.updated += 1;
                }
                Some(_) => stats.unchanged += 1,
            }
            sqlx::query(
                "INSERT INTO paper_versions (paper_id, version, updated) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (paper_id, version) DO NOTHING",
            )
            .bind(&row.id)
            .bind(row.version)
            .bind(&row.updated)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)?;
        Ok(stats)
    }

    async fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError> {
        let row: Option<PaperRow> = sqlx::query_as(SELECT_PAPER_BY_ID)
            .bind(id.key())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        row.map(PaperRow::decode).transpose()
    }

    async fn versions(&self, id: &ArxivId) -> Result<Vec<u32>, StoreError> {
        let versions: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM paper_versions WHERE paper_id = ?1 ORDER BY version",
        )
        .bind(id.key())
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        versions
            .into_iter()
            .map(|v| {
                u32::try_from(v).map_err(|_| corrupt(format!("paper {id}"), "version out of range"))
            })
            .collect()
    }

    /// `record.paper_count` is ignored: the stored count is the number of distinct members. A
    /// paper listed twice (e.g. `new` in one category feed and `cross` in another) is kept once
    /// with the first announce type in [`AnnounceType`]'s order (new, cross, replace,
    /// replace-cross, absonly), whatever the input order. Unknown members are an error naming
    /// one of them, and nothing is written.
    async fn record_mailing(
        &self,
        record: &MailingRecord,
        members: &[(ArxivId, AnnounceType)],
    ) -> Result<(), StoreError> {
        let date = encode_date(record.date)?;
        let window_start = encode_timestamp(&record.window_start)?;
        let window_end = encode_timestamp(&record.window_end)?;
        let ingested_at = encode_timestamp(&record.ingested_at)?;
        let source = record.source.as_str();

        let mut wanted: BTreeMap<&str, AnnounceType> = BTreeMap::new();
        for (id, kind) in members {
            wanted
                .entry(id.key())
                .and_modify(|k| *k = (*k).min(*kind))
                .or_insert(*kind);
        }
        let paper_count = i64::try_from(wanted.len())
            .map_err(|_| StoreError::Query(format!("mailing {date} has too many members")))?;

        let mut tx = self.begin_write().await?;

        // Every member must be stored; report one missing id rather than a bare FK failure.
        let keys: Vec<&str> = wanted.keys().copied().collect();
        let mut found: BTreeSet<String> = BTreeSet::new();
        for chunk in keys.chunks(ID_CHUNK) {
            let sql = format!(
                "SELECT id FROM papers WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for key in chunk {
                q = q.bind(*key);
            }
            found.extend(q.fetch_all(&mut *tx).await.map_err(query_error)?);
        }
        let missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !found.contains(*k))
            .collect();
        if let Some(first) = missing.first() {
            return Err(StoreError::Query(format!(
                "cannot record mailing {date}: {} of its papers are not stored (e.g. {first}); \
                 upsert them first",
                missing.len()
            )));
        }

        let existing: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT window_start, window_end, source, paper_count FROM mailings WHERE date = ?1",
        )
        .bind(&date)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error)?;
        if let Some((ws, we, src, count)) = existing
            && ws == window_start
            && we == window_end
            && src == source
            && count == paper_count
        {
            let stored: Vec<(String, String)> = sqlx::query_as(
                "SELECT paper_id, announce_type FROM mailing_papers WHERE mailing_date = ?1 \
                 ORDER BY paper_id",
            )
            .bind(&date)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_error)?;
            let same_members = stored.len() == wanted.len()
                && stored
                    .iter()
                    .zip(&wanted)
                    .all(|((sid, skind), (wid, wkind))| sid == wid && skind == wkind.as_str());
            if same_members {
                // Identical data: change nothing, not even `ingested_at`.
                return tx.commit().await.map_err(query_error);
            }
        }

        // Upsert, never REPLACE: a REPLACE deletes the row and would cascade to its digests.
        sqlx::query(
            "INSERT INTO mailings (date, window_start, window_end, source, ingested_at, paper_count) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (date) DO UPDATE SET window_start = excluded.window_start, \
             window_end = excluded.window_end, source = excluded.source, \
             ingested_at = excluded.ingested_at, paper_count = excluded.paper_count",
        )
        .bind(&date)
        .bind(&window_start)
        .bind(&window_end)
        .bind(source)
        .bind(&ingested_at)
        .bind(paper_count)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        sqlx::query("DELETE FROM mailing_papers WHERE mailing_date = ?1")
            .bind(&date)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        for (key, kind) in &wanted {
            sqlx::query(
                "INSERT INTO mailing_papers (mailing_date, paper_id, announce_type) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(&date)
            .bind(*key)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    async fn mailing(&self, date: NaiveDate) -> Result<Option<MailingRecord>, StoreError> {
        let row: Option<MailingRow> = sqlx::query_as(
            "SELECT date, window_start, window_end, source, ingested_at, paper_count \
             FROM mailings WHERE date = ?1",
        )
        .bind(encode_date(date)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        row.map(MailingRow::decode).transpose()
    }

    async fn latest_mailing(&self) -> Result<Option<MailingRecord>, StoreError> {
        let row: Option<MailingRow> = sqlx::query_as(
            "SELECT date, window_start, window_end, source, ingested_at, paper_count \
             FROM mailings ORDER BY date DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        row.map(MailingRow::decode).transpose()
    }

    /// Ordered by id in byte order of the key, the same order as [`ArxivId`]'s `Ord`.
    async fn mailing_papers(&self, date: NaiveDate) -> Result<Vec<MailingPaper>, StoreError> {
        let rows: Vec<MailingPaperRow> = sqlx::query_as(
            "SELECT p.id, p.version, p.title, p.abstract, p.authors, p.primary_category, \
             p.categories, p.published, p.updated, p.comment, p.journal_ref, p.doi, p.links, \
             m.announce_type \
             FROM mailing_papers AS m JOIN papers AS p ON p.id = m.paper_id \
             WHERE m.mailing_date = ?1 ORDER BY m.paper_id",
        )
        .bind(encode_date(date)?)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        rows.into_iter()
            .map(|r| {
                let announce_type = r.announce_type.parse::<AnnounceType>().map_err(|e| {
                    corrupt(format!("mailing {date}, paper {}", r.paper.id), e.as_str())
                })?;
                Ok(MailingPaper {
                    paper: r.paper.decode()?,
                    announce_type,
                })
            })
            .collect()
    }

    /// Values must be finite and `source`/`metric` non-empty; otherwise nothing is written.
    /// Papers need not be stored: attention may be seen before the paper is ingested.
    async fn record_signals(&self, signals: &[Signal]) -> Result<(), StoreError> {
        if signals.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(signals.len());
        for s in signals {
            if !s.value.is_finite() {
                return Err(StoreError::Query(format!(
                    "signal {}.{} for {} has a non-finite value ({})",
                    s.source, s.metric, s.paper, s.value
                )));
            }
            if s.source.is_empty() || s.metric.is_empty() {
                return Err(StoreError::Query(format!(
                    "signal for {} has an empty source or metric name",
                    s.paper
                )));
            }
            rows.push((s, encode_timestamp(&s.observed_at)?));
        }
        let mut tx = self.begin_write().await?;
        for (s, observed_at) in &rows {
            sqlx::query(
                "INSERT INTO attention_snapshots (paper_id, source, metric, value, observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (paper_id, source, metric, observed_at) \
                 DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
            )
            .bind(s.paper.key())
            .bind(&s.source)
            .bind(&s.metric)
            .bind(s.value)
            .bind(observed_at)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    /// Ordered by paper id, source, metric. Returned ids carry no version. Duplicate ids in
    /// `papers` are looked up once; any number of ids is fine (they are queried in chunks,
    /// within one read transaction so all chunks see the same data).
    async fn latest_signals(&self, papers: &[ArxivId]) -> Result<Vec<Signal>, StoreError> {
        let keys: BTreeSet<&str> = papers.iter().map(ArxivId::key).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = keys.into_iter().collect();
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let mut out = Vec::new();
        for chunk in keys.chunks(ID_CHUNK) {
            let sql = latest_signals_sql(chunk.len());
            let mut q =
                sqlx::query_as::<_, (String, String, String, f64, String)>(AssertSqlSafe(sql));
            for key in chunk {
                q = q.bind(*key);
            }
            for (paper, source, metric, value, observed_at) in
                q.fetch_all(&mut *tx).await.map_err(query_error)?
            {
                let what = || format!("signal {source}.{metric} of {paper}");
                let observed_at =
                    decode_timestamp(&observed_at).map_err(|e| corrupt(what(), &e.to_string()))?;
                out.push(Signal {
                    paper: decode_id(&paper)?,
                    source,
                    metric,
                    value,
                    observed_at,
                });
            }
        }
        tx.commit().await.map_err(query_error)?;
        Ok(out)
    }

    async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar::<_, String>("SELECT value FROM kv WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)
    }

    async fn kv_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    /// `source` and `key` must be non-empty; otherwise nothing is written. The whole batch is
    /// one transaction. When the batch names the same (paper, source, key) twice, the newer
    /// observation wins (the later one on a tie).
    async fn record_extras(&self, extras: &[Extra]) -> Result<(), StoreError> {
        if extras.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(extras.len());
        for e in extras {
            if e.source.is_empty() || e.key.is_empty() {
                return Err(StoreError::Query(format!(
                    "extra for {} has an empty source or key name",
                    e.paper
                )));
            }
            rows.push((e, encode_timestamp(&e.observed_at)?));
        }
        let mut tx = self.begin_write().await?;
        for (e, observed_at) in &rows {
            sqlx::query(
                "INSERT INTO paper_extras (paper_id, source, key, value, observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (paper_id, source, key) \
                 DO UPDATE SET value = excluded.value, observed_at = excluded.observed_at \
                 WHERE excluded.observed_at >= observed_at \
                 AND (value IS NOT excluded.value OR observed_at IS NOT excluded.observed_at)",
            )
            .bind(e.paper.key())
            .bind(&e.source)
            .bind(&e.key)
            .bind(&e.value)
            .bind(observed_at)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    async fn extras(&self, paper: &ArxivId) -> Result<Vec<Extra>, StoreError> {
        let rows = sqlx::query_as::<_, (String, String, String, String)>(
            "SELECT source, key, value, observed_at FROM paper_extras \
             WHERE paper_id = ?1 ORDER BY source, key",
        )
        .bind(paper.key())
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        let paper = paper.versionless();
        rows.into_iter()
            .map(|(source, key, value, observed_at)| {
                let observed_at = decode_timestamp(&observed_at).map_err(|e| {
                    corrupt(format!("extra {source}.{key} of {paper}"), &e.to_string())
                })?;
                Ok(Extra {
                    paper: paper.clone(),
                    source,
                    key,
                    value,
                    observed_at,
                })
            })
            .collect()
    }

    /// Papers are stored version-less and deduplicated. An identical post writes nothing.
    async fn bluesky_upsert_post(&self, post: &BlueskyPost) -> Result<bool, StoreError> {
        let papers: BTreeSet<&str> = post.papers.iter().map(ArxivId::key).collect();
        if papers.is_empty() {
            return Err(StoreError::Query(format!(
                "Bluesky post {} links no paper; only posts that link papers are stored",
                post.uri
            )));
        }
        let created_at = encode_timestamp(&post.created_at)?;
        let mut tx = self.begin_write().await?;
        let stored: Option<(String, String)> =
            sqlx::query_as("SELECT author_did, created_at FROM bluesky_posts WHERE uri = ?1")
                .bind(&post.uri)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error)?;
        let stored_papers: BTreeSet<String> = if stored.is_some() {
            sqlx::query_scalar("SELECT paper_id FROM bluesky_post_papers WHERE post_uri = ?1")
                .bind(&post.uri)
                .fetch_all(&mut *tx)
                .await
                .map_err(query_error)?
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        };
        let same_row = stored
            .as_ref()
            .is_some_and(|(did, at)| *did == post.author_did && *at == created_at);
        let same_papers = stored_papers.len() == papers.len()
            && stored_papers.iter().zip(&papers).all(|(a, b)| a == b);
        if same_row && same_papers {
            tx.commit().await.map_err(query_error)?;
            return Ok(false);
        }
        // Upsert, never REPLACE: a REPLACE deletes the row and would cascade to its interactions.
        sqlx::query(
            "INSERT INTO bluesky_posts (uri, author_did, created_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (uri) DO UPDATE SET author_did = excluded.author_did, \
             created_at = excluded.created_at",
        )
        .bind(&post.uri)
        .bind(&post.author_did)
        .bind(&created_at)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        if !same_papers {
            sqlx::query("DELETE FROM bluesky_post_papers WHERE post_uri = ?1")
                .bind(&post.uri)
                .execute(&mut *tx)
                .await
                .map_err(query_error)?;
            for key in &papers {
                sqlx::query("INSERT INTO bluesky_post_papers (post_uri, paper_id) VALUES (?1, ?2)")
                    .bind(&post.uri)
                    .bind(*key)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error)?;
            }
        }
        tx.commit().await.map_err(query_error)?;
        Ok(true)
    }

    async fn bluesky_delete_post(&self, uri: &str) -> Result<bool, StoreError> {
        // Most deleted posts never linked a paper: look before taking the write lock.
        if !self.bluesky_post_stored(uri).await? {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM bluesky_posts WHERE uri = ?1")
            .bind(uri)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?
            .rows_affected();
        tx.commit().await.map_err(query_error)?;
        Ok(removed > 0)
    }

    /// The firehose is mostly likes of posts we do not keep: the subject is looked up without
    /// the write lock first, and only a hit takes it.
    async fn bluesky_record_interaction(
        &self,
        interaction: &BlueskyInteraction,
    ) -> Result<bool, StoreError> {
        if !self.bluesky_post_stored(&interaction.subject_uri).await? {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        // The subject may have been deleted since the look-up.
        let stored: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM bluesky_posts WHERE uri = ?1)")
                .bind(&interaction.subject_uri)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_error)?;
        if stored {
            sqlx::query(
                "INSERT INTO bluesky_interactions (did, collection, rkey, kind, subject_uri) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (did, collection, rkey, kind) DO NOTHING",
            )
            .bind(&interaction.did)
            .bind(&interaction.collection)
            .bind(&interaction.rkey)
            .bind(interaction.kind.as_str())
            .bind(&interaction.subject_uri)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)?;
        Ok(stored)
    }

    async fn bluesky_delete_interactions(
        &self,
        did: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<u64, StoreError> {
        let stored: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bluesky_interactions \
             WHERE did = ?1 AND collection = ?2 AND rkey = ?3)",
        )
        .bind(did)
        .bind(collection)
        .bind(rkey)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error)?;
        if !stored {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM bluesky_interactions WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
        )
        .bind(did)
        .bind(collection)
        .bind(rkey)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?
        .rows_affected();
        tx.commit().await.map_err(query_error)?;
        Ok(removed)
    }

    async fn bluesky_posts_in_window(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<StoredBlueskyPost>, StoreError> {
        if since >= until {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{SELECT_BLUESKY_POSTS} WHERE p.created_at >= ?1 AND p.created_at < ?2 {BLUESKY_POSTS_TAIL}"
        );
        let rows: Vec<BlueskyPostRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(encode_timestamp(&since)?)
            .bind(encode_timestamp(&until)?)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        rows.into_iter().map(BlueskyPostRow::decode).collect()
    }

    async fn bluesky_posts_of_paper(
        &self,
        paper: &ArxivId,
    ) -> Result<Vec<StoredBlueskyPost>, StoreError> {
        let sql = format!(
            "{SELECT_BLUESKY_POSTS} WHERE p.uri IN \
             (SELECT post_uri FROM bluesky_post_papers WHERE paper_id = ?1) {BLUESKY_POSTS_TAIL}"
        );
        let rows: Vec<BlueskyPostRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(paper.key())
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        rows.into_iter().map(BlueskyPostRow::decode).collect()
    }

    async fn bluesky_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = encode_timestamp(&before)?;
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM bluesky_posts WHERE created_at < ?1")
            .bind(&before)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?
            .rows_affected();
        tx.commit().await.map_err(query_error)?;
        Ok(removed)
    }

    /// Full-text search over title, abstract and author names; the ids of the best matches,
    /// best first (FTS5 bm25 with title matches weighted 3x and author matches 2x abstract
    /// matches; ties by id).
    ///
    /// `query` is user text, never FTS5 syntax: every word is quoted, so operators, quotes,
    /// parentheses and column filters in it are searched for literally and cannot cause a
    /// syntax error. All words must match (in any column); words are stemmed (`transformers`
    /// finds `transformer`) and diacritics are ignored (`schrodinger` finds `Schrödinger`).
    /// A query without letters or digits, or `limit == 0`, returns nothing.
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<ArxivId>, StoreError> {
        let Some(expr) = fts_query(query) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT papers.id FROM papers_fts JOIN papers ON papers.rowid = papers_fts.rowid \
             WHERE papers_fts MATCH ?1 \
             ORDER BY bm25(papers_fts, 3.0, 1.0, 2.0), papers.id LIMIT ?2",
        )
        .bind(expr)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        keys.iter().map(|k| decode_id(k)).collect()
    }

    /// Counts distinct papers per category with one indexed join (`paper_categories` has one
    /// row per paper and category).
    async fn category_counts(&self, date: NaiveDate) -> Result<BTreeMap<String, u32>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT c.category, count(*) FROM mailing_papers AS m \
             JOIN paper_categories AS c ON c.paper_id = m.paper_id \
             WHERE m.mailing_date = ?1 AND m.announce_type IN ('new', 'cross') \
             GROUP BY c.category",
        )
        .bind(encode_date(date)?)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        rows.into_iter()
            .map(|(category, n)| {
                let n = u32::try_from(n).map_err(|_| {
                    corrupt(
                        format!("mailing {date}"),
                        &format!("count {n} for {category}"),
                    )
                })?;
                Ok((category, n))
            })
            .collect()
    }

    /// Runs in one write transaction, so the returned previous settings are exactly the ones
    /// replaced. `time` is stored to the minute; `min_score` must be finite.
    async fn upsert_subscription(
        &self,
        sub: &Subscription,
    ) -> Result<SubscriptionChange, StoreError> {
        if !sub.min_score.is_finite() {
            return Err(StoreError::Query(format!(
                "subscription of channel {} has a non-finite min_score ({})",
                sub.channel_id, sub.min_score
            )));
        }
        let guild = sub.guild_id.to_string();
        let channel = sub.channel_id.to_string();
        let categories = serde_json::to_string(&sub.categories).map_err(|e| {
            StoreError::Query(format!("cannot encode subscription categories: {e}"))
        })?;
        let created_at = encode_timestamp(&sub.created_at)?;
        let mut tx = self.begin_write().await?;
        let previous: Option<SubscriptionRow> = sqlx::query_as(select_subscriptions!(
            "WHERE guild_id = ?1 AND channel_id = ?2"
        ))
        .bind(&guild)
        .bind(&channel)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error)?;
        let previous = previous.map(SubscriptionRow::decode).transpose()?;
        sqlx::query(
            "INSERT INTO subscriptions (guild_id, channel_id, local_time, timezone, categories, \
             count, min_score, created_by, created_at, disabled_reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL) \
             ON CONFLICT (guild_id, channel_id) DO UPDATE SET local_time = excluded.local_time, \
             timezone = excluded.timezone, categories = excluded.categories, \
             count = excluded.count, min_score = excluded.min_score, \
             created_by = excluded.created_by, created_at = excluded.created_at, \
             disabled_reason = NULL",
        )
        .bind(&guild)
        .bind(&channel)
        .bind(sub.time.format("%H:%M").to_string())
        .bind(sub.timezone.name())
        .bind(&categories)
        .bind(i64::from(sub.count))
        .bind(sub.min_score)
        .bind(sub.created_by.to_string())
        .bind(&created_at)
        .execute(&mut *tx)
        .await
        .map_err(query_error)?;
        let stored: SubscriptionRow = sqlx::query_as(select_subscriptions!(
            "WHERE guild_id = ?1 AND channel_id = ?2"
        ))
        .bind(&guild)
        .bind(&channel)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_error)?;
        let stored = stored.decode()?;
        tx.commit().await.map_err(query_error)?;
        Ok(SubscriptionChange { stored, previous })
    }

    async fn delete_subscription(
        &self,
        guild_id: u64,
        channel_id: u64,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: Option<SubscriptionRow> = sqlx::query_as(select_subscriptions!(
            "WHERE guild_id = ?1 AND channel_id = ?2"
        ))
        .bind(guild_id.to_string())
        .bind(channel_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error)?;
        let Some(row) = row else {
            tx.commit().await.map_err(query_error)?;
            return Ok(None);
        };
        sqlx::query("DELETE FROM subscriptions WHERE id = ?1")
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        tx.commit().await.map_err(query_error)?;
        // Decoded after the delete: a corrupt row can still be removed.
        row.decode().map(Some)
    }

    async fn guild_subscriptions(&self, guild_id: u64) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> =
            sqlx::query_as(select_subscriptions!("WHERE guild_id = ?1"))
                .bind(guild_id.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(query_error)?;
        let mut subs = rows
            .into_iter()
            .map(SubscriptionRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
        // Ids are decimal text: order numerically, not as text.
        subs.sort_by_key(|s| s.channel_id);
        Ok(subs)
    }

    async fn active_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> =
            sqlx::query_as(select_subscriptions!("WHERE disabled_reason IS NULL"))
                .fetch_all(&self.pool)
                .await
                .map_err(query_error)?;
        let mut subs = rows
            .into_iter()
            .map(SubscriptionRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
        subs.sort_by_key(|s| (s.guild_id, s.channel_id));
        Ok(subs)
    }

    async fn disable_subscription(&self, id: i64, reason: &str) -> Result<bool, StoreError> {
        let reason = one_line(reason);
        let done = sqlx::query("UPDATE subscriptions SET disabled_reason = ?2 WHERE id = ?1")
            .bind(id)
            .bind(&reason)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn post_state(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar::<_, String>(
            "SELECT state FROM post_log WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)
    }

    async fn begin_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO post_log (channel_id, mailing_date, state, nonce, started_at) \
             VALUES (?1, ?2, 'sending', ?3, ?4) \
             ON CONFLICT (channel_id, mailing_date) DO UPDATE SET state = 'sending', \
             nonce = excluded.nonce, started_at = excluded.started_at, finished_at = NULL, error = NULL",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(nonce)
        .bind(at.to_rfc3339())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn finish_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[u64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = message_ids.iter().map(u64::to_string).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Query(e.to_string()))?;
        sqlx::query(
            "UPDATE post_log SET state = 'sent', message_ids = ?3, finished_at = ?4 \
             WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(ids)
        .bind(at.to_rfc3339())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }
    async fn post_record(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<PostRecord>, StoreError> {
        let row: Option<PostLogRow> = sqlx::query_as(
            "SELECT state, nonce, started_at, finished_at, message_ids, error FROM post_log \
             WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        row.map(|r| r.into_record(channel_id, mailing)).transpose()
    }

    async fn post_progress(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[Option<u64>],
    ) -> Result<bool, StoreError> {
        let ids: Vec<Option<String>> = message_ids
            .iter()
            .map(|id| id.map(|i| i.to_string()))
            .collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Query(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE post_log SET message_ids = ?3 WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(ids)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn resume_post(&self, channel_id: u64, mailing: NaiveDate) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE post_log SET state = 'sending', finished_at = NULL, error = NULL \
             WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn fail_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE post_log SET state = 'failed', error = ?3, finished_at = ?4 \
             WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(one_line(error))
        .bind(encode_timestamp(&at)?)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }
}

/// A `post_log` row as stored (ids as decimal text in a JSON array, `null` for unknown parts).
#[derive(sqlx::FromRow)]
struct PostLogRow {
    state: String,
    nonce: String,
    started_at: String,
    finished_at: Option<String>,
    message_ids: String,
    error: Option<String>,
}

impl PostLogRow {
    /// The record in this row; any undecodable column is [`StoreError::Corrupt`].
    fn into_record(self, channel_id: u64, mailing: NaiveDate) -> Result<PostRecord, StoreError> {
        let what = || format!("post log of channel {channel_id} and mailing {mailing}");
        let corrupt = |message: String| StoreError::Corrupt {
            what: what(),
            message,
        };
        let state = PostState::parse(&self.state)
            .ok_or_else(|| corrupt(format!("unknown state {:?}", self.state)))?;
        let started_at = decode_timestamp(&self.started_at).map_err(|e| corrupt(e.to_string()))?;
        let finished_at = self
            .finished_at
            .as_deref()
            .map(decode_timestamp)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?;
        let ids: Vec<Option<String>> = serde_json::from_str(&self.message_ids)
            .map_err(|e| corrupt(format!("message ids: {e}")))?;
        let message_ids = ids
            .into_iter()
            .map(|id| {
                id.map(|s| {
                    s.parse::<u64>()
                        .map_err(|_| corrupt(format!("message id {s:?} is not a number")))
                })
                .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PostRecord {
            state,
            nonce: self.nonce,
            started_at,
            finished_at,
            message_ids,
            error: self.error,
        })
    }
}

/// Stored Bluesky posts with their paper list (a JSON array) and interaction counts; callers
/// add a `WHERE` on `p` and [`BLUESKY_POSTS_TAIL`].
const SELECT_BLUESKY_POSTS: &str = "SELECT p.uri, p.author_did, p.created_at, \
     (SELECT json_group_array(paper_id) FROM bluesky_post_papers WHERE post_uri = p.uri) AS papers, \
     coalesce(sum(i.kind = 'like'), 0) AS likes, \
     coalesce(sum(i.kind = 'repost'), 0) AS reposts, \
     coalesce(sum(i.kind = 'quote'), 0) AS quotes, \
     coalesce(sum(i.kind = 'reply'), 0) AS replies \
     FROM bluesky_posts AS p LEFT JOIN bluesky_interactions AS i ON i.subject_uri = p.uri";

/// Grouping and order of [`SELECT_BLUESKY_POSTS`].
const BLUESKY_POSTS_TAIL: &str = "GROUP BY p.uri ORDER BY p.created_at, p.uri";

/// A row of [`SELECT_BLUESKY_POSTS`].
#[derive(Debug, sqlx::FromRow)]
struct BlueskyPostRow {
    uri: String,
    author_did: String,
    created_at: String,
    papers: String,
    likes: i64,
    reposts: i64,
    quotes: i64,
    replies: i64,
}

impl BlueskyPostRow {
    fn decode(self) -> Result<StoredBlueskyPost, StoreError> {
        let what = || format!("Bluesky post {}", self.uri);
        let created_at =
            decode_timestamp(&self.created_at).map_err(|e| corrupt(what(), &e.to_string()))?;
        let keys: Vec<String> =
            serde_json::from_str(&self.papers).map_err(|e| corrupt(what(), &e.to_string()))?;
        let papers = keys
            .iter()
            .map(|k| decode_id(k))
            .collect::<Result<Vec<_>, _>>()?;
        let count = |n: i64| u64::try_from(n).map_err(|_| corrupt(what(), "negative count"));
        let counts = BlueskyCounts {
            likes: count(self.likes)?,
            reposts: count(self.reposts)?,
            quotes: count(self.quotes)?,
            replies: count(self.replies)?,
        };
        Ok(StoredBlueskyPost {
            post: BlueskyPost {
                uri: self.uri,
                author_did: self.author_did,
                created_at,
                papers,
            },
            counts,
        })
    }
}

/// The latest snapshot of every (paper, source, metric) for `n` bound paper ids. SQLite
/// documents that with a lone `MAX()` aggregate the bare columns (`value`) come from the row
/// holding the maximum.
fn latest_signals_sql(n: usize) -> String {
    format!(
        "SELECT paper_id, source, metric, value, MAX(observed_at) AS observed_at \
         FROM attention_snapshots WHERE paper_id IN ({}) \
         GROUP BY paper_id, source, metric ORDER BY paper_id, source, metric",
        placeholders(n)
    )
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

const SELECT_PAPER_BY_ID: &str = "SELECT id, version, title, abstract, authors, primary_category, \
     categories, published, updated, comment, journal_ref, doi, links FROM papers WHERE id = ?1";

/// Writes a paper's row: a new row, or new metadata for an existing one (the caller has decided
/// that the incoming data should win). `rowid` is kept on update, which the FTS index relies on.
async fn write_paper(
    tx: &mut Transaction<'static, Sqlite>,
    row: &PaperRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO papers (id, version, title, abstract, authors, primary_category, categories, \
         published, updated, comment, journal_ref, doi, links) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, title = excluded.title, \
         abstract = excluded.abstract, authors = excluded.authors, \
         primary_category = excluded.primary_category, categories = excluded.categories, \
         published = excluded.published, updated = excluded.updated, \
         comment = excluded.comment, journal_ref = excluded.journal_ref, doi = excluded.doi, \
         links = excluded.links",
    )
    .bind(&row.id)
    .bind(row.version)
    .bind(&row.title)
    .bind(&row.abstract_text)
    .bind(&row.authors)
    .bind(&row.primary_category)
    .bind(&row.categories)
    .bind(&row.published)
    .bind(&row.updated)
    .bind(&row.comment)
    .bind(&row.journal_ref)
    .bind(&row.doi)
    .bind(&row.links)
    .execute(&mut **tx)
    .await
    .map_err(query_error)?;
    Ok(())
}

/// Rewrites `paper_categories` for one paper from its category list. A category listed twice
/// keeps its first position.
async fn replace_categories(
    tx: &mut Transaction<'static, Sqlite>,
    id: &str,
    categories: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM paper_categories WHERE paper_id = ?1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(query_error)?;
    for (position, category) in categories.iter().enumerate() {
        sqlx::query(
            "INSERT INTO paper_categories (paper_id, category, position) VALUES (?1, ?2, ?3) \
             ON CONFLICT (paper_id, category) DO NOTHING",
        )
        .bind(id)
        .bind(category)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await
        .map_err(query_error)?;
    }
    Ok(())
}

/// A `papers` row exactly as stored: comparing two rows compares the stored bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct PaperRow {
    id: String,
    version: i64,
    title: String,
    #[sqlx(rename = "abstract")]
    abstract_text: String,
    authors: String,
    primary_category: String,
    categories: String,
    published: String,
    updated: String,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    links: String,
}

/// An author as stored in `papers.authors`: always both keys, so SQL (`json_extract`) and
/// older readers see one shape, independent of [`Author`]'s serde attributes.
#[derive(Serialize, Deserialize)]
struct StoredAuthor {
    name: String,
    #[serde(default)]
    affiliations: Vec<String>,
}

/// A link as stored in `papers.links`: every key present, absent values as `null`.
#[derive(Serialize, Deserialize)]
struct StoredLink {
    href: String,
    #[serde(default)]
    rel: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    mime: Option<String>,
}

impl PaperRow {
    /// The row for `paper`. The id is stored version-less; `paper.version` is authoritative.
    fn encode(paper: &Paper) -> Result<PaperRow, StoreError> {
        let id = paper.id.key().to_string();
        let json_error =
            |e: serde_json::Error| StoreError::Query(format!("cannot encode paper {id}: {e}"));
        let authors: Vec<StoredAuthor> = paper
            .authors
            .iter()
            .map(|a| StoredAuthor {
                name: a.name.clone(),
                affiliations: a.affiliations.clone(),
            })
            .collect();
        let links: Vec<StoredLink> = paper
            .links
            .iter()
            .map(|l| StoredLink {
                href: l.href.clone(),
                rel: l.rel.clone(),
                title: l.title.clone(),
                mime: l.mime.clone(),
            })
            .collect();
        Ok(PaperRow {
            version: i64::from(paper.version),
            title: paper.title.clone(),
            abstract_text: paper.abstract_text.clone(),
            authors: serde_json::to_string(&authors).map_err(json_error)?,
            primary_category: paper.primary_category.clone(),
            categories: serde_json::to_string(&paper.categories).map_err(json_error)?,
            published: encode_timestamp(&paper.published)?,
            updated: encode_timestamp(&paper.updated)?,
            comment: paper.comment.clone(),
            journal_ref: paper.journal_ref.clone(),
            doi: paper.doi.clone(),
            links: serde_json::to_string(&links).map_err(json_error)?,
            id,
        })
    }

    /// The paper stored in this row; any undecodable column is [`StoreError::Corrupt`].
    fn decode(self) -> Result<Paper, StoreError> {
        let what = || format!("paper {}", self.id);
        let id = decode_id(&self.id)?;
        let version = u32::try_from(self.version)
            .map_err(|_| corrupt(what(), &format!("version {} out of range", self.version)))?;
        let authors: Vec<StoredAuthor> = serde_json::from_str(&self.authors)
            .map_err(|e| corrupt(what(), &format!("authors: {e}")))?;
        let categories: Vec<String> = serde_json::from_str(&self.categories)
            .map_err(|e| corrupt(what(), &format!("categories: {e}")))?;
        let links: Vec<StoredLink> = serde_json::from_str(&self.links)
            .map_err(|e| corrupt(what(), &format!("links: {e}")))?;
        let published = decode_timestamp(&self.published)
            .map_err(|e| corrupt(what(), &format!("published: {e}")))?;
        let updated = decode_timestamp(&self.updated)
            .map_err(|e| corrupt(what(), &format!("updated: {e}")))?;
        Ok(Paper {
            id,
            version,
            title: self.title,
            abstract_text: self.abstract_text,
            authors: authors
                .into_iter()
                .map(|a| Author {
                    name: a.name,
                    affiliations: a.affiliations,
                })
                .collect(),
            primary_category: self.primary_category,
            categories,
            published,
            updated,
            comment: self.comment,
            journal_ref: self.journal_ref,
            doi: self.doi,
            links: links
                .into_iter()
                .map(|l| Link {
                    href: l.href,
                    rel: l.rel,
                    title: l.title,
                    mime: l.mime,
                })
                .collect(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct MailingPaperRow {
    #[sqlx(flatten)]
    paper: PaperRow,
    announce_type: String,
}

/// A `subscriptions` row as stored (ids as decimal text, see `migrations/0001_init.sql`).
#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: i64,
    guild_id: String,
    channel_id: String,
    local_time: String,
    timezone: String,
    categories: String,
    count: i64,
    min_score: f64,
    created_by: String,
    created_at: String,
    disabled_reason: Option<String>,
}

impl SubscriptionRow {
    /// The subscription in this row; any undecodable column is [`StoreError::Corrupt`].
    fn decode(self) -> Result<Subscription, StoreError> {
        let what = || format!("subscription {} (channel {})", self.id, self.channel_id);
        let snowflake = |field: &str, s: &str| {
            s.parse::<u64>()
                .map_err(|_| corrupt(what(), &format!("{field} '{s}' is not a Discord id")))
        };
        let time = chrono::NaiveTime::parse_from_str(&self.local_time, "%H:%M")
            .or_else(|_| chrono::NaiveTime::parse_from_str(&self.local_time, "%H:%M:%S"))
            .map_err(|_| corrupt(what(), &format!("local_time '{}'", self.local_time)))?;
        let timezone: chrono_tz::Tz = self
            .timezone
            .parse()
            .map_err(|_| corrupt(what(), &format!("unknown time zone '{}'", self.timezone)))?;
        let categories: Vec<String> = serde_json::from_str(&self.categories)
            .map_err(|e| corrupt(what(), &format!("categories: {e}")))?;
        let count = u8::try_from(self.count)
            .map_err(|_| corrupt(what(), &format!("count {} out of range", self.count)))?;
        let created_at = decode_timestamp(&self.created_at)
            .map_err(|e| corrupt(what(), &format!("created_at: {e}")))?;
        Ok(Subscription {
            id: self.id,
            guild_id: snowflake("guild_id", &self.guild_id)?,
            channel_id: snowflake("channel_id", &self.channel_id)?,
            time,
            timezone,
            categories,
            count,
            min_score: self.min_score,
            created_by: snowflake("created_by", &self.created_by)?,
            created_at,
            disabled_reason: self.disabled_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MailingRow {
    date: String,
    window_start: String,
    window_end: String,
    source: String,
    ingested_at: String,
    paper_count: i64,
}

impl MailingRow {
    fn decode(self) -> Result<MailingRecord, StoreError> {
        let what = || format!("mailing {}", self.date);
        let date = NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .map_err(|e| corrupt(what(), &format!("date: {e}")))?;
        let ts = |field: &str, s: &str| {
            decode_timestamp(s).map_err(|e| corrupt(what(), &format!("{field}: {e}")))
        };
        let source = match self.source.as_str() {
            "api" => MailingSource::Api,
            "rss" => MailingSource::Rss,
            "import" => MailingSource::Import,
            other => return Err(corrupt(what(), &format!("unknown source '{other}'"))),
        };
        Ok(MailingRecord {
            date,
            window_start: ts("window_start", &self.window_start)?,
            window_end: ts("window_end", &self.window_end)?,
            source,
            ingested_at: ts("ingested_at", &self.ingested_at)?,
            paper_count: u32::try_from(self.paper_count)
                .map_err(|_| corrupt(what(), "paper_count out of range"))?,
        })
    }
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

/// The FTS5 expression for user text: each word (whitespace-separated, with a letter or digit)
/// as a quoted string with inner quotes doubled, joined by spaces (implicit AND). `None` when
/// nothing searchable remains.
fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_SEARCH_TERMS)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

fn decode_id(key: &str) -> Result<ArxivId, StoreError> {
    ArxivId::parse(key).map_err(|e| corrupt(format!("paper id '{key}'"), &e.to_string()))
}

fn corrupt(what: String, message: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        message: one_line(message),
    }
}

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
    let message = one_line(db.message());
    let code: Option<i32> = db.code().and_then(|c| c.parse().ok());
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
    use chrono::TimeZone;

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
    fn fts_query_quotes_every_word() {
        assert_eq!(
            fts_query("graph neural"),
            Some("\"graph\" \"neural\"".into())
        );
        assert_eq!(fts_query("a\"b"), Some("\"a\"\"b\"".into()));
        assert_eq!(
            fts_query("title:foo OR NEAR(x"),
            Some("\"title:foo\" \"OR\" \"NEAR(x\"".into())
        );
        assert_eq!(fts_query("  - * \" ( ) "), None);
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("\u{0}x\u{7}"), Some("\"x\"".into()));
        let many = "w ".repeat(100);
        assert_eq!(
            fts_query(&many).map(|q| q.matches('"').count()),
            Some(2 * MAX_SEARCH_TERMS)
        );
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

    #[tokio::test]
    async fn corrupt_rows_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO papers (id, version, title, abstract, authors, primary_category, \
             categories, published, updated, links) VALUES \
             ('2107.00641', 1, 't', 'a', '{\"not\":\"a list\"}', 'cs.LG', '[]', \
              '2021-07-01T00:00:00.000000000Z', 'not a time', '[]')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .paper(&ArxivId::parse("2107.00641").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("2107.00641"), "{err}");

        sqlx::query(
            "INSERT INTO mailings VALUES ('2021-07-02', '2021-07-01T00:00:00Z', \
             '2021-07-01T00:00:00Z', 'carrier-pigeon', '2021-07-01T00:00:00Z', 0)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store.latest_mailing().await.unwrap_err();
        assert!(err.to_string().contains("carrier-pigeon"), "{err}");

        sqlx::query(
            "INSERT INTO attention_snapshots VALUES ('2107.00641', 'hn', 'points', 1, 'x')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .latest_signals(&[ArxivId::parse("2107.00641").unwrap()])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[tokio::test]
    async fn kv_round_trips_and_overwrites() {
        let store = SqliteStore::in_memory().await.unwrap();
        assert_eq!(store.kv_get("cursor").await.unwrap(), None);
        store.kv_set("cursor", "1").await.unwrap();
        store.kv_set("cursor", "2").await.unwrap();
        assert_eq!(store.kv_get("cursor").await.unwrap().as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn latest_signals_query_uses_the_primary_key() {
        let store = SqliteStore::in_memory().await.unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", latest_signals_sql(3));
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(sql));
        for k in ["2107.00001", "2107.00002", "2107.00003"] {
            q = q.bind(k);
        }
        let plan: Vec<String> = q
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.3)
            .collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains("SEARCH attention_snapshots USING PRIMARY KEY (paper_id=?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    fn extra(key: &str, value: &str, at: DateTime<Utc>) -> Extra {
        Extra {
            paper: ArxivId::parse("2602.23229").unwrap(),
            source: "hf".into(),
            key: key.into(),
            value: value.into(),
            observed_at: at,
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 6, h, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn extras_upsert_keeps_the_newest_observation() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229v2").unwrap();
        assert!(store.extras(&id).await.unwrap().is_empty());

        let first = [extra("ai_summary", "old", at(1)), extra("tldr", "t", at(1))];
        store.record_extras(&first).await.unwrap();
        store.record_extras(&first).await.unwrap(); // idempotent
        // A newer observation replaces value and time; an older one is ignored.
        store
            .record_extras(&[extra("ai_summary", "new", at(3))])
            .await
            .unwrap();
        store
            .record_extras(&[extra("ai_summary", "stale", at(2))])
            .await
            .unwrap();
        let got = store.extras(&id).await.unwrap();
        assert_eq!(
            got,
            vec![extra("ai_summary", "new", at(3)), extra("tldr", "t", at(1))]
        );
        // Returned ids carry no version even when asked with one.
        assert_eq!(got[0].paper.version(), None);
    }

    #[tokio::test]
    async fn extras_same_value_newer_time_refreshes_the_time_only() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229").unwrap();
        store
            .record_extras(&[extra("k", "v", at(1))])
            .await
            .unwrap();
        store
            .record_extras(&[extra("k", "v", at(5))])
            .await
            .unwrap();
        assert_eq!(
            store.extras(&id).await.unwrap(),
            vec![extra("k", "v", at(5))]
        );
    }

    #[tokio::test]
    async fn invalid_extras_are_refused_without_writing() {
        let store = SqliteStore::in_memory().await.unwrap();
        let id = ArxivId::parse("2602.23229").unwrap();
        let mut bad = extra("", "v", at(1));
        let err = store
            .record_extras(&[extra("ok", "v", at(1)), bad.clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Query(_)), "{err}");
        bad.key = "k".into();
        bad.source = String::new();
        assert!(store.record_extras(&[bad]).await.is_err());
        let far = extra("k", "v", at(1) + chrono::Duration::days(365 * 9000));
        assert!(store.record_extras(&[far]).await.is_err());
        assert!(store.extras(&id).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn corrupt_extra_timestamps_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO paper_extras (paper_id, source, key, value, observed_at) \
             VALUES ('2602.23229', 'hf', 'ai_summary', 'x', 'yesterday')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .extras(&ArxivId::parse("2602.23229").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("hf.ai_summary"), "{err}");
    }

    mod bluesky {
        use super::*;
        use crate::store::{BlueskyInteractionKind, BlueskyPost};
        use chrono::TimeZone;

        fn at(min: u32) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 7, 4, 14, min, 0).unwrap()
        }

        fn id(s: &str) -> ArxivId {
            ArxivId::parse(s).unwrap()
        }

        fn post(rkey: &str, min: u32, papers: &[&str]) -> BlueskyPost {
            BlueskyPost {
                uri: format!("at://did:plc:author/app.bsky.feed.post/{rkey}"),
                author_did: "did:plc:author".into(),
                created_at: at(min),
                papers: papers.iter().map(|p| id(p)).collect(),
            }
        }

        fn like(did: &str, rkey: &str, subject: &str) -> BlueskyInteraction {
            BlueskyInteraction {
                did: did.into(),
                collection: "app.bsky.feed.like".into(),
                rkey: rkey.into(),
                kind: BlueskyInteractionKind::Like,
                subject_uri: subject.into(),
            }
        }

        #[tokio::test]
        async fn upsert_is_idempotent_and_keeps_counts_across_updates() {
            let store = SqliteStore::in_memory().await.unwrap();
            let p = post("a", 1, &["2107.00641v2", "2107.00641"]);
            assert!(store.bluesky_upsert_post(&p).await.unwrap());
            assert!(!store.bluesky_upsert_post(&p).await.unwrap(), "replay");
            assert!(
                store
                    .bluesky_record_interaction(&like("did:plc:l", "1", &p.uri))
                    .await
                    .unwrap()
            );
            let changed = post("a", 1, &["2107.00641", "2401.04670"]);
            assert!(store.bluesky_upsert_post(&changed).await.unwrap());
            let stored = store
                .bluesky_posts_of_paper(&id("2401.04670"))
                .await
                .unwrap();
            assert_eq!(stored.len(), 1);
            assert_eq!(
                stored[0].post.papers,
                vec![id("2107.00641"), id("2401.04670")]
            );
            assert_eq!(stored[0].counts.likes, 1, "an update keeps the counts");

            let err = store
                .bluesky_upsert_post(&post("b", 1, &[]))
                .await
                .unwrap_err();
            assert!(err.to_string().contains("links no paper"), "{err}");
        }

        #[tokio::test]
        async fn interactions_count_once_and_only_for_stored_posts() {
            let store = SqliteStore::in_memory().await.unwrap();
            let p = post("a", 1, &["2107.00641"]);
            store.bluesky_upsert_post(&p).await.unwrap();
            let unknown = like("did:plc:l", "0", "at://did:plc:x/app.bsky.feed.post/zz");
            assert!(!store.bluesky_record_interaction(&unknown).await.unwrap());
            for _ in 0..3 {
                assert!(
                    store
                        .bluesky_record_interaction(&like("did:plc:l", "1", &p.uri))
                        .await
                        .unwrap()
                );
            }
            store
                .bluesky_record_interaction(&like("did:plc:m", "1", &p.uri))
                .await
                .unwrap();
            let quote = BlueskyInteraction {
                did: "did:plc:q".into(),
                collection: "app.bsky.feed.post".into(),
                rkey: "q1".into(),
                kind: BlueskyInteractionKind::Quote,
                subject_uri: p.uri.clone(),
            };
            let reply = BlueskyInteraction {
                kind: BlueskyInteractionKind::Reply,
                ..quote.clone()
            };
            store.bluesky_record_interaction(&quote).await.unwrap();
            store.bluesky_record_interaction(&reply).await.unwrap();
            let all = store.bluesky_posts_in_window(at(0), at(59)).await.unwrap();
            assert_eq!(
                all[0].counts,
                BlueskyCounts {
                    likes: 2,
                    reposts: 0,
                    quotes: 1,
                    replies: 1
                }
            );
            // One record in two roles: its delete removes both.
            assert_eq!(
                store
                    .bluesky_delete_interactions("did:plc:q", "app.bsky.feed.post", "q1")
                    .await
                    .unwrap(),
                2
            );
            assert_eq!(
                store
                    .bluesky_delete_interactions("did:plc:l", "app.bsky.feed.like", "1")
                    .await
                    .unwrap(),
                1
            );
            assert_eq!(
                store
                    .bluesky_delete_interactions("did:plc:l", "app.bsky.feed.like", "1")
                    .await
                    .unwrap(),
                0
            );
            let all = store.bluesky_posts_in_window(at(0), at(59)).await.unwrap();
            assert_eq!(all[0].counts.likes, 1);
            assert_eq!(all[0].counts.quotes + all[0].counts.replies, 0);
        }

        #[tokio::test]
        async fn deleting_a_post_removes_its_papers_and_interactions() {
            let store = SqliteStore::in_memory().await.unwrap();
            let p = post("a", 1, &["2107.00641"]);
            store.bluesky_upsert_post(&p).await.unwrap();
            store
                .bluesky_record_interaction(&like("did:plc:l", "1", &p.uri))
                .await
                .unwrap();
            assert!(store.bluesky_delete_post(&p.uri).await.unwrap());
            assert!(!store.bluesky_delete_post(&p.uri).await.unwrap());
            let rows: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM bluesky_post_papers) \
                 + (SELECT count(*) FROM bluesky_interactions)",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            assert_eq!(rows, 0);
            // A like replayed after the delete finds no subject.
            assert!(
                !store
                    .bluesky_record_interaction(&like("did:plc:l", "1", &p.uri))
                    .await
                    .unwrap()
            );
        }

        #[tokio::test]
        async fn windows_are_half_open_ordered_and_prunable() {
            let store = SqliteStore::in_memory().await.unwrap();
            for p in [
                post("c", 30, &["2107.00641"]),
                post("a", 10, &["2107.00641"]),
                post("b", 20, &["2401.04670"]),
            ] {
                store.bluesky_upsert_post(&p).await.unwrap();
            }
            let uris = |posts: Vec<StoredBlueskyPost>| -> Vec<String> {
                posts.into_iter().map(|p| p.post.uri).collect()
            };
            let w = store.bluesky_posts_in_window(at(10), at(30)).await.unwrap();
            assert_eq!(
                uris(w),
                vec![
                    "at://did:plc:author/app.bsky.feed.post/a",
                    "at://did:plc:author/app.bsky.feed.post/b"
                ]
            );
            assert!(
                store
                    .bluesky_posts_in_window(at(30), at(30))
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                store
                    .bluesky_posts_in_window(at(40), at(30))
                    .await
                    .unwrap()
                    .is_empty()
            );
            let of = store
                .bluesky_posts_of_paper(&id("2107.00641v3"))
                .await
                .unwrap();
            assert_eq!(of.len(), 2);
            assert_eq!(store.bluesky_prune(at(20)).await.unwrap(), 1);
            assert_eq!(
                store
                    .bluesky_posts_of_paper(&id("2107.00641"))
                    .await
                    .unwrap()
                    .len(),
                1
            );
            assert_eq!(store.bluesky_prune(at(20)).await.unwrap(), 0);
        }

        #[tokio::test]
        async fn corrupt_bluesky_rows_are_reported() {
            let store = SqliteStore::in_memory().await.unwrap();
            sqlx::query(
                "INSERT INTO bluesky_posts VALUES ('at://did:plc:a/app.bsky.feed.post/1', \
                 'did:plc:a', '2026-07-04T14:10:00.000000000Z')",
            )
            .execute(store.pool())
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO bluesky_post_papers VALUES \
                 ('at://did:plc:a/app.bsky.feed.post/1', 'not-an-id')",
            )
            .execute(store.pool())
            .await
            .unwrap();
            let err = store
                .bluesky_posts_in_window(at(0), at(59))
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        }
    }

    fn test_paper(key: &str, categories: &[&str]) -> Paper {
        let at = Utc.with_ymd_and_hms(2021, 7, 1, 12, 0, 0).unwrap();
        Paper {
            id: ArxivId::parse(key).unwrap(),
            version: 1,
            title: format!("Paper {key}"),
            abstract_text: "Abstract.".into(),
            authors: vec![Author {
                name: "Ada Lovelace".into(),
                affiliations: vec![],
            }],
            primary_category: categories[0].to_string(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            published: at,
            updated: at,
            comment: None,
            journal_ref: None,
            doi: None,
            links: vec![],
        }
    }

    #[tokio::test]
    async fn category_counts_count_new_and_cross_papers_per_category() {
        let store = SqliteStore::in_memory().await.unwrap();
        let papers = [
            test_paper("2107.00001", &["cs.LG", "stat.ML"]),
            test_paper("2107.00002", &["cs.LG"]),
            test_paper("2107.00003", &["stat.ML", "cs.LG"]),
            test_paper("2107.00004", &["cs.LG", "cs.CV"]),
            test_paper("2107.00005", &["math.AG"]),
        ];
        store.upsert_papers(&papers).await.unwrap();
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let at = Utc.with_ymd_and_hms(2021, 7, 2, 0, 0, 0).unwrap();
        let record = MailingRecord {
            date: d,
            window_start: at,
            window_end: at,
            source: MailingSource::Api,
            ingested_at: at,
            paper_count: 5,
        };
        let id = |k: &str| ArxivId::parse(k).unwrap();
        store
            .record_mailing(
                &record,
                &[
                    (id("2107.00001"), AnnounceType::New),
                    (id("2107.00002"), AnnounceType::New),
                    (id("2107.00003"), AnnounceType::Cross),
                    // Revisions are not part of a digest, so not counted.
                    (id("2107.00004"), AnnounceType::Replace),
                ],
            )
            .await
            .unwrap();
        let counts = store.category_counts(d).await.unwrap();
        let want: BTreeMap<String, u32> =
            [("cs.LG".to_string(), 3), ("stat.ML".to_string(), 2)].into();
        assert_eq!(counts, want);
        let other = NaiveDate::from_ymd_opt(2021, 7, 5).unwrap();
        assert!(store.category_counts(other).await.unwrap().is_empty());
    }

    fn test_subscription(guild: u64, channel: u64) -> Subscription {
        Subscription {
            id: 0,
            guild_id: guild,
            channel_id: channel,
            time: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            timezone: chrono_tz::Europe::Berlin,
            categories: vec!["cs.LG".into(), "cs.CV".into()],
            count: 10,
            min_score: 1.5,
            created_by: 7,
            created_at: Utc.with_ymd_and_hms(2021, 7, 3, 12, 0, 0).unwrap(),
            disabled_reason: None,
        }
    }

    #[tokio::test]
    async fn subscriptions_upsert_per_channel_and_round_trip() {
        let store = SqliteStore::in_memory().await.unwrap();
        // Discord snowflakes use the whole u64 range.
        let big = u64::MAX - 1;
        let first = store
            .upsert_subscription(&test_subscription(big, 123_456_789_012_345_678))
            .await
            .unwrap();
        assert_eq!(first.previous, None);
        let mut want = test_subscription(big, 123_456_789_012_345_678);
        want.id = first.stored.id;
        assert_eq!(first.stored, want);

        assert!(
            store
                .disable_subscription(want.id, "channel\ndeleted")
                .await
                .unwrap()
        );
        let listed = store.guild_subscriptions(big).await.unwrap();
        assert_eq!(
            listed[0].disabled_reason.as_deref(),
            Some("channel deleted")
        );
        assert!(store.active_subscriptions().await.unwrap().is_empty());

        // Re-subscribing keeps the id, replaces the settings and re-enables.
        let mut changed = test_subscription(big, 123_456_789_012_345_678);
        changed.id = 999;
        changed.time = chrono::NaiveTime::from_hms_opt(17, 30, 0).unwrap();
        changed.timezone = chrono_tz::America::New_York;
        changed.categories = vec![];
        changed.count = 3;
        changed.created_by = 8;
        let second = store.upsert_subscription(&changed).await.unwrap();
        assert_eq!(second.previous.as_ref().map(|p| p.id), Some(want.id));
        assert_eq!(
            second.previous.and_then(|p| p.disabled_reason).as_deref(),
            Some("channel deleted")
        );
        changed.id = want.id;
        assert_eq!(second.stored, changed);
        assert_eq!(
            store.active_subscriptions().await.unwrap(),
            vec![changed.clone()]
        );
        assert!(!store.disable_subscription(12345, "x").await.unwrap());
    }

    #[tokio::test]
    async fn subscriptions_list_by_guild_in_numeric_order_and_delete() {
        let store = SqliteStore::in_memory().await.unwrap();
        for (guild, channel) in [(1, 10), (1, 9), (2, 5), (1, 100)] {
            store
                .upsert_subscription(&test_subscription(guild, channel))
                .await
                .unwrap();
        }
        let channels = |subs: Vec<Subscription>| -> Vec<(u64, u64)> {
            subs.iter().map(|s| (s.guild_id, s.channel_id)).collect()
        };
        assert_eq!(
            channels(store.guild_subscriptions(1).await.unwrap()),
            [(1, 9), (1, 10), (1, 100)]
        );
        assert_eq!(
            channels(store.active_subscriptions().await.unwrap()),
            [(1, 9), (1, 10), (1, 100), (2, 5)]
        );
        // Deleting needs the right guild.
        assert_eq!(store.delete_subscription(2, 10).await.unwrap(), None);
        let gone = store.delete_subscription(1, 10).await.unwrap();
        assert_eq!(gone.map(|s| s.channel_id), Some(10));
        assert_eq!(store.delete_subscription(1, 10).await.unwrap(), None);
        assert_eq!(store.guild_subscriptions(1).await.unwrap().len(), 2);
        assert!(store.guild_subscriptions(3).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn bad_subscription_data_is_refused_or_reported() {
        let store = SqliteStore::in_memory().await.unwrap();
        let mut nan = test_subscription(1, 1);
        nan.min_score = f64::NAN;
        assert!(matches!(
            store.upsert_subscription(&nan).await,
            Err(StoreError::Query(_))
        ));
        assert!(store.guild_subscriptions(1).await.unwrap().is_empty());
        for (column, value, reported) in [
            ("timezone", "Mars/Olympus", "Mars/Olympus"),
            ("local_time", "25:00", "25:00"),
            ("channel_id", "general", "general"),
            ("categories", "{}", "categories"),
            ("count", "300", "300"),
            ("created_at", "yesterday", "yesterday"),
        ] {
            let store = SqliteStore::in_memory().await.unwrap();
            store
                .upsert_subscription(&test_subscription(1, 1))
                .await
                .unwrap();
            let sql = format!("UPDATE subscriptions SET {column} = ?1");
            sqlx::query(AssertSqlSafe(sql))
                .bind(value)
                .execute(store.pool())
                .await
                .unwrap();
            let err = store.guild_subscriptions(1).await.unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{column}: {err}");
            assert!(err.to_string().contains(reported), "{column}: {err}");
        }
    }
}

#[cfg(test)]
mod post_log_tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn post_log_goes_from_nothing_to_sending_to_sent() {
        let s = SqliteStore::in_memory().await.unwrap();
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let at = Utc.with_ymd_and_hms(2021, 7, 3, 8, 0, 0).unwrap();
        assert_eq!(s.post_state(7, d).await.unwrap(), None);
        s.begin_post(7, d, "hp2021070200000000000007", at)
            .await
            .unwrap();
        assert_eq!(
            s.post_state(7, d).await.unwrap().as_deref(),
            Some("sending")
        );
        assert_eq!(s.post_state(8, d).await.unwrap(), None);
        s.finish_post(7, d, &[1, 2], at).await.unwrap();
        assert_eq!(s.post_state(7, d).await.unwrap().as_deref(), Some("sent"));
        // --force: begin again resets the row to sending.
        s.begin_post(7, d, "hp2021070200000000000007", at)
            .await
            .unwrap();
        assert_eq!(
            s.post_state(7, d).await.unwrap().as_deref(),
            Some("sending")
        );
    }
}
