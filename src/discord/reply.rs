//! A [`Reply`] as a Discord message: content, embeds and buttons, within every limit.
//!
//! Rendering is pure: [`render`] takes the reply plus what the interaction layer knows beyond
//! it ([`RenderContext`]: the `/hot` query for the page buttons) and returns a [`DiscordReply`] that converts into whichever builder the response
//! needs (initial message, button update, edit of a deferred response, follow-up).
//!
//! Buttons carry their whole state in `custom_id` ([`ButtonId`]), versioned, so a press works
//! after a restart and on any shard; [`ButtonId::parse`] rejects garbage and old versions.
//! Upstream text goes through [`escape`]; every message disables all mentions.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serenity::builder::{
    CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    EditInteractionResponse,
};
use serenity::model::application::ButtonStyle;

use super::escape::{escape, truncate_chars};
use super::render::{DESCRIPTION_BUDGET, FOOTER_RESERVE, embed_parts_within, render_parts};
use super::{card, limits};
use crate::app::PaperCard;
#[cfg(test)]
use crate::app::PaperExtras;
use crate::app::charts::CHART_FILE_NAME;
use crate::arxiv::ArxivId;
use crate::arxiv::paper::Paper;
use crate::commands::Reply;
use crate::commands::Request;
use crate::commands::hot::{Hot, HotView};
use crate::commands::reply::{CategoryRow, SubscriptionStatus, page_count, page_range};
use crate::commands::request::{self, MAX_COUNT};
use crate::digest::Digest;

/// Prefix of `/hot` page buttons.
const HOT_PREFIX: &str = "hot";
/// Prefix of "Show abstract" buttons.
const ABS_PREFIX: &str = "abs";
/// The custom_id format version; bump it when the layout changes so old buttons are refused
/// with a clear message instead of being misread.
const VERSION: &str = "v1";
/// Discord's limit on a button's `custom_id`.
pub const CUSTOM_ID_MAX: usize = 100;
/// Discord's limit on a link button's URL.
const BUTTON_URL_MAX: usize = 512;
/// Character budgets of a paper card's parts. Together (title 256, description 1,602, seven
/// text fields of 300, 6 sources of 40 + 150, footer) they stay under the 6,000 characters
/// Discord allows for all embeds of a message, whatever upstream sends.
const CARD_AUTHORS_CHARS: usize = 600;
const CARD_SUMMARY_CHARS: usize = 1000;
const CARD_FIELD_CHARS: usize = 300;
const CARD_SOURCE_NAME_CHARS: usize = 40;
const CARD_SOURCE_CHARS: usize = 150;
/// Most attention sources listed on a card (each is one field).
const CARD_MAX_SOURCES: usize = 6;
/// Most posts listed under "Who is talking" on a card.
const CARD_MAX_POSTS: usize = 3;

/// Why a button's `custom_id` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ButtonIdError {
    /// Not a hotpapers button at all.
    #[error("unknown button")]
    Unknown,
    /// A hotpapers button from another format version.
    #[error("button from an older version of the bot")]
    OldVersion,
    /// The right prefix and version, but a field does not parse.
    #[error("malformed button: {0}")]
    Malformed(&'static str),
}

/// One page of a `/hot` answer, as a Prev/Next button remembers it:
/// `hot:v1:<m|t>:<category or ->:<count>:<yyyymmdd>:<page>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotPage {
    /// Mailing or trending.
    pub view: HotView,
    /// The canonical category filter; `None` for the bot's configured categories.
    pub category: Option<String>,
    /// How many papers the answer ranks (1..=25).
    pub count: u8,
    /// The mailing date the answer was resolved to (so "latest" stays the same mailing).
    pub date: NaiveDate,
    /// 0-based page.
    pub page: usize,
}

impl HotPage {
    /// The button's `custom_id` (at most 100 characters for every valid filter).
    pub fn custom_id(&self) -> String {
        let view = match self.view {
            HotView::Mailing => "m",
            HotView::Trending => "t",
        };
        format!(
            "{HOT_PREFIX}:{VERSION}:{view}:{}:{}:{}:{}",
            self.category.as_deref().unwrap_or("-"),
            self.count,
            self.date.format("%Y%m%d"),
            self.page
        )
    }

    /// The request that renders this page again.
    pub fn request(&self) -> Request {
        Request::Hot(Hot {
            category: self.category.clone(),
            count: Some(self.count),
            date: Some(self.date),
            view: self.view,
            page: self.page,
        })
    }
}

/// What a hotpapers button does, decoded from its `custom_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ButtonId {
    /// Show another page of a `/hot` answer.
    Hot(HotPage),
    /// Show a paper's abstract (`abs:v1:<id>`), only to the presser.
    Abstract(ArxivId),
}

impl ButtonId {
    /// The `custom_id` to put on the button.
    pub fn custom_id(&self) -> String {
        match self {
            ButtonId::Hot(p) => p.custom_id(),
            ButtonId::Abstract(id) => format!("{ABS_PREFIX}:{VERSION}:{id}"),
        }
    }

    /// Decodes a `custom_id`. Never panics; anything not produced by [`ButtonId::custom_id`]
    /// of this version is an error.
    pub fn parse(s: &str) -> Result<ButtonId, ButtonIdError> {
        if s.len() > CUSTOM_ID_MAX * 4 {
            return Err(ButtonIdError::Unknown);
        }
        let mut parts = s.split(':');
        let prefix = parts.next().unwrap_or_default();
        if prefix != HOT_PREFIX && prefix != ABS_PREFIX {
            return Err(ButtonIdError::Unknown);
        }
        if parts.next() != Some(VERSION) {
            return Err(ButtonIdError::OldVersion);
        }
        let rest: Vec<&str> = parts.collect();
        if prefix == ABS_PREFIX {
            let [id] = rest.as_slice() else {
                return Err(ButtonIdError::Malformed("abstract id"));
            };
            let id = ArxivId::parse(id).map_err(|_| ButtonIdError::Malformed("arXiv id"))?;
            return Ok(ButtonId::Abstract(id));
        }
        let [view, category, count, date, page] = rest.as_slice() else {
            return Err(ButtonIdError::Malformed("field count"));
        };
        let view = match *view {
            "m" => HotView::Mailing,
            "t" => HotView::Trending,
            _ => return Err(ButtonIdError::Malformed("view")),
        };
        let category = match *category {
            "-" => None,
            c => Some(
                request::parse_category(c)
                    .ok()
                    .filter(|canonical| canonical == c)
                    .ok_or(ButtonIdError::Malformed("category"))?,
            ),
        };
        let count = count
            .parse::<u8>()
            .ok()
            .filter(|c| (1..=MAX_COUNT).contains(c) && !count.starts_with('+'))
            .ok_or(ButtonIdError::Malformed("count"))?;
        let date = (date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(date, "%Y%m%d").ok())
            .flatten()
            .ok_or(ButtonIdError::Malformed("date"))?;
        let page = page
            .parse::<usize>()
            .ok()
            .filter(|p| *p < usize::from(MAX_COUNT) && !page.starts_with('+'))
            .ok_or(ButtonIdError::Malformed("page"))?;
        Ok(ButtonId::Hot(HotPage {
            view,
            category,
            count,
            date,
            page,
        }))
    }
}

/// The `/hot` query a [`Reply::Digest`] answers, so its page buttons can ask again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotQuery {
    /// Mailing or trending.
    pub view: HotView,
    /// The canonical category filter, if one was asked for.
    pub category: Option<String>,
    /// The requested count; `None` when the bot's default applied.
    pub count: Option<u8>,
}

impl HotQuery {
    /// The query of a `/hot` request; `None` for any other request.
    pub fn of(req: &Request) -> Option<HotQuery> {
        match req {
            Request::Hot(Hot {
                category,
                count,
                view,
                ..
            }) => Some(HotQuery {
                view: *view,
                category: category.clone(),
                count: *count,
            }),
            _ => None,
        }
    }
}

/// Everything besides the [`Reply`] that rendering needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderContext {
    /// The `/hot` query, for Prev/Next buttons; without it a digest has no buttons.
    pub hot: Option<HotQuery>,
}

/// A rendered reply, convertible into each response builder. Every conversion disables all
/// mentions and sets content, embeds and components explicitly, so an edit or button update
/// replaces the old message completely.
#[derive(Clone, Debug, Default)]
pub struct DiscordReply {
    /// Message text (at most 2,000 characters, never empty when there are no embeds).
    pub content: String,
    /// Embeds (at most 10, at most 6,000 characters together).
    pub embeds: Vec<CreateEmbed>,
    /// Button rows (at most 5 of at most 5 buttons).
    pub components: Vec<CreateActionRow>,
    /// Whether only the invoker should see it.
    pub ephemeral: bool,
    /// Files sent with it (the `/paper` card's attention chart), referred to by embeds as
    /// `attachment://NAME`.
    pub files: Vec<CreateAttachment>,
}

impl DiscordReply {
    /// A one-line ephemeral error (escaped: error messages echo user input).
    pub fn error(message: &str) -> DiscordReply {
        DiscordReply {
            content: truncate_chars(&format!("⚠️ {}", escape(message)), limits::CONTENT),
            ephemeral: true,
            ..DiscordReply::default()
        }
    }

    /// For an initial response (type 4) or a button update (type 7).
    pub fn into_response(self) -> CreateInteractionResponseMessage {
        CreateInteractionResponseMessage::new()
            .content(self.content)
            .embeds(self.embeds)
            .components(self.components)
            .allowed_mentions(CreateAllowedMentions::new())
            .ephemeral(self.ephemeral)
            .add_files(self.files)
    }

    /// For editing a deferred response (`PATCH .../messages/@original`); the deferral fixed
    /// whether it is ephemeral.
    pub fn into_edit(self) -> EditInteractionResponse {
        let mut edit = EditInteractionResponse::new()
            .content(self.content)
            .embeds(self.embeds)
            .components(self.components)
            .allowed_mentions(CreateAllowedMentions::new());
        for f in self.files {
            edit = edit.new_attachment(f);
        }
        edit
    }

    /// For a follow-up message.
    pub fn into_followup(self) -> CreateInteractionResponseFollowup {
        CreateInteractionResponseFollowup::new()
            .content(self.content)
            .embeds(self.embeds)
            .components(self.components)
            .allowed_mentions(CreateAllowedMentions::new())
            .ephemeral(self.ephemeral)
            .add_files(self.files)
    }
}

/// Renders every [`Reply`] variant within Discord's limits.
pub fn render(reply: &Reply, ctx: &RenderContext) -> DiscordReply {
    let ephemeral = reply.is_ephemeral();
    let mut out = match reply {
        Reply::Digest {
            digest,
            page,
            per_page,
        } => digest_page(digest, *page, *per_page, ctx.hot.as_ref()),
        Reply::Paper(card) => paper_card(card),
        Reply::Categories { rows, date, group } => categories(rows, *date, *group),
        Reply::Search { query, hits, total } => search(query, hits, *total),
        Reply::Subscribed { status, replaced } => {
            let sub = &status.subscription;
            let mut s = format!(
                "Subscribed <#{}>: {}.",
                sub.channel_id,
                escape(&sub.describe())
            );
            if let Some(t) = status.next_post {
                let _ = write!(s, "\nFirst post: {}.", when(t));
            }
            if *replaced {
                s.push_str("\nThis replaces the channel's earlier subscription.");
            }
            text(&s)
        }
        Reply::Unsubscribed(sub) => text(&format!(
            "Unsubscribed <#{}>; it was: {}.",
            sub.channel_id,
            escape(&sub.describe())
        )),
        Reply::Subscriptions(list) => subscriptions(list),
        Reply::Preview {
            status,
            mailing,
            digest,
        } => preview(status, *mailing, digest),
        Reply::Ack { text: t, .. } => text(&escape(t)),
        Reply::Error { message, .. } => DiscordReply::error(message),
    };
    out.ephemeral = ephemeral;
    if out.content.trim().is_empty() && out.embeds.is_empty() {
        out.content = "(nothing to show)".into();
    }
    out
}

/// The embed of the abstract behind a card's "Show abstract" button.
pub fn abstract_reply(paper: &Paper) -> DiscordReply {
    let title = truncate_chars(&escape(&paper.title), limits::TITLE);
    let body = if paper.abstract_text.trim().is_empty() {
        "arXiv lists no abstract for this paper.".to_string()
    } else {
        truncate_chars(&escape(&paper.abstract_text), limits::DESCRIPTION)
    };
    DiscordReply {
        content: String::new(),
        embeds: vec![
            CreateEmbed::new()
                .title(title)
                .url(paper.abs_url())
                .description(body)
                .footer(CreateEmbedFooter::new(format!(
                    "Abstract of arXiv:{}v{}",
                    paper.id, paper.version
                ))),
        ],
        components: Vec::new(),
        ephemeral: true,
        files: Vec::new(),
    }
}

fn text(s: &str) -> DiscordReply {
    DiscordReply {
        content: truncate_chars(s, limits::CONTENT),
        ..DiscordReply::default()
    }
}

/// A time as a Discord timestamp (shown in each reader's own zone) with UTC for reference.
fn when(t: DateTime<Utc>) -> String {
    format!(
        "<t:{}:F> ({} UTC)",
        t.timestamp(),
        t.format("%Y-%m-%d %H:%M")
    )
}

/// The embeds of one page, each within an equal share of the 6,000 total (less room for the
/// footer): a paper whose title leaves less room gets a shorter summary, never a cut link.
fn page_parts(entries: &[crate::digest::DigestEntry]) -> Vec<super::render::EmbedParts> {
    let share = (limits::EMBED_TOTAL - FOOTER_RESERVE) / entries.len().max(1);
    entries
        .iter()
        .map(|e| {
            let p = embed_parts_within(e, DESCRIPTION_BUDGET.min(share));
            let title = p.title.chars().count();
            if title + p.description.chars().count() > share {
                embed_parts_within(e, share.saturating_sub(title))
            } else {
                p
            }
        })
        .collect()
}

fn digest_page(
    digest: &Digest,
    page: usize,
    per_page: usize,
    hot: Option<&HotQuery>,
) -> DiscordReply {
    let total = digest.entries.len();
    let pages = page_count(total, per_page);
    let page = page.min(pages - 1);
    let content = render_parts(digest)
        .into_iter()
        .next()
        .map(|m| m.content)
        .unwrap_or_default();
    let parts = page_parts(
        digest
            .entries
            .get(page_range(total, per_page, page))
            .unwrap_or_default(),
    );
    let footer = format!(
        "hotpapers · arXiv mailing of {} · page {}/{pages}",
        digest.date.format("%Y-%m-%d"),
        page + 1
    );
    let n = parts.len();
    let embeds = parts
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            if i + 1 == n {
                p.footer = Some(footer.clone());
            }
            p.into_embed()
        })
        .collect();
    let components = match hot {
        Some(q) if pages > 1 => {
            let count = q.count.unwrap_or_else(|| {
                u8::try_from(total.clamp(1, usize::from(MAX_COUNT))).unwrap_or(MAX_COUNT)
            });
            let at = |p: usize| HotPage {
                view: q.view,
                category: q.category.clone(),
                count,
                date: digest.date,
                page: p,
            };
            let prev = CreateButton::new(at(page.saturating_sub(1)).custom_id())
                .label("◀ Prev")
                .style(ButtonStyle::Secondary)
                .disabled(page == 0);
            let next = CreateButton::new(at((page + 1).min(pages - 1)).custom_id())
                .label("Next ▶")
                .style(ButtonStyle::Primary)
                .disabled(page + 1 >= pages);
            vec![CreateActionRow::Buttons(vec![prev, next])]
        }
        _ => Vec::new(),
    };
    DiscordReply {
        content,
        embeds,
        components,
        ephemeral: false,
        files: Vec::new(),
    }
}

/// A link button, if the URL is an absolute http(s) URL Discord accepts.
fn link_button(label: &str, url: &str) -> Option<CreateButton> {
    let url = url.trim();
    let parsed = url::Url::parse(url).ok()?;
    let ok = matches!(parsed.scheme(), "https" | "http")
        && parsed.host_str().is_some()
        && url.chars().count() <= BUTTON_URL_MAX;
    ok.then(|| CreateButton::new_link(url).label(label))
}

fn field_value(s: &str) -> String {
    let v = truncate_chars(s, CARD_FIELD_CHARS);
    if v.trim().is_empty() { "—".into() } else { v }
}

fn paper_card(card: &PaperCard) -> DiscordReply {
    let extras = &card.extras;
    let p = &card.paper;
    let mut description = String::new();
    let authors: Vec<String> = p.author_names().map(escape).collect();
    if !authors.is_empty() {
        description.push_str(&truncate_chars(&authors.join(", "), CARD_AUTHORS_CHARS));
    }
    let summary = extras
        .summary
        .as_ref()
        .map(|s| s.text.as_str())
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| p.lead_sentence());
    if !summary.trim().is_empty() {
        description.push_str("\n\n");
        description.push_str(&truncate_chars(&escape(&summary), CARD_SUMMARY_CHARS));
    }
    let mut embed = CreateEmbed::new()
        .title(truncate_chars(&escape(&p.title), limits::TITLE))
        .url(p.abs_url())
        .description(truncate_chars(&description, limits::DESCRIPTION))
        .colour(card::group_colour(&p.primary_category));
    let others: Vec<String> = p
        .categories
        .iter()
        .filter(|c| **c != p.primary_category)
        .map(|c| escape(c))
        .collect();
    let mut cats = format!("**{}** (primary)", escape(&p.primary_category));
    if !others.is_empty() {
        let _ = write!(cats, ", {}", others.join(", "));
    }
    embed = embed.field("Categories", field_value(&cats), false);
    let versions: Vec<String> = if card.versions.is_empty() {
        vec![format!("v{}", p.version)]
    } else {
        card.versions.iter().map(|v| format!("v{v}")).collect()
    };
    embed = embed.field(
        "Dates and versions",
        field_value(&format!(
            "v1 submitted {}\nv{} (latest) {}\nversions: {}",
            card::date(p.published),
            p.version,
            card::date(p.updated),
            versions.join(", ")
        )),
        false,
    );
    for (name, value) in [
        ("Comment", &p.comment),
        ("Journal reference", &p.journal_ref),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            embed = embed.field(name, field_value(&escape(v)), false);
        }
    }
    if let Some(doi) = p.doi.as_deref().filter(|d| !d.trim().is_empty()) {
        embed = embed.field("DOI", field_value(&escape(doi)), true);
    }
    embed = embed.field(
        "Score",
        if card.signals.is_empty() {
            "no attention measured yet".to_string()
        } else {
            format!("{:.2}", card.score.total)
        },
        true,
    );
    let attention = crate::attention::by_source(&card.signals, &card.measured_at, &card.growth);
    for a in attention.iter().take(CARD_MAX_SOURCES) {
        embed = embed.field(
            truncate_chars(&escape(&a.label), CARD_SOURCE_NAME_CHARS),
            truncate_chars(&card::attention_field(a), CARD_SOURCE_CHARS),
            true,
        );
    }
    if !card.mentions.is_empty() {
        let posts: Vec<String> = card
            .mentions
            .iter()
            .take(CARD_MAX_POSTS)
            .map(card::shared_by)
            .collect();
        embed = embed.field("Who is talking", field_value(&posts.join("\n")), false);
    }
    let missing: Vec<String> = card
        .missing
        .iter()
        .filter_map(crate::digest::SourceStatus::public_note)
        .map(|n| escape(&n))
        .collect();
    if !missing.is_empty() {
        embed = embed.field("Not available now", field_value(&missing.join("\n")), false);
    }
    embed = embed.footer(CreateEmbedFooter::new(format!(
        "arXiv:{}v{} · hotpapers",
        p.id, p.version
    )));
    // The attention chart, when it renders (it only fails on a broken build: then the card
    // goes without it rather than not at all).
    let mut files = Vec::new();
    match card.chart_png() {
        Ok(png) => {
            files.push(CreateAttachment::bytes(png, CHART_FILE_NAME));
            embed = embed.image(format!("attachment://{CHART_FILE_NAME}"));
        }
        Err(e) => tracing::warn!(error = %e, paper = %p.id, "attention chart failed"),
    }
    let mut links: Vec<CreateButton> = [
        ("abs", Some(p.abs_url())),
        ("PDF", Some(p.pdf_url())),
        ("HTML", Some(p.html_url())),
        (
            "Hugging Face",
            extras
                .on_hugging_face
                .then(|| format!("https://huggingface.co/papers/{}", p.id)),
        ),
        ("Code", extras.code_url.clone()),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.and_then(|u| link_button(label, &u)))
    .collect();
    let mut second = vec![
        CreateButton::new(ButtonId::Abstract(p.id.clone()).custom_id())
            .label("Show abstract")
            .style(ButtonStyle::Secondary),
    ];
    if let Some(b) = extras
        .project_url
        .as_deref()
        .and_then(|u| link_button("Project page", u))
    {
        second.push(b);
    }
    links.truncate(5);
    DiscordReply {
        content: String::new(),
        embeds: vec![embed],
        components: vec![
            CreateActionRow::Buttons(links),
            CreateActionRow::Buttons(second),
        ],
        ephemeral: false,
        files,
    }
}

fn categories(
    rows: &[CategoryRow],
    date: Option<NaiveDate>,
    group: Option<crate::arxiv::taxonomy::Group>,
) -> DiscordReply {
    let mut content = match date {
        Some(d) => format!(
            "arXiv categories with their papers in the mailing of {}",
            d.format("%a %Y-%m-%d")
        ),
        None => "arXiv categories (no mailing recorded yet, so no counts; /hot fetches one)".into(),
    };
    if group.is_none() {
        content.push_str(". Pick a group for the full names, e.g. /categories group:cs");
    }
    if rows.is_empty() {
        let g = group.map_or("any group", |g| g.id());
        if date.is_some() {
            content.push_str(&format!("\n(no papers in {g} in this mailing)"));
        } else {
            content.push_str(&format!("\n(no active categories in {g})"));
        }
    }
    // Names only for one group: all ~150 with names would not fit one message.
    let with_names = group.is_some();
    let line = |r: &CategoryRow, names: bool| {
        let mut s = format!("`{}`", r.id);
        if date.is_some() {
            let _ = write!(s, " {}", r.papers);
        }
        if names {
            let _ = write!(s, " {}", escape(r.name));
        }
        s
    };
    let build = |names: bool| -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut current = None;
        for r in rows {
            let item = line(r, names);
            let sep = if names { "\n" } else { " · " };
            let start_new = current != Some(r.group)
                || fields.last().is_none_or(|(_, v)| {
                    v.chars().count() + sep.len() + item.chars().count() > limits::FIELD_VALUE
                });
            if start_new {
                let name = if current == Some(r.group) {
                    format!("{} ({}), continued", r.group.name(), r.group.id())
                } else {
                    format!("{} ({})", r.group.name(), r.group.id())
                };
                current = Some(r.group);
                fields.push((name, item));
            } else if let Some((_, v)) = fields.last_mut() {
                v.push_str(sep);
                v.push_str(&item);
            }
        }
        fields
    };
    let size = |fields: &[(String, String)]| -> usize {
        fields
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum()
    };
    let budget = limits::EMBED_TOTAL - FOOTER_RESERVE;
    let mut fields = build(with_names);
    if with_names && size(&fields) > budget {
        fields = build(false);
    }
    // Fields beyond the budget or the per-embed count go to further embeds; the total stays
    // under 6,000 by dropping what does not fit (never the case for arXiv's taxonomy).
    let mut embeds: Vec<CreateEmbed> = Vec::new();
    let mut current: Option<CreateEmbed> = None;
    let mut in_current = 0;
    let mut used = 0;
    for (name, value) in fields {
        let n = name.chars().count() + value.chars().count();
        if used + n > budget {
            break;
        }
        used += n;
        if in_current == limits::FIELDS
            && let Some(e) = current.take()
        {
            embeds.push(e);
            in_current = 0;
        }
        let e = current.take().unwrap_or_default();
        current = Some(e.field(name, value, false));
        in_current += 1;
    }
    if let Some(e) = current {
        embeds.push(e);
    }
    embeds.truncate(limits::EMBEDS);
    DiscordReply {
        content: truncate_chars(&content, limits::CONTENT),
        embeds,
        components: Vec::new(),
        ephemeral: false,
        files: Vec::new(),
    }
}

fn search(query: &str, hits: &[Paper], total: usize) -> DiscordReply {
    let q = truncate_chars(&escape(query), 100);
    if hits.is_empty() {
        return text(&format!(
            "No stored paper matches “{q}”. Search covers the papers fetched so far (by /hot or /paper)."
        ));
    }
    let share = (limits::DESCRIPTION - 100) / hits.len();
    let lines: Vec<String> = hits
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let names: Vec<&str> = p.author_names().collect();
            let authors = super::render::short_authors(&names);
            let title = truncate_chars(&escape(&p.title), 200);
            let line = format!(
                "**{}.** [{title}]({}) · `{}`\n{authors} · {} · {}",
                i + 1,
                p.abs_url(),
                p.id,
                escape(&p.categories.join(", ")),
                p.published.format("%Y-%m-%d")
            );
            // Never cut a line inside its link: shorten the authors instead.
            if line.chars().count() <= share {
                line
            } else {
                truncate_chars(
                    &format!("**{}.** [{title}]({}) · `{}`", i + 1, p.abs_url(), p.id),
                    share.max(1),
                )
            }
        })
        .collect();
    DiscordReply {
        content: String::new(),
        embeds: vec![
            CreateEmbed::new()
                .title(truncate_chars(
                    &crate::commands::reply::search_heading(hits.len(), total, &format!("“{q}”")),
                    limits::TITLE,
                ))
                .description(truncate_chars(&lines.join("\n"), limits::DESCRIPTION))
                .footer(CreateEmbedFooter::new(
                    "hotpapers · stored papers, best match first",
                )),
        ],
        components: Vec::new(),
        ephemeral: false,
        files: Vec::new(),
    }
}

fn subscriptions(list: &[SubscriptionStatus]) -> DiscordReply {
    if list.is_empty() {
        return text("No channel of this server is subscribed; /subscribe adds one.");
    }
    let mut s = format!("{} subscribed channel(s):", list.len());
    for st in list {
        let sub = &st.subscription;
        let _ = write!(s, "\n• <#{}>: {}", sub.channel_id, escape(&sub.describe()));
        match (&sub.disabled_reason, st.next_post) {
            (Some(why), _) => {
                let _ = write!(
                    s,
                    "; **disabled**: {} (/subscribe again to re-enable)",
                    truncate_chars(&escape(why), 200)
                );
            }
            (None, Some(t)) => {
                let _ = write!(s, "; next post {}", when(t));
            }
            (None, None) => {}
        }
    }
    text(&s)
}

fn preview(status: &SubscriptionStatus, mailing: NaiveDate, digest: &Digest) -> DiscordReply {
    let sub = &status.subscription;
    let parts = render_parts(digest);
    let mut intro = format!(
        "Preview of <#{}> ({}).",
        sub.channel_id,
        escape(&sub.describe())
    );
    match (&sub.disabled_reason, status.next_post) {
        (Some(why), _) => {
            let _ = write!(
                intro,
                " The subscription is disabled: {}.",
                truncate_chars(&escape(why), 200)
            );
        }
        (None, Some(t)) => {
            let _ = write!(
                intro,
                " Next post {}, with the mailing of {}, unless the channel already had it.",
                when(t),
                mailing.format("%a %Y-%m-%d")
            );
        }
        (None, None) => {}
    }
    let _ = write!(
        intro,
        " It will be {} message(s); the first one:\n\n",
        parts.len()
    );
    let (content, embeds) = match parts.into_iter().next() {
        Some(first) => {
            let room = limits::CONTENT.saturating_sub(first.content.chars().count());
            let intro = truncate_chars(&intro, room.max(1));
            let embeds = first
                .embeds
                .into_iter()
                .map(|p| {
                    let e = CreateEmbed::new()
                        .title(p.title)
                        .url(p.url)
                        .description(p.description);
                    match p.footer {
                        Some(f) => e.footer(CreateEmbedFooter::new(f)),
                        None => e,
                    }
                })
                .collect();
            (format!("{intro}{}", first.content), embeds)
        }
        None => (intro, Vec::new()),
    };
    DiscordReply {
        content: truncate_chars(&content, limits::CONTENT),
        embeds,
        components: Vec::new(),
        ephemeral: true,
        files: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn hot_custom_id_round_trips_and_is_short() {
        let p = HotPage {
            view: HotView::Mailing,
            category: Some("cond-mat.stat-mech".into()),
            count: 25,
            date: d(2021, 7, 2),
            page: 4,
        };
        let id = p.custom_id();
        assert_eq!(id, "hot:v1:m:cond-mat.stat-mech:25:20210702:4");
        assert!(id.len() <= CUSTOM_ID_MAX);
        assert_eq!(ButtonId::parse(&id), Ok(ButtonId::Hot(p.clone())));
        let none = HotPage {
            category: None,
            view: HotView::Trending,
            ..p
        };
        assert_eq!(none.custom_id(), "hot:v1:t:-:25:20210702:4");
        assert_eq!(ButtonId::parse(&none.custom_id()), Ok(ButtonId::Hot(none)));
    }

    #[test]
    fn abstract_custom_id_round_trips() {
        for raw in ["2107.00630", "hep-th/9901001"] {
            let b = ButtonId::Abstract(ArxivId::parse(raw).unwrap());
            assert_eq!(b.custom_id(), format!("abs:v1:{raw}"));
            assert_eq!(ButtonId::parse(&b.custom_id()), Ok(b));
        }
    }

    #[test]
    fn garbage_and_old_versions_are_rejected() {
        use ButtonIdError::*;
        for (s, want) in [
            ("", Unknown),
            ("next", Unknown),
            ("hotx:v1:m:-:5:20210702:1", Unknown),
            ("hot:v0:m:-:5:20210702:1", OldVersion),
            ("hot", OldVersion),
            ("abs:v2:2107.00630", OldVersion),
            ("hot:v1:x:-:5:20210702:1", Malformed("view")),
            ("hot:v1:m:cs.XX:5:20210702:1", Malformed("category")),
            ("hot:v1:m:cs.lg:5:20210702:1", Malformed("category")),
            ("hot:v1:m:-:0:20210702:1", Malformed("count")),
            ("hot:v1:m:-:26:20210702:1", Malformed("count")),
            ("hot:v1:m:-:+5:20210702:1", Malformed("count")),
            ("hot:v1:m:-:5:20210230:1", Malformed("date")),
            ("hot:v1:m:-:5:2021-07-02:1", Malformed("date")),
            ("hot:v1:m:-:5:20210702:-1", Malformed("page")),
            ("hot:v1:m:-:5:20210702:99", Malformed("page")),
            ("hot:v1:m:-:5:20210702", Malformed("field count")),
            ("hot:v1:m:-:5:20210702:1:extra", Malformed("field count")),
            ("abs:v1:not-an-id", Malformed("arXiv id")),
            ("abs:v1:", Malformed("arXiv id")),
        ] {
            assert_eq!(ButtonId::parse(s), Err(want), "{s}");
        }
    }

    proptest! {
        #[test]
        fn any_valid_page_round_trips_within_100_chars(
            view in prop::bool::ANY,
            cat in prop::sample::select(vec!["-", "cs.LG", "math.*", "physics", "cond-mat.stat-mech", "astro-ph", "q-bio", "eess.SY"]),
            count in 1u8..=25,
            days in 0i64..40_000,
            page in 0usize..25,
        ) {
            let p = HotPage {
                view: if view { HotView::Mailing } else { HotView::Trending },
                category: (cat != "-").then(|| request::parse_category(cat).unwrap()),
                count,
                date: d(1991, 8, 14) + chrono::Duration::days(days),
                page,
            };
            let id = p.custom_id();
            prop_assert!(id.chars().count() <= CUSTOM_ID_MAX, "{}", id);
            prop_assert_eq!(ButtonId::parse(&id), Ok(ButtonId::Hot(p)));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,120}|(hot|abs):v1:[a-z0-9.*:+-]{0,60}") {
            let _ = ButtonId::parse(&s);
        }
    }

    #[test]
    fn errors_are_escaped_ephemeral_and_ping_nobody() {
        let r = DiscordReply::error("'@everyone **x**' is not a date");
        let v = serde_json::to_value(r.into_response()).unwrap();
        assert_eq!(v["flags"], 64);
        assert_eq!(v["allowed_mentions"]["parse"], serde_json::json!([]));
        let c = v["content"].as_str().unwrap();
        assert!(!c.contains("@everyone") && c.contains(r"\*\*x\*\*"), "{c}");
    }

    #[test]
    fn link_buttons_need_http_urls() {
        assert!(link_button("Code", "https://github.com/a/b").is_some());
        for bad in ["", "javascript:alert(1)", "github.com/a/b", "ftp://x/y"] {
            assert!(link_button("Code", bad).is_none(), "{bad}");
        }
        let long = format!("https://x.org/{}", "a".repeat(600));
        assert!(link_button("Code", &long).is_none());
    }

    fn hostile_paper(n: usize) -> Paper {
        let t = Utc.with_ymd_and_hms(2021, 7, 1, 17, 0, 0).unwrap();
        let evil = "*_`~|>#-[]()\\ @everyone <@123> \u{202E}discord.gg/x ";
        Paper {
            id: ArxivId::parse(&format!("2107.{n:05}")).unwrap(),
            version: 3,
            title: format!("{}{}", evil, "Ω".repeat(2000)),
            abstract_text: evil.repeat(400),
            authors: (0..500)
                .map(|i| crate::arxiv::paper::Author {
                    name: format!("Author {i} {evil}"),
                    affiliations: vec![],
                })
                .collect(),
            primary_category: "cs.LG".into(),
            categories: vec!["cs.LG".into(), evil.into()],
            published: t,
            updated: t,
            comment: Some(evil.repeat(100)),
            journal_ref: Some(evil.repeat(100)),
            doi: Some(evil.repeat(100)),
            links: vec![],
        }
    }

    fn assert_valid(r: DiscordReply) {
        let v = serde_json::to_value(r.into_response()).unwrap();
        assert_eq!(limits::violations(&v), vec![], "{v}");
        let s = v.to_string();
        assert!(!s.contains("@everyone") && !s.contains("<@1") && !s.contains('\u{202E}'));
    }

    #[test]
    fn hostile_upstream_text_stays_within_every_limit() {
        use crate::digest::{DigestEntry, View};
        let entries: Vec<DigestEntry> = (1..=25)
            .map(|r| DigestEntry {
                rank: r,
                paper: hostile_paper(r),
                announce_type: crate::arxiv::paper::AnnounceType::New,
                score: Default::default(),
                signals: [("x.retweets".to_string(), 1e300), ("hn.points".into(), 3.0)]
                    .into_iter()
                    .collect(),
                measured_at: Default::default(),
                summary: Some(crate::summary::Summary {
                    text: "@here *".repeat(500),
                    source: crate::summary::SummarySource::HuggingFace,
                }),
                age_hours: None,
                mentions: Vec::new(),
                growth: Default::default(),
            })
            .collect();
        let digest = Digest {
            date: d(2021, 7, 2),
            view: View::Mailing,
            generated_at: Utc.with_ymd_and_hms(2021, 7, 3, 8, 0, 0).unwrap(),
            categories: vec!["@everyone".into()],
            candidates: 500,
            entries,
            sources: vec![],
            embed_posts: 3,
            topics: Default::default(),
        };
        let hot = RenderContext {
            hot: Some(HotQuery {
                view: HotView::Trending,
                category: Some("cond-mat.stat-mech".into()),
                count: None,
            }),
        };
        for page in 0..6 {
            let reply = Reply::Digest {
                digest: Box::new(digest.clone()),
                page,
                per_page: crate::commands::reply::HOT_PAGE_SIZE,
            };
            assert_valid(render(&reply, &hot));
        }
        let hits: Vec<Paper> = (1..=25).map(hostile_paper).collect();
        assert_valid(render(
            &Reply::Search {
                query: "@everyone ".repeat(40),
                hits,
                total: 3,
            },
            &RenderContext::default(),
        ));
        let card = PaperCard {
            paper: hostile_paper(1),
            versions: (1..=40).collect(),
            signals: (0..40)
                .map(|i| (format!("src{i}{}.m@everyone", "x".repeat(300)), 1.0))
                .collect(),
            measured_at: Default::default(),
            score: Default::default(),
            fetched: false,
            missing: vec![crate::digest::SourceStatus {
                name: "x".into(),
                missing: Some("@everyone".repeat(300)),
            }],
            extras: PaperExtras {
                summary: Some(crate::summary::Summary {
                    text: "@here".repeat(1000),
                    source: crate::summary::SummarySource::HuggingFace,
                }),
                code_url: Some("https://github.com/a/b".into()),
                project_url: Some("javascript:alert(1)".into()),
                on_hugging_face: true,
            },
            mentions: (0..10)
                .map(|i| crate::store::Mention {
                    paper: hostile_paper(1).id,
                    source: "x".into(),
                    post_id: i.to_string(),
                    author_handle: Some(format!("{}@everyone", "h".repeat(400))),
                    author_name: Some("@here".repeat(100)),
                    text: "@everyone".repeat(100),
                    url: format!("https://x.test/{}", "a".repeat(600)),
                    posted_at: chrono::DateTime::UNIX_EPOCH,
                    counts: Default::default(),
                    observed_at: chrono::DateTime::UNIX_EPOCH,
                })
                .collect(),
            growth: (0..40)
                .map(|i| {
                    (
                        format!("src{i}{}", "x".repeat(300)),
                        crate::attention::Growth {
                            delta: 1e300,
                            since: chrono::DateTime::UNIX_EPOCH,
                            until: chrono::DateTime::UNIX_EPOCH,
                        },
                    )
                })
                .collect(),
            timelines: (0..40)
                .map(|i| crate::attention::Timeline {
                    source: format!("src{i}"),
                    points: vec![(chrono::DateTime::UNIX_EPOCH, f64::NAN)],
                })
                .collect(),
        };
        let rendered = render(&Reply::Paper(Box::new(card)), &RenderContext::default());
        assert_eq!(rendered.files.len(), 1, "the chart is attached");
        assert_eq!(rendered.components.len(), 2);
        assert_valid(rendered);
        assert_valid(abstract_reply(&hostile_paper(2)));
        assert_valid(DiscordReply::error(&"@everyone ".repeat(500)));
    }
}
