//! Robustness of the arXiv feed parsers against hostile or damaged bodies: whatever arrives over
//! the network, `parse_feed` / `parse_rss` return a value or an error and never panic.

use hotpapers::arxiv::atom::{AtomError, InvalidUtf8, parse_feed};
use hotpapers::arxiv::rss::{RssError, parse_rss};
use proptest::prelude::*;

const CURRENT: &[u8] = include_bytes!("fixtures/arxiv_api_query_current_format.xml");
const LEGACY: &[u8] = include_bytes!("fixtures/arxiv_api_query_legacy_format_docs.xml");
const ERROR: &[u8] = include_bytes!("fixtures/arxiv_api_error_malformed_id.xml");
const RSS: &[u8] = include_bytes!("fixtures/arxiv_rss_math_OC_RECONSTRUCTED_from_spec.xml");

/// Every proper prefix of a complete feed is missing at least its closing `</feed>`, so it must be
/// an error: a truncated download must never look like a short but valid page.
///
/// Every cut of the small fixtures; for the 13 kB current one every cut in the header and in the
/// last 300 bytes, and every 7th byte in between (all cuts would be quadratic, slow in debug).
#[test]
fn truncations_of_the_atom_fixtures_are_errors() {
    for fixture in [CURRENT, LEGACY] {
        let end = fixture
            .windows(b"</feed>".len())
            .rposition(|w| w == b"</feed>")
            .unwrap_or(fixture.len());
        let cuts = (0..end).filter(|&c| c < 1_000 || c + 300 >= end || c % 7 == 0);
        for cut in cuts {
            match parse_feed(&fixture[..cut]) {
                Err(AtomError::Xml { .. } | AtomError::NotAtom(_)) => {}
                other => panic!("cut at {cut}: expected Xml/NotAtom, got {other:?}"),
            }
        }
    }
}

/// A truncated error feed is still an error: `Api` once the error entry is complete (it wins
/// whatever follows), `Xml`/`NotAtom` before.
#[test]
fn truncations_of_the_error_feed_are_errors() {
    let entry_end = ERROR
        .windows(b"</entry>".len())
        .position(|w| w == b"</entry>")
        .map(|p| p + b"</entry>".len())
        .unwrap_or(ERROR.len());
    for cut in 0..ERROR.len() {
        match parse_feed(&ERROR[..cut]) {
            Err(AtomError::Api { code, .. }) if cut >= entry_end => {
                assert_eq!(code, "incorrect_id_format_for_1234.12345");
            }
            Err(AtomError::Xml { .. } | AtomError::NotAtom(_)) if cut < entry_end => {}
            other => panic!("cut at {cut}: got {other:?}"),
        }
    }
}

#[test]
fn every_truncation_of_the_rss_fixture_is_an_error() {
    let end = RSS
        .windows(b"</rss>".len())
        .rposition(|w| w == b"</rss>")
        .unwrap_or(RSS.len());
    for cut in 0..end {
        match parse_rss(&RSS[..cut]) {
            Err(RssError::Xml { .. } | RssError::NotRss(_)) => {}
            other => panic!("cut at {cut}: expected Xml/NotRss, got {other:?}"),
        }
    }
}

#[test]
fn the_complete_fixtures_parse() {
    assert_eq!(parse_feed(CURRENT).map(|f| f.entries.len()).ok(), Some(6));
    assert!(matches!(parse_feed(ERROR), Err(AtomError::Api { .. })));
    assert_eq!(parse_rss(RSS).map(|f| f.items.len()).ok(), Some(1));
}

/// `base` with `bytes` inserted right after the first occurrence of `after`; and where.
fn insert_after(base: &[u8], after: &str, bytes: &[u8]) -> (Vec<u8>, usize) {
    let at = base
        .windows(after.len())
        .position(|w| w == after.as_bytes())
        .map(|p| p + after.len())
        .unwrap_or_else(|| panic!("{after:?} is not in the fixture"));
    let mut out = base.to_vec();
    out.splice(at..at, bytes.iter().copied());
    (out, at)
}

/// Defect 6 of the hardening issue: one invalid UTF-8 byte in one title made `ingest` fail
/// (after three retries) with "malformed Atom XML at byte 0". The real API page keeps all its
/// entries; the damaged title reads U+FFFD, and the report gives the byte's real offset and
/// its entry.
#[test]
fn an_invalid_byte_in_one_title_keeps_every_entry() {
    let good = parse_feed(CURRENT).expect("the fixture parses");
    assert!(good.invalid_utf8.is_empty());
    let (body, at) = insert_after(CURRENT, "<title>A Survey", &[0xFF]);
    let feed = parse_feed(&body).expect("one bad byte is not a broken feed");
    assert_eq!(feed.entries.len(), good.entries.len());
    assert!(feed.rejected.is_empty());
    let damaged = feed
        .entries
        .iter()
        .position(|p| p.title.contains('\u{FFFD}'))
        .expect("the damaged entry is kept");
    assert_eq!(
        feed.entries[damaged].title,
        "A Survey\u{FFFD} of Token Compression for Efficient Multimodal Large Language Models"
    );
    for (i, (a, b)) in good.entries.iter().zip(&feed.entries).enumerate() {
        if i != damaged {
            assert_eq!(a, b, "entry {i} changed");
        }
    }
    let [report] = feed.invalid_utf8.as_slice() else {
        panic!("{:?}", feed.invalid_utf8)
    };
    assert_eq!(report.position, u64::try_from(at).unwrap());
    assert!(at > 1000, "a plausible offset, not 0: {at}");
    assert_eq!(report.count, 1);
    let id = report.entry.as_deref().expect("the entry's id");
    assert!(id.contains(feed.entries[damaged].id.key()), "{id}");
    assert_eq!(
        report.to_string(),
        format!("invalid UTF-8 at byte {at} in entry {id}, read as U+FFFD")
    );
}

#[test]
fn invalid_bytes_are_reported_per_entry_and_outside_the_entries() {
    // A stray Latin-1 byte in the feed's own title, two bad sequences in the first abstract
    // and a truncated three-byte character in the fourth entry's title.
    let (body, _) = insert_after(CURRENT, "<title>arXiv Query", &[0xE9]);
    let (body, _) = insert_after(&body, "<summary>", &[0xC3, 0x28]);
    let (body, _) = insert_after(&body, "<summary>", &[0xFF]);
    let (body, _) = insert_after(&body, "<title>Benign", &[0xE2, 0x82]);
    // Where each now is in the final body.
    let at = |needle: &str| {
        let p = body
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .expect("present");
        u64::try_from(p + needle.len()).unwrap()
    };
    let feed = parse_feed(&body).expect("parses");
    assert_eq!(feed.entries.len(), 6);
    let found: Vec<(u64, usize, Option<&str>)> = feed
        .invalid_utf8
        .iter()
        .map(|r: &InvalidUtf8| (r.position, r.count, r.entry.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (at("<title>arXiv Query"), 1, None),
            (
                at("<summary>"),
                2,
                Some("http://arxiv.org/abs/2403.17411v1")
            ),
            (
                at("<title>Benign"),
                1,
                feed.invalid_utf8[2].entry.as_deref()
            ),
        ]
    );
    let benign = feed
        .entries
        .iter()
        .find(|p| p.title.starts_with("Benign"))
        .expect("kept");
    assert!(
        benign.title.starts_with("Benign\u{FFFD} Overfitting"),
        "{}",
        benign.title
    );
    assert!(found[2].2.is_some_and(|id| id.contains(benign.id.key())));
    assert!(
        feed.invalid_utf8[0]
            .to_string()
            .contains("outside the entries")
    );
    assert!(feed.invalid_utf8[1].to_string().contains("(and 1 more)"));
}

/// Positions in errors are offsets in the body as received, past any replaced bytes.
#[test]
fn error_positions_count_the_bytes_as_received() {
    let (body, _) = insert_after(CURRENT, "<title>arXiv Query", &[0xFF]);
    let end = body
        .windows(b"</feed>".len())
        .rposition(|w| w == b"</feed>")
        .unwrap();
    match parse_feed(&body[..end]) {
        Err(AtomError::Xml { position, message }) => {
            assert_eq!(position, u64::try_from(end).unwrap(), "{message}");
        }
        other => panic!("expected Xml, got {other:?}"),
    }
}

#[test]
fn an_invalid_byte_in_an_rss_item_keeps_the_item() {
    let (body, at) = insert_after(RSS, "<title>Mass concentration", &[0xFF]);
    let feed = parse_rss(&body).expect("parses");
    assert_eq!(feed.items.len(), 1);
    assert_eq!(
        feed.items[0].title,
        "Mass concentration\u{FFFD} in rescaled first order integral functionals"
    );
    let [report] = feed.invalid_utf8.as_slice() else {
        panic!("{:?}", feed.invalid_utf8)
    };
    assert_eq!(report.position, u64::try_from(at).unwrap());
    assert_eq!(report.entry.as_deref(), Some("oai:arXiv.org:2203.01250v3"));
}

/// Feeding one format to the other parser is a clean "not this format" error.
#[test]
fn formats_are_not_confused() {
    assert!(matches!(parse_feed(RSS), Err(AtomError::NotAtom(_))));
    assert!(matches!(parse_rss(CURRENT), Err(RssError::NotRss(_))));
}

fn mutate(base: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(pos, byte) in edits {
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = byte;
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn atom_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_feed(&bytes);
    }

    #[test]
    fn rss_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_rss(&bytes);
    }

    #[test]
    fn atom_never_panics_on_damaged_fixtures(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let base = [CURRENT, LEGACY, ERROR][which];
        let mut bytes = mutate(base, &edits);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = parse_feed(&bytes);
    }

    #[test]
    fn atom_never_panics_on_xmlish_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<feed xmlns=\"http://www.w3.org/2005/Atom\">"), Just("</feed>"),
                Just("<entry>"), Just("</entry>"), Just("<id>"), Just("</id>"),
                Just("http://arxiv.org/abs/2101.00001v2"), Just("http://arxiv.org/api/errors#x"),
                Just("<title>"), Just("</title>"), Just("<published>"), Just("</published>"),
                Just("2024-01-01T00:00:00Z"), Just("<author><name>"), Just("</name></author>"),
                Just("<arxiv:affiliation xmlns:arxiv=\"http://arxiv.org/schemas/atom\">"),
                Just("</arxiv:affiliation>"), Just("<category term=\"cs.LG\"/>"),
                Just("&amp;"), Just("&#955;"), Just("&#xD800;"), Just("&bogus;"), Just("<![CDATA[x]]>"),
                Just("<link href=\"a&amp;b\"/>"), Just("<x:y xmlns:x=\"urn:q\">"), Just("</x:y>"),
                Just("text"), Just(" "), Just("<"), Just("&"),
            ],
            0..40,
        )
    ) {
        let _ = parse_feed(parts.concat().as_bytes());
    }

    #[test]
    fn rss_never_panics_on_damaged_fixture(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = mutate(RSS, &edits);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = parse_rss(&bytes);
    }
}
