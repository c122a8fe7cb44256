//! The platform-neutral model of an arXiv paper, as stored and rendered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::arxiv::ArxivId;

/// One arXiv paper with the metadata of its latest known version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    /// Version-less identifier, e.g. `2107.00641` or `hep-th/9901001`.
    pub id: ArxivId,
    /// Latest version seen (1 for a fresh submission).
    pub version: u32,
    /// Title with whitespace collapsed.
    pub title: String,
    /// Abstract with whitespace collapsed.
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// Authors in arXiv's order.
    pub authors: Vec<Author>,
    /// arXiv's primary category (`arxiv:primary_category`).
    pub primary_category: String,
    /// Every arXiv category in arXiv's order (ACM/MSC class terms dropped). Contains the primary.
    pub categories: Vec<String>,
    /// When v1 was submitted.
    pub published: DateTime<Utc>,
    /// When the latest known version was submitted.
    pub updated: DateTime<Utc>,
    /// Author comment (`arxiv:comment`), e.g. "12 pages, 5 figures".
    pub comment: Option<String>,
    /// Journal reference (`arxiv:journal_ref`).
    pub journal_ref: Option<String>,
    /// Publisher DOI (`arxiv:doi`), not arXiv's own 10.48550 DOI.
    pub doi: Option<String>,
    /// Links as arXiv lists them (abstract page, PDF, DOI).
    pub links: Vec<Link>,
}

/// A paper author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affiliations: Vec<String>,
}

/// A link from an Atom entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

/// How a paper appeared in a mailing (arXiv's `announce_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnnounceType {
    /// A new submission listed in its primary category.
    New,
    /// A new submission cross-listed into a followed category.
    Cross,
    /// A new version of an older paper.
    Replace,
    /// A new version of an older paper, cross-listed.
    ReplaceCross,
    /// Only the abstract changed.
    #[serde(rename = "absonly")]
    AbsOnly,
}

impl AnnounceType {
    /// arXiv's spelling, as used in RSS feeds and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnounceType::New => "new",
            AnnounceType::Cross => "cross",
            AnnounceType::Replace => "replace",
            AnnounceType::ReplaceCross => "replace-cross",
            AnnounceType::AbsOnly => "absonly",
        }
    }

    /// Whether the paper is new in this mailing (new or cross-listed), as opposed to a revision.
    pub fn is_new(self) -> bool {
        matches!(self, AnnounceType::New | AnnounceType::Cross)
    }
}

impl std::str::FromStr for AnnounceType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "new" => Ok(AnnounceType::New),
            "cross" => Ok(AnnounceType::Cross),
            "replace" => Ok(AnnounceType::Replace),
            "replace-cross" => Ok(AnnounceType::ReplaceCross),
            "absonly" => Ok(AnnounceType::AbsOnly),
            other => Err(format!("unknown announce type '{other}'")),
        }
    }
}

impl std::fmt::Display for AnnounceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Collapses every run of whitespace (including newlines from hard-wrapped feeds) to one space
/// and trims both ends.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The longest [`Paper::lead_sentence`] (characters).
pub const LEAD_SENTENCE_CHARS: usize = 300;

impl Paper {
    /// The abstract's first sentence (at least 40 characters, so "e.g." or a short opener
    /// does not end it), or its first 300 characters: the one-line summary shown when no
    /// written summary exists.
    pub fn lead_sentence(&self) -> String {
        let s = self.abstract_text.trim();
        let end = s
            .char_indices()
            .zip(s.chars().skip(1))
            .filter(|((i, c), next)| matches!(c, '.' | '?' | '!') && *next == ' ' && *i >= 40)
            .map(|((i, _), _)| i + 1)
            .next()
            .unwrap_or(s.len());
        let sentence = s.get(..end).unwrap_or(s);
        if sentence.chars().count() <= LEAD_SENTENCE_CHARS {
            return sentence.to_string();
        }
        let mut cut: String = sentence.chars().take(LEAD_SENTENCE_CHARS - 1).collect();
        cut.push('…');
        cut
    }

    /// The abstract page, `https://arxiv.org/abs/ID`.
    pub fn abs_url(&self) -> String {
        self.id.abs_url()
    }

    /// The PDF, `https://arxiv.org/pdf/ID`.
    pub fn pdf_url(&self) -> String {
        self.id.pdf_url()
    }

    /// The HTML rendering, `https://arxiv.org/html/IDvN` (arXiv serves it for most papers since
    /// December 2023).
    pub fn html_url(&self) -> String {
        format!("https://arxiv.org/html/{}v{}", self.id, self.version)
    }

    /// Author names in order.
    pub fn author_names(&self) -> impl Iterator<Item = &str> {
        self.authors.iter().map(|a| a.name.as_str())
    }
}

#[cfg(test)]
impl Paper {
    /// A minimal v1 paper for unit tests anywhere in the crate: `key`, titled "Paper {key}",
    /// in `categories` (the first is primary), submitted 2021-07-01 12:00 UTC, no authors.
    pub(crate) fn sample(key: &str, categories: &[&str]) -> Paper {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2021, 7, 1, 12, 0, 0).unwrap();
        Paper {
            id: ArxivId::parse(key).expect("a valid test id"),
            version: 1,
            title: format!("Paper {key}"),
            abstract_text: "Abstract.".into(),
            authors: vec![],
            primary_category: categories.first().map_or("", |c| c).to_string(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            published: t,
            updated: t,
            comment: None,
            journal_ref: None,
            doi: None,
            links: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_abstract(text: &str) -> Paper {
        Paper {
            title: "T".into(),
            abstract_text: text.into(),
            ..Paper::sample("2107.00641", &["cs.LG"])
        }
    }

    #[test]
    fn lead_sentence_is_a_short_summary() {
        let lead = |s: &str| with_abstract(s).lead_sentence();
        assert_eq!(
            lead("We study a thing in great detail here, at length. Then more. And more."),
            "We study a thing in great detail here, at length."
        );
        assert_eq!(
            lead("Can diffusion models be great likelihood models? We answer yes. More."),
            "Can diffusion models be great likelihood models?"
        );
        // A sentence end before 40 characters (e.g. "e.g.") does not cut it.
        assert_eq!(lead("Short. No."), "Short. No.");
        let long = lead(&"word ".repeat(200));
        assert_eq!(long.chars().count(), LEAD_SENTENCE_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(lead("  "), "");
    }

    #[test]
    fn collapses_wrapped_text() {
        assert_eq!(
            collapse_whitespace("  Multi-Electron Production at\n  HERA \t"),
            "Multi-Electron Production at HERA"
        );
        assert_eq!(collapse_whitespace(""), "");
    }

    #[test]
    fn announce_type_round_trips() {
        for t in [
            AnnounceType::New,
            AnnounceType::Cross,
            AnnounceType::Replace,
            AnnounceType::ReplaceCross,
            AnnounceType::AbsOnly,
        ] {
            assert_eq!(t.as_str().parse::<AnnounceType>(), Ok(t));
        }
        assert!("bogus".parse::<AnnounceType>().is_err());
    }
}
