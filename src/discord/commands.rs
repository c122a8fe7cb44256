//! The slash commands hotpapers registers with Discord.
//!
//! The definitions mirror [`crate::commands::Request`]: option types and bounds let Discord's
//! client refuse bad input before it is sent (a count of 0, a text channel that is a voice
//! channel), and the server side validates everything again through the same
//! [`crate::commands::request`] constructors the console uses. Admin commands are hidden from
//! members without Manage Server (`default_member_permissions`) and offered only in servers;
//! [`crate::commands::handle`] re-checks the permission because server admins can override
//! that default.

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{CommandOptionType, InteractionContext};
use serenity::model::channel::ChannelType;
use serenity::model::permissions::Permissions;

use crate::arxiv::taxonomy::Group;
use crate::commands::request::{MAX_COUNT, MAX_QUERY_CHARS, MAX_SEARCH_LIMIT};

/// Longest category filter a user can type (`cond-mat.stat-mech` is 18 characters).
pub const CATEGORY_MAX_LENGTH: u16 = 32;
/// Longest comma-separated category list `/subscribe` accepts (20 filters of typical length).
pub const CATEGORIES_MAX_LENGTH: u16 = 400;
/// Longest `/paper` input: an id or an arXiv / ar5iv URL.
pub const PAPER_MAX_LENGTH: u16 = 200;
/// Longest IANA zone name (`America/Argentina/ComodRivadavia` is 32).
pub const TIMEZONE_MAX_LENGTH: u16 = 64;

/// Every slash command, for bulk registration (`Command::set_global_commands` or
/// `GuildId::set_commands`). Bulk overwrite is idempotent, so registering on every start is
/// safe within Discord's 200 creates per day.
pub fn definitions() -> Vec<CreateCommand> {
    vec![
        hot(),
        paper(),
        categories(),
        search(),
        subscribe(),
        unsubscribe(),
        subscriptions(),
        preview(),
    ]
}

fn option(kind: CommandOptionType, name: &str, description: &str) -> CreateCommandOption {
    CreateCommandOption::new(kind, name, description)
}

fn count_option(description: &str) -> CreateCommandOption {
    option(CommandOptionType::Integer, "count", description)
        .min_int_value(1)
        .max_int_value(u64::from(MAX_COUNT))
}

fn channel_option(description: &str) -> CreateCommandOption {
    option(CommandOptionType::Channel, "channel", description)
        .required(true)
        .channel_types(vec![ChannelType::Text, ChannelType::News])
}

/// An admin command: hidden from members without Manage Server, not offered in DMs.
fn admin(name: &str, description: &str) -> CreateCommand {
    CreateCommand::new(name)
        .description(description)
        .default_member_permissions(Permissions::MANAGE_GUILD)
        .contexts(vec![InteractionContext::Guild])
}

fn hot() -> CreateCommand {
    CreateCommand::new("hot")
        .description("The hottest new arXiv papers of a mailing, ranked by attention")
        .add_option(
            option(
                CommandOptionType::String,
                "category",
                "Category, archive or group, e.g. cs.LG, math.*, physics (default: the bot's)",
            )
            .set_autocomplete(true)
            .max_length(CATEGORY_MAX_LENGTH),
        )
        .add_option(count_option(
            "How many papers, 1-25 (default: the bot's setting)",
        ))
        .add_option(
            option(
                CommandOptionType::String,
                "date",
                "Mailing listing date, YYYY-MM-DD, e.g. 2021-07-02 (default: the latest)",
            )
            .min_length(10)
            .max_length(10),
        )
        .add_option(
            option(
                CommandOptionType::String,
                "view",
                "One mailing, or trending over the last days (default: mailing)",
            )
            .add_string_choice("mailing: one mailing", "mailing")
            .add_string_choice("trending: recent days, older papers decay", "trending"),
        )
}

fn paper() -> CreateCommand {
    CreateCommand::new("paper")
        .description("Everything known about one arXiv paper: card, attention, links")
        .add_option(
            option(
                CommandOptionType::String,
                "id",
                "arXiv id or URL, e.g. 2107.00630 or https://arxiv.org/abs/2107.00630",
            )
            .required(true)
            .max_length(PAPER_MAX_LENGTH),
        )
}

fn categories() -> CreateCommand {
    let mut group = option(
        CommandOptionType::String,
        "group",
        "Only this group's categories (default: all groups)",
    );
    for g in Group::ALL {
        group = group.add_string_choice(format!("{} ({})", g.name(), g.id()), g.id());
    }
    CreateCommand::new("categories")
        .description("arXiv categories with their paper counts in the latest mailing")
        .add_option(group)
}

fn search() -> CreateCommand {
    CreateCommand::new("search")
        .description("Full-text search over the papers the bot has stored")
        .add_option(
            option(
                CommandOptionType::String,
                "query",
                "Words to find in titles, abstracts and authors, e.g. diffusion models",
            )
            .required(true)
            .max_length(u16::try_from(MAX_QUERY_CHARS).unwrap_or(u16::MAX)),
        )
        .add_option(
            option(
                CommandOptionType::Integer,
                "limit",
                "How many hits, 1-25 (default: 10)",
            )
            .min_int_value(1)
            .max_int_value(u64::from(MAX_SEARCH_LIMIT)),
        )
}

fn subscribe() -> CreateCommand {
    admin(
        "subscribe",
        "Post the daily hot papers in a channel (replaces its earlier subscription)",
    )
    .add_option(channel_option(
        "The text or announcement channel to post in",
    ))
    .add_option(
        option(
            CommandOptionType::String,
            "time",
            "Local time to post, 24h, e.g. 08:30",
        )
        .required(true)
        .min_length(4)
        .max_length(5),
    )
    .add_option(
        option(
            CommandOptionType::String,
            "timezone",
            "IANA time zone of that time, e.g. Europe/Berlin; follows daylight saving",
        )
        .required(true)
        .set_autocomplete(true)
        .max_length(TIMEZONE_MAX_LENGTH),
    )
    .add_option(
        option(
            CommandOptionType::String,
            "categories",
            "Comma-separated categories, e.g. cs.LG, cs.CV, math.* (default: the bot's)",
        )
        .set_autocomplete(true)
        .max_length(CATEGORIES_MAX_LENGTH),
    )
    .add_option(count_option(
        "How many papers per post, 1-25 (default: the bot's setting)",
    ))
    .add_option(
        option(
            CommandOptionType::Number,
            "min_score",
            "Leave out papers scoring below this (default: 0, keep all)",
        )
        .min_number_value(0.0),
    )
}

fn unsubscribe() -> CreateCommand {
    admin("unsubscribe", "Stop the daily posts in a channel")
        .add_option(channel_option("The subscribed channel"))
}

fn subscriptions() -> CreateCommand {
    admin(
        "subscriptions",
        "This server's daily posts: channels, times, next post, problems",
    )
}

fn preview() -> CreateCommand {
    admin(
        "preview",
        "Show, only to you, what a subscribed channel's next post will look like",
    )
    .add_option(channel_option("The subscribed channel"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Discord's rule for command and option names: `^[-_\p{L}\p{N}]{1,32}$`, lowercase where
    /// the letter has a lowercase form.
    fn name_ok(name: &str) -> bool {
        let n = name.chars().count();
        (1..=32).contains(&n)
            && name
                .chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && name.chars().all(|c| !c.is_uppercase())
    }

    fn description_ok(d: &str) -> bool {
        (1..=100).contains(&d.chars().count())
    }

    /// Every rule Discord checks on a command, as a list of problems.
    fn problems(command: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let cname = command["name"].as_str().unwrap_or_default();
        if !name_ok(cname) {
            out.push(format!("command name '{cname}'"));
        }
        if !command["description"].as_str().is_some_and(description_ok) {
            out.push(format!("{cname}: description"));
        }
        let options = command["options"].as_array().cloned().unwrap_or_default();
        if options.len() > 25 {
            out.push(format!("{cname}: {} options", options.len()));
        }
        let mut seen_optional = false;
        let mut names = Vec::new();
        for o in &options {
            let oname = o["name"].as_str().unwrap_or_default();
            if !name_ok(oname) {
                out.push(format!("{cname}: option name '{oname}'"));
            }
            if names.contains(&oname) {
                out.push(format!("{cname}: duplicate option '{oname}'"));
            }
            names.push(oname);
            if !o["description"].as_str().is_some_and(description_ok) {
                out.push(format!("{cname} {oname}: description"));
            }
            let required = o["required"].as_bool().unwrap_or(false);
            if required && seen_optional {
                out.push(format!("{cname} {oname}: required after optional"));
            }
            seen_optional |= !required;
            let choices = o["choices"].as_array().cloned().unwrap_or_default();
            if choices.len() > 25 {
                out.push(format!("{cname} {oname}: {} choices", choices.len()));
            }
            if !choices.is_empty() && o["autocomplete"].as_bool() == Some(true) {
                out.push(format!("{cname} {oname}: choices and autocomplete"));
            }
            for c in &choices {
                if !c["name"].as_str().is_some_and(description_ok) {
                    out.push(format!("{cname} {oname}: choice name {c}"));
                }
                if c["value"].as_str().is_some_and(|v| v.chars().count() > 100) {
                    out.push(format!("{cname} {oname}: choice value {c}"));
                }
            }
        }
        out
    }

    fn definitions_json() -> Vec<Value> {
        definitions()
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    }

    #[test]
    fn every_command_follows_discords_rules() {
        let all = definitions_json();
        let names: Vec<&str> = all.iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "hot",
                "paper",
                "categories",
                "search",
                "subscribe",
                "unsubscribe",
                "subscriptions",
                "preview"
            ]
        );
        let problems: Vec<String> = all.iter().flat_map(problems).collect();
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn the_checker_catches_broken_rules() {
        let bad = serde_json::json!({"name": "Hot", "description": "",
        "options": [
            {"name": "a", "description": "x", "type": 3},
            {"name": "b c", "description": "y".repeat(101), "type": 3, "required": true},
            {"name": "a", "description": "z", "type": 3,
             "choices": (0..26).map(|i| serde_json::json!({"name": i.to_string(), "value": "v"})).collect::<Vec<_>>()}
        ]});
        let p = problems(&bad);
        for want in [
            "command name 'Hot'",
            "Hot: description",
            "Hot: option name 'b c'",
            "Hot b c: description",
            "Hot b c: required after optional",
            "Hot: duplicate option 'a'",
            "Hot a: 26 choices",
        ] {
            assert!(p.iter().any(|x| x == want), "{want} not in {p:?}");
        }
        assert!(name_ok("min_score") && name_ok("x-1") && !name_ok(&"a".repeat(33)));
    }

    #[test]
    fn options_are_typed_and_bounded() {
        let all = definitions_json();
        let find = |cmd: &str, opt: &str| -> Value {
            let c = all.iter().find(|c| c["name"] == cmd).unwrap();
            c["options"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == opt)
                .unwrap()
                .clone()
        };
        let count = find("hot", "count");
        assert_eq!(count["type"], 4);
        assert_eq!(
            (count["min_value"].as_f64(), count["max_value"].as_f64()),
            (Some(1.0), Some(25.0))
        );
        assert_eq!(find("hot", "category")["autocomplete"], true);
        assert_eq!(find("hot", "view")["choices"].as_array().unwrap().len(), 2);
        assert_eq!(
            find("categories", "group")["choices"]
                .as_array()
                .unwrap()
                .len(),
            8
        );
        let channel = find("subscribe", "channel");
        assert_eq!(channel["type"], 7);
        assert_eq!(channel["channel_types"], serde_json::json!([0, 5]));
        assert_eq!(find("subscribe", "timezone")["autocomplete"], true);
        assert_eq!(find("subscribe", "categories")["autocomplete"], true);
        assert_eq!(find("subscribe", "min_score")["type"], 10);
        assert!(
            find("subscribe", "time")["description"]
                .as_str()
                .unwrap()
                .contains("24h, e.g. 08:30")
        );
    }

    #[test]
    fn admin_commands_need_manage_server_and_a_server() {
        for c in definitions_json() {
            let admin = ["subscribe", "unsubscribe", "subscriptions", "preview"]
                .contains(&c["name"].as_str().unwrap());
            if admin {
                assert_eq!(c["default_member_permissions"], "32", "{c}");
                assert_eq!(c["contexts"], serde_json::json!([0]), "{c}");
            } else {
                assert!(
                    c.get("default_member_permissions")
                        .is_none_or(Value::is_null),
                    "{c}"
                );
            }
        }
    }
}
