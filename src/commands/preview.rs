//! `/preview <channel>`: what a channel's next daily post will look like (admin).
//!
//! It builds the digest with [`App::subscription_digest`], the same call the scheduler posts
//! with, so the preview is the post.

use crate::app::App;

use super::handle::{no_subscription, status};
use super::request::RequestError;
use super::spec::CommandSpec;
use super::subscribe::channel_option;
use super::{Args, Command, CommandError, Context, Reply};

/// `/preview`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The subscribed channel.
    pub channel: u64,
}

impl Command for Preview {
    const SPEC: CommandSpec = CommandSpec {
        name: "preview",
        description: "Show, only to you, what a subscribed channel's next post will look like",
        summary: "what a channel's next daily post will look like (admin)",
        options: &[channel_option("The subscribed channel")],
        admin: true,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Preview, RequestError> {
        Ok(Preview {
            channel: args.channel("channel")?,
        })
    }

    async fn run(self, app: &App, ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let sub = app
            .guild_subscriptions(ctx.admin_guild())
            .await?
            .into_iter()
            .find(|s| s.channel_id == self.channel)
            .ok_or_else(|| no_subscription(self.channel))?;
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
}
