//! [`PostLog`] on SQLite: the `post_log` table.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::{SqliteStore, decode_timestamp, encode_timestamp, one_line, query_error};
use crate::store::{Claim, PostLog, PostRecord, PostState, StoreError};

/// A time as the lease columns store it: Unix milliseconds.
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

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

    async fn claim_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        owner: &str,
        nonce: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        force: bool,
    ) -> Result<Claim, StoreError> {
        // One statement: SQLite (and PostgreSQL) run an upsert atomically, so two claims can
        // never both see the lease free. `claims` is 1 only for the row this claim inserted
        // (a row written by `begin_post` or before migration 6 has 0, and becomes 2). The DO UPDATE's WHERE leaves a sent or leased row
        // alone, and then RETURNING gives nothing.
        let claims: Option<i64> = sqlx::query_scalar(
            "INSERT INTO post_log (channel_id, mailing_date, state, nonce, started_at, \
               lease_owner, lease_until, claims) \
             VALUES (?1, ?2, 'sending', ?3, ?4, ?5, ?6, 1) \
             ON CONFLICT (channel_id, mailing_date) DO UPDATE SET \
               lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, \
               claims = max(post_log.claims, 1) + 1, \
               state = CASE WHEN ?7 THEN 'sending' ELSE post_log.state END, \
               nonce = CASE WHEN ?7 THEN excluded.nonce ELSE post_log.nonce END, \
               started_at = CASE WHEN ?7 THEN excluded.started_at ELSE post_log.started_at END, \
               message_ids = CASE WHEN ?7 THEN '[]' ELSE post_log.message_ids END, \
               finished_at = CASE WHEN ?7 THEN NULL ELSE post_log.finished_at END, \
               error = CASE WHEN ?7 THEN NULL ELSE post_log.error END \
             WHERE (?7 OR post_log.state <> 'sent') \
               AND (post_log.lease_owner IS NULL OR post_log.lease_until IS NULL \
                    OR post_log.lease_until <= ?8 OR post_log.lease_owner = ?5) \
             RETURNING claims",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(nonce)
        .bind(encode_timestamp(&now)?)
        .bind(owner)
        .bind(millis(until))
        .bind(force)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        let record = self
            .post_record(channel_id, mailing)
            .await?
            .ok_or_else(|| {
                StoreError::Query(format!(
                    "the post log row of channel {channel_id} and mailing {mailing} vanished"
                ))
            })?;
        if let Some(claims) = claims {
            return Ok(Claim::Claimed {
                fresh: force || claims == 1,
                record,
            });
        }
        if record.state == PostState::Sent {
            return Ok(Claim::Sent(record));
        }
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM post_log WHERE channel_id = ?1 AND mailing_date = ?2",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?
        .flatten();
        Ok(Claim::Busy {
            until: until
                .and_then(DateTime::from_timestamp_millis)
                .unwrap_or(now),
        })
    }

    async fn renew_post_lease(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE post_log SET lease_until = ?4 \
             WHERE channel_id = ?1 AND mailing_date = ?2 AND lease_owner = ?3",
        )
        .bind(channel_id.to_string())
        .bind(mailing.format("%Y-%m-%d").to_string())
        .bind(owner)
        .bind(millis(until))
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
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
            "UPDATE post_log SET state = 'sent', message_ids = ?3, finished_at = ?4, \
             lease_owner = NULL, lease_until = NULL \
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
            "UPDATE post_log SET state = 'failed', error = ?3, finished_at = ?4, \
             lease_owner = NULL, lease_until = NULL \
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

    #[tokio::test]
    async fn one_claim_wins_and_a_dead_holders_lease_expires() {
        let s = SqliteStore::in_memory().await.unwrap();
        let d = NaiveDate::from_ymd_opt(2021, 7, 2).unwrap();
        let at = |m: i64| {
            Utc.with_ymd_and_hms(2021, 7, 3, 8, 0, 0).unwrap() + chrono::Duration::minutes(m)
        };
        let claim = |owner: &'static str, now: i64, force: bool| {
            let s = s.clone();
            async move {
                s.claim_post(7, d, owner, "n", at(now), at(now + 2), force)
                    .await
                    .unwrap()
            }
        };
        assert!(matches!(
            claim("a", 0, false).await,
            Claim::Claimed { fresh: true, .. }
        ));
        // b is refused while a's lease runs, even forced; a may claim again.
        assert_eq!(claim("b", 1, false).await, Claim::Busy { until: at(2) });
        assert_eq!(claim("b", 1, true).await, Claim::Busy { until: at(2) });
        assert!(matches!(
            claim("a", 1, false).await,
            Claim::Claimed { fresh: false, .. }
        ));
        // a renews, then dies; after its lease runs out b resumes the post (not fresh).
        assert!(s.renew_post_lease(7, d, "a", at(5)).await.unwrap());
        assert!(matches!(claim("b", 4, false).await, Claim::Busy { .. }));
        assert!(matches!(
            claim("b", 5, false).await,
            Claim::Claimed { fresh: false, .. }
        ));
        assert!(
            !s.renew_post_lease(7, d, "a", at(9)).await.unwrap(),
            "a lost it"
        );
        // Sent: nobody claims it, unless forced (which starts a fresh post).
        s.finish_post(7, d, &[1], at(6)).await.unwrap();
        assert!(matches!(claim("c", 6, false).await, Claim::Sent(_)));
        match claim("c", 6, true).await {
            Claim::Claimed {
                fresh: true,
                record,
            } => {
                assert_eq!(record.state, PostState::Sending);
                assert!(record.message_ids.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // A failure frees the lease at once.
        s.fail_post(7, d, "boom", at(7)).await.unwrap();
        assert!(matches!(
            claim("d", 7, false).await,
            Claim::Claimed { fresh: false, .. }
        ));
    }
}
