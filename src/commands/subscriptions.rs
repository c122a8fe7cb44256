//! `/subscriptions`: the server's subscribed channels (admin).

use crate::app::App;

use super::handle::status;
use super::request::RequestError;
use super::spec::CommandSpec;
use super::{Args, Command, CommandError, Context, Reply};

/// `/subscriptions` (no options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscriptions;

impl Command for Subscriptions {
    const SPEC: CommandSpec = CommandSpec {
        name: "subscriptions",
        description: "This server's daily posts: channels, times, next post, problems",
        summary: "this server's subscribed channels (admin)",
        options: &[],
        admin: true,
        rest_is_text: false,
    };

    fn parse(_args: &Args) -> Result<Subscriptions, RequestError> {
        Ok(Subscriptions)
    }

    async fn run(self, app: &App, ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let now = app.clock().now();
        let subs = app.guild_subscriptions(ctx.admin_guild()).await?;
        Ok(Reply::Subscriptions(
            subs.into_iter().map(|s| status(s, now)).collect(),
        ))
    }
}
