//! One learning core for the classifiers of the extract stage: hashed features, a linear
//! model with one weight row per feature, trained as an averaged perceptron, chosen by
//! cross-validation over documents, and stored in a versioned, checksummed file.
//!
//! The sense filter and the status model are this machine with their own features and
//! labels. It is the textbook design for small labelled sets of news text: features are
//! strings hashed to 64-bit keys, so a model has no vocabulary to keep in step with the
//! code; averaging the weights over every update makes the perceptron about as accurate as
//! a regularized logistic regression and, with a fixed seed and example order, training is
//! reproducible byte for byte.

use std::fmt::Write as _;

use foldhash::{HashMap, HashMapExt};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// A feature key: a template name and its value, hashed.
pub fn key(template: &str, value: &str) -> u64 {
    xxh3_64_with_seed(value.as_bytes(), xxh3_64(template.as_bytes()))
}

/// One training example: its feature keys and its label (an index into the labels).
#[derive(Debug, Clone)]
pub struct Example {
    pub keys: Vec<u64>,
    pub label: usize,
    /// Examples of one group (one document) fall in the same cross-validation fold, so a
    /// model is never scored on a document it saw.
    pub group: u64,
}

/// Problems reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a sitrep model file (bad magic)")]
    Magic,
    #[error("model file format {0} is not {FORMAT}; retrain it with this build")]
    Format(u32),
    #[error("model file is truncated or corrupt ({0})")]
    Corrupt(&'static str),
    #[error("model checksum does not match: the file is damaged")]
    Checksum,
    #[error("model is for `{found}`, expected `{expected}`")]
    Task { found: String, expected: String },
    #[error(
        "model features are version {found}, this build computes version {expected}; retrain it"
    )]
    Features { found: u32, expected: u32 },
}

const MAGIC: &[u8; 8] = b"SITREPLM";
const FORMAT: u32 = 1;

/// A trained linear classifier.
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// What it classifies (`sense`, `status`): a file for one task is refused by another.
    pub task: String,
    /// The version of the feature code it was trained with.
    pub feature_version: u32,
    pub labels: Vec<String>,
    /// For two-label tasks: the margin of label 1 over label 0 above which label 1 is
    /// chosen (calibrated by cross-validation).
    pub threshold: f32,
    /// What training measured, for people (`sitrep train-* ` prints it, QUALITY quotes it).
    pub info: String,
    rows: HashMap<u64, u32>,
    weights: Vec<f32>,
}

impl LinearModel {
    /// A model that knows nothing: every score is 0.
    pub fn empty(task: &str, feature_version: u32, labels: &[&str]) -> Self {
        Self {
            task: task.to_string(),
            feature_version,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            threshold: 0.0,
            info: String::new(),
            rows: HashMap::new(),
            weights: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn nlabels(&self) -> usize {
        self.labels.len()
    }

    /// Adds the weights of `keys` into `out` (one score per label).
    pub fn scores(&self, keys: &[u64], out: &mut [f32]) {
        let n = self.nlabels();
        out[..n].iter_mut().for_each(|x| *x = 0.0);
        for k in keys {
            if let Some(&r) = self.rows.get(k) {
                let row = &self.weights[r as usize * n..(r as usize + 1) * n];
                for (o, w) in out.iter_mut().zip(row) {
                    *o += w;
                }
            }
        }
    }

    /// The best label and its margin over the runner-up.
    pub fn predict(&self, keys: &[u64]) -> (usize, f32) {
        let mut s = vec![0.0; self.nlabels()];
        self.scores(keys, &mut s);
        best_two(&s)
    }

    /// For a two-label task: label 1's score minus label 0's.
    /// A model from its feature rows (one weight per label each), in key order so that
    /// the same training gives the same file; rows whose weights are all below `eps` are
    /// left out.
    fn from_rows(
        task: &str,
        feature_version: u32,
        labels: &[String],
        rows: impl Iterator<Item = (u64, Vec<f32>)>,
        eps: f32,
    ) -> LinearModel {
        let mut ordered: Vec<(u64, Vec<f32>)> = rows.collect();
        ordered.sort_unstable_by_key(|r| r.0);
        let mut index = HashMap::with_capacity(ordered.len());
        let mut weights = Vec::with_capacity(ordered.len() * labels.len());
        for (k, row) in ordered {
            if row.iter().all(|w| w.abs() < eps) {
                continue;
            }
            index.insert(k, (weights.len() / labels.len().max(1)) as u32);
            weights.extend(row);
        }
        LinearModel {
            task: task.to_string(),
            feature_version,
            labels: labels.to_vec(),
            threshold: 0.0,
            info: String::new(),
            rows: index,
            weights,
        }
    }

    pub fn margin(&self, keys: &[u64]) -> f32 {
        let mut s = [0.0f32; 2];
        self.scores(keys, &mut s);
        s[1] - s[0]
    }

    /// The file bytes: magic, format, task, feature version, labels, threshold, info,
    /// rows (sorted by key, so the same model always gives the same bytes), checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT.to_le_bytes());
        put_str(&mut b, &self.task);
        b.extend_from_slice(&self.feature_version.to_le_bytes());
        b.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        for l in &self.labels {
            put_str(&mut b, l);
        }
        b.extend_from_slice(&self.threshold.to_le_bytes());
        put_str(&mut b, &self.info);
        let mut keys: Vec<(u64, u32)> = self.rows.iter().map(|(k, r)| (*k, *r)).collect();
        keys.sort_unstable();
        b.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        let n = self.nlabels();
        for (k, r) in keys {
            b.extend_from_slice(&k.to_le_bytes());
            for w in &self.weights[r as usize * n..(r as usize + 1) * n] {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        let sum = xxh3_64(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Reads a model file for `task` with features of `feature_version`.
    ///
    /// # Errors
    /// A file of another kind, format, task or feature version, or a damaged one.
    pub fn from_bytes(
        bytes: &[u8],
        task: &str,
        feature_version: u32,
    ) -> Result<LinearModel, ModelError> {
        if bytes.len() < 8 + 4 + 8 || &bytes[..8] != MAGIC {
            return Err(ModelError::Magic);
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader { b: body, at: 8 };
        let format = r.u32()?;
        if format != FORMAT {
            return Err(ModelError::Format(format));
        }
        if xxh3_64(body).to_le_bytes() != sum {
            return Err(ModelError::Checksum);
        }
        let found = r.string()?;
        if found != task {
            return Err(ModelError::Task {
                found,
                expected: task.to_string(),
            });
        }
        let fv = r.u32()?;
        if fv != feature_version {
            return Err(ModelError::Features {
                found: fv,
                expected: feature_version,
            });
        }
        let nl = r.u32()? as usize;
        if nl == 0 || nl > 64 {
            return Err(ModelError::Corrupt("label count"));
        }
        let labels = (0..nl).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        let threshold = f32::from_le_bytes(
            r.take(4)?
                .try_into()
                .map_err(|_| ModelError::Corrupt("threshold"))?,
        );
        let info = r.string()?;
        let nrows = r.u32()? as usize;
        if nrows > body.len() / 8 {
            return Err(ModelError::Corrupt("row count"));
        }
        let mut rows = HashMap::with_capacity(nrows);
        let mut weights = Vec::with_capacity(nrows * nl);
        for i in 0..nrows {
            let k = u64::from_le_bytes(
                r.take(8)?
                    .try_into()
                    .map_err(|_| ModelError::Corrupt("key"))?,
            );
            rows.insert(k, i as u32);
            for _ in 0..nl {
                weights.push(f32::from_le_bytes(
                    r.take(4)?
                        .try_into()
                        .map_err(|_| ModelError::Corrupt("weight"))?,
                ));
            }
        }
        if r.at != body.len() {
            return Err(ModelError::Corrupt("trailing bytes"));
        }
        Ok(LinearModel {
            task: task.to_string(),
            feature_version,
            labels,
            threshold,
            info,
            rows,
            weights,
        })
    }
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(ModelError::Corrupt("length"))?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or(ModelError::Corrupt("length"))?;
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?
                .try_into()
                .map_err(|_| ModelError::Corrupt("u32"))?,
        ))
    }

    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| ModelError::Corrupt("string"))
    }
}

fn best_two(s: &[f32]) -> (usize, f32) {
    let mut best = 0;
    for i in 1..s.len() {
        if s[i] > s[best] {
            best = i;
        }
    }
    let second = s
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, v)| *v)
        .fold(f32::NEG_INFINITY, f32::max);
    (
        best,
        if second.is_finite() {
            s[best] - second
        } else {
            s[best]
        },
    )
}

/// The averaged perceptron, with lazy averaging: each weight keeps the step it last
/// changed at and its running total, so an update costs only the features it touches.
struct Averaged {
    n: usize,
    rows: HashMap<u64, u32>,
    w: Vec<f32>,
    total: Vec<f64>,
    stamp: Vec<u64>,
    step: u64,
}

impl Averaged {
    fn new(n: usize) -> Self {
        Self {
            n,
            rows: HashMap::new(),
            w: Vec::new(),
            total: Vec::new(),
            stamp: Vec::new(),
            step: 0,
        }
    }

    fn scores(&self, keys: &[u64], out: &mut [f32]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        for k in keys {
            if let Some(&r) = self.rows.get(k) {
                for (o, w) in out.iter_mut().zip(&self.w[r as usize * self.n..]) {
                    *o += w;
                }
            }
        }
    }

    fn bump(&mut self, key: u64, label: usize, delta: f32) {
        let n = self.n;
        let next = self.rows.len() as u32;
        let r = *self.rows.entry(key).or_insert(next) as usize;
        if r * n >= self.w.len() {
            self.w.resize((r + 1) * n, 0.0);
            self.total.resize((r + 1) * n, 0.0);
            self.stamp.resize((r + 1) * n, 0);
        }
        let i = r * n + label;
        self.total[i] += f64::from(self.w[i]) * (self.step - self.stamp[i]) as f64;
        self.stamp[i] = self.step;
        self.w[i] += delta;
    }

    fn train_one(&mut self, ex: &Example, buf: &mut [f32]) {
        self.step += 1;
        self.scores(&ex.keys, buf);
        let (guess, _) = best_two(buf);
        // Ties count as mistakes, so the first examples move the weights off zero.
        let wrong = guess != ex.label
            || buf
                .iter()
                .enumerate()
                .any(|(i, s)| i != ex.label && *s >= buf[ex.label]);
        if wrong {
            let other = (0..self.n)
                .filter(|&i| i != ex.label)
                .max_by(|&a, &b| buf[a].total_cmp(&buf[b]).then(b.cmp(&a)))
                .unwrap_or(guess);
            for &k in &ex.keys {
                self.bump(k, ex.label, 1.0);
                self.bump(k, other, -1.0);
            }
        }
    }

    /// The averaged weights as a model.
    fn finish(&self, task: &str, feature_version: u32, labels: &[String]) -> LinearModel {
        let step = self.step.max(1);
        let rows = self.rows.iter().map(|(&k, &r)| {
            let base = r as usize * self.n;
            let avg: Vec<f32> = (0..self.n)
                .map(|l| {
                    let i = base + l;
                    let t =
                        self.total[i] + f64::from(self.w[i]) * (self.step - self.stamp[i]) as f64;
                    (t / step as f64) as f32
                })
                .collect();
            (k, avg)
        });
        LinearModel::from_rows(task, feature_version, labels, rows, 1e-6)
    }
}

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fit {
    /// The averaged perceptron.
    Perceptron,
    /// Multinomial logistic regression with this L2 penalty, fitted by AdaGrad: smoother
    /// weights than the perceptron's on a few thousand examples with many rare features.
    Logistic { l2: f64 },
}

/// Multinomial logistic regression by AdaGrad, with lazy L2 (applied to a weight when it
/// is next read, as if at every step since).
struct Logistic {
    n: usize,
    l2: f64,
    rate: f64,
    rows: HashMap<u64, u32>,
    w: Vec<f64>,
    g2: Vec<f64>,
}

impl Logistic {
    fn new(n: usize, l2: f64) -> Self {
        Self {
            n,
            l2,
            rate: 0.5,
            rows: HashMap::new(),
            w: Vec::new(),
            g2: Vec::new(),
        }
    }

    fn row(&mut self, key: u64) -> usize {
        let next = self.rows.len() as u32;
        let r = *self.rows.entry(key).or_insert(next) as usize;
        if (r + 1) * self.n > self.w.len() {
            self.w.resize((r + 1) * self.n, 0.0);
            self.g2.resize((r + 1) * self.n, 0.0);
        }
        r
    }

    fn train_one(&mut self, ex: &Example, p: &mut [f64]) {
        let n = self.n;
        let rows: Vec<usize> = ex.keys.iter().map(|&k| self.row(k)).collect();
        p.iter_mut().for_each(|x| *x = 0.0);
        for &r in &rows {
            for (l, x) in p.iter_mut().enumerate() {
                *x += self.w[r * n + l];
            }
        }
        let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut z = 0.0;
        for x in p.iter_mut() {
            *x = (*x - max).exp();
            z += *x;
        }
        for (l, x) in p.iter_mut().enumerate() {
            *x /= z;
            if l == ex.label {
                *x -= 1.0;
            }
        }
        for &r in &rows {
            for (l, &grad0) in p.iter().enumerate() {
                let i = r * n + l;
                let g = grad0 + self.l2 * self.w[i];
                self.g2[i] += g * g;
                self.w[i] -= self.rate * g / (self.g2[i].sqrt() + 1e-8);
            }
        }
    }

    fn finish(&self, task: &str, feature_version: u32, labels: &[String]) -> LinearModel {
        let rows = self.rows.iter().map(|(&k, &r)| {
            let row = self.w[r as usize * self.n..(r as usize + 1) * self.n]
                .iter()
                .map(|&x| x as f32)
                .collect();
            (k, row)
        });
        LinearModel::from_rows(task, feature_version, labels, rows, 1e-4)
    }
}

/// Fits a model with `fit` for `epochs` passes over `examples`, shuffled with `seed`
/// before each pass.
pub fn fit(
    examples: &[Example],
    labels: &[String],
    task: &str,
    feature_version: u32,
    epochs: usize,
    seed: u64,
    fit: Fit,
) -> LinearModel {
    match fit {
        Fit::Perceptron => train(examples, labels, task, feature_version, epochs, seed),
        Fit::Logistic { l2 } => {
            let mut m = Logistic::new(labels.len(), l2);
            let mut order: Vec<usize> = (0..examples.len()).collect();
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut p = vec![0.0; labels.len()];
            for _ in 0..epochs {
                rng.shuffle(&mut order);
                for &i in &order {
                    m.train_one(&examples[i], &mut p);
                }
            }
            m.finish(task, feature_version, labels)
        }
    }
}

/// Held-out scores of `folds`-fold cross-validation (by
/// group) of a model fitted `epochs` passes.
pub fn cross_validate_fit(
    examples: &[Example],
    nlabels: usize,
    folds: usize,
    epochs: usize,
    seed: u64,
    how: Fit,
) -> Vec<Vec<f32>> {
    let fold_of = |e: &Example| (e.group % folds as u64) as usize;
    let labels: Vec<String> = (0..nlabels).map(|i| i.to_string()).collect();
    let mut out = vec![Vec::new(); examples.len()];
    for f in 0..folds {
        let train_set: Vec<Example> = examples
            .iter()
            .filter(|e| fold_of(e) != f)
            .cloned()
            .collect();
        let m = fit(
            &train_set,
            &labels,
            "cv",
            0,
            epochs,
            seed ^ (f as u64 + 1),
            how,
        );
        for (i, ex) in examples.iter().enumerate() {
            if fold_of(ex) == f {
                let mut s = vec![0.0; nlabels];
                m.scores(&ex.keys, &mut s);
                out[i] = s;
            }
        }
    }
    out
}

/// Trains for `epochs` passes over `examples`, shuffled with `seed` before each pass.
pub fn train(
    examples: &[Example],
    labels: &[String],
    task: &str,
    feature_version: u32,
    epochs: usize,
    seed: u64,
) -> LinearModel {
    let mut p = Averaged::new(labels.len());
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut buf = vec![0.0; labels.len()];
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            p.train_one(&examples[i], &mut buf);
        }
    }
    p.finish(task, feature_version, labels)
}

/// Precision, recall and F1 of label 1 when it is chosen above `threshold` margin.
pub fn binary_scores(examples: &[Example], scores: &[Vec<f32>], threshold: f32) -> (f64, f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
    for (ex, s) in examples.iter().zip(scores) {
        let yes = s[1] - s[0] > threshold;
        match (yes, ex.label == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    prf(tp, fp, fn_, 1.0)
}

/// Precision, recall and F1 from counts; `empty` stands for a ratio with nothing to count.
fn prf(tp: u32, fp: u32, fn_: u32, empty: f64) -> (f64, f64, f64) {
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            empty
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

/// A table of per-label precision, recall and F1 from held-out scores, for `info`.
pub fn report(examples: &[Example], scores: &[Vec<f32>], labels: &[String]) -> String {
    let mut out = String::new();
    let mut right = 0;
    for (l, name) in labels.iter().enumerate() {
        let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
        for (ex, s) in examples.iter().zip(scores) {
            let (g, _) = best_two(s);
            match (g == l, ex.label == l) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
        let (p, r, f) = prf(tp, fp, fn_, 0.0);
        let _ = writeln!(
            out,
            "  {:<10} n {:>5}  P {:.3}  R {:.3}  F1 {:.3}",
            name,
            tp + fn_,
            p,
            r,
            f
        );
        right += tp;
    }
    let _ = writeln!(
        out,
        "  accuracy {:.3} over {} examples",
        f64::from(right) / examples.len().max(1) as f64,
        examples.len()
    );
    out
}

/// The argmax of held-out scores.
pub fn argmax(s: &[f32]) -> usize {
    best_two(s).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(words: &[&str], label: usize, group: u64) -> Example {
        Example {
            keys: words.iter().map(|w| key("w", w)).collect(),
            label,
            group,
        }
    }

    #[test]
    fn learns_a_separable_task_and_round_trips_its_file() {
        let mut data = Vec::new();
        for g in 0..40u64 {
            data.push(ex(&["troops", "withdrew", "base"], 1, g));
            data.push(ex(&["player", "withdrew", "match"], 0, g));
        }
        let labels = vec!["no".to_string(), "yes".to_string()];
        let m = train(&data, &labels, "sense", 3, 5, 7);
        assert!(m.margin(&[key("w", "troops"), key("w", "withdrew")]) > 0.0);
        assert!(m.margin(&[key("w", "match"), key("w", "withdrew")]) < 0.0);
        let bytes = m.to_bytes();
        // The same training gives the same bytes.
        assert_eq!(train(&data, &labels, "sense", 3, 5, 7).to_bytes(), bytes);
        let back = LinearModel::from_bytes(&bytes, "sense", 3).unwrap();
        assert_eq!(
            back.margin(&[key("w", "troops")]),
            m.margin(&[key("w", "troops")])
        );
        assert!(matches!(
            LinearModel::from_bytes(&bytes, "status", 3),
            Err(ModelError::Task { .. })
        ));
        assert!(matches!(
            LinearModel::from_bytes(&bytes, "sense", 4),
            Err(ModelError::Features { .. })
        ));
        let mut bad = bytes.clone();
        bad[30] ^= 1;
        assert!(matches!(
            LinearModel::from_bytes(&bad, "sense", 3),
            Err(ModelError::Checksum)
        ));
        assert!(LinearModel::from_bytes(&bytes[..bytes.len() - 3], "sense", 3).is_err());
        // Held-out scores separate the classes too, with either fit.
        for how in [Fit::Perceptron, Fit::Logistic { l2: 1e-3 }] {
            let cv = cross_validate_fit(&data, 2, 5, 3, 1, how);
            let (p, r, _) = binary_scores(&data, &cv, 0.0);
            assert!(p > 0.99 && r > 0.99, "{how:?}: {p} {r}");
        }
        // Logistic regression is as repeatable as the perceptron.
        let lr = |seed| {
            fit(
                &data,
                &labels,
                "sense",
                3,
                5,
                seed,
                Fit::Logistic { l2: 1e-3 },
            )
        };
        assert_eq!(lr(7).to_bytes(), lr(7).to_bytes());
        assert!(lr(7).margin(&[key("w", "troops"), key("w", "withdrew")]) > 0.0);
    }
}
