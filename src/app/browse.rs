//! Browsing what the store holds: full-text search and the categories of a mailing.

use chrono::NaiveDate;

use crate::arxiv::paper::Paper;
use crate::arxiv::taxonomy::{self, Group};
use crate::progress::NoProgress;
use crate::store::SearchQuery;

use super::{App, AppError};

/// A category with its paper count, one row of `/categories`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRow {
    /// The id as arXiv writes it (`cs.LG`).
    pub id: &'static str,
    /// The full name (`Machine Learning`).
    pub name: &'static str,
    /// The top-level group it is listed under.
    pub group: Group,
    /// New and cross-listed papers of the mailing listing this category (or one of its
    /// aliases); 0 only when no mailing is recorded (rows of a mailing all have papers).
    pub papers: u32,
}

impl App {
    /// Stored papers matching `query` (the search syntax of [`SearchQuery`]: words,
    /// "phrases", prefix*, AND, OR, NOT, parentheses), best first, at most `limit`; and how
    /// many match in all.
    pub async fn search(&self, query: &str, limit: usize) -> Result<(Vec<Paper>, usize), AppError> {
        let query = SearchQuery::parse(query)?;
        let found = self.store.search(&query, limit).await?;
        // In one query; a paper deleted between the two queries is simply not listed.
        let hits = self.store.papers(&found.ids).await?;
        Ok((hits, found.total))
    }

    /// The categories (of one group) with papers in mailing `date` — fetched first when the
    /// store lacks it — or, without a date, in the latest recorded mailing that has papers;
    /// and that mailing's date. A category's count is the largest among its spellings
    /// (`eess.SY` and its alias `cs.SY`): arXiv lists such papers under both, so adding them
    /// would count papers twice. With no mailing recorded at all (and no date asked for), every
    /// active canonical category is listed with 0 and the date is `None`: the taxonomy alone.
    pub async fn category_counts(
        &self,
        group: Option<Group>,
        date: Option<NaiveDate>,
    ) -> Result<(Vec<CategoryRow>, Option<NaiveDate>), AppError> {
        let mailing = match date {
            Some(d) => Some(self.ensure_mailing(Some(d), &NoProgress).await?),
            None => self.store.latest_mailing().await?.map(|m| m.date),
        };
        let counts = match mailing {
            Some(d) => self.store.category_counts(d).await?,
            None => Default::default(),
        };
        let rows = taxonomy::all()
            .iter()
            .filter(|c| c.active && c.alias_of.is_none())
            .filter(|c| group.is_none_or(|g| c.group == g))
            .map(|c| {
                let papers = taxonomy::all()
                    .iter()
                    .filter(|x| x.canonical_id() == c.id)
                    .filter_map(|x| counts.get(x.id).copied())
                    .max()
                    .unwrap_or(0);
                CategoryRow {
                    id: c.id,
                    name: c.name,
                    group: c.group,
                    papers,
                }
            });
        // Groups in front-page order, categories in arXiv's order within each; of a mailing,
        // only the categories it has papers in.
        let mut rows: Vec<CategoryRow> =
            rows.filter(|r| mailing.is_none() || r.papers > 0).collect();
        rows.sort_by_key(|r| Group::ALL.iter().position(|g| *g == r.group));
        Ok((rows, mailing))
    }
}

impl App {
    /// A stored paper, without asking arXiv (a button on an old card).
    pub async fn stored_paper(
        &self,
        id: &crate::arxiv::ArxivId,
    ) -> Result<Option<Paper>, AppError> {
        Ok(self.store.paper(id).await?)
    }
}
