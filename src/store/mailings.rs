//! Mailings: which papers arXiv announced on a listing date, how we learned it, and the
//! per-category counts of a mailing.
//!
//! Apart from [`super::PaperStore`] because a mailing is a dated list that refers to stored
//! papers: recording one never changes a paper, and a digest starts from it.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::arxiv::ArxivId;
use crate::arxiv::paper::{AnnounceType, Paper};

/// How a mailing's membership was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailingSource {
    /// The API's `submittedDate` window for the mailing.
    Api,
    /// The new-submissions RSS feed on the day of the mailing.
    Rss,
    /// Atom files loaded with `hotpapers import`.
    Import,
}

impl MailingSource {
    /// The stored name (`api`, `rss`, `import`).
    pub fn as_str(self) -> &'static str {
        match self {
            MailingSource::Api => "api",
            MailingSource::Rss => "rss",
            MailingSource::Import => "import",
        }
    }
}

/// A mailing as recorded in the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailingRecord {
    /// arXiv's listing date.
    pub date: NaiveDate,
    /// Start of the submission window the mailing announces.
    pub window_start: DateTime<Utc>,
    /// End of the submission window the mailing announces.
    pub window_end: DateTime<Utc>,
    /// How the membership was obtained.
    pub source: MailingSource,
    /// When it was first ingested (unchanged by re-ingesting identical data).
    pub ingested_at: DateTime<Utc>,
    /// Number of member papers.
    pub paper_count: u32,
}

/// A paper in a mailing.
#[derive(Clone, Debug, PartialEq)]
pub struct MailingPaper {
    /// The paper's stored metadata.
    pub paper: Paper,
    /// How the mailing lists it (new, cross-list, replacement, ...).
    pub announce_type: AnnounceType,
}

/// A member of a mailing as ranking sees it: how the mailing lists it and its categories,
/// without the title, abstract, authors and links a digest shows only for the papers it keeps.
/// A digest ranks a mailing's 1,200 papers to show ten, so it reads these first and the full
/// rows of the ten after.
#[derive(Clone, Debug, PartialEq)]
pub struct MailingMember {
    /// Version-less id.
    pub id: ArxivId,
    /// How the mailing lists it (new, cross-list, replacement, ...).
    pub announce_type: AnnounceType,
    /// The paper's primary category.
    pub primary_category: String,
    /// Every category the paper lists, in arXiv's order.
    pub categories: Vec<String>,
}

/// Mailings and their members. Every write is idempotent.
#[async_trait]
pub trait MailingStore: Send + Sync + std::fmt::Debug {
    /// Records mailing `record.date` with its members, atomically, replacing any previous
    /// membership of that mailing. Members must already be stored with `upsert_papers`.
    /// Re-recording identical data changes nothing (not even `ingested_at`).
    async fn record_mailing(
        &self,
        record: &MailingRecord,
        members: &[(ArxivId, AnnounceType)],
    ) -> Result<(), StoreError>;

    /// Records that arXiv had no papers for mailing `record.date` when asked at
    /// `record.ingested_at`, so it is not asked again on every digest: a mailing with no
    /// members (`paper_count` 0) whose `ingested_at` is the time of the latest such answer.
    /// `record.paper_count` is ignored. A mailing that has members is left as it is and
    /// `false` returned: an empty answer never wipes a membership.
    async fn record_empty_mailing(&self, record: &MailingRecord) -> Result<bool, StoreError>;

    /// A recorded mailing (with `paper_count` 0 when arXiv had no papers for it).
    async fn mailing(&self, date: NaiveDate) -> Result<Option<MailingRecord>, StoreError>;

    /// The most recent recorded mailing that has papers (mailings recorded empty are skipped).
    async fn latest_mailing(&self) -> Result<Option<MailingRecord>, StoreError>;

    /// Members of a mailing with their metadata, ordered by id.
    async fn mailing_papers(&self, date: NaiveDate) -> Result<Vec<MailingPaper>, StoreError>;

    /// Members of a mailing without their metadata (version-less ids and how the mailing lists
    /// them), ordered by id: what adding to a membership needs, without decoding every paper.
    async fn mailing_members(
        &self,
        date: NaiveDate,
    ) -> Result<Vec<(ArxivId, AnnounceType)>, StoreError>;

    /// Members of a mailing with their categories (see [`MailingMember`]), ordered by id.
    async fn mailing_categories(&self, date: NaiveDate) -> Result<Vec<MailingMember>, StoreError>;

    /// For mailing `date`, how many of its new and cross-listed papers list each category
    /// (`/categories`). Categories are keyed as arXiv writes them (aliases are not folded);
    /// categories without papers are absent. An unrecorded mailing gives an empty map.
    async fn category_counts(
        &self,
        date: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, u32>, StoreError>;
}
