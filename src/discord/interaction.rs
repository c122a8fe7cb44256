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
    AutocompleteChoice, Builder as _, CreateAllowedMentions, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage,
};
use serenity::http::Http;
use serenity::model::application::{
    CommandData, CommandDataOptionValue, CommandInteraction, ComponentInteraction, Interaction,
};
use serenity::model::guild::Member;
use serenity::model::id::{GuildId, InteractionId};
use serenity::model::permissions::Permissions;
use serenity::model::user::User;
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use super::escape::truncate_chars;
use super::reply::{self, ButtonId, DiscordReply, HotQuery, RenderContext};
use crate::app::App;
use crate::commands::complete::{self, CHOICE_TEXT};
use crate::commands::spec::OptionKind;
use crate::commands::{self, Args, Invoker, Reply, Request, Value, handle, request};

/// How long a command may run before the bot defers, by default: Discord invalidates the
/// interaction after 3 s without a response, and the defer itself needs a round trip.
pub const DEFAULT_DEFER_AFTER: Duration = Duration::from_secs(2);

/// Shown for a button this version cannot read.
const OLD_BUTTON: &str =
    "this button is from an older version of the bot or no longer works; run /hot again";

/// What the user sees when the handler task itself failed (it already catches panics).
const INTERNAL: &str = "something went wrong on the bot's side; the details are in its log";

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
                respond(
                    http,
                    self.app.clock().as_ref(),
                    &target,
                    CreateInteractionResponse::Message(msg),
                )
                .await;
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
                let reply = match self.app.stored_paper(&id).await {
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
                respond(
                    http,
                    self.app.clock().as_ref(),
                    &target,
                    CreateInteractionResponse::Message(msg),
                )
                .await;
            }
            Err(e) => {
                debug!(interaction = %c.id, error = %e, "unusable button");
                let msg = DiscordReply::error(OLD_BUTTON).into_response();
                respond(
                    http,
                    self.app.clock().as_ref(),
                    &target,
                    CreateInteractionResponse::Message(msg),
                )
                .await;
            }
        }
    }

    async fn on_autocomplete(&self, http: &Http, cmd: &CommandInteraction) {
        let completion = cmd.data.autocomplete().and_then(|focused| {
            let kind = commands::spec(&cmd.data.name)?
                .option(focused.name)?
                .complete?;
            Some((kind, focused.value))
        });
        let choices = match completion {
            Some((kind, input)) => complete::choices(kind, input, self.app.clock().now()),
            None => Vec::new(),
        };
        let choices = choices
            .into_iter()
            .map(|(name, value)| AutocompleteChoice::new(truncate_chars(&name, CHOICE_TEXT), value))
            .collect();
        let response = CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        );
        let target = Target {
            id: cmd.id,
            token: &cmd.token,
        };
        respond(http, self.app.clock().as_ref(), &target, response).await;
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
        let command = req.name();
        let started = std::time::Instant::now();
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
                if !respond(http, self.app.clock().as_ref(), target, defer).await {
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
        // One line per interaction: what was asked, how it went, how long it took.
        crate::metrics::metrics().command(
            command,
            !matches!(reply, Reply::Error { .. }),
            started.elapsed().as_secs_f64(),
        );
        info!(
            interaction = %target.id,
            command,
            outcome = if matches!(reply, Reply::Error { .. }) { "error" } else { "ok" },
            deferred = deferred_ephemeral.is_some(),
            latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "interaction answered"
        );
        let rendered = reply::render(&reply, &RenderContext { hot });
        let private = rendered.ephemeral;
        match deferred_ephemeral {
            None => {
                let response = match origin {
                    Origin::Button if !private => {
                        CreateInteractionResponse::UpdateMessage(rendered.into_response())
                    }
                    _ => CreateInteractionResponse::Message(rendered.into_response()),
                };
                respond(http, self.app.clock().as_ref(), target, response).await;
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
                let followup = rendered.into_followup();
                if let Err(e) = super::rest::retry_rate_limited(
                    self.app.clock().as_ref(),
                    "sending the follow-up",
                    || followup.clone().execute(http, (None, target.token)),
                )
                .await
                {
                    log_failure(target, "sending the follow-up", &e);
                }
            }
            Some(_) => {
                let edit = rendered.into_edit();
                if let Err(e) = super::rest::retry_rate_limited(
                    self.app.clock().as_ref(),
                    "editing the deferred response",
                    || edit.clone().execute(http, target.token),
                )
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
async fn respond(
    http: &Http,
    clock: &dyn crate::clock::Clock,
    target: &Target<'_>,
    response: CreateInteractionResponse,
) -> bool {
    // Through the builder, which sends its files (a chart) as multipart with the payload.
    let sent = super::rest::retry_rate_limited(clock, "answering the interaction", || {
        response.clone().execute(http, (target.id, target.token))
    })
    .await;
    match sent {
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

/// A slash command's options as a validated [`Request`] through the command's own `parse`
/// (the console's too); the error is one line for the user, the same as the console gives for
/// the same input.
pub fn request_from_command(data: &CommandData) -> Result<Request, String> {
    let unknown = || {
        format!(
            "unknown command /{}; the bot's command list may be out of date",
            truncate_chars(&data.name, 32)
        )
    };
    let spec = commands::spec(&data.name).ok_or_else(unknown)?;
    let mut args = Args::new(spec);
    for o in &data.options {
        // Options the command does not declare are ignored, as Discord's own client would.
        let Some(declared) = spec.option(&o.name) else {
            continue;
        };
        let value = match (declared.kind, &o.value) {
            (
                OptionKind::Text { .. } | OptionKind::Id { .. } | OptionKind::Choice(_),
                CommandDataOptionValue::String(s),
            ) => Value::Text(s.clone()),
            (OptionKind::Integer { .. }, CommandDataOptionValue::Integer(i)) => Value::Integer(*i),
            (OptionKind::Number { .. }, CommandDataOptionValue::Number(n)) => Value::Number(*n),
            // Integer-valued input of a number option, from older registrations.
            (OptionKind::Number { .. }, CommandDataOptionValue::Integer(i)) => Value::Integer(*i),
            (OptionKind::Channel, CommandDataOptionValue::Channel(c)) => Value::Channel(c.get()),
            // A channel typed as text (id or <#id>).
            (OptionKind::Channel, CommandDataOptionValue::String(s)) => Value::Text(s.clone()),
            // A stale registration sent another type than the command declares.
            _ => {
                return Err(request::RequestError::WrongType {
                    option: declared.name,
                }
                .to_string());
            }
        };
        args.set(declared.name, value);
    }
    match Request::parse(spec.name, &args) {
        Some(r) => r.map_err(|e| e.to_string()),
        None => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::hot::Hot;
    use crate::commands::subscribe::Subscribe;

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
            Hot::new(Some("cs.LG"), Some(12), Some("2021-07-02"), None)
                .map(Request::from)
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
            Ok(Request::Subscribe(Subscribe {
                channel,
                timezone,
                min_score,
                ..
            })) => {
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
