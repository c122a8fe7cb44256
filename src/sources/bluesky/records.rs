//! Jetstream events and Bluesky post records: pure parsing, no I/O.
//!
//! Everything here reads untrusted JSON and never panics: a malformed event is an
//! [`EventError`], and a post record of an unexpected shape simply yields fewer links.
//!
//! Where a post links a paper (lexicons in `bluesky-social/atproto`):
//! - `facets[].features[]` of type `app.bsky.richtext.facet#link`, in `uri`;
//! - an `app.bsky.embed.external` embed, in `external.uri`;
//! - an `app.bsky.embed.recordWithMedia` embed, in `media.external.uri`.
//!
//! The visible `text` is never read for links: clients shorten long links in it
//! (`arxiv.org/abs/2509.1…`), while facets and embeds keep the full URL.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::arxiv::ArxivId;

/// Collection of posts.
pub const POST: &str = "app.bsky.feed.post";
/// Collection of likes.
pub const LIKE: &str = "app.bsky.feed.like";
/// Collection of reposts.
pub const REPOST: &str = "app.bsky.feed.repost";
/// The collections the listener subscribes to (`wantedCollections`).
pub const WANTED_COLLECTIONS: [&str; 3] = [POST, LIKE, REPOST];

/// `$type` of a link facet feature.
const FACET_LINK: &str = "app.bsky.richtext.facet#link";

/// Longest DID, record key or AT-URI accepted; real ones are far shorter (a record key is at
/// most 512 characters, a DID at most 2 KiB). Bounds what one event can make us store.
const MAX_ID_LEN: usize = 2048;

/// Why a Jetstream line could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Jetstream event: {0}")]
pub struct EventError(String);

/// One Jetstream event (a websocket text message).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The repository (account) the event is about.
    pub did: String,
    /// Jetstream's timestamp in microseconds since the epoch: the cursor to resume from.
    pub time_us: i64,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of Jetstream event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A record was created, updated or deleted.
    Commit(Commit),
    /// An `identity` or `account` event (or a kind added later): nothing to count. They
    /// arrive even when filtering by collection.
    Other,
}

/// A repository commit: one record operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// Create, update or delete.
    pub operation: Operation,
    /// The record's collection (`app.bsky.feed.post`, …).
    pub collection: String,
    /// The record key within the collection.
    pub rkey: String,
    /// The record, for creates and updates in a collection we read.
    pub record: Option<Record>,
}

/// A commit's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A new record.
    Create,
    /// A record replaced in place (rare for posts; the protocol allows it).
    Update,
    /// A removed record; the event carries no record, only its key.
    Delete,
}

/// The parts of a record the listener uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An `app.bsky.feed.post`.
    Post(PostRecord),
    /// An `app.bsky.feed.like` of `subject_uri`.
    Like {
        /// The liked record.
        subject_uri: String,
    },
    /// An `app.bsky.feed.repost` of `subject_uri`.
    Repost {
        /// The reposted record.
        subject_uri: String,
    },
}

/// What a post record says about papers and other posts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostRecord {
    /// The record's `createdAt`, when it is a valid RFC 3339 time (it is client-supplied).
    pub created_at: Option<DateTime<Utc>>,
    /// Every link in facets and embeds, in record order (duplicates kept).
    pub links: Vec<String>,
    /// The post this one quotes (`embed.record.uri`, or `embed.record.record.uri` in a
    /// `recordWithMedia` embed).
    pub quoted_uri: Option<String>,
    /// The post this one replies to.
    pub reply_parent: Option<String>,
    /// The first post of the thread this one replies in.
    pub reply_root: Option<String>,
    /// The post's visible text (at most [`MAX_TEXT_CHARS`] characters), for "who is talking";
    /// never read for links, which clients shorten in it.
    pub text: String,
}

/// The longest post text kept. Bluesky allows 300 graphemes; a record may claim more, and
/// what is kept is shown, never parsed, so a hostile record cannot grow memory or a card.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// The longest display name kept (Bluesky allows 64 graphemes).
pub const MAX_NAME_CHARS: usize = 128;

impl PostRecord {
    /// Reads a post record (the `record` of a Jetstream commit or of an AppView `postView`).
    /// Unknown or malformed parts are skipped; a value that is not an object gives an empty
    /// record.
    pub fn from_value(record: &Value) -> PostRecord {
        let mut post = PostRecord {
            created_at: record
                .get("createdAt")
                .and_then(Value::as_str)
                .and_then(parse_time),
            text: record
                .get("text")
                .and_then(Value::as_str)
                .map(|t| t.chars().take(MAX_TEXT_CHARS).collect())
                .unwrap_or_default(),
            ..PostRecord::default()
        };
        for facet in array(record.get("facets")) {
            for feature in array(facet.get("features")) {
                if str_at(feature, &["$type"]) == Some(FACET_LINK)
                    && let Some(uri) = str_at(feature, &["uri"])
                {
                    post.links.push(uri.to_string());
                }
            }
        }
        if let Some(embed) = record.get("embed") {
            // By shape rather than by `$type` alone: `external` is the external embed,
            // `media.external` the external part of a recordWithMedia embed; `record.uri` is a
            // quote, `record.record.uri` the quote of a recordWithMedia embed.
            for path in [&["external", "uri"][..], &["media", "external", "uri"][..]] {
                if let Some(uri) = str_at(embed, path) {
                    post.links.push(uri.to_string());
                }
            }
            post.quoted_uri = [&["record", "uri"][..], &["record", "record", "uri"][..]]
                .into_iter()
                .find_map(|path| str_at(embed, path))
                .filter(|uri| is_at_uri(uri))
                .map(str::to_string);
        }
        if let Some(reply) = record.get("reply") {
            post.reply_parent = str_at(reply, &["parent", "uri"])
                .filter(|uri| is_at_uri(uri))
                .map(str::to_string);
            post.reply_root = str_at(reply, &["root", "uri"])
                .filter(|uri| is_at_uri(uri))
                .map(str::to_string);
        }
        post
    }

    /// The papers the post links, version-less, sorted and deduplicated. Only the URL forms
    /// [`ArxivId::from_url`] accepts count (arxiv.org abs/pdf/html, export, alphaXiv, Hugging
    /// Face papers, the arXiv DOI, …).
    pub fn papers(&self) -> Vec<ArxivId> {
        let set: BTreeSet<ArxivId> = self
            .links
            .iter()
            .filter_map(|link| ArxivId::from_url(link))
            .map(|id| id.versionless())
            .collect();
        set.into_iter().collect()
    }
}

impl Event {
    /// The event's time, if `time_us` is a representable instant.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.time_us)
    }
}

/// `at://{did}/{collection}/{rkey}`: the URI of a record.
pub fn record_uri(did: &str, collection: &str, rkey: &str) -> String {
    format!("at://{did}/{collection}/{rkey}")
}

/// When a post counts as written: its `createdAt`, unless that is missing or claims to be
/// later than when the post was `seen` (a clock that is wrong or a post dated into the future
/// to stay in every window); then `seen`.
pub fn effective_created_at(
    created_at: Option<DateTime<Utc>>,
    seen: DateTime<Utc>,
) -> DateTime<Utc> {
    match created_at {
        Some(t) if t <= seen => t,
        _ => seen,
    }
}

#[derive(Deserialize)]
struct RawEvent {
    did: String,
    time_us: i64,
    kind: String,
    #[serde(default)]
    commit: Option<RawCommit>,
}

#[derive(Deserialize)]
struct RawCommit {
    operation: String,
    collection: String,
    rkey: String,
    #[serde(default)]
    record: Option<Value>,
}

/// Parses one Jetstream line.
///
/// Fails on anything that is not a JSON event of the documented shape: missing `did`,
/// `time_us` or `kind`, a commit without its fields, an unknown operation, a create or update
/// without a record in a collection we read, a like or repost without a subject URI, and ids
/// that are empty, over-long or contain spaces or control characters.
pub fn parse_event(line: &str) -> Result<Event, EventError> {
    let raw: RawEvent =
        serde_json::from_str(line).map_err(|e| EventError(format!("not an event: {e}")))?;
    check_id("did", &raw.did)?;
    if raw.kind != "commit" {
        return Ok(Event {
            did: raw.did,
            time_us: raw.time_us,
            kind: EventKind::Other,
        });
    }
    let commit = raw
        .commit
        .ok_or_else(|| EventError("a commit event without a commit".into()))?;
    check_id("collection", &commit.collection)?;
    check_id("rkey", &commit.rkey)?;
    let operation = match commit.operation.as_str() {
        "create" => Operation::Create,
        "update" => Operation::Update,
        "delete" => Operation::Delete,
        other => return Err(EventError(format!("unknown operation {other:?}"))),
    };
    let record = match operation {
        Operation::Delete => None,
        Operation::Create | Operation::Update => {
            parse_record(&commit.collection, commit.record.as_ref())?
        }
    };
    Ok(Event {
        did: raw.did,
        time_us: raw.time_us,
        kind: EventKind::Commit(Commit {
            operation,
            collection: commit.collection,
            rkey: commit.rkey,
            record,
        }),
    })
}

/// The record of a create or update; `None` for collections we do not read.
fn parse_record(collection: &str, record: Option<&Value>) -> Result<Option<Record>, EventError> {
    if !WANTED_COLLECTIONS.contains(&collection) {
        return Ok(None);
    }
    let record = record
        .filter(|r| r.is_object())
        .ok_or_else(|| EventError(format!("a {collection} write without a record object")))?;
    if collection == POST {
        return Ok(Some(Record::Post(PostRecord::from_value(record))));
    }
    let subject_uri = str_at(record, &["subject", "uri"])
        .filter(|uri| is_at_uri(uri))
        .ok_or_else(|| EventError(format!("a {collection} record without a subject URI")))?
        .to_string();
    Ok(Some(if collection == LIKE {
        Record::Like { subject_uri }
    } else {
        Record::Repost { subject_uri }
    }))
}

fn check_id(what: &str, value: &str) -> Result<(), EventError> {
    if is_clean_id(value) {
        Ok(())
    } else {
        Err(EventError(format!("invalid {what}")))
    }
}

/// Non-empty, at most [`MAX_ID_LEN`] bytes, visible ASCII only (DIDs, NSIDs, record keys and
/// AT-URIs are all ASCII by their specs).
fn is_clean_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_ID_LEN && value.bytes().all(|b| b.is_ascii_graphic())
}

/// An AT-URI we can use as a key.
fn is_at_uri(value: &str) -> bool {
    value.starts_with("at://") && is_clean_id(value)
}

/// The string at `path` of nested objects, if every step exists and the leaf is a string.
fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
}

/// The items of an array, or nothing when `value` is missing or not an array.
fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// An RFC 3339 time (`2026-07-04T14:38:06.240Z`, `2026-07-04T14:38:02+00:00`) in UTC.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).unwrap()
    }

    #[test]
    fn links_come_from_facets_and_embeds_never_from_text() {
        let record = json!({
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-07-04T14:38:06.240Z",
            "text": "arxiv.org/abs/2509.1... and arXiv:2401.04670",
            "facets": [
                {"features": [
                    {"$type": "app.bsky.richtext.facet#link", "uri": "https://arxiv.org/abs/2509.12345v2"},
                    {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:x"},
                    {"$type": "app.bsky.richtext.facet#tag", "tag": "ml"}
                ], "index": {"byteStart": 0, "byteEnd": 24}}
            ],
            "embed": {
                "$type": "app.bsky.embed.external",
                "external": {"uri": "https://alphaxiv.org/abs/2107.00641", "title": "t"}
            }
        });
        let post = PostRecord::from_value(&record);
        assert_eq!(
            post.links,
            vec![
                "https://arxiv.org/abs/2509.12345v2",
                "https://alphaxiv.org/abs/2107.00641"
            ]
        );
        assert_eq!(post.papers(), vec![id("2107.00641"), id("2509.12345")]);
        assert_eq!(
            post.created_at,
            Some(
                Utc.with_ymd_and_hms(2026, 7, 4, 14, 38, 6).unwrap()
                    + chrono::Duration::milliseconds(240)
            )
        );
        assert_eq!(post.quoted_uri, None);
    }

    #[test]
    fn record_with_media_gives_link_and_quote() {
        let record = json!({
            "createdAt": "2026-07-04T14:38:02+00:00",
            "embed": {
                "$type": "app.bsky.embed.recordWithMedia",
                "media": {"$type": "app.bsky.embed.external",
                          "external": {"uri": "https://huggingface.co/papers/2107.00641"}},
                "record": {"$type": "app.bsky.embed.record",
                           "record": {"uri": "at://did:plc:a/app.bsky.feed.post/3k", "cid": "c"}}
            },
            "reply": {
                "parent": {"uri": "at://did:plc:b/app.bsky.feed.post/1", "cid": "c"},
                "root": {"uri": "at://did:plc:c/app.bsky.feed.post/0", "cid": "c"}
            }
        });
        let post = PostRecord::from_value(&record);
        assert_eq!(post.papers(), vec![id("2107.00641")]);
        assert_eq!(
            post.quoted_uri.as_deref(),
            Some("at://did:plc:a/app.bsky.feed.post/3k")
        );
        assert_eq!(
            post.reply_parent.as_deref(),
            Some("at://did:plc:b/app.bsky.feed.post/1")
        );
        assert_eq!(
            post.reply_root.as_deref(),
            Some("at://did:plc:c/app.bsky.feed.post/0")
        );
    }

    #[test]
    fn plain_quote_embed() {
        let record = json!({"embed": {"$type": "app.bsky.embed.record",
            "record": {"uri": "at://did:plc:a/app.bsky.feed.post/3k", "cid": "c"}}});
        let post = PostRecord::from_value(&record);
        assert!(post.links.is_empty());
        assert_eq!(
            post.quoted_uri.as_deref(),
            Some("at://did:plc:a/app.bsky.feed.post/3k")
        );
    }

    #[test]
    fn odd_shapes_yield_nothing_rather_than_failing() {
        for record in [
            json!(null),
            json!([1, 2]),
            json!("text"),
            json!({"facets": "x", "embed": 3, "reply": [], "createdAt": 5}),
            json!({"facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": 7}]}, 3, null]}),
            json!({"embed": {"external": {"uri": null}, "record": {"uri": "https://not-at"}}}),
            json!({"createdAt": "yesterday", "reply": {"parent": {"uri": "at://bad uri"}}}),
        ] {
            let post = PostRecord::from_value(&record);
            assert_eq!(post, PostRecord::default(), "{record}");
        }
    }

    #[test]
    fn non_arxiv_and_truncated_links_link_no_paper() {
        let record = json!({"facets": [{"features": [
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://www.youtube.com/watch?v=V5lDo-jw8mA"},
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/arxiv.org/abs/2107.00641"},
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://arxiv.org/abs/2509.1"}
        ]}]});
        let post = PostRecord::from_value(&record);
        assert_eq!(post.links.len(), 3);
        assert!(post.papers().is_empty(), "{:?}", post.papers());
    }

    #[test]
    fn parses_each_event_kind() {
        let like = r#"{"did":"did:plc:a","time_us":1783175888085434,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.like","rkey":"k1","record":{"$type":"app.bsky.feed.like","createdAt":"2026-07-04T14:38:08.999Z","subject":{"cid":"c","uri":"at://did:plc:b/app.bsky.feed.post/p"}},"cid":"c"}}"#;
        let e = parse_event(like).unwrap();
        assert_eq!(e.did, "did:plc:a");
        assert_eq!(e.time_us, 1_783_175_888_085_434);
        assert_eq!(
            e.kind,
            EventKind::Commit(Commit {
                operation: Operation::Create,
                collection: LIKE.into(),
                rkey: "k1".into(),
                record: Some(Record::Like {
                    subject_uri: "at://did:plc:b/app.bsky.feed.post/p".into()
                }),
            })
        );
        assert_eq!(
            e.time().unwrap(),
            DateTime::from_timestamp_micros(1_783_175_888_085_434).unwrap()
        );

        let delete = r#"{"did":"did:plc:a","time_us":5,"kind":"commit","commit":{"rev":"r","operation":"delete","collection":"app.bsky.feed.post","rkey":"k"}}"#;
        let e = parse_event(delete).unwrap();
        assert!(matches!(
            e.kind,
            EventKind::Commit(Commit {
                operation: Operation::Delete,
                record: None,
                ..
            })
        ));

        let identity = r#"{"did":"did:plc:a","time_us":6,"kind":"identity","identity":{"did":"did:plc:a","seq":1,"time":"2026-07-04T14:38:07.877Z"}}"#;
        assert_eq!(parse_event(identity).unwrap().kind, EventKind::Other);

        let other_collection = r#"{"did":"did:plc:a","time_us":7,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.graph.follow","rkey":"k","record":{"subject":"did:plc:b"}}}"#;
        assert!(matches!(
            parse_event(other_collection).unwrap().kind,
            EventKind::Commit(Commit { record: None, .. })
        ));
    }

    #[test]
    fn malformed_events_are_errors_not_panics() {
        for line in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"did":"did:plc:a","kind":"commit"}"#,
            r#"{"did":"did:plc:a","time_us":"soon","kind":"commit"}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit"}"#,
            r#"{"did":"","time_us":1,"kind":"identity"}"#,
            r#"{"did":"did:plc:a b","time_us":1,"kind":"identity"}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k"}}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k","record":{"subject":{}}}}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.repost","rkey":"k","record":{"subject":{"uri":"https://x"}}}}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":"text"}}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"upsert","collection":"app.bsky.feed.post","rkey":"k","record":{}}}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":""}}"#,
        ] {
            let err = parse_event(line).expect_err(line);
            assert!(
                err.to_string().starts_with("malformed Jetstream event: "),
                "{err}"
            );
        }
        let long = format!(
            r#"{{"did":"did:plc:{}","time_us":1,"kind":"identity"}}"#,
            "a".repeat(MAX_ID_LEN)
        );
        assert!(parse_event(&long).is_err());
    }

    #[test]
    fn creation_time_is_bounded_by_when_the_post_was_seen() {
        let seen = Utc.with_ymd_and_hms(2026, 7, 4, 14, 38, 8).unwrap();
        let earlier = seen - chrono::Duration::seconds(2);
        let later = seen + chrono::Duration::days(30);
        assert_eq!(effective_created_at(Some(earlier), seen), earlier);
        assert_eq!(effective_created_at(Some(later), seen), seen);
        assert_eq!(effective_created_at(None, seen), seen);
        assert_eq!(
            record_uri("did:plc:a", POST, "3k"),
            "at://did:plc:a/app.bsky.feed.post/3k"
        );
    }
}
