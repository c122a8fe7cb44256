//! Text for the chart: the bundled font, its one-time registration with plotters, and the
//! clean-up and fitting of caller-supplied strings (titles come from arXiv metadata and can
//! hold anything).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::prelude::{FontDesc, FontFamily, RGBColor, Text};
use plotters::style::FontStyle;

use super::ChartError;
use super::draw::Area;

/// DejaVu Sans, regular weight (see `assets/fonts/LICENSE-DejaVu.txt`). Bundled so that a
/// chart renders the same on any machine, with no system fonts, fontconfig or freetype.
const FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

/// The family name the bundled font is registered under with plotters. A private name, so no
/// other registration in the process can swap the chart's font; it is also registered as
/// plotters' default `sans-serif` so that nothing drawn with the default family fails.
pub(super) const FAMILY: &str = "hotpapers-dejavu-sans";

/// The font, parsed and registered with plotters once per process.
///
/// A font that does not parse (it is compiled in, so only a broken build could do that) is a
/// [`ChartError::Font`], never a panic.
pub(super) fn font() -> Result<&'static FontRef<'static>, ChartError> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| {
        let font = FontRef::try_from_slice(FONT_BYTES).ok()?;
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).ok()?;
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES).ok()?;
        Some(font)
    })
    .as_ref()
    .ok_or(ChartError::Font)
}

/// At most this many characters of any caller string are looked at, so a hostile
/// megabyte-long title costs nothing; a string cut here always ends in an ellipsis.
const MAX_CHARS: usize = 1_000;

/// A caller string made safe to draw: control and format characters (bidi overrides such as
/// U+202E, zero-width joiners, BOMs, variation selectors) removed, characters the font has no
/// glyph for (emoji, CJK) removed rather than drawn as boxes, whitespace runs collapsed to one
/// space. Returns the text and whether it was cut at [`MAX_CHARS`].
pub(super) fn clean(text: &str, font: &FontRef<'_>) -> (String, bool) {
    let mut out = String::new();
    let mut pending_space = false;
    let mut kept = 0usize;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible_format(c) || font.glyph_id(c).0 == 0 {
            continue;
        }
        if kept >= MAX_CHARS {
            return (out, true);
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        kept += 1;
    }
    (out, false)
}

/// Unicode format characters (general category Cf) and other invisible code points that
/// change how neighbouring text is shown rather than being shown themselves.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x08E2
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// The width in pixels of `text` drawn at `size` pixels, measured the way plotters' ab_glyph
/// backend lays it out (advances plus kerning).
pub(super) fn width(font: &FontRef<'_>, size: f64, text: &str) -> f64 {
    let scaled = font.as_scaled(size as f32);
    let mut total = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            total += scaled.kern(p, id);
        }
        total += scaled.h_advance(id);
        prev = Some(id);
    }
    f64::from(total)
}

/// `text` cleaned (see [`clean`]) and cut with an ellipsis so that it is at most `max_width`
/// pixels wide at `size` pixels. Empty when nothing drawable is left.
pub(super) fn fit(font: &FontRef<'_>, text: &str, size: f64, max_width: f64) -> String {
    let (text, cut) = clean(text, font);
    if !cut && width(font, size, &text) <= max_width {
        return text;
    }
    let ellipsis = if font.glyph_id('…').0 != 0 {
        "…"
    } else {
        "..."
    };
    let budget = max_width - width(font, size, ellipsis);
    let scaled = font.as_scaled(size as f32);
    let mut total = 0f32;
    let mut prev = None;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            total += scaled.kern(p, id);
        }
        total += scaled.h_advance(id);
        prev = Some(id);
        if f64::from(total) > budget {
            break;
        }
        end = i + c.len_utf8();
    }
    let kept = text[..end].trim_end();
    if kept.is_empty() {
        return String::new();
    }
    format!("{kept}{ellipsis}")
}

/// Where a line of text sits relative to the x it is drawn at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Align {
    /// The text starts at x.
    Left,
    /// The text is centred on x.
    Centre,
    /// The text ends at x.
    Right,
}

/// How far above the baseline the top of a capital or digit is, at `size` pixels: half of it is
/// where a marker beside the text, or a tick, should line up.
pub(super) fn cap_height(font: &FontRef<'_>, size: f64) -> f64 {
    let scaled = font.as_scaled(size as f32);
    let id = scaled.glyph_id('H');
    font.outline_glyph(id.with_scale(scaled.scale()))
        .map_or(size * 0.6, |g| -f64::from(g.px_bounds().min.y))
}

/// The distance from the top of a line of text at `size` pixels to its baseline.
pub(super) fn ascent(font: &FontRef<'_>, size: f64) -> f64 {
    f64::from(font.as_scaled(size as f32).ascent())
}

/// How a line of text is drawn: size in pixels, colour, alignment.
#[derive(Clone, Copy, Debug)]
pub(super) struct Style {
    /// The font size in pixels.
    pub size: f64,
    /// The text colour.
    pub colour: RGBColor,
    /// Where the text sits relative to its x.
    pub align: Align,
}

impl Style {
    /// A style of `size` pixels in `colour`, aligned by `align`.
    pub(super) fn new(size: f64, colour: RGBColor, align: Align) -> Style {
        Style {
            size,
            colour,
            align,
        }
    }
}

/// Draws `text` (already cleaned and fitted) at `(x, baseline)`.
///
/// Glyph by glyph through plotters' ab_glyph text rendering, each placed by its own advance,
/// kerning and left side bearing: plotters lays a whole string out by advances alone, which
/// misplaces glyphs whose outline does not start at the pen ("2 1", "atten ti on").
pub(super) fn draw_text(
    root: &Area<'_>,
    font: &FontRef<'_>,
    text: &str,
    (x, baseline): (f64, f64),
    Style {
        size,
        colour,
        align,
    }: Style,
) -> Result<(), ChartError> {
    let start = match align {
        Align::Left => x,
        Align::Centre => x - width(font, size, text) / 2.0,
        Align::Right => x - width(font, size, text),
    };
    let style = FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal).color(&colour);
    // plotters puts the baseline half the font size below the point it is given.
    let top = (baseline - size / 2.0).round() as i32;
    let scaled = font.as_scaled(size as f32);
    let mut pen = start;
    let mut prev = None;
    let mut one = [0u8; 4];
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += f64::from(scaled.kern(p, id));
        }
        prev = Some(id);
        if let Some(outline) = font.outline_glyph(id.with_scale(scaled.scale())) {
            let left = pen.round() as i32 + outline.px_bounds().min.x as i32;
            let glyph: &str = c.encode_utf8(&mut one);
            root.draw(&Text::new(glyph, (left, top), style.clone()))
                .map_err(|e| ChartError::Drawing(e.to_string()))?;
        }
        pen += f64::from(scaled.h_advance(id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> &'static FontRef<'static> {
        font().expect("the bundled font parses")
    }

    #[test]
    fn control_and_format_characters_are_removed() {
        let (s, cut) = clean(
            "\u{202E}evil\u{0000}\u{200B} title\t\n with\u{FEFF}  gaps ",
            f(),
        );
        assert_eq!(s, "evil title with gaps");
        assert!(!cut);
    }

    #[test]
    fn characters_without_a_glyph_are_dropped_not_boxed() {
        let (s, _) = clean("🔥 Hot 大規模 paper 👩‍🔬", f());
        assert_eq!(s, "Hot paper");
        let (s, _) = clean("Ünïcödé — α β γ", f());
        assert_eq!(s, "Ünïcödé — α β γ");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_to_fit() {
        let long = "Attention ".repeat(10_000);
        let out = fit(f(), &long, 20.0, 300.0);
        assert!(out.ends_with('…'), "{out}");
        assert!(width(f(), 20.0, &out) <= 300.0);
        assert_eq!(fit(f(), "Short", 20.0, 300.0), "Short");
        assert_eq!(fit(f(), "Short", 20.0, 1.0), "");
        assert_eq!(fit(f(), "\u{202E}\u{0007}", 20.0, 300.0), "");
    }
}
