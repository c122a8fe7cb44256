//! Mentions: the posts that shared a paper (a tweet, a Bluesky post, a Hacker News story),
//! with who wrote them, what they said and how much engagement they got.
//!
//! Signals say *how much* attention a paper got; mentions say *who is talking*. They are what
//! the seed post embeds under every paper, and what a card links as "shared by @handle".
//! Only the latest observation of a post matters (its counts grow, its text may be edited),
//! so mentions are stored by upsert, like extras, not as a time series like signals.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::arxiv::ArxivId;

/// The counts a source reports for one post. A count the source does not have is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionCounts {
    /// Retweets (X) or reposts (Bluesky).
    pub reposts: u64,
    /// Likes (X's former favorites, Bluesky likes).
    pub likes: u64,
    /// Replies, or a Hacker News story's comments.
    pub replies: u64,
    /// Quote posts.
    pub quotes: u64,
    /// A Hacker News story's points.
    pub points: u64,
}

impl MentionCounts {
    /// The engagement a post is ordered by: reposts + likes + points. The seed post ranked by
    /// "retweets + favorites"; Hacker News has points instead, and a story's points play the
    /// same role. Replies and quotes are shown but do not order: a flame war is not praise.
    pub fn engagement(&self) -> u64 {
        self.reposts
            .saturating_add(self.likes)
            .saturating_add(self.points)
    }
}

/// One post that shared a paper, as its source last saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Version-less paper id. A post that links two papers is one mention of each.
    pub paper: ArxivId,
    /// Source name as in the config: `x`, `bluesky`, `hn`.
    pub source: String,
    /// The post's id within its source: a tweet id, an `at://` URI, an HN item id.
    pub post_id: String,
    /// The author's handle without `@` (`ak92501`, `alice.bsky.social`, an HN user name),
    /// when the source reported one.
    pub author_handle: Option<String>,
    /// The author's display name (`AK`), when the source reported one.
    pub author_name: Option<String>,
    /// What the post said: a tweet's or post's text, an HN story's title. Raw upstream text:
    /// every renderer escapes it for its own format.
    pub text: String,
    /// The post's public page (`https://twitter.com/{handle}/status/{id}`,
    /// `https://bsky.app/profile/{handle}/post/{rkey}`, `https://news.ycombinator.com/item?id=…`).
    pub url: String,
    /// When the post was written.
    pub posted_at: DateTime<Utc>,
    /// Its counts when last observed.
    pub counts: MentionCounts,
    /// When the source was asked.
    pub observed_at: DateTime<Utc>,
}

impl Mention {
    /// See [`MentionCounts::engagement`].
    pub fn engagement(&self) -> u64 {
        self.counts.engagement()
    }

    /// Orders mentions the way "who is talking" lists show them: most engagement first, then
    /// the earliest post (who shared it first), then by source and id so the order is total.
    pub fn by_engagement(a: &Mention, b: &Mention) -> std::cmp::Ordering {
        b.engagement()
            .cmp(&a.engagement())
            .then(a.posted_at.cmp(&b.posted_at))
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.post_id.cmp(&b.post_id))
    }
}

/// Stored mentions. Every write is idempotent.
#[async_trait]
pub trait MentionStore: Send + Sync + std::fmt::Debug {
    /// Stores mentions, one per (source, post, paper). A newer observation replaces the stored
    /// author, text, URL and counts; an observation older than the stored one is ignored (a
    /// late, slow sweep cannot roll counts back). Papers need not be stored. A mention with
    /// an empty source, post id or URL is an error and nothing is written.
    async fn record_mentions(&self, mentions: &[Mention]) -> Result<(), StoreError>;

    /// For each of `papers`, its `per_paper` mentions with the most engagement, ordered as
    /// [`Mention::by_engagement`] within each paper; papers in key order. `per_paper == 0`
    /// returns nothing.
    async fn top_mentions(
        &self,
        papers: &[ArxivId],
        per_paper: usize,
    ) -> Result<Vec<Mention>, StoreError>;
}
