//! `hotpapers paper ID --chart FILE.png` end to end: the seed mailing is ingested and Hacker
//! News is collected at three different times (a fake clock, a fake Algolia whose story gains
//! points between sweeps, the real `HnSource` and `App::collect`), into a store file; then the
//! binary draws the chart from that store.
//!
//! The fake's story is the recorded Algolia hit (`fixtures/hn_algolia_search_story.json`) with
//! `objectID`, `url`, `title`, `points`, `num_comments` and the times replaced; the envelope
//! is the recorded one.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::{FakeArxiv, seed_entries};
use hotpapers::app::App;
use hotpapers::clock::FakeClock;
use hotpapers::config::Config;
use hotpapers::progress::NoProgress;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const STORY: &str = include_str!("fixtures/hn_algolia_search_story.json");

fn t(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 7, d, h, 0, 0).unwrap()
}

/// Algolia answering every search with one story linking 2107.00641, with the points it has
/// now.
struct FakeAlgolia {
    points: Arc<AtomicU64>,
}

impl Respond for FakeAlgolia {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut page: Value = serde_json::from_str(STORY).unwrap();
        let hit = &mut page["hits"][0];
        let created = t(2, 10);
        hit["objectID"] = "27700001".into();
        hit["story_id"] = 27700001.into();
        hit["url"] = "https://arxiv.org/abs/2107.00641".into();
        hit["title"] = "Focal Self-attention for Local-Global Interactions in ViTs".into();
        hit["points"] = self.points.load(Ordering::SeqCst).into();
        hit["num_comments"] = 0.into();
        hit["created_at_i"] = created.timestamp().into();
        hit["created_at"] = created.to_rfc3339().into();
        let hits = page["hits"].as_array_mut().unwrap();
        hits.truncate(1);
        page["nbHits"] = 1.into();
        page["nbPages"] = 1.into();
        page["page"] = 0.into();
        ResponseTemplate::new(200).set_body_json(page)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_chart_shows_the_snapshots_of_three_collects() {
    let dir = tempfile::tempdir().unwrap();
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(seed_entries()))
        .mount(&arxiv)
        .await;
    let hn = MockServer::start().await;
    let points = Arc::new(AtomicU64::new(0));
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .respond_with(FakeAlgolia {
            points: Arc::clone(&points),
        })
        .mount(&hn)
        .await;

    let db = dir.path().join("test.db");
    let mut config = Config::default();
    config.store.path = db.clone();
    config.arxiv.api_url = format!("{}/api/query", arxiv.uri());
    config.arxiv.rss_url = format!("{}/rss", arxiv.uri());
    config.arxiv.request_spacing = Duration::ZERO;
    config.sources.hn.api_url = format!("{}/api/v1/", hn.uri());
    config.sources.hf.enabled = false;
    config.sources.bluesky.enabled = false;
    config.sources.x.enabled = false;
    config.sources.semantic_scholar.enabled = false;
    let clock = FakeClock::new(t(2, 12));
    let app = App::open(config, Arc::new(clock.clone())).await.unwrap();
    let mailing = NaiveDate::from_ymd_opt(2021, 7, 2);
    app.ingest(mailing, &NoProgress).await.unwrap();
    for (at, now_points) in [(t(2, 12), 40), (t(3, 12), 150), (t(4, 12), 290)] {
        clock.set(at);
        points.store(now_points, Ordering::SeqCst);
        let report = app.collect(mailing, &NoProgress).await.unwrap();
        assert!(
            report.sources.iter().all(|s| s.error.is_none()),
            "{report:?}"
        );
    }
    drop(app);

    // The binary, its sources off and arXiv unreachable, draws from the store alone.
    let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
        .args(["paper", "2107.00641", "--chart", "out.png"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The text card says the latest count, the growth since the sweep before, and when.
    assert!(
        stdout
            .contains("290 points on Hacker News · ▲ 140 in 24 h · measured 2021-07-04 12:00 UTC"),
        "{stdout}"
    );
    assert!(
        stdout.contains("shared by @anigbrowl <https://news.ycombinator.com/item?id=27700001>"),
        "{stdout}"
    );

    let png = std::fs::read(dir.path().join("out.png")).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let (w, h) = (reader.info().width, reader.info().height);
    assert!(w >= 600 && h >= 300, "{w}×{h}");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).expect("decodes");
    let pixels = &pixels[..frame.buffer_size()];
    // Keep a copy to look at.
    if let Ok(keep) = std::env::var("HOTPAPERS_KEEP_CHART") {
        std::fs::write(keep, &png).unwrap();
    }
    // One line (the first series colour) was drawn: many pixels of it, across the width.
    let series = plotted_columns(pixels, w as usize, frame.color_type);
    assert!(
        series.len() > w as usize / 2,
        "a line across the chart: {} columns",
        series.len()
    );
}

/// The x positions of pixels in the chart's first series colour (strongly blue, as the
/// palette's first entry is), from an RGB or RGBA buffer.
fn plotted_columns(pixels: &[u8], width: usize, colour: png::ColorType) -> Vec<usize> {
    let channels = match colour {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    let mut columns = std::collections::BTreeSet::new();
    for (i, px) in pixels.chunks(channels).enumerate() {
        let (r, g, b) = (px[0] as i32, px[1] as i32, px[2] as i32);
        if b > 120 && b - r > 60 && b - g > 20 {
            columns.insert(i % width);
        }
    }
    columns.into_iter().collect()
}
