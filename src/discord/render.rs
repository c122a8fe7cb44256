//! A [`Digest`] as Discord messages: one embed per paper, split across messages in rank
//! order so that every message stays within Discord's limits ([`super::limits`]).
//!
//! Every piece of upstream text goes through [`escape`] first and is then truncated with
//! [`truncate_chars`], so a hostile title can neither format, ping, nor overflow a limit.

use chrono::NaiveDate;
use serenity::builder::{CreateAllowedMentions, CreateEmbed, CreateEmbedFooter, CreateMessage};

use super::escape::{escape, truncate_chars};
use super::{card, limits};
use crate::digest::{Digest, DigestEntry, SourceStatus};

/// How many authors to name before "et al." (a 500-author paper must stay one line).
const MAX_AUTHORS: usize = 3;
/// Character budgets of the parts of one embed's description.
const AUTHORS_CHARS: usize = 200;
const CATEGORIES_CHARS: usize = 150;
const SUMMARY_CHARS: usize = 350;
const ATTENTION_CHARS: usize = 400;
/// The description budget of one paper's embed in a daily post: with a title it keeps one
/// embed near 1,150 characters, so a message holds five papers under the 6,000 total.
pub const DESCRIPTION_BUDGET: usize = 900;
/// The least a summary gets before it is left out for lack of room.
const MIN_SUMMARY_CHARS: usize = 40;
/// Room kept in each message's embed budget for the footer added after packing.
pub const FOOTER_RESERVE: usize = 120;

/// One paper's embed before it becomes a serenity builder; kept so lengths can be counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedParts {
    /// `"{rank}. {title}"`, escaped and at most 256 characters.
    pub title: String,
    /// The paper's abs page (the title links to it).
    pub url: String,
    /// Authors, categories, summary, attention, score and top post, links; one per line.
    pub description: String,
    /// The colour of the paper's arXiv group ([`super::card::group_colour`]).
    pub colour: u32,
    /// Set on the last embed of each message: which mailing and which part.
    pub footer: Option<String>,
}

impl EmbedParts {
    /// Characters that count toward the 6,000-per-message embed limit.
    fn chars(&self) -> usize {
        self.title.chars().count()
            + self.description.chars().count()
            + self.footer.as_ref().map_or(0, |f| f.chars().count())
    }

    /// The serenity embed.
    pub fn into_embed(self) -> CreateEmbed {
        let mut e = CreateEmbed::new()
            .title(self.title)
            .url(self.url)
            .description(self.description)
            .colour(self.colour);
        if let Some(f) = self.footer {
            e = e.footer(CreateEmbedFooter::new(f));
        }
        e
    }
}

/// One message before it becomes a serenity builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageParts {
    /// The message text (heading on the first part), at most 2,000 characters.
    pub content: String,
    /// One embed per paper, in rank order.
    pub embeds: Vec<EmbedParts>,
}

impl MessageParts {
    /// The serenity builder, with every mention disabled.
    pub fn into_message(self) -> CreateMessage {
        CreateMessage::new()
            .content(self.content)
            .embeds(
                self.embeds
                    .into_iter()
                    .map(EmbedParts::into_embed)
                    .collect(),
            )
            .allowed_mentions(CreateAllowedMentions::new())
    }
}

/// "A, B, C et al." — at most `MAX_AUTHORS` names, escaped and bounded.
pub fn short_authors(names: &[&str]) -> String {
    let mut s: Vec<String> = names.iter().take(MAX_AUTHORS).map(|n| escape(n)).collect();
    if names.len() > MAX_AUTHORS
        && let Some(last) = s.last_mut()
    {
        last.push_str(" et al.");
    }
    truncate_chars(&s.join(", "), AUTHORS_CHARS)
}

/// The embed of one ranked paper, its description within [`DESCRIPTION_BUDGET`].
pub fn embed_parts(e: &DigestEntry) -> EmbedParts {
    embed_parts_within(e, DESCRIPTION_BUDGET)
}

/// The embed of one ranked paper with at most `budget` characters of description. What
/// matters most is kept whole: attention, score, the top post and the links; the summary
/// gets the room that is left (and is left out below `MIN_SUMMARY_CHARS`).
pub fn embed_parts_within(e: &DigestEntry, budget: usize) -> EmbedParts {
    let p = &e.paper;
    let title = truncate_chars(&format!("{}. {}", e.rank, escape(&p.title)), limits::TITLE);
    let names: Vec<&str> = p.author_names().collect();
    let mut head = Vec::new();
    if !names.is_empty() {
        head.push(short_authors(&names));
    }
    if !p.categories.is_empty() {
        let cats: Vec<String> = p.categories.iter().map(|c| escape(c)).collect();
        head.push(truncate_chars(&cats.join(" · "), CATEGORIES_CHARS));
    }
    let mut tail = Vec::new();
    let attention: Vec<String> = e.attention().iter().map(card::attention_line).collect();
    if attention.is_empty() {
        tail.push("no attention measured yet".to_string());
    } else {
        tail.push(truncate_chars(&attention.join("\n"), ATTENTION_CHARS));
    }
    let mut score = format!("score **{:.2}**", e.score.total);
    if let Some(top) = e.mentions.first() {
        score.push_str(" · ");
        score.push_str(&card::shared_by(top));
    }
    tail.push(score);
    let on_hf = e.signals.keys().any(|k| k.starts_with("hf."));
    tail.push(card::paper_links(p, on_hf));
    // The summary when one exists (the app fills one for every entry), else the abstract's
    // first sentence; it gets the room the other lines leave.
    let summary = e
        .summary
        .as_ref()
        .map(|s| s.text.as_str())
        .filter(|s| !s.trim().is_empty())
        .map_or_else(|| p.lead_sentence(), str::to_string);
    let used: usize = head
        .iter()
        .chain(&tail)
        .map(|l| l.chars().count() + 1)
        .sum();
    let room = budget.saturating_sub(used + 1).min(SUMMARY_CHARS);
    let mut lines = head;
    if !summary.trim().is_empty() && room >= MIN_SUMMARY_CHARS {
        lines.push(truncate_chars(&escape(&summary), room));
    }
    lines.extend(tail);
    EmbedParts {
        title,
        url: p.abs_url(),
        description: truncate_chars(&lines.join("\n"), budget.min(limits::DESCRIPTION)),
        colour: card::group_colour(&p.primary_category),
        footer: None,
    }
}

/// The digest's heading, e.g. "Hot papers of the arXiv mailing of Fri 2021-07-02: top 14 of 372".
fn heading(d: &Digest) -> String {
    let filter = if d.categories.is_empty() {
        String::new()
    } else {
        let cats: Vec<String> = d.categories.iter().map(|c| escape(c)).collect();
        format!(" in {}", cats.join(", "))
    };
    format!("**{}{filter}**: {}", d.title(), d.shown_of())
}

/// The text every digest message carries (in its last embed's footer, or in the content of a
/// digest without papers), followed by `" · part i/n"` when the digest has several parts.
/// A resumed post recognises its own parts in the channel by it
/// (`discord::delivery::part_of`).
pub fn marker(mailing: NaiveDate) -> String {
    format!(
        "hotpapers · arXiv mailing of {}",
        mailing.format("%Y-%m-%d")
    )
}

/// Splits the digest into messages within every limit, papers in rank order.
pub fn render_parts(d: &Digest) -> Vec<MessageParts> {
    let mut first = heading(d);
    for note in d.sources.iter().filter_map(SourceStatus::public_note) {
        first.push_str(&format!("\n({})", escape(&note)));
    }
    if d.entries.is_empty() {
        // No embed carries the footer, so the content carries the mailing's marker: a resumed
        // post recognises its own message by it (`discord::delivery::part_of`).
        first.push_str(&format!(
            "\nNo papers in this mailing matched.\n-# {}",
            marker(d.date)
        ));
    }
    let budget = limits::EMBED_TOTAL - FOOTER_RESERVE;
    let mut groups: Vec<Vec<EmbedParts>> = vec![Vec::new()];
    let mut used = 0;
    for e in &d.entries {
        let parts = embed_parts(e);
        let n = parts.chars();
        let full = groups
            .last()
            .is_some_and(|g| !g.is_empty() && (g.len() >= limits::EMBEDS || used + n > budget));
        if full {
            groups.push(Vec::new());
            used = 0;
        }
        used += n;
        if let Some(g) = groups.last_mut() {
            g.push(parts);
        }
    }
    let total = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, mut embeds)| {
            let part = if total > 1 {
                format!(" · part {}/{total}", i + 1)
            } else {
                String::new()
            };
            if let Some(last) = embeds.last_mut() {
                last.footer = Some(format!("{}{part}", marker(d.date)));
            }
            let content = if i == 0 {
                first.clone()
            } else {
                format!("(continued{part})")
            };
            MessageParts {
                content: truncate_chars(&content, limits::CONTENT),
                embeds,
            }
        })
        .collect()
}

/// The digest as serenity messages, ready to send (add a nonce per part when posting).
pub fn render(d: &Digest) -> Vec<CreateMessage> {
    render_parts(d)
        .into_iter()
        .map(MessageParts::into_message)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arxiv::paper::{AnnounceType, Author, Paper};
    use crate::digest::SourceStatus;
    use crate::ranking::Score;
    use crate::summary::{Summary, SummarySource};
    use chrono::{NaiveDate, TimeZone, Utc};
    use std::collections::BTreeMap;

    fn entry(rank: usize, title: &str, authors: usize) -> DigestEntry {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 0, 0).unwrap();
        DigestEntry {
            rank,
            paper: Paper {
                title: title.into(),
                abstract_text: "abstract".into(),
                authors: (0..authors)
                    .map(|i| Author {
                        name: format!("Author `{i}` @everyone"),
                        affiliations: vec![],
                    })
                    .collect(),
                published: t,
                updated: t,
                ..Paper::sample(&format!("2107.{:05}", rank), &["cs.LG", "stat.ML"])
            },
            announce_type: AnnounceType::New,
            score: Score::default(),
            signals: [
                ("x.retweets".to_string(), 704.0),
                ("x.likes".to_string(), 188.0),
            ]
            .into_iter()
            .collect(),
            measured_at: BTreeMap::new(),
            summary: Some(Summary {
                text: "A *summary* with $\\alpha_1$ and <@123>. ".repeat(30),
                source: SummarySource::HuggingFace,
            }),
            age_hours: None,
            mentions: Vec::new(),
            growth: Default::default(),
        }
    }

    fn digest(entries: Vec<DigestEntry>) -> Digest {
        Digest {
            date: NaiveDate::from_ymd_opt(2021, 7, 2).unwrap(),
            view: crate::digest::View::Mailing,
            generated_at: Utc.with_ymd_and_hms(2021, 7, 3, 8, 0, 0).unwrap(),
            categories: vec![],
            candidates: 500,
            entries,
            sources: vec![SourceStatus {
                name: "hn".into(),
                missing: Some("timeout @here".into()),
            }],
            embed_posts: 3,
            topics: Default::default(),
        }
    }

    fn hostile(n: usize) -> Digest {
        let long_title = format!("{} `code` **bold** @everyone", "Ω".repeat(2000));
        digest((1..=n).map(|r| entry(r, &long_title, 500)).collect())
    }

    fn json(m: &CreateMessage) -> serde_json::Value {
        serde_json::to_value(m).unwrap()
    }

    #[test]
    fn hostile_digest_stays_within_every_limit() {
        for n in [0, 1, 9, 10, 11, 14, 60] {
            let msgs = render(&hostile(n));
            assert!(!msgs.is_empty());
            for m in &msgs {
                let v = json(m);
                assert_eq!(limits::violations(&v), vec![], "n={n}");
                assert_eq!(v["allowed_mentions"]["parse"], serde_json::json!([]));
                let s = v.to_string();
                assert!(!s.contains("@everyone") && !s.contains("@here") && !s.contains("<@1"));
            }
        }
    }

    #[test]
    fn split_keeps_rank_order_and_every_paper() {
        let parts = render_parts(&hostile(23));
        assert!(parts.len() >= 3, "{} parts", parts.len());
        let ranks: Vec<usize> = parts
            .iter()
            .flat_map(|p| &p.embeds)
            .map(|e| e.title.split('.').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ranks, (1..=23).collect::<Vec<_>>());
        assert!(parts[0].content.contains("top 23 of 500"));
        // A missing source is only "unavailable": the reason (here "timeout @here") is not
        // for the channel.
        assert!(parts[0].content.contains("(Hacker News: unavailable)"));
        assert!(!parts[0].content.contains("timeout"));
        assert!(parts[1].content.starts_with("(continued · part 2/"));
        let footer = parts[0].embeds.last().unwrap().footer.as_deref().unwrap();
        assert!(footer.contains("2021-07-02") && footer.contains("part 1/"));
    }

    #[test]
    fn embed_shows_authors_categories_summary_attention_top_post_and_links() {
        let mut e = entry(3, "Variational *Diffusion* Models", 4);
        e.summary = Some(Summary {
            text: "One line.".into(),
            source: SummarySource::Extractive,
        });
        let at = Utc.with_ymd_and_hms(2021, 7, 2, 12, 0, 0).unwrap();
        e.measured_at.insert("x".into(), at);
        e.growth.insert(
            "x".into(),
            crate::attention::Growth {
                delta: 340.0,
                since: at - chrono::TimeDelta::hours(24),
                until: at,
            },
        );
        e.signals.insert("hf.upvotes".into(), 1.0);
        e.score.total = 8.126;
        e.mentions.push(crate::store::Mention {
            paper: e.paper.id.clone(),
            source: "x".into(),
            post_id: "1410".into(),
            author_handle: Some("ak92501".into()),
            author_name: Some("AK".into()),
            text: "look".into(),
            url: "https://twitter.com/ak92501/status/1410".into(),
            posted_at: at,
            counts: Default::default(),
            observed_at: at,
        });
        let p = embed_parts(&e);
        assert_eq!(p.title, r"3. Variational \*Diffusion\* Models");
        assert_eq!(p.url, "https://arxiv.org/abs/2107.00003");
        assert_eq!(p.colour, 0xB31B1B, "cs is arXiv red");
        let lines: Vec<&str> = p.description.lines().collect();
        assert!(lines[0].ends_with(" et al."), "{}", lines[0]);
        assert_eq!(lines[0].matches("Author").count(), 3);
        assert_eq!(lines[1], "cs.LG · stat.ML");
        assert_eq!(lines[2], "One line.");
        assert_eq!(
            lines[3],
            "704 reposts · 188 likes on X · ▲ 340 in 24 h · measured <t:1625227200:R>"
        );
        assert_eq!(lines[4], "1 upvote on Hugging Face");
        assert_eq!(
            lines[5],
            "score **8.13** · shared by [@\u{200B}ak92501](https://twitter.com/ak92501/status/1410)"
        );
        assert_eq!(
            lines[6],
            "[PDF](https://arxiv.org/pdf/2107.00003) · [HTML](https://arxiv.org/html/2107.00003v1) \
             · [Hugging Face](https://huggingface.co/papers/2107.00003)"
        );
        assert!(!p.description.contains("/20"), "no MM/DD/YYYY date");
    }

    #[test]
    fn a_tight_budget_shortens_the_summary_never_the_links() {
        let e = entry(1, "T", 3);
        let p = embed_parts_within(&e, 400);
        assert!(p.description.chars().count() <= 400);
        assert!(
            p.description
                .ends_with("[HTML](https://arxiv.org/html/2107.00001v1)"),
            "{}",
            p.description
        );
        assert!(p.description.contains("704 reposts"));
    }

    #[test]
    fn short_authors_forms() {
        assert_eq!(short_authors(&[]), "");
        assert_eq!(short_authors(&["A"]), "A");
        assert_eq!(short_authors(&["A", "B", "C"]), "A, B, C");
        assert_eq!(short_authors(&["A", "B", "C", "D"]), "A, B, C et al.");
    }

    #[test]
    fn empty_digest_is_one_message_without_embeds() {
        let parts = render_parts(&digest(vec![]));
        assert_eq!(parts.len(), 1);
        assert!(parts[0].embeds.is_empty());
        assert!(parts[0].content.contains("No papers"));
        assert!(
            parts[0]
                .content
                .ends_with("\n-# hotpapers · arXiv mailing of 2021-07-02"),
            "{}",
            parts[0].content
        );
    }
}
