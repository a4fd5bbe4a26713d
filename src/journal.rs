//! The journal: what makes a restart, or a crash, lose nothing and repeat nothing.
//!
//! Every input the situation writer processes becomes one [`Entry`]: the file it came from
//! (path, size, mtime), the outcome (accepted with its decoded text, duplicate, unchanged,
//! rejected with the reason) and the change events it caused. Entries are appended to
//! segment files and fsynced in groups *before* their events are published, so a published
//! event is always durable, and a file whose entry did not reach the disk is simply read
//! again on restart (it is still in the watch folder) and given the same sequence numbers.
//!
//! Segment format (version 1): an 8-byte magic `SITREPJ\0`, a little-endian `u32` version,
//! then records of `u32` payload length, `u32` CRC-32 of the payload, payload (one JSON
//! [`Entry`]). A torn tail (short record, bad checksum, bad JSON) in the newest segment is
//! what a crash mid-append leaves: it is cut off on recovery. The same damage in an older
//! segment is not a crash artefact, and start-up stops with the segment and offset.
//!
//! A snapshot (`snapshot.json`: the situation with its indexes and stories, the dedup
//! indexes with the near-duplicate index, and the ledger, as of one entry) is written
//! every `snapshot_every` entries and at shutdown, via a temporary file, fsync and rename,
//! so start-up reads one snapshot and the entries after it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tracing::{info, warn};

use crate::config::JournalConfig;
use crate::stages::dedup::{DedupImage, Near};
use crate::state::Situation;

const MAGIC: &[u8; 8] = b"SITREPJ\0";
/// Bumped when an entry or the framing changes incompatibly; older journals are refused
/// with a clear message rather than misread.
pub const FORMAT_VERSION: u32 = 1;
const SNAPSHOT_VERSION: u32 = 1;
const HEADER_LEN: u64 = 12;
/// No single entry is near this (reports are capped at a few MiB); a length beyond it is
/// damage, not data.
const MAX_RECORD: u32 = 256 * 1024 * 1024;

/// Journal failures. Each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: another sitrep process is using this data directory")]
    Locked { path: PathBuf },
    #[error("{path}: not a sitrep journal segment (bad magic)")]
    NotJournal { path: PathBuf },
    #[error("{path}: journal format version {found}, this build reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: damaged record at byte {offset} in a segment that is not the newest ({why}); move the segment aside to start without it")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        why: String,
    },
    #[error("{path}: snapshot cannot be read: {why}")]
    Snapshot { path: PathBuf, why: String },
    #[error("{path}: {why}; delete it to have a new event source made, or set events.source")]
    Source { path: PathBuf, why: String },
    #[error("cannot encode a journal entry: {0}")]
    Encode(serde_json::Error),
    #[error("a journal entry of {0} bytes is over the record limit")]
    TooLarge(usize),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A path that survives JSON exactly, including names that are not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathRepr {
    Text(String),
    Bytes { hex: String },
}

impl From<&Path> for PathRepr {
    fn from(p: &Path) -> Self {
        use std::os::unix::ffi::OsStrExt;
        match p.to_str() {
            Some(s) => PathRepr::Text(s.to_string()),
            None => PathRepr::Bytes {
                hex: p
                    .as_os_str()
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            },
        }
    }
}

impl From<PathRepr> for PathBuf {
    fn from(r: PathRepr) -> Self {
        use std::os::unix::ffi::OsStringExt;
        match r {
            PathRepr::Text(s) => PathBuf::from(s),
            PathRepr::Bytes { hex } => {
                let bytes = (0..hex.len() / 2)
                    .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect();
                PathBuf::from(std::ffi::OsString::from_vec(bytes))
            }
        }
    }
}

/// The file an entry came from, as it was when read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRef {
    pub path: PathRepr,
    /// Size and mtime when read; `None` when the file could not be examined (vanished).
    pub size: Option<u64>,
    pub mtime: Option<SystemTime>,
}

/// What became of one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A new report. `text` is the decoded original, which normalize turns into the same
    /// report again on replay (with `modified` and `received_at` for the date fallbacks).
    /// `near` is the earlier report it repeats, as dedup found it then: replay takes it as
    /// it was, whatever the index would find with today's settings.
    Accepted {
        id: String,
        fingerprint: String,
        revises: Option<String>,
        text: String,
        modified: Option<SystemTime>,
        #[serde(with = "time::serde::rfc3339")]
        received_at: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        near: Option<Near>,
    },
    Duplicate {
        id: String,
        fingerprint: String,
        of: String,
    },
    Unchanged {
        id: String,
        fingerprint: String,
    },
    Rejected {
        code: String,
        reason: String,
    },
    /// A report retracted (`sitrep retract`): no file was read; `file` names the report's.
    Retracted(crate::retraction::Retraction),
}

/// One journal record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Log sequence number: every entry has one, gapless, from 1.
    pub lsn: u64,
    /// When the entry was processed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub file: FileRef,
    pub outcome: Outcome,
    /// The change events, exactly as published (CloudEvents JSON).
    pub events: Vec<Box<RawValue>>,
}

impl Entry {
    /// Sequence number of the last event, if the entry caused any.
    pub fn last_seq(&self) -> Option<u64> {
        self.events.last().and_then(|e| event_seq(e))
    }
}

/// The sequence number of a published CloudEvent.
pub fn event_seq(e: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Id<'_>>(e.get())
        .ok()?
        .id
        .parse()
        .ok()
}

/// Path → (size, mtime) of every file already taken: the source skips these at start-up.
pub type Ledger = HashMap<PathBuf, (u64, Option<SystemTime>)>;

/// One ledger row in a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LedgerRow {
    path: PathRepr,
    size: u64,
    mtime: Option<SystemTime>,
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    lsn: u64,
    seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    ledger: Vec<LedgerRow>,
    dedup: DedupImage,
    situation: &'a Situation,
}

/// A snapshot as loaded.
#[derive(Debug, Deserialize)]
pub struct Snapshot {
    version: u32,
    /// The last entry the snapshot includes.
    pub lsn: u64,
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    ledger: Vec<LedgerRow>,
    pub dedup: DedupImage,
    pub situation: Situation,
}

impl Snapshot {
    pub fn ledger(&mut self) -> Ledger {
        std::mem::take(&mut self.ledger)
            .into_iter()
            .map(|r| (r.path.into(), (r.size, r.mtime)))
            .collect()
    }
}

/// The files of a data directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub data_dir: PathBuf,
}

impl Layout {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }
    pub fn journal_dir(&self) -> PathBuf {
        self.data_dir.join("journal")
    }
    pub fn snapshot(&self) -> PathBuf {
        self.data_dir.join("snapshot.json")
    }
    fn lock(&self) -> PathBuf {
        self.data_dir.join("LOCK")
    }
    fn source(&self) -> PathBuf {
        self.data_dir.join("source")
    }
    fn segment(&self, first_lsn: u64) -> PathBuf {
        self.journal_dir().join(format!("{first_lsn:020}.seg"))
    }

    /// Segments as (first lsn, path), oldest first.
    pub fn segments(&self) -> Result<Vec<(u64, PathBuf)>, JournalError> {
        let dir = self.journal_dir();
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            let first = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(first) = first {
                out.push((first, path));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Loads the snapshot, if there is one.
    pub fn load_snapshot(&self) -> Result<Option<Snapshot>, JournalError> {
        let path = self.snapshot();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let snap: Snapshot = serde_json::from_reader(BufReader::with_capacity(1 << 20, file))
            .map_err(|e| JournalError::Snapshot {
                path: path.clone(),
                why: e.to_string(),
            })?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(JournalError::Snapshot {
                path,
                why: format!(
                    "format version {}, this build reads version {SNAPSHOT_VERSION}",
                    snap.version
                ),
            });
        }
        Ok(Some(snap))
    }

    /// Reads every entry with `lsn > after`, oldest first, handing each to `f`. A torn tail
    /// in the newest segment is cut off when `repair` is set (and only reported otherwise).
    ///
    /// Returns the lsn of the last entry read (or `after`).
    pub fn read_entries(
        &self,
        after: u64,
        repair: bool,
        mut f: impl FnMut(Entry, u64) -> bool,
    ) -> Result<u64, JournalError> {
        let segments = self.segments()?;
        // The segment holding `after + 1` is the last one starting at or before it.
        let start = segments
            .iter()
            .rposition(|(first, _)| *first <= after + 1)
            .unwrap_or(0);
        let mut last = after;
        let n = segments.len();
        let mut more = true;
        for (i, (_, path)) in segments.iter().enumerate().skip(start) {
            if !more {
                break;
            }
            let newest = i + 1 == n;
            let torn = read_segment(path, |e, bytes| {
                if e.lsn > after && more {
                    last = e.lsn;
                    more = f(e, bytes);
                }
                more
            })?;
            if let Some((offset, why)) = torn {
                if !newest {
                    return Err(JournalError::Corrupt {
                        path: path.clone(),
                        offset,
                        why,
                    });
                }
                if repair {
                    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(offset);
                    warn!(
                        segment = %path.display(),
                        offset,
                        dropped_bytes = len.saturating_sub(offset),
                        reason = %why,
                        "Journal ends in a torn record (an interrupted write); cutting it off."
                    );
                    let file = OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(io_err(path))?;
                    file.set_len(offset).map_err(io_err(path))?;
                    file.sync_all().map_err(io_err(path))?;
                }
            }
        }
        Ok(last)
    }
}

/// Reads one segment, handing each entry and its size on disk to `f` until `f` says
/// stop. Returns where and why the segment ends early, if it does.
fn read_segment(
    path: &Path,
    mut f: impl FnMut(Entry, u64) -> bool,
) -> Result<Option<(u64, String)>, JournalError> {
    let file = File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; HEADER_LEN as usize];
    if len < HEADER_LEN {
        // A segment created but never written past its header: nothing in it.
        return Ok((len > 0).then(|| (0, "short header".to_string())));
    }
    r.read_exact(&mut header).map_err(io_err(path))?;
    if &header[..8] != MAGIC {
        return Err(JournalError::NotJournal {
            path: path.to_path_buf(),
        });
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != FORMAT_VERSION {
        return Err(JournalError::Version {
            path: path.to_path_buf(),
            found: version,
        });
    }
    let mut offset = HEADER_LEN;
    let mut payload = Vec::new();
    loop {
        if offset == len {
            return Ok(None);
        }
        if len - offset < 8 {
            return Ok(Some((offset, "short record header".into())));
        }
        let mut head = [0u8; 8];
        r.read_exact(&mut head).map_err(io_err(path))?;
        let size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if size > MAX_RECORD || u64::from(size) > len - offset - 8 {
            return Ok(Some((offset, "record runs past the end".into())));
        }
        payload.resize(size as usize, 0);
        r.read_exact(&mut payload).map_err(io_err(path))?;
        if crc32fast::hash(&payload) != crc {
            return Ok(Some((offset, "checksum mismatch".into())));
        }
        match serde_json::from_slice::<Entry>(&payload) {
            Ok(e) => {
                if !f(e, 8 + u64::from(size)) {
                    return Ok(None);
                }
            }
            Err(e) => return Ok(Some((offset, format!("undecodable entry: {e}")))),
        }
        offset += 8 + u64::from(size);
    }
}

/// The append side, owned by the situation writer.
#[derive(Debug)]
pub struct Journal {
    layout: Layout,
    cfg: JournalConfig,
    _lock: File,
    file: BufWriter<File>,
    path: PathBuf,
    segment_len: u64,
    next_lsn: u64,
    /// Entries appended but not yet fsynced.
    unsynced: usize,
    /// Entries since the last snapshot.
    since_snapshot: u64,
}

/// What [`Journal::open`] found.
#[derive(Debug)]
pub struct Recovery {
    pub snapshot: Option<Snapshot>,
    /// Entries after the snapshot, oldest first: to be replayed without publishing.
    pub entries: Vec<Entry>,
}

impl Journal {
    /// Locks the data directory, repairs a torn tail, and reads the snapshot and the
    /// entries after it. The caller replays them, then appends.
    ///
    /// # Errors
    /// Another process holds the directory, a file cannot be read or written, or a
    /// segment other than the newest is damaged.
    pub fn open(data_dir: &Path, cfg: &JournalConfig) -> Result<(Journal, Recovery), JournalError> {
        let layout = Layout::new(data_dir);
        let jdir = layout.journal_dir();
        std::fs::create_dir_all(&jdir).map_err(io_err(&jdir))?;
        let lock_path = layout.lock();
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(JournalError::Locked { path: lock_path });
        }
        let snapshot = layout.load_snapshot()?;
        let after = snapshot.as_ref().map_or(0, |s| s.lsn);
        let mut entries = Vec::new();
        let last = layout.read_entries(after, true, |e, _| {
            entries.push(e);
            true
        })?;
        let segments = layout.segments()?;
        let (path, segment_len) = match segments.last() {
            Some((_, p)) => {
                let len = std::fs::metadata(p).map_err(io_err(p))?.len();
                (p.clone(), len)
            }
            None => (layout.segment(last + 1), 0),
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let mut journal = Journal {
            layout,
            cfg: cfg.clone(),
            _lock: lock,
            file: BufWriter::with_capacity(1 << 20, file),
            path,
            segment_len,
            next_lsn: last + 1,
            unsynced: 0,
            since_snapshot: entries.len() as u64,
        };
        if journal.segment_len < HEADER_LEN {
            journal.write_header()?;
        }
        info!(
            snapshot_lsn = after,
            replay = entries.len(),
            next_lsn = journal.next_lsn,
            "Journal opened."
        );
        Ok((journal, Recovery { snapshot, entries }))
    }

    /// The CloudEvents `source` of this data directory's events: read from its `source`
    /// file, made (a new random one, written atomically) the first time.
    ///
    /// It lives with the journal because it names the log the journal numbers: a copy of
    /// the directory (a backup restored) is the same log and keeps it, a directory started
    /// afresh is another log and gets another.
    ///
    /// # Errors
    /// The file cannot be read or written, or holds no source.
    pub fn event_source(&self) -> Result<String, JournalError> {
        let path = self.layout.source();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let source = text.trim();
                if source.is_empty() {
                    return Err(JournalError::Source {
                        path,
                        why: "the file is empty".into(),
                    });
                }
                Ok(source.to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let source = crate::events::new_source();
                let tmp = path.with_extension("tmp");
                {
                    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
                    f.write_all(format!("{source}\n").as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(io_err(&tmp))?;
                }
                std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
                sync_dir(&self.layout.data_dir)?;
                info!(%source, path = %path.display(), "New event source for this data directory.");
                Ok(source)
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn write_header(&mut self) -> Result<(), JournalError> {
        // A segment cut inside its header is rewritten from scratch.
        self.file.flush().map_err(io_err(&self.path))?;
        self.file.get_ref().set_len(0).map_err(io_err(&self.path))?;
        self.file
            .get_mut()
            .seek(SeekFrom::Start(0))
            .map_err(io_err(&self.path))?;
        self.file.write_all(MAGIC).map_err(io_err(&self.path))?;
        self.file
            .write_all(&FORMAT_VERSION.to_le_bytes())
            .map_err(io_err(&self.path))?;
        self.segment_len = HEADER_LEN;
        // The new segment's name must be durable with its header, or a crash could leave
        // entries in a file recovery never finds.
        self.sync()?;
        sync_dir(&self.layout.journal_dir())
    }

    /// The lsn the next entry gets.
    pub fn next_lsn(&self) -> u64 {
        self.next_lsn
    }

    /// Appends an entry (not yet durable: see [`Journal::sync`]). Sets its lsn.
    ///
    /// # Errors
    /// Encoding or write failures.
    pub fn append(&mut self, entry: &mut Entry) -> Result<(), JournalError> {
        if self.segment_len >= self.cfg.segment_bytes {
            self.roll()?;
        }
        entry.lsn = self.next_lsn;
        let payload = serde_json::to_vec(entry).map_err(JournalError::Encode)?;
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l <= MAX_RECORD)
            .ok_or(JournalError::TooLarge(payload.len()))?;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&len.to_le_bytes());
        head[4..].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        self.file.write_all(&head).map_err(io_err(&self.path))?;
        self.file.write_all(&payload).map_err(io_err(&self.path))?;
        self.segment_len += 8 + payload.len() as u64;
        self.next_lsn += 1;
        self.unsynced += 1;
        self.since_snapshot += 1;
        Ok(())
    }

    /// True when the group of unsynced entries has reached its bound.
    pub fn batch_full(&self) -> bool {
        self.unsynced >= self.cfg.sync_batch
    }

    /// Makes every appended entry durable.
    ///
    /// # Errors
    /// Write or fsync failures.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.flush().map_err(io_err(&self.path))?;
        self.file
            .get_ref()
            .sync_data()
            .map_err(io_err(&self.path))?;
        self.unsynced = 0;
        Ok(())
    }

    fn roll(&mut self) -> Result<(), JournalError> {
        self.sync()?;
        let path = self.layout.segment(self.next_lsn);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        info!(segment = %path.display(), "New journal segment.");
        self.file = BufWriter::with_capacity(1 << 20, file);
        self.path = path;
        self.segment_len = 0;
        self.write_header()
    }

    /// True when entries were appended since the last snapshot.
    pub fn has_news(&self) -> bool {
        self.since_snapshot > 0
    }

    /// True when enough entries have gone by since the last snapshot.
    pub fn snapshot_due(&self) -> bool {
        self.since_snapshot >= self.cfg.snapshot_every
    }

    /// Writes a snapshot as of the last appended entry (which must be synced), then deletes
    /// the segments it makes unnecessary beyond `keep_segments`.
    ///
    /// # Errors
    /// Write failures; the previous snapshot stays in place.
    pub fn snapshot(
        &mut self,
        situation: &Situation,
        dedup: DedupImage,
        ledger: &Ledger,
    ) -> Result<(), JournalError> {
        self.sync()?;
        let lsn = self.next_lsn - 1;
        let mut rows: Vec<LedgerRow> = ledger
            .iter()
            .map(|(p, (size, mtime))| LedgerRow {
                path: PathRepr::from(p.as_path()),
                size: *size,
                mtime: *mtime,
            })
            .collect();
        rows.sort_by(|a, b| a.path.cmp(&b.path));
        let image = SnapshotRef {
            version: SNAPSHOT_VERSION,
            lsn,
            seq: situation.seq(),
            at: OffsetDateTime::now_utc(),
            ledger: rows,
            dedup,
            situation,
        };
        let started = std::time::Instant::now();
        let path = self.layout.snapshot();
        let tmp = path.with_extension("json.tmp");
        {
            let f = File::create(&tmp).map_err(io_err(&tmp))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            serde_json::to_writer(&mut w, &image).map_err(JournalError::Encode)?;
            w.flush().map_err(io_err(&tmp))?;
            w.get_ref().sync_all().map_err(io_err(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        sync_dir(&self.layout.data_dir)?;
        self.since_snapshot = 0;
        info!(
            lsn,
            seq = image.seq,
            ms = started.elapsed().as_millis() as u64,
            "Snapshot written."
        );
        self.compact(lsn)
    }

    /// Deletes segments wholly covered by the snapshot at `lsn`, keeping `keep_segments`.
    fn compact(&mut self, lsn: u64) -> Result<(), JournalError> {
        let Some(keep) = self.cfg.keep_segments else {
            return Ok(());
        };
        let segments = self.layout.segments()?;
        // A segment is covered when the next one starts at or before lsn + 1.
        let covered: Vec<&PathBuf> = segments
            .windows(2)
            .filter(|w| w[1].0 <= lsn + 1)
            .map(|w| &w[0].1)
            .collect();
        let n = covered.len().saturating_sub(keep);
        for path in covered.into_iter().take(n) {
            std::fs::remove_file(path).map_err(io_err(path))?;
            info!(segment = %path.display(), "Journal segment compacted away.");
        }
        Ok(())
    }
}

/// fsync a directory, so that a rename or a new file in it survives a crash.
fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> Entry {
        Entry {
            lsn: 0,
            at: OffsetDateTime::UNIX_EPOCH,
            file: FileRef {
                path: PathRepr::from(Path::new("w/a.txt")),
                size: Some(n),
                mtime: None,
            },
            outcome: Outcome::Rejected {
                code: "empty".into(),
                reason: "file is empty".into(),
            },
            events: vec![serde_json::value::to_raw_value(
                &serde_json::json!({"id": n.to_string()}),
            )
            .unwrap()],
        }
    }

    fn cfg() -> JournalConfig {
        JournalConfig {
            segment_bytes: 4096,
            ..JournalConfig::default()
        }
    }

    fn write(dir: &Path, n: u64) {
        let (mut j, _) = Journal::open(dir, &cfg()).unwrap();
        for i in 0..n {
            j.append(&mut entry(i + 1)).unwrap();
        }
        j.sync().unwrap();
    }

    #[test]
    fn entries_survive_reopen_across_segments() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 100);
        let layout = Layout::new(d.path());
        assert!(layout.segments().unwrap().len() > 1, "rolled");
        let (j, rec) = Journal::open(d.path(), &cfg()).unwrap();
        assert_eq!(rec.entries.len(), 100);
        assert_eq!(j.next_lsn(), 101);
        let lsns: Vec<u64> = rec.entries.iter().map(|e| e.lsn).collect();
        assert_eq!(lsns, (1..=100).collect::<Vec<_>>());
        assert_eq!(rec.entries[99].last_seq(), Some(100));
    }

    #[test]
    fn torn_tail_is_cut_and_appending_goes_on() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 3);
        let layout = Layout::new(d.path());
        let (_, seg) = layout.segments().unwrap().pop().unwrap();
        let full = std::fs::metadata(&seg).unwrap().len();
        // Cut the last record in half, as a crash mid-write would.
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(full - 10).unwrap();
        drop(f);
        let (mut j, rec) = Journal::open(d.path(), &cfg()).unwrap();
        assert_eq!(rec.entries.len(), 2);
        j.append(&mut entry(3)).unwrap();
        j.sync().unwrap();
        drop(j);
        let (_, rec) = Journal::open(d.path(), &cfg()).unwrap();
        assert_eq!(rec.entries.len(), 3);
        assert_eq!(rec.entries[2].lsn, 3);
    }

    #[test]
    fn flipped_byte_in_the_tail_is_a_torn_record() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 2);
        let (_, seg) = Layout::new(d.path()).segments().unwrap().pop().unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff;
        std::fs::write(&seg, bytes).unwrap();
        let (_, rec) = Journal::open(d.path(), &cfg()).unwrap();
        assert_eq!(rec.entries.len(), 1);
    }

    #[test]
    fn damage_in_an_older_segment_stops_start_up() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 100);
        let (_, first) = Layout::new(d.path()).segments().unwrap().remove(0);
        let mut bytes = std::fs::read(&first).unwrap();
        bytes[30] ^= 0xff;
        std::fs::write(&first, bytes).unwrap();
        let err = Journal::open(d.path(), &cfg()).unwrap_err();
        assert!(matches!(err, JournalError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_second_process_cannot_open_the_same_directory() {
        let d = tempfile::tempdir().unwrap();
        let (_j, _) = Journal::open(d.path(), &cfg()).unwrap();
        let err = Journal::open(d.path(), &cfg()).unwrap_err();
        assert!(matches!(err, JournalError::Locked { .. }), "{err}");
    }

    #[test]
    fn snapshot_bounds_the_replay_and_compaction_keeps_what_is_asked() {
        let d = tempfile::tempdir().unwrap();
        let cfg = JournalConfig {
            keep_segments: Some(1),
            ..cfg()
        };
        let (mut j, _) = Journal::open(d.path(), &cfg).unwrap();
        for i in 0..100 {
            j.append(&mut entry(i + 1)).unwrap();
        }
        let mut ledger = Ledger::new();
        ledger.insert(PathBuf::from("w/a.txt"), (3, None));
        j.snapshot(&Situation::default(), DedupImage::default(), &ledger)
            .unwrap();
        j.append(&mut entry(101)).unwrap();
        j.sync().unwrap();
        drop(j);
        let layout = Layout::new(d.path());
        let segments = layout.segments().unwrap();
        let (mut j, mut rec) = Journal::open(d.path(), &cfg).unwrap();
        let snap = rec.snapshot.as_mut().unwrap();
        assert_eq!(snap.lsn, 100);
        assert_eq!(snap.ledger().len(), 1);
        assert_eq!(rec.entries.len(), 1);
        assert_eq!(rec.entries[0].lsn, 101);
        assert_eq!(j.next_lsn(), 102);
        // Covered segments beyond the one kept are gone; the newest ones remain.
        assert!(segments.len() >= 2);
        assert!(segments[0].0 > 1, "oldest segment compacted: {segments:?}");
        j.sync().unwrap();
    }

    #[test]
    fn odd_byte_paths_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"w/caf\xe9.txt"));
        let r = PathRepr::from(p);
        let json = serde_json::to_string(&r).unwrap();
        let back: PathRepr = serde_json::from_str(&json).unwrap();
        assert_eq!(PathBuf::from(back), p);
        let plain = PathRepr::from(Path::new("w/a.txt"));
        assert_eq!(serde_json::to_string(&plain).unwrap(), "\"w/a.txt\"");
    }

    #[test]
    fn the_event_source_is_made_once_per_data_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = Journal::open(a.path(), &cfg())
            .unwrap()
            .0
            .event_source()
            .unwrap();
        assert!(first.starts_with("urn:sitrep:"), "{first}");
        let again = Journal::open(a.path(), &cfg())
            .unwrap()
            .0
            .event_source()
            .unwrap();
        assert_eq!(first, again);
        let other = Journal::open(b.path(), &cfg())
            .unwrap()
            .0
            .event_source()
            .unwrap();
        assert_ne!(first, other);
        std::fs::write(a.path().join("source"), " \n").unwrap();
        let err = Journal::open(a.path(), &cfg()).unwrap().0.event_source();
        assert!(matches!(err, Err(JournalError::Source { .. })), "{err:?}");
    }
}
