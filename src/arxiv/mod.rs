//! Everything that speaks arXiv: identifiers, the category taxonomy, the mailing calendar, the
//! Atom API and RSS parsers, and the polite HTTP client that fetches them.

pub mod atom;
pub mod calendar;
pub mod client;
pub mod id;
pub mod paper;
pub mod rss;
pub mod taxonomy;

pub use calendar::{DateOutOfRange, Mailing, MailingCalendar};
pub use client::ArxivClient;
pub use id::ArxivId;
