//! Persistence behind narrow, backend-neutral interfaces.
//!
//! The store keeps nine concerns, each behind its own trait, in its own file together with the
//! model types it owns:
//!
//! | trait | file | holds |
//! |---|---|---|
//! | [`PaperStore`] | `papers.rs` | papers, every version seen, extras (text about papers), full-text search |
//! | [`MailingStore`] | `mailings.rs` | mailings and their members, per-category counts of a mailing |
//! | [`SignalStore`] | `signals.rs` | attention snapshots, latest and over time |
//! | [`MentionStore`] | `mentions.rs` | the posts that shared a paper: who, what, how much engagement |
//! | [`BlueskyStore`] | `bluesky.rs` | Bluesky posts that link papers and the interactions counted for them |
//! | [`SubscriptionStore`] | `subscriptions.rs` | per-channel digest subscriptions |
//! | [`PostLog`] | `post_log.rs` | the post log that makes posting exactly-once |
//! | [`CursorStore`] | `cursors.rs` | small progress state: the Jetstream cursor, X request budgets, when a source last swept a mailing or looked up a paper |
//! | [`SummaryStore`] | `summaries.rs` | the LLM summary cache and the LLM's daily call counter |
//!
//! Why narrow traits: each concern's contract reads on its own, and a caller (or a test fake)
//! that needs one concern depends on that trait only; the X source, for one, holds just an
//! `Arc<dyn CursorStore>` for its request budget. [`Store`] is every concern at once: the app,
//! the bot and the CLI hold one `Arc<dyn Store>` and hand a slice of it on by trait upcasting
//! (`let budget: Arc<dyn CursorStore> = store;`).
//!
//! Progress state has typed methods rather than string keys, so the keys (and the text form of
//! their values) are the backend's business and a typo cannot split one counter in two.
//!
//! [`SqliteStore`] is the embedded default, implemented one concern per file under `sqlite/`.
//! A PostgreSQL backend for multi-process deployments would implement the nine traits (the
//! blanket impl then makes it a [`Store`]), with no change to callers.
//!
//! Every write is idempotent: repeating it with the same data changes nothing.

mod bluesky;
mod cursors;
mod mailings;
mod mentions;
mod papers;
mod post_log;
mod query;
mod signals;
pub mod sqlite;
mod subscriptions;
mod summaries;

pub use bluesky::{
    BlueskyCounts, BlueskyInteraction, BlueskyInteractionKind, BlueskyOutcome, BlueskyPost,
    BlueskyStore, BlueskyWrite, StoredBlueskyPost,
};
pub use cursors::CursorStore;
pub use mailings::{MailingMember, MailingPaper, MailingRecord, MailingSource, MailingStore};
pub use mentions::{Mention, MentionCounts, MentionStore};
pub use papers::{Extra, PaperStore, PreparedPapers, SEARCH_RANK_WINDOW, SearchHits, UpsertStats};
pub use post_log::{Claim, PostLog, PostRecord, PostState};
pub use query::{MAX_SEARCH_TERMS, QueryError, SearchQuery};
pub use signals::{PaperSignals, Signal, SignalStore};
pub use sqlite::SqliteStore;
pub use subscriptions::SubscriptionStore;
pub use summaries::{CachedSummary, LlmSummaryKey, SummaryStore};

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

/// The whole store: every concern's trait at once.
///
/// What the app, the bot and the CLI hold (`Arc<dyn Store>`), so that one value wires every
/// module; a part that needs one concern takes that trait instead (an `Arc<dyn Store>` upcasts
/// to it). Never implemented by hand: the blanket impl covers every type that implements all
/// the narrow traits.
pub trait Store:
    PaperStore
    + MailingStore
    + SignalStore
    + MentionStore
    + BlueskyStore
    + SubscriptionStore
    + PostLog
    + CursorStore
    + SummaryStore
    + Send
    + Sync
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: PaperStore
        + MailingStore
        + SignalStore
        + MentionStore
        + BlueskyStore
        + SubscriptionStore
        + PostLog
        + CursorStore
        + SummaryStore
        + Send
        + Sync
        + std::fmt::Debug
{
}
