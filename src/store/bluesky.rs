//! Bluesky: the posts that link arXiv papers and the likes, reposts, quotes and replies the
//! Jetstream listener counted for them.
//!
//! Its own trait because the listener writes it at firehose speed, event by event, and the
//! `bluesky` source reads it back per window or per paper; nothing else touches it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::arxiv::ArxivId;

/// A Bluesky post that links arXiv papers, as the Jetstream listener or a search saw it.
///
/// Only such posts are stored: they are what the `bluesky` source counts, and keeping nothing
/// else bounds the tables by arXiv attention rather than by the firehose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlueskyPost {
    /// `at://{did}/app.bsky.feed.post/{rkey}`: the key likes, reposts and quotes refer to.
    pub uri: String,
    /// The author's DID (what events carry; handles can change).
    pub author_did: String,
    /// When the post was written (its record's `createdAt`, bounded by when it was seen).
    pub created_at: DateTime<Utc>,
    /// The linked papers, version-less; never empty.
    pub papers: Vec<ArxivId>,
}

/// How a Bluesky record interacts with a stored post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlueskyInteractionKind {
    /// An `app.bsky.feed.like` of the post.
    Like,
    /// An `app.bsky.feed.repost` of the post.
    Repost,
    /// A post that embeds (quotes) the post.
    Quote,
    /// A post that replies to the post.
    Reply,
}

impl BlueskyInteractionKind {
    /// Every kind, in a fixed order.
    pub const ALL: [BlueskyInteractionKind; 4] = [
        BlueskyInteractionKind::Like,
        BlueskyInteractionKind::Repost,
        BlueskyInteractionKind::Quote,
        BlueskyInteractionKind::Reply,
    ];

    /// The stored name (`like`, `repost`, `quote`, `reply`).
    pub fn as_str(self) -> &'static str {
        match self {
            BlueskyInteractionKind::Like => "like",
            BlueskyInteractionKind::Repost => "repost",
            BlueskyInteractionKind::Quote => "quote",
            BlueskyInteractionKind::Reply => "reply",
        }
    }
}

/// One like, repost, quote or reply of a stored post, keyed on the record that made it
/// (`did` + `collection` + `rkey`) so that replayed events are counted once and delete events
/// (which carry only that key) can remove it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlueskyInteraction {
    /// The DID of the account whose record this is.
    pub did: String,
    /// The record's collection (`app.bsky.feed.like`, `app.bsky.feed.repost`,
    /// `app.bsky.feed.post`).
    pub collection: String,
    /// The record key.
    pub rkey: String,
    /// What the record does to the subject.
    pub kind: BlueskyInteractionKind,
    /// The URI of the stored post it likes, reposts, quotes or replies to.
    pub subject_uri: String,
}

/// Interactions the listener counted for one post.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlueskyCounts {
    /// Likes of the post.
    pub likes: u64,
    /// Reposts of the post.
    pub reposts: u64,
    /// Posts quoting the post.
    pub quotes: u64,
    /// Replies to the post (direct, or anywhere below it in its thread; see the listener).
    pub replies: u64,
}

/// A stored post with the interactions the listener counted for it; the fallback when the
/// AppView no longer returns the post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlueskyPost {
    /// The post as stored.
    pub post: BlueskyPost,
    /// What the listener counted for it.
    pub counts: BlueskyCounts,
}

/// One write of the Jetstream listener, for [`BlueskyStore::bluesky_apply`].
///
/// The listener buffers the writes of many events and hands them over at once: at firehose
/// speed the cost of a write is its transaction and its round trips to the database, not the
/// work itself. Each variant does exactly what the single-write method it names does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlueskyWrite {
    /// [`BlueskyStore::bluesky_upsert_post`].
    UpsertPost(BlueskyPost),
    /// [`BlueskyStore::bluesky_delete_post`] of this URI.
    DeletePost(String),
    /// [`BlueskyStore::bluesky_record_interaction`]; when its subject is not stored and
    /// `or_subject` is set, the same interaction with that subject instead (a reply counts for
    /// its thread's root when its parent is not stored, and which one is stored is only known
    /// when the write is applied).
    RecordInteraction {
        /// The interaction, with its first-choice subject.
        interaction: BlueskyInteraction,
        /// The subject to count it for when the first one is not stored.
        or_subject: Option<String>,
    },
    /// [`BlueskyStore::bluesky_delete_interactions`] of the record `did`/`collection`/`rkey`.
    DeleteInteractions {
        /// The DID of the account whose record it was.
        did: String,
        /// The record's collection.
        collection: String,
        /// The record key.
        rkey: String,
    },
}

/// What one [`BlueskyWrite`] did: the value its single-write method returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlueskyOutcome {
    /// [`BlueskyWrite::UpsertPost`]: whether anything changed.
    PostUpserted(bool),
    /// [`BlueskyWrite::DeletePost`]: whether the post was stored.
    PostDeleted(bool),
    /// [`BlueskyWrite::RecordInteraction`]: whether it was counted (for its subject or, failing
    /// that, for `or_subject`).
    InteractionRecorded(bool),
    /// [`BlueskyWrite::DeleteInteractions`]: how many interactions were removed.
    InteractionsDeleted(u64),
}

/// Stored Bluesky posts and their counted interactions. Every write is idempotent, so replayed
/// events change nothing.
#[async_trait]
pub trait BlueskyStore: Send + Sync + std::fmt::Debug {
    /// Bluesky: stores a post that links papers, or updates it (its author, time and paper
    /// list are replaced; the interactions counted for it are kept). Returns whether anything
    /// changed, so a replayed event is a no-op. A post with no papers is an error.
    async fn bluesky_upsert_post(&self, post: &BlueskyPost) -> Result<bool, StoreError>;

    /// Bluesky: removes a stored post and the interactions counted for it. Returns whether it
    /// was stored.
    async fn bluesky_delete_post(&self, uri: &str) -> Result<bool, StoreError>;

    /// Bluesky: counts an interaction with a stored post, once however often it is repeated
    /// (the same record in the same role). Returns whether the subject is a stored post;
    /// when it is not, nothing is stored.
    async fn bluesky_record_interaction(
        &self,
        interaction: &BlueskyInteraction,
    ) -> Result<bool, StoreError>;

    /// Bluesky: removes whatever the record `did`/`collection`/`rkey` counted (a deleted like,
    /// repost, quote or reply). Returns the number of interactions removed.
    async fn bluesky_delete_interactions(
        &self,
        did: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<u64, StoreError>;

    /// Bluesky: applies `writes` in order, as the single-write methods would one after the
    /// other, atomically, and returns what each did (one outcome per write, same order). The
    /// listener batches its writes this way because a transaction per event costs more than
    /// the event.
    async fn bluesky_apply(
        &self,
        writes: &[BlueskyWrite],
    ) -> Result<Vec<BlueskyOutcome>, StoreError>;

    /// Bluesky: stored posts created in `[since, until)`, with their counted interactions,
    /// oldest first.
    async fn bluesky_posts_in_window(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<StoredBlueskyPost>, StoreError>;

    /// Bluesky: stored posts that link `paper` (any version), oldest first.
    async fn bluesky_posts_of_paper(
        &self,
        paper: &ArxivId,
    ) -> Result<Vec<StoredBlueskyPost>, StoreError>;

    /// Bluesky: removes posts created before `before` (and their interactions), so the tables
    /// keep a bounded history. Returns the number of posts removed.
    async fn bluesky_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Bluesky: the URI of every stored post. The listener keeps them in memory, so the likes
    /// and reposts of the other 99.9% of Bluesky never reach the store.
    async fn bluesky_post_uris(&self) -> Result<Vec<String>, StoreError>;
}
