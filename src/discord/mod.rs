//! The Discord front end: a thin layer over the platform-neutral core ([`crate::digest`],
//! [`crate::commands`]).
//!
//! - Rendering: [`escape`] makes upstream text inert, [`render`] turns a digest into messages,
//!   [`reply`] turns any command [`crate::commands::Reply`] into responses, and [`limits`] checks
//!   a message against Discord's documented limits.
//! - Commands: [`commands`] defines the slash commands, [`interaction`] answers them (and their
//!   buttons and autocomplete).
//! - Posting: [`post`] (REST client, nonces, error mapping), [`delivery`] (exactly once per
//!   channel and mailing, resuming interrupted posts), [`webhook`] (posting without a bot),
//!   [`scheduler`] (each subscription's daily post at its local time).
//! - [`bot`]: `hotpapers run`, the gateway connection that ties these together.

pub mod bot;
pub mod card;
pub mod commands;
pub mod delivery;
pub mod escape;
pub mod interaction;
pub mod limits;
pub mod post;
pub mod render;
pub mod reply;
pub mod rest;
pub mod scheduler;
pub mod webhook;
