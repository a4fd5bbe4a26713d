//! Wiring: source → normalize+dedup → extract (one thread per CPU) → situation writer →
//! event sink.
//!
//! Each stage after the source runs on its own OS threads (CPU-bound work must not stall
//! the async runtime) and talks to its neighbours over bounded `tokio::sync::mpsc`
//! channels: a full channel blocks the stage before it, so a burst of files slows intake
//! instead of growing memory or dropping anything. Items keep their arrival order end to
//! end, across the extract threads too, which makes `ingest` deterministic. Through a
//! backlog, reports cross into the normalize stage and results into the writer in small
//! batches (`INTAKE_BATCH`, `RESULT_BATCH`), so a waiting thread is woken once per
//! batch rather than once per report. Shutdown travels down the chain: the source
//! drops its sender, each stage drains and drops its own, and the writer flushes last.
//!
//! The writer journals each outcome and publishes its events only once the journal has
//! them on disk (group commit: it syncs when its input queue runs dry or `sync_batch`
//! entries are waiting), so whatever a subscriber saw survives a crash, and whatever it
//! did not see is redone with the same sequence numbers after a restart.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tracing::{debug, info, info_span, warn};

use crate::config::Config;
use crate::config::{DedupConfig, StoriesConfig};
use crate::events::{self, ChangeEvent};
use crate::hub::{Emitted, Hub};
use crate::journal::{Entry, FileRef, Journal, JournalError, Ledger, Outcome, Recovery};
use crate::quarantine::RejectedDir;
use crate::report::{FileStamp, RawReport, Rejected, Report};
use crate::retraction::{RetractError, RetractRequest, Retracted, Retraction};
use crate::source::Intake;
use crate::stages::dedup::{Dedup, Near, Verdict};
use crate::stages::extract::{Extraction, Extractor};
use crate::stages::normalize::Normalizer;
use crate::stages::similarity::{Sketch, Sketcher};
use crate::state::{Applying, SituationHandle};

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
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// What dedup found about a report new by its fingerprint.
struct Fresh {
    revises: Option<String>,
    near: Option<Near>,
    sketch: Option<Arc<Sketch>>,
}

enum Normalized {
    Report(Report, Fresh),
    Duplicate(Report, String, String),
    Unchanged(Report),
    Rejected(Rejected),
    Retract(RetractRequest),
}

impl Normalized {
    /// The bytes of the report's file, a measure of what extracting it takes (nothing
    /// for what skips extraction).
    fn len(&self) -> u64 {
        match self {
            Normalized::Report(r, _) => r.raw_len,
            _ => 0,
        }
    }
}

enum Extracted {
    Report(Box<Report>, Extraction, Fresh),
    Duplicate(Box<Report>, String, String),
    Unchanged(Box<Report>),
    Rejected(Rejected),
    Retract(RetractRequest),
}

/// One change event, rendered once for the journal and every output.
#[derive(Debug)]
pub struct Published {
    pub event: ChangeEvent,
    pub json: Box<RawValue>,
}

/// Where change events go: the events file, stdout and in-process subscribers.
#[derive(Debug)]
pub struct EventSink {
    stdout: bool,
    file: Option<BufWriter<File>>,
    source: String,
    hub: Option<Arc<Hub>>,
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
            Some(path) => Some(BufWriter::new(open_events_file(path)?)),
            None => None,
        };
        Ok(Self {
            stdout,
            file,
            // Without a data directory (`ingest`) each run is a log of its own.
            source: cfg
                .events
                .source
                .clone()
                .unwrap_or_else(crate::events::new_source),
            hub: None,
            rejected_dir: None,
        })
    }

    /// Move rejected files into this folder after writing their events (the daemon only:
    /// `ingest` leaves the files it is given alone).
    pub fn with_rejected_dir(mut self, dir: Option<RejectedDir>) -> Self {
        self.rejected_dir = dir;
        self
    }

    /// Sets rejected files aside, if the settings ask for it; call once their events are
    /// published.
    fn after_rejection(&self, rejected: Vec<Rejected>) {
        if let Some(dir) = &self.rejected_dir {
            for r in &rejected {
                dir.set_aside(r);
            }
        }
    }

    /// Also publish every event to the subscribers' hub.
    pub fn with_hub(mut self, hub: Arc<Hub>) -> Self {
        self.hub = Some(hub);
        self
    }

    fn render(&self, events: Vec<ChangeEvent>) -> Vec<Published> {
        events
            .into_iter()
            .map(|event| Published {
                json: event.to_raw(&self.source),
                event,
            })
            .collect()
    }

    /// Publishes lines: events file first (a restart checks it to know what was published),
    /// then the hub, then stdout, so whatever a reader of stdout has seen, the file and
    /// the API have too.
    fn write_lines<'a>(&mut self, lines: impl Iterator<Item = &'a str>, hub: Vec<Emitted>) {
        let mut buf = String::new();
        for l in lines {
            buf.push_str(l);
            buf.push('\n');
        }
        self.emit(&buf, hub);
    }

    fn emit(&mut self, buf: &str, hub: Vec<Emitted>) {
        if buf.is_empty() && hub.is_empty() {
            return;
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(buf.as_bytes()).and_then(|()| f.flush()) {
                tracing::error!(error = %e, "Cannot append to the events file.");
            }
        }
        if let Some(h) = &self.hub {
            h.publish(hub);
        }
        if self.stdout {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(buf.as_bytes()).and_then(|()| out.flush()) {
                // A closed pipe must not stop the daemon; the events file still has everything.
                warn!(error = %e, "Cannot write events to standard output; stopping stdout output.");
                self.stdout = false;
            }
        }
    }

    fn publish(&mut self, events: Vec<Published>) {
        // Nowhere to write (`ingest --quiet`): the lines are not put together at all.
        // Else in one buffer sized once, as a backlog can make a batch of megabytes.
        let mut buf = String::new();
        if self.file.is_some() || self.stdout {
            buf.reserve(events.iter().map(|p| p.json.get().len() + 1).sum());
            for p in &events {
                buf.push_str(p.json.get());
                buf.push('\n');
            }
        }
        let emitted = if self.hub.is_some() {
            events
                .into_iter()
                .map(|p| Emitted::new(&p.event, p.json))
                .collect()
        } else {
            Vec::new()
        };
        self.emit(&buf, emitted);
    }
}

fn open_events_file(path: &Path) -> Result<File, PipelineError> {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| PipelineError::EventsFile {
            path: path.to_path_buf(),
            source,
        })
}

/// The sequence number of the last complete line of the events file. A torn last line
/// (a crash mid-write) is cut off, so that appending goes on from a line boundary.
fn events_file_tail(path: &Path) -> Result<Option<u64>, PipelineError> {
    use std::io::{Read, Seek, SeekFrom};
    let err = |source| PipelineError::EventsFile {
        path: path.to_path_buf(),
        source,
    };
    let mut f = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e)),
    };
    let len = f.metadata().map_err(err)?.len();
    // The last line is short; 1 MiB from the end always holds it and its predecessor.
    let from = len.saturating_sub(1 << 20);
    f.seek(SeekFrom::Start(from)).map_err(err)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(err)?;
    if len == 0 {
        return Ok(Some(0));
    }
    let complete = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if complete < tail.len() {
        let keep = from + complete as u64;
        warn!(path = %path.display(), dropped_bytes = len - keep, "Events file ends in a partial line; cutting it off.");
        f.set_len(keep).map_err(err)?;
        tail.truncate(complete);
    }
    let last = tail[..complete.saturating_sub(1)]
        .rsplit(|&b| b == b'\n')
        .next()
        .and_then(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .and_then(|v| v.get("id")?.as_str()?.parse().ok());
    Ok(Some(last.unwrap_or(0)))
}

/// What processing one input came to: its events and the journal's record of it.
struct Applied {
    events: Vec<ChangeEvent>,
    path: PathBuf,
    stamp: Option<(u64, Option<SystemTime>)>,
    /// What the journal records; `None` for a request refused, which changed nothing.
    outcome: Option<Outcome>,
    /// The sentence held back as cut off, for the log.
    unfinished: Option<usize>,
    /// An accepted report's sketch and publication time (Unix seconds), for the committed
    /// near-duplicate index.
    sketch: Option<(Arc<Sketch>, i64)>,
    /// A retraction request and what became of it, to be answered once its events are
    /// published (a refused one changed nothing: its `outcome` is `None`).
    retract: Option<(RetractRequest, Result<Retraction, RetractError>)>,
}
/// A running pipeline: send [`Intake`] in, then [`Pipeline::finish`].
#[derive(Debug)]
pub struct Pipeline {
    pub intake: mpsc::Sender<Intake>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    pub situation: SituationHandle,
    failure: Arc<std::sync::Mutex<Option<JournalError>>>,
}

/// Reports the normalize stage takes off the intake channel at a time. Taken one by one,
/// each freed slot woke a reader blocked on the full channel, a context switch every few
/// reports through a backlog; a batch frees its slots together. It adds no wait: the
/// stage takes what is there, one report or more.
const INTAKE_BATCH: usize = 64;

/// Results an extract worker holds back while more reports are queued. Sent one by one,
/// nearly every result woke the writer, which keeps up and so waits most of the time, and
/// each wake-up took a core from an extract worker; a batch wakes it once. Nothing waits
/// long: a worker sends what it holds before it waits for work, and before the reports
/// behind its held results pass [`HELD_BYTES`].
const RESULT_BATCH: usize = 16;

/// Bytes of reports (those held and the next) past which a worker sends its held results
/// before it extracts the next one: some twenty-five wire stories.
const HELD_BYTES: u64 = 64 * 1024;

/// An extract worker's held results (see [`RESULT_BATCH`]). Dropped, it sends what it
/// holds, so a worker that stops, even by a panic in one report, loses no result it had.
struct Held {
    tx: mpsc::Sender<(u64, Extracted)>,
    items: Vec<(u64, Extracted)>,
    /// The bytes of the held results' reports.
    bytes: u64,
}

impl Held {
    fn new(tx: mpsc::Sender<(u64, Extracted)>) -> Self {
        Self {
            tx,
            items: Vec::with_capacity(RESULT_BATCH),
            bytes: 0,
        }
    }

    /// Holds a result, sending the batch when full; false once the writer is gone.
    fn push(&mut self, n: u64, item: Extracted, bytes: u64) -> bool {
        self.items.push((n, item));
        self.bytes += bytes;
        self.items.len() < RESULT_BATCH || self.send()
    }

    /// Sends what is held; false once the writer is gone.
    fn send(&mut self) -> bool {
        self.bytes = 0;
        self.items
            .drain(..)
            .all(|item| self.tx.blocking_send(item).is_ok())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.send();
    }
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
    sketcher: Arc<Sketcher>,
    extractor: Arc<Extractor>,
    dedup_settings: Arc<DedupConfig>,
    stories: Arc<StoriesConfig>,
}

impl Stages {
    pub fn new(cfg: &Config) -> Self {
        Self::with_normalizer(cfg, Normalizer::new(&cfg.lexicons.names))
    }

    fn with_normalizer(cfg: &Config, normalizer: Normalizer) -> Self {
        Self {
            normalizer: Arc::new(normalizer),
            dedup: Dedup::new(&cfg.dedup),
            sketcher: Arc::new(Sketcher::new(&cfg.lexicons)),
            extractor: Arc::new(Extractor::new(&cfg.lexicons)),
            dedup_settings: Arc::new(cfg.dedup.clone()),
            stories: Arc::new(cfg.stories.clone()),
        }
    }

    /// The daemon's stages: as [`Stages::new`], but a report that stops mid-sentence has
    /// that sentence held back ([`Normalizer::holding_unfinished`]), as a watched file read
    /// before its writer was done is read again once complete. The journal's entries are
    /// replayed with these too, so that they read as they did live.
    pub fn watching(cfg: &Config) -> Self {
        Self::with_normalizer(
            cfg,
            Normalizer::new(&cfg.lexicons.names).holding_unfinished(),
        )
    }

    /// The same stages on other dedup indexes (restored from a snapshot).
    pub fn with_dedup(self, dedup: Dedup) -> Self {
        Self { dedup, ..self }
    }

    /// Dedup indexes from a snapshot's image, with these stages' settings.
    pub fn dedup_from_image(&self, image: crate::stages::dedup::DedupImage) -> Dedup {
        Dedup::from_image(image, &self.dedup_settings)
    }

    /// Empty dedup indexes with these stages' settings.
    fn fresh_dedup(&self) -> Dedup {
        Dedup::new(&self.dedup_settings)
    }

    /// The dedup indexes these stages use.
    pub fn dedup(&self) -> &Dedup {
        &self.dedup
    }

    /// Decode and normalize, then sort out re-sends, touches and revisions.
    fn normalize(&self, item: Intake) -> Normalized {
        self.normalize_if(item, |_| true)
            .unwrap_or_else(|| unreachable!("a filter that keeps everything"))
    }

    /// As [`Stages::normalize`], but a report `keep` refuses is dropped (`None`) before
    /// dedup sees it, so it leaves no trace.
    fn normalize_if(&self, item: Intake, keep: impl FnOnce(&Report) -> bool) -> Option<Normalized> {
        Some(match item {
            Intake::Rejected(r) => Normalized::Rejected(r),
            Intake::Retract(r) => Normalized::Retract(r),
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
                    Ok(report) if !keep(&report) => return None,
                    Ok(report) => match self.dedup.check(&report, || self.sketcher.sketch(&report))
                    {
                        (Verdict::New { revises, near }, sketch) => {
                            if let Some(n) = &near {
                                debug!(original = %n.of, similarity = n.similarity, "Near duplicate.");
                            }
                            Normalized::Report(
                                report,
                                Fresh {
                                    revises,
                                    near,
                                    sketch,
                                },
                            )
                        }
                        (Verdict::Unchanged, _) => Normalized::Unchanged(report),
                        (Verdict::Duplicate { of_id, of_file }, _) => {
                            Normalized::Duplicate(report, of_id, of_file)
                        }
                    },
                }
            }
        })
    }

    fn extract(&self, item: Normalized) -> Extracted {
        match item {
            Normalized::Rejected(r) => Extracted::Rejected(r),
            Normalized::Duplicate(r, id, f) => Extracted::Duplicate(Box::new(r), id, f),
            Normalized::Unchanged(r) => Extracted::Unchanged(Box::new(r)),
            Normalized::Retract(r) => Extracted::Retract(r),
            Normalized::Report(r, fresh) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                let extraction = self.extractor.extract(&r);
                debug!(
                    mentions = extraction.mentions.len(),
                    claims = extraction.claims.len(),
                    "Extracted."
                );
                Extracted::Report(Box::new(r), extraction, fresh)
            }
        }
    }

    fn apply(&self, item: Extracted, state: &SituationHandle) -> Applied {
        let stamp = |r: &Report| Some((r.raw_len, r.modified));
        let fp = |r: &Report| format!("{:032x}", r.fingerprint);
        match item {
            Extracted::Rejected(r) => {
                warn!(path = %r.path.display(), reason = %r.reason, "Report rejected.");
                let events = state.write(|s| s.apply_rejected(&r.path, &r.reason));
                let stamp = crate::source::stamp(&r.path);
                Applied {
                    events,
                    stamp,
                    outcome: Some(Outcome::Rejected {
                        code: r.reason.code().to_string(),
                        reason: r.reason.to_string(),
                    }),
                    path: r.path,
                    unfinished: None,
                    sketch: None,
                    retract: None,
                }
            }
            Extracted::Duplicate(r, id, f) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                debug!(original = %id, "Exact duplicate.");
                Applied {
                    events: state.write(|s| s.apply_duplicate(&r, &id, &f)),
                    stamp: stamp(&r),
                    outcome: Some(Outcome::Duplicate {
                        id: r.id.clone(),
                        fingerprint: fp(&r),
                        of: id,
                    }),
                    path: r.path,
                    unfinished: None,
                    sketch: None,
                    retract: None,
                }
            }
            Extracted::Unchanged(r) => {
                debug!(file = %r.path.display(), "File touched but its content is unchanged.");
                Applied {
                    events: Vec::new(),
                    stamp: stamp(&r),
                    outcome: Some(Outcome::Unchanged {
                        id: r.id.clone(),
                        fingerprint: fp(&r),
                    }),
                    path: r.path,
                    unfinished: None,
                    sketch: None,
                    retract: None,
                }
            }
            Extracted::Report(r, ex, fresh) => {
                let _span = info_span!("report", id = %r.id, file = %r.file_name()).entered();
                let Fresh {
                    revises,
                    near,
                    sketch,
                } = fresh;
                let how = Applying {
                    revises: revises.as_deref(),
                    near: near.as_ref(),
                    sketch: sketch.as_deref(),
                    stories: &self.stories,
                };
                let events =
                    state.write(|s| s.apply_report(&r, &ex, &self.extractor.entities, &how));
                let r = *r;
                let sketch = sketch.map(|s| (s, r.published_at.unix_timestamp()));
                Applied {
                    events,
                    unfinished: r.unfinished,
                    stamp: stamp(&r),
                    outcome: Some(Outcome::Accepted {
                        fingerprint: fp(&r),
                        id: r.id,
                        revises,
                        text: r.original,
                        modified: r.modified,
                        received_at: r.received_at,
                        near,
                    }),
                    path: r.path,
                    sketch,
                    retract: None,
                }
            }
            Extracted::Retract(req) => {
                let _span = info_span!("retract", id = %req.report).entered();
                let at = OffsetDateTime::now_utc();
                let (reason, by) = (req.reason.clone(), req.by.clone());
                match state.write(|s| s.retract_report(&req.report, reason, by, at)) {
                    Ok((retraction, events)) => {
                        info!(
                            file = %retraction.file,
                            reason = retraction.reason.as_deref().unwrap_or(""),
                            by = retraction.by.as_deref().unwrap_or(""),
                            events = events.len(),
                            "Report retracted."
                        );
                        Applied {
                            events,
                            path: PathBuf::from(&retraction.file),
                            stamp: None,
                            outcome: Some(Outcome::Retracted(retraction.clone())),
                            unfinished: None,
                            sketch: None,
                            retract: Some((req, Ok(retraction))),
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "Retraction refused.");
                        Applied {
                            events: Vec::new(),
                            path: PathBuf::new(),
                            stamp: None,
                            outcome: None,
                            unfinished: None,
                            sketch: None,
                            retract: Some((req, Err(e))),
                        }
                    }
                }
            }
        }
    }

    /// All stages for one input, on the caller's thread.
    pub fn process(&self, item: Intake, state: &SituationHandle) -> Vec<ChangeEvent> {
        self.apply(self.extract(self.normalize(item)), state).events
    }

    /// As [`Stages::process`], but a report that `keep` refuses once normalized is skipped
    /// as if it had never arrived (`replay --until` on a folder).
    pub fn process_if(
        &self,
        item: Intake,
        state: &SituationHandle,
        keep: impl FnOnce(&Report) -> bool,
    ) -> Vec<ChangeEvent> {
        match self.normalize_if(item, keep) {
            Some(n) => self.apply(self.extract(n), state).events,
            None => Vec::new(),
        }
    }

    /// Re-applies a journaled entry to the picture without publishing anything: the
    /// indexes and the situation come out as they were when the entry was first made.
    ///
    /// Returns false when the report no longer normalizes to the id it had (the
    /// normalizer or lexicons changed since); it is applied all the same.
    pub fn replay(&self, entry: &Entry, state: &SituationHandle) -> bool {
        self.replay_sketched(entry, state).0
    }

    /// [`Stages::replay`], and the sketch of an accepted report with its publication time
    /// (for a second dedup index, which then need not sketch it again).
    fn replay_sketched(
        &self,
        entry: &Entry,
        state: &SituationHandle,
    ) -> (bool, Option<(Arc<Sketch>, i64)>) {
        let path: PathBuf = entry.file.path.clone().into();
        let fingerprint = |hex: &str| u128::from_str_radix(hex, 16).unwrap_or(0);
        let mut same = true;
        let mut sketched = None;
        match &entry.outcome {
            Outcome::Accepted {
                id,
                fingerprint: fp,
                revises,
                text,
                modified,
                received_at,
                near,
            } => {
                let raw = RawReport {
                    path: path.clone(),
                    bytes: text.as_bytes().to_vec(),
                    modified: *modified,
                    received_at: *received_at,
                };
                // An entry taken whole before cut-off sentences were held back (its
                // fingerprint has no mark) replays whole: same id, same claims.
                let read = self.normalizer.normalize(&raw).and_then(|r| {
                    if r.unfinished.is_some() && r.fingerprint != fingerprint(fp) {
                        self.normalizer.normalize_holding(&raw, false)
                    } else {
                        Ok(r)
                    }
                });
                match read {
                    Ok(report) => {
                        let sketch = Arc::new(self.sketcher.sketch(&report));
                        let published = report.published_at.unix_timestamp();
                        self.dedup.restore(
                            &path,
                            fingerprint(fp),
                            id,
                            true,
                            Some((&sketch, published)),
                        );
                        let ex = self.extractor.extract(&report);
                        let how = Applying {
                            revises: revises.as_deref(),
                            near: near.as_ref(),
                            sketch: Some(&sketch),
                            stories: &self.stories,
                        };
                        let events = state.write(|s| {
                            s.apply_report(&report, &ex, &self.extractor.entities, &how)
                        });
                        same = report.id == *id && events.len() == entry.events.len();
                        sketched = Some((sketch, published));
                    }
                    Err(_) => {
                        self.dedup.restore(&path, fingerprint(fp), id, true, None);
                        same = false;
                    }
                }
            }
            Outcome::Duplicate {
                id,
                fingerprint: fp,
                ..
            }
            | Outcome::Unchanged {
                id,
                fingerprint: fp,
            } => {
                self.dedup.restore(&path, fingerprint(fp), id, false, None);
            }
            Outcome::Rejected { .. } => {}
            Outcome::Retracted(r) => {
                let done = state
                    .write(|s| s.retract_report(&r.report, r.reason.clone(), r.by.clone(), r.at));
                same = done.is_ok_and(|(_, events)| events.len() == entry.events.len());
            }
        }
        if let Some(seq) = entry.last_seq() {
            state.write(|s| s.set_seq(seq));
        }
        (same, sketched)
    }

    /// The recognizer, for callers that compare names the way the situation does.
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }
}

/// The durable side of the writer: the journal, the ledger of files taken, and the dedup
/// indexes as of the last journaled entry (the live ones run ahead, in the normalize
/// stage, and must not be what a snapshot records).
#[derive(Debug)]
pub struct Durable {
    journal: Journal,
    ledger: Ledger,
    committed: Dedup,
}

/// A picture rebuilt from the data directory, ready to run on.
#[derive(Debug)]
pub struct Recovered {
    pub stages: Stages,
    pub situation: SituationHandle,
    pub durable: Durable,
    /// Journaled events the events file does not have: a crash came between the fsync and
    /// the publication. They are published before anything new.
    pub unpublished: Vec<Box<RawValue>>,
    /// Reports the journal holds.
    pub replayed: usize,
}

impl Durable {
    /// Files already taken (path → size, mtime), for the source to skip.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

/// Rebuilds the picture from a snapshot and the journal entries after it, without
/// publishing, and finds what the events file is missing.
///
/// # Errors
/// The events file cannot be read or repaired.
pub fn recover(
    cfg: &Config,
    journal: Journal,
    recovery: Recovery,
) -> Result<Recovered, PipelineError> {
    let Recovery { snapshot, entries } = recovery;
    let stages = Stages::watching(cfg);
    let (stages, situation, mut ledger, committed) = match snapshot {
        Some(mut snap) => {
            let ledger = snap.ledger();
            let image = std::mem::take(&mut snap.dedup);
            // Two copies: the live one the normalize stage runs ahead with, and the
            // committed one snapshots take.
            let committed = stages.dedup_from_image(image);
            let live = committed.fork();
            (
                stages.with_dedup(live),
                SituationHandle::from_situation(snap.situation),
                ledger,
                committed,
            )
        }
        None => {
            let committed = stages.fresh_dedup();
            (stages, SituationHandle::new(), Ledger::new(), committed)
        }
    };
    let published = events_file_tail(&cfg.events_path())?;
    let mut unpublished = Vec::new();
    let mut drifted = 0usize;
    let replayed = entries.len();
    for entry in &entries {
        let (same, sketch) = stages.replay_sketched(entry, &situation);
        if !same {
            drifted += 1;
        }
        committed_restore(&committed, entry, sketch.as_ref());
        if let (Some(size), path) = (entry.file.size, &entry.file.path) {
            ledger.insert(path.clone().into(), (size, entry.file.mtime));
        }
        for e in &entry.events {
            if published.is_some_and(|p| crate::journal::event_seq(e).is_some_and(|s| s > p)) {
                unpublished.push(e.clone());
            }
        }
    }
    if drifted > 0 {
        warn!(
            reports = drifted,
            "Some journaled reports read differently with the current settings and lexicons; the picture follows the current ones, event numbers continue from the journal."
        );
    }
    // Files deleted since need no place in the ledger.
    ledger.retain(|p, _| p.symlink_metadata().is_ok());
    Ok(Recovered {
        stages,
        situation,
        durable: Durable {
            journal,
            ledger,
            committed,
        },
        unpublished,
        replayed,
    })
}

fn committed_restore(committed: &Dedup, entry: &Entry, sketch: Option<&(Arc<Sketch>, i64)>) {
    let path: PathBuf = entry.file.path.clone().into();
    let (id, fp, accepted) = match &entry.outcome {
        Outcome::Accepted {
            id, fingerprint, ..
        } => (id, fingerprint, true),
        Outcome::Duplicate {
            id, fingerprint, ..
        }
        | Outcome::Unchanged { id, fingerprint } => (id, fingerprint, false),
        Outcome::Rejected { .. } | Outcome::Retracted(_) => return,
    };
    if let Ok(fp) = u128::from_str_radix(fp, 16) {
        let sketch = sketch.map(|(s, published)| (s.as_ref(), *published));
        committed.restore(&path, fp, id, accepted, sketch);
    }
}

/// The log line of a report taken or dropped as a duplicate (see [`Writer::announce`]).
enum OutcomeLine {
    Accepted {
        path: String,
        id: String,
        revises: Option<String>,
        events: usize,
        entities: usize,
        detected: usize,
        changed: usize,
        unfinished: Option<usize>,
    },
    Duplicate {
        path: String,
        of: String,
    },
}

impl OutcomeLine {
    /// At `info` when `announce`, else at `debug`.
    fn log(&self, announce: bool) {
        macro_rules! at_level {
            ($($args:tt)*) => {
                if announce {
                    info!($($args)*);
                } else {
                    debug!($($args)*);
                }
            };
        }
        match self {
            Self::Accepted {
                path,
                id,
                revises,
                events,
                entities,
                detected,
                changed,
                unfinished,
            } => {
                // `tracing` leaves out a `None`.
                let revises = revises.as_deref().map(tracing::field::display);
                at_level!(%path, %id, revises, events, entities, detected, changed, "Report accepted.");
                if let Some(sentence) = unfinished {
                    at_level!(
                        %path,
                        sentence,
                        "The report stops mid-sentence, as a file read before its writer is done \
                         does; that sentence is held back until the complete file is read."
                    );
                }
            }
            Self::Duplicate { path, of } => {
                at_level!(%path, %of, "Report is a duplicate; dropped.");
            }
        }
    }
}

/// The situation stage's end: applies, journals, then publishes.
struct Writer {
    stages: Stages,
    state: SituationHandle,
    sink: EventSink,
    durable: Option<Durable>,
    pending: Vec<Published>,
    /// Rejected files of the pending batch, set aside once their events are published.
    rejected: Vec<Rejected>,
    /// Retractions of the pending batch, answered once their events are published.
    replies: Vec<(RetractRequest, Retraction, Vec<Box<RawValue>>)>,
    /// Log every report taken or dropped at `info` (the daemon, where a file dropped into
    /// the folder should show up in the log) rather than `debug` (`ingest`, which prints
    /// the events themselves and would only repeat them on standard error).
    announce: bool,
}

impl Writer {
    /// What the log will say of a report taken or dropped as a duplicate, put together
    /// before its events go to the journal, said once they are in it. Nothing when the
    /// line would not be written.
    fn outcome_line(&self, applied: &Applied) -> Option<OutcomeLine> {
        if !self.announce && !tracing::enabled!(tracing::Level::DEBUG) {
            return None;
        }
        let count = |kind: &str| applied.events.iter().filter(|e| e.kind == kind).count();
        let path = applied.path.display().to_string();
        match applied.outcome.as_ref()? {
            Outcome::Accepted { id, revises, .. } => Some(OutcomeLine::Accepted {
                path,
                id: id.clone(),
                revises: revises.clone(),
                events: applied.events.len(),
                entities: count(events::types::ENTITY_DISCOVERED),
                detected: count(events::types::DEVELOPMENT_DETECTED),
                changed: count(events::types::DEVELOPMENT_STATUS_CHANGED),
                unfinished: applied.unfinished,
            }),
            Outcome::Duplicate { of, .. } => Some(OutcomeLine::Duplicate {
                path,
                of: of.clone(),
            }),
            // Rejections are logged where they are applied, at `warn`, in every mode, and
            // retractions at `info`.
            Outcome::Rejected { .. } | Outcome::Unchanged { .. } | Outcome::Retracted(_) => None,
        }
    }

    fn handle(&mut self, item: Extracted) -> Result<(), JournalError> {
        // Counted here, not in the situation, so that replaying the journal at start-up
        // does not count its reports twice.
        let metrics = crate::metrics::global();
        match &item {
            Extracted::Rejected(r) => {
                metrics.report_rejected(&r.reason);
                self.rejected.push(r.clone());
            }
            Extracted::Duplicate(..) => metrics.report_duplicate(),
            Extracted::Report(..) => metrics.report_accepted(),
            Extracted::Unchanged(_) | Extracted::Retract(_) => {}
        }
        let t = Instant::now();
        let mut applied = self.stages.apply(item, &self.state);
        crate::metrics::stages().observe(2, t.elapsed());
        let line = self.outcome_line(&applied);
        let events = self.sink.render(std::mem::take(&mut applied.events));
        match applied.retract.take() {
            Some((req, Ok(retraction))) => {
                let published = events.iter().map(|p| p.json.clone()).collect();
                self.replies.push((req, retraction, published));
            }
            // Nothing changed: the answer need not wait for a commit.
            Some((mut req, Err(e))) => req.answer(Err(e)),
            None => {}
        }
        let Some(outcome) = applied.outcome else {
            return Ok(());
        };
        if let Some(d) = &mut self.durable {
            if let Some(st) = applied.stamp {
                d.ledger.insert(applied.path.clone(), st);
            }
            let mut entry = Entry {
                lsn: 0,
                at: OffsetDateTime::now_utc(),
                file: FileRef {
                    path: applied.path.as_path().into(),
                    size: applied.stamp.map(|s| s.0),
                    mtime: applied.stamp.and_then(|s| s.1),
                },
                outcome,
                events: events.iter().map(|p| p.json.clone()).collect(),
            };
            committed_restore(&d.committed, &entry, applied.sketch.as_ref());
            d.journal.append(&mut entry)?;
        }
        if let Some(line) = line {
            line.log(self.announce);
        }
        self.pending.extend(events);
        Ok(())
    }

    fn batch_full(&self) -> bool {
        self.durable
            .as_ref()
            .is_some_and(|d| d.journal.batch_full())
    }

    /// Makes the batch durable, then publishes it; snapshots when one is due.
    fn commit(&mut self) -> Result<(), JournalError> {
        if let Some(d) = &mut self.durable {
            let t = Instant::now();
            d.journal.sync()?;
            crate::metrics::stages().observe(3, t.elapsed());
        }
        self.sink.publish(std::mem::take(&mut self.pending));
        self.sink
            .after_rejection(std::mem::take(&mut self.rejected));
        for (mut req, retraction, events) in self.replies.drain(..) {
            req.answer(Ok(Retracted { retraction, events }));
        }
        if self
            .durable
            .as_ref()
            .is_some_and(|d| d.journal.snapshot_due())
        {
            self.snapshot()?;
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<(), JournalError> {
        if let Some(d) = &mut self.durable {
            let image = d.committed.image();
            self.state
                .read(|s| d.journal.snapshot(s, image, &d.ledger))?;
        }
        Ok(())
    }

    /// The writer thread's loop: group commit until the input closes, then a last commit
    /// and a snapshot, so the next start-up has nothing to replay.
    fn run(mut self, rx: &mut InOrder<Extracted>) -> Result<(), JournalError> {
        while let Some(item) = rx.blocking_recv() {
            crate::metrics::stages().set_depth(2, rx.len());
            self.handle(item)?;
            loop {
                if self.batch_full() {
                    break;
                }
                match rx.try_recv() {
                    Ok(item) => {
                        crate::metrics::stages().set_depth(2, rx.len());
                        self.handle(item)?;
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            self.commit()?;
        }
        self.commit()?;
        if self.durable.as_ref().is_some_and(|d| d.journal.has_news()) {
            self.snapshot()?;
        }
        Ok(())
    }
}

/// The workers' results in the order their reports were numbered: a report that a worker
/// finishes before an earlier one waits here until the earlier one is in.
struct InOrder<T> {
    rx: mpsc::Receiver<(u64, T)>,
    next: u64,
    early: BTreeMap<u64, T>,
}

impl<T> InOrder<T> {
    fn new(rx: mpsc::Receiver<(u64, T)>) -> Self {
        Self {
            rx,
            next: 0,
            early: BTreeMap::new(),
        }
    }

    fn take(&mut self, n: u64, item: T) -> Option<T> {
        if n == self.next {
            self.next += 1;
            Some(item)
        } else {
            self.early.insert(n, item);
            None
        }
    }

    /// The next one waiting in `early`, if it is the next in order.
    fn take_early(&mut self) -> Option<T> {
        let item = self.early.remove(&self.next)?;
        self.next += 1;
        Some(item)
    }

    /// The next item in order; `None` once the workers are done. Should a worker have
    /// died with a report, the reports after it still come out, in order.
    fn blocking_recv(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.take_early() {
                return Some(item);
            }
            match self.rx.blocking_recv() {
                Some((n, item)) => {
                    if let Some(item) = self.take(n, item) {
                        return Some(item);
                    }
                }
                None => {
                    let (_, item) = self.early.pop_first()?;
                    return Some(item);
                }
            }
        }
    }

    /// The next item in order if it is ready. `Empty` also when a later item is ready but
    /// this one is not: order comes first.
    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        loop {
            if let Some(item) = self.take_early() {
                return Ok(item);
            }
            let (n, item) = self.rx.try_recv()?;
            if let Some(item) = self.take(n, item) {
                return Ok(item);
            }
        }
    }

    /// Items waiting, over all workers.
    fn len(&self) -> usize {
        self.rx.len() + self.early.len()
    }
}

impl Pipeline {
    /// Starts the stage threads on a fresh picture, without a journal (`ingest`).
    ///
    /// # Errors
    /// When a thread cannot be spawned.
    pub fn start(
        cfg: &Config,
        sink: EventSink,
        situation: SituationHandle,
    ) -> Result<Pipeline, PipelineError> {
        Self::start_with(cfg, sink, Stages::new(cfg), situation, None)
    }

    /// Starts the stage threads on a recovered picture, journaling as it goes.
    ///
    /// # Errors
    /// When a thread cannot be spawned.
    pub fn start_recovered(
        cfg: &Config,
        mut sink: EventSink,
        recovered: Recovered,
    ) -> Result<Pipeline, PipelineError> {
        if !recovered.unpublished.is_empty() {
            info!(
                events = recovered.unpublished.len(),
                "Publishing journaled events a crash kept from the events file."
            );
            let emitted = recovered
                .unpublished
                .iter()
                .filter_map(|e| Emitted::from_line(e.get()))
                .collect();
            sink.write_lines(recovered.unpublished.iter().map(|e| e.get()), emitted);
        }
        Self::start_with(
            cfg,
            sink,
            recovered.stages,
            recovered.situation,
            Some(recovered.durable),
        )
    }

    fn start_with(
        cfg: &Config,
        sink: EventSink,
        stages: Stages,
        situation: SituationHandle,
        durable: Option<Durable>,
    ) -> Result<Pipeline, PipelineError> {
        let cap = cfg.pipeline.channel_capacity;
        let workers = cfg.pipeline.extract_threads();
        let (intake_tx, mut intake_rx) = mpsc::channel::<Intake>(cap);
        let mut threads = Vec::new();

        // Extract is the costliest stage and needs no shared state, so it runs on
        // `workers` threads that take reports from one queue as they come free: a worker
        // held up by a long report does not hold up the others, so no core idles while
        // another still has a backlog. Reports are numbered as they leave the normalize
        // stage, and the writer puts them back in that order.
        let (work_tx, work_rx) = crossbeam_channel::bounded::<(u64, Normalized)>(cap);
        let (done_tx, done_rx) = mpsc::channel::<(u64, Extracted)>(cap);
        for _ in 0..workers {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            let st = stages.clone();
            threads.push((
                "extract",
                spawn("extract", move || {
                    let m = crate::metrics::stages();
                    let mut held = Held::new(tx);
                    loop {
                        // Results wait here while more work is queued; an idle queue
                        // sends them on before the worker waits for the next report.
                        let next = match rx.try_recv() {
                            Ok(item) => Ok(item),
                            Err(crossbeam_channel::TryRecvError::Empty) => {
                                if !held.send() {
                                    return;
                                }
                                rx.recv().map_err(|_| ())
                            }
                            Err(crossbeam_channel::TryRecvError::Disconnected) => Err(()),
                        };
                        let Ok((n, item)) = next else { break };
                        m.dequeued(1);
                        // The results before a long report would wait for as long as it
                        // takes: past a few stories' worth of bytes, they go first.
                        let len = item.len();
                        if held.bytes + len > HELD_BYTES && !held.send() {
                            return;
                        }
                        let t = Instant::now();
                        let out = st.extract(item);
                        m.observe(1, t.elapsed());
                        if !held.push(n, out, len) {
                            return;
                        }
                    }
                })?,
            ));
        }
        drop((work_rx, done_tx));
        let mut ext_rx = InOrder::new(done_rx);

        let st = stages.clone();
        threads.push((
            "normalize",
            spawn("normalize", move || {
                let m = crate::metrics::stages();
                let mut n = 0u64;
                let mut batch = Vec::with_capacity(INTAKE_BATCH);
                'intake: while intake_rx.blocking_recv_many(&mut batch, INTAKE_BATCH) > 0 {
                    let mut items = batch.drain(..);
                    while let Some(item) = items.next() {
                        m.set_depth(0, intake_rx.len() + items.len());
                        let t = Instant::now();
                        let out = st.normalize(item);
                        m.observe(0, t.elapsed());
                        m.enqueued(1);
                        if work_tx.send((n, out)).is_err() {
                            m.dequeued(1);
                            break 'intake;
                        }
                        n += 1;
                    }
                }
            })?,
        ));
        let writer = Writer {
            stages,
            state: situation.clone(),
            sink,
            pending: Vec::new(),
            rejected: Vec::new(),
            replies: Vec::new(),
            // The daemon is the one pipeline with a journal.
            announce: durable.is_some(),
            durable,
        };
        let failure = Arc::new(std::sync::Mutex::new(None));
        let fail = failure.clone();
        threads.push((
            "situation",
            spawn("situation", move || {
                if let Err(e) = writer.run(&mut ext_rx) {
                    // Without a journal nothing more can be promised: stop taking input
                    // (dropping the receiver stops the stages before it) and say why.
                    tracing::error!(error = %e, "Journal failure; stopping.");
                    *fail.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
            })?,
        ));
        Ok(Pipeline {
            intake: intake_tx,
            threads,
            situation,
            failure,
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
        if let Some(e) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(e.into());
        }
        Ok(self.situation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal entry of a report taken whole, before cut-off last sentences were held
    /// back, replays as it was taken: same id, the last sentence's claim applied.
    #[test]
    fn an_entry_taken_whole_replays_whole() {
        let cfg = Config::embedded().expect("embedded settings");
        let text = "Troops pull back\n\nHARVEN - Officials spoke on Monday. \
                    Tallis forces began withdrawing from Dravenna airport";
        let path = PathBuf::from("w/a.txt");
        let raw = RawReport {
            path: path.clone(),
            bytes: text.as_bytes().to_vec(),
            modified: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
        };
        let whole = Stages::new(&cfg)
            .normalizer
            .normalize(&raw)
            .expect("report");
        let held = Stages::watching(&cfg)
            .normalizer
            .normalize(&raw)
            .expect("report");
        assert_eq!(held.unfinished, Some(2));
        assert_ne!(held.id, whole.id);
        let entry = |r: &Report| Entry {
            lsn: 1,
            at: OffsetDateTime::UNIX_EPOCH,
            file: FileRef {
                path: path.as_path().into(),
                size: Some(text.len() as u64),
                mtime: None,
            },
            outcome: Outcome::Accepted {
                id: r.id.clone(),
                fingerprint: format!("{:032x}", r.fingerprint),
                revises: None,
                text: text.to_string(),
                modified: None,
                received_at: OffsetDateTime::UNIX_EPOCH,
                near: None,
            },
            events: Vec::new(),
        };
        for (r, developments) in [(&whole, 1), (&held, 0)] {
            let state = SituationHandle::new();
            Stages::watching(&cfg).replay(&entry(r), &state);
            state.read(|s| {
                assert!(s.report(&r.id).is_some());
                assert_eq!(s.developments().count(), developments);
            });
        }
    }

    /// The events of every report under `dir`, in order, without their wall-clock times
    /// and their `source` (each run without a data directory is a log of its own).
    fn events_with(workers: usize, capacity: usize, dir: &Path) -> Vec<serde_json::Value> {
        let mut cfg = Config::embedded().expect("embedded settings");
        cfg.pipeline.extract_workers = workers;
        cfg.pipeline.channel_capacity = capacity;
        let out = tempfile::tempdir().expect("tempdir");
        let file = out.path().join("events.ndjson");
        let sink = EventSink::new(&cfg, Some(&file), false).expect("events file");
        let pipeline = Pipeline::start(&cfg, sink, SituationHandle::new()).expect("pipeline");
        for path in crate::collect(&[dir.to_path_buf()]) {
            let raw = crate::source::read_report(&path, cfg.source.max_bytes);
            pipeline.intake.blocking_send(raw).expect("intake open");
        }
        pipeline.finish().expect("pipeline drains");
        std::fs::read_to_string(&file)
            .expect("events")
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).expect("event json");
                let o = v.as_object_mut().expect("event object");
                o.remove("time");
                o.remove("source");
                v
            })
            .collect()
    }

    #[test]
    fn any_number_of_extract_workers_keeps_the_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let one = events_with(1, 256, &dir);
        assert!(one.len() > 20, "the fixtures make events: {}", one.len());
        for (workers, capacity) in [(2, 1), (3, 2), (5, 256)] {
            assert_eq!(
                events_with(workers, capacity, &dir),
                one,
                "{workers} workers, channels of {capacity}"
            );
        }
    }

    #[test]
    fn a_lone_report_is_published_with_intake_still_open() {
        // Workers hold results back only while more work is queued: the events of the
        // one report in flight must come out without more input or a shutdown.
        let mut cfg = Config::embedded().expect("embedded settings");
        cfg.pipeline.extract_workers = 2;
        let hub = Arc::new(Hub::new(64, 64, None, 0));
        let mut sub = hub.subscribe(None).expect("subscribe");
        let sink = EventSink::new(&cfg, None, false)
            .expect("sink")
            .with_hub(hub.clone());
        let pipeline = Pipeline::start(&cfg, sink, SituationHandle::new()).expect("pipeline");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let path = crate::collect(&[dir])
            .into_iter()
            .next()
            .expect("a fixture");
        let raw = crate::source::read_report(&path, cfg.source.max_bytes);
        pipeline.intake.blocking_send(raw).expect("intake open");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let first = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(30), sub.live.recv()).await
        });
        assert!(
            matches!(first, Ok(Ok(_))),
            "no event from {} while intake was open",
            path.display()
        );
        pipeline.finish().expect("pipeline drains");
    }

    #[test]
    fn held_results_go_when_the_batch_is_full_and_when_the_worker_stops() {
        let (tx, mut rx) = mpsc::channel(64);
        let result = |n: u64| {
            Extracted::Rejected(Rejected {
                path: PathBuf::from(n.to_string()),
                reason: crate::report::Rejection::Empty,
                seen: None,
            })
        };
        let mut sent = || {
            let mut got = Vec::new();
            while let Ok((n, _)) = rx.try_recv() {
                got.push(n);
            }
            got
        };
        let mut held = Held::new(tx);
        let full = RESULT_BATCH as u64;
        for n in 0..full - 1 {
            assert!(held.push(n, result(n), 100));
        }
        assert_eq!(held.bytes, (full - 1) * 100);
        assert!(sent().is_empty(), "held until the batch is full");
        assert!(held.push(full - 1, result(full - 1), 100));
        assert_eq!(sent(), (0..full).collect::<Vec<_>>());
        assert_eq!(held.bytes, 0);
        assert!(held.push(full, result(full), 100));
        assert!(held.push(full + 1, result(full + 1), 100));
        // A worker that stops, by a panic in a report too, drops its holder on the way out.
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _held = held;
            panic!("a report the worker could not take");
        }));
        assert!(stopped.is_err());
        assert_eq!(sent(), [full, full + 1]);
    }

    #[test]
    fn results_leave_in_the_order_they_were_numbered() {
        let (tx, rx) = mpsc::channel(8);
        let mut order = InOrder::new(rx);
        for n in [2u64, 0, 3] {
            tx.try_send((n, n)).expect("room");
        }
        assert_eq!(order.try_recv(), Ok(0));
        // 2 and 3 are in, 1 is not: nothing may leave yet.
        assert_eq!(order.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(order.len(), 2);
        tx.try_send((1, 1)).expect("room");
        assert_eq!(order.try_recv(), Ok(1));
        assert_eq!(order.blocking_recv(), Some(2));
        assert_eq!(order.blocking_recv(), Some(3));
        // A report lost with a dead worker does not hold back the ones after it.
        tx.try_send((5, 5)).expect("room");
        drop(tx);
        assert_eq!(order.blocking_recv(), Some(5));
        assert_eq!(order.blocking_recv(), None);
    }
}
