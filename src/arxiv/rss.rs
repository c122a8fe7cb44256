//! Parser for arXiv's new-submission RSS feeds (rss.arxiv.org). SKELETON.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::arxiv::ArxivId;
use crate::paper::AnnounceType;

/// A parsed RSS feed.
#[derive(Debug, Clone, Default)]
pub struct RssFeed {
    /// Channel title, e.g. "math.OC updates on arXiv.org".
    pub title: String,
    /// The mailing (listing) date: the channel `pubDate` read in America/New_York.
    pub mailing_date: Option<NaiveDate>,
    /// Items in feed order.
    pub items: Vec<RssItem>,
}

/// One announced paper.
#[derive(Debug, Clone, PartialEq)]
pub struct RssItem {
    /// Identifier with the announced version (from the guid / description).
    pub id: ArxivId,
    pub announce_type: AnnounceType,
    pub title: String,
    /// Abstract from the description, whitespace collapsed.
    pub abstract_text: String,
    /// Categories in feed order (the first is usually the primary).
    pub categories: Vec<String>,
    /// `dc:creator`: all authors in one comma-separated string (lossy; the API is authoritative).
    pub creators: String,
    pub pub_date: Option<DateTime<FixedOffset>>,
    pub doi: Option<String>,
    pub journal_ref: Option<String>,
}

/// Why an RSS feed could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum RssError {
    /// arXiv answered with its feed error channel ("Feed error for query: ...").
    #[error("arXiv RSS error: {0}")]
    Feed(String),
    #[error("malformed RSS XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("not an RSS feed: {0}")]
    NotRss(String),
}

/// Parses one RSS response body.
pub fn parse_rss(_xml: &[u8]) -> Result<RssFeed, RssError> {
    Err(RssError::NotRss("parser not implemented yet".into()))
}
