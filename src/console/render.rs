//! A reply as plain text for a terminal: the same answers Discord shows as embeds.
//!
//! Upstream text (titles, names, reasons) has control characters removed, so nothing reaches
//! the terminal as an escape sequence.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::app::PaperCard;
use crate::commands::reply::{CategoryRow, Reply, SubscriptionStatus};
use crate::digest::SourceStatus;
use crate::digest::text::{self, one_line};
use crate::subscription::Subscription;

/// Renders a reply as plain text ending in a newline. Upstream text (titles, names, reasons)
/// has control characters removed, so nothing reaches the terminal as an escape sequence.
pub fn render(reply: &Reply) -> String {
    match reply {
        Reply::Digest { digest, .. } => text::render(digest),
        Reply::Paper(card) => paper_card(card),
        Reply::Categories { rows, date, group } => categories(rows, *date, *group),
        Reply::Search { query, hits, total } => search(query, hits, *total),
        Reply::Subscribed { status, replaced } => {
            let mut out = format!(
                "Subscribed channel {}: {}.\n",
                status.subscription.channel_id,
                status.subscription.describe()
            );
            if let Some(t) = status.next_post {
                let _ = writeln!(out, "Next post: {}.", local_time(t, &status.subscription));
            }
            if *replaced {
                out.push_str("This replaces the channel's earlier subscription.\n");
            }
            out
        }
        Reply::Unsubscribed(sub) => format!(
            "Unsubscribed channel {} (it was: {}).\n",
            sub.channel_id,
            sub.describe()
        ),
        Reply::Subscriptions(list) => subscriptions(list),
        Reply::Preview {
            status,
            mailing,
            digest,
        } => {
            let sub = &status.subscription;
            let mut out = format!(
                "Preview for channel {} ({}).\n",
                sub.channel_id,
                sub.describe()
            );
            match (&sub.disabled_reason, status.next_post) {
                (Some(why), _) => {
                    let _ = writeln!(out, "The subscription is disabled: {}.", one_line(why));
                }
                (None, Some(t)) => {
                    let _ = writeln!(
                        out,
                        "Next post: {}, with the mailing of {}, unless this channel already had \
                         it:",
                        local_time(t, sub),
                        mailing.format("%a %Y-%m-%d")
                    );
                }
                (None, None) => {}
            }
            out.push('\n');
            out.push_str(&text::render(digest));
            out
        }
        Reply::Ack { text, .. } => format!("{}\n", one_line(text)),
        Reply::Error { message, .. } => format!("error: {}\n", one_line(message)),
    }
}

/// `Sat 2021-07-03 08:00 CEST (06:00 UTC)`.
/// "Fri 2021-07-02 08:30 CEST (06:30 UTC)"; in UTC itself just "Fri 2021-07-02 08:30 UTC".
fn local_time(t: DateTime<Utc>, sub: &Subscription) -> String {
    let local = t
        .with_timezone(&sub.timezone)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string();
    let utc = t.format("%a %Y-%m-%d %H:%M UTC").to_string();
    if local == utc {
        local
    } else {
        format!("{local} ({} UTC)", t.format("%H:%M"))
    }
}

fn subscriptions(list: &[SubscriptionStatus]) -> String {
    if list.is_empty() {
        return "No channel of this server is subscribed; /subscribe adds one.\n".to_string();
    }
    let mut out = format!("{} subscribed channel(s):\n", list.len());
    for s in list {
        let sub = &s.subscription;
        let _ = write!(out, "  channel {}: {}", sub.channel_id, sub.describe());
        match (&sub.disabled_reason, s.next_post) {
            (Some(why), _) => {
                let _ = writeln!(out, "; DISABLED: {}", one_line(why));
            }
            (None, Some(t)) => {
                let _ = writeln!(out, "; next post {}", local_time(t, sub));
            }
            (None, None) => out.push('\n'),
        }
    }
    out
}

fn categories(
    rows: &[CategoryRow],
    date: Option<chrono::NaiveDate>,
    group: Option<crate::arxiv::taxonomy::Group>,
) -> String {
    let mut out = match date {
        Some(d) => format!(
            "arXiv categories with their papers in the mailing of {}:\n",
            d.format("%a %Y-%m-%d")
        ),
        None => "arXiv categories (no mailing recorded yet, so no counts; /hot fetches one):\n"
            .to_string(),
    };
    if rows.is_empty() {
        let g = group.map(|g| g.id()).unwrap_or("any group");
        if date.is_some() {
            let _ = writeln!(out, "  (no papers in {g} in this mailing)");
        } else {
            let _ = writeln!(out, "  (no active categories in {g})");
        }
    }
    let mut current = None;
    for r in rows {
        if current != Some(r.group) {
            current = Some(r.group);
            let _ = writeln!(out, "{} ({})", r.group.name(), r.group.id());
        }
        if date.is_some() {
            let _ = writeln!(out, "  {:<18} {:>5}  {}", r.id, r.papers, r.name);
        } else {
            let _ = writeln!(out, "  {:<18} {}", r.id, r.name);
        }
    }
    out
}

fn search(query: &str, hits: &[crate::arxiv::paper::Paper], total: usize) -> String {
    let query = one_line(query);
    if hits.is_empty() {
        return format!(
            "No stored paper matches \"{query}\". Search covers the papers fetched so far (by /hot or /paper).\n"
        );
    }
    let heading =
        crate::commands::reply::search_heading(hits.len(), total, &format!("\"{query}\""));
    let mut out = format!("{heading}:\n");
    for (i, p) in hits.iter().enumerate() {
        let _ = writeln!(out, "\n{:>3}. {}  {}", i + 1, p.id, one_line(&p.title));
        let mut authors: Vec<&str> = p.author_names().take(4).collect();
        if p.authors.len() > 4 {
            authors.push("et al.");
        }
        let _ = writeln!(
            out,
            "     {}  [{}]  {}",
            one_line(&authors.join(", ")),
            p.categories.join(", "),
            p.published.format("%Y-%m-%d")
        );
    }
    out
}

/// Wraps text at `width` columns with an indent.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

fn when(t: &DateTime<Utc>) -> String {
    text::utc(*t)
}

fn is_web_link(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The paper card as text (`/paper` in the console, `hotpapers paper`): metadata, the
/// summary and links the sources know, and attention by source.
pub fn paper_card(card: &PaperCard) -> String {
    let p = &card.paper;
    let mut out = String::new();
    let _ = writeln!(out, "{}v{}  {}", p.id, p.version, one_line(&p.title));
    let authors: Vec<String> = p
        .authors
        .iter()
        .map(|a| {
            if a.affiliations.is_empty() {
                one_line(&a.name)
            } else {
                format!(
                    "{} ({})",
                    one_line(&a.name),
                    one_line(&a.affiliations.join("; "))
                )
            }
        })
        .collect();
    let _ = writeln!(out, "Authors:    {}", authors.join(", "));
    let others: Vec<&str> = p
        .categories
        .iter()
        .map(String::as_str)
        .filter(|c| *c != p.primary_category)
        .collect();
    let cats = if others.is_empty() {
        format!("{} (primary)", p.primary_category)
    } else {
        format!("{} (primary), {}", p.primary_category, others.join(", "))
    };
    let _ = writeln!(out, "Categories: {cats}");
    let versions: Vec<String> = card.versions.iter().map(|v| format!("v{v}")).collect();
    let _ = writeln!(
        out,
        "Submitted:  {} (v1); this version {}; versions seen: {}",
        when(&p.published),
        when(&p.updated),
        if versions.is_empty() {
            format!("v{}", p.version)
        } else {
            versions.join(", ")
        }
    );
    if let Some(c) = &p.comment {
        let _ = writeln!(out, "Comment:    {}", one_line(c));
    }
    if let Some(j) = &p.journal_ref {
        let _ = writeln!(out, "Journal:    {}", one_line(j));
    }
    if let Some(d) = &p.doi {
        let _ = writeln!(out, "DOI:        https://doi.org/{}", one_line(d));
    }
    if let Some(summary) = &card.extras.summary {
        let _ = writeln!(
            out,
            "TL;DR:      {} ({})",
            one_line(&summary.text),
            summary.source.label()
        );
    }
    let _ = writeln!(
        out,
        "Links:      {}  {}  {}",
        p.abs_url(),
        p.pdf_url(),
        p.html_url()
    );
    for (label, url) in [
        ("Code:      ", &card.extras.code_url),
        ("Project:   ", &card.extras.project_url),
    ] {
        // Only web links: an upstream value like `javascript:…` is not shown.
        if let Some(u) = url.as_deref().filter(|u| is_web_link(u)) {
            let _ = writeln!(out, "{label} {}", one_line(u));
        }
    }
    if card.signals.is_empty() {
        let _ = writeln!(out, "Attention:  none measured yet");
    } else {
        let _ = writeln!(out, "Attention:  score {:.2}", card.score.total);
        let attention = crate::attention::by_source(&card.signals, &card.measured_at, &card.growth);
        for a in &attention {
            let _ = writeln!(out, "  {}", text::attention_line(a));
        }
    }
    for m in &card.mentions {
        let _ = writeln!(out, "  {}", text::shared_by(m));
    }
    for note in card.missing.iter().filter_map(SourceStatus::public_note) {
        let _ = writeln!(out, "  ({note}; the log says why)");
    }
    let _ = writeln!(out, "Abstract:");
    out.push_str(&wrap(&one_line(&p.abstract_text), 96, "  "));
    out
}

// ------------------------------------------------------------------------------ the loop

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width() {
        assert_eq!(wrap("aaa bbb ccc ddd", 7, "> "), "> aaa bbb\n> ccc ddd\n");
    }
}
