//! Throughput of the pipeline stages on real news text.
//!
//! Input: a fixed sample of about 200 files of the BBC News corpus, read once at start from
//! `../shared/data/corpus/bbc` (beside the checkout; `SITREP_BENCH_CORPUS` overrides the
//! folder). The corpus is not part of the repository: without it every benchmark is
//! skipped with a message.
//!
//! Groups: `normalize`, `extract` (on reports normalized beforehand), `normalize+extract`
//! and `ingest` (the whole pipeline, threads and situation included, as `sitrep ingest`
//! runs it, events not printed). Each iteration processes the whole sample; throughput is
//! in bytes of input.
//!
//! Run with `cargo bench --bench pipeline`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use sitrep::config::Config;
use sitrep::report::{RawReport, Report};
use sitrep::stages::extract::Extractor;
use sitrep::stages::normalize::Normalizer;
use time::OffsetDateTime;

/// How many corpus files the sample holds (spread evenly over the name-sorted folder, so
/// every BBC category is in it).
const SAMPLE_FILES: usize = 200;

/// The sample: paths and contents, in name order.
struct Sample {
    paths: Vec<PathBuf>,
    raws: Vec<RawReport>,
    bytes: u64,
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("SITREP_BENCH_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/corpus/bbc"),
        PathBuf::from,
    )
}

fn load_sample(dir: &Path) -> Result<Sample, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut all: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "txt"))
        .collect();
    all.sort();
    if all.is_empty() {
        return Err(format!("{}: no .txt files", dir.display()));
    }
    let n = all.len().min(SAMPLE_FILES);
    let paths: Vec<PathBuf> = (0..n).map(|i| all[i * all.len() / n].clone()).collect();
    let received_at = OffsetDateTime::now_utc();
    let mut raws = Vec::with_capacity(paths.len());
    for path in &paths {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        raws.push(RawReport {
            path: path.clone(),
            bytes,
            modified: None,
            received_at,
        });
    }
    let bytes = raws.iter().map(|r| r.bytes.len() as u64).sum();
    Ok(Sample { paths, raws, bytes })
}

/// The sample, loaded on first use; `None` (with a message, printed once) when the corpus
/// is missing.
fn sample() -> Option<&'static Sample> {
    static SAMPLE: OnceLock<Option<Sample>> = OnceLock::new();
    SAMPLE
        .get_or_init(|| {
            let dir = corpus_dir();
            match load_sample(&dir) {
                Ok(s) => {
                    println!(
                        "bench sample: {} files, {} bytes from {}",
                        s.raws.len(),
                        s.bytes,
                        dir.display()
                    );
                    Some(s)
                }
                Err(e) => {
                    println!("skipping the pipeline benchmarks: corpus not available ({e})");
                    None
                }
            }
        })
        .as_ref()
}

fn config() -> Config {
    Config::embedded().expect("embedded config is valid")
}

fn normalize_all(normalizer: &Normalizer, raws: &[RawReport]) -> Vec<Report> {
    raws.iter()
        .filter_map(|r| normalizer.normalize(r).ok())
        .collect()
}

fn bench_stages(c: &mut Criterion) {
    let Some(sample) = sample() else { return };
    let cfg = config();
    let normalizer = Normalizer::new(&cfg.lexicons.names);
    let extractor = Extractor::new(&cfg.lexicons);
    let reports = normalize_all(&normalizer, &sample.raws);
    if reports.len() != sample.raws.len() {
        println!(
            "note: {} of {} sample files were rejected by normalize",
            sample.raws.len() - reports.len(),
            sample.raws.len()
        );
    }

    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Bytes(sample.bytes));
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("bbc_sample", |b| {
        b.iter(|| {
            for raw in &sample.raws {
                let _ = black_box(normalizer.normalize(black_box(raw)));
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("extract");
    g.throughput(Throughput::Bytes(sample.bytes));
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("bbc_sample", |b| {
        b.iter(|| {
            for report in &reports {
                black_box(extractor.extract(black_box(report)));
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("normalize+extract");
    g.throughput(Throughput::Bytes(sample.bytes));
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("bbc_sample", |b| {
        b.iter(|| {
            for raw in &sample.raws {
                if let Ok(report) = normalizer.normalize(black_box(raw)) {
                    black_box(extractor.extract(&report));
                }
            }
        });
    });
    g.finish();
}

fn bench_ingest(c: &mut Criterion) {
    let Some(sample) = sample() else { return };
    let cfg = config();
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Bytes(sample.bytes));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("bbc_sample", |b| {
        b.iter(|| {
            let situation =
                sitrep::ingest(&cfg, black_box(&sample.paths), false).expect("ingest runs");
            black_box(situation);
        });
    });
    g.finish();
}

fn criterion() -> Criterion {
    // Each iteration is a whole sample (tens to hundreds of ms), so few samples suffice;
    // about 30 s in all.
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench_stages, bench_ingest
}
criterion_main!(benches);
