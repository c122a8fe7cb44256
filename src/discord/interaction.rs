//! Answering Discord interactions: slash commands, their autocomplete, and button presses.
//!
//! [`Interactions::dispatch`] turns a command's options into a validated [`Request`] with the
//! same constructors (and messages) as the console, runs [`crate::commands::handle`] in its own
//! task, and answers within Discord's 3-second limit: directly when the handler is quick, or
//! with a deferred response that is edited once the answer is ready. Errors always reach only
//! the invoker (ephemeral). Buttons carry their state in their `custom_id`
//! ([`super::reply::ButtonId`]), so a press works after a restart.
//!
//! Failures to reach Discord are logged with the interaction id and a message built here,
//! never with serenity's error text (it can contain the URL, which holds the interaction
//! token).

use std::sync::Arc;
use std::time::Duration;

use serenity::builder::{
    AutocompleteChoice, CreateAllowedMentions, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage,
};
use serenity::http::Http;
use serenity::model::application::{
    CommandData, CommandDataOption, CommandDataOptionValue, CommandInteraction,
    ComponentInteraction, Interaction,
};
use serenity::model::guild::Member;
use serenity::model::id::{GuildId, InteractionId};
use serenity::model::permissions::Permissions;
use serenity::model::user::User;
use tokio::sync::Notify;
use tracing::{debug, warn};

use super::escape::truncate_chars;
use super::limits::CHOICE_TEXT;
use super::reply::{self, ButtonId, DiscordReply, HotQuery, PaperExtras, RenderContext};
use crate::app::App;
use crate::arxiv::taxonomy::{self, CategoryFilter, Group};
use crate::commands::request::{self, SubscribeArgs};
use crate::commands::{Invoker, Reply, Request, handle};
use crate::sources::{hf, semantic_scholar};

/// How long a command may run before the bot defers, by default: Discord invalidates the
/// interaction after 3 s without a response, and the defer itself needs a round trip.
pub const DEFAULT_DEFER_AFTER: Duration = Duration::from_secs(2);

/// Discord's maximum autocomplete choices.
const MAX_CHOICES: usize = 25;

/// Shown for a button this version cannot read.
const OLD_BUTTON: &str =
    "this button is from an older version of the bot or no longer works; run /hot again";

/// What the user sees when the handler task itself failed (it already catches panics).
const INTERNAL: &str = "something went wrong on the bot's side; the details are in its log";

/// Time zones most users want, offered first by the timezone autocomplete.
const COMMON_ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Moscow",
    "Asia/Jerusalem",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// The interaction front end: the app, the scheduler's waker and the defer deadline.
pub struct Interactions {
    app: Arc<App>,
    waker: Arc<Notify>,
    defer_after: Duration,
}

/// Which interaction a response goes to, and how a slow answer is deferred.
#[derive(Clone, Copy)]
enum Origin {
    /// A slash command: answer with a new message (type 4) or defer with type 5.
    Command,
    /// A button: update its message (type 7) or defer the update with type 6.
    Button,
}

/// Just what answering needs from an interaction (they are `#[non_exhaustive]`).
struct Target<'a> {
    id: InteractionId,
    token: &'a str,
}

impl Interactions {
    /// `scheduler_waker` is notified after a successful /subscribe or /unsubscribe.
    pub fn new(app: Arc<App>, scheduler_waker: Arc<Notify>) -> Interactions {
        Interactions {
            app,
            waker: scheduler_waker,
            defer_after: DEFAULT_DEFER_AFTER,
        }
    }

    /// How long a command may run before the bot defers (default 2 s; Discord's limit is 3 s).
    /// Duration::ZERO means "always defer first" (tests use it to be deterministic).
    pub fn defer_after(self, d: Duration) -> Interactions {
        Interactions {
            defer_after: d,
            ..self
        }
    }

    /// Answers one interaction completely (command, autocomplete, button); never panics, logs failures.
    pub async fn dispatch(&self, http: &Http, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) => self.on_command(http, &cmd).await,
            Interaction::Autocomplete(cmd) => self.on_autocomplete(http, &cmd).await,
            Interaction::Component(c) => self.on_component(http, &c).await,
            other => {
                debug!(kind = ?other.kind(), "ignoring an interaction type the bot does not use")
            }
        }
    }

    async fn on_command(&self, http: &Http, cmd: &CommandInteraction) {
        let target = Target {
            id: cmd.id,
            token: &cmd.token,
        };
        let who = invoker(&cmd.user, cmd.member.as_deref(), cmd.guild_id);
        match request_from_command(&cmd.data) {
            Ok(req) => self.run(http, &target, Origin::Command, req, who).await,
            Err(message) => {
                let msg = DiscordReply::error(&message).into_response();
                respond(http, &target, &CreateInteractionResponse::Message(msg)).await;
            }
        }
    }

    async fn on_component(&self, http: &Http, c: &ComponentInteraction) {
        let target = Target {
            id: c.id,
            token: &c.token,
        };
        let who = invoker(&c.user, c.member.as_ref(), c.guild_id);
        match ButtonId::parse(&c.data.custom_id) {
            Ok(ButtonId::Hot(page)) => {
                self.run(http, &target, Origin::Button, page.request(), who)
                    .await;
            }
            Ok(ButtonId::Abstract(id)) => {
                let reply = match self.app.store().paper(&id).await {
                    Ok(Some(paper)) => reply::abstract_reply(&paper),
                    Ok(None) => DiscordReply::error(&format!(
                        "{} is no longer stored; run /paper {} again",
                        id.versionless(),
                        id.versionless()
                    )),
                    Err(e) => {
                        warn!(interaction = %c.id, error = %e, "abstract lookup failed");
                        DiscordReply::error(INTERNAL)
                    }
                };
                let msg = reply.into_response();
                respond(http, &target, &CreateInteractionResponse::Message(msg)).await;
            }
            Err(e) => {
                debug!(interaction = %c.id, error = %e, "unusable button");
                let msg = DiscordReply::error(OLD_BUTTON).into_response();
                respond(http, &target, &CreateInteractionResponse::Message(msg)).await;
            }
        }
    }

    async fn on_autocomplete(&self, http: &Http, cmd: &CommandInteraction) {
        let choices = match cmd.data.autocomplete() {
            Some(focused) => match focused.name {
                "category" => category_choices(focused.value),
                "categories" => categories_choices(focused.value),
                "timezone" => timezone_choices(focused.value, self.app.clock().now()),
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let choices = choices
            .into_iter()
            .map(|(name, value)| AutocompleteChoice::new(name, value))
            .collect();
        let response = CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        );
        let target = Target {
            id: cmd.id,
            token: &cmd.token,
        };
        respond(http, &target, &response).await;
    }

    /// Runs the request in its own task and answers: directly if it finishes within
    /// `defer_after`, else deferred and then edited.
    async fn run(
        &self,
        http: &Http,
        target: &Target<'_>,
        origin: Origin,
        req: Request,
        who: Invoker,
    ) {
        let hot = HotQuery::of(&req);
        let admin = req.is_admin();
        let app = Arc::clone(&self.app);
        let mut task = tokio::spawn(async move { handle(&app, req, &who).await });
        let early = if self.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(self.defer_after, &mut task).await.ok()
        };
        let (joined, deferred_ephemeral) = match early {
            Some(joined) => (joined, None),
            None => {
                let defer = match origin {
                    Origin::Command => CreateInteractionResponse::Defer(
                        CreateInteractionResponseMessage::new()
                            .ephemeral(admin)
                            .allowed_mentions(CreateAllowedMentions::new()),
                    ),
                    Origin::Button => CreateInteractionResponse::Acknowledge,
                };
                if !respond(http, target, &defer).await {
                    // The token is likely dead; finishing the command (it may store a
                    // subscription) is still right, but there is no one to answer.
                    let reply = reply_of(task.await);
                    self.after(&reply);
                    return;
                }
                // A button's deferred update keeps its message public.
                let ephemeral = matches!(origin, Origin::Command) && admin;
                (task.await, Some(ephemeral))
            }
        };
        let reply = reply_of(joined);
        self.after(&reply);
        let rendered = reply::render(&reply, &self.context(hot, &reply).await);
        let private = rendered.ephemeral;
        match deferred_ephemeral {
            None => {
                let response = match origin {
                    Origin::Button if !private => {
                        CreateInteractionResponse::UpdateMessage(rendered.into_response())
                    }
                    _ => CreateInteractionResponse::Message(rendered.into_response()),
                };
                respond(http, target, &response).await;
            }
            Some(deferred_private) if private && !deferred_private => {
                // The deferral is public but the answer (an error) must stay private: drop
                // the "thinking…" message (commands only; a button's message stays) and
                // send the answer as an ephemeral follow-up.
                if matches!(origin, Origin::Command)
                    && let Err(e) = http
                        .delete_original_interaction_response(target.token)
                        .await
                {
                    log_failure(target, "deleting the deferred response", &e);
                }
                if let Err(e) = http
                    .create_followup_message(target.token, &rendered.into_followup(), vec![])
                    .await
                {
                    log_failure(target, "sending the follow-up", &e);
                }
            }
            Some(_) => {
                if let Err(e) = http
                    .edit_original_interaction_response(target.token, &rendered.into_edit(), vec![])
                    .await
                {
                    log_failure(target, "editing the deferred response", &e);
                }
            }
        }
    }

    /// Effects of a finished command outside the reply: wake the scheduler after a change of
    /// subscriptions.
    fn after(&self, reply: &Reply) {
        if matches!(reply, Reply::Subscribed { .. } | Reply::Unsubscribed(_)) {
            self.waker.notify_one();
        }
    }

    /// What rendering needs beyond the reply: the `/hot` query, a paper's links and summary.
    async fn context(&self, hot: Option<HotQuery>, reply: &Reply) -> RenderContext {
        let mut ctx = RenderContext {
            hot,
            paper: PaperExtras::default(),
        };
        if let Reply::Paper(card) = reply {
            let extras = match self.app.store().extras(&card.paper.id).await {
                Ok(x) => x,
                Err(e) => {
                    warn!(paper = %card.paper.id, error = %e, "reading paper extras failed");
                    Vec::new()
                }
            };
            let value = |source: &str, key: &str| {
                extras
                    .iter()
                    .find(|x| x.source == source && x.key == key && !x.value.trim().is_empty())
                    .map(|x| x.value.clone())
            };
            ctx.paper = PaperExtras {
                summary: value(hf::NAME, hf::EXTRA_AI_SUMMARY)
                    .or_else(|| value(semantic_scholar::NAME, semantic_scholar::EXTRA_TLDR)),
                code_url: value(hf::NAME, hf::EXTRA_GITHUB_REPO),
                project_url: value(hf::NAME, hf::EXTRA_PROJECT_PAGE),
                on_hugging_face: extras.iter().any(|x| x.source == hf::NAME)
                    || card
                        .signals
                        .keys()
                        .any(|k| k.starts_with(&format!("{}.", hf::NAME))),
            };
        }
        ctx
    }
}

/// The handler task's reply; a task that died (it catches panics itself, so only on runtime
/// shutdown) becomes an error reply.
fn reply_of(joined: Result<Reply, tokio::task::JoinError>) -> Reply {
    joined.unwrap_or_else(|e| {
        warn!(error = %e, "command task failed");
        Reply::error(INTERNAL)
    })
}

/// Sends an interaction callback; returns whether Discord accepted it.
async fn respond(http: &Http, target: &Target<'_>, response: &CreateInteractionResponse) -> bool {
    match http
        .create_interaction_response(target.id, target.token, response, vec![])
        .await
    {
        Ok(()) => true,
        Err(e) => {
            log_failure(target, "answering the interaction", &e);
            false
        }
    }
}

/// Logs a failed Discord call without serenity's error text (which can hold the token).
fn log_failure(target: &Target<'_>, what: &str, e: &serenity::Error) {
    warn!(interaction = %target.id, error = %describe(e), "{what} failed");
}

/// A token-free description of a serenity error.
pub fn describe(e: &serenity::Error) -> String {
    use serenity::http::HttpError;
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => format!(
            "Discord answered HTTP {} (code {}): {}",
            r.status_code.as_u16(),
            r.error.code,
            truncate_chars(&r.error.message, 200)
        ),
        serenity::Error::Http(HttpError::Request(r)) => {
            let kind = if r.is_timeout() {
                "timed out"
            } else if r.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            format!("request to Discord {kind}")
        }
        serenity::Error::Http(HttpError::ApplicationIdMissing) => {
            "the HTTP client does not know the application id".into()
        }
        serenity::Error::Http(_) => "HTTP error talking to Discord".into(),
        serenity::Error::Json(e) => format!("unexpected JSON from Discord: {e}"),
        serenity::Error::Model(e) => format!("message rejected before sending: {e}"),
        _ => "error talking to Discord".into(),
    }
}

/// Who sent an interaction: Manage Server comes from the member's resolved permissions in
/// the channel (Administrator implies it); in DMs there is no member and no server.
pub fn invoker(user: &User, member: Option<&Member>, guild: Option<GuildId>) -> Invoker {
    let perms = member.and_then(|m| m.permissions).unwrap_or_default();
    let guild_id = guild.map(GuildId::get);
    Invoker {
        user_id: member.map_or(user.id, |m| m.user.id).get(),
        guild_id,
        can_manage_guild: guild_id.is_some()
            && (perms.contains(Permissions::MANAGE_GUILD)
                || perms.contains(Permissions::ADMINISTRATOR)),
    }
}

/// The options of a command, looked up by name with their expected type.
struct Options<'a>(&'a [CommandDataOption]);

impl<'a> Options<'a> {
    fn get(&self, name: &str) -> Option<&'a CommandDataOptionValue> {
        self.0.iter().find(|o| o.name == name).map(|o| &o.value)
    }

    fn wrong(name: &str) -> String {
        format!(
            "option {name} has an unexpected type; the bot's commands were probably just updated, try again in a minute"
        )
    }

    fn str(&self, name: &str) -> Result<Option<&'a str>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(CommandDataOptionValue::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Self::wrong(name)),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(CommandDataOptionValue::Integer(i)) => Ok(Some(*i)),
            Some(_) => Err(Self::wrong(name)),
        }
    }

    fn number(&self, name: &str) -> Result<Option<f64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(CommandDataOptionValue::Number(n)) => Ok(Some(*n)),
            // Integer-valued input of a number option, from older registrations.
            Some(CommandDataOptionValue::Integer(i)) => Ok(Some(*i as f64)),
            Some(_) => Err(Self::wrong(name)),
        }
    }

    fn channel(&self, name: &str) -> Result<u64, String> {
        match self.get(name) {
            Some(CommandDataOptionValue::Channel(c)) => Ok(c.get()),
            // A channel typed as text (id or <#id>).
            Some(CommandDataOptionValue::String(s)) => {
                request::parse_channel(s).map_err(|e| e.to_string())
            }
            None => Err(format!("the {name} option is required")),
            Some(_) => Err(Self::wrong(name)),
        }
    }

    fn required_str(&self, name: &str) -> Result<&'a str, String> {
        self.str(name)?
            .ok_or_else(|| format!("the {name} option is required"))
    }
}

/// A slash command's options as a validated [`Request`]; the error is one line for the user,
/// the same as the console gives for the same input.
pub fn request_from_command(data: &CommandData) -> Result<Request, String> {
    let o = Options(&data.options);
    let e = |r: Result<Request, request::RequestError>| r.map_err(|e| e.to_string());
    match data.name.as_str() {
        "hot" => e(Request::hot(
            o.str("category")?,
            o.int("count")?,
            o.str("date")?,
            o.str("view")?,
        )),
        "paper" => e(Request::paper(o.required_str("id")?)),
        "categories" => e(Request::categories(o.str("group")?)),
        "search" => e(Request::search(o.required_str("query")?, o.int("limit")?)),
        "subscribe" => e(Request::subscribe(SubscribeArgs {
            channel: o.channel("channel")?,
            time: o.required_str("time")?,
            timezone: o.required_str("timezone")?,
            categories: o.str("categories")?,
            count: o.int("count")?,
            min_score: o.number("min_score")?,
        })),
        "unsubscribe" => Ok(Request::Unsubscribe {
            channel: o.channel("channel")?,
        }),
        "subscriptions" => Ok(Request::Subscriptions),
        "preview" => Ok(Request::Preview {
            channel: o.channel("channel")?,
        }),
        other => Err(format!(
            "unknown command /{}; the bot's command list may be out of date",
            truncate_chars(other, 32)
        )),
    }
}

/// A choice `(name, value)` with the name cut to Discord's 100 characters.
fn choice(name: String, value: String) -> (String, String) {
    (truncate_chars(&name, CHOICE_TEXT), value)
}

/// Category autocomplete: groups and archives whose id starts with the input (`cs`, `math.*`),
/// then categories by [`taxonomy::search`] (id prefix, subject class, name words). Every value
/// parses with [`request::parse_category`].
pub fn category_choices(input: &str) -> Vec<(String, String)> {
    let q = input.trim();
    if q.chars().count() > 64 {
        return Vec::new();
    }
    let lower = q.to_ascii_lowercase();
    let mut out: Vec<(String, String)> = Vec::new();
    let push = |out: &mut Vec<(String, String)>, name: String, value: String| {
        if out.len() < MAX_CHOICES
            && value.chars().count() <= CHOICE_TEXT
            && !out.iter().any(|(_, v)| *v == value)
        {
            out.push(choice(name, value));
        }
    };
    if !lower.contains('.') || lower.ends_with(".*") || lower.ends_with('.') {
        let stem = lower.trim_end_matches('*').trim_end_matches('.');
        for g in Group::ALL {
            if g.id().starts_with(stem) {
                push(
                    &mut out,
                    format!("{} — all of {}", g.id(), g.name()),
                    g.id().to_string(),
                );
            }
        }
        for a in taxonomy::archives() {
            if !a.starts_with(stem) {
                continue;
            }
            let Ok(filter) = CategoryFilter::parse(&format!("{a}.*")) else {
                continue;
            };
            let value = filter.to_string();
            push(&mut out, format!("{value} — every {a} category"), value);
        }
    }
    for c in taxonomy::search(q, MAX_CHOICES) {
        let Ok(value) = request::parse_category(c.id) else {
            continue;
        };
        let note = if c.active { "" } else { " (inactive)" };
        push(&mut out, format!("{} — {}{note}", c.id, c.name), value);
    }
    out
}

/// `categories` autocomplete: completes the last comma- or space-separated item, keeping the
/// ones before it (values longer than 100 characters cannot be offered).
pub fn categories_choices(input: &str) -> Vec<(String, String)> {
    let split = input
        .rfind(|c: char| c == ',' || c.is_whitespace())
        .map_or(0, |i| i + 1);
    let (head, last) = input.split_at(split);
    let kept: Vec<&str> = head
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    let prefix = if kept.is_empty() {
        String::new()
    } else {
        format!("{}, ", kept.join(", "))
    };
    category_choices(last)
        .into_iter()
        .filter(|(_, v)| !kept.iter().any(|k| k.eq_ignore_ascii_case(v)))
        .map(|(name, v)| {
            let value = format!("{prefix}{v}");
            let shown = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}{name}")
            };
            choice(shown, value)
        })
        .filter(|(_, v)| v.chars().count() <= CHOICE_TEXT)
        .collect()
}

/// Time zone autocomplete: IANA names containing the input (case-insensitive, spaces as
/// `_`), common zones first, then names whose city starts with it, canonical `Area/City`
/// names before legacy aliases; each with its current UTC offset.
pub fn timezone_choices(input: &str, now: chrono::DateTime<chrono::Utc>) -> Vec<(String, String)> {
    use chrono::Offset as _;
    let q = input.trim().replace(' ', "_").to_ascii_lowercase();
    if q.len() > 64 {
        return Vec::new();
    }
    let mut hits: Vec<(u8, bool, &'static str)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| n.to_ascii_lowercase().contains(&q))
        .map(|n| {
            let lower = n.to_ascii_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower).to_string();
            let tier = if COMMON_ZONES.contains(&n) {
                0
            } else if city.starts_with(&q) || lower.starts_with(&q) {
                1
            } else {
                2
            };
            let legacy = !n.contains('/') || n.starts_with("Etc/") || n.starts_with("US/");
            (tier, legacy && n != "UTC", n)
        })
        .collect();
    hits.sort_by_key(|(tier, legacy, n)| {
        let common = COMMON_ZONES
            .iter()
            .position(|c| c == n)
            .unwrap_or(usize::MAX);
        (*tier, *legacy, common, *n)
    });
    hits.into_iter()
        .take(MAX_CHOICES)
        .map(|(_, _, n)| {
            let offset = n
                .parse::<chrono_tz::Tz>()
                .map(|tz| now.with_timezone(&tz).offset().fix().to_string())
                .unwrap_or_default();
            choice(format!("{n} (now UTC{offset})"), n.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cmd(json: serde_json::Value) -> CommandData {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn options_become_requests_with_the_consoles_messages() {
        let hot = cmd(
            serde_json::json!({"id": "1", "name": "hot", "type": 1, "options": [
            {"name": "category", "type": 3, "value": "cs.lg"},
            {"name": "count", "type": 4, "value": 12},
            {"name": "date", "type": 3, "value": "2021-07-02"}]}),
        );
        assert_eq!(
            request_from_command(&hot),
            Request::hot(Some("cs.LG"), Some(12), Some("2021-07-02"), None)
                .map_err(|e| e.to_string())
        );
        let bad = cmd(
            serde_json::json!({"id": "1", "name": "hot", "type": 1, "options": [
            {"name": "date", "type": 3, "value": "2021-13-40"}]}),
        );
        assert_eq!(
            request_from_command(&bad),
            Err(request::parse_date("2021-13-40").unwrap_err().to_string())
        );
        let sub = cmd(
            serde_json::json!({"id": "1", "name": "subscribe", "type": 1, "options": [
            {"name": "channel", "type": 7, "value": "123456789012345678"},
            {"name": "time", "type": 3, "value": "08:30"},
            {"name": "timezone", "type": 3, "value": "europe/berlin"},
            {"name": "min_score", "type": 10, "value": 1.5}]}),
        );
        match request_from_command(&sub) {
            Ok(Request::Subscribe {
                channel,
                timezone,
                min_score,
                ..
            }) => {
                assert_eq!(channel, 123_456_789_012_345_678);
                assert_eq!(timezone, chrono_tz::Europe::Berlin);
                assert_eq!(min_score, 1.5);
            }
            other => panic!("{other:?}"),
        }
        let missing =
            cmd(serde_json::json!({"id": "1", "name": "paper", "type": 1, "options": []}));
        assert_eq!(
            request_from_command(&missing),
            Err("the id option is required".into())
        );
        let wrong = cmd(
            serde_json::json!({"id": "1", "name": "hot", "type": 1, "options": [
            {"name": "count", "type": 3, "value": "12"}]}),
        );
        assert!(
            request_from_command(&wrong)
                .unwrap_err()
                .contains("unexpected type")
        );
        let unknown = cmd(serde_json::json!({"id": "1", "name": "dance", "type": 1}));
        assert!(
            request_from_command(&unknown)
                .unwrap_err()
                .contains("unknown command /dance")
        );
    }

    #[test]
    fn category_autocomplete_offers_groups_archives_and_categories() {
        let cs_l = category_choices("cs.l");
        let values: Vec<&str> = cs_l.iter().map(|(_, v)| v.as_str()).collect();
        assert!(
            values.contains(&"cs.LG") && values.contains(&"cs.LO"),
            "{values:?}"
        );
        let math = category_choices("math");
        assert_eq!(math[0].1, "math");
        assert!(math.iter().any(|(_, v)| v.starts_with("math.")), "{math:?}");
        let empty = category_choices("");
        assert_eq!(empty.len(), MAX_CHOICES);
        assert_eq!(empty[0].1, "physics");
        for input in [
            "",
            "c",
            "machine learn",
            "astro",
            "x",
            &"z".repeat(200),
            "cs.*",
        ] {
            let got = category_choices(input);
            assert!(got.len() <= MAX_CHOICES);
            for (name, value) in &got {
                assert!(!name.is_empty() && name.chars().count() <= 100, "{name}");
                assert_eq!(
                    request::parse_category(value).as_deref(),
                    Ok(value.as_str())
                );
            }
        }
    }

    #[test]
    fn categories_autocomplete_completes_the_last_item() {
        let got = categories_choices("cs.LG, cs.C");
        assert!(got.iter().any(|(_, v)| v == "cs.LG, cs.CV"), "{got:?}");
        assert!(got.iter().all(|(_, v)| v.starts_with("cs.LG, ")));
        assert!(
            !categories_choices("cs.LG, cs.L")
                .iter()
                .any(|(_, v)| v == "cs.LG, cs.LG")
        );
        let long = ["cond-mat.stat-mech"; 6].join(", ");
        assert!(categories_choices(&format!("{long}, cs.")).is_empty());
        assert!(!categories_choices("").is_empty());
    }

    #[test]
    fn timezone_autocomplete_common_first_with_offsets() {
        let now = chrono::Utc.with_ymd_and_hms(2021, 7, 3, 12, 0, 0).unwrap();
        let empty = timezone_choices("", now);
        assert_eq!(empty.len(), MAX_CHOICES);
        assert_eq!(empty[0].1, "UTC");
        let berlin = timezone_choices("berl", now);
        assert_eq!(
            berlin[0],
            (
                "Europe/Berlin (now UTC+02:00)".into(),
                "Europe/Berlin".into()
            )
        );
        let ny = timezone_choices("new york", now);
        assert_eq!(ny[0].1, "America/New_York");
        let europe = timezone_choices("Europe/", now);
        assert!(europe.len() == MAX_CHOICES && europe[0].1 == "Europe/London");
        assert!(timezone_choices("Mars", now).is_empty());
        assert!(timezone_choices(&"a".repeat(500), now).is_empty());
    }

    #[test]
    fn manage_server_comes_from_member_permissions() {
        let member = |perms: &str| -> Member {
            serde_json::from_value(serde_json::json!({"user": {"id": "5", "username": "a"},
                "roles": [], "deaf": false, "mute": false, "flags": 0, "permissions": perms}))
            .unwrap()
        };
        let user: User =
            serde_json::from_value(serde_json::json!({"id": "5", "username": "a"})).unwrap();
        let g = Some(GuildId::new(9));
        assert!(invoker(&user, Some(&member("32")), g).can_manage_guild);
        assert!(invoker(&user, Some(&member("8")), g).can_manage_guild);
        let plain = invoker(&user, Some(&member("2048")), g);
        assert_eq!(
            plain,
            Invoker {
                user_id: 5,
                guild_id: Some(9),
                can_manage_guild: false
            }
        );
        let dm = invoker(&user, None, None);
        assert_eq!(dm.guild_id, None);
        assert!(!dm.can_manage_guild);
    }
}
