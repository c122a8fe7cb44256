//! Parser for arXiv API Atom feeds. SKELETON.

use crate::paper::Paper;

/// A parsed page of API results.
#[derive(Debug, Clone, Default)]
pub struct AtomFeed {
    /// `opensearch:totalResults`.
    pub total_results: Option<u64>,
    /// `opensearch:startIndex`.
    pub start_index: Option<u64>,
    /// `opensearch:itemsPerPage`.
    pub items_per_page: Option<u64>,
    /// The papers, in feed order.
    pub entries: Vec<Paper>,
    /// Entries that could not be turned into papers, with the reason (logged by callers).
    pub rejected: Vec<RejectedEntry>,
}

/// An entry the parser skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    /// The entry's `<id>` text, when it had one.
    pub id: Option<String>,
    pub reason: String,
}

/// Why a feed could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum AtomError {
    /// arXiv answered with its error feed (an entry whose id contains `/api/errors#`).
    #[error("arXiv API error: {message}")]
    Api { code: String, message: String },
    /// Not well-formed XML (truncated body, HTML error page, ...).
    #[error("malformed Atom XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    /// Well-formed XML that is not an Atom feed.
    #[error("not an Atom feed: {0}")]
    NotAtom(String),
}

/// Parses one API response body.
pub fn parse_feed(_xml: &[u8]) -> Result<AtomFeed, AtomError> {
    Err(AtomError::NotAtom("parser not implemented yet".into()))
}
