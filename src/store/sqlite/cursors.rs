//! [`CursorStore`] on SQLite: the `kv` table, one text value per text key.
//!
//! The key scheme is fixed by the databases already written (keys are never migrated), and it
//! is known only here:
//!
//! | key | value |
//! |---|---|
//! | `bluesky.jetstream.cursor` | the Jetstream `time_us`, decimal |
//! | `x.requests.YYYY-MM-DD` | X requests charged to that UTC day, decimal |
//! | `collected.<source>.YYYY-MM-DD` | when `source` last swept that mailing, RFC 3339 |
//! | `looked_up.<source>.<paper key>` | when `source` last answered about the paper (version-less key), RFC 3339 |
//!
//! Times are written with chrono's `to_rfc3339` (not [`super::encode_timestamp`]): that is the
//! form existing rows have, and nothing sorts or compares them in SQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use rusqlite::OptionalExtension;

use std::sync::Arc;

use super::reader::Checkpoint;
use super::{SqliteStore, corrupt, query_error, read_error};
use crate::arxiv::ArxivId;
use crate::store::{CursorStore, StoreError};

/// The key of the saved Jetstream cursor.
const JETSTREAM_CURSOR_KEY: &str = "bluesky.jetstream.cursor";

/// The key of the number of X requests charged to UTC day `day`.
fn x_requests_key(day: NaiveDate) -> String {
    format!("x.requests.{}", day.format("%Y-%m-%d"))
}

/// The key of when `source` last swept mailing `mailing`.
fn collected_key(source: &str, mailing: NaiveDate) -> String {
    format!("collected.{source}.{mailing}")
}

/// The key of when `source` last answered about `paper` (its version-less key).
fn looked_up_key(source: &str, paper: &ArxivId) -> String {
    format!("looked_up.{source}.{}", paper.key())
}

/// A stored time: any RFC 3339 text, `None` for anything else (see [`CursorStore`]).
fn parse_time(raw: Option<String>) -> Option<DateTime<Utc>> {
    raw.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

impl SqliteStore {
    /// The value stored under `key`, if any.
    fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM kv WHERE key = ?1")
                .and_then(|mut q| q.query_row([key], |r| r.get(0)).optional())
                .map_err(read_error)
        })
    }

    /// Stores `value` under `key`, replacing any previous value (an identical value writes
    /// nothing).
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
}

#[async_trait]
impl CursorStore for SqliteStore {
    async fn check_writable(&self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.kv_set("health_check", &at.to_rfc3339()).await
    }

    async fn checkpoint(&self) -> Result<(), StoreError> {
        // On the checkpointer connection, after any background checkpoint still running (a
        // second checkpoint at the same time would find the log locked and do nothing).
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.checkpoint(Checkpoint::Truncate))
            .await
            .map_err(|e| StoreError::Query(format!("the checkpoint task failed: {e}")))?
    }

    /// Surrounding whitespace is ignored.
    async fn jetstream_cursor(&self) -> Result<Option<i64>, StoreError> {
        let Some(raw) = self.kv_get(JETSTREAM_CURSOR_KEY)? else {
            return Ok(None);
        };
        raw.trim().parse::<i64>().map(Some).map_err(|_| {
            corrupt(
                format!("the Jetstream cursor ({JETSTREAM_CURSOR_KEY})"),
                &format!("'{raw}' is not a time_us"),
            )
        })
    }

    async fn set_jetstream_cursor(&self, time_us: i64) -> Result<(), StoreError> {
        self.kv_set(JETSTREAM_CURSOR_KEY, &time_us.to_string())
            .await
    }

    /// Surrounding whitespace is ignored.
    async fn x_requests_used(&self, day: NaiveDate) -> Result<u32, StoreError> {
        let key = x_requests_key(day);
        let Some(raw) = self.kv_get(&key)? else {
            return Ok(0);
        };
        raw.trim().parse::<u32>().map_err(|_| {
            corrupt(
                format!("the X request count of {day} ({key})"),
                &format!("'{raw}' is not a count"),
            )
        })
    }

    async fn set_x_requests_used(&self, day: NaiveDate, used: u32) -> Result<(), StoreError> {
        self.kv_set(&x_requests_key(day), &used.to_string()).await
    }

    async fn collected_at(
        &self,
        source: &str,
        mailing: NaiveDate,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(parse_time(self.kv_get(&collected_key(source, mailing))?))
    }

    async fn set_collected_at(
        &self,
        source: &str,
        mailing: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.kv_set(&collected_key(source, mailing), &at.to_rfc3339())
            .await
    }

    async fn looked_up_at(
        &self,
        source: &str,
        paper: &ArxivId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(parse_time(self.kv_get(&looked_up_key(source, paper))?))
    }

    async fn set_looked_up_at(
        &self,
        source: &str,
        paper: &ArxivId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.kv_set(&looked_up_key(source, paper), &at.to_rfc3339())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 7, 2).unwrap()
    }

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).unwrap()
    }

    /// Writes `value` under `key` as any version (or a hand edit) might have.
    async fn write_raw(store: &SqliteStore, key: &str, value: &str) {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(store.pool())
        .await
        .unwrap();
    }

    /// Every `kv` row, ordered by key.
    async fn rows(store: &SqliteStore) -> Vec<(String, String)> {
        sqlx::query_as("SELECT key, value FROM kv ORDER BY key")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn kv_round_trips_and_overwrites() {
        let store = SqliteStore::in_memory().await.unwrap();
        assert_eq!(store.kv_get("cursor").unwrap(), None);
        store.kv_set("cursor", "1").await.unwrap();
        store.kv_set("cursor", "2").await.unwrap();
        assert_eq!(store.kv_get("cursor").unwrap().as_deref(), Some("2"));
    }

    #[test]
    fn budget_keys_are_per_utc_day() {
        assert_eq!(x_requests_key(day()), "x.requests.2021-07-02");
    }

    #[tokio::test]
    async fn nothing_saved_reads_as_never() {
        let store = SqliteStore::in_memory().await.unwrap();
        assert_eq!(store.jetstream_cursor().await.unwrap(), None);
        assert_eq!(store.x_requests_used(day()).await.unwrap(), 0);
        assert_eq!(store.collected_at("hn", day()).await.unwrap(), None);
        assert_eq!(
            store.looked_up_at("hn", &id("2107.00641")).await.unwrap(),
            None
        );
    }

    /// The keys and value forms on disk are those earlier versions wrote, so existing
    /// databases keep their cursor, budgets and sweep times.
    #[tokio::test]
    async fn keys_and_values_on_disk_are_unchanged() {
        let store = SqliteStore::in_memory().await.unwrap();
        let at = Utc.with_ymd_and_hms(2021, 7, 2, 12, 0, 0).unwrap();
        store
            .set_jetstream_cursor(1_625_227_200_000_000)
            .await
            .unwrap();
        store.set_x_requests_used(day(), 3).await.unwrap();
        store.set_collected_at("hn", day(), at).await.unwrap();
        store
            .set_looked_up_at("x", &id("2107.00641v2"), at)
            .await
            .unwrap();
        let want: Vec<(String, String)> = [
            ("bluesky.jetstream.cursor", "1625227200000000"),
            ("collected.hn.2021-07-02", "2021-07-02T12:00:00+00:00"),
            ("looked_up.x.2107.00641", "2021-07-02T12:00:00+00:00"),
            ("x.requests.2021-07-02", "3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(rows(&store).await, want);

        // Rows as earlier versions (or a hand edit) left them read back.
        write_raw(&store, "x.requests.2021-07-02", " 7\n").await;
        write_raw(&store, "bluesky.jetstream.cursor", "-5").await;
        write_raw(
            &store,
            "collected.hn.2021-07-02",
            "2021-07-02T14:00:00.5+02:00",
        )
        .await;
        assert_eq!(store.x_requests_used(day()).await.unwrap(), 7);
        assert_eq!(store.jetstream_cursor().await.unwrap(), Some(-5));
        assert_eq!(
            store.collected_at("hn", day()).await.unwrap(),
            Some(at + chrono::Duration::milliseconds(500))
        );
        assert_eq!(
            store.looked_up_at("x", &id("2107.00641")).await.unwrap(),
            Some(at)
        );
        // Each piece is keyed on its own: another source, day or paper is unset.
        assert_eq!(store.collected_at("x", day()).await.unwrap(), None);
        assert_eq!(
            store.looked_up_at("hn", &id("2107.00641")).await.unwrap(),
            None
        );
        let next = day().succ_opt().unwrap();
        assert_eq!(store.x_requests_used(next).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn unreadable_values_are_reported_or_read_as_never() {
        let store = SqliteStore::in_memory().await.unwrap();
        write_raw(&store, "x.requests.2021-07-02", "garbage").await;
        write_raw(&store, "bluesky.jetstream.cursor", "yesterday").await;
        write_raw(&store, "collected.hn.2021-07-02", "not a time").await;
        write_raw(&store, "looked_up.hn.2107.00641", "").await;

        let err = store.x_requests_used(day()).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("2021-07-02") && msg.contains("garbage"),
            "{msg}"
        );
        let err = store.jetstream_cursor().await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("yesterday"), "{err}");
        assert_eq!(store.collected_at("hn", day()).await.unwrap(), None);
        assert_eq!(
            store.looked_up_at("hn", &id("2107.00641")).await.unwrap(),
            None
        );
        // Writing a good value repairs each.
        store.set_x_requests_used(day(), 1).await.unwrap();
        store.set_jetstream_cursor(9).await.unwrap();
        assert_eq!(store.x_requests_used(day()).await.unwrap(), 1);
        assert_eq!(store.jetstream_cursor().await.unwrap(), Some(9));
    }
}
