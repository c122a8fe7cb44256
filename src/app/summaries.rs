//! Every shown paper gets one summary: the first provider of `[summaries] order` that has
//! something usable to say, with that provider recorded.
//!
//! - Hugging Face's `ai_summary` and Semantic Scholar's `tldr` come from the extras the sources
//!   stored.
//! - The LLM (when enabled) is asked only for the top `[summaries.llm] top` papers of a digest
//!   that no earlier provider covers, through its cache and daily budget, all within one
//!   `[summaries.llm] timeout`; a failure of any kind (timeout, 429, 5xx, a rejected reply, the
//!   budget) falls through to the next provider. A scheduled post only reads the cache
//!   ([`LlmUse::CacheOnly`]), so it never waits for the LLM; the scheduler fills the cache
//!   ahead of post time ([`App::prepare_summaries`]).
//! - The extractive summarizer always answers.
//!
//! Every provider's text passes [`tidy`], so none shows LaTeX, runs past 280 characters or
//! repeats the title.

use std::collections::BTreeMap;

use tracing::debug;

use crate::arxiv::ArxivId;
use crate::arxiv::paper::Paper;
use crate::digest::DigestEntry;
use crate::sources::{hf, semantic_scholar};
use crate::store::Extra;
use crate::summary::tidy::tidy;
use crate::summary::{Summary, SummarySource};

use super::{App, AppError, LlmUse};

/// The fewest abstract words for which the LLM is asked (see [`App::wants_llm`]).
const MIN_LLM_ABSTRACT_WORDS: usize = 20;

impl App {
    /// Gives every entry its summary (see the module docs).
    pub(super) async fn summarize_entries(
        &self,
        entries: &mut [DigestEntry],
        llm: LlmUse,
    ) -> Result<(), AppError> {
        let ids: Vec<ArxivId> = entries.iter().map(|e| e.paper.id.clone()).collect();
        let mut by_paper: BTreeMap<String, Vec<Extra>> = BTreeMap::new();
        for x in self.store.extras_of(&ids).await? {
            by_paper
                .entry(x.paper.key().to_string())
                .or_default()
                .push(x);
        }
        let extras: Vec<Vec<Extra>> = entries
            .iter()
            .map(|e| by_paper.remove(e.paper.id.key()).unwrap_or_default())
            .collect();
        let top = self.config.summaries.llm.top;
        let wanted: Vec<&Paper> = entries
            .iter()
            .zip(&extras)
            .take(top)
            .filter(|(e, x)| self.wants_llm(&e.paper, x))
            .map(|(e, _)| &e.paper)
            .collect();
        let mut answers = self.llm_texts(&wanted, llm).await;
        for (entry, extras) in entries.iter_mut().zip(&extras) {
            let llm_text = answers.remove(entry.paper.id.key());
            entry.summary = self.summary_of(&entry.paper, extras, llm_text.as_deref());
        }
        Ok(())
    }

    /// The summary of one paper (a `/paper` card), asking the LLM when it is its turn.
    pub(super) async fn paper_summary(&self, paper: &Paper, extras: &[Extra]) -> Option<Summary> {
        let llm_text = if self.wants_llm(paper, extras) {
            self.llm_texts(&[paper], LlmUse::Ask)
                .await
                .remove(paper.id.key())
        } else {
            None
        };
        self.summary_of(paper, extras, llm_text.as_deref())
    }

    /// Fills the LLM cache for the papers a digest will show, waiting as long as the LLM
    /// takes (within its timeout and budget): run before a scheduled post, so the post itself
    /// only reads the cache. Returns how many papers have an LLM summary now.
    pub async fn prepare_summaries(&self, entries: &[DigestEntry]) -> Result<usize, AppError> {
        let Some(llm) = &self.llm else {
            return Ok(0);
        };
        let mut wanted = Vec::new();
        for entry in entries.iter().take(self.config.summaries.llm.top) {
            let extras = self.store.extras(&entry.paper.id).await?;
            if self.wants_llm(&entry.paper, &extras) {
                wanted.push(&entry.paper);
            }
        }
        let results = futures_util::future::join_all(wanted.iter().map(|p| llm.summarize(p))).await;
        Ok(results.iter().filter(|r| r.is_ok()).count())
    }

    /// Whether the LLM's turn comes for `paper`: it is enabled, the abstract has something to
    /// summarize, `llm` is in the order, and no provider before it has a usable summary.
    fn wants_llm(&self, paper: &Paper, extras: &[Extra]) -> bool {
        // An LLM given an empty or one-line abstract has nothing to ground a summary in.
        let grounded = paper.abstract_text.split_whitespace().count() >= MIN_LLM_ABSTRACT_WORDS;
        if self.llm.is_none() || !grounded {
            return false;
        }
        for &source in &self.config.summaries.order {
            if source == SummarySource::Llm {
                return true;
            }
            if self.provider_text(source, paper, extras, None).is_some() {
                return false;
            }
        }
        false
    }

    /// The LLM's summaries of `papers`, by paper key: read from its cache, or (with
    /// [`LlmUse::Ask`]) asked for, all within one `[summaries.llm] timeout`. Papers without an
    /// answer by then, or with a failed one, are left out.
    async fn llm_texts(
        &self,
        papers: &[&Paper],
        mode: LlmUse,
    ) -> std::collections::HashMap<String, String> {
        let mut out = std::collections::HashMap::new();
        let Some(llm) = &self.llm else {
            return out;
        };
        if papers.is_empty() {
            return out;
        }
        let deadline = tokio::time::Instant::now() + self.config.summaries.llm.timeout;
        let asks = papers.iter().map(|p| async move {
            let result = match mode {
                LlmUse::CacheOnly => llm.cached(p).await,
                LlmUse::Ask => match tokio::time::timeout_at(deadline, llm.summarize(p)).await {
                    Ok(r) => r.map(Some),
                    Err(_) => Ok(None),
                },
            };
            (p.id.key().to_string(), result)
        });
        for (key, result) in futures_util::future::join_all(asks).await {
            match result {
                Ok(Some(text)) => {
                    out.insert(key, text);
                }
                Ok(None) => debug!(paper = %key, "no LLM summary in time; using the next provider"),
                Err(e) => {
                    debug!(paper = %key, kind = e.kind(), "no LLM summary; using the next provider")
                }
            }
        }
        out
    }

    /// The summary of `paper`: the first provider of the order with a usable text. `llm_text`
    /// is what the LLM answered, if it was asked.
    fn summary_of(
        &self,
        paper: &Paper,
        extras: &[Extra],
        llm_text: Option<&str>,
    ) -> Option<Summary> {
        self.config
            .summaries
            .order
            .iter()
            .find_map(|&source| self.provider_text(source, paper, extras, llm_text))
    }

    /// What one provider says about `paper`, tidied, if anything usable.
    fn provider_text(
        &self,
        source: SummarySource,
        paper: &Paper,
        extras: &[Extra],
        llm_text: Option<&str>,
    ) -> Option<Summary> {
        let stored = |name: &str, key: &str| {
            extras
                .iter()
                .find(|x| x.source == name && x.key == key)
                .and_then(|x| tidy(&x.value, &paper.title))
        };
        let text = match source {
            SummarySource::HuggingFace => stored(hf::NAME, hf::EXTRA_AI_SUMMARY),
            SummarySource::SemanticScholar => {
                stored(semantic_scholar::NAME, semantic_scholar::EXTRA_TLDR)
            }
            SummarySource::Llm => llm_text.and_then(|t| tidy(t, &paper.title)),
            SummarySource::Extractive => self
                .extractive
                .summarize(&paper.title, &paper.abstract_text),
        }?;
        Some(Summary { text, source })
    }
}
