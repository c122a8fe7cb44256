//! The chart's two axes as plotters coordinates: time (seconds since the Unix epoch, UTC) and
//! attention (from 0). Our own tick placement rather than plotters' chrono axis: ticks land on
//! round UTC times (hours, midnights), labels are formatted by span, the arithmetic is plain
//! `f64` (no chrono overflow on extreme timestamps), and no input can make it panic.

use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

const HOUR: f64 = 3_600.0;
const DAY: f64 = 86_400.0;

/// Tick spacings the time axis may use, smallest first; past the last, whole multiples of
/// years. Multiples of a day fall on UTC midnights because the epoch is one.
const TIME_STEPS: &[f64] = &[
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1_800.0,
    HOUR,
    2.0 * HOUR,
    3.0 * HOUR,
    6.0 * HOUR,
    12.0 * HOUR,
    DAY,
    2.0 * DAY,
    7.0 * DAY,
    14.0 * DAY,
    28.0 * DAY,
    91.0 * DAY,
    182.0 * DAY,
    365.0 * DAY,
];

/// What the axis measures, which decides how its tick labels read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Seconds since the epoch, labelled with this `strftime` format in UTC.
    Time(&'static str),
    /// An attention value, labelled compactly (`1.5k`, `2M`).
    Value,
}

/// One axis: its range, its tick positions and how they are labelled.
#[derive(Clone, Debug)]
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    kind: Kind,
}

impl Axis {
    /// The time axis around data from `min` to `max` (seconds since the epoch, finite, `min
    /// <= max`) with at most `max_ticks` labels: 5% padding each side, at least an hour wide,
    /// ±12 h around a single instant.
    pub(super) fn time(min: f64, max: f64, max_ticks: usize) -> Axis {
        let max_ticks = max_ticks.max(2);
        let span = max - min;
        let (mut lo, mut hi) = if span > 0.0 {
            (min - span * 0.05, max + span * 0.05)
        } else {
            (min - 12.0 * HOUR, max + 12.0 * HOUR)
        };
        if hi - lo < HOUR {
            let mid = lo / 2.0 + hi / 2.0;
            (lo, hi) = (mid - HOUR / 2.0, mid + HOUR / 2.0);
        }
        let width = hi - lo;
        if width > 80.0 * DAY
            && let Some(ticks) = month_ticks(lo, hi, max_ticks)
        {
            return Axis {
                lo,
                hi,
                ticks,
                kind: Kind::Time("%b %Y"),
            };
        }
        let step = TIME_STEPS
            .iter()
            .copied()
            .chain((0..12).flat_map(|e| [2.0, 5.0, 10.0].map(|m| m * 10f64.powi(e) * 365.0 * DAY)))
            .find(|step| width / step <= max_ticks as f64)
            .unwrap_or(width);
        let format = if step < DAY {
            "%d %b %H:%M"
        } else if width > 300.0 * DAY {
            "%d %b %Y"
        } else {
            "%d %b"
        };
        Axis {
            lo,
            hi,
            ticks: ticks(lo, hi, step, max_ticks),
            kind: Kind::Time(format),
        }
    }

    /// The value axis from 0 up to a round number above `max` (10% headroom; at least 1),
    /// with at most `max_ticks` labels; whole-number steps when `integral` (counts).
    pub(super) fn value(max: f64, integral: bool, max_ticks: usize) -> Axis {
        let target = max_ticks.clamp(2, 10) as f64;
        let raw = if max.is_finite() && max > 0.0 {
            max * 1.1
        } else {
            0.0
        };
        let raw = if raw.is_finite() {
            raw.max(1.0)
        } else {
            f64::MAX
        };
        let magnitude = 10f64.powf((raw / target).log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .filter(|step| !integral || step.fract() == 0.0)
            .find(|step| raw / step <= target)
            .unwrap_or(if integral { raw.ceil() } else { raw });
        let top = (raw / step).ceil() * step;
        let hi = if top.is_finite() && top >= raw {
            top
        } else {
            raw
        };
        Axis {
            lo: 0.0,
            hi,
            ticks: ticks(0.0, hi, step, max_ticks.max(2) + 1),
            kind: Kind::Value,
        }
    }

    /// The label of the tick at `v`.
    fn label(&self, v: f64) -> String {
        match self.kind {
            Kind::Time(format) => DateTime::from_timestamp(v.round() as i64, 0)
                .map(|t| t.format(format).to_string())
                .unwrap_or_default(),
            Kind::Value => compact(v),
        }
    }

    /// Where the ticks are, in axis units.
    pub(super) fn ticks(&self) -> &[f64] {
        &self.ticks
    }

    /// The tick labels, in the order of [`Axis::ticks`].
    pub(super) fn labels(&self) -> impl Iterator<Item = String> + '_ {
        self.ticks.iter().map(|&t| self.label(t))
    }
}

/// Ticks on the first of every month, or of every 2nd, 3rd, 6th… month, from `lo` to `hi`
/// (seconds since the epoch), at most `max_ticks`. `None` when the range is beyond what a
/// calendar date can hold, or too wide for month steps to be useful.
fn month_ticks(lo: f64, hi: f64, max_ticks: usize) -> Option<Vec<f64>> {
    const MONTH: f64 = 30.44 * DAY;
    let step = [1i64, 2, 3, 6, 12, 24, 60, 120]
        .into_iter()
        .find(|&months| (hi - lo) / (months as f64 * MONTH) <= max_ticks as f64)?;
    let start = DateTime::from_timestamp(lo.floor() as i64, 0)?;
    // Months since year 0, rounded up to a multiple of the step.
    let index = i64::from(start.year()) * 12 + i64::from(start.month0()) + 1;
    let mut index = index.div_euclid(step) * step + if index % step == 0 { 0 } else { step };
    let mut out = Vec::new();
    for _ in 0..max_ticks + 2 {
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
        let t = NaiveDate::from_ymd_opt(year, month, 1)?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp() as f64;
        if t > hi {
            break;
        }
        if t >= lo {
            out.push(t);
        }
        index += step;
    }
    (!out.is_empty()).then_some(out)
}

/// Multiples of `step` from `lo` to `hi` inclusive, at most `limit + 2` of them.
fn ticks(lo: f64, hi: f64, step: f64, limit: usize) -> Vec<f64> {
    if !(step > 0.0 && step.is_finite() && lo.is_finite() && hi.is_finite()) {
        return vec![lo];
    }
    let first = (lo / step).ceil();
    (0..limit + 2)
        .map(|k| (first + k as f64) * step)
        .take_while(|&t| t <= hi + step * 1e-9)
        .collect()
}

/// `v` in few characters: `0`, `0.5`, `12`, `1.5k`, `2.25M`, `1T`, `1.5e15`.
pub(super) fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if !a.is_finite() || a >= 1e15 {
        return format!("{v:.1e}");
    } else if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let mut s = format!("{scaled:.2}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".into();
    }
    format!("{s}{suffix}")
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span.is_nan() || span <= 0.0 || !value.is_finite() {
            return limit.0;
        }
        let t = ((value - self.lo) / span).clamp(-1.0, 2.0);
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    /// The ticks for the bold grid and the labels; none for plotters' light grid.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        compact(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike, Utc};

    fn ts(y: i32, mo: u32, d: u32, h: u32) -> f64 {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
            .single()
            .map_or(0.0, |t| t.timestamp() as f64)
    }

    #[test]
    fn a_two_day_span_has_round_hour_ticks_labelled_with_the_time() {
        let a = Axis::time(ts(2024, 7, 1, 9), ts(2024, 7, 3, 9), 6);
        assert!(a.ticks.len() >= 3 && a.ticks.len() <= 8, "{:?}", a.ticks);
        assert!(a.ticks.iter().all(|t| t % (6.0 * HOUR) == 0.0));
        assert_eq!(a.kind, Kind::Time("%d %b %H:%M"));
        assert!(
            a.labels().any(|l| l == "02 Jul 00:00"),
            "{:?}",
            a.labels().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_month_span_is_labelled_by_day_and_a_single_instant_gets_a_day_around_it() {
        let a = Axis::time(ts(2024, 7, 1, 9), ts(2024, 7, 31, 9), 6);
        assert_eq!(a.kind, Kind::Time("%d %b"));
        assert!(a.ticks.iter().all(|t| t % DAY == 0.0));
        let one = Axis::time(ts(2024, 7, 1, 9), ts(2024, 7, 1, 9), 6);
        assert_eq!(one.hi - one.lo, DAY);
        assert!(!one.ticks.is_empty());
    }

    #[test]
    fn a_year_span_has_ticks_on_the_first_of_a_month() {
        let a = Axis::time(ts(2024, 7, 10, 9), ts(2025, 7, 3, 9), 6);
        assert_eq!(a.kind, Kind::Time("%b %Y"));
        let labels: Vec<String> = a.labels().collect();
        assert!(labels.len() >= 3 && labels.len() <= 6, "{labels:?}");
        assert!(labels.contains(&"Jan 2025".to_string()), "{labels:?}");
        for t in a.ticks() {
            let d = DateTime::from_timestamp(*t as i64, 0).map(|d| (d.day(), d.hour()));
            assert_eq!(d, Some((1, 0)));
        }
    }

    #[test]
    fn extreme_time_spans_stay_finite_and_bounded() {
        let a = Axis::time(-8e12, 8e12, 6);
        assert!(a.ticks.len() <= 8);
        let b = Axis::time(1e9, 1e9 + 1.0, 6);
        assert!(b.hi - b.lo >= HOUR && !b.ticks.is_empty());
    }

    #[test]
    fn the_value_axis_starts_at_zero_and_ends_on_a_round_number_above_the_data() {
        let a = Axis::value(100.0, true, 5);
        assert_eq!((a.lo, a.hi), (0.0, 125.0));
        assert_eq!(a.ticks, [0.0, 25.0, 50.0, 75.0, 100.0, 125.0]);
        let zero = Axis::value(0.0, true, 5);
        assert_eq!(zero.hi, 1.0);
        let small = Axis::value(0.3, false, 5);
        assert!(small.hi >= 1.0 && small.ticks.len() > 2);
        let huge = Axis::value(1e12, true, 5);
        assert!(huge.hi >= 1.1e12 && huge.hi.is_finite());
        let max = Axis::value(f64::MAX, false, 5);
        assert!(max.hi.is_finite() && max.ticks.len() <= 8);
    }

    #[test]
    fn values_are_labelled_compactly() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(0.5), "0.5");
        assert_eq!(compact(12.0), "12");
        assert_eq!(compact(1_500.0), "1.5k");
        assert_eq!(compact(2_250_000.0), "2.25M");
        assert_eq!(compact(1e12), "1T");
        assert_eq!(compact(1.5e15), "1.5e15");
    }

    #[test]
    fn mapping_is_linear_and_clamped() {
        let a = Axis::value(100.0, true, 5);
        assert_eq!(a.map(&0.0, (0, 250)), 0);
        assert_eq!(a.map(&125.0, (0, 250)), 250);
        assert_eq!(a.map(&f64::NAN, (10, 250)), 10);
        assert_eq!(a.map(&1e300, (0, 250)), 500);
    }
}
