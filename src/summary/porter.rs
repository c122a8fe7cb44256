//! NLTK's Porter stemmer in its default mode (`PorterStemmer()`, i.e. `NLTK_EXTENSIONS`),
//! ported rule for rule from `nltk/stem/porter.py` (nltk 3.10).
//!
//! Python `rouge-score` stems with exactly this variant, so our ROUGE figures agree with the
//! published ones only if the stems agree. It differs from Martin Porter's frozen version
//! (irregular forms, `ies`/`ied` on four-letter words, the `y -> i` condition, `alli`, `fulli`,
//! `logi`, a two-letter `*o`) and much more from Porter2/Snowball, which is what crates such as
//! `rust-stemmers` implement; hence a port rather than a dependency.
//!
//! It works on bytes and is meant for what the ROUGE tokenizer produces: lowercase ASCII
//! letters and digits (digits count as consonants, as in NLTK).

/// NLTK's irregular forms (`NLTK_EXTENSIONS` only): word, stem.
const IRREGULAR: &[(&str, &str)] = &[
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

/// The stem of `word`, as NLTK's `PorterStemmer().stem(word)` computes it.
///
/// A word that is not ASCII is returned unchanged: the ROUGE tokenizer never produces one, and
/// cutting suffixes by bytes could split a character.
pub(crate) fn stem(word: &str) -> String {
    if !word.is_ascii() {
        return word.to_owned();
    }
    let lower = word.to_ascii_lowercase();
    if let Some((_, s)) = IRREGULAR.iter().find(|(w, _)| *w == lower) {
        return (*s).to_owned();
    }
    if lower.len() <= 2 {
        return lower;
    }
    let mut w = lower.into_bytes();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    w.into_iter().map(char::from).collect()
}

fn is_vowel_letter(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// `_is_consonant`: a letter other than a vowel, and other than a `y` preceded by a consonant.
fn is_consonant(w: &[u8], mut i: usize) -> bool {
    if is_vowel_letter(w[i]) {
        return false;
    }
    if w[i] == b'y' {
        let mut negate = false;
        while i > 0 && w[i] == b'y' {
            negate = !negate;
            i -= 1;
        }
        // NLTK: `(word[i] not in vowels) != negate`.
        return is_vowel_letter(w[i]) == negate;
    }
    true
}

/// `_consonant_flags`: `is_consonant` for every position in one pass.
fn consonant_flags(w: &[u8]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let f = if is_vowel_letter(c) {
            false
        } else if c == b'y' {
            i == 0 || !flags[i - 1]
        } else {
            true
        };
        flags.push(f);
    }
    flags
}

/// `_measure`: m in `[C](VC){m}[V]`, i.e. the number of vowel-to-consonant transitions.
fn measure(stem: &[u8]) -> usize {
    consonant_flags(stem)
        .windows(2)
        .filter(|p| !p[0] && p[1])
        .count()
}

fn positive_measure(stem: &[u8]) -> bool {
    measure(stem) > 0
}

fn measure_gt_1(stem: &[u8]) -> bool {
    measure(stem) > 1
}

fn contains_vowel(stem: &[u8]) -> bool {
    consonant_flags(stem).iter().any(|c| !c)
}

/// `*d`: ends with a double consonant.
fn ends_double_consonant(w: &[u8]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

/// `*o`: ends consonant-vowel-consonant, the last not `w`, `x` or `y`; NLTK also accepts a
/// two-letter vowel-consonant word.
fn ends_cvc(w: &[u8]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], b'w' | b'x' | b'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

/// A suffix rule: suffix, replacement, condition on the stem left after removing the suffix.
type Rule = (&'static [u8], &'static [u8], fn(&[u8]) -> bool);

fn always(_: &[u8]) -> bool {
    true
}

fn concat(stem: &[u8], tail: &[u8]) -> Vec<u8> {
    [stem, tail].concat()
}

/// `_apply_rule_list`: the first rule whose suffix matches decides, whether or not its
/// condition holds.
fn apply_rules(w: Vec<u8>, rules: &[Rule]) -> Vec<u8> {
    for &(suffix, replacement, condition) in rules {
        if w.ends_with(suffix) {
            let stem = &w[..w.len() - suffix.len()];
            return if condition(stem) {
                concat(stem, replacement)
            } else {
                w
            };
        }
    }
    w
}

fn step1a(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"ies") && w.len() == 4 {
        return concat(&w[..1], b"ie");
    }
    apply_rules(
        w,
        &[
            (b"sses", b"ss", always),
            (b"ies", b"i", always),
            (b"ss", b"ss", always),
            (b"s", b"", always),
        ],
    )
}

fn step1b(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"ied") {
        let stem = &w[..w.len() - 3];
        return concat(stem, if w.len() == 4 { b"ie" } else { b"i" });
    }
    if w.ends_with(b"eed") {
        let stem = &w[..w.len() - 3];
        return if measure(stem) > 0 {
            concat(stem, b"ee")
        } else {
            w
        };
    }
    let mut intermediate = None;
    for suffix in [&b"ed"[..], b"ing"] {
        if w.ends_with(suffix) {
            let stem = &w[..w.len() - suffix.len()];
            if contains_vowel(stem) {
                intermediate = Some(stem);
                break;
            }
        }
    }
    let Some(stem) = intermediate else {
        return w;
    };
    for (suffix, replacement) in [(&b"at"[..], &b"ate"[..]), (b"bl", b"ble"), (b"iz", b"ize")] {
        if stem.ends_with(suffix) {
            return concat(&stem[..stem.len() - 2], replacement);
        }
    }
    if ends_double_consonant(stem) {
        let last = stem[stem.len() - 1];
        return if matches!(last, b'l' | b's' | b'z') {
            stem.to_vec()
        } else {
            stem[..stem.len() - 1].to_vec()
        };
    }
    if measure(stem) == 1 && ends_cvc(stem) {
        concat(stem, b"e")
    } else {
        stem.to_vec()
    }
}

fn step1c(w: Vec<u8>) -> Vec<u8> {
    fn condition(stem: &[u8]) -> bool {
        stem.len() > 1 && is_consonant(stem, stem.len() - 1)
    }
    apply_rules(w, &[(b"y", b"i", condition)])
}

fn step2(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"alli") && positive_measure(&w[..w.len() - 4]) {
        return step2(concat(&w[..w.len() - 4], b"al"));
    }
    // NLTK's `logi` rule tests the word minus `ogi`, i.e. the stem plus `l`.
    fn logi(stem: &[u8]) -> bool {
        positive_measure(&concat(stem, b"l"))
    }
    apply_rules(
        w,
        &[
            (b"ational", b"ate", positive_measure),
            (b"tional", b"tion", positive_measure),
            (b"enci", b"ence", positive_measure),
            (b"anci", b"ance", positive_measure),
            (b"izer", b"ize", positive_measure),
            (b"bli", b"ble", positive_measure),
            (b"alli", b"al", positive_measure),
            (b"entli", b"ent", positive_measure),
            (b"eli", b"e", positive_measure),
            (b"ousli", b"ous", positive_measure),
            (b"ization", b"ize", positive_measure),
            (b"ation", b"ate", positive_measure),
            (b"ator", b"ate", positive_measure),
            (b"alism", b"al", positive_measure),
            (b"iveness", b"ive", positive_measure),
            (b"fulness", b"ful", positive_measure),
            (b"ousness", b"ous", positive_measure),
            (b"aliti", b"al", positive_measure),
            (b"iviti", b"ive", positive_measure),
            (b"biliti", b"ble", positive_measure),
            (b"fulli", b"ful", positive_measure),
            (b"logi", b"log", logi),
        ],
    )
}

fn step3(w: Vec<u8>) -> Vec<u8> {
    apply_rules(
        w,
        &[
            (b"icate", b"ic", positive_measure),
            (b"ative", b"", positive_measure),
            (b"alize", b"al", positive_measure),
            (b"iciti", b"ic", positive_measure),
            (b"ical", b"ic", positive_measure),
            (b"ful", b"", positive_measure),
            (b"ness", b"", positive_measure),
        ],
    )
}

fn step4(w: Vec<u8>) -> Vec<u8> {
    fn ion(stem: &[u8]) -> bool {
        measure(stem) > 1 && matches!(stem.last(), Some(b's' | b't'))
    }
    apply_rules(
        w,
        &[
            (b"al", b"", measure_gt_1),
            (b"ance", b"", measure_gt_1),
            (b"ence", b"", measure_gt_1),
            (b"er", b"", measure_gt_1),
            (b"ic", b"", measure_gt_1),
            (b"able", b"", measure_gt_1),
            (b"ible", b"", measure_gt_1),
            (b"ant", b"", measure_gt_1),
            (b"ement", b"", measure_gt_1),
            (b"ment", b"", measure_gt_1),
            (b"ent", b"", measure_gt_1),
            (b"ion", b"", ion),
            (b"ou", b"", measure_gt_1),
            (b"ism", b"", measure_gt_1),
            (b"ate", b"", measure_gt_1),
            (b"iti", b"", measure_gt_1),
            (b"ous", b"", measure_gt_1),
            (b"ive", b"", measure_gt_1),
            (b"ize", b"", measure_gt_1),
        ],
    )
}

fn step5a(w: Vec<u8>) -> Vec<u8> {
    if w.ends_with(b"e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    w
}

fn step5b(w: Vec<u8>) -> Vec<u8> {
    // `ll -> l` when the word minus one `l` (the stem plus `l`) has m > 1.
    fn condition(stem: &[u8]) -> bool {
        measure(&concat(stem, b"l")) > 1
    }
    apply_rules(w, &[(b"ll", b"l", condition)])
}

#[cfg(test)]
mod tests {
    use super::stem;

    /// Word and stem, from `nltk.stem.porter.PorterStemmer().stem` (nltk 3.10.4): the paper's
    /// examples for every step, NLTK's irregular forms and extensions, runs of `y`, digits.
    const GOLDEN: &[(&str, &str)] = &[
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("ties", "tie"),
        ("cats", "cat"),
        ("feed", "feed"),
        ("agreed", "agre"),
        ("plastered", "plaster"),
        ("bled", "bled"),
        ("motoring", "motor"),
        ("sing", "sing"),
        ("conflated", "conflat"),
        ("troubled", "troubl"),
        ("sized", "size"),
        ("hopping", "hop"),
        ("tanned", "tan"),
        ("falling", "fall"),
        ("hissing", "hiss"),
        ("fizzed", "fizz"),
        ("failing", "fail"),
        ("filing", "file"),
        ("happy", "happi"),
        ("sky", "sky"),
        ("skies", "sky"),
        ("dying", "die"),
        ("lying", "lie"),
        ("news", "news"),
        ("innings", "inning"),
        ("proceed", "proceed"),
        ("succeed", "succeed"),
        ("enjoy", "enjoy"),
        ("spies", "spi"),
        ("tied", "tie"),
        ("relational", "relat"),
        ("conditional", "condit"),
        ("rational", "ration"),
        ("digitizer", "digit"),
        ("radically", "radic"),
        ("differently", "differ"),
        ("analogousli", "analog"),
        ("vietnamization", "vietnam"),
        ("predication", "predic"),
        ("operator", "oper"),
        ("feudalism", "feudal"),
        ("decisiveness", "decis"),
        ("hopefulness", "hope"),
        ("callousness", "callous"),
        ("formality", "formal"),
        ("sensitivity", "sensit"),
        ("sensibility", "sensibl"),
        ("fully", "fulli"),
        ("archaeology", "archaeolog"),
        ("triplicate", "triplic"),
        ("formative", "form"),
        ("formalize", "formal"),
        ("electricity", "electr"),
        ("electrical", "electr"),
        ("hopeful", "hope"),
        ("goodness", "good"),
        ("revival", "reviv"),
        ("allowance", "allow"),
        ("inference", "infer"),
        ("airliner", "airlin"),
        ("gyroscopic", "gyroscop"),
        ("adjustable", "adjust"),
        ("defensible", "defens"),
        ("irritant", "irrit"),
        ("replacement", "replac"),
        ("adjustment", "adjust"),
        ("dependent", "depend"),
        ("adoption", "adopt"),
        ("communism", "commun"),
        ("activate", "activ"),
        ("angularity", "angular"),
        ("homologous", "homolog"),
        ("effective", "effect"),
        ("bowdlerize", "bowdler"),
        ("probate", "probat"),
        ("rate", "rate"),
        ("cease", "ceas"),
        ("controlling", "control"),
        ("roll", "roll"),
        ("generalization", "gener"),
        ("generalize", "gener"),
        ("generalizes", "gener"),
        ("running", "run"),
        ("studies", "studi"),
        ("yyyy", "yyyi"),
        ("syzygy", "syzygi"),
        ("1990s", "1990"),
        ("abc1ing", "abc1"),
        ("transformers", "transform"),
        ("attention", "attent"),
    ];

    #[test]
    fn matches_nltk() {
        let wrong: Vec<String> = GOLDEN
            .iter()
            .filter(|(w, s)| stem(w) != *s)
            .map(|(w, s)| format!("{w}: got {}, nltk {s}", stem(w)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn short_and_non_ascii_words_pass_through() {
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("Cats"), "cat");
        assert_eq!(stem("naïve"), "naïve");
    }
}
