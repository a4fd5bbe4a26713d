//! Decoding and normalizing arbitrary bytes: a report or a reason, never a panic, and
//! sentence offsets that index the decoded text on character boundaries.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sitrep::config::Config;
use sitrep::report::{RawReport, Rejection};
use sitrep::stages::normalize::{decode, Normalizer};

fn normalizer() -> &'static Normalizer {
    static NORMALIZER: OnceLock<Normalizer> = OnceLock::new();
    NORMALIZER.get_or_init(|| {
        let cfg = Config::embedded().expect("the embedded configuration loads");
        Normalizer::new(&cfg.lexicons.names)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = decode(data) {
        assert!(!decoded.text.trim().is_empty());
        assert!(!decoded.encoding.is_empty());
    }
    let raw = RawReport {
        path: "fuzz.txt".into(),
        bytes: data.to_vec(),
        modified: None,
        received_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    match normalizer().normalize(&raw) {
        Ok(report) => {
            assert!(!report.sentences.is_empty());
            for s in &report.sentences {
                assert!(s.start < s.end && s.end <= report.original.len(), "{s:?}");
                assert!(report.original.is_char_boundary(s.start), "{s:?}");
                assert!(report.original.is_char_boundary(s.end), "{s:?}");
            }
        }
        Err(reason) => assert!(Rejection::CODES.contains(&reason.code())),
    }
});
