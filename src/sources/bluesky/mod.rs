//! Bluesky: the network that replaced Twitter for much of the research community.
//!
//! Three parts:
//! - [`jetstream`]: the long-running listener (in the bot, or `hotpapers listen`) that keeps
//!   posts linking arXiv and counts their likes, reposts, quotes and replies from the public
//!   firehose, free and without a key;
//! - [`BlueskySource::collect`]: before a digest, refreshes the counts of the stored posts in
//!   the window with `getPosts` (25 posts per call) and falls back to the listener's own
//!   counts for posts the AppView no longer returns;
//! - with `identifier` + `app_password`, a `searchPosts` backfill on the PDS (domain
//!   `arxiv.org`) that also covers the time the listener was not running.
//!
//! Per paper: `bluesky.posts`, `bluesky.reposts`, `bluesky.likes`, `bluesky.quotes`,
//! `bluesky.replies`, each summed over the posts linking it. Posts by `bot_accounts` and by our
//! own account count with `bot_weight` (default 0), together with what they received.

pub mod appview;
pub mod jetstream;
pub mod records;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::arxiv::ArxivId;
use crate::config::{BlueskyConfig, Secret, metric, source_name};
use crate::http::{HttpClient, HttpError};
use crate::sources::{Collection, Source, SourceError, Tally, Window};
use crate::store::{
    BlueskyCounts, BlueskyPost, Mention, MentionCounts, Store, StoreError, StoredBlueskyPost,
};

pub use appview::{PostView, SearchQuery, Session};
pub use jetstream::{ConsumerStats, JetstreamConsumer, Listener, listen};

use appview::{GET_POSTS_BATCH, SearchError, Xrpc};

/// Name in config and signal keys.
pub const NAME: &str = source_name::BLUESKY;

/// The domain searched by the backfill.
const SEARCH_DOMAIN: &str = "arxiv.org";

/// How far the listener's saved cursor may lag behind the end of a window before a sweep
/// says its counts are incomplete.
const LISTENER_LAG_NOTE: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// The Bluesky attention source.
#[derive(Debug)]
pub struct BlueskySource {
    xrpc: Xrpc,
    store: Arc<dyn Store>,
    credentials: Option<(String, Secret)>,
    bots: BotAccounts,
    bot_weight: f64,
    max_search_pages: u32,
    /// The PDS session, reused across sweeps (createSession is limited to 30 per 5 minutes).
    session: tokio::sync::Mutex<Option<Session>>,
}

/// Accounts whose posts count with `bot_weight`.
#[derive(Debug, Default, Clone)]
struct BotAccounts {
    dids: BTreeSet<String>,
    /// Lower-cased.
    handles: BTreeSet<String>,
}

impl BotAccounts {
    fn new<'a>(accounts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut bots = BotAccounts::default();
        for account in accounts {
            let account = account.trim().trim_start_matches('@');
            if account.is_empty() {
                continue;
            }
            if account.starts_with("did:") {
                bots.dids.insert(account.to_string());
            } else {
                bots.handles.insert(account.to_ascii_lowercase());
            }
        }
        bots
    }

    fn contains(&self, did: &str, handle: Option<&str>) -> bool {
        self.dids.contains(did) || handle.is_some_and(|h| self.handles.contains(h))
    }
}

/// Fresh counts of a post from the AppView, with what a mention shows.
#[derive(Debug, Clone)]
struct Fresh {
    counts: BlueskyCounts,
    handle: Option<String>,
    name: Option<String>,
    text: String,
}

impl Fresh {
    fn of(view: PostView) -> (String, Fresh) {
        (
            view.uri,
            Fresh {
                counts: view.counts,
                handle: view.author_handle,
                name: view.author_name,
                text: view.record.text,
            },
        )
    }
}

/// What [`BlueskySource::tally`] found.
struct Tallied {
    tally: Tally,
    /// Posts counted (bots with weight 0 are not).
    mentions: usize,
    /// The counted posts the AppView returned, as mentions. A post it no longer returns
    /// (deleted, taken down) is counted with the listener's numbers but never shown.
    posts: Vec<Mention>,
}

impl Tallied {
    /// The sweep's answer, restricted to `wanted` (every paper when it is empty).
    fn into_collection(
        self,
        wanted: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
        requests: &AtomicU32,
        notes: Vec<String>,
    ) -> Collection {
        Collection {
            signals: self.tally.into_signals(NAME, wanted, now),
            requests: requests.load(Ordering::Relaxed),
            mentions: self.mentions,
            notes,
            posts: self
                .posts
                .into_iter()
                .filter(|m| wanted.is_empty() || wanted.contains(&m.paper))
                .collect(),
            extras: Vec::new(),
        }
    }
}

/// The public page of a post: `https://bsky.app/profile/{handle or DID}/post/{rkey}`. `None`
/// when the URI or handle holds characters an AT-URI or handle cannot (a hostile upstream must
/// not shape our links).
pub fn post_url(uri: &str, handle: Option<&str>) -> Option<String> {
    let rest = uri.strip_prefix("at://")?;
    let (did, rest) = rest.split_once('/')?;
    let rkey = rest.strip_prefix("app.bsky.feed.post/")?;
    let safe = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.len() <= 256
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    if !safe(rkey, b"._:~-") || !safe(did, b"._:%-") {
        return None;
    }
    let profile = handle.filter(|h| safe(h, b".-")).unwrap_or(did);
    Some(format!("https://bsky.app/profile/{profile}/post/{rkey}"))
}

impl BlueskySource {
    /// The source over the listener's store. Search runs only when both `identifier` and
    /// `app_password` are set.
    pub fn new(
        cfg: &BlueskyConfig,
        http: HttpClient,
        store: Arc<dyn Store>,
    ) -> Result<Self, SourceError> {
        for (key, value) in [("api_url", &cfg.api_url), ("pds_url", &cfg.pds_url)] {
            let ok = url::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(SourceError::Http(HttpError::Build(format!(
                    "sources.bluesky.{key} is not an http(s) URL: {}",
                    crate::http::sanitize_url(value)
                ))));
            }
        }
        let credentials = match (&cfg.identifier, &cfg.app_password) {
            (Some(id), Some(pw)) => Some((id.clone(), pw.clone())),
            _ => None,
        };
        let own = cfg.identifier.as_deref().into_iter();
        Ok(BlueskySource {
            xrpc: Xrpc::new(http, &cfg.api_url, &cfg.pds_url),
            store,
            credentials,
            bots: BotAccounts::new(cfg.bot_accounts.iter().map(String::as_str).chain(own)),
            bot_weight: cfg.bot_weight,
            max_search_pages: cfg.max_search_pages.max(1),
            session: tokio::sync::Mutex::new(None),
        })
    }

    /// Whether `searchPosts` backfill is configured.
    pub fn can_search(&self) -> bool {
        self.credentials.is_some()
    }

    /// The current session, logging in first when there is none.
    async fn session(&self, requests: &AtomicU32) -> Result<Option<Session>, SourceError> {
        let Some((identifier, password)) = &self.credentials else {
            return Ok(None);
        };
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref() {
            return Ok(Some(session.clone()));
        }
        let session = self
            .xrpc
            .create_session(identifier, password, requests)
            .await?;
        tracing::info!(handle = %session.handle, "logged in to Bluesky for search");
        *slot = Some(session.clone());
        Ok(Some(session))
    }

    /// One search page, logging in again once if the session expired.
    async fn search_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
        requests: &AtomicU32,
    ) -> Result<appview::PostsPage, SourceError> {
        for _ in 0..2 {
            let Some(session) = self.session(requests).await? else {
                return Ok(appview::PostsPage::default());
            };
            match self
                .xrpc
                .search_posts(&session, query, cursor, requests)
                .await
            {
                Ok(page) => return Ok(page),
                Err(SearchError::Failed(e)) => return Err(e),
                Err(SearchError::SessionExpired) => {
                    tracing::info!("Bluesky session expired; logging in again");
                    *self.session.lock().await = None;
                }
            }
        }
        Err(SourceError::Auth {
            source_name: NAME,
            message: "the PDS rejected a fresh session for searchPosts".into(),
        })
    }

    /// Runs a search (at most `pages` pages), stores the posts that link papers (so the
    /// listener counts their future likes) and returns their fresh counts by URI. Stops early
    /// (with a note) on failure; what was found so far is kept.
    async fn backfill(
        &self,
        query: &SearchQuery,
        pages: u32,
        now: DateTime<Utc>,
        requests: &AtomicU32,
        notes: &mut Vec<String>,
    ) -> Result<HashMap<String, Fresh>, SourceError> {
        let mut fresh = HashMap::new();
        let mut cursor: Option<String> = None;
        for page_number in 1..=pages {
            let page = match self.search_page(query, cursor.as_deref(), requests).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "Bluesky search failed");
                    let what = if page_number == 1 {
                        "Bluesky search skipped".to_string()
                    } else {
                        format!("Bluesky search stopped after {} pages", page_number - 1)
                    };
                    notes.push(format!("{what}: {}", short_reason(&e)));
                    break;
                }
            };
            for view in &page.posts {
                let papers = view.record.papers();
                if papers.is_empty() {
                    continue;
                }
                // A post's time as the AppView knows it; `indexedAt` bounds a future createdAt.
                let seen = view.indexed_at.unwrap_or(now);
                let post = BlueskyPost {
                    uri: view.uri.clone(),
                    author_did: view.author_did.clone(),
                    created_at: records::effective_created_at(view.record.created_at, seen),
                    papers,
                };
                self.store.bluesky_upsert_post(&post).await?;
            }
            let more = !page.posts.is_empty();
            fresh.extend(
                page.posts
                    .into_iter()
                    .filter(|view| !view.record.papers().is_empty())
                    .map(Fresh::of),
            );
            match page.cursor {
                Some(next) if more && cursor.as_ref() != Some(&next) => {
                    if page_number == pages {
                        notes.push(format!(
                            "Bluesky search stopped after {pages} pages (max_search_pages); \
                             older posts in the window were not searched"
                        ));
                    }
                    cursor = Some(next);
                }
                _ => break,
            }
        }
        Ok(fresh)
    }

    /// Refreshes the posts not already in `fresh` with `getPosts` and tallies every post.
    /// A failed batch keeps the listener's counts for its posts (with a note).
    async fn tally(
        &self,
        posts: &[StoredBlueskyPost],
        mut fresh: HashMap<String, Fresh>,
        now: DateTime<Utc>,
        requests: &AtomicU32,
        notes: &mut Vec<String>,
    ) -> Tallied {
        let stale: Vec<String> = posts
            .iter()
            .map(|p| &p.post.uri)
            .filter(|uri| !fresh.contains_key(*uri))
            .cloned()
            .collect();
        let mut failed = 0usize;
        let mut last_error = None;
        for batch in stale.chunks(GET_POSTS_BATCH) {
            match self.xrpc.get_posts(batch, requests).await {
                Ok(views) => fresh.extend(views.into_iter().map(Fresh::of)),
                Err(e) => {
                    tracing::warn!(error = %e, posts = batch.len(), "Bluesky getPosts failed");
                    failed += batch.len();
                    last_error = Some(short_reason(&e));
                }
            }
        }
        if let Some(error) = last_error {
            notes.push(format!(
                "Bluesky counts of {failed} posts are the listener's own (getPosts failed: {error})"
            ));
        }
        let own_did = self.session.lock().await.as_ref().map(|s| s.did.clone());
        let mut tally = Tally::default();
        let mut mentions = 0;
        let mut shown = Vec::new();
        for stored in posts {
            let post = &stored.post;
            // Posts the AppView did not return (deleted, taken down) keep the listener's counts.
            let seen = fresh.get(&post.uri);
            let (counts, handle) = match seen {
                Some(f) => (f.counts, f.handle.as_deref()),
                None => (stored.counts, None),
            };
            let is_bot = self.bots.contains(&post.author_did, handle)
                || own_did.as_deref() == Some(post.author_did.as_str());
            let weight = if is_bot { self.bot_weight } else { 1.0 };
            if weight <= 0.0 {
                continue;
            }
            mentions += 1;
            for paper in &post.papers {
                tally.add(paper, metric::POSTS, weight);
                tally.add(paper, metric::LIKES, weight * as_f64(counts.likes));
                tally.add(paper, metric::REPOSTS, weight * as_f64(counts.reposts));
                tally.add(paper, metric::QUOTES, weight * as_f64(counts.quotes));
                tally.add(paper, metric::REPLIES, weight * as_f64(counts.replies));
            }
            // Who is talking lists people: bot accounts count (with their weight) but are
            // not shown.
            if let Some(f) = seen.filter(|_| !is_bot)
                && let Some(url) = post_url(&post.uri, f.handle.as_deref())
            {
                for paper in &post.papers {
                    shown.push(Mention {
                        paper: paper.clone(),
                        source: NAME.to_string(),
                        post_id: post.uri.clone(),
                        author_handle: f.handle.clone(),
                        author_name: f.name.clone(),
                        text: f.text.clone(),
                        url: url.clone(),
                        posted_at: post.created_at,
                        counts: MentionCounts {
                            reposts: f.counts.reposts,
                            likes: f.counts.likes,
                            replies: f.counts.replies,
                            quotes: f.counts.quotes,
                            points: 0,
                        },
                        observed_at: now,
                    });
                }
            }
        }
        Tallied {
            tally,
            mentions,
            posts: shown,
        }
    }

    /// A note when the listener has never run or stopped before the end of the window.
    async fn listener_note(&self, window: &Window, now: DateTime<Utc>) -> Option<String> {
        let saved = match self.store.jetstream_cursor().await {
            Ok(saved) => saved,
            // An unreadable cursor is as good as none: the listener starts live on it.
            Err(StoreError::Corrupt { .. }) => None,
            Err(e) => return Some(format!("cannot read the Jetstream cursor: {e}")),
        };
        let Some(cursor) = saved else {
            return Some(
                "the Bluesky listener has not run yet (start the bot or `hotpapers listen`); \
                 only searched posts are counted"
                    .into(),
            );
        };
        let at = DateTime::from_timestamp_micros(cursor)?;
        let needed = window.until.min(now);
        (needed - at > LISTENER_LAG_NOTE).then(|| {
            format!(
                "the Bluesky listener last saved its position at {}; later posts and likes \
                 are missing",
                at.format("%Y-%m-%d %H:%M UTC")
            )
        })
    }
}

#[async_trait]
impl Source for BlueskySource {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Requests: with credentials, one login (first sweep only) and one per search page;
    /// then one `getPosts` per 25 stored posts in the window that link `papers` and were not
    /// just returned by search.
    async fn collect(
        &self,
        window: Window,
        papers: &BTreeSet<ArxivId>,
        now: DateTime<Utc>,
    ) -> Result<Collection, SourceError> {
        let requests = AtomicU32::new(0);
        let mut notes = Vec::new();
        if window.since >= window.until {
            return Ok(Collection::default());
        }
        let fresh = if self.can_search() {
            let query = SearchQuery {
                domain: Some(SEARCH_DOMAIN.into()),
                url: None,
                since: Some(window.since),
                until: Some(window.until),
            };
            self.backfill(&query, self.max_search_pages, now, &requests, &mut notes)
                .await?
        } else {
            HashMap::new()
        };
        let wanted: BTreeSet<ArxivId> = papers.iter().map(ArxivId::versionless).collect();
        let posts: Vec<StoredBlueskyPost> = self
            .store
            .bluesky_posts_in_window(window.since, window.until)
            .await?
            .into_iter()
            .filter(|p| wanted.is_empty() || p.post.papers.iter().any(|id| wanted.contains(id)))
            .collect();
        let tallied = self.tally(&posts, fresh, now, &requests, &mut notes).await;
        notes.extend(self.listener_note(&window, now).await);
        Ok(tallied.into_collection(&wanted, now, &requests, notes))
    }

    /// The stored posts linking the paper (plus, with credentials, one search page for its
    /// abs URL), refreshed with `getPosts`. Failures fall back to stored counts.
    async fn lookup(&self, paper: &ArxivId, now: DateTime<Utc>) -> Result<Collection, SourceError> {
        let requests = AtomicU32::new(0);
        let mut notes = Vec::new();
        let paper = paper.versionless();
        let fresh = if self.can_search() {
            let query = SearchQuery {
                domain: None,
                url: Some(paper.abs_url()),
                since: None,
                until: None,
            };
            self.backfill(&query, 1, now, &requests, &mut notes).await?
        } else {
            HashMap::new()
        };
        let posts = self.store.bluesky_posts_of_paper(&paper).await?;
        let tallied = self.tally(&posts, fresh, now, &requests, &mut notes).await;
        for note in &notes {
            tracing::warn!(paper = %paper, "{note}");
        }
        Ok(tallied.into_collection(&BTreeSet::from([paper]), now, &requests, notes))
    }
}

/// Why a call failed, short enough for a digest note: the status or failure kind without the
/// request URL (a getPosts URL carries 25 post URIs). The full error is logged.
fn short_reason(e: &SourceError) -> String {
    match e {
        SourceError::Http(http) => {
            let last = match http.last() {
                HttpError::Status {
                    status, snippet, ..
                } => format!("HTTP {status}: {snippet}"),
                HttpError::Timeout { .. } => "the request timed out".into(),
                HttpError::Connect { message, .. } => format!("connection failed: {message}"),
                HttpError::TooLarge { limit, .. } => {
                    format!("the response is larger than the {limit}-byte limit")
                }
                HttpError::Rejected { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            match http {
                HttpError::Exhausted { attempts, .. } => format!("{last} ({attempts} attempts)"),
                _ => last,
            }
        }
        SourceError::Malformed { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Counts as `f64` (exact up to 2^53, far beyond any like count).
#[allow(clippy::cast_precision_loss)]
fn as_f64(n: u64) -> f64 {
    n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_accounts_match_dids_and_handles() {
        let bots = BotAccounts::new(["did:plc:bot", "@ArxivBot.bsky.social", " ", "x.org"]);
        assert!(bots.contains("did:plc:bot", None));
        assert!(bots.contains("did:plc:other", Some("arxivbot.bsky.social")));
        assert!(bots.contains("did:plc:other", Some("x.org")));
        assert!(!bots.contains("did:plc:other", None));
        assert!(!bots.contains("did:plc:other", Some("human.bsky.social")));
        assert!(!bots.contains("did:plc:BOT", None));
    }
}
