//! ROUGE-1, ROUGE-2 and ROUGE-L, computed exactly as Python `rouge-score` 0.1.2 computes them
//! with `RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)`.
//!
//! Summarizers are compared by ROUGE against human TLDRs (SciTLDR, see
//! [`super::scitldr`]), and published figures come from `rouge-score`; ours are comparable only
//! if they reproduce it to the last digit, tokenizer and stemmer included. `rougeL` is the
//! sentence-level LCS over the whole text (not `rougeLsum`, which splits on newlines).
//!
//! Texts are tokenized once into [`Tokens`], which also hold the sorted n-grams, so scoring one
//! candidate against many references (or many candidates against one) costs a merge and an
//! LCS per pair, not a re-tokenization.

use std::cmp::Ordering;

use super::porter;

/// A text as ROUGE sees it: lowercase, stemmed word tokens, plus their unigrams and bigrams in
/// sorted order for counting clipped n-gram matches by merging.
///
/// Build one with [`tokenize`]; keep it when the same text is scored more than once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    tokens: Vec<String>,
    /// Token indices, sorted by token.
    unigrams: Vec<usize>,
    /// Start indices of the bigrams, sorted by (token, next token).
    bigrams: Vec<usize>,
}

impl Tokens {
    /// The stemmed tokens, in text order.
    pub fn as_slice(&self) -> &[String] {
        &self.tokens
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the text had no tokens (every ROUGE score against it is 0).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn unigram(&self, i: usize) -> &str {
        &self.tokens[i]
    }

    fn bigram(&self, i: usize) -> (&str, &str) {
        (&self.tokens[i], &self.tokens[i + 1])
    }
}

/// Tokenizes `text` as `rouge_score.tokenize.tokenize` does with the Porter stemmer.
///
/// Steps, in its order: Unicode lowercasing (so `İ` and the Kelvin sign still yield `i` and
/// `k`); every run of characters other than `a-z`/`0-9` becomes a separator, so hyphens,
/// apostrophes and non-ASCII letters split words (`naïve` is `na`, `ve`); tokens longer than
/// three characters are stemmed with NLTK's Porter stemmer; empty tokens are dropped.
pub fn tokenize(text: &str) -> Tokens {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if word.is_empty() {
            return;
        }
        let token = if word.len() > 3 {
            porter::stem(word)
        } else {
            word.clone()
        };
        if !token.is_empty() {
            tokens.push(token);
        }
        word.clear();
    };
    for c in text.chars() {
        for lower in c.to_lowercase() {
            if lower.is_ascii_lowercase() || lower.is_ascii_digit() {
                word.push(lower);
            } else {
                flush(&mut word);
            }
        }
    }
    flush(&mut word);
    Tokens::new(tokens)
}

impl Tokens {
    fn new(tokens: Vec<String>) -> Tokens {
        let n = tokens.len();
        let mut unigrams: Vec<usize> = (0..n).collect();
        unigrams.sort_by(|&a, &b| tokens[a].cmp(&tokens[b]));
        let mut bigrams: Vec<usize> = (0..n.saturating_sub(1)).collect();
        let pair = |i: usize| (&tokens[i], &tokens[i + 1]);
        bigrams.sort_by(|&a, &b| pair(a).cmp(&pair(b)));
        Tokens {
            tokens,
            unigrams,
            bigrams,
        }
    }
}

/// Precision, recall and F1 of one ROUGE variant, each in `[0, 1]`.
///
/// Precision is relative to the candidate, recall to the reference, as in `rouge-score`'s
/// `Score(precision, recall, fmeasure)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    /// Computes F1 with the same floating-point operations as `rouge_score.scoring.fmeasure`,
    /// so the values are bit-identical.
    fn new(precision: f64, recall: f64) -> Prf {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// ROUGE-1, ROUGE-2 and ROUGE-L (`rougeL`) of one candidate against one reference.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    pub rouge1: Prf,
    pub rouge2: Prf,
    pub rouge_l: Prf,
}

/// Scores `candidate` against `reference`: `scorer.score(reference, candidate)` in Python.
pub fn score(candidate: &Tokens, reference: &Tokens) -> Scores {
    let r1 = clipped_matches(
        &candidate.unigrams,
        &reference.unigrams,
        |i| candidate.unigram(i),
        |i| reference.unigram(i),
    );
    let r2 = clipped_matches(
        &candidate.bigrams,
        &reference.bigrams,
        |i| candidate.bigram(i),
        |i| reference.bigram(i),
    );
    Scores {
        rouge1: ngram_prf(r1, candidate.unigrams.len(), reference.unigrams.len()),
        rouge2: ngram_prf(r2, candidate.bigrams.len(), reference.bigrams.len()),
        rouge_l: lcs_prf(candidate.as_slice(), reference.as_slice()),
    }
}

/// The scores against the reference with the best ROUGE-1 F1 (the first of equals), or `None`
/// when there are no references.
///
/// This is the SciTLDR protocol: ROUGE-2 and ROUGE-L follow the reference that maximizes
/// ROUGE-1 rather than being maximized separately (which reproduces the SciTLDR README's
/// figures; the separate maximum, `rouge-score`'s `score_multi`, gives higher ROUGE-2/L).
pub fn best_by_rouge1(candidate: &Tokens, references: &[Tokens]) -> Option<Scores> {
    let mut best: Option<Scores> = None;
    for reference in references {
        let s = score(candidate, reference);
        if best.is_none_or(|b| s.rouge1.f1 > b.rouge1.f1) {
            best = Some(s);
        }
    }
    best
}

/// `_score_ngrams`: counts are clipped, denominators are at least 1.
fn ngram_prf(matches: usize, candidate: usize, reference: usize) -> Prf {
    Prf::new(
        matches as f64 / candidate.max(1) as f64,
        matches as f64 / reference.max(1) as f64,
    )
}

/// The number of n-gram matches with counts clipped, `sum(min(count_c, count_r))`, by merging
/// two sorted lists of n-grams given by index.
fn clipped_matches<K: Ord>(
    a: &[usize],
    b: &[usize],
    key_a: impl Fn(usize) -> K,
    key_b: impl Fn(usize) -> K,
) -> usize {
    let (mut i, mut j, mut matches) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match key_a(a[i]).cmp(&key_b(b[j])) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                matches += 1;
                i += 1;
                j += 1;
            }
        }
    }
    matches
}

/// `_score_lcs`: LCS length over the candidate's and the reference's lengths; 0 if either is
/// empty.
fn lcs_prf(candidate: &[String], reference: &[String]) -> Prf {
    if candidate.is_empty() || reference.is_empty() {
        return Prf::default();
    }
    let lcs = lcs_len(candidate, reference) as f64;
    Prf::new(lcs / candidate.len() as f64, lcs / reference.len() as f64)
}

/// The length of the longest common subsequence, by the textbook table kept one row at a time.
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            row[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(row[j])
            };
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    type Golden = (&'static str, &'static str, [(f64, f64, f64); 3]);

    /// (candidate, reference, [rouge1, rouge2, rougeL] as (precision, recall, F1)), from
    /// `RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True).score(reference,
    /// candidate)` with rouge-score 0.1.2 and nltk 3.10.4, printed with `repr`.
    const GOLDEN: &[Golden] = &[
        (
            "State-of-the-art results on ImageNet-1k.",
            "We report state of the art results on ImageNet 1k",
            [
                (1.0, 0.8, 0.888888888888889),
                (1.0, 0.7777777777777778, 0.8750000000000001),
                (1.0, 0.8, 0.888888888888889),
            ],
        ),
        (
            "A naïve baseline – surprisingly – wins.",
            "The naive baseline wins, surprisingly.",
            [
                (0.5, 0.6, 0.5454545454545454),
                (0.0, 0.0, 0.0),
                (0.3333333333333333, 0.4, 0.3636363636363636),
            ],
        ),
        (
            "Generalization bounds for deep networks",
            "We generalize the bounds to deep nets",
            [
                (0.6, 0.42857142857142855, 0.5),
                (0.0, 0.0, 0.0),
                (0.6, 0.42857142857142855, 0.5),
            ],
        ),
        (
            "Running studies of running",
            "They ran a study, running studies.",
            [
                (0.5, 0.3333333333333333, 0.4),
                (0.3333333333333333, 0.2, 0.25),
                (0.5, 0.3333333333333333, 0.4),
            ],
        ),
        (
            "",
            "An empty candidate scores zero.",
            [(0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
        ),
        (
            "the the the the cat",
            "the cat sat on the mat",
            [
                (0.6, 0.5, 0.5454545454545454),
                (0.25, 0.2, 0.22222222222222224),
                (0.4, 0.3333333333333333, 0.3636363636363636),
            ],
        ),
        (
            "a b c d e f",
            "f e d c b a",
            [
                (1.0, 1.0, 1.0),
                (0.0, 0.0, 0.0),
                (
                    0.16666666666666666,
                    0.16666666666666666,
                    0.16666666666666666,
                ),
            ],
        ),
        (
            "We use GPT-4o, BERT's encoder, and 3.5x speed-ups (2019).",
            "GPT 4o and BERT encoders give 3.5x speedups in 2019",
            [
                (0.6153846153846154, 0.7272727272727273, 0.6666666666666667),
                (0.16666666666666666, 0.2, 0.1818181818181818),
                (0.5384615384615384, 0.6363636363636364, 0.5833333333333334),
            ],
        ),
        (
            "!!! ... ---",
            "punctuation only",
            [(0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
        ),
        (
            "İstanbul K-means",
            "istanbul k means",
            [
                (0.5, 0.6666666666666666, 0.5714285714285715),
                (0.3333333333333333, 0.5, 0.4),
                (0.5, 0.6666666666666666, 0.5714285714285715),
            ],
        ),
        (
            "x y z",
            "x y z",
            [(1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)],
        ),
        (
            "The model learns; the model generalizes.",
            "the model generalizes and the model learns",
            [
                (1.0, 0.8571428571428571, 0.923076923076923),
                (0.8, 0.6666666666666666, 0.7272727272727272),
                (0.6666666666666666, 0.5714285714285714, 0.6153846153846153),
            ],
        ),
    ];

    fn triple(p: Prf) -> (f64, f64, f64) {
        (p.precision, p.recall, p.f1)
    }

    /// Bit-for-bit: the same operations in the same order as Python give the same doubles.
    #[test]
    fn scores_match_rouge_score() {
        for (candidate, reference, want) in GOLDEN {
            let s = score(&tokenize(candidate), &tokenize(reference));
            let got = [triple(s.rouge1), triple(s.rouge2), triple(s.rouge_l)];
            assert_eq!(got, *want, "{candidate:?} vs {reference:?}");
        }
    }

    #[test]
    fn tokenizer_matches_rouge_score() {
        // rouge_score.tokenize.tokenize(text, PorterStemmer()) of the same text.
        let text = "A naïve baseline – surprisingly – wins. İstanbul K-means; GPT-4o studies";
        let want = [
            "a",
            "na",
            "ve",
            "baselin",
            "surprisingli",
            "win",
            "i",
            "stanbul",
            "k",
            "mean",
            "gpt",
            "4o",
            "studi",
        ];
        assert_eq!(tokenize(text).as_slice(), want);
        // Only tokens longer than three characters are stemmed.
        assert_eq!(tokenize("uses used ties").as_slice(), ["use", "use", "tie"]);
        assert!(tokenize(" \t–…\n").is_empty());
    }

    #[test]
    fn scoring_is_asymmetric_in_precision_and_recall() {
        let (short, long) = (tokenize("deep nets"), tokenize("deep nets are wide"));
        let s = score(&short, &long);
        assert_eq!((s.rouge1.precision, s.rouge1.recall), (1.0, 0.5));
        let s = score(&long, &short);
        assert_eq!((s.rouge1.precision, s.rouge1.recall), (0.5, 1.0));
    }

    #[test]
    fn best_reference_is_chosen_by_rouge1_and_ties_keep_the_first() {
        let candidate = tokenize("a b c d");
        // The first reference has the better ROUGE-1, the second the better ROUGE-2.
        let refs = [tokenize("d c b a"), tokenize("a b x y")];
        let best = best_by_rouge1(&candidate, &refs).expect("two references");
        assert_eq!(best, score(&candidate, &refs[0]));
        assert_eq!(best.rouge2.f1, 0.0);
        assert!(score(&candidate, &refs[1]).rouge2.f1 > 0.0);
        // Equal ROUGE-1: the earlier reference wins (its ROUGE-L is lower, so it is visible).
        let refs = [tokenize("d c b a"), tokenize("a b c d")];
        let best = best_by_rouge1(&candidate, &refs).expect("two references");
        assert_eq!(best.rouge_l.f1, 0.25);
        assert_eq!(best_by_rouge1(&candidate, &[]), None);
    }
}
