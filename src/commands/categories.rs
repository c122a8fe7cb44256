//! `/categories [group] [date]`: the categories with papers in a mailing, with their counts.

use chrono::NaiveDate;

use crate::app::App;
use crate::arxiv::taxonomy::Group;

use super::request::{self, RequestError};
use super::spec::{Choice, CommandSpec, OptionKind, OptionSpec, text};
use super::{Args, Command, CommandError, Context, Reply};

/// `/categories`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Categories {
    /// Only this group's categories; `None` for all.
    pub group: Option<Group>,
    /// The mailing's listing date; `None` for the latest stored mailing with papers.
    pub date: Option<NaiveDate>,
}

impl Categories {
    /// From the group as typed (`cs`, `q-bio`, any case), without a date.
    pub fn new(group: Option<&str>) -> Result<Categories, RequestError> {
        Categories::with_date(group, None)
    }

    /// From the group and the date as typed.
    pub fn with_date(group: Option<&str>, date: Option<&str>) -> Result<Categories, RequestError> {
        Ok(Categories {
            group: group.map(request::parse_group).transpose()?,
            date: date.map(request::parse_date).transpose()?,
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
        description: "arXiv categories with papers in a mailing, with their counts",
        summary: "the arXiv categories with papers in a mailing, with counts",
        options: &[
            OptionSpec {
                name: "group",
                kind: OptionKind::Choice(groups),
                required: false,
                complete: None,
                description: "Only this group's categories (default: all groups)",
                help: "only one group: physics, math, cs, q-bio, q-fin, stat, eess, econ",
                example: "cs",
            },
            OptionSpec {
                name: "date",
                kind: text(10, 10),
                required: false,
                complete: None,
                description: "Mailing listing date, YYYY-MM-DD, e.g. 2021-07-02 (default: the latest stored)",
                help: "the mailing's listing date; default: the latest stored mailing with papers",
                example: "2021-07-02",
            },
        ],
        admin: false,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Categories, RequestError> {
        Categories::with_date(args.text("group")?, args.text("date")?)
    }

    async fn run(self, app: &App, _ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let (rows, date) = app.category_counts(self.group, self.date).await?;
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
        assert_eq!(
            Categories::with_date(None, Some("2021-07-02")).map(|c| c.date),
            Ok(NaiveDate::from_ymd_opt(2021, 7, 2))
        );
        assert!(Categories::with_date(None, Some("07/02/2021")).is_err());
    }
}
