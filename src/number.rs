//! How counts and scores print: integers without a fraction, anything else with two decimals;
//! in JSON, integers without a fraction and anything else as it is ([`JsonNumber`]).
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

/// `v` as a JSON number: integral values as integers (`2546`, not `2546.0`), others as they are
/// (`7.94`), and values JSON cannot hold (NaN, infinities) as `null`. Every JSON output writes
/// its counts and scores through it (`serialize_with` one of the functions below).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JsonNumber(pub f64);

/// The largest integer an `f64` holds exactly (2^53): beyond it a float is kept as a float.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

impl serde::Serialize for JsonNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if !v.is_finite() {
            s.serialize_none()
        } else if v.fract() == 0.0 && v.abs() <= EXACT_INTEGER {
            // Exact: an integral f64 within ±2^53 is an i64.
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

/// `serialize_with` for an `f64` field: [`JsonNumber`].
pub fn serialize_json<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&JsonNumber(*v), s)
}

/// `serialize_with` for an `Option<f64>` field: [`JsonNumber`] or `null`.
pub fn serialize_json_option<S: serde::Serializer>(
    v: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => serialize_json(v, s),
        None => s.serialize_none(),
    }
}

/// `serialize_with` for a map of numbers (owned or borrowed): each value a [`JsonNumber`].
pub fn serialize_json_map<S, M>(m: &M, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    M: std::borrow::Borrow<std::collections::BTreeMap<String, f64>>,
{
    s.collect_map(m.borrow().iter().map(|(k, v)| (k, JsonNumber(*v))))
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

    #[test]
    fn json_numbers_are_integers_when_integral() {
        let json = |v: f64| serde_json::to_string(&JsonNumber(v)).unwrap_or_default();
        assert_eq!(json(259.0), "259");
        assert_eq!(json(-3.0), "-3");
        assert_eq!(json(0.0), "0");
        assert_eq!(json(7.94), "7.94");
        assert_eq!(json(1e300), "1e+300");
        assert_eq!(json(f64::NAN), "null");
    }
}
