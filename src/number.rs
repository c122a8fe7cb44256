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

/// `v` as a count for people: like [`display`], with thousands separated by commas
/// (`2,546`, `1,234,567.50`), the way the cards and the console say it.
pub fn grouped(v: f64) -> String {
    let plain = display(v);
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain.as_str()),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_print_as_people_write_them() {
        assert_eq!(display(2546.0), "2546");
        assert_eq!(display(2.5), "2.50");
        assert_eq!(display(f64::NAN), "0");
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(2546.0), "2,546");
        assert_eq!(grouped(1_234_567.5), "1,234,567.50");
        assert_eq!(grouped(-340.0), "-340");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(f64::INFINITY), "0");
    }
}
