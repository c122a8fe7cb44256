//! Charts of a paper's attention over time, rendered in process to PNG bytes.
//!
//! A pure rendering layer: it knows nothing of papers, stores or Discord, only labelled time
//! series, so any front end can attach the picture (the Discord bot as a file, the CLI to
//! disk). It draws with `plotters` into an in-memory RGB buffer, with text from a DejaVu Sans
//! font compiled into the binary (no system fonts, fontconfig or freetype: the same picture on
//! every machine and in a slim container), and encodes the buffer with `png`.
//!
//! It never panics on data: values that are not finite or are negative are skipped, points are
//! sorted, a lone snapshot gets a day-wide window, no data at all gives a picture saying
//! [`NO_DATA`], and titles are cleaned of control and bidi-override characters and cut to fit.
//! The only errors are a size out of range, and a drawing or encoding failure.

mod axes;
mod draw;
mod text;

use chrono::{DateTime, Utc};
use plotters::backend::RGBPixel;
use plotters::prelude::{BitMapBackend, IntoDrawingArea, WHITE};

/// What the chart says in place of a plot when no series has a usable point: a reader of a
/// fresh paper's chart learns that nothing was measured yet, not that the bot is broken.
pub const NO_DATA: &str = "No attention measured yet";

/// One line of the chart: a source's attention (e.g. "X", "Bluesky", "Hacker News", "Hugging
/// Face") over time.
///
/// `points` are (snapshot time, value) pairs in any order; they are sorted before drawing.
/// Points whose value is NaN, infinite or negative are not measurements and are skipped. A
/// series left with no point is still listed in the legend, as "label (no data)", so a reader
/// sees which sources were looked at; it draws no line. The series' colour is fixed by its
/// position in [`ChartSpec::series`], so callers that list sources in a stable order get stable
/// colours across charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label, e.g. "Hacker News". Cleaned and shortened like the title.
    pub label: String,
    /// The measurements: when, and how much attention.
    pub points: Vec<(DateTime<Utc>, f64)>,
}

impl Series {
    /// A series from a label and its points, so callers need not spell out the struct.
    pub fn new(label: impl Into<String>, points: Vec<(DateTime<Utc>, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
        }
    }
}

/// Everything a chart shows, and its size in pixels.
///
/// The title is usually the paper's title; it may hold any Unicode: control and format
/// characters (such as the right-to-left override U+202E) are removed, characters the bundled
/// font cannot draw (emoji, CJK) are left out rather than drawn as boxes, and it is cut with an
/// ellipsis to fit the width. A title with nothing drawable left is simply not drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// The first line, e.g. the paper's title.
    pub title: String,
    /// A smaller second line, e.g. "2107.00641 · attention over time".
    pub subtitle: Option<String>,
    /// The lines to draw, one per attention source; colours follow this order.
    pub series: Vec<Series>,
    /// Width in pixels, [`ChartSpec::MIN_SIDE`] to [`ChartSpec::MAX_SIDE`].
    pub width: u32,
    /// Height in pixels, [`ChartSpec::MIN_SIDE`] to [`ChartSpec::MAX_SIDE`].
    pub height: u32,
}

impl ChartSpec {
    /// The default width: fits a Discord embed image without scaling.
    pub const DEFAULT_WIDTH: u32 = 800;
    /// The default height: a 2:1 chart, tall enough to read four or five value ticks.
    pub const DEFAULT_HEIGHT: u32 = 400;
    /// The smallest side accepted: below it the labels cannot fit.
    pub const MIN_SIDE: u32 = 200;
    /// The largest side accepted: bounds the buffer (48 MB at most) and the time to draw it.
    pub const MAX_SIDE: u32 = 4000;

    /// A chart of the default size with no subtitle.
    pub fn new(title: impl Into<String>, series: Vec<Series>) -> ChartSpec {
        ChartSpec {
            title: title.into(),
            subtitle: None,
            series,
            width: Self::DEFAULT_WIDTH,
            height: Self::DEFAULT_HEIGHT,
        }
    }
}

/// Why a chart could not be rendered. Data never causes one: bad values are skipped and no data
/// draws a picture that says so.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The requested size is out of range; the caller should pass a sensible one.
    #[error(
        "chart size {width}×{height} is not allowed: each side must be {min} to {max} pixels",
        min = ChartSpec::MIN_SIDE,
        max = ChartSpec::MAX_SIDE
    )]
    InvalidSize {
        /// The requested width.
        width: u32,
        /// The requested height.
        height: u32,
    },
    /// The bundled font did not load: a broken build, not bad input.
    #[error("the chart font bundled with hotpapers could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing the chart failed: {0}")]
    Drawing(String),
    /// The PNG encoder failed.
    #[error("encoding the chart as PNG failed: {0}")]
    Encoding(String),
}

/// Renders `spec` as a PNG image of exactly `spec.width` × `spec.height` pixels: white
/// background, title, subtitle, a legend above the plot (so it never hides a line), time in UTC
/// across, attention from 0 up, one coloured line with point markers per series.
///
/// Pure and deterministic: the same spec gives the same bytes; nothing is read from disk or the
/// system.
pub fn render_png(spec: &ChartSpec) -> Result<Vec<u8>, ChartError> {
    let (width, height) = (spec.width, spec.height);
    let allowed = ChartSpec::MIN_SIDE..=ChartSpec::MAX_SIDE;
    if !allowed.contains(&width) || !allowed.contains(&height) {
        return Err(ChartError::InvalidSize { width, height });
    }
    let font = text::font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (width, height))
            .map_err(|e| ChartError::Drawing(e.to_string()))?;
        let root = backend.into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| ChartError::Drawing(e.to_string()))?;
        draw::draw(&root, spec, font)?;
        root.present()
            .map_err(|e| ChartError::Drawing(e.to_string()))?;
    }
    encode(&rgb, width, height)
}

/// The RGB buffer as an 8-bit RGB PNG.
fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let err = |e: png::EncodingError| ChartError::Encoding(e.to_string());
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// A decoded picture: width, height, RGB bytes.
    struct Picture {
        width: u32,
        height: u32,
        rgb: Vec<u8>,
    }

    impl Picture {
        fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
        }

        /// Pixels of exactly `colour` in rows `from_y..`.
        fn count(&self, colour: [u8; 3], from_y: u32) -> usize {
            (from_y..self.height)
                .flat_map(|y| (0..self.width).map(move |x| (x, y)))
                .filter(|&(x, y)| self.pixel(x, y) == colour)
                .count()
        }

        fn non_white(&self) -> usize {
            self.rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count()
        }
    }

    fn decode(png_bytes: &[u8]) -> Picture {
        assert!(png_bytes.starts_with(&PNG_SIGNATURE), "not a PNG");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("PNG header");
        assert_eq!(
            reader.output_color_type(),
            (png::ColorType::Rgb, png::BitDepth::Eight)
        );
        let mut rgb = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut rgb).expect("PNG data");
        rgb.truncate(info.buffer_size());
        Picture {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn render(spec: &ChartSpec) -> Picture {
        decode(&render_png(spec).expect("renders"))
    }

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 7, 1, 9, 0, 0)
            .single()
            .expect("valid date")
            + Duration::hours(hours)
    }

    fn rgb(c: plotters::style::RGBColor) -> [u8; 3] {
        [c.0, c.1, c.2]
    }

    /// Three snapshots over two days, two sources.
    fn two_series() -> ChartSpec {
        ChartSpec {
            subtitle: Some("2107.00641 · attention over time".into()),
            ..ChartSpec::new(
                "Deep learning for hot papers",
                vec![
                    Series::new("X", vec![(at(0), 3.0), (at(24), 40.0), (at(48), 55.0)]),
                    Series::new("Bluesky", vec![(at(0), 1.0), (at(24), 9.0), (at(48), 30.0)]),
                ],
            )
        }
    }

    /// The first row below the header (title, subtitle, one legend row end above y = 72 at
    /// 800×400): where the plot is, and the legend is not.
    fn plot_rows(p: &Picture) -> u32 {
        p.height * 85 / 400
    }

    #[test]
    fn the_output_is_a_png_of_the_requested_size() {
        let bytes = render_png(&two_series()).expect("renders");
        assert!(bytes.starts_with(&PNG_SIGNATURE));
        let p = decode(&bytes);
        assert_eq!((p.width, p.height), (800, 400));
        for (w, h) in [
            (600, 300),
            (200, 200),
            (4000, 200),
            (200, 4000),
            (1234, 567),
        ] {
            let p = render(&ChartSpec {
                width: w,
                height: h,
                ..two_series()
            });
            assert_eq!((p.width, p.height), (w, h));
        }
    }

    #[test]
    fn each_series_is_drawn_in_its_own_colour_in_the_plot() {
        let p = render(&two_series());
        let from = plot_rows(&p);
        for colour in [draw::PALETTE[0], draw::PALETTE[1]] {
            let n = p.count(rgb(colour), from);
            assert!(n > 500, "{colour:?}: only {n} pixels in the plot");
        }
        // The same chart with no points has the colours in the legend only.
        let mut empty = two_series();
        for s in &mut empty.series {
            s.points.clear();
        }
        empty.series.push(Series::new("HN", vec![(at(0), 2.0)]));
        let p = render(&empty);
        assert_eq!(p.count(rgb(draw::PALETTE[0]), plot_rows(&p)), 0);
        assert_eq!(p.count(rgb(draw::PALETTE[1]), plot_rows(&p)), 0);
        assert!(p.count(rgb(draw::PALETTE[2]), plot_rows(&p)) > 10);
    }

    #[test]
    fn the_background_is_white() {
        let p = render(&two_series());
        for (x, y) in [
            (0, 0),
            (p.width - 1, 0),
            (0, p.height - 1),
            (p.width - 1, p.height - 1),
        ] {
            assert_eq!(p.pixel(x, y), [255, 255, 255]);
        }
    }

    #[test]
    fn a_single_snapshot_draws_its_markers() {
        let spec = ChartSpec::new(
            "One snapshot",
            vec![
                Series::new("X", vec![(at(0), 12.0)]),
                Series::new("Hugging Face", vec![(at(0), 0.0)]),
            ],
        );
        let p = render(&spec);
        assert!(p.count(rgb(draw::PALETTE[0]), plot_rows(&p)) > 20);
        assert!(p.count(rgb(draw::PALETTE[1]), plot_rows(&p)) > 20);
    }

    #[test]
    fn no_data_draws_a_picture_that_says_so() {
        let none = render(&ChartSpec::new("Nothing yet", vec![]));
        let empty = render(&ChartSpec::new(
            "Nothing yet",
            vec![
                Series::new("X", vec![]),
                Series::new("Bluesky", vec![(at(0), f64::NAN), (at(1), -1.0)]),
            ],
        ));
        for p in [none, empty] {
            assert_eq!((p.width, p.height), (800, 400));
            assert!(p.non_white() > 500, "the title and the message are drawn");
            for c in draw::PALETTE {
                assert_eq!(p.count(rgb(c), 0), 0, "no series colour without data");
            }
        }
    }

    #[test]
    fn hostile_text_never_panics() {
        let titles = [
            "\u{202E}gnihtemos\u{202C} evil \u{0000}\u{0007}\u{001B}[31m\r\n\t".to_string(),
            "🔥🔥🔥 attention is all you need 👩‍🔬🏳️‍🌈".to_string(),
            "大規模言語モデル".to_string(),
            "\u{FEFF}\u{200B}\u{2066}\u{FE0F}".to_string(),
            "W".repeat(1_000_000),
            "x\u{0301}\u{0301}\u{0301}".repeat(5_000),
            "عنوان عربي طويل جدا".to_string(),
            String::new(),
        ];
        for title in titles {
            let spec = ChartSpec {
                subtitle: Some(title.clone()),
                series: vec![
                    Series::new(title.clone(), vec![(at(0), 1.0), (at(5), 2.0)]),
                    Series::new("\u{202E}", vec![(at(0), 3.0)]),
                ],
                ..ChartSpec::new(title, vec![])
            };
            let p = render(&spec);
            assert_eq!((p.width, p.height), (800, 400));
        }
    }

    #[test]
    fn awkward_data_gives_a_picture() {
        let t = at(0);
        let cases: Vec<Vec<Series>> = vec![
            // All points at one instant, across series.
            vec![
                Series::new("a", vec![(t, 1.0), (t, 5.0)]),
                Series::new("b", vec![(t, 2.0)]),
            ],
            // All zero.
            vec![Series::new("a", vec![(t, 0.0), (at(3), 0.0), (at(9), 0.0)])],
            // Huge values, and the largest.
            vec![Series::new("a", vec![(t, 1e12), (at(1), 3e12)])],
            vec![Series::new("a", vec![(t, f64::MAX), (at(1), 0.0)])],
            // Unusable values among good ones, unsorted.
            vec![Series::new(
                "a",
                vec![
                    (at(30), 4.0),
                    (at(2), f64::NAN),
                    (t, 1.0),
                    (at(9), f64::INFINITY),
                    (at(12), f64::NEG_INFINITY),
                    (at(20), -3.0),
                    (at(10), 2.5),
                ],
            )],
            // Extreme and far-apart timestamps.
            vec![Series::new(
                "a",
                vec![
                    (DateTime::<Utc>::MIN_UTC, 1.0),
                    (DateTime::<Utc>::MAX_UTC, 2.0),
                ],
            )],
            vec![Series::new("a", vec![(DateTime::<Utc>::MAX_UTC, 2.0)])],
            vec![Series::new(
                "a",
                vec![(t, 1.0), (t + Duration::seconds(1), 2.0)],
            )],
            // Many series, many points.
            (0..40)
                .map(|i| {
                    Series::new(
                        format!("source number {i}"),
                        (0..200).map(|k| (at(k), (i * k) as f64)).collect(),
                    )
                })
                .collect(),
        ];
        for series in cases {
            let p = render(&ChartSpec::new("Edge case", series.clone()));
            assert_eq!((p.width, p.height), (800, 400), "{series:?}");
            let usable = series
                .iter()
                .any(|s| s.points.iter().any(|(_, v)| v.is_finite() && *v >= 0.0));
            if usable {
                let lines: usize = draw::PALETTE
                    .iter()
                    .map(|&c| p.count(rgb(c), plot_rows(&p)))
                    .sum();
                assert!(lines > 0, "nothing drawn for {series:?}");
            }
        }
    }

    #[test]
    fn unsorted_points_draw_the_same_as_sorted_ones() {
        let sorted = two_series();
        let mut shuffled = sorted.clone();
        for s in &mut shuffled.series {
            s.points.reverse();
        }
        assert_eq!(render_png(&sorted).ok(), render_png(&shuffled).ok());
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(
            render_png(&two_series()).ok(),
            render_png(&two_series()).ok()
        );
    }

    #[test]
    fn sizes_out_of_range_are_refused_with_a_clear_message() {
        for (w, h) in [
            (199, 400),
            (800, 199),
            (4001, 400),
            (800, 4001),
            (0, 0),
            (u32::MAX, u32::MAX),
        ] {
            let spec = ChartSpec {
                width: w,
                height: h,
                ..two_series()
            };
            match render_png(&spec) {
                Err(e @ ChartError::InvalidSize { width, height }) => {
                    assert_eq!((width, height), (w, h));
                    let msg = e.to_string();
                    assert!(msg.contains(&format!("{w}×{h}")), "{msg}");
                    assert!(msg.contains("200 to 4000 pixels"), "{msg}");
                }
                other => panic!("{w}×{h}: {other:?}"),
            }
        }
    }
}
