//! The daily post's digest: what a subscribed channel gets for a mailing.
//!
//! `/preview` and the Discord scheduler both call [`App::subscription_digest`], so a preview is
//! exactly what the channel will get.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::digest::Digest;
use crate::progress::NoProgress;
use crate::subscription::{self, DEFAULT_MIN_AGE, Subscription};

use super::{App, AppError, DigestRequest, LlmUse};

impl App {
    /// The digest a post of `sub` shows for `mailing`: its categories (or the configured
    /// ones), its count, its minimum score.
    pub async fn subscription_digest(
        &self,
        sub: &Subscription,
        mailing: NaiveDate,
    ) -> Result<Digest, AppError> {
        let req = DigestRequest {
            date: Some(mailing),
            top: Some(usize::from(sub.count)),
            categories: sub.categories.clone(),
            trending_days: None,
            // Due now: the LLM's cache only, filled ahead by `prepare_summaries`.
            llm: LlmUse::CacheOnly,
        };
        let mut digest = self.digest(&req, &NoProgress).await?;
        digest.retain_min_score(sub.min_score);
        Ok(digest)
    }

    /// The configured `[discord] min_age` as a chrono duration (saturating; validation bounds
    /// it).
    pub fn post_min_age(&self) -> Duration {
        Duration::from_std(self.config().discord.min_age).unwrap_or(DEFAULT_MIN_AGE)
    }

    /// The listing date of the mailing a post of `sub` firing at `fire_at` shows, as of `now`
    /// (see [`subscription::mailing_for_post`]).
    pub fn mailing_for_post(&self, now: DateTime<Utc>, fire_at: DateTime<Utc>) -> NaiveDate {
        subscription::mailing_for_post(self.calendar(), now, fire_at, self.post_min_age())
    }
}
