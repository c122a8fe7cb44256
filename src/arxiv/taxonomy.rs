//! The arXiv category taxonomy, compiled in.
//!
//! The table is `data/taxonomy.tsv`, a verbatim dump of arXiv's own `arxiv-base`
//! `taxonomy/definitions.py` (185 rows: 155 active categories, inactive legacy archives and a few
//! internal test ids). It is compiled into the binary so that validating a `/subscribe cs.LG`
//! or a feed's `<category>` never needs the network, and parsed once on first use.
//!
//! Two kinds of "same category under another name" exist, and both are honoured by
//! [`canonical`] and [`CategoryFilter::matches`]:
//!
//! * **aliases**: six pairs of active ids that arXiv treats as one category (`cs.SY` = `eess.SY`,
//!   canonical on the right of [`ALIASES`]);
//! * **legacy archives** folded into a newer category (`alg-geom` → `math.AG`), so that an old
//!   paper listed under `alg-geom` still matches a `math.AG` filter.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The compiled-in table (see the module docs).
const TSV: &str = include_str!("../../data/taxonomy.tsv");

/// Alias pairs `(alias, canonical)` from arXiv's `CATEGORY_ALIASES`: both ids are active and
/// name the same category; arXiv lists papers under the canonical one.
pub const ALIASES: &[(&str, &str)] = &[
    ("cs.NA", "math.NA"),
    ("cs.SY", "eess.SY"),
    ("math.IT", "cs.IT"),
    ("math.MP", "math-ph"),
    ("q-fin.EC", "econ.GN"),
    ("stat.TH", "math.ST"),
];

/// The most suggestions an [`UnknownCategory`] carries: enough to spot the intended one, short
/// enough for one line.
const MAX_SUGGESTIONS: usize = 5;

/// Inputs longer than this are not compared by edit distance (no category id is this long), so
/// a hostile input cannot make suggestion cost quadratic in its length.
const MAX_FUZZY_LEN: usize = 40;

/// arXiv's top-level subject groups, as shown on arxiv.org's front page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Physics,
    Math,
    Cs,
    QBio,
    QFin,
    Stat,
    Eess,
    Econ,
}

impl Group {
    /// Every group, in arXiv's front-page order.
    pub const ALL: [Group; 8] = [
        Group::Physics,
        Group::Math,
        Group::Cs,
        Group::QBio,
        Group::QFin,
        Group::Stat,
        Group::Eess,
        Group::Econ,
    ];

    /// The short id (`physics`, `q-bio`, ...): arXiv's `grp_` id without the prefix.
    pub fn id(self) -> &'static str {
        match self {
            Group::Physics => "physics",
            Group::Math => "math",
            Group::Cs => "cs",
            Group::QBio => "q-bio",
            Group::QFin => "q-fin",
            Group::Stat => "stat",
            Group::Eess => "eess",
            Group::Econ => "econ",
        }
    }

    /// The human name, for menus and digests.
    pub fn name(self) -> &'static str {
        match self {
            Group::Physics => "Physics",
            Group::Math => "Mathematics",
            Group::Cs => "Computer Science",
            Group::QBio => "Quantitative Biology",
            Group::QFin => "Quantitative Finance",
            Group::Stat => "Statistics",
            Group::Eess => "Electrical Engineering and Systems Science",
            Group::Econ => "Economics",
        }
    }

    /// The group with this id, case-insensitively; `grp_physics` (arXiv's spelling) works too.
    pub fn from_id(id: &str) -> Option<Group> {
        let id = strip_prefix_ci(id, "grp_").unwrap_or(id);
        Group::ALL
            .into_iter()
            .find(|g| g.id().eq_ignore_ascii_case(id))
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One arXiv category, e.g. `cs.LG` "Machine Learning" in archive `cs`, group [`Group::Cs`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Category {
    /// The id exactly as arXiv spells it (`cs.LG`, `hep-th`, `astro-ph.CO`).
    pub id: &'static str,
    /// The full name (`Machine Learning`).
    pub name: &'static str,
    /// The archive, i.e. the part before the dot (`cs`, `astro-ph`); RSS feeds exist per archive.
    pub archive: &'static str,
    /// The top-level group.
    pub group: Group,
    /// Whether arXiv still accepts submissions to it; inactive ids only appear on old papers.
    pub active: bool,
    /// The canonical id when this one is an alias (`cs.SY` → `eess.SY`) or a legacy archive
    /// folded into a newer category (`alg-geom` → `math.AG`); `None` when it is canonical.
    pub alias_of: Option<&'static str>,
}

impl Category {
    /// The id papers are listed under: [`Category::alias_of`], or this id.
    pub fn canonical_id(&self) -> &'static str {
        self.alias_of.unwrap_or(self.id)
    }
}

/// A row of the TSV that is not valid, with the line number: a build-time bug, caught by a test.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/taxonomy.tsv line {line}: {problem}")]
pub struct RowError {
    pub line: usize,
    pub problem: String,
}

/// The parsed table.
struct Taxonomy {
    /// Real categories in file order (arXiv-internal test rows left out).
    categories: Vec<Category>,
    /// Indexes into `categories`, sorted by ASCII-lower-cased id, for case-insensitive lookup.
    by_lower_id: Vec<usize>,
    /// Malformed rows (expected: none).
    errors: Vec<RowError>,
    /// How many rows were read, and how many of them were arXiv-internal test ids.
    rows: usize,
    internal_rows: usize,
}

static TAXONOMY: LazyLock<Taxonomy> = LazyLock::new(|| {
    let taxonomy = Taxonomy::parse(TSV);
    for error in &taxonomy.errors {
        tracing::error!(%error, "skipping malformed taxonomy row");
    }
    tracing::debug!(
        rows = taxonomy.rows,
        internal = taxonomy.internal_rows,
        categories = taxonomy.categories.len(),
        "arXiv taxonomy loaded"
    );
    taxonomy
});

/// One parsed row: a category, or one of arXiv's internal test ids (`grp_test`, `grp_bad`).
enum Row {
    Category(Category),
    Internal,
}

impl Taxonomy {
    fn parse(text: &'static str) -> Taxonomy {
        let mut categories = Vec::new();
        let mut errors = Vec::new();
        let (mut rows, mut internal_rows) = (0, 0);
        for (index, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            rows += 1;
            match parse_row(line) {
                Ok(Row::Category(c)) => categories.push(c),
                Ok(Row::Internal) => internal_rows += 1,
                Err(problem) => errors.push(RowError {
                    line: index + 1,
                    problem,
                }),
            }
        }
        let mut by_lower_id: Vec<usize> = (0..categories.len()).collect();
        by_lower_id.sort_by(|&a, &b| match (categories.get(a), categories.get(b)) {
            (Some(x), Some(y)) => cmp_ci(x.id, y.id),
            _ => Ordering::Equal,
        });
        Taxonomy {
            categories,
            by_lower_id,
            errors,
            rows,
            internal_rows,
        }
    }
}

fn parse_row(line: &'static str) -> Result<Row, String> {
    let fields: Vec<&'static str> = line.split('\t').collect();
    let [id, name, status, archive, group, alt_name] = fields.as_slice() else {
        return Err(format!(
            "expected 6 tab-separated fields, found {}",
            fields.len()
        ));
    };
    if matches!(*group, "grp_test" | "grp_bad") {
        return Ok(Row::Internal);
    }
    let group = Group::from_id(group)
        .filter(|_| group.starts_with("grp_"))
        .ok_or_else(|| format!("unknown group '{group}'"))?;
    let active = match *status {
        "active" => true,
        "inactive" => false,
        other => return Err(format!("unknown status '{other}'")),
    };
    if id.is_empty() || name.is_empty() || !looks_like_category(id) {
        return Err(format!("bad id '{id}' or empty name"));
    }
    let expected_archive = id.split_once('.').map_or(*id, |(a, _)| a);
    if *archive != expected_archive {
        return Err(format!("archive '{archive}' does not match id '{id}'"));
    }
    let alias_of = match ALIASES.iter().find(|(alias, _)| alias == id) {
        Some((_, canonical)) => Some(*canonical),
        None if !active && !alt_name.is_empty() => Some(*alt_name),
        None => None,
    };
    Ok(Row::Category(Category {
        id,
        name,
        archive,
        group,
        active,
        alias_of,
    }))
}

/// Compares ASCII case-insensitively (byte-wise on the lower-cased bytes).
fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Every real category (176: 155 active, the rest inactive legacy ids), in arXiv's order.
pub fn all() -> &'static [Category] {
    &TAXONOMY.categories
}

/// The category with this id, case-insensitively (`cs.lg` → `cs.LG`).
pub fn get(id: &str) -> Option<&'static Category> {
    let t = &*TAXONOMY;
    let id = id.trim();
    let pos = t
        .by_lower_id
        .binary_search_by(|&i| match t.categories.get(i) {
            Some(c) => cmp_ci(c.id, id),
            None => Ordering::Less,
        })
        .ok()?;
    t.by_lower_id.get(pos).and_then(|&i| t.categories.get(i))
}

/// The canonical id of a category or alias (`cs.SY` → `eess.SY`, `cs.lg` → `cs.LG`,
/// `alg-geom` → `math.AG`); `None` for unknown ids.
pub fn canonical(id: &str) -> Option<&'static str> {
    get(id).map(Category::canonical_id)
}

/// The archives that have active categories (`astro-ph`, `cs`, ..., `stat`), sorted and
/// deduplicated: the names arXiv's per-archive RSS feeds accept.
pub fn archives() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = all()
        .iter()
        .filter(|c| c.active)
        .map(|c| c.archive)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether `term` is a known category id (active or not), case-insensitively.
pub fn is_known(term: &str) -> bool {
    get(term).is_some()
}

/// Whether a `<category term>` looks like an arXiv category rather than an ACM or MSC class
/// (`I.2.6`, `68T05`), which arXiv mixes into the same element.
pub fn looks_like_category(term: &str) -> bool {
    let mut chars = term.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && term
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '.' || c == '-')
}

/// Whether `archive` + `.` + `subject` (e.g. `math` + `GT`) is a known category, without
/// allocating: validates the subject class of old-style arXiv ids like `math.GT/0309136`.
pub(crate) fn has_subject_class(archive: &str, subject: &str) -> bool {
    all().iter().any(|c| {
        c.id.split_once('.').is_some_and(|(a, s)| {
            a.eq_ignore_ascii_case(archive) && s.eq_ignore_ascii_case(subject)
        })
    })
}

/// The archives of a group (`physics` → `astro-ph`, `cond-mat`, ..., `quant-ph`), sorted.
fn group_archives(group: Group) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = all()
        .iter()
        .filter(|c| c.group == group)
        .map(|c| c.archive)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn is_archive(name: &str) -> Option<&'static str> {
    all()
        .iter()
        .find(|c| c.archive.eq_ignore_ascii_case(name))
        .map(|c| c.archive)
}

/// Whether the archive has categories below it (`astro-ph.CO`), not just a bare one (`hep-th`).
fn has_subcategories(archive: &str) -> bool {
    all()
        .iter()
        .any(|c| c.archive == archive && c.id.contains('.'))
}

/// Categories that name the same thing as `c`: itself, its canonical id and the other aliases of
/// that canonical id.
fn equivalents(c: &'static Category) -> impl Iterator<Item = &'static Category> {
    let canonical = c.canonical_id();
    all().iter().filter(move |x| x.canonical_id() == canonical)
}

/// A user asked for a category that does not exist; carries close matches for the reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown arXiv category '{input}' ({})", suggestion_hint(suggestions))]
pub struct UnknownCategory {
    /// What the user typed (trimmed, shortened to 40 characters).
    pub input: String,
    /// Up to five close category ids, best first.
    pub suggestions: Vec<&'static str>,
}

/// The parenthesised part of an [`UnknownCategory`] message.
fn suggestion_hint(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        "see https://arxiv.org/category_taxonomy".to_string()
    } else {
        format!("did you mean {}?", suggestions.join(", "))
    }
}

impl UnknownCategory {
    fn new(input: &str) -> UnknownCategory {
        let trimmed = input.trim();
        let mut echo: String = trimmed
            .chars()
            .take(MAX_FUZZY_LEN)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if trimmed.chars().nth(MAX_FUZZY_LEN).is_some() {
            echo.push('…');
        }
        UnknownCategory {
            input: echo,
            suggestions: suggest(input),
        }
    }
}

/// What a subscription selects: one category, a whole archive, or a whole group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryFilter {
    /// One category (aliases included: `cs.SY` also selects `eess.SY`).
    Category(&'static Category),
    /// Every category of an archive (`cs` selects `cs.*`; `astro-ph` also the bare legacy id).
    Archive(&'static str),
    /// Every archive of a group (`physics` selects astro-ph, cond-mat, hep-*, ...).
    Group(Group),
}

impl CategoryFilter {
    /// Parses what a user types, case-insensitively:
    ///
    /// * a category id: `cs.LG`, `hep-th`, `math.gt`;
    /// * an archive: `cs`, `astro-ph`, `cond-mat` (a bare legacy id such as `astro-ph` means the
    ///   whole archive), or explicitly `physics.*`;
    /// * a group: `physics` (the group, wider than the `physics.*` archive), or explicitly
    ///   `grp_cs`. For the other groups the archive of the same name is the same selection.
    pub fn parse(s: &str) -> Result<Self, UnknownCategory> {
        let t = s.trim();
        let unknown = || UnknownCategory::new(s);
        if let Some(name) = t.strip_suffix(".*").or_else(|| t.strip_suffix('*')) {
            return is_archive(name)
                .map(CategoryFilter::Archive)
                .ok_or_else(unknown);
        }
        if let Some(rest) = strip_prefix_ci(t, "grp_") {
            return Group::from_id(rest)
                .map(CategoryFilter::Group)
                .ok_or_else(unknown);
        }
        if let Some(archive) = is_archive(t) {
            if let Some(group) = Group::from_id(archive)
                && !is_legacy_only_widening(group, archive)
            {
                return Ok(CategoryFilter::Group(group));
            }
            if has_subcategories(archive) || get(t).is_none() {
                return Ok(CategoryFilter::Archive(archive));
            }
        }
        get(t).map(CategoryFilter::Category).ok_or_else(unknown)
    }

    /// Whether a paper category (as arXiv writes it in feeds) is selected. Aliases count both
    /// ways, and legacy ids count as the category they were folded into.
    pub fn matches(&self, category: &str) -> bool {
        let category = category.trim();
        let Some(cat) = get(category) else {
            // Not in the taxonomy (newer than this build?): fall back to its archive prefix.
            let archive = category.split_once('.').map_or(category, |(a, _)| a);
            return match self {
                CategoryFilter::Category(_) => false,
                CategoryFilter::Archive(a) => a.eq_ignore_ascii_case(archive),
                CategoryFilter::Group(g) => {
                    is_archive(archive).is_some_and(|a| group_archives(*g).contains(&a))
                }
            };
        };
        match self {
            CategoryFilter::Category(c) => c.canonical_id() == cat.canonical_id(),
            CategoryFilter::Archive(a) => equivalents(cat).any(|x| x.archive == *a),
            CategoryFilter::Group(g) => equivalents(cat).any(|x| x.group == *g),
        }
    }
}

/// Whether a group is wider than its same-named archive only by legacy archives that are folded
/// into that archive anyway (`cs` adds only `cmp-lg`, which is `cs.CL`): then the plain name
/// means the archive.
fn is_legacy_only_widening(group: Group, archive: &str) -> bool {
    all()
        .iter()
        .filter(|c| c.group == group && c.archive != archive)
        .all(|c| {
            c.alias_of
                .and_then(get)
                .is_some_and(|target| target.archive == archive)
        })
}

impl fmt::Display for CategoryFilter {
    /// The canonical spelling: the id as arXiv writes it (`cs.LG`), the archive (`cs`, or
    /// `physics.*` where the bare word means the group), or the group (`physics`, `grp_cs`).
    /// Every filter [`CategoryFilter::parse`] returns parses back from its display. (A
    /// hand-built `Category` filter for a bare legacy id such as `astro-ph` displays as that id,
    /// which parses as the whole archive.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CategoryFilter::Category(c) => f.write_str(c.id),
            CategoryFilter::Archive(a) => {
                if CategoryFilter::parse(a).ok().as_ref() == Some(self) {
                    f.write_str(a)
                } else {
                    write!(f, "{a}.*")
                }
            }
            CategoryFilter::Group(g) => {
                if CategoryFilter::parse(g.id()).ok().as_ref() == Some(self) {
                    f.write_str(g.id())
                } else {
                    write!(f, "grp_{}", g.id())
                }
            }
        }
    }
}

impl FromStr for CategoryFilter {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CategoryFilter::parse(s)
    }
}

impl Serialize for CategoryFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CategoryFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        CategoryFilter::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Levenshtein distance over ASCII-lower-cased bytes (inputs are short ids).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<u8> = a.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<u8> = b.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let mut left = i + 1;
        let mut diag = i;
        for (j, cb) in b.iter().enumerate() {
            let up = prev.get(j + 1).copied().unwrap_or(usize::MAX - 1);
            let value = (diag + usize::from(ca != cb)).min(left + 1).min(up + 1);
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = value;
            }
            diag = up;
            left = value;
        }
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(a.len())
}

/// The lower-cased words of a category name (`"Computation and Language"` → computation, and,
/// language).
fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether every word of `query` starts some word of the category's name.
fn name_matches(query_words: &[String], category: &Category) -> bool {
    !query_words.is_empty()
        && query_words
            .iter()
            .all(|q| name_words(category.name).any(|w| w.starts_with(q.as_str())))
}

/// How well a category matches a search query; lower is better, `None` is no match.
fn search_tier(query: &str, query_words: &[String], c: &Category) -> Option<u8> {
    let subject = c.id.split_once('.').map(|(_, s)| s);
    if c.id.eq_ignore_ascii_case(query) {
        Some(0)
    } else if strip_prefix_ci(c.id, query).is_some() {
        Some(1)
    } else if subject.is_some_and(|s| strip_prefix_ci(s, query).is_some()) {
        Some(2)
    } else if name_matches(query_words, c) {
        Some(3)
    } else {
        None
    }
}

/// Categories for autocomplete: those whose id starts with the query (`cs.L` → cs.LG, cs.LO),
/// whose subject class does (`LG`), or whose name has words starting with every query word
/// (`machine learn` → cs.LG, stat.ML). Active categories first, then the better match, then by
/// id. An empty query lists the active categories.
pub fn search(prefix_or_words: &str, limit: usize) -> Vec<&'static Category> {
    let query = prefix_or_words.trim();
    let query_words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<(bool, u8, &'static Category)> = all()
        .iter()
        .filter_map(|c| {
            let tier = if query.is_empty() {
                c.active.then_some(0)
            } else {
                search_tier(query, &query_words, c)
            }?;
            Some((!c.active, tier, c))
        })
        .collect();
    hits.sort_by(|a, b| (a.0, a.1, a.2.id).cmp(&(b.0, b.1, b.2.id)));
    hits.into_iter().take(limit).map(|(_, _, c)| c).collect()
}

/// Close matches for a mistyped category, best first, at most five: prefix, subject-class and
/// name-word matches when there are any (`astro` → astro-ph.*, `robotics` → cs.RO), otherwise
/// the ids at the smallest edit distance if it is small (`cs.XY` → cs.CY, cs.SY).
pub fn suggest(input: &str) -> Vec<&'static str> {
    let query = input.trim();
    if query.is_empty() {
        return Vec::new();
    }
    let direct: Vec<&'static str> = search(query, MAX_SUGGESTIONS)
        .into_iter()
        .map(|c| c.id)
        .collect();
    if !direct.is_empty() || query.len() > MAX_FUZZY_LEN {
        return direct;
    }
    let threshold = if query.len() <= 5 { 1 } else { 2 };
    let mut scored: Vec<(usize, bool, &'static str)> = all()
        .iter()
        .map(|c| (edit_distance(query, c.id), !c.active, c.id))
        .filter(|(d, _, _)| *d <= threshold)
        .collect();
    let Some(best) = scored.iter().map(|(d, _, _)| *d).min() else {
        return Vec::new();
    };
    scored.retain(|(d, _, _)| *d == best);
    scored.sort();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, id)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(s: &str) -> CategoryFilter {
        match CategoryFilter::parse(s) {
            Ok(f) => f,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn every_row_parses() {
        let t = Taxonomy::parse(TSV);
        assert_eq!(t.errors, Vec::<RowError>::new());
        assert_eq!(t.rows, 185);
        assert_eq!(t.internal_rows, 9);
        assert_eq!(all().len(), 176);
        assert_eq!(all().iter().filter(|c| c.active).count(), 155);
    }

    #[test]
    fn malformed_rows_are_reported_not_panicked() {
        let t = Taxonomy::parse(
            "# header\ncs.LG\tMachine Learning\tactive\tcs\tgrp_cs\t\n\
             cs.XX\tname\tmaybe\tcs\tgrp_cs\t\n\
             cs.YY\tname\tactive\tcs\tgrp_nope\t\n\
             cs.ZZ\tname\tactive\tmath\tgrp_cs\t\n\
             too\tfew\n\
             I.2.6\tACM\tactive\tI\tgrp_cs\t\n",
        );
        assert_eq!(t.categories.len(), 1);
        let lines: Vec<usize> = t.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7]);
        assert!(t.errors[0].to_string().contains("unknown status 'maybe'"));
    }

    #[test]
    fn ids_are_unique_and_groups_consistent() {
        let mut ids: Vec<String> = all().iter().map(|c| c.id.to_ascii_lowercase()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all().len());
        for c in all() {
            for other in all().iter().filter(|o| o.archive == c.archive) {
                assert_eq!(c.group, other.group, "archive {} spans groups", c.archive);
            }
        }
    }

    #[test]
    fn aliases_match_the_table() {
        for (alias, canon) in ALIASES {
            let a = get(alias).unwrap();
            let c = get(canon).unwrap();
            assert!(a.active && c.active, "{alias} {canon}");
            assert_eq!(a.alias_of, Some(*canon));
            assert_eq!(c.alias_of, None);
        }
        // Every alias target exists and is itself canonical.
        for c in all() {
            if let Some(target) = c.alias_of {
                let t = get(target).unwrap_or_else(|| panic!("{} -> {target}", c.id));
                assert_eq!(t.id, target);
                assert_eq!(t.alias_of, None, "{} -> {target} is not canonical", c.id);
            }
        }
        // Every active-active alt_name pair in the file is one of ALIASES.
        for line in TSV.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let (id, status, alt) = (f[0], f[2], f[5]);
            if status == "active" && !alt.is_empty() && get(alt).is_some_and(|c| c.active) {
                assert!(
                    ALIASES.contains(&(id, alt)) || ALIASES.contains(&(alt, id)),
                    "{id} <-> {alt} missing from ALIASES"
                );
            }
        }
    }

    #[test]
    fn get_is_case_insensitive() {
        assert_eq!(get("cs.lg").map(|c| c.id), Some("cs.LG"));
        assert_eq!(get(" CS.LG ").map(|c| c.id), Some("cs.LG"));
        assert_eq!(get("ASTRO-PH.co").map(|c| c.id), Some("astro-ph.CO"));
        assert_eq!(
            get("hep-th").map(|c| c.name),
            Some("High Energy Physics - Theory")
        );
        assert_eq!(get("cs.XY"), None);
        assert_eq!(get(""), None);
        assert_eq!(
            get("test.dis-nn"),
            None,
            "arXiv-internal test ids are not exposed"
        );
        let lg = get("cs.LG").unwrap();
        assert_eq!(lg.name, "Machine Learning");
        assert_eq!(lg.archive, "cs");
        assert_eq!(lg.group, Group::Cs);
        assert!(lg.active);
        for c in all() {
            assert_eq!(get(c.id).map(|x| x.id), Some(c.id));
            assert_eq!(get(&c.id.to_ascii_uppercase()).map(|x| x.id), Some(c.id));
        }
    }

    #[test]
    fn canonical_resolves_aliases_and_legacy_ids() {
        for (input, want) in [
            ("cs.SY", "eess.SY"),
            ("math.IT", "cs.IT"),
            ("cs.NA", "math.NA"),
            ("math.MP", "math-ph"),
            ("stat.TH", "math.ST"),
            ("q-fin.EC", "econ.GN"),
            ("eess.SY", "eess.SY"),
            ("cs.lg", "cs.LG"),
            ("alg-geom", "math.AG"),
            ("cmp-lg", "cs.CL"),
            ("astro-ph", "astro-ph"),
            ("cs.CL", "cs.CL"),
        ] {
            assert_eq!(canonical(input), Some(want), "{input}");
        }
        assert_eq!(canonical("cs.XY"), None);
    }

    #[test]
    fn archives_are_active_sorted_and_unique() {
        let got = archives();
        assert_eq!(
            got,
            [
                "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat",
                "hep-ph", "hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics",
                "q-bio", "q-fin", "quant-ph", "stat",
            ]
        );
    }

    #[test]
    fn is_known_and_looks_like_category() {
        assert!(is_known("cs.LG"));
        assert!(is_known("alg-geom"));
        assert!(!is_known("cs.XY"));
        assert!(!is_known("68T05"));
        assert!(looks_like_category("cs.LG"));
        assert!(looks_like_category("astro-ph.CO"));
        assert!(!looks_like_category("I.2.6"));
        assert!(!looks_like_category("68T05"));
        assert!(!looks_like_category(""));
    }

    #[test]
    fn legacy_archives_of_old_ids_are_in_the_taxonomy() {
        for archive in crate::arxiv::id::LEGACY_ARCHIVES {
            assert!(is_archive(archive).is_some(), "{archive}");
        }
        assert!(has_subject_class("math", "GT"));
        assert!(has_subject_class("cs", "cr"));
        assert!(!has_subject_class("hep-th", "GT"));
        assert!(!has_subject_class("math", "XX"));
    }

    #[test]
    fn groups() {
        for g in Group::ALL {
            assert_eq!(Group::from_id(g.id()), Some(g));
            assert_eq!(
                Group::from_id(&format!("grp_{}", g.id().to_uppercase())),
                Some(g)
            );
            assert!(all().iter().any(|c| c.group == g && c.active), "{g}");
        }
        assert_eq!(Group::QBio.name(), "Quantitative Biology");
        assert_eq!(
            Group::Eess.name(),
            "Electrical Engineering and Systems Science"
        );
        assert_eq!(Group::from_id("test"), None);
        assert_eq!(group_archives(Group::Physics).len(), 26);
        assert_eq!(group_archives(Group::Stat), ["stat"]);
    }

    #[test]
    fn filter_parse_kinds() {
        assert_eq!(
            filter("cs.lg"),
            CategoryFilter::Category(get("cs.LG").unwrap())
        );
        assert_eq!(
            filter("hep-th"),
            CategoryFilter::Category(get("hep-th").unwrap())
        );
        assert_eq!(filter("cs"), CategoryFilter::Archive("cs"));
        assert_eq!(filter("CS"), CategoryFilter::Archive("cs"));
        assert_eq!(filter("math"), CategoryFilter::Archive("math"));
        assert_eq!(filter("astro-ph"), CategoryFilter::Archive("astro-ph"));
        assert_eq!(filter("cond-mat"), CategoryFilter::Archive("cond-mat"));
        assert_eq!(filter("q-bio"), CategoryFilter::Archive("q-bio"));
        assert_eq!(filter("nlin"), CategoryFilter::Archive("nlin"));
        assert_eq!(filter("physics"), CategoryFilter::Group(Group::Physics));
        assert_eq!(filter("physics.*"), CategoryFilter::Archive("physics"));
        assert_eq!(filter("cs*"), CategoryFilter::Archive("cs"));
        assert_eq!(filter("grp_cs"), CategoryFilter::Group(Group::Cs));
        assert_eq!(
            filter(" grp_physics "),
            CategoryFilter::Group(Group::Physics)
        );
    }

    #[test]
    fn filter_display_round_trips() {
        // Everything a user can type: every id, archive and group, plain and explicit.
        let mut inputs: Vec<String> = all().iter().map(|c| c.id.to_string()).collect();
        for c in all() {
            inputs.push(c.archive.to_string());
            inputs.push(format!("{}.*", c.archive));
        }
        for g in Group::ALL {
            inputs.push(g.id().to_string());
            inputs.push(format!("grp_{}", g.id()));
        }
        for input in inputs {
            let f = filter(&input);
            let shown = f.to_string();
            assert_eq!(CategoryFilter::parse(&shown), Ok(f), "{shown}");
        }
        assert_eq!(filter("CS.LG").to_string(), "cs.LG");
        assert_eq!(filter("physics").to_string(), "physics");
        assert_eq!(filter("physics.*").to_string(), "physics.*");
        assert_eq!(filter("grp_cs").to_string(), "grp_cs");
        assert_eq!(filter("cs").to_string(), "cs");
    }

    #[test]
    fn filter_serde_is_a_string() {
        let f = filter("cs.lg");
        assert_eq!(serde_json::to_string(&f).unwrap(), "\"cs.LG\"");
        let back: CategoryFilter = serde_json::from_str("\"cs.LG\"").unwrap();
        assert_eq!(back, f);
        let err = serde_json::from_str::<CategoryFilter>("\"cs.XY\"").unwrap_err();
        assert!(err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn filter_matches() {
        let f = filter("cs.SY");
        assert!(f.matches("cs.SY"));
        assert!(f.matches("eess.SY"));
        assert!(filter("eess.SY").matches("cs.SY"));
        assert!(!f.matches("cs.LG"));
        assert!(filter("math.AG").matches("alg-geom"));
        assert!(filter("cs.LG").matches(" cs.lg "));
        assert!(!filter("cs.LG").matches("cs.LGX"));

        let cs = filter("cs");
        assert!(cs.matches("cs.LG"));
        assert!(cs.matches("cmp-lg"));
        assert!(cs.matches("eess.SY"), "alias of cs.SY");
        assert!(cs.matches("math.NA"), "alias of cs.NA");
        assert!(!cs.matches("stat.ML"));
        assert!(cs.matches("cs.ZZ"), "unknown future cs category by prefix");
        assert!(!cs.matches("csx.ZZ"));

        let astro = filter("astro-ph");
        assert!(astro.matches("astro-ph"));
        assert!(astro.matches("astro-ph.CO"));
        assert!(!astro.matches("gr-qc"));

        let physics = filter("physics");
        for c in [
            "astro-ph.CO",
            "cond-mat.str-el",
            "hep-th",
            "quant-ph",
            "physics.optics",
            "nlin.CD",
            "math-ph",
            "math.MP",
            "gr-qc",
        ] {
            assert!(physics.matches(c), "{c}");
        }
        for c in ["cs.LG", "math.AG", "q-bio.NC", "stat.ML", ""] {
            assert!(!physics.matches(c), "{c}");
        }
        assert!(!physics.matches("hep-zz.XX"));
        let physics_archive = filter("physics.*");
        assert!(physics_archive.matches("physics.optics"));
        assert!(!physics_archive.matches("quant-ph"));
        assert!(filter("grp_math").matches("math-ph"), "math.MP is an alias");
        assert!(!filter("grp_econ").matches("cs.LG"));
        assert!(
            filter("grp_physics").matches("cond-mat.zz"),
            "unknown, known archive"
        );
    }

    #[test]
    fn unknown_category_message() {
        let err = CategoryFilter::parse("cs.XY").unwrap_err();
        assert_eq!(err.input, "cs.XY");
        assert_eq!(err.suggestions, ["cs.CY", "cs.SY"]);
        assert_eq!(
            err.to_string(),
            "unknown arXiv category 'cs.XY' (did you mean cs.CY, cs.SY?)"
        );
        let err = CategoryFilter::parse("zzzzzzzzzz").unwrap_err();
        assert!(err.suggestions.is_empty());
        assert_eq!(
            err.to_string(),
            "unknown arXiv category 'zzzzzzzzzz' (see https://arxiv.org/category_taxonomy)"
        );
        assert!(CategoryFilter::parse("").is_err());
        assert!(CategoryFilter::parse("nope.*").is_err());
        assert!(CategoryFilter::parse("grp_nope").is_err());
        let long = "é".repeat(1000);
        let err = CategoryFilter::parse(&long).unwrap_err();
        assert_eq!(err.input.chars().count(), MAX_FUZZY_LEN + 1);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("cs.XY"), ["cs.CY", "cs.SY"]);
        assert_eq!(suggest("quantph"), ["quant-ph"]);
        assert_eq!(suggest("hep-tj"), ["hep-th"]);
        assert_eq!(suggest("robotics"), ["cs.RO"]);
        assert_eq!(suggest("machine learning"), ["cs.LG", "stat.ML"]);
        assert_eq!(suggest("LG"), ["cs.LG"]);
        let astro = suggest("astro");
        assert_eq!(astro.len(), 5);
        assert!(
            astro.iter().all(|s| s.starts_with("astro-ph.")),
            "{astro:?}"
        );
        assert!(suggest("").is_empty());
        assert!(suggest("qqqqqqqqqqqqq").is_empty());
        assert!(suggest(&"x".repeat(10_000)).is_empty());
    }

    #[test]
    fn search_for_autocomplete() {
        let ids = |q: &str, n: usize| -> Vec<&str> { search(q, n).iter().map(|c| c.id).collect() };
        assert_eq!(ids("cs.L", 10), ["cs.LG", "cs.LO"]);
        assert_eq!(ids("cs.lg", 10), ["cs.LG"]);
        assert_eq!(ids("machine", 10), ["cs.LG", "stat.ML"]);
        assert_eq!(ids("comp lang", 10), ["cs.CL", "cmp-lg"], "inactive last");
        assert_eq!(ids("cs", 3), ["cs.AI", "cs.AR", "cs.CC"]);
        assert_eq!(ids("", 200).len(), 155);
        assert!(ids("", 0).is_empty());
        assert!(ids("zzzz", 10).is_empty());
        // Active categories always come before inactive ones.
        let astro = search("astro", 50);
        let first_inactive = astro.iter().position(|c| !c.active).unwrap();
        assert!(astro[first_inactive..].iter().all(|c| !c.active));
        assert_eq!(astro[first_inactive].id, "astro-ph");
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("CS.xy", "cs.XY"), 0);
        assert_eq!(edit_distance("cs.xy", "cs.cy"), 1);
    }
}
