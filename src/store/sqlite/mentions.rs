//! [`MentionStore`] on SQLite: the `mentions` table (`migrations/0005_mentions.sql`).

use std::collections::BTreeSet;

use async_trait::async_trait;
use rusqlite::ToSql;

use super::{
    ID_CHUNK, SqliteStore, corrupt, decode_id, decode_timestamp, encode_timestamp, placeholders,
    query_error, read_error,
};
use crate::arxiv::ArxivId;
use crate::store::{Mention, MentionCounts, MentionStore, StoreError};

/// A stored row, in `SELECT` column order.
type Row = (
    String,         // paper_id
    String,         // source
    String,         // post_id
    Option<String>, // author_handle
    Option<String>, // author_name
    String,         // text
    String,         // url
    String,         // posted_at
    i64,            // reposts
    i64,            // likes
    i64,            // replies
    i64,            // quotes
    i64,            // points
    String,         // observed_at
);

/// SQLite integers are signed: a count beyond `i64::MAX` (a broken upstream) is stored as it.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl MentionStore for SqliteStore {
    async fn record_mentions(&self, mentions: &[Mention]) -> Result<(), StoreError> {
        if mentions.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(mentions.len());
        for m in mentions {
            if m.source.is_empty() || m.post_id.is_empty() || m.url.is_empty() {
                return Err(StoreError::Query(format!(
                    "mention of {} has an empty source, post id or URL",
                    m.paper
                )));
            }
            rows.push((
                m,
                encode_timestamp(&m.posted_at)?,
                encode_timestamp(&m.observed_at)?,
            ));
        }
        let mut tx = self.begin_write().await?;
        for (m, posted_at, observed_at) in &rows {
            let c = &m.counts;
            sqlx::query(
                "INSERT INTO mentions (paper_id, source, post_id, author_handle, author_name, \
                 text, url, posted_at, reposts, likes, replies, quotes, points, engagement, \
                 observed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                 ON CONFLICT (paper_id, source, post_id) DO UPDATE SET \
                 author_handle = excluded.author_handle, author_name = excluded.author_name, \
                 text = excluded.text, url = excluded.url, posted_at = excluded.posted_at, \
                 reposts = excluded.reposts, likes = excluded.likes, \
                 replies = excluded.replies, quotes = excluded.quotes, \
                 points = excluded.points, engagement = excluded.engagement, \
                 observed_at = excluded.observed_at \
                 WHERE excluded.observed_at >= observed_at",
            )
            .bind(m.paper.versionless().key())
            .bind(&m.source)
            .bind(&m.post_id)
            .bind(&m.author_handle)
            .bind(&m.author_name)
            .bind(&m.text)
            .bind(&m.url)
            .bind(posted_at)
            .bind(count(c.reposts))
            .bind(count(c.likes))
            .bind(count(c.replies))
            .bind(count(c.quotes))
            .bind(count(c.points))
            .bind(count(c.engagement()))
            .bind(observed_at)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        }
        tx.commit().await.map_err(query_error)
    }

    /// Any number of ids is fine (queried in chunks within one read transaction).
    async fn top_mentions(
        &self,
        papers: &[ArxivId],
        per_paper: usize,
    ) -> Result<Vec<Mention>, StoreError> {
        let keys: BTreeSet<&str> = papers.iter().map(ArxivId::key).collect();
        if keys.is_empty() || per_paper == 0 {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = keys.into_iter().collect();
        let limit = i64::try_from(per_paper).unwrap_or(i64::MAX);
        let rows: Vec<Row> = self.read_snapshot(|c| {
            let mut rows = Vec::new();
            for chunk in keys.chunks(ID_CHUNK) {
                let mut q = c
                    .prepare_cached(&top_mentions_sql(chunk.len()))
                    .map_err(read_error)?;
                let mut params: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() + 1);
                params.extend(chunk.iter().map(|k| k as &dyn ToSql));
                params.push(&limit);
                let found = q
                    .query_map(params.as_slice(), |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            r.get(9)?,
                            r.get(10)?,
                            r.get(11)?,
                            r.get(12)?,
                            r.get(13)?,
                        ))
                    })
                    .map_err(read_error)?;
                for row in found {
                    rows.push(row.map_err(read_error)?);
                }
            }
            Ok(rows)
        })?;
        rows.into_iter().map(decode).collect()
    }
}

/// The top mentions of each of `n` bound paper ids, then the bound limit, by engagement, then
/// the earliest post, then source and id (the order of [`Mention::by_engagement`]). Anonymous
/// placeholders, bound in order: numbered ones make sqlx's binding quadratic (see
/// `tuples`).
fn top_mentions_sql(n: usize) -> String {
    format!(
        "SELECT paper_id, source, post_id, author_handle, author_name, text, url, posted_at, \
         reposts, likes, replies, quotes, points, observed_at FROM ( \
           SELECT *, ROW_NUMBER() OVER ( \
             PARTITION BY paper_id ORDER BY engagement DESC, posted_at, source, post_id \
           ) AS place FROM mentions WHERE paper_id IN ({}) \
         ) WHERE place <= ? ORDER BY paper_id, place",
        placeholders(n)
    )
}

fn decode(row: Row) -> Result<Mention, StoreError> {
    let (paper, source, post_id, author_handle, author_name, text, url, posted_at, ..) = &row;
    let what = || format!("mention {source}/{post_id} of {paper}");
    let time = |s: &str| decode_timestamp(s).map_err(|e| corrupt(what(), &e.to_string()));
    let unsigned = |n: i64| u64::try_from(n).map_err(|_| corrupt(what(), "negative count"));
    Ok(Mention {
        paper: decode_id(paper)?,
        source: source.clone(),
        post_id: post_id.clone(),
        author_handle: author_handle.clone(),
        author_name: author_name.clone(),
        text: text.clone(),
        url: url.clone(),
        posted_at: time(posted_at)?,
        counts: MentionCounts {
            reposts: unsigned(row.8)?,
            likes: unsigned(row.9)?,
            replies: unsigned(row.10)?,
            quotes: unsigned(row.11)?,
            points: unsigned(row.12)?,
        },
        observed_at: time(&row.13)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 7, 2, h, 0, 0).unwrap()
    }

    fn mention(paper: &str, id: &str, reposts: u64, likes: u64, observed: u32) -> Mention {
        Mention {
            paper: ArxivId::parse(paper).unwrap(),
            source: "x".into(),
            post_id: id.into(),
            author_handle: Some("ak92501".into()),
            author_name: Some("AK".into()),
            text: format!("tweet {id}"),
            url: format!("https://twitter.com/ak92501/status/{id}"),
            posted_at: at(1),
            counts: MentionCounts {
                reposts,
                likes,
                ..MentionCounts::default()
            },
            observed_at: at(observed),
        }
    }

    fn ids(ms: &[Mention]) -> Vec<(&str, &str)> {
        ms.iter()
            .map(|m| (m.paper.key(), m.post_id.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn top_mentions_are_per_paper_by_engagement_and_round_trip() {
        let store = SqliteStore::in_memory().await.unwrap();
        let mut early = mention("2107.00641", "1", 5, 5, 3);
        early.posted_at = at(0);
        let batch = vec![
            mention("2107.00641", "2", 100, 1, 3),
            mention("2107.00641", "3", 1, 1, 3),
            mention("2107.00641", "4", 8, 2, 3), // ties with "1", which was posted earlier
            early.clone(),
            mention("2107.00650", "9", 0, 0, 3),
        ];
        store.record_mentions(&batch).await.unwrap();
        store.record_mentions(&batch).await.unwrap(); // idempotent
        let papers = [
            ArxivId::parse("2107.00650").unwrap(),
            ArxivId::parse("2107.00641v2").unwrap(),
        ];
        let top = store.top_mentions(&papers, 3).await.unwrap();
        assert_eq!(
            ids(&top),
            [
                ("2107.00641", "2"),
                ("2107.00641", "1"),
                ("2107.00641", "4"),
                ("2107.00650", "9")
            ]
        );
        assert_eq!(top[1], early, "every field round-trips");
        assert!(store.top_mentions(&papers, 0).await.unwrap().is_empty());
        assert!(store.top_mentions(&[], 3).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn newer_observations_replace_and_older_ones_are_ignored() {
        let store = SqliteStore::in_memory().await.unwrap();
        let paper = [ArxivId::parse("2107.00641").unwrap()];
        store
            .record_mentions(&[mention("2107.00641", "1", 10, 10, 5)])
            .await
            .unwrap();
        store
            .record_mentions(&[mention("2107.00641", "1", 1, 1, 4)])
            .await
            .unwrap();
        let got = store.top_mentions(&paper, 5).await.unwrap();
        assert_eq!(got[0].counts.reposts, 10, "an older sweep cannot roll back");
        let mut edited = mention("2107.00641", "1", 20, 30, 6);
        edited.text = "edited".into();
        store.record_mentions(&[edited]).await.unwrap();
        let got = store.top_mentions(&paper, 5).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].counts.likes, got[0].text.as_str()), (30, "edited"));
    }

    #[tokio::test]
    async fn invalid_mentions_write_nothing_and_huge_counts_are_clamped() {
        let store = SqliteStore::in_memory().await.unwrap();
        let mut bad = mention("2107.00641", "", 1, 1, 1);
        bad.post_id.clear();
        let err = store
            .record_mentions(&[mention("2107.00641", "1", 1, 1, 1), bad])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let paper = [ArxivId::parse("2107.00641").unwrap()];
        assert!(store.top_mentions(&paper, 5).await.unwrap().is_empty());
        store
            .record_mentions(&[mention("2107.00641", "1", u64::MAX, u64::MAX, 1)])
            .await
            .unwrap();
        let got = store.top_mentions(&paper, 5).await.unwrap();
        assert_eq!(got[0].counts.reposts, i64::MAX as u64);
    }

    #[tokio::test]
    async fn corrupt_rows_are_reported_not_panicked() {
        let store = SqliteStore::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO mentions VALUES ('2107.00641', 'x', '1', NULL, NULL, 't', 'u', \
             'not a time', 0, 0, 0, 0, 0, 0, '2021-07-02T00:00:00.000000Z')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let err = store
            .top_mentions(&[ArxivId::parse("2107.00641").unwrap()], 3)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[tokio::test]
    async fn top_mentions_reads_the_engagement_index() {
        let store = SqliteStore::in_memory().await.unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", top_mentions_sql(2));
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(3i64)
            .bind("2107.00641")
            .bind("2107.00650")
            .fetch_all(store.pool())
            .await
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|r| r.3).collect();
        let plan = plan.join("\n");
        assert!(plan.contains("mentions_by_engagement"), "{plan}");
    }
}
