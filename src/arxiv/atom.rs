//! Parser for arXiv API Atom feeds (`export.arxiv.org/api/query`).
//!
//! The API has served two layouts over the years: the legacy one declares `xmlns` on every element,
//! the current one declares the namespaces once on `<feed>`. Both are the same document to a
//! namespace-aware reader, so this parser streams the body with [`quick_xml::NsReader`] and matches
//! every element by *(namespace URI, local name)*, never by prefix text or element order. Unknown
//! elements (in any namespace) are skipped wholesale.
//!
//! The parser is deliberately forgiving per entry and strict per document: a broken entry lands in
//! [`AtomFeed::rejected`] with a reason while its siblings still parse, but a body that is not
//! well-formed Atom (truncated download, HTML error page, `Rate exceeded` text) is an error, because
//! a half-read page would silently lose papers.
//!
//! Bytes that are not UTF-8 are not a broken document: one bad byte in one title must not cost
//! the page (nor a retry, since the same bytes come back). They are replaced with U+FFFD before
//! the reader sees the body, and reported in [`AtomFeed::invalid_utf8`] with their offset in
//! the body as received and the entry they were in.

use std::borrow::Cow;
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use quick_xml::NsReader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::arxiv::ArxivId;
use crate::arxiv::paper::{Author, Link, Paper, collapse_whitespace};
use crate::arxiv::taxonomy::looks_like_category;

/// The Atom 1.0 namespace: `feed`, `entry`, `id`, `title`, `link`, ...
pub const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
/// arXiv's extension namespace: `primary_category`, `comment`, `affiliation`, ...
pub const ARXIV_NS: &str = "http://arxiv.org/schemas/atom";
/// OpenSearch 1.1: the paging totals.
pub const OPENSEARCH_NS: &str = "http://a9.com/-/spec/opensearch/1.1/";
/// Dublin Core elements (used by the RSS feeds).
pub const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// The marker in an entry `<id>` that turns the entry into an API error report.
const API_ERROR_MARKER: &str = "/api/errors#";

/// A parsed page of API results.
#[derive(Debug, Clone, Default)]
pub struct AtomFeed {
    /// `opensearch:totalResults`: how many papers match the query in total, for paging.
    pub total_results: Option<u64>,
    /// `opensearch:startIndex`: the 0-based offset of this page.
    pub start_index: Option<u64>,
    /// `opensearch:itemsPerPage`: the page size the server applied.
    pub items_per_page: Option<u64>,
    /// The papers, in feed order.
    pub entries: Vec<Paper>,
    /// Entries that could not be turned into papers, with the reason (logged by callers), so one
    /// odd record never costs the whole page.
    pub rejected: Vec<RejectedEntry>,
    /// Bytes that were not valid UTF-8 and were read as U+FFFD (logged by callers), one record
    /// per entry that had any (and one for those outside every entry).
    pub invalid_utf8: Vec<InvalidUtf8>,
}

/// Invalid UTF-8 in a feed body, replaced with U+FFFD so that the rest could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUtf8 {
    /// Byte offset, in the body as received, of the first invalid sequence.
    pub position: u64,
    /// How many invalid sequences (each became one U+FFFD).
    pub count: usize,
    /// The `<id>` (Atom) or guid (RSS) of the entry they were in; `None` outside every entry,
    /// or in one without an id.
    pub entry: Option<String>,
}

impl std::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid UTF-8 at byte {}", self.position)?;
        if self.count > 1 {
            write!(f, " (and {} more)", self.count - 1)?;
        }
        match &self.entry {
            Some(id) => write!(f, " in entry {id}")?,
            None => write!(f, " outside the entries")?,
        }
        f.write_str(", read as U+FFFD")
    }
}

/// An entry the parser skipped, kept so callers can log what was lost and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    /// The entry's `<id>` text, when it had one.
    pub id: Option<String>,
    /// A one-line human-readable reason, e.g. `missing <published>`.
    pub reason: String,
}

/// Why a feed could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum AtomError {
    /// arXiv answered with its error feed (an entry whose id contains `/api/errors#`): the request
    /// itself was wrong, so retrying it unchanged is pointless.
    #[error("arXiv API error {code}: {message}")]
    Api {
        /// The text after `#` in the error entry's id, e.g. `incorrect_id_format_for_1234.12345`.
        code: String,
        /// The error entry's `<summary>`, e.g. `incorrect id format for 1234.12345`.
        message: String,
    },
    /// Not well-formed XML (truncated body, mismatched tags, ...): usually a transient transport
    /// problem worth a retry. (Invalid UTF-8 is not one: it is read as U+FFFD, see
    /// [`AtomFeed::invalid_utf8`].)
    #[error("malformed Atom XML at byte {position}: {message}")]
    Xml {
        /// Byte offset into the body where the problem was detected.
        position: u64,
        /// What the XML reader objected to.
        message: String,
    },
    /// A body that is not an Atom feed at all (empty, plain text, an HTML error page, ...).
    #[error("not an Atom feed: {0}")]
    NotAtom(String),
}

/// One invalid sequence [`Decoded`] replaced with U+FFFD.
#[derive(Debug, Clone, Copy)]
struct Replacement {
    /// Offset of the U+FFFD in the decoded text.
    at: u64,
    /// Offset of the invalid bytes in the body.
    original: u64,
    /// How many invalid bytes it stands for.
    len: u64,
}

/// A body made valid UTF-8 for the XML reader (each invalid sequence replaced with U+FFFD,
/// as `String::from_utf8_lossy` does), remembering where the replacements were so that
/// offsets in the text can be given as offsets in the body as received.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) text: Cow<'a, str>,
    replacements: Vec<Replacement>,
}

/// The UTF-8 encoding of U+FFFD is 3 bytes long.
const REPLACEMENT_LEN: u64 = 3;

impl Decoded<'_> {
    pub(crate) fn new(body: &[u8]) -> Decoded<'_> {
        if let Ok(text) = std::str::from_utf8(body) {
            return Decoded {
                text: Cow::Borrowed(text),
                replacements: Vec::new(),
            };
        }
        let mut text = String::with_capacity(body.len().saturating_add(64));
        let mut replacements = Vec::new();
        let mut original: usize = 0;
        for chunk in body.utf8_chunks() {
            text.push_str(chunk.valid());
            original = original.saturating_add(chunk.valid().len());
            if !chunk.invalid().is_empty() {
                replacements.push(Replacement {
                    at: to_u64(text.len()),
                    original: to_u64(original),
                    len: to_u64(chunk.invalid().len()),
                });
                text.push(char::REPLACEMENT_CHARACTER);
                original = original.saturating_add(chunk.invalid().len());
            }
        }
        Decoded {
            text: Cow::Owned(text),
            replacements,
        }
    }

    /// The body offset of offset `p` of the decoded text.
    pub(crate) fn original_offset(&self, p: u64) -> u64 {
        let before = self.replacements.partition_point(|r| r.at < p);
        match before.checked_sub(1).and_then(|i| self.replacements.get(i)) {
            None => p,
            // Inside the replacement character: the invalid bytes themselves.
            Some(r) if p < r.at + REPLACEMENT_LEN => r.original,
            Some(r) => r.original + r.len + (p - r.at - REPLACEMENT_LEN),
        }
    }

    /// Attributes the replacements to entries, as the parser meets them.
    pub(crate) fn repairs(&self) -> Utf8Repairs<'_> {
        Utf8Repairs {
            pending: &self.replacements,
            outside: None,
            found: Vec::new(),
        }
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Collects [`InvalidUtf8`] records entry by entry (entries come in document order).
#[derive(Debug)]
pub(crate) struct Utf8Repairs<'a> {
    /// Replacements not attributed yet, in order.
    pending: &'a [Replacement],
    outside: Option<InvalidUtf8>,
    found: Vec<InvalidUtf8>,
}

impl Utf8Repairs<'_> {
    /// An entry spanning `start..end` of the decoded text ended; `id` is its id. Replacements
    /// before `start` were outside every entry.
    pub(crate) fn entry(&mut self, start: u64, end: u64, id: Option<&str>) {
        let mut inside: Option<InvalidUtf8> = None;
        while let Some((r, rest)) = self.pending.split_first() {
            if r.at >= end {
                break;
            }
            let (slot, entry) = if r.at < start {
                (&mut self.outside, None)
            } else {
                (&mut inside, id)
            };
            match slot {
                Some(found) => found.count += 1,
                None => {
                    *slot = Some(InvalidUtf8 {
                        position: r.original,
                        count: 1,
                        entry: entry.map(str::to_owned),
                    });
                }
            }
            self.pending = rest;
        }
        self.found.extend(inside);
    }

    /// Everything found, by position.
    pub(crate) fn finish(mut self) -> Vec<InvalidUtf8> {
        self.entry(u64::MAX, u64::MAX, None);
        self.found.extend(self.outside);
        self.found.sort_by_key(|r| r.position);
        self.found
    }
}

/// Where the reader's last error is, in the decoded text: quick-xml records the offset of
/// syntax errors only, so otherwise the position it had reached.
pub(crate) fn error_offset(reader: &NsReader<&[u8]>) -> u64 {
    match reader.error_position() {
        0 => reader.buffer_position(),
        p => p,
    }
}

/// Parses one API response body.
///
/// Returns [`AtomError::Api`] whenever the body is arXiv's error feed, whatever else it holds;
/// [`AtomError::Xml`] / [`AtomError::NotAtom`] for bodies that are not well-formed Atom. An empty
/// result page (`totalResults` 0, no entries) is `Ok`.
pub fn parse_feed(body: &[u8]) -> Result<AtomFeed, AtomError> {
    precheck_body(body).map_err(AtomError::NotAtom)?;
    let decoded = Decoded::new(body);
    let mut feed = AtomFeed::default();
    // One "batch" of every entry: nothing is handed out, `feed.entries` keeps them all.
    // The sink never breaks.
    let _: ControlFlow<()> = parse_decoded(&decoded, &mut feed, usize::MAX, &mut |_| {
        ControlFlow::Continue(())
    })
    .map_err(|e| body_offsets(&decoded, e))?;
    Ok(feed)
}

/// Parses like [`parse_feed`], but hands the papers to `sink` in batches of `batch_size` (the
/// last one may be smaller; 0 counts as 1) as they are read instead of collecting them: a
/// large file (`hotpapers import` of a 10,000-entry backfill) then holds one batch of papers at
/// a time, not all of them, and the caller can store a batch while the next one is parsed.
///
/// The returned feed has everything but the entries: the totals, the rejected entries and the
/// invalid UTF-8 repairs (so its `entries` is empty).
///
/// When the body turns out malformed after some entries, the entries completed before the
/// problem are handed to `sink` first and then the error is returned, so that the caller knows
/// exactly what it received (every entry closed before the error, none after). `sink`
/// returning [`ControlFlow::Break`] (its consumer went away) stops the parse, and the feed
/// returned covers what was read until then.
pub fn parse_feed_batches(
    body: &[u8],
    batch_size: usize,
    mut sink: impl FnMut(Vec<Paper>) -> ControlFlow<()>,
) -> Result<AtomFeed, AtomError> {
    precheck_body(body).map_err(AtomError::NotAtom)?;
    let decoded = Decoded::new(body);
    let mut feed = AtomFeed::default();
    let parsed = parse_decoded(&decoded, &mut feed, batch_size.max(1), &mut sink);
    let rest = std::mem::take(&mut feed.entries);
    match parsed {
        Ok(ControlFlow::Break(())) => {}
        Ok(ControlFlow::Continue(())) | Err(_) => {
            if !rest.is_empty() {
                // Stopping or not, this was the last batch.
                let _ = sink(rest);
            }
        }
    }
    // Stopped or not, the feed covers what was read.
    let _: ControlFlow<()> = parsed.map_err(|e| body_offsets(&decoded, e))?;
    Ok(feed)
}

/// An error of [`parse_decoded`] with its position as an offset in the body as received.
fn body_offsets(decoded: &Decoded<'_>, e: AtomError) -> AtomError {
    match e {
        AtomError::Xml { position, message } => AtomError::Xml {
            position: decoded.original_offset(position),
            message,
        },
        other => other,
    }
}

/// [`parse_feed`] over the decoded body, into `feed`; error positions are offsets in the
/// decoded text. Whenever `feed.entries` reaches `batch_size` they are handed to `sink`; what
/// is left at the end (or at an error) stays in `feed.entries`. `Break` means `sink` stopped
/// the parse.
fn parse_decoded(
    decoded: &Decoded<'_>,
    feed: &mut AtomFeed,
    batch_size: usize,
    sink: &mut dyn FnMut(Vec<Paper>) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, AtomError> {
    let xml = decoded.text.as_bytes();
    let mut repairs = decoded.repairs();
    let mut reader = NsReader::from_str(&decoded.text);
    // No trimming: quick-xml reports `a &amp; b` as three events, and trimming each one would
    // glue the words around an entity together. Whitespace is collapsed per field instead.
    reader.config_mut().trim_text(false);

    let mut stack: Vec<Tag> = Vec::with_capacity(8);
    let mut text = String::with_capacity(4096);
    let mut entry = EntryBuilder::default();
    let mut root_done = false;
    // Where the current entry's start tag began, in the decoded text.
    let mut entry_start: u64 = 0;
    // The entry list never needs to hold more than a batch.
    let reserve_cap = (xml.len() / MIN_ENTRY_BYTES).min(batch_size);

    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_error(error_offset(&reader), &e))?;
        match event {
            Event::Start(start) => {
                let tag = open_tag(&reader, &start, stack.last().copied(), root_done)?;
                if tag == Tag::Other {
                    // Skip the whole unknown subtree without resolving its names.
                    reader
                        .read_to_end(start.name())
                        .map_err(|e| xml_error(error_offset(&reader), &e))?;
                    continue;
                }
                if tag == Tag::Entry {
                    entry_start = before;
                }
                start_tag(tag, &start, &mut entry);
                if tag.captures_text() {
                    text.clear();
                }
                stack.push(tag);
            }
            Event::Empty(start) => {
                let tag = open_tag(&reader, &start, stack.last().copied(), root_done)?;
                if tag == Tag::Other {
                    continue;
                }
                start_tag(tag, &start, &mut entry);
                text.clear();
                end_tag(tag, &text, &mut entry, feed, reserve_cap)?;
                if tag == Tag::Entry {
                    repairs.entry(before, reader.buffer_position(), entry.id());
                    if hand_out(feed, batch_size, sink).is_break() {
                        break;
                    }
                }
                if tag == Tag::Feed {
                    root_done = true;
                }
            }
            Event::End(_) => {
                // quick-xml has already checked that the end name matches the start name.
                let Some(tag) = stack.pop() else {
                    return Err(AtomError::Xml {
                        position: reader.buffer_position(),
                        message: "closing tag without an open element".into(),
                    });
                };
                end_tag(tag, &text, &mut entry, feed, reserve_cap)?;
                if tag == Tag::Entry {
                    repairs.entry(entry_start, reader.buffer_position(), entry.id());
                    if hand_out(feed, batch_size, sink).is_break() {
                        break;
                    }
                }
                if tag == Tag::Feed {
                    root_done = true;
                }
            }
            Event::Text(t) => {
                if capturing(&stack) {
                    text.push_str(&t);
                } else if stack.is_empty() && !t.trim().is_empty() {
                    return Err(AtomError::Xml {
                        position: reader.buffer_position(),
                        message: format!("text outside the root element: {}", snippet(&t)),
                    });
                }
            }
            Event::CData(c) => {
                if capturing(&stack) {
                    text.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                if capturing(&stack) {
                    push_reference(&mut text, &r)
                        .map_err(|message| xml_error_msg(reader.buffer_position(), message))?;
                }
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(AtomError::Xml {
                        position: reader.buffer_position(),
                        message: format!(
                            "document ends inside <{}> (truncated body?)",
                            open.element_name()
                        ),
                    });
                }
                if !root_done {
                    return Err(AtomError::NotAtom("no root element".into()));
                }
                feed.invalid_utf8 = repairs.finish();
                return Ok(ControlFlow::Continue(()));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    // `sink` stopped the parse.
    feed.invalid_utf8 = repairs.finish();
    Ok(ControlFlow::Break(()))
}

/// Hands `feed.entries` to `sink` once they make a full batch.
fn hand_out(
    feed: &mut AtomFeed,
    batch_size: usize,
    sink: &mut dyn FnMut(Vec<Paper>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    if feed.entries.len() < batch_size {
        return ControlFlow::Continue(());
    }
    let full = std::mem::replace(&mut feed.entries, Vec::with_capacity(batch_size));
    sink(full)
}

/// The namespaces this parser reads elements from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ns {
    Atom,
    Arxiv,
    OpenSearch,
}

/// The elements this parser understands, each resolved in the context of its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Feed,
    TotalResults,
    StartIndex,
    ItemsPerPage,
    Entry,
    Id,
    Title,
    Summary,
    Published,
    Updated,
    Author,
    Name,
    Affiliation,
    Link,
    Category,
    PrimaryCategory,
    Comment,
    JournalRef,
    Doi,
    /// Anything else: skipped with its subtree.
    Other,
}

impl Tag {
    /// Whether the element's character data is wanted.
    fn captures_text(self) -> bool {
        matches!(
            self,
            Tag::TotalResults
                | Tag::StartIndex
                | Tag::ItemsPerPage
                | Tag::Id
                | Tag::Title
                | Tag::Summary
                | Tag::Published
                | Tag::Updated
                | Tag::Name
                | Tag::Affiliation
                | Tag::Comment
                | Tag::JournalRef
                | Tag::Doi
        )
    }

    /// A readable element name for error messages.
    fn element_name(self) -> &'static str {
        match self {
            Tag::Feed => "feed",
            Tag::TotalResults => "opensearch:totalResults",
            Tag::StartIndex => "opensearch:startIndex",
            Tag::ItemsPerPage => "opensearch:itemsPerPage",
            Tag::Entry => "entry",
            Tag::Id => "id",
            Tag::Title => "title",
            Tag::Summary => "summary",
            Tag::Published => "published",
            Tag::Updated => "updated",
            Tag::Author => "author",
            Tag::Name => "name",
            Tag::Affiliation => "arxiv:affiliation",
            Tag::Link => "link",
            Tag::Category => "category",
            Tag::PrimaryCategory => "arxiv:primary_category",
            Tag::Comment => "arxiv:comment",
            Tag::JournalRef => "arxiv:journal_ref",
            Tag::Doi => "arxiv:doi",
            Tag::Other => "unknown element",
        }
    }
}

fn capturing(stack: &[Tag]) -> bool {
    stack.last().is_some_and(|t| t.captures_text())
}

/// Resolves a start tag to a [`Tag`] given its parent; the root must be Atom `<feed>`.
fn open_tag(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    parent: Option<Tag>,
    root_done: bool,
) -> Result<Tag, AtomError> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let ns = match ns {
        ResolveResult::Bound(ns) => ns.into_inner(),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => "",
    };
    let local = local.into_inner();
    let Some(parent) = parent else {
        if root_done {
            return Err(AtomError::Xml {
                position: reader.buffer_position(),
                message: format!("second root element <{}>", start.name().as_ref()),
            });
        }
        return if ns == ATOM_NS && local == "feed" {
            Ok(Tag::Feed)
        } else {
            Err(AtomError::NotAtom(match (local == "feed", ns.is_empty()) {
                (true, true) => {
                    "root element <feed> has no Atom namespace (http://www.w3.org/2005/Atom)"
                        .to_string()
                }
                (_, true) => format!("root element is <{local}>, expected Atom <feed>"),
                (_, false) => {
                    format!("root element is <{local}> in namespace {ns}, expected Atom <feed>")
                }
            }))
        };
    };
    // Compare the namespace URI once, not once per candidate element below.
    let ns = match ns {
        ATOM_NS => Ns::Atom,
        ARXIV_NS => Ns::Arxiv,
        OPENSEARCH_NS => Ns::OpenSearch,
        _ => return Ok(Tag::Other),
    };
    let tag = match (parent, ns, local) {
        (Tag::Feed, Ns::Atom, "entry") => Tag::Entry,
        (Tag::Feed, Ns::OpenSearch, "totalResults") => Tag::TotalResults,
        (Tag::Feed, Ns::OpenSearch, "startIndex") => Tag::StartIndex,
        (Tag::Feed, Ns::OpenSearch, "itemsPerPage") => Tag::ItemsPerPage,
        (Tag::Entry, Ns::Atom, "id") => Tag::Id,
        (Tag::Entry, Ns::Atom, "title") => Tag::Title,
        (Tag::Entry, Ns::Atom, "summary") => Tag::Summary,
        (Tag::Entry, Ns::Atom, "published") => Tag::Published,
        (Tag::Entry, Ns::Atom, "updated") => Tag::Updated,
        (Tag::Entry, Ns::Atom, "author") => Tag::Author,
        (Tag::Entry, Ns::Atom, "link") => Tag::Link,
        (Tag::Entry, Ns::Atom, "category") => Tag::Category,
        (Tag::Entry, Ns::Arxiv, "primary_category") => Tag::PrimaryCategory,
        (Tag::Entry, Ns::Arxiv, "comment") => Tag::Comment,
        (Tag::Entry, Ns::Arxiv, "journal_ref") => Tag::JournalRef,
        (Tag::Entry, Ns::Arxiv, "doi") => Tag::Doi,
        (Tag::Author, Ns::Atom, "name") => Tag::Name,
        (Tag::Author, Ns::Arxiv, "affiliation") => Tag::Affiliation,
        _ => Tag::Other,
    };
    Ok(tag)
}

/// Handles what a start tag carries itself: attributes, and resetting per-element state.
fn start_tag(tag: Tag, start: &BytesStart<'_>, entry: &mut EntryBuilder) {
    match tag {
        Tag::Entry => entry.reset(),
        Tag::Author => {
            entry.author = Some(Author {
                name: String::new(),
                affiliations: Vec::new(),
            })
        }
        Tag::Link => {
            let mut link = Link {
                href: String::new(),
                rel: None,
                title: None,
                mime: None,
            };
            for_each_attr(
                start,
                &["href", "rel", "title", "type"],
                |key, value| match key {
                    "href" => link.href = value.trim().to_owned(),
                    "rel" => link.rel = non_empty(value),
                    "title" => link.title = non_empty(value),
                    "type" => link.mime = non_empty(value),
                    _ => {}
                },
            );
            if !link.href.is_empty() {
                entry.links.push(link);
            }
        }
        Tag::Category => {
            for_each_attr(start, &["term"], |_, value| {
                entry.add_category(value.trim())
            });
        }
        Tag::PrimaryCategory => {
            for_each_attr(start, &["term"], |_, value| {
                let term = value.trim();
                if looks_like_category(term) {
                    entry.primary = Some(term.to_owned());
                }
            });
        }
        _ => {}
    }
}

/// Handles an element's end: stores its collected text, finishes entries.
fn end_tag(
    tag: Tag,
    text: &str,
    entry: &mut EntryBuilder,
    feed: &mut AtomFeed,
    reserve_cap: usize,
) -> Result<(), AtomError> {
    match tag {
        Tag::TotalResults => feed.total_results = parse_count(text),
        Tag::StartIndex => feed.start_index = parse_count(text),
        Tag::ItemsPerPage => {
            feed.items_per_page = parse_count(text);
            // Size the entry list once. `reserve_cap` is at most the body's length over
            // MIN_ENTRY_BYTES (a real entry takes well over that much XML), so a lying header in
            // a small body cannot make us reserve much, and at most a batch.
            let expected = usize::try_from(feed.items_per_page.unwrap_or(0)).unwrap_or(0);
            feed.entries.reserve(expected.min(reserve_cap));
        }
        Tag::Id => {
            if !entry.has_id {
                entry.has_id = true;
                entry.id.push_str(text.trim());
            }
        }
        Tag::Title => {
            if entry.title.is_none() {
                entry.title = Some(collapse(text));
            }
        }
        Tag::Summary => {
            if entry.summary.is_none() {
                entry.summary = Some(collapse(text));
            }
        }
        Tag::Published => {
            if entry.published.is_none() {
                entry.published = Some(parse_time(text));
            }
        }
        Tag::Updated => {
            if entry.updated.is_none() {
                entry.updated = Some(parse_time(text));
            }
        }
        Tag::Name => {
            if let Some(author) = entry.author.as_mut() {
                author.name = collapse(text);
            }
        }
        Tag::Affiliation => {
            let affiliation = collapse(text);
            if let Some(author) = entry.author.as_mut()
                && !affiliation.is_empty()
            {
                author.affiliations.push(affiliation);
            }
        }
        Tag::Author => {
            if let Some(author) = entry.author.take()
                && !author.name.is_empty()
            {
                entry.authors.push(author);
            }
        }
        Tag::Comment => entry.comment = optional_text(text),
        Tag::JournalRef => entry.journal_ref = optional_text(text),
        Tag::Doi => entry.doi = optional_text(text),
        Tag::Entry => {
            if let Some((code, message)) = entry.api_error() {
                return Err(AtomError::Api { code, message });
            }
            match entry.build() {
                Ok(paper) => feed.entries.push(paper),
                Err(reason) => feed.rejected.push(RejectedEntry {
                    id: entry.has_id.then(|| entry.id.clone()),
                    reason,
                }),
            }
        }
        Tag::Feed | Tag::Link | Tag::Category | Tag::PrimaryCategory | Tag::Other => {}
    }
    Ok(())
}

/// Parses an OpenSearch count; garbage becomes `None` (the totals are advisory, the entries are not).
fn parse_count(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// Whitespace-collapsed text, `None` when nothing is left.
fn optional_text(text: &str) -> Option<String> {
    let s = collapse(text);
    (!s.is_empty()).then_some(s)
}

fn non_empty(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// Calls `f(name, unescaped value)` for each well-formed attribute named in `wanted`.
///
/// Names are compared whole, so only unprefixed attributes match: they belong to no namespace,
/// which is where Atom puts `href`, `rel` and `term`, while a prefixed `foo:term` is someone
/// else's. Values are unescaped only for wanted attributes. Malformed attributes are skipped: they
/// cannot corrupt the element's other data.
fn for_each_attr(start: &BytesStart<'_>, wanted: &[&str], mut f: impl FnMut(&str, &str)) {
    for attr in start.attributes().with_checks(false).flatten() {
        let key = attr.key.as_ref();
        if !wanted.contains(&key) {
            continue;
        }
        if let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
            f(key, &value);
        }
    }
}

/// Collapses whitespace exactly like [`collapse_whitespace`] (every Unicode whitespace run becomes
/// one space, ends trimmed), but copies already-clean stretches wholesale instead of word by word:
/// this runs over every abstract and was the parser's hottest function.
pub(crate) fn collapse(s: &str) -> String {
    let bytes = s.as_bytes();
    let (control_ws, unicode_lead) = scan_whitespace_kinds(bytes);
    // Non-ASCII whitespace (U+0085, U+00A0, U+1680, U+2000.., U+3000) starts with one of the
    // lead bytes `scan_whitespace_kinds` looks for; only such text needs the char-aware path.
    if unicode_lead && s.contains(|c: char| !c.is_ascii() && c.is_whitespace()) {
        return collapse_whitespace(s);
    }
    // The common case (current API layout): one line, single spaces, nothing to do but copy.
    if !control_ws
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && !s.contains("  ")
    {
        return s.to_owned();
    }
    // Exactly the ASCII characters for which `char::is_whitespace` holds.
    let is_ws = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
    let mut out = String::with_capacity(s.len());
    let mut i = bytes.iter().take_while(|&&b| is_ws(b)).count();
    // Start of the clean stretch not yet copied to `out`.
    let mut run_start = i;
    while let Some(&b) = bytes.get(i) {
        if !is_ws(b) {
            i += 1;
            continue;
        }
        let ws_start = i;
        i += 1;
        while bytes.get(i).is_some_and(|&b| is_ws(b)) {
            i += 1;
        }
        let at_end = i >= bytes.len();
        if b == b' ' && i == ws_start + 1 && !at_end {
            // A lone space between words is already collapsed: keep it in the stretch.
            continue;
        }
        out.push_str(s.get(run_start..ws_start).unwrap_or_default());
        if !at_end {
            out.push(' ');
        }
        run_start = i;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    out
}

/// Whether `bytes` has ASCII whitespace other than the space (`\t`, `\n`, VT, FF, `\r`), and
/// whether it has a lead byte of a non-ASCII whitespace character. Branch-free over fixed-size
/// chunks so the compiler can vectorize it.
fn scan_whitespace_kinds(bytes: &[u8]) -> (bool, bool) {
    let mut control = false;
    let mut lead = false;
    for chunk in bytes.chunks(64) {
        let (mut c, mut l) = (false, false);
        for &b in chunk {
            c |= b.wrapping_sub(b'\t') < 5;
            l |= (b == 0xC2) | (b.wrapping_sub(0xE1) < 3);
        }
        control |= c;
        lead |= l;
        if control && lead {
            break;
        }
    }
    (control, lead)
}

/// Appends the replacement text of an entity or character reference.
///
/// Only XML's five predefined entities exist without a DTD; an undeclared one (`&nbsp;` from a
/// sloppy HTML-minded producer) is kept literally rather than failing the whole feed.
pub(crate) fn push_reference(text: &mut String, r: &BytesRef<'_>) -> Result<(), String> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => text.push(c),
        Ok(None) => match quick_xml::escape::resolve_xml_entity(r) {
            Some(s) => text.push_str(s),
            None => {
                text.push('&');
                text.push_str(r);
                text.push(';');
            }
        },
        Err(e) => return Err(format!("bad character reference &{};: {e}", &**r)),
    }
    Ok(())
}

/// Rejects bodies that cannot be XML before handing them to the reader, with a message that shows
/// what arrived instead (`Rate exceeded.`, an empty 200, ...).
pub(crate) fn precheck_body(xml: &[u8]) -> Result<(), String> {
    let body = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    match body.iter().position(|b| !b.is_ascii_whitespace()) {
        None => Err("empty body".into()),
        Some(i) if body.get(i) != Some(&b'<') => {
            let rest = body.get(i..).unwrap_or_default();
            Err(format!(
                "body is not XML, it starts with {}",
                snippet(&String::from_utf8_lossy(rest))
            ))
        }
        Some(_) => Ok(()),
    }
}

/// The first few dozen characters of `s`, quoted, for error messages.
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 60;
    let s = s.trim();
    let cut: String = s.chars().take(MAX).collect();
    if cut.len() < s.len() {
        format!("{:?}...", cut)
    } else {
        format!("{cut:?}")
    }
}

fn xml_error(position: u64, e: &quick_xml::Error) -> AtomError {
    xml_error_msg(position, e.to_string())
}

fn xml_error_msg(position: u64, message: String) -> AtomError {
    AtomError::Xml { position, message }
}

/// A lower bound on the XML size of a real entry, used to cap the up-front reservation for
/// `itemsPerPage` entries (a bare-minimum arXiv entry is about 1 kB).
const MIN_ENTRY_BYTES: usize = 512;

/// A timestamp, or why it could not be read.
type ParsedTime = Result<DateTime<Utc>, String>;

/// One entry's fields as they stream past; turned into a [`Paper`] at `</entry>`. Reused across
/// entries so the id buffer is allocated once per feed. Single-valued elements keep their first
/// occurrence (Atom allows exactly one).
#[derive(Debug, Default)]
struct EntryBuilder {
    /// The `<id>` text (valid when `has_id`).
    id: String,
    has_id: bool,
    /// Collapsed title.
    title: Option<String>,
    /// Collapsed abstract.
    summary: Option<String>,
    published: Option<ParsedTime>,
    updated: Option<ParsedTime>,
    authors: Vec<Author>,
    author: Option<Author>,
    links: Vec<Link>,
    categories: Vec<String>,
    primary: Option<String>,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
}

impl EntryBuilder {
    /// The entry's `<id>` text, when it had one.
    fn id(&self) -> Option<&str> {
        self.has_id.then_some(self.id.as_str())
    }

    fn reset(&mut self) {
        let mut id = std::mem::take(&mut self.id);
        id.clear();
        let mut authors = std::mem::take(&mut self.authors);
        authors.clear();
        *self = EntryBuilder {
            id,
            authors,
            ..EntryBuilder::default()
        };
    }

    /// Adds an arXiv category term once, in document order; ACM/MSC classes are dropped.
    fn add_category(&mut self, term: &str) {
        if looks_like_category(term) && !self.categories.iter().any(|c| c == term) {
            self.categories.push(term.to_owned());
        }
    }

    /// `Some((code, message))` when this is arXiv's error entry rather than a paper.
    fn api_error(&self) -> Option<(String, String)> {
        let id = self.id.as_str();
        let by_id = id.contains(API_ERROR_MARKER);
        let by_title = self.title.as_deref() == Some("Error")
            && self.authors.iter().any(|a| a.name == "arXiv api core");
        if !by_id && !by_title {
            return None;
        }
        let code = match id.split_once('#') {
            Some((_, code)) if !code.trim().is_empty() => code.trim().to_owned(),
            _ => "unknown".to_owned(),
        };
        let message = match self.summary.as_deref() {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => "no message given".to_owned(),
        };
        Some((code, message))
    }

    /// Validates and converts the collected fields, taking them out of the builder.
    fn build(&mut self) -> Result<Paper, String> {
        if !self.has_id {
            return Err("missing <id>".into());
        }
        let parsed = ArxivId::parse(&self.id).map_err(|e| format!("unparsable <id>: {e}"))?;
        let title = self.title.take().ok_or("missing <title>")?;
        if title.is_empty() {
            return Err("empty <title>".into());
        }
        let published = match self.published.take() {
            None => return Err("missing <published>".into()),
            Some(Err(e)) => return Err(format!("unparsable <published>: {e}")),
            Some(Ok(t)) => t,
        };
        let updated = match self.updated.take() {
            None => published,
            Some(Err(e)) => return Err(format!("unparsable <updated>: {e}")),
            Some(Ok(t)) => t,
        };
        let version = match parsed.version() {
            Some(v) => v,
            None => self.version_from_alternate_link(&parsed).unwrap_or(1),
        };
        let mut categories = std::mem::take(&mut self.categories);
        let primary_category = match self.primary.take() {
            Some(p) => {
                if !categories.contains(&p) {
                    categories.insert(0, p.clone());
                }
                p
            }
            None => categories
                .first()
                .cloned()
                .ok_or("no arXiv category (neither <arxiv:primary_category> nor <category>)")?,
        };
        Ok(Paper {
            id: parsed.versionless(),
            version,
            title,
            abstract_text: self.summary.take().unwrap_or_default(),
            // One exact-size allocation instead of the buffer's growth steps.
            authors: self.authors.drain(..).collect(),
            primary_category,
            categories,
            published,
            updated,
            comment: self.comment.take(),
            journal_ref: self.journal_ref.take(),
            doi: self.doi.take(),
            links: std::mem::take(&mut self.links),
        })
    }

    /// Legacy feeds give a version-less `<id>` but a versioned abstract link (`.../abs/IDv1`).
    fn version_from_alternate_link(&self, id: &ArxivId) -> Option<u32> {
        self.links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("alternate"))
            .filter_map(|l| ArxivId::parse(&l.href).ok())
            .find(|l| l.key() == id.key())
            .and_then(|l| l.version())
    }
}

/// RFC 3339 (`Z` or an offset such as `-04:00`), normalized to UTC.
fn parse_time(text: &str) -> ParsedTime {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{} ({e})", snippet(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const CURRENT: &[u8] =
        include_bytes!("../../tests/fixtures/arxiv_api_query_current_format.xml");
    const LEGACY: &[u8] =
        include_bytes!("../../tests/fixtures/arxiv_api_query_legacy_format_docs.xml");
    const ERROR: &[u8] = include_bytes!("../../tests/fixtures/arxiv_api_error_malformed_id.xml");

    fn ok(xml: &str) -> AtomFeed {
        match parse_feed(xml.as_bytes()) {
            Ok(feed) => feed,
            Err(e) => panic!("expected Ok, got {e}"),
        }
    }

    /// A current-layout feed around the given entries.
    fn feed(entries: &str) -> String {
        format!(
            r#"<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <opensearch:totalResults>3</opensearch:totalResults>
{entries}
</feed>"#
        )
    }

    fn entry(id: &str, title: &str, extra: &str) -> String {
        format!(
            r#"<entry><id>http://arxiv.org/abs/{id}</id><title>{title}</title>
<updated>2024-01-02T00:00:00Z</updated><published>2024-01-01T00:00:00Z</published>
<summary>Abstract of {id}.</summary><category term="cs.LG"/><arxiv:primary_category term="cs.LG"/>
<author><name>A. Author</name></author>{extra}</entry>"#
        )
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        match Utc.with_ymd_and_hms(y, mo, d, h, mi, s) {
            chrono::LocalResult::Single(t) => t,
            other => panic!("bad test time: {other:?}"),
        }
    }

    #[test]
    fn current_layout_fixture() {
        let feed = match parse_feed(CURRENT) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(feed.total_results, Some(1_435_012));
        assert_eq!(feed.start_index, Some(0));
        assert_eq!(feed.items_per_page, Some(20));
        assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
        let ids: Vec<(String, u32)> = feed
            .entries
            .iter()
            .map(|p| (p.id.to_string(), p.version))
            .collect();
        assert_eq!(
            ids,
            [
                ("2403.17411", 1),
                ("2507.20198", 5),
                ("2609.08574", 1),
                ("2409.17625", 3),
                ("2306.14152", 1),
                ("2401.04670", 1),
            ]
            .map(|(i, v)| (i.to_string(), v))
        );
        for p in &feed.entries {
            assert_eq!(p.id.version(), None, "stored id must be version-less");
            assert!(!p.abstract_text.is_empty());
            assert!(p.categories.contains(&p.primary_category));
        }

        let first = &feed.entries[0];
        assert_eq!(
            first.title,
            "PCToolkit: A Unified Plug-and-Play Prompt Compression Toolkit of Large Language Models"
        );
        assert!(
            first
                .abstract_text
                .starts_with("Prompt compression is an innovative")
        );
        assert!(first.abstract_text.ends_with("and lies recognition."));
        assert_eq!(
            first.author_names().collect::<Vec<_>>(),
            ["Jinyi Li", "Yihuai Lan", "Lei Wang", "Hao Wang"]
        );
        assert!(first.authors.iter().all(|a| a.affiliations.is_empty()));
        assert_eq!(
            first.comment.as_deref(),
            Some(
                "For open-source repository, see https://github.com/3DAgentWorld/Toolkit-for-Prompt-Compression"
            )
        );
        assert_eq!(first.journal_ref, None);
        assert_eq!(first.doi, None);
        assert_eq!(first.published, utc(2024, 3, 26, 6, 11, 7));
        assert_eq!(first.updated, first.published);
        assert_eq!(
            first.links[0],
            Link {
                href: "https://arxiv.org/abs/2403.17411v1".into(),
                rel: Some("alternate".into()),
                title: None,
                mime: Some("text/html".into()),
            }
        );
        assert_eq!(first.links[1].title.as_deref(), Some("pdf"));

        // Later versions: published (v1) differs from updated (this version).
        let v5 = &feed.entries[1];
        assert_eq!(v5.published, utc(2025, 7, 27, 9, 33, 56));
        assert_eq!(v5.updated, utc(2026, 2, 1, 13, 50, 53));
        assert_eq!(v5.author_names().count(), 10);
        let v3 = &feed.entries[3];
        assert_ne!(v3.published, v3.updated);
        assert_eq!(v3.primary_category, "cs.LG");

        let multi = &feed.entries[2];
        assert_eq!(multi.categories, ["cs.CL", "cs.AI"]);
        assert_eq!(multi.primary_category, "cs.CL");

        let na = &feed.entries[5];
        assert_eq!(na.primary_category, "math.NA");
        assert_eq!(na.categories, ["math.NA"]);
        assert_eq!(na.doi.as_deref(), Some("10.1109/DCC58796.2024.00080"));
        assert_eq!(
            na.journal_ref.as_deref(),
            Some("2024 Data Compression Conference (DCC)")
        );
        assert_eq!(na.links.len(), 3);
        assert_eq!(
            na.links[2],
            Link {
                href: "https://doi.org/10.1109/DCC58796.2024.00080".into(),
                rel: Some("related".into()),
                title: Some("doi".into()),
                mime: None,
            }
        );
    }

    #[test]
    fn feed_level_link_without_rel_is_not_an_entry_link() {
        // The current layout's feed-level <link> has no rel; it must not leak into entries.
        let feed = match parse_feed(CURRENT) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert!(
            feed.entries
                .iter()
                .flat_map(|p| &p.links)
                .all(|l| !l.href.contains("/api/query"))
        );
        // A link without rel inside an entry is kept with rel None.
        let xml = feed_with_extra(r#"<link href="https://example.org/x" type="text/html"/>"#);
        let f = ok(&xml);
        let link = f.entries[0].links.last().cloned();
        assert_eq!(
            link,
            Some(Link {
                href: "https://example.org/x".into(),
                rel: None,
                title: None,
                mime: Some("text/html".into())
            })
        );
    }

    fn feed_with_extra(extra: &str) -> String {
        feed(&entry("2101.00001v2", "T", extra))
    }

    #[test]
    fn legacy_layout_fixture() {
        let feed = match parse_feed(LEGACY) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(feed.total_results, Some(1000));
        assert_eq!(feed.start_index, Some(0));
        assert_eq!(feed.items_per_page, Some(1));
        assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
        assert_eq!(feed.entries.len(), 1);
        let p = &feed.entries[0];
        assert_eq!(p.id.key(), "hep-ex/0307015");
        // No version in <id>: taken from the alternate link ...v1.
        assert_eq!(p.version, 1);
        assert_eq!(
            p.title,
            "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA"
        );
        assert!(
            p.abstract_text
                .starts_with("Multi-electron production is studied")
        );
        assert!(!p.abstract_text.contains('\n'));
        assert!(!p.abstract_text.contains("  "));
        assert!(p.abstract_text.ends_with("0.23 \\pm 0.04, respectively."));
        // 13:46:39-04:00 is 17:46:39 UTC.
        assert_eq!(p.published, utc(2003, 7, 7, 17, 46, 39));
        assert_eq!(p.updated, p.published);
        assert_eq!(
            p.authors,
            [Author {
                name: "H1 Collaboration".into(),
                affiliations: vec![]
            }]
        );
        assert_eq!(p.primary_category, "hep-ex");
        assert_eq!(p.categories, ["hep-ex"]);
        assert_eq!(
            p.comment.as_deref(),
            Some("23 pages, 8 figures and 4 tables")
        );
        assert_eq!(
            p.journal_ref.as_deref(),
            Some("Eur.Phys.J. C31 (2003) 17-29")
        );
        assert_eq!(p.doi, None);
        assert_eq!(p.links.len(), 2);
    }

    #[test]
    fn error_feed_fixture() {
        match parse_feed(ERROR) {
            Err(AtomError::Api { code, message }) => {
                assert_eq!(code, "incorrect_id_format_for_1234.12345");
                assert_eq!(message, "incorrect id format for 1234.12345");
            }
            other => panic!("expected Api error, got {other:?}"),
        }
    }

    #[test]
    fn error_entry_wins_over_papers_around_it() {
        let err = r#"<entry><id>http://arxiv.org/api/errors#start_must_be_an_integer</id>
            <title>Error</title><summary>start must be an integer</summary>
            <author><name>arXiv api core</name></author></entry>"#;
        let xml = feed(&format!("{}{err}", entry("2101.00001v1", "T", "")));
        match parse_feed(xml.as_bytes()) {
            Err(AtomError::Api { code, message }) => {
                assert_eq!(code, "start_must_be_an_integer");
                assert_eq!(message, "start must be an integer");
            }
            other => panic!("expected Api error, got {other:?}"),
        }
    }

    #[test]
    fn error_entry_detected_by_title_and_author() {
        let err = r#"<entry><id>http://arxiv.org/api/oops</id><title>Error</title>
            <summary>something broke</summary><author><name>arXiv api core</name></author></entry>"#;
        match parse_feed(feed(err).as_bytes()) {
            Err(AtomError::Api { code, message }) => {
                assert_eq!(code, "unknown");
                assert_eq!(message, "something broke");
            }
            other => panic!("expected Api error, got {other:?}"),
        }
        // A real paper titled "Error" is not an error feed.
        let f = ok(&feed(&entry("2101.00001v1", "Error", "")));
        assert_eq!(f.entries.len(), 1);
    }

    #[test]
    fn empty_result_is_ok() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:totalResults></feed>"#;
        let f = ok(xml);
        assert_eq!(f.total_results, Some(0));
        assert!(f.entries.is_empty());
        assert!(f.rejected.is_empty());
        let f = ok(r#"<feed xmlns="http://www.w3.org/2005/Atom"/>"#);
        assert!(f.entries.is_empty());
    }

    #[test]
    fn truncated_current_fixture_is_an_error_at_every_cut() {
        let body = CURRENT;
        let end = body.len() - "</feed>\n".len();
        for cut in (0..end).step_by(37).chain([1, 2, 100, end - 1]) {
            match parse_feed(&body[..cut]) {
                Err(AtomError::Xml { .. } | AtomError::NotAtom(_)) => {}
                other => panic!("cut at {cut}: expected Xml/NotAtom error, got {other:?}"),
            }
        }
    }

    #[test]
    fn truncation_reports_position_and_element() {
        let cut = CURRENT.len() / 2;
        match parse_feed(&CURRENT[..cut]) {
            Err(AtomError::Xml { position, message }) => {
                assert!(position > 0 && position <= cut as u64, "{position}");
                assert!(message.contains("truncated") || !message.is_empty());
            }
            other => panic!("expected Xml error, got {other:?}"),
        }
    }

    #[test]
    fn non_feed_bodies_are_errors() {
        let cases: [&[u8]; 7] = [
            b"",
            b"   \n\t ",
            b"Rate exceeded.",
            b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body><h1>Oops</h1></body></html>",
            b"<html><body>Bad gateway<br></body></html>",
            b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>",
            b"<feed><entry/></feed>", // no Atom namespace
        ];
        for body in cases {
            match parse_feed(body) {
                Err(AtomError::NotAtom(reason)) => assert!(!reason.is_empty()),
                other => panic!(
                    "{:?}: expected NotAtom, got {other:?}",
                    String::from_utf8_lossy(body)
                ),
            }
        }
        match parse_feed(b"Rate exceeded.") {
            Err(e) => assert!(e.to_string().contains("Rate exceeded"), "{e}"),
            Ok(_) => panic!("Rate exceeded parsed"),
        }
    }

    #[test]
    fn malformed_xml_is_an_xml_error() {
        let cases = [
            // mismatched tags
            feed("<entry><id>http://arxiv.org/abs/2101.00001v1</title></entry>"),
            // bad character reference
            feed(&entry("2101.00001v1", "&#0;", "")),
            // text after the root
            format!("{}trailing", feed("")),
            // a second root
            format!("{}<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", feed("")),
            // unknown namespace prefix inside is fine, but an unclosed unknown element is not
            feed("<foo:bar xmlns:foo=\"urn:x\"><baz>"),
        ];
        for xml in cases {
            match parse_feed(xml.as_bytes()) {
                Err(AtomError::Xml { message, .. }) => assert!(!message.is_empty()),
                other => panic!("{xml}: expected Xml error, got {other:?}"),
            }
        }
    }

    /// Invalid UTF-8 inside a title is not malformed XML (it used to fail the whole feed "at
    /// byte 0"): the title reads U+FFFD and the report says where the byte was.
    #[test]
    fn invalid_utf8_is_read_as_u_fffd_and_reported() {
        let mut bytes = feed(&entry("2101.00001v1", "XX", "")).into_bytes();
        let i = bytes
            .windows(2)
            .position(|w| w == b"XX")
            .expect("the title");
        bytes[i] = 0xFF;
        let f = parse_feed(&bytes).expect("parses");
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].title, "\u{FFFD}X");
        assert_eq!(
            f.invalid_utf8,
            [InvalidUtf8 {
                position: u64::try_from(i).expect("small"),
                count: 1,
                entry: Some("http://arxiv.org/abs/2101.00001v1".into()),
            }]
        );
    }

    #[test]
    fn decoded_offsets_map_back_to_the_body() {
        // "a" FF "b" F0 9F 98 "c": two replacements (1 and 3 invalid bytes), each 3 bytes.
        let body = b"a\xFFb\xF0\x9F\x98c";
        let d = Decoded::new(body);
        assert_eq!(d.text, "a\u{FFFD}b\u{FFFD}c");
        let map: Vec<u64> = (0..=9).map(|p| d.original_offset(p)).collect();
        // text: a(0) FFFD(1..4) b(4) FFFD(5..8) c(8) end(9)
        assert_eq!(map, [0, 1, 1, 1, 2, 3, 3, 3, 6, 7]);
        let clean = Decoded::new(b"plain");
        assert!(matches!(clean.text, Cow::Borrowed("plain")));
        assert_eq!(clean.original_offset(3), 3);
    }

    #[test]
    fn entities_and_cdata_are_decoded() {
        let title = "Q &amp; A: x &lt; y &gt; z, &quot;quoted&quot; &apos;s &#955;&#x3BB; <![CDATA[<b>raw</b> & more]]> done";
        let f = ok(&feed(&entry("2101.00001v1", title, "")));
        assert_eq!(
            f.entries[0].title,
            "Q & A: x < y > z, \"quoted\" 's λλ <b>raw</b> & more done"
        );
        // Undeclared entities survive literally instead of failing the feed.
        let f = ok(&feed(&entry("2101.00001v1", "a &nbsp; b", "")));
        assert_eq!(f.entries[0].title, "a &nbsp; b");
        // Attribute values are unescaped too.
        let f = ok(&feed_with_extra(
            r#"<link href="https://example.org/?a=1&amp;b=2" rel="related" title="x &amp; y"/>"#,
        ));
        let link = &f.entries[0].links[0];
        assert_eq!(link.href, "https://example.org/?a=1&b=2");
        assert_eq!(link.title.as_deref(), Some("x & y"));
    }

    #[test]
    fn affiliations_are_attached_to_their_author() {
        let authors = r#"<author><name>Ada  Lovelace</name><arxiv:affiliation>Univ. of
            London</arxiv:affiliation><arxiv:affiliation>Analytical Engine Co.</arxiv:affiliation></author>
            <author><name>Charles Babbage</name><arxiv:affiliation> </arxiv:affiliation></author>
            <author><name>  </name></author>"#;
        let f = ok(&feed_with_extra(authors));
        assert_eq!(
            f.entries[0].authors,
            [
                Author {
                    name: "A. Author".into(),
                    affiliations: vec![]
                },
                Author {
                    name: "Ada Lovelace".into(),
                    affiliations: vec!["Univ. of London".into(), "Analytical Engine Co.".into()]
                },
                Author {
                    name: "Charles Babbage".into(),
                    affiliations: vec![]
                },
            ]
        );
    }

    #[test]
    fn categories_are_filtered_deduplicated_and_ordered() {
        let xml = feed(
            r#"<entry><id>http://arxiv.org/abs/2101.00001v1</id><title>T</title>
            <published>2021-01-01T00:00:00Z</published>
            <category term="cs.LG"/><category term="I.2.6"/><category term="68T05"/>
            <category term="stat.ML"/><category term="cs.LG"/><category term="  "/>
            <category scheme="x"/>
            <arxiv:primary_category term="cs.AI"/></entry>"#,
        );
        let f = ok(&xml);
        let p = &f.entries[0];
        assert_eq!(p.primary_category, "cs.AI");
        // Primary missing from the list: put first.
        assert_eq!(p.categories, ["cs.AI", "cs.LG", "stat.ML"]);
        assert_eq!(p.updated, p.published, "updated defaults to published");
        assert_eq!(p.abstract_text, "");
        assert!(p.authors.is_empty());
    }

    #[test]
    fn primary_defaults_to_first_category_and_none_is_rejected() {
        let base = r#"<entry><id>http://arxiv.org/abs/2101.00001v1</id><title>T</title>
            <published>2021-01-01T00:00:00Z</published>"#;
        let f = ok(&feed(&format!(
            r#"{base}<category term="math.CO"/><category term="cs.DM"/></entry>"#
        )));
        assert_eq!(f.entries[0].primary_category, "math.CO");
        let f = ok(&feed(&format!(
            r#"{base}<category term="68R10"/><arxiv:primary_category term="05C80"/></entry>"#
        )));
        assert!(f.entries.is_empty());
        assert_eq!(f.rejected.len(), 1);
        assert!(
            f.rejected[0].reason.contains("category"),
            "{:?}",
            f.rejected
        );
    }

    #[test]
    fn broken_entries_are_rejected_and_the_rest_kept() {
        let no_id = entry("X", "no id", "").replace("<id>http://arxiv.org/abs/X</id>", "");
        let bad_id = entry("not-an-id", "bad id", "");
        let no_title = entry("2101.00003v1", "x", "").replace("<title>x</title>", "");
        let no_published = entry("2101.00004v1", "x", "")
            .replace("<published>2024-01-01T00:00:00Z</published>", "");
        let bad_date = entry("2101.00005v1", "x", "").replace("2024-01-01T00:00:00Z", "yesterday");
        let bad_updated =
            entry("2101.00006v1", "x", "").replace("2024-01-02T00:00:00Z", "2024-13-40T00:00:00Z");
        let empty_title = entry("2101.00007v1", " ", "");
        let xml = feed(&format!(
            "{}{no_id}{bad_id}{no_title}{no_published}{bad_date}{bad_updated}{empty_title}{}",
            entry("2101.00001v1", "good one", ""),
            entry("2101.00002v2", "good two", "")
        ));
        let f = ok(&xml);
        let kept: Vec<String> = f.entries.iter().map(|p| p.title.clone()).collect();
        assert_eq!(kept, ["good one", "good two"]);
        let reasons: Vec<(Option<&str>, &str)> = f
            .rejected
            .iter()
            .map(|r| (r.id.as_deref(), r.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 7, "{reasons:?}");
        assert_eq!(reasons[0], (None, "missing <id>"));
        assert_eq!(reasons[1].0, Some("http://arxiv.org/abs/not-an-id"));
        assert!(reasons[1].1.starts_with("unparsable <id>"), "{reasons:?}");
        assert_eq!(reasons[2].1, "missing <title>");
        assert_eq!(reasons[3].1, "missing <published>");
        assert!(
            reasons[4].1.starts_with("unparsable <published>"),
            "{reasons:?}"
        );
        assert!(reasons[4].1.contains("yesterday"), "{reasons:?}");
        assert!(
            reasons[5].1.starts_with("unparsable <updated>"),
            "{reasons:?}"
        );
        assert_eq!(reasons[6].1, "empty <title>");
    }

    #[test]
    fn other_prefixes_bound_to_the_right_namespaces_work() {
        let xml = r#"<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:ax="http://arxiv.org/schemas/atom" xmlns:os="http://a9.com/-/spec/opensearch/1.1/">
            <os:totalResults>7</os:totalResults>
            <a:entry><a:id>http://arxiv.org/abs/2101.00001v4</a:id><a:title>Prefixed</a:title>
            <a:published>2021-01-01T00:00:00+02:00</a:published>
            <a:category term="cs.LG"/><ax:primary_category term="cs.CV"/>
            <ax:comment>  5 pages </ax:comment><ax:doi>10.1/x</ax:doi><ax:journal_ref>J. X</ax:journal_ref>
            <a:author><a:name>P. Q</a:name><ax:affiliation>Lab</ax:affiliation></a:author></a:entry></a:feed>"#;
        let f = ok(xml);
        assert_eq!(f.total_results, Some(7));
        let p = &f.entries[0];
        assert_eq!(p.version, 4);
        assert_eq!(p.primary_category, "cs.CV");
        assert_eq!(p.categories, ["cs.CV", "cs.LG"]);
        assert_eq!(p.comment.as_deref(), Some("5 pages"));
        assert_eq!(p.doi.as_deref(), Some("10.1/x"));
        assert_eq!(p.journal_ref.as_deref(), Some("J. X"));
        assert_eq!(p.authors[0].affiliations, ["Lab"]);
        assert_eq!(p.published, utc(2020, 12, 31, 22, 0, 0));
    }

    #[test]
    fn right_local_name_in_wrong_namespace_is_ignored() {
        let extra = r#"<x:primary_category xmlns:x="http://example.org/other" term="q-bio.NC"/>
            <arxiv:comment xmlns:arxiv="http://example.org/not-arxiv">fake comment</arxiv:comment>
            <dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Wrong title</dc:title>
            <summary xmlns="http://example.org/other">wrong summary</summary>
            <category xmlns="urn:x" term="math.AG"/>
            <arxiv:doi>10.2/real</arxiv:doi>"#;
        let f = ok(&feed_with_extra(extra));
        let p = &f.entries[0];
        assert_eq!(p.primary_category, "cs.LG");
        assert_eq!(p.categories, ["cs.LG"]);
        assert_eq!(p.comment, None);
        assert_eq!(p.title, "T");
        assert_eq!(p.abstract_text, "Abstract of 2101.00001v2.");
        assert_eq!(p.doi.as_deref(), Some("10.2/real"));
        // Feed-level opensearch names in another namespace are ignored as well.
        let xml =
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><totalResults>9</totalResults></feed>"#;
        assert_eq!(ok(xml).total_results, None);
    }

    #[test]
    fn unknown_elements_are_skipped_with_their_subtrees() {
        let extra = r#"<media:group xmlns:media="http://search.yahoo.com/mrss/"><title>not mine</title>
            <entry><id>http://arxiv.org/abs/9999.99999</id></entry></media:group>
            <rights>cc-by</rights><source><id>x</id><title>y</title></source>"#;
        let f = ok(&feed_with_extra(extra));
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].title, "T");
    }

    #[test]
    fn empty_optional_fields_become_none() {
        let f = ok(&feed_with_extra(
            "<arxiv:comment>  \n </arxiv:comment><arxiv:doi/><arxiv:journal_ref></arxiv:journal_ref>",
        ));
        let p = &f.entries[0];
        assert_eq!(
            (p.comment.as_ref(), p.doi.as_ref(), p.journal_ref.as_ref()),
            (None, None, None)
        );
    }

    #[test]
    fn version_falls_back_to_alternate_link_then_one() {
        let no_version = entry("2101.00001", "T", "");
        let with_link = entry(
            "2101.00002",
            "T",
            r#"<link href="https://arxiv.org/pdf/2101.00002v7" rel="related"/><link href="https://arxiv.org/abs/2101.00002v3" rel="alternate"/>"#,
        );
        let f = ok(&feed(&format!("{no_version}{with_link}")));
        assert_eq!(f.entries[0].version, 1);
        assert_eq!(f.entries[1].version, 3);
    }

    #[test]
    fn utf8_bom_and_whitespace_before_the_declaration_are_accepted() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(feed(&entry("2101.00001v1", "T", "")).as_bytes());
        assert!(matches!(parse_feed(&body), Ok(f) if f.entries.len() == 1));
    }

    #[test]
    fn bad_counts_are_none() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:o="http://a9.com/-/spec/opensearch/1.1/">
            <o:totalResults>lots</o:totalResults><o:startIndex>-1</o:startIndex><o:itemsPerPage> 5 </o:itemsPerPage></feed>"#;
        let f = ok(xml);
        assert_eq!(
            (f.total_results, f.start_index, f.items_per_page),
            (None, None, Some(5))
        );
    }

    #[test]
    fn collapse_handles_unicode_whitespace() {
        let cases = [
            "",
            "   ",
            "a",
            " a  b\t\n c ",
            "x\u{0B}y\u{0C}z\r\nw",
            "no\u{A0}break\u{2003}em\u{3000}ideographic\u{85}nel",
            "λ — ≥ not spaces",
            "\u{2028}lead and trail\u{2029}",
        ];
        for c in cases {
            assert_eq!(collapse(c), collapse_whitespace(c), "{c:?}");
        }
        assert_eq!(collapse(" a \u{A0} b "), "a b");
    }

    proptest::proptest! {
        #[test]
        fn collapse_matches_collapse_whitespace(s in "[ a\t\n\r\u{0B}\u{0C}\u{85}\u{A0}\u{2000}\u{3000}λ—é&;]{0,40}") {
            proptest::prop_assert_eq!(collapse(&s), collapse_whitespace(&s));
        }

        #[test]
        fn collapse_matches_on_any_string(s in ".{0,60}") {
            proptest::prop_assert_eq!(collapse(&s), collapse_whitespace(&s));
        }
    }

    #[test]
    fn a_feed_without_the_atom_namespace_is_named_as_such() {
        let e = parse_feed(b"<feed><entry/></feed>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("<feed> has no Atom namespace"), "{e}");
        assert!(!e.contains("expected Atom <feed>"), "{e}");
        let e = parse_feed(b"<rss version=\"2.0\"/>")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("root element is <rss>, expected Atom <feed>"),
            "{e}"
        );
    }

    #[test]
    fn error_messages_are_one_line() {
        let errors = [
            parse_feed(b"Rate exceeded.\nTry later"),
            parse_feed(&CURRENT[..500]),
            parse_feed(ERROR),
        ];
        for e in errors {
            match e {
                Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
                Ok(_) => panic!("expected an error"),
            }
        }
    }

    /// Every batch, in order, from a batched parse, and its result.
    fn batches(body: &[u8], size: usize) -> (Vec<Vec<Paper>>, Result<AtomFeed, AtomError>) {
        let mut got = Vec::new();
        let result = parse_feed_batches(body, size, |b| {
            got.push(b);
            ControlFlow::Continue(())
        });
        (got, result)
    }

    #[test]
    fn batches_concatenate_to_what_parse_feed_returns() {
        let mut damaged = CURRENT.to_vec();
        let at = damaged
            .windows(7)
            .position(|w| w == b"<title>")
            .unwrap_or_default();
        damaged.insert(at + 7, 0xFF);
        let rejected = feed(&format!(
            "{}<entry><id>http://arxiv.org/abs/2401.00002v1</id></entry>{}",
            entry("2401.00001v1", "One", ""),
            entry("2401.00003v2", "Three", "")
        ));
        for body in [CURRENT, LEGACY, &damaged, rejected.as_bytes()] {
            let whole = match parse_feed(body) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            for size in [0, 1, 2, 4, 5, 6, 1000] {
                let (got, result) = batches(body, size);
                let feed = match result {
                    Ok(f) => f,
                    Err(e) => panic!("{e}"),
                };
                assert!(feed.entries.is_empty());
                let per = size.max(1);
                assert!(got.iter().all(|b| !b.is_empty() && b.len() <= per));
                assert!(got.iter().rev().skip(1).all(|b| b.len() == per));
                assert_eq!(got.concat(), whole.entries, "batch size {size}");
                assert_eq!(feed.rejected, whole.rejected);
                assert_eq!(feed.invalid_utf8, whole.invalid_utf8);
                assert_eq!(feed.total_results, whole.total_results);
                assert_eq!(feed.items_per_page, whole.items_per_page);
            }
        }
    }

    /// A body cut inside its fourth entry: the three entries before the cut are handed out,
    /// then the same error as `parse_feed`'s, at the same byte.
    #[test]
    fn a_malformed_body_hands_out_the_entries_before_the_error_then_fails() {
        let starts: Vec<usize> = CURRENT
            .windows(7)
            .enumerate()
            .filter(|(_, w)| *w == b"<entry>")
            .map(|(i, _)| i)
            .collect();
        let cut = starts.get(3).copied().unwrap_or_default() + 40;
        let body = &CURRENT[..cut];
        let expected = match parse_feed(body) {
            Err(AtomError::Xml { position, .. }) => position,
            other => panic!("expected an XML error, got {other:?}"),
        };
        let whole = parse_feed(CURRENT).map(|f| f.entries).unwrap_or_default();
        for size in [1, 2, 100] {
            let (got, result) = batches(body, size);
            match result {
                Err(AtomError::Xml { position, .. }) => assert_eq!(position, expected),
                other => panic!("expected an XML error, got {other:?}"),
            }
            assert_eq!(got.concat(), whole[..3], "batch size {size}");
        }
        // A mismatched tag after two entries: the same.
        let broken = feed(&format!(
            "{}{}<entry><id>x</title></entry>",
            entry("2401.00001v1", "One", ""),
            entry("2401.00002v1", "Two", "")
        ));
        let (got, result) = batches(broken.as_bytes(), 1);
        assert!(matches!(result, Err(AtomError::Xml { .. })), "{result:?}");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_sink_that_breaks_stops_the_parse() {
        let mut calls = 0;
        let result = parse_feed_batches(CURRENT, 2, |_| {
            calls += 1;
            ControlFlow::Break(())
        });
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(calls, 1);
    }
}
