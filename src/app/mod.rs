//! The application core: one method per user-facing operation, shared by every front end.
//!
//! Front ends (the CLI, the console, Discord) and the commands call [`App`] and render what it
//! returns; nothing above this layer touches the store, the sources or the arXiv client
//! directly. Nothing here knows about terminals or Discord. The operations live here
//! (`ingest`, `collect`, `listen`, `paper`, `digest`) and in files by concern: `import`
//! (Atom files streamed into the store, a batch stored while the next is parsed), `daily_post` (a subscription's digest, shared by `/preview` and the scheduler),
//! `subscriptions` (the admin commands' changes), `browse` (search and category counts) and
//! `sources` (building the enabled attention sources from the config).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tracing::{info, warn};

mod browse;
pub mod charts;
mod daily_post;
mod digests;
pub mod health;
mod import;
mod mailings;
mod sources;
mod subscriptions;
mod summaries;

pub use browse::CategoryRow;

use crate::arxiv::calendar::NoMailing;
use crate::arxiv::client::{ArxivError, ArxivOptions};
use crate::arxiv::id::IdError;
use crate::arxiv::paper::{AnnounceType, Paper};
use crate::arxiv::taxonomy::{self, CategoryFilter, UnknownCategory};
use crate::arxiv::{ArxivClient, ArxivId, MailingCalendar};
use crate::clock::{Clock, saturating_add};
use crate::config::Config;
use crate::digest::SourceStatus;
use crate::http::{HttpClient, HttpError, HttpOptions, RetryPolicy};
use crate::progress::Progress;
use crate::ranking::{RankingRule, Score};
use crate::sources::{Collection, Source, Window};
use crate::store::{MailingRecord, MailingSource, PaperSignals, SqliteStore, Store, StoreError};
use crate::summary::Summary;
use crate::summary::llm::LlmSummarizer;
use crate::summary::memo::ExtractiveMemo;

/// Everything that can go wrong in an operation, worded for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    InvalidId(#[from] IdError),
    #[error(transparent)]
    UnknownCategory(#[from] UnknownCategory),
    #[error(transparent)]
    NoMailing(#[from] NoMailing),
    #[error(transparent)]
    DateOutOfRange(#[from] crate::arxiv::DateOutOfRange),
    #[error(
        "the mailing of {date} is announced at {}; it is not out yet",
        announced_at.format("%Y-%m-%d %H:%M UTC")
    )]
    NotYetAnnounced {
        date: NaiveDate,
        announced_at: DateTime<Utc>,
    },
    #[error("arXiv has no paper {0}")]
    PaperNotFound(ArxivId),
    #[error(transparent)]
    BadQuery(#[from] crate::store::QueryError),
    #[error("arXiv has no version v{asked} of {id}; its latest version is v{latest}")]
    VersionNotFound {
        /// The paper, version-less.
        id: ArxivId,
        /// The version asked for.
        asked: u32,
        /// The latest version arXiv has.
        latest: u32,
    },
    #[error(transparent)]
    Arxiv(#[from] ArxivError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{path}: {message}")]
    Import { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("attention source failed: {0}")]
    Source(String),
}

/// What `ingest` did.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestReport {
    pub date: NaiveDate,
    pub source: MailingSource,
    /// Papers recorded as members of the mailing.
    pub papers: usize,
    pub new: usize,
    pub cross: usize,
    /// Papers that were not stored before.
    pub inserted: usize,
    /// Papers whose stored metadata changed.
    pub updated: usize,
    /// Non-fatal problems (an empty feed, ids arXiv did not return, ...).
    pub warnings: Vec<String>,
}

/// What `import` did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub files: usize,
    /// Distinct papers read.
    pub papers: usize,
    /// Papers that were not stored before.
    pub inserted: usize,
    /// Papers whose stored metadata changed. Both counts are the store's, write by write: a
    /// paper listed again further down (or in a later file) with a newer version counts once
    /// more, as updated.
    pub updated: usize,
    /// Mailings whose membership was (re)built from the imported papers.
    pub mailings: Vec<NaiveDate>,
    pub warnings: Vec<String>,
}

/// A paper with everything known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperCard {
    pub paper: Paper,
    /// Versions seen, ascending.
    pub versions: Vec<u32>,
    /// Latest value of each `source.metric`.
    pub signals: BTreeMap<String, f64>,
    pub measured_at: BTreeMap<String, DateTime<Utc>>,
    pub score: Score,
    /// Whether it was fetched from arXiv just now (not in the store before).
    pub fetched: bool,
    /// Enabled sources that could not be asked, with the reason.
    pub missing: Vec<SourceStatus>,
    /// Its summary and links from the sources, for every front end.
    pub extras: PaperExtras,
    /// Who is talking: its top posts, most engagement first (`[digest] embed_posts`, at
    /// least one).
    pub mentions: Vec<crate::store::Mention>,
    /// Per source, the change since the snapshot before the latest.
    pub growth: BTreeMap<String, crate::attention::Growth>,
    /// Per source, its engagement at every stored snapshot: the attention chart.
    pub timelines: Vec<crate::attention::Timeline>,
}

/// What the sources know about a paper beyond its metadata: shown as a summary and links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaperExtras {
    /// What the paper did and found, from the first provider of `[summaries] order` that
    /// had something to say, with that provider's name.
    pub summary: Option<Summary>,
    /// The code repository (from Hugging Face).
    pub code_url: Option<String>,
    /// The project page (from Hugging Face).
    pub project_url: Option<String>,
    /// Whether Hugging Face lists the paper (it has HF signals or extras).
    pub on_hugging_face: bool,
}

/// What one source's sweep did.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceReport {
    pub name: String,
    pub requests: u32,
    /// Papers of the mailing with at least one signal from this source.
    pub papers: usize,
    /// Values measured for the mailing's papers (others the sweep found are stored, not
    /// counted here).
    pub signals: usize,
    /// Why the sweep failed, if it did.
    pub error: Option<String>,
    /// Non-fatal notes from the source.
    pub notes: Vec<String>,
}

/// What `collect` did.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectReport {
    pub date: NaiveDate,
    pub sources: Vec<SourceReport>,
}

/// A digest request from any front end.
#[derive(Clone, Debug, Default)]
pub struct DigestRequest {
    /// Listing date; `None` for the latest announced mailing.
    pub date: Option<NaiveDate>,
    /// How many papers; `None` for the configured default, `Some(0)` for all.
    pub top: Option<usize>,
    /// Category filters (ids, archives or groups); empty for the configured ones.
    pub categories: Vec<String>,
    /// `Some(days)` for the trending view over that many days (0: `[ranking] trending_days`;
    /// more than [`crate::config::MAX_TRENDING_DAYS`] counts as that many); `None` for one
    /// mailing.
    pub trending_days: Option<u32>,
    /// Whether the LLM may be asked now or only its cache read (a scheduled post).
    pub llm: LlmUse,
}

/// How a digest may use the LLM summary provider (when one is configured).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LlmUse {
    /// Ask it for the top `[summaries.llm] top` papers, all within one `[summaries.llm]
    /// timeout`; papers it has not answered for by then get the next provider.
    #[default]
    Ask,
    /// Only read its cache: the digest is due now (a scheduled post) and must not wait.
    CacheOnly,
}

/// The application: configuration, store, arXiv client, calendar and ranking rule.
#[derive(Debug)]
pub struct App {
    config: Config,
    store: Arc<dyn Store>,
    arxiv: ArxivClient,
    calendar: MailingCalendar,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    rule: RankingRule,
    /// The configured category filters (empty: all of arXiv).
    categories: Vec<CategoryFilter>,
    /// Enabled attention sources, in ranking order.
    sources: Vec<Arc<dyn Source>>,
    /// The LLM summary provider, when `[summaries.llm]` is enabled.
    llm: Option<Arc<LlmSummarizer>>,
    /// Extractive summaries of the papers shown lately (see [`ExtractiveMemo`]).
    extractive: ExtractiveMemo,
}

impl App {
    /// Opens the configured SQLite store and builds the clients.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with_busy_timeout(&config.store.path, config.store.busy_timeout)
                .await?,
        );
        let app = App::with_store(config, store, clock)?;
        let sources = sources::enabled(&app.config, &app.http, &app.store, &app.clock);
        Ok(app.with_sources(sources))
    }

    /// Replaces the attention sources (tests, custom deployments).
    pub fn with_sources(mut self, sources: Vec<Arc<dyn Source>>) -> App {
        self.sources = sources;
        self
    }

    /// Builds the application over an existing store (tests, other backends).
    pub fn with_store(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<App, AppError> {
        let categories = category_filters(&config)?;
        let http = HttpClient::new(
            HttpOptions {
                timeout: config.http.timeout,
                max_body_bytes: usize::try_from(config.http.max_response_bytes)
                    .unwrap_or(usize::MAX),
                user_agent: crate::http::user_agent(&config.http.contact),
                retry: RetryPolicy {
                    max_retries: config.http.max_retries,
                    base_delay: config.http.retry_base_delay,
                    max_delay: config.http.retry_max_delay,
                },
            },
            clock.clone(),
        )?
        .with_secrets(config.secrets())
        .with_source_names(source_hosts(&config));
        let arxiv = ArxivClient::new(
            ArxivOptions {
                api_url: parse_url("arxiv.api_url", &config.arxiv.api_url)?,
                rss_url: parse_url("arxiv.rss_url", &config.arxiv.rss_url)?,
                request_spacing: config.arxiv.request_spacing,
                page_size: u32::try_from(config.arxiv.page_size).unwrap_or(2000),
                id_batch_size: config.arxiv.id_batch_size,
                max_empty_page_retries: 3,
            },
            http.clone(),
            clock.clone(),
        );
        let calendar = MailingCalendar::new(config.arxiv.holidays.iter().copied());
        let rule = RankingRule::from_config(&config.ranking);
        let llm = if config.summaries.llm.enabled {
            let summarizer = LlmSummarizer::new(&config.summaries.llm, http.clone(), store.clone())
                .map_err(|e| AppError::Config(format!("summaries.llm: {e}")))?;
            Some(Arc::new(summarizer))
        } else {
            None
        };
        Ok(App {
            config,
            store,
            arxiv,
            calendar,
            clock,
            http,
            rule,
            categories,
            sources: Vec::new(),
            llm,
            extractive: ExtractiveMemo::default(),
        })
    }

    /// Whether an LLM summary provider is configured (`[summaries.llm] enabled`).
    pub fn has_llm(&self) -> bool {
        self.llm.is_some()
    }

    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The mailing calendar in effect.
    pub fn calendar(&self) -> &MailingCalendar {
        &self.calendar
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock in effect: front ends and schedulers read "now" through it, so tests can fix
    /// time with a `FakeClock`.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Fetches mailing `date` (default: the latest announced) into the store.
    ///
    /// A dated mailing is fetched from the API by its submission window, then filtered to the
    /// exact window; the latest mailing comes from the new-submissions RSS feeds, which also say
    /// which papers are cross-lists.
    pub async fn ingest(
        &self,
        date: Option<NaiveDate>,
        progress: &dyn Progress,
    ) -> Result<IngestReport, AppError> {
        match date {
            Some(d) => self.ingest_window(d, progress).await,
            None => self.ingest_latest(progress).await,
        }
    }

    /// Resolves a listing date to a mailing that has been announced. Every date a user gives
    /// passes here first: one before arXiv's first mailing or after tomorrow is refused
    /// before anything is asked upstream.
    fn announced_mailing(&self, date: NaiveDate) -> Result<crate::arxiv::Mailing, AppError> {
        crate::arxiv::calendar::check_listing_date(date, self.clock.now())?;
        let mailing = self.calendar.mailing(date)?;
        if mailing.announced_at > self.clock.now() {
            return Err(AppError::NotYetAnnounced {
                date,
                announced_at: mailing.announced_at,
            });
        }
        Ok(mailing)
    }

    async fn ingest_window(
        &self,
        date: NaiveDate,
        progress: &dyn Progress,
    ) -> Result<IngestReport, AppError> {
        let mailing = self.announced_mailing(date)?;
        let query_cats = self.query_categories();
        info!(%date, start = %mailing.window_start, end = %mailing.window_end, "fetching mailing from the arXiv API");
        let papers = self
            .arxiv
            .submitted_between(
                &query_cats,
                mailing.window_start,
                mailing.window_end,
                progress,
            )
            .await?;
        let papers: Vec<Paper> = papers
            .into_iter()
            .filter(|p| mailing.contains(p.published) && self.in_scope(p))
            .collect();
        let members: Vec<(ArxivId, AnnounceType)> = papers
            .iter()
            .map(|p| (p.id.versionless(), self.announce_type_of(p)))
            .collect();
        let mut warnings = Vec::new();
        if papers.is_empty() {
            warnings.push(format!(
                "arXiv returned no papers for the mailing of {date}; recorded as empty (a holiday missing from [arxiv] holidays, or the API has not caught up yet: asked again within a day of the announcement)"
            ));
        }
        self.record(
            mailing.date,
            mailing.window_start,
            mailing.window_end,
            MailingSource::Api,
            &papers,
            &members,
            warnings,
        )
        .await
    }

    async fn ingest_latest(&self, progress: &dyn Progress) -> Result<IngestReport, AppError> {
        let expected = self.calendar.latest_announced(self.clock.now());
        let mut announced: BTreeMap<ArxivId, AnnounceType> = BTreeMap::new();
        let mut feed_date: Option<NaiveDate> = None;
        let mut capped = false;
        let mut warnings = Vec::new();
        for feed in self.rss_feeds() {
            let rss = self.arxiv.fetch_rss(&feed).await?;
            if rss.items.len() >= 2000 {
                capped = true;
            }
            if let Some(d) = rss.mailing_date {
                feed_date = Some(feed_date.map_or(d, |x| x.max(d)));
            }
            for item in rss.items {
                if !item.announce_type.is_new() {
                    continue;
                }
                let t = announced
                    .entry(item.id.versionless())
                    .or_insert(item.announce_type);
                // A paper new in one followed feed and cross-listed in another is new.
                *t = (*t).min(item.announce_type);
            }
        }
        let date = feed_date.unwrap_or(expected.date);
        let mailing = match self.calendar.mailing(date) {
            Ok(m) => m,
            Err(_) => expected,
        };
        if announced.is_empty() {
            warnings.push(format!(
                "the arXiv feeds list no new submissions for {date} (weekend, holiday, or not rebuilt yet); nothing recorded"
            ));
            return Ok(IngestReport {
                date,
                source: MailingSource::Rss,
                papers: 0,
                new: 0,
                cross: 0,
                inserted: 0,
                updated: 0,
                warnings,
            });
        }
        let ids: Vec<ArxivId> = announced.keys().cloned().collect();
        let mut papers = self.arxiv.fetch_ids(&ids, progress).await?;
        if capped {
            warnings.push(
                "a feed hit arXiv's 2,000-item cap; completed from the API's submission window"
                    .into(),
            );
            let extra = self
                .arxiv
                .submitted_between(
                    &self.query_categories(),
                    mailing.window_start,
                    mailing.window_end,
                    progress,
                )
                .await?;
            for p in extra {
                if mailing.contains(p.published) && self.in_scope(&p) {
                    let t = self.announce_type_of(&p);
                    if announced.insert(p.id.versionless(), t).is_none() {
                        papers.push(p);
                    }
                }
            }
        }
        let returned: BTreeSet<&str> = papers.iter().map(|p| p.id.key()).collect();
        let missing: Vec<String> = announced
            .keys()
            .filter(|id| !returned.contains(id.key()))
            .map(ToString::to_string)
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "arXiv's API did not return {} announced paper(s): {}",
                missing.len(),
                missing.join(", ")
            ));
        }
        let members: Vec<(ArxivId, AnnounceType)> = papers
            .iter()
            .filter_map(|p| {
                announced
                    .get(&p.id.versionless())
                    .map(|t| (p.id.versionless(), *t))
            })
            .collect();
        self.record(
            date,
            mailing.window_start,
            mailing.window_end,
            MailingSource::Rss,
            &papers,
            &members,
            warnings,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        date: NaiveDate,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        source: MailingSource,
        papers: &[Paper],
        members: &[(ArxivId, AnnounceType)],
        warnings: Vec<String>,
    ) -> Result<IngestReport, AppError> {
        let stats = self.store.upsert_papers(papers).await?;
        if members.is_empty() && source == MailingSource::Api {
            // The API's window for a mailing of known dates: remember the empty answer. (An
            // empty RSS feed may be for another day, so it records nothing.)
            self.record_empty(date, window_start, window_end).await?;
        }
        if !members.is_empty() {
            let record = MailingRecord {
                date,
                window_start,
                window_end,
                source,
                ingested_at: self.clock.now(),
                paper_count: u32::try_from(members.len()).unwrap_or(u32::MAX),
            };
            self.store.record_mailing(&record, members).await?;
            crate::metrics::metrics().ingested(record.ingested_at.timestamp());
        }
        for w in &warnings {
            warn!("{w}");
        }
        Ok(IngestReport {
            date,
            source,
            papers: members.len(),
            new: members.iter().filter(|m| m.1 == AnnounceType::New).count(),
            cross: members
                .iter()
                .filter(|m| m.1 == AnnounceType::Cross)
                .count(),
            inserted: stats.inserted,
            updated: stats.updated,
            warnings,
        })
    }

    /// Categories for the API's `cat:` clause: the configured filters expanded to category ids.
    fn query_categories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.categories {
            for c in taxonomy::all() {
                if f.matches(c.id) && !out.iter().any(|x| x == c.id) {
                    out.push(c.id.to_string());
                }
            }
        }
        out
    }

    /// RSS feeds to read for the latest mailing: the configured categories joined with `+`
    /// (in chunks), or one feed per archive group for all of arXiv.
    fn rss_feeds(&self) -> Vec<String> {
        let names: Vec<String> = if self.categories.is_empty() {
            taxonomy::archives()
                .into_iter()
                .map(str::to_string)
                .collect()
        } else {
            self.categories.iter().map(ToString::to_string).collect()
        };
        // Chunks keep URLs short and each feed under arXiv's 2,000-item cap in practice.
        names.chunks(8).map(|c| c.join("+")).collect()
    }

    /// Whether a paper belongs to the configured categories.
    fn in_scope(&self, p: &Paper) -> bool {
        self.categories.is_empty()
            || p.categories
                .iter()
                .any(|c| self.categories.iter().any(|f| f.matches(c)))
    }

    /// New when the primary category is followed, else a cross-list.
    fn announce_type_of(&self, p: &Paper) -> AnnounceType {
        if self.categories.is_empty()
            || self
                .categories
                .iter()
                .any(|f| f.matches(&p.primary_category))
        {
            AnnounceType::New
        } else {
            AnnounceType::Cross
        }
    }

    /// Runs the Bluesky Jetstream listener until `shutdown` completes: it records posts that
    /// link arXiv and their likes, reposts, quotes and replies, so that digests can count them.
    pub async fn listen(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), AppError> {
        if !self.config.sources.bluesky.enabled {
            return Err(AppError::Config(
                "sources.bluesky.enabled is false: nothing to listen to".into(),
            ));
        }
        crate::sources::bluesky::listen(
            &self.config.sources.bluesky,
            self.store.clone(),
            self.clock.clone(),
            shutdown,
        )
        .await
        .map_err(|e| AppError::Source(e.to_string()))
    }

    /// The enabled attention sources.
    pub fn sources(&self) -> &[Arc<dyn Source>] {
        &self.sources
    }

    /// Makes sure mailing `date` (default: the latest announced) is in the store, fetching it
    /// when missing (or recorded empty by an answer that may not be final: see
    /// `app::mailings`), and returns its listing date.
    async fn ensure_mailing(
        &self,
        date: Option<NaiveDate>,
        progress: &dyn Progress,
    ) -> Result<NaiveDate, AppError> {
        let date = match date {
            Some(d) => {
                self.announced_mailing(d)?;
                d
            }
            None => self.calendar.latest_announced(self.clock.now()).date,
        };
        if self.mailing_needs_fetch(date).await? {
            if date == self.calendar.latest_announced(self.clock.now()).date {
                let report = self.ingest_latest(progress).await?;
                let has_papers = self
                    .store
                    .mailing(date)
                    .await?
                    .is_some_and(|m| m.paper_count > 0);
                if report.date != date || !has_papers {
                    // The feeds are for another day (not rebuilt yet): use the API window.
                    self.ingest_window(date, progress).await?;
                }
            } else {
                self.ingest_window(date, progress).await?;
            }
        }
        Ok(date)
    }

    /// Measures attention for the papers of mailing `date` (default: the latest announced)
    /// with every enabled source, and stores the snapshots. A failing source is reported, not
    /// fatal.
    pub async fn collect(
        &self,
        date: Option<NaiveDate>,
        progress: &dyn Progress,
    ) -> Result<CollectReport, AppError> {
        let date = self.ensure_mailing(date, progress).await?;
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        let reports = self.collect_from(&[date], &names).await?;
        Ok(CollectReport {
            date,
            sources: reports,
        })
    }

    /// Sweeps the named sources over mailing `date` concurrently.
    /// One sweep covers every mailing in `dates`: their papers, from the oldest window's start.
    async fn collect_from(
        &self,
        dates: &[NaiveDate],
        names: &[&str],
    ) -> Result<Vec<SourceReport>, AppError> {
        let mut papers: BTreeSet<ArxivId> = BTreeSet::new();
        let mut since: Option<DateTime<Utc>> = None;
        let mut until: Option<DateTime<Utc>> = None;
        let attention = self.config.digest.attention_window;
        for date in dates {
            let mailing = self.calendar.mailing(*date)?;
            since = Some(since.map_or(mailing.window_start, |s| s.min(mailing.window_start)));
            // Saturating: validation bounds the window, but a sum past chrono's range must
            // not panic (it is cut to now below anyway).
            let end = saturating_add(mailing.announced_at, attention);
            until = Some(until.map_or(end, |u| u.max(end)));
            for m in self.store.mailing_papers(*date).await? {
                papers.insert(m.paper.id.versionless());
            }
        }
        let now = self.clock.now();
        if papers.is_empty() {
            // To a source, no papers means "any paper": sweeping would report (and cost)
            // attention for other mailings. There is nothing of these mailings to measure.
            return Ok(self
                .sources
                .iter()
                .filter(|s| names.contains(&s.name()))
                .map(|s| SourceReport {
                    name: s.name().to_string(),
                    requests: 0,
                    papers: 0,
                    signals: 0,
                    error: None,
                    notes: vec!["the mailing has no papers: nothing to measure".into()],
                })
                .collect());
        }
        let since = since.unwrap_or(now);
        // Attention is measured up to `attention_window` after the announcement: sweeping an
        // old mailing up to today would cost requests for nothing (and HF asks per day).
        let window = Window {
            since,
            until: until.map_or(now, |u| u.min(now)).max(since),
        };
        let sweeps = self
            .sources
            .iter()
            .filter(|s| names.contains(&s.name()))
            .map(|source| {
                let papers = &papers;
                async move { (source.name(), source.collect(window, papers, now).await) }
            });
        let results = futures_util::future::join_all(sweeps).await;
        let mut reports = Vec::new();
        for (name, result) in results {
            let report = match result {
                Ok(collection) => {
                    self.record_collection(&collection).await?;
                    for date in dates {
                        self.store.set_collected_at(name, *date, now).await?;
                    }
                    // What the sweep found for these mailings' papers: a source may also
                    // return (and we store) attention for papers of other mailings.
                    let ours: Vec<&crate::store::Signal> = collection
                        .signals
                        .iter()
                        .filter(|s| papers.contains(&s.paper.versionless()))
                        .collect();
                    let covered: BTreeSet<&str> = ours.iter().map(|s| s.paper.key()).collect();
                    info!(
                        source = name,
                        requests = collection.requests,
                        papers = covered.len(),
                        "collected attention"
                    );
                    SourceReport {
                        name: name.to_string(),
                        requests: collection.requests,
                        papers: covered.len(),
                        signals: ours.len(),
                        error: None,
                        notes: collection.notes,
                    }
                }
                Err(e) => {
                    warn!(source = name, error = %e, "attention source failed");
                    SourceReport {
                        name: name.to_string(),
                        requests: 0,
                        papers: 0,
                        signals: 0,
                        error: Some(e.to_string()),
                        notes: Vec::new(),
                    }
                }
            };
            reports.push(report);
        }
        crate::metrics::metrics().collected(self.clock.now().timestamp());
        Ok(reports)
    }

    /// Stores what a source found: its signals, its extras (text about papers, which summaries
    /// read) and its posts (who is talking).
    async fn record_collection(&self, found: &Collection) -> Result<(), AppError> {
        self.store.record_signals(&found.signals).await?;
        self.store.record_extras(&found.extras).await?;
        self.store.record_mentions(&found.posts).await?;
        Ok(())
    }

    /// Sources whose last successful sweep of mailing `date` is older than
    /// `[digest] max_signal_age` (or that never swept it).
    async fn stale_sources(&self, dates: &[NaiveDate]) -> Result<Vec<&'static str>, AppError> {
        let max_age = chrono::Duration::from_std(self.config.digest.max_signal_age)
            .unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now();
        let mut stale = Vec::new();
        for source in &self.sources {
            for date in dates {
                let last = self.store.collected_at(source.name(), *date).await?;
                if last.is_none_or(|t| now - t > max_age) {
                    stale.push(source.name());
                    break;
                }
            }
        }
        Ok(stale)
    }

    /// A paper by any id or URL form: from the store, else fetched from arXiv and cached.
    /// Asking for a version newer than the stored one refetches; a version arXiv does not
    /// have (yet) is [`AppError::VersionNotFound`], naming the latest one.
    pub async fn paper(&self, input: &str) -> Result<PaperCard, AppError> {
        let id = ArxivId::parse(input)?;
        let stored = self.store.paper(&id).await?;
        let stale = match (&stored, id.version()) {
            (Some(p), Some(v)) => v > p.version,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let (paper, fetched) = if stale {
            let fetched = self
                .arxiv
                .fetch_ids(&[id.versionless()], &crate::progress::NoProgress)
                .await?;
            let Some(paper) = fetched.into_iter().find(|p| p.id.key() == id.key()) else {
                return Err(AppError::PaperNotFound(id.versionless()));
            };
            self.store
                .upsert_papers(std::slice::from_ref(&paper))
                .await?;
            if let Some(asked) = id.version().filter(|v| *v > paper.version) {
                return Err(AppError::VersionNotFound {
                    id: id.versionless(),
                    asked,
                    latest: paper.version,
                });
            }
            (paper, true)
        } else {
            match stored {
                Some(p) => (p, false),
                None => return Err(AppError::PaperNotFound(id.versionless())),
            }
        };
        let missing = self.look_up(&paper.id).await?;
        let versions = self.store.versions(&paper.id).await?;
        let signals = self
            .store
            .latest_signals(std::slice::from_ref(&paper.id))
            .await?;
        let PaperSignals {
            values,
            measured_at,
        } = PaperSignals::group(&signals)
            .remove(paper.id.key())
            .unwrap_or_default();
        let score = self.rule.score(&values);
        let extras = self.paper_extras(&paper, &values).await?;
        let ids = std::slice::from_ref(&paper.id);
        let mentions = self
            .store
            .top_mentions(ids, self.config.digest.embed_posts.max(1))
            .await?;
        let timelines = self
            .attention_timelines(ids)
            .await?
            .remove(paper.id.key())
            .unwrap_or_default();
        let growth = crate::attention::growth_of(&timelines);
        Ok(PaperCard {
            paper,
            versions,
            signals: values,
            measured_at,
            score,
            fetched,
            missing,
            extras,
            mentions,
            growth,
            timelines,
        })
    }

    /// The summary (see [`App::summary_of`]) and the code and project links Hugging Face lists
    /// for a paper.
    async fn paper_extras(
        &self,
        paper: &Paper,
        signals: &BTreeMap<String, f64>,
    ) -> Result<PaperExtras, AppError> {
        use crate::sources::hf;
        let extras = self.store.extras(&paper.id).await?;
        let value = |source: &str, key: &str| {
            extras
                .iter()
                .find(|x| x.source == source && x.key == key && !x.value.trim().is_empty())
                .map(|x| x.value.clone())
        };
        let hf_prefix = format!("{}.", hf::NAME);
        Ok(PaperExtras {
            summary: self.paper_summary(paper, &extras).await,
            code_url: value(hf::NAME, hf::EXTRA_GITHUB_REPO),
            project_url: value(hf::NAME, hf::EXTRA_PROJECT_PAGE),
            on_hugging_face: extras.iter().any(|x| x.source == hf::NAME)
                || signals.keys().any(|k| k.starts_with(&hf_prefix)),
        })
    }

    /// Asks every enabled source about one paper (skipping sources asked within
    /// `[digest] max_signal_age`) and stores what they say.
    async fn look_up(&self, id: &ArxivId) -> Result<Vec<SourceStatus>, AppError> {
        let now = self.clock.now();
        let max_age = chrono::Duration::from_std(self.config.digest.max_signal_age)
            .unwrap_or(chrono::Duration::MAX);
        let mut due = Vec::new();
        for source in &self.sources {
            let last = self.store.looked_up_at(source.name(), id).await?;
            if last.is_none_or(|t| now - t > max_age) {
                due.push(source);
            }
        }
        let lookups = due
            .iter()
            .map(|source| async move { (source.name(), source.lookup(id, now).await) });
        let mut missing = Vec::new();
        for (name, result) in futures_util::future::join_all(lookups).await {
            match result {
                Ok(found) => {
                    self.record_collection(&found).await?;
                    self.store.set_looked_up_at(name, id, now).await?;
                }
                Err(e) => {
                    warn!(source = name, error = %e, "paper lookup failed");
                    missing.push(SourceStatus {
                        name: name.to_string(),
                        missing: Some(e.to_string()),
                    });
                }
            }
        }
        Ok(missing)
    }
}

/// Each configured upstream's host with the name `/metrics` counts its requests under.
fn source_hosts(config: &Config) -> Vec<(String, String)> {
    let s = &config.sources;
    [
        (&config.arxiv.api_url, "arxiv"),
        (&config.arxiv.rss_url, "arxiv"),
        (&s.hn.api_url, "hn"),
        (&s.hf.api_url, "hf"),
        (&s.bluesky.api_url, "bluesky"),
        (&s.x.api_url, "x"),
        (&s.semantic_scholar.api_url, "s2"),
        (&config.summaries.llm.base_url, "llm"),
    ]
    .into_iter()
    .filter_map(|(url, name)| {
        let host = url::Url::parse(url).ok()?.host_str()?.to_string();
        Some((host, name.to_string()))
    })
    .collect()
}

/// The configured `[arxiv] categories` as filters, checked against the taxonomy.
pub fn category_filters(config: &Config) -> Result<Vec<CategoryFilter>, AppError> {
    config
        .arxiv
        .categories
        .iter()
        .map(|c| CategoryFilter::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Config(format!("arxiv.categories: {e}")))
}

fn parse_url(key: &str, value: &str) -> Result<url::Url, AppError> {
    url::Url::parse(value)
        .map_err(|e| AppError::Config(format!("{key}: '{value}' is not a URL: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_mailing_not_out_yet_says_its_time_once_in_utc() {
        use chrono::TimeZone;
        let e = super::AppError::NotYetAnnounced {
            date: chrono::NaiveDate::from_ymd_opt(2030, 1, 2).unwrap(),
            announced_at: chrono::Utc.with_ymd_and_hms(2030, 1, 2, 1, 0, 0).unwrap(),
        };
        assert_eq!(
            e.to_string(),
            "the mailing of 2030-01-02 is announced at 2030-01-02 01:00 UTC; it is not out yet"
        );
    }
}
