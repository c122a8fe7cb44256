//! `hotpapers console`: the bot's commands typed as text, answers rendered as plain text.
//!
//! Lines look like Discord slash commands: `/hot date:2021-07-02 count:3`, `/paper 2107.00630`,
//! `/search "diffusion models" limit:5`. The first value may be given without its option name
//! (it fills the command's main option); the others are `name:value`, with double quotes
//! around values that contain spaces. The leading `/` is optional; `help` lists the commands,
//! `quit` (or end of input) leaves, and lines starting with `#` are comments.
//!
//! The console user is an admin of the pseudo-server 0 ([`Invoker::console`]): anyone who can
//! run the binary can already edit the database. Subscriptions made here are stored like any
//! other, for the channel id given, under server 0 (so Discord's `/subscriptions`, which lists
//! a real server's, does not show them).
//!
//! Parsing ([`parse_line`]) and rendering ([`render`]) are pure; [`run`] wires them to
//! [`handle`] over any input and output, which is how the tests drive it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write};

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};

use crate::app::{App, PaperCard};
use crate::digest::markdown::number;
use crate::digest::text::{self, one_line};

use super::handlers::handle;
use super::reply::{CategoryRow, Reply, SubscriptionStatus};
use super::request::{self, Invoker, MAX_COUNT, MAX_SEARCH_LIMIT, Request, RequestError};
use crate::subscription::Subscription;

/// The longest input line read (bytes); longer lines are rejected, not buffered.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// What the console prompts with when stdin is a terminal.
const PROMPT: &str = "hotpapers> ";

/// How a value is read from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Free text, passed on as typed.
    Text,
    /// An arXiv id or URL: may contain `:` (`arXiv:2107.00630`, `https://...`).
    Id,
    /// A whole number within the bounds.
    Integer { min: u8, max: u8 },
    /// A decimal number.
    Number,
}

/// One option of a console command.
#[derive(Debug)]
struct OptionSpec {
    name: &'static str,
    kind: Kind,
    required: bool,
    /// What to type, for `help`.
    example: &'static str,
    help: &'static str,
}

/// One console command; its first option is the main one (may be given without a name).
#[derive(Debug)]
struct CommandSpec {
    name: &'static str,
    summary: &'static str,
    options: &'static [OptionSpec],
    /// Unnamed words after the first are appended to the main option (`/search a b c`).
    rest_is_text: bool,
}

const fn opt(
    name: &'static str,
    kind: Kind,
    required: bool,
    example: &'static str,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        required,
        example,
        help,
    }
}

const COUNT: Kind = Kind::Integer {
    min: 1,
    max: MAX_COUNT,
};

/// Every command, in the order `help` lists them.
static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hot",
        summary: "the ranked papers of a mailing",
        options: &[
            opt(
                "category",
                Kind::Text,
                false,
                "cs.LG",
                "a category, archive (cs) or group (physics); default: the configured ones",
            ),
            opt(
                "count",
                COUNT,
                false,
                "10",
                "how many papers, 1-25; default: [digest] top",
            ),
            opt(
                "date",
                Kind::Text,
                false,
                "2021-07-02",
                "the mailing's listing date; default: the latest",
            ),
            opt(
                "view",
                Kind::Text,
                false,
                "mailing",
                "mailing (one mailing) or trending (recent days, decayed by age)",
            ),
        ],
        rest_is_text: false,
    },
    CommandSpec {
        name: "paper",
        summary: "everything known about one paper",
        options: &[opt(
            "id",
            Kind::Id,
            true,
            "2107.00630",
            "an arXiv id or URL",
        )],
        rest_is_text: false,
    },
    CommandSpec {
        name: "categories",
        summary: "the arXiv categories with paper counts of the latest mailing",
        options: &[opt(
            "group",
            Kind::Text,
            false,
            "cs",
            "only one group: physics, math, cs, q-bio, q-fin, stat, eess, econ",
        )],
        rest_is_text: false,
    },
    CommandSpec {
        name: "search",
        summary: "full-text search over stored papers",
        options: &[
            opt(
                "query",
                Kind::Text,
                true,
                "\"diffusion models\"",
                "words that must all appear in the title, abstract or authors",
            ),
            opt(
                "limit",
                Kind::Integer {
                    min: 1,
                    max: MAX_SEARCH_LIMIT,
                },
                false,
                "10",
                "how many hits, 1-25",
            ),
        ],
        rest_is_text: true,
    },
    CommandSpec {
        name: "subscribe",
        summary: "post the daily digest in a channel (admin)",
        options: &[
            opt(
                "channel",
                Kind::Text,
                true,
                "123456789012345678",
                "the channel id",
            ),
            opt(
                "time",
                Kind::Text,
                true,
                "08:00",
                "local time of day, 24-hour HH:MM",
            ),
            opt(
                "timezone",
                Kind::Text,
                true,
                "Europe/Berlin",
                "IANA time zone of the time",
            ),
            opt(
                "categories",
                Kind::Text,
                false,
                "cs.LG,cs.CV",
                "comma-separated filters; default: the configured ones",
            ),
            opt("count", COUNT, false, "10", "papers per post, 1-25"),
            opt(
                "min_score",
                Kind::Number,
                false,
                "0",
                "leave out papers scoring below this",
            ),
        ],
        rest_is_text: false,
    },
    CommandSpec {
        name: "unsubscribe",
        summary: "stop a channel's daily posts (admin)",
        options: &[opt(
            "channel",
            Kind::Text,
            true,
            "123456789012345678",
            "the channel id",
        )],
        rest_is_text: false,
    },
    CommandSpec {
        name: "subscriptions",
        summary: "this server's subscribed channels (admin)",
        options: &[],
        rest_is_text: false,
    },
    CommandSpec {
        name: "preview",
        summary: "what a channel's next daily post will look like (admin)",
        options: &[opt(
            "channel",
            Kind::Text,
            true,
            "123456789012345678",
            "the channel id",
        )],
        rest_is_text: false,
    },
];

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

fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
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
    let (name, value) = token.text.split_once(':')?;
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
    match name.as_str() {
        "help" | "?" => {
            return Ok(Input::Help(
                args.first()
                    .map(|t| t.text.trim_start_matches('/').to_ascii_lowercase()),
            ));
        }
        "quit" | "exit" => return Ok(Input::Quit),
        _ => {}
    }
    let Some(cmd) = spec(&name) else {
        return Err(ParseError::UnknownCommand {
            suggestion: suggest_command(&name),
            name: request_echo(&first.text),
        });
    };
    let values = collect_options(cmd, args)?;
    build(cmd, &values).map(Input::Command)
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
            let id_main = main.is_some_and(|m| m.kind == Kind::Id && !values.contains_key(m.name));
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

/// Builds the request through the same validating constructors the Discord front end uses.
fn build(
    cmd: &'static CommandSpec,
    values: &BTreeMap<&'static str, String>,
) -> Result<Request, ParseError> {
    let text = |name: &str| values.get(name).map(String::as_str);
    let int = |name: &'static str| -> Result<Option<i64>, ParseError> {
        let Some(v) = text(name) else { return Ok(None) };
        let (min, max) = match cmd.options.iter().find(|o| o.name == name).map(|o| o.kind) {
            Some(Kind::Integer { min, max }) => (i64::from(min), i64::from(max)),
            _ => (i64::MIN, i64::MAX),
        };
        v.trim().parse::<i64>().map(Some).map_err(|_| {
            ParseError::Invalid(RequestError::OutOfRange {
                option: name,
                value: request_echo(v),
                min,
                max,
            })
        })
    };
    // Required options are checked by `collect_options`; `unwrap_or_default` never applies.
    let required = |name: &str| text(name).unwrap_or_default();
    let request = match cmd.name {
        "hot" => Request::hot(text("category"), int("count")?, text("date"), text("view"))?,
        "paper" => Request::paper(required("id"))?,
        "categories" => Request::categories(text("group"))?,
        "search" => Request::search(required("query"), int("limit")?)?,
        "subscribe" => {
            let min_score = match text("min_score") {
                Some(v) => Some(v.trim().parse::<f64>().map_err(|_| {
                    ParseError::Invalid(RequestError::BadMinScore(request_echo(v)))
                })?),
                None => None,
            };
            Request::subscribe(request::SubscribeArgs {
                channel: request::parse_channel(required("channel"))?,
                time: required("time"),
                timezone: required("timezone"),
                categories: text("categories"),
                count: int("count")?,
                min_score,
            })?
        }
        "unsubscribe" => Request::Unsubscribe {
            channel: request::parse_channel(required("channel"))?,
        },
        "subscriptions" => Request::Subscriptions,
        "preview" => Request::Preview {
            channel: request::parse_channel(required("channel"))?,
        },
        other => {
            return Err(ParseError::UnknownCommand {
                name: other.to_string(),
                suggestion: None,
            });
        }
    };
    Ok(request)
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
    for c in COMMANDS {
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

// ------------------------------------------------------------------------------ rendering

/// Renders a reply as plain text ending in a newline. Upstream text (titles, names, reasons)
/// has control characters removed, so nothing reaches the terminal as an escape sequence.
pub fn render(reply: &Reply) -> String {
    match reply {
        Reply::Digest { digest, .. } => text::render(digest),
        Reply::Paper(card) => paper_card(card),
        Reply::Categories { rows, date, group } => categories(rows, *date, *group),
        Reply::Search { query, hits } => search(query, hits),
        Reply::Subscribed { status, replaced } => {
            let mut out = format!(
                "Subscribed channel {}: {}.\n",
                status.subscription.channel_id,
                status.subscription.describe()
            );
            if let Some(t) = status.next_post {
                let _ = writeln!(out, "Next post: {}.", local_time(t, &status.subscription));
            }
            if *replaced {
                out.push_str("This replaces the channel's earlier subscription.\n");
            }
            out
        }
        Reply::Unsubscribed(sub) => format!(
            "Unsubscribed channel {} (it was: {}).\n",
            sub.channel_id,
            sub.describe()
        ),
        Reply::Subscriptions(list) => subscriptions(list),
        Reply::Preview {
            status,
            mailing,
            digest,
        } => {
            let sub = &status.subscription;
            let mut out = format!(
                "Preview for channel {} ({}).\n",
                sub.channel_id,
                sub.describe()
            );
            match (&sub.disabled_reason, status.next_post) {
                (Some(why), _) => {
                    let _ = writeln!(out, "The subscription is disabled: {}.", one_line(why));
                }
                (None, Some(t)) => {
                    let _ = writeln!(
                        out,
                        "Next post: {}, with the mailing of {}, unless this channel already had \
                         it:",
                        local_time(t, sub),
                        mailing.format("%a %Y-%m-%d")
                    );
                }
                (None, None) => {}
            }
            out.push('\n');
            out.push_str(&text::render(digest));
            out
        }
        Reply::Ack { text, .. } => format!("{}\n", one_line(text)),
        Reply::Error { message, .. } => format!("error: {}\n", one_line(message)),
    }
}

/// `Sat 2021-07-03 08:00 CEST (06:00 UTC)`.
fn local_time(t: DateTime<Utc>, sub: &Subscription) -> String {
    format!(
        "{} ({} UTC)",
        t.with_timezone(&sub.timezone)
            .format("%a %Y-%m-%d %H:%M %Z"),
        t.format("%H:%M")
    )
}

fn subscriptions(list: &[SubscriptionStatus]) -> String {
    if list.is_empty() {
        return "No channel of this server is subscribed; /subscribe adds one.\n".to_string();
    }
    let mut out = format!("{} subscribed channel(s):\n", list.len());
    for s in list {
        let sub = &s.subscription;
        let _ = write!(out, "  channel {}: {}", sub.channel_id, sub.describe());
        match (&sub.disabled_reason, s.next_post) {
            (Some(why), _) => {
                let _ = writeln!(out, "; DISABLED: {}", one_line(why));
            }
            (None, Some(t)) => {
                let _ = writeln!(out, "; next post {}", local_time(t, sub));
            }
            (None, None) => out.push('\n'),
        }
    }
    out
}

fn categories(
    rows: &[CategoryRow],
    date: Option<chrono::NaiveDate>,
    group: Option<crate::arxiv::taxonomy::Group>,
) -> String {
    let mut out = match date {
        Some(d) => format!(
            "arXiv categories with their papers in the mailing of {}:\n",
            d.format("%a %Y-%m-%d")
        ),
        None => "arXiv categories (no mailing recorded yet, so no counts; /hot fetches one):\n"
            .to_string(),
    };
    if rows.is_empty() {
        let g = group.map(|g| g.id()).unwrap_or("all");
        let _ = writeln!(out, "  (no active categories in {g})");
    }
    let mut current = None;
    for r in rows {
        if current != Some(r.group) {
            current = Some(r.group);
            let _ = writeln!(out, "{} ({})", r.group.name(), r.group.id());
        }
        if date.is_some() {
            let _ = writeln!(out, "  {:<18} {:>5}  {}", r.id, r.papers, r.name);
        } else {
            let _ = writeln!(out, "  {:<18} {}", r.id, r.name);
        }
    }
    out
}

fn search(query: &str, hits: &[crate::arxiv::paper::Paper]) -> String {
    let query = one_line(query);
    if hits.is_empty() {
        return format!(
            "No stored paper matches \"{query}\". Search covers the papers fetched so far (by /hot or /paper).\n"
        );
    }
    let mut out = format!("{} paper(s) matching \"{query}\":\n", hits.len());
    for (i, p) in hits.iter().enumerate() {
        let _ = writeln!(out, "\n{:>3}. {}  {}", i + 1, p.id, one_line(&p.title));
        let mut authors: Vec<&str> = p.author_names().take(4).collect();
        if p.authors.len() > 4 {
            authors.push("et al.");
        }
        let _ = writeln!(
            out,
            "     {}  [{}]  {}",
            one_line(&authors.join(", ")),
            p.categories.join(", "),
            p.published.format("%Y-%m-%d")
        );
    }
    out
}

/// Wraps text at `width` columns with an indent.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The paper card as text (`/paper` in the console, `hotpapers paper`).
pub fn paper_card(card: &PaperCard) -> String {
    let p = &card.paper;
    let mut out = String::new();
    let _ = writeln!(out, "{}v{}  {}", p.id, p.version, one_line(&p.title));
    let authors: Vec<String> = p
        .authors
        .iter()
        .map(|a| {
            if a.affiliations.is_empty() {
                one_line(&a.name)
            } else {
                format!(
                    "{} ({})",
                    one_line(&a.name),
                    one_line(&a.affiliations.join("; "))
                )
            }
        })
        .collect();
    let _ = writeln!(out, "Authors:    {}", authors.join(", "));
    let others: Vec<&str> = p
        .categories
        .iter()
        .map(String::as_str)
        .filter(|c| *c != p.primary_category)
        .collect();
    let cats = if others.is_empty() {
        format!("{} (primary)", p.primary_category)
    } else {
        format!("{} (primary), {}", p.primary_category, others.join(", "))
    };
    let _ = writeln!(out, "Categories: {cats}");
    let versions: Vec<String> = card.versions.iter().map(|v| format!("v{v}")).collect();
    let _ = writeln!(
        out,
        "Submitted:  {} (v1); this version {}; versions seen: {}",
        when(&p.published),
        when(&p.updated),
        if versions.is_empty() {
            format!("v{}", p.version)
        } else {
            versions.join(", ")
        }
    );
    if let Some(c) = &p.comment {
        let _ = writeln!(out, "Comment:    {}", one_line(c));
    }
    if let Some(j) = &p.journal_ref {
        let _ = writeln!(out, "Journal:    {}", one_line(j));
    }
    if let Some(d) = &p.doi {
        let _ = writeln!(out, "DOI:        https://doi.org/{}", one_line(d));
    }
    let _ = writeln!(
        out,
        "Links:      {}  {}  {}",
        p.abs_url(),
        p.pdf_url(),
        p.html_url()
    );
    if card.signals.is_empty() {
        let _ = writeln!(out, "Attention:  none measured yet");
    } else {
        let _ = writeln!(out, "Attention:  score {:.2}", card.score.total);
        let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (k, v) in &card.signals {
            if let Some((s, m)) = k.split_once('.') {
                by_source
                    .entry(s)
                    .or_default()
                    .push(format!("{m} {}", number(*v)));
            }
        }
        for (s, metrics) in by_source {
            let measured = card
                .measured_at
                .get(s)
                .map(|t| format!(" (measured {})", when(t)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {s}: {}{measured}", metrics.join(", "));
        }
    }
    for m in &card.missing {
        if let Some(why) = &m.missing {
            let _ = writeln!(out, "  ({} unavailable: {})", m.name, one_line(why));
        }
    }
    let _ = writeln!(out, "Abstract:");
    out.push_str(&wrap(&one_line(&p.abstract_text), 96, "  "));
    out
}

// ------------------------------------------------------------------------------ the loop

/// What a console session did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Commands run (help and blank lines not counted).
    pub commands: usize,
    /// Lines that failed to parse plus commands answered with an error.
    pub failed: usize,
}

/// Why `hotpapers console` ends unsuccessfully.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Reading stdin or writing stdout/stderr failed (e.g. a closed pipe).
    #[error("console input/output failed: {0}")]
    Io(#[from] std::io::Error),
    /// Piped input: some commands failed (each error was printed on stderr).
    #[error("{failed} of {commands} console command(s) failed")]
    Failed {
        /// Failed lines.
        failed: usize,
        /// Commands run.
        commands: usize,
    },
}

/// Reads commands from `input` until end of input or `quit`, answering each on `out` (errors
/// on `err`). Answers are separated by a blank line. With `interactive`, a prompt is shown
/// before each line.
pub async fn run<R>(
    app: &App,
    mut input: R,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interactive: bool,
) -> std::io::Result<Summary>
where
    R: AsyncBufRead + Unpin,
{
    let mut summary = Summary::default();
    let mut answered = false;
    let who = Invoker::console();
    loop {
        if interactive {
            write!(out, "{PROMPT}")?;
            out.flush()?;
        }
        let line = match read_line(&mut input).await? {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                summary.failed += 1;
                writeln!(err, "error: {e}")?;
                continue;
            }
        };
        let parsed = parse_line(&line);
        let (text, failed) = match parsed {
            Ok(Input::Empty) => continue,
            Ok(Input::Quit) => break,
            Ok(Input::Help(command)) => (help(command.as_deref()), false),
            Err(e) => {
                summary.commands += 1;
                (format!("error: {e}\n"), true)
            }
            Ok(Input::Command(req)) => {
                summary.commands += 1;
                let reply = handle(app, req, &who).await;
                (render(&reply), reply.is_error())
            }
        };
        if failed {
            summary.failed += 1;
            err.write_all(text.as_bytes())?;
            err.flush()?;
        } else {
            // Piped output separates answers by a blank line; a terminal has the prompt.
            if answered && !interactive {
                writeln!(out)?;
            }
            answered = true;
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    if interactive {
        writeln!(out)?;
    }
    Ok(summary)
}

/// The next line without its line ending; `None` at end of input; an error for a line longer
/// than [`MAX_LINE_BYTES`] (which is skipped). Invalid UTF-8 is replaced, not fatal.
async fn read_line<R>(input: &mut R) -> std::io::Result<Option<Result<String, ParseError>>>
where
    R: AsyncBufRead + Unpin,
{
    let mut buf: Vec<u8> = Vec::new();
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf().await?;
        if chunk.is_empty() {
            if buf.is_empty() && !too_long {
                return Ok(None);
            }
            break;
        }
        let (used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + used > MAX_LINE_BYTES + 2 {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk.get(..used).unwrap_or_default());
            }
        }
        input.consume(used);
        if done {
            break;
        }
    }
    if too_long {
        return Ok(Some(Err(ParseError::TooLong)));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(Ok(String::from_utf8_lossy(&buf).into_owned())))
}

/// `hotpapers console` on the process's stdin/stdout: a prompt and a greeting only when stdin
/// is a terminal. Piped input with failed commands ends in [`ConsoleError::Failed`], so
/// scripts notice.
pub async fn run_stdio(app: &App, out: &mut dyn Write) -> Result<(), ConsoleError> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        writeln!(
            out,
            "hotpapers console: type help for the commands, quit or Ctrl-D to leave."
        )?;
    }
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    let mut err = std::io::stderr();
    let summary = run(app, input, out, &mut err, interactive).await?;
    if !interactive && summary.failed > 0 {
        return Err(ConsoleError::Failed {
            failed: summary.failed,
            commands: summary.commands,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arxiv::taxonomy::Group;
    use crate::commands::request::HotView;
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
            Request::Hot {
                category: None,
                count: Some(3),
                date: NaiveDate::from_ymd_opt(2021, 7, 2),
                view: HotView::Mailing,
                page: 0,
            }
        );
        assert_eq!(
            cmd("/paper 2107.00630"),
            Request::paper("2107.00630").unwrap()
        );
        assert_eq!(
            cmd("/subscribe channel:123 time:08:00 timezone:Europe/Berlin categories:cs.LG,cs.CV"),
            Request::Subscribe {
                channel: 123,
                time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                timezone: chrono_tz::Europe::Berlin,
                categories: vec!["cs.LG".into(), "cs.CV".into()],
                count: None,
                min_score: 0.0,
            }
        );
        assert_eq!(
            cmd("/search query:\"diffusion models\""),
            Request::search("diffusion models", None).unwrap()
        );
    }

    #[test]
    fn positional_main_option_and_free_text() {
        assert_eq!(
            cmd("hot cs.lg count:2"),
            Request::hot(Some("cs.LG"), Some(2), None, None).unwrap()
        );
        assert_eq!(
            cmd("/HOT view:trending"),
            Request::hot(None, None, None, Some("trending")).unwrap()
        );
        assert_eq!(
            cmd("/search diffusion models limit:5"),
            Request::search("diffusion models", Some(5)).unwrap()
        );
        assert_eq!(
            cmd("/search \"count:3\" limit:5"),
            Request::search("count:3", Some(5)).unwrap()
        );
        // Ids with colons and URLs are the main option, not options.
        for form in [
            "arXiv:2107.00630",
            "arxiv:2107.00630",
            "https://arxiv.org/abs/2107.00630v1",
        ] {
            assert_eq!(
                cmd(&format!("/paper {form}")),
                Request::paper(form).unwrap(),
                "{form}"
            );
        }
        assert_eq!(
            cmd("/paper id:2107.00630"),
            Request::paper("2107.00630").unwrap()
        );
        assert_eq!(
            cmd("/categories cs"),
            Request::Categories {
                group: Some(Group::Cs)
            }
        );
        assert_eq!(
            cmd("/unsubscribe <#42>"),
            Request::Unsubscribe { channel: 42 }
        );
        assert_eq!(cmd("preview 42"), Request::Preview { channel: 42 });
        assert_eq!(cmd("/subscriptions"), Request::Subscriptions);
        assert_eq!(
            cmd("/subscribe 7 time:7:30 timezone:utc count:5 min_score:1.5"),
            Request::Subscribe {
                channel: 7,
                time: NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                timezone: chrono_tz::UTC,
                categories: vec![],
                count: Some(5),
                min_score: 1.5,
            }
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

    #[test]
    fn wraps_at_width() {
        assert_eq!(wrap("aaa bbb ccc ddd", 7, "> "), "> aaa bbb\n> ccc ddd\n");
    }

    #[tokio::test]
    async fn long_lines_are_rejected_and_skipped() {
        let mut data = vec![b'x'; MAX_LINE_BYTES * 2];
        data.extend_from_slice(b"\nhelp\r\nlast");
        let mut input: &[u8] = &data;
        assert!(matches!(
            read_line(&mut input).await.unwrap(),
            Some(Err(ParseError::TooLong))
        ));
        assert_eq!(
            read_line(&mut input).await.unwrap(),
            Some(Ok("help".into()))
        );
        assert_eq!(
            read_line(&mut input).await.unwrap(),
            Some(Ok("last".into()))
        );
        assert_eq!(read_line(&mut input).await.unwrap(), None);
        let mut bad: &[u8] = b"\xff\xfe/hot\n";
        assert_eq!(
            read_line(&mut bad).await.unwrap(),
            Some(Ok("\u{fffd}\u{fffd}/hot".into()))
        );
    }
}
