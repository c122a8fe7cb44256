//! What a slash command looks like from outside: its name, options, bounds and help.
//!
//! Each command file declares one [`CommandSpec`]. Everything that presents a command is
//! built from it — Discord's registration and option mapping, the console's parser and its
//! `help` text — so the three can never disagree about an option's name, type or bounds.
//! Validation of the values themselves stays in the command's `parse` (via
//! [`super::request`]); the bounds here only let a front end refuse obvious mistakes early
//! (Discord's client does so before sending).

use super::request::MAX_COUNT;

/// One slash command.
#[derive(Debug)]
pub struct CommandSpec {
    /// What users type after the `/` (Discord's rule: lowercase, 1-32 characters).
    pub name: &'static str,
    /// Discord's description (at most 100 characters).
    pub description: &'static str,
    /// The console's one-line summary, shown by `help`.
    pub summary: &'static str,
    /// The options, required ones first (Discord requires that order). The first one is the
    /// command's main option: the console lets it be given without its name.
    pub options: &'static [OptionSpec],
    /// Changes or reveals a server's subscriptions: needs Manage Server and a server. The
    /// handler re-checks this whatever the front end showed.
    pub admin: bool,
    /// Console: unnamed words after the first are appended to the main option
    /// (`/search diffusion models`).
    pub rest_is_text: bool,
}

impl CommandSpec {
    /// The option called `name`.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The main option, which the console accepts without its name.
    pub fn main_option(&self) -> Option<&'static OptionSpec> {
        self.options.first()
    }
}

/// One option of a command.
#[derive(Debug)]
pub struct OptionSpec {
    /// Discord's rule: lowercase, 1-32 characters.
    pub name: &'static str,
    /// The value's type and bounds.
    pub kind: OptionKind,
    /// Must be given.
    pub required: bool,
    /// Where a front end may offer completions while the user types.
    pub complete: Option<Completion>,
    /// Discord's description (at most 100 characters).
    pub description: &'static str,
    /// The console's `help` line.
    pub help: &'static str,
    /// A valid value, for usage lines (`time:08:00`).
    pub example: &'static str,
}

/// An option's value type, with the bounds a front end can enforce before sending.
#[derive(Clone, Copy, Debug)]
pub enum OptionKind {
    /// Free text of `min_len..=max_len` characters (`max_len` 0: no limit of its own).
    Text {
        /// Fewest characters (0: none).
        min_len: u16,
        /// Most characters (0: no limit of its own).
        max_len: u16,
    },
    /// An arXiv id or URL: text that may contain `:` (`arXiv:2107.00630`, `https://…`), so the
    /// console never reads it as `name:value`.
    Id {
        /// Most characters.
        max_len: u16,
    },
    /// A whole number within `min..=max`.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// A decimal number of at least `min`.
    Number {
        /// Smallest value.
        min: f64,
    },
    /// A text or announcement channel of the server (its id, or `<#id>` typed as text).
    Channel,
    /// One of a fixed list of values.
    Choice(fn() -> Vec<Choice>),
}

/// One allowed value of an [`OptionKind::Choice`] option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the user sees (at most 100 characters).
    pub label: String,
    /// What is sent.
    pub value: &'static str,
}

/// The completions an option offers as the user types (see [`super::complete`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// One category filter: groups, archives, categories.
    Category,
    /// The last item of a comma-separated category list.
    CategoryList,
    /// IANA time zone names, with their current UTC offset.
    Timezone,
}

/// The optional paper count of `/hot` and `/subscribe`: 1..=[`MAX_COUNT`], default
/// `[digest] top`.
pub const fn count_option(description: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec {
        name: "count",
        kind: OptionKind::Integer {
            min: 1,
            max: MAX_COUNT as i64,
        },
        required: false,
        complete: None,
        description,
        help,
        example: "10",
    }
}

/// A text option (helper for the specs' `const`s).
pub const fn text(min_len: u16, max_len: u16) -> OptionKind {
    OptionKind::Text { min_len, max_len }
}
