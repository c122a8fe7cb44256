//! [`SubscriptionStore`] on SQLite: the `subscriptions` table.

use async_trait::async_trait;

use super::{SqliteStore, corrupt, decode_timestamp, encode_timestamp, one_line, query_error};
use crate::store::{StoreError, SubscriptionStore};
use crate::subscription::{Subscription, SubscriptionChange};

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

#[async_trait]
impl SubscriptionStore for SqliteStore {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use sqlx::AssertSqlSafe;

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
