//! hotpapers: which new arXiv papers are hot today.
//!
//! The library is platform-neutral: it ingests arXiv mailings ([`arxiv`]), keeps them in a
//! [`store`], ranks them by attention ([`ranking`]) and renders digests ([`digest`]). Front ends
//! (the `hotpapers` CLI today; Discord and the console later) are thin layers over [`app::App`].

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
