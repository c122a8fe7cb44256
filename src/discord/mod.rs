//! The Discord front end: rendering digests within Discord's limits and posting them.
//!
//! Everything here is a thin layer over the platform-neutral core ([`crate::digest`],
//! [`crate::commands`]): [`escape`] makes upstream text inert, [`render`] turns a digest into
//! messages, [`limits`] checks a message against Discord's documented limits. [`commands`]
//! defines the slash commands, [`interaction`] answers them (and their buttons and
//! autocomplete), rendering replies with [`reply`].

pub mod commands;
pub mod escape;
pub mod interaction;
pub mod limits;
pub mod post;
pub mod render;
pub mod reply;
