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

/// `HOTPAPERS_DIGEST__ATTENTION_WINDOW=300000years hotpapers collect` used to exit 101 with
/// "`DateTime + TimeDelta` overflowed" while `config check` called the value OK. Every
/// command now refuses it at start-up with one line naming the key and the allowed range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_durations_are_config_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "HOTPAPERS_DIGEST__ATTENTION_WINDOW",
            "300000years",
            "digest.attention_window",
            "at most 1year",
        ),
        (
            "HOTPAPERS_DIGEST__MAX_SIGNAL_AGE",
            "300000years",
            "digest.max_signal_age",
            "at most 1year",
        ),
        (
            "HOTPAPERS_HTTP__TIMEOUT",
            "2h",
            "http.timeout",
            "at most 1h",
        ),
        (
            "HOTPAPERS_SOURCES__BLUESKY__RETENTION",
            "300000years",
            "sources.bluesky.retention",
            "at most 10years",
        ),
        (
            "HOTPAPERS_HTTP__MAX_RETRIES",
            "1000",
            "http.max_retries",
            "between 0 and 10",
        ),
    ];
    for (var, value, key, range) in cases {
        for args in [&["config", "check"][..], &["collect"][..]] {
            let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
                .env(var, value)
                .args(args)
                .output()
                .await
                .expect("run hotpapers");
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{var}={value} {args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.contains(&format!("'{key}'")) && err.contains(var) && err.contains(range),
                "{var}={value} {args:?}: {err}"
            );
            assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        }
    }
}

/// `config check` used to call a misspelt metric or source OK, and one metric set through the
/// environment zeroed the source's others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_rejects_unknown_metrics_and_sources_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let check = |toml: &'static str| {
        std::fs::write(dir.path().join("config.toml"), toml).unwrap();
        common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
            .args(["config", "check"])
            .output()
    };
    let out = check("[ranking.metrics.x]\nretweet = 1.0\n").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: invalid value for 'ranking.metrics.x.retweet' in config.toml: unknown metric \
         `retweet` for source `x`; did you mean `retweets`? known: posts, retweets, likes, \
         quotes, replies\n"
    );
    let out = check("[ranking]\norder = [\"x\", \"twitter\"]\n")
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `x`?"),
        "{}",
        stderr(&out)
    );

    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let out = common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
        .env("HOTPAPERS_RANKING__METRICS__X__LIKES", "2")
        .args(["config", "show"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    let x = shown
        .split("[ranking.metrics.x]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_default();
    assert!(
        x.contains("likes = 2") && x.contains("retweets = 1"),
        "{shown}"
    );
}

/// Defect 6, through `import`: one invalid byte in one title no longer rejects the file; every
/// paper is imported and the warning gives the byte's offset in the file and its entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reads_an_invalid_byte_as_u_fffd_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read(common::fixture("arxiv_api_query_current_format.xml")).unwrap();
    let needle = b"<title>A Survey";
    let at = fixture
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
        + needle.len();
    let mut body = fixture.clone();
    body.insert(at, 0xFF);
    let file = dir.path().join("damaged.xml");
    std::fs::write(&file, &body).unwrap();
    let out = hotpapers(dir.path(), "http://127.0.0.1:9", &["import", "damaged.xml"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.starts_with("imported 6 papers from 1 file;"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "warning: damaged.xml: invalid UTF-8 at byte {at} in entry http://arxiv.org/abs/"
        )),
        "{shown}"
    );
}

/// `hotpapers import /dev/zero` grew to 2.1 GB. A file is read up to `[arxiv]
/// max_import_bytes` (+1 byte to tell), whatever it is, and a longer one is refused naming the
/// file and the limit.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_files_over_the_size_cap_even_endless_ones() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read(common::fixture("arxiv_api_query_current_format.xml")).unwrap();
    std::fs::write(dir.path().join("feed.xml"), &fixture).unwrap();
    let import = |cap: usize, file: &str| {
        common::hotpapers_command(dir.path(), "http://127.0.0.1:9")
            .env("HOTPAPERS_ARXIV__MAX_IMPORT_BYTES", cap.to_string())
            .args(["import", file])
            .output()
    };
    let started = std::time::Instant::now();
    let out = import(4096, "/dev/zero").await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: /dev/zero: larger than 4096 bytes, the most import reads from one file \
         ([arxiv] max_import_bytes); nothing imported\n"
    );
    // Exactly at the cap is fine; one byte less is not.
    let out = import(fixture.len(), "feed.xml").await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = import(fixture.len() - 1, "feed.xml").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: feed.xml: larger than {} bytes",
            fixture.len() - 1
        )),
        "{}",
        stderr(&out)
    );
}

/// A first run without network: one line saying arXiv could not be reached and what to check,
/// no URL or OS error unless `-v`, and no empty store left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_without_network_says_so_in_one_line_and_leaves_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = hotpapers(dir.path(), "http://127.0.0.1:1", &["digest"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: arXiv could not be reached: the connection was refused"),
        "{err}"
    );
    assert!(
        !err.contains("127.0.0.1") && !err.contains("os error"),
        "{err}"
    );
    assert!(
        !dir.path().join("test.db").exists(),
        "an empty store was left behind"
    );
    // -v gives the details.
    let out = hotpapers(dir.path(), "http://127.0.0.1:1", &["-v", "digest"]).await;
    assert!(stderr(&out).contains("127.0.0.1:1"), "{}", stderr(&out));
}

/// Files are imported one at a time (memory holds one file): a newer version in a later file
/// wins, an older one in a later file does not, and each paper counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_several_files_keeps_the_newest_version_and_counts_each_paper_once() {
    let dir = tempfile::tempdir().unwrap();
    let real =
        std::fs::read_to_string(common::fixture("arxiv_api_query_current_format.xml")).unwrap();
    let newer = real.replace("2403.17411v1</id>", "2403.17411v2</id>");
    let older = real.replace("2507.20198v5</id>", "2507.20198v4</id>");
    std::fs::write(dir.path().join("a.xml"), &real).unwrap();
    std::fs::write(dir.path().join("b.xml"), &newer).unwrap();
    std::fs::write(dir.path().join("c.xml"), &older).unwrap();
    let out = hotpapers(
        dir.path(),
        "http://127.0.0.1:9",
        &["import", "a.xml", "b.xml", "c.xml"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("imported 6 papers from 3 files;"),
        "{}",
        stdout(&out)
    );
    for (id, version) in [("2403.17411", "v2"), ("2507.20198", "v5")] {
        let out = hotpapers(dir.path(), "http://127.0.0.1:9", &["paper", id]).await;
        assert!(
            stdout(&out).starts_with(&format!("{id}{version} ")),
            "{id}: {}",
            stdout(&out)
        );
    }
}
