//! `/unsubscribe <channel>`: stop a channel's daily posts (admin).

use crate::app::App;

use super::handle::no_subscription;
use super::request::RequestError;
use super::spec::CommandSpec;
use super::subscribe::channel_option;
use super::{Args, Command, CommandError, Context, Reply};

/// `/unsubscribe`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsubscribe {
    /// The subscribed channel.
    pub channel: u64,
}

impl Command for Unsubscribe {
    const SPEC: CommandSpec = CommandSpec {
        name: "unsubscribe",
        description: "Stop the daily posts in a channel",
        summary: "stop a channel's daily posts (admin)",
        options: &[channel_option("The subscribed channel")],
        admin: true,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Unsubscribe, RequestError> {
        Ok(Unsubscribe {
            channel: args.channel("channel")?,
        })
    }

    async fn run(self, app: &App, ctx: &Context<'_>) -> Result<Reply, CommandError> {
        match app.unsubscribe(ctx.admin_guild(), self.channel).await? {
            Some(sub) => Ok(Reply::Unsubscribed(Box::new(sub))),
            None => Err(no_subscription(self.channel)),
        }
    }
}
