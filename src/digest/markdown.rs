//! The blog format of the post that inspired hotpapers (`shared/seed/hot-papers-2021-07-02.md`):
//! front matter, then per paper `# N. Title`, authors, one attention line per source in the
//! seed's style, links, categories, the abstract and the top posts embedded (`embeds`).
//!
//! Upstream text renders as the literal text it is: hidden characters are dropped
//! ([`crate::sanitize`]), inline Markdown, raw HTML and character references (`&amp;`) are
//! escaped ([`escape`]), and a line that starts a block of its own (the authors, the
//! abstract) has its block start escaped too ([`escape_block`]: quotes, lists, rules, setext
//! underlines, fences, indented code). The title and the TL;DR follow a fixed prefix
//! (`# N. `, `TL;DR: `), so only inline markup matters there. Every upstream field is
//! written on one line between blank lines or after such a prefix, so none can complete a
//! table (a GFM table needs a delimiter row on the next line) and `|` needs no escape.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Digest, DigestEntry};
use crate::arxiv::taxonomy;

/// Sources in the order their attention lines appear, with the blog tag they add.
const SOURCE_ORDER: &[(&str, &str)] = &[
    // The blog's existing tag for X is "Twitter"; keep it so old and new posts share a tag page.
    ("x", "Twitter"),
    ("bluesky", "Bluesky"),
    ("hn", "Hacker News"),
    ("hf", "Hugging Face"),
];

/// Renders the digest as a blog post.
pub fn render(d: &Digest) -> String {
    let mut out = String::with_capacity(4096 + d.entries.len() * 2048);
    front_matter(&mut out, d);
    let missing: Vec<String> = d
        .sources
        .iter()
        .filter_map(super::SourceStatus::public_note)
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(out, "_Attention data missing: {}._\n", missing.join("; "));
    }
    for e in &d.entries {
        paper(&mut out, e, d.embed_posts);
    }
    if d.entries.is_empty() {
        out.push_str("No papers in this mailing matched.\n");
    }
    out
}

fn front_matter(out: &mut String, d: &Digest) {
    let date = d.date.format("%Y-%m-%d");
    let (title, slug, description) = match d.view {
        super::View::Mailing => ("Hot Papers", "hot-papers", "Hot papers"),
        super::View::Trending { .. } => ("Trending Papers", "trending-papers", "Trending papers"),
    };
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "title: {title} {date}");
    let _ = writeln!(
        out,
        "date: {}",
        d.generated_at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    let _ = writeln!(out, "template: \"post\"");
    let _ = writeln!(out, "draft: false");
    let _ = writeln!(out, "slug: \"{slug}-{date}\"");
    let _ = writeln!(out, "category: \"arXiv\"");
    let _ = writeln!(out, "tags:");
    for tag in tags(d) {
        let _ = writeln!(out, "  - \"{}\"", yaml_escape(&tag));
    }
    let _ = writeln!(out, "description: \"{description} {date}\"");
    let _ = writeln!(out, "socialImage: \"/media/flying-marine.jpg\"");
    let _ = writeln!(out);
    let _ = writeln!(out, "---");
    let _ = writeln!(out);
}

/// The front matter's tags: "arXiv"; the blog tag of each source with data for a shown paper
/// (X is "Twitter", the blog's existing tag); then the name of the category listed by most of
/// the digest's candidates and the name of the group most of their primary categories are
/// in ([`super::Topics`]).
///
/// The category and group are counted over every candidate — every paper of the mailing (or
/// trending window) that passed the category filters, cross-lists included, before `top` —
/// not over the papers shown, so `--top 1` and `--top 14` describe the mailing alike (the
/// seed's 2021-07-02 mailing is "Machine Learning", "Computer Science"). Every category a
/// paper lists counts, cross-lists included, since that is where arXiv lists it. Ties go to
/// the category whose papers have the higher summed score, then to the lower id.
fn tags(d: &Digest) -> Vec<String> {
    let mut tags = vec!["arXiv".to_string()];
    for (source, tag) in SOURCE_ORDER {
        let has = d.entries.iter().any(|e| {
            e.signals
                .keys()
                .any(|k| k.split('.').next() == Some(source))
        });
        if has {
            tags.push((*tag).to_string());
        }
    }
    if let Some(name) = d
        .topics
        .top_category()
        .and_then(taxonomy::get)
        .map(|c| c.name)
    {
        tags.push(name.to_string());
    }
    if let Some(group) = d.topics.top_group() {
        tags.push(group.to_string());
    }
    tags.dedup();
    tags
}

fn paper(out: &mut String, e: &DigestEntry, embed_posts: usize) {
    let p = &e.paper;
    let _ = writeln!(out, "# {}. {}", e.rank, escape(&p.title));
    let _ = writeln!(out);
    // One line, so escaped as one: a backtick in one name may close a code span in another,
    // and only the first name starts the block.
    let authors: Vec<&str> = p.author_names().collect();
    let _ = writeln!(out, "{}", escape_block(&authors.join(", ")));
    let _ = writeln!(out);
    let lines = attention_lines(e);
    if !lines.is_empty() {
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "- links: [abs]({}) | [pdf]({})",
        p.id.abs_url(),
        p.id.pdf_url()
    );
    let cats: Vec<String> = p
        .categories
        .iter()
        .map(|c| format!("[{c}](https://arxiv.org/list/{c}/recent)"))
        .collect();
    let _ = writeln!(out, "- {}", cats.join(" | "));
    let _ = writeln!(out);
    if let Some(summary) = &e.summary {
        let _ = writeln!(out, "TL;DR: {}", escape(&summary.text));
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", escape_block(&p.abstract_text));
    // The seed: a blank line, then each embed followed by a blank line, then three more.
    let embeds = e
        .mentions
        .iter()
        .take(embed_posts)
        .filter_map(super::embeds::embed);
    let mut any = false;
    for lines in embeds {
        out.push('\n');
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        any = true;
    }
    out.push_str(if any { "\n\n\n\n" } else { "\n\n\n\n\n" });
}

/// One line per source with data, in the seed's style. X is exactly the seed's
/// `- retweets: N, favorites: M (MM/DD/YYYY HH:MM:SS)`.
pub fn attention_lines(e: &DigestEntry) -> Vec<String> {
    let mut sources: Vec<String> = SOURCE_ORDER.iter().map(|(s, _)| s.to_string()).collect();
    for key in e.signals.keys() {
        if let Some((s, _)) = key.split_once('.')
            && !sources.iter().any(|x| x == s)
        {
            sources.push(s.to_string());
        }
    }
    let mut lines = Vec::new();
    for source in sources {
        let metrics: Vec<(&str, f64)> = e
            .signals
            .iter()
            .filter_map(|(k, v)| {
                k.split_once('.')
                    .filter(|(s, _)| *s == source)
                    .map(|(_, m)| (m, *v))
            })
            .collect();
        if metrics.is_empty() {
            continue;
        }
        let get = |name: &str| {
            metrics
                .iter()
                .find(|(m, _)| *m == name)
                .map_or(0.0, |x| x.1)
        };
        let body = match source.as_str() {
            "x" => format!(
                "retweets: {}, favorites: {}",
                number(get("retweets")),
                number(get("likes"))
            ),
            other => {
                let label = match other {
                    "bluesky" => "bluesky",
                    "hn" => "hacker news",
                    "hf" => "hugging face",
                    o => o,
                };
                let parts: Vec<String> = metrics
                    .iter()
                    .map(|(m, v)| format!("{}: {}", m.replace('_', " "), number(*v)))
                    .collect();
                format!("{label} {}", parts.join(", "))
            }
        };
        let when = e
            .measured_at
            .get(&source)
            .map(seed_time)
            .unwrap_or_default();
        if when.is_empty() {
            lines.push(format!("- {body}"));
        } else {
            lines.push(format!("- {body} ({when})"));
        }
    }
    lines
}

fn seed_time(t: &DateTime<Utc>) -> String {
    t.format("%m/%d/%Y %H:%M:%S").to_string()
}

/// Counts are integers in practice; print them without a fraction.
pub use crate::number::display as number;

/// Characters that can start Markdown structure inside a line: emphasis, links and images,
/// raw HTML, code spans, strikethrough, headings, and `&` (an entity or character reference
/// such as `&amp;` would render as the character it names).
const SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '~', '#', '&'];

/// Escapes inline Markdown (and raw HTML) so upstream text renders literally, on one line.
///
/// Hidden characters (terminal escape sequences, C1 controls, bidirectional overrides,
/// zero-width characters: [`crate::sanitize::is_hidden`]) are dropped first and line breaks
/// become spaces, as in the text format.
///
/// It escapes no more than it must, so text without Markdown in it stays byte-for-byte what
/// arXiv sent (LaTeX such as `$\\sim 15\\%$` is common in abstracts):
/// - a backslash only where it would otherwise cancel the escape of the next character
///   (`\\%` is left alone; it cannot start any structure);
/// - a backtick run only when a later run of the same length could close a code span.
pub fn escape(s: &str) -> String {
    let chars: Vec<char> = crate::sanitize::clean(s).chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let next = chars.get(i + 1).copied();
                if next.is_some_and(|n| SPECIAL.contains(&n)) {
                    out.push('\\');
                }
                out.push('\\');
            }
            '`' => {
                let run = chars[i..].iter().take_while(|&&x| x == '`').count();
                if closes_later(&chars[i + run..], run) {
                    for _ in 0..run {
                        out.push_str("\\`");
                    }
                } else {
                    out.extend(std::iter::repeat_n('`', run));
                }
                i += run;
                continue;
            }
            '&' => {
                if starts_reference(&chars[i + 1..]) {
                    out.push('\\');
                }
                out.push('&');
            }
            // Line breaks would end the heading or list item they sit in (`clean` made every
            // line break a `\n`).
            '\n' => out.push(' '),
            c if SPECIAL.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether `rest` (what follows a `&`) makes it an entity or numeric character reference:
/// `name;`, `#123;` or `#x1F;`, as CommonMark reads them.
fn starts_reference(rest: &[char]) -> bool {
    let end = rest.iter().take(34).position(|&c| c == ';');
    let Some(end) = end.filter(|&e| e > 0) else {
        return false;
    };
    let body = &rest[..end];
    match body {
        ['#', 'x' | 'X', hex @ ..] => {
            (1..=6).contains(&hex.len()) && hex.iter().all(char::is_ascii_hexdigit)
        }
        ['#', dec @ ..] => (1..=7).contains(&dec.len()) && dec.iter().all(char::is_ascii_digit),
        [first, ..] => first.is_ascii_alphabetic() && body.iter().all(char::is_ascii_alphanumeric),
        [] => false,
    }
}

/// Whether `rest` contains a backtick run of exactly `len` (which would close a code span).
fn closes_later(rest: &[char], len: usize) -> bool {
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == '`' {
            let run = rest[i..].iter().take_while(|&&x| x == '`').count();
            if run == len {
                return true;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    false
}

/// Escapes a line that starts a block of its own (a paragraph: the authors, the abstract):
/// [`escape`], without leading whitespace (four spaces would make an indented code block),
/// plus whatever at its start would turn it into structure — a block quote (`>`), a bullet
/// list item or a thematic break or setext underline (`-`, `+`, `=`; `*`, `_` and `#` are
/// escaped inline already), an ordered list item (`1.`, `1)`) or a code fence (a run of
/// backticks; `~` is escaped inline). The result is one line.
pub fn escape_block(s: &str) -> String {
    let escaped = escape(s);
    let escaped = escaped.trim_start();
    if escaped.starts_with(['-', '+', '=', '>']) {
        return format!("\\{escaped}");
    }
    if escaped.starts_with('`') {
        // An unclosed run stays raw inline, but three at the start of a line open a fence.
        let run = escaped.chars().take_while(|&c| c == '`').count();
        return format!("{}{}", "\\`".repeat(run), &escaped[run..]);
    }
    // "1. text" or "1) text" would start an ordered list: escape the delimiter.
    let digits = escaped.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &escaped[digits..];
        if rest.starts_with(['.', ')']) && rest[1..].chars().next().is_none_or(char::is_whitespace)
        {
            return format!("{}\\{rest}", &escaped[..digits]);
        }
    }
    escaped.to_string()
}

fn yaml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arxiv::ArxivId;
    use crate::arxiv::paper::{AnnounceType, Author, Paper};
    use crate::digest::Digest;
    use crate::ranking::Score;
    use chrono::{NaiveDate, TimeZone};

    fn entry() -> DigestEntry {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 0, 0).unwrap();
        DigestEntry {
            rank: 3,
            paper: Paper {
                title: "Variational Diffusion Models".into(),
                abstract_text: "Diffusion-based generative models have demonstrated a capacity."
                    .into(),
                authors: [
                    "Diederik P. Kingma",
                    "Tim Salimans",
                    "Ben Poole",
                    "Jonathan Ho",
                ]
                .iter()
                .map(|n| Author {
                    name: n.to_string(),
                    affiliations: vec![],
                })
                .collect(),
                published: t,
                updated: t,
                ..Paper::sample("2107.00630", &["cs.LG", "stat.ML"])
            },
            announce_type: AnnounceType::New,
            score: Score::default(),
            signals: [
                ("x.retweets".to_string(), 704.0),
                ("x.likes".to_string(), 188.0),
            ]
            .into_iter()
            .collect(),
            measured_at: [(
                "x".to_string(),
                Utc.with_ymd_and_hms(2021, 7, 3, 7, 45, 53).unwrap(),
            )]
            .into_iter()
            .collect(),
            summary: None,
            age_hours: None,
            mentions: Vec::new(),
            growth: Default::default(),
        }
    }

    #[test]
    fn paper_block_matches_the_seed_post() {
        let mut out = String::new();
        paper(&mut out, &entry(), 3);
        let expected = "# 3. Variational Diffusion Models\n\n\
            Diederik P. Kingma, Tim Salimans, Ben Poole, Jonathan Ho\n\n\
            - retweets: 704, favorites: 188 (07/03/2021 07:45:53)\n\n\
            - links: [abs](https://arxiv.org/abs/2107.00630) | [pdf](https://arxiv.org/pdf/2107.00630)\n\
            - [cs.LG](https://arxiv.org/list/cs.LG/recent) | [stat.ML](https://arxiv.org/list/stat.ML/recent)\n\n\
            Diffusion-based generative models have demonstrated a capacity.\n\n\n\n\n\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn front_matter_matches_the_seed_shape() {
        let d = Digest {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            view: crate::digest::View::Mailing,
            generated_at: Utc.with_ymd_and_hms(2021, 7, 3, 7, 45, 53).unwrap(),
            categories: vec![],
            candidates: 1,
            entries: vec![entry()],
            sources: vec![],
            embed_posts: 3,
            topics: Default::default(),
        };
        let md = render(&d);
        assert!(md.starts_with(
            "---\ntitle: Hot Papers 2021-07-02\ndate: 2021-07-03T07:45:53.000Z\ntemplate: \"post\"\n\
             draft: false\nslug: \"hot-papers-2021-07-02\"\ncategory: \"arXiv\"\ntags:\n  - \"arXiv\"\n  - \"Twitter\"\n"
        ));
        assert!(md.contains("description: \"Hot papers 2021-07-02\"\nsocialImage: \"/media/flying-marine.jpg\"\n\n---\n\n# 3."));
    }

    #[test]
    fn tags_describe_every_candidate_whatever_top_keeps() {
        use crate::store::{MailingPaper, Signal};
        // The hottest paper is cs.CV/cs.AI; the mailing is mostly machine learning.
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 0, 0).unwrap();
        let papers: Vec<MailingPaper> = [
            ("2107.00641", vec!["cs.CV", "cs.AI"], 2805.0),
            ("2107.00630", vec!["cs.LG", "stat.ML"], 892.0),
            ("2107.00652", vec!["cs.CV", "cs.LG"], 500.0),
            ("2107.00700", vec!["cs.LG"], 15.0),
            ("2107.00701", vec!["math.OC", "cs.LG"], 0.0),
        ]
        .into_iter()
        .map(|(id, cats, _)| {
            let mut p = entry().paper;
            p.id = ArxivId::parse(id).unwrap();
            p.primary_category = cats[0].to_string();
            p.categories = cats.iter().map(|c| c.to_string()).collect();
            MailingPaper {
                paper: p,
                announce_type: crate::arxiv::paper::AnnounceType::New,
            }
        })
        .collect();
        let signals: Vec<Signal> = [("2107.00641", 2805.0), ("2107.00630", 892.0)]
            .into_iter()
            .map(|(id, v)| Signal {
                paper: ArxivId::parse(id).unwrap(),
                source: "x".into(),
                metric: "likes".into(),
                value: v,
                observed_at: t,
            })
            .collect();
        let config = crate::config::Config::default();
        let rule = crate::ranking::RankingRule::from_config(&config.ranking);
        let tags_at = |top: usize| {
            let d = crate::digest::build(
                papers.clone(),
                &signals,
                |_| true,
                crate::digest::BuildOptions {
                    date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
                    generated_at: t,
                    top,
                    categories: vec![],
                    rule: &rule,
                    sources: vec![],
                    include_cross_lists: true,
                    trending: None,
                },
            );
            assert_eq!(d.entries.len(), if top == 0 { 5 } else { top });
            tags(&d)
        };
        let want = ["arXiv", "Twitter", "Machine Learning", "Computer Science"];
        for top in [0, 1, 2, 3] {
            assert_eq!(tags_at(top), want, "top {top}");
        }
        // A tie in count goes to the category with more attention, then the lower id.
        let topic = |i: usize, score: f64| {
            let p: &Paper = &papers[i].paper;
            (p.primary_category.as_str(), p.categories.as_slice(), score)
        };
        let tie = crate::digest::Topics::of([topic(0, 7.9), topic(1, 6.8)]);
        // cs.CV, cs.AI (7.9) against cs.LG, stat.ML (6.8): one paper each.
        assert_eq!(tie.top_category(), Some("cs.AI"));
        assert_eq!(crate::digest::Topics::default().top_category(), None);
    }

    #[test]
    fn sources_without_data_get_no_line_and_others_follow_the_style() {
        let mut e = entry();
        e.signals.clear();
        assert!(attention_lines(&e).is_empty());
        e.signals.insert("hn.points".into(), 120.0);
        e.signals.insert("hn.comments".into(), 45.0);
        assert_eq!(
            attention_lines(&e),
            ["- hacker news comments: 45, points: 120"]
        );
    }

    #[test]
    fn upstream_text_cannot_break_the_markdown() {
        assert_eq!(
            escape("a*b_c [x](y) <script> `z`"),
            "a\\*b\\_c \\[x\\](y) \\<script> \\`z`"
        );
        // A backslash is doubled only where it would cancel an escape.
        assert_eq!(escape(r"$\sim 15\%$ \*"), r"$\sim 15\%$ \\\*");
        // Unclosed backticks (LaTeX quotes) stay as they are; closable ones are escaped.
        assert_eq!(escape("the ``vents'' of"), "the ``vents'' of");
        assert_eq!(escape("``a`` b"), "\\`\\`a`` b");
        assert_eq!(escape_block("# not a heading"), "\\# not a heading");
        assert_eq!(escape_block("> not a quote"), "\\> not a quote");
        assert_eq!(escape_block("1. not a list"), "1\\. not a list");
        assert_eq!(escape_block("- not a list"), "\\- not a list");
        assert_eq!(escape_block("Plain text."), "Plain text.");
        assert_eq!(escape("two\nlines"), "two lines");
        // Character references are made literal; a lone `&` is left alone.
        assert_eq!(escape("AT&amp;T &#x41; R&D"), "AT\\&amp;T \\&\\#x41; R&D");
        assert_eq!(escape_block("```rust"), "\\`\\`\\`rust");
        assert_eq!(escape_block("    code"), "code");
        assert_eq!(escape_block("1.5 million"), "1.5 million");
    }

    #[test]
    fn seed_abstracts_render_as_written() {
        let seed = include_str!("../../tests/fixtures/seed/hot-papers-2021-07-02.md");
        let abstracts: Vec<&str> = seed
            .lines()
            .skip_while(|l| !l.starts_with("# 1."))
            .filter(|l| l.len() > 200 && !l.starts_with('<') && !l.starts_with("- "))
            .collect();
        assert_eq!(abstracts.len(), 14);
        // Removing the escapes gives the text back: the reader sees exactly arXiv's abstract.
        // (The seed's own Markdown turned "(`late-fusion') ... `fusion" into a code span;
        // ours escapes that backtick.)
        let unescape = |s: &str| {
            let mut out = String::new();
            let mut chars = s.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\\' && chars.peek().is_some_and(|n| SPECIAL.contains(n)) {
                    continue;
                }
                out.push(c);
            }
            out
        };
        let mut changed = 0;
        for a in abstracts {
            let e = escape_block(a);
            assert_eq!(unescape(&e), a);
            changed += usize::from(e != a);
        }
        assert_eq!(
            changed, 1,
            "only the abstract with a real code span needs escaping"
        );
    }

    /// The top-level blocks of `md` as a CommonMark (+ GFM tables) parser reads them: each
    /// block's kind and its text with the markup removed; raw HTML is its own block.
    fn blocks(md: &str) -> Vec<(String, String)> {
        use pulldown_cmark::{Event, Options, Parser, Tag};
        let options =
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
        let mut out: Vec<(String, String)> = Vec::new();
        let mut depth = 0;
        for event in Parser::new_ext(md, options) {
            match event {
                Event::Start(tag) => {
                    if depth == 0 {
                        let kind = match tag {
                            Tag::Paragraph => "paragraph".to_string(),
                            Tag::Heading(..) => "heading".to_string(),
                            Tag::List(None) => "list".to_string(),
                            other => format!("{other:?}"),
                        };
                        out.push((kind, String::new()));
                    } else if !matches!(tag, Tag::Item | Tag::Paragraph | Tag::Link(..)) {
                        // Inline markup inside a block: say so in its text.
                        if let Some(last) = out.last_mut() {
                            last.1.push_str(&format!("<{tag:?}>"));
                        }
                    }
                    depth += 1;
                }
                Event::End(_) => depth -= 1,
                Event::Text(t) => {
                    if let Some(last) = out.last_mut() {
                        last.1.push_str(&t);
                    }
                }
                Event::Code(t) => {
                    if let Some(last) = out.last_mut() {
                        last.1.push_str(&format!("<code>{t}"));
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some(last) = out.last_mut() {
                        last.1.push(' ');
                    }
                }
                Event::Html(h) => out.push(("html".into(), h.to_string())),
                Event::Rule => out.push(("rule".into(), String::new())),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn upstream_lines_never_become_structure() {
        // Block starts (quotes, lists, headings, rules, setext underlines, fences, indented
        // code), raw HTML, references and inline markup, as a title, first author, TL;DR
        // and abstract.
        let hostile = [
            "> quoted",
            "- listed",
            "+ plus",
            "* star",
            "# heading",
            "1. numbered",
            "1) numbered",
            "2021. A year of papers",
            "---",
            "=====",
            "***",
            "___",
            "-",
            ">",
            "```rust",
            "~~~",
            "    indented code",
            "<div>raw html</div>",
            "<script>alert(1)</script>",
            "<https://example.com>",
            "| a | b |",
            "AT&amp;T &#x41; &#65; &copy;",
            "Closing hashes ##",
            "[link](http://x) ![img](y)",
            "*emph* __strong__ `code` ~~gone~~",
            "back\\slash \\*",
        ];
        for h in hostile {
            let mut e = entry();
            e.paper.title = h.to_string();
            e.paper.authors[0].name = h.to_string();
            e.paper.abstract_text = h.to_string();
            e.summary = Some(crate::summary::Summary {
                text: h.to_string(),
                source: crate::summary::SummarySource::Extractive,
            });
            let mut md = String::new();
            paper(&mut md, &e, 3);
            // Runs of spaces inside a line are not structure; compare words.
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let got: Vec<(String, String)> = blocks(&md)
                .into_iter()
                .map(|(k, t)| (k, norm(&t)))
                .collect();
            let want = norm(h);
            let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                kinds,
                ["heading", "paragraph", "list", "paragraph", "paragraph"],
                "{h:?}:\n{md}"
            );
            assert_eq!(got[0].1, format!("3. {want}"), "{h:?}:\n{md}");
            assert_eq!(
                got[1].1,
                format!("{want}, Tim Salimans, Ben Poole, Jonathan Ho"),
                "{h:?}:\n{md}"
            );
            assert_eq!(got[3].1, format!("TL;DR: {want}"), "{h:?}:\n{md}");
            assert_eq!(got[4].1, want, "{h:?}:\n{md}");
        }
    }

    #[test]
    fn a_code_span_across_two_author_names_is_escaped() {
        let mut e = entry();
        e.paper.authors[0].name = "A `x".into();
        e.paper.authors[1].name = "y` B".into();
        let mut md = String::new();
        paper(&mut md, &e, 3);
        assert_eq!(
            blocks(&md)[1].1,
            "A `x, y` B, Ben Poole, Jonathan Ho",
            "{md}"
        );
    }

    /// Terminal escapes, BEL, a C1 CSI, bidi overrides and isolates, zero-width characters.
    const HOSTILE: &str = "\u{1b}[2J\u{7}\u{9b}31m\u{202e}\u{2066}\u{200b}\u{feff}";

    #[test]
    fn hidden_characters_never_reach_the_markdown() {
        let mut e = entry();
        e.paper.title = format!("Variational{HOSTILE} Diffusion Models");
        e.paper.authors[0].name = format!("Diederik{HOSTILE} P. Kingma");
        e.paper.abstract_text = format!("Diffusion{HOSTILE} models.\nA second line.");
        e.summary = Some(crate::summary::Summary {
            text: format!("We{HOSTILE} show it."),
            source: crate::summary::SummarySource::Extractive,
        });
        let t = Utc.with_ymd_and_hms(2021, 7, 2, 3, 0, 0).unwrap();
        for source in ["x", "bluesky", "hn"] {
            e.mentions.push(crate::store::Mention {
                paper: e.paper.id.clone(),
                source: source.into(),
                post_id: "1".into(),
                author_handle: Some(format!("ak{HOSTILE}")),
                author_name: Some(format!("AK{HOSTILE}")),
                text: format!("Look{HOSTILE} at this"),
                url: "https://twitter.com/ak92501/status/1".into(),
                posted_at: t,
                counts: Default::default(),
                observed_at: t,
            });
        }
        let d = Digest {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            view: crate::digest::View::Mailing,
            generated_at: t,
            categories: vec![],
            candidates: 1,
            entries: vec![e],
            sources: vec![crate::digest::SourceStatus {
                name: "hn".into(),
                missing: Some(format!("HTTP 500{HOSTILE} from upstream")),
            }],
            embed_posts: 3,
            topics: Default::default(),
        };
        let md = render(&d);
        let bad: Vec<char> = md
            .chars()
            .filter(|&c| crate::sanitize::is_hidden(c))
            .collect();
        assert!(bad.is_empty(), "{bad:?} in\n{md}");
        for want in [
            "# 3. Variational\\[2J31m Diffusion Models\n",
            "\nDiederik\\[2J31m P. Kingma, Tim Salimans",
            "TL;DR: We\\[2J31m show it.\n",
            "\nDiffusion\\[2J31m models. A second line.\n",
            // A missing source is only named: its reason is for the log.
            "Hacker News: unavailable",
            "Look\\[2J31m at this",
        ] {
            assert!(md.contains(want), "{want:?} not in\n{md}");
        }
    }

    #[test]
    fn numbers_print_like_counts() {
        assert_eq!(number(2546.0), "2546");
        assert_eq!(number(1.5), "1.50");
        assert_eq!(number(f64::NAN), "0");
    }
}
