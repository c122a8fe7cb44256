//! The interactive console: rustyline's line editor, a history kept between sessions, and
//! tab completion ([`super::completion`]).
//!
//! rustyline blocks, the commands are async: the editor runs on a thread of its own and hands
//! each accepted line to the async side, which answers it with [`super::answer`] (the same
//! code as piped input), prints the answer, and only then lets the editor read the next line.
//! While the editor reads, log lines are held back ([`Output::set_editing`]) so they cannot
//! break the prompt; answers and log lines never interleave ([`super::output`]).
//!
//! Keys are rustyline's Emacs-style defaults: arrows and Ctrl-A/E/K/U/W to edit, Up/Down and
//! Ctrl-R for the history, Tab to complete. Ctrl-C clears the line; Ctrl-D on an empty line
//! (or `quit`) leaves.

use std::ffi::OsString;
use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor};

use crate::app::App;
use crate::clock::Clock;

use super::output::Output;
use super::{MAX_LINE_BYTES, Outcome, PROMPT, ParseError, Summary, answer, completion, show};

/// The most history entries kept (in memory and in the file).
pub const HISTORY_SIZE: usize = 1000;

/// The variable that names the history file; set but empty, no history is saved.
pub const HISTORY_VAR: &str = "HOTPAPERS_HISTORY";

/// The history file: `$HOTPAPERS_HISTORY` when set (empty: none), else
/// `$XDG_STATE_HOME/hotpapers/console_history`, else
/// `$HOME/.local/state/hotpapers/console_history` (relative `XDG_STATE_HOME` and `HOME` are
/// ignored, as the XDG spec says). `var` reads the environment.
pub fn history_path(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(path) = var(HISTORY_VAR) {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let state =
        absolute("XDG_STATE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/state")))?;
    Some(state.join("hotpapers").join("console_history"))
}

/// rustyline's side of the completion: [`completion::complete`] with the app's clock.
struct Helper {
    clock: Arc<dyn Clock>,
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = completion::complete(line, pos, self.clock.now());
        Ok((
            start,
            found
                .into_iter()
                .map(|c| Pair {
                    display: c.display,
                    replacement: c.replacement,
                })
                .collect(),
        ))
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

/// The history file, while it can be used: the first failure is warned about once and ends
/// saving for the session (the session itself goes on).
struct Persistence {
    path: Option<PathBuf>,
}

impl Persistence {
    /// Loads `path` into `editor` (a missing file is a new history); creates its directory.
    fn open(path: Option<PathBuf>, editor: &mut Editor<Helper, FileHistory>) -> Self {
        let Some(path) = path else {
            return Self { path: None };
        };
        let mut this = Self {
            path: Some(path.clone()),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            this.fail(&path, &format!("cannot create {}: {e}", dir.display()));
            return this;
        }
        match editor.load_history(&path) {
            Ok(()) => {}
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            // Not ours to overwrite (unreadable, not text, a directory): leave it alone.
            Err(e) => this.fail(&path, &format!("cannot read it: {e}")),
        }
        this
    }

    fn fail(&mut self, path: &Path, why: &str) {
        tracing::warn!(
            "console history {}: {why}; this session's history will not be saved",
            path.display()
        );
        self.path = None;
    }

    /// Adds `line` (without trailing whitespace) to the history and appends it to the file.
    /// Blank lines, lines over the length limit, lines starting with a space and repeats of
    /// the previous entry are not kept.
    fn add(&mut self, editor: &mut Editor<Helper, FileHistory>, line: &str) {
        // A completion's trailing space is not part of what was meant.
        let line = line.trim_end();
        if line.is_empty() || line.len() > MAX_LINE_BYTES {
            return;
        }
        if !matches!(editor.add_history_entry(line), Ok(true)) {
            return;
        }
        if let Some(path) = self.path.clone()
            && let Err(e) = editor.append_history(&path)
        {
            self.fail(&path, &format!("cannot write it: {e}"));
        }
    }
}

/// What the editor thread hands the async side.
enum Event {
    /// An accepted line (a paste of several lines comes as several).
    Lines(Vec<String>),
    /// The input was not valid UTF-8; the line being edited is lost.
    BadInput,
    /// Ctrl-D on an empty line, or the terminal closed.
    Eof,
    /// The terminal failed.
    Failed(std::io::Error),
}

/// What the async side tells the editor thread after answering.
enum Next {
    Read,
    Stop,
}

/// The editor thread: reads lines until Ctrl-D, a failure, or the async side says stop.
fn edit(
    mut editor: Editor<Helper, FileHistory>,
    mut history: Persistence,
    output: Arc<Output>,
    hold_logs: bool,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
    next: std_mpsc::Receiver<Next>,
) {
    loop {
        if hold_logs {
            output.set_editing(true);
        }
        let read = editor.readline(PROMPT);
        if hold_logs {
            output.set_editing(false);
        }
        let event = match read {
            Ok(text) => {
                // A bracketed paste keeps its line breaks: each line is answered in turn.
                let lines: Vec<String> = text
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r').to_string())
                    .collect();
                for line in &lines {
                    history.add(&mut editor, line);
                }
                Event::Lines(lines)
            }
            // Ctrl-C: the line is dropped, a fresh prompt follows.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                let _ = events.send(Event::Eof);
                return;
            }
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Event::BadInput
            }
            Err(ReadlineError::Io(e)) => {
                let _ = events.send(Event::Failed(e));
                return;
            }
            Err(e) => {
                let _ = events.send(Event::Failed(std::io::Error::other(e.to_string())));
                return;
            }
        };
        if events.send(event).is_err() {
            return;
        }
        match next.recv() {
            Ok(Next::Read) => {}
            Ok(Next::Stop) | Err(_) => return,
        }
    }
}

/// The greeting of a terminal session.
pub(super) const GREETING: &str = "hotpapers console: type help for the commands, Tab completes, \
     Up recalls earlier lines; quit or Ctrl-D to leave.\n";

/// The interactive session on the process's terminal: answers on `out`, errors on stderr,
/// both through `output`'s lock. Commands that fail do not fail the session.
pub(super) async fn run(
    app: &App,
    out: &mut dyn Write,
    output: &Arc<Output>,
) -> std::io::Result<Summary> {
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)
        .and_then(|b| b.history_ignore_dups(true))
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .history_ignore_space(true)
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<Helper, FileHistory> =
        Editor::with_config(config).map_err(|e| std::io::Error::other(e.to_string()))?;
    editor.set_helper(Some(Helper {
        clock: Arc::clone(app.clock()),
    }));
    let history = Persistence::open(history_path(|name| std::env::var_os(name)), &mut editor);

    let mut out = output.writer(out);
    let mut err = output.writer(std::io::stderr());
    out.write_all(GREETING.as_bytes())?;

    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let (next_tx, next_rx) = std_mpsc::channel();
    // Logs on another terminal or in a file cannot break the prompt: no need to hold them.
    let hold_logs = std::io::stderr().is_terminal();
    let thread_output = Arc::clone(output);
    let editor_thread = std::thread::Builder::new()
        .name("console-editor".into())
        .spawn(move || {
            edit(
                editor,
                history,
                thread_output,
                hold_logs,
                events_tx,
                next_rx,
            )
        })?;

    let mut summary = Summary::default();
    let result = loop {
        let Some(event) = events.recv().await else {
            break Ok(());
        };
        let lines = match event {
            Event::Lines(lines) => lines,
            Event::BadInput => {
                summary.failed += 1;
                let text = "error: the input is not valid UTF-8; the line was dropped\n";
                if let Err(e) = show(&reply(text), &mut out, &mut err, false) {
                    break Err(e);
                }
                vec![]
            }
            Event::Eof => {
                // Ctrl-D leaves the cursor after the prompt.
                break out.write_all(b"\n");
            }
            Event::Failed(e) => break Err(e),
        };
        match answer_lines(app, &lines, &mut summary, &mut out, &mut err).await {
            Ok(true) => {
                if next_tx.send(Next::Read).is_err() {
                    break Ok(());
                }
            }
            Ok(false) => {
                let _ = next_tx.send(Next::Stop);
                break Ok(());
            }
            Err(e) => break Err(e),
        }
    };
    drop(next_tx);
    // The thread is past its last read here (it waits for `Next`, or it has ended).
    let _ = editor_thread.join();
    result.map(|()| summary)
}

fn reply(text: &str) -> Outcome {
    Outcome::Reply {
        text: text.to_string(),
        failed: true,
    }
}

/// Answers `lines` in order; `false` after `quit`.
async fn answer_lines(
    app: &App,
    lines: &[String],
    summary: &mut Summary,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<bool> {
    for line in lines {
        let outcome = if line.len() > MAX_LINE_BYTES {
            reply(&format!("error: {}\n", ParseError::TooLong))
        } else {
            answer(app, line).await
        };
        if outcome == Outcome::Quit {
            return Ok(false);
        }
        summary.record(&outcome);
        show(&outcome, out, err, false)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn path_with(vars: &[(&str, &str)]) -> Option<PathBuf> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        history_path(|name| vars.get(name).cloned())
    }

    #[test]
    fn history_lives_in_the_xdg_state_directory_unless_overridden() {
        assert_eq!(
            path_with(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")]),
            Some(PathBuf::from("/s/hotpapers/console_history"))
        );
        assert_eq!(
            path_with(&[("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/state/hotpapers/console_history"))
        );
        assert_eq!(
            path_with(&[("XDG_STATE_HOME", "relative"), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/state/hotpapers/console_history"))
        );
        assert_eq!(
            path_with(&[(HISTORY_VAR, "/tmp/hist"), ("XDG_STATE_HOME", "/s")]),
            Some(PathBuf::from("/tmp/hist"))
        );
        assert_eq!(path_with(&[(HISTORY_VAR, ""), ("HOME", "/h")]), None);
        assert_eq!(path_with(&[]), None);
        assert_eq!(path_with(&[("HOME", "")]), None);
    }
}
