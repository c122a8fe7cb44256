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
//! Parsing ([`parse_line`], built from the commands' specs) and rendering ([`render`]) are
//! pure; [`answer`] runs one line through them and [`handle`]. [`run`] reads lines from any
//! input and output (piped input, and the tests); on a terminal, [`run_stdio`] runs the line
//! editor instead (`editor`: rustyline on its own thread, a history file at
//! [`history_path`], Tab completion from [`completion`]). Either way answers and log lines
//! share one lock ([`output`]), so a log line never lands inside an answer.

pub mod completion;
mod editor;
pub mod output;
mod parse;
mod render;

use std::io::{IsTerminal as _, Write};

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};

use crate::app::App;
use crate::commands::{Invoker, handle};

pub use editor::{HISTORY_SIZE, HISTORY_VAR, history_path};
pub use parse::{Input, ParseError, help, parse_line};
pub use render::{paper_card, render};

/// The longest input line read (bytes); longer lines are rejected, not buffered.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// What the console prompts with when stdin is a terminal.
const PROMPT: &str = "hotpapers> ";

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

/// What one console line comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A blank line or a `#` comment: nothing to show.
    Nothing,
    /// `quit` or `exit`: the session ends.
    Quit,
    /// `help`'s text (not counted as a command).
    Help(String),
    /// A command's answer, or why the line is no valid command.
    Reply {
        /// The rendered answer or `error: …` line, ending in a newline.
        text: String,
        /// An error: shown on stderr and counted as failed.
        failed: bool,
    },
}

/// Parses, runs and renders one line: the one place a console line is answered, for piped
/// input ([`run`]) and the line editor alike.
pub async fn answer(app: &App, line: &str) -> Outcome {
    match parse_line(line) {
        Ok(Input::Empty) => Outcome::Nothing,
        Ok(Input::Quit) => Outcome::Quit,
        Ok(Input::Help(command)) => Outcome::Help(help(command.as_deref())),
        Err(e) => Outcome::Reply {
            text: format!("error: {e}\n"),
            failed: true,
        },
        Ok(Input::Command(req)) => {
            let reply = handle(app, req, &Invoker::console()).await;
            Outcome::Reply {
                text: render(&reply),
                failed: reply.is_error(),
            }
        }
    }
}

impl Summary {
    /// Counts `outcome`: replies are commands (failed ones also failures), help is neither.
    fn record(&mut self, outcome: &Outcome) {
        if let Outcome::Reply { failed, .. } = outcome {
            self.commands += 1;
            self.failed += usize::from(*failed);
        }
    }
}

/// Writes `outcome`'s text, each in one `write_all`: errors on `err`, the rest on `out`
/// (after a blank line when `separate`). Returns whether it wrote on `out`.
fn show(
    outcome: &Outcome,
    out: &mut dyn Write,
    err: &mut dyn Write,
    separate: bool,
) -> std::io::Result<bool> {
    match outcome {
        Outcome::Nothing | Outcome::Quit => Ok(false),
        Outcome::Reply { text, failed: true } => {
            err.write_all(text.as_bytes())?;
            err.flush()?;
            Ok(false)
        }
        Outcome::Help(text) | Outcome::Reply { text, .. } => {
            if separate {
                out.write_all(format!("\n{text}").as_bytes())?;
            } else {
                out.write_all(text.as_bytes())?;
            }
            out.flush()?;
            Ok(true)
        }
    }
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
    loop {
        if interactive {
            out.write_all(PROMPT.as_bytes())?;
            out.flush()?;
        }
        let line = match read_line(&mut input).await? {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                // A rejected line is a command that failed: "1 of 1", never "1 of 0".
                summary.commands += 1;
                summary.failed += 1;
                err.write_all(format!("error: {e}\n").as_bytes())?;
                continue;
            }
        };
        let outcome = answer(app, &line).await;
        if outcome == Outcome::Quit {
            break;
        }
        summary.record(&outcome);
        // Piped output separates answers by a blank line; a terminal has the prompt.
        answered |= show(&outcome, out, err, answered && !interactive)?;
    }
    if interactive {
        out.write_all(b"\n")?;
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

/// `hotpapers console` on the process's stdin/stdout. When stdin and stdout are both
/// terminals, the line editor runs (history, completion; see the module docs); otherwise
/// lines are read as they come, with a prompt and a greeting only when stdin is a terminal
/// (its output goes elsewhere, so editing escapes would end up in a file). Piped input with
/// failed commands ends in [`ConsoleError::Failed`], so scripts notice. Answers and errors
/// are written through [`output::stdio`]'s lock, so no log line lands inside one.
pub async fn run_stdio(app: &App, out: &mut dyn Write) -> Result<(), ConsoleError> {
    let output = output::stdio();
    let interactive = std::io::stdin().is_terminal();
    if interactive && std::io::stdout().is_terminal() {
        editor::run(app, out, &output).await?;
        return Ok(());
    }
    let mut out = output.writer(out);
    if interactive {
        out.write_all(
            b"hotpapers console: type help for the commands, quit or Ctrl-D to leave.\n",
        )?;
    }
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    let mut err = output.writer(std::io::stderr());
    let summary = run(app, input, &mut out, &mut err, interactive).await?;
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
