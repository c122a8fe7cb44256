//! Progress reporting for long work (paging through a mailing), decoupled from any terminal.
//!
//! The library reports through [`Progress`]; the CLI shows a bar when stderr is a terminal.

/// Receives progress of a long-running operation.
pub trait Progress: Send + Sync {
    /// A new phase starts, with a known total when there is one.
    fn start(&self, label: &str, total: Option<u64>);
    /// The total became known (or changed) mid-phase, e.g. after the first page.
    fn set_total(&self, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The phase is over.
    fn finish(&self);
}

/// Discards progress (tests, non-interactive use).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: Option<u64>) {}
    fn set_total(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
