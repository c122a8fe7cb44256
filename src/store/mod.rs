//! Persistence behind a narrow, backend-neutral interface.
//!
//! Callers hold an `Arc<dyn Store>`; [`sqlite::SqliteStore`] is the embedded default. A
//! PostgreSQL backend for multi-process deployments would be another implementation of
//! [`Store`], with no change to callers.

pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::arxiv::ArxivId;
use crate::arxiv::paper::{AnnounceType, Paper};
use crate::subscription::{Subscription, SubscriptionChange};

pub use sqlite::SqliteStore;

/// Errors from a store backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
    /// A migration failed (a newer binary's database, a corrupt file, ...).
    #[error("cannot migrate the store: {0}")]
    Migrate(String),
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(String),
    /// Stored data could not be decoded (written by an incompatible version?).
    #[error("corrupt stored data for {what}: {message}")]
    Corrupt { what: String, message: String },
}

/// How a mailing's membership was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailingSource {
    /// The API's `submittedDate` window for the mailing.
    Api,
    /// The new-submissions RSS feed on the day of the mailing.
    Rss,
    /// Atom files loaded with `hotpapers import`.
    Import,
}

impl MailingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MailingSource::Api => "api",
            MailingSource::Rss => "rss",
            MailingSource::Import => "import",
        }
    }
}

/// A mailing as recorded in the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailingRecord {
    /// arXiv's listing date.
    pub date: NaiveDate,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub source: MailingSource,
    /// When it was first ingested (unchanged by re-ingesting identical data).
    pub ingested_at: DateTime<Utc>,
    /// Number of member papers.
    pub paper_count: u32,
}

/// A paper in a mailing.
#[derive(Clone, Debug, PartialEq)]
pub struct MailingPaper {
    pub paper: Paper,
    pub announce_type: AnnounceType,
}

/// One observed attention value: `value` of `source.metric` for `paper` at `observed_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Version-less paper id.
    pub paper: ArxivId,
    /// Source name as in the config, e.g. `x`, `hn`, `bluesky`.
    pub source: String,
    /// Metric name within the source, e.g. `retweets`, `points`.
    pub metric: String,
    pub value: f64,
    pub observed_at: DateTime<Utc>,
}

/// A piece of text a source publishes about a paper: Hugging Face's AI summary and keywords,
/// its code and project links, Semantic Scholar's TL;DR.
///
/// Kept apart from [`Signal`] because it is text, not a number to rank by: the Summaries issue
/// shows it next to a paper, and only the latest value per (paper, source, key) matters, so it
/// is stored by upsert instead of as a time series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    /// Version-less paper id.
    pub paper: ArxivId,
    /// Source name as in the config, e.g. `hf`, `s2`.
    pub source: String,
    /// What the text is, within the source, e.g. `ai_summary`, `tldr`, `github_repo`.
    pub key: String,
    /// The text itself (lists are JSON arrays, see the source's docs).
    pub value: String,
    /// When the source was asked.
    pub observed_at: DateTime<Utc>,
}

/// A paper's latest signals as front ends show them: `source.metric` → value, and per source
/// when it was measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaperSignals {
    pub values: std::collections::BTreeMap<String, f64>,
    pub measured_at: std::collections::BTreeMap<String, DateTime<Utc>>,
}

impl PaperSignals {
    /// Groups snapshots by paper key; for each source the latest observation time wins.
    pub fn group(signals: &[Signal]) -> std::collections::BTreeMap<String, PaperSignals> {
        let mut out: std::collections::BTreeMap<String, PaperSignals> = Default::default();
        for s in signals {
            let entry = out.entry(s.paper.key().to_string()).or_default();
            entry
                .values
                .insert(format!("{}.{}", s.source, s.metric), s.value);
            let t = entry
                .measured_at
                .entry(s.source.clone())
                .or_insert(s.observed_at);
            if s.observed_at > *t {
                *t = s.observed_at;
            }
        }
        out
    }
}

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

/// What an upsert changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Papers not seen before.
    pub inserted: usize,
    /// Papers whose stored metadata changed (e.g. a newer version).
    pub updated: usize,
    /// Papers already stored exactly as given.
    pub unchanged: usize,
}

/// The store interface. Every write is idempotent: repeating it with the same data changes
/// nothing.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Inserts papers or updates their metadata. A paper is only updated when the incoming
    /// data differs; an older version never overwrites a newer one. Every version seen is
    /// remembered.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<UpsertStats, StoreError>;

    /// One paper by id (the version, if any, is ignored).
    async fn paper(&self, id: &ArxivId) -> Result<Option<Paper>, StoreError>;

    /// Versions of a paper seen so far, ascending.
    async fn versions(&self, id: &ArxivId) -> Result<Vec<u32>, StoreError>;

    /// Records mailing `record.date` with its members, atomically, replacing any previous
    /// membership of that mailing. Members must already be stored with `upsert_papers`.
    /// Re-recording identical data changes nothing (not even `ingested_at`).
    async fn record_mailing(
        &self,
        record: &MailingRecord,
        members: &[(ArxivId, AnnounceType)],
    ) -> Result<(), StoreError>;

    /// A recorded mailing.
    async fn mailing(&self, date: NaiveDate) -> Result<Option<MailingRecord>, StoreError>;

    /// The most recent recorded mailing.
    async fn latest_mailing(&self) -> Result<Option<MailingRecord>, StoreError>;

    /// Members of a mailing with their metadata, ordered by id.
    async fn mailing_papers(&self, date: NaiveDate) -> Result<Vec<MailingPaper>, StoreError>;

    /// Stores attention snapshots. A snapshot with the same (paper, source, metric,
    /// observed_at) as a stored one replaces its value.
    async fn record_signals(&self, signals: &[Signal]) -> Result<(), StoreError>;

    /// For each of `papers`, the latest snapshot of every (source, metric).
    async fn latest_signals(&self, papers: &[ArxivId]) -> Result<Vec<Signal>, StoreError>;

    /// A small piece of state (a stream cursor, a request budget), if set.
    async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets a small piece of state.
    async fn kv_set(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Stores text about papers, one value per (paper, source, key). Idempotent: an identical
    /// extra changes nothing, a newer observation replaces the value and its time, and an
    /// observation older than the stored one is ignored (a late, slow sweep cannot roll a
    /// summary back). Papers need not be stored.
    async fn record_extras(&self, extras: &[Extra]) -> Result<(), StoreError>;

    /// Every stored extra of `paper` (the version, if any, is ignored), ordered by source and
    /// key.
    async fn extras(&self, paper: &ArxivId) -> Result<Vec<Extra>, StoreError>;
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
    /// Full-text search over title, abstract and author names: the ids of the best matches,
    /// best first (`/search`).
    ///
    /// `query` is user text, never query syntax: operators, quotes and column filters in it
    /// are searched for literally and cannot cause an error. All words must match (in any
    /// field); words are stemmed and diacritics ignored. A query without letters or digits, or
    /// `limit == 0`, returns nothing.
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<ArxivId>, StoreError>;

    /// For mailing `date`, how many of its new and cross-listed papers list each category
    /// (`/categories`). Categories are keyed as arXiv writes them (aliases are not folded);
    /// categories without papers are absent. An unrecorded mailing gives an empty map.
    async fn category_counts(
        &self,
        date: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, u32>, StoreError>;

    /// Stores `sub` as the subscription of its (guild, channel), replacing the settings of an
    /// existing one (whose id is kept) and clearing its `disabled_reason`. `sub.id` is ignored.
    async fn upsert_subscription(
        &self,
        sub: &Subscription,
    ) -> Result<SubscriptionChange, StoreError>;

    /// Removes the subscription of a channel; returns it, or `None` when there was none.
    async fn delete_subscription(
        &self,
        guild_id: u64,
        channel_id: u64,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Every subscription of a guild, disabled ones included, ordered by channel id.
    async fn guild_subscriptions(&self, guild_id: u64) -> Result<Vec<Subscription>, StoreError>;

    /// Every subscription that is not disabled, across guilds, ordered by (guild, channel):
    /// what the scheduler runs.
    async fn active_subscriptions(&self) -> Result<Vec<Subscription>, StoreError>;

    /// Stops a subscription, keeping it listed with `reason` (a deleted channel, a missing
    /// permission) so admins see why. Returns whether a subscription with this id existed.
    async fn disable_subscription(&self, id: i64, reason: &str) -> Result<bool, StoreError>;

    /// The post log state of (channel, mailing): `"sending"`, `"sent"` or `"failed"`, or
    /// `None` when nothing was posted. `hotpapers post` reads it to post exactly once.
    async fn post_state(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<String>, StoreError>;

    /// Records that a post of (channel, mailing) is about to be sent with `nonce`, BEFORE
    /// sending, so a crash between send and record is detected (state `sending`) on rerun.
    async fn begin_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Marks (channel, mailing) as `sent` with the created message ids.
    async fn finish_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[u64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The whole post log row of (channel, mailing), or `None` when nothing was posted: what
    /// a delivery needs to resume a post interrupted mid-way (its nonce, when it started,
    /// which parts' message ids are known) or to report a failure.
    async fn post_record(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
    ) -> Result<Option<PostRecord>, StoreError>;

    /// Records the message ids of the parts sent so far while the row stays `sending` (one
    /// entry per part in order; `None` for a part not known to be sent), so a crash loses at
    /// most the part being sent. Returns whether the row exists.
    async fn post_progress(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        message_ids: &[Option<u64>],
    ) -> Result<bool, StoreError>;

    /// Puts a `failed` or interrupted row back to `sending` for a resumed attempt, keeping its
    /// nonce, `started_at` and known message ids (the resume looks for parts sent since
    /// `started_at`). Returns whether the row exists.
    async fn resume_post(&self, channel_id: u64, mailing: NaiveDate) -> Result<bool, StoreError>;

    /// Marks (channel, mailing) `failed` with a one-line `error` at `at`; a later attempt may
    /// resume it. Returns whether the row exists.
    async fn fail_post(
        &self,
        channel_id: u64,
        mailing: NaiveDate,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// The state of a post in the post log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostState {
    /// Recorded before sending; left so by a crash or shutdown mid-post.
    Sending,
    /// Every part was accepted by Discord.
    Sent,
    /// The last attempt failed; a later attempt may resume it.
    Failed,
}

impl PostState {
    /// The stored name (`sending`, `sent`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Sending => "sending",
            PostState::Sent => "sent",
            PostState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<PostState> {
        match s {
            "sending" => Some(PostState::Sending),
            "sent" => Some(PostState::Sent),
            "failed" => Some(PostState::Failed),
            _ => None,
        }
    }
}

/// One post log row: a digest posted (or being posted) to one channel or webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct PostRecord {
    /// Where the post stands.
    pub state: PostState,
    /// The nonce of the first part, as recorded by `begin_post`.
    pub nonce: String,
    /// When the (first) attempt began; a resume looks for parts sent after it.
    pub started_at: DateTime<Utc>,
    /// When it was sent, or when the last attempt failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Message ids per part, in part order; `None` where a part is not known to be sent.
    pub message_ids: Vec<Option<u64>>,
    /// The error of the last failed attempt.
    pub error: Option<String>,
}
