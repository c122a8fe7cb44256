//! What the extractive summarizer knows about each sentence of an abstract.
//!
//! The scorer is a linear model: a sentence's score is the dot product of its features with
//! weights learned from SciTLDR-A train (see `examples/train_summarizer.rs`). The features are
//! the signals that separate a contribution sentence from background and detail:
//!
//! - where it sits (the contribution usually follows one or two background sentences);
//! - how long it is (TL;DRs are about 20 words);
//! - how much it shares with the title and with the rest of the abstract;
//! - cue phrases ("we propose", "this paper", "outperforms");
//! - its words, and its first two words ("we propose" vs "recently, deep").
//!
//! Extraction is shared by training and inference, so the weights always mean the same thing.

use std::collections::{HashMap, HashSet};

use super::rouge;

/// The names of the dense features, in the order of [`SentenceFeatures::dense`] and of the
/// compiled dense weights.
pub const DENSE_NAMES: &[&str] = &[
    "bias",
    "pos0",
    "pos1",
    "pos2",
    "pos3",
    "pos4",
    "last",
    "relative_position",
    "sentences",
    "length",
    "length_squared",
    "short",
    "long",
    "title_recall",
    "title_precision",
    "centrality",
    "digits",
    "percent",
    "starts_with_we",
    "has_we",
    "has_our",
    "cue",
    "first_cue",
    "before_cue",
    "no_cue",
    "parentheses",
    "after_first_cue",
    "cue_title_precision",
    "words_10_15",
    "words_15_20",
    "words_20_25",
    "words_25_30",
    "words_30_40",
    "title_precision_first",
];

/// How many dense features there are.
pub const DENSE: usize = DENSE_NAMES.len();

/// Phrases whose presence is a feature of its own (lowercase substrings of the sentence).
pub const PHRASES: &[&str] = &[
    "we propose",
    "we introduce",
    "we present",
    "we develop",
    "we show",
    "we demonstrate",
    "we find",
    "we study",
    "we investigate",
    "we describe",
    "we design",
    "we provide",
    "we prove",
    "we argue",
    "we explore",
    "we extend",
    "we apply",
    "we formulate",
    "we analyze",
    "we use",
    "in this paper",
    "in this work",
    "this paper",
    "this work",
    "our method",
    "our approach",
    "our model",
    "our results",
    "novel",
    "outperform",
    "state-of-the-art",
    "state of the art",
    "experiments",
    "results",
    "however",
    "recent",
    "has been",
    "have been",
    "is a ",
    "challenging",
    "framework",
    "achieve",
    "significantly",
    "improve",
    "leads to",
    "called",
    "named",
    "dubbed",
    "allows",
    "enables",
    "first",
    "finally",
    "moreover",
    "furthermore",
    "specifically",
    "to this end",
    "in addition",
    "code",
    "available",
    "github",
    "benchmark",
    "datasets",
    "empirically",
    "theoretically",
];

/// Words that carry no content, left out of the title and centrality overlaps.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "of", "and", "or", "in", "on", "for", "to", "with", "by", "from", "at", "as",
    "is", "are", "was", "were", "be", "been", "this", "that", "these", "those", "we", "our", "it",
    "its", "which", "can", "has", "have", "not", "than", "into", "also", "such", "using", "use",
    "based", "via",
];

/// Verb stems that, a few words after "we" or "this paper", state a contribution.
const CUE_VERBS: &[&str] = &[
    "propos",
    "introduc",
    "present",
    "develop",
    "show",
    "demonstr",
    "studi",
    "investig",
    "describ",
    "design",
    "provid",
    "prove",
    "explor",
    "extend",
    "formul",
    "analyz",
    "analys",
    "find",
    "establish",
    "deriv",
    "offer",
    "consid",
    "address",
    "tackl",
];

/// The features of one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct SentenceFeatures {
    /// Values of [`DENSE_NAMES`], in order.
    pub dense: [f64; DENSE],
    /// Sparse indicator features, each present once: `w:` + a stemmed word of the sentence,
    /// `f:` + one of its first two stemmed words, `p:` + a matched [`PHRASES`] entry.
    pub sparse: Vec<String>,
}

/// Features of every sentence of an abstract, given the paper's title.
pub fn extract(title: &str, sentences: &[&str]) -> Vec<SentenceFeatures> {
    let n = sentences.len();
    let stems: Vec<Vec<String>> = sentences
        .iter()
        .map(|s| rouge::tokenize(s).as_slice().to_vec())
        .collect();
    let title_words: HashSet<String> = content(rouge::tokenize(title).as_slice());
    // In how many sentences each content word appears: a sentence sharing many words with the
    // others is central to the abstract.
    let mut document_frequency: HashMap<&str, usize> = HashMap::new();
    let sets: Vec<HashSet<String>> = stems.iter().map(|t| content(t)).collect();
    for set in &sets {
        for w in set {
            *document_frequency.entry(w.as_str()).or_default() += 1;
        }
    }
    let cues: Vec<bool> = stems.iter().map(|t| has_cue(t)).collect();
    let first_cue = cues.iter().position(|&c| c);

    let mut out = Vec::with_capacity(n);
    for (i, sentence) in sentences.iter().enumerate() {
        let tokens = &stems[i];
        let set = &sets[i];
        let lower = sentence.to_lowercase();
        let len = tokens.len() as f64;
        let shared_title = set.intersection(&title_words).count() as f64;
        let centrality = if n > 1 && !set.is_empty() {
            set.iter()
                .map(|w| document_frequency.get(w.as_str()).copied().unwrap_or(1) - 1)
                .sum::<usize>() as f64
                / set.len() as f64
                / (n - 1) as f64
        } else {
            0.0
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let word = |w: &str| tokens.iter().any(|t| t == w);
        let dense = [
            1.0,
            flag(i == 0),
            flag(i == 1),
            flag(i == 2),
            flag(i == 3),
            flag(i == 4),
            flag(n > 1 && i == n - 1),
            if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.0
            },
            n as f64 / 10.0,
            len / 30.0,
            (len / 30.0).powi(2),
            flag(len < 8.0),
            flag(len > 45.0),
            shared_title / title_words.len().max(1) as f64,
            shared_title / set.len().max(1) as f64,
            centrality,
            flag(sentence.chars().any(|c| c.is_ascii_digit())),
            flag(sentence.contains('%')),
            flag(tokens.first().is_some_and(|t| t == "we")),
            flag(word("we")),
            flag(word("our")),
            flag(cues[i]),
            flag(first_cue == Some(i)),
            flag(first_cue.is_some_and(|f| i < f)),
            flag(first_cue.is_none()),
            sentence.matches('(').count() as f64 / 3.0,
            flag(first_cue.is_some_and(|f| i == f + 1)),
            flag(cues[i]) * shared_title / set.len().max(1) as f64,
            flag((10.0..15.0).contains(&len)),
            flag((15.0..20.0).contains(&len)),
            flag((20.0..25.0).contains(&len)),
            flag((25.0..30.0).contains(&len)),
            flag((30.0..40.0).contains(&len)),
            flag(i == 0) * shared_title / set.len().max(1) as f64,
        ];
        let mut sparse: Vec<String> = Vec::with_capacity(tokens.len() + 4);
        let mut seen = HashSet::new();
        for t in tokens {
            if seen.insert(t.as_str()) {
                sparse.push(format!("w:{t}"));
            }
        }
        let mut first = HashSet::new();
        for t in tokens.iter().take(2) {
            if first.insert(t.as_str()) {
                sparse.push(format!("f:{t}"));
            }
        }
        // The neighbours' openings: a contribution follows a gap ("However, …") and is
        // followed by its details ("Specifically, …").
        if let Some(prev) = i
            .checked_sub(1)
            .and_then(|j| stems.get(j))
            .and_then(|t| t.first())
        {
            sparse.push(format!("prev:{prev}"));
        }
        if let Some(next) = stems.get(i + 1).and_then(|t| t.first()) {
            sparse.push(format!("next:{next}"));
        }
        let mut pairs = HashSet::new();
        for pair in tokens.windows(2) {
            if pairs.insert((pair[0].as_str(), pair[1].as_str())) {
                sparse.push(format!("b:{} {}", pair[0], pair[1]));
            }
        }
        for phrase in PHRASES {
            if lower.contains(phrase) {
                sparse.push(format!("p:{phrase}"));
            }
        }
        out.push(SentenceFeatures { dense, sparse });
    }
    out
}

/// The content words (stopwords removed) of stemmed tokens.
fn content(tokens: &[String]) -> HashSet<String> {
    tokens
        .iter()
        .filter(|t| !STOPWORDS.contains(&t.as_str()))
        .cloned()
        .collect()
}

/// Whether the sentence states a contribution: "we" or "this paper/work/article", then within
/// four words a contribution verb ("we propose", "this paper further investigates").
fn has_cue(tokens: &[String]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        let start = if t == "we" {
            Some(i + 1)
        } else if (t == "thi" || t == "this")
            && tokens
                .get(i + 1)
                .is_some_and(|n| matches!(n.as_str(), "paper" | "work" | "articl"))
        {
            Some(i + 2)
        } else {
            None
        };
        start.is_some_and(|s| {
            tokens
                .iter()
                .skip(s)
                .take(4)
                .any(|w| CUE_VERBS.iter().any(|v| w.starts_with(v)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(f: &SentenceFeatures, name: &str) -> f64 {
        let i = DENSE_NAMES
            .iter()
            .position(|n| *n == name)
            .expect("feature name");
        f.dense[i]
    }

    #[test]
    fn finds_the_contribution_cue() {
        let s = [
            "Deep networks are large.",
            "In this paper, we further propose a pruning method for them.",
            "We evaluate it on ImageNet.",
        ];
        let f = extract("Pruning deep networks", &s);
        assert_eq!(f.len(), 3);
        assert_eq!(dense(&f[0], "cue"), 0.0);
        assert_eq!(dense(&f[0], "before_cue"), 1.0);
        assert_eq!(dense(&f[1], "cue"), 1.0);
        assert_eq!(dense(&f[1], "first_cue"), 1.0);
        assert_eq!(dense(&f[2], "last"), 1.0);
        assert!(f[1].sparse.contains(&"p:in this paper".to_string()));
        assert!(f[1].sparse.contains(&"f:in".to_string()));
        assert!(dense(&f[0], "title_recall") > 0.6, "{:?}", f[0].dense);
        assert!(dense(&f[1], "title_recall") < 0.4, "{:?}", f[1].dense);
    }

    #[test]
    fn empty_inputs_have_no_features_and_no_nan() {
        assert!(extract("", &[]).is_empty());
        let f = extract("", &[""]);
        assert!(f[0].dense.iter().all(|x| x.is_finite()));
    }
}
