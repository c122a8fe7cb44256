//! The built-in summarizer: the abstract's contribution sentence, cleaned and lightly
//! compressed. Pure, offline and deterministic, so it always answers.
//!
//! The pipeline, one step per module:
//!
//! 1. [`latex::to_text`] turns the title's and abstract's LaTeX into plain text;
//! 2. [`sentences::split`] cuts the abstract into sentences;
//! 3. [`features::extract`] describes each sentence, and the compiled linear model
//!    ([`weights`], learned from SciTLDR-A train by `examples/train_summarizer.rs`) scores it;
//! 4. the best-scoring sentence that is not the title is [`compress`]ed (openers and asides
//!    dropped) and fitted to [`MAX_CHARS`].
//!
//! On SciTLDR-A dev this scores ROUGE-1 F 42+ against human TL;DRs, where the abstract's first
//! sentence scores 30 (see the README for the figures and the command that makes them).

use super::tidy::{MIN_WORDS, contains_title, fit};
use super::weights::{self, Model};
use super::{MAX_CHARS, compress::compress, features, latex, sentences};

/// A one-sentence summary of a paper from its title and abstract, or `None` when the abstract
/// has no sentence that is not the title.
///
/// The result is plain text (no `$` or `\`), at most [`MAX_CHARS`] characters, and never
/// contains the title.
pub fn summarize(title: &str, abstract_text: &str) -> Option<String> {
    summarize_with(weights::compiled(), title, abstract_text)
}

/// [`summarize`] with another model: the trainer scores candidate weights with it.
pub fn summarize_with(model: &Model, title: &str, abstract_text: &str) -> Option<String> {
    let title = latex::to_text(title);
    let text = latex::to_text(abstract_text);
    let sentences = sentences::split(&text);
    let ranked = rank(model, &title, &sentences);
    let usable = |s: &str| s.split_whitespace().count() >= MIN_WORDS && !contains_title(s, &title);
    // The best usable sentence, cut at a clause boundary when it is too long: on SciTLDR a cut
    // best sentence beats the best one that fits whole.
    // A short abstract may have only short sentences: then the best one that is not the title.
    let mut fallback = None;
    for &i in &ranked {
        let sentence = compress(sentences[i]);
        if usable(&sentence) {
            return Some(fit(&sentence, MAX_CHARS));
        }
        if fallback.is_none() && !sentence.is_empty() && !contains_title(&sentence, &title) {
            fallback = Some(sentence);
        }
    }
    fallback.map(|s| fit(&s, MAX_CHARS))
}

/// Sentence indices, best first (ties keep text order).
pub fn rank(model: &Model, title: &str, sentences: &[&str]) -> Vec<usize> {
    let scores: Vec<f64> = features::extract(title, sentences)
        .iter()
        .map(|f| model.score(f))
        .collect();
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABSTRACT: &str = "Recently, Vision Transformers and their variants have shown great \
        promise on various computer vision tasks. However, their quadratic cost limits them. \
        In this paper, we propose FastViT, a hybrid vision transformer that uses structural \
        reparameterization to lower memory access cost. FastViT is 3.5x faster than CMT on \
        mobile devices at the same accuracy on ImageNet. Code is available.";

    #[test]
    fn picks_the_contribution_not_the_background() {
        let s = summarize("FastViT: A Fast Hybrid Vision Transformer", ABSTRACT).expect("summary");
        assert!(s.starts_with("We propose FastViT"), "{s}");
    }

    #[test]
    fn never_repeats_the_title() {
        let title = "We propose a method";
        let abs = "We propose a method. The method sorts lists in linear time on average.";
        let s = summarize(title, abs).expect("summary");
        assert_eq!(s, "The method sorts lists in linear time on average.");
    }

    #[test]
    fn cleans_latex_and_fits_the_limit() {
        let abs = format!(
            "We show that $\\mathcal{{O}}(n)$ memory and \\emph{{one}} pass suffice, {} at a \
             $10^{{-3}}$ error.",
            "with many words ".repeat(30)
        );
        let s = summarize("Streaming", &abs).expect("summary");
        assert!(!s.contains('$') && !s.contains('\\'), "{s}");
        assert!(s.chars().count() <= MAX_CHARS, "{}", s.chars().count());
        assert!(s.ends_with('…'), "{s}");
    }

    #[test]
    fn nothing_to_say_is_none() {
        assert_eq!(summarize("T", ""), None);
        assert_eq!(summarize("Title here", "Title here."), None);
        assert_eq!(summarize("T", "Too short."), Some("Too short.".into()));
    }
}
