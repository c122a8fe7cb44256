//! The extractive summarizer's linear model: a weight per feature, learned from SciTLDR-A
//! train by `examples/train_summarizer.rs` and compiled into the binary from `model.tsv`.
//!
//! The file is text so that a retrain shows up as a reviewable diff, and so the trainer needs
//! no Rust code generation. It is parsed once, on first use.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::features::{DENSE, DENSE_NAMES, SentenceFeatures};

/// The trained weights, as `kind<TAB>name<TAB>weight` lines (`kind` is `dense` or `sparse`).
const MODEL_TSV: &str = include_str!("model.tsv");

/// The parsed model.
static MODEL: LazyLock<Model> = LazyLock::new(|| Model::parse(MODEL_TSV).unwrap_or_default());

/// Weights of a linear sentence scorer.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// In the order of [`DENSE_NAMES`].
    pub dense: [f64; DENSE],
    /// By sparse feature name (see [`SentenceFeatures::sparse`]).
    pub sparse: HashMap<String, f64>,
}

/// Why a model file does not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("model line {line}: expected `dense|sparse<TAB>name<TAB>weight`")]
    Malformed { line: usize },
    #[error("model line {line}: unknown dense feature `{name}`")]
    UnknownDense { line: usize, name: String },
    #[error("model has no weight for dense feature `{0}`")]
    MissingDense(&'static str),
}

impl Default for Model {
    /// All weights zero: every sentence ties, so the first one wins.
    fn default() -> Model {
        Model {
            dense: [0.0; DENSE],
            sparse: HashMap::new(),
        }
    }
}

impl Model {
    /// Parses `kind<TAB>name<TAB>weight` lines; `#` lines and blank lines are comments. Every
    /// dense feature must have a weight, so a model trained for other features is refused.
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let mut model = Model::default();
        let mut seen = [false; DENSE];
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(kind), Some(name), Some(weight), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(ModelError::Malformed { line: line_no });
            };
            let weight: f64 = weight
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite())
                .ok_or(ModelError::Malformed { line: line_no })?;
            match kind {
                "dense" => {
                    let Some(j) = DENSE_NAMES.iter().position(|n| *n == name) else {
                        return Err(ModelError::UnknownDense {
                            line: line_no,
                            name: name.to_string(),
                        });
                    };
                    model.dense[j] = weight;
                    seen[j] = true;
                }
                "sparse" => {
                    model.sparse.insert(name.to_string(), weight);
                }
                _ => return Err(ModelError::Malformed { line: line_no }),
            }
        }
        if let Some(j) = seen.iter().position(|s| !s) {
            return Err(ModelError::MissingDense(DENSE_NAMES[j]));
        }
        Ok(model)
    }

    /// A sentence's score: its features dotted with the weights.
    pub fn score(&self, f: &SentenceFeatures) -> f64 {
        let dense: f64 = f.dense.iter().zip(&self.dense).map(|(x, w)| x * w).sum();
        let sparse: f64 = f.sparse.iter().filter_map(|n| self.sparse.get(n)).sum();
        dense + sparse
    }

    /// The model as `model.tsv` text, after a `#` header.
    pub fn to_tsv(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        for (name, w) in DENSE_NAMES.iter().zip(&self.dense) {
            out.push_str(&format!("dense\t{name}\t{w:.6}\n"));
        }
        let mut sparse: Vec<_> = self.sparse.iter().collect();
        sparse.sort_by(|a, b| a.0.cmp(b.0));
        for (name, w) in sparse {
            out.push_str(&format!("sparse\t{name}\t{w:.6}\n"));
        }
        out
    }
}

/// The model compiled into the binary.
pub fn compiled() -> &'static Model {
    &MODEL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_model_parses_and_covers_every_dense_feature() {
        let model = Model::parse(MODEL_TSV).expect("model.tsv parses");
        assert!(
            model.sparse.len() > 100,
            "{} sparse weights",
            model.sparse.len()
        );
        assert!(model.dense.iter().any(|w| *w != 0.0));
    }

    #[test]
    fn round_trips_and_rejects_bad_lines() {
        let mut m = Model::default();
        m.dense[0] = -0.5;
        m.sparse.insert("w:propos".into(), 0.25);
        let text = m.to_tsv("header");
        assert_eq!(Model::parse(&text), Ok(m));
        assert_eq!(
            Model::parse("dense\tbias\tx\n"),
            Err(ModelError::Malformed { line: 1 })
        );
        assert_eq!(
            Model::parse("dense\tnope\t1\n"),
            Err(ModelError::UnknownDense {
                line: 1,
                name: "nope".into()
            })
        );
        assert_eq!(
            Model::parse("# only a comment\n"),
            Err(ModelError::MissingDense("bias"))
        );
    }
}
