//! Parser for arXiv's new-submission RSS feeds (`rss.arxiv.org/rss/<categories>`).
//!
//! The RSS feed is how we learn *which* papers a mailing announced and *how* (new, cross-list,
//! replacement); the API stays authoritative for metadata such as the author list, which RSS
//! flattens into one string. Like the Atom parser this streams with [`quick_xml::NsReader`] and
//! matches elements by (namespace, local name): RSS 2.0's own elements are in no namespace, the
//! extensions in arXiv's (`http://arxiv.org/schemas/atom`) and Dublin Core's.
//!
//! An item this parser cannot use (no id, unknown announce type) is skipped with a
//! `tracing::warn!` and recorded in [`RssFeed::rejected`]; the rest of the feed still counts.
//! Invalid UTF-8 is read as U+FFFD and reported in [`RssFeed::invalid_utf8`], as in the Atom
//! parser.

use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::America::New_York;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::arxiv::ArxivId;
use crate::arxiv::atom::{
    ARXIV_NS, DC_NS, Decoded, InvalidUtf8, RejectedEntry, collapse, error_offset, precheck_body,
    push_reference, snippet,
};
use crate::arxiv::paper::AnnounceType;

/// The channel title arXiv uses when the requested category list is invalid.
const FEED_ERROR_TITLE: &str = "Feed error for query";
/// The guid prefix in front of `IDvN`.
const GUID_PREFIX: &str = "oai:arXiv.org:";

/// A parsed RSS feed.
#[derive(Debug, Clone, Default)]
pub struct RssFeed {
    /// Channel title, e.g. "math.OC updates on arXiv.org".
    pub title: String,
    /// The mailing (listing) date: the channel `pubDate` read in America/New_York (arXiv rebuilds
    /// the feeds at midnight Eastern, so that date names the mailing). Falls back to
    /// `lastBuildDate` when `pubDate` is missing; `None` when neither parses.
    pub mailing_date: Option<NaiveDate>,
    /// Items in feed order. Empty on weekends and holidays, which is not an error.
    pub items: Vec<RssItem>,
    /// Items that were skipped (no usable id, unknown announce type), with the reason, so callers
    /// can tell "nothing announced" from "we could not read what was announced".
    pub rejected: Vec<RejectedEntry>,
    /// Bytes that were not valid UTF-8 and were read as U+FFFD, one record per item that had
    /// any (its guid as the entry) and one for those outside every item.
    pub invalid_utf8: Vec<InvalidUtf8>,
}

/// One announced paper.
#[derive(Debug, Clone, PartialEq)]
pub struct RssItem {
    /// Identifier with the announced version (from the guid / description).
    pub id: ArxivId,
    /// How the paper appears in this mailing; only `new` and `cross` are new papers.
    pub announce_type: AnnounceType,
    /// Title, whitespace collapsed.
    pub title: String,
    /// Abstract from the description, whitespace collapsed.
    pub abstract_text: String,
    /// Categories in feed order (the first is usually the primary), deduplicated.
    pub categories: Vec<String>,
    /// `dc:creator`: all authors in one comma-separated string (lossy; the API is authoritative).
    pub creators: String,
    /// The item's `pubDate` (RFC 2822), when present and parsable.
    pub pub_date: Option<DateTime<FixedOffset>>,
    /// `arxiv:DOI`: the publisher DOI, when the authors gave one.
    pub doi: Option<String>,
    /// `arxiv:journal_reference`, when the authors gave one.
    pub journal_ref: Option<String>,
}

/// Why an RSS feed could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum RssError {
    /// arXiv answered with its feed error channel ("Feed error for query: ..."), e.g. for an
    /// unknown category: retrying will not help, the subscription is wrong.
    #[error("arXiv RSS error: {0}")]
    Feed(String),
    /// Not well-formed XML (truncated body, mismatched tags, ...). Invalid UTF-8 is not: it is
    /// read as U+FFFD ([`RssFeed::invalid_utf8`]).
    #[error("malformed RSS XML at byte {position}: {message}")]
    Xml {
        /// Byte offset into the body where the problem was detected.
        position: u64,
        /// What the XML reader objected to.
        message: String,
    },
    /// A body that is not an RSS 2.0 feed (empty, plain text, HTML, Atom, ...).
    #[error("not an RSS feed: {0}")]
    NotRss(String),
}

/// Parses one RSS response body.
///
/// Returns [`RssError::Feed`] for arXiv's error channel, `Xml`/`NotRss` for bodies that are not
/// well-formed RSS 2.0. A channel without items (weekend/holiday feed) is `Ok`.
pub fn parse_rss(body: &[u8]) -> Result<RssFeed, RssError> {
    precheck_body(body).map_err(RssError::NotRss)?;
    let decoded = Decoded::new(body);
    parse_decoded(&decoded).map_err(|e| match e {
        RssError::Xml { position, message } => RssError::Xml {
            position: decoded.original_offset(position),
            message,
        },
        other => other,
    })
}

/// [`parse_rss`] over the decoded body; error positions are offsets in the decoded text.
fn parse_decoded(decoded: &Decoded<'_>) -> Result<RssFeed, RssError> {
    let mut repairs = decoded.repairs();
    let mut reader = NsReader::from_str(&decoded.text);
    // Keep whitespace around entity references; fields are collapsed afterwards.
    reader.config_mut().trim_text(false);

    let mut state = State::default();
    let mut stack: Vec<Tag> = Vec::with_capacity(8);
    let mut text = String::with_capacity(4096);
    let mut root_done = false;
    // Where the current item's start tag began, in the decoded text.
    let mut item_start: u64 = 0;

    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_error(error_offset(&reader), e.to_string()))?;
        match event {
            Event::Start(start) => {
                let tag = open_tag(&reader, &start, stack.last().copied(), root_done, &state)?;
                if tag == Tag::Other {
                    reader
                        .read_to_end(start.name())
                        .map_err(|e| xml_error(error_offset(&reader), e.to_string()))?;
                    continue;
                }
                if tag == Tag::Item {
                    item_start = before;
                }
                state.start(tag);
                text.clear();
                stack.push(tag);
            }
            Event::Empty(start) => {
                let tag = open_tag(&reader, &start, stack.last().copied(), root_done, &state)?;
                if tag == Tag::Other {
                    continue;
                }
                state.start(tag);
                text.clear();
                let guid = state.item.guid.clone();
                state.end(tag, &text)?;
                if tag == Tag::Item {
                    repairs.entry(before, reader.buffer_position(), guid.as_deref());
                }
                root_done |= tag == Tag::Rss;
            }
            Event::End(_) => {
                let Some(tag) = stack.pop() else {
                    return Err(xml_error(
                        reader.buffer_position(),
                        "closing tag without an open element".into(),
                    ));
                };
                let guid = state.item.guid.clone();
                state.end(tag, &text)?;
                if tag == Tag::Item {
                    repairs.entry(item_start, reader.buffer_position(), guid.as_deref());
                }
                root_done |= tag == Tag::Rss;
            }
            Event::Text(t) => {
                if capturing(&stack) {
                    text.push_str(&t);
                } else if stack.is_empty() && !t.trim().is_empty() {
                    return Err(xml_error(
                        reader.buffer_position(),
                        format!("text outside the root element: {}", snippet(&t)),
                    ));
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
                        .map_err(|m| xml_error(reader.buffer_position(), m))?;
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }

    if let Some(open) = stack.last() {
        return Err(xml_error(
            reader.buffer_position(),
            format!(
                "document ends inside <{}> (truncated body?)",
                open.element_name()
            ),
        ));
    }
    if !root_done {
        return Err(RssError::NotRss("no root element".into()));
    }
    if !state.saw_channel {
        return Err(RssError::NotRss("<rss> has no <channel>".into()));
    }
    let mut feed = state.feed;
    feed.invalid_utf8 = repairs.finish();
    Ok(feed)
}

/// The elements this parser understands, each resolved in the context of its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Rss,
    Channel,
    ChannelTitle,
    ChannelDescription,
    ChannelPubDate,
    ChannelLastBuildDate,
    Item,
    Title,
    Link,
    Description,
    Guid,
    Category,
    PubDate,
    AnnounceType,
    Doi,
    JournalRef,
    Creator,
    /// Anything else: skipped with its subtree.
    Other,
}

impl Tag {
    fn captures_text(self) -> bool {
        !matches!(self, Tag::Rss | Tag::Channel | Tag::Item | Tag::Other)
    }

    fn element_name(self) -> &'static str {
        match self {
            Tag::Rss => "rss",
            Tag::Channel => "channel",
            Tag::ChannelTitle | Tag::Title => "title",
            Tag::ChannelDescription | Tag::Description => "description",
            Tag::ChannelPubDate | Tag::PubDate => "pubDate",
            Tag::ChannelLastBuildDate => "lastBuildDate",
            Tag::Item => "item",
            Tag::Link => "link",
            Tag::Guid => "guid",
            Tag::Category => "category",
            Tag::AnnounceType => "arxiv:announce_type",
            Tag::Doi => "arxiv:DOI",
            Tag::JournalRef => "arxiv:journal_reference",
            Tag::Creator => "dc:creator",
            Tag::Other => "unknown element",
        }
    }
}

fn capturing(stack: &[Tag]) -> bool {
    stack.last().is_some_and(|t| t.captures_text())
}

fn xml_error(position: u64, message: String) -> RssError {
    RssError::Xml { position, message }
}

/// Resolves a start tag to a [`Tag`] given its parent; the root must be an un-namespaced `<rss>`.
fn open_tag(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    parent: Option<Tag>,
    root_done: bool,
    state: &State,
) -> Result<Tag, RssError> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let ns = match ns {
        ResolveResult::Bound(ns) => ns.into_inner(),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => "",
    };
    let local = local.into_inner();
    let Some(parent) = parent else {
        if root_done {
            return Err(xml_error(
                reader.buffer_position(),
                format!("second root element <{}>", start.name().as_ref()),
            ));
        }
        return if ns.is_empty() && local == "rss" {
            Ok(Tag::Rss)
        } else {
            let shown = if ns.is_empty() {
                format!("<{local}>")
            } else {
                format!("<{local}> in namespace {ns}")
            };
            Err(RssError::NotRss(format!(
                "root element is {shown}, expected <rss>"
            )))
        };
    };
    let tag = match (parent, ns, local) {
        // Only the first channel counts; RSS 2.0 has exactly one.
        (Tag::Rss, "", "channel") if !state.saw_channel => Tag::Channel,
        (Tag::Channel, "", "title") => Tag::ChannelTitle,
        (Tag::Channel, "", "description") => Tag::ChannelDescription,
        (Tag::Channel, "", "pubDate") => Tag::ChannelPubDate,
        (Tag::Channel, "", "lastBuildDate") => Tag::ChannelLastBuildDate,
        (Tag::Channel, "", "item") => Tag::Item,
        (Tag::Item, "", "title") => Tag::Title,
        (Tag::Item, "", "link") => Tag::Link,
        (Tag::Item, "", "description") => Tag::Description,
        (Tag::Item, "", "guid") => Tag::Guid,
        (Tag::Item, "", "category") => Tag::Category,
        (Tag::Item, "", "pubDate") => Tag::PubDate,
        (Tag::Item, ARXIV_NS, "announce_type") => Tag::AnnounceType,
        (Tag::Item, ARXIV_NS, "DOI") => Tag::Doi,
        (Tag::Item, ARXIV_NS, "journal_reference") => Tag::JournalRef,
        (Tag::Item, DC_NS, "creator") => Tag::Creator,
        _ => Tag::Other,
    };
    Ok(tag)
}

/// Everything collected so far.
#[derive(Debug, Default)]
struct State {
    feed: RssFeed,
    saw_channel: bool,
    channel_description: Option<String>,
    pub_date: Option<String>,
    last_build_date: Option<String>,
    item: ItemBuilder,
}

impl State {
    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Channel => self.saw_channel = true,
            Tag::Item => self.item = ItemBuilder::default(),
            _ => {}
        }
    }

    fn end(&mut self, tag: Tag, text: &str) -> Result<(), RssError> {
        let item = &mut self.item;
        match tag {
            Tag::ChannelTitle => self.feed.title = collapse(text),
            Tag::ChannelDescription => self.channel_description = Some(collapse(text)),
            Tag::ChannelPubDate => self.pub_date = Some(text.trim().to_owned()),
            Tag::ChannelLastBuildDate => self.last_build_date = Some(text.trim().to_owned()),
            Tag::Title => item.title = Some(collapse(text)),
            Tag::Link => item.link = Some(text.trim().to_owned()),
            Tag::Description => item.description = Some(text.to_owned()),
            Tag::Guid => item.guid = Some(text.trim().to_owned()),
            Tag::Category => {
                let c = text.trim();
                if !c.is_empty() && !item.categories.iter().any(|x| x == c) {
                    item.categories.push(c.to_owned());
                }
            }
            Tag::PubDate => item.pub_date = Some(text.trim().to_owned()),
            Tag::AnnounceType => item.announce_type = Some(text.trim().to_owned()),
            Tag::Doi => item.doi = non_empty(text),
            Tag::JournalRef => item.journal_ref = non_empty(text),
            Tag::Creator => {
                let c = collapse(text);
                if !c.is_empty() {
                    item.creators.push(c);
                }
            }
            Tag::Item => {
                let item = std::mem::take(&mut self.item);
                match item.build() {
                    Ok(parsed) => self.feed.items.push(parsed),
                    Err((id, reason)) => {
                        tracing::warn!(id = id.as_deref().unwrap_or("?"), %reason, "skipping arXiv RSS item");
                        self.feed.rejected.push(RejectedEntry { id, reason });
                    }
                }
            }
            Tag::Channel => self.finish_channel()?,
            Tag::Rss | Tag::Other => {}
        }
        Ok(())
    }

    fn finish_channel(&mut self) -> Result<(), RssError> {
        if self.feed.title.starts_with(FEED_ERROR_TITLE) {
            let message = match self.channel_description.take() {
                Some(d) if !d.is_empty() => d,
                _ => self.feed.title.clone(),
            };
            return Err(RssError::Feed(message));
        }
        self.feed.mailing_date = [self.pub_date.as_deref(), self.last_build_date.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|s| match DateTime::parse_from_rfc2822(s) {
                Ok(t) => Some(t.with_timezone(&New_York).date_naive()),
                Err(e) => {
                    tracing::warn!(date = s, error = %e, "unparsable arXiv RSS channel date");
                    None
                }
            });
        Ok(())
    }
}

fn non_empty(text: &str) -> Option<String> {
    let s = collapse(text);
    (!s.is_empty()).then_some(s)
}

/// One item's fields as they stream past.
#[derive(Debug, Default)]
struct ItemBuilder {
    title: Option<String>,
    link: Option<String>,
    description: Option<String>,
    guid: Option<String>,
    categories: Vec<String>,
    pub_date: Option<String>,
    announce_type: Option<String>,
    doi: Option<String>,
    journal_ref: Option<String>,
    creators: Vec<String>,
}

impl ItemBuilder {
    /// Builds the item, or says why it must be skipped (with the best id text for the log).
    fn build(self) -> Result<RssItem, (Option<String>, String)> {
        let description = Description::split(self.description.as_deref().unwrap_or_default());
        let from_guid = self
            .guid
            .as_deref()
            .map(|g| g.strip_prefix(GUID_PREFIX).unwrap_or(g))
            .and_then(|g| ArxivId::parse(g).ok());
        let from_description = description.id.and_then(|d| ArxivId::parse(d).ok());
        let label = self
            .guid
            .clone()
            .or_else(|| description.id.map(str::to_owned))
            .or_else(|| self.link.clone());
        // Prefer whichever source names the announced version.
        let id = match (from_guid, from_description) {
            (Some(g), _) if g.version().is_some() => g,
            (_, Some(d)) if d.version().is_some() => d,
            (Some(g), _) => g,
            (None, Some(d)) => d,
            (None, None) => {
                return Err((label, "no arXiv id in <guid> or <description>".into()));
            }
        };
        let Some(announce_text) = self.announce_type.as_deref().or(description.announce_type)
        else {
            return Err((label, "no announce type".into()));
        };
        let announce_type = match announce_text.parse::<AnnounceType>() {
            Ok(t) => t,
            Err(e) => return Err((label, e)),
        };
        let pub_date = self
            .pub_date
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc2822(s).ok());
        Ok(RssItem {
            id,
            announce_type,
            title: self.title.unwrap_or_default(),
            abstract_text: collapse(description.abstract_text),
            categories: self.categories,
            creators: self.creators.join(", "),
            pub_date,
            doi: self.doi,
            journal_ref: self.journal_ref,
        })
    }
}

/// The parts of an item description:
/// `arXiv:2203.01250v3 Announce Type: replace-cross \nAbstract: We consider ...`.
#[derive(Debug, PartialEq, Eq)]
struct Description<'a> {
    id: Option<&'a str>,
    announce_type: Option<&'a str>,
    abstract_text: &'a str,
}

impl<'a> Description<'a> {
    fn split(text: &'a str) -> Description<'a> {
        let d = text.trim_start();
        let Some(header_start) = d.strip_prefix("arXiv:") else {
            // No header: the description is the abstract, maybe with its label.
            return Description {
                id: None,
                announce_type: None,
                abstract_text: d.strip_prefix("Abstract:").unwrap_or(d),
            };
        };
        let (header, abstract_text) = header_start
            .split_once("Abstract:")
            .or_else(|| header_start.split_once('\n'))
            .unwrap_or((header_start, ""));
        let id = header.split_whitespace().next();
        let announce_type = header
            .split_once("Announce Type:")
            .and_then(|(_, rest)| rest.split_whitespace().next());
        Description {
            id,
            announce_type,
            abstract_text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATH_OC: &[u8] =
        include_bytes!("../../tests/fixtures/arxiv_rss_math_OC_RECONSTRUCTED_from_spec.xml");

    fn ok(xml: &str) -> RssFeed {
        match parse_rss(xml.as_bytes()) {
            Ok(f) => f,
            Err(e) => panic!("expected Ok, got {e}"),
        }
    }

    fn channel(title: &str, items: &str) -> String {
        format!(
            r#"<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
  <channel>
    <title>{title}</title>
    <link>http://rss.arxiv.org/rss/cs.LG</link>
    <description>cs.LG updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs.LG" rel="self" type="application/rss+xml"/>
    <lastBuildDate>Thu, 18 Sep 2025 04:00:01 +0000</lastBuildDate>
    <pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>
    <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
    {items}
  </channel>
</rss>"#
        )
    }

    fn item(id: &str, kind: &str, cats: &[&str]) -> String {
        let cats: String = cats
            .iter()
            .map(|c| format!("<category>{c}</category>"))
            .collect();
        format!(
            r#"<item><title>Paper {id}</title><link>https://arxiv.org/abs/{id}</link>
<description>arXiv:{id} Announce Type: {kind} 
Abstract: Abstract of {id} with x &lt; y.</description>
<guid isPermaLink="false">oai:arXiv.org:{id}</guid>{cats}
<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>
<arxiv:announce_type>{kind}</arxiv:announce_type>
<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
<dc:creator>A. One, B. Two</dc:creator></item>"#
        )
    }

    #[test]
    fn math_oc_fixture() {
        let feed = match parse_rss(MATH_OC) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(feed.title, "math.OC updates on arXiv.org");
        assert_eq!(feed.mailing_date, NaiveDate::from_ymd_opt(2024, 2, 23));
        assert!(feed.rejected.is_empty());
        assert_eq!(feed.items.len(), 1);
        let it = &feed.items[0];
        assert_eq!(it.id.to_string(), "2203.01250v3");
        assert_eq!(it.id.version(), Some(3));
        assert_eq!(it.announce_type, AnnounceType::ReplaceCross);
        assert_eq!(
            it.title,
            "Mass concentration in rescaled first order integral functionals"
        );
        assert!(
            it.abstract_text
                .starts_with("We consider first order local minimization problems"),
            "{}",
            it.abstract_text
        );
        assert!(
            it.abstract_text
                .ends_with("branched transport by elliptic energies.")
        );
        assert!(!it.abstract_text.contains("Announce Type"));
        assert_eq!(it.categories, ["math.AP", "math.OC"]);
        assert_eq!(it.creators, "Antonin Monteil, Paul Pegon");
        assert_eq!(
            it.pub_date.map(|d| d.to_rfc3339()),
            Some("2024-08-23T00:00:00-04:00".to_string())
        );
        assert_eq!(it.doi.as_deref(), Some("10.5802/jep.257"));
        assert_eq!(
            it.journal_ref.as_deref(),
            Some(
                "Journal de l'\\'Ecole polytechnique - Math\\'ematiques, Tome 11 (2024), pp. 431-472"
            )
        );
    }

    #[test]
    fn cross_new_and_replace_items() {
        let items = [
            item("2509.00001v1", "new", &["cs.LG", "cs.AI"]),
            item("2509.00002v1", "cross", &["stat.ML", "cs.LG", "stat.ML"]),
            item("2401.00003v2", "replace", &["cs.LG"]),
            item("2401.00004v4", "absonly", &["cs.LG"]),
        ]
        .concat();
        let feed = ok(&channel("cs.LG updates on arXiv.org", &items));
        // 00:00 -04:00 on Sep 18 is Sep 18 in New York.
        assert_eq!(feed.mailing_date, NaiveDate::from_ymd_opt(2025, 9, 18));
        let got: Vec<(String, AnnounceType)> = feed
            .items
            .iter()
            .map(|i| (i.id.to_string(), i.announce_type))
            .collect();
        assert_eq!(
            got,
            [
                ("2509.00001v1".to_string(), AnnounceType::New),
                ("2509.00002v1".to_string(), AnnounceType::Cross),
                ("2401.00003v2".to_string(), AnnounceType::Replace),
                ("2401.00004v4".to_string(), AnnounceType::AbsOnly),
            ]
        );
        assert_eq!(feed.items[1].categories, ["stat.ML", "cs.LG"]);
        assert_eq!(
            feed.items[0].abstract_text,
            "Abstract of 2509.00001v1 with x < y."
        );
        assert_eq!(feed.items[0].doi, None);
        assert_eq!(feed.items[0].journal_ref, None);
        assert!(
            feed.items
                .iter()
                .filter(|i| i.announce_type.is_new())
                .count()
                == 2
        );
    }

    #[test]
    fn empty_channel_is_ok() {
        let feed = ok(&channel("cs.LG updates on arXiv.org", ""));
        assert!(feed.items.is_empty());
        assert!(feed.rejected.is_empty());
        assert_eq!(feed.mailing_date, NaiveDate::from_ymd_opt(2025, 9, 18));
    }

    #[test]
    fn feed_error_channel() {
        let xml = r#"<?xml version='1.0' encoding='UTF-8'?>
<rss version="2.0"><channel><title>Feed error for query: XX</title><link>http://rss.arxiv.org/rss/XX</link>
<description>Bad subject class 'XX'. Valid subject classes for the archive 'cs' are: cs.AI, cs.AR</description>
</channel></rss>"#;
        match parse_rss(xml.as_bytes()) {
            Err(RssError::Feed(msg)) => assert_eq!(
                msg,
                "Bad subject class 'XX'. Valid subject classes for the archive 'cs' are: cs.AI, cs.AR"
            ),
            other => panic!("expected Feed error, got {other:?}"),
        }
        // No description: the title is the message.
        let xml = "<rss><channel><title>Feed error for query: XX</title></channel></rss>";
        match parse_rss(xml.as_bytes()) {
            Err(RssError::Feed(msg)) => assert_eq!(msg, "Feed error for query: XX"),
            other => panic!("expected Feed error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_or_missing_announce_type_skips_only_that_item() {
        let bogus = item("2509.00002v1", "withdrawn", &["cs.LG"]);
        let no_type = item("2509.00003v1", "new", &["cs.LG"])
            .replace("<arxiv:announce_type>new</arxiv:announce_type>", "")
            .replace("Announce Type: new", "");
        let items = [
            item("2509.00001v1", "new", &["cs.LG"]),
            bogus,
            no_type,
            item("2509.00004v1", "replace-cross", &["cs.LG"]),
        ]
        .concat();
        let feed = ok(&channel("cs.LG updates on arXiv.org", &items));
        let ids: Vec<String> = feed.items.iter().map(|i| i.id.to_string()).collect();
        assert_eq!(ids, ["2509.00001v1", "2509.00004v1"]);
        assert_eq!(feed.rejected.len(), 2);
        assert_eq!(
            feed.rejected[0].id.as_deref(),
            Some("oai:arXiv.org:2509.00002v1")
        );
        assert!(feed.rejected[0].reason.contains("withdrawn"));
        assert_eq!(feed.rejected[1].reason, "no announce type");
    }

    #[test]
    fn id_and_type_fall_back_to_the_description() {
        let it = item("2509.00001v2", "cross", &["cs.LG"])
            .replace(
                r#"<guid isPermaLink="false">oai:arXiv.org:2509.00001v2</guid>"#,
                "",
            )
            .replace("<arxiv:announce_type>cross</arxiv:announce_type>", "");
        let feed = ok(&channel("t", &it));
        assert_eq!(feed.items[0].id.to_string(), "2509.00001v2");
        assert_eq!(feed.items[0].announce_type, AnnounceType::Cross);
        // A version-less guid loses to a versioned description.
        let it = item("2509.00001v2", "new", &["cs.LG"]).replace(
            "oai:arXiv.org:2509.00001v2</guid>",
            "oai:arXiv.org:2509.00001</guid>",
        );
        let feed = ok(&channel("t", &it));
        assert_eq!(feed.items[0].id.version(), Some(2));
        // Neither: skipped.
        let it = item("2509.00001v2", "new", &["cs.LG"])
            .replace("oai:arXiv.org:2509.00001v2", "garbage")
            .replace("arXiv:2509.00001v2", "");
        let feed = ok(&channel("t", &it));
        assert!(feed.items.is_empty());
        assert!(feed.rejected[0].reason.contains("no arXiv id"));
    }

    #[test]
    fn description_splitting() {
        let d =
            Description::split("arXiv:2203.01250v3 Announce Type: replace-cross \nAbstract: We x.");
        assert_eq!(
            d,
            Description {
                id: Some("2203.01250v3"),
                announce_type: Some("replace-cross"),
                abstract_text: " We x."
            }
        );
        let d = Description::split("  Abstract: plain");
        assert_eq!((d.id, d.abstract_text), (None, " plain"));
        let d = Description::split("just text");
        assert_eq!(d.abstract_text, "just text");
        let d = Description::split("arXiv:2203.01250v3 Announce Type: new\nno label here");
        assert_eq!(d.abstract_text, "no label here");
        assert_eq!(d.announce_type, Some("new"));
        let d = Description::split("arXiv:");
        assert_eq!((d.id, d.announce_type, d.abstract_text), (None, None, ""));
    }

    #[test]
    fn mailing_date_uses_new_york_time() {
        // 03:00 UTC on Feb 23 is still Feb 22 in New York (EST, -05:00).
        let xml = channel("t", "").replace(
            "<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>",
            "<pubDate>Fri, 23 Feb 2024 03:00:00 +0000</pubDate>",
        );
        assert_eq!(ok(&xml).mailing_date, NaiveDate::from_ymd_opt(2024, 2, 22));
        // Missing pubDate: lastBuildDate (04:00:01 UTC, EDT) is Sep 18 00:00:01 in New York.
        let xml =
            channel("t", "").replace("<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>", "");
        assert_eq!(ok(&xml).mailing_date, NaiveDate::from_ymd_opt(2025, 9, 18));
        // Garbage in both: None, not an error.
        let xml = channel("t", "")
            .replace("Thu, 18 Sep 2025 00:00:00 -0400", "soon")
            .replace("Thu, 18 Sep 2025 04:00:01 +0000", "later");
        assert_eq!(ok(&xml).mailing_date, None);
    }

    #[test]
    fn bad_bodies_are_errors() {
        let not_rss: [&[u8]; 5] = [
            b"",
            b"Rate exceeded.",
            b"<!DOCTYPE html><html><body>502</body></html>",
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>",
            b"<rss version=\"2.0\"></rss>",
        ];
        for body in not_rss {
            assert!(
                matches!(parse_rss(body), Err(RssError::NotRss(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let end = MATH_OC.len() - "</rss>\n".len();
        for cut in (1..end).step_by(41) {
            match parse_rss(&MATH_OC[..cut]) {
                Err(RssError::Xml { .. } | RssError::NotRss(_)) => {}
                other => panic!("cut at {cut}: expected an error, got {other:?}"),
            }
        }
        assert!(matches!(
            parse_rss(b"<rss><channel><title>a</b></channel></rss>"),
            Err(RssError::Xml { .. })
        ));
    }

    #[test]
    fn rss_elements_in_a_namespace_are_not_rss_elements() {
        let it = item("2509.00001v1", "new", &["cs.LG"]).replace(
            "<dc:creator>",
            r#"<x:category xmlns:x="urn:x">q-bio.NC</x:category><arxiv:title>fake</arxiv:title><dc:creator>"#,
        );
        let feed = ok(&channel("t", &it));
        assert_eq!(feed.items[0].categories, ["cs.LG"]);
        assert_eq!(feed.items[0].title, "Paper 2509.00001v1");
    }
}
