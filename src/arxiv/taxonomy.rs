//! The arXiv category taxonomy, compiled in.
//!
//! SKELETON: to be replaced by the full taxonomy.

/// Whether a `<category term>` looks like an arXiv category rather than an ACM or MSC class
/// (`I.2.6`, `68T05`), which arXiv mixes into the same element.
pub fn looks_like_category(term: &str) -> bool {
    let mut chars = term.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && term.chars().all(|c| c.is_ascii_alphabetic() || c == '.' || c == '-')
}
