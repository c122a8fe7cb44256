//! Fuzzes the console's line parser and its Tab completion: any text (invalid UTF-8 replaced
//! lossily) must give `Ok` or `Err` from `parse_line`, never a panic, and `complete` must return
//! a start offset the line editor can slice with (a char boundary, not past the cursor).
#![no_main]

use chrono::{DateTime, Utc};
use hotpapers::console::completion::complete;
use hotpapers::console::parse_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the cursor; the whole input is the line, so every seed is
    // also a plain line.
    let cursor = match data {
        [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => 0,
    };
    let line = String::from_utf8_lossy(data);

    if let Err(e) = parse_line(&line) {
        // What the console prints: the message must render too.
        let _ = e.to_string();
    }

    // Any byte offset within the line, including ones inside a multi-byte character.
    let pos = cursor % (line.len() + 1);
    // Time zones' UTC offsets depend on the date; keep it fixed so a crash reproduces.
    let now: DateTime<Utc> = DateTime::from_timestamp(1_751_443_200, 0).expect("valid timestamp");
    let (start, candidates) = complete(&line, pos, now);
    if !candidates.is_empty() {
        assert!(
            start <= pos,
            "start {start} after the cursor {pos} in {line:?}"
        );
        assert!(
            line.is_char_boundary(start),
            "start {start} inside a character in {line:?}"
        );
    }
});
