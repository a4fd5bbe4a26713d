//! sitrep turns a stream of news wire reports into a live situation picture: entities,
//! developments with a status tracked across reports, and change events about them.
//!
//! # Layout
//! * `source`: finds report files in the watch folder and reads each once it is complete.
//! * `stages`: the synchronous cores of the pipeline: `normalize` (decoding, metadata,
//!   sentences with offsets), `dedup` (exact re-sends and near duplicates, from the word
//!   sketches of `similarity`) and `extract` (entity mentions and development claims).
//! * `extraction`: what the extract stage hands the situation (entity kinds, mentions,
//!   claims, statuses), so the situation depends on no stage.
//! * `state`: the situation (entities, developments, reports, stories) and the status
//!   rule; one writer applies reports and returns numbered change events.
//! * `events`: change events as CloudEvents.
//! * `journal`: the durable record of every outcome, snapshots and recovery.
//! * `pipeline`: the wiring between them: threads, bounded channels, the event sink.
//! * `api`, `board`: the HTTP API, and the situation board page it serves at `/`.
//! * `config`, `cli`, `shutdown`: settings and lexicons, flags, signals.
//!
//! Dependencies flow one way: `report`/`text` ← `stages`, `source` ← `state` ← `events` ←
//! `pipeline`; nothing below `pipeline` knows about channels.

pub mod api;
pub mod board;
pub mod cli;
pub mod client;
pub mod config;
pub mod coref_eval;
pub mod corpus;
pub mod eval;
pub mod events;
pub mod extraction;
pub mod feed_eval;
pub mod hub;
pub mod journal;
pub mod labels;
pub mod learn;
pub mod metrics;
pub mod ner;
pub mod ner_eval;
pub mod pipeline;
pub mod quarantine;
pub mod report;
pub mod retraction;
pub mod shutdown;
pub mod source;
pub mod stages;
pub mod state;
pub mod text;

use std::future::Future;
use std::path::PathBuf;

use std::sync::Arc;

use tracing::{info, warn};

use crate::config::Config;
use crate::hub::Hub;
use crate::journal::Journal;
use crate::pipeline::{recover, EventSink, Pipeline, PipelineError};
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
    let started = std::time::Instant::now();
    // Polled once now: a signal future sets up its handlers when first polled, and the
    // watcher first polls it only after saying "Ready.", so a SIGTERM just then took the
    // default action and killed the daemon instead of stopping it.
    let mut shutdown = Box::pin(shutdown);
    let early =
        std::future::poll_fn(|cx| std::task::Poll::Ready(shutdown.as_mut().poll(cx).is_ready()))
            .await;
    let shutdown = async move {
        if !early {
            shutdown.await;
        }
    };
    let (journal, recovery) = Journal::open(&cfg.events.data_dir, &cfg.journal)?;
    let mut cfg = cfg;
    let source = match cfg.events.source.take() {
        Some(s) => s,
        None => journal.event_source()?,
    };
    cfg.events.source = Some(source.clone());
    let event_source: Arc<str> = Arc::from(source);
    let rcfg = cfg.clone();
    let recovered = tokio::task::spawn_blocking(move || recover(&rcfg, journal, recovery))
        .await
        .map_err(|_| PipelineError::Panicked("recovery"))??;
    let taken = recovered.durable.ledger().clone();
    let seq = recovered.situation.read(|s| s.seq());
    let ms = started.elapsed().as_millis() as u64;
    if seq == 0 && taken.is_empty() {
        info!(data_dir = %cfg.events.data_dir.display(), ms, "Starting with an empty situation.");
    } else {
        info!(
            replayed = recovered.replayed,
            files_taken = taken.len(),
            seq,
            ms,
            "Situation restored from the data directory."
        );
    }
    let hub = Arc::new(Hub::new(
        cfg.api.retain_events,
        cfg.api.subscriber_buffer,
        Some(cfg.events_path()),
        recovered.situation.read(|s| s.seq()),
    ));
    let situation = recovered.situation.clone();
    let sink = EventSink::new(&cfg, Some(&cfg.events_path()), cfg.events.stdout)?
        .with_hub(hub.clone())
        .with_rejected_dir(quarantine::RejectedDir::new(&cfg.source));
    let pipeline = Pipeline::start_recovered(&cfg, sink, recovered)?;
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let sockets = tokio_util::task::TaskTracker::new();
    let server = if cfg.api.enabled {
        let (listener, addr) =
            api::bind(&cfg.api.listen)
                .await
                .map_err(|source| PipelineError::Listen {
                    addr: cfg.api.listen.clone(),
                    source,
                })?;
        let addr_file = cfg.events.data_dir.join("listen.addr");
        if let Err(e) = std::fs::write(&addr_file, format!("{addr}\n")) {
            warn!(path = %addr_file.display(), error = %e, "Cannot write the listen address file.");
        }
        info!(%addr, "HTTP API listening.");
        let board = board::Board::new(Arc::clone(&cfg.lexicons.places));
        let router = api::router(api::Api {
            hub: hub.clone(),
            situation: situation.clone(),
            token: cfg.api.token.as_deref().map(Arc::from),
            keepalive: std::time::Duration::from_secs(cfg.api.keepalive_secs.max(1)),
            source: event_source.clone(),
            cors_origins: cfg.api.cors_origins.clone(),
            sockets: sockets.clone(),
            board,
            retract: Some(pipeline.intake.downgrade()),
        });
        Some(tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = server_stopped.await;
            });
            if let Err(e) = serve.await {
                warn!(error = %e, "HTTP API stopped with an error.");
            }
        }))
    } else {
        None
    };
    info!(
        watch_dir = %cfg.source.watch_dir.display(),
        data_dir = %cfg.events.data_dir.display(),
        config = %cfg.origin,
        "sitrep started."
    );
    let source = WatchSource::new(cfg.source.clone()).with_taken(&taken);
    let ready_hub = hub.clone();
    source
        .run(pipeline.intake.clone(), shutdown, move || {
            ready_hub.set_ready();
            info!("Ready.");
        })
        .await;
    let situation = tokio::task::spawn_blocking(move || pipeline.finish())
        .await
        .map_err(|_| PipelineError::Panicked("shutdown"))??;
    // Everything is published: end the event streams, then the server. WebSocket
    // connections live outside the server once upgraded: they are waited for too, so
    // each gets through its closing handshake before the process exits.
    hub.close();
    let _ = stop_server.send(());
    sockets.close();
    let closed = async {
        if let Some(server) = server {
            let _ = server.await;
        }
        sockets.wait().await;
    };
    if tokio::time::timeout(std::time::Duration::from_secs(5), closed)
        .await
        .is_err()
    {
        warn!("HTTP connections did not close within 5 s; leaving them.");
    }
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

/// Errors of [`retract_offline`].
#[derive(Debug, thiserror::Error)]
pub enum RetractOfflineError {
    #[error("{0} holds no journal: no daemon has run there")]
    NoDataDir(PathBuf),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Refused(#[from] retraction::RetractError),
}

/// Retracts a report in the data directory of a daemon that is not running, as the
/// daemon would: the picture is recovered from the snapshot and journal, the retraction
/// journaled and its events appended to the events file, and a snapshot written. The
/// watch folder is not read; the daemon takes what arrived there when it starts.
///
/// # Errors
/// No data directory, a daemon holding it (its lock), journal failures, or the report
/// unknown or already retracted.
pub fn retract_offline(
    cfg: &Config,
    report: &str,
    reason: Option<String>,
    by: Option<String>,
) -> Result<retraction::Retracted, RetractOfflineError> {
    let dir = &cfg.events.data_dir;
    if !journal::Layout::new(dir).journal_dir().is_dir() {
        return Err(RetractOfflineError::NoDataDir(dir.clone()));
    }
    let (journal, recovery) = Journal::open(dir, &cfg.journal).map_err(PipelineError::from)?;
    let mut cfg = cfg.clone();
    if cfg.events.source.is_none() {
        cfg.events.source = Some(journal.event_source().map_err(PipelineError::from)?);
    }
    let recovered = recover(&cfg, journal, recovery)?;
    let sink = EventSink::new(&cfg, Some(&cfg.events_path()), false)?;
    let pipeline = Pipeline::start_recovered(&cfg, sink, recovered)?;
    let (req, answer) = retraction::RetractRequest::new(report.to_string(), reason, by);
    let sent = pipeline
        .intake
        .blocking_send(source::Intake::Retract(req))
        .is_ok();
    let done = if sent {
        answer.blocking_recv().ok()
    } else {
        None
    };
    pipeline.finish()?;
    match done {
        Some(result) => Ok(result?),
        None => Err(retraction::RetractError::Unavailable(
            "the pipeline stopped before the retraction was done".into(),
        )
        .into()),
    }
}

/// How far `replay` goes: up to an event sequence number, or up to a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Seq(u64),
    Time(time::OffsetDateTime),
}

impl std::str::FromStr for Until {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(n) = s.parse::<u64>() {
            return Ok(Until::Seq(n));
        }
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(Until::Time)
            .map_err(|e| format!("`{s}` is neither a sequence number nor an RFC 3339 time ({e})"))
    }
}

/// Errors of [`replay`].
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("the journal in {dir} starts at entry {first} (older segments were compacted away), so it cannot show the picture before its snapshot at event {snapshot_seq}")]
    Compacted {
        dir: PathBuf,
        first: u64,
        snapshot_seq: u64,
    },
    #[error("--until with a sequence number needs a data directory; for a folder of reports give a time")]
    SeqNeedsJournal,
}

/// Rebuilds a situation from a data directory's journal (snapshot and entries) or from a
/// folder of reports, up to `until`, without publishing anything.
///
/// `progress` draws a progress bar on standard error when it is a terminal.
///
/// # Errors
/// An unreadable or damaged journal, or an `until` the journal no longer reaches.
pub fn replay(
    cfg: &Config,
    path: &std::path::Path,
    until: Option<Until>,
    progress: bool,
) -> Result<SituationHandle, ReplayError> {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = |len: u64, what: &str| {
        let pb = if progress {
            ProgressBar::new(len)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what} [{{bar:40}}] {{percent:>3}}% {{msg}} ({{eta}} left)"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    };
    let layout = journal::Layout::new(path);
    if !layout.journal_dir().is_dir() {
        let stages = pipeline::Stages::new(cfg);
        if matches!(until, Some(Until::Seq(_))) {
            return Err(ReplayError::SeqNeedsJournal);
        }
        let state = SituationHandle::new();
        let files = collect(&[path.to_path_buf()]);
        let pb = bar(files.len() as u64, "reports");
        for file in files {
            pb.inc(1);
            let intake = read_report(&file, cfg.source.max_bytes);
            stages.process_if(intake, &state, |r| match until {
                Some(Until::Time(t)) => r.published_at <= t,
                _ => true,
            });
        }
        pb.finish_and_clear();
        return Ok(state);
    }
    let mut snapshot = layout.load_snapshot()?;
    let usable = snapshot.as_ref().is_some_and(|s| match until {
        None => true,
        Some(Until::Seq(n)) => s.seq <= n,
        Some(Until::Time(t)) => s.at <= t,
    });
    let (state, after) = match snapshot.take().filter(|_| usable) {
        Some(mut snap) => {
            let dedup = std::mem::take(&mut snap.dedup);
            let lsn = snap.lsn;
            (
                SituationHandle::from_situation(snap.situation),
                (Some(dedup), lsn),
            )
        }
        None => {
            let first = layout.segments()?.first().map_or(1, |s| s.0);
            if first > 1 {
                let snapshot_seq = layout.load_snapshot()?.map_or(0, |s| s.seq);
                return Err(ReplayError::Compacted {
                    dir: path.to_path_buf(),
                    first,
                    snapshot_seq,
                });
            }
            (SituationHandle::new(), (None, 0))
        }
    };
    let (dedup, after) = after;
    // The daemon's stages, so that the entries read as they did when it took them.
    let stages = pipeline::Stages::watching(cfg);
    let stages = match dedup {
        Some(image) => {
            let dedup = stages.dedup_from_image(image);
            stages.with_dedup(dedup)
        }
        None => stages,
    };
    let total: u64 = layout
        .segments()?
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let pb = bar(total, "journal");
    layout.read_entries(after, false, |entry, bytes| {
        pb.inc(bytes);
        let past = match until {
            Some(Until::Seq(n)) => entry.last_seq().is_some_and(|s| s > n),
            Some(Until::Time(t)) => entry.at > t,
            None => false,
        };
        if past {
            return false;
        }
        stages.replay(&entry, &state);
        pb.set_message(format!("event {}", state.read(|s| s.seq())));
        true
    })?;
    pb.finish_and_clear();
    Ok(state)
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
        source::Intake::Retract(_) => unreachable!("read_report reads a file"),
    };
    let report = stages::normalize::Normalizer::new(&cfg.lexicons.names)
        .normalize(&raw)
        .map_err(|reason| ExplainError::Rejected {
            path: path.to_path_buf(),
            reason,
        })?;
    let ex = stages::extract::Extractor::new(&cfg.lexicons).extract(&report);
    // Candidates the sense filter dropped, for the reader who expected a claim there.
    let all = stages::extract::Extractor::new(&cfg.lexicons)
        .without_sense()
        .extract(&report);
    let dropped: Vec<&extraction::ClaimDraft> = all
        .claims
        .iter()
        .filter(|a| {
            !ex.claims
                .iter()
                .any(|c| c.sentence == a.sentence && c.span == a.span)
        })
        .collect();
    // What decided each claim's sense: its strongest features and their weights.
    let toks = text::SentenceTokens::new(report.sentences.iter().map(|s| s.text.as_str()));
    let doc = stages::extract::sense::DocContext::new(&report, &toks);
    let know = stages::extract::sense::Knowledge::of(&cfg.lexicons);
    let sense_features = |c: &extraction::ClaimDraft| -> Vec<serde_json::Value> {
        if cfg.lexicons.sense.is_empty() {
            return Vec::new();
        }
        stages::extract::sense::claim_weights(
            &report,
            &toks,
            &ex.mentions,
            c,
            &doc,
            &know,
            &cfg.lexicons.sense,
        )
        .into_iter()
        .take(12)
        .map(|(f, w)| json!([f, (w * 10.0).round() / 10.0]))
        .collect()
    };
    // A dropped candidate's margin, to read against the model's threshold.
    let margin = |c: &extraction::ClaimDraft| -> Option<f32> {
        if cfg.lexicons.sense.is_empty() {
            return None;
        }
        let mut keys = Vec::new();
        stages::extract::sense::claim_keys(
            &report,
            &toks,
            &all.mentions,
            c,
            &doc,
            &know,
            &mut keys,
        );
        Some((cfg.lexicons.sense.margin(&keys) * 100.0).round() / 100.0)
    };
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
                "gazetteer": m.gazetteer.is_some(), "demonym": m.demonym, "written": m.written,
                "enclosing": m.enclosing,
                "link": m.link.and_then(|l| ex.mentions.get(l)).map(|l| l.surface.clone()),
            })).collect::<Vec<_>>(),
            "claims": ex.claims.iter().filter(|c| c.sentence == i).map(|c| json!({
                "frame": c.frame, "trigger": c.trigger, "span": [c.span.0, c.span.1], "form": c.form,
                "sense": c.sense, "sense_features": sense_features(c),
                "status": c.status, "cue": c.cue,
                "modality": c.modality, "resumption": c.resumption,
                "actor": mention(c.actor), "location": mention(c.location), "target": mention(c.target),
                "participants": c.participants.iter().filter_map(|&p| mention(Some(p))).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "dropped": dropped.iter().filter(|c| c.sentence == i).map(|c| json!({
                "frame": c.frame, "trigger": c.trigger, "span": [c.span.0, c.span.1],
                "sense_margin": margin(c), "sense_threshold": cfg.lexicons.sense.threshold,
                "sense_features": sense_features(c),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}
