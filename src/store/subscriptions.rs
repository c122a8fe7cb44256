//! Subscriptions: which Discord channel gets a daily digest, when, and of what.
//!
//! The model ([`Subscription`], [`SubscriptionChange`]) lives in [`crate::subscription`], next
//! to its firing times; this is only where it is kept.

use async_trait::async_trait;

use super::StoreError;
use crate::subscription::{Subscription, SubscriptionChange};

/// Per-channel subscriptions, one per (guild, channel). Every write is idempotent.
#[async_trait]
pub trait SubscriptionStore: Send + Sync + std::fmt::Debug {
    /// Stores `sub` as the subscription of its (guild, channel), replacing the settings of an
    /// existing one (whose id is kept) and clearing its `disabled_reason`. `sub.id` is ignored.
    async fn upsert_subscription(
        &self,
        sub: &Subscription,
    ) -> Result<SubscriptionChange, StoreError>;

    /// Removes the subscription of a channel; returns it, or `None` when there was none.
    async fn delete_subscription(
        &self,
        guild_id: u64,
        channel_id: u64,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Every subscription of a guild, disabled ones included, ordered by channel id.
    async fn guild_subscriptions(&self, guild_id: u64) -> Result<Vec<Subscription>, StoreError>;

    /// Every subscription that is not disabled, across guilds, ordered by (guild, channel):
    /// what the scheduler runs.
    async fn active_subscriptions(&self) -> Result<Vec<Subscription>, StoreError>;

    /// Stops a subscription, keeping it listed with `reason` (a deleted channel, a missing
    /// permission) so admins see why. Returns whether a subscription with this id existed.
    async fn disable_subscription(&self, id: i64, reason: &str) -> Result<bool, StoreError>;
}
