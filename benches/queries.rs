//! The read paths users wait for, on a year of data, in-process from a file store: `/hot`,
//! `/paper`, `/search` and a mailing's digest, each as p50/p99/max over many warm runs.
//!
//! A year is 250 mailings of 1,200 papers (300,000), generated deterministically and written
//! through the real store traits into a fresh SQLite file (WAL) in a temp dir: papers with
//! ~1,200-character abstracts from the feed bench's word list (so any of its words is in
//! almost every abstract), 15% of papers with attention (2–5 snapshots of one or two
//! sources), mentions for most of those, Hugging Face summaries for some. Then the real
//! [`App`] over that store answers through the command layer ([`handle`]: what a front end
//! calls, returning the reply model); no attention source is enabled and arXiv is a closed
//! port, so nothing reaches the network. Targets (issue 12): `/hot` p99 < 5 ms, `/paper`
//! p99 < 2 ms, `/search` p99 < 50 ms for a word in most abstracts, a 1,200-paper mailing's
//! digest < 20 ms. Run with `cargo bench --bench queries`; generation takes a minute or two.
//! `QUERIES_BENCH_DB=path` keeps the generated store at `path` and reuses it on the next run;
//! `QUERIES_BENCH_ONLY=text` times only the operations whose name holds `text` (profiling).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hotpapers::app::{App, DigestRequest, LlmUse};
use hotpapers::arxiv::ArxivId;
use hotpapers::arxiv::paper::{AnnounceType, Author, Link, Paper};
use hotpapers::clock::FakeClock;
use hotpapers::commands::hot::Hot;
use hotpapers::commands::paper::Paper as PaperCommand;
use hotpapers::commands::search::Search;
use hotpapers::commands::{Invoker, Reply, handle};
use hotpapers::config::Config;
use hotpapers::progress::NoProgress;
use hotpapers::store::{
    CursorStore, Extra, MailingRecord, MailingSource, MailingStore, Mention, MentionCounts,
    MentionStore, PaperStore, Signal, SignalStore, SqliteStore, Store,
};

#[path = "feed/mod.rs"]
mod feed;

const MAILINGS: usize = 250;
const PAPERS_PER_MAILING: usize = 1_200;
/// Per mille of papers with some attention.
const ATTENTION_PER_MILLE: u32 = 150;
/// Per mille of abstracts with the rare search word.
const RARE_PER_MILLE: u32 = 2;
const COMMON_WORD: &str = "transformer";
const RARE_WORD: &str = "hyperbolic";

const CATEGORIES: &[&str] = &[
    "cs.CL",
    "cs.LG",
    "cs.AI",
    "cs.CV",
    "stat.ML",
    "math.NA",
    "math.OC",
    "hep-th",
    "quant-ph",
    "cond-mat.stat-mech",
    "astro-ph.CO",
    "q-bio.NC",
    "eess.SP",
    "econ.EM",
];
const NAMES: &[&str] = &[
    "Jinyi Li",
    "Kele Shao",
    "Sara Rizwan",
    "Keitaro Sakamoto",
    "Issei Sato",
    "Ramin Goudarzi Karim",
    "Carmeliza Navasca",
    "Ada Lovelace",
    "Chen Wei",
    "María José García-López",
];
/// (source, metrics) as the default ranking rule weighs them.
const SOURCES: &[(&str, &[&str])] = &[
    ("x", &["retweets", "likes"]),
    ("bluesky", &["posts", "reposts", "likes", "quotes"]),
    ("hn", &["points", "comments"]),
    ("hf", &["upvotes", "comments"]),
];

/// Tuesday 2026-06-02, noon UTC: the latest announced mailing is that day's.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 2, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

fn paper(rng: &mut fastrand::Rng, id: &str, published: DateTime<Utc>) -> Paper {
    let title_len = 60 + rng.usize(..60);
    let abstract_len = 1_100 + rng.usize(..200);
    let mut abstract_text = feed::text(rng, abstract_len);
    if rng.u32(..1000) < RARE_PER_MILLE {
        abstract_text.push(' ');
        abstract_text.push_str(RARE_WORD);
    }
    let first = rng.usize(..CATEGORIES.len());
    let categories: Vec<String> = (0..1 + rng.usize(..4))
        .map(|c| CATEGORIES[(first + c * 3) % CATEGORIES.len()].to_string())
        .collect();
    let authors = (0..rng.usize(3..=30))
        .map(|_| Author {
            name: NAMES[rng.usize(..NAMES.len())].to_string(),
            affiliations: if rng.u8(..4) == 0 {
                vec![format!(
                    "University of Somewhere & Institute {}",
                    rng.u32(..100)
                )]
            } else {
                Vec::new()
            },
        })
        .collect();
    let version = 1 + rng.u32(..3);
    Paper {
        id: ArxivId::parse(id).expect("a valid id"),
        version,
        title: feed::text(rng, title_len),
        abstract_text,
        authors,
        primary_category: categories[0].clone(),
        categories,
        published,
        updated: published,
        comment: Some(format!(
            "{} pages, {} figures",
            5 + rng.u32(..40),
            rng.u32(..12)
        )),
        journal_ref: None,
        doi: None,
        links: vec![
            Link {
                href: format!("https://arxiv.org/abs/{id}v{version}"),
                rel: Some("alternate".into()),
                title: None,
                mime: Some("text/html".into()),
            },
            Link {
                href: format!("https://arxiv.org/pdf/{id}v{version}"),
                rel: Some("related".into()),
                title: Some("pdf".into()),
                mime: Some("application/pdf".into()),
            },
        ],
    }
}

/// Attention for one paper announced at `announced`: signals, mentions and extras.
fn attention(
    rng: &mut fastrand::Rng,
    id: &ArxivId,
    announced: DateTime<Utc>,
    signals: &mut Vec<Signal>,
    mentions: &mut Vec<Mention>,
    extras: &mut Vec<Extra>,
) {
    let n_sources = 1 + usize::from(rng.u8(..3) == 0);
    let first = rng.usize(..SOURCES.len());
    for s in 0..n_sources {
        let (source, metrics) = SOURCES[(first + s) % SOURCES.len()];
        let scale = 10f64.powf(rng.f64() * 3.0);
        let snapshots = rng.u32(2..=5);
        for k in 0..snapshots {
            let observed_at = announced + chrono::Duration::hours(i64::from(6 + 12 * k));
            for metric in metrics {
                signals.push(Signal {
                    paper: id.clone(),
                    source: source.into(),
                    metric: (*metric).into(),
                    value: (scale * f64::from(k + 1) / f64::from(snapshots) * rng.f64()).round(),
                    observed_at,
                });
            }
        }
        if source == "hf" {
            extras.push(Extra {
                paper: id.clone(),
                source: "hf".into(),
                key: "ai_summary".into(),
                value: format!(
                    "This paper studies {} with a new method and shows gains on benchmarks.",
                    feed::text(rng, 40)
                ),
                observed_at: announced + chrono::Duration::hours(6),
            });
            continue;
        }
        for m in 0..rng.usize(1..=4) {
            let post_id = format!("{}{:08}", source, rng.u64(..100_000_000));
            let handle = format!("user{}", rng.u32(..50_000));
            mentions.push(Mention {
                paper: id.clone(),
                source: source.into(),
                author_handle: Some(handle.clone()),
                author_name: Some(format!("User {m}")),
                text: format!("Worth a read: {}", feed::text(rng, 80)),
                url: format!("https://example.org/{handle}/{post_id}"),
                post_id,
                posted_at: announced + chrono::Duration::minutes(i64::from(rng.u32(1..2_000))),
                counts: MentionCounts {
                    reposts: rng.u64(..200),
                    likes: rng.u64(..2_000),
                    replies: rng.u64(..50),
                    quotes: rng.u64(..20),
                    points: if source == "hn" { rng.u64(..500) } else { 0 },
                },
                observed_at: announced + chrono::Duration::hours(30),
            });
        }
    }
}

/// Writes the year through the store traits; returns the mailing dates, newest first, and
/// every stored id.
async fn generate(store: &SqliteStore, app: &App) -> (Vec<NaiveDate>, Vec<String>) {
    let calendar = app.calendar();
    let mut dates = vec![calendar.latest_announced(now()).date];
    while dates.len() < MAILINGS {
        let d = calendar.previous_mailing_date(*dates.last().expect("a date"));
        dates.push(d);
    }
    let mut rng = fastrand::Rng::with_seed(0x4e70_a9e5);
    let mut ids = Vec::with_capacity(MAILINGS * PAPERS_PER_MAILING);
    let mut per_month: std::collections::BTreeMap<(i32, u32), u32> = Default::default();
    let started = Instant::now();
    let (mut n_signals, mut n_mentions) = (0, 0);
    // Oldest first, as arXiv announced them.
    for (i, date) in dates.iter().rev().enumerate() {
        let mailing = calendar.mailing(*date).expect("a mailing date");
        let window = (mailing.window_end - mailing.window_start)
            .num_seconds()
            .max(1);
        let mut papers = Vec::with_capacity(PAPERS_PER_MAILING);
        use chrono::Datelike as _;
        let month = (date.year(), date.month());
        let counter = per_month.entry(month).or_insert(0);
        for _ in 0..PAPERS_PER_MAILING {
            *counter += 1;
            let id = format!("{:02}{:02}.{:05}", month.0 % 100, month.1, *counter);
            let published = mailing.window_start + chrono::Duration::seconds(rng.i64(0..window));
            papers.push(paper(&mut rng, &id, published));
            ids.push(id);
        }
        store.upsert_papers(&papers).await.expect("upsert papers");
        let members: Vec<(ArxivId, AnnounceType)> = papers
            .iter()
            .map(|p| {
                let kind = if rng.u8(..10) == 0 {
                    AnnounceType::Cross
                } else {
                    AnnounceType::New
                };
                (p.id.clone(), kind)
            })
            .collect();
        let record = MailingRecord {
            date: *date,
            window_start: mailing.window_start,
            window_end: mailing.window_end,
            source: MailingSource::Api,
            ingested_at: mailing.announced_at,
            paper_count: PAPERS_PER_MAILING as u32,
        };
        store
            .record_mailing(&record, &members)
            .await
            .expect("record mailing");
        let (mut signals, mut mentions, mut extras) = (Vec::new(), Vec::new(), Vec::new());
        for p in &papers {
            if rng.u32(..1000) < ATTENTION_PER_MILLE {
                attention(
                    &mut rng,
                    &p.id,
                    mailing.announced_at,
                    &mut signals,
                    &mut mentions,
                    &mut extras,
                );
            }
        }
        store.record_signals(&signals).await.expect("signals");
        store.record_mentions(&mentions).await.expect("mentions");
        store.record_extras(&extras).await.expect("extras");
        n_signals += signals.len();
        n_mentions += mentions.len();
        if (i + 1) % 50 == 0 {
            eprintln!(
                "  {} mailings, {} papers, {n_signals} snapshots, {n_mentions} mentions, {:.0} s",
                i + 1,
                ids.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    store.checkpoint().await.expect("checkpoint");
    (dates, ids)
}

/// Timings of one measured operation.
struct Timings {
    what: String,
    runs: Vec<Duration>,
    target: Option<Duration>,
}

impl Timings {
    fn quantile(&self, q: f64) -> Duration {
        let mut v = self.runs.clone();
        v.sort();
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }

    fn row(&self) -> String {
        let (p50, p99) = (self.quantile(0.5), self.quantile(0.99));
        let max = self.runs.iter().max().copied().unwrap_or_default();
        let (target, met) = match self.target {
            Some(t) => (
                format!("p99 < {}", ms(t)),
                if p99 < t { "met" } else { "NOT met" },
            ),
            None => ("-".into(), "-"),
        };
        format!(
            "| {} | {} | {} | {} | {target} | {met} |",
            self.what,
            ms(p50),
            ms(p99),
            ms(max)
        )
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Runs `op` `warmup` times unmeasured, then `runs` times measured; also returns what the
/// last run answered.
async fn measure<F, Fut, T>(
    what: &str,
    target_ms: Option<f64>,
    warmup: usize,
    runs: usize,
    mut op: F,
) -> (Timings, T)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    // `QUERIES_BENCH_ONLY=<text>` measures only the operations whose name holds it (once
    // each for the others, whose answers later steps use): for profiling one path.
    let (warmup, runs) = match std::env::var("QUERIES_BENCH_ONLY") {
        Ok(only) if !what.contains(only.as_str()) => (0, 1),
        _ => (warmup, runs),
    };
    for i in 0..warmup {
        op(i).await;
    }
    let mut out = Vec::with_capacity(runs);
    let mut last = None;
    for i in 0..runs {
        let t = Instant::now();
        let answer = op(warmup + i).await;
        out.push(t.elapsed());
        last = Some(answer);
    }
    let t = Timings {
        what: what.to_string(),
        runs: out,
        target: target_ms.map(|m| Duration::from_secs_f64(m / 1e3)),
    };
    eprintln!("  {}", t.row());
    (t, last.expect("at least one run"))
}

fn file_size(path: &std::path::Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum()
}

const USER: Invoker = Invoker {
    user_id: 8,
    guild_id: Some(1000),
    can_manage_guild: false,
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (path, reuse) = match std::env::var_os("QUERIES_BENCH_DB") {
        Some(p) => {
            let p = std::path::PathBuf::from(p);
            let exists = p.exists();
            (p, exists)
        }
        None => (dir.path().join("year.db"), false),
    };
    let store = SqliteStore::open(&path).await.expect("open the store");
    let mut config = Config::default();
    config.arxiv.api_url = "http://127.0.0.1:9/api/query".into();
    config.arxiv.rss_url = "http://127.0.0.1:9/rss".into();
    config.http.max_retries = 0;
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let app = App::with_store(config, shared, Arc::new(FakeClock::new(now()))).expect("the app");

    println!(
        "queries bench: {MAILINGS} mailings x {PAPERS_PER_MAILING} papers, {}% with attention",
        ATTENTION_PER_MILLE / 10
    );
    let t = Instant::now();
    let (dates, ids) = if reuse {
        eprintln!("reusing {}", path.display());
        let calendar = app.calendar();
        let mut dates = vec![calendar.latest_announced(now()).date];
        while dates.len() < MAILINGS {
            dates.push(calendar.previous_mailing_date(*dates.last().expect("a date")));
        }
        let mut ids = Vec::new();
        for d in dates.iter().take(20) {
            ids.extend(
                store
                    .mailing_papers(*d)
                    .await
                    .expect("members")
                    .into_iter()
                    .map(|m| m.paper.id.key().to_string()),
            );
        }
        (dates, ids)
    } else {
        eprintln!("generating the year into {}", path.display());
        generate(&store, &app).await
    };
    println!(
        "store: {:.0} MB on disk (with WAL), {} ids to pick `/paper` ids from, ready in {:.0} s",
        file_size(&path) as f64 / 1e6,
        ids.len(),
        t.elapsed().as_secs_f64()
    );

    let mut rng = fastrand::Rng::with_seed(7);
    let mut results = Vec::new();

    let (t, _) = measure(
        "`/hot` (latest mailing, 10 papers)",
        Some(5.0),
        20,
        300,
        |_| {
            let app = &app;
            async move {
                let reply =
                    handle(app, Hot::new(None, None, None, None).expect("hot"), &USER).await;
                assert!(matches!(reply, Reply::Digest { .. }), "{reply:?}");
            }
        },
    )
    .await;
    results.push(t);
    let (t, _) = measure("`/hot category:cs.LG`", Some(5.0), 10, 200, |_| {
        let app = &app;
        async move {
            let hot = Hot::new(Some("cs.LG"), None, None, None).expect("hot");
            let reply = handle(app, hot, &USER).await;
            assert!(matches!(reply, Reply::Digest { .. }), "{reply:?}");
        }
    })
    .await;
    results.push(t);
    let picks: Vec<String> = (0..2_000)
        .map(|_| ids[rng.usize(..ids.len())].clone())
        .collect();
    let (t, _) = measure(
        "`/paper <id>` (random stored ids)",
        Some(2.0),
        50,
        1_000,
        |i| {
            let app = &app;
            let id = picks[i % picks.len()].clone();
            async move {
                let reply = handle(app, PaperCommand::new(&id).expect("an id"), &USER).await;
                assert!(matches!(reply, Reply::Paper(_)), "{reply:?}");
            }
        },
    )
    .await;
    results.push(t);
    let search = |word: &'static str| {
        let app = &app;
        move |_| async move {
            match handle(app, Search::new(word, None).expect("search"), &USER).await {
                Reply::Search { total, .. } => total,
                other => panic!("{other:?}"),
            }
        }
    };
    let (t, common_total) = measure(
        &format!("`/search {COMMON_WORD}` (in most abstracts)"),
        Some(50.0),
        5,
        200,
        search(COMMON_WORD),
    )
    .await;
    results.push(t);
    let (t, rare_total) = measure(
        &format!("`/search {RARE_WORD}` (rare)"),
        None,
        5,
        200,
        search(RARE_WORD),
    )
    .await;
    results.push(t);
    // A mailing from the middle of the year, as a subscription's daily digest builds it.
    let date = dates[MAILINGS / 2];
    let digest_of = |top: Option<usize>| {
        let app = &app;
        move |_| async move {
            let req = DigestRequest {
                date: Some(date),
                top,
                categories: Vec::new(),
                trending_days: None,
                llm: LlmUse::CacheOnly,
            };
            app.digest(&req, &NoProgress).await.expect("digest")
        }
    };
    let (t, digest) = measure(
        "digest of a 1,200-paper mailing (`App::digest`, top 10)",
        Some(20.0),
        10,
        200,
        digest_of(None),
    )
    .await;
    results.push(t);
    let (t, _) = measure(
        "digest of a 1,200-paper mailing, every entry (top 0)",
        None,
        3,
        50,
        digest_of(Some(0)),
    )
    .await;
    results.push(t);
    let (t, _) = measure("Markdown of that digest (10 papers)", None, 10, 500, |_| {
        let digest = &digest;
        async move {
            let md = hotpapers::digest::markdown::render(digest);
            assert!(!md.is_empty());
        }
    })
    .await;
    results.push(t);
    let (t, _) = measure("`/hot view:trending` (7 days)", None, 2, 30, |_| {
        let app = &app;
        async move {
            let hot = Hot::new(None, None, None, Some("trending")).expect("hot");
            let reply = handle(app, hot, &USER).await;
            assert!(matches!(reply, Reply::Digest { .. }), "{reply:?}");
        }
    })
    .await;
    results.push(t);

    println!(
        "`/search {COMMON_WORD}` matches {common_total} papers, `/search {RARE_WORD}` {rare_total}"
    );
    println!();
    println!("| what | p50 | p99 | max | target | |");
    println!("|---|---|---|---|---|---|");
    for r in &results {
        println!("{}", r.row());
    }
    store.close().await;
}
