//! The ranked digest of one mailing (or of the trending window), as every front end shows it.
//!
//! Building it fetches what is missing (the mailing from arXiv, stale attention from the
//! sources), ranks with [`digest::rank`], loads the kept papers, then gives every shown paper its summary
//! ([`App::summarize_entries`]).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::arxiv::ArxivId;
use crate::arxiv::taxonomy::CategoryFilter;
use crate::config::MAX_TRENDING_DAYS;
use crate::digest::{self, Digest, SourceStatus};
use crate::progress::Progress;

use super::{App, AppError, DigestRequest};

impl App {
    /// The ranked digest of a mailing, fetching the mailing first when the store lacks it.
    pub async fn digest(
        &self,
        req: &DigestRequest,
        progress: &dyn Progress,
    ) -> Result<Digest, AppError> {
        let filters: Vec<CategoryFilter> = if req.categories.is_empty() {
            self.categories.clone()
        } else {
            req.categories
                .iter()
                .map(|c| CategoryFilter::parse(c))
                .collect::<Result<_, _>>()?
        };
        let date = self.ensure_mailing(req.date, progress).await?;
        // The mailings the digest covers: one, or every recorded mailing of the trending window.
        let mut dates = vec![date];
        // Bounded like `[ranking] trending_days` (front ends check it first), so a request
        // can neither fetch years of mailings nor overflow the date arithmetic.
        let days = req.trending_days.map(|d| {
            if d == 0 {
                self.config.ranking.trending_days
            } else {
                d
            }
            .min(MAX_TRENDING_DAYS)
        });
        if let Some(days) = days {
            let oldest = date
                .checked_sub_days(chrono::Days::new(u64::from(days.saturating_sub(1))))
                .unwrap_or(NaiveDate::MIN);
            let mut d = date;
            for _ in 0..days {
                d = self.calendar.previous_mailing_date(d);
                if d < oldest {
                    break;
                }
                self.ensure_mailing(Some(d), progress).await?;
                dates.push(d);
            }
        }
        let stale = self.stale_sources(&dates).await?;
        let mut statuses: Vec<SourceStatus> = self
            .sources
            .iter()
            .map(|s| SourceStatus {
                name: s.name().to_string(),
                missing: None,
            })
            .collect();
        if !stale.is_empty() {
            for report in self.collect_from(&dates, &stale).await? {
                if let Some(status) = statuses.iter_mut().find(|s| s.name == report.name) {
                    status.missing = report.error;
                }
            }
        }
        // Ranking reads each member's id and categories only; the full rows are loaded for
        // the `top` entries it keeps (a mailing has ~1,200 papers, a digest shows ten).
        let mut members = Vec::new();
        let mut signals = Vec::new();
        let mut announced_at: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for d in &dates {
            let announced = self.calendar.mailing(*d)?.announced_at;
            for m in self.store.mailing_categories(*d).await? {
                if !announced_at.contains_key(m.id.key()) {
                    announced_at.insert(m.id.key().to_string(), announced);
                    members.push(m);
                }
            }
            // A paper in two of the mailings comes twice, with the same latest values.
            signals.extend(self.store.mailing_latest_signals(*d).await?);
        }
        let top = req.top.unwrap_or(self.config.digest.top);
        let now = self.clock.now();
        // The trending view of a requested date ages papers as of the end of that listing
        // day (America/New_York), not as of today, so an old date is not decayed to nothing;
        // while the day is not over, as of now.
        let as_of = match req.date {
            Some(_) => now.min(self.calendar.end_of_listing_day(date)),
            None => now,
        };
        let opts = digest::BuildOptions {
            date,
            generated_at: now,
            top,
            categories: filters.iter().map(ToString::to_string).collect(),
            rule: &self.rule,
            sources: statuses,
            include_cross_lists: true,
            trending: days.map(|days| digest::Trending {
                gravity: self.config.ranking.gravity,
                now: as_of,
                announced_at: &announced_at,
                days,
            }),
        };
        let ranking = digest::rank(
            members,
            &signals,
            |m| {
                filters.is_empty()
                    || m.categories
                        .iter()
                        .any(|c| filters.iter().any(|f| f.matches(c)))
            },
            &opts,
        );
        let papers = self.store.papers(&ranking.ids()).await?;
        let mut digest = ranking.into_digest(papers, opts);
        self.summarize_entries(&mut digest.entries, req.llm).await?;
        digest.embed_posts = self.config.digest.embed_posts;
        self.attach_mentions(&mut digest.entries).await?;
        Ok(digest)
    }

    /// Gives every shown paper its top posts (who is talking): `[digest] embed_posts` of
    /// them for the Markdown export, and at least one for the cards' "shared by"; and each
    /// source's growth since its snapshot before the latest.
    pub(super) async fn attach_mentions(
        &self,
        entries: &mut [digest::DigestEntry],
    ) -> Result<(), AppError> {
        let ids: Vec<ArxivId> = entries.iter().map(|e| e.paper.id.clone()).collect();
        let per_paper = self.config.digest.embed_posts.max(1);
        let mut by_paper: std::collections::BTreeMap<String, Vec<crate::store::Mention>> =
            Default::default();
        for m in self.store.top_mentions(&ids, per_paper).await? {
            by_paper
                .entry(m.paper.key().to_string())
                .or_default()
                .push(m);
        }
        let mut lines = self.attention_timelines(&ids).await?;
        for e in entries {
            e.mentions = by_paper.remove(e.paper.id.key()).unwrap_or_default();
            if let Some(t) = lines.remove(e.paper.id.key()) {
                e.growth = crate::attention::growth_of(&t);
            }
        }
        Ok(())
    }

    /// Each paper's engagement over time per source (paper key → timelines), from every
    /// stored snapshot: growth on cards and the attention chart.
    pub(super) async fn attention_timelines(
        &self,
        ids: &[ArxivId],
    ) -> Result<std::collections::BTreeMap<String, Vec<crate::attention::Timeline>>, AppError> {
        let history = self.store.signal_history(ids).await?;
        Ok(crate::attention::timelines(&history, &self.rule))
    }
}
