//! Issue 3's "Done when": with X as the only enabled source and local fakes of arXiv and X
//! serving the seed's numbers, `hotpapers digest --date 2021-07-02 --format markdown --top 14`
//! reproduces the seed post (`tests/fixtures/seed/hot-papers-2021-07-02.md`): the same 14
//! papers in the same order with the same retweet/favorite counts, authors, links, categories
//! and abstracts.
//!
//! The fake X serves full-archive search (`/2/tweets/search/all`: the window is from 2021) in
//! X API v2's documented shape (no capture exists; see `tests/source_x.rs`). Each paper's
//! counts are split over several tweets that link it in different URL forms, spread over
//! several result pages, with retweet objects and off-mailing papers that must not count.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use common::{Entry, FakeArxiv, SeedPaper, seed_entries, seed_papers};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "seed-test-bearer-token";

/// X's widgets script, after every embedded tweet (the seed's line).
const SCRIPT: &str =
    r#"<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>"#;

/// Tweets per fake page (X serves up to 100; small pages make the sweep page).
const PAGE: usize = 10;

/// A paper of the mailing that is not in the seed's top 14 (rank 15 by its counts).
const RANK_15: &str = "2107.00700";

/// Links to a paper in the forms people post, rotating with `form`.
fn link(form: usize, id: &str) -> String {
    match form % 8 {
        0 => format!("https://arxiv.org/abs/{id}"),
        1 => format!("https://arxiv.org/pdf/{id}.pdf"),
        2 => format!("https://arxiv.org/abs/{id}v1"),
        3 => format!("https://arxiv.org/html/{id}v1"),
        4 => format!("https://www.alphaxiv.org/abs/{id}"),
        5 => format!("https://huggingface.co/papers/{id}"),
        6 => format!("http://export.arxiv.org/abs/{id}v1"),
        _ => format!("https://doi.org/10.48550/arXiv.{id}"),
    }
}

/// A tweet in X API v2's shape.
fn tweet(n: usize, urls: &[String], retweets: u64, likes: u64) -> Value {
    let entities: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            json!({
                "start": 20 + 24 * i, "end": 43 + 24 * i,
                "url": format!("https://t.co/s{n}x{i}"),
                "expanded_url": u,
                "display_url": u.split("://").nth(1).unwrap_or(u),
            })
        })
        .collect();
    let shortened: Vec<String> = (0..urls.len())
        .map(|i| format!("https://t.co/s{n}x{i}"))
        .collect();
    json!({
        "id": format!("14107641426806{n:05}"),
        "text": format!("New on arXiv {}", shortened.join(" ")),
        "created_at": "2021-07-02T03:00:00.000Z",
        "author_id": USERS[n % USERS.len()].0,
        "public_metrics": {
            "retweet_count": retweets, "reply_count": n % 3, "like_count": likes, "quote_count": n % 2
        },
        "entities": {"urls": entities},
    })
}

/// The fake authors: (id, username, name). The last has a hostile display name.
const USERS: &[(&str, &str, &str)] = &[
    ("1000000001", "ak92501", "AK"),
    ("1000000002", "arankomatsuzaki", "Aran Komatsuzaki"),
    ("1000000003", "medhini_n", "Medhini Narasimhan"),
    (
        "1000000004",
        "mallory",
        "<script>alert(1)</script> @everyone",
    ),
];

/// `total` split into `parts` (the first part takes the remainder).
fn split(total: u64, parts: usize) -> Vec<u64> {
    let parts_u = parts as u64;
    let mut v = vec![total / parts_u; parts];
    v[0] += total % parts_u;
    v
}

/// Every item the fake X serves, in serving order, and the expected counts per paper.
fn tweets(seed: &[SeedPaper]) -> (Vec<Value>, BTreeMap<String, (u64, u64)>) {
    let mut expected: BTreeMap<String, (u64, u64)> = seed
        .iter()
        .map(|p| (p.id.clone(), (p.retweets, p.favorites)))
        .collect();
    expected.insert(RANK_15.into(), (10, 5));
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // One tweet links two papers (Focal and CSWin): it counts, in full, for both.
    let (focal, cswin) = ("2107.00641", "2107.00652");
    let shared = tweet(
        next(),
        &[link(0, focal), link(5, cswin)],
        6, // retweets
        4, // likes
    );
    let mut remaining = expected.clone();
    for id in [focal, cswin] {
        let r = remaining.get_mut(id).expect("seed paper");
        r.0 -= 6;
        r.1 -= 4;
    }
    // Per paper, 3 to 6 tweets in rotating URL forms; `rounds[j]` holds every paper's j-th
    // tweet, so each paper's tweets land on different pages.
    let mut rounds: Vec<Vec<Value>> = vec![Vec::new(); 6];
    let mut retweets = Vec::new();
    for (i, (id, (rts, likes))) in remaining.iter().enumerate() {
        let k = 3 + i % 4;
        for (j, (r, l)) in split(*rts, k).into_iter().zip(split(*likes, k)).enumerate() {
            let form = i + j;
            let mut urls = vec![link(form, id)];
            if j == 0 {
                // The same paper twice in one tweet counts once.
                urls.push(link(form + 1, id));
            }
            let mut t = tweet(next(), &urls, r, l);
            if i == 2 && j == k - 1 {
                // No entities: the paper is found in the text ("arXiv:ID").
                t["text"] = json!(format!("Now on arXiv:{id} (thread below)"));
                t.as_object_mut().expect("object").remove("entities");
            }
            if j == 0 {
                // Its retweet object: X copies the original's counts; it must not count.
                let mut rt = tweet(next(), &urls, r, 0);
                rt["text"] = json!(format!("RT @ak92501: {}", t["text"].as_str().unwrap_or("")));
                rt["referenced_tweets"] = json!([{"type": "retweeted", "id": t["id"]}]);
                retweets.push(rt);
            }
            rounds[j].push(t);
        }
    }
    let mut items = vec![shared];
    let mut retweets = retweets.into_iter();
    for round in rounds {
        items.extend(round);
        // Interleave the retweet objects between rounds.
        items.extend(retweets.by_ref().take(3));
    }
    items.extend(retweets);
    // Popular papers outside the mailing: counted by the source, not in the digest.
    items.push(tweet(next(), &[link(0, "2106.99999")], 50_000, 90_000));
    items.push(tweet(next(), &[link(3, "2107.00701")], 40_000, 1));
    (items, expected)
}

/// The query parameters of one request, in order.
type Params = Vec<(String, String)>;

/// Serves `items` in pages of [`PAGE`], chained with `next_token`s, and records every query.
#[derive(Clone)]
struct FakeX {
    items: Arc<Vec<Value>>,
    log: Arc<Mutex<Vec<Params>>>,
}

impl FakeX {
    fn pages(&self) -> usize {
        self.items.len().div_ceil(PAGE)
    }

    fn requests(&self) -> Vec<Params> {
        self.log.lock().unwrap().clone()
    }
}

impl Respond for FakeX {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let params: Params = req.url.query_pairs().into_owned().collect();
        self.log.lock().unwrap().push(params.clone());
        let page: usize = params
            .iter()
            .find(|(k, _)| k == "next_token")
            .and_then(|(_, v)| v.strip_prefix("page-")?.parse().ok())
            .unwrap_or(0);
        let data: Vec<Value> = self
            .items
            .iter()
            .skip(page * PAGE)
            .take(PAGE)
            .cloned()
            .collect();
        let mut meta = json!({
            "result_count": data.len(),
            "newest_id": data.first().map(|t| t["id"].clone()),
            "oldest_id": data.last().map(|t| t["id"].clone()),
        });
        if (page + 1) * PAGE < self.items.len() {
            meta["next_token"] = json!(format!("page-{}", page + 1));
        }
        // `expansions=author_id`: the authors of this page's tweets, once each.
        let mut authors: Vec<&str> = data
            .iter()
            .filter_map(|t| t["author_id"].as_str())
            .collect();
        authors.sort_unstable();
        authors.dedup();
        let users: Vec<Value> = USERS
            .iter()
            .filter(|(id, ..)| authors.contains(id))
            .map(|(id, username, name)| json!({"id": id, "username": username, "name": name}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": data, "includes": {"users": users}, "meta": meta}))
    }
}

async fn run(dir: &Path, arxiv: &str, x: &str, args: &[&str]) -> Output {
    common::hotpapers_command(dir, arxiv)
        .args(args)
        .env("HOTPAPERS_SOURCES__X__ENABLED", "true")
        .env("HOTPAPERS_SOURCES__X__BEARER_TOKEN", TOKEN)
        .env("HOTPAPERS_SOURCES__X__API_URL", x)
        .env("HOTPAPERS_SOURCES__X__FULL_ARCHIVE", "true")
        .output()
        .await
        .expect("run hotpapers")
}

/// Removes the Markdown escapes the renderer adds (`\` before a character that could start
/// structure, and the block-start escapes of `-`, `+`, `=`, `>` and `1.`).
fn unescape(s: &str) -> String {
    const SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '~', '#'];
    let mut s = s.to_string();
    if s.starts_with("\\-") || s.starts_with("\\+") || s.starts_with("\\=") || s.starts_with("\\>")
    {
        s.remove(0);
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && (s[digits..].starts_with("\\.") || s[digits..].starts_with("\\)")) {
        s.remove(digits);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&n) if c == '\\' && SPECIAL.contains(&n) => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// `MM/DD/YYYY HH:MM:SS`, the seed's measurement time format.
fn is_seed_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b'/',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// The seed post's block of one paper: the lines between its heading and the embedded tweet.
fn seed_block(text: &str, rank: usize) -> Vec<String> {
    let start = text
        .find(&format!("\n# {rank}. "))
        .expect("paper in the seed");
    text[start + 1..]
        .lines()
        .take(10)
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_reproduces_the_seed_post_from_x() {
    let seed = seed_papers();
    assert_eq!(seed.len(), 14);
    let seed_text = std::fs::read_to_string(common::fixture("seed/hot-papers-2021-07-02.md"))
        .expect("seed")
        .replace("R√©", "Ré");

    // arXiv: the seed's 14 papers, one more paper of the mailing, one of the next mailing.
    let mut entries = seed_entries();
    entries.push(Entry::simple(
        RANK_15,
        Utc.with_ymd_and_hms(2021, 7, 1, 17, 59, 55).unwrap(),
        "cs.LG",
    ));
    entries.push(Entry::simple(
        "2107.00701",
        Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 5).unwrap(),
        "cs.LG",
    ));
    let arxiv = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(FakeArxiv::new(entries))
        .mount(&arxiv)
        .await;

    let (items, expected) = tweets(&seed);
    let fake_x = FakeX {
        items: Arc::new(items),
        log: Arc::default(),
    };
    assert!(fake_x.pages() >= 5, "the sweep must page");
    let x = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets/search/all"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(fake_x.clone())
        .mount(&x)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &arxiv.uri(),
        &x.uri(),
        &[
            "digest",
            "--date",
            "2021-07-02",
            "--format",
            "markdown",
            "--top",
            "14",
        ],
    )
    .await;
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "stderr: {stderr}\nstdout: {md}");

    // One sweep: exactly one request per result page, over the mailing's window.
    let requests = fake_x.requests();
    assert_eq!(requests.len(), fake_x.pages(), "{requests:?}");
    // Which paper each original tweet linked (retweet objects are not originals).
    let originals: BTreeMap<String, Vec<String>> = fake_x
        .items
        .iter()
        .filter(|t| t.get("referenced_tweets").is_none())
        .map(|t| {
            let text = t["text"].as_str().unwrap_or_default();
            let mut papers: Vec<String> = t["entities"]["urls"]
                .as_array()
                .map(|urls| {
                    urls.iter()
                        .filter_map(|u| u["expanded_url"].as_str())
                        .filter_map(hotpapers::arxiv::ArxivId::from_url)
                        .map(|id| id.key().to_string())
                        .collect()
                })
                .unwrap_or_default();
            papers.extend(
                hotpapers::arxiv::ArxivId::find_all(text)
                    .iter()
                    .map(|id| id.key().to_string()),
            );
            (t["id"].as_str().unwrap_or_default().to_string(), papers)
        })
        .collect();
    let get = |params: &[(String, String)], key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    for (i, params) in requests.iter().enumerate() {
        assert_eq!(
            get(params, "start_time").as_deref(),
            Some("2021-06-30T18:00:00Z")
        );
        let token = get(params, "next_token");
        let want = (i > 0).then(|| format!("page-{i}"));
        assert_eq!(token, want);
        assert!(get(params, "query").is_some_and(|q| q.ends_with("-is:retweet")));
    }

    assert!(
        md.starts_with("---\ntitle: Hot Papers 2021-07-02\n"),
        "{md}"
    );
    assert!(md.contains("  - \"Twitter\"\n"), "{md}");
    assert!(
        !md.contains("missing from"),
        "X must not be reported missing: {md}"
    );
    let blocks: Vec<&str> = md.split("\n# ").skip(1).collect();
    assert_eq!(blocks.len(), 14, "{md}");
    assert!(!md.contains(RANK_15) && !md.contains("2106.99999") && !md.contains("2107.00701"));

    let mut summaries = Vec::new();
    let mut hostile_names = 0;
    for (p, block) in seed.iter().zip(&blocks) {
        let lines: Vec<&str> = block.lines().collect();
        let want = seed_block(&seed_text, p.rank);
        let ctx = format!("paper {} ({}):\n{block}", p.rank, p.id);
        // Heading: rank and title (arXiv's wrapped double spaces are collapsed in ours).
        let title = p.title.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(unescape(lines[0]), format!("{}. {title}", p.rank), "{ctx}");
        assert_eq!(lines[1], "", "{ctx}");
        // Authors.
        assert_eq!(unescape(lines[2]), want[2], "{ctx}");
        assert_eq!(unescape(lines[2]), p.authors.join(", "), "{ctx}");
        // The X line: the seed's counts, the time of measurement.
        let counts = format!("- retweets: {}, favorites: {} (", p.retweets, p.favorites);
        assert!(lines[4].starts_with(&counts), "{ctx}");
        assert_eq!(expected[&p.id], (p.retweets, p.favorites));
        let when = lines[4]
            .strip_prefix(&counts)
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_default();
        assert!(is_seed_time(when), "{ctx}");
        assert!(want[4].starts_with(&counts), "seed: {:?}", want[4]);
        // Links and categories: exactly the seed's lines.
        assert_eq!(lines[6], want[6], "{ctx}");
        assert_eq!(lines[7], want[7], "{ctx}");
        // The one-line summary above the full abstract: no LaTeX, at most 280 characters, not
        // the title, and none of the abstract's background openers.
        let tldr = unescape(lines[9]);
        let tldr = tldr
            .strip_prefix("TL;DR: ")
            .unwrap_or_else(|| panic!("{ctx}"));
        assert!(!tldr.is_empty() && tldr.chars().count() <= 280, "{ctx}");
        assert!(!tldr.contains('$') && !tldr.contains('\\'), "{ctx}");
        assert!(
            !tldr.to_lowercase().contains(&title.to_lowercase()),
            "{ctx}"
        );
        assert!(!tldr.starts_with("Recently"), "{ctx}");
        assert_eq!(lines[10], "", "{ctx}");
        // Abstract, exactly the seed's.
        assert_eq!(unescape(lines[11]), want[9], "{ctx}");
        assert_eq!(want[9], p.abstract_text);
        // Under the abstract, as the seed has it: a blank line, then the top tweets (at most
        // `embed_posts` = 3), each a twitter-tweet blockquote followed by the widgets script
        // and a blank line. Each is an original tweet that linked this paper.
        assert_eq!(lines[12], "", "{ctx}");
        let quotes: Vec<&str> = lines[13..]
            .iter()
            .copied()
            .filter(|l| l.starts_with("<blockquote"))
            .collect();
        assert!((1..=3).contains(&quotes.len()), "{ctx}");
        for (k, q) in quotes.iter().enumerate() {
            let at = 13 + 3 * k;
            assert_eq!(lines[at], *q, "{ctx}");
            assert_eq!(lines[at + 1], SCRIPT, "{ctx}");
            assert_eq!(lines.get(at + 2).copied().unwrap_or(""), "", "{ctx}");
            assert!(
                q.starts_with(r#"<blockquote class="twitter-tweet"><p lang="en" dir="ltr">"#),
                "{q}"
            );
            let (handle, status) = q
                .split_once("(@")
                .and_then(|(_, rest)| rest.split_once(") <a href=\"https://twitter.com/"))
                .unwrap_or_else(|| panic!("no byline in {q}"));
            let status_id = status
                .strip_prefix(&format!("{handle}/status/"))
                .and_then(|rest| {
                    rest.split_once("?ref_src=twsrc%5Etfw\">July 2, 2021</a></blockquote>")
                })
                .map(|(id, _)| id)
                .unwrap_or_else(|| panic!("no status link in {q}"));
            assert!(USERS.iter().any(|u| u.1 == handle), "{q}");
            let linked = originals
                .get(status_id)
                .unwrap_or_else(|| panic!("{status_id} is not an original tweet: {q}"));
            assert!(
                linked.contains(&p.id),
                "{status_id} did not link {}: {q}",
                p.id
            );
            // X's text, its t.co links expanded, and no markup from the hostile name.
            assert!(!q.contains("https://t.co/"), "{q}");
            assert!(!q.contains("<script>"), "{q}");
            if handle == "mallory" {
                assert!(
                    q.contains("&lt;script&gt;alert(1)&lt;/script&gt; @everyone"),
                    "{q}"
                );
                hostile_names += 1;
            }
        }
        summaries.push(format!("{}: {tldr}", p.rank));
    }
    assert!(hostile_names > 0, "the hostile display name must be tried");
    // The seed's first paper: its contribution sentence, not "Recently, Vision Transformer…".
    assert!(
        summaries[0].starts_with("1: We present focal self-attention"),
        "{summaries:#?}"
    );

    // The front matter is the seed's, tags included ("Machine Learning", "Computer
    // Science": the mailing's most listed category and group), apart from the date's
    // fraction ("07:45:53.Z" in the seed) and the date itself (when counts were measured).
    let front = |text: &str| -> Vec<String> {
        text.lines()
            .take_while(|l| !l.starts_with("# "))
            .filter(|l| !l.starts_with("date: "))
            .map(str::to_string)
            .collect()
    };
    let seed_front = front(&seed_text);
    assert!(seed_front.contains(&"  - \"Machine Learning\"".to_string()));
    assert_eq!(front(&md), seed_front, "{md}");
    // A smaller --top describes the same mailing: the tags do not change.
    for top in ["1", "3"] {
        let out = run(
            dir.path(),
            &arxiv.uri(),
            &x.uri(),
            &[
                "digest",
                "--date",
                "2021-07-02",
                "--format",
                "markdown",
                "--top",
                top,
            ],
        )
        .await;
        let small = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            small.matches("\n# ").count(),
            top.parse::<usize>().unwrap_or(0)
        );
        assert_eq!(front(&small), seed_front, "--top {top}:\n{small}");
    }
}
