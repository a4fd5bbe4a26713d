//! What the near-duplicate index costs as it grows: the dedup stage's call per incoming
//! report, and the index's memory per report, with 10,000, 100,000 and 1,000,000 reports
//! in the index.
//!
//! The reports are generated: invented words (syllables strung together, drawn with a
//! skew, so that common words are shared by many reports as in real text), capitalized
//! names, numbers, 6 to 18 sentences each, about 2,000 reports a publication day. One
//! report in ten is an edited copy of a recent one (a few words changed, another headline),
//! so buckets hold copies and lookups confirm candidates sentence by sentence.
//!
//! For each size N the index keeps the latest N reports (`dedup.retain_reports = N`, the
//! other settings as shipped) and is filled with N reports first; each measured call then
//! takes one more report, half of them edited copies of a recent report and half new
//! ones, and so also evicts the oldest entry: the steady state of a daemon whose index is
//! full. The measured call is [`Dedup::check`], with the report sketched beforehand
//! (sketching costs the same whatever the index holds; `pipeline` measures it with the
//! rest).
//!
//! Memory is printed before each size's measurement: the index's bytes as its containers
//! hold them, per report, and, from the allocator's own count, the bytes the whole dedup
//! state holds (the index and the exact-duplicate tables, which keep every fingerprint
//! and path ever seen), per report.
//!
//! Run with `cargo bench --bench neardup` (a few minutes, most of it spent generating and
//! sketching the million reports; `SITREP_NEARDUP_SIZES=10000,100000` picks sizes).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use sitrep::config::{Config, DedupConfig};
use sitrep::report::{RawReport, Report};
use sitrep::stages::dedup::{Dedup, Verdict};
use sitrep::stages::normalize::Normalizer;
use sitrep::stages::similarity::{Sketch, Sketcher};
use time::{Date, Month, OffsetDateTime};

/// The binary's allocator, whose statistics count what the index holds.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// Reports published per day.
const PER_DAY: u64 = 2_000;

/// The share of the filling reports that are edited copies of a recent one.
const COPIES_IN_FILL: f64 = 0.1;

/// Recent originals that copies are made from.
const RECENT: usize = 4_096;

const FUNCTION_WORDS: &[&str] = &[
    "the", "the", "the", "of", "of", "and", "and", "in", "in", "to", "to", "a", "a", "on", "for",
    "was", "with", "that", "by", "at", "from", "said", "had", "has", "were", "after", "its",
    "their", "would", "not",
];

/// A report as generated: its title, sentences and day of publication.
struct Draft {
    title: Vec<String>,
    sentences: Vec<Vec<String>>,
    day: u64,
}

/// Invented words, names and reports, the same for the same seed.
struct Generator {
    rng: fastrand::Rng,
    words: Vec<String>,
    names: Vec<String>,
    /// The seeds and days of recent originals, which a copy regenerates (a few bytes each,
    /// so that the generator's memory does not count as the index's).
    recent: Vec<(u64, u64)>,
    serial: u64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let words = (0..30_000).map(|_| invent(&mut rng, 2, 4)).collect();
        let names = (0..8_000)
            .map(|_| {
                let w = invent(&mut rng, 2, 3);
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or(w)
            })
            .collect();
        Self {
            rng,
            words,
            names,
            recent: Vec::with_capacity(RECENT),
            serial: 0,
        }
    }

    /// A content word: the lower indexes far more often, as in real text.
    fn word(&mut self) -> String {
        let u = self.rng.f64();
        let i = (u * u * u * self.words.len() as f64) as usize;
        self.words[i.min(self.words.len() - 1)].clone()
    }

    fn sentence(&mut self, len: usize) -> Vec<String> {
        let mut rng = std::mem::replace(&mut self.rng, fastrand::Rng::with_seed(0));
        let out = self.sentence_with(&mut rng, len);
        self.rng = rng;
        out
    }

    fn sentence_with(&self, rng: &mut fastrand::Rng, len: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            let r = rng.f64();
            let w = if r < 0.35 {
                FUNCTION_WORDS[rng.usize(..FUNCTION_WORDS.len())].to_string()
            } else if r < 0.44 {
                self.names[rng.usize(..self.names.len())].clone()
            } else if r < 0.47 {
                rng.u32(1..5_000).to_string()
            } else {
                let u = rng.f64();
                let i = (u * u * u * self.words.len() as f64) as usize;
                self.words[i.min(self.words.len() - 1)].clone()
            };
            out.push(w);
        }
        out
    }

    /// The original report made from `seed`.
    fn original(&self, seed: u64, day: u64) -> Draft {
        let mut rng = fastrand::Rng::with_seed(seed);
        let title_len = rng.usize(5..10);
        let title = self.sentence_with(&mut rng, title_len);
        let n = rng.usize(6..19);
        let sentences = (0..n)
            .map(|_| {
                let len = rng.usize(10..26);
                self.sentence_with(&mut rng, len)
            })
            .collect();
        Draft {
            title,
            sentences,
            day,
        }
    }

    /// An edited copy of a recent report: another headline, about one word in a hundred
    /// changed.
    fn copy(&mut self) -> Option<Draft> {
        if self.recent.is_empty() {
            return None;
        }
        let (seed, day) = self.recent[self.rng.usize(..self.recent.len())];
        let mut d = self.original(seed, day);
        let title_len = self.rng.usize(5..10);
        d.title = self.sentence(title_len);
        let words: usize = d.sentences.iter().map(Vec::len).sum();
        for _ in 0..(words / 100).max(1) {
            let s = self.rng.usize(..d.sentences.len());
            let w = self.rng.usize(..d.sentences[s].len());
            d.sentences[s][w] = self.word();
        }
        d.day = self.serial / PER_DAY;
        Some(d)
    }

    /// The next report's text: an edited copy with probability `copies`, else a new one.
    fn next(&mut self, copies: f64) -> (String, String) {
        let draft = if self.rng.f64() < copies {
            self.copy()
        } else {
            None
        };
        let draft = draft.unwrap_or_else(|| {
            let (seed, day) = (self.rng.u64(..), self.serial / PER_DAY);
            if self.recent.len() < RECENT {
                self.recent.push((seed, day));
            } else {
                let i = self.rng.usize(..RECENT);
                self.recent[i] = (seed, day);
            }
            self.original(seed, day)
        });
        self.serial += 1;
        let name = format!("r{:08}.txt", self.serial);
        (name, render(&draft, self.serial))
    }
}

/// A word of `min` to `max` syllables.
fn invent(rng: &mut fastrand::Rng, min: usize, max: usize) -> String {
    const ONSETS: &[&str] = &[
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
        "kl", "sh", "gr",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ea"];
    const CODAS: &[&str] = &["", "", "", "n", "r", "s", "l", "k"];
    let mut w = String::new();
    for _ in 0..rng.usize(min..=max) {
        w.push_str(ONSETS[rng.usize(..ONSETS.len())]);
        w.push_str(VOWELS[rng.usize(..VOWELS.len())]);
        w.push_str(CODAS[rng.usize(..CODAS.len())]);
    }
    w
}

fn render(d: &Draft, serial: u64) -> String {
    let date = Date::from_calendar_date(2031, Month::January, 1).expect("a date")
        + time::Duration::days(d.day as i64);
    let mut out = format!(
        "source: Wire {}\ndate: {date}\n\n{}\n",
        serial % 40,
        capitalized(&d.title)
    );
    for (i, s) in d.sentences.iter().enumerate() {
        out.push_str(if i % 3 == 0 { "\n" } else { " " });
        out.push_str(&capitalized(s));
        out.push('.');
    }
    out.push('\n');
    out
}

fn capitalized(words: &[String]) -> String {
    let mut s = words.join(" ");
    if let Some(f) = s.get(..1) {
        let upper = f.to_ascii_uppercase();
        s.replace_range(..1, &upper);
    }
    s
}

/// Normalizes and sketches reports, on every core.
fn prepare(
    normalizer: &Normalizer,
    sketcher: &Sketcher,
    texts: Vec<(String, String)>,
) -> Vec<(Report, Sketch)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = texts.len().div_ceil(threads).max(1);
    let received_at = OffsetDateTime::UNIX_EPOCH;
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(name, text)| {
                            let report = normalizer
                                .normalize(&RawReport {
                                    path: PathBuf::from(name),
                                    bytes: text.as_bytes().to_vec(),
                                    modified: None,
                                    received_at,
                                })
                                .ok()?;
                            let sketch = sketcher.sketch(&report);
                            Some((report, sketch))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a preparing thread"))
            .collect()
    })
}

/// Bytes the allocator has handed out and not yet had back.
fn allocated() -> usize {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0)
}

fn sizes() -> Vec<usize> {
    std::env::var("SITREP_NEARDUP_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| SIZES.to_vec())
}

fn bench_index(c: &mut Criterion) {
    let cfg = Config::embedded().expect("embedded settings");
    let normalizer = Normalizer::new(&cfg.lexicons.names);
    let sketcher = Sketcher::new(&cfg.lexicons);
    let mut g = c.benchmark_group("near_index_check");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(6));
    for n in sizes() {
        let settings = DedupConfig {
            retain_reports: n,
            ..cfg.dedup.clone()
        };
        let mut generator = Generator::new(7);
        let before = allocated();
        let dedup = Dedup::new(&settings);
        let mut near = 0usize;
        let mut left = n;
        while left > 0 {
            let batch = left.min(20_000);
            left -= batch;
            let texts: Vec<_> = (0..batch).map(|_| generator.next(COPIES_IN_FILL)).collect();
            for (report, sketch) in prepare(&normalizer, &sketcher, texts) {
                if let (Verdict::New { near: Some(_), .. }, _) = dedup.check(&report, || sketch) {
                    near += 1;
                }
            }
        }
        let whole = allocated().saturating_sub(before);
        let (kept, bytes) = dedup.near_index_size();
        println!(
            "{n} reports: {kept} in the index, {near} found near duplicates; index {} bytes \
             ({:.0} per report); dedup state by the allocator {} bytes ({:.0} per report)",
            bytes,
            bytes as f64 / kept.max(1) as f64,
            whole,
            whole as f64 / n as f64,
        );
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                let texts: Vec<_> = (0..iters).map(|_| generator.next(0.5)).collect();
                let prepared = prepare(&normalizer, &sketcher, texts);
                let mut done = Vec::with_capacity(prepared.len());
                let start = Instant::now();
                for (report, sketch) in prepared {
                    let verdict = dedup.check(&report, || sketch);
                    done.push((report, black_box(verdict)));
                }
                let elapsed = start.elapsed();
                drop(done);
                elapsed
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench_index);
criterion_main!(benches);
