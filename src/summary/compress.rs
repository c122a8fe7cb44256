//! Light compression of an extracted sentence: drop what carries no content, invent nothing.
//!
//! A sentence picked from an abstract often opens with a discourse marker ("In this paper,",
//! "To this end,", "Moreover,") and carries asides in parentheses (acronym expansions, "e.g."
//! lists, citations). A reader scanning one line per paper gains nothing from either, and on
//! SciTLDR dropping them moves the line closer to what people write as a TL;DR. Only whole
//! openers and whole parentheticals are removed; no word is changed or added, except that the
//! new first letter is capitalised.

/// Discourse openers dropped from the start of a sentence, lowercase, each followed in the
/// text by a comma or a space. Longest first where one is a prefix of another.
const OPENERS: &[&str] = &[
    "in this paper",
    "in this work",
    "in this article",
    "in this study",
    "in this note",
    "in this letter",
    "in this manuscript",
    "in this report",
    "in this thesis",
    "in the present paper",
    "in the present work",
    "in the present study",
    "in this contribution",
    "herein",
    "here",
    "to this end",
    "to that end",
    "towards this goal",
    "toward this goal",
    "towards this end",
    "with this in mind",
    "specifically",
    "in particular",
    "concretely",
    "moreover",
    "furthermore",
    "additionally",
    "in addition",
    "finally",
    "lastly",
    "however",
    "therefore",
    "thus",
    "hence",
    "consequently",
    "as a result",
    "importantly",
    "notably",
    "surprisingly",
    "interestingly",
    "remarkably",
    "overall",
    "in summary",
    "to summarize",
    "in short",
    "in conclusion",
    "firstly",
    "first",
    "secondly",
    "second",
    "thirdly",
    "third",
    "then",
    "instead",
    "in contrast",
    "by contrast",
    "on the other hand",
    "empirically",
    "experimentally",
    "theoretically",
];

/// Leading phrases that end in a comma and whose object varies: "To address this issue,",
/// "Motivated by these observations,". The phrase is dropped only when one of [`TAIL_NOUNS`]
/// closes it within a few words, so "To address long inputs, we" keeps its purpose clause.
const PURPOSE_OPENERS: &[&str] = &[
    "to address",
    "to tackle",
    "to overcome",
    "to solve",
    "to remedy",
    "to mitigate",
    "to alleviate",
    "to fill",
    "to bridge",
    "to close",
    "motivated by",
    "inspired by",
    "based on",
    "building on",
    "building upon",
    "guided by",
    "in light of",
    "in response to",
];

/// What a [`PURPOSE_OPENERS`] phrase must refer back to ("this issue", "these gaps").
const TAIL_NOUNS: &[&str] = &[
    "issue",
    "issues",
    "problem",
    "problems",
    "challenge",
    "challenges",
    "limitation",
    "limitations",
    "gap",
    "gaps",
    "shortcoming",
    "shortcomings",
    "drawback",
    "drawbacks",
    "observation",
    "observations",
    "finding",
    "findings",
    "insight",
    "insights",
    "question",
    "questions",
    "need",
    "needs",
    "difficulty",
    "difficulties",
    "concern",
    "concerns",
    "goal",
    "idea",
    "fact",
];

/// Drops the openers and parentheticals of `sentence` (see the module docs).
pub fn compress(sentence: &str) -> String {
    let body = drop_openers(sentence.trim());
    let body = drop_parentheticals(body);
    let body = drop_trailing_aside(&body);
    capitalize_first(&body)
}

/// Removes leading discourse openers, repeatedly ("Finally, in this paper, we …").
fn drop_openers(mut s: &str) -> &str {
    loop {
        let rest = strip_opener(s);
        match rest {
            Some(rest) if !rest.is_empty() => s = rest,
            _ => return s,
        }
    }
}

/// One opener off the front of `s`, with its comma and spaces, if `s` starts with one.
fn strip_opener(s: &str) -> Option<&str> {
    for opener in OPENERS {
        let Some(rest) = s
            .get(..opener.len())
            .filter(|p| p.eq_ignore_ascii_case(opener))
            .and_then(|_| s.get(opener.len()..))
        else {
            continue;
        };
        // A whole word: "Here," or "Here we", not "Hereditary". Without a comma the next word
        // must start a clause ("Here we", "Then the model"), so "Then is a word" stays whole.
        let rest_trim = rest.trim_start_matches([',', ' ']);
        let whole_word = rest.starts_with(',')
            || (rest.starts_with(' ')
                && starts_with_word(rest_trim, &["we", "our", "this", "the", "a", "an"]));
        if whole_word {
            return Some(rest_trim);
        }
    }
    for opener in PURPOSE_OPENERS {
        let starts = s
            .get(..opener.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(opener));
        if !starts {
            continue;
        }
        let comma = s.find(',')?;
        let phrase = s.get(..comma)?.to_lowercase();
        let words: Vec<&str> = phrase.split_whitespace().collect();
        let refers_back = words.len() <= 7
            && words.last().is_some_and(|w| TAIL_NOUNS.contains(w))
            && words.iter().any(|w| {
                matches!(
                    *w,
                    "this" | "these" | "that" | "those" | "such" | "the" | "our" | "above"
                )
            });
        return if refers_back {
            Some(s.get(comma + 1..)?.trim_start())
        } else {
            None
        };
    }
    None
}

/// Examples and restatements that end a sentence: ", such as A, B and C." The aside runs to
/// the sentence's end, so cutting it leaves the main clause whole.
const TRAILING_ASIDES: &[&str] = &[
    ", such as ",
    ", e.g. ",
    ", e.g., ",
    ", i.e. ",
    ", i.e., ",
    ", including ",
    ", for example ",
    ", for instance ",
    ", namely ",
    ", especially ",
    ", particularly ",
    ", in particular ",
];

/// Cuts a [`TRAILING_ASIDES`] phrase and what follows it to the end of the sentence, keeping
/// the final punctuation, when the main clause before it has at least eight words.
fn drop_trailing_aside(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let cut = TRAILING_ASIDES
        .iter()
        .filter_map(|a| lower.find(a))
        .filter(|&i| {
            s.get(..i)
                .is_some_and(|head| head.split_whitespace().count() >= 8)
        })
        .min();
    match cut {
        Some(i) => {
            let end = s
                .trim_end()
                .chars()
                .last()
                .filter(|c| matches!(c, '.' | '!' | '?'));
            let mut out = s[..i].trim_end().to_string();
            out.extend(end);
            out
        }
        None => s.to_string(),
    }
}

/// Whether `s` starts with one of `words` as a whole word, case-insensitively.
fn starts_with_word(s: &str, words: &[&str]) -> bool {
    let first: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    words.contains(&first.as_str())
}

/// Removes parenthetical asides ` (…)` and bracketed citations ` […]` that follow a space,
/// keeping function-call-like parentheses such as `O(n)` or `f(x)`, and tidying the space
/// left before punctuation.
fn drop_parentheticals(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let opens = matches!(c, '(' | '[');
        let after_space = out.ends_with(' ') || i == 0;
        if opens
            && after_space
            && let Some(end) = matching_close(s, i)
        {
            // Skip to after the closing bracket.
            while chars.peek().is_some_and(|(j, _)| *j <= end) {
                chars.next();
            }
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            // Keep one space unless punctuation follows.
            if chars
                .peek()
                .is_some_and(|(_, n)| !matches!(n, ',' | '.' | ';' | ':' | '!' | '?' | ' '))
                && !out.is_empty()
            {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    crate::arxiv::paper::collapse_whitespace(&out)
}

/// The byte index of the bracket closing the one at `open`, if it closes (nesting counted).
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, c) in s.get(open..)?.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + j);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` with its first letter upper-cased (the opener that came before it is gone).
fn capitalize_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::compress;

    #[test]
    fn drops_discourse_openers() {
        assert_eq!(compress("In this paper, we propose X."), "We propose X.");
        assert_eq!(compress("In this work we study Y."), "We study Y.");
        assert_eq!(compress("Finally, in this paper, we show Z."), "We show Z.");
        assert_eq!(compress("Here, we present W."), "We present W.");
        assert_eq!(compress("Here we present W."), "We present W.");
        assert_eq!(compress("To this end, we design V."), "We design V.");
        assert_eq!(
            compress("To address this issue, we propose U."),
            "We propose U."
        );
        assert_eq!(
            compress("Motivated by these observations, we build T."),
            "We build T."
        );
    }

    #[test]
    fn keeps_openers_that_carry_content() {
        assert_eq!(
            compress("Hereditary traits matter."),
            "Hereditary traits matter."
        );
        assert_eq!(
            compress("To address long inputs, we chunk them."),
            "To address long inputs, we chunk them."
        );
        assert_eq!(compress("Then is a word."), "Then is a word.");
        assert_eq!(
            compress("Theoretical results hold."),
            "Theoretical results hold."
        );
    }

    #[test]
    fn drops_parentheticals_but_not_calls() {
        assert_eq!(
            compress("Generative adversarial networks (GANs) learn (e.g., images)."),
            "Generative adversarial networks learn."
        );
        assert_eq!(
            compress("It runs in O(n) time [3, 4]."),
            "It runs in O(n) time."
        );
        assert_eq!(compress("Nested (a (b) c) asides go."), "Nested asides go.");
        assert_eq!(
            compress("An unclosed (aside stays."),
            "An unclosed (aside stays."
        );
        assert_eq!(compress("(Parenthetical first) then text."), "Then text.");
    }

    #[test]
    fn never_empties_a_sentence() {
        assert_eq!(compress("However,"), "However,");
        assert_eq!(compress(""), "");
        assert_eq!(compress("Moreover"), "Moreover");
    }
}
