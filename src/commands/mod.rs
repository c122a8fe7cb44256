//! The platform-neutral command layer (in progress): the subscription model comes first.

pub mod subscriptions;

pub use subscriptions::{Subscription, next_fire};
