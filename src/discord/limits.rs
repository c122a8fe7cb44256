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
/// Maximum action rows per message.
pub const ACTION_ROWS: usize = 5;
/// Maximum buttons per action row.
pub const ROW_BUTTONS: usize = 5;
/// Maximum characters of a component's `custom_id` (and at least 1).
pub const CUSTOM_ID: usize = 100;
/// Maximum characters of a button label.
pub const BUTTON_LABEL: usize = 80;
/// Maximum characters of a link button's URL.
pub const BUTTON_URL: usize = 512;
/// Maximum autocomplete choices in one response.
pub const CHOICES: usize = 25;
/// Maximum characters of an autocomplete choice's name and string value (and at least 1 for
/// the name).
pub const CHOICE_TEXT: usize = 100;

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
    component_violations(&mut out, message);
    choice_violations(&mut out, message);
    out
}

/// Button rows: at most 5 rows of at most 5 buttons; `custom_id` 1..=100 characters, labels
/// at most 80, URLs at most 512. Discord rejects the whole response otherwise.
fn component_violations(out: &mut Vec<Violation>, message: &Value) {
    let rows = message
        .get("components")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    check(out, "components".into(), rows.len(), ACTION_ROWS);
    for (i, row) in rows.iter().enumerate() {
        let items = row
            .get("components")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        check(out, format!("components[{i}]"), items.len(), ROW_BUTTONS);
        if items.is_empty() {
            out.push(Violation {
                what: format!("components[{i}] (empty row)"),
                actual: 0,
                limit: 1,
            });
        }
        for (j, c) in items.iter().enumerate() {
            let at = format!("components[{i}].components[{j}]");
            if let Some(id) = c.get("custom_id") {
                let n = chars_of(Some(id));
                check(out, format!("{at}.custom_id"), n, CUSTOM_ID);
                if n == 0 {
                    out.push(Violation {
                        what: format!("{at}.custom_id (empty)"),
                        actual: 0,
                        limit: 1,
                    });
                }
            }
            check(
                out,
                format!("{at}.label"),
                chars_of(c.get("label")),
                BUTTON_LABEL,
            );
            check(out, format!("{at}.url"), chars_of(c.get("url")), BUTTON_URL);
        }
    }
}

/// Autocomplete choices: at most 25, names 1..=100 characters, string values at most 100.
fn choice_violations(out: &mut Vec<Violation>, message: &Value) {
    let Some(choices) = message.get("choices").and_then(Value::as_array) else {
        return;
    };
    check(out, "choices".into(), choices.len(), CHOICES);
    for (i, c) in choices.iter().enumerate() {
        let name = chars_of(c.get("name"));
        check(out, format!("choices[{i}].name"), name, CHOICE_TEXT);
        if name == 0 {
            out.push(Violation {
                what: format!("choices[{i}].name (empty)"),
                actual: 0,
                limit: 1,
            });
        }
        check(
            out,
            format!("choices[{i}].value"),
            chars_of(c.get("value")),
            CHOICE_TEXT,
        );
    }
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
    fn components_and_choices_are_checked() {
        let button =
            |id: String| json!({"type": 2, "style": 1, "custom_id": id, "label": "x".repeat(81)});
        let rows: Vec<Value> = (0..6)
            .map(|_| json!({"type": 1, "components": (0..6).map(|_| button("a".repeat(101))).collect::<Vec<_>>()}))
            .collect();
        let v = violations(&json!({"allowed_mentions": {"parse": []}, "components": rows}));
        let whats: Vec<&str> = v.iter().map(|x| x.what.as_str()).collect();
        for w in [
            "components",
            "components[0]",
            "components[5].components[5].custom_id",
            "components[0].components[0].label",
        ] {
            assert!(whats.contains(&w), "{w} missing from {whats:?}");
        }
        let empty = json!({"allowed_mentions": {"parse": []},
            "components": [{"type": 1, "components": [button(String::new())]}, {"type": 1, "components": []}]});
        let whats: Vec<String> = violations(&empty).into_iter().map(|x| x.what).collect();
        assert!(whats.contains(&"components[0].components[0].custom_id (empty)".to_string()));
        assert!(whats.contains(&"components[1] (empty row)".to_string()));
        let choices: Vec<Value> = (0..26)
            .map(|_| json!({"name": "", "value": "v".repeat(101)}))
            .collect();
        let whats: Vec<String> =
            violations(&json!({"allowed_mentions": {"parse": []}, "choices": choices}))
                .into_iter()
                .map(|x| x.what)
                .collect();
        for w in ["choices", "choices[0].name (empty)", "choices[25].value"] {
            assert!(whats.iter().any(|x| x == w), "{w} missing from {whats:?}");
        }
        let ok = json!({"allowed_mentions": {"parse": []}, "choices": [{"name": "cs.LG", "value": "cs.LG"}],
            "components": [{"type": 1, "components": [{"type": 2, "style": 5, "url": "https://arxiv.org/abs/1", "label": "abs"}]}]});
        assert_eq!(violations(&ok), vec![]);
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
