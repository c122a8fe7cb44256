//! `hotpapers run`: the long-running Discord bot.
//!
//! One process holds one gateway connection (a single shard: sharding is only required from
//! 2,500 servers), registers the slash commands, answers interactions, and runs the daily-post
//! [`Scheduler`] and, when enabled, the Bluesky Jetstream listener beside it. Everything stops
//! when the `shutdown` watch turns true: the gateway is closed first (no new commands), then
//! the scheduler and listener get a bounded time to finish what they are doing.
//!
//! Concurrency: serenity spawns a new tokio task for every gateway event it dispatches
//! (`client/dispatch.rs`, `dispatch_model`: one `spawn_named` per event and handler), so a slow
//! command never blocks the next one, and the scheduler runs in its own task: commands never
//! wait for posts and posts never wait for commands.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serenity::builder::CreateCommand;
use serenity::client::{ClientBuilder, Context, EventHandler};
use serenity::gateway::{ConnectionStage, ShardStageUpdateEvent};
use serenity::http::{Http, HttpError};
use serenity::model::application::{Command, Interaction};
use serenity::model::gateway::{GatewayIntents, Ready};
use serenity::model::id::{ApplicationId, GuildId};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::app::App;
use crate::config::DiscordConfig;
use crate::discord::commands;
use crate::discord::interaction::Interactions;
use crate::discord::post::{self, PostError};
use crate::discord::scheduler::{Scheduler, SchedulerOptions};

/// How long shutdown waits for the gateway, the scheduler and the listener to finish before
/// abandoning them. In-flight posts are safe to abandon: the post log and message nonces make
/// the next start resume them without duplicates.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// How `hotpapers run` registers its commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BotOptions {
    /// Register the commands on this server only (instant, for testing) instead of globally
    /// (which Discord can take up to an hour to show everywhere).
    pub guild: Option<u64>,
    /// Register (bulk-overwrite) the slash commands once per process on the first READY.
    /// `false` leaves whatever is registered untouched.
    pub register: bool,
}

/// Why the bot could not start or stopped on its own. One line each, never containing the
/// token: serenity's own error texts can carry request URLs, so they are mapped here.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// No token configured.
    #[error(
        "no Discord bot token: set the DISCORD_TOKEN environment variable (or `token` under [discord] in config.toml); the README section \"The Discord bot\" shows how to get one. `hotpapers console` runs the same commands without Discord"
    )]
    MissingToken,
    /// Discord answered 401 (REST) or closed the gateway with 4004: the token is wrong,
    /// revoked or reset.
    #[error(
        "Discord rejected the bot token: copy a fresh one from the application's Bot page (Reset Token) into DISCORD_TOKEN"
    )]
    RejectedToken,
    /// Discord refused to register the commands.
    #[error(
        "Discord refused to register the slash commands (403){}: invite the bot with the `applications.commands` scope",
        .guild.map(|g| format!(" on server {g}")).unwrap_or_default()
    )]
    RegistrationForbidden {
        /// The server, for `--guild`.
        guild: Option<u64>,
    },
    /// A server id of 0 (Discord ids are never 0).
    #[error("invalid server id 0 for --guild: copy the server id from Discord (Developer Mode)")]
    InvalidGuild,
    /// A REST call failed for another reason (network, 5xx, unexpected status).
    #[error("Discord REST call failed: {0}")]
    Rest(String),
    /// The gateway connection failed for good (e.g. disallowed intents).
    #[error("Discord gateway failed: {0}")]
    Gateway(String),
}

/// The configured token, trimmed; [`BotError::MissingToken`] when absent or blank.
pub fn token(config: &DiscordConfig) -> Result<&str, BotError> {
    config
        .token
        .as_ref()
        .map(|t| t.expose().trim())
        .filter(|t| !t.is_empty())
        .ok_or(BotError::MissingToken)
}

/// Maps a serenity error to a [`BotError`] without any request URL or token in it.
pub fn rest_error(err: &serenity::Error) -> BotError {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => match r.status_code.as_u16() {
            401 => BotError::RejectedToken,
            code => BotError::Rest(format!("HTTP {code}: {}", one_line(&r.error.message))),
        },
        // reqwest errors name the URL (which holds interaction tokens on some routes).
        serenity::Error::Http(HttpError::Request(e)) => BotError::Rest(one_line(&without_url(e))),
        serenity::Error::Gateway(serenity::gateway::GatewayError::InvalidAuthentication) => {
            BotError::RejectedToken
        }
        serenity::Error::Gateway(g) => BotError::Gateway(one_line(&g.to_string())),
        other => BotError::Rest(one_line(&other.to_string())),
    }
}

/// A reqwest error and its causes on one line, with the request URL cut out.
fn without_url(e: &reqwest::Error) -> String {
    let text = crate::http::error_chain(e);
    match e.url() {
        Some(url) => text.replace(url.as_str(), "<url>"),
        None => text,
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Bulk-overwrites the slash commands: on `guild` only (instant) or globally. Returns how
/// many Discord now has. Idempotent; Discord caps command *creates* at 200 a day per server,
/// which is why the bot does this once per process, not on every reconnect.
pub async fn register_commands(
    http: &Http,
    guild: Option<GuildId>,
    definitions: Vec<CreateCommand>,
) -> Result<usize, BotError> {
    // Registration happens once at start-up; a 429 is waited out (see
    // `rest::retry_rate_limited`) in real time.
    let clock = crate::clock::SystemClock;
    let result = super::rest::retry_rate_limited(&clock, "registering the commands", || {
        let definitions = definitions.clone();
        async move {
            match guild {
                Some(g) => g.set_commands(http, definitions).await,
                None => Command::set_global_commands(http, definitions).await,
            }
        }
    })
    .await;
    match result {
        Ok(cmds) => Ok(cmds.len()),
        Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(r)))
            if r.status_code.as_u16() == 403 =>
        {
            Err(BotError::RegistrationForbidden {
                guild: guild.map(GuildId::get),
            })
        }
        Err(e) => Err(rest_error(&e)),
    }
}

/// The gateway event handler: registration on READY, interactions to [`Interactions`].
struct Handler {
    guild: Option<GuildId>,
    register: bool,
    /// Set once the commands were registered (or are being registered) by this process.
    registered: AtomicBool,
    /// Filled in right after the client is built (the scheduler it wakes needs the client's
    /// `Http`), before the gateway starts, so no event can find it empty.
    interactions: Arc<OnceLock<Interactions>>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        // /healthz and /metrics report the gateway: connected only in the Connected stage.
        crate::metrics::metrics()
            .set_gateway_connected(matches!(event.new, ConnectionStage::Connected));
    }

    async fn ready(&self, ctx: Context, ready: Ready) {
        crate::metrics::metrics().set_gateway_connected(true);
        info!(
            "connected to Discord as {} ({}), in {} servers",
            ready.user.name,
            ready.user.id,
            ready.guilds.len()
        );
        if !self.register || self.registered.swap(true, Ordering::SeqCst) {
            return;
        }
        let defs = commands::definitions();
        match register_commands(&ctx.http, self.guild, defs).await {
            Ok(n) => match self.guild {
                Some(g) => info!("registered {n} slash commands on server {g} (visible now)"),
                None => info!(
                    "registered {n} global slash commands (Discord can take up to an hour to show them; --guild ID registers on one server at once)"
                ),
            },
            Err(e) => {
                // Let a later READY (after a reconnect) try again.
                self.registered.store(false, Ordering::SeqCst);
                error!("cannot register the slash commands: {e}");
            }
        }
    }

    /// serenity runs each call in its own task, so a slow command delays nothing else.
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match self.interactions.get() {
            Some(i) => i.dispatch(&ctx.http, interaction).await,
            None => warn!("interaction received before the bot was ready; ignored"),
        }
    }
}

/// Completes when `shutdown` is true, or when its sender is gone (nobody can ask any more,
/// which is treated as a request to stop).
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Runs the bot until `shutdown` turns true; then closes the gateway, lets the scheduler and
/// listener finish (up to [`SHUTDOWN_GRACE`]) and returns `Ok`.
///
/// The gateway uses **no intents** (`GatewayIntents::empty()`): slash commands, autocomplete
/// and buttons arrive as interactions, which Discord sends regardless of intents, so the bot
/// needs no privileged (or any) intent and sees no message content.
///
/// Fails at once without a token ([`BotError::MissingToken`]) or when Discord rejects it
/// ([`BotError::RejectedToken`], checked with one REST call before connecting), and later
/// when the gateway fails for good.
pub async fn run(
    app: Arc<App>,
    options: BotOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BotError> {
    let discord = &app.config().discord;
    let token = token(discord)?;
    let guild = match options.guild {
        None => None,
        Some(g) => Some(GuildId::from(
            NonZeroU64::new(g).ok_or(BotError::InvalidGuild)?,
        )),
    };
    let http =
        post::http_client(Some(token), discord.proxy_url.as_deref()).map_err(|e| match e {
            PostError::MissingToken => BotError::MissingToken,
            other => BotError::Rest(other.to_string()),
        })?;
    // Follow-ups and edits need the application id; without the config key it comes from READY.
    if let Some(id) = discord.application_id.and_then(NonZeroU64::new) {
        http.set_application_id(ApplicationId::from(id));
    }
    // serenity only warns when the token is refused while fetching the gateway URL, then
    // retries the gateway; one explicit call turns a bad token into a clear error instead.
    let me = http.get_current_user().await.map_err(|e| rest_error(&e))?;
    info!(
        "starting the Discord bot as {} ({}); commands: {}",
        me.name,
        me.id,
        match (options.register, guild) {
            (false, _) => "not registered (--no-register)".to_string(),
            (true, Some(g)) => format!("registered on server {g}"),
            (true, None) => "registered globally".to_string(),
        }
    );

    let interactions = Arc::new(OnceLock::new());
    let handler = Handler {
        guild,
        register: options.register,
        registered: AtomicBool::new(false),
        interactions: interactions.clone(),
    };
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty())
        .event_handler(handler)
        .await
        .map_err(|e| rest_error(&e))?;

    // Internal stop signal: flips on `shutdown` or when the gateway ends on its own, so the
    // background tasks stop either way.
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = Arc::new(Scheduler::new(
        app.clone(),
        client.http.clone(),
        SchedulerOptions::from_config(discord),
    ));
    let _ = interactions.set(Interactions::new(app.clone(), scheduler.waker()));
    let mut tasks = Vec::new();
    {
        let scheduler = scheduler.clone();
        let stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move { scheduler.run(stop).await }));
    }
    if app.config().sources.bluesky.enabled {
        let app = app.clone();
        let stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            // A listener failure is logged; the bot keeps answering commands without it.
            if let Err(e) = app.listen(stopped(stop)).await {
                warn!("the Bluesky listener stopped: {e}");
            }
        }));
    }

    let shard_manager = client.shard_manager.clone();
    let result = {
        let gateway = client.start();
        tokio::pin!(gateway);
        tokio::select! {
            ended = &mut gateway => match ended {
                Ok(()) => Ok(()),
                Err(e) => Err(rest_error(&e)),
            },
            () = stopped(shutdown) => {
                info!("shutting down: closing the gateway, letting the scheduler finish (up to {}s)", SHUTDOWN_GRACE.as_secs());
                shard_manager.shutdown_all().await;
                // `shutdown_all` does nothing when no shard has booted yet; do not wait forever.
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut gateway).await;
                Ok(())
            }
        }
    };

    crate::metrics::metrics().set_gateway_connected(false);
    let _ = stop_tx.send(true);
    let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
    let joined = tokio::time::timeout(SHUTDOWN_GRACE, futures_util::future::join_all(tasks)).await;
    match joined {
        Ok(_) => info!("the bot stopped; the scheduler and listener finished"),
        Err(_) => {
            for a in aborts {
                a.abort();
            }
            warn!(
                "the bot stopped: background tasks did not finish within {}s and were abandoned (unsent posts are resumed at the next start)",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn config(token: Option<&str>) -> DiscordConfig {
        DiscordConfig {
            token: token.map(Secret::new),
            ..DiscordConfig::default()
        }
    }

    #[test]
    fn token_is_required_and_trimmed() {
        assert!(matches!(token(&config(None)), Err(BotError::MissingToken)));
        assert!(matches!(
            token(&config(Some("  \n"))),
            Err(BotError::MissingToken)
        ));
        assert_eq!(token(&config(Some(" abc\n"))).ok(), Some("abc"));
    }

    #[test]
    fn missing_token_says_where_to_put_it_and_offers_the_console() {
        let text = BotError::MissingToken.to_string();
        for needle in ["DISCORD_TOKEN", "[discord]", "README", "hotpapers console"] {
            assert!(text.contains(needle), "{needle} missing from: {text}");
        }
        assert!(!text.contains('\n'));
    }

    #[test]
    fn registration_forbidden_names_the_server_when_there_is_one() {
        let g = BotError::RegistrationForbidden { guild: Some(42) }.to_string();
        assert!(g.contains("on server 42"), "{g}");
        let global = BotError::RegistrationForbidden { guild: None }.to_string();
        assert!(!global.contains("server"), "{global}");
        assert!(global.contains("applications.commands"));
    }

    fn client(mock: &MockServer) -> Http {
        let http = post::http_client(Some("secret-token-xyz"), Some(&mock.uri())).unwrap();
        http.set_application_id(ApplicationId::new(1100000000000000002));
        http
    }

    fn defs() -> Vec<CreateCommand> {
        vec![CreateCommand::new("hot").description("Hot papers")]
    }

    fn registered(n: usize) -> serde_json::Value {
        let cmd = serde_json::json!({"id":"1","application_id":"1100000000000000002","version":"1",
            "type":1,"name":"hot","description":"Hot papers","default_member_permissions":null});
        serde_json::Value::Array(vec![cmd; n])
    }

    #[tokio::test]
    async fn registers_on_the_guild_route_with_the_definitions_as_body() {
        let mock = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path(
                "/api/v10/applications/1100000000000000002/guilds/77/commands",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(registered(1)))
            .expect(1)
            .mount(&mock)
            .await;
        let n = register_commands(&client(&mock), Some(GuildId::new(77)), defs())
            .await
            .unwrap();
        assert_eq!(n, 1);
        let reqs = mock.received_requests().await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
        assert_eq!(body, serde_json::to_value(defs()).unwrap());
    }

    #[tokio::test]
    async fn registers_globally_without_a_guild() {
        let mock = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/api/v10/applications/1100000000000000002/commands"))
            .respond_with(ResponseTemplate::new(200).set_body_json(registered(1)))
            .expect(1)
            .mount(&mock)
            .await;
        assert_eq!(
            register_commands(&client(&mock), None, defs())
                .await
                .unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn maps_401_403_and_5xx_without_leaking_the_token() {
        for (status, want) in [
            (401, "rejected the bot token"),
            (403, "(403)"),
            (502, "HTTP 502"),
        ] {
            let mock = MockServer::start().await;
            Mock::given(method("PUT"))
                .respond_with(
                    ResponseTemplate::new(status)
                        .set_body_json(serde_json::json!({"message": "nope", "code": 0})),
                )
                .mount(&mock)
                .await;
            let e = register_commands(&client(&mock), None, defs())
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{status}: {e}");
            assert!(!e.contains("secret-token-xyz"), "{e}");
        }
    }

    #[tokio::test]
    async fn a_transport_error_names_no_url() {
        // Nothing listens on the port of a server that was just shut down.
        let uri = {
            let mock = MockServer::start().await;
            mock.uri()
        };
        let http = post::http_client(Some("secret-token-xyz"), Some(&uri)).unwrap();
        let e = http.get_current_user().await.unwrap_err();
        let text = rest_error(&e).to_string();
        assert!(text.starts_with("Discord REST call failed"), "{text}");
        assert!(!text.contains("/api/v10"), "{text}");
        assert!(!text.contains("secret-token-xyz"), "{text}");
    }

    #[tokio::test]
    async fn stopped_completes_on_true_and_on_a_dropped_sender() {
        let (tx, rx) = watch::channel(false);
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), stopped(rx))
            .await
            .expect("true stops");
        let (tx, rx) = watch::channel(false);
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), stopped(rx))
            .await
            .expect("a dropped sender stops");
    }
}
