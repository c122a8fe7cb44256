//! `/paper <id or URL>`: everything known about one paper.

use crate::app::App;
use crate::arxiv::ArxivId;

use super::request::RequestError;
use super::spec::{CommandSpec, OptionKind, OptionSpec};
use super::{Args, Command, CommandError, Context, Reply};

/// Longest `/paper` input: an id or an arXiv / ar5iv URL.
pub const PAPER_MAX_LENGTH: u16 = 200;

/// `/paper`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Paper {
    /// The paper, with the version if one was given (a newer one than stored refetches).
    pub id: ArxivId,
}

impl Paper {
    /// Any id or URL form [`ArxivId::parse`] accepts.
    pub fn new(input: &str) -> Result<Paper, RequestError> {
        Ok(Paper {
            id: ArxivId::parse(input)?,
        })
    }
}

impl Command for Paper {
    const SPEC: CommandSpec = CommandSpec {
        name: "paper",
        description: "Everything known about one arXiv paper: card, attention, links",
        summary: "everything known about one paper",
        options: &[OptionSpec {
            name: "id",
            kind: OptionKind::Id {
                max_len: PAPER_MAX_LENGTH,
            },
            required: true,
            complete: None,
            description: "arXiv id or URL, e.g. 2107.00630 or https://arxiv.org/abs/2107.00630",
            help: "an arXiv id or URL",
            example: "2107.00630",
        }],
        admin: false,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Paper, RequestError> {
        Paper::new(args.required_text("id")?)
    }

    async fn run(self, app: &App, _ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let card = app.paper(&self.id.to_string()).await?;
        Ok(Reply::Paper(Box::new(card)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_id_form_is_accepted_and_junk_refused() {
        assert!(Paper::new("not-an-id").is_err());
        let p = Paper::new("https://arxiv.org/abs/2107.00630v2").unwrap();
        assert_eq!(p.id.key(), "2107.00630");
    }
}
