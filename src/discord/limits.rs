//! Discord's message limits, checked on the JSON a message serializes to.
//!
//! Discord rejects a message that breaks any limit with a 400 and the whole digest post
//! fails, so every rendered message is checked in tests. The checker works on the serialized
//! JSON (what actually goes over the wire) rather than on our own model, so it also catches
//! mistakes in how the builders are used. Lengths are counted in characters, as Discord does.

use serde_json::Value;

/// Maximum characters of a message's `content`.
pub const CONTENT: usize = 2000;
/// Maximum embeds per message.
pub const EMBEDS: usize = 10;
/// Maximum characters of all embeds of a message together.
pub const EMBED_TOTAL: usize = 6000;
/// Maximum characters of an embed title.
pub const TITLE: usize = 256;
/// Maximum characters of an embed description.
pub const DESCRIPTION: usize = 4096;
/// Maximum fields per embed.
pub const FIELDS: usize = 25;
/// Maximum characters of a field name.
pub const FIELD_NAME: usize = 256;
/// Maximum characters of a field value.
pub const FIELD_VALUE: usize = 1024;
/// Maximum characters of an embed footer's text.
pub const FOOTER: usize = 2048;
/// Maximum characters of an embed author's name.
pub const AUTHOR_NAME: usize = 256;

/// One broken limit; `what` names the JSON place (`embeds[2].title`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where in the message (`content`, `embeds[3].fields[1].value`, `embeds`).
    pub what: String,
    /// The measured length or count.
    pub actual: usize,
    /// The limit it exceeds (0 for a property check such as mentions).
    pub limit: usize,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} > {}", self.what, self.actual, self.limit)
    }
}

fn chars_of(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

fn check(out: &mut Vec<Violation>, what: String, actual: usize, limit: usize) {
    if actual > limit {
        out.push(Violation {
            what,
            actual,
            limit,
        });
    }
}

/// Returns every limit `message` (a serialized message body) breaks; empty when it is valid.
///
/// Also reports, as `allowed_mentions` with limit 0, a message that does not disable every
/// mention (`"allowed_mentions": {"parse": []}` with no user or role ids), because every
/// message hotpapers sends must be unable to ping anyone.
pub fn violations(message: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    check(
        &mut out,
        "content".into(),
        chars_of(message.get("content")),
        CONTENT,
    );
    let mentions_off = message.get("allowed_mentions").is_some_and(|m| {
        m.get("parse")
            .and_then(Value::as_array)
            .is_some_and(|a| a.is_empty())
            && ["users", "roles"].iter().all(|k| {
                m.get(*k)
                    .and_then(Value::as_array)
                    .is_none_or(|a| a.is_empty())
            })
    });
    if !mentions_off {
        out.push(Violation {
            what: "allowed_mentions".into(),
            actual: 1,
            limit: 0,
        });
    }
    let embeds = message
        .get("embeds")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    check(&mut out, "embeds".into(), embeds.len(), EMBEDS);
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let title = chars_of(e.get("title"));
        let description = chars_of(e.get("description"));
        let footer = chars_of(e.get("footer").and_then(|f| f.get("text")));
        let author = chars_of(e.get("author").and_then(|a| a.get("name")));
        check(&mut out, format!("embeds[{i}].title"), title, TITLE);
        check(
            &mut out,
            format!("embeds[{i}].description"),
            description,
            DESCRIPTION,
        );
        check(&mut out, format!("embeds[{i}].footer.text"), footer, FOOTER);
        check(
            &mut out,
            format!("embeds[{i}].author.name"),
            author,
            AUTHOR_NAME,
        );
        total += title + description + footer + author;
        let fields = e
            .get("fields")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        check(
            &mut out,
            format!("embeds[{i}].fields"),
            fields.len(),
            FIELDS,
        );
        for (j, f) in fields.iter().enumerate() {
            let name = chars_of(f.get("name"));
            let value = chars_of(f.get("value"));
            check(
                &mut out,
                format!("embeds[{i}].fields[{j}].name"),
                name,
                FIELD_NAME,
            );
            check(
                &mut out,
                format!("embeds[{i}].fields[{j}].value"),
                value,
                FIELD_VALUE,
            );
            total += name + value;
        }
    }
    check(
        &mut out,
        "embeds (total characters)".into(),
        total,
        EMBED_TOTAL,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_small_valid_message_passes() {
        let m = json!({"content": "hi", "allowed_mentions": {"parse": []},
            "embeds": [{"title": "t", "description": "d", "footer": {"text": "f"}}]});
        assert_eq!(violations(&m), vec![]);
    }

    #[test]
    fn every_limit_is_reported() {
        let long = |n: usize| "é".repeat(n);
        let fields: Vec<Value> = (0..26)
            .map(|_| json!({"name": long(257), "value": long(1025)}))
            .collect();
        let m = json!({"content": long(2001), "allowed_mentions": {"parse": ["everyone"]},
            "embeds": [{"title": long(257), "description": long(4097),
                        "footer": {"text": long(2049)}, "author": {"name": long(257)},
                        "fields": fields}]});
        let v = violations(&m);
        let whats: Vec<&str> = v.iter().map(|x| x.what.as_str()).collect();
        for w in [
            "content",
            "allowed_mentions",
            "embeds[0].title",
            "embeds[0].description",
            "embeds[0].footer.text",
            "embeds[0].author.name",
            "embeds[0].fields",
            "embeds[0].fields[25].name",
            "embeds[0].fields[0].value",
            "embeds (total characters)",
        ] {
            assert!(whats.contains(&w), "{w} missing from {whats:?}");
        }
    }

    #[test]
    fn limits_are_inclusive_and_count_chars() {
        let m = json!({"content": "é".repeat(2000), "allowed_mentions": {"parse": []}});
        assert_eq!(violations(&m), vec![]);
    }

    #[test]
    fn too_many_embeds_and_missing_mentions_setting() {
        let embeds: Vec<Value> = (0..11).map(|_| json!({"title": "x"})).collect();
        let v = violations(&json!({ "embeds": embeds }));
        assert!(v.iter().any(|x| x.what == "embeds" && x.actual == 11));
        assert!(v.iter().any(|x| x.what == "allowed_mentions"));
        let users = json!({"allowed_mentions": {"parse": [], "users": ["1"]}});
        assert!(
            violations(&users)
                .iter()
                .any(|x| x.what == "allowed_mentions")
        );
    }

    #[test]
    fn embed_total_sums_across_embeds() {
        let embeds: Vec<Value> = (0..2)
            .map(|_| json!({"description": "a".repeat(3001)}))
            .collect();
        let v = violations(&json!({"allowed_mentions": {"parse": []}, "embeds": embeds}));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].actual, 6002);
    }
}
