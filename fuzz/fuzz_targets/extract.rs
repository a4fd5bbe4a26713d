//! Normalizing and extracting from arbitrary bytes: the stages after decoding must not
//! panic on any text that normalize lets through (a panic would stop the pipeline).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sitrep::config::Config;
use sitrep::report::RawReport;
use sitrep::stages::extract::Extractor;
use sitrep::stages::normalize::Normalizer;

fn stages() -> &'static (Normalizer, Extractor) {
    static STAGES: OnceLock<(Normalizer, Extractor)> = OnceLock::new();
    STAGES.get_or_init(|| {
        let cfg = Config::embedded().expect("the embedded configuration loads");
        (
            Normalizer::new(&cfg.lexicons.names),
            Extractor::new(&cfg.lexicons),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (normalizer, extractor) = stages();
    let raw = RawReport {
        path: "fuzz.txt".into(),
        bytes: data.to_vec(),
        modified: None,
        received_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    if let Ok(report) = normalizer.normalize(&raw) {
        let ex = extractor.extract(&report);
        for m in &ex.mentions {
            assert!(m.sentence < report.sentences.len());
        }
        for c in &ex.claims {
            assert!(c.sentence < report.sentences.len());
        }
    }
});
