//! Training: an averaged perceptron over the features of [`super::features`], decoded with
//! the same Viterbi as tagging, early-stopped on the validation split.
//!
//! Reproducible by construction: documents are shuffled with a seeded generator, weights
//! are integers updated in a fixed order, and the model file is written in sorted order, so
//! the same data, options and seed give the same file byte for byte.
//!
//! Name-list features are trained the way they will be used: the list built from the
//! training split's own entities would mark every training name, so each training document
//! sees a list built from the *other* folds only (jackknifing), as a new document sees a
//! list that knows some of its names and not others.

use std::time::Instant;

use super::conll::{self, Document, Scores};
use super::features::{
    doc_keys, gazetteer_matches, is_caps_sentence, lower_hash, sentence_keys, span_key, token_info,
    DocContext, DocLabel, IdMap, Lexicon, Scratch, TokInfo, FEATURE_VERSION, F_CAP, GAZ_LOC,
    GAZ_MISC, GAZ_ORG, GAZ_PER,
};
use super::model::{ModelInfo, NerModel, Weights};
use super::tagger::{doc_label, viterbi, Lattice, Tagger};
use super::{spans_to_tags, tag_name, NerType, Tag, NTAGS};

/// Training options (`sitrep train-ner`).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub max_epochs: u32,
    /// Stop after this many epochs without a better validation F1.
    pub patience: u32,
    pub seed: u64,
    /// log2 of the number of weight buckets.
    pub bucket_bits: u8,
    /// Folds for the jackknifed name list.
    pub folds: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            max_epochs: 20,
            patience: 4,
            seed: 1,
            bucket_bits: 22,
            folds: 5,
        }
    }
}

/// One epoch's figures.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: u32,
    /// Training sentences the current weights got wrong.
    pub mistakes: usize,
    pub valid_f1: f64,
    pub seconds: f64,
}

/// Tokens of a name, lower-case hashed, with its gazetteer bits.
pub type GazetteerName = (Vec<String>, u8);

/// The training split's entities as gazetteer names.
fn entity_names(docs: &[Document]) -> Vec<Vec<(Vec<String>, u8)>> {
    docs.iter()
        .map(|doc| {
            let mut names = Vec::new();
            for s in doc {
                for (ty, a, b) in conll::chunks(&s.tags) {
                    let bit = match NerType::parse(&ty) {
                        Some(NerType::Per) => GAZ_PER,
                        Some(NerType::Loc) => GAZ_LOC,
                        Some(NerType::Org) => GAZ_ORG,
                        Some(NerType::Misc) => GAZ_MISC,
                        None => continue,
                    };
                    if b - a <= super::features::GAZ_MAX_LEN {
                        names.push((s.tokens[a..b].to_vec(), bit));
                    }
                }
            }
            names
        })
        .collect()
}

fn add_names<'a>(
    map: &mut IdMap<u8>,
    names: impl IntoIterator<Item = &'a (Vec<String>, u8)>,
    buf: &mut String,
) {
    for (toks, bits) in names {
        if toks.is_empty() || toks.len() > super::features::GAZ_MAX_LEN {
            continue;
        }
        let key = span_key(toks.iter().map(|t| lower_hash(t, buf)));
        *map.entry(key).or_insert(0) |= bits;
    }
}

/// Gold BILOU tags of a sentence.
pub fn gold_tags(s: &conll::Sentence) -> Vec<Tag> {
    let spans: Vec<(NerType, usize, usize)> = conll::chunks(&s.tags)
        .into_iter()
        .filter_map(|(ty, a, b)| NerType::parse(&ty).map(|t| (t, a, b)))
        .collect();
    spans_to_tags(s.tokens.len(), &spans)
}

/// Bucket → training row, growing as features appear.
struct FeatureIndex {
    bits: u8,
    slot: Vec<u32>,
    buckets: Vec<u32>,
}

impl FeatureIndex {
    fn new(bits: u8) -> Self {
        Self {
            bits,
            slot: vec![u32::MAX; 1usize << bits],
            buckets: Vec::new(),
        }
    }

    fn row(&mut self, key: u64) -> u32 {
        let b = Weights::bucket(self.bits, key);
        let s = &mut self.slot[b as usize];
        if *s == u32::MAX {
            *s = self.buckets.len() as u32;
            self.buckets.push(b);
        }
        *s
    }
}

/// A training sentence with its static feature rows.
struct SentInst {
    rows: Vec<u32>,
    offsets: Vec<u32>,
    gold: Vec<Tag>,
    infos: Vec<TokInfo>,
    caps: bool,
}

/// The perceptron's parameters: current weights and the sums for averaging.
struct Params {
    w: Vec<i32>,
    u: Vec<i64>,
    tw: [[i32; NTAGS]; NTAGS + 1],
    tu: [[i64; NTAGS]; NTAGS + 1],
    /// Updates counter (one tick per sentence).
    c: i64,
}

impl Params {
    fn grow(&mut self, rows: usize) {
        if self.w.len() < rows * NTAGS {
            self.w.resize(rows * NTAGS, 0);
            self.u.resize(rows * NTAGS, 0);
        }
    }

    fn bump(&mut self, row: u32, tag: Tag, d: i32) {
        let i = row as usize * NTAGS + tag as usize;
        self.w[i] += d;
        self.u[i] += self.c * i64::from(d);
    }

    fn bump_trans(&mut self, prev: usize, tag: Tag, d: i32) {
        self.tw[prev][tag as usize] += d;
        self.tu[prev][tag as usize] += self.c * i64::from(d);
    }
}

/// Trains a model on `train`, choosing the epoch by F1 on `valid`.
///
/// `extra_names`: names from sitrep's own gazetteer (tokens and bits), seen by every fold.
/// `name_words`: the words names hold in lower case (see [`Lexicon::name_words`]).
/// `clusters`: word clusters (lower-case word hash → path), if any.
/// `log` receives one line per step.
pub fn train(
    train: &[Document],
    valid: &[Document],
    extra_names: &[GazetteerName],
    name_words: &[String],
    clusters: IdMap<u32>,
    opts: &TrainOptions,
    mut log: impl FnMut(&str),
) -> (NerModel, Vec<EpochReport>) {
    let mut buf = String::new();
    let folds = opts.folds.max(1);
    // Gazetteers: one per fold (other folds' names) and the full one for the model.
    let names = entity_names(train);
    let base = {
        let mut m = IdMap::default();
        add_names(&mut m, extra_names, &mut buf);
        m
    };
    let mut full = Lexicon {
        clusters,
        gazetteer: base.clone(),
        name_words: name_words
            .iter()
            .map(|w| (lower_hash(w, &mut buf), ()))
            .collect(),
    };
    for n in &names {
        add_names(&mut full.gazetteer, n, &mut buf);
    }
    let fold_lex: Vec<Lexicon> = (0..folds)
        .map(|f| {
            let mut g = base.clone();
            for (d, n) in names.iter().enumerate() {
                if folds == 1 || d % folds != f {
                    add_names(&mut g, n, &mut buf);
                }
            }
            Lexicon {
                clusters: full.clusters.clone(),
                gazetteer: g,
                // Decoding reads them, and a fold's lexicon only computes features.
                name_words: IdMap::default(),
            }
        })
        .collect();
    log(&format!(
        "gazetteer: {} names ({} from sitrep's gazetteer); clusters: {} words",
        full.gazetteer.len(),
        base.len(),
        full.clusters.len()
    ));

    // Static features of every training sentence.
    let started = Instant::now();
    let mut index = FeatureIndex::new(opts.bucket_bits);
    let mut scratch = Scratch::default();
    let (mut keys, mut offs, mut gaz) = (Vec::new(), Vec::new(), Vec::new());
    let mut doc_ctx = DocContext::default();
    let mut data: Vec<Vec<SentInst>> = Vec::with_capacity(train.len());
    let mut n_tokens = 0usize;
    let mut n_sents = 0usize;
    for (d, doc) in train.iter().enumerate() {
        let lex = &fold_lex[d % folds];
        let infos: Vec<Vec<TokInfo>> = doc
            .iter()
            .map(|s| {
                s.tokens
                    .iter()
                    .map(|t| token_info(t, lex, &mut scratch))
                    .collect()
            })
            .collect();
        doc_ctx.clear();
        for i in &infos {
            doc_ctx.add_sentence(i);
        }
        let mut sents = Vec::with_capacity(doc.len());
        for (s, inf) in doc.iter().zip(infos) {
            gazetteer_matches(&inf, lex, &mut gaz);
            sentence_keys(&inf, &gaz, &doc_ctx, &mut keys, &mut offs);
            n_tokens += inf.len();
            n_sents += 1;
            sents.push(SentInst {
                rows: keys.iter().map(|&k| index.row(k)).collect(),
                offsets: offs.clone(),
                gold: gold_tags(s),
                caps: is_caps_sentence(&inf),
                infos: inf,
            });
        }
        data.push(sents);
    }
    log(&format!(
        "features: {n_sents} sentences, {n_tokens} tokens, {} distinct buckets, {:.1}s",
        index.buckets.len(),
        started.elapsed().as_secs_f64()
    ));

    let mut p = Params {
        w: Vec::new(),
        u: Vec::new(),
        tw: [[0; NTAGS]; NTAGS + 1],
        tu: [[0; NTAGS]; NTAGS + 1],
        c: 1,
    };
    p.grow(index.buckets.len());
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut reports = Vec::new();
    let mut best: Option<(f64, NerModel)> = None;
    let mut since_best = 0;
    let (mut emit, mut lattice, mut pred) = (Vec::new(), Lattice::default(), Vec::new());
    let mut dyn_rows: Vec<Vec<u32>> = Vec::new();
    let mut dkeys = Vec::new();
    let mut prev: IdMap<DocLabel> = IdMap::default();
    for epoch in 1..=opts.max_epochs {
        let t0 = Instant::now();
        rng.shuffle(&mut order);
        let mut mistakes = 0;
        for &d in &order {
            prev.clear();
            for s in &data[d] {
                let n = s.gold.len();
                emit.clear();
                dyn_rows.resize_with(n, Vec::new);
                for (i, dr) in dyn_rows.iter_mut().enumerate().take(n) {
                    let mut e = [0i32; NTAGS];
                    let rows = &s.rows[s.offsets[i] as usize..s.offsets[i + 1] as usize];
                    dr.clear();
                    let t = &s.infos[i];
                    if t.flags & F_CAP != 0 {
                        if let Some(&label) = prev.get(&t.lower) {
                            dkeys.clear();
                            doc_keys(t, i, s.caps, label, &mut dkeys);
                            dr.extend(dkeys.iter().map(|&k| index.row(k)));
                        }
                    }
                    p.grow(index.buckets.len());
                    for &r in rows.iter().chain(dr.iter()) {
                        let w = &p.w[r as usize * NTAGS..r as usize * NTAGS + NTAGS];
                        for (a, &x) in e.iter_mut().zip(w) {
                            *a += x;
                        }
                    }
                    emit.push(e);
                }
                viterbi(&emit, &p.tw, &mut lattice, &mut pred);
                for (t, &tag) in s.infos.iter().zip(&pred) {
                    if t.flags & F_CAP != 0 {
                        prev.insert(t.lower, doc_label(tag));
                    }
                }
                if pred != s.gold {
                    mistakes += 1;
                    for i in 0..n {
                        let (g, q) = (s.gold[i], pred[i]);
                        if g != q {
                            let rows = &s.rows[s.offsets[i] as usize..s.offsets[i + 1] as usize];
                            for &r in rows.iter().chain(dyn_rows[i].iter()) {
                                p.bump(r, g, 1);
                                p.bump(r, q, -1);
                            }
                        }
                        let gp = if i == 0 {
                            NTAGS
                        } else {
                            s.gold[i - 1] as usize
                        };
                        let qp = if i == 0 { NTAGS } else { pred[i - 1] as usize };
                        if (gp, g) != (qp, q) {
                            p.bump_trans(gp, g, 1);
                            p.bump_trans(qp, q, -1);
                        }
                    }
                }
                p.c += 1;
            }
        }
        let model = averaged_model(&p, &index, &full, opts, epoch, n_sents, n_tokens);
        let (mut scores, _, _) = evaluate(&model, valid);
        scores.finish();
        let f1 = scores.overall.f1;
        let secs = t0.elapsed().as_secs_f64();
        log(&format!(
            "epoch {epoch:>2}: {mistakes} sentences wrong, validation F1 {:.2} ({secs:.1}s)",
            100.0 * f1
        ));
        reports.push(EpochReport {
            epoch,
            mistakes,
            valid_f1: f1,
            seconds: secs,
        });
        if best.as_ref().is_none_or(|(b, _)| f1 > *b) {
            let mut model = model;
            model.info.valid_f1 = f1 as f32;
            best = Some((f1, model));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= opts.patience {
                break;
            }
        }
    }
    let mut model = match best {
        Some((_, m)) => m,
        None => averaged_model(&p, &index, &full, opts, 0, n_sents, n_tokens),
    };
    model.info.type_threshold = type_threshold(&model, valid);
    log(&format!(
        "type margin threshold {:.2} (three quarters of the validation type mistakes below it)",
        model.info.type_threshold
    ));
    (model, reports)
}

/// The type margin below which three quarters of the model's type mistakes on `docs` fall
/// (spans with the right words but the wrong type; 0 when it makes no such mistake).
pub fn type_threshold(model: &NerModel, docs: &[Document]) -> f32 {
    let mut tagger = Tagger::new(model);
    let mut wrong: Vec<f32> = Vec::new();
    for doc in docs {
        let sents: Vec<&[String]> = doc.iter().map(|s| s.tokens.as_slice()).collect();
        for (s, found) in doc.iter().zip(tagger.entities(&sents)) {
            let gold = conll::chunks(&s.tags);
            for e in found {
                let mistyped = gold.iter().any(|(ty, a, b)| {
                    *a == e.start && *b == e.end && NerType::parse(ty) != Some(e.ty)
                });
                if mistyped {
                    wrong.push(e.type_margin);
                }
            }
        }
    }
    wrong.sort_by(f32::total_cmp);
    wrong.get(wrong.len() * 3 / 4).copied().unwrap_or(0.0)
}

/// The averaged weights, quantized to i16 with one scale for all weights.
fn averaged_model(
    p: &Params,
    index: &FeatureIndex,
    lex: &Lexicon,
    opts: &TrainOptions,
    epoch: u32,
    n_sents: usize,
    n_tokens: usize,
) -> NerModel {
    let c = p.c as f64;
    let avg = |w: i32, u: i64| f64::from(w) - u as f64 / c;
    let mut max = 0f64;
    for (w, u) in p.w.iter().zip(&p.u) {
        max = max.max(avg(*w, *u).abs());
    }
    for (rw, ru) in p.tw.iter().zip(&p.tu) {
        for (w, u) in rw.iter().zip(ru) {
            max = max.max(avg(*w, *u).abs());
        }
    }
    let q = if max > 0.0 { 32767.0 / max } else { 1.0 };
    let rows = index.buckets.iter().enumerate().map(|(r, &bucket)| {
        let mut row = [0i16; NTAGS];
        for (t, x) in row.iter_mut().enumerate() {
            let i = r * NTAGS + t;
            *x = (avg(p.w[i], p.u[i]) * q).round() as i16;
        }
        (bucket, row)
    });
    let mut trans = [[0i32; NTAGS]; NTAGS + 1];
    for (prev, (rw, ru)) in p.tw.iter().zip(&p.tu).enumerate() {
        for (t, (w, u)) in rw.iter().zip(ru).enumerate() {
            trans[prev][t] = (avg(*w, *u) * q).round() as i32;
        }
    }
    let weights = Weights::from_rows(opts.bucket_bits, rows, trans);
    NerModel::new(
        ModelInfo {
            feature_version: FEATURE_VERSION,
            bucket_bits: opts.bucket_bits,
            epochs: epoch,
            seed: opts.seed,
            train_sentences: n_sents as u32,
            train_tokens: n_tokens as u32,
            valid_f1: 0.0,
            scale: (1.0 / q) as f32,
            type_threshold: 0.0,
        },
        weights,
        lex.clone(),
    )
}

/// Tags CoNLL documents with the model and counts chunks as conlleval does. Returns the
/// scores (not finished), the number of tokens and the seconds spent tagging.
pub fn evaluate(model: &NerModel, docs: &[Document]) -> (Scores, usize, f64) {
    evaluate_with(model, docs, |_, _| {})
}

/// [`evaluate`], handing every sentence and its predicted tags to `each`.
pub fn evaluate_with(
    model: &NerModel,
    docs: &[Document],
    mut each: impl FnMut(&conll::Sentence, &[Tag]),
) -> (Scores, usize, f64) {
    let mut tagger = Tagger::new(model);
    let mut scores = Scores::default();
    let mut tags = Vec::new();
    let mut seconds = 0.0;
    let mut tokens = 0;
    for doc in docs {
        let sents: Vec<&[String]> = doc.iter().map(|s| s.tokens.as_slice()).collect();
        let t0 = Instant::now();
        tagger.tag_document(&sents, &mut tags);
        seconds += t0.elapsed().as_secs_f64();
        for (s, t) in doc.iter().zip(&tags) {
            tokens += s.tokens.len();
            let pred: Vec<&str> = t.iter().map(|&x| tag_name(x)).collect();
            scores.add(&conll::chunks(&s.tags), &conll::chunks(&pred));
            each(s, t);
        }
    }
    (scores, tokens, seconds)
}

/// Errors of `sitrep train-ner`.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] conll::ConllError),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0} has no sentences")]
    Empty(std::path::PathBuf),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// The names of sitrep's gazetteer, as tokens with gazetteer bits: places (and facilities),
/// organizations, people, and demonyms with their plurals.
pub fn config_names(cfg: &crate::config::Config) -> Vec<GazetteerName> {
    use super::features::{GAZ_DEMONYM, GAZ_ORGANIZATION, GAZ_PERSON, GAZ_PLACE};
    let tok = super::tokenize::Tokenizer::new(&cfg.lexicons.names.sentences.abbreviations);
    let words = |s: &str| -> Vec<String> { tok.words(s).into_iter().map(String::from).collect() };
    let mut out = Vec::new();
    for e in &cfg.lexicons.gazetteer {
        let bit = match e.kind.as_str() {
            "place" | "facility" => GAZ_PLACE,
            "organization" => GAZ_ORGANIZATION,
            "person" => GAZ_PERSON,
            _ => continue,
        };
        for n in std::iter::once(&e.name).chain(&e.aliases) {
            out.push((words(n), bit));
        }
        for d in &e.demonyms {
            out.push((words(d), GAZ_DEMONYM));
            out.push((words(&format!("{d}s")), GAZ_DEMONYM));
        }
    }
    out
}

/// The words names hold in lower case: the settings' particles (`names.toml`,
/// `connectors`) and the possessive the tokenizer splits off (`McDonald 's`).
pub fn config_name_words(cfg: &crate::config::Config) -> Vec<String> {
    let mut words = cfg.lexicons.names.connectors.clone();
    words.push(super::tokenize::POSSESSIVE.to_string());
    words
}

/// `sitrep train-ner`: loads the settings (`config`: the `--config` file, if any; see
/// [`crate::config::Config::for_training`]), reads the data, clusters the unlabelled text,
/// trains, writes the model and prints what it did.
///
/// # Errors
/// Bad settings, unreadable or malformed data, an unwritable output file.
pub fn command(
    config: Option<&std::path::Path>,
    args: &crate::cli::TrainNerArgs,
) -> Result<(), TrainError> {
    let cfg = &crate::config::Config::for_training(config)?;
    let started = Instant::now();
    let say = |s: &str| eprintln!("train-ner: {s}");
    let train_docs = conll::read(&args.train)?;
    let valid_docs = conll::read(&args.valid)?;
    for (docs, path) in [(&train_docs, &args.train), (&valid_docs, &args.valid)] {
        if docs.is_empty() {
            return Err(TrainError::Empty(path.clone()));
        }
    }
    let clusters = super::clusters::from_corpora(
        &args.unlabeled,
        &train_docs,
        &super::clusters::ClusterOptions::default(),
        &say,
    )
    .map_err(|(path, source)| TrainError::Io { path, source })?;
    let opts = TrainOptions {
        max_epochs: args.epochs,
        patience: args.patience,
        seed: args.seed,
        bucket_bits: args.bucket_bits,
        ..TrainOptions::default()
    };
    let (model, reports) = train(
        &train_docs,
        &valid_docs,
        &config_names(cfg),
        &config_name_words(cfg),
        clusters,
        &opts,
        say,
    );
    let bytes = model.to_bytes();
    std::fs::write(&args.out, &bytes).map_err(|source| TrainError::Io {
        path: args.out.clone(),
        source,
    })?;
    println!(
        "{}: epoch {} of {}, validation F1 {:.2}, {} weight rows, {} cluster words, {} gazetteer names, {} bytes, {:.1}s",
        args.out.display(),
        model.info.epochs,
        reports.len(),
        100.0 * model.info.valid_f1,
        model.rows(),
        model.cluster_words(),
        model.gazetteer_entries(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few invented sentences in CoNLL form.
    fn data() -> Vec<Document> {
        let mut text = String::new();
        let people = ["Ilsa Brandvik", "Otto Varn", "Mira Kell"];
        let places = ["Ostravel", "Lisk", "Velmar"];
        let orgs = ["Kestrel Securities", "Tallis Wire", "Amber Council"];
        for (k, ((p, l), o)) in people.iter().zip(&places).zip(&orgs).enumerate() {
            text.push_str("-DOCSTART- -X- -X- O\n\n");
            for _ in 0..=k {
                let mut line = |w: &str, tag: &str| text.push_str(&format!("{w} X X {tag}\n"));
                for (i, w) in p.split(' ').enumerate() {
                    line(w, if i == 0 { "B-PER" } else { "I-PER" });
                }
                line("told", "O");
                for (i, w) in o.split(' ').enumerate() {
                    line(w, if i == 0 { "B-ORG" } else { "I-ORG" });
                }
                line("in", "O");
                line(l, "B-LOC");
                line(".", "O");
                text.push('\n');
            }
        }
        conll::parse(&text).unwrap()
    }

    #[test]
    fn the_name_words_are_the_settings_particles_and_the_possessive() {
        let cfg = crate::config::Config::embedded().expect("embedded settings");
        let words = config_name_words(&cfg);
        assert!(words.iter().any(|w| w == "van"));
        assert!(words
            .iter()
            .any(|w| w == super::super::tokenize::POSSESSIVE));
        assert_eq!(words.len(), cfg.lexicons.names.connectors.len() + 1);
        // The shipped model was trained with them, so the settings load without a warning.
        let drift = cfg.lexicons.ner.name_word_drift(&words).expect("a list");
        assert!(drift.is_empty(), "{drift}");
        assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    }

    #[test]
    fn training_is_reproducible_and_learns() {
        let docs = data();
        let opts = TrainOptions {
            max_epochs: 3,
            bucket_bits: 16,
            folds: 2,
            ..TrainOptions::default()
        };
        let words = ["of".to_string()];
        let (a, reports) = train(&docs, &docs, &[], &words, IdMap::default(), &opts, |_| {});
        let (b, _) = train(&docs, &docs, &[], &words, IdMap::default(), &opts, |_| {});
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert!(!reports.is_empty());
        // The name words are the model's, by the hash of their lower-case form.
        let mut buf = String::new();
        assert!(a
            .lexicon
            .name_words
            .contains_key(&lower_hash("OF", &mut buf)));
        assert_eq!(a.lexicon.name_words.len(), 1);
        let (mut scores, tokens, _) = evaluate(&a, &docs);
        scores.finish();
        assert_eq!(tokens, 6 * 8);
        assert!(scores.overall.f1 > 0.9, "{:?}", scores.overall);
        // The file round-trips to the same tags.
        let back = NerModel::from_bytes(&a.to_bytes()).unwrap();
        let (mut again, _, _) = evaluate(&back, &docs);
        again.finish();
        assert_eq!(again.overall.correct, scores.overall.correct);
    }
}
