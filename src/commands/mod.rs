//! The platform-neutral command layer: what `/hot`, `/paper`, `/subscribe`, … do, written
//! once for every front end.
//!
//! Laid out after mini-redis's `src/cmd/`: **one file per slash command**. Each file holds
//! 1. its [`CommandSpec`]: name, description, options with kind, bounds and completion, the
//!    admin flag, help and examples — Discord's registration, the console's parser and `help`
//!    are all built from these specs, so they cannot disagree;
//! 2. its `parse`, from front-end-neutral [`Args`] into its typed request (bad input is
//!    refused here with a [`RequestError`] that names the value and shows an example);
//! 3. its `run` against the [`App`], returning a [`Reply`]: the answer as data, free of Discord
//!    and terminal types, which each front end renders.
//!
//! [`handle`] runs any [`Request`]: it checks admin rights on the server side, maps failures
//! to short user-facing errors (details go to the log) and catches panics.
//!
//! **Adding a command**: a new file here implementing [`Command`], one line in the
//! `commands!` list below, and its render arms if its [`Reply`] variant is new.

pub mod args;
pub mod complete;
mod handle;
pub mod reply;
pub mod request;
pub mod spec;

pub mod categories;
pub mod hot;
pub mod paper;
pub mod preview;
pub mod search;
pub mod subscribe;
pub mod subscriptions;
pub mod unsubscribe;

use std::future::Future;

pub use args::{Args, Value};
pub use handle::{CommandError, Context, handle};
pub use reply::Reply;
pub use request::{Invoker, MAX_COUNT, RequestError};
pub use spec::CommandSpec;

use crate::app::App;

/// One slash command: its spec, its parsing and its effect.
pub trait Command: Sized + Into<Request> {
    /// How the command looks to users; front ends are built from it.
    const SPEC: CommandSpec;

    /// The validated request from the options a front end received.
    fn parse(args: &Args) -> Result<Self, RequestError>;

    /// Runs the request. Admin rights were checked by [`handle`] already.
    fn run(
        self,
        app: &App,
        ctx: &Context<'_>,
    ) -> impl Future<Output = Result<Reply, CommandError>> + Send;
}

/// Declares the commands: the [`Request`] enum, [`COMMANDS`], and dispatch by name.
macro_rules! commands {
    ($($module:ident :: $command:ident),+ $(,)?) => {
        /// One validated command, of any kind.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Request {
            $(
                #[doc = concat!("`/", stringify!($module), "`")]
                $command($module::$command),
            )+
        }

        $(
            impl From<$module::$command> for Request {
                fn from(r: $module::$command) -> Request {
                    Request::$command(r)
                }
            }
        )+

        /// Every command's spec, in the order `help` lists them and Discord shows them.
        pub static COMMANDS: &[&CommandSpec] = &[$(&<$module::$command as Command>::SPEC),+];

        impl Request {
            /// Parses the options of the command called `name`; `None` when there is no such
            /// command.
            pub fn parse(name: &str, args: &Args) -> Option<Result<Request, RequestError>> {
                $(
                    if name == <$module::$command as Command>::SPEC.name {
                        return Some(<$module::$command as Command>::parse(args).map(Request::from));
                    }
                )+
                None
            }

            /// The command's spec.
            pub fn spec(&self) -> &'static CommandSpec {
                match self {
                    $(Request::$command(_) => &<$module::$command as Command>::SPEC,)+
                }
            }

            async fn run(self, app: &App, ctx: &Context<'_>) -> Result<Reply, CommandError> {
                match self {
                    $(Request::$command(r) => r.run(app, ctx).await,)+
                }
            }
        }
    };
}

commands! {
    hot::Hot,
    paper::Paper,
    categories::Categories,
    search::Search,
    subscribe::Subscribe,
    unsubscribe::Unsubscribe,
    subscriptions::Subscriptions,
    preview::Preview,
}

impl Request {
    /// The command's name as users type it, without the slash.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Whether the command changes or reveals a server's subscriptions, and so needs Manage
    /// Server.
    pub fn is_admin(&self) -> bool {
        self.spec().admin
    }
}

/// The spec of the command called `name`.
pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().copied().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_name_parses_back_to_its_command() {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
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
        for c in COMMANDS {
            assert_eq!(spec(c.name).map(|s| s.name), Some(c.name));
            // Required options come first (Discord refuses anything else).
            let first_optional = c.options.iter().position(|o| !o.required);
            if let Some(i) = first_optional {
                assert!(c.options[i..].iter().all(|o| !o.required), "{}", c.name);
            }
        }
        assert!(Request::parse("nope", &Args::new(COMMANDS[0])).is_none());
    }
}
