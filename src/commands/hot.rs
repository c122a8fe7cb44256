//! `/hot [category] [count] [date] [view]`: the ranked papers of a mailing.

use chrono::NaiveDate;

use crate::app::{App, DigestRequest, LlmUse};
use crate::progress::NoProgress;

use super::handle::default_count;
use super::reply::{HOT_PAGE_SIZE, page_count};
use super::request::{self, RequestError, echo};
use super::spec::{Choice, CommandSpec, Completion, OptionKind, OptionSpec, count_option, text};
use super::{Args, Command, CommandError, Context, Reply};

/// Longest category filter a user can type (`cond-mat.stat-mech` is 18 characters).
pub const CATEGORY_MAX_LENGTH: u16 = 32;

/// `/hot`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Hot {
    /// A canonical category filter (`cs.LG`, `math.*`, `physics`); `None` for the configured
    /// categories.
    pub category: Option<String>,
    /// 1..=25; `None` for `[digest] top` (at most 25).
    pub count: Option<u8>,
    /// The mailing's listing date; `None` for the latest announced one.
    pub date: Option<NaiveDate>,
    /// One mailing, or trending over recent days.
    pub view: HotView,
    /// 0-based page of the answer (Discord's Prev/Next buttons); the console shows all.
    pub page: usize,
}

/// Which ranking `/hot` shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HotView {
    /// One mailing, ranked by the attention measured so far.
    #[default]
    Mailing,
    /// The papers of the last `[ranking] trending_days` days, scores decayed by age.
    Trending,
}

impl HotView {
    /// The option value users type (`mailing`, `trending`).
    pub fn as_str(self) -> &'static str {
        match self {
            HotView::Mailing => "mailing",
            HotView::Trending => "trending",
        }
    }

    /// `mailing` or `trending`, case-insensitively.
    pub fn parse(s: &str) -> Result<HotView, RequestError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("mailing") {
            Ok(HotView::Mailing)
        } else if t.eq_ignore_ascii_case("trending") {
            Ok(HotView::Trending)
        } else {
            Err(RequestError::BadView(echo(s)))
        }
    }
}

fn views() -> Vec<Choice> {
    vec![
        Choice {
            label: "mailing: one mailing".into(),
            value: "mailing",
        },
        Choice {
            label: "trending: recent days, older papers decay".into(),
            value: "trending",
        },
    ]
}

impl Hot {
    /// `/hot` from its values as typed, page 0.
    pub fn new(
        category: Option<&str>,
        count: Option<i64>,
        date: Option<&str>,
        view: Option<&str>,
    ) -> Result<Hot, RequestError> {
        Ok(Hot {
            category: category.map(request::parse_category).transpose()?,
            count: count
                .map(|c| request::parse_count("count", c))
                .transpose()?,
            date: date.map(request::parse_date).transpose()?,
            view: view.map(HotView::parse).transpose()?.unwrap_or_default(),
            page: 0,
        })
    }
}

impl Command for Hot {
    const SPEC: CommandSpec = CommandSpec {
        name: "hot",
        description: "The hottest new arXiv papers of a mailing, ranked by attention",
        summary: "the ranked papers of a mailing",
        options: &[
            OptionSpec {
                name: "category",
                kind: text(0, CATEGORY_MAX_LENGTH),
                required: false,
                complete: Some(Completion::Category),
                description: "Category, archive or group, e.g. cs.LG, math.*, physics (default: the bot's)",
                help: "a category, archive (cs) or group (physics); default: the configured ones",
                example: "cs.LG",
            },
            count_option(
                "How many papers, 1-25 (default: the bot's setting)",
                "how many papers, 1-25; default: [digest] top",
            ),
            OptionSpec {
                name: "date",
                kind: text(10, 10),
                required: false,
                complete: None,
                description: "Mailing listing date, YYYY-MM-DD, e.g. 2021-07-02 (default: the latest)",
                help: "the mailing's listing date; default: the latest",
                example: "2021-07-02",
            },
            OptionSpec {
                name: "view",
                kind: OptionKind::Choice(views),
                required: false,
                complete: None,
                description: "One mailing, or trending over the last days (default: mailing)",
                help: "mailing (one mailing) or trending (recent days, decayed by age)",
                example: "mailing",
            },
        ],
        admin: false,
        rest_is_text: false,
    };

    fn parse(args: &Args) -> Result<Hot, RequestError> {
        Hot::new(
            args.text("category")?,
            args.integer("count")?,
            args.text("date")?,
            args.text("view")?,
        )
    }

    async fn run(self, app: &App, _ctx: &Context<'_>) -> Result<Reply, CommandError> {
        let count = self.count.unwrap_or_else(|| default_count(app));
        let req = DigestRequest {
            date: self.date,
            top: Some(usize::from(count)),
            categories: self.category.into_iter().collect(),
            trending_days: match self.view {
                HotView::Mailing => None,
                HotView::Trending => Some(0),
            },
            llm: LlmUse::Ask,
        };
        let digest = app.digest(&req, &NoProgress).await?;
        let page = self
            .page
            .min(page_count(digest.entries.len(), HOT_PAGE_SIZE) - 1);
        Ok(Reply::Digest {
            digest: Box::new(digest),
            page,
            per_page: HOT_PAGE_SIZE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated() {
        assert_eq!(
            Hot::new(Some("cs.lg"), Some(3), Some("2021-07-02"), None),
            Ok(Hot {
                category: Some("cs.LG".into()),
                count: Some(3),
                date: NaiveDate::from_ymd_opt(2021, 7, 2),
                view: HotView::Mailing,
                page: 0,
            })
        );
        assert!(Hot::new(None, Some(0), None, None).is_err());
        assert_eq!(HotView::parse("Trending"), Ok(HotView::Trending));
        assert!(matches!(
            HotView::parse("hot"),
            Err(RequestError::BadView(_))
        ));
    }
}
