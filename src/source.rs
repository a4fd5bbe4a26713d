//! The source: finds report files and reads them once they are complete.
//!
//! Notifications (inotify through `notify`) say *that* something happened; they are not
//! trusted to say everything. A file is read when the kernel reports close-after-write or a
//! rename into the folder, or else once its size and mtime have stayed the same for
//! `settle_ms`; a periodic full rescan catches whatever notifications missed. Each
//! (path, size, mtime) is read at most once per run.
//!
//! The source never decides whether bytes are a good report (normalize does); it only
//! refuses what cannot be read at all: directories named like reports, FIFOs and other
//! special files, files over the size cap, files that vanish or cannot be opened.

use std::collections::{HashMap, HashSet};
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::config::SourceConfig;
use crate::report::{FileStamp, RawReport, Rejected, Rejection};

/// What the source hands to normalize.
#[derive(Debug)]
pub enum Intake {
    Report(RawReport),
    Rejected(Rejected),
    /// Not a file: a report to retract, which goes to the writer in its turn.
    Retract(crate::retraction::RetractRequest),
}

/// Extensions that make a directory look like a report (and so be rejected, not entered).
const REPORT_EXTENSIONS: [&str; 6] = ["txt", "text", "md", "json", "xml", "html"];

/// Hidden and temporary names: `.*`, `*.tmp`, `*.part`, `*~`, `*.swp`, `*.swx`,
/// `*.crdownload`, `*.partial`. Writers use them while a file is incomplete.
pub fn is_ignored_name(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".part", ".swp", ".swx", ".crdownload", ".partial"]
            .iter()
            .any(|s| {
                b.len() >= s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
            })
}

/// True when any component of `path` below `root` is hidden or temporary.
fn is_ignored(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .any(|c| is_ignored_name(&c.as_os_str().to_string_lossy()))
}

fn looks_like_report_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| REPORT_EXTENSIONS.contains(&e.as_str()))
}

/// Every candidate under `root` (recursively), in name order. Directories named like
/// reports are returned as candidates too, so they can be rejected with a reason.
pub fn scan(root: &Path) -> Vec<PathBuf> {
    scan_except(root, None)
}

/// [`scan`], leaving out everything under `skip` (the folder rejected files are moved to).
fn scan_except(root: &Path, skip: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut seen_dirs = HashSet::new();
    while let Some(dir) = stack.pop() {
        // Symlink loops: never enter the same directory twice.
        if let Ok(canon) = std::fs::canonicalize(&dir) {
            if !seen_dirs.insert(canon) {
                continue;
            }
        }
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if is_ignored(root, &path) || skip.is_some_and(|s| path.starts_with(s)) {
                continue;
            }
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir && !looks_like_report_name(&path) {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    sort_paths(&mut out);
    out
}

/// Sorts the paths listed under one root in [`Path`]'s order (component by component)
/// without taking them apart at every comparison. They all start with the root as it was
/// spelled, and below it have no `.` components or doubled separators; for such paths that
/// order is the byte order with the separator below every other byte. A folder of thousands
/// of reports took longer to sort than to list.
fn sort_paths(paths: &mut [PathBuf]) {
    use std::os::unix::ffi::OsStrExt;
    paths.sort_by_cached_key(|p| {
        p.as_os_str()
            .as_bytes()
            .iter()
            .map(|&b| if b == b'/' { 0 } else { b })
            .collect::<Vec<u8>>()
    });
}

/// Reads one candidate, refusing what is not a readable regular file within the cap.
///
/// Never blocks: a FIFO is refused from its metadata without being opened, and the file is
/// opened non-blocking so that one swapped for a FIFO after the check cannot hang the
/// source either. Never reads more than `max_bytes + 1` bytes, even from a file that grows
/// while it is read.
pub fn read_report(path: &Path, max_bytes: u64) -> Intake {
    let reject = |reason, seen| {
        Intake::Rejected(Rejected {
            path: path.to_path_buf(),
            reason,
            seen,
        })
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            // The link itself may be there while what it points to is not (or never ends).
            return match std::fs::symlink_metadata(path) {
                Ok(link) if link.file_type().is_symlink() => {
                    let what = if e.raw_os_error() == Some(libc::ELOOP) {
                        "symbolic link loop"
                    } else if e.kind() == std::io::ErrorKind::NotFound {
                        "dangling symbolic link"
                    } else {
                        return reject(Rejection::Unreadable(describe(&e)), FileStamp::of(path));
                    };
                    reject(Rejection::NotRegular(what.into()), FileStamp::of(path))
                }
                Err(_) if e.kind() == std::io::ErrorKind::NotFound => {
                    reject(Rejection::Vanished, None)
                }
                _ => reject(Rejection::Unreadable(describe(&e)), FileStamp::of(path)),
            };
        }
    };
    if meta.is_dir() {
        return reject(Rejection::Directory, None);
    }
    if !meta.is_file() {
        return reject(Rejection::NotRegular(file_type_name(&meta)), None);
    }
    if meta.len() > max_bytes {
        return reject(
            Rejection::TooLarge {
                size: meta.len(),
                limit: max_bytes,
            },
            Some(stamp_from(&meta)),
        );
    }
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return reject(Rejection::Vanished, None)
        }
        Err(e) => return reject(Rejection::Unreadable(describe(&e)), Some(stamp_from(&meta))),
    };
    // What was opened, which may not be what was looked at a moment ago.
    let meta = match file.metadata() {
        Ok(m) if m.is_file() => m,
        Ok(m) => return reject(Rejection::NotRegular(file_type_name(&m)), None),
        Err(e) => return reject(Rejection::Unreadable(describe(&e)), Some(stamp_from(&meta))),
    };
    let capacity = usize::try_from(meta.len().min(max_bytes)).unwrap_or(0);
    let bytes = match read_capped(&file, max_bytes, capacity) {
        Ok(b) => b,
        Err(e) => return reject(Rejection::Unreadable(describe(&e)), Some(stamp_from(&meta))),
    };
    if bytes.len() as u64 > max_bytes {
        // It grew past the cap since the check: say how large it is now, at least.
        let size = file
            .metadata()
            .map_or(0, |m| m.len())
            .max(bytes.len() as u64);
        return reject(
            Rejection::TooLarge {
                size,
                limit: max_bytes,
            },
            FileStamp::of(path),
        );
    }
    Intake::Report(RawReport {
        path: path.to_path_buf(),
        bytes,
        modified: meta.modified().ok(),
        received_at: OffsetDateTime::now_utc(),
    })
}

/// Opens for reading without blocking on a FIFO or a device (`O_NONBLOCK`, which changes
/// nothing for a regular file).
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Reads at most `cap + 1` bytes: one more than the cap says that there was more.
fn read_capped(reader: impl Read, cap: u64, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(capacity);
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// An I/O error for people: the common cases in words, the rest as the system says them.
fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn stamp_from(meta: &Metadata) -> FileStamp {
    FileStamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    }
}

fn file_type_name(meta: &Metadata) -> String {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO".into()
    } else if t.is_socket() {
        "a socket".into()
    } else if t.is_block_device() || t.is_char_device() {
        "a device".into()
    } else {
        "a special file".into()
    }
}

/// `path` spelled under `root` when it lies inside it once symbolic links are resolved, so
/// that it matches the paths found under `root` however either was written; else `path`
/// unchanged. `path` need not exist yet: its longest existing ancestor is resolved.
fn respell_under(root: &Path, path: &Path) -> PathBuf {
    let Ok(canon_root) = std::fs::canonicalize(root) else {
        return path.to_path_buf();
    };
    let mut existing = path;
    let mut rest = Vec::new();
    let canon = loop {
        match std::fs::canonicalize(existing) {
            Ok(c) => break c,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name);
                    existing = parent;
                }
                _ => return path.to_path_buf(),
            },
        }
    };
    let full = rest.iter().rev().fold(canon, |acc, name| acc.join(name));
    match full.strip_prefix(&canon_root) {
        // The watch folder itself is never skipped (the folder of rejected files will
        // refuse to move anything into it).
        Ok(rel) if !rel.as_os_str().is_empty() => root.join(rel),
        _ => path.to_path_buf(),
    }
}

/// (device, inode) of a folder, to notice it being replaced.
fn dir_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    m.is_dir().then(|| (m.dev(), m.ino()))
}

/// (size, mtime): what "unchanged" means for a file being written.
pub(crate) type Stamp = (u64, Option<SystemTime>);

/// [`FileStamp::of`] as a pair. The journal's ledger records the same stamp for every
/// outcome, so that a file (or a link, whether it leads to a rejected file or nowhere)
/// is not taken again at every start.
pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    FileStamp::of(path).map(|s| (s.len, s.modified))
}

/// The watching source of the daemon.
#[derive(Debug)]
pub struct WatchSource {
    cfg: SourceConfig,
    /// Stamps already handed on; a path is read again only when its stamp changes.
    done: HashMap<PathBuf, Option<Stamp>>,
    /// Files seen but not yet complete: last stamp and when it was taken.
    pending: HashMap<PathBuf, (Option<Stamp>, Instant)>,
    /// The folder rejected files are moved to (absolute), never read as reports.
    skip: Option<PathBuf>,
}

impl WatchSource {
    pub fn new(cfg: SourceConfig) -> Self {
        if let Some(problem) = cfg.rejected_dir_problem() {
            warn!(
                problem,
                "source.rejected_dir is not usable; rejected files stay where they are."
            );
        }
        let skip = cfg.rejected_dir_absolute();
        Self {
            cfg,
            done: HashMap::new(),
            pending: HashMap::new(),
            skip,
        }
    }

    /// Files a previous run already took (path → size, mtime, from the journal's ledger):
    /// skipped at start-up unless they changed since.
    pub fn with_taken(mut self, taken: &crate::journal::Ledger) -> Self {
        self.done
            .extend(taken.iter().map(|(p, st)| (p.clone(), Some(*st))));
        self
    }

    /// Hidden, temporary, or in the folder of rejected files.
    fn ignored(&self, root: &Path, path: &Path) -> bool {
        is_ignored(root, path) || self.skip.as_ref().is_some_and(|s| path.starts_with(s))
    }

    fn scan(&self, root: &Path) -> Vec<PathBuf> {
        scan_except(root, self.skip.as_deref())
    }

    /// Runs until `shutdown` resolves: initial scan, then notifications, settle checks and
    /// rescans. Returns when intake has stopped; dropping `tx` then drains the pipeline.
    ///
    /// `ready` is called once the initial scan has been handed on.
    pub async fn run(
        mut self,
        tx: mpsc::Sender<Intake>,
        shutdown: impl std::future::Future<Output = ()>,
        ready: impl FnOnce(),
    ) {
        // Notifications carry absolute paths; scans must name files the same way, or a
        // rescan would take a file it already read for a new one.
        let root =
            std::path::absolute(&self.cfg.watch_dir).unwrap_or_else(|_| self.cfg.watch_dir.clone());
        // A mistyped `--watch-dir` would otherwise give an empty folder and a daemon that
        // says it is ready and waits for reports that go elsewhere: say where it is.
        let existed = root.is_dir();
        match std::fs::create_dir_all(&root) {
            Err(e) => {
                warn!(path = %root.display(), error = %e, "Cannot create the watch folder; waiting for it.");
            }
            Ok(()) if !existed => {
                warn!(path = %root.display(), "Watch folder did not exist; created it. Reports must be dropped into this folder.");
            }
            Ok(()) => {}
        }
        self.skip = self.skip.take().map(|skip| respell_under(&root, &skip));
        let (ntx, mut nrx) = mpsc::unbounded_channel::<notify::Result<notify::Event>>();
        let mut watcher = self.start_watcher(&root, ntx.clone());
        let mut root_id = dir_identity(&root);

        for path in self.scan(&root) {
            if !self.hand_on(&path, &tx).await {
                return;
            }
        }
        info!(path = %root.display(), files = self.done.len(), "Initial scan done; watching.");
        ready();

        let settle = Duration::from_millis(self.cfg.settle_ms.max(10));
        let mut tick = tokio::time::interval(settle / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let rescan_every = Duration::from_secs(self.cfg.rescan_secs.max(1));
        let mut rescan =
            tokio::time::interval_at(tokio::time::Instant::now() + rescan_every, rescan_every);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => {
                    info!("Intake stopped.");
                    break;
                }
                Some(ev) = nrx.recv() => {
                    match ev {
                        Ok(ev) => {
                            if !self.on_event(&root, ev, &tx).await {
                                return;
                            }
                        }
                        Err(e) => warn!(error = %e, "Watch error; the next rescan will catch up."),
                    }
                }
                _ = tick.tick() => {
                    // The folder deleted and re-created (or replaced) loses its inotify watch:
                    // notice it here, re-watch it and take what is in it.
                    let now_id = dir_identity(&root);
                    if now_id != root_id {
                        root_id = now_id;
                        if root_id.is_some() {
                            info!(path = %root.display(), "Watch folder re-created; watching it again.");
                            watcher = self.start_watcher(&root, ntx.clone());
                            for path in self.scan(&root) {
                                self.pending.insert(path.clone(), (stamp(&path), Instant::now()));
                            }
                        } else {
                            warn!(path = %root.display(), "Watch folder is gone; waiting for it to come back.");
                            watcher = None;
                        }
                    }
                    if !self.check_pending(settle, &tx).await {
                        return;
                    }
                }
                _ = rescan.tick(), if self.cfg.rescan_secs > 0 => {
                    if !root.is_dir() {
                        continue;
                    }
                    if watcher.is_none() {
                        watcher = self.start_watcher(&root, ntx.clone());
                    }
                    let found = self.rescan(&root);
                    debug!(found, "Rescan done.");
                }
            }
        }
        drop(watcher);
    }

    /// Queues every file the notifications missed: new, or changed since it was read.
    fn rescan(&mut self, root: &Path) -> usize {
        let mut found = 0;
        for path in self.scan(root) {
            let now = stamp(&path);
            if self.done.get(&path).is_none_or(|s| *s != now) && !self.pending.contains_key(&path) {
                debug!(path = %path.display(), "Rescan found a file.");
                self.pending.insert(path, (now, Instant::now()));
                found += 1;
            }
        }
        found
    }

    fn start_watcher(
        &self,
        root: &Path,
        ntx: mpsc::UnboundedSender<notify::Result<notify::Event>>,
    ) -> Option<RecommendedWatcher> {
        let mut w = match notify::recommended_watcher(move |res| {
            // The receiver is gone only during shutdown.
            let _ = ntx.send(res);
        }) {
            Ok(w) => w,
            Err(e) => {
                warn!(error = %e, "Cannot start file notifications; relying on rescans.");
                return None;
            }
        };
        match w.watch(root, RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(e) => {
                warn!(path = %root.display(), error = %e, "Cannot watch the folder; relying on rescans.");
                None
            }
        }
    }

    async fn on_event(
        &mut self,
        root: &Path,
        ev: notify::Event,
        tx: &mpsc::Sender<Intake>,
    ) -> bool {
        for path in &ev.paths {
            if self.ignored(root, path) {
                continue;
            }
            match ev.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
                    let target = if matches!(
                        ev.kind,
                        EventKind::Modify(ModifyKind::Name(RenameMode::Both))
                    ) {
                        ev.paths.last().cloned().unwrap_or_else(|| path.clone())
                    } else {
                        path.clone()
                    };
                    if self.ignored(root, &target) {
                        // Moved into the folder of rejected files (or out of sight).
                        continue;
                    }
                    if target.is_dir() && !looks_like_report_name(&target) {
                        // A folder moved in: everything in it is new.
                        for p in self.scan(&target) {
                            self.pending.insert(p.clone(), (stamp(&p), Instant::now()));
                        }
                        continue;
                    }
                    let was_pending = self.pending.remove(&target).is_some();
                    if !target.exists() && !was_pending {
                        // Closed after it was removed: the removal already said everything.
                        continue;
                    }
                    if self.done.get(&target).is_none_or(|s| *s != stamp(&target))
                        && !self.hand_on(&target, tx).await
                    {
                        return false;
                    }
                }
                EventKind::Create(CreateKind::Folder) => {
                    if looks_like_report_name(path) {
                        if !self.hand_on(path, tx).await {
                            return false;
                        }
                    } else {
                        for p in self.scan(path) {
                            self.pending.insert(p.clone(), (stamp(&p), Instant::now()));
                        }
                    }
                }
                EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                    if self.pending.remove(path).is_some() {
                        // Seen arriving, gone before it was complete: say so.
                        if !self.send(tx, read_report(path, self.cfg.max_bytes)).await {
                            return false;
                        }
                    }
                    self.done.remove(path);
                }
                EventKind::Create(_) | EventKind::Modify(_) => {
                    let changed = self.done.get(path).is_none_or(|s| *s != stamp(path));
                    // symlink_metadata: a symlink loop does not "exist" but must be reported.
                    if changed
                        && path.symlink_metadata().is_ok()
                        && !self.pending.contains_key(path)
                    {
                        debug!(path = %path.display(), "File arrived; waiting until it is complete.");
                        self.pending
                            .insert(path.clone(), (stamp(path), Instant::now()));
                    }
                }
                _ => {}
            }
        }
        true
    }

    async fn check_pending(&mut self, settle: Duration, tx: &mpsc::Sender<Intake>) -> bool {
        let now = Instant::now();
        let mut ready = Vec::new();
        for (path, (last, at)) in self.pending.iter_mut() {
            let cur = stamp(path);
            if cur != *last {
                *last = cur;
                *at = now;
            } else if now.duration_since(*at) >= settle {
                ready.push(path.clone());
            }
        }
        ready.sort();
        for path in ready {
            self.pending.remove(&path);
            if !self.hand_on(&path, tx).await {
                return false;
            }
        }
        true
    }

    /// Reads a file and sends it on; false when the pipeline is gone.
    async fn hand_on(&mut self, path: &Path, tx: &mpsc::Sender<Intake>) -> bool {
        let st = stamp(path);
        if self.done.get(path).is_some_and(|s| *s == st) {
            return true;
        }
        self.done.insert(path.to_path_buf(), st);
        let intake = read_report(path, self.cfg.max_bytes);
        self.send(tx, intake).await
    }

    async fn send(&self, tx: &mpsc::Sender<Intake>, intake: Intake) -> bool {
        tx.send(intake).await.is_ok()
    }
}

/// The one-shot source of `sitrep ingest`: files and folders (folders in name order).
pub fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() && !looks_like_report_name(p) {
            out.extend(scan(p));
        } else {
            out.push(p.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_names() {
        for n in [".hidden", "a.tmp", "a.part", "a.txt~", ".a.swp", "x.SWP"] {
            assert!(is_ignored_name(n), "{n}");
        }
        for n in ["a.txt", "report", "01_x.md"] {
            assert!(!is_ignored_name(n), "{n}");
        }
    }

    #[test]
    fn scan_is_sorted_recursive_and_skips_hidden() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub")).unwrap();
        std::fs::create_dir_all(d.path().join(".git")).unwrap();
        std::fs::create_dir_all(d.path().join("odd.txt")).unwrap();
        for f in ["b.txt", "a.txt", "sub/c.txt", ".git/x", "d.tmp"] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        let names: Vec<_> = scan(d.path())
            .iter()
            .map(|p| {
                p.strip_prefix(d.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "odd.txt", "sub/c.txt"]);
    }

    #[test]
    fn read_report_refusals() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("x.txt");
        std::fs::create_dir(&dir).unwrap();
        let reason = |i: Intake| match i {
            Intake::Rejected(r) => r.reason,
            other => panic!("not rejected: {other:?}"),
        };
        assert_eq!(reason(read_report(&dir, 10)), Rejection::Directory);
        assert_eq!(
            reason(read_report(&d.path().join("gone.txt"), 10)),
            Rejection::Vanished
        );
        let big = d.path().join("big.txt");
        std::fs::write(&big, vec![b'a'; 100]).unwrap();
        assert_eq!(
            reason(read_report(&big, 10)),
            Rejection::TooLarge {
                size: 100,
                limit: 10
            }
        );
        let fifo = d.path().join("pipe.txt");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            assert!(matches!(
                reason(read_report(&fifo, 10)),
                Rejection::NotRegular(_)
            ));
        }
        let ok = d.path().join("ok.txt");
        std::fs::write(&ok, "fine").unwrap();
        assert!(matches!(read_report(&ok, 10), Intake::Report(_)));
        // Exactly at the cap is fine.
        std::fs::write(&ok, "0123456789").unwrap();
        assert!(matches!(read_report(&ok, 10), Intake::Report(_)));
    }

    #[test]
    fn reading_stops_one_byte_past_the_cap() {
        // An endless reader: the read must end anyway, with one byte more than the cap.
        let bytes = read_capped(std::io::repeat(b'a'), 1000, 16).unwrap();
        assert_eq!(bytes.len(), 1001);
        let bytes = read_capped(&b"short"[..], 1000, 16).unwrap();
        assert_eq!(bytes, b"short");
        // A file whose size says nothing of its content (procfs reports 0 bytes).
        let status = Path::new("/proc/self/status");
        if status.exists() {
            match read_report(status, 16) {
                Intake::Rejected(r) => {
                    assert!(matches!(r.reason, Rejection::TooLarge { limit: 16, .. }));
                }
                other => panic!("read past the cap: {other:?}"),
            }
        }
    }

    fn reason(i: Intake) -> Rejection {
        match i {
            Intake::Rejected(r) => r.reason,
            other => panic!("not rejected: {other:?}"),
        }
    }

    #[test]
    fn symbolic_link_loops_and_dangling_links() {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let me = d.path().join("me.txt");
        symlink("me.txt", &me).unwrap();
        let (a, b) = (d.path().join("a.txt"), d.path().join("b.txt"));
        symlink("b.txt", &a).unwrap();
        symlink("a.txt", &b).unwrap();
        for p in [&me, &a, &b] {
            assert_eq!(
                reason(read_report(p, 100)),
                Rejection::NotRegular("symbolic link loop".into()),
                "{}",
                p.display()
            );
        }
        let dangling = d.path().join("dangling.txt");
        symlink("nowhere.txt", &dangling).unwrap();
        assert_eq!(
            reason(read_report(&dangling, 100)),
            Rejection::NotRegular("dangling symbolic link".into())
        );
        // A link to a report is read as the report.
        std::fs::write(d.path().join("real.txt"), "text").unwrap();
        symlink("real.txt", d.path().join("link.txt")).unwrap();
        assert!(matches!(
            read_report(&d.path().join("link.txt"), 100),
            Intake::Report(_)
        ));
    }

    #[test]
    fn unreadable_files_say_why() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("locked.txt");
        std::fs::write(&p, "text").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&p).is_ok() {
            println!("note: permissions do not stop this user from reading; check skipped");
            return;
        }
        match read_report(&p, 100) {
            Intake::Rejected(r) => {
                assert_eq!(r.reason, Rejection::Unreadable("permission denied".into()));
                assert!(
                    r.seen.is_some(),
                    "an unreadable file can still be set aside"
                );
            }
            other => panic!("read a file without permission: {other:?}"),
        }
    }

    #[test]
    fn odd_bytes_in_a_name_are_read() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let p = d
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.txt"));
        std::fs::write(&p, "The convoy left.").unwrap();
        assert_eq!(scan(d.path()), std::slice::from_ref(&p));
        match read_report(&p, 100) {
            Intake::Report(r) => {
                assert_eq!(
                    crate::report::file_label(&r.path),
                    "caf\u{FFFD}-\u{FFFD}.txt"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_folder_of_rejected_files_is_not_scanned() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("rejected")).unwrap();
        std::fs::write(d.path().join("rejected/bad.txt"), "x").unwrap();
        std::fs::write(d.path().join("good.txt"), "x").unwrap();
        let skip = d.path().join("rejected");
        assert_eq!(
            scan_except(d.path(), Some(&skip)),
            [d.path().join("good.txt")]
        );
        assert_eq!(scan(d.path()).len(), 2);
    }

    #[test]
    fn the_folder_of_rejected_files_is_matched_through_links() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        std::fs::create_dir_all(&real).unwrap();
        let alias = d.path().join("alias");
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        // Watched as `alias`, rejected folder written through `real` (not created yet).
        assert_eq!(
            respell_under(&alias, &real.join("rejected/now")),
            alias.join("rejected/now")
        );
        assert_eq!(respell_under(&alias, &alias.join("x")), alias.join("x"));
        let outside = d.path().join("elsewhere");
        assert_eq!(respell_under(&alias, &outside), outside);
    }

    /// Paths as a folder listing under one root gives them: the root spelled as given
    /// (slashes doubled, `.` or `..` in it), then names of any bytes but `/` and NUL.
    fn folder_paths() -> impl proptest::strategy::Strategy<Value = Vec<PathBuf>> {
        use proptest::prelude::*;
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let bytes = prop::sample::select(vec![
            b'a', b'B', b'.', b'-', b' ', b'!', b'~', 0x01, 0x7f, 0x80, 0xc3, 0xa9, 0xff,
        ]);
        let component = prop::collection::vec(bytes, 1..4)
            .prop_filter("not . or ..", |c| c != b"." && c != b"..");
        let root = prop::sample::select(vec!["./watch/", "watch//", "../w", "/", ".", "a/../b/"]);
        (
            root,
            prop::collection::vec(prop::collection::vec(component, 1..4), 0..40),
        )
            .prop_map(|(root, names)| {
                names
                    .into_iter()
                    .map(|cs| {
                        cs.iter()
                            .fold(PathBuf::from(root), |p, c| p.join(OsStr::from_bytes(c)))
                    })
                    .collect()
            })
    }

    proptest::proptest! {
        /// The cached-key sort puts paths read from a folder in `Path`'s own order.
        #[test]
        fn paths_sort_in_path_order(mut paths in folder_paths()) {
            let mut expected = paths.clone();
            expected.sort();
            sort_paths(&mut paths);
            proptest::prop_assert_eq!(paths, expected);
        }
    }
}
