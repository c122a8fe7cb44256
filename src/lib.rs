//! hotpapers: which new arXiv papers are hot today.
//!
//! The library is platform-neutral: it ingests arXiv mailings ([`arxiv`]), keeps them in a
//! [`store`], measures attention ([`sources`]), ranks papers by it ([`ranking`]) and renders
//! digests ([`digest`]). Three front ends are thin layers over [`app::App`] and the
//! platform-neutral commands ([`commands`]): the `hotpapers` CLI (`src/main.rs`, `src/cli/`),
//! the text console (`hotpapers console`, [`commands::console`]) and the Discord bot
//! ([`discord`], `hotpapers run`).
//!
//! Modules are layered, lowest first; a module uses only modules of its own layer or below:
//!
//! 1. [`arxiv`] (ids, taxonomy, calendar, paper model, parsers, client), [`clock`], [`http`],
//!    [`progress`], [`number`], [`subscription`];
//! 2. [`config`];
//! 3. [`store`];
//! 4. [`ranking`], [`digest`];
//! 5. [`sources`];
//! 6. [`app`];
//! 7. [`commands`];
//! 8. the front ends: [`discord`], the console, the CLI.

pub mod app;
pub mod arxiv;
pub mod clock;
pub mod commands;
pub mod config;
pub mod console;
pub mod digest;
pub mod discord;
pub mod http;
pub mod number;
pub mod progress;
pub mod ranking;
pub mod sources;
pub mod store;
pub mod subscription;
