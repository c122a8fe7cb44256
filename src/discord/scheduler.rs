//! The daily posts: each active subscription gets its digest at its local time, exactly once
//! per (channel, mailing), catching up after downtime within a grace period.
//!
//! The decisions are platform-neutral (subscriptions, the mailing calendar, the post log);
//! only sending uses serenity's REST client, through [`Deliverer`]. One pass ([`Scheduler::tick`])
//! looks at every active subscription at `now`:
//!
//! 1. its latest firing at or before `now` ([`Subscription::previous_fire`]); a firing before
//!    the subscription was created does not count (subscribing at 10:00 for 08:00 waits for
//!    tomorrow);
//! 2. the mailing that firing shows ([`mailing_for_post`], with `min_age`); when the post log
//!    says that mailing was sent to the channel, nothing happens; this is also why the days
//!    after a weekend post nothing new;
//! 3. a firing missed by more than `grace_period` is skipped with one log line;
//! 4. otherwise the digest (built exactly as `/preview` builds it) is delivered. A 403 or a
//!    deleted channel disables the subscription with a reason `/subscriptions` shows; other
//!    failures are retried on a later pass while within the grace period.
//!
//! Due posts run concurrently, at most `parallel` at once, on their own tasks; the loop
//! ([`Scheduler::run`]) is itself a separate task, so command handling never waits for it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serenity::http::Http;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use super::delivery::{Deliverer, Delivery, DeliveryError, Target};
use super::post::{PostError, nonce};
use super::rest::Rest;
use crate::app::App;
use crate::config::DiscordConfig;
use crate::store::PostState;
use crate::subscription::{DEFAULT_MIN_AGE, Subscription, mailing_for_post};

/// Longest single sleep of the loop: waking every few minutes survives wall-clock jumps and
/// suspends (the next firing is recomputed on each wake) and retries failed posts.
pub const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// How long before a post its LLM summaries are prepared (when an LLM is configured): the post
/// itself only reads the LLM's cache, so it is never late waiting for one. Longer than
/// [`MAX_SLEEP`], so a pass always falls inside the window.
pub const SUMMARY_LEAD: Duration = Duration::minutes(15);

/// How long posts in flight at shutdown may take to finish; the rest are abandoned (their post
/// log rows stay `sending` and are resumed on the next start).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The scheduler's settings (`[discord]` in the config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerOptions {
    /// How late a missed post may still go out.
    pub grace_period: Duration,
    /// How old a mailing must be before it is posted.
    pub min_age: Duration,
    /// Most posts sent at once.
    pub parallel: usize,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions::from_config(&DiscordConfig::default())
    }
}

impl SchedulerOptions {
    /// The options of a (validated) `[discord]` section.
    pub fn from_config(c: &DiscordConfig) -> SchedulerOptions {
        SchedulerOptions {
            grace_period: Duration::from_std(c.grace_period).unwrap_or(Duration::hours(6)),
            min_age: Duration::from_std(c.min_age).unwrap_or(DEFAULT_MIN_AGE),
            parallel: c.parallel_posts.max(1),
        }
    }
}

/// What one pass did for one subscription (passes report only subscriptions they acted on).
#[derive(Clone, Debug, PartialEq)]
pub struct FireOutcome {
    /// The subscription's store id.
    pub subscription_id: i64,
    /// Its channel.
    pub channel_id: u64,
    /// The firing this was about.
    pub fire_at: DateTime<Utc>,
    /// The mailing that firing shows.
    pub mailing: NaiveDate,
    /// What happened.
    pub result: FireResult,
}

/// The result of acting on one firing.
#[derive(Clone, Debug, PartialEq)]
pub enum FireResult {
    /// Posted now (or an interrupted post completed).
    Posted(Delivery),
    /// Missed by more than the grace period: not posted (reported once per firing).
    Skipped {
        /// How late it was when noticed.
        late_by: Duration,
    },
    /// Discord refused for good (403, deleted channel): the subscription is disabled.
    Disabled {
        /// The reason stored for `/subscriptions`.
        reason: String,
    },
    /// Failed this time; a later pass retries while within the grace period.
    Failed {
        /// One line, for the log.
        error: String,
    },
    /// No paper passed the subscription's categories and `min_score` (a quiet day): nothing
    /// was posted, and the post log records the mailing as done so it is not retried.
    Quiet,
    /// Shutdown came before the post started.
    Abandoned,
}

/// Posts the daily digests. Create one per process (two would post twice as fast, not twice).
#[derive(Debug)]
pub struct Scheduler {
    app: Arc<App>,
    deliverer: Arc<Deliverer>,
    options: SchedulerOptions,
    waker: Arc<Notify>,
    /// Firings already reported as skipped, so each is logged once.
    skipped: Mutex<HashSet<(i64, DateTime<Utc>)>>,
    /// (channel, mailing) pairs whose LLM summaries were prepared (or are being prepared).
    prepared: Mutex<HashSet<(u64, NaiveDate)>>,
}

impl Scheduler {
    /// A scheduler posting with the bot's token (from `http`, the bot's REST client) to
    /// Discord, or to `[discord] proxy_url`.
    pub fn new(app: Arc<App>, http: Arc<Http>, options: SchedulerOptions) -> Scheduler {
        let rest = Rest::new(
            app.config().discord.proxy_url.as_deref(),
            Some(http.token()),
        );
        Scheduler::with_deliverer(app, Arc::new(Deliverer::new(http, rest)), options)
    }

    /// As [`Scheduler::new`] with a configured [`Deliverer`] (retry count and pause).
    pub fn with_deliverer(
        app: Arc<App>,
        deliverer: Arc<Deliverer>,
        options: SchedulerOptions,
    ) -> Scheduler {
        Scheduler {
            app,
            deliverer,
            options,
            waker: Arc::new(Notify::new()),
            skipped: Mutex::new(HashSet::new()),
            prepared: Mutex::new(HashSet::new()),
        }
    }

    /// Notify it to re-read subscriptions now (after /subscribe, /unsubscribe).
    pub fn waker(&self) -> Arc<Notify> {
        self.waker.clone()
    }

    /// One pass at `app.clock().now()`: posts what is due, waits for those posts, reports them.
    pub async fn tick(&self) -> Vec<FireOutcome> {
        self.pass(None).await
    }

    /// Loops until `shutdown` turns true; then stops starting posts and waits (bounded) for
    /// in-flight ones.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        info!(
            grace_period = %human(self.options.grace_period),
            min_age = %human(self.options.min_age),
            parallel = self.options.parallel,
            "daily post scheduler started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            self.pass(Some(&mut shutdown)).await;
            if *shutdown.borrow() {
                break;
            }
            let wait = self.sleep_for().await;
            tokio::select! {
                biased;
                changed = shutdown.changed() => {
                    // A dropped sender can never say "go on": stop.
                    if changed.is_err() {
                        break;
                    }
                }
                () = self.waker.notified() => {}
                () = self.app.clock().sleep(wait) => {}
            }
        }
        info!("daily post scheduler stopped");
    }

    /// Until the earliest next firing of any active subscription, at most [`MAX_SLEEP`].
    async fn sleep_for(&self) -> std::time::Duration {
        let now = self.app.clock().now();
        let subs = match self.app.store().active_subscriptions().await {
            Ok(subs) => subs,
            Err(e) => {
                error!(error = %e, "cannot read subscriptions");
                return MAX_SLEEP;
            }
        };
        subs.iter()
            .map(|s| s.next_fire(now) - now)
            .min()
            .and_then(|d| d.to_std().ok())
            .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP))
            .max(std::time::Duration::from_secs(1))
    }

    /// One pass; with `shutdown`, stops starting posts when it turns true and gives those in
    /// flight [`SHUTDOWN_GRACE`].
    async fn pass(&self, shutdown: Option<&mut watch::Receiver<bool>>) -> Vec<FireOutcome> {
        let now = self.app.clock().now();
        let subs = match self.app.store().active_subscriptions().await {
            Ok(subs) => subs,
            Err(e) => {
                error!(error = %e, "cannot read subscriptions; no posts this pass");
                return Vec::new();
            }
        };
        let mut outcomes = Vec::new();
        let mut due = Vec::new();
        let subs_for_prepare = subs.clone();
        for sub in subs {
            match self.check(&sub, now).await {
                Check::Due { fire_at, mailing } => due.push((sub, fire_at, mailing)),
                Check::Report(o) => outcomes.push(o),
                Check::Nothing => {}
            }
        }
        self.forget_old_skips(now);
        self.prepare_upcoming(&subs_for_prepare, now);
        if due.is_empty() {
            return outcomes;
        }
        let stopping = Arc::new(AtomicBool::new(false));
        let permits = Arc::new(Semaphore::new(self.options.parallel.max(1)));
        let mut set = JoinSet::new();
        for (sub, fire_at, mailing) in due {
            let app = self.app.clone();
            let deliverer = self.deliverer.clone();
            let permits = permits.clone();
            let stopping = stopping.clone();
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = if stopping.load(Ordering::SeqCst) {
                    FireResult::Abandoned
                } else {
                    post(&app, &deliverer, &sub, mailing).await
                };
                FireOutcome {
                    subscription_id: sub.id,
                    channel_id: sub.channel_id,
                    fire_at,
                    mailing,
                    result,
                }
            });
        }
        match shutdown {
            None => {
                while let Some(done) = set.join_next().await {
                    collect(done, &mut outcomes);
                }
            }
            Some(shutdown) if *shutdown.borrow() => {
                // Shutdown came while due posts were being looked up: start none.
                stopping.store(true, Ordering::SeqCst);
                self.finish_in_flight(&mut set, &mut outcomes).await;
            }
            Some(shutdown) => {
                let mut watching = true;
                loop {
                    tokio::select! {
                        biased;
                        _ = shutdown.changed(), if watching => {
                            watching = false;
                            if *shutdown.borrow() {
                                stopping.store(true, Ordering::SeqCst);
                                self.finish_in_flight(&mut set, &mut outcomes).await;
                                break;
                            }
                        }
                        done = set.join_next() => match done {
                            Some(done) => collect(done, &mut outcomes),
                            None => break,
                        },
                    }
                }
            }
        }
        outcomes
    }

    /// Starts, in the background, the LLM summaries of the posts firing within
    /// [`SUMMARY_LEAD`], once per (channel, mailing). Without an LLM there is nothing to
    /// prepare: the other providers answer instantly.
    fn prepare_upcoming(&self, subs: &[Subscription], now: DateTime<Utc>) {
        if !self.app.has_llm() {
            return;
        }
        for sub in subs {
            let fire_at = sub.next_fire(now);
            if fire_at - now > SUMMARY_LEAD {
                continue;
            }
            let mailing =
                mailing_for_post(self.app.calendar(), fire_at, fire_at, self.options.min_age);
            let fresh = self
                .prepared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((sub.channel_id, mailing));
            if !fresh {
                continue;
            }
            let app = self.app.clone();
            let sub = sub.clone();
            tokio::spawn(async move {
                let prepared = async {
                    let digest = app.subscription_digest(&sub, mailing).await?;
                    app.prepare_summaries(&digest.entries).await
                };
                match prepared.await {
                    Ok(n) => {
                        info!(channel = sub.channel_id, %mailing, papers = n, "LLM summaries ready for the next post")
                    }
                    Err(e) => {
                        warn!(channel = sub.channel_id, %mailing, error = %e, "cannot prepare LLM summaries; the post uses the other providers")
                    }
                }
            });
        }
    }

    /// At shutdown: waits up to [`SHUTDOWN_GRACE`] for the posts in flight, then abandons the
    /// rest (they stay `sending` in the post log and are resumed on the next start).
    async fn finish_in_flight(
        &self,
        set: &mut JoinSet<FireOutcome>,
        outcomes: &mut Vec<FireOutcome>,
    ) {
        let drain = async {
            while let Some(done) = set.join_next().await {
                collect(done, outcomes);
            }
        };
        tokio::select! {
            () = drain => {}
            () = self.app.clock().sleep(SHUTDOWN_GRACE) => {}
        }
        if !set.is_empty() {
            warn!(
                posts = set.len(),
                "shutting down with posts in flight; they will be resumed on the next start"
            );
            set.abort_all();
            while set.join_next().await.is_some() {}
        }
    }

    /// What to do about `sub` at `now`.
    async fn check(&self, sub: &Subscription, now: DateTime<Utc>) -> Check {
        let fire_at = sub.previous_fire(now);
        if fire_at < sub.created_at {
            return Check::Nothing;
        }
        let mailing = mailing_for_post(self.app.calendar(), now, fire_at, self.options.min_age);
        match self.app.store().post_record(sub.channel_id, mailing).await {
            Ok(Some(r)) if r.state == PostState::Sent => return Check::Nothing,
            Ok(_) => {}
            Err(e) => {
                error!(channel = sub.channel_id, %mailing, error = %e, "cannot read the post log");
                return Check::Nothing;
            }
        }
        let late_by = now - fire_at;
        if late_by > self.options.grace_period {
            let first = self
                .skipped
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((sub.id, fire_at));
            if !first {
                return Check::Nothing;
            }
            info!(
                subscription = sub.id,
                channel = sub.channel_id,
                %fire_at,
                %mailing,
                late_minutes = late_by.num_minutes(),
                grace_minutes = self.options.grace_period.num_minutes(),
                "skipping a daily post missed by more than the grace period"
            );
            crate::metrics::metrics().post("skipped");
            return Check::Report(FireOutcome {
                subscription_id: sub.id,
                channel_id: sub.channel_id,
                fire_at,
                mailing,
                result: FireResult::Skipped { late_by },
            });
        }
        Check::Due { fire_at, mailing }
    }

    /// Keeps the skip memory small: firings older than two days cannot be due again.
    fn forget_old_skips(&self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(2);
        self.skipped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, t)| *t >= horizon);
        let oldest = horizon.date_naive() - Duration::days(7);
        self.prepared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, m)| *m >= oldest);
    }
}

/// A duration as people write it in the config ("6h", "1day"), for log lines.
fn human(d: Duration) -> String {
    d.to_std().map_or_else(
        |_| d.to_string(),
        |d| humantime::format_duration(d).to_string(),
    )
}

/// What a pass does about one subscription.
enum Check {
    Nothing,
    Report(FireOutcome),
    Due {
        fire_at: DateTime<Utc>,
        mailing: NaiveDate,
    },
}

fn collect(done: Result<FireOutcome, tokio::task::JoinError>, outcomes: &mut Vec<FireOutcome>) {
    match done {
        Ok(o) => outcomes.push(o),
        Err(e) if e.is_cancelled() => {}
        Err(e) => error!(error = %e, "a post task panicked"),
    }
}

/// Builds and delivers one subscription's digest; maps permanent refusals to a disabled
/// subscription.
async fn post(
    app: &App,
    deliverer: &Deliverer,
    sub: &Subscription,
    mailing: NaiveDate,
) -> FireResult {
    let channel = sub.channel_id;
    let digest = match app.subscription_digest(sub, mailing).await {
        Ok(d) => d,
        Err(e) => {
            warn!(channel, %mailing, error = %e, "cannot build the daily digest; retrying later");
            return FireResult::Failed {
                error: e.to_string(),
            };
        }
    };
    let store = app.store().as_ref();
    let clock = app.clock().as_ref();
    if digest.candidates == 0 {
        // arXiv's API can lag its announcement, and an unlisted holiday has no papers: a
        // "top 0 of 0" post helps nobody. Retried on later passes within the grace period.
        warn!(channel, %mailing, "no papers stored for the mailing yet; retrying later");
        return FireResult::Failed {
            error: format!("arXiv has no papers for the mailing of {mailing} yet"),
        };
    }
    if digest.entries.is_empty() {
        info!(
            subscription = sub.id,
            channel,
            %mailing,
            "no paper passed the subscription's categories and min_score; nothing posted"
        );
        let now = clock.now();
        let recorded = async {
            store
                .begin_post(channel, mailing, &nonce(channel, mailing, 0), now)
                .await?;
            store.finish_post(channel, mailing, &[], now).await
        };
        return match recorded.await {
            Ok(()) => FireResult::Quiet,
            Err(e) => FireResult::Failed {
                error: e.to_string(),
            },
        };
    }
    match deliverer
        .deliver(store, clock, &Target::Channel(channel), &digest, false)
        .await
    {
        Ok(d @ Delivery::InProgress { .. }) => {
            info!(
                subscription = sub.id,
                channel,
                %mailing,
                "another delivery is posting this daily digest now; a later pass checks on it"
            );
            FireResult::Posted(d)
        }
        Ok(d) => {
            info!(
                subscription = sub.id,
                channel,
                %mailing,
                parts = d.message_ids().len(),
                "daily digest posted"
            );
            FireResult::Posted(d)
        }
        Err(DeliveryError::Post(
            e @ (PostError::Forbidden { .. } | PostError::UnknownChannel { .. }),
        )) => {
            let reason = disable_reason(&e, channel, clock.now());
            match store.disable_subscription(sub.id, &reason).await {
                Ok(_) => warn!(subscription = sub.id, channel, %reason, "subscription disabled"),
                Err(se) => {
                    error!(subscription = sub.id, error = %se, "cannot disable the subscription")
                }
            }
            FireResult::Disabled { reason }
        }
        Err(e) => {
            warn!(channel, %mailing, error = %e, "daily post failed; retrying on a later pass");
            FireResult::Failed {
                error: e.to_string(),
            }
        }
    }
}

/// The reason an admin reads in `/subscriptions`: what went wrong, when, and what to do.
pub fn disable_reason(e: &PostError, channel: u64, at: DateTime<Utc>) -> String {
    let day = at.format("%Y-%m-%d");
    match e {
        PostError::Forbidden { .. } => format!(
            "missing permission to post in <#{channel}> (403) on {day}: give the bot View \
             Channel, Send Messages and Embed Links there, then re-run /subscribe"
        ),
        PostError::UnknownChannel { .. } => format!(
            "channel <#{channel}> was deleted or the bot cannot see it (404) on {day}; re-run \
             /subscribe with another channel"
        ),
        other => format!("posting in <#{channel}> failed on {day}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn options_follow_the_config() {
        let mut c = DiscordConfig::default();
        assert_eq!(
            SchedulerOptions::from_config(&c),
            SchedulerOptions {
                grace_period: Duration::hours(6),
                min_age: Duration::hours(24),
                parallel: 4
            }
        );
        c.grace_period = std::time::Duration::from_secs(60);
        c.parallel_posts = 0;
        let o = SchedulerOptions::from_config(&c);
        assert_eq!(o.grace_period, Duration::minutes(1));
        assert_eq!(o.parallel, 1);
    }

    #[test]
    fn disable_reasons_say_what_when_and_how_to_fix() {
        let at = Utc.with_ymd_and_hms(2021, 7, 3, 6, 0, 0).unwrap();
        let r = disable_reason(&PostError::Forbidden { channel: 42 }, 42, at);
        assert!(r.starts_with("missing permission to post in <#42> (403) on 2021-07-03"));
        assert!(r.contains("/subscribe"));
        let r = disable_reason(&PostError::UnknownChannel { channel: 42 }, 42, at);
        assert!(r.contains("<#42>") && r.contains("404") && r.contains("2021-07-03"));
    }
}
