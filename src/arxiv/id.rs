//! arXiv identifiers: parsing every form people and posts use, and normalizing them.
//!
//! Two schemes exist (arXiv's `help/arxiv_identifier`):
//!
//! * **new style** (April 2007 on): `YYMM.NNNN` for 0704–1412 and `YYMM.NNNNN` from 1501,
//!   e.g. `2107.00641`;
//! * **old style** (August 1991 – March 2007): `archive[.XX]/YYMMNNN`, e.g. `hep-th/9901001` or
//!   `math.GT/0309136`. The subject class (`GT`) is metadata only: arXiv's preferred external form
//!   drops it, so the canonical key is `math/0309136`.
//!
//! Both may carry a version suffix `vN` (N ≥ 1); a version-less id means "the latest version".
//!
//! Everything here is hand-written byte scanning (no regex, no allocation on the hot path except
//! in [`ArxivId::find_all`]) because it runs on every link of every social post we ingest.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What we tell users an identifier should look like.
const HINT: &str = "expected e.g. 2107.00641, hep-th/9901001 or an arxiv.org URL";

/// Longest input echoed back in an [`IdError`], in characters, so that a pasted novel does not
/// end up in a log line or a Discord reply.
const MAX_ECHO_CHARS: usize = 80;

/// The legacy archive names that appear in old-style identifiers (`archive/YYMMNNN`), sorted.
///
/// Public so the taxonomy tests can check that every one of them is a known arXiv archive.
pub const LEGACY_ARCHIVES: &[&str] = &[
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
];

/// Capacity of the inline key buffer: the longest key is an 8-letter archive, `/` and 7 digits.
const KEY_CAP: usize = 16;

/// The canonical key stored inline, so that parsing never allocates and [`ArxivId::key`] can hand
/// out a `&str`.
#[derive(Clone, Copy)]
struct KeyBuf {
    bytes: [u8; KEY_CAP],
    len: u8,
}

impl KeyBuf {
    fn new() -> Self {
        KeyBuf {
            bytes: [0; KEY_CAP],
            len: 0,
        }
    }

    /// Appends ASCII bytes; the callers only ever write at most [`KEY_CAP`] of them.
    fn push(&mut self, src: &[u8]) {
        for &b in src {
            if let Some(slot) = self.bytes.get_mut(usize::from(self.len)) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    /// Appends `value` as exactly `width` decimal digits (zero-padded; excess high digits dropped,
    /// which the parser's range checks rule out).
    fn push_padded(&mut self, value: u32, width: u8) {
        let mut digits = [b'0'; 10];
        let mut v = value;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let skip = digits.len().saturating_sub(usize::from(width));
        self.push(digits.get(skip..).unwrap_or_default());
    }

    /// The canonical key of a scheme: `YYMM.NNNNN` or `archive/YYMMNNN` (subject class dropped).
    fn for_scheme(scheme: &Scheme) -> KeyBuf {
        let mut key = KeyBuf::new();
        match *scheme {
            Scheme::New {
                yymm,
                number,
                digits,
            } => {
                key.push_padded(u32::from(yymm), 4);
                key.push(b".");
                key.push_padded(number, digits);
            }
            Scheme::Old {
                archive,
                yymm,
                number,
                ..
            } => {
                key.push(archive.as_bytes());
                key.push(b"/");
                key.push_padded(u32::from(yymm), 4);
                key.push_padded(u32::from(number), 3);
            }
        }
        key
    }

    fn as_str(&self) -> &str {
        self.bytes
            .get(..usize::from(self.len))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// The structured content of an identifier.
#[derive(Clone, Copy, Debug)]
enum Scheme {
    /// `archive[.XX]/YYMMNNN`.
    Old {
        archive: &'static str,
        /// Upper-case two-letter subject class, e.g. `GT`.
        subject: Option<[u8; 2]>,
        /// `YYMM` as written, e.g. 9901 or 309 (for 0309).
        yymm: u16,
        number: u16,
    },
    /// `YYMM.NNNN[N]`.
    New { yymm: u16, number: u32, digits: u8 },
}

/// A parsed arXiv identifier, optionally with a version.
///
/// Equality and hashing use the canonical key and the version (so `math.GT/0309136` equals
/// `math/0309136`); ordering is chronological: old-style ids sort before new-style ones, each by
/// (year and month, number), then by archive and version.
#[derive(Clone)]
pub struct ArxivId {
    scheme: Scheme,
    key: KeyBuf,
    version: Option<NonZeroU32>,
}

/// Why a string is not an arXiv identifier.
///
/// `input` is the offending input (shortened to 80 characters, control characters blanked, so
/// the message stays one readable line); `reason` says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not an arXiv identifier ({reason})")]
pub struct IdError {
    pub input: String,
    pub reason: String,
}

/// Internal, allocation-free failure reasons; rendered into [`IdError::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Empty,
    Unrecognized,
    NotAPaperLink,
    BadMonth,
    TooEarlyForNewStyle,
    NeedFourDigits,
    NeedFiveDigits,
    ZeroNumber,
    UnknownArchive,
    BadSubjectClass,
    OldDigits,
    OldRange,
    BadVersion,
    Trailing,
}

impl Reason {
    fn message(self) -> String {
        let specific = match self {
            Reason::Empty => "empty input",
            Reason::Unrecognized => return HINT.to_string(),
            Reason::NotAPaperLink => "the link does not point to an arXiv paper",
            Reason::BadMonth => "the month (digits 3-4) must be 01-12",
            Reason::TooEarlyForNewStyle => {
                "YYMM.NNNNN ids start at 0704; older papers look like hep-th/9901001"
            }
            Reason::NeedFourDigits => "ids from 0704 to 1412 have 4 digits after the dot",
            Reason::NeedFiveDigits => "ids from 1501 on have 5 digits after the dot",
            Reason::ZeroNumber => "paper numbers start at 1",
            Reason::UnknownArchive => "unknown archive before the '/'",
            Reason::BadSubjectClass => {
                "unknown subject class: use a category's two letters, as in math.GT/0309136"
            }
            Reason::OldDigits => "old-style ids have 7 digits (YYMMNNN) after the '/'",
            Reason::OldRange => "old-style ids run from 9107 to 0703",
            Reason::BadVersion => "a version is v1, v2, ... without leading zeros",
            Reason::Trailing => "unexpected text after the id",
        };
        format!("{specific}; {HINT}")
    }
}

/// A successful scan: the id and how many bytes of the input it used.
type Scanned = Result<(ArxivId, usize), Reason>;

impl ArxivId {
    /// Parses any supported form: bare ids (`2107.00641v2`, `hep-th/9901001`), the `arXiv:`
    /// prefix, arxiv.org and mirror URLs, and the `10.48550/arXiv.` DOI (see the module docs).
    ///
    /// Surrounding whitespace and a surrounding `<…>` (Discord's "no embed" syntax) are ignored.
    /// Never panics, whatever the input.
    pub fn parse(input: &str) -> Result<ArxivId, IdError> {
        Self::parse_inner(input).map_err(|reason| IdError::new(input, reason))
    }

    fn parse_inner(input: &str) -> Result<ArxivId, Reason> {
        let s = clean(input).as_bytes();
        if s.is_empty() {
            return Err(Reason::Empty);
        }
        if let Some(after) = strip_prefix_ci(s, b"arxiv:") {
            let spaces = after.iter().take_while(|b| **b == b' ').count();
            return whole(after.get(spaces..).unwrap_or_default());
        }
        if let Some(after) = strip_prefix_ci(s, DOI_PREFIX) {
            return whole(after);
        }
        if let Some(scanned) = url_at(s) {
            let (id, used) = scanned?;
            return if url_rest_ok(s.get(used..).unwrap_or_default()) {
                Ok(id)
            } else {
                Err(Reason::Trailing)
            };
        }
        whole(s)
    }

    /// Parses a link found in a social post: only the URL forms (arxiv.org, export.arxiv.org,
    /// alphaxiv.org, huggingface.co/hf.co papers, doi.org, scirate.com), never a bare id or a
    /// link to another site that merely contains an id. Everything it accepts, [`parse`] accepts.
    ///
    /// [`parse`]: ArxivId::parse
    pub fn from_url(url: &str) -> Option<ArxivId> {
        let s = clean(url).as_bytes();
        match url_at(s)? {
            Ok((id, used)) if url_rest_ok(s.get(used..).unwrap_or_default()) => Some(id),
            _ => None,
        }
    }

    /// Every arXiv id mentioned in free text through a URL form or an `arXiv:` prefix (or the
    /// arXiv DOI), deduplicated (by key and version) in order of first appearance.
    ///
    /// Bare numbers such as `2107.00641` are deliberately ignored: in free text they are too often
    /// something else. Truncated links (`arxiv.org/abs/2509.1…`) are ignored too.
    pub fn find_all(text: &str) -> Vec<ArxivId> {
        let lower = text.to_ascii_lowercase();
        let bytes = lower.as_bytes();
        let mut hits: Vec<(usize, ArxivId)> = Vec::new();
        for needle in FIND_NEEDLES {
            for (pos, _) in lower.match_indices(needle.text) {
                if let Some(id) = needle.kind.id_at(bytes, pos, needle.text.len()) {
                    hits.push((pos, id));
                }
            }
        }
        hits.sort_by_key(|(pos, _)| *pos);
        let mut seen = HashSet::new();
        hits.into_iter()
            .filter_map(|(_, id)| seen.insert(id.clone()).then_some(id))
            .collect()
    }

    /// The canonical version-less key, e.g. `2107.00641` or `hep-th/9901001` (`math/0309136` for
    /// `math.GT/0309136`): what the store and every API use to name a paper.
    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// The version, if the input named one.
    pub fn version(&self) -> Option<u32> {
        self.version.map(NonZeroU32::get)
    }

    /// The same paper with another version (or none). arXiv versions start at 1, so `Some(0)`
    /// means "no version".
    pub fn with_version(&self, version: Option<u32>) -> ArxivId {
        ArxivId {
            version: version.and_then(NonZeroU32::new),
            ..self.clone()
        }
    }

    /// The same paper without a version ("the latest version").
    pub fn versionless(&self) -> ArxivId {
        self.with_version(None)
    }

    /// Whether this is an old-style (`archive/YYMMNNN`, before April 2007) identifier.
    pub fn is_old_style(&self) -> bool {
        matches!(self.scheme, Scheme::Old { .. })
    }

    /// The legacy archive of an old-style id (`hep-th` of `hep-th/9901001`); `None` for new style.
    pub fn archive(&self) -> Option<&str> {
        match self.scheme {
            Scheme::Old { archive, .. } => Some(archive),
            Scheme::New { .. } => None,
        }
    }

    /// The subject class an old-style id was written with (`GT` of `math.GT/0309136`), if any.
    /// It is not part of the key, but it tells the paper's category without a lookup.
    pub fn subject_class(&self) -> Option<&str> {
        match &self.scheme {
            Scheme::Old {
                subject: Some(sc), ..
            } => std::str::from_utf8(sc).ok(),
            _ => None,
        }
    }

    /// The year and month the id was assigned (its `YYMM`), e.g. `(2021, 7)` for `2107.00641`
    /// and `(1999, 1)` for `hep-th/9901001`: a cheap age check without fetching metadata.
    pub fn year_month(&self) -> (u16, u8) {
        let yyyymm = self.yyyymm();
        // Both parts fit: years are 1991..=2099, months 1..=12.
        ((yyyymm / 100) as u16, (yyyymm % 100) as u8)
    }

    /// `https://arxiv.org/abs/ID[vN]`.
    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{self}")
    }

    /// `https://arxiv.org/pdf/ID[vN]`.
    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{self}")
    }

    /// `https://arxiv.org/html/ID[vN]` (arXiv's HTML rendering; only papers with LaTeX source
    /// from late 2023 on have one).
    pub fn html_url(&self) -> String {
        format!("https://arxiv.org/html/{self}")
    }

    /// `YYYYMM` with the century resolved, for chronological ordering.
    fn yyyymm(&self) -> u32 {
        let yymm = match self.scheme {
            Scheme::Old { yymm, .. } | Scheme::New { yymm, .. } => u32::from(yymm),
        };
        let century = if yymm >= 9100 { 190_000 } else { 200_000 };
        century + yymm
    }

    /// Everything that orders ids; equal exactly when key and version are equal.
    fn order_key(&self) -> (bool, u32, u32, &'static str, Option<NonZeroU32>) {
        match self.scheme {
            Scheme::Old {
                archive, number, ..
            } => (
                false,
                self.yyyymm(),
                u32::from(number),
                archive,
                self.version,
            ),
            Scheme::New { number, .. } => (true, self.yyyymm(), number, "", self.version),
        }
    }
}

impl IdError {
    fn new(input: &str, reason: Reason) -> IdError {
        let mut echo: String = input
            .trim()
            .chars()
            .take(MAX_ECHO_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if input.trim().chars().nth(MAX_ECHO_CHARS).is_some() {
            echo.push('…');
        }
        IdError {
            input: echo,
            reason: reason.message(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning
// ---------------------------------------------------------------------------------------------

/// arXiv's DataCite DOI prefix, lower case.
const DOI_PREFIX: &[u8] = b"10.48550/arxiv.";

/// Trims whitespace and one surrounding `<…>`.
fn clean(input: &str) -> &str {
    let s = input.trim();
    match s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        Some(inner) => inner.trim(),
        None => s,
    }
}

/// `s` without `prefix` when it starts with it, ASCII case-insensitively.
fn strip_prefix_ci<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Scans an id that must span all of `s`.
fn whole(s: &[u8]) -> Result<ArxivId, Reason> {
    let (id, used) = scan_id(s)?;
    if used == s.len() {
        Ok(id)
    } else {
        Err(Reason::Trailing)
    }
}

/// After a URL's id (and optional `.pdf`, `/`), only a query string or a fragment may follow.
fn url_rest_ok(rest: &[u8]) -> bool {
    matches!(rest.first(), None | Some(b'?' | b'#'))
}

fn count_digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The value of a run of ASCII digits, `None` on overflow.
fn digits_value(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?
            .checked_add(u32::from(b.wrapping_sub(b'0')))
    })
}

/// Scans one identifier at the start of `s`; stops at the first byte that cannot continue it and
/// reports how many bytes it used (the callers decide what may follow).
fn scan_id(s: &[u8]) -> Scanned {
    match s.get(..5) {
        Some([a, b, c, d, b'.'])
            if a.is_ascii_digit()
                && b.is_ascii_digit()
                && c.is_ascii_digit()
                && d.is_ascii_digit() =>
        {
            scan_new(s)
        }
        _ => scan_old(s),
    }
}

fn scan_new(s: &[u8]) -> Scanned {
    let yymm = s
        .get(..4)
        .and_then(digits_value)
        .ok_or(Reason::Unrecognized)?;
    let month = yymm % 100;
    if !(1..=12).contains(&month) {
        return Err(Reason::BadMonth);
    }
    if yymm < 704 {
        return Err(Reason::TooEarlyForNewStyle);
    }
    let rest = s.get(5..).unwrap_or_default();
    let n = count_digits(rest);
    let want = if yymm <= 1412 { 4 } else { 5 };
    if n == 0 {
        return Err(Reason::Unrecognized);
    }
    if n != want {
        return Err(if want == 4 {
            Reason::NeedFourDigits
        } else {
            Reason::NeedFiveDigits
        });
    }
    let number = rest
        .get(..n)
        .and_then(digits_value)
        .ok_or(Reason::Unrecognized)?;
    if number == 0 {
        return Err(Reason::ZeroNumber);
    }
    let mut used = 5 + n;
    let version = scan_version(s, &mut used)?;
    // yymm ≤ 9999 and want ∈ {4, 5}.
    let scheme = Scheme::New {
        yymm: yymm as u16,
        number,
        digits: want as u8,
    };
    Ok((
        ArxivId {
            key: KeyBuf::for_scheme(&scheme),
            scheme,
            version,
        },
        used,
    ))
}

fn scan_old(s: &[u8]) -> Scanned {
    let is_archive_byte = |b: &&u8| b.is_ascii_alphabetic() || **b == b'-';
    let alen = s.iter().take_while(is_archive_byte).count();
    if alen == 0 {
        return Err(Reason::Unrecognized);
    }
    let raw_archive = s.get(..alen).unwrap_or_default();
    let mut pos = alen;
    let mut subject = None;
    if s.get(pos) == Some(&b'.') {
        let sc = s.get(pos + 1..).unwrap_or_default();
        let slen = sc.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        if slen == 0 || sc.get(slen) != Some(&b'/') {
            return Err(Reason::Unrecognized);
        }
        match sc.get(..slen) {
            Some([x, y]) => subject = Some([x.to_ascii_uppercase(), y.to_ascii_uppercase()]),
            _ => return Err(Reason::BadSubjectClass),
        }
        pos += 1 + slen;
    }
    if s.get(pos) != Some(&b'/') {
        return Err(Reason::Unrecognized);
    }
    let archive = LEGACY_ARCHIVES
        .iter()
        .find(|a| a.as_bytes().eq_ignore_ascii_case(raw_archive))
        .copied()
        .ok_or(Reason::UnknownArchive)?;
    if let Some(sc) = &subject {
        let known = std::str::from_utf8(sc)
            .is_ok_and(|sc| crate::arxiv::taxonomy::has_subject_class(archive, sc));
        if !known {
            return Err(Reason::BadSubjectClass);
        }
    }
    pos += 1;
    let digits = s.get(pos..).unwrap_or_default();
    if count_digits(digits) != 7 {
        return Err(Reason::OldDigits);
    }
    let yymm = digits
        .get(..4)
        .and_then(digits_value)
        .ok_or(Reason::OldDigits)?;
    let number = digits
        .get(4..7)
        .and_then(digits_value)
        .ok_or(Reason::OldDigits)?;
    if !(1..=12).contains(&(yymm % 100)) {
        return Err(Reason::BadMonth);
    }
    if !(9107..=9912).contains(&yymm) && !(1..=703).contains(&yymm) {
        return Err(Reason::OldRange);
    }
    if number == 0 {
        return Err(Reason::ZeroNumber);
    }
    let mut used = pos + 7;
    let version = scan_version(s, &mut used)?;
    // yymm ≤ 9912 and number ≤ 999.
    let scheme = Scheme::Old {
        archive,
        subject,
        yymm: yymm as u16,
        number: number as u16,
    };
    Ok((
        ArxivId {
            key: KeyBuf::for_scheme(&scheme),
            scheme,
            version,
        },
        used,
    ))
}

/// Scans an optional `vN` at `*used`, advancing past it. A `v` right after the number that does
/// not start a valid version is an error, not "no version".
fn scan_version(s: &[u8], used: &mut usize) -> Result<Option<NonZeroU32>, Reason> {
    match s.get(*used) {
        Some(b'v' | b'V') => {}
        _ => return Ok(None),
    }
    let rest = s.get(*used + 1..).unwrap_or_default();
    let n = count_digits(rest);
    let digits = rest.get(..n).unwrap_or_default();
    if n == 0 || digits.first() == Some(&b'0') {
        return Err(Reason::BadVersion);
    }
    let v = digits_value(digits)
        .and_then(NonZeroU32::new)
        .ok_or(Reason::BadVersion)?;
    *used += 1 + n;
    Ok(Some(v))
}

/// Where arXiv papers live on the web: host (after an optional `www.`) and the path prefixes
/// that are followed by an id.
const URL_FORMS: &[(&[u8], &[&[u8]])] = &[
    (b"arxiv.org/", ARXIV_PATHS),
    (b"export.arxiv.org/", ARXIV_PATHS),
    (b"alphaxiv.org/", &[b"abs/", b"overview/"]),
    (b"huggingface.co/", &[b"papers/"]),
    (b"hf.co/", &[b"papers/"]),
    (b"doi.org/", &[DOI_PREFIX]),
    (b"dx.doi.org/", &[DOI_PREFIX]),
    (b"scirate.com/", &[b"arxiv/"]),
    // ar5iv: arXiv papers as HTML, widely linked before arXiv served HTML itself.
    (b"ar5iv.labs.arxiv.org/", &[b"html/"]),
    (b"ar5iv.org/", &[b"abs/", b"html/"]),
];

const ARXIV_PATHS: &[&[u8]] = &[b"abs/", b"pdf/", b"html/", b"format/"];

/// Scans a URL form at the start of `s`: `None` when `s` is not a link to a paper host at all,
/// `Some(Err)` when it is one but does not name a valid paper. On success the byte count covers
/// the id, an optional `.pdf` (for `/pdf/` links) and an optional trailing `/`.
fn url_at(s: &[u8]) -> Option<Scanned> {
    let mut rest = strip_prefix_ci(s, b"https://")
        .or_else(|| strip_prefix_ci(s, b"http://"))
        .unwrap_or(s);
    rest = strip_prefix_ci(rest, b"www.").unwrap_or(rest);
    let (after_host, paths) = URL_FORMS
        .iter()
        .find_map(|(host, paths)| Some((strip_prefix_ci(rest, host)?, *paths)))?;
    let Some((path, id_part)) = paths
        .iter()
        .find_map(|p| Some((*p, strip_prefix_ci(after_host, p)?)))
    else {
        return Some(Err(Reason::NotAPaperLink));
    };
    let start = s.len() - id_part.len();
    Some(scan_id(id_part).map(|(id, mut used)| {
        if path == b"pdf/"
            && strip_prefix_ci(id_part.get(used..).unwrap_or_default(), b".pdf").is_some()
        {
            used += 4;
        }
        if id_part.get(used) == Some(&b'/') {
            used += 1;
        }
        (id, start + used)
    }))
}

// ---------------------------------------------------------------------------------------------
// Free-text search
// ---------------------------------------------------------------------------------------------

/// How a needle found in free text leads to an id.
#[derive(Clone, Copy)]
enum NeedleKind {
    /// `arXiv:ID` / `arXiv: ID`.
    Prefix,
    /// A bare `10.48550/arXiv.ID` DOI.
    Doi,
    /// A paper host; the URL may start a few bytes earlier (`www.`, `export.`, `dx.`).
    Host,
}

struct Needle {
    text: &'static str,
    kind: NeedleKind,
}

const FIND_NEEDLES: &[Needle] = &[
    Needle {
        text: "arxiv:",
        kind: NeedleKind::Prefix,
    },
    Needle {
        text: "10.48550/arxiv.",
        kind: NeedleKind::Doi,
    },
    Needle {
        text: "arxiv.org/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "alphaxiv.org/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "huggingface.co/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "hf.co/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "doi.org/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "scirate.com/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "ar5iv.labs.arxiv.org/",
        kind: NeedleKind::Host,
    },
    Needle {
        text: "ar5iv.org/",
        kind: NeedleKind::Host,
    },
];

/// Whether `b` may directly precede a mention (so `notarxiv.org` or `foo.arxiv.org` do not count).
fn opens_mention(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'%' | b'@'))
}

/// Whether a mention may end right before `b` (so `2107.006412` is not read as `2107.00641`).
fn closes_mention(b: Option<&u8>) -> bool {
    b.is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

impl NeedleKind {
    /// The id of a needle found at `pos` in the lower-cased text `s`, if it is a real mention.
    fn id_at(self, s: &[u8], pos: usize, needle_len: usize) -> Option<ArxivId> {
        let before = s.get(..pos)?;
        let (start, scanned) = match self {
            NeedleKind::Prefix | NeedleKind::Doi => {
                if !before.last().is_none_or(|b| opens_mention(*b)) {
                    return None;
                }
                let mut at = pos + needle_len;
                if matches!(self, NeedleKind::Prefix) {
                    at += s.get(at..)?.iter().take_while(|b| **b == b' ').count();
                }
                let (id, used) = scan_id(s.get(at..)?).ok()?;
                (at, (id, used))
            }
            NeedleKind::Host => {
                let mut start = pos;
                for sub in [&b"export."[..], b"dx.", b"www."] {
                    if before.get(..start).is_some_and(|b| b.ends_with(sub)) {
                        start -= sub.len();
                    }
                }
                let head = s.get(..start)?;
                let after_scheme = head.ends_with(b"//");
                if !(after_scheme || head.last().is_none_or(|b| opens_mention(*b))) {
                    return None;
                }
                let scanned = url_at(s.get(start..)?)?.ok()?;
                (start, scanned)
            }
        };
        let (id, used) = scanned;
        closes_mention(s.get(start + used)).then_some(id)
    }
}

// ---------------------------------------------------------------------------------------------
// Trait impls
// ---------------------------------------------------------------------------------------------

impl PartialEq for ArxivId {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key() && self.version == other.version
    }
}

impl Eq for ArxivId {}

impl Hash for ArxivId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
        self.version.hash(state);
    }
}

impl PartialOrd for ArxivId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ArxivId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())?;
        match self.version {
            Some(v) => write!(f, "v{v}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for ArxivId {
    /// Shows the id as written, subject class included: `ArxivId(math.GT/0309136v2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ArxivId(")?;
        match (self.archive(), self.subject_class()) {
            (Some(archive), Some(sc)) => {
                let tail = self.key().get(archive.len()..).unwrap_or_default();
                write!(f, "{archive}.{sc}{tail}")?;
            }
            _ => f.write_str(self.key())?,
        }
        if let Some(v) = self.version {
            write!(f, "v{v}")?;
        }
        f.write_str(")")
    }
}

impl FromStr for ArxivId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArxivId::parse(s)
    }
}

impl Serialize for ArxivId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArxivId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ArxivId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ArxivId {
        match ArxivId::parse(s) {
            Ok(id) => id,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    /// (input, expected Display)
    const VALID: &[(&str, &str)] = &[
        // new style
        ("2107.00641", "2107.00641"),
        ("2107.00641v2", "2107.00641v2"),
        ("2107.00641V2", "2107.00641v2"),
        ("0704.0001", "0704.0001"),
        ("1412.9999v13", "1412.9999v13"),
        ("1501.00001", "1501.00001"),
        ("9912.99999", "9912.99999"),
        ("  2107.00641\n", "2107.00641"),
        ("<2107.00641>", "2107.00641"),
        ("2107.00641v4294967295", "2107.00641v4294967295"),
        // old style
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001v2"),
        ("math.GT/0309136", "math/0309136"),
        ("math.GT/0309136v2", "math/0309136v2"),
        ("math.gt/0309136", "math/0309136"),
        ("cs.CR/0601001", "cs/0601001"),
        ("HEP-TH/9901001", "hep-th/9901001"),
        ("cond-mat/0703999", "cond-mat/0703999"),
        ("acc-phys/9107001", "acc-phys/9107001"),
        // prefixes
        ("arXiv:2107.00641", "2107.00641"),
        ("arxiv:2107.00641v1", "2107.00641v1"),
        ("ARXIV:hep-th/9901001", "hep-th/9901001"),
        ("arXiv: 2107.00641", "2107.00641"),
        ("arXiv:math.GT/0309136", "math/0309136"),
        // arxiv.org URLs
        ("https://arxiv.org/abs/2107.00641", "2107.00641"),
        ("http://arxiv.org/abs/2107.00641v3", "2107.00641v3"),
        ("arxiv.org/abs/2107.00641", "2107.00641"),
        ("www.arxiv.org/abs/2107.00641", "2107.00641"),
        ("HTTPS://WWW.ARXIV.ORG/ABS/2107.00641", "2107.00641"),
        ("https://export.arxiv.org/abs/2107.00641", "2107.00641"),
        ("https://arxiv.org/pdf/2107.00641", "2107.00641"),
        ("https://arxiv.org/pdf/2107.00641v2.pdf", "2107.00641v2"),
        ("https://arxiv.org/pdf/2107.00641.pdf", "2107.00641"),
        ("https://arxiv.org/html/2107.00641v1", "2107.00641v1"),
        ("https://arxiv.org/html/2107.00641v1/", "2107.00641v1"),
        ("https://arxiv.org/html/2107.00641v1#S2", "2107.00641v1"),
        ("https://arxiv.org/format/2107.00641", "2107.00641"),
        ("https://arxiv.org/abs/2107.00641/", "2107.00641"),
        ("https://arxiv.org/abs/2107.00641?context=cs", "2107.00641"),
        (
            "https://arxiv.org/abs/2107.00641v2?context=cs#S2",
            "2107.00641v2",
        ),
        ("<https://arxiv.org/abs/2107.00641>", "2107.00641"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001v2"),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
        (
            "https://arxiv.org/pdf/hep-th/9901001v2.pdf",
            "hep-th/9901001v2",
        ),
        // other hosts
        ("https://alphaxiv.org/abs/2107.00641", "2107.00641"),
        (
            "https://www.alphaxiv.org/overview/2107.00641v2",
            "2107.00641v2",
        ),
        ("https://huggingface.co/papers/2107.00641", "2107.00641"),
        ("https://hf.co/papers/2107.00641#community", "2107.00641"),
        ("https://doi.org/10.48550/arXiv.2107.00641", "2107.00641"),
        ("https://dx.doi.org/10.48550/arxiv.2107.00641", "2107.00641"),
        (
            "https://doi.org/10.48550/arXiv.hep-th/9901001",
            "hep-th/9901001",
        ),
        ("10.48550/arXiv.2107.00641", "2107.00641"),
        ("https://scirate.com/arxiv/2107.00641", "2107.00641"),
        ("https://ar5iv.labs.arxiv.org/html/2107.00641", "2107.00641"),
        ("https://ar5iv.org/abs/2107.00641v2", "2107.00641v2"),
    ];

    const INVALID: &[&str] = &[
        "",
        "   ",
        "<>",
        "not-an-id",
        "2107",
        "2107.",
        "2107.0064",              // 4 digits after 1501
        "2107.006410",            // 6 digits
        "1412.00001",             // 5 digits before 1501
        "0703.1234",              // before new style
        "0613.1234",              // month 13
        "2100.00001",             // month 00
        "2107.00000",             // number 0
        "2107.00641v0",           // version 0
        "2107.00641v01",          // leading zero
        "2107.00641v",            // empty version
        "2107.00641v99999999999", // overflow
        "2107.00641x",
        "2107.00641 2107.00642",
        "2107.00641.pdf",
        "x2107.00641",
        "hep-th/990100",   // 6 digits
        "hep-th/99010011", // 8 digits
        "hep-th/9013001",  // month 13
        "hep-th/9101001",  // before 9107
        "hep-th/0704001",  // after 0703
        "hep-th/9901000",  // number 0
        "foo-bar/9901001", // unknown archive
        "stat/0601001",    // no such legacy archive
        "math.GTX/0309136",
        "math./0309136",
        "math.G/0309136",
        "math.XX/0309136",   // no such category
        "hep-th.GT/9901001", // hep-th has no subject classes
        "/9901001",
        "arXiv:",
        "arXiv:not-an-id",
        "arXiv:https://arxiv.org/abs/2107.00641",
        "https://github.com/x/2107.00641",
        "https://arxiv.org/list/cs.LG/new",
        "https://arxiv.org/abs/",
        "https://arxiv.org/abs/2107.0064",
        "https://arxiv.org/abs/2107.00641/extra",
        "https://arxiv.org/abs/2107.00641.pdf",
        "https://arxiv.org/abs2107.00641",
        "https://notarxiv.org/abs/2107.00641",
        "https://arxiv.org.evil.com/abs/2107.00641",
        "https://evil.com/arxiv.org/abs/2107.00641",
        "ftp://arxiv.org/abs/2107.00641",
        "https://huggingface.co/2107.00641",
        "https://doi.org/10.1234/arXiv.2107.00641",
        "https://scirate.com/abs/2107.00641",
        "https://alphaxiv.org/pdf/2107.00641",
        "２１０７.００６４１",
        "2107.00641\u{0}",
        "🦀",
    ];

    #[test]
    fn valid_forms_parse_to_their_canonical_display() {
        for (input, want) in VALID {
            assert_eq!(id(input).to_string(), *want, "input {input:?}");
        }
    }

    #[test]
    fn invalid_forms_are_rejected() {
        for input in INVALID {
            assert!(
                ArxivId::parse(input).is_err(),
                "{input:?} should be rejected, got {:?}",
                ArxivId::parse(input)
            );
        }
    }

    #[test]
    fn from_url_accepts_only_links() {
        for (input, want) in VALID {
            let l = input.to_ascii_lowercase();
            let looks_like_link = l.contains(".org/") || l.contains(".co/") || l.contains(".com/");
            match ArxivId::from_url(input) {
                Some(found) => {
                    assert!(looks_like_link, "{input:?} is not a link");
                    assert_eq!(found.to_string(), *want);
                }
                None => assert!(!looks_like_link, "{input:?} should be accepted as a link"),
            }
        }
        for input in [
            "2107.00641",
            "arXiv:2107.00641",
            "10.48550/arXiv.2107.00641",
            "hep-th/9901001",
        ] {
            assert_eq!(ArxivId::from_url(input), None, "{input:?}");
        }
        for input in INVALID {
            assert_eq!(ArxivId::from_url(input), None, "{input:?}");
        }
    }

    #[test]
    fn error_message_is_helpful() {
        let err = ArxivId::parse("not-an-id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'not-an-id' is not an arXiv identifier (expected e.g. 2107.00641, hep-th/9901001 or an arxiv.org URL)"
        );
        let err = ArxivId::parse("2107.0064").unwrap_err();
        assert!(err.reason.contains("5 digits"), "{err}");
        let err = ArxivId::parse("1412.00001").unwrap_err();
        assert!(err.reason.contains("4 digits"), "{err}");
        let err = ArxivId::parse("foo-bar/9901001").unwrap_err();
        assert!(err.reason.contains("archive"), "{err}");
        let err = ArxivId::parse("https://arxiv.org/list/cs.LG/new").unwrap_err();
        assert!(
            err.reason.contains("does not point to an arXiv paper"),
            "{err}"
        );
    }

    #[test]
    fn error_echo_is_short_and_single_line() {
        let long = "x".repeat(10_000);
        let err = ArxivId::parse(&long).unwrap_err();
        assert_eq!(err.input.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(err.input.ends_with('…'));
        let err = ArxivId::parse("a\nb").unwrap_err();
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn accessors() {
        let a = id("math.GT/0309136v2");
        assert_eq!(a.key(), "math/0309136");
        assert_eq!(a.version(), Some(2));
        assert!(a.is_old_style());
        assert_eq!(a.archive(), Some("math"));
        assert_eq!(a.subject_class(), Some("GT"));
        assert_eq!(a.year_month(), (2003, 9));
        assert_eq!(format!("{a:?}"), "ArxivId(math.GT/0309136v2)");

        let b = id("2107.00641");
        assert_eq!(b.key(), "2107.00641");
        assert_eq!(b.version(), None);
        assert!(!b.is_old_style());
        assert_eq!(b.archive(), None);
        assert_eq!(b.subject_class(), None);
        assert_eq!(b.year_month(), (2021, 7));
        assert_eq!(id("hep-th/9901001").year_month(), (1999, 1));
        assert_eq!(id("hep-th/9901001").subject_class(), None);
    }

    #[test]
    fn versions() {
        let a = id("2107.00641v3");
        assert_eq!(a.versionless().to_string(), "2107.00641");
        assert_eq!(a.with_version(Some(7)).to_string(), "2107.00641v7");
        assert_eq!(a.with_version(Some(0)).version(), None);
        assert_ne!(a, a.versionless());
    }

    #[test]
    fn urls() {
        let a = id("2107.00641v2");
        assert_eq!(a.abs_url(), "https://arxiv.org/abs/2107.00641v2");
        assert_eq!(a.pdf_url(), "https://arxiv.org/pdf/2107.00641v2");
        assert_eq!(a.html_url(), "https://arxiv.org/html/2107.00641v2");
        let b = id("math.GT/0309136");
        assert_eq!(b.abs_url(), "https://arxiv.org/abs/math/0309136");
    }

    #[test]
    fn equality_ignores_subject_class() {
        use std::collections::hash_map::DefaultHasher;
        let a = id("math.GT/0309136");
        let b = id("math/0309136");
        assert_eq!(a, b);
        let h = |x: &ArxivId| {
            let mut h = DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        assert_eq!(h(&a), h(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
    }

    #[test]
    fn ordering_is_chronological() {
        let mut ids: Vec<ArxivId> = [
            "2107.00641v2",
            "1501.00001",
            "2107.00641",
            "math/0309136",
            "0704.0001",
            "hep-th/9901001",
            "acc-phys/9107001",
            "hep-th/0703001",
            "2107.00640",
            "1412.9999",
            "cond-mat/9901001",
        ]
        .iter()
        .map(|s| id(s))
        .collect();
        ids.sort();
        let got: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "acc-phys/9107001",
                "cond-mat/9901001",
                "hep-th/9901001",
                "math/0309136",
                "hep-th/0703001",
                "0704.0001",
                "1412.9999",
                "1501.00001",
                "2107.00640",
                "2107.00641",
                "2107.00641v2",
            ]
        );
    }

    #[test]
    fn serde_is_a_string() {
        let a = id("math.GT/0309136v2");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"math/0309136v2\"");
        let back: ArxivId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let escaped: ArxivId = serde_json::from_str("\"2107\\u002e00641\"").unwrap();
        assert_eq!(escaped.key(), "2107.00641");
        let err = serde_json::from_str::<ArxivId>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("not an arXiv identifier"), "{err}");
        assert!(serde_json::from_str::<ArxivId>("42").is_err());
    }

    #[test]
    fn from_str_matches_parse() {
        let a: ArxivId = "arXiv:2107.00641".parse().unwrap();
        assert_eq!(a, id("2107.00641"));
        assert!("nope".parse::<ArxivId>().is_err());
    }

    #[test]
    fn find_all_in_free_text() {
        let text = "New paper! https://arxiv.org/abs/2107.00641v2 (see also arXiv:hep-th/9901001, \
                    [pdf](https://arxiv.org/pdf/2107.00641v2.pdf), alphaxiv.org/abs/2401.04670). \
                    Same as arXiv: 2107.00641v2. DOI 10.48550/arXiv.2301.00001; \
                    hf: https://hf.co/papers/2310.12345#x and https://doi.org/10.48550/arXiv.2302.00002.";
        let got: Vec<String> = ArxivId::find_all(text)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "2107.00641v2",
                "hep-th/9901001",
                "2401.04670",
                "2301.00001",
                "2310.12345",
                "2302.00002",
            ]
        );
    }

    #[test]
    fn find_all_ignores_lookalikes() {
        for text in [
            "2107.00641 is bare",
            "https://github.com/x/2107.00641",
            "notarxiv.org/abs/2107.00641",
            "evil.arxiv.org/abs/2107.00641",
            "arxiv.org/abs/2509.1…",
            "arxiv.org/abs/2107.006412",
            "arXiv:2107.00641vx",
            "myarxiv:2107.00641",
            "https://arxiv.org/list/cs.LG/new",
            "",
        ] {
            assert_eq!(ArxivId::find_all(text), Vec::<ArxivId>::new(), "{text:?}");
        }
    }

    #[test]
    fn find_all_keeps_versions_apart_and_handles_subdomains() {
        let got = ArxivId::find_all(
            "ARXIV.ORG/ABS/2107.00641 https://export.arxiv.org/abs/2107.00641v1 \
             https://www.arxiv.org/abs/2107.00641 dx.doi.org/10.48550/arxiv.2107.00642",
        );
        let got: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["2107.00641", "2107.00641v1", "2107.00642"]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Generated new-style id text (yymm from 0704 to 9912, number with the right width).
        fn new_style() -> impl Strategy<Value = String> {
            (7u16..=99, 1u16..=12)
                .prop_filter("0704 onwards", |(yy, mm)| *yy > 7 || *mm >= 4)
                .prop_flat_map(|(yy, mm)| {
                    let yymm = yy * 100 + mm;
                    let max = if yymm <= 1412 { 9_999u32 } else { 99_999 };
                    (Just(yymm), 1..=max)
                })
                .prop_map(|(yymm, n)| {
                    if yymm <= 1412 {
                        format!("{yymm:04}.{n:04}")
                    } else {
                        format!("{yymm:04}.{n:05}")
                    }
                })
        }

        /// Generated old-style id text, sometimes with a subject class.
        fn old_style() -> impl Strategy<Value = String> {
            let yymm = prop_oneof![
                (91u16..=99, 1u16..=12).prop_filter("9107 on", |(y, m)| *y > 91 || *m >= 7),
                (0u16..=7, 1u16..=12).prop_filter("to 0703", |(y, m)| *y < 7 || *m <= 3),
            ];
            let archive = prop_oneof![
                proptest::sample::select(LEGACY_ARCHIVES).prop_map(|a| (a, "")),
                Just(("math", ".GT")),
                Just(("cs", ".CR")),
            ];
            (archive, yymm, 1u16..=999).prop_map(|((archive, sc), (yy, mm), n)| {
                format!("{archive}{sc}/{yy:02}{mm:02}{n:03}")
            })
        }

        fn any_id() -> impl Strategy<Value = ArxivId> {
            let version = prop_oneof![Just(String::new()), (1u32..).prop_map(|v| format!("v{v}"))];
            (prop_oneof![new_style(), old_style()], version).prop_map(|(base, v)| {
                let text = format!("{base}{v}");
                match ArxivId::parse(&text) {
                    Ok(id) => id,
                    Err(e) => panic!("generated {text:?} must parse: {e}"),
                }
            })
        }

        const URL_TEMPLATES: &[&str] = &[
            "https://arxiv.org/abs/{}",
            "http://www.arxiv.org/abs/{}/",
            "arxiv.org/abs/{}?context=cs",
            "https://export.arxiv.org/abs/{}#x",
            "https://arxiv.org/pdf/{}",
            "https://arxiv.org/pdf/{}.pdf",
            "https://arxiv.org/html/{}/",
            "https://arxiv.org/format/{}",
            "https://alphaxiv.org/abs/{}",
            "https://www.alphaxiv.org/overview/{}",
            "https://huggingface.co/papers/{}",
            "hf.co/papers/{}",
            "https://doi.org/10.48550/arXiv.{}",
            "https://dx.doi.org/10.48550/arXiv.{}",
            "https://scirate.com/arxiv/{}",
            "<https://arxiv.org/abs/{}>",
        ];

        proptest! {
            #[test]
            fn display_round_trips(a in any_id()) {
                let shown = a.to_string();
                prop_assert_eq!(ArxivId::parse(&shown).ok(), Some(a.clone()));
                prop_assert_eq!(ArxivId::parse(&format!("arXiv:{shown}")).ok(), Some(a.clone()));
                prop_assert_eq!(ArxivId::parse(&a.abs_url()).ok(), Some(a));
            }

            #[test]
            fn every_url_form_parses_back(a in any_id(), t in proptest::sample::select(URL_TEMPLATES)) {
                let url = t.replace("{}", &a.to_string());
                prop_assert_eq!(ArxivId::from_url(&url), Some(a.clone()), "{}", url);
                prop_assert_eq!(ArxivId::parse(&url).ok(), Some(a.clone()), "{}", url);
                let text = format!("look: {url}, nice");
                prop_assert_eq!(ArxivId::find_all(&text), vec![a], "{}", text);
            }

            #[test]
            fn parse_never_panics_and_from_url_is_a_subset(s in "\\PC{0,60}") {
                let parsed = ArxivId::parse(&s);
                if let Some(u) = ArxivId::from_url(&s) {
                    prop_assert_eq!(parsed.ok(), Some(u));
                }
                let _ = ArxivId::find_all(&s);
            }

            #[test]
            fn near_misses_never_panic(s in "(https?://)?(www\\.)?(export\\.)?(arxiv\\.org|hf\\.co|doi\\.org)/(abs|pdf|papers|10\\.48550/arXiv\\.)?/?[a-z.-]{0,9}/?[0-9.v]{0,14}(\\.pdf)?[/?#]?") {
                let parsed = ArxivId::parse(&s);
                if let Some(u) = ArxivId::from_url(&s) {
                    prop_assert_eq!(parsed.as_ref().ok(), Some(&u));
                }
                if let Ok(id) = parsed {
                    prop_assert_eq!(ArxivId::parse(&id.to_string()).ok(), Some(id));
                }
                let _ = ArxivId::find_all(&s);
            }
        }
    }
}
