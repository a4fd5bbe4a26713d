//! Setting rejected files aside (`source.rejected_dir`), for a newsroom that wants the
//! watch folder to hold only what it still has to look at.
//!
//! Off by default: nothing is moved or deleted unless the settings ask for it. When on, the
//! situation writer moves a rejected file only after its `report.rejected` event has been
//! written, so the event always names the path where the file was found. A file is moved
//! only while it is still the file that was judged (same size and modification time): a
//! corrected version saved under the same name in the meantime stays to be read.
//! Directories, FIFOs, sockets and devices are never moved (they may belong to another
//! program); files that vanished cannot be.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tracing::{debug, info, warn};

use crate::config::SourceConfig;
use crate::report::{FileStamp, Rejected};

/// The folder rejected files are moved to.
#[derive(Debug, Clone)]
pub struct RejectedDir {
    dir: PathBuf,
    /// The watch folder, which the folder must not be (nor lie above), however spelled.
    watch: PathBuf,
}

/// How many name suffixes (`name-1.txt` …) are tried before giving up on a name clash.
const MAX_SUFFIX: u32 = 10_000;

impl RejectedDir {
    /// The configured folder, or `None` when unset (or unusable, which the source warns
    /// about).
    pub fn new(cfg: &SourceConfig) -> Option<Self> {
        cfg.rejected_dir_absolute().map(|dir| Self {
            dir,
            watch: cfg.watch_dir.clone(),
        })
    }

    /// The folder, as an absolute path.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves a rejected file into the folder under its own name (`name-1.txt`, `name-2.txt`
    /// … when that is taken). Returns where it went, or `None` when it stays (with the reason
    /// in the log). The folder is created when first needed. Only this daemon is expected to
    /// write into it, so the free-name check before the rename is not raced.
    pub fn set_aside(&self, r: &Rejected) -> Option<PathBuf> {
        let Some(seen) = r.seen else {
            debug!(path = %r.path.display(), reason = r.reason.code(), "Rejected path left in place: not a file that can be moved.");
            return None;
        };
        if FileStamp::of(&r.path) != Some(seen) {
            info!(path = %r.path.display(), "Rejected file changed or went away since it was read; left in place.");
            return None;
        }
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            warn!(path = %r.path.display(), folder = %self.dir.display(), error = %e, "Cannot create the folder for rejected files; file left in place.");
            return None;
        }
        // Spelled differently (through a link), the folder could still be the watch folder:
        // a file moved there would come back as a new report, again and again.
        if let (Ok(dir), Ok(watch)) = (self.dir.canonicalize(), self.watch.canonicalize()) {
            if watch.starts_with(&dir) {
                warn!(path = %r.path.display(), folder = %self.dir.display(), "The folder for rejected files is the watch folder or above it; file left in place.");
                return None;
            }
        }
        let name = r.path.file_name()?;
        let Some(to) = free_name(&self.dir, name) else {
            warn!(path = %r.path.display(), folder = %self.dir.display(), "No free name for the rejected file; left in place.");
            return None;
        };
        match move_file(&r.path, &to) {
            Ok(()) => {
                info!(path = %r.path.display(), to = %to.display(), "Rejected file moved.");
                Some(to)
            }
            Err(e) => {
                warn!(path = %r.path.display(), to = %to.display(), error = %e, "Cannot move the rejected file; left in place.");
                None
            }
        }
    }
}

/// `dir/name` when nothing is there (not even a dangling link), else `dir/stem-N.ext`.
fn free_name(dir: &Path, name: &std::ffi::OsStr) -> Option<PathBuf> {
    let free = |p: &Path| p.symlink_metadata().is_err();
    let first = dir.join(name);
    if free(&first) {
        return Some(first);
    }
    let as_path = Path::new(name);
    let stem = as_path.file_stem().unwrap_or(name);
    let ext = as_path.extension();
    (1..=MAX_SUFFIX).find_map(|n| {
        let mut candidate = OsString::from(stem);
        candidate.push(format!("-{n}"));
        if let Some(ext) = ext {
            candidate.push(".");
            candidate.push(ext);
        }
        let p = dir.join(candidate);
        free(&p).then_some(p)
    })
}

/// A rename; across file systems, a copy and a removal (regular files only).
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            if !from.symlink_metadata()?.is_file() {
                return Err(e);
            }
            let mut src = std::fs::File::open(from)?;
            let mut dst = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(to)?;
            std::io::copy(&mut src, &mut dst)?;
            dst.sync_all()?;
            std::fs::remove_file(from)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Rejection;

    fn rejected(path: &Path, reason: Rejection) -> Rejected {
        Rejected {
            path: path.to_path_buf(),
            reason,
            seen: FileStamp::of(path),
        }
    }

    fn folder(dir: &Path) -> RejectedDir {
        RejectedDir::new(&SourceConfig {
            watch_dir: dir.join("watch"),
            rejected_dir: Some(dir.join("watch/rejected")),
            ..SourceConfig::default()
        })
        .expect("usable folder")
    }

    #[test]
    fn moves_keeping_the_name_and_adds_a_suffix_on_a_clash() {
        let d = tempfile::tempdir().unwrap();
        let q = folder(d.path());
        std::fs::create_dir_all(d.path().join("watch/sub")).unwrap();
        let a = d.path().join("watch/a.txt");
        let b = d.path().join("watch/sub/a.txt");
        let c = d.path().join("watch/a.txt.gz.txt");
        std::fs::write(&a, "one").unwrap();
        std::fs::write(&b, "two").unwrap();
        std::fs::write(&c, "three").unwrap();
        let to_a = q.set_aside(&rejected(&a, Rejection::Empty)).unwrap();
        let to_b = q.set_aside(&rejected(&b, Rejection::Empty)).unwrap();
        assert_eq!(to_a, q.path().join("a.txt"));
        assert_eq!(to_b, q.path().join("a-1.txt"));
        assert_eq!(std::fs::read_to_string(&to_b).unwrap(), "two");
        assert!(!a.exists() && !b.exists());
        std::fs::write(&a, "again").unwrap();
        let to_a2 = q.set_aside(&rejected(&a, Rejection::Empty)).unwrap();
        assert_eq!(to_a2, q.path().join("a-2.txt"));
        let to_c = q.set_aside(&rejected(&c, Rejection::Empty)).unwrap();
        assert_eq!(to_c, q.path().join("a.txt.gz.txt"));
    }

    #[test]
    fn leaves_what_changed_vanished_or_is_not_a_file() {
        let d = tempfile::tempdir().unwrap();
        let q = folder(d.path());
        std::fs::create_dir_all(d.path().join("watch")).unwrap();
        let a = d.path().join("watch/a.txt");
        std::fs::write(&a, "bad").unwrap();
        let r = rejected(&a, Rejection::Empty);
        std::fs::write(&a, "corrected, and longer").unwrap();
        assert_eq!(q.set_aside(&r), None);
        assert!(a.exists());
        let gone = d.path().join("watch/gone.txt");
        assert_eq!(q.set_aside(&rejected(&gone, Rejection::Vanished)), None);
        let dir = d.path().join("watch/story.txt");
        std::fs::create_dir(&dir).unwrap();
        let r = Rejected {
            path: dir.clone(),
            reason: Rejection::Directory,
            seen: None,
        };
        assert_eq!(q.set_aside(&r), None);
        assert!(dir.is_dir());
    }

    #[test]
    fn moves_a_link_not_what_it_points_to() {
        let d = tempfile::tempdir().unwrap();
        let q = folder(d.path());
        std::fs::create_dir_all(d.path().join("watch")).unwrap();
        let link = d.path().join("watch/loop.txt");
        std::os::unix::fs::symlink(&link, &link).unwrap();
        let to = q
            .set_aside(&rejected(
                &link,
                Rejection::NotRegular("symbolic link loop".into()),
            ))
            .unwrap();
        assert!(to.symlink_metadata().unwrap().file_type().is_symlink());
        assert!(link.symlink_metadata().is_err());
    }

    #[test]
    fn the_watch_folder_through_a_link_is_not_used() {
        let d = tempfile::tempdir().unwrap();
        let watch = d.path().join("watch");
        std::fs::create_dir_all(&watch).unwrap();
        std::os::unix::fs::symlink(&watch, d.path().join("alias")).unwrap();
        let q = RejectedDir::new(&SourceConfig {
            watch_dir: watch.clone(),
            rejected_dir: Some(d.path().join("alias")),
            ..SourceConfig::default()
        })
        .unwrap();
        let a = watch.join("a.txt");
        std::fs::write(&a, "bad").unwrap();
        assert_eq!(q.set_aside(&rejected(&a, Rejection::Empty)), None);
        assert!(a.exists());
    }

    #[test]
    fn the_watch_folder_itself_is_not_usable() {
        let cfg = SourceConfig {
            watch_dir: PathBuf::from("/srv/wire/in"),
            rejected_dir: Some(PathBuf::from("/srv/wire")),
            ..SourceConfig::default()
        };
        assert!(cfg.rejected_dir_problem().is_some());
        assert!(RejectedDir::new(&cfg).is_none());
        let cfg = SourceConfig {
            rejected_dir: Some(PathBuf::from("/srv/wire/in/rejected")),
            ..cfg
        };
        assert!(cfg.rejected_dir_problem().is_none());
    }
}
