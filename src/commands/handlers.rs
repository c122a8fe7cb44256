//! What each command does: written once, for every front end.
//!
//! [`handle`] runs a validated [`Request`] against the [`App`] and always returns a [`Reply`]:
//! failures become a short, human [`Reply::Error`], internal details go to the log, and even a
//! panic in a handler is caught, so one bad command cannot take a bot down.

use std::panic::AssertUnwindSafe;

use chrono::NaiveDate;
use futures_util::FutureExt as _;
use tracing::{error, warn};

use crate::app::{App, AppError, DigestRequest};
use crate::arxiv::client::ArxivError;
use crate::arxiv::taxonomy::{self, Group};
use crate::progress::NoProgress;
use crate::store::StoreError;

use super::reply::{CategoryRow, HOT_PAGE_SIZE, Reply, SubscriptionStatus, page_count};
use super::request::{HotView, Invoker, MAX_COUNT, Request};
use crate::subscription::Subscription;

/// What users see when something failed on the bot's side; the details are logged.
const INTERNAL: &str = "something went wrong on the bot's side; the details are in its log";

/// What users see when arXiv could not be reached.
const ARXIV_DOWN: &str = "arXiv is not answering right now; try again in a few minutes";

/// Why a command failed, before it becomes a [`Reply::Error`].
#[derive(Debug, thiserror::Error)]
enum CommandError {
    /// The user can fix it; the message says how.
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// The user-facing reply; internal causes are logged here with the command's name.
    fn into_reply(self, command: &'static str) -> Reply {
        let app = match self {
            CommandError::User(message) => return Reply::error(message),
            CommandError::Store(e) => {
                error!(command, error = %e, "command failed: store error");
                return Reply::error(INTERNAL);
            }
            CommandError::App(e) => e,
        };
        match app {
            AppError::InvalidId(_)
            | AppError::UnknownCategory(_)
            | AppError::NoMailing(_)
            | AppError::NotYetAnnounced { .. }
            | AppError::PaperNotFound(_) => Reply::error(app.to_string()),
            AppError::Arxiv(ArxivError::Api { message }) => {
                warn!(command, %message, "arXiv rejected a request");
                Reply::error(format!("arXiv rejected the request: {message}"))
            }
            AppError::Arxiv(e) if e.is_transient() => {
                warn!(command, error = %e, "arXiv unavailable");
                Reply::error(ARXIV_DOWN)
            }
            AppError::Http(e) => {
                warn!(command, error = %e, "upstream unavailable");
                Reply::error(ARXIV_DOWN)
            }
            other => {
                error!(command, error = %other, "command failed");
                Reply::error(INTERNAL)
            }
        }
    }
}

/// Runs one request for `who`. Never panics and never fails: every problem is a
/// [`Reply::Error`] (ephemeral) with a short message; internal errors are logged with
/// `tracing::error!` and answered generically.
///
/// Admin requests ([`Request::is_admin`]) are refused unless `who.can_manage_guild`, whatever
/// the front end showed: Discord's `default_member_permissions` is only a default that server
/// admins can change. They also need a server (`who.guild_id`).
pub async fn handle(app: &App, req: Request, who: &Invoker) -> Reply {
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

async fn dispatch(app: &App, req: Request, who: &Invoker) -> Result<Reply, CommandError> {
    let admin_guild = if req.is_admin() {
        Some(admin_guild(&req, who)?)
    } else {
        None
    };
    match req {
        Request::Hot {
            category,
            count,
            date,
            view,
            page,
        } => hot(app, category, count, date, view, page).await,
        Request::Paper { id } => {
            let card = app.paper(&id.to_string()).await?;
            Ok(Reply::Paper(Box::new(card)))
        }
        Request::Categories { group } => categories(app, group).await,
        Request::Search { query, limit } => search(app, query, limit).await,
        Request::Subscribe {
            channel,
            time,
            timezone,
            categories,
            count,
            min_score,
        } => {
            let guild_id = admin_guild.unwrap_or_default();
            let now = app.clock().now();
            let sub = Subscription {
                id: 0,
                guild_id,
                channel_id: channel,
                time,
                timezone,
                categories,
                count: count.unwrap_or_else(|| default_count(app)),
                min_score,
                created_by: who.user_id,
                created_at: now,
                disabled_reason: None,
            };
            let change = app.store().upsert_subscription(&sub).await?;
            let next_post = Some(change.stored.next_fire(now));
            Ok(Reply::Subscribed {
                replaced: change.previous.is_some(),
                status: SubscriptionStatus {
                    subscription: change.stored,
                    next_post,
                },
            })
        }
        Request::Unsubscribe { channel } => {
            let guild_id = admin_guild.unwrap_or_default();
            match app.store().delete_subscription(guild_id, channel).await? {
                Some(sub) => Ok(Reply::Unsubscribed(Box::new(sub))),
                None => Err(no_subscription(channel)),
            }
        }
        Request::Subscriptions => {
            let guild_id = admin_guild.unwrap_or_default();
            let now = app.clock().now();
            let subs = app.store().guild_subscriptions(guild_id).await?;
            Ok(Reply::Subscriptions(
                subs.into_iter().map(|s| status(s, now)).collect(),
            ))
        }
        Request::Preview { channel } => {
            preview(app, admin_guild.unwrap_or_default(), channel).await
        }
    }
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

fn no_subscription(channel: u64) -> CommandError {
    CommandError::User(format!(
        "channel {channel} has no subscription in this server; /subscriptions lists them"
    ))
}

fn status(subscription: Subscription, now: chrono::DateTime<chrono::Utc>) -> SubscriptionStatus {
    let next_post = subscription
        .is_active()
        .then(|| subscription.next_fire(now));
    SubscriptionStatus {
        subscription,
        next_post,
    }
}

/// `[digest] top`, within 1..=25 (0, "all", means 25 here).
fn default_count(app: &App) -> u8 {
    match app.config().digest.top {
        0 => MAX_COUNT,
        n => u8::try_from(n).unwrap_or(MAX_COUNT).min(MAX_COUNT),
    }
}

async fn hot(
    app: &App,
    category: Option<String>,
    count: Option<u8>,
    date: Option<NaiveDate>,
    view: HotView,
    page: usize,
) -> Result<Reply, CommandError> {
    let count = count.unwrap_or_else(|| default_count(app));
    let req = DigestRequest {
        date,
        top: Some(usize::from(count)),
        categories: category.into_iter().collect(),
        trending_days: match view {
            HotView::Mailing => None,
            HotView::Trending => Some(0),
        },
    };
    let digest = app.digest(&req, &NoProgress).await?;
    let page = page.min(page_count(digest.entries.len(), HOT_PAGE_SIZE) - 1);
    Ok(Reply::Digest {
        digest: Box::new(digest),
        page,
        per_page: HOT_PAGE_SIZE,
    })
}

/// Active canonical categories (of one group) with their paper counts in the latest recorded
/// mailing. A category's count is the largest among its spellings (`eess.SY` and its alias
/// `cs.SY`): arXiv lists such papers under both, so adding them would count papers twice.
async fn categories(app: &App, group: Option<Group>) -> Result<Reply, CommandError> {
    let latest = app.store().latest_mailing().await?;
    let counts = match &latest {
        Some(m) => app.store().category_counts(m.date).await?,
        None => Default::default(),
    };
    let rows = taxonomy::all()
        .iter()
        .filter(|c| c.active && c.alias_of.is_none())
        .filter(|c| group.is_none_or(|g| c.group == g))
        .map(|c| {
            let papers = taxonomy::all()
                .iter()
                .filter(|x| x.canonical_id() == c.id)
                .filter_map(|x| counts.get(x.id).copied())
                .max()
                .unwrap_or(0);
            CategoryRow {
                id: c.id,
                name: c.name,
                group: c.group,
                papers,
            }
        });
    // Groups in front-page order, categories in arXiv's order within each.
    let mut rows: Vec<CategoryRow> = rows.collect();
    rows.sort_by_key(|r| Group::ALL.iter().position(|g| *g == r.group));
    Ok(Reply::Categories {
        rows,
        date: latest.map(|m| m.date),
        group,
    })
}

async fn search(app: &App, query: String, limit: u8) -> Result<Reply, CommandError> {
    let ids = app.store().search(&query, usize::from(limit)).await?;
    let mut hits = Vec::with_capacity(ids.len());
    for id in &ids {
        // A paper deleted between the two queries is simply not listed.
        if let Some(p) = app.store().paper(id).await? {
            hits.push(p);
        }
    }
    Ok(Reply::Search { query, hits })
}

async fn preview(app: &App, guild_id: u64, channel: u64) -> Result<Reply, CommandError> {
    let sub = app
        .store()
        .guild_subscriptions(guild_id)
        .await?
        .into_iter()
        .find(|s| s.channel_id == channel)
        .ok_or_else(|| no_subscription(channel))?;
    let now = app.clock().now();
    let fire_at = sub.next_fire(now);
    let mailing = app.mailing_for_post(now, fire_at);
    let digest = app.subscription_digest(&sub, mailing).await?;
    Ok(Reply::Preview {
        status: status(sub, now),
        mailing,
        digest: Box::new(digest),
    })
}
