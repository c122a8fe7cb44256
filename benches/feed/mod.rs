//! A deterministic arXiv API feed in the current (2025+) layout, shared by the benches: varied
//! ids and versions, 3–30 authors, some affiliations, ~1,200-character abstracts, 1–4
//! categories, comments, some DOIs and journal refs.

use std::fmt::Write as _;

const WORDS: &[&str] = &[
    "attention",
    "transformer",
    "we",
    "propose",
    "a",
    "novel",
    "method",
    "for",
    "the",
    "of",
    "and",
    "language",
    "models",
    "with",
    "sparse",
    "tokens",
    "compression",
    "results",
    "show",
    "that",
    "our",
    "approach",
    "outperforms",
    "baselines",
    "on",
    "benchmarks",
    "&amp;",
    "&lt;",
    "$O(n^2)$",
    "training",
    "inference",
    "graph",
    "neural",
    "networks",
    "quantum",
    "theory",
];
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

fn words(rng: &mut fastrand::Rng, out: &mut String, target_len: usize) {
    let start = out.len();
    while out.len() - start < target_len {
        if out.len() > start {
            out.push(' ');
        }
        out.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
}

/// Builds the feed text: varied ids and versions, 3–30 authors, some affiliations, ~1,200-char
/// abstracts with entities, 1–4 categories (sometimes with an MSC class), comments, some
/// DOIs/journal refs.
#[allow(dead_code)]
pub fn generate_feed(n: usize) -> String {
    generate_feed_variant(n, 0)
}

/// As [`generate_feed`], with ids shifted by `variant` (another file of other papers).
#[allow(dead_code)]
pub fn generate_feed_variant(n: usize, variant: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(0x0a11_ce5e);
    let mut s = String::with_capacity(n * 2_500);
    s.push_str(
        r#"<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/wSXfMmGE/xnARYk0fCYltYjPKJo</id>
  <title>arXiv Query: search_query=cat:cs.LG&amp;id_list=&amp;start=0&amp;max_results=10000</title>
  <updated>2026-09-20T10:01:21Z</updated>
  <link href="https://arxiv.org/api/query?search_query=cat:cs.LG&amp;start=0&amp;max_results=10000&amp;id_list=" type="application/atom+xml"/>
  <opensearch:itemsPerPage>10000</opensearch:itemsPerPage>
  <opensearch:totalResults>1435012</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
"#,
    );
    for i in 0..n {
        let id = format!(
            "{:02}{:02}.{:05}",
            15 + i % 11,
            1 + i % 12,
            1 + (i * 7919 + variant * 104_729) % 99_999
        );
        let version = 1 + rng.u32(..5);
        let day = 1 + rng.u32(..28);
        let _ = write!(
            s,
            "  <entry>\n    <id>http://arxiv.org/abs/{id}v{version}</id>\n    <title>"
        );
        let title_len = 60 + rng.usize(..60);
        words(&mut rng, &mut s, title_len);
        let _ = write!(
            s,
            "</title>\n    <updated>2026-02-{day:02}T13:50:53Z</updated>\n    \
             <link href=\"https://arxiv.org/abs/{id}v{version}\" rel=\"alternate\" type=\"text/html\"/>\n    \
             <link href=\"https://arxiv.org/pdf/{id}v{version}\" rel=\"related\" type=\"application/pdf\" title=\"pdf\"/>\n    <summary>"
        );
        let abstract_len = 1_100 + rng.usize(..200);
        words(&mut rng, &mut s, abstract_len);
        s.push_str("</summary>\n");
        let ncat = 1 + rng.usize(..4);
        let first = rng.usize(..CATEGORIES.len());
        for c in 0..ncat {
            let _ = writeln!(
                s,
                "    <category term=\"{}\" scheme=\"http://arxiv.org/schemas/atom\"/>",
                CATEGORIES[(first + c * 3) % CATEGORIES.len()]
            );
        }
        if rng.u8(..10) == 0 {
            s.push_str("    <category term=\"68T05\" scheme=\"http://arxiv.org/schemas/atom\"/>\n");
        }
        let _ = write!(
            s,
            "    <published>2025-07-{day:02}T09:33:56Z</published>\n    \
             <arxiv:comment>{} pages, {} figures, code at https://github.com/example/repo-{i}</arxiv:comment>\n    \
             <arxiv:primary_category term=\"{}\"/>\n",
            5 + rng.u32(..40),
            rng.u32(..12),
            CATEGORIES[first]
        );
        let has_doi = rng.u8(..5) == 0;
        if has_doi {
            let _ = writeln!(
                s,
                "    <arxiv:journal_ref>Journal of Examples {} (2025) {}-{}</arxiv:journal_ref>",
                rng.u32(1..90),
                rng.u32(1..500),
                rng.u32(500..900)
            );
        }
        for _ in 0..rng.usize(3..=30) {
            let name = NAMES[rng.usize(..NAMES.len())];
            if rng.u8(..4) == 0 {
                let _ = write!(
                    s,
                    "    <author>\n      <name>{name}</name>\n      <arxiv:affiliation>University of Somewhere &amp; Institute {}</arxiv:affiliation>\n    </author>\n",
                    rng.u32(..100)
                );
            } else {
                let _ = write!(
                    s,
                    "    <author>\n      <name>{name}</name>\n    </author>\n"
                );
            }
        }
        if has_doi {
            let _ = write!(
                s,
                "    <arxiv:doi>10.1109/EX.2025.{i:05}</arxiv:doi>\n    \
                 <link rel=\"related\" href=\"https://doi.org/10.1109/EX.2025.{i:05}\" title=\"doi\"/>\n"
            );
        }
        s.push_str("  </entry>\n");
    }
    s.push_str("</feed>\n");
    s
}

/// `target_len` characters of words from the feed's word list (entities and TeX included, as
/// in the feed's abstracts): every word of the list appears in almost every 1,200-character
/// text, so any of them is "a word in most abstracts".
#[allow(dead_code)]
pub fn text(rng: &mut fastrand::Rng, target_len: usize) -> String {
    let mut s = String::with_capacity(target_len + 16);
    words(rng, &mut s, target_len);
    s
}
