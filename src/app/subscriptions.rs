//! The subscriptions of servers' channels to the daily post, as the admin commands change and
//! list them.

use crate::subscription::{Subscription, SubscriptionChange};

use super::{App, AppError};

impl App {
    /// Stores `sub` for its (server, channel), replacing that channel's earlier subscription.
    pub async fn subscribe(&self, sub: &Subscription) -> Result<SubscriptionChange, AppError> {
        Ok(self.store.upsert_subscription(sub).await?)
    }

    /// Removes a channel's subscription; the removed one, or `None` when it had none.
    pub async fn unsubscribe(
        &self,
        guild_id: u64,
        channel_id: u64,
    ) -> Result<Option<Subscription>, AppError> {
        Ok(self.store.delete_subscription(guild_id, channel_id).await?)
    }

    /// A server's subscriptions, active or disabled.
    pub async fn guild_subscriptions(&self, guild_id: u64) -> Result<Vec<Subscription>, AppError> {
        Ok(self.store.guild_subscriptions(guild_id).await?)
    }
}
