//! Wiring: source → normalize+dedup → extract → situation writer → event sink.
//!
//! Each stage after the source runs on its own OS thread (CPU-bound work must not stall
//! the async runtime) and talks to its neighbours over bounded `tokio::sync::mpsc`
//! channels: a full channel blocks the stage before it, so a burst of files slows intake
//! instead of growing memory or dropping anything. Items keep their arrival order end to
//! end, which makes `ingest` deterministic. Shutdown travels down the chain: the source
//! drops its sender, each stage drains and drops its own, and the writer flushes last.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{broadcast, mpsc};
use tracing::{debug, info_span, warn};

use crate::config::Config;
use crate::events::ChangeEvent;
use crate::quarantine::RejectedDir;
use crate::report::{FileStamp, Rejected, Report};
use crate::source::Intake;
use crate::stages::dedup::{Dedup, Verdict};
use crate::stages::extract::{Extraction, Extractor};
use crate::stages::normalize::Normalizer;
use crate::state::SituationHandle;

/// Errors that stop the pipeline (never a single bad report).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot open the events file {path}: {source}")]
    EventsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the {0} stage thread: {1}")]
    Spawn(&'static str, std::io::Error),
    #[error("the {0} stage panicked")]
    Panicked(&'static str),
}

enum Normalized {
    Report(Report),
    Duplicate(Report, String, String),
    Rejected(Rejected),
}

enum Extracted {
    Report(Box<Report>, Extraction),
    Duplicate(Box<Report>, String, String),
    Rejected(Rejected),
}

impl Extracted {
    fn rejected(&self) -> Option<&Rejected> {
        match self {
            Extracted::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

/// Where change events go: stdout, the events file and in-process subscribers.
#[derive(Debug)]
pub struct EventSink {
    stdout: bool,
    file: Option<BufWriter<File>>,
    source: String,
    subscribers: Option<broadcast::Sender<Arc<ChangeEvent>>>,
    /// Where rejected files go once their event is written (`source.rejected_dir`).
    rejected_dir: Option<RejectedDir>,
}

impl EventSink {
    /// # Errors
    /// When the events file cannot be opened for appending.
    pub fn new(
        cfg: &Config,
        events_file: Option<&Path>,
        stdout: bool,
    ) -> Result<Self, PipelineError> {
        let file = match events_file {
            Some(path) => {
                if let Some(parent) = path.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| PipelineError::EventsFile {
                        path: path.to_path_buf(),
                        source,
                    })?;
                Some(BufWriter::new(f))
            }
            None => None,
        };
        Ok(Self {
            stdout,
            file,
            source: cfg.events.source.clone(),
            subscribers: None,
            rejected_dir: None,
        })
    }

    /// Move rejected files into this folder after writing their events (the daemon only:
    /// `ingest` leaves the files it is given alone).
    pub fn with_rejected_dir(mut self, dir: Option<RejectedDir>) -> Self {
        self.rejected_dir = dir;
        self
    }

    /// Sets a rejected file aside, if the settings ask for it; call after [`Self::write`].
    fn after_rejection(&self, rejected: Option<Rejected>) {
        if let (Some(dir), Some(r)) = (&self.rejected_dir, rejected) {
            dir.set_aside(&r);
        }
    }

    /// Also publish every event to in-process subscribers.
    pub fn with_subscribers(mut self, tx: broadcast::Sender<Arc<ChangeEvent>>) -> Self {
        self.subscribers = Some(tx);
        self
    }

    fn write(&mut self, events: Vec<ChangeEvent>) {
        if events.is_empty() {
            return;
        }
        let mut buf = String::new();
        for e in &events {
            buf.push_str(&e.to_line(&self.source));
            buf.push('\n');
        }
        if self.stdout {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(buf.as_bytes()).and_then(|()| out.flush()) {
                // A closed pipe must not stop the daemon; the events file still has everything.
                warn!(error = %e, "Cannot write events to standard output; stopping stdout output.");
                self.stdout = false;
            }
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(buf.as_bytes()).and_then(|()| f.flush()) {
                tracing::error!(error = %e, "Cannot append to the events file.");
            }
        }
        if let Some(tx) = &self.subscribers {
            for e in events {
                // No subscriber is not an error.
                let _ = tx.send(Arc::new(e));
            }
        }
    }
}

/// A running pipeline: send [`Intake`] in, then [`Pipeline::finish`].
#[derive(Debug)]
pub struct Pipeline {
    pub intake: mpsc::Sender<Intake>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    pub situation: SituationHandle,
}

fn spawn<F: FnOnce() + Send + 'static>(
    name: &'static str,
    f: F,
) -> Result<JoinHandle<()>, PipelineError> {
    std::thread::Builder::new()
        .name(format!("sitrep-{name}"))
        .spawn(f)
        .map_err(|e| PipelineError::Spawn(name, e))
}

/// The stage cores, shared by the pipeline's threads and by one-report-at-a-time callers
/// (`sitrep eval`), so both run exactly the same code.
#[derive(Debug, Clone)]
pub struct Stages {
    normalizer: Arc<Normalizer>,
    dedup: Dedup,
    extractor: Arc<Extractor>,
}

impl Stages {
    pub fn new(cfg: &Config) -> Self {
        Self {
            normalizer: Arc::new(Normalizer::new(&cfg.lexicons.names)),
            dedup: Dedup::new(),
            extractor: Arc::new(Extractor::new(&cfg.lexicons)),
        }
    }

    /// Decode and normalize, then drop exact re-sends.
    fn normalize(&self, item: Intake) -> Normalized {
        match item {
            Intake::Rejected(r) => Normalized::Rejected(r),
            Intake::Report(raw) => {
                let _span = info_span!("report", file = %raw.path.display()).entered();
                match self.normalizer.normalize(&raw) {
                    Err(reason) => Normalized::Rejected(Rejected {
                        seen: Some(FileStamp {
                            len: raw.bytes.len() as u64,
                            modified: raw.modified,
                        }),
                        path: raw.path,
                        reason,
                    }),
                    Ok(report) => match self.dedup.check(&report) {
                        Verdict::New => Normalized::Report(report),
                        Verdict::Duplicate { of_id, of_file } => {
                            Normalized::Duplicate(report, of_id, of_file)
                        }
                    },
                }
            }
        }
    }

    fn extract(&self, item: Normalized) -> Extracted {
        match item {
            Normalized::Rejected(r) => Extracted::Rejected(r),
            Normalized::Duplicate(r, id, f) => Extracted::Duplicate(Box::new(r), id, f),
            Normalized::Report(r) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                let extraction = self.extractor.extract(&r);
                debug!(
                    mentions = extraction.mentions.len(),
                    claims = extraction.claims.len(),
                    "Extracted."
                );
                Extracted::Report(Box::new(r), extraction)
            }
        }
    }

    fn apply(&self, item: Extracted, state: &SituationHandle) -> Vec<ChangeEvent> {
        match item {
            Extracted::Rejected(r) => {
                warn!(path = %r.path.display(), reason = %r.reason, "Report rejected.");
                state.write(|s| s.apply_rejected(&r.path, &r.reason))
            }
            Extracted::Duplicate(r, id, f) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                debug!(original = %id, "Exact duplicate.");
                state.write(|s| s.apply_duplicate(&r, &id, &f))
            }
            Extracted::Report(r, ex) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                state.write(|s| s.apply_report(&r, &ex, &self.extractor.entities))
            }
        }
    }

    /// All stages for one input, on the caller's thread.
    pub fn process(&self, item: Intake, state: &SituationHandle) -> Vec<ChangeEvent> {
        self.apply(self.extract(self.normalize(item)), state)
    }

    /// The recognizer, for callers that compare names the way the situation does.
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }
}

impl Pipeline {
    /// Starts the stage threads.
    ///
    /// # Errors
    /// When a thread cannot be spawned.
    pub fn start(
        cfg: &Config,
        mut sink: EventSink,
        situation: SituationHandle,
    ) -> Result<Pipeline, PipelineError> {
        let cap = cfg.pipeline.channel_capacity;
        let (intake_tx, mut intake_rx) = mpsc::channel::<Intake>(cap);
        let (norm_tx, mut norm_rx) = mpsc::channel::<Normalized>(cap);
        let (ext_tx, mut ext_rx) = mpsc::channel::<Extracted>(cap);
        let stages = Stages::new(cfg);
        let mut threads = Vec::new();

        let st = stages.clone();
        threads.push((
            "normalize",
            spawn("normalize", move || {
                while let Some(item) = intake_rx.blocking_recv() {
                    if norm_tx.blocking_send(st.normalize(item)).is_err() {
                        break;
                    }
                }
            })?,
        ));
        let st = stages.clone();
        threads.push((
            "extract",
            spawn("extract", move || {
                while let Some(item) = norm_rx.blocking_recv() {
                    if ext_tx.blocking_send(st.extract(item)).is_err() {
                        break;
                    }
                }
            })?,
        ));
        let state = situation.clone();
        threads.push((
            "situation",
            spawn("situation", move || {
                while let Some(item) = ext_rx.blocking_recv() {
                    let rejected = item.rejected().cloned();
                    sink.write(stages.apply(item, &state));
                    sink.after_rejection(rejected);
                }
            })?,
        ));
        Ok(Pipeline {
            intake: intake_tx,
            threads,
            situation,
        })
    }

    /// Closes intake and waits for every stage to drain.
    ///
    /// # Errors
    /// When a stage thread panicked.
    pub fn finish(self) -> Result<SituationHandle, PipelineError> {
        drop(self.intake);
        for (name, t) in self.threads {
            t.join().map_err(|_| PipelineError::Panicked(name))?;
        }
        Ok(self.situation)
    }
}
