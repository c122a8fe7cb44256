//! The posts embedded under a paper in the Markdown export, as the seed post embeds tweets.
//!
//! - X: `<blockquote class="twitter-tweet">` with the text, `&mdash; Name (@handle)` and the
//!   status link dated like the seed ("July 2, 2021"), then X's widgets script;
//! - Bluesky: `<blockquote class="bluesky-embed" data-bluesky-uri="at://…">` in the shape of
//!   Bluesky's own embed code, then its embed script;
//! - Hacker News: a link line with the story's points and comments.
//!
//! Everything that came from upstream is escaped: text, names and handles are HTML-escaped
//! (so a post can never inject markup), line breaks become `<br>` (a blank line would end the
//! HTML block in Markdown), control, bidirectional-override and other invisible characters are
//! dropped ([`crate::sanitize`], as everywhere else), and URLs are the ones the sources built
//! from validated ids.

use std::fmt::Write as _;

use crate::store::Mention;

/// X's embed script, as the seed has it after every tweet.
pub const TWITTER_SCRIPT: &str =
    r#"<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>"#;

/// Bluesky's embed script, as its "Embed post" code has it.
pub const BLUESKY_SCRIPT: &str =
    r#"<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>"#;

/// The embed of one mention, as lines without their line endings; `None` for a source that
/// has no embed form.
pub fn embed(m: &Mention) -> Option<Vec<String>> {
    match m.source.as_str() {
        "x" => Some(vec![tweet(m), TWITTER_SCRIPT.to_string()]),
        "bluesky" => Some(vec![bluesky(m), BLUESKY_SCRIPT.to_string()]),
        "hn" => Some(vec![hacker_news(m)]),
        _ => None,
    }
}

/// `<blockquote class="twitter-tweet">…</blockquote>`, the seed's line.
fn tweet(m: &Mention) -> String {
    let mut out = String::from(r#"<blockquote class="twitter-tweet"><p lang="en" dir="ltr">"#);
    out.push_str(&html_text(&m.text));
    out.push_str("</p>&mdash; ");
    out.push_str(&byline(m));
    let _ = write!(
        out,
        r#" <a href="{}?ref_src=twsrc%5Etfw">{}</a></blockquote>"#,
        html_attr(&m.url),
        m.posted_at.format("%B %-d, %Y")
    );
    out
}

/// Bluesky's embed blockquote: the post's AT-URI, its text, the author and a dated link.
fn bluesky(m: &Mention) -> String {
    let mut out = format!(
        r#"<blockquote class="bluesky-embed" data-bluesky-uri="{}"><p lang="en">"#,
        html_attr(&m.post_id)
    );
    out.push_str(&html_text(&m.text));
    out.push_str("</p>&mdash; ");
    out.push_str(&byline(m));
    let _ = write!(
        out,
        r#" <a href="{}?ref_src=embed">{}</a></blockquote>"#,
        html_attr(&m.url),
        m.posted_at.format("%B %-d, %Y at %H:%M UTC")
    );
    out
}

/// `- Hacker News: [title](item link) by user, 340 points, 120 comments`.
fn hacker_news(m: &Mention) -> String {
    let title = if m.text.trim().is_empty() {
        "a story".to_string()
    } else {
        super::markdown::escape(&m.text)
    };
    let mut out = format!("- Hacker News: [{title}]({})", m.url);
    if let Some(user) = &m.author_handle {
        let _ = write!(out, " by {}", super::markdown::escape(user));
    }
    let _ = write!(
        out,
        ", {} points, {} comments",
        m.counts.points, m.counts.replies
    );
    out
}

/// `Name (@handle)`, or whichever of the two is known.
fn byline(m: &Mention) -> String {
    let name = m
        .author_name
        .as_deref()
        .map(|n| html_text(n).replace("<br>", " "));
    let handle = m.author_handle.as_deref().map(html_text);
    match (name, handle) {
        (Some(n), Some(h)) => format!("{n} (@{h})"),
        (Some(n), None) => n,
        (None, Some(h)) => format!("@{h}"),
        (None, None) => "someone".to_string(),
    }
}

/// Text for HTML element content: hidden characters dropped ([`crate::sanitize::clean`]),
/// `& < > " '` escaped, line breaks as `<br>`.
fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::sanitize::clean(s).trim().chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// A value for a double-quoted HTML attribute.
fn html_attr(s: &str) -> String {
    html_text(s).replace("<br>", "")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::arxiv::ArxivId;
    use crate::store::MentionCounts;

    fn mention(source: &str, text: &str) -> Mention {
        Mention {
            paper: ArxivId::parse("2107.00641").unwrap(),
            source: source.into(),
            post_id: "1410764142680608768".into(),
            author_handle: Some("ak92501".into()),
            author_name: Some("AK".into()),
            text: text.into(),
            url: "https://twitter.com/ak92501/status/1410764142680608768".into(),
            posted_at: Utc.with_ymd_and_hms(2021, 7, 2, 3, 0, 0).unwrap(),
            counts: MentionCounts {
                reposts: 10,
                likes: 20,
                points: 340,
                replies: 120,
                ..MentionCounts::default()
            },
            observed_at: Utc.with_ymd_and_hms(2021, 7, 3, 7, 45, 53).unwrap(),
        }
    }

    #[test]
    fn a_tweet_embeds_like_the_seed() {
        let lines = embed(&mention("x", "[text of the post, with its links]")).unwrap();
        assert_eq!(
            lines,
            [
                r#"<blockquote class="twitter-tweet"><p lang="en" dir="ltr">[text of the post, with its links]</p>&mdash; AK (@ak92501) <a href="https://twitter.com/ak92501/status/1410764142680608768?ref_src=twsrc%5Etfw">July 2, 2021</a></blockquote>"#,
                r#"<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>"#,
            ]
        );
    }

    #[test]
    fn hostile_text_cannot_inject_markup_or_break_the_block() {
        let mut m = mention(
            "x",
            "</p></blockquote><script>alert('x')</script>\n\nnew block & \u{1b}[31mred\u{7}\u{9b}\u{202e}evil",
        );
        m.author_name = Some("<img src=x onerror=alert(1)>\n\"Bob\"".into());
        let line = &embed(&m).unwrap()[0];
        assert!(
            !line.contains("<script>") && !line.contains("<img"),
            "{line}"
        );
        assert!(
            line.contains("&lt;/p&gt;&lt;/blockquote&gt;&lt;script&gt;"),
            "{line}"
        );
        assert!(line.contains("<br><br>new block &amp; [31mred"), "{line}");
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
        assert!(
            line.contains("&lt;img src=x onerror=alert(1)&gt; &quot;Bob&quot;"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn bluesky_and_hacker_news_have_their_own_forms() {
        let mut b = mention("bluesky", "Great paper");
        b.post_id = "at://did:plc:abc/app.bsky.feed.post/3k2".into();
        b.author_handle = Some("alice.bsky.social".into());
        b.author_name = None;
        b.url = "https://bsky.app/profile/alice.bsky.social/post/3k2".into();
        let lines = embed(&b).unwrap();
        assert_eq!(
            lines[0],
            r#"<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:abc/app.bsky.feed.post/3k2"><p lang="en">Great paper</p>&mdash; @alice.bsky.social <a href="https://bsky.app/profile/alice.bsky.social/post/3k2?ref_src=embed">July 2, 2021 at 03:00 UTC</a></blockquote>"#
        );
        assert_eq!(lines[1], BLUESKY_SCRIPT);

        let mut h = mention("hn", "Focal *Transformers* [x](javascript:alert(1))");
        h.url = "https://news.ycombinator.com/item?id=27712345".into();
        h.author_handle = Some("pg".into());
        let lines = embed(&h).unwrap();
        assert_eq!(
            lines,
            [
                r"- Hacker News: [Focal \*Transformers\* \[x\](javascript:alert(1))](https://news.ycombinator.com/item?id=27712345) by pg, 340 points, 120 comments"
            ]
        );
        assert_eq!(embed(&mention("hf", "x")), None);
    }
}
