//! End-to-end tests of the `hotpapers` binary against a fake arXiv on loopback.

mod common;

use std::path::Path;
use std::process::Output;

use chrono::{TimeZone, Utc};
use common::{Entry, FakeArxiv, seed_entries};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

/// Runs the binary in `dir` (no ./config.toml there) with the store in `dir` and arXiv at `api`.
async fn hotpapers(dir: &Path, api: &str, args: &[&str]) -> Output {
    common::hotpapers_command(dir, api)
        .args(args)
        .output()
        .await
        .expect("run hotpapers")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The seed's 14 papers plus three at the mailing's edges.
fn mailing_2021_07_02() -> Vec<Entry> {
    let mut papers = seed_entries();
    // Seconds before the Thu 2021-07-01 14:00 EDT (18:00Z) cutoff: in the mailing.
    papers.push(Entry::simple(
        "2107.00700",
        Utc.with_ymd_and_hms(2021, 7, 1, 17, 59, 55).unwrap(),
        "cs.LG",
    ));
    // Seconds after it: next mailing (Mon 2021-07-05).
    papers.push(Entry::simple(
        "2107.00701",
        Utc.with_ymd_and_hms(2021, 7, 1, 18, 0, 5).unwrap(),
        "cs.LG",
    ));
    // Seconds before the previous cutoff (Wed 2021-06-30 18:00Z): previous mailing.
    papers.push(Entry::simple(
        "2106.16000",
        Utc.with_ymd_and_hms(2021, 6, 30, 17, 59, 50).unwrap(),
        "cs.LG",
    ));
    papers
}

async fn fake_arxiv(papers: Vec<Entry>) -> (MockServer, FakeArxiv) {
    let server = MockServer::start().await;
    let fake = FakeArxiv::new(papers);
    Mock::given(method("GET"))
        .and(path("/api/query"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_stores_exactly_the_mailing_and_digest_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, fake) = fake_arxiv(mailing_2021_07_02()).await;

    let out = hotpapers(
        dir.path(),
        &server.uri(),
        &["ingest", "--date", "2021-07-02"],
    )
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains("mailing 2021-07-02: 15 papers"),
        "{}",
        stdout(&out)
    );

    // The window was asked for by minute, as a superset: Wed 18:00Z .. Thu 18:00Z.
    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .any(|q| q.contains("202106301800") && q.contains("202107011800")),
        "{requests:?}"
    );

    // Ingesting again changes nothing.
    let again = hotpapers(
        dir.path(),
        &server.uri(),
        &["ingest", "--date", "2021-07-02"],
    )
    .await;
    assert!(again.status.success(), "stderr: {}", stderr(&again));
    assert!(
        stdout(&again).contains("0 newly stored, 0 updated"),
        "{}",
        stdout(&again)
    );

    let out = hotpapers(
        dir.path(),
        &server.uri(),
        &[
            "digest",
            "--date",
            "2021-07-02",
            "--top",
            "0",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    common::assert_no_duplicate_keys(&stdout(&out));
    common::assert_integral_numbers_are_integers(&stdout(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(doc["date"], "2021-07-02");
    let mut ids: Vec<&str> = doc["papers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<String> = seed_entries().into_iter().map(|e| e.id).collect();
    expected.push("2107.00700".into());
    expected.sort();
    assert_eq!(ids, expected);
    let first = &doc["papers"][0];
    for key in [
        "rank",
        "id",
        "version",
        "title",
        "authors",
        "primary_category",
        "categories",
        "published",
        "abstract",
        "summary",
        "score",
        "signals",
        "links",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_fetches_a_missing_mailing_and_renders_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _fake) = fake_arxiv(mailing_2021_07_02()).await;
    let out = hotpapers(
        dir.path(),
        &server.uri(),
        &[
            "digest",
            "--date",
            "2021-07-02",
            "--top",
            "3",
            "--format",
            "markdown",
        ],
    )
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let md = stdout(&out);
    assert!(
        md.starts_with("---\ntitle: Hot Papers 2021-07-02\n"),
        "{md}"
    );
    assert_eq!(md.matches("\n# ").count(), 3, "{md}");
    assert!(md.contains("- links: [abs](https://arxiv.org/abs/"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_answers_for_every_id_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut papers = mailing_2021_07_02();
    papers.push(Entry::simple(
        "hep-th/9901001",
        Utc.with_ymd_and_hms(1999, 1, 4, 12, 0, 0).unwrap(),
        "hep-th",
    ));
    papers.push(Entry::simple(
        "math/0309136",
        Utc.with_ymd_and_hms(2003, 9, 8, 12, 0, 0).unwrap(),
        "math.GT",
    ));
    let (server, _fake) = fake_arxiv(papers).await;
    let forms = [
        ("2107.00630", "2107.00630"),
        ("2107.00630v1", "2107.00630"),
        ("arXiv:2107.00630", "2107.00630"),
        ("https://arxiv.org/abs/2107.00630", "2107.00630"),
        (
            "https://arxiv.org/abs/2107.00630v1?context=cs",
            "2107.00630",
        ),
        ("http://export.arxiv.org/abs/2107.00630", "2107.00630"),
        ("https://arxiv.org/pdf/2107.00630v1.pdf", "2107.00630"),
        ("arxiv.org/pdf/2107.00630", "2107.00630"),
        ("https://arxiv.org/html/2107.00630v1", "2107.00630"),
        ("https://www.alphaxiv.org/abs/2107.00630", "2107.00630"),
        ("https://huggingface.co/papers/2107.00630", "2107.00630"),
        ("https://doi.org/10.48550/arXiv.2107.00630", "2107.00630"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),
    ];
    for (form, key) in forms {
        let out = hotpapers(
            dir.path(),
            &server.uri(),
            &["paper", form, "--format", "json"],
        )
        .await;
        assert!(out.status.success(), "{form}: {}", stderr(&out));
        common::assert_no_duplicate_keys(&stdout(&out));
        common::assert_integral_numbers_are_integers(&stdout(&out));
        let doc: Value = serde_json::from_str(&stdout(&out)).expect("json");
        assert_eq!(doc["id"], key, "{form}");
        // One shape with the digest's papers: authors are names, links an object.
        let first_author = if key == "2107.00630" {
            "Diederik P. Kingma"
        } else {
            "A. Author"
        };
        assert_eq!(doc["authors"][0].as_str(), Some(first_author), "{form}");
        assert!(doc["links"]["abs"].is_string(), "{form}: {doc}");
    }
    let out = hotpapers(dir.path(), &server.uri(), &["paper", "2107.00630"]).await;
    let text = stdout(&out);
    assert!(
        text.starts_with("2107.00630v1  Variational Diffusion Models\n"),
        "{text}"
    );
    assert!(text.contains("Diederik P. Kingma"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let (server, fake) = fake_arxiv(mailing_2021_07_02()).await;

    // Dates: a four-digit year, from arXiv's first mailing to tomorrow; refused before
    // anything is asked upstream, in every command that takes one.
    for (args, want) in [
        (
            &["digest", "--date", "21-07-02"][..],
            "not a date; use YYYY-MM-DD",
        ),
        (
            &["digest", "--date", "1000-01-01"],
            "before arXiv's first mailing (1991-08-14)",
        ),
        (
            &["ingest", "--date", "0021-07-02"],
            "before arXiv's first mailing",
        ),
        (
            &["collect", "--date", "2999-01-01"],
            "not out yet: listing dates go up to",
        ),
        (
            &["digest", "--date", "2999-01-04", "--view", "trending"],
            "not out yet",
        ),
    ] {
        let out = hotpapers(dir.path(), &server.uri(), args).await;
        assert!(!out.status.success(), "{args:?}");
        // The first line says it (clap adds a hint line to a usage error).
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(want), "{args:?}: {err}");
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    let out = hotpapers(dir.path(), &server.uri(), &["paper", "not-an-id"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not-an-id") && err.contains("not an arXiv identifier"),
        "{err}"
    );

    let out = hotpapers(
        dir.path(),
        &server.uri(),
        &["digest", "--date", "2021-07-03"],
    )
    .await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("2021-07-02"), "{err}");

    let out = hotpapers(dir.path(), &server.uri(), &["paper", "2107.00630v2"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no version v2 of 2107.00630") && err.contains("latest version is v1"),
        "{err}"
    );

    let out = hotpapers(dir.path(), &server.uri(), &["paper", "2107.99999"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("2107.99999"), "{}", stderr(&out));

    std::fs::write(dir.path().join("config.toml"), "[arxiv]\npage_sise = 10\n").unwrap();
    let out = hotpapers(dir.path(), &server.uri(), &["digest"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("page_sise"), "{err}");
}
