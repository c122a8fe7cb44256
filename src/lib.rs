//! hotpapers: which new arXiv papers are hot today.
//!
//! The library is platform-neutral: it ingests arXiv mailings ([`arxiv`]), keeps them in a
//! [`store`], measures attention ([`sources`]), ranks papers by it ([`ranking`]) and renders
//! digests ([`digest`]). Three front ends are thin layers over [`app::App`] and the
//! platform-neutral commands ([`commands`]): the `hotpapers` CLI (`src/main.rs`, `src/cli/`),
//! the text [`console`] (`hotpapers console`) and the Discord bot ([`discord`],
//! `hotpapers run`).
//!
//! Modules are layered, lowest first; a module uses only modules of lower layers
//! (`tests/layers.rs` checks it, ARCHITECTURE.md draws it):
//!
//! 1. [`clock`], [`progress`], [`number`], [`sanitize`]; then [`http`]; then [`arxiv`] (ids,
//!    taxonomy, calendar, paper model, parsers, client); then [`subscription`] (the
//!    subscription model and its firing times);
//! 2. [`config`];
//! 3. [`store`];
//! 4. [`ranking`], then [`summary`] and [`chart`] (a paper's attention over time as a PNG),
//!    then [`digest`];
//! 5. [`sources`];
//! 6. [`app`];
//! 7. [`commands`];
//! 8. the front ends: [`console`], [`discord`], the CLI.

pub mod app;
pub mod arxiv;
pub mod attention;
pub mod chart;
pub mod clock;
pub mod commands;
pub mod config;
pub mod console;
pub mod digest;
pub mod discord;
pub mod http;
pub mod metrics;
pub mod number;
pub mod progress;
pub mod ranking;
pub mod sanitize;
pub mod sources;
pub mod store;
pub mod subscription;
pub mod summary;
pub mod web;
