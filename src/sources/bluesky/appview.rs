//! Bluesky's HTTP (XRPC) API: `app.bsky.feed.getPosts` on the public AppView to refresh
//! counts, and `com.atproto.server.createSession` + `app.bsky.feed.searchPosts` on the user's
//! PDS for the optional search backfill (unauthenticated search is refused since 2025).
//!
//! Every call goes through [`HttpClient`] (timeouts, size cap, retries with `Retry-After`).
//! Each attempt is counted in the caller's request counter. The access token only ever travels
//! in the `Authorization` header; it is held in a [`Secret`], so it cannot reach logs or
//! errors.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::records::{self, PostRecord};
use crate::config::Secret;
use crate::http::{HttpClient, HttpError, Response, Verdict};
use crate::sources::SourceError;
use crate::store::BlueskyCounts;

/// Most URIs `getPosts` takes per call.
pub const GET_POSTS_BATCH: usize = 25;

/// Posts per `searchPosts` page (the lexicon's maximum).
pub const SEARCH_PAGE_SIZE: u32 = 100;

/// `searchPosts` needs a query; with `domain`/`url` filters doing the selecting, match all.
const SEARCH_QUERY: &str = "*";

const SOURCE: &str = "bluesky";

/// The `classify` reason of a search whose session expired or was revoked.
const SESSION_EXPIRED: &str = "the Bluesky session expired or was revoked";

/// Prefix of `classify` reasons that are credential problems, reported as
/// [`SourceError::Auth`].
const AUTH_PREFIX: &str = "bluesky auth: ";

/// An `app.bsky.feed.defs#postView`: what `getPosts` and `searchPosts` return per post.
#[derive(Debug, Clone, PartialEq)]
pub struct PostView {
    /// The post's AT-URI.
    pub uri: String,
    /// The author's DID.
    pub author_did: String,
    /// The author's handle, when reported (used to match handle-configured bot accounts).
    pub author_handle: Option<String>,
    /// The author's display name, when set.
    pub author_name: Option<String>,
    /// The post record (links, quote, reply).
    pub record: PostRecord,
    /// When the AppView indexed the post.
    pub indexed_at: Option<DateTime<Utc>>,
    /// The AppView's counters (`likeCount`, `repostCount`, `quoteCount`, `replyCount`);
    /// a missing or invalid counter is 0.
    pub counts: BlueskyCounts,
}

impl PostView {
    /// Reads one postView; `None` (the caller skips it) without a usable `uri` or
    /// `author.did`.
    pub fn from_value(view: &Value) -> Option<PostView> {
        let uri = view
            .get("uri")
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("at://") && u.bytes().all(|b| b.is_ascii_graphic()))?;
        let author = view.get("author");
        let author_did = author
            .and_then(|a| a.get("did"))
            .and_then(Value::as_str)
            .filter(|d| d.starts_with("did:"))?;
        let author_handle = author
            .and_then(|a| a.get("handle"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let author_name = author
            .and_then(|a| a.get("displayName"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(records::MAX_NAME_CHARS).collect());
        let counter = |key: &str| view.get(key).and_then(Value::as_u64).unwrap_or(0);
        Some(PostView {
            uri: uri.to_string(),
            author_did: author_did.to_string(),
            author_handle,
            author_name,
            record: view
                .get("record")
                .map(PostRecord::from_value)
                .unwrap_or_default(),
            indexed_at: view
                .get("indexedAt")
                .and_then(Value::as_str)
                .and_then(records::parse_time),
            counts: BlueskyCounts {
                likes: counter("likeCount"),
                reposts: counter("repostCount"),
                quotes: counter("quoteCount"),
                replies: counter("replyCount"),
            },
        })
    }
}

/// A page of posts: `{"posts": [postView…], "cursor"?: string}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostsPage {
    /// The usable posts, in answer order (malformed items are skipped with a warning).
    pub posts: Vec<PostView>,
    /// Where the next page starts, if there is one.
    pub cursor: Option<String>,
}

/// Parses a `getPosts` or `searchPosts` body. A body that is not JSON or has no `posts`
/// array is [`SourceError::Malformed`]; a bad item is skipped.
pub fn parse_posts_page(body: &[u8], endpoint: &str) -> Result<PostsPage, SourceError> {
    let malformed = |message: String| SourceError::Malformed {
        source_name: SOURCE,
        message,
    };
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("{endpoint} answered with invalid JSON ({e})")))?;
    let items = root
        .get("posts")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(format!("{endpoint} answer has no \"posts\" array")))?;
    let mut posts = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match PostView::from_value(item) {
            Some(view) => posts.push(view),
            None => tracing::warn!(endpoint, index, "skipping a post without uri or author"),
        }
    }
    let cursor = root
        .get("cursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    Ok(PostsPage { posts, cursor })
}

/// A logged-in account on the PDS.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account's DID (the bot's own posts are weighted like bot accounts').
    pub did: String,
    /// The account's handle.
    pub handle: String,
    access_jwt: Secret,
}

/// What a search asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Only posts linking this domain (facet links and embeds).
    pub domain: Option<String>,
    /// Only posts linking this URL (the server may normalize it).
    pub url: Option<String>,
    /// Posts at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Posts before this time.
    pub until: Option<DateTime<Utc>>,
}

/// Why a search page failed.
#[derive(Debug)]
pub(crate) enum SearchError {
    /// The session is no longer valid: log in again.
    SessionExpired,
    /// Anything else.
    Failed(SourceError),
}

/// The XRPC endpoints used by the source.
#[derive(Debug, Clone)]
pub(crate) struct Xrpc {
    http: HttpClient,
    api_url: String,
    pds_url: String,
}

impl Xrpc {
    /// Endpoints under `api_url` (AppView) and `pds_url` (login and search).
    pub fn new(http: HttpClient, api_url: &str, pds_url: &str) -> Self {
        Xrpc {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
            pds_url: pds_url.trim_end_matches('/').to_string(),
        }
    }

    /// `getPosts` for at most [`GET_POSTS_BATCH`] URIs. Posts the AppView no longer has
    /// (deleted, taken down) are simply absent from the answer.
    pub async fn get_posts(
        &self,
        uris: &[String],
        requests: &AtomicU32,
    ) -> Result<Vec<PostView>, SourceError> {
        let url = format!("{}/xrpc/app.bsky.feed.getPosts", self.api_url);
        let query: Vec<(&str, &str)> = uris
            .iter()
            .take(GET_POSTS_BATCH)
            .map(|u| ("uris", u.as_str()))
            .collect();
        let response = self
            .http
            .send(
                || {
                    requests.fetch_add(1, Ordering::Relaxed);
                    self.http.reqwest().get(&url).query(&query)
                },
                crate::http::accept_all,
            )
            .await?;
        Ok(parse_posts_page(&response.body, "getPosts")?.posts)
    }

    /// `com.atproto.server.createSession` with an app password. A rejected login is
    /// [`SourceError::Auth`] naming the identifier, never the password.
    pub async fn create_session(
        &self,
        identifier: &str,
        password: &Secret,
        requests: &AtomicU32,
    ) -> Result<Session, SourceError> {
        let url = format!("{}/xrpc/com.atproto.server.createSession", self.pds_url);
        let body = serde_json::json!({"identifier": identifier, "password": password.expose()});
        let classify = |r: &Response| {
            if matches!(r.status, 400 | 401 | 403) {
                Verdict::Fail(format!(
                    "{AUTH_PREFIX}the PDS rejected the login as {identifier} (HTTP {}): {}",
                    r.status,
                    xrpc_message(r)
                ))
            } else {
                Verdict::Accept
            }
        };
        let response = self
            .http
            .send(
                || {
                    requests.fetch_add(1, Ordering::Relaxed);
                    self.http.reqwest().post(&url).json(&body)
                },
                classify,
            )
            .await
            .map_err(auth_or_http)?;
        let root: Value =
            serde_json::from_slice(&response.body).map_err(|e| SourceError::Malformed {
                source_name: SOURCE,
                message: format!("createSession answered with invalid JSON ({e})"),
            })?;
        let field = |key: &str| root.get(key).and_then(Value::as_str).map(str::to_string);
        match (field("accessJwt"), field("did")) {
            (Some(jwt), Some(did)) if !jwt.is_empty() => Ok(Session {
                did,
                handle: field("handle").unwrap_or_default(),
                access_jwt: Secret::new(jwt),
            }),
            _ => Err(SourceError::Malformed {
                source_name: SOURCE,
                message: "createSession answer lacks accessJwt or did".into(),
            }),
        }
    }

    /// One `searchPosts` page (`sort=latest`, [`SEARCH_PAGE_SIZE`] posts) on the PDS with the
    /// session's access token.
    pub async fn search_posts(
        &self,
        session: &Session,
        query: &SearchQuery,
        cursor: Option<&str>,
        requests: &AtomicU32,
    ) -> Result<PostsPage, SearchError> {
        let url = format!("{}/xrpc/app.bsky.feed.searchPosts", self.pds_url);
        let limit = SEARCH_PAGE_SIZE.to_string();
        let mut params: Vec<(&str, String)> = vec![
            ("q", SEARCH_QUERY.to_string()),
            ("sort", "latest".to_string()),
            ("limit", limit),
        ];
        if let Some(domain) = &query.domain {
            params.push(("domain", domain.clone()));
        }
        if let Some(url) = &query.url {
            params.push(("url", url.clone()));
        }
        if let Some(since) = query.since {
            params.push(("since", since.to_rfc3339_opts(SecondsFormat::Millis, true)));
        }
        if let Some(until) = query.until {
            params.push(("until", until.to_rfc3339_opts(SecondsFormat::Millis, true)));
        }
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor.to_string()));
        }
        let classify = |r: &Response| {
            let expired = r.status == 401
                || (r.status == 400
                    && matches!(
                        xrpc_error(r).as_deref(),
                        Some("ExpiredToken" | "InvalidToken")
                    ));
            if expired {
                Verdict::Fail(SESSION_EXPIRED.into())
            } else if r.status == 403 {
                Verdict::Fail(format!(
                    "{AUTH_PREFIX}searchPosts was refused (HTTP 403): {}",
                    xrpc_message(r)
                ))
            } else {
                Verdict::Accept
            }
        };
        let result = self
            .http
            .send(
                || {
                    requests.fetch_add(1, Ordering::Relaxed);
                    self.http
                        .reqwest()
                        .get(&url)
                        .query(&params)
                        .bearer_auth(session.access_jwt.expose())
                },
                classify,
            )
            .await;
        match result {
            Ok(response) => {
                parse_posts_page(&response.body, "searchPosts").map_err(SearchError::Failed)
            }
            Err(HttpError::Rejected { reason, .. }) if reason == SESSION_EXPIRED => {
                Err(SearchError::SessionExpired)
            }
            Err(e) => Err(SearchError::Failed(auth_or_http(e))),
        }
    }
}

/// A classify-time credential problem becomes [`SourceError::Auth`]; anything else stays HTTP.
fn auth_or_http(e: HttpError) -> SourceError {
    match e {
        HttpError::Rejected { reason, .. } if reason.starts_with(AUTH_PREFIX) => {
            SourceError::Auth {
                source_name: SOURCE,
                message: reason
                    .strip_prefix(AUTH_PREFIX)
                    .unwrap_or(&reason)
                    .to_string(),
            }
        }
        other => SourceError::Http(other),
    }
}

/// The `error` name of an XRPC error body (`{"error": "ExpiredToken", "message": …}`).
fn xrpc_error(r: &Response) -> Option<String> {
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    v.get("error").and_then(Value::as_str).map(str::to_string)
}

/// A one-line, bounded description of an XRPC error body: its `message` (or `error`), else
/// an excerpt of the body.
fn xrpc_message(r: &Response) -> String {
    let parsed: Option<Value> = serde_json::from_slice(&r.body).ok();
    let text = parsed.as_ref().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
    });
    match text {
        Some(t) => crate::http::snippet(t.as_bytes()),
        None => r.snippet(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTVIEW_FIXTURE: &str = r#"{
        "uri": "at://did:plc:qlekkifqfvr7wyisf22h55tz/app.bsky.feed.post/3mbgzoqre6n2z",
        "author": {"did": "did:plc:qlekkifqfvr7wyisf22h55tz", "handle": "Bernews.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "createdAt": "2026-01-02T13:44:43.532Z",
                   "embed": {"$type": "app.bsky.embed.external",
                             "external": {"uri": "https://arxiv.org/pdf/2107.00641v2"}}},
        "bookmarkCount": 0, "replyCount": 3, "repostCount": 2, "likeCount": 7, "quoteCount": 1,
        "indexedAt": "2026-01-02T13:44:44.633Z"
    }"#;

    #[test]
    fn the_recorded_postview_gives_author_name_and_text() {
        let thread: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/bluesky_getPostThread_postview.json"
        ))
        .unwrap();
        let view = PostView::from_value(&thread["thread"]["post"]).unwrap();
        assert_eq!(view.author_name.as_deref(), Some("Bernews"));
        assert!(
            view.record
                .text
                .starts_with("BPS: 'It is believed a female motorist"),
            "{}",
            view.record.text
        );
    }

    #[test]
    fn postview_fields() {
        let v: Value = serde_json::from_str(POSTVIEW_FIXTURE).unwrap();
        let view = PostView::from_value(&v).unwrap();
        assert_eq!(view.author_did, "did:plc:qlekkifqfvr7wyisf22h55tz");
        assert_eq!(view.author_handle.as_deref(), Some("bernews.bsky.social"));
        assert_eq!(
            view.counts,
            BlueskyCounts {
                likes: 7,
                reposts: 2,
                quotes: 1,
                replies: 3
            }
        );
        assert_eq!(view.record.papers().len(), 1);
        assert!(view.indexed_at.is_some());
    }

    #[test]
    fn postview_without_uri_or_author_is_skipped_and_bad_counters_are_zero() {
        for bad in [
            r#"{"author": {"did": "did:plc:a"}}"#,
            r#"{"uri": "https://x", "author": {"did": "did:plc:a"}}"#,
            r#"{"uri": "at://did:plc:a/app.bsky.feed.post/1"}"#,
            r#"{"uri": "at://did:plc:a/app.bsky.feed.post/1", "author": {"did": 5}}"#,
            r#"[]"#,
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            assert_eq!(PostView::from_value(&v), None, "{bad}");
        }
        let v: Value = serde_json::from_str(
            r#"{"uri": "at://did:plc:a/app.bsky.feed.post/1", "author": {"did": "did:plc:a"},
                "likeCount": -3, "repostCount": "many", "quoteCount": 1.5}"#,
        )
        .unwrap();
        let view = PostView::from_value(&v).unwrap();
        assert_eq!(view.counts, BlueskyCounts::default());
        assert_eq!(view.record, PostRecord::default());
    }

    #[test]
    fn pages_parse_and_reject_wrong_shapes() {
        let page = parse_posts_page(
            br#"{"posts": [{"uri": "at://did:plc:a/app.bsky.feed.post/1", "author": {"did": "did:plc:a"}}, 3], "cursor": "100"}"#,
            "searchPosts",
        )
        .unwrap();
        assert_eq!(page.posts.len(), 1);
        assert_eq!(page.cursor.as_deref(), Some("100"));
        let empty = parse_posts_page(br#"{"posts": [], "cursor": ""}"#, "searchPosts").unwrap();
        assert_eq!(empty, PostsPage::default());
        for bad in [&b"<html>"[..], b"{}", br#"{"posts": {}}"#, b""] {
            let err = parse_posts_page(bad, "getPosts").unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("unexpected bluesky response: getPosts"),
                "{err}"
            );
        }
    }
}
