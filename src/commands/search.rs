//! `/search <query> [limit]`: full-text search over stored papers.

use crate::app::App;

use super::request::{self, RequestError};
use super::spec::{CommandSpec, OptionKind, OptionSpec};
use super::{Args, Command, CommandError, Context, Reply};

/// How many hits `/search` returns unless asked otherwise.
pub const DEFAULT_SEARCH_LIMIT: u8 = 10;

/// The most hits `/search` returns.
pub const MAX_SEARCH_LIMIT: u8 = 25;

/// The longest search query accepted (characters); the store uses only its first 16 words.
pub const MAX_QUERY_CHARS: usize = 300;

/// `/search`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// User text, trimmed: a valid query in the search syntax
    /// ([`SearchQuery`](crate::store::SearchQuery): words, "phrases", prefix*, AND, OR, NOT,
    /// parentheses).
    pub query: String,
    /// 1..=25 hits.
    pub limit: u8,
}

impl Search {
    /// From the query and limit as typed.
    pub fn new(query: &str, limit: Option<i64>) -> Result<Search, RequestError> {
        let query = query.trim();
        let chars = query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(RequestError::QueryTooLong(chars));
        }
        if !query.chars().any(char::is_alphanumeric) {
            return Err(RequestError::EmptyQuery);
        }
        match crate::store::SearchQuery::parse(query) {
            Ok(_) => {}
            Err(crate::store::QueryError::Empty) => return Err(RequestError::EmptyQuery),
            Err(e) => return Err(RequestError::BadQuery(e)),
        }
        let limit = match limit {
            Some(l) => request::parse_bounded("limit", l, 1, MAX_SEARCH_LIMIT)?,
            None => DEFAULT_SEARCH_LIMIT,
        };
        Ok(Search {
            query: query.to_string(),
            limit,
        })
    }
}

impl Command for Search {
    const SPEC: CommandSpec = CommandSpec {
        name: "search",
        description: "Full-text search over the papers the bot has stored",
        summary: "full-text search over stored papers",
        options: &[
            OptionSpec {
                name: "query",
                kind: OptionKind::Text {
                    min_len: 0,
                    max_len: MAX_QUERY_CHARS as u16,
                },
                required: true,
                complete: None,
                description: "Words to find in titles, abstracts, authors; \"phrases\", prefix*, OR, NOT",
                help: "words that must all appear in the title, abstract or authors; \"a phrase\", prefix* (vis*), a OR b, a NOT b, ( )",
                example: "\"diffusion models\"",
            },
            OptionSpec {
                name: "limit",
                kind: OptionKind::Integer {
                    min: 1,
                    max: MAX_SEARCH_LIMIT as i64,
                },
                required: false,
                complete: None,
                description: "How many hits, 1-25 (default: 10)",
                help: "how many hits, 1-25",
                example: "10",
            },
        ],
        admin: false,
        rest_is_text: true,
    };

    fn parse(args: &Args) -> Result<Search, RequestError> {
        Search::new(args.required_text("query")?, args.integer("limit")?)
    }

    async fn run(self, app: &App, _ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let (hits, total) = app.search(&self.query, usize::from(self.limit)).await?;
        Ok(Reply::Search {
            query: self.query,
            hits,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_need_a_word_and_limits_are_bounded() {
        assert_eq!(Search::new("  \"*\" ", None), Err(RequestError::EmptyQuery));
        assert_eq!(
            Search::new("diffusion models", None),
            Ok(Search {
                query: "diffusion models".into(),
                limit: DEFAULT_SEARCH_LIMIT
            })
        );
        assert!(Search::new(&"a".repeat(301), None).is_err());
        assert!(Search::new("x", Some(26)).is_err());
        assert!(Search::new("transformer OR attention", None).is_ok());
        assert_eq!(
            Search::new("\"diffusion models", None),
            Err(RequestError::BadQuery(
                crate::store::QueryError::UnclosedQuote
            ))
        );
        let e = Search::new("NOT vision", None).unwrap_err().to_string();
        assert!(e.contains("NOT needs a word before it"), "{e}");
    }
}
