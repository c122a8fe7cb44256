//! One-line summaries of papers: what a paper did and found, in at most 280 characters.
//!
//! Readers of a digest scan one line per paper, so that line must carry the contribution, not
//! the abstract's background sentence. A summary comes from one of several providers, tried in
//! the order of `[summaries] order`:
//!
//! - Hugging Face's `ai_summary` and Semantic Scholar's `tldr`, which the sources store as
//!   extras;
//! - an optional OpenAI-compatible LLM (`llm`), off by default;
//! - the extractive summarizer, which is pure, offline and deterministic, and always answers.
//!
//! Every [`Summary`] records its [`SummarySource`], so front ends can say where it came from.
//!
//! This layer sits beside `digest`: it uses only the layers below it (the arXiv model, http,
//! config and store).

pub mod latex;
pub mod sentences;

use serde::Serialize;

/// Where a summary came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SummarySource {
    /// Hugging Face's `ai_summary` of the paper page.
    HuggingFace,
    /// Semantic Scholar's `tldr`.
    SemanticScholar,
    /// The configured LLM endpoint (`[summaries.llm]`).
    Llm,
    /// Sentences of the abstract picked by the built-in extractive summarizer.
    Extractive,
}

impl SummarySource {
    /// The name used in `[summaries] order`, in JSON (`summary_source`) and in logs.
    pub fn name(self) -> &'static str {
        match self {
            SummarySource::HuggingFace => "hf",
            SummarySource::SemanticScholar => "semantic_scholar",
            SummarySource::Llm => "llm",
            SummarySource::Extractive => "extractive",
        }
    }

    /// Every source, in the default preference order.
    pub const ALL: [SummarySource; 4] = [
        SummarySource::HuggingFace,
        SummarySource::SemanticScholar,
        SummarySource::Llm,
        SummarySource::Extractive,
    ];

    /// Parses a name of `[summaries] order`.
    pub fn from_name(name: &str) -> Option<SummarySource> {
        SummarySource::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for SummarySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A summary of one paper and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// One or two sentences, at most [`MAX_CHARS`] characters, plain text (no LaTeX).
    pub text: String,
    pub source: SummarySource,
}

/// The longest summary shown, in characters.
pub const MAX_CHARS: usize = 280;
