//! Fuzzes the arXiv identifier parser: `parse`, `from_url` and `find_all` must never panic on any
//! string, `from_url` must accept nothing that `parse` rejects, and a parsed id must round-trip
//! through its `Display` form.
#![no_main]

use hotpapers::arxiv::ArxivId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Also feed invalid UTF-8 through the lossy conversion, the way a sloppy HTTP body would.
    let text = String::from_utf8_lossy(data);

    let parsed = ArxivId::parse(&text);
    if let Ok(id) = &parsed {
        let shown = id.to_string();
        let again = ArxivId::parse(&shown).expect("Display output must parse");
        assert_eq!(&again, id, "round trip of {text:?} via {shown:?}");
        assert_eq!(again.to_string(), shown);
        assert_eq!(ArxivId::from_url(&id.abs_url()).as_ref(), Some(id));
    }

    if let Some(from_url) = ArxivId::from_url(&text) {
        assert_eq!(
            parsed.as_ref().ok(),
            Some(&from_url),
            "from_url accepted what parse rejects: {text:?}"
        );
    }

    for found in ArxivId::find_all(&text) {
        let shown = found.to_string();
        assert_eq!(ArxivId::parse(&shown).ok().as_ref(), Some(&found));
    }
});
