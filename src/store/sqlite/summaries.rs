//! [`SummaryStore`] on SQLite: the `llm_summaries` and `llm_calls` tables
//! (`migrations/0004_summaries.sql`).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{SqliteStore, corrupt, decode_timestamp, encode_date, encode_timestamp, query_error};
use crate::store::{CachedSummary, LlmSummaryKey, StoreError, SummaryStore};

#[async_trait]
impl SummaryStore for SqliteStore {
    async fn llm_summary(&self, key: &LlmSummaryKey) -> Result<Option<CachedSummary>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT text, created_at FROM llm_summaries \
             WHERE paper_id = ?1 AND version = ?2 AND model = ?3 AND prompt_version = ?4",
        )
        .bind(key.paper.key())
        .bind(i64::from(key.version))
        .bind(&key.model)
        .bind(i64::from(key.prompt_version))
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        let Some((text, created_at)) = row else {
            return Ok(None);
        };
        let created_at = decode_timestamp(&created_at).map_err(|e| {
            corrupt(
                format!("the LLM summary of {}v{}", key.paper.key(), key.version),
                &e.to_string(),
            )
        })?;
        Ok(Some(CachedSummary { text, created_at }))
    }

    async fn put_llm_summary(
        &self,
        key: &LlmSummaryKey,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO llm_summaries (paper_id, version, model, prompt_version, text, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (paper_id, version, model, prompt_version) DO UPDATE SET \
             text = excluded.text, created_at = excluded.created_at \
             WHERE text IS NOT excluded.text",
        )
        .bind(key.paper.key())
        .bind(i64::from(key.version))
        .bind(&key.model)
        .bind(i64::from(key.prompt_version))
        .bind(text)
        .bind(encode_timestamp(&at)?)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    /// One statement: the insert of a first call and the increment below the budget are a
    /// single upsert, which SQLite runs under its write lock, so the check and the count
    /// cannot be separated by another connection. `changes()` says whether it counted.
    async fn try_reserve_llm_call(&self, day: NaiveDate, budget: u32) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO llm_calls (day, calls) SELECT ?1, 1 WHERE ?2 > 0 \
             ON CONFLICT (day) DO UPDATE SET calls = calls + 1 WHERE calls < ?2",
        )
        .bind(encode_date(day)?)
        .bind(i64::from(budget))
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn llm_calls(&self, day: NaiveDate) -> Result<u32, StoreError> {
        let calls: Option<i64> = sqlx::query_scalar("SELECT calls FROM llm_calls WHERE day = ?1")
            .bind(encode_date(day)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        let Some(calls) = calls else {
            return Ok(0);
        };
        u32::try_from(calls).map_err(|_| {
            corrupt(
                format!("the LLM call count of {day}"),
                &format!("{calls} is not a count"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;
    use crate::arxiv::ArxivId;

    fn key(paper: &str, version: u32, model: &str, prompt_version: u32) -> LlmSummaryKey {
        LlmSummaryKey {
            paper: ArxivId::parse(paper).unwrap(),
            version,
            model: model.into(),
            prompt_version,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[tokio::test]
    async fn summaries_are_cached_per_paper_version_model_and_prompt() {
        let store = SqliteStore::in_memory().await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 6, 12, 0, 0).unwrap();
        let k = key("2107.00641v2", 2, "llama3.1:8b", 1);
        assert_eq!(store.llm_summary(&k).await.unwrap(), None);
        store.put_llm_summary(&k, "It works.", at).await.unwrap();
        let want = CachedSummary {
            text: "It works.".into(),
            created_at: at,
        };
        assert_eq!(store.llm_summary(&k).await.unwrap(), Some(want.clone()));
        // The version-less key is what is stored: the id's own version does not matter.
        assert_eq!(
            store
                .llm_summary(&key("2107.00641", 2, "llama3.1:8b", 1))
                .await
                .unwrap(),
            Some(want.clone())
        );
        for other in [
            key("2107.00641", 1, "llama3.1:8b", 1),
            key("2107.00641", 2, "gpt-4o-mini", 1),
            key("2107.00641", 2, "llama3.1:8b", 2),
            key("2107.00642", 2, "llama3.1:8b", 1),
        ] {
            assert_eq!(store.llm_summary(&other).await.unwrap(), None, "{other:?}");
        }
        // The same text again changes nothing; a new text replaces it.
        let later = at + chrono::Duration::hours(1);
        store.put_llm_summary(&k, "It works.", later).await.unwrap();
        assert_eq!(store.llm_summary(&k).await.unwrap(), Some(want));
        store
            .put_llm_summary(&k, "It still works.", later)
            .await
            .unwrap();
        assert_eq!(
            store.llm_summary(&k).await.unwrap(),
            Some(CachedSummary {
                text: "It still works.".into(),
                created_at: later
            })
        );
    }

    #[tokio::test]
    async fn the_budget_counts_per_day_and_stops_at_the_limit() {
        let store = SqliteStore::in_memory().await.unwrap();
        assert_eq!(store.llm_calls(day(6)).await.unwrap(), 0);
        assert!(!store.try_reserve_llm_call(day(6), 0).await.unwrap());
        assert_eq!(store.llm_calls(day(6)).await.unwrap(), 0);
        for _ in 0..2 {
            assert!(store.try_reserve_llm_call(day(6), 2).await.unwrap());
        }
        assert!(!store.try_reserve_llm_call(day(6), 2).await.unwrap());
        assert_eq!(store.llm_calls(day(6)).await.unwrap(), 2);
        // A raised budget allows more; a lowered one allows none.
        assert!(store.try_reserve_llm_call(day(6), 3).await.unwrap());
        assert!(!store.try_reserve_llm_call(day(6), 1).await.unwrap());
        assert_eq!(store.llm_calls(day(6)).await.unwrap(), 3);
        // The next day starts at zero.
        assert_eq!(store.llm_calls(day(7)).await.unwrap(), 0);
        assert!(store.try_reserve_llm_call(day(7), 1).await.unwrap());
        assert_eq!(store.llm_calls(day(7)).await.unwrap(), 1);
    }

    /// Many tasks on a file-backed store (several connections, as in production) race for
    /// the last calls: exactly the budget is granted and counted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reservations_never_exceed_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("hp.db")).await.unwrap());
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.try_reserve_llm_call(day(6), 7).await })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                granted += 1;
            }
        }
        assert_eq!(granted, 7);
        assert_eq!(store.llm_calls(day(6)).await.unwrap(), 7);
        store.close().await;
    }

    #[tokio::test]
    async fn an_unreadable_count_is_reported() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query("INSERT INTO llm_calls (day, calls) VALUES ('2026-03-06', 5000000000)")
            .execute(store.pool())
            .await
            .unwrap();
        let err = store.llm_calls(day(6)).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("2026-03-06"), "{err}");
    }
}
