//! arXiv identifiers and the taxonomy against real payloads (verbatim copies in tests/fixtures).

use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::taxonomy::{self, CategoryFilter};

const API_CURRENT: &str = include_str!("fixtures/arxiv_api_query_current_format.xml");
const API_LEGACY: &str = include_str!("fixtures/arxiv_api_query_legacy_format_docs.xml");
const API_ERROR: &str = include_str!("fixtures/arxiv_api_error_malformed_id.xml");
const RSS: &str = include_str!("fixtures/arxiv_rss_math_OC_RECONSTRUCTED_from_spec.xml");
const HF_DAILY: &str = include_str!("fixtures/hf_daily_papers.json");

/// The text between every `open` and the next `close` (a crude extractor; the fixtures are
/// simple enough).
fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(close) else { break };
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

fn shown(ids: &[ArxivId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[test]
fn current_api_entry_ids_and_links_parse() {
    let entry_ids: Vec<ArxivId> = between(API_CURRENT, "<id>", "</id>")
        .into_iter()
        .filter_map(ArxivId::from_url)
        .collect();
    assert_eq!(
        shown(&entry_ids),
        [
            "2403.17411v1",
            "2507.20198v5",
            "2609.08574v1",
            "2409.17625v3",
            "2306.14152v1",
            "2401.04670v1",
        ]
    );
    // Every abs/pdf link names one of the entries; the feed's own <id> and the DOI link do not.
    let hrefs = between(API_CURRENT, "href=\"", "\"");
    let mut linked = 0;
    for href in hrefs {
        match ArxivId::from_url(href) {
            Some(id) => {
                assert!(entry_ids.contains(&id), "{href}");
                linked += 1;
            }
            None => assert!(
                !href.contains("arxiv.org/abs/") && !href.contains("arxiv.org/pdf/"),
                "{href} should parse"
            ),
        }
    }
    assert_eq!(linked, 12, "one alternate and one pdf link per entry");
    // find_all over the whole document finds the same papers (ids and links share versions).
    assert_eq!(ArxivId::find_all(API_CURRENT), entry_ids);
    for category in between(API_CURRENT, "term=\"", "\"") {
        assert!(taxonomy::is_known(category), "{category}");
    }
}

#[test]
fn legacy_api_old_style_ids() {
    let found = ArxivId::find_all(API_LEGACY);
    assert_eq!(shown(&found), ["hep-ex/0307015", "hep-ex/0307015v1"]);
    assert!(
        found
            .iter()
            .all(|id| id.is_old_style() && id.archive() == Some("hep-ex"))
    );
    assert_eq!(found[0].year_month(), (2003, 7));
    assert!(taxonomy::is_known("hep-ex"));
}

#[test]
fn error_feed_names_no_paper_and_its_id_is_invalid() {
    assert_eq!(ArxivId::find_all(API_ERROR), Vec::<ArxivId>::new());
    let err = ArxivId::parse("1234.12345").unwrap_err();
    assert!(err.to_string().contains("month"), "{err}");
}

#[test]
fn rss_item_link_guid_and_description() {
    let links: Vec<ArxivId> = between(RSS, "<link>", "</link>")
        .into_iter()
        .filter_map(ArxivId::from_url)
        .collect();
    assert_eq!(
        shown(&links),
        ["2203.01250"],
        "the channel link is not a paper"
    );
    let guid = between(RSS, "<guid isPermaLink=\"false\">", "</guid>");
    let guid_id = guid[0].strip_prefix("oai:arXiv.org:").unwrap();
    assert_eq!(ArxivId::parse(guid_id).unwrap().to_string(), "2203.01250v3");
    assert_eq!(
        shown(&ArxivId::find_all(RSS)),
        ["2203.01250", "2203.01250v3"]
    );
    let math_oc = CategoryFilter::parse("math.oc").unwrap();
    let math = CategoryFilter::parse("math").unwrap();
    for category in between(RSS, "<category>", "</category>") {
        assert!(taxonomy::is_known(category), "{category}");
        assert!(math.matches(category));
    }
    assert!(math_oc.matches("math.OC"));
    assert!(!math_oc.matches("math.AP"));
}

#[test]
fn hugging_face_daily_papers_ids() {
    let ids = between(HF_DAILY, "\"id\": \"", "\"");
    let paper = ids
        .iter()
        .find_map(|s| ArxivId::parse(s).ok())
        .expect("the paper id");
    assert_eq!(paper.to_string(), "2602.23229");
    assert_eq!(
        ArxivId::from_url("https://huggingface.co/papers/2602.23229"),
        Some(paper)
    );
    // The thumbnail URL merely contains the id; it is not a link to the paper.
    assert_eq!(ArxivId::find_all(HF_DAILY), Vec::<ArxivId>::new());
}
