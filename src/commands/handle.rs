//! Running any command: the admin check, error mapping and panic safety every command shares.
//!
//! [`handle`] runs a validated [`Request`] against the [`App`] and always returns a [`Reply`]:
//! failures become a short, human [`Reply::Error`], internal details go to the log, and even a
//! panic in a command is caught, so one bad command cannot take a bot down.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use tracing::{error, warn};

use crate::app::{App, AppError};
use crate::arxiv::client::ArxivError;
use crate::subscription::Subscription;

use super::Request;
use super::reply::{Reply, SubscriptionStatus};
use super::request::{Invoker, MAX_COUNT};

/// What users see when something failed on the bot's side; the details are logged.
const INTERNAL: &str = "something went wrong on the bot's side; the details are in its log";

/// What users see when arXiv could not be reached.
const ARXIV_DOWN: &str = "arXiv is not answering right now; try again in a few minutes";

/// Why a command failed, before it becomes a [`Reply::Error`].
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The user can fix it; the message says how.
    #[error("{0}")]
    User(String),
    /// The operation failed; [`handle`] decides what the user may see of it.
    #[error(transparent)]
    App(#[from] AppError),
}

impl CommandError {
    /// The user-facing reply; internal causes are logged here with the command's name.
    fn into_reply(self, command: &'static str) -> Reply {
        let app = match self {
            CommandError::User(message) => return Reply::error(message),
            CommandError::App(e) => e,
        };
        match app {
            AppError::Store(e) => {
                error!(command, error = %e, "command failed: store error");
                Reply::error(INTERNAL)
            }
            AppError::InvalidId(_)
            | AppError::UnknownCategory(_)
            | AppError::NoMailing(_)
            | AppError::DateOutOfRange(_)
            | AppError::NotYetAnnounced { .. }
            | AppError::PaperNotFound(_)
            | AppError::VersionNotFound { .. }
            | AppError::BadQuery(_) => Reply::error(app.to_string()),
            AppError::Arxiv(ArxivError::Api { message }) => {
                warn!(command, %message, "arXiv rejected a request");
                Reply::error(format!("arXiv rejected the request: {message}"))
            }
            AppError::Arxiv(e) if e.is_transient() => {
                warn!(command, error = %e, "arXiv unavailable");
                Reply::error(ARXIV_DOWN)
            }
            AppError::Http(e) if e.is_transient() => {
                warn!(command, error = %e, "upstream unavailable");
                Reply::error(ARXIV_DOWN)
            }
            // Not worth retrying: a host name that does not resolve (no network, a typo in a
            // configured URL) or a 4xx. Said in fixed words, so no URL reaches the reply.
            AppError::Arxiv(ArxivError::Http(ref e)) | AppError::Http(ref e) => {
                error!(command, error = %app, "arXiv cannot be used");
                Reply::error(arxiv_refused(e))
            }
            other => {
                error!(command, error = %other, "command failed");
                Reply::error(INTERNAL)
            }
        }
    }
}

/// The reply when arXiv cannot be used and retrying will not help.
fn arxiv_refused(e: &crate::http::HttpError) -> String {
    format!(
        "the bot cannot get this from arXiv ({}); its configuration or network may need \
         fixing, and the details are in its log",
        e.public_reason()
    )
}

/// Runs one request for `who`. Never panics and never fails: every problem is a
/// [`Reply::Error`] (ephemeral) with a short message; internal errors are logged with
/// `tracing::error!` and answered generically.
///
/// Admin requests ([`Request::is_admin`]) are refused unless `who.can_manage_guild`, whatever
/// the front end showed: Discord's `default_member_permissions` is only a default that server
/// admins can change. They also need a server (`who.guild_id`).
pub async fn handle(app: &App, req: impl Into<Request>, who: &Invoker) -> Reply {
    let req = req.into();
    let command = req.name();
    match AssertUnwindSafe(dispatch(app, req, who))
        .catch_unwind()
        .await
    {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => e.into_reply(command),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            error!(command, panic = %what, "command handler panicked");
            Reply::error(INTERNAL)
        }
    }
}

/// Who asked, and for admin commands the server they manage.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The invoker.
    pub who: &'a Invoker,
    /// The invoker's server: checked to exist and be managed by them for admin commands.
    pub guild: Option<u64>,
}

impl Context<'_> {
    /// The server an admin command acts on (checked by [`handle`]; 0 otherwise).
    pub fn admin_guild(&self) -> u64 {
        self.guild.unwrap_or_default()
    }
}

async fn dispatch(app: &App, req: Request, who: &Invoker) -> Result<Reply, CommandError> {
    let guild = if req.is_admin() {
        Some(admin_guild(&req, who)?)
    } else {
        who.guild_id
    };
    req.run(app, &Context { who, guild }).await
}

/// The server of an admin request, once the invoker may manage it.
fn admin_guild(req: &Request, who: &Invoker) -> Result<u64, CommandError> {
    let Some(guild) = who.guild_id else {
        return Err(CommandError::User(format!(
            "/{} works in a server channel, not in direct messages: subscriptions belong to a server",
            req.name()
        )));
    };
    if !who.can_manage_guild {
        return Err(CommandError::User(format!(
            "only members with the Manage Server permission can use /{}",
            req.name()
        )));
    }
    Ok(guild)
}

/// The error for a channel without a subscription in this server.
pub(crate) fn no_subscription(channel: u64) -> CommandError {
    CommandError::User(format!(
        "channel {channel} has no subscription in this server; /subscriptions lists them"
    ))
}

/// A subscription with its next post time (none while it is disabled).
pub(crate) fn status(
    subscription: Subscription,
    now: chrono::DateTime<chrono::Utc>,
) -> SubscriptionStatus {
    let next_post = subscription
        .is_active()
        .then(|| subscription.next_fire(now));
    SubscriptionStatus {
        subscription,
        next_post,
    }
}

/// `[digest] top`, within 1..=25 (0, "all", means 25 here).
pub(crate) fn default_count(app: &App) -> u8 {
    match app.config().digest.top {
        0 => MAX_COUNT,
        n => u8::try_from(n).unwrap_or(MAX_COUNT).min(MAX_COUNT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpError;

    fn reply_text(e: AppError) -> String {
        match CommandError::App(e).into_reply("hot") {
            Reply::Error { message, .. } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arxiv_failures_say_why_without_urls() {
        let dns = HttpError::Connect {
            url: "https://export.arxiv.org/api/query?secret".into(),
            message: "dns error: failed to lookup address information".into(),
        };
        let text = reply_text(AppError::Arxiv(ArxivError::Http(dns)));
        assert!(text.contains("host name does not resolve"), "{text}");
        let missing = HttpError::Status {
            url: "https://mirror.example/api".into(),
            status: 404,
            snippet: "<html>not here</html>".into(),
        };
        let text = reply_text(AppError::Http(missing));
        assert!(text.contains("(HTTP 404)"), "{text}");
        for text in [
            text,
            reply_text(AppError::Arxiv(ArxivError::Http(HttpError::Timeout {
                url: "https://export.arxiv.org/x".into(),
            }))),
        ] {
            assert!(
                !text.contains("http") && !text.contains("arxiv.org"),
                "{text}"
            );
            assert!(!text.contains("<html>"), "{text}");
        }
    }
}
