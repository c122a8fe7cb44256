//! Reading a console line as a command: tokens, `name:value` options, the main option given
//! without its name, and `help` — all driven by the commands' specs
//! ([`crate::commands::COMMANDS`]), so the console offers exactly what Discord registers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::commands::spec::{CommandSpec, OptionKind};
use crate::commands::{Args, COMMANDS, Request, RequestError, Value, spec};

/// The console's own words that ask for `help` (they are no commands of the bot).
pub const HELP_WORDS: &[&str] = &["help", "?"];

/// The console's own words that end the session.
pub const QUIT_WORDS: &[&str] = &["quit", "exit"];

/// One parsed console line.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A blank line or a `#` comment.
    Empty,
    /// `help`, optionally about one command.
    Help(Option<String>),
    /// `quit` or `exit`.
    Quit,
    /// A valid command.
    Command(Request),
}

/// Why a console line is not a valid command. One line, naming what to type instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The first word is no command; carries a close command name when there is one.
    #[error("unknown command '{name}'{}; commands: {}, help, quit", did_you_mean(.suggestion), command_list())]
    UnknownCommand {
        /// What was typed (shortened).
        name: String,
        /// The command probably meant.
        suggestion: Option<&'static str>,
    },
    /// A `name:value` whose name the command does not have.
    #[error("/{command} has no option '{option}'; {}", option_list(.command))]
    UnknownOption {
        /// The command (without `/`).
        command: &'static str,
        /// The unknown name (shortened).
        option: String,
    },
    /// The same option twice: which value was meant is unclear.
    #[error("option {option} is given twice")]
    Duplicate {
        /// The repeated option.
        option: &'static str,
    },
    /// A required option is missing.
    #[error("/{command} needs {option}; usage: {}", usage(.command))]
    Missing {
        /// The command (without `/`).
        command: &'static str,
        /// The missing option.
        option: &'static str,
    },
    /// A second unnamed value: only the main option may omit its name.
    #[error(
        "unexpected '{token}': only the first value ({main}) may be given without a name; name the others, e.g. {example}"
    )]
    Unexpected {
        /// The extra value (shortened).
        token: String,
        /// The command's main option.
        main: &'static str,
        /// A named option to show as an example.
        example: String,
    },
    /// A `"` without its closing one.
    #[error("unterminated quote: close it with \"")]
    UnterminatedQuote,
    /// A line over 16 KiB (it is skipped, not buffered).
    #[error("the line is too long (at most 16384 bytes)")]
    TooLong,
    /// The command is well-formed but a value is not valid.
    #[error(transparent)]
    Invalid(#[from] RequestError),
}

fn did_you_mean(s: &Option<&'static str>) -> String {
    s.map(|s| format!(" (did you mean /{s}?)"))
        .unwrap_or_default()
}

fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|c| format!("/{}", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn option_list(command: &str) -> String {
    match spec(command) {
        Some(c) if !c.options.is_empty() => format!(
            "options: {}",
            c.options
                .iter()
                .map(|o| o.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "it takes no options".to_string(),
    }
}

/// `/subscribe channel:123456789012345678 time:08:00 ...`, required options first.
fn usage(command: &str) -> String {
    let Some(c) = spec(command) else {
        return format!("/{command}");
    };
    let mut out = format!("/{}", c.name);
    for o in c.options {
        if o.required {
            let _ = write!(out, " {}:{}", o.name, o.example);
        } else {
            let _ = write!(out, " [{}:{}]", o.name, o.example);
        }
    }
    out
}

/// A word split into tokens, remembering whether it started with a quote (then it is never
/// read as `name:value`).
#[derive(Debug, PartialEq)]
struct Token {
    text: String,
    quoted_start: bool,
}

/// Splits on whitespace outside double quotes; `\"` and `\\` are escapes inside quotes.
fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut in_token = false;
    let mut quoted_start = false;
    let mut in_quotes = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                if !in_token {
                    quoted_start = true;
                }
                in_token = true;
                in_quotes = !in_quotes;
            }
            '\\' if in_quotes => match chars.next() {
                Some(n) => cur.push(n),
                None => return Err(ParseError::UnterminatedQuote),
            },
            c if c.is_whitespace() && !in_quotes => {
                if in_token {
                    tokens.push(Token {
                        text: std::mem::take(&mut cur),
                        quoted_start,
                    });
                    in_token = false;
                    quoted_start = false;
                }
            }
            c => {
                in_token = true;
                cur.push(c);
            }
        }
    }
    if in_quotes {
        return Err(ParseError::UnterminatedQuote);
    }
    if in_token {
        tokens.push(Token {
            text: cur,
            quoted_start,
        });
    }
    Ok(tokens)
}

/// `name` and `value` when `token` reads as `name:value`: a name of ASCII letters and `_`,
/// and a value that is not the rest of a URL (`https://...`).
fn split_named(token: &Token) -> Option<(&str, &str)> {
    if token.quoted_start {
        return None;
    }
    named(&token.text)
}

/// `name` and `value` when unquoted `text` reads as `name:value` (see [`split_named`]); the
/// completer reads words with the same rule.
pub(super) fn named(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    (is_name && !value.starts_with("//")).then_some((name, value))
}

/// Parses one console line into a validated request (or help, quit, nothing).
pub fn parse_line(line: &str) -> Result<Input, ParseError> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Input::Empty);
    }
    let tokens = tokenize(trimmed)?;
    let Some((first, args)) = tokens.split_first() else {
        return Ok(Input::Empty);
    };
    let name = first.text.trim_start_matches('/').to_ascii_lowercase();
    if HELP_WORDS.contains(&name.as_str()) {
        return Ok(Input::Help(
            args.first()
                .map(|t| t.text.trim_start_matches('/').to_ascii_lowercase()),
        ));
    }
    if QUIT_WORDS.contains(&name.as_str()) {
        return Ok(Input::Quit);
    }
    let Some(cmd) = spec(&name) else {
        return Err(ParseError::UnknownCommand {
            suggestion: suggest_command(&name),
            name: request_echo(&first.text),
        });
    };
    let values = collect_options(cmd, args)?;
    build(cmd, values).map(Input::Command)
}

/// Assigns each token to an option of `cmd`.
fn collect_options(
    cmd: &'static CommandSpec,
    args: &[Token],
) -> Result<BTreeMap<&'static str, String>, ParseError> {
    let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
    let main = cmd.options.first();
    // Whether the main option was filled by unnamed words (so more may follow).
    let mut main_unnamed = false;
    for token in args {
        if let Some((name, value)) = split_named(token) {
            let lower = name.to_ascii_lowercase();
            if let Some(o) = cmd.options.iter().find(|o| o.name == lower) {
                if values.insert(o.name, value.to_string()).is_some() {
                    return Err(ParseError::Duplicate { option: o.name });
                }
                if main.is_some_and(|m| m.name == o.name) {
                    main_unnamed = false;
                }
                continue;
            }
            // `arXiv:2107.00630` is an id, not an option.
            let id_main = main.is_some_and(|m| {
                matches!(m.kind, OptionKind::Id { .. }) && !values.contains_key(m.name)
            });
            if !id_main {
                return Err(ParseError::UnknownOption {
                    command: cmd.name,
                    option: request_echo(name),
                });
            }
        }
        match main {
            Some(m) if !values.contains_key(m.name) => {
                values.insert(m.name, token.text.clone());
                main_unnamed = true;
            }
            Some(m) if cmd.rest_is_text && main_unnamed => {
                if let Some(v) = values.get_mut(m.name) {
                    v.push(' ');
                    v.push_str(&token.text);
                }
            }
            Some(m) => {
                let example = cmd.options.get(1).map_or_else(
                    || format!("{}:{}", m.name, m.example),
                    |o| format!("{}:{}", o.name, o.example),
                );
                return Err(ParseError::Unexpected {
                    token: request_echo(&token.text),
                    main: m.name,
                    example,
                });
            }
            None => {
                return Err(ParseError::UnknownOption {
                    command: cmd.name,
                    option: request_echo(&token.text),
                });
            }
        }
    }
    for o in cmd.options.iter().filter(|o| o.required) {
        if !values.contains_key(o.name) {
            return Err(ParseError::Missing {
                command: cmd.name,
                option: o.name,
            });
        }
    }
    Ok(values)
}

/// Builds the request through the command's own `parse`, the one the Discord front end uses.
fn build(
    cmd: &'static CommandSpec,
    values: BTreeMap<&'static str, String>,
) -> Result<Request, ParseError> {
    let mut args = Args::new(cmd);
    for (name, value) in values {
        args.set(name, Value::Text(value));
    }
    match Request::parse(cmd.name, &args) {
        Some(request) => Ok(request?),
        None => Err(ParseError::UnknownCommand {
            name: cmd.name.to_string(),
            suggestion: None,
        }),
    }
}

/// User text shortened and stripped of control characters for an error message.
fn request_echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// The command whose name is within two edits of `name`, or that `name` starts.
fn suggest_command(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 32 {
        return None;
    }
    COMMANDS
        .iter()
        .map(|c| (edit_distance(name, c.name), c.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
        .or_else(|| {
            COMMANDS
                .iter()
                .find(|c| c.name.starts_with(name))
                .map(|c| c.name)
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The `help` text: every command, or one command's options.
pub fn help(command: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(name) = command {
        let Some(c) = spec(name.trim_start_matches('/')) else {
            return format!(
                "error: unknown command '{}'; commands: {}",
                request_echo(name),
                command_list()
            );
        };
        let _ = writeln!(out, "/{}: {}", c.name, c.summary);
        let _ = writeln!(out, "usage: {}", usage(c.name));
        for (i, o) in c.options.iter().enumerate() {
            let main = if i == 0 {
                " (may be given without its name)"
            } else {
                ""
            };
            let req = if o.required { "required" } else { "optional" };
            let _ = writeln!(out, "  {:<11} {req}: {}{main}", o.name, o.help);
        }
        return out;
    }
    out.push_str("Commands (as on Discord; the first value may be given without its name):\n");
    for c in COMMANDS.iter().copied() {
        let _ = writeln!(out, "  /{:<14} {}", c.name, c.summary);
    }
    out.push_str(
        "  help [command]  this list, or one command's options\n  quit            leave (or end the input)\n\
         Examples:\n  /hot date:2021-07-02 count:3\n  /paper 2107.00630\n  /search \"diffusion models\" limit:5\n  \
         /subscribe channel:123456789012345678 time:08:00 timezone:Europe/Berlin categories:cs.LG,cs.CV\n\
         The console acts as an admin of the pseudo-server 0.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arxiv::taxonomy::Group;
    use crate::commands::categories::Categories;
    use crate::commands::hot::{Hot, HotView};
    use crate::commands::paper::Paper;
    use crate::commands::preview::Preview;
    use crate::commands::search::Search;
    use crate::commands::subscribe::Subscribe;
    use crate::commands::subscriptions::Subscriptions;
    use crate::commands::unsubscribe::Unsubscribe;
    use chrono::{NaiveDate, NaiveTime};

    fn cmd(line: &str) -> Request {
        match parse_line(line) {
            Ok(Input::Command(r)) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match parse_line(line) {
            Err(e) => e.to_string(),
            other => panic!("{line}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(
            cmd("/hot date:2021-07-02 count:3"),
            Request::Hot(Hot {
                category: None,
                count: Some(3),
                date: NaiveDate::from_ymd_opt(2021, 7, 2),
                view: HotView::Mailing,
                page: 0,
            })
        );
        assert_eq!(
            cmd("/paper 2107.00630"),
            Request::from(Paper::new("2107.00630").unwrap())
        );
        assert_eq!(
            cmd("/subscribe channel:123 time:08:00 timezone:Europe/Berlin categories:cs.LG,cs.CV"),
            Request::Subscribe(Subscribe {
                channel: 123,
                time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                timezone: chrono_tz::Europe::Berlin,
                categories: vec!["cs.LG".into(), "cs.CV".into()],
                count: None,
                min_score: 0.0,
            })
        );
        assert_eq!(
            cmd("/search query:\"diffusion models\""),
            Request::from(Search::new("diffusion models", None).unwrap())
        );
    }

    #[test]
    fn positional_main_option_and_free_text() {
        assert_eq!(
            cmd("hot cs.lg count:2"),
            Request::from(Hot::new(Some("cs.LG"), Some(2), None, None).unwrap())
        );
        assert_eq!(
            cmd("/HOT view:trending"),
            Request::from(Hot::new(None, None, None, Some("trending")).unwrap())
        );
        assert_eq!(
            cmd("/search diffusion models limit:5"),
            Request::from(Search::new("diffusion models", Some(5)).unwrap())
        );
        assert_eq!(
            cmd("/search \"count:3\" limit:5"),
            Request::from(Search::new("count:3", Some(5)).unwrap())
        );
        // Ids with colons and URLs are the main option, not options.
        for form in [
            "arXiv:2107.00630",
            "arxiv:2107.00630",
            "https://arxiv.org/abs/2107.00630v1",
        ] {
            assert_eq!(
                cmd(&format!("/paper {form}")),
                Request::from(Paper::new(form).unwrap()),
                "{form}"
            );
        }
        assert_eq!(
            cmd("/paper id:2107.00630"),
            Request::from(Paper::new("2107.00630").unwrap())
        );
        assert_eq!(
            cmd("/categories cs"),
            Request::Categories(Categories {
                group: Some(Group::Cs),
                date: None,
            })
        );
        assert_eq!(
            cmd("/categories date:2021-07-02 group:cs"),
            Request::Categories(Categories {
                group: Some(Group::Cs),
                date: NaiveDate::from_ymd_opt(2021, 7, 2),
            })
        );
        assert_eq!(
            cmd("/unsubscribe <#42>"),
            Request::Unsubscribe(Unsubscribe { channel: 42 })
        );
        assert_eq!(cmd("preview 42"), Request::Preview(Preview { channel: 42 }));
        assert_eq!(cmd("/subscriptions"), Request::Subscriptions(Subscriptions));
        assert_eq!(
            cmd("/subscribe 7 time:7:30 timezone:utc count:5 min_score:1.5"),
            Request::Subscribe(Subscribe {
                channel: 7,
                time: NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                timezone: chrono_tz::UTC,
                categories: vec![],
                count: Some(5),
                min_score: 1.5,
            })
        );
    }

    #[test]
    fn help_quit_blank_and_comments() {
        assert_eq!(parse_line(""), Ok(Input::Empty));
        assert_eq!(parse_line("   # a comment"), Ok(Input::Empty));
        assert_eq!(parse_line("help"), Ok(Input::Help(None)));
        assert_eq!(
            parse_line("/help /hot"),
            Ok(Input::Help(Some("hot".into())))
        );
        assert_eq!(parse_line("quit"), Ok(Input::Quit));
        assert_eq!(parse_line("exit"), Ok(Input::Quit));
        let h = help(None);
        for c in COMMANDS {
            assert!(h.contains(&format!("/{}", c.name)), "{h}");
        }
        let h = help(Some("subscribe"));
        assert!(
            h.contains("usage: /subscribe channel:") && h.contains("min_score"),
            "{h}"
        );
        assert!(help(Some("nope")).starts_with("error: unknown command 'nope'"));
    }

    #[test]
    fn unknown_commands_and_options_list_the_valid_ones() {
        let e = err("/hto");
        assert!(
            e.contains("'/hto'") && e.contains("did you mean /hot?"),
            "{e}"
        );
        assert!(e.contains("/paper") && e.contains("/subscribe"), "{e}");
        let e = err("/frobnicate");
        assert!(
            !e.contains("did you mean") && e.contains("/categories"),
            "{e}"
        );
        let e = err("/hot cout:3");
        assert_eq!(
            e,
            "/hot has no option 'cout'; options: category, count, date, view"
        );
        let e = err("/subscriptions channel:1");
        assert!(e.contains("takes no options"), "{e}");
        let e = err("/subscriptions 1");
        assert!(e.contains("takes no options"), "{e}");
        let e = err("/hot count:3 count:4");
        assert_eq!(e, "option count is given twice");
        let e = err("/hot cs.LG 3");
        assert!(
            e.contains("unexpected '3'") && e.contains("count:10"),
            "{e}"
        );
        let e = err("/subscribe channel:1 time:08:00");
        assert!(
            e.contains("needs timezone") && e.contains("usage: /subscribe"),
            "{e}"
        );
        let e = err("/paper");
        assert!(e.contains("needs id"), "{e}");
        let e = err("/search query:\"open");
        assert!(e.contains("unterminated quote"), "{e}");
    }

    #[test]
    fn bad_values_get_the_request_messages() {
        assert!(err("/hot count:30").contains("from 1 to 25, not '30'"));
        assert!(err("/hot count:three").contains("from 1 to 25, not 'three'"));
        assert!(err("/hot date:2021-13-01").contains("YYYY-MM-DD"));
        assert!(err("/hot cs.LGG").contains("did you mean"));
        assert!(err("/hot view:best").contains("mailing or trending"));
        let e = err("/subscribe channel:1 time:25:00 timezone:UTC");
        assert!(e.contains("'25:00'") && e.contains("08:00"), "{e}");
        let e = err("/subscribe channel:1 time:08:00 timezone:Mars/Olympus");
        assert!(
            e.contains("'Mars/Olympus'") && e.contains("Europe/Berlin"),
            "{e}"
        );
        assert!(
            err("/subscribe channel:general time:08:00 timezone:UTC").contains("not a channel")
        );
        assert!(
            err("/subscribe channel:1 time:08:00 timezone:UTC min_score:lots")
                .contains("min_score")
        );
        assert!(
            err("/subscribe channel:1 time:08:00 timezone:UTC min_score:-1").contains("min_score")
        );
        assert!(err("/paper not-an-id").contains("not an arXiv identifier"));
        assert!(err("/search \"***\"").contains("letter or digit"));
        assert!(err("/categories biology").contains("unknown group"));
    }

    #[test]
    fn tokenizer_handles_quotes_and_escapes() {
        let t = tokenize(r#"a "b c" d:"e \"f\"" "g"h"#).unwrap();
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["a", "b c", "d:e \"f\"", "gh"]);
        assert!(t[1].quoted_start && !t[2].quoted_start);
        assert_eq!(tokenize("O'Brien").unwrap()[0].text, "O'Brien");
        assert_eq!(tokenize("\"\"").unwrap()[0].text, "");
        assert!(tokenize("\"a\\").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]
        /// Arbitrary text never panics the parser and errors are one line.
        #[test]
        fn parse_line_never_panics(line in "\\PC{0,60}|/[a-z]{0,12}( [a-z_]{0,8}:?[\"a-zA-Z0-9:/.\\-]{0,12}){0,4}") {
            if let Err(e) = parse_line(&line) {
                let msg = e.to_string();
                proptest::prop_assert!(!msg.contains('\n'), "{}", msg);
            }
        }
    }
}
