//! Trains the extractive summarizer's sentence scorer on SciTLDR-A and writes
//! `src/summary/model.tsv`, which the binary compiles in.
//!
//! ```text
//! cargo run --release --example train_summarizer -- \
//!     ../shared/data/scitldr/train.jsonl --dev ../shared/data/scitldr/dev.jsonl \
//!     --out src/summary/model.tsv
//! ```
//!
//! Each abstract goes through the same pipeline as at run time (LaTeX to text, sentence split,
//! features). A sentence's target is the ROUGE-1 F of its compressed form against the paper's
//! best-matching reference, minus the paper's mean, so the model learns which sentence of an
//! abstract is best, not which abstracts are easy. The weights solve ridge regression,
//! `(XᵀX + Λ) w = Xᵀy`, with a light penalty on the few dense features and a heavier one on
//! the many sparse word features, which appear in at least `--min-count` training sentences.
//!
//! Only train is used to fit; `--dev` reports the dev figures for choosing `--lambda` and
//! `--min-count`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use hotpapers::summary::compress::compress;
use hotpapers::summary::features::{self, DENSE};
use hotpapers::summary::weights::Model;
use hotpapers::summary::{extractive, latex, rouge, scitldr, sentences};

struct Options {
    train: PathBuf,
    dev: Option<PathBuf>,
    out: Option<PathBuf>,
    lambda: f64,
    lambda_dense: f64,
    min_count: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        train: PathBuf::new(),
        dev: None,
        out: None,
        lambda: 100.0,
        lambda_dense: 1.0,
        min_count: 20,
    };
    let mut train = None;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--dev" => o.dev = Some(value("--dev")?.into()),
            "--out" => o.out = Some(value("--out")?.into()),
            "--lambda" => o.lambda = value("--lambda")?.parse()?,
            "--lambda-dense" => o.lambda_dense = value("--lambda-dense")?.parse()?,
            "--min-count" => o.min_count = value("--min-count")?.parse()?,
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ => train = Some(PathBuf::from(a)),
        }
    }
    o.train = train.context("usage: train_summarizer TRAIN.jsonl [--dev DEV.jsonl] [--out model.tsv] [--lambda 100] [--lambda-dense 1] [--min-count 20]")?;
    Ok(o)
}

/// One training sentence: its features and its centred target.
struct Row {
    dense: [f64; DENSE],
    sparse: Vec<String>,
    target: f64,
}

fn rows(examples: &[scitldr::Example]) -> Vec<Row> {
    let mut out = Vec::new();
    for ex in examples {
        let title = latex::to_text(&ex.title);
        let text = latex::to_text(&ex.source.join(" "));
        let sents = sentences::split(&text);
        if sents.is_empty() {
            continue;
        }
        let refs: Vec<rouge::Tokens> = ex.target.iter().map(|t| rouge::tokenize(t)).collect();
        let targets: Vec<f64> = sents
            .iter()
            .map(|s| {
                rouge::best_by_rouge1(&rouge::tokenize(&compress(s)), &refs)
                    .map_or(0.0, |sc| sc.rouge1.f1)
            })
            .collect();
        let mean = targets.iter().sum::<f64>() / targets.len() as f64;
        for (f, t) in features::extract(&title, &sents).into_iter().zip(targets) {
            out.push(Row {
                dense: f.dense,
                sparse: f.sparse,
                target: t - mean,
            });
        }
    }
    out
}

/// Solves `a x = b` for symmetric positive definite `a` (row-major `n × n`) by Cholesky.
fn solve_spd(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> anyhow::Result<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 {
            bail!("matrix is not positive definite at column {j}");
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // Forward then back substitution with L and Lᵀ.
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Ok(b)
}

fn train(rows: &[Row], o: &Options) -> anyhow::Result<Model> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        for s in &r.sparse {
            *counts.entry(s.as_str()).or_default() += 1;
        }
    }
    let mut vocab: Vec<&str> = counts
        .into_iter()
        .filter(|(_, c)| *c >= o.min_count)
        .map(|(s, _)| s)
        .collect();
    vocab.sort_unstable();
    let index: HashMap<&str, usize> = vocab
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, DENSE + i))
        .collect();
    let n = DENSE + vocab.len();
    let mut a = vec![0.0; n * n];
    let mut b = vec![0.0; n];
    for r in rows {
        let mut x: Vec<(usize, f64)> = r
            .dense
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| *v != 0.0)
            .collect();
        x.extend(
            r.sparse
                .iter()
                .filter_map(|s| index.get(s.as_str()))
                .map(|&i| (i, 1.0)),
        );
        for &(i, xi) in &x {
            b[i] += xi * r.target;
            for &(j, xj) in &x {
                a[i * n + j] += xi * xj;
            }
        }
    }
    for i in 0..n {
        a[i * n + i] += if i < DENSE { o.lambda_dense } else { o.lambda };
    }
    let w = solve_spd(a, b, n)?;
    let mut model = Model::default();
    model.dense.copy_from_slice(&w[..DENSE]);
    for (name, weight) in vocab.iter().zip(&w[DENSE..]) {
        model.sparse.insert((*name).to_string(), *weight);
    }
    Ok(model)
}

fn main() -> anyhow::Result<()> {
    let o = options()?;
    let train_set =
        scitldr::read(&o.train).with_context(|| format!("reading {}", o.train.display()))?;
    let rows = rows(&train_set);
    let model = train(&rows, &o)?;
    eprintln!(
        "trained on {} papers, {} sentences: {} dense + {} sparse weights (lambda {}, dense lambda {}, min count {})",
        train_set.len(),
        rows.len(),
        DENSE,
        model.sparse.len(),
        o.lambda,
        o.lambda_dense,
        o.min_count
    );
    if let Some(dev) = &o.dev {
        let dev_set = scitldr::read(dev).with_context(|| format!("reading {}", dev.display()))?;
        let e = scitldr::evaluate(&dev_set, |ex| {
            extractive::summarize_with(&model, &ex.title, &ex.source.join(" ")).unwrap_or_default()
        });
        eprintln!(
            "dev: {} papers, ROUGE-1 {:.1}, ROUGE-2 {:.1}, ROUGE-L {:.1}, {:.0} chars",
            e.papers, e.rouge1, e.rouge2, e.rouge_l, e.mean_chars
        );
    }
    if let Some(out) = &o.out {
        let header = format!(
            "hotpapers extractive summarizer: sentence-scoring weights. Generated by\n\
             `cargo run --release --example train_summarizer -- TRAIN --out {}` from SciTLDR-A\n\
             train ({} papers, Apache-2.0), lambda {}, dense lambda {}, min count {}. Do not edit by hand.",
            out.display(),
            train_set.len(),
            o.lambda,
            o.lambda_dense,
            o.min_count
        );
        std::fs::write(out, model.to_tsv(&header))
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
