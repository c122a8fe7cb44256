//! One-line summaries of papers: what a paper did and found, in at most 280 characters.
//!
//! Readers of a digest scan one line per paper, so that line must carry the contribution, not
//! the abstract's background sentence. A summary comes from one of several providers, tried in
//! the order of `[summaries] order`:
//!
//! - Hugging Face's `ai_summary` and Semantic Scholar's `tldr`, which the sources store as
//!   extras;
//! - an optional OpenAI-compatible LLM (`llm`), off by default: [`llm`] asks it, checks the
//!   reply, caches it and keeps to a daily budget;
//! - the extractive summarizer, which is pure, offline and deterministic, and always answers.
//!
//! Every [`Summary`] records its [`SummarySource`], so front ends can say where it came from.
//!
//! How good a summary is gets measured, not guessed: [`rouge`] computes ROUGE exactly as Python
//! `rouge-score` does (with a port of NLTK's Porter stemmer), and [`scitldr`] reads the SciTLDR
//! data set and evaluates a summarizer on it by the protocol behind its published figures.
//!
//! This layer sits beside `digest`: it uses only the layers below it (the arXiv model, http,
//! config and store).

pub mod compress;
pub mod extractive;
pub mod features;
pub mod latex;
pub mod llm;
pub mod memo;
mod porter;
pub mod rouge;
pub mod scitldr;
pub mod sentences;
pub mod tidy;
pub mod weights;

use serde::Serialize;

/// Where a summary came from. Defined in the config layer, which sits below this one, because
/// `[summaries] order` is a list of them.
pub use crate::config::SummarySource;

/// A summary of one paper and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// One or two sentences, at most [`MAX_CHARS`] characters, plain text (no LaTeX).
    pub text: String,
    pub source: SummarySource,
}

/// The longest summary shown, in characters.
pub const MAX_CHARS: usize = 280;
