//! The reply model: what a command answers, before any front end renders it.
//!
//! Nothing here knows about Discord (embeds, mentions, buttons) or terminals. The console
//! renders a [`Reply`] as plain text (`crate::console::render`); the Discord front end turns the
//! same value into messages within Discord's limits.

use chrono::{DateTime, NaiveDate, Utc};

pub use crate::app::CategoryRow;
use crate::app::PaperCard;
use crate::arxiv::paper::Paper;
use crate::arxiv::taxonomy::Group;
use crate::digest::Digest;

use crate::store::SEARCH_RANK_WINDOW;
use crate::subscription::Subscription;

/// How many papers one page of a `/hot` answer shows on Discord (one embed each, well inside
/// the 10-embed and 6000-character message limits). The console shows every page at once.
pub const HOT_PAGE_SIZE: usize = 5;

/// A subscription with when it posts next.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionStatus {
    /// The stored subscription.
    pub subscription: Subscription,
    /// The next post time; `None` while the subscription is disabled.
    pub next_post: Option<DateTime<Utc>>,
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `/hot`: a ranked digest. `page` (0-based) of `per_page` entries is the part a paged
    /// front end shows first; `digest.entries` holds every entry.
    Digest {
        /// Every ranked entry (up to the requested count).
        digest: Box<Digest>,
        /// The page to show first, already clamped to the last page.
        page: usize,
        /// Entries per page ([`HOT_PAGE_SIZE`]).
        per_page: usize,
    },
    /// `/paper`: the full card.
    Paper(Box<PaperCard>),
    /// `/categories`: rows in arXiv's order, grouped by [`Group`] in front-page order.
    Categories {
        /// Active canonical categories (aliases and legacy ids left out).
        rows: Vec<CategoryRow>,
        /// The mailing the counts are from; `None` when no mailing is recorded yet.
        date: Option<NaiveDate>,
        /// The group asked for, if any.
        group: Option<Group>,
    },
    /// `/search`: the matching papers, best first.
    Search {
        /// The query as searched.
        query: String,
        /// Matching stored papers, best first (may be empty).
        hits: Vec<Paper>,
        /// How many stored papers match in all (`hits` is the best `limit` of them).
        total: usize,
    },
    /// `/subscribe` succeeded.
    Subscribed {
        /// The subscription as stored, with its first post time.
        status: SubscriptionStatus,
        /// Whether it replaced an earlier subscription of the channel.
        replaced: bool,
    },
    /// `/unsubscribe` removed this subscription.
    Unsubscribed(Box<Subscription>),
    /// `/subscriptions`: every subscription of the server, by channel id.
    Subscriptions(Vec<SubscriptionStatus>),
    /// `/preview`: the digest the channel's next post would show now.
    Preview {
        /// The subscription and its next post time.
        status: SubscriptionStatus,
        /// The mailing that post will show.
        mailing: NaiveDate,
        /// That mailing's digest with the subscription's categories, count and min_score.
        digest: Box<Digest>,
    },
    /// A short confirmation or notice.
    Ack {
        /// One line for the user.
        text: String,
        /// Whether only the invoker should see it.
        ephemeral: bool,
    },
    /// The request failed; `message` is one short line meant for the user.
    Error {
        /// One short line for the user; never internal details.
        message: String,
        /// Whether only the invoker should see it (always, from [`super::handle`]).
        ephemeral: bool,
    },
}

impl Reply {
    /// An ephemeral error (only the invoker sees it on Discord).
    pub fn error(message: impl Into<String>) -> Reply {
        Reply::Error {
            message: message.into(),
            ephemeral: true,
        }
    }

    /// Whether only the invoker should see the reply: errors, and everything about a server's
    /// subscriptions.
    pub fn is_ephemeral(&self) -> bool {
        match self {
            Reply::Ack { ephemeral, .. } | Reply::Error { ephemeral, .. } => *ephemeral,
            Reply::Subscribed { .. }
            | Reply::Unsubscribed(_)
            | Reply::Subscriptions(_)
            | Reply::Preview { .. } => true,
            Reply::Digest { .. }
            | Reply::Paper(_)
            | Reply::Categories { .. }
            | Reply::Search { .. } => false,
        }
    }

    /// Whether the reply reports a failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error { .. })
    }
}

/// How many pages of `per_page` entries `total` entries fill (at least 1, so an empty digest
/// still has a page that says so).
pub fn page_count(total: usize, per_page: usize) -> usize {
    if per_page == 0 {
        return 1;
    }
    total.div_ceil(per_page).max(1)
}

/// The index range of page `page` (clamped to the last page) in a list of `total` entries.
pub fn page_range(total: usize, per_page: usize, page: usize) -> std::ops::Range<usize> {
    if per_page == 0 {
        return 0..total;
    }
    let page = page.min(page_count(total, per_page) - 1);
    let start = (page * per_page).min(total);
    start..(start + per_page).min(total)
}

/// The heading of a `/search` answer for `quoted` (the query as the front end quotes it):
/// "3 of 6 papers matching "x"", "6 papers matching "x"", "1 paper matching "x"" (`shown` of
/// `total` matches), the same in every front end. When more papers match than the store ranks
/// ([`SEARCH_RANK_WINDOW`]), it ends "(best of the newest 5,000)", so nobody takes the shown
/// ones for the best of all time.
pub fn search_heading(shown: usize, total: usize, quoted: &str) -> String {
    let total = total.max(shown);
    let noun = if total == 1 { "paper" } else { "papers" };
    let count = crate::number::grouped(total as f64);
    let heading = if shown < total {
        format!("{shown} of {count} {noun} matching {quoted}")
    } else {
        format!("{count} {noun} matching {quoted}")
    };
    if total > SEARCH_RANK_WINDOW {
        let window = crate::number::grouped(SEARCH_RANK_WINDOW as f64);
        format!("{heading} (best of the newest {window})")
    } else {
        heading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_entry_once() {
        assert_eq!(page_count(0, 5), 1);
        assert_eq!(page_count(5, 5), 1);
        assert_eq!(page_count(6, 5), 2);
        assert_eq!(page_count(7, 0), 1);
        assert_eq!(page_range(12, 5, 0), 0..5);
        assert_eq!(page_range(12, 5, 2), 10..12);
        // Past the end: the last page.
        assert_eq!(page_range(12, 5, 9), 10..12);
        assert_eq!(page_range(0, 5, 3), 0..0);
        assert_eq!(page_range(3, 0, 1), 0..3);
        for total in 0..40 {
            let mut seen = Vec::new();
            for p in 0..page_count(total, 5) {
                seen.extend(page_range(total, 5, p));
            }
            assert_eq!(seen, (0..total).collect::<Vec<_>>());
        }
    }

    #[test]
    fn errors_and_admin_replies_are_ephemeral() {
        assert!(Reply::error("x").is_ephemeral());
        assert!(Reply::error("x").is_error());
        assert!(Reply::Subscriptions(vec![]).is_ephemeral());
        let search = Reply::Search {
            query: "q".into(),
            hits: vec![],
            total: 0,
        };
        assert!(!search.is_ephemeral() && !search.is_error());
    }

    #[test]
    fn search_headings_count_every_match() {
        let h = |shown, total| search_heading(shown, total, "\"x\"");
        assert_eq!(h(3, 6), "3 of 6 papers matching \"x\"");
        assert_eq!(h(6, 6), "6 papers matching \"x\"");
        assert_eq!(h(1, 1), "1 paper matching \"x\"");
        assert_eq!(h(2, 0), "2 papers matching \"x\"");
        assert_eq!(h(10, 5_000), "10 of 5,000 papers matching \"x\"");
        assert_eq!(
            h(10, 298_402),
            "10 of 298,402 papers matching \"x\" (best of the newest 5,000)"
        );
    }
}
