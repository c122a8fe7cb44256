//! Command-line arguments (clap derive). The help texts are the CLI reference.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  hotpapers ingest                          # fetch the latest mailing into the store
  hotpapers ingest --date 2021-07-02        # fetch a past mailing
  hotpapers collect                         # measure attention for the latest mailing
  hotpapers digest --date 2021-07-02 --top 14 --format markdown > hot-papers-2021-07-02.md
  hotpapers digest --category cs.LG --category stat.ML --format text
  hotpapers digest --view trending --days 7 --top 20
  hotpapers paper 2107.00641
  hotpapers paper https://arxiv.org/pdf/2107.00641v2.pdf --format json
  hotpapers import backfill/*.xml
  hotpapers console                         # the Discord commands, typed as text
  hotpapers run --guild 123456789012345678  # the Discord bot (needs DISCORD_TOKEN)

Configuration: ./config.toml when present (or --config PATH), overridden by
HOTPAPERS_<SECTION>__<KEY> environment variables, e.g. HOTPAPERS_STORE__PATH=/data/hp.db.
Logs go to stderr; RUST_LOG overrides -v/-q (e.g. RUST_LOG=hotpapers=debug).";

/// hotpapers: which new arXiv papers are hot today.
#[derive(Debug, Parser)]
#[command(name = "hotpapers", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Configuration file (default: ./config.toml when present, else built-in defaults).
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More logging on stderr (-v: progress notes, -vv: every request).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr; no progress bars.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch one arXiv mailing into the store.
    ///
    /// Without --date, reads the latest mailing from arXiv's new-submission feeds. With
    /// --date D, fetches the papers whose first version was submitted in mailing D's window
    /// (the two 14:00 America/New_York cutoffs before D). Running it twice changes nothing.
    #[command(after_help = "Example:\n  hotpapers ingest --date 2021-07-02")]
    Ingest {
        /// The mailing's listing date (arXiv's "New submissions for Fri, 2 Jul 21" is 2021-07-02).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
    },

    /// Measure attention for a mailing's papers with every enabled source.
    ///
    /// `digest` does this by itself when the last measurement is older than
    /// [digest] max_signal_age; run it from cron to keep counts fresh.
    #[command(after_help = "Example:\n  hotpapers collect --date 2021-07-02")]
    Collect {
        /// The mailing's listing date (default: the latest announced mailing).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
    },

    /// Run the Bluesky listener alone (the bot runs it too) until Ctrl-C / SIGTERM.
    ///
    /// It follows Bluesky's Jetstream firehose, keeps posts that link arXiv and counts their
    /// likes, reposts, quotes and replies; it resumes from its saved cursor after a restart
    /// (Jetstream replays up to ~36 hours).
    Listen,

    /// Load arXiv API Atom files (offline backfill).
    ///
    /// Each paper is stored and joins the mailing its first version's submission time falls in.
    #[command(
        after_help = "Example:\n  curl -o page.xml 'https://export.arxiv.org/api/query?id_list=2107.00641'\n  hotpapers import page.xml"
    )]
    Import {
        /// Atom files as returned by the arXiv API.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },

    /// Show one paper: from the store, else fetched from arXiv and cached.
    #[command(
        after_help = "Accepted forms: 2107.00641, 2107.00641v2, arXiv:2107.00641, hep-th/9901001,\n\
        math.GT/0309136, https://arxiv.org/abs/2107.00641, .../pdf/2107.00641v1.pdf, .../html/2107.00641v1,\n\
        export.arxiv.org URLs, alphaxiv.org/abs/..., huggingface.co/papers/..., doi.org/10.48550/arXiv.2107.00641\n\n\
        Examples:\n  hotpapers paper https://arxiv.org/abs/2107.00641v1 --format json\n  hotpapers paper 2107.00641 --chart attention.png"
    )]
    Paper {
        /// An arXiv id or URL.
        #[arg(value_name = "ID_OR_URL")]
        id: String,
        #[arg(long, value_enum, default_value_t = PaperFormat::Text)]
        format: PaperFormat,
        /// Also write its attention over time (one line per source, from every stored
        /// snapshot) as an 800×400 PNG to FILE. A paper measured once gets its points; one
        /// never measured gets a picture that says so.
        #[arg(long, value_name = "FILE.png")]
        chart: Option<PathBuf>,
    },

    /// Print the ranked digest of a mailing, fetching what the store lacks.
    #[command(
        after_help = "Examples:\n  hotpapers digest --date 2021-07-02 --top 14 --format markdown\n  hotpapers digest --category cs.CV --format json"
    )]
    Digest {
        /// The mailing's listing date (default: the latest announced mailing).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// How many papers (default: [digest] top; 0 for all).
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Only papers in this category, archive (cs) or group (physics); repeatable.
        #[arg(long, value_name = "C")]
        category: Vec<String>,
        #[arg(long, value_enum, default_value_t = DigestFormat::Text)]
        format: DigestFormat,
        /// `mailing`: one mailing ranked by attention so far; `trending`: papers announced in
        /// the last --days days, scores decayed by age (Hacker News-style gravity).
        #[arg(long, value_enum, default_value_t = DigestView::Mailing)]
        view: DigestView,
        /// Trending view over N days back (implies --view trending; default: [ranking] trending_days).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(hotpapers::config::MAX_TRENDING_DAYS)))]
        days: Option<u32>,
    },

    /// Post a mailing's digest to a Discord channel once (REST only, no gateway; for cron).
    ///
    /// With --channel it needs the bot token (DISCORD_TOKEN or [discord] token); with
    /// --webhook no bot at all. Exactly once per (channel, mailing), or per (webhook,
    /// mailing): a rerun posts nothing unless --force.
    Post {
        /// The channel id to post in (with the bot token).
        #[arg(
            long,
            value_name = "ID",
            required_unless_present = "webhook",
            conflicts_with = "webhook",
            value_parser = clap::value_parser!(u64).range(1..=hotpapers::commands::request::MAX_SNOWFLAKE)
        )]
        channel: Option<u64>,
        /// Post through this Discord webhook URL instead (https://discord.com/api/webhooks/ID/TOKEN;
        /// no bot needed). Also read from HOTPAPERS_WEBHOOK_URL, which keeps the token out of
        /// process listings. The post log is keyed by the webhook id.
        #[arg(
            long,
            value_name = "URL",
            env = "HOTPAPERS_WEBHOOK_URL",
            hide_env_values = true
        )]
        webhook: Option<String>,
        /// The mailing's listing date (default: the latest announced mailing).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// How many papers (default: [digest] top; 0 for all).
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Only papers in this category, archive or group; repeatable.
        #[arg(long, value_name = "C")]
        category: Vec<String>,
        /// Post again even if this mailing was already posted to the channel.
        #[arg(long)]
        force: bool,
    },

    /// Run the Discord bot: slash commands, daily channel posts, the Bluesky listener.
    ///
    /// Connects to Discord's gateway (no privileged intents needed), registers the slash
    /// commands (/hot, /paper, /categories, /search, /subscribe, ...) once at start, answers
    /// them, and posts each subscribed channel's digest at its time; with [sources.bluesky]
    /// enabled it also follows Bluesky. Stops cleanly on Ctrl-C or SIGTERM.
    ///
    /// Needs the bot token: DISCORD_TOKEN or `token` under [discord] (see the README for
    /// creating the application and inviting the bot). Without Discord, `hotpapers console`
    /// answers the same commands as text.
    #[command(after_help = "Examples:\n  \
        DISCORD_TOKEN=... hotpapers run --guild 123456789012345678   # commands show at once on one server\n  \
        DISCORD_TOKEN=... hotpapers run                              # global commands (up to an hour to appear)\n  \
        hotpapers run --no-register                                  # keep the registered commands as they are")]
    Run {
        /// Register the commands on this server only; they appear at once (global
        /// registration, the default, can take up to an hour).
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..=hotpapers::commands::request::MAX_SNOWFLAKE))]
        guild: Option<u64>,
        /// Do not (re-)register the slash commands at start.
        #[arg(long)]
        no_register: bool,
    },

    /// Type the bot's commands as text: /hot, /paper, /categories, /search, /subscribe, ...
    ///
    /// Reads one command per line from stdin and prints each answer as plain text. On a
    /// terminal it is a line editor: Tab completes commands, options, categories and time
    /// zones; Up/Down and Ctrl-R recall the history, kept in $HOTPAPERS_HISTORY (empty: not
    /// kept), else $XDG_STATE_HOME/hotpapers/console_history, else
    /// ~/.local/state/hotpapers/console_history; Ctrl-C drops the line, Ctrl-D leaves. The
    /// console user is an admin of the pseudo-server 0.
    #[command(
        after_help = "Examples:\n  hotpapers console\n  printf '/hot date:2021-07-02 count:3\\n/paper 2107.00630\\n' | hotpapers console"
    )]
    Console,

    /// Score the built-in summarizer on a SciTLDR-format JSONL file.
    ///
    /// Prints ROUGE-1/2/L F1 (× 100, against each paper's best reference by ROUGE-1, the
    /// SciTLDR protocol) of the extractive summarizer, beside the abstract's first sentence
    /// (lead-1) and the best single sentence (oracle, which peeks at the references). Runs
    /// offline and needs no configuration or store.
    #[command(after_help = "Example:\n  hotpapers eval-summaries ../shared/data/scitldr/dev.jsonl")]
    EvalSummaries {
        /// One JSON object per line with `title`, `source` (the abstract's sentences) and
        /// `target` (reference TL;DRs), as in SciTLDR-A.
        file: PathBuf,
    },

    /// Check or print the effective configuration (secrets redacted).
    Config {
        #[arg(value_enum, default_value_t = ConfigAction::Check)]
        action: ConfigAction,
    },

    /// Ask a running `hotpapers run` whether it is healthy (its `/healthz`): exit 0 when it
    /// is, 1 with the reasons when not or when it does not answer. For container health
    /// checks: no curl needed.
    #[command(after_help = "Example:\n  HOTPAPERS_WEB__LISTEN=127.0.0.1:8088 hotpapers health")]
    Health {
        /// The instance's address (default: [web] listen of the configuration).
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaperFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    /// The blog format of the seed post.
    Markdown,
    Text,
    /// Stable, documented JSON.
    Json,
}

impl DigestFormat {
    /// Renders a digest in this format.
    pub fn render(self, digest: &hotpapers::digest::Digest) -> String {
        use hotpapers::digest::{json, markdown, text};
        match self {
            DigestFormat::Markdown => markdown::render(digest),
            DigestFormat::Text => text::render(digest),
            DigestFormat::Json => json::render(digest),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestView {
    Mailing,
    Trending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigAction {
    /// Validate the configuration and say so.
    Check,
    /// Print the effective configuration as TOML.
    Show,
}

/// A listing date, as the bot's commands take it (`commands::request::parse_date`): exactly
/// YYYY-MM-DD, not before arXiv's first mailing; after tomorrow is the app's refusal.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    hotpapers::commands::request::parse_date(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_a_nonzero_guild_and_no_register() {
        let cli = Cli::try_parse_from(["hotpapers", "run", "--guild", "42", "--no-register"])
            .expect("valid");
        assert!(matches!(
            cli.command,
            Command::Run {
                guild: Some(42),
                no_register: true
            }
        ));
        let cli = Cli::try_parse_from(["hotpapers", "run"]).expect("valid");
        assert!(matches!(
            cli.command,
            Command::Run {
                guild: None,
                no_register: false
            }
        ));
        assert!(Cli::try_parse_from(["hotpapers", "run", "--guild", "0"]).is_err());
        assert!(Cli::try_parse_from(["hotpapers", "run", "--guild", "abc"]).is_err());
        // Discord ids are snowflakes: 1 to 2^63 - 1, for the server and the channel alike.
        assert!(
            Cli::try_parse_from(["hotpapers", "run", "--guild", "9223372036854775808"]).is_err()
        );
        for bad in ["0", "9223372036854775808"] {
            assert!(
                Cli::try_parse_from(["hotpapers", "post", "--channel", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Cli::try_parse_from(["hotpapers", "post", "--channel", "42"]).is_ok());
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("2021-07-02").is_ok());
        assert!(parse_date("07/02/2021").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("21-07-02").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("1000-01-01").unwrap_err().contains("1991-08-14"));
    }
}
