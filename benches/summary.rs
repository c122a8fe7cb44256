//! Speed of the extractive summarizer: it runs on every paper a digest shows, and `digest
//! --top 0` shows a whole mailing (~1,300 papers), so it must stay well under 1 ms per paper.
//!
//! Inputs are real: the abstracts of the recorded arXiv API payloads in `tests/fixtures/`
//! (with their LaTeX), and, when `HOTPAPERS_SCITLDR` names a SciTLDR JSONL file (e.g.
//! `../shared/data/scitldr/dev.jsonl`), its 619 abstracts too. They are cycled to one
//! 1,300-paper mailing. The peer, timed side by side in the same run, is the line shown
//! before summaries existed: `Paper::lead_sentence`, the abstract's first sentence; the ratio
//! says what the better line costs, independent of how loaded this machine is.
//!
//! Run with `cargo bench --bench summary`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hotpapers::arxiv::atom::parse_feed;
use hotpapers::arxiv::paper::Paper;
use hotpapers::summary::{extractive, scitldr};

const MAILING: usize = 1_300;
const RUNS: usize = 7;
const TARGET_PER_PAPER: Duration = Duration::from_millis(1);

fn papers() -> Vec<Paper> {
    let mut papers = Vec::new();
    for file in [
        "tests/fixtures/arxiv_api_query_current_format.xml",
        "tests/fixtures/arxiv_api_query_legacy_format_docs.xml",
    ] {
        let xml = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let feed = parse_feed(&xml).unwrap_or_else(|e| panic!("{file}: {e}"));
        papers.extend(feed.entries);
    }
    if let Ok(path) = std::env::var("HOTPAPERS_SCITLDR") {
        let examples =
            scitldr::read(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let template = papers[0].clone();
        papers.extend(examples.into_iter().map(|e| Paper {
            title: e.title,
            abstract_text: e.source.join(" "),
            ..template.clone()
        }));
    }
    papers.iter().cycle().take(MAILING).cloned().collect()
}

/// The fastest of [`RUNS`] passes of `f` over every paper.
fn best_of(papers: &[Paper], f: impl Fn(&Paper) -> usize) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let mut total = 0;
            for p in papers {
                total += f(black_box(p));
            }
            black_box(total);
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let papers = papers();
    let summarize =
        |p: &Paper| extractive::summarize(&p.title, &p.abstract_text).map_or(0, |s| s.len());
    let lead = |p: &Paper| p.lead_sentence().len();
    // Warm up (the model is parsed on first use).
    best_of(&papers[..10], summarize);
    let ours = best_of(&papers, summarize);
    let peer = best_of(&papers, lead);
    let per_paper = ours / papers.len() as u32;
    println!(
        "extractive summary: {:.1} µs/paper ({} papers in {:.1} ms); lead sentence (peer): {:.2} µs/paper; ratio {:.0}x",
        ours.as_secs_f64() * 1e6 / papers.len() as f64,
        papers.len(),
        ours.as_secs_f64() * 1e3,
        peer.as_secs_f64() * 1e6 / papers.len() as f64,
        ours.as_secs_f64() / peer.as_secs_f64().max(1e-9),
    );
    println!(
        "target: under {} µs/paper: {}",
        TARGET_PER_PAPER.as_micros(),
        if per_paper < TARGET_PER_PAPER {
            "met"
        } else {
            "MISSED"
        }
    );
}
