//! Shared test support: the seed post as data, an Atom feed builder in arXiv's current
//! layout, and a fake arXiv API that pages, filters by `submittedDate` and answers `id_list`
//! like the real one; [`sqlite`] reaches a store file directly, as another process would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use wiremock::{Request, Respond, ResponseTemplate};

pub mod sqlite;

/// One paper of the seed post (`tests/fixtures/seed/hot-papers-2021-07-02.md`).
#[derive(Clone, Debug)]
pub struct SeedPaper {
    pub rank: usize,
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub retweets: u64,
    pub favorites: u64,
    pub categories: Vec<String>,
    pub abstract_text: String,
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Parses the seed post. Its one piece of encoding damage ("R√©" for "Ré") is repaired: real
/// arXiv data is proper UTF-8.
pub fn seed_papers() -> Vec<SeedPaper> {
    let text = std::fs::read_to_string(fixture("seed/hot-papers-2021-07-02.md")).expect("seed");
    let text = text.replace("R√©", "Ré");
    let mut papers = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("# ") {
            let (rank, title) = rest.split_once(". ").expect("rank");
            let authors: Vec<String> = lines[i + 2].split(", ").map(str::to_string).collect();
            let counts = lines[i + 4];
            let nums: Vec<u64> = counts
                .trim_start_matches("- retweets: ")
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .take(2)
                .map(|s| s.parse().expect("count"))
                .collect();
            let links = lines[i + 6];
            let id = links
                .split("arxiv.org/abs/")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .expect("id")
                .to_string();
            let categories: Vec<String> = lines[i + 7]
                .trim_start_matches("- ")
                .split(" | ")
                .map(|c| {
                    c.trim_start_matches('[')
                        .split(']')
                        .next()
                        .expect("cat")
                        .to_string()
                })
                .collect();
            let abstract_text = lines[i + 9].to_string();
            papers.push(SeedPaper {
                rank: rank.parse().expect("rank"),
                id,
                title: title.to_string(),
                authors,
                retweets: nums[0],
                favorites: nums[1],
                categories,
                abstract_text,
            });
            i += 10;
        } else {
            i += 1;
        }
    }
    papers
}

/// An entry of a generated feed.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub abstract_text: String,
    pub published: DateTime<Utc>,
}

impl Entry {
    /// A minimal entry with one author and one category.
    pub fn simple(id: &str, published: DateTime<Utc>, category: &str) -> Entry {
        Entry {
            id: id.to_string(),
            version: 1,
            title: format!("Paper {id}"),
            authors: vec!["A. Author".to_string()],
            categories: vec![category.to_string()],
            abstract_text: format!("Abstract of {id}."),
            published,
        }
    }
}

/// The seed's 14 papers as mailing-2021-07-02 entries (submitted inside the window
/// 2021-06-30T18:00Z .. 2021-07-01T18:00Z), with titles hard-wrapped as arXiv does.
pub fn seed_entries() -> Vec<Entry> {
    let start = Utc.with_ymd_and_hms(2021, 6, 30, 18, 30, 0).unwrap();
    seed_papers()
        .into_iter()
        .enumerate()
        .map(|(i, p)| Entry {
            id: p.id,
            version: 1,
            // arXiv wraps long titles: "Vision  Transformers" in the seed is "Vision\n  Transformers".
            title: p.title.replace("  ", "\n  "),
            authors: p.authors,
            categories: p.categories,
            abstract_text: p.abstract_text,
            published: start + Duration::minutes(61 * i as i64),
        })
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A feed in arXiv's current (2025+) layout.
pub fn atom_feed(entries: &[Entry], total: usize, start: usize) -> String {
    let mut s = String::from(
        "<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\" xmlns:arxiv=\"http://arxiv.org/schemas/atom\" xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>https://arxiv.org/api/fake</id>\n  <title>arXiv Query: fake</title>\n  <updated>2021-07-03T00:00:00Z</updated>\n",
    );
    s += &format!(
        "  <opensearch:itemsPerPage>{}</opensearch:itemsPerPage>\n  <opensearch:totalResults>{total}</opensearch:totalResults>\n  <opensearch:startIndex>{start}</opensearch:startIndex>\n",
        entries.len()
    );
    for e in entries {
        let t = e.published.format("%Y-%m-%dT%H:%M:%SZ");
        s += &format!(
            "  <entry>\n    <id>http://arxiv.org/abs/{id}v{v}</id>\n    <title>{title}</title>\n    <updated>{t}</updated>\n    <link href=\"https://arxiv.org/abs/{id}v{v}\" rel=\"alternate\" type=\"text/html\"/>\n    <link href=\"https://arxiv.org/pdf/{id}v{v}\" rel=\"related\" type=\"application/pdf\" title=\"pdf\"/>\n    <summary>{abs}</summary>\n",
            id = e.id,
            v = e.version,
            title = xml_escape(&e.title),
            abs = xml_escape(&e.abstract_text),
        );
        for c in &e.categories {
            s +=
                &format!("    <category term=\"{c}\" scheme=\"http://arxiv.org/schemas/atom\"/>\n");
        }
        s += &format!("    <published>{t}</published>\n");
        s += &format!(
            "    <arxiv:primary_category term=\"{}\"/>\n",
            e.categories.first().map_or("cs.LG", String::as_str)
        );
        for a in &e.authors {
            s += &format!(
                "    <author>\n      <name>{}</name>\n    </author>\n",
                xml_escape(a)
            );
        }
        s += "  </entry>\n";
    }
    s += "</feed>\n";
    s
}

/// A fake of `GET /api/query` that behaves like arXiv: `id_list` lookups (default
/// `max_results` 10), `search_query` with a `submittedDate:[A TO B]` minute range (inclusive),
/// paging with `start`/`max_results`. It records every query string it served.
#[derive(Clone, Default)]
pub struct FakeArxiv {
    pub papers: Vec<Entry>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl FakeArxiv {
    pub fn new(papers: Vec<Entry>) -> Self {
        FakeArxiv {
            papers,
            log: Arc::default(),
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn parse_minute(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{s}00"), "%Y%m%d%H%M%S")
        .ok()
        .map(|n| n.and_utc())
}

impl Respond for FakeArxiv {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let query = req.url.query().unwrap_or_default().to_string();
        self.log.lock().unwrap().push(query);
        let params: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let start: usize = get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
        let max: usize = get("max_results")
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        let mut matching: Vec<Entry> = if let Some(ids) = get("id_list").filter(|s| !s.is_empty()) {
            ids.split(',')
                .filter_map(|want| {
                    let key = want.split('v').next().unwrap_or(want);
                    self.papers.iter().find(|p| p.id == key).cloned()
                })
                .collect()
        } else {
            let q = get("search_query").unwrap_or_default();
            let range = q
                .split("submittedDate:[")
                .nth(1)
                .and_then(|r| r.split(']').next());
            let (lo, hi) = match range.and_then(|r| r.split_once(" TO ")) {
                Some((a, b)) => (parse_minute(a.trim()), parse_minute(b.trim())),
                None => (None, None),
            };
            self.papers
                .iter()
                .filter(|p| {
                    let minute = p.published.format("%Y%m%d%H%M").to_string();
                    let m = parse_minute(&minute);
                    lo.is_none_or(|lo| m >= Some(lo)) && hi.is_none_or(|hi| m <= Some(hi))
                })
                .cloned()
                .collect()
        };
        matching.sort_by_key(|p| p.published);
        let total = matching.len();
        let page: Vec<Entry> = matching.into_iter().skip(start).take(max).collect();
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/atom+xml; charset=utf-8")
            .set_body_string(atom_feed(&page, total, start))
    }
}

/// An rss.arxiv.org feed announcing `entries` as new submissions of the mailing listed on
/// `pub_date` (RFC 2822, midnight America/New_York, as arXiv writes it).
pub fn rss_feed(entries: &[Entry], pub_date: &str) -> String {
    let mut s = format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<rss xmlns:arxiv=\"http://arxiv.org/schemas/atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" version=\"2.0\">\n  <channel>\n    <title>cs updates on arXiv.org</title>\n    <link>http://rss.arxiv.org/rss/cs</link>\n    <description>cs updates on the arXiv.org e-print archive.</description>\n    <pubDate>{pub_date}</pubDate>\n"
    );
    for e in entries {
        s += &format!(
            "    <item>\n      <title>{title}</title>\n      <link>https://arxiv.org/abs/{id}</link>\n      <description>arXiv:{id}v{v} Announce Type: new \nAbstract: {abs}</description>\n      <guid isPermaLink=\"false\">oai:arXiv.org:{id}v{v}</guid>\n",
            id = e.id,
            v = e.version,
            title = xml_escape(&e.title),
            abs = xml_escape(&e.abstract_text),
        );
        for c in &e.categories {
            s += &format!("      <category>{c}</category>\n");
        }
        s += &format!(
            "      <pubDate>{pub_date}</pubDate>\n      <arxiv:announce_type>new</arxiv:announce_type>\n      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n      <dc:creator>{}</dc:creator>\n    </item>\n",
            xml_escape(&e.authors.join(", "))
        );
    }
    s += "  </channel>\n</rss>\n";
    s
}

/// The `hotpapers` binary, run in `dir` (which has no `config.toml`) with its store there,
/// arXiv at `arxiv` (a fake's base URL), no request spacing, millisecond retries, and every
/// attention source off so no test reaches the real network. Callers add their own settings;
/// a variable set again overrides this default.
pub fn hotpapers_command(dir: &Path, arxiv: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotpapers"));
    cmd.current_dir(dir)
        .env_clear()
        .env("HOTPAPERS_STORE__PATH", dir.join("test.db"))
        .env("HOTPAPERS_ARXIV__API_URL", format!("{arxiv}/api/query"))
        .env("HOTPAPERS_ARXIV__RSS_URL", format!("{arxiv}/rss"))
        .env("HOTPAPERS_ARXIV__REQUEST_SPACING", "0s")
        .env("HOTPAPERS_HTTP__RETRY_BASE_DELAY", "1ms")
        .env("HOTPAPERS_HTTP__RETRY_MAX_DELAY", "5ms");
    for source in ["HN", "HF", "BLUESKY", "X", "SEMANTIC_SCHOLAR"] {
        cmd.env(format!("HOTPAPERS_SOURCES__{source}__ENABLED"), "false");
    }
    cmd
}

/// Panics naming the first key that appears twice in one object of `json`. (Parsing into a
/// `serde_json::Value` keeps only the last of them, so it cannot show a duplicate.)
pub fn assert_no_duplicate_keys(json: &str) {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct Unique;

    impl<'de> DeserializeSeed<'de> for Unique {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Unique {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Unique)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::BTreeSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(format!("duplicate key {key:?}")));
                }
                map.next_value_seed(Unique)?;
            }
            Ok(())
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    if let Err(e) = Unique.deserialize(&mut de) {
        panic!("{e} in\n{json}");
    }
}

/// Panics naming the first number of `json` written with a fraction although it is integral
/// (`259.0`): counts are integers in every JSON output.
pub fn assert_integral_numbers_are_integers(json: &str) {
    fn walk(v: &serde_json::Value, path: &str) {
        match v {
            serde_json::Value::Number(n)
                if n.is_f64() && n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
            {
                panic!("{path} is {n}, an integer written as a float");
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"));
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    walk(item, &format!("{path}.{k}"));
                }
            }
            _ => {}
        }
    }
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    walk(&v, "$");
}
