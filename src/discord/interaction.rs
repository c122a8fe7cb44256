// PLACEHOLDER (replaced at merge): the INTERACTIONS helper owns this file.
//! Interaction handling (placeholder: answers every command with "placeholder").

use std::sync::Arc;
use std::time::Duration;

use serenity::builder::{
    CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseMessage,
};
use serenity::http::Http;
use serenity::model::application::Interaction;
use tokio::sync::Notify;

use crate::app::App;

/// Answers interactions (placeholder).
pub struct Interactions {
    _app: Arc<App>,
    _waker: Arc<Notify>,
    _defer_after: Duration,
}

impl Interactions {
    /// Placeholder constructor.
    pub fn new(app: Arc<App>, scheduler_waker: Arc<Notify>) -> Interactions {
        Interactions {
            _app: app,
            _waker: scheduler_waker,
            _defer_after: Duration::from_secs(2),
        }
    }

    /// Placeholder: sets the defer delay.
    pub fn defer_after(mut self, d: Duration) -> Interactions {
        self._defer_after = d;
        self
    }

    /// Placeholder: a type-4 "placeholder" message for commands, nothing else.
    pub async fn dispatch(&self, http: &Http, interaction: Interaction) {
        if let Interaction::Command(cmd) = interaction {
            let msg = CreateInteractionResponseMessage::new()
                .content("placeholder")
                .allowed_mentions(CreateAllowedMentions::new());
            if let Err(e) = cmd
                .create_response(http, CreateInteractionResponse::Message(msg))
                .await
            {
                tracing::warn!("placeholder response failed: {e}");
            }
        }
    }
}
