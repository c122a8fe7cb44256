//! X's search query: the URL prefixes `[sources.x] url_patterns` defaults to and the rules a
//! list of them must follow to make a query X accepts.
//!
//! They live in the configuration layer because validation needs them (a bad list fails at
//! start-up, naming the key); the X source (`crate::sources::x`) builds its queries with the
//! same [`search_query`] and re-exports these items.

/// URL prefixes searched by default: every form in which people link an arXiv paper on X
/// (`url:` is a tokenized match, so versioned links and `export.arxiv.org` match too).
pub const DEFAULT_URL_PATTERNS: &[&str] = &[
    "arxiv.org/abs",
    "arxiv.org/pdf",
    "arxiv.org/html",
    "alphaxiv.org/abs",
    "huggingface.co/papers",
];

/// X's limit on the length of a search query (recent search and the entry-level plans).
pub const MAX_QUERY_CHARS: usize = 512;

/// The longest canonical paper key (an 8-letter legacy archive, `/`, 7 digits), used to check
/// that every per-paper lookup query fits [`MAX_QUERY_CHARS`].
const LONGEST_KEY: &str = "solv-int/9901001";

/// The search query for `patterns`: all of them for a sweep, or one paper's links for a lookup
/// (`paper_key` appended to each prefix). Retweets are excluded at the source: they carry the
/// original's counts and would count the same tweet twice.
///
/// ```
/// use hotpapers::config::x_query::search_query;
/// let patterns = ["arxiv.org/abs".to_string(), "alphaxiv.org/abs".to_string()];
/// assert_eq!(
///     search_query(&patterns, None),
///     r#"(url:"arxiv.org/abs" OR url:"alphaxiv.org/abs") -is:retweet"#
/// );
/// assert_eq!(
///     search_query(&patterns, Some("2107.00641")),
///     r#"(url:"arxiv.org/abs/2107.00641" OR url:"alphaxiv.org/abs/2107.00641") -is:retweet"#
/// );
/// ```
pub fn search_query(patterns: &[String], paper_key: Option<&str>) -> String {
    let terms: Vec<String> = patterns
        .iter()
        .map(|p| match paper_key {
            Some(key) => format!("url:\"{}/{key}\"", p.trim_end_matches('/')),
            None => format!("url:\"{p}\""),
        })
        .collect();
    format!("({}) -is:retweet", terms.join(" OR "))
}

/// Checks `sources.x.url_patterns`: at least one prefix, none empty or containing spaces,
/// control characters or quotes (they would break the `url:"…"` operator), and both the sweep
/// query and the longest per-paper lookup query within X's 512 characters. Returns the reason
/// on failure; configuration validation and the X source (`XSource::new`) share it.
pub fn check_url_patterns(patterns: &[String]) -> Result<(), String> {
    if patterns.is_empty() {
        return Err("needs at least one URL prefix, e.g. \"arxiv.org/abs\"".into());
    }
    for p in patterns {
        if p.trim_end_matches('/').is_empty() {
            return Err("entries must not be empty".into());
        }
        if p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "entries must not contain spaces or control characters, got {p:?}"
            ));
        }
        if p.contains('"') {
            return Err(format!("entries must not contain quotes, got {p:?}"));
        }
    }
    let longest = search_query(patterns, None)
        .chars()
        .count()
        .max(search_query(patterns, Some(LONGEST_KEY)).chars().count());
    if longest > MAX_QUERY_CHARS {
        return Err(format!(
            "the X search query built from them is {longest} characters; X allows \
             {MAX_QUERY_CHARS}: use fewer or shorter prefixes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Vec<String> {
        DEFAULT_URL_PATTERNS
            .iter()
            .map(|p| (*p).to_string())
            .collect()
    }

    #[test]
    fn default_queries_fit_and_name_every_form() {
        let q = search_query(&patterns(), None);
        assert_eq!(
            q,
            "(url:\"arxiv.org/abs\" OR url:\"arxiv.org/pdf\" OR url:\"arxiv.org/html\" OR \
             url:\"alphaxiv.org/abs\" OR url:\"huggingface.co/papers\") -is:retweet"
        );
        let lookup = search_query(&patterns(), Some("hep-th/9901001"));
        assert!(
            lookup.contains("url:\"arxiv.org/abs/hep-th/9901001\""),
            "{lookup}"
        );
        assert!(lookup.contains("url:\"huggingface.co/papers/hep-th/9901001\""));
        assert!(check_url_patterns(&patterns()).is_ok());
        // A trailing slash in a prefix does not double up.
        assert_eq!(
            search_query(&["arxiv.org/abs/".to_string()], Some("2107.00641")),
            "(url:\"arxiv.org/abs/2107.00641\") -is:retweet"
        );
    }

    #[test]
    fn url_patterns_are_checked() {
        let bad = |v: &[&str]| {
            check_url_patterns(&v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
                .expect_err("invalid")
        };
        assert!(bad(&[]).contains("at least one"));
        assert!(bad(&["arxiv.org/abs", "/"]).contains("empty"));
        assert!(bad(&["arxiv.org/ abs"]).contains("spaces"));
        assert!(bad(&["arxiv.org/\tabs"]).contains("spaces"));
        assert!(bad(&["arxiv.org\"/abs"]).contains("quotes"));
        // 10 prefixes of 31 characters: the sweep query fits, the lookup queries do not.
        let many: Vec<String> = (0..10)
            .map(|i| format!("mirror{i:02}.example.org/abs/papers"))
            .collect();
        assert!(search_query(&many, None).len() <= MAX_QUERY_CHARS);
        let reason = check_url_patterns(&many).expect_err("too long");
        assert!(reason.contains("512"), "{reason}");
    }
}
