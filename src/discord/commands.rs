//! The slash commands hotpapers registers with Discord, built from the commands' specs
//! ([`crate::commands::COMMANDS`]).
//!
//! Option types and bounds let Discord's client refuse bad input before it is sent (a count
//! of 0, a text channel that is a voice channel), and the server side validates everything
//! again through each command's own `parse`, the one the console uses. Admin commands are
//! hidden from members without Manage Server (`default_member_permissions`) and offered only
//! in servers; [`crate::commands::handle`] re-checks the permission because server admins can
//! override that default.

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{CommandOptionType, InteractionContext};
use serenity::model::channel::ChannelType;
use serenity::model::permissions::Permissions;

use crate::commands::COMMANDS;
use crate::commands::spec::{CommandSpec, OptionKind, OptionSpec};

/// Every slash command, for bulk registration (`Command::set_global_commands` or
/// `GuildId::set_commands`). Bulk overwrite is idempotent, so registering on every start is
/// safe within Discord's 200 creates per day.
pub fn definitions() -> Vec<CreateCommand> {
    COMMANDS.iter().map(|spec| definition(spec)).collect()
}

/// One command as Discord registers it.
pub fn definition(spec: &CommandSpec) -> CreateCommand {
    let mut command = CreateCommand::new(spec.name).description(spec.description);
    if spec.admin {
        // Hidden from members without Manage Server, not offered in DMs.
        command = command
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .contexts(vec![InteractionContext::Guild]);
    }
    for o in spec.options {
        command = command.add_option(option(o));
    }
    command
}

/// One option with its Discord type, bounds, choices and autocomplete.
fn option(o: &OptionSpec) -> CreateCommandOption {
    let kind = match o.kind {
        OptionKind::Text { .. } | OptionKind::Id { .. } | OptionKind::Choice(_) => {
            CommandOptionType::String
        }
        OptionKind::Integer { .. } => CommandOptionType::Integer,
        OptionKind::Number { .. } => CommandOptionType::Number,
        OptionKind::Channel => CommandOptionType::Channel,
    };
    let mut out = CreateCommandOption::new(kind, o.name, o.description);
    if o.required {
        out = out.required(true);
    }
    match o.kind {
        OptionKind::Text { min_len, max_len } => {
            if min_len > 0 {
                out = out.min_length(min_len);
            }
            if max_len > 0 {
                out = out.max_length(max_len);
            }
        }
        OptionKind::Id { max_len } => out = out.max_length(max_len),
        OptionKind::Integer { min, max } => {
            out = out.min_int_value(u64::try_from(min).unwrap_or(0));
            out = out.max_int_value(u64::try_from(max).unwrap_or(u64::MAX));
        }
        OptionKind::Number { min } => out = out.min_number_value(min),
        OptionKind::Channel => {
            out = out.channel_types(vec![ChannelType::Text, ChannelType::News]);
        }
        OptionKind::Choice(choices) => {
            for c in choices() {
                out = out.add_string_choice(c.label, c.value);
            }
        }
    }
    if o.complete.is_some() {
        out = out.set_autocomplete(true);
    }
    out
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
        // Every command is registered, in the order `commands::COMMANDS` pins.
        let specs: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names, specs);
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
