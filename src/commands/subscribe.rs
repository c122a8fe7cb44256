//! `/subscribe <channel> <time> <timezone> [categories] [count] [min_score]`: post the daily
//! digest in a channel (admin).

use chrono::NaiveTime;
use chrono_tz::Tz;

use crate::app::App;
use crate::subscription::Subscription;

use super::handle::default_count;
use super::reply::SubscriptionStatus;
use super::request::{self, RequestError};
use super::spec::{CommandSpec, Completion, OptionKind, OptionSpec, count_option, text};
use super::{Args, Command, CommandError, Context, Reply};

/// Longest comma-separated category list `/subscribe` accepts (20 filters of typical length).
pub const CATEGORIES_MAX_LENGTH: u16 = 400;
/// Longest IANA zone name (`America/Argentina/ComodRivadavia` is 32).
pub const TIMEZONE_MAX_LENGTH: u16 = 64;

/// The channel option of the admin commands.
pub(crate) const fn channel_option(description: &'static str) -> OptionSpec {
    OptionSpec {
        name: "channel",
        kind: OptionKind::Channel,
        required: true,
        complete: None,
        description,
        help: "the channel id",
        example: "123456789012345678",
    }
}

/// `/subscribe`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscribe {
    /// The channel to post in (of the invoker's server).
    pub channel: u64,
    /// Local time of day, minute precision.
    pub time: NaiveTime,
    /// The zone `time` is in; posts follow its daylight-saving changes.
    pub timezone: Tz,
    /// Canonical category filters; empty for the configured categories.
    pub categories: Vec<String>,
    /// 1..=25; `None` for `[digest] top` (at most 25).
    pub count: Option<u8>,
    /// Papers scoring below this are left out (finite, ≥ 0).
    pub min_score: f64,
}

/// The arguments of `/subscribe`, as the front end received them.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscribeArgs<'a> {
    /// The channel to post in.
    pub channel: u64,
    /// `HH:MM`, 24-hour.
    pub time: &'a str,
    /// IANA name.
    pub timezone: &'a str,
    /// Comma- or space-separated category filters.
    pub categories: Option<&'a str>,
    /// Papers per post, 1..=25; `None` for `[digest] top`.
    pub count: Option<i64>,
    /// Leave out papers scoring below this; `None` for 0.
    pub min_score: Option<f64>,
}

impl Subscribe {
    /// From the values as typed.
    pub fn new(args: SubscribeArgs<'_>) -> Result<Subscribe, RequestError> {
        let categories = match args.categories {
            Some(list) => request::parse_categories(list)?,
            None => Vec::new(),
        };
        let min_score = match args.min_score {
            Some(m) => request::parse_min_score(m)?,
            None => 0.0,
        };
        Ok(Subscribe {
            channel: request::check_channel(args.channel)?,
            time: request::parse_time(args.time)?,
            timezone: request::parse_timezone(args.timezone)?,
            categories,
            count: args
                .count
                .map(|c| request::parse_count("count", c))
                .transpose()?,
            min_score,
        })
    }
}

impl Command for Subscribe {
    const SPEC: CommandSpec = CommandSpec {
        name: "subscribe",
        description: "Post the daily hot papers in a channel (replaces its earlier subscription)",
        summary: "post the daily digest in a channel (admin)",
        options: &[
            channel_option("The text or announcement channel to post in"),
            OptionSpec {
                name: "time",
                kind: text(4, 5),
                required: true,
                complete: None,
                description: "Local time to post, 24h, e.g. 08:30",
                help: "local time of day, 24-hour HH:MM",
                example: "08:00",
            },
            OptionSpec {
                name: "timezone",
                kind: text(0, TIMEZONE_MAX_LENGTH),
                required: true,
                complete: Some(Completion::Timezone),
                description: "IANA time zone of that time, e.g. Europe/Berlin; follows daylight saving",
                help: "IANA time zone of the time",
                example: "Europe/Berlin",
            },
            OptionSpec {
                name: "categories",
                kind: text(0, CATEGORIES_MAX_LENGTH),
                required: false,
                complete: Some(Completion::CategoryList),
                description: "Comma-separated categories, e.g. cs.LG, cs.CV, math.* (default: the bot's)",
                help: "comma-separated filters; default: the configured ones",
                example: "cs.LG,cs.CV",
            },
            count_option(
                "How many papers per post, 1-25 (default: the bot's setting)",
                "papers per post, 1-25",
            ),
            OptionSpec {
                name: "min_score",
                kind: OptionKind::Number { min: 0.0 },
                required: false,
                complete: None,
                description: "Leave out papers scoring below this (default: 0, keep all)",
                help: "leave out papers scoring below this",
                example: "0",
            },
        ],
        admin: true,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Subscribe, RequestError> {
        let min_score = args.number("min_score").map_err(|e| match e {
            RequestError::NotANumber { value, .. } => RequestError::BadMinScore(value),
            other => other,
        })?;
        Subscribe::new(SubscribeArgs {
            channel: args.channel("channel")?,
            time: args.required_text("time")?,
            timezone: args.required_text("timezone")?,
            categories: args.text("categories")?,
            count: args.integer("count")?,
            min_score,
        })
    }

    async fn run(self, app: &App, ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let now = app.clock().now();
        let sub = Subscription {
            id: 0,
            guild_id: ctx.admin_guild(),
            channel_id: self.channel,
            time: self.time,
            timezone: self.timezone,
            categories: self.categories,
            count: self.count.unwrap_or_else(|| default_count(app)),
            min_score: self.min_score,
            created_by: ctx.who.user_id,
            created_at: now,
            disabled_reason: None,
        };
        let change = app.subscribe(&sub).await?;
        let next_post = Some(change.stored.next_fire(now));
        Ok(Reply::Subscribed {
            replaced: change.previous.is_some(),
            status: SubscriptionStatus {
                subscription: change.stored,
                next_post,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_validated() {
        let ok = Subscribe::new(SubscribeArgs {
            channel: 1,
            time: "08:00",
            timezone: "Europe/Berlin",
            categories: Some("cs.LG,cs.CV"),
            count: Some(5),
            min_score: Some(1.0),
        })
        .unwrap();
        assert_eq!(ok.categories, ["cs.LG", "cs.CV"]);
        let req = crate::commands::Request::from(ok);
        assert!(req.is_admin() && req.name() == "subscribe");
        let bad_time = Subscribe::new(SubscribeArgs {
            channel: 1,
            time: "25:00",
            timezone: "Europe/Berlin",
            ..SubscribeArgs::default()
        });
        assert_eq!(bad_time, Err(RequestError::BadTime("25:00".into())));
        let channel_zero = Subscribe::new(SubscribeArgs {
            channel: 0,
            time: "08:00",
            timezone: "UTC",
            ..SubscribeArgs::default()
        });
        assert_eq!(channel_zero, Err(RequestError::BadChannel("0".into())));
        let text = Args::new(&Subscribe::SPEC)
            .with("channel", crate::commands::Value::Text("1".into()))
            .with("time", crate::commands::Value::Text("08:00".into()))
            .with("timezone", crate::commands::Value::Text("UTC".into()))
            .with("min_score", crate::commands::Value::Text("lots".into()));
        assert_eq!(
            Subscribe::parse(&text),
            Err(RequestError::BadMinScore("lots".into()))
        );
    }
}
