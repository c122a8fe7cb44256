//! Renders two sample attention charts so a person can look at them:
//! `/tmp/chart_demo.png` (three snapshots over two days, three sources) and
//! `/tmp/chart_demo_single.png` (a paper with one snapshot so far).
//!
//! Run with `cargo run --example chart_demo`.

use chrono::{Duration, TimeZone, Utc};
use hotpapers::chart::{ChartSpec, Series, render_png};

fn main() -> anyhow::Result<()> {
    let start = Utc
        .with_ymd_and_hms(2024, 7, 1, 9, 30, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("bad start time"))?;
    let at = |hours: i64| start + Duration::hours(hours);

    let multi = ChartSpec {
        subtitle: Some("2107.00641 · attention over time".into()),
        series: vec![
            Series::new("X", vec![(at(0), 12.0), (at(24), 148.0), (at(48), 210.0)]),
            Series::new(
                "Bluesky",
                vec![(at(0), 3.0), (at(24), 41.0), (at(48), 96.0)],
            ),
            Series::new(
                "Hacker News",
                vec![(at(0), 0.0), (at(24), 87.0), (at(48), 93.0)],
            ),
        ],
        ..ChartSpec::new(
            "Focal Self-attention for Local-Global Interactions in Vision Transformers",
            vec![],
        )
    };
    let single = ChartSpec {
        subtitle: Some("2407.01234 · attention over time".into()),
        series: vec![
            Series::new("X", vec![(at(0), 7.0)]),
            Series::new("Hugging Face", vec![(at(0), 15.0)]),
            Series::new("Bluesky", vec![]),
        ],
        ..ChartSpec::new(
            "A paper that was only measured once so far, with a title long enough that it has to be cut to fit the chart",
            vec![],
        )
    };

    for (spec, path) in [
        (&multi, "/tmp/chart_demo.png"),
        (&single, "/tmp/chart_demo_single.png"),
    ] {
        let png = render_png(spec)?;
        std::fs::write(path, &png)?;
        println!(
            "{path}: {} bytes, {}×{}",
            png.len(),
            spec.width,
            spec.height
        );
    }
    Ok(())
}
