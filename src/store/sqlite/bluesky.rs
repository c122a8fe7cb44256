//! [`BlueskyStore`] on SQLite: the `bluesky_posts`, `bluesky_post_papers` and
//! `bluesky_interactions` tables.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use sqlx::AssertSqlSafe;

use super::{
    SqliteStore, corrupt, decode_id, decode_timestamp, encode_timestamp, query_error, read_error,
};
use crate::arxiv::ArxivId;
use crate::store::{
    BlueskyCounts, BlueskyInteraction, BlueskyOutcome, BlueskyPost, BlueskyStore, BlueskyWrite,
    StoreError, StoredBlueskyPost,
};

impl SqliteStore {
    /// Whether a Bluesky post is stored (a read, no write lock).
    fn bluesky_post_stored(&self, uri: &str) -> Result<bool, StoreError> {
        self.read(|c| post_stored(c, uri))
    }
}

/// Whether a post is stored, on `conn`.
fn post_stored(conn: &Connection, uri: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM bluesky_posts WHERE uri = ?1)")
        .and_then(|mut q| q.query_row([uri], |r| r.get(0)))
        .map_err(read_error)
}

/// The paper keys of `post`, version-less and deduplicated; a post with none is an error.
fn post_papers(post: &BlueskyPost) -> Result<BTreeSet<&str>, StoreError> {
    let papers: BTreeSet<&str> = post.papers.iter().map(ArxivId::key).collect();
    if papers.is_empty() {
        return Err(StoreError::Query(format!(
            "Bluesky post {} links no paper; only posts that link papers are stored",
            post.uri
        )));
    }
    Ok(papers)
}

// The writes themselves, on the rusqlite connection inside a write transaction
// (`SqliteStore::write_batch`): the single-write methods and `bluesky_apply` run the same
// functions, so a batch does exactly what the writes one by one would. Statements stay
// prepared in the connection's cache.

/// Runs `sql` with `params` on `conn`; the number of rows it changed.
fn run(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut q| q.execute(params))
        .map_err(read_error)
}

/// [`BlueskyStore::bluesky_upsert_post`] inside a transaction.
fn upsert_post_in(conn: &Connection, post: &BlueskyPost) -> Result<bool, StoreError> {
    let papers = post_papers(post)?;
    let created_at = encode_timestamp(&post.created_at)?;
    let stored: Option<(String, String)> = conn
        .prepare_cached("SELECT author_did, created_at FROM bluesky_posts WHERE uri = ?1")
        .and_then(|mut q| {
            q.query_row([&post.uri], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(read_error)?;
    let stored_papers: BTreeSet<String> = if stored.is_some() {
        conn.prepare_cached("SELECT paper_id FROM bluesky_post_papers WHERE post_uri = ?1")
            .and_then(|mut q| q.query_map([&post.uri], |r| r.get(0))?.collect())
            .map_err(read_error)?
    } else {
        BTreeSet::new()
    };
    let same_row = stored
        .as_ref()
        .is_some_and(|(did, at)| *did == post.author_did && *at == created_at);
    let same_papers = stored_papers.len() == papers.len()
        && stored_papers.iter().zip(&papers).all(|(a, b)| a == b);
    if same_row && same_papers {
        return Ok(false);
    }
    // Upsert, never REPLACE: a REPLACE deletes the row and would cascade to its interactions.
    run(
        conn,
        "INSERT INTO bluesky_posts (uri, author_did, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (uri) DO UPDATE SET author_did = excluded.author_did, \
         created_at = excluded.created_at",
        (&post.uri, &post.author_did, &created_at),
    )?;
    if !same_papers {
        run(
            conn,
            "DELETE FROM bluesky_post_papers WHERE post_uri = ?1",
            [&post.uri],
        )?;
        for key in &papers {
            run(
                conn,
                "INSERT INTO bluesky_post_papers (post_uri, paper_id) VALUES (?1, ?2)",
                (&post.uri, *key),
            )?;
        }
    }
    Ok(true)
}

/// [`BlueskyStore::bluesky_delete_post`] inside a transaction.
fn delete_post_in(conn: &Connection, uri: &str) -> Result<bool, StoreError> {
    Ok(run(conn, "DELETE FROM bluesky_posts WHERE uri = ?1", [uri])? > 0)
}

/// [`BlueskyStore::bluesky_record_interaction`] inside a transaction, with `subject` as the
/// interaction's subject.
fn record_interaction_in(
    conn: &Connection,
    interaction: &BlueskyInteraction,
    subject: &str,
) -> Result<bool, StoreError> {
    let stored = post_stored(conn, subject)?;
    if stored {
        run(
            conn,
            "INSERT INTO bluesky_interactions (did, collection, rkey, kind, subject_uri) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (did, collection, rkey, kind) DO NOTHING",
            (
                &interaction.did,
                &interaction.collection,
                &interaction.rkey,
                interaction.kind.as_str(),
                subject,
            ),
        )?;
    }
    Ok(stored)
}

/// [`BlueskyStore::bluesky_delete_interactions`] inside a transaction.
fn delete_interactions_in(
    conn: &Connection,
    did: &str,
    collection: &str,
    rkey: &str,
) -> Result<u64, StoreError> {
    let removed = run(
        conn,
        "DELETE FROM bluesky_interactions WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
        (did, collection, rkey),
    )?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}

/// `write` applied on `conn` inside a transaction: what `bluesky_apply` does for each write.
fn apply_in(conn: &Connection, write: &BlueskyWrite) -> Result<BlueskyOutcome, StoreError> {
    Ok(match write {
        BlueskyWrite::UpsertPost(post) => BlueskyOutcome::PostUpserted(upsert_post_in(conn, post)?),
        BlueskyWrite::DeletePost(uri) => BlueskyOutcome::PostDeleted(delete_post_in(conn, uri)?),
        BlueskyWrite::RecordInteraction {
            interaction,
            or_subject,
        } => {
            let mut counted = record_interaction_in(conn, interaction, &interaction.subject_uri)?;
            if !counted && let Some(subject) = or_subject {
                counted = record_interaction_in(conn, interaction, subject)?;
            }
            BlueskyOutcome::InteractionRecorded(counted)
        }
        BlueskyWrite::DeleteInteractions {
            did,
            collection,
            rkey,
        } => BlueskyOutcome::InteractionsDeleted(delete_interactions_in(
            conn, did, collection, rkey,
        )?),
    })
}

#[async_trait]
impl BlueskyStore for SqliteStore {
    /// Papers are stored version-less and deduplicated. An identical post writes nothing.
    async fn bluesky_upsert_post(&self, post: &BlueskyPost) -> Result<bool, StoreError> {
        post_papers(post)?;
        let post = post.clone();
        self.write_batch(move |c| upsert_post_in(c, &post)).await
    }

    async fn bluesky_delete_post(&self, uri: &str) -> Result<bool, StoreError> {
        // Most deleted posts never linked a paper: look before taking the write lock.
        if !self.bluesky_post_stored(uri)? {
            return Ok(false);
        }
        let uri = uri.to_string();
        self.write_batch(move |c| delete_post_in(c, &uri)).await
    }

    /// The firehose is mostly likes of posts we do not keep: the subject is looked up without
    /// the write lock first, and only a hit takes it.
    async fn bluesky_record_interaction(
        &self,
        interaction: &BlueskyInteraction,
    ) -> Result<bool, StoreError> {
        if !self.bluesky_post_stored(&interaction.subject_uri)? {
            return Ok(false);
        }
        let interaction = interaction.clone();
        // The subject may have been deleted since the look-up: asked again under the lock.
        self.write_batch(move |c| record_interaction_in(c, &interaction, &interaction.subject_uri))
            .await
    }

    async fn bluesky_delete_interactions(
        &self,
        did: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<u64, StoreError> {
        let stored: bool = self.read(|c| {
            c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM bluesky_interactions \
                 WHERE did = ?1 AND collection = ?2 AND rkey = ?3)",
            )
            .and_then(|mut q| q.query_row((did, collection, rkey), |r| r.get(0)))
            .map_err(read_error)
        })?;
        if !stored {
            return Ok(0);
        }
        let (did, collection, rkey) = (did.to_string(), collection.to_string(), rkey.to_string());
        self.write_batch(move |c| delete_interactions_in(c, &did, &collection, &rkey))
            .await
    }

    /// One `BEGIN IMMEDIATE` transaction for the whole batch: all of it is stored or, on an
    /// error, none of it. Inside it there is no look-up before the lock (the lock is held
    /// already), so each write is one or two statements. A post without papers fails the
    /// batch before anything is written.
    async fn bluesky_apply(
        &self,
        writes: &[BlueskyWrite],
    ) -> Result<Vec<BlueskyOutcome>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        for write in writes {
            if let BlueskyWrite::UpsertPost(post) = write {
                post_papers(post)?;
            }
        }
        let writes = writes.to_vec();
        self.write_batch(move |c| writes.iter().map(|w| apply_in(c, w)).collect())
            .await
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

    async fn bluesky_post_uris(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT uri FROM bluesky_posts")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BlueskyInteractionKind, BlueskyOutcome, BlueskyPost, BlueskyWrite};
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

    /// A batch answers and stores what the single writes do; a reply's second subject counts
    /// only when the first is not stored; a failing batch stores none of it.
    #[tokio::test]
    async fn a_batch_is_the_single_writes_in_one_transaction() {
        let p = post("a", 1, &["2107.00641"]);
        let q = post("b", 2, &["2401.04670"]);
        let reply = BlueskyInteraction {
            did: "did:plc:r".into(),
            collection: "app.bsky.feed.post".into(),
            rkey: "r1".into(),
            kind: BlueskyInteractionKind::Reply,
            subject_uri: "at://did:plc:x/app.bsky.feed.post/unknown".into(),
        };
        let writes = vec![
            BlueskyWrite::UpsertPost(p.clone()),
            BlueskyWrite::UpsertPost(p.clone()),
            BlueskyWrite::UpsertPost(q.clone()),
            BlueskyWrite::RecordInteraction {
                interaction: like("did:plc:l", "1", &p.uri),
                or_subject: None,
            },
            BlueskyWrite::RecordInteraction {
                interaction: like("did:plc:m", "1", &q.uri),
                or_subject: None,
            },
            BlueskyWrite::RecordInteraction {
                interaction: reply.clone(),
                or_subject: Some(p.uri.clone()),
            },
            BlueskyWrite::DeleteInteractions {
                did: "did:plc:l".into(),
                collection: "app.bsky.feed.like".into(),
                rkey: "1".into(),
            },
            BlueskyWrite::DeletePost(q.uri.clone()),
            BlueskyWrite::DeletePost(q.uri.clone()),
            BlueskyWrite::RecordInteraction {
                interaction: like("did:plc:n", "1", &q.uri),
                or_subject: None,
            },
        ];
        let batched = SqliteStore::in_memory().await.unwrap();
        let outcomes = batched.bluesky_apply(&writes).await.unwrap();
        use BlueskyOutcome::*;
        assert_eq!(
            outcomes,
            vec![
                PostUpserted(true),
                PostUpserted(false),
                PostUpserted(true),
                InteractionRecorded(true),
                InteractionRecorded(true),
                InteractionRecorded(true),
                InteractionsDeleted(1),
                PostDeleted(true),
                PostDeleted(false),
                InteractionRecorded(false),
            ]
        );
        // The same writes through the single-write methods, each its own transaction.
        let single = SqliteStore::in_memory().await.unwrap();
        let mut one_by_one = Vec::new();
        for write in &writes {
            one_by_one.push(match write {
                BlueskyWrite::UpsertPost(post) => {
                    PostUpserted(single.bluesky_upsert_post(post).await.unwrap())
                }
                BlueskyWrite::DeletePost(uri) => {
                    PostDeleted(single.bluesky_delete_post(uri).await.unwrap())
                }
                BlueskyWrite::RecordInteraction {
                    interaction,
                    or_subject,
                } => {
                    let mut counted = single
                        .bluesky_record_interaction(interaction)
                        .await
                        .unwrap();
                    if let (false, Some(subject)) = (counted, or_subject) {
                        let instead = BlueskyInteraction {
                            subject_uri: subject.clone(),
                            ..interaction.clone()
                        };
                        counted = single.bluesky_record_interaction(&instead).await.unwrap();
                    }
                    InteractionRecorded(counted)
                }
                BlueskyWrite::DeleteInteractions {
                    did,
                    collection,
                    rkey,
                } => InteractionsDeleted(
                    single
                        .bluesky_delete_interactions(did, collection, rkey)
                        .await
                        .unwrap(),
                ),
            });
        }
        assert_eq!(one_by_one, outcomes);
        let all =
            |s: SqliteStore| async move { s.bluesky_posts_in_window(at(0), at(59)).await.unwrap() };
        let stored = all(batched.clone()).await;
        assert_eq!(stored, all(single).await);
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0].counts,
            BlueskyCounts {
                replies: 1,
                ..BlueskyCounts::default()
            },
            "the reply counted for its second subject"
        );

        // A post without papers fails the whole batch before anything is written.
        let bad = vec![
            BlueskyWrite::UpsertPost(post("c", 3, &["2107.00641"])),
            BlueskyWrite::UpsertPost(post("d", 4, &[])),
        ];
        assert!(batched.bluesky_apply(&bad).await.is_err());
        assert_eq!(all(batched.clone()).await.len(), 1);
        assert!(batched.bluesky_apply(&[]).await.unwrap().is_empty());
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
