//! Layout and drawing: a header (title, subtitle, legend) above the plot, so the legend never
//! covers a line, and the plot itself with our own axes.

use ab_glyph::FontRef;
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::Axis;
use super::text::{self, Align, Style};
use super::{ChartError, ChartSpec, NO_DATA, Series};

/// The drawing surface: an RGB buffer the size of the chart.
pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// Line colours by series position: the Okabe–Ito palette, told apart with the common forms
/// of colour blindness, ordered so the first ones contrast most on white (yellow, the weakest,
/// last). A ninth series reuses the first colour.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
const MUTED: RGBColor = RGBColor(0x59, 0x59, 0x59);
const FAINT: RGBColor = RGBColor(0x8C, 0x8C, 0x8C);
const GRID: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);

/// A series reduced to what can be drawn: finite, non-negative values, in time order, with the
/// time as seconds since the epoch.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
}

fn lines(series: &[Series]) -> Vec<Line> {
    series
        .iter()
        .map(|s| {
            let mut points: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|(_, v)| v.is_finite() && *v >= 0.0)
                .map(|(t, v)| {
                    let secs = t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9;
                    (secs, *v)
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Line {
                label: s.label.clone(),
                points,
            }
        })
        .collect()
}

fn drawing(e: impl std::fmt::Display) -> ChartError {
    ChartError::Drawing(e.to_string())
}

/// Sizes in pixels for a chart whose fonts and strokes are scaled by `s` (1 at 800×400).
struct Metrics {
    s: f64,
    pad: f64,
    title: f64,
    subtitle: f64,
    legend: f64,
    tick: f64,
}

impl Metrics {
    fn new(width: u32, height: u32) -> Metrics {
        let s = (f64::from(width) / 800.0)
            .min(f64::from(height) / 400.0)
            .clamp(0.6, 4.0);
        Metrics {
            s,
            pad: (16.0 * s).round(),
            title: (20.0 * s).round(),
            subtitle: (14.0 * s).round(),
            legend: (13.0 * s).round(),
            tick: (12.0 * s).round(),
        }
    }
}

/// Draws the whole chart on `root` (already white).
pub(super) fn draw(
    root: &Area<'_>,
    spec: &ChartSpec,
    font: &FontRef<'_>,
) -> Result<(), ChartError> {
    let (w, h) = (f64::from(spec.width), f64::from(spec.height));
    let m = Metrics::new(spec.width, spec.height);
    let lines = lines(&spec.series);
    let has_data = lines.iter().any(|l| !l.points.is_empty());

    let mut y = (m.pad * 0.6).round();
    let text_width = w - 2.0 * m.pad;
    let title = text::fit(font, &spec.title, m.title, text_width);
    if !title.is_empty() {
        let baseline = y + text::ascent(font, m.title);
        text::draw_text(
            root,
            font,
            &title,
            (m.pad, baseline),
            Style::new(m.title, INK, Align::Left),
        )?;
        y += (m.title * 1.3).round();
    }
    if let Some(sub) = &spec.subtitle {
        let sub = text::fit(font, sub, m.subtitle, text_width);
        if !sub.is_empty() {
            let baseline = y + text::ascent(font, m.subtitle);
            text::draw_text(
                root,
                font,
                &sub,
                (m.pad, baseline),
                Style::new(m.subtitle, MUTED, Align::Left),
            )?;
            y += (m.subtitle * 1.4).round();
        }
    }

    if !has_data {
        return draw_empty(root, &m, font, y + 6.0 * m.s, w, h);
    }

    y += (4.0 * m.s).round();
    y = draw_legend(root, &m, font, &lines, y, text_width)?;
    draw_plot(root, &m, font, &lines, y)
}

/// The picture without data: a frame saying so, where the plot would be.
fn draw_empty(
    root: &Area<'_>,
    m: &Metrics,
    font: &FontRef<'_>,
    top: f64,
    w: f64,
    h: f64,
) -> Result<(), ChartError> {
    let (x0, y0) = (m.pad, top);
    let (x1, y1) = (w - m.pad, (h - m.pad).max(top + 1.0));
    root.draw(&Rectangle::new(
        [(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)],
        GRID.stroke_width(1),
    ))
    .map_err(drawing)?;
    let size = (16.0 * m.s).round();
    let message = text::fit(font, NO_DATA, size, x1 - x0 - 2.0 * m.pad);
    let baseline = (y0 + y1) / 2.0 + text::cap_height(font, size) / 2.0;
    text::draw_text(
        root,
        font,
        &message,
        ((x0 + x1) / 2.0, baseline),
        Style::new(size, FAINT, Align::Centre),
    )
}

/// The legend as rows of "— ● label" entries under the header, at most two rows (the rest
/// summed up as "+N more"). A series with no drawable point is listed as "label (no data)".
/// Returns the y below it.
fn draw_legend(
    root: &Area<'_>,
    m: &Metrics,
    font: &FontRef<'_>,
    lines: &[Line],
    top: f64,
    max_width: f64,
) -> Result<f64, ChartError> {
    const MAX_ROWS: usize = 2;
    let swatch = 22.0 * m.s;
    let gap = 6.0 * m.s;
    let spacing = 22.0 * m.s;
    let row_height = (m.legend * 1.6).round();
    let label_max = (max_width * 0.45).max(40.0);

    // Place the entries: (series index, label, x, row, width).
    let mut placed: Vec<(usize, String, f64, usize, f64)> = Vec::new();
    let (mut x, mut row) = (0.0, 0usize);
    for (i, line) in lines.iter().enumerate() {
        let mut label = text::fit(font, &line.label, m.legend, label_max);
        if label.is_empty() {
            label = format!("Series {}", i + 1);
        }
        if line.points.is_empty() {
            label.push_str(" (no data)");
        }
        let entry = swatch + gap + text::width(font, m.legend, &label);
        if x > 0.0 && x + entry > max_width {
            row += 1;
            x = 0.0;
        }
        if row >= MAX_ROWS {
            break;
        }
        placed.push((i, label, x, row, entry));
        x += entry + spacing;
    }
    // What did not fit is counted at the end of the last row, making room for it if need be.
    let mut more = None;
    while placed.len() < lines.len() {
        let label = format!("+{} more", lines.len() - placed.len());
        let (x, row) = placed
            .last()
            .map_or((0.0, 0), |(_, _, x, row, w)| (x + w + spacing, *row));
        if x + text::width(font, m.legend, &label) <= max_width || placed.len() <= 1 {
            more = Some((label, x, row));
            break;
        }
        placed.pop();
    }

    let ascent = text::ascent(font, m.legend);
    let mid = text::cap_height(font, m.legend) / 2.0;
    for (i, label, x, row, _) in &placed {
        let baseline = top + *row as f64 * row_height + ascent;
        let cy = (baseline - mid).round() as i32;
        let x0 = m.pad + x;
        let colour = PALETTE[i % PALETTE.len()];
        root.draw(&PathElement::new(
            vec![(x0 as i32, cy), ((x0 + swatch) as i32, cy)],
            colour.stroke_width(stroke(m.s)),
        ))
        .map_err(drawing)?;
        root.draw(&Circle::new(
            ((x0 + swatch / 2.0) as i32, cy),
            marker(m.s),
            colour.filled(),
        ))
        .map_err(drawing)?;
        text::draw_text(
            root,
            font,
            label,
            (x0 + swatch + gap, baseline),
            Style::new(m.legend, INK, Align::Left),
        )?;
    }
    if let Some((more, x, row)) = more {
        let baseline = top + row as f64 * row_height + ascent;
        text::draw_text(
            root,
            font,
            &more,
            (m.pad + x, baseline),
            Style::new(m.legend, MUTED, Align::Left),
        )?;
    }
    let rows = placed.last().map_or(1, |(_, _, _, row, _)| row + 1);
    Ok(top + rows as f64 * row_height)
}

fn stroke(s: f64) -> u32 {
    (2.0 * s).round().max(1.0) as u32
}

fn marker(s: f64) -> i32 {
    (3.5 * s).round().max(2.0) as i32
}

/// The plot: time across, attention up from 0, one line with markers per series. plotters
/// draws the grid, axes and lines; the tick labels are ours (see [`text::draw_text`]).
fn draw_plot(
    root: &Area<'_>,
    m: &Metrics,
    font: &FontRef<'_>,
    lines: &[Line],
    top: f64,
) -> Result<(), ChartError> {
    let (_, area) = root.split_vertically(top.round() as i32);
    let (aw, ah) = area.dim_in_pixel();
    let (aw, ah) = (f64::from(aw), f64::from(ah));

    let (mut t_min, mut t_max, mut v_max) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    let mut integral = true;
    for &(t, v) in lines.iter().flat_map(|l| l.points.iter()) {
        t_min = t_min.min(t);
        t_max = t_max.max(t);
        v_max = v_max.max(v);
        integral &= v.fract() == 0.0;
    }

    let tick_mark = (4.0 * m.s).round();
    let label_gap = (4.0 * m.s).round();
    let tick_ascent = text::ascent(font, m.tick);
    let x_label_area = tick_mark + label_gap + (m.tick * 1.3).round();
    let desc_area = (m.tick * 1.3).round();
    let margin_top = (m.tick * 0.6).round();
    let plot_h = ah - x_label_area - desc_area - margin_top;
    let y_ticks = (plot_h / (m.tick * 3.2)).floor().clamp(2.0, 6.0) as usize;
    let y_axis = Axis::value(v_max, integral, y_ticks);
    let y_label_w = y_axis
        .labels()
        .map(|l| text::width(font, m.tick, &l))
        .fold(0.0, f64::max);
    let y_label_area = (y_label_w + tick_mark + label_gap + 2.0).ceil();

    let sample_w = text::width(font, m.tick, "28 Sep 23:30");
    let margin_right = (sample_w / 2.0).max(m.pad).ceil();
    let margin_left = (m.pad * 0.75).round();
    let plot_w = aw - margin_left - y_label_area - margin_right;
    let x_ticks = (plot_w / (sample_w + 28.0 * m.s)).floor().max(2.0) as usize;
    let x_axis = Axis::time(t_min, t_max, x_ticks);

    let mut chart = ChartBuilder::on(&area)
        .margin_left(margin_left as i32)
        .margin_right(margin_right as i32)
        .margin_top(margin_top as i32)
        .x_label_area_size((x_label_area + desc_area) as i32)
        .y_label_area_size(y_label_area as i32)
        .build_cartesian_2d(x_axis.clone(), y_axis.clone())
        .map_err(drawing)?;

    chart
        .configure_mesh()
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(FAINT.stroke_width(1))
        .set_all_tick_mark_size(tick_mark as i32)
        .x_labels(x_ticks)
        .y_labels(y_ticks + 1)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|_| String::new())
        .draw()
        .map_err(drawing)?;

    // Tick labels: centred under x ticks, right-aligned and centred on y ticks.
    let (x_lo, y_lo) = (x_axis.range().start, 0.0);
    for (t, label) in x_axis.ticks().iter().zip(x_axis.labels()) {
        let (px, py) = chart.backend_coord(&(*t, y_lo));
        let baseline = f64::from(py) + tick_mark + label_gap + tick_ascent;
        text::draw_text(
            root,
            font,
            &label,
            (f64::from(px), baseline),
            Style::new(m.tick, MUTED, Align::Centre),
        )?;
    }
    let mid = text::cap_height(font, m.tick) / 2.0;
    for (v, label) in y_axis.ticks().iter().zip(y_axis.labels()) {
        let (px, py) = chart.backend_coord(&(x_lo, *v));
        let right = f64::from(px) - tick_mark - label_gap;
        text::draw_text(
            root,
            font,
            &label,
            (right, f64::from(py) + mid),
            Style::new(m.tick, MUTED, Align::Right),
        )?;
    }
    let (left, bottom) = chart.backend_coord(&(x_lo, y_lo));
    let (right, _) = chart.backend_coord(&(x_axis.range().end, y_lo));
    let baseline = f64::from(bottom) + x_label_area + tick_ascent;
    let centre = f64::from(left + right) / 2.0;
    text::draw_text(
        root,
        font,
        "time (UTC)",
        (centre, baseline),
        Style::new(m.tick, FAINT, Align::Centre),
    )?;

    for (i, line) in lines.iter().enumerate() {
        if line.points.is_empty() {
            continue;
        }
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                colour.stroke_width(stroke(m.s)),
            ))
            .map_err(drawing)?;
        chart
            .draw_series(
                line.points
                    .iter()
                    .map(|&p| Circle::new(p, marker(m.s), colour.filled())),
            )
            .map_err(drawing)?;
    }
    Ok(())
}
