//! Tab completion for the interactive console: command names, option names and option values.
//!
//! Everything offered comes from the commands' specs ([`crate::commands::COMMANDS`]) and, for
//! values, from the completions Discord's autocomplete uses ([`crate::commands::complete`]),
//! so the console and Discord offer the same categories and time zones. [`complete`] is a pure
//! function of the line and the cursor; the line editor (`console::editor`) only adapts it.

use chrono::{DateTime, Utc};

use crate::commands::complete::{MAX_CHOICES, choices};
use crate::commands::spec::{CommandSpec, Completion, OptionKind, OptionSpec};
use crate::commands::{COMMANDS, spec};

use super::MAX_LINE_BYTES;
use super::parse::{HELP_WORDS, QUIT_WORDS, named};

/// One completion: what the list shows and what replaces the word being completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Shown in the list of completions (`cs.LG — Machine Learning`).
    pub display: String,
    /// Replaces the text from the returned start to the cursor (`category:cs.LG `).
    pub replacement: String,
}

/// Completions for `line` with the cursor at byte `pos`: the byte offset where the word being
/// completed starts, and what may replace it (empty when nothing fits). `now` dates the time
/// zones' UTC offsets.
///
/// The first word completes to a command (`/ho` → `/hot`, with or without the `/`, and the
/// console's own `help` and `quit`); `help`'s argument to a command; later words to the
/// command's option names not given yet (`cat` → `category:`) or, when none fits and the
/// command's main option is still open, to the main option's values; and `name:value` to
/// that option's values: categories, time zones, or its fixed choices. A category list
/// (`categories:cs.LG,cs.C`) completes its last item. A complete command, value or choice
/// gets a trailing space unless one follows the cursor; values with spaces or quotes are
/// quoted.
pub fn complete(line: &str, pos: usize, now: DateTime<Utc>) -> (usize, Vec<Candidate>) {
    let Some(head) = line.get(..pos) else {
        return (0, Vec::new());
    };
    if head.len() > MAX_LINE_BYTES {
        return (pos, Vec::new());
    }
    let space = if line[pos..].starts_with(char::is_whitespace) {
        ""
    } else {
        " "
    };
    let (done, start) = words(head);
    let word = &head[start..];
    let found = match done.split_first() {
        None => command_names(word, space),
        Some((first, args)) => {
            let name = first.trim_start_matches('/').to_ascii_lowercase();
            if HELP_WORDS.contains(&name.as_str()) {
                if args.is_empty() {
                    command_names(word, space)
                        .into_iter()
                        .filter(|c| !is_console_word(&c.display))
                        .collect()
                } else {
                    Vec::new()
                }
            } else {
                match spec(&name) {
                    Some(cmd) => arguments(cmd, args, word, space, now),
                    None => Vec::new(),
                }
            }
        }
    };
    (start, found)
}

/// The finished words before the cursor (raw text, quotes kept) and where the word at the
/// cursor starts (the cursor itself after a space). Whitespace inside double quotes does
/// not split; `\"` inside quotes does not close them.
fn words(head: &str) -> (Vec<&str>, usize) {
    let mut done = Vec::new();
    let mut start: Option<usize> = None;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in head.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => {
                in_quotes = !in_quotes;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !in_quotes => {
                if let Some(s) = start.take() {
                    done.push(&head[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    (done, start.unwrap_or(head.len()))
}

/// Whether `display` is one of the console's own words (`help`, `/quit`, …).
fn is_console_word(display: &str) -> bool {
    let word = display.trim_start_matches('/');
    HELP_WORDS.contains(&word) || QUIT_WORDS.contains(&word)
}

/// The commands (and the console's own words) that `word` starts, keeping its `/` or not.
fn command_names(word: &str, space: &str) -> Vec<Candidate> {
    let slash = if word.starts_with('/') { "/" } else { "" };
    let typed = word.trim_start_matches('/').to_ascii_lowercase();
    let own = HELP_WORDS
        .iter()
        .chain(QUIT_WORDS)
        .copied()
        .filter(|w| w.bytes().all(|b| b.is_ascii_alphabetic()));
    COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(own)
        .filter(|name| name.starts_with(&typed))
        .map(|name| {
            let display = format!("{slash}{name}");
            Candidate {
                replacement: format!("{display}{space}"),
                display,
            }
        })
        .collect()
}

/// Completions for `word`, an argument of `cmd` after the finished arguments `args`.
fn arguments(
    cmd: &'static CommandSpec,
    args: &[&str],
    word: &str,
    space: &str,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    if let Some((name, value)) = unquoted(word).then(|| named(word)).flatten() {
        return match cmd.option(&name.to_ascii_lowercase()) {
            Some(option) => values(option, value, space, now)
                .into_iter()
                .map(|(display, value)| Candidate {
                    display,
                    replacement: format!("{name}:{value}"),
                })
                .collect(),
            None => Vec::new(),
        };
    }
    let given: Vec<String> = args
        .iter()
        .filter(|a| unquoted(a))
        .filter_map(|a| named(a))
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    let typed = word.to_ascii_lowercase();
    let names: Vec<Candidate> = cmd
        .options
        .iter()
        .filter(|o| !given.iter().any(|g| g == o.name) && o.name.starts_with(&typed))
        .map(|o| Candidate {
            display: format!("{}:", o.name),
            replacement: format!("{}:", o.name),
        })
        .collect();
    if !names.is_empty() || word.is_empty() {
        return names;
    }
    // The main option given without its name, when no earlier word filled it.
    let main_open = args.iter().all(|a| unquoted(a) && named(a).is_some());
    match cmd.main_option() {
        Some(main) if main_open && !given.iter().any(|g| g == main.name) => {
            values(main, word, space, now)
                .into_iter()
                .map(|(display, replacement)| Candidate {
                    display,
                    replacement,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Whether `word` does not start with a quote (a quoted word is never `name:value`).
fn unquoted(word: &str) -> bool {
    !word.starts_with('"')
}

/// `(display, value as typed)` completions of `typed` for `option`.
fn values(
    option: &OptionSpec,
    typed: &str,
    space: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let prefix = typed.strip_prefix('"').unwrap_or(typed);
    match (option.complete, option.kind) {
        (Some(Completion::CategoryList), _) => category_list(prefix, now),
        (Some(kind), _) => choices(kind, prefix, now)
            .into_iter()
            .map(|(label, value)| (label, format!("{}{space}", quote(&value))))
            .collect(),
        (None, OptionKind::Choice(fixed)) => {
            let lower = prefix.to_ascii_lowercase();
            fixed()
                .into_iter()
                .filter(|c| c.value.to_ascii_lowercase().starts_with(&lower))
                .take(MAX_CHOICES)
                .map(|c| (c.label, format!("{}{space}", quote(c.value))))
                .collect()
        }
        (None, _) => Vec::new(),
    }
}

/// A comma-separated category list: the last item completed, the ones before kept (and not
/// offered again). No trailing space, so another `,` can follow.
fn category_list(typed: &str, now: DateTime<Utc>) -> Vec<(String, String)> {
    let split = typed.rfind(',').map_or(0, |i| i + 1);
    let (kept, last) = typed.split_at(split);
    let listed: Vec<&str> = kept.split(',').map(str::trim).collect();
    choices(Completion::Category, last.trim_start(), now)
        .into_iter()
        .filter(|(_, v)| !listed.iter().any(|k| k.eq_ignore_ascii_case(v)))
        .map(|(label, v)| (label, quote(&format!("{kept}{v}"))))
        .collect()
}

/// `value` as one console word: as it is, or in double quotes (with `\"` and `\\`) when it is
/// empty or has whitespace or quotes.
fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '"') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::{Input, parse_line};
    use chrono::TimeZone as _;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 7, 3, 12, 0, 0).unwrap()
    }

    /// Completions at the end of `line`: the start and the replacements.
    fn at_end(line: &str) -> (usize, Vec<String>) {
        let (start, found) = complete(line, line.len(), now());
        (start, found.into_iter().map(|c| c.replacement).collect())
    }

    #[test]
    fn completes_command_names_with_and_without_the_slash() {
        assert_eq!(at_end("/ho"), (0, vec!["/hot ".to_string()]));
        assert_eq!(at_end("ho"), (0, vec!["hot ".to_string()]));
        assert_eq!(at_end("  /HO"), (2, vec!["/hot ".to_string()]));
        let (_, subs) = at_end("/sub");
        assert_eq!(subs, ["/subscribe ", "/subscriptions "]);
        let (_, h) = at_end("h");
        assert_eq!(h, ["hot ", "help "]);
        assert_eq!(at_end("q").1, ["quit "]);
        // Every command of the specs, and the console's own words.
        let (_, all) = at_end("/");
        for c in COMMANDS {
            assert!(all.contains(&format!("/{} ", c.name)), "{all:?}");
        }
        assert!(all.contains(&"/help ".to_string()) && all.contains(&"/quit ".to_string()));
        assert!(at_end("/nope").1.is_empty());
        // A space already after the cursor: none added.
        let (start, found) = complete("/ho count:3", 3, now());
        assert_eq!((start, found[0].replacement.as_str()), (0, "/hot"));
        // `help` takes a command.
        assert_eq!(at_end("help pa").1, ["paper "]);
        assert!(at_end("help hot c").1.is_empty());
    }

    #[test]
    fn completes_option_names_not_given_yet() {
        assert_eq!(at_end("/hot cat"), (5, vec!["category:".to_string()]));
        assert_eq!(at_end("/hot c").1, ["category:", "count:"]);
        assert_eq!(at_end("/hot count:3 c").1, ["category:"]);
        assert_eq!(at_end("/hot ").1, ["category:", "count:", "date:", "view:"]);
        assert_eq!(at_end("/subscribe channel:1 ti").1, ["time:", "timezone:"]);
        assert!(at_end("/subscriptions ").1.is_empty());
        assert!(at_end("/frob cat").1.is_empty());
        // A search's free text is not completed.
        assert!(at_end("/search diffusion mod").1.is_empty());
    }

    #[test]
    fn completes_categories_as_discord_does() {
        let (start, found) = complete("/hot category:cs.l", 18, now());
        assert_eq!(start, 5);
        let got: Vec<&str> = found.iter().map(|c| c.replacement.as_str()).collect();
        assert!(got.contains(&"category:cs.LG "), "{got:?}");
        assert!(got.contains(&"category:cs.LO "), "{got:?}");
        assert!(
            found
                .iter()
                .any(|c| c.display.starts_with("cs.LG — ") && c.display.contains("Learning")),
            "{found:?}"
        );
        // The same values, in the same order, as Discord's autocomplete.
        let discord: Vec<String> = crate::commands::complete::category_choices("cs.l")
            .into_iter()
            .map(|(_, v)| format!("category:{v} "))
            .collect();
        assert_eq!(got, discord);
        // The main option without its name, when no option name fits.
        let (start, main) = at_end("/hot cs.l");
        assert_eq!(start, 5);
        assert!(main.contains(&"cs.LG ".to_string()), "{main:?}");
        assert!(at_end("/hot cs.LG cs.l").1.is_empty(), "main already given");
        assert!(at_end("/hot category:cs.LG cs.l").1.is_empty());
        // Option names are matched case-insensitively; the name is kept as typed.
        assert!(
            at_end("/hot CATEGORY:cs.l")
                .1
                .contains(&"CATEGORY:cs.LG ".to_string())
        );
    }

    #[test]
    fn completes_the_last_item_of_a_category_list() {
        let (start, got) = at_end("/subscribe 1 categories:cs.LG,cs.C");
        assert_eq!(start, 13);
        assert!(
            got.contains(&"categories:cs.LG,cs.CV".to_string()),
            "{got:?}"
        );
        assert!(got.iter().all(|g| g.starts_with("categories:cs.LG,")));
        let (_, again) = at_end("/subscribe 1 categories:cs.LG,cs.L");
        assert!(!again.contains(&"categories:cs.LG,cs.LG".to_string()));
        let (_, first) = at_end("/subscribe 1 categories:stat.M");
        assert_eq!(first, ["categories:stat.ME", "categories:stat.ML"]);
    }

    #[test]
    fn completes_time_zones_and_fixed_choices() {
        let line = "/subscribe channel:1 time:08:00 timezone:berl";
        let (start, found) = complete(line, line.len(), now());
        assert_eq!(start, 32);
        assert_eq!(
            found[0],
            Candidate {
                display: "Europe/Berlin (now UTC+02:00)".into(),
                replacement: "timezone:Europe/Berlin ".into(),
            }
        );
        assert_eq!(
            at_end("/subscribe 1 timezone:new york").1,
            Vec::<String>::new()
        );
        let (_, ny) = at_end("/subscribe 1 timezone:\"new york");
        assert_eq!(ny[0], "timezone:America/New_York ");
        assert_eq!(at_end("/hot view:t").1, ["view:trending "]);
        assert_eq!(at_end("/hot view:").1, ["view:mailing ", "view:trending "]);
        // Options without completions offer nothing.
        assert!(at_end("/hot date:2021").1.is_empty());
        assert!(at_end("/hot nope:x").1.is_empty());
        // `arXiv:…` is /paper's id, not an option.
        assert!(at_end("/paper arXiv:2107").1.is_empty());
    }

    #[test]
    fn every_completion_parses() {
        for line in [
            "/ho",
            "/hot category:cs.l",
            "/hot cs",
            "/hot view:",
            "/subscribe channel:1 time:08:00 timezone:Europe/",
            "/subscribe channel:1 time:08:00 timezone:UTC categories:cs.LG,cs.",
            "/subscribe channel:1 time:08:00 timezone:UTC categories:",
        ] {
            let (start, found) = complete(line, line.len(), now());
            assert!(!found.is_empty(), "{line}");
            for c in found {
                let completed = format!("{}{}", &line[..start], c.replacement);
                assert!(
                    matches!(parse_line(&completed), Ok(Input::Command(_))),
                    "{completed}: {:?}",
                    parse_line(&completed)
                );
            }
        }
    }

    #[test]
    fn quotes_values_that_need_it() {
        assert_eq!(quote("cs.LG"), "cs.LG");
        assert_eq!(quote("two words"), "\"two words\"");
        assert_eq!(quote("say \"hi\\\""), "\"say \\\"hi\\\\\\\"\"");
        assert_eq!(quote(""), "\"\"");
        let (done, _) = words("/search \"a b\" c");
        assert_eq!(done, ["/search", "\"a b\""]);
        let (done, start) = words("/hot \"x \\\" y");
        assert_eq!((done, start), (vec!["/hot"], 5));
    }

    #[test]
    fn hostile_input_gets_no_completions_and_no_panic() {
        let long = format!("/hot category:{}", "x".repeat(MAX_LINE_BYTES));
        assert!(at_end(&long).1.is_empty());
        // A cursor inside a multi-byte character or past the end.
        assert!(complete("/hot é", 6, now()).1.is_empty());
        assert!(complete("/hot", 99, now()).1.is_empty());
        for line in [
            "\u{0}\u{1b}[A",
            "\"",
            "/hot \"",
            "/hot category:\"",
            "::::",
            "/hot :x",
        ] {
            let _ = complete(line, line.len(), now());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// Any text and cursor: no panic, a start at a char boundary no later than the cursor.
        #[test]
        fn never_panics(line in "\\PC{0,40}|/[a-z]{0,10}( [a-z_]{0,10}:?[\"a-zA-Z0-9:/.,\\-]{0,10}){0,3}", cut in 0usize..50) {
            let pos = line.len().min(cut);
            let (start, _) = complete(&line, pos, now());
            proptest::prop_assert!(start <= pos);
            proptest::prop_assert!(line.is_char_boundary(start));
        }
    }
}
