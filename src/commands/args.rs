//! A command's option values as a front end received them, before validation.
//!
//! Discord sends typed values (an integer, a channel); the console has only text. [`Args`]
//! holds either, and its getters read each as the type the command asks for, so a command's
//! `parse` is written once: `args.integer("count")` is the same call whether the count came as
//! Discord's integer or as the console's `count:3`.

use super::request::{RequestError, check_channel, echo, parse_channel};
use super::spec::{CommandSpec, OptionKind};

/// One option value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text, as typed (the console sends every value this way).
    Text(String),
    /// A whole number (Discord integer options).
    Integer(i64),
    /// A decimal number (Discord number options).
    Number(f64),
    /// A channel picked in Discord's client.
    Channel(u64),
}

/// The options given to one command, by name.
#[derive(Clone, Debug)]
pub struct Args {
    spec: &'static CommandSpec,
    values: Vec<(String, Value)>,
}

impl Args {
    /// No options yet, for the command `spec`.
    pub fn new(spec: &'static CommandSpec) -> Args {
        Args {
            spec,
            values: Vec::new(),
        }
    }

    /// The command these options are for.
    pub fn spec(&self) -> &'static CommandSpec {
        self.spec
    }

    /// Sets option `name` (a later value replaces an earlier one).
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        self.values.retain(|(n, _)| *n != name);
        self.values.push((name, value));
    }

    /// Option `name` with `value`, builder style.
    pub fn with(mut self, name: impl Into<String>, value: Value) -> Args {
        self.set(name, value);
        self
    }

    /// The raw value of option `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A text option.
    pub fn text(&self, name: &'static str) -> Result<Option<&str>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(RequestError::WrongType { option: name }),
        }
    }

    /// A text option that must be there.
    pub fn required_text(&self, name: &'static str) -> Result<&str, RequestError> {
        self.text(name)?
            .ok_or(RequestError::Missing { option: name })
    }

    /// A whole-number option; text must be a whole number (the error shows the spec's
    /// bounds).
    pub fn integer(&self, name: &'static str) -> Result<Option<i64>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(Value::Text(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| {
                let (min, max) = match self.spec.option(name).map(|o| o.kind) {
                    Some(OptionKind::Integer { min, max }) => (min, max),
                    _ => (i64::MIN, i64::MAX),
                };
                RequestError::OutOfRange {
                    option: name,
                    value: echo(s),
                    min,
                    max,
                }
            }),
            Some(_) => Err(RequestError::WrongType { option: name }),
        }
    }

    /// A decimal option; an integer counts (older registrations sent integers), text must be
    /// a number.
    pub fn number(&self, name: &'static str) -> Result<Option<f64>, RequestError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(*n)),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(Value::Text(s)) => {
                s.trim()
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| RequestError::NotANumber {
                        option: name,
                        value: echo(s),
                    })
            }
            Some(Value::Channel(_)) => Err(RequestError::WrongType { option: name }),
        }
    }

    /// A channel option that must be there: picked in Discord, or typed as an id or `<#id>`;
    /// either way a valid Discord id (never 0).
    pub fn channel(&self, name: &'static str) -> Result<u64, RequestError> {
        match self.get(name) {
            Some(Value::Channel(c)) => check_channel(*c),
            Some(Value::Text(s)) => parse_channel(s),
            None => Err(RequestError::Missing { option: name }),
            Some(_) => Err(RequestError::WrongType { option: name }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::{OptionSpec, text};

    static SPEC: CommandSpec = CommandSpec {
        name: "t",
        description: "test",
        summary: "test",
        options: &[
            OptionSpec {
                name: "count",
                kind: OptionKind::Integer { min: 1, max: 25 },
                required: false,
                complete: None,
                description: "d",
                help: "h",
                example: "3",
            },
            OptionSpec {
                name: "word",
                kind: text(0, 10),
                required: false,
                complete: None,
                description: "d",
                help: "h",
                example: "x",
            },
        ],
        admin: false,
        rest_is_text: false,
    };

    #[test]
    fn typed_and_text_values_read_alike() {
        let typed = Args::new(&SPEC)
            .with("count", Value::Integer(3))
            .with("channel", Value::Channel(42));
        let text = Args::new(&SPEC)
            .with("count", Value::Text(" 3 ".into()))
            .with("channel", Value::Text("<#42>".into()));
        for a in [&typed, &text] {
            assert_eq!(a.integer("count"), Ok(Some(3)));
            assert_eq!(a.channel("channel"), Ok(42));
        }
        assert_eq!(
            Args::new(&SPEC).with("n", Value::Integer(2)).number("n"),
            Ok(Some(2.0))
        );
    }

    #[test]
    fn wrong_missing_and_unparsable_values_are_refused() {
        let a = Args::new(&SPEC)
            .with("count", Value::Text("three".into()))
            .with("word", Value::Integer(1))
            .with("n", Value::Text("lots".into()));
        let e = a.integer("count").unwrap_err().to_string();
        assert!(e.contains("from 1 to 25") && e.contains("three"), "{e}");
        assert_eq!(
            a.text("word"),
            Err(RequestError::WrongType { option: "word" })
        );
        assert_eq!(
            a.required_text("missing"),
            Err(RequestError::Missing { option: "missing" })
        );
        assert!(matches!(
            a.number("n"),
            Err(RequestError::NotANumber { .. })
        ));
        assert_eq!(
            a.channel("none"),
            Err(RequestError::Missing { option: "none" })
        );
        // Channel 0 is no channel, typed or sent as a Discord channel value.
        for zero in [Value::Channel(0), Value::Text("0".into())] {
            assert_eq!(
                Args::new(&SPEC).with("channel", zero).channel("channel"),
                Err(RequestError::BadChannel("0".into()))
            );
        }
    }
}
