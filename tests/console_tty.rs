//! The interactive console through a pseudo-terminal: the real `hotpapers console` binary
//! with its stdin, stdout and stderr on a pty, driven key by key as a person would. Each step
//! waits for what the terminal shows (a prompt, an answer, a completed word) with a generous
//! deadline, never a fixed sleep, so the test is as fast as the binary and does not flake.
//! Nothing reaches the network: only `help`, completion and history are used.
#![cfg(unix)]

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};

/// How long one step may take before the test fails (a debug build on a busy 2-core machine).
const DEADLINE: Duration = Duration::from_secs(30);

const PROMPT: &str = "hotpapers> ";

/// Held by each test while its sessions run (see [`Session::start`]).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running `hotpapers console` on a pty: keys go in, the screen's bytes come out.
struct Session {
    child: Child,
    keys: File,
    screen: Receiver<Vec<u8>>,
    /// Everything shown so far, escape sequences removed.
    seen: String,
    /// Where the next [`Session::expect`] starts looking.
    cursor: usize,
    closed: bool,
}

impl Session {
    fn start(dir: &Path, history: &Path) -> Self {
        let size = Winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).expect("openpty");
        // openpty's descriptors are inherited by every child: keep only close-on-exec copies
        // of the master (`try_clone` makes those), and spawn one session at a time (`ONE_AT_A_TIME`)
        // so that no other test's child holds this slave open after ours has ended.
        let master = File::from(pty.master.try_clone().expect("dup the pty master"));
        drop(pty.master);
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotpapers"));
        cmd.current_dir(dir)
            .env_clear()
            .env("TERM", "xterm")
            .env("HOTPAPERS_HISTORY", history)
            .env("HOTPAPERS_STORE__PATH", dir.join("test.db"))
            .env("HOTPAPERS_ARXIV__API_URL", "http://127.0.0.1:9/api/query")
            .env("HOTPAPERS_ARXIV__RSS_URL", "http://127.0.0.1:9/rss")
            .arg("console")
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave));
        let child = cmd.spawn().expect("spawn hotpapers console");
        // Only the child holds the slave now: its exit closes the screen.
        drop(cmd);
        drop(pty.slave);
        let mut reader = master.try_clone().expect("dup the pty master");
        let (tx, screen) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Linux answers EIO once the child has closed the slave: the end of the screen.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            keys: master,
            screen,
            seen: String::new(),
            cursor: 0,
            closed: false,
        }
    }

    /// Ctrl-C on a line showing `shown`: it ends with the line left as it was and a fresh
    /// prompt below it (waiting for that prompt, not for one redrawn before the key arrived).
    fn interrupt(&mut self, shown: &str) {
        self.press("\x03");
        self.expect(&format!("{shown}\n{PROMPT}"));
    }

    fn press(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).expect("type");
        self.keys.flush().expect("type");
    }

    /// Waits until `text` shows after the previous match, and moves past it.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(i) = self.seen[self.cursor..].find(text) {
                self.cursor += i + text.len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&plain(&bytes)),
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    panic!("the console ended before showing {text:?}:\n{}", self.seen);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no {text:?} within {DEADLINE:?}; the screen:\n{}",
                        self.seen
                    )
                }
            }
        }
    }

    /// Waits for the console to end (its screen closes) and returns how it ended.
    fn exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + DEADLINE;
        while !self.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&plain(&bytes)),
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("the console did not end; the screen:\n{}", self.seen);
                }
            }
        }
        let status = self.child.wait().expect("wait for the console");
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Session {
    /// A failed test does not leave its console running.
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Terminal output without its escape sequences (CSI `ESC [ … final`, and `ESC x`) and
/// carriage returns.
fn plain(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[test]
fn the_line_editor_recalls_completes_clears_and_remembers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let history = dir.path().join("state").join("console_history");

    let mut s = Session::start(dir.path(), &history);
    s.expect("Tab completes");
    s.expect(PROMPT);
    s.press("help\r");
    s.expect("The console acts as an admin of the pseudo-server 0.");
    s.expect(PROMPT);
    // Up recalls the previous command; Ctrl-C drops it and prompts again.
    s.press("\x1b[A");
    s.interrupt("help");
    // Tab completes a command, then an option name, then a category.
    s.press("/ho\t");
    s.expect("/hot");
    s.press("cat\t");
    s.expect("category:");
    s.press("cs.l\t\t");
    s.expect("cs.LO — Logic in Computer Science");
    s.interrupt("/hot category:cs.l");
    // A line that is not a command gets its error, and the session goes on.
    s.press("/hto\r");
    s.expect("did you mean /hot?");
    s.expect(PROMPT);
    // Keys typed ahead, before the editor reads again, are kept: both lines are answered.
    s.press("help paper\rhelp hot\r");
    s.expect("usage: /paper");
    s.expect("usage: /hot");
    s.expect(PROMPT);
    // Ctrl-D on an empty line leaves, successfully.
    s.press("\x04");
    let (status, screen) = s.exit();
    assert!(status.success(), "{status:?}\n{screen}");

    // The history was saved (directory created), without the interrupted lines.
    let saved = std::fs::read_to_string(&history).expect("history file");
    let entries: Vec<&str> = saved.lines().skip(1).collect();
    assert_eq!(
        entries,
        ["help", "/hto", "help paper", "help hot"],
        "{saved}"
    );

    // A new session recalls the previous one's lines.
    let mut s = Session::start(dir.path(), &history);
    s.expect(PROMPT);
    s.press("\x1b[A");
    s.expect("help hot");
    s.press("\x1b[A");
    s.expect("help paper");
    s.press("\x1b[A");
    s.expect("/hto");
    // Ctrl-U empties the line; `quit` leaves.
    s.press("\x15quit\r");
    let (status, screen) = s.exit();
    assert!(status.success(), "{status:?}\n{screen}");
    let saved = std::fs::read_to_string(&history).expect("history file");
    assert!(
        saved.ends_with("help\n/hto\nhelp paper\nhelp hot\nquit\n"),
        "{saved}"
    );
}

#[test]
fn an_unwritable_history_is_warned_about_once_and_the_session_goes_on() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    // A file where the history's directory should be.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").expect("write");
    let mut s = Session::start(dir.path(), &blocker.join("console_history"));
    s.expect("will not be saved");
    s.expect(PROMPT);
    s.press("help hot\r");
    s.expect("usage: /hot");
    s.expect(PROMPT);
    s.press("quit\r");
    let (status, screen) = s.exit();
    assert!(status.success(), "{status:?}\n{screen}");
    assert_eq!(screen.matches("will not be saved").count(), 1, "{screen}");
}
