//! A paper card's attention chart: its stored snapshots as one line per source, drawn by
//! [`crate::chart`]. Written once here for the CLI (`paper --chart FILE.png`) and the Discord
//! `/paper` card, which attaches it.

use crate::chart::{self, ChartError, ChartSpec, Series};

use super::PaperCard;

/// The file name a chart is attached under (Discord embeds refer to it as
/// `attachment://attention.png`).
pub const CHART_FILE_NAME: &str = "attention.png";

impl PaperCard {
    /// The chart's description: the paper's title, and one series per source (its engagement
    /// as the ranking counts it, at every snapshot), labelled for people ("X", "Hacker
    /// News"). A paper measured once gets one point per source; one never measured gets a
    /// picture saying so ([`chart::NO_DATA`]).
    pub fn chart_spec(&self) -> ChartSpec {
        let series = self
            .timelines
            .iter()
            .map(|t| Series::new(crate::attention::label(&t.source), t.points.clone()))
            .collect();
        let mut spec = ChartSpec::new(self.paper.title.clone(), series);
        spec.subtitle = Some(format!(
            "arXiv:{} · engagement per source at each snapshot",
            self.paper.id
        ));
        spec
    }

    /// The attention chart as PNG bytes, [`ChartSpec::DEFAULT_WIDTH`] ×
    /// [`ChartSpec::DEFAULT_HEIGHT`] pixels.
    pub fn chart_png(&self) -> Result<Vec<u8>, ChartError> {
        chart::render_png(&self.chart_spec())
    }
}
