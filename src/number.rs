//! How counts and scores print: integers without a fraction, anything else with two decimals.
//!
//! Shared by every rendering (Markdown, plain text, Discord) and by subscription settings, so
//! `2546` never shows as `2546.0` in one place and `2546` in another.

/// `v` as a count: integral values without a fraction (`2546`), others with two decimals
/// (`2.50`), and anything not finite as `0`.
pub fn display(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.is_finite() {
        format!("{v:.2}")
    } else {
        "0".to_string()
    }
}
