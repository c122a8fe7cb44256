//! How durations read and print in the configuration: any humantime form in (`90s`, `24h`,
//! `1day`, `1h 30m`), and out (`config show`) the way the docs write them: hours below two
//! days (`24h`, not humantime's `1day`), humantime's own form otherwise.

use std::time::Duration;

use serde::{Deserializer, Serializer};

/// Serde `deserialize_with`: humantime's parser.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    humantime_serde::deserialize(d)
}

/// Serde `serialize_with`: [`display`].
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display(*d))
}

/// A duration as the docs write it: `24h`, `6h`, `90s`, `3days`, `500ms`.
pub fn display(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() == 0 && secs > 0 && secs.is_multiple_of(3600) && secs < 48 * 3600 {
        format!("{}h", secs / 3600)
    } else {
        humantime::format_duration(d).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_the_docs_write_them() {
        assert_eq!(display(Duration::from_secs(24 * 3600)), "24h");
        assert_eq!(display(Duration::from_secs(6 * 3600)), "6h");
        assert_eq!(display(Duration::from_secs(90)), "1m 30s");
        assert_eq!(display(Duration::from_secs(3 * 86400)), "3days");
        assert_eq!(display(Duration::ZERO), "0s");
    }
}
