//! sitrep turns a stream of news wire reports into a live situation picture: entities,
//! developments with a status tracked across reports, and change events about them.
//!
//! # Layout
//! * `source`: finds report files in the watch folder and reads each once it is complete.
//! * `stages`: the synchronous cores of the pipeline: `normalize` (decoding, metadata,
//!   sentences with offsets), `dedup` (exact re-sends) and `extract` (entity mentions and
//!   development claims).
//! * `state`: the situation (entities, developments, reports) and the status rule; one
//!   writer applies reports and returns numbered change events.
//! * `events`: change events as CloudEvents.
//! * `pipeline`: the wiring between them: threads, bounded channels, the event sink.
//! * `config`, `cli`, `shutdown`: settings and lexicons, flags, signals.
//!
//! Dependencies flow one way: `report`/`text` ← `stages`, `source` ← `state` ← `events` ←
//! `pipeline`; nothing below `pipeline` knows about channels.

pub mod cli;
pub mod config;
pub mod eval;
pub mod events;
pub mod ner;
pub mod ner_eval;
pub mod pipeline;
pub mod report;
pub mod shutdown;
pub mod source;
pub mod stages;
pub mod state;
pub mod text;

use std::future::Future;
use std::path::PathBuf;

use tracing::info;

use crate::config::Config;
use crate::pipeline::{EventSink, Pipeline, PipelineError};
use crate::source::{collect, read_report, WatchSource};
use crate::state::SituationHandle;

/// Runs the daemon until `shutdown` resolves, then drains the pipeline and returns.
///
/// # Errors
/// Only infrastructure failures (events file, threads); a bad report never stops it.
pub async fn run(
    cfg: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<SituationHandle, PipelineError> {
    let sink = EventSink::new(&cfg, Some(&cfg.events_path()), cfg.events.stdout)?;
    let pipeline = Pipeline::start(&cfg, sink, SituationHandle::new())?;
    info!(
        watch_dir = %cfg.source.watch_dir.display(),
        events = %cfg.events_path().display(),
        config = %cfg.origin,
        "sitrep started."
    );
    let source = WatchSource::new(cfg.source.clone());
    source
        .run(pipeline.intake.clone(), shutdown, || info!("Ready."))
        .await;
    let situation = tokio::task::spawn_blocking(move || pipeline.finish())
        .await
        .map_err(|_| PipelineError::Panicked("shutdown"))??;
    info!(seq = situation.read(|s| s.seq()), "sitrep stopped.");
    Ok(situation)
}

/// Runs the pipeline once over `paths` (folders in name order), printing events to
/// stdout when `print` is set. Same stages and order as the daemon.
///
/// # Errors
/// As [`run`].
pub fn ingest(
    cfg: &Config,
    paths: &[PathBuf],
    print: bool,
) -> Result<SituationHandle, PipelineError> {
    let sink = EventSink::new(cfg, None, print)?;
    let pipeline = Pipeline::start(cfg, sink, SituationHandle::new())?;
    for path in collect(paths) {
        if pipeline
            .intake
            .blocking_send(read_report(&path, cfg.source.max_bytes))
            .is_err()
        {
            break;
        }
    }
    pipeline.finish()
}

/// Errors of [`explain`].
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("{path}: {reason}")]
    Rejected {
        path: PathBuf,
        reason: report::Rejection,
    },
}

/// What extraction finds in one file, as JSON: sentences, mentions (with kind and key)
/// and claims (with trigger, cue, modality and roles).
///
/// # Errors
/// When the file is refused, with the reason.
pub fn explain(cfg: &Config, path: &std::path::Path) -> Result<serde_json::Value, ExplainError> {
    use serde_json::json;
    let raw = match read_report(path, cfg.source.max_bytes) {
        source::Intake::Report(r) => r,
        source::Intake::Rejected(r) => {
            return Err(ExplainError::Rejected {
                path: r.path,
                reason: r.reason,
            })
        }
    };
    let report = stages::normalize::Normalizer::new(&cfg.lexicons.names)
        .normalize(&raw)
        .map_err(|reason| ExplainError::Rejected {
            path: path.to_path_buf(),
            reason,
        })?;
    let ex = stages::extract::Extractor::new(&cfg.lexicons).extract(&report);
    let mention = |i: Option<usize>| {
        i.and_then(|i| ex.mentions.get(i))
            .map(|m| m.surface.clone())
    };
    Ok(json!({
        "id": report.id,
        "meta": report.meta,
        "published_at": report.published_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "sentences": report.sentences.iter().enumerate().map(|(i, s)| json!({
            "index": i, "start": s.start, "end": s.end, "text": s.text,
            "mentions": ex.mentions.iter().filter(|m| m.sentence == i).map(|m| json!({
                "surface": m.surface, "kind": m.kind, "key": m.key, "weight": m.weight,
                "gazetteer": m.gazetteer.is_some(), "demonym": m.demonym,
                "link": m.link.and_then(|l| ex.mentions.get(l)).map(|l| l.surface.clone()),
            })).collect::<Vec<_>>(),
            "claims": ex.claims.iter().filter(|c| c.sentence == i).map(|c| json!({
                "frame": c.frame, "trigger": c.trigger, "status": c.status, "cue": c.cue,
                "modality": c.modality, "resumption": c.resumption,
                "actor": mention(c.actor), "location": mention(c.location), "target": mention(c.target),
                "participants": c.participants.iter().filter_map(|&p| mention(Some(p))).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}
