//! `/categories [group]`: the taxonomy with paper counts of the latest mailing.

use crate::app::App;
use crate::arxiv::taxonomy::Group;

use super::request::{self, RequestError};
use super::spec::{Choice, CommandSpec, OptionKind, OptionSpec};
use super::{Args, Command, CommandError, Context, Reply};

/// `/categories`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Categories {
    /// Only this group's categories; `None` for all.
    pub group: Option<Group>,
}

impl Categories {
    /// From the group as typed (`cs`, `q-bio`, any case).
    pub fn new(group: Option<&str>) -> Result<Categories, RequestError> {
        Ok(Categories {
            group: group.map(request::parse_group).transpose()?,
        })
    }
}

fn groups() -> Vec<Choice> {
    Group::ALL
        .iter()
        .map(|g| Choice {
            label: format!("{} ({})", g.name(), g.id()),
            value: g.id(),
        })
        .collect()
}

impl Command for Categories {
    const SPEC: CommandSpec = CommandSpec {
        name: "categories",
        description: "arXiv categories with their paper counts in the latest mailing",
        summary: "the arXiv categories with paper counts of the latest mailing",
        options: &[OptionSpec {
            name: "group",
            kind: OptionKind::Choice(groups),
            required: false,
            complete: None,
            description: "Only this group's categories (default: all groups)",
            help: "only one group: physics, math, cs, q-bio, q-fin, stat, eess, econ",
            example: "cs",
        }],
        admin: false,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Categories, RequestError> {
        Categories::new(args.text("group")?)
    }

    async fn run(self, app: &App, _ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let (rows, date) = app.category_counts(self.group).await?;
        Ok(Reply::Categories {
            rows,
            date,
            group: self.group,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_eight_of_arxiv() {
        assert_eq!(groups().len(), 8);
        assert_eq!(
            Categories::new(Some("Q-BIO")).map(|c| c.group),
            Ok(Some(Group::QBio))
        );
        assert!(Categories::new(Some("biology")).is_err());
    }
}
