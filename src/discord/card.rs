//! The pieces every paper card is made of, on `/hot`, daily posts and `/paper` alike: the
//! colour of its arXiv group, attention in the source's own words with Discord timestamps,
//! the top post as a link, and the PDF / HTML / Hugging Face links.
//!
//! Every piece of upstream text is escaped here; what these functions return is safe to put
//! into an embed as it is.

use chrono::{DateTime, Utc};

use super::escape::escape;
use crate::arxiv::paper::Paper;
use crate::arxiv::taxonomy::{self, Group};
use crate::attention::{self, SourceAttention};
use crate::store::Mention;

/// The colour of a paper's card: one per arXiv group, so a channel reader sees at a glance
/// which field a paper is from. A category this version does not know gets Discord's grey.
pub fn group_colour(primary_category: &str) -> u32 {
    match taxonomy::get(primary_category).map(|c| c.group) {
        Some(Group::Cs) => 0xB31B1B, // arXiv's own red
        Some(Group::Physics) => 0x1F77B4,
        Some(Group::Math) => 0x9467BD,
        Some(Group::QBio) => 0x2CA02C,
        Some(Group::QFin) => 0xD4AC0D,
        Some(Group::Stat) => 0xFF7F0E,
        Some(Group::Eess) => 0x17BECF,
        Some(Group::Econ) => 0x8C564B,
        None => 0x99AAB5,
    }
}

/// A time as a Discord relative timestamp ("3 hours ago", in each reader's language and
/// zone): never a `MM/DD/YYYY` date that half the world reads the wrong way round.
pub fn relative(t: DateTime<Utc>) -> String {
    format!("<t:{}:R>", t.timestamp())
}

/// A date as a Discord timestamp shown as a date in each reader's locale.
pub fn date(t: DateTime<Utc>) -> String {
    format!("<t:{}:D>", t.timestamp())
}

/// One source's attention on one line: "2,546 reposts · 259 likes on X · ▲ 340 in 24 h ·
/// measured <t:…:R>".
pub fn attention_line(a: &SourceAttention) -> String {
    let mut line = escape(&a.describe_with_growth());
    if let Some(t) = a.measured_at {
        line.push_str(" · measured ");
        line.push_str(&relative(t));
    }
    line
}

/// The same without the source's name (a `/paper` field is already titled by it):
/// "2,546 reposts · 259 likes", then growth and measurement time on their own lines.
pub fn attention_field(a: &SourceAttention) -> String {
    let mut value = escape(&a.counts_text());
    if let Some(g) = &a.growth {
        value.push('\n');
        value.push_str(&g.describe());
    }
    if let Some(t) = a.measured_at {
        value.push_str("\nmeasured ");
        value.push_str(&relative(t));
    }
    value
}

/// A URL fit for a Markdown link in an embed: absolute http(s), without characters that
/// would end the link early or let it carry markup.
fn linkable(url: &str) -> Option<&str> {
    let parsed = url::Url::parse(url).ok()?;
    let clean = matches!(parsed.scheme(), "https" | "http")
        && parsed.host_str().is_some()
        && url.len() <= 512
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]`\"'\\".contains(c));
    clean.then_some(url)
}

/// `[label](url)` when the URL is safe to link, else just the label.
pub fn link(label: &str, url: &str) -> String {
    match linkable(url) {
        Some(u) => format!("[{label}]({u})"),
        None => label.to_string(),
    }
}

/// "shared by [@ak92501](https://twitter.com/ak92501/status/…)" (the `@` defused like every
/// `@` from upstream); for a post without a handle, "shared on [Hacker News](…)".
pub fn shared_by(m: &Mention) -> String {
    match m.author_handle.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(handle) => format!(
            "shared by {}",
            link(
                &escape(&format!("@{}", handle.trim_start_matches('@'))),
                &m.url
            )
        ),
        None => format!(
            "shared on {}",
            link(&escape(attention::label(&m.source)), &m.url)
        ),
    }
}

/// "[PDF](…) · [HTML](…)", and "· [Hugging Face](…)" when Hugging Face lists the paper.
pub fn paper_links(p: &Paper, on_hugging_face: bool) -> String {
    let mut links = vec![link("PDF", &p.pdf_url()), link("HTML", &p.html_url())];
    if on_hugging_face {
        links.push(link(
            "Hugging Face",
            &format!("https://huggingface.co/papers/{}", p.id),
        ));
    }
    links.join(" · ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::arxiv::ArxivId;
    use crate::attention::Growth;
    use crate::store::MentionCounts;

    fn mention(handle: Option<&str>, url: &str) -> Mention {
        let t = Utc.with_ymd_and_hms(2021, 7, 2, 12, 0, 0).unwrap();
        Mention {
            paper: ArxivId::parse("2107.00641").unwrap(),
            source: "x".into(),
            post_id: "1".into(),
            author_handle: handle.map(str::to_string),
            author_name: None,
            text: String::new(),
            url: url.into(),
            posted_at: t,
            counts: MentionCounts::default(),
            observed_at: t,
        }
    }

    #[test]
    fn groups_have_their_own_colours() {
        assert_eq!(group_colour("cs.LG"), 0xB31B1B);
        assert_ne!(group_colour("math.AG"), group_colour("cs.LG"));
        assert_ne!(group_colour("astro-ph.GA"), group_colour("stat.ML"));
        assert_eq!(group_colour("nonsense"), 0x99AAB5);
    }

    #[test]
    fn attention_reads_like_a_sentence_with_discord_timestamps() {
        let t = Utc.with_ymd_and_hms(2021, 7, 2, 12, 0, 0).unwrap();
        let a = SourceAttention {
            source: "x".into(),
            label: "X".into(),
            counts: vec![("retweets".into(), 2546.0), ("likes".into(), 259.0)],
            measured_at: Some(t),
            growth: Some(Growth {
                delta: 340.0,
                since: t - chrono::TimeDelta::hours(24),
                until: t,
            }),
        };
        assert_eq!(
            attention_line(&a),
            "2,546 reposts · 259 likes on X · ▲ 340 in 24 h · measured <t:1625227200:R>"
        );
        assert_eq!(
            attention_field(&a),
            "2,546 reposts · 259 likes\n▲ 340 in 24 h\nmeasured <t:1625227200:R>"
        );
    }

    #[test]
    fn shared_by_links_the_post_and_never_lets_a_url_break_out() {
        let ok = mention(Some("ak92501"), "https://twitter.com/ak92501/status/1410");
        assert_eq!(
            shared_by(&ok),
            "shared by [@\u{200B}ak92501](https://twitter.com/ak92501/status/1410)"
        );
        let evil = mention(Some("a_b*c"), "https://x.test/a)[click](https://evil");
        assert_eq!(shared_by(&evil), "shared by @\u{200B}a\\_b\\*c");
        let hn = Mention {
            source: "hn".into(),
            ..mention(None, "https://news.ycombinator.com/item?id=1")
        };
        assert_eq!(
            shared_by(&hn),
            "shared on [Hacker News](https://news.ycombinator.com/item?id=1)"
        );
        assert_eq!(link("PDF", "javascript:alert(1)"), "PDF");
    }
}
