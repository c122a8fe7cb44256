//! Fuzzes the arXiv Atom feed parser: any byte string must give `Ok` or `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hotpapers::arxiv::atom::parse_feed(data);
});
