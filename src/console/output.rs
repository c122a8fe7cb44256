//! One lock for the console's answers and the process's log lines, so neither lands in the
//! middle of the other.
//!
//! An [`Output`] owns where log lines go (stderr for the process, [`stdio`]) and a lock.
//! The tracing subscriber writes through [`Output::log_writer`]: each event is formatted
//! first, then written in one piece under the lock. The console writes its answers through
//! [`Output::writer`], whose every write is one `write_all` plus `flush` under the same lock.
//! So an answer written in one call is contiguous, and so is every log line.
//!
//! While the line editor is reading a line (see [`Output::set_editing`]), log lines are held
//! back and written as soon as the line is accepted, before its answer: writing them at once
//! would break the prompt being edited. (rustyline's `ExternalPrinter` can print above the
//! prompt, but its `print` blocks when a second message arrives after the editor stopped
//! reading, which under this lock would deadlock the session, and without it could interleave
//! with an answer.)

use std::io::{self, Write};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// Log bytes held while a line is being edited; more are dropped (and counted).
const HELD_MAX_BYTES: usize = 64 * 1024;

/// Where log lines go, and the lock that answers and log lines share.
pub struct Output {
    state: Mutex<State>,
}

struct State {
    log: Box<dyn Write + Send>,
    editing: bool,
    held: Vec<u8>,
    dropped: usize,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

/// The process's output: log lines to stderr. The tracing subscriber of the binary and the
/// console's answers both use this one.
pub fn stdio() -> Arc<Output> {
    static STDIO: LazyLock<Arc<Output>> =
        LazyLock::new(|| Arc::new(Output::new(Box::new(io::stderr()))));
    Arc::clone(&STDIO)
}

impl Output {
    /// Log lines go to `log`.
    pub fn new(log: Box<dyn Write + Send>) -> Self {
        Self {
            state: Mutex::new(State {
                log,
                editing: false,
                held: Vec::new(),
                dropped: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while writing leaves nothing half-updated that matters here.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes one log line (or several, formatted together) in one piece; held back while
    /// a line is being edited. Errors writing a log line are ignored: logging must never end
    /// the session.
    pub fn log(&self, bytes: &[u8]) {
        let mut state = self.lock();
        if state.editing {
            if state.held.len() + bytes.len() <= HELD_MAX_BYTES {
                state.held.extend_from_slice(bytes);
            } else {
                state.dropped += 1;
            }
            return;
        }
        let _ = state.log.write_all(bytes);
        let _ = state.log.flush();
    }

    /// Marks the line editor as reading a line (`true`) or done (`false`). Log lines that
    /// arrive meanwhile are held, then written when it is done.
    pub fn set_editing(&self, editing: bool) {
        let mut state = self.lock();
        state.editing = editing;
        if editing {
            return;
        }
        let held = std::mem::take(&mut state.held);
        let _ = state.log.write_all(&held);
        let dropped = std::mem::take(&mut state.dropped);
        if dropped > 0 {
            let note = format!("({dropped} log line(s) dropped while a line was edited)\n");
            let _ = state.log.write_all(note.as_bytes());
        }
        let _ = state.log.flush();
    }

    /// Runs `f` while no log line can be written. `f` must not log (the lock is not
    /// reentrant).
    pub fn exclusive<R>(&self, f: impl FnOnce() -> R) -> R {
        let _state = self.lock();
        f()
    }

    /// `inner`, each of whose writes (one `write_all` and a `flush`) excludes log lines.
    pub fn writer<W: Write>(self: &Arc<Self>, inner: W) -> Exclusive<W> {
        Exclusive {
            output: Arc::clone(self),
            inner,
        }
    }

    /// The tracing subscriber's writer: each event written in one piece through
    /// [`Output::log`].
    pub fn log_writer(self: &Arc<Self>) -> LogWriter {
        LogWriter {
            output: Arc::clone(self),
        }
    }
}

/// A writer whose every `write` is one `write_all` plus `flush` of the whole buffer under the
/// [`Output`]'s lock (see [`Output::writer`]). Write an answer in one call to keep it whole.
#[derive(Debug)]
pub struct Exclusive<W> {
    output: Arc<Output>,
    inner: W,
}

impl<W: Write> Write for Exclusive<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        self.output.exclusive(|| {
            inner.write_all(buf)?;
            inner.flush()
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let inner = &mut self.inner;
        self.output.exclusive(|| inner.flush())
    }
}

/// The [`MakeWriter`] of the tracing subscriber (see [`Output::log_writer`]).
#[derive(Clone, Debug)]
pub struct LogWriter {
    output: Arc<Output>,
}

/// One event being written: collected, then written in one piece when dropped.
#[derive(Debug)]
pub struct LogLine {
    output: Arc<Output>,
    buf: Vec<u8>,
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine {
            output: Arc::clone(&self.output),
            buf: Vec::new(),
        }
    }
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.output.log(&self.buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink shared by the log and the answers that takes one byte per `write` and yields
    /// between them, so two writers not excluding each other interleave.
    #[derive(Clone, Default)]
    struct SlowSink(Arc<Mutex<Vec<u8>>>);

    impl Write for SlowSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let Some(b) = buf.first() else {
                return Ok(0);
            };
            self.0.lock().unwrap().push(*b);
            std::thread::yield_now();
            Ok(1)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl SlowSink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn answer(i: usize) -> String {
        (0..8)
            .map(|l| format!("answer {i} line {l} ...........................\n"))
            .collect()
    }

    /// Log lines from three threads through a real tracing subscriber, and multi-line answers
    /// from a fourth, into one byte-at-a-time sink: every answer and every log line is whole.
    #[test]
    fn answers_and_log_lines_never_interleave() {
        const ANSWERS: usize = 40;
        const LOGS: usize = 40;
        let sink = SlowSink::default();
        let output = Arc::new(Output::new(Box::new(sink.clone())));
        let subscriber = tracing_subscriber::fmt()
            .with_writer(output.log_writer())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        let dispatch = tracing::Dispatch::new(subscriber);
        std::thread::scope(|s| {
            for t in 0..3 {
                let dispatch = dispatch.clone();
                s.spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for i in 0..LOGS {
                            tracing::warn!("log {t}-{i} from a worker thread");
                        }
                    });
                });
            }
            let mut out = output.writer(sink.clone());
            s.spawn(move || {
                for i in 0..ANSWERS {
                    out.write_all(answer(i).as_bytes()).unwrap();
                }
            });
        });
        let text = sink.text();
        for i in 0..ANSWERS {
            assert!(text.contains(&answer(i)), "answer {i} is split:\n{text}");
        }
        for t in 0..3 {
            for i in 0..LOGS {
                let line = format!(" WARN log {t}-{i} from a worker thread\n");
                assert!(text.contains(&line), "log {t}-{i} is split:\n{text}");
            }
        }
        assert_eq!(text.lines().count(), ANSWERS * 8 + 3 * LOGS);
    }

    #[test]
    fn log_lines_wait_while_a_line_is_edited() {
        let sink = SlowSink::default();
        let output = Arc::new(Output::new(Box::new(sink.clone())));
        let mut log = output.log_writer().make_writer();
        log.write_all(b"before\n").unwrap();
        drop(log);
        output.set_editing(true);
        output.log(b"during\n");
        assert_eq!(sink.text(), "before\n");
        output.set_editing(false);
        output.writer(sink.clone()).write_all(b"answer\n").unwrap();
        assert_eq!(sink.text(), "before\nduring\nanswer\n");
        // A flood while editing is capped and counted, not buffered without end.
        output.set_editing(true);
        let line = vec![b'x'; 1024];
        for _ in 0..100 {
            output.log(&line);
        }
        output.set_editing(false);
        let text = sink.text();
        let note = "(36 log line(s) dropped while a line was edited)\n";
        assert!(text.ends_with(note), "{}", &text[text.len() - 60..]);
        assert_eq!(
            text.len(),
            "before\nduring\nanswer\n".len() + 64 * 1024 + note.len()
        );
    }
}
