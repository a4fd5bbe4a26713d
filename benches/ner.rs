//! Tagging speed of the entity tagger.
//!
//! Input: the sentences of the CoNLL-2003 validation split, read once at start from
//! `../shared/data/ner/valid.txt` (beside the checkout; `SITREP_BENCH_NER` overrides the
//! file). The data is not part of the repository: without it the benchmarks are skipped
//! with a message.
//!
//! Groups (throughput in tokens, one iteration = the whole split, document by document,
//! one core):
//! * `ner_tag`: the tagger on the file's own tokens (features, weights, Viterbi, the
//!   document memory), what `scripts/bench-ner.sh` compares with spaCy's NER on the same
//!   tokens: `conll_valid` with one tagger throughout (its word cache warm after the first
//!   pass, as in a running daemon), `conll_valid_cold` with a new tagger every pass.
//! * `ner_tokenize+tag`: the same documents as running text (tokens joined by spaces),
//!   tokenized by the wire tokenizer first, as the extract stage does.
//! * `ner_model/decode`: the shipped model decoded from its file's bytes (checksum, weight
//!   table, lexicon), which every start-up does before the first report: throughput in
//!   bytes of the file. Needs no data.
//!
//! Run with `cargo bench --bench ner`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use sitrep::config::Config;
use sitrep::ner::conll;
use sitrep::ner::tokenize::Tokenizer;
use sitrep::ner::{NerModel, Tagger};

fn data_file() -> PathBuf {
    std::env::var_os("SITREP_BENCH_NER").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ner/valid.txt"),
        PathBuf::from,
    )
}

fn bench_tagger(c: &mut Criterion) {
    let path = data_file();
    let docs = match conll::read(&path) {
        Ok(d) => d,
        Err(e) => {
            println!("skipping the tagger benchmarks: data not available ({e})");
            return;
        }
    };
    let cfg = Config::embedded().expect("embedded config is valid");
    let model = &cfg.lexicons.ner;
    let sentences: Vec<Vec<Vec<&str>>> = docs
        .iter()
        .map(|d| {
            d.iter()
                .map(|s| s.tokens.iter().map(String::as_str).collect())
                .collect()
        })
        .collect();
    let tokens: usize = docs.iter().flatten().map(|s| s.tokens.len()).sum();
    println!(
        "bench data: {} documents, {tokens} tokens from {}",
        docs.len(),
        path.display()
    );

    let mut g = c.benchmark_group("ner_tag");
    g.throughput(Throughput::Elements(tokens as u64));
    g.sampling_mode(SamplingMode::Flat);
    let mut tagger = Tagger::new(model);
    let mut tags = Vec::new();
    g.bench_function("conll_valid", |b| {
        b.iter(|| {
            for doc in &sentences {
                tagger.tag_document(black_box(doc), &mut tags);
                black_box(&tags);
            }
        });
    });
    g.bench_function("conll_valid_cold", |b| {
        b.iter(|| {
            let mut cold = Tagger::new(model);
            for doc in &sentences {
                cold.tag_document(black_box(doc), &mut tags);
                black_box(&tags);
            }
        });
    });
    g.finish();

    let texts: Vec<Vec<String>> = docs
        .iter()
        .map(|d| d.iter().map(|s| s.tokens.join(" ")).collect())
        .collect();
    let tok = Tokenizer::new(&cfg.lexicons.names.sentences.abbreviations);
    let mut g = c.benchmark_group("ner_tokenize+tag");
    g.throughput(Throughput::Elements(tokens as u64));
    g.sampling_mode(SamplingMode::Flat);
    let mut spans = Vec::new();
    g.bench_function("conll_valid", |b| {
        b.iter(|| {
            for doc in &texts {
                let words: Vec<Vec<&str>> = doc
                    .iter()
                    .map(|s| {
                        tok.tokenize(s, &mut spans);
                        spans.iter().map(|&(a, z)| &s[a..z]).collect()
                    })
                    .collect();
                tagger.tag_document(black_box(&words), &mut tags);
                black_box(&tags);
            }
        });
    });
    g.finish();
}

fn bench_model(c: &mut Criterion) {
    let bytes = sitrep::config::embedded::NER_MODEL;
    let mut g = c.benchmark_group("ner_model");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| NerModel::from_bytes(black_box(bytes)).expect("the shipped model decodes"));
    });
    g.finish();
}

fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench_model, bench_tagger
}
criterion_main!(benches);
