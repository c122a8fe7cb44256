//! The architecture, checked: a module uses only the layers below it.
//!
//! hotpapers is one crate whose top-level modules form layers (see ARCHITECTURE.md). The
//! compiler does not stop `store` from importing `commands`, so this test does: it reads the
//! non-test code of every file under `src/` (comments, strings and `#[cfg(test)]` items
//! removed), collects each `crate::<module>` it names, and fails on any reference to a module of
//! the same or a higher layer. A test over the source rather than a workspace of crates keeps
//! one build (two cores) and lets a move between layers stay a one-line change here; the
//! trade-off is that it reads paths, not resolved names, so `crate::` paths are the house style
//! for cross-module references (`super::` only inside a module).
//!
//! It also checks the other structural rules: serenity only in the Discord front end, and no
//! file over 1,000 lines of non-test code.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first. A module may use modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    // 1. Foundations: time, progress reporting, number formatting, metrics, what upstream text may show.
    &["clock", "progress", "number", "metrics", "sanitize"],
    // The one HTTP client (timeouts, size caps, retries) every upstream uses.
    &["http"],
    // arXiv: ids, taxonomy, calendar, the paper model, parsers and client.
    &["arxiv"],
    // Subscriptions and their DST-correct firing times (below the store, which keeps them).
    &["subscription"],
    // 2. Configuration.
    &["config"],
    // 3. The store.
    &["store"],
    // 4. Pure computation over stored data.
    &["ranking"],
    // Summaries: what a paper did, in one line (a digest entry carries one). Charts: a
    // paper's attention over time as a PNG (pure rendering, no hotpapers module below it).
    &["summary", "chart", "attention"],
    &["digest"],
    // 5. Attention sources.
    &["sources"],
    // 6. The operations.
    &["app"],
    // 7. Platform-neutral commands.
    &["commands"],
    // 8. Front ends.
    &["console", "discord", "web"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code with comments and the contents of string and char literals blanked (newlines
/// kept, so line counts stay right).
fn strip_comments_and_strings(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&b, i) {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push_str("\"\"");
            j += 1;
            loop {
                match b.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(&ch) => {
                        out.push(blank(ch));
                        j += 1;
                    }
                }
            }
            i = j;
        } else if c == '"' {
            out.push_str("\"\"");
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = b.get(i) {
                    out.push(blank(ch));
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let is_char = next == Some('\\') || b.get(i + 2) == Some(&'\'');
            if is_char {
                i += 1;
                while i < b.len() && b[i] != '\'' {
                    if b[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// `code` (already stripped) without `#[cfg(test)]` items: the attribute through the end of
/// the item it applies to (a `{…}` block or a `;`).
fn strip_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, ch) in item.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        // Keep the line structure of what was removed out of the count: it is test code.
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The non-test code of a file.
fn non_test_code(path: &Path) -> String {
    let src = fs::read_to_string(path).expect("read source file");
    strip_test_items(&strip_comments_and_strings(&src))
}

/// The top-level module a library file belongs to (`src/store/sqlite/papers.rs` → `store`);
/// `None` for the crate root and the binary's own files.
fn module_of(src: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" | "cli" => None,
        other => Some(other.to_string()),
    }
}

/// The modules `code` names as `crate::<module>`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `hotpapers_crate::` or similar, not the crate root
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = src_dir();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in rust_files(&src) {
        let Some(module) = module_of(&src, &path) else {
            continue;
        };
        seen.insert(module.clone());
        let Some(layer) = layer_of(&module) else {
            problems.push(format!(
                "{}: module `{module}` has no layer in tests/layers.rs",
                path.display()
            ));
            continue;
        };
        for used in crate_references(&non_test_code(&path)) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < layer => {}
                Some(_) => problems.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is not below it",
                    path.display()
                )),
                None => problems.push(format!(
                    "{}: `crate::{used}` has no layer in tests/layers.rs",
                    path.display()
                )),
            }
        }
    }
    assert!(
        seen.len() >= 10,
        "found only {seen:?}: is the source tree where the test looks?"
    );
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn serenity_stays_in_the_discord_front_end() {
    let src = src_dir();
    let outside: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|p| module_of(&src, p).as_deref() != Some("discord"))
        .filter(|p| non_test_code(p).contains("serenity"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "serenity used outside src/discord: {outside:?}"
    );
}

#[test]
fn no_file_holds_more_than_1000_lines_of_non_test_code() {
    let long: Vec<String> = rust_files(&src_dir())
        .into_iter()
        .filter_map(|p| {
            let lines = non_test_code(&p)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
            (lines > 1000).then(|| format!("{}: {lines}", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 1,000 non-test lines: {long:?}");
}

/// The checker itself: it must see a violation through the noise it strips, and not see one
/// in comments, strings or tests.
#[test]
fn the_checker_sees_code_and_ignores_comments_strings_and_tests() {
    let code = r##"
        //! Docs naming [`crate::discord`] do not count.
        use crate::arxiv::ArxivId;
        /* crate::app in a block comment */
        const S: &str = "crate::commands";
        const R: &str = r#"crate::console"#;
        fn f<'a>(x: &'a str) -> char { let _ = crate::store::open; '{' }
        #[cfg(test)]
        mod tests { use crate::app::App; fn g() { let _ = "}"; } }
        #[cfg(test)]
        use crate::sources::Source;
        pub fn h() { crate::http::get() }
    "##;
    let refs = crate_references(&strip_test_items(&strip_comments_and_strings(code)));
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["arxiv", "http", "store"]
    );
    assert_eq!(
        layer_of("store").map(|s| s > layer_of("config").unwrap_or(99)),
        Some(true)
    );
    assert!(layer_of("app") > layer_of("sources"));
    assert!(layer_of("commands") < layer_of("discord"));
}
