//! [`PostLog`] on SQLite: the `post_log` table.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{SqliteStore, decode_timestamp, encode_timestamp, one_line, query_error};
use crate::store::{PostLog, PostRecord, PostState, StoreError};

#[async_trait]
impl PostLog for SqliteStore {
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

#[cfg(test)]
mod tests {
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
