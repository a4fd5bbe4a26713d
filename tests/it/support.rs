//! Helpers shared by the end-to-end tests: run the real binary, read its NDJSON output,
//! wait on events with a timeout (never a fixed sleep).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The daemon under test: this build's, or the one `SITREP_BIN` names (the benchmark
/// scripts run a test against the release build that way).
pub fn bin() -> PathBuf {
    std::env::var_os("SITREP_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_sitrep")),
        PathBuf::from,
    )
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies fixture files into `dir` under the given names (keeping their text).
pub fn copy_fixture(rel: &str, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(fixtures().join(rel), &to).expect("copy fixture");
    to
}

/// Writes a file the way careful writers do: into a temporary name, then renamed into place.
pub fn drop_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).expect("write temp");
    let to = dir.join(name);
    std::fs::rename(&tmp, &to).expect("rename into place");
    to
}

/// `sitrep ingest PATHS... --state FILE`: the events and the snapshot.
/// Fails the test with the command's standard error when it did not succeed.
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn ingest(paths: &[&Path]) -> (Vec<Value>, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let out = Command::new(bin())
        .current_dir(dir.path())
        .arg("ingest")
        .args(paths)
        .arg("--state")
        .arg(&state)
        .output()
        .expect("run sitrep ingest");
    assert_ok(&out);
    let events = parse_lines(&out.stdout);
    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(&state).expect("state file")).expect("state json");
    (events, snapshot)
}

pub fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line {l:?}: {e}")))
        .collect()
}

/// The sequence numbers (`id`) of events, in order.
pub fn event_ids(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0))
        .collect()
}

/// `(type, file)` of every `report.*` event, in order.
pub fn report_outcomes(events: &[Value]) -> Vec<(&str, &str)> {
    events
        .iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("report.")))
        .map(|e| {
            (
                e["type"].as_str().unwrap_or(""),
                e["data"]["file"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

pub fn of_type<'a>(events: &'a [Value], ty: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == ty).collect()
}

/// The development whose id starts with `prefix`.
pub fn development<'a>(snapshot: &'a Value, prefix: &str) -> &'a Value {
    snapshot["developments"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["id"].as_str().is_some_and(|id| id.starts_with(prefix)))
        })
        .unwrap_or_else(|| panic!("no development {prefix} in {:#}", snapshot["developments"]))
}

/// The entity that has `alias` among its aliases.
pub fn entity_with_alias<'a>(snapshot: &'a Value, alias: &str) -> &'a Value {
    snapshot["entities"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["aliases"].get(alias).is_some()))
        .unwrap_or_else(|| panic!("no entity with alias {alias}"))
}

/// A running daemon on temporary folders.
pub struct Daemon {
    child: Child,
    events: Receiver<Value>,
    ready: Receiver<String>,
    /// Every event received so far, in order.
    pub seen: Vec<Value>,
    /// The log lines up to and including `Ready.`.
    pub startup_log: Vec<String>,
    pub watch: PathBuf,
    pub data: PathBuf,
    config_text: String,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `sitrep run` with a settle time and rescan interval suited to tests.
    pub fn start(settle_ms: u64) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = dir.path().join("watch");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&watch).expect("watch dir");
        Self::start_in(dir, watch, data, settle_ms)
    }

    /// Starts on an existing watch folder (files already in it are processed first).
    pub fn start_in(
        dir: tempfile::TempDir,
        watch: PathBuf,
        data: PathBuf,
        settle_ms: u64,
    ) -> Daemon {
        let config = format!("[source]\nsettle_ms = {settle_ms}\nrescan_secs = 60\n");
        Self::start_with(dir, watch, data, &config)
    }

    /// Starts on fresh folders with lines for the `[source]` table of the settings (a
    /// `rescan_secs` among them replaces the default of one a minute).
    pub fn start_with_source(settle_ms: u64, source_lines: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = dir.path().join("watch");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&watch).expect("watch dir");
        let rescan = if source_lines.contains("rescan_secs") {
            ""
        } else {
            "rescan_secs = 60\n"
        };
        let config = format!("[source]\nsettle_ms = {settle_ms}\n{rescan}{source_lines}\n");
        Self::start_with(dir, watch, data, &config)
    }

    /// Starts with the given `sitrep.toml` text.
    pub fn start_with(
        dir: tempfile::TempDir,
        watch: PathBuf,
        data: PathBuf,
        config_text: &str,
    ) -> Daemon {
        let config = dir.path().join("sitrep.toml");
        // Tests run side by side: each daemon gets a free port.
        let config_text = if config_text.contains("[api]") {
            config_text.to_string()
        } else {
            format!("{config_text}\n[api]\nlisten = \"127.0.0.1:0\"\n")
        };
        std::fs::write(&config, &config_text).expect("config");
        let mut child = Command::new(bin())
            .current_dir(dir.path())
            .env("SITREP_LOG", "sitrep=debug")
            .arg("--config")
            .arg(&config)
            .arg("run")
            .arg("--watch-dir")
            .arg(&watch)
            .arg("--data-dir")
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sitrep run");
        let (tx, events) = channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let (ltx, ready) = channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[daemon] {line}");
                let _ = ltx.send(line);
            }
        });
        let mut d = Daemon {
            child,
            events,
            ready,
            seen: Vec::new(),
            startup_log: Vec::new(),
            watch,
            data,
            config_text: config_text.to_string(),
            _dir: dir,
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = d
                .ready
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no Ready. within {TIMEOUT:?}: {:#?}", d.startup_log));
            let done = line.contains("Ready.");
            d.startup_log.push(line);
            if done {
                break d;
            }
        }
    }

    /// Stops the daemon (SIGTERM, or SIGKILL when `crash`) and starts a new one on the same
    /// folders and settings. Returns the new daemon and the old one's unread events.
    pub fn restart(mut self, crash: bool) -> (Daemon, Vec<Value>) {
        let seen = if crash {
            let _ = self.child.kill();
            let _ = self.child.wait();
            std::mem::take(&mut self.seen)
        } else {
            let (status, seen) = self.stop();
            assert!(status.success(), "exit status {status:?}");
            seen
        };
        (self.start_again(), seen)
    }

    /// Starts a new daemon on the same folders and settings, once this one has stopped
    /// ([`Daemon::stop`]): for what happens while no daemon runs.
    pub fn start_again(mut self) -> Daemon {
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("tempdir"));
        let (watch, data, config) = (
            self.watch.clone(),
            self.data.clone(),
            self.config_text.clone(),
        );
        drop(self);
        Daemon::start_with(dir, watch, data, &config)
    }

    /// The API's base URL (`http://127.0.0.1:PORT`), from the address file.
    pub fn url(&self) -> String {
        let addr = std::fs::read_to_string(self.data.join("listen.addr")).expect("listen.addr");
        format!("http://{}", addr.trim())
    }

    /// The events file of the data folder, parsed.
    pub fn events_file(&self) -> Vec<Value> {
        parse_lines(&std::fs::read(self.data.join("events.ndjson")).unwrap_or_default())
    }

    /// The temporary folder that holds `watch` and `data` (for files made elsewhere first).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Waits for a log line containing `needle`.
    pub fn wait_log(&self, needle: &str) -> String {
        self.wait_log_all(&[needle])
    }

    /// Waits for a log line containing every one of `needles`.
    pub fn wait_log_all(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.ready.recv_timeout(left) {
                Ok(line) if needles.iter().all(|n| line.contains(n)) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needles:?} within {TIMEOUT:?}"),
            }
        }
    }

    /// Takes the events that have arrived so far, without waiting.
    pub fn poll(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e);
        }
    }

    /// Waits until `n` events satisfy `pred`; fails only when no event at all arrives for
    /// [`TIMEOUT`], so that a long burst may take as long as it keeps making progress.
    pub fn wait_count(&mut self, what: &str, n: usize, pred: impl Fn(&Value) -> bool) {
        let mut count = self.seen.iter().filter(|e| pred(e)).count();
        while count < n {
            match self.events.recv_timeout(TIMEOUT) {
                Ok(e) => {
                    count += usize::from(pred(&e));
                    self.seen.push(e);
                }
                Err(_) => panic!("{count} of {n} {what} after {TIMEOUT:?} without an event"),
            }
        }
    }

    /// The `report.*` events about `file` received so far.
    pub fn report_events(&self, file: &str) -> Vec<&Value> {
        self.seen
            .iter()
            .filter(|e| {
                e["type"].as_str().is_some_and(|t| t.starts_with("report."))
                    && e["data"]["file"] == file
            })
            .collect()
    }

    /// Forgets the log lines received so far, so that `wait_log` sees only later ones.
    pub fn skip_logs(&self) {
        while self.ready.try_recv().is_ok() {}
    }

    /// Waits for the first event (after those already consumed) that satisfies `pred`.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(e) = self.seen.iter().find(|e| pred(e)) {
            return e.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out waiting for {what}; saw {:#?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("daemon exited while waiting for {what}")
                }
            }
        }
    }

    /// Waits for an event of `ty` about file `file`.
    pub fn wait_file(&mut self, ty: &str, file: &str) -> Value {
        self.wait_for(&format!("{ty} for {file}"), |e| {
            e["type"] == ty && e["data"]["file"] == file
        })
    }

    /// SIGTERM, then wait for a clean exit; returns the exit status and the remaining events.
    pub fn stop(&mut self) -> (ExitStatus, Vec<Value>) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(e) = self.events.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(e);
        }
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
