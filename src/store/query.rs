//! The `/search` query language, parsed and checked before any backend sees it.
//!
//! It is SQLite FTS5's own syntax, minus column filters and `NEAR`:
//!
//! - words: `diffusion models` (every word must match; words are stemmed, case and
//!   diacritics ignored);
//! - `"a phrase"`: its words next to each other, in order;
//! - a prefix: `vis*` (vision, visual, …), also after a phrase (`"graph neur"*`);
//! - `AND` (the default between words), `OR`, `NOT` (binary: `transformer NOT vision`), in
//!   capitals only (`or` is a word); `NOT` binds tightest, then `AND`, then `OR`;
//! - parentheses for grouping: `(vision OR language) transformer`.
//!
//! Everything else is text: `title:foo` is the two words `title foo` next to each other,
//! `NEAR(a b)` the words `NEAR`, `a`, `b`; punctuation alone (`-`, `+`, `^`) is not a word.
//! A query that breaks the rules (an unclosed quote, `OR` with nothing on one side, a leading
//! `NOT`, unbalanced parentheses) is a [`QueryError`] that says what to fix: a backend only
//! ever receives a valid [`SearchQuery`], so user text can never be a syntax error there.

/// At most this many words and phrases in one query, bounding the cost of one search.
pub const MAX_SEARCH_TERMS: usize = 16;

/// At most this many nested parentheses.
const MAX_DEPTH: usize = 8;

/// A parsed search query: a tree of words and phrases joined by operators.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchQuery {
    /// A word, or the words of a phrase next to each other, in order; `prefix` makes its
    /// last word match as a prefix. The text is as typed (a backend tokenizes it).
    Text {
        /// The word or the phrase's text, without quotes, with at least one letter or digit.
        text: String,
        /// Whether its last word matches as a prefix (`vis*`).
        prefix: bool,
    },
    /// Every part matches.
    And(Vec<SearchQuery>),
    /// At least one part matches.
    Or(Vec<SearchQuery>),
    /// The first matches and the second does not.
    Not(Box<SearchQuery>, Box<SearchQuery>),
}

/// Why a search query cannot be run, in words that say how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing searchable: no word with a letter or digit.
    #[error("the search query needs at least one word with a letter or digit")]
    Empty,
    /// A `"` without its closing `"`.
    #[error("the search query has an unclosed \"; a phrase is written \"two words\"")]
    UnclosedQuote,
    /// A `(` without `)`, or the other way round.
    #[error("the search query's parentheses do not match")]
    Unbalanced,
    /// `()` or `( OR )`: a group with nothing in it.
    #[error("the search query has an empty ( ) group")]
    EmptyGroup,
    /// `AND` or `OR` without a word on one side.
    #[error("{0} needs a word on each side, e.g. transformer {0} attention")]
    MissingOperand(&'static str),
    /// `NOT` at the start of the query or of a group (FTS5's `NOT` is binary).
    #[error("NOT needs a word before it, e.g. transformer NOT vision")]
    NotWithoutLeft,
    /// More than [`MAX_SEARCH_TERMS`] words and phrases.
    #[error("the search query has {0} words and phrases; at most 16")]
    TooManyTerms(usize),
    /// Parentheses nested more than 8 deep.
    #[error("the search query nests parentheses more than 8 deep")]
    TooDeep,
}

/// One token of the query text.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A word (or `prefix` word) with at least one letter or digit.
    Text {
        text: String,
        prefix: bool,
    },
    And,
    Or,
    Not,
    Open,
    Close,
}

impl SearchQuery {
    /// Parses user text (see the module documentation). Control characters are ignored.
    pub fn parse(input: &str) -> Result<SearchQuery, QueryError> {
        let tokens = tokenize(input)?;
        let terms = tokens
            .iter()
            .filter(|t| matches!(t, Token::Text { .. }))
            .count();
        if terms == 0 {
            return Err(QueryError::Empty);
        }
        if terms > MAX_SEARCH_TERMS {
            return Err(QueryError::TooManyTerms(terms));
        }
        let mut p = Parser { tokens, pos: 0 };
        let q = p.or(0)?;
        // `or` stops only at the end or at a `)` that opened nothing.
        match p.peek() {
            None => Ok(q),
            Some(_) => Err(QueryError::Unbalanced),
        }
    }

    /// The words and phrases of the query, in order (for highlighting, logs).
    pub fn terms(&self) -> Vec<&str> {
        match self {
            SearchQuery::Text { text, .. } => vec![text.as_str()],
            SearchQuery::And(parts) | SearchQuery::Or(parts) => {
                parts.iter().flat_map(SearchQuery::terms).collect()
            }
            SearchQuery::Not(a, b) => {
                let mut out = a.terms();
                out.extend(b.terms());
                out
            }
        }
    }
}

/// Splits the text into words, phrases, operators and parentheses.
fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = input.chars().filter(|c| !c.is_control()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    let prefix_at = |i: usize| chars.get(i) == Some(&'*');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else if c == '"' {
            let Some(len) = chars[i + 1..].iter().position(|&c| c == '"') else {
                return Err(QueryError::UnclosedQuote);
            };
            let text: String = chars[i + 1..i + 1 + len].iter().collect();
            i += len + 2;
            let prefix = prefix_at(i);
            if prefix {
                i += 1;
            }
            // A phrase of punctuation only matches nothing; it is not a term.
            if text.chars().any(char::is_alphanumeric) {
                out.push(Token::Text {
                    text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                    prefix,
                });
            }
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let (word, prefix) = match word.strip_suffix('*') {
                Some(w) => (w.trim_end_matches('*').to_string(), true),
                None => (word, false),
            };
            match word.as_str() {
                "AND" if !prefix => out.push(Token::And),
                "OR" if !prefix => out.push(Token::Or),
                "NOT" if !prefix => out.push(Token::Not),
                w if w.chars().any(char::is_alphanumeric) => out.push(Token::Text {
                    text: w.to_string(),
                    prefix,
                }),
                // Punctuation alone (`-`, `*`, `^`) is not a word.
                _ => {}
            }
        }
    }
    Ok(out)
}

/// A recursive-descent parser over the tokens: `or := and (OR and)*`,
/// `and := not ([AND] not)*`, `not := primary (NOT primary)*`, `primary := text | ( or )`.
struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self, depth: usize) -> Result<SearchQuery, QueryError> {
        let mut parts = vec![self.and(depth, "OR")?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and(depth, "OR")?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            SearchQuery::Or(parts)
        })
    }

    /// `after`: the operator before this operand, for the error when it is missing.
    fn and(&mut self, depth: usize, after: &'static str) -> Result<SearchQuery, QueryError> {
        let mut parts = vec![self.not(depth, after)?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.pos += 1;
                    parts.push(self.not(depth, "AND")?);
                }
                Some(Token::Text { .. } | Token::Open) => parts.push(self.not(depth, "AND")?),
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            SearchQuery::And(parts)
        })
    }

    fn not(&mut self, depth: usize, after: &'static str) -> Result<SearchQuery, QueryError> {
        let mut q = self.primary(depth, after)?;
        while self.peek() == Some(&Token::Not) {
            self.pos += 1;
            let rhs = self.primary(depth, "NOT")?;
            q = SearchQuery::Not(Box::new(q), Box::new(rhs));
        }
        Ok(q)
    }

    fn primary(&mut self, depth: usize, after: &'static str) -> Result<SearchQuery, QueryError> {
        let at_start = self.pos == 0 || self.tokens.get(self.pos - 1) == Some(&Token::Open);
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Text { text, prefix }) => {
                self.pos += 1;
                Ok(SearchQuery::Text { text, prefix })
            }
            Some(Token::Open) => {
                if depth >= MAX_DEPTH {
                    return Err(QueryError::TooDeep);
                }
                self.pos += 1;
                if self.peek() == Some(&Token::Close) {
                    return Err(QueryError::EmptyGroup);
                }
                let q = self.or(depth + 1)?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError::Unbalanced);
                }
                self.pos += 1;
                Ok(q)
            }
            // `NOT` is binary: `a NOT b`, never `NOT b` nor `a AND NOT b`.
            Some(Token::Not) => Err(QueryError::NotWithoutLeft),
            Some(Token::And) if at_start => Err(QueryError::MissingOperand("AND")),
            Some(Token::Or) if at_start => Err(QueryError::MissingOperand("OR")),
            Some(Token::Close) if at_start => Err(QueryError::EmptyGroup),
            // An operator where a word should be, or the end: the previous operator lacks
            // its right-hand side.
            _ => Err(QueryError::MissingOperand(after)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> SearchQuery {
        SearchQuery::Text {
            text: t.into(),
            prefix: false,
        }
    }

    fn prefix(t: &str) -> SearchQuery {
        SearchQuery::Text {
            text: t.into(),
            prefix: true,
        }
    }

    #[test]
    fn fts5_syntax_parses() {
        let p = |s: &str| SearchQuery::parse(s).unwrap();
        assert_eq!(p("transformer"), text("transformer"));
        assert_eq!(
            p("graph neural"),
            SearchQuery::And(vec![text("graph"), text("neural")])
        );
        assert_eq!(
            p("transformer OR attention"),
            SearchQuery::Or(vec![text("transformer"), text("attention")])
        );
        assert_eq!(p("vis*"), prefix("vis"));
        assert_eq!(p("\"graph  neur\"*"), prefix("graph neur"));
        assert_eq!(
            p("a AND b OR c d NOT e"),
            SearchQuery::Or(vec![
                SearchQuery::And(vec![text("a"), text("b")]),
                SearchQuery::And(vec![
                    text("c"),
                    SearchQuery::Not(Box::new(text("d")), Box::new(text("e")))
                ]),
            ])
        );
        assert_eq!(
            p("(vision OR language) transformer"),
            SearchQuery::And(vec![
                SearchQuery::Or(vec![text("vision"), text("language")]),
                text("transformer")
            ])
        );
        // Lower-case operators, column filters, NEAR and punctuation are text.
        assert_eq!(
            p("cats or dogs"),
            SearchQuery::And(vec![text("cats"), text("or"), text("dogs")])
        );
        assert_eq!(p("title:foo"), text("title:foo"));
        assert_eq!(p("- protein +"), text("protein"));
        assert_eq!(p("\u{7}x\u{1b}"), text("x"));
        assert_eq!(
            p("NEAR(a b)"),
            SearchQuery::And(vec![
                text("NEAR"),
                SearchQuery::And(vec![text("a"), text("b")])
            ])
        );
    }

    #[test]
    fn broken_queries_say_what_to_fix() {
        let e = |s: &str| SearchQuery::parse(s).unwrap_err();
        assert_eq!(e(""), QueryError::Empty);
        assert_eq!(e("  - * \" \" "), QueryError::Empty);
        assert_eq!(e("\"diffusion models"), QueryError::UnclosedQuote);
        assert_eq!(e("protein OR"), QueryError::MissingOperand("OR"));
        assert_eq!(e("OR protein"), QueryError::MissingOperand("OR"));
        assert_eq!(e("protein AND"), QueryError::MissingOperand("AND"));
        assert_eq!(e("a AND OR b"), QueryError::MissingOperand("AND"));
        assert_eq!(e("NOT protein"), QueryError::NotWithoutLeft);
        assert_eq!(e("a (NOT b)"), QueryError::NotWithoutLeft);
        assert_eq!(e("a NOT"), QueryError::MissingOperand("NOT"));
        assert_eq!(e("a AND NOT b"), QueryError::NotWithoutLeft);
        assert_eq!(e("(protein"), QueryError::Unbalanced);
        assert_eq!(e("protein)"), QueryError::Unbalanced);
        assert_eq!(e("a () b"), QueryError::EmptyGroup);
        assert_eq!(e(&"w ".repeat(17)), QueryError::TooManyTerms(17));
        assert_eq!(
            e(&format!("{}x{}", "(".repeat(9), ")".repeat(9))),
            QueryError::TooDeep
        );
        for err in [QueryError::MissingOperand("OR"), QueryError::UnclosedQuote] {
            assert!(!err.to_string().contains('\n'));
        }
    }
}
