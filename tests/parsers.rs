//! Robustness of the arXiv feed parsers against hostile or damaged bodies: whatever arrives over
//! the network, `parse_feed` / `parse_rss` return a value or an error and never panic.

use hotpapers::arxiv::atom::{AtomError, parse_feed};
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
