//! Fan-out and latency of the event API, end to end, on the real daemon binary.
//!
//! * **Fan-out**: N SSE subscribers (1, 100, 1,000) connect to `sitrep run`; a burst of
//!   reports that name many people each (so each report makes dozens of events) is dropped
//!   into the watch folder. Reported: events per second delivered, summed over all
//!   subscribers, from the first event any subscriber receives to the last event the last
//!   subscriber receives; and whether every subscriber got every event.
//! * **Latency**: 100 reports renamed into the watch folder one at a time, 0.25 s apart
//!   (with 100 subscribers connected); the time from the rename to the report's outcome
//!   event (`report.accepted`/`duplicate`/`rejected`) arriving at a subscriber. Set
//!   `SITREP_LATENCY_CORPUS` to a folder of real reports to use its first 100 files, the
//!   same ones the peer's `latency_probe.py` is given.
//!
//! Run with `cargo bench --bench fanout` (release build of the daemon; raise `ulimit -n`
//! for 1,000 subscribers: each is a socket on both sides). Reports are written by this
//! program; no corpus is needed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use tokio::sync::Mutex;

const FIRST: [&str; 10] = [
    "Arvid", "Belen", "Corin", "Dagny", "Ewald", "Fenna", "Gorm", "Hilde", "Ivar", "Jorun",
];

/// A report naming `names` people never seen before: one `entity.discovered` each.
fn crowded(tag: &str, r: usize, names: usize) -> String {
    let body: Vec<String> = (0..names)
        .map(|k| {
            let i = r * names + k;
            format!(
                "{} Vantor{tag}{i:06} attended the meeting.",
                FIRST[i % FIRST.len()]
            )
        })
        .collect();
    format!(
        "source: Tallis Wire\ndate: 2031-05-02\n\nCouncil meets in Ostravel\n\n{}\n",
        body.join(" ")
    )
}

fn drop_into(watch: &Path, name: &str, text: &str) {
    let tmp = watch.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, watch.join(name)).expect("rename");
}

struct Daemon {
    child: Child,
    url: String,
    watch: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = dir.path().join("watch");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&watch).expect("watch");
        let config = dir.path().join("sitrep.toml");
        std::fs::write(
            &config,
            "[source]\nsettle_ms = 50\n[api]\nlisten = \"127.0.0.1:0\"\nsubscriber_buffer = 65536\n",
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .arg("--config")
            .arg(&config)
            .args(["run", "--quiet", "--watch-dir"])
            .arg(&watch)
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sitrep");
        let addr_file = data.join("listen.addr");
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(a) = std::fs::read_to_string(&addr_file) {
                if !a.trim().is_empty() {
                    break a.trim().to_string();
                }
            }
            assert!(Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Daemon {
            child,
            url: format!("http://{addr}"),
            watch,
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Stream = std::pin::Pin<Box<dyn futures_util::Stream<Item = eventsource_stream::Event> + Send>>;

async fn connect(client: &reqwest::Client, url: &str) -> Stream {
    let resp = client
        .get(format!("{url}/events"))
        .send()
        .await
        .expect("connect");
    assert!(resp.status().is_success());
    Box::pin(
        resp.bytes_stream()
            .eventsource()
            .filter_map(|e| async { e.ok() }),
    )
}

async fn fanout(subscribers: usize, reports: usize, names: usize) {
    let mut d = Daemon::start();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let mut observer = connect(&client, &d.url).await;
    let mut streams = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        streams.push(connect(&client, &d.url).await);
    }
    let first_seen: Arc<Mutex<Option<Instant>>> = Arc::default();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            let first_seen = first_seen.clone();
            tokio::spawn(async move {
                let mut n = 0usize;
                let mut last = None;
                // Until the daemon's shutdown ends the stream.
                while let Ok(Some(_)) =
                    tokio::time::timeout(Duration::from_secs(120), s.next()).await
                {
                    let now = Instant::now();
                    if n == 0 {
                        first_seen.lock().await.get_or_insert(now);
                    }
                    n += 1;
                    last = Some(now);
                }
                (n, last)
            })
        })
        .collect();
    let final_name = format!("f{:05}.txt", reports - 1);
    for r in 0..reports {
        drop_into(&d.watch, &format!("f{r:05}.txt"), &crowded("F", r, names));
    }
    // Once the last report is in, every event is published: stop the daemon, which ends
    // every stream after its last event.
    while let Some(e) = observer.next().await {
        let v: serde_json::Value = serde_json::from_str(&e.data).expect("json");
        if v["type"] == "report.accepted" && v["data"]["file"] == final_name.as_str() {
            break;
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &d.child.id().to_string()])
        .status();
    let _ = d.child.wait();
    let mut counts = Vec::new();
    let mut end = None;
    for t in tasks {
        let (n, last) = t.await.expect("task");
        counts.push(n);
        end = end.max(last);
    }
    let events = counts.iter().copied().max().unwrap_or(0);
    let complete = counts.iter().filter(|&&n| n == events).count();
    let start = first_seen.lock().await.unwrap_or_else(Instant::now);
    let secs = end
        .map_or(0.0, |e: Instant| e.duration_since(start).as_secs_f64())
        .max(1e-9);
    println!(
        "fanout  subscribers={subscribers:>5}  events={events}  delivered/s={:>12.0}  per-subscriber events/s={:>10.0}  complete={complete}/{subscribers}  span={secs:.2}s",
        (events * subscribers) as f64 / secs,
        events as f64 / secs,
    );
}

/// The latency inputs: the first `n` `*.txt` files of `SITREP_LATENCY_CORPUS` (real
/// news, to compare with the peer's `latency_probe.py` on the same files), else reports of
/// our own.
fn latency_inputs(n: usize) -> Vec<(String, String)> {
    if let Ok(dir) = std::env::var("SITREP_LATENCY_CORPUS") {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("SITREP_LATENCY_CORPUS")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        return files
            .into_iter()
            .take(n)
            .filter_map(|p| {
                let text = String::from_utf8_lossy(&std::fs::read(&p).ok()?).into_owned();
                Some((p.file_name()?.to_string_lossy().into_owned(), text))
            })
            .collect();
    }
    (0..n)
        .map(|r| (format!("l{r:05}.txt"), crowded("L", r, 3)))
        .collect()
}

async fn latency(subscribers: usize, reports: usize, interval: Duration) {
    let d = Daemon::start();
    let client = reqwest::Client::new();
    let mut streams = Vec::new();
    for _ in 0..subscribers {
        streams.push(connect(&client, &d.url).await);
    }
    // Only the first subscriber is timed; the others are drained so they do not lag.
    let mut timed = streams.remove(0);
    for mut s in streams {
        tokio::spawn(async move { while s.next().await.is_some() {} });
    }
    let inputs = latency_inputs(reports);
    let mut samples = Vec::with_capacity(inputs.len());
    for (name, text) in &inputs {
        let t0 = Instant::now();
        drop_into(&d.watch, name, text);
        loop {
            let e = tokio::time::timeout(Duration::from_secs(30), timed.next())
                .await
                .expect("event within 30 s")
                .expect("stream open");
            let v: serde_json::Value = serde_json::from_str(&e.data).expect("json");
            let outcome = matches!(
                v["type"].as_str(),
                Some("report.accepted" | "report.duplicate" | "report.rejected")
            );
            if outcome && v["data"]["file"] == name.as_str() {
                samples.push(t0.elapsed());
                break;
            }
        }
        tokio::time::sleep(interval).await;
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "latency subscribers={subscribers:>5}  reports={}  interval={interval:?}  p50={:.2?}  p90={:.2?}  p99={:.2?}  max={:.2?}",
        samples.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        samples[samples.len() - 1]
    );
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for subscribers in [1, 100, 1000] {
            fanout(subscribers, 100, 40).await;
        }
        latency(100, 100, Duration::from_millis(250)).await;
    });
}
