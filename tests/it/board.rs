//! The situation board in a real headless Chromium, driven through chromedriver, against the
//! real daemon: live updates within a second of each event, resumption after a restart,
//! filters, keyboard navigation, the token, the map, and the first view with a thousand
//! developments. Screenshots for the docs come from the same setup
//! (`scripts/board-screenshots.sh`).
//!
//! Skipped, with a message, when Chromium or chromedriver is absent, unless
//! `SITREP_REQUIRE_BROWSER` is set (CI sets it, after `scripts/install-browser.sh`).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::{drop_file, Daemon, TIMEOUT};

/// How soon the board must show a change after the daemon published it.
const LIVE: Duration = Duration::from_secs(1);

/// One Chromium at a time: the tests that drive it measure how fast the page follows.
static BROWSER: Mutex<()> = Mutex::new(());

struct Paths {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// The browser, or `None` (with a message) when it is absent and not required.
fn browser_paths() -> Option<Paths> {
    let chromium =
        PathBuf::from(std::env::var_os("SITREP_CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    let chromedriver = PathBuf::from(
        std::env::var_os("SITREP_CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into()),
    );
    if chromium.is_file() && chromedriver.is_file() {
        return Some(Paths {
            chromium,
            chromedriver,
        });
    }
    let msg = format!(
        "{} or {} is missing (scripts/install-browser.sh installs them)",
        chromium.display(),
        chromedriver.display()
    );
    assert!(
        std::env::var_os("SITREP_REQUIRE_BROWSER").is_none(),
        "SITREP_REQUIRE_BROWSER is set but {msg}"
    );
    eprintln!("skipping the browser test: {msg}");
    None
}

fn seeds() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: {} is absent", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = rd.map(|e| e.expect("dir entry").path()).collect();
    files.sort();
    Some(files)
}

/// A port free a moment ago, for a daemon that must come back on the same one.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A daemon on `port` (0: any free one); a fixed port puts a restarted daemon where the
/// page left it.
fn start_daemon(dir: tempfile::TempDir, port: u16, extra_api: &str) -> Daemon {
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).expect("watch dir");
    let config = format!(
        "[source]\nsettle_ms = 100\nrescan_secs = 60\n[api]\nlisten = \"127.0.0.1:{port}\"\n{extra_api}"
    );
    Daemon::start_with(dir, watch, data, &config)
}

/// chromedriver and one browser session in a fresh profile.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(p: &Paths) -> Browser {
        let mut driver = Command::new(&p.chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // chromedriver says on which port it listens once it does.
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').trim().parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("chromedriver did not start within {TIMEOUT:?}"));
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": p.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}"));
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(30)),
                None,
            ))
            .await
            .expect("timeouts");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `body` (JavaScript returning a value) in the page.
    async fn js(&self, body: &str) -> Value {
        self.client
            .execute(body, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Waits in the page until `cond` (a JavaScript expression) is truthy, up to `within`;
    /// returns how long it took, or `None` when it never held.
    async fn wait(&self, cond: &str, within: Duration) -> Option<Duration> {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const limit = arguments[0];
             const t0 = performance.now();
             const check = () => {{ try {{ return !!({cond}); }} catch (e) {{ return false; }} }};
             (function poll() {{
               if (check()) return done(performance.now() - t0);
               if (performance.now() - t0 > limit) return done(null);
               setTimeout(poll, 5);
             }})();"
        );
        let ms = within.as_secs_f64() * 1000.0;
        let v = self
            .client
            .execute_async(&script, vec![json!(ms)])
            .await
            .unwrap_or_else(|e| panic!("wait script failed: {e}\n{cond}"));
        v.as_f64().map(|ms| Duration::from_secs_f64(ms / 1000.0))
    }

    async fn must(&self, what: &str, cond: &str, within: Duration) -> Duration {
        match self.wait(cond, within).await {
            Some(d) => d,
            None => {
                let body = self.js("return document.body.innerText").await;
                panic!(
                    "the board did not show {what} within {within:?}\ncondition: {cond}\npage:\n{}",
                    body.as_str().unwrap_or("")
                )
            }
        }
    }

    /// Types as a person does: the keys go to whatever has focus. (WebDriver's element
    /// send-keys refuses what it deems not interactable, which a focused link inside the
    /// map's SVG may be, depending on layout timing.)
    async fn key(&self, k: &str) {
        let mut keys = KeyActions::new("keyboard".to_string());
        for c in k.chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(keys).await.expect("send keys");
    }

    async fn close(self) {
        let Browser {
            client, mut driver, ..
        } = self;
        let _ = client.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
    }
}

/// A JavaScript string literal.
fn js_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// A sentence as the page shows it: whitespace runs as one space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A condition: the list row of development `id` has `status` and, when given, this
/// evidence sentence.
fn row_shows(id: &str, status: &str, sentence: Option<&str>) -> String {
    let mut c = format!(
        "(() => {{ const li = document.getElementById('row-' + {id});
           if (!li || li.dataset.status !== {status}) return false;",
        id = js_str(id),
        status = js_str(status)
    );
    if let Some(s) = sentence {
        c.push_str(&format!(
            " const q = li.querySelector('.evidence');
              if (!q || q.textContent.replace(/\\s+/g, ' ').trim() !== {}) return false;",
            js_str(&squash(s))
        ));
    }
    c.push_str(" return true; })()");
    c
}

/// A condition: the page shows `sentence` as evidence somewhere.
fn page_has_evidence(sentence: &str) -> String {
    format!(
        "[...document.querySelectorAll('#main .evidence')].some(q => q.textContent.replace(/\\s+/g, ' ').trim() === {})",
        js_str(&squash(sentence))
    )
}

/// Copies a seed into the watch folder the careful way, keeping its modification time (the
/// seeds have no date header; their dates come from it).
fn drop_seed(from: &Path, watch: &Path) -> String {
    let name = from
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let to = drop_file(
        watch,
        &format!(".{name}.part"),
        &std::fs::read(from).expect("seed"),
    );
    let mtime = std::fs::metadata(from)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::File::options()
        .write(true)
        .open(&to)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");
    std::fs::rename(&to, watch.join(&name)).expect("rename into place");
    name
}

/// The events a report brought: its `report.accepted` and everything published with it
/// (up to the hub's last sequence number once the acceptance is seen).
fn report_batch(d: &mut Daemon, rt: &tokio::runtime::Runtime, file: &str) -> Vec<Value> {
    let accepted = d.wait_file("report.accepted", file);
    let first: u64 = accepted["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let url = d.url();
    let ready: Value = rt.block_on(async {
        reqwest::get(format!("{url}/readyz"))
            .await
            .expect("readyz")
            .json()
            .await
            .expect("readyz json")
    });
    let last = ready["seq"].as_u64().expect("seq");
    let seq = |e: &Value| {
        e["id"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    d.wait_for(&format!("event {last}"), |e| seq(e) >= last);
    d.seen
        .iter()
        .filter(|e| (first..=last).contains(&seq(e)))
        .cloned()
        .collect()
}

fn is_dev_event(e: &Value) -> bool {
    matches!(
        e["type"].as_str(),
        Some("development.detected" | "development.status_changed")
    )
}

/// The development a status event leaves, and the evidence for it.
fn status_of(e: &Value) -> (&str, &str, &str) {
    let status = if e["type"] == "development.detected" {
        &e["data"]["status"]
    } else {
        &e["data"]["to"]
    };
    (
        e["subject"].as_str().unwrap_or(""),
        status.as_str().unwrap_or(""),
        e["data"]["evidence"]["sentence"].as_str().unwrap_or(""),
    )
}

/// The snapshot's development of `kind` whose roles name an entity with one of `names`
/// (by name or alias, case-insensitive) in `role`.
fn find_dev<'a>(snap: &'a Value, kind: &str, role: &str, names: &[&str]) -> Option<&'a Value> {
    let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let named = |id: &str| {
        snap["entities"].as_array().into_iter().flatten().any(|e| {
            e["id"] == id
                && std::iter::once(e["name"].as_str().unwrap_or(""))
                    .chain(
                        e["aliases"]
                            .as_object()
                            .into_iter()
                            .flat_map(|a| a.keys().map(String::as_str)),
                    )
                    .any(|n| names.iter().any(|w| n.to_lowercase().contains(w)))
        })
    };
    snap["developments"].as_array()?.iter().find(|d| {
        d["kind"] == kind
            && match &d["roles"][role] {
                Value::String(id) => named(id),
                Value::Array(ids) => {
                    let hits = ids
                        .iter()
                        .filter(|id| id.as_str().is_some_and(named))
                        .count();
                    hits >= names.len()
                }
                _ => false,
            }
    })
}

async fn fetch_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

fn get_json_with(rt: &tokio::runtime::Runtime, url: &str, token: &str) -> Value {
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    })
}

fn get_json(rt: &tokio::runtime::Runtime, url: &str) -> Value {
    rt.block_on(fetch_json(url))
}

/// Checks, within `budget` of `seen_at`, that the board shows every development `batch`
/// touched as the API has it now: its status and claim count on its row and, for a status
/// event, the event's evidence sentence.
fn check_batch(
    b: &Browser,
    rt: &tokio::runtime::Runtime,
    url: &str,
    batch: &[Value],
    seen_at: Instant,
    budget: Duration,
) -> Duration {
    let mut subjects: Vec<&str> = Vec::new();
    for e in batch {
        let t = e["type"].as_str().unwrap_or("");
        let s = e["subject"].as_str().unwrap_or("");
        if t.starts_with("development.") && !subjects.contains(&s) {
            subjects.push(s);
        }
    }
    let mut conds: Vec<(String, String)> = Vec::new();
    for id in subjects {
        let dev = get_json(rt, &format!("{url}/developments/{id}"))["development"].clone();
        let status = dev["status"].as_str().expect("status");
        let claims = dev["claims"].as_array().map_or(0, Vec::len);
        let sentence = batch
            .iter()
            .rfind(|e| is_dev_event(e) && e["subject"] == id)
            .map(|e| status_of(e).2);
        conds.push((
            format!("{id}: {status}, {claims} claims"),
            format!(
                "{} && document.getElementById('row-' + {}).dataset.claims === '{claims}'",
                row_shows(id, status, sentence),
                js_str(id),
            ),
        ));
    }
    let last_id = batch.last().and_then(|e| e["id"].as_str()).unwrap_or("0");
    conds.push((
        format!("event {last_id}"),
        format!(
            "document.getElementById('seq').dataset.seq === {}",
            js_str(last_id)
        ),
    ));
    let all = conds
        .iter()
        .map(|(_, c)| format!("({c})"))
        .collect::<Vec<_>>()
        .join(" && ");
    let left = budget.saturating_sub(seen_at.elapsed());
    if rt.block_on(b.wait(&all, left)).is_none() {
        for (what, cond) in &conds {
            rt.block_on(b.must(what, cond, Duration::ZERO));
        }
        panic!("the board did not show the batch within {budget:?}");
    }
    seen_at.elapsed()
}

#[test]
fn the_board_follows_the_seed_story_live_and_resumes_after_a_restart() {
    let Some(seeds) = seeds() else { return };
    let Some(paths) = browser_paths() else { return };
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let rt = runtime();
    let port = free_port();
    let mut d = start_daemon(tempfile::tempdir().expect("tempdir"), port, "");
    let url = d.url();
    let b = rt.block_on(Browser::start(&paths));
    rt.block_on(async {
        b.client
            .goto(&format!("{url}/"))
            .await
            .expect("open the board");
        b.must(
            "the live state",
            "document.documentElement.dataset.conn === 'live'",
            TIMEOUT,
        )
        .await;
    });

    // The first three reports live, one at a time: every development they touch shown as
    // the daemon has it within a second, with the evidence of each status event.
    let mut slowest = Duration::ZERO;
    for seed in &seeds[..3] {
        let name = drop_seed(seed, &d.watch);
        let batch = report_batch(&mut d, &rt, &name);
        let seen_at = Instant::now();
        slowest = slowest.max(check_batch(&b, &rt, &url, &batch, seen_at, LIVE));
    }
    eprintln!("board: slowest update after a report {slowest:?}");

    // The story as the daemon has it: the Qamishli withdrawal completed after being
    // underway, the meeting of al-Sharaa and Putin held.
    let snap = get_json(&rt, &format!("{url}/situation"));
    let withdrawal = find_dev(&snap, "withdrawal", "location", &["qamishli"])
        .unwrap_or_else(|| panic!("no Qamishli withdrawal in {:#}", snap["developments"]));
    let meeting = find_dev(&snap, "meeting", "participants", &["putin", "sharaa"])
        .unwrap_or_else(|| panic!("no al-Sharaa/Putin meeting in {:#}", snap["developments"]));
    assert_eq!(withdrawal["status"], "completed");
    assert_eq!(meeting["status"], "completed");
    let wid = withdrawal["id"].as_str().expect("id").to_string();
    let mid = meeting["id"].as_str().expect("id").to_string();
    let mut seen: Vec<Value> = d.seen.clone();
    let history = |seen: &[Value], id: &str| -> Vec<(String, String)> {
        seen.iter()
            .filter(|e| is_dev_event(e) && e["subject"] == id)
            .map(|e| {
                let (_, s, sentence) = status_of(e);
                (s.to_string(), sentence.to_string())
            })
            .collect()
    };
    let w_history = history(&seen, &wid);
    assert_eq!(
        w_history
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>(),
        ["underway", "completed"],
        "the withdrawal's status events"
    );
    let m_history = history(&seen, &mid);
    assert_eq!(m_history.last().map(|(s, _)| s.as_str()), Some("completed"));

    let on_row = |id: &str| {
        format!(
            "document.activeElement.closest && document.activeElement.closest('li.dev') && document.activeElement.closest('li.dev').dataset.id === {}",
            js_str(id)
        )
    };
    rt.block_on(async {
        // Both in the completed group of the list, named by their places and people.
        for (id, words) in [(&wid, vec!["Qamishli"]), (&mid, vec!["Putin", "Sharaa"])] {
            let cond = format!(
                "(() => {{ const li = document.getElementById('row-' + {});
                   return li && li.closest('.group').dataset.status === 'completed'
                     && {}.every(w => li.querySelector('.title').textContent.includes(w)); }})()",
                js_str(id),
                json!(words)
            );
            b.must(&format!("{id} among the completed"), &cond, LIVE).await;
        }

        // Keyboard only: down the list to the withdrawal, open it, read its history.
        b.js("document.activeElement.blur(); window.scrollTo(0, 0); return true").await;
        let mut found = false;
        for _ in 0..30 {
            b.key("j").await;
            if b.wait(&on_row(&wid), Duration::from_millis(50)).await.is_some() {
                found = true;
                break;
            }
        }
        assert!(found, "j never reached the withdrawal's row");
        b.key(&Key::Enter.to_string()).await;
        b.must(
            "the withdrawal's page",
            &format!("document.querySelector('article.development') && document.querySelector('article.development').dataset.id === {}", js_str(&wid)),
            TIMEOUT,
        )
        .await;
        let steps = b
            .js("return [...document.querySelectorAll('ol.timeline li.step')].map(li => [li.dataset.to, li.querySelector('.evidence').textContent.replace(/\\s+/g, ' ').trim(), !!li.querySelector('.evidence mark.cue')])")
            .await;
        let steps: Vec<(String, String, bool)> =
            serde_json::from_value(steps).expect("timeline steps");
        // The history as the daemon keeps it (claims weighed in publication order, so a
        // step's claim can be an earlier-published report that arrived later).
        let record = fetch_json(&format!("{url}/developments/{wid}")).await["development"].clone();
        let expected: Vec<(String, String)> = record["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|t| {
                let c = &record["claims"][t["claim"].as_u64().expect("claim") as usize];
                (
                    t["to"].as_str().expect("to").to_string(),
                    squash(c["evidence"].as_str().expect("evidence")),
                )
            })
            .collect();
        assert_eq!(
            steps
                .iter()
                .map(|(to, s, _)| (to.clone(), s.clone()))
                .collect::<Vec<_>>(),
            expected,
            "the timeline: each step with the sentence that made it"
        );
        assert_eq!(
            expected.last().map(|(_, s)| s.clone()),
            w_history.last().map(|(_, s)| squash(s)),
            "the completing sentence is the status event's"
        );
        assert!(steps.iter().all(|s| s.2), "every step has its cue marked: {steps:?}");
        // Escape goes back to the list, to the row that was opened; mark this page load.
        b.key(&Key::Escape.to_string()).await;
        b.must("the list again, on the withdrawal", &on_row(&wid), TIMEOUT)
            .await;
        b.js("window.sitrepTestLoad = 'before-restart'; return true").await;
    });

    // Stop the daemon; a report arrives while it is down; it starts again on the same port.
    let (status, rest) = d.stop();
    assert!(status.success());
    seen = rest;
    rt.block_on(b.must(
        "the lost connection",
        "document.documentElement.dataset.conn === 'reconnecting'",
        TIMEOUT,
    ));
    let while_down = drop_seed(&seeds[3], &d.watch);
    let mut d = d.start_again();
    assert_eq!(
        d.url(),
        url,
        "the restarted daemon listens where the page looks"
    );
    let batch = report_batch(&mut d, &rt, &while_down);
    rt.block_on(b.must(
        "live again",
        "document.documentElement.dataset.conn === 'live'",
        TIMEOUT,
    ));
    // Resumed, not reloaded: the same page, with the events it missed, each once.
    check_batch(&b, &rt, &url, &batch, Instant::now(), TIMEOUT);
    let state = rt.block_on(
        b.js("return [window.sitrepTestLoad, document.documentElement.dataset.connects]"),
    );
    assert_eq!(state, json!(["before-restart", "2"]));

    // And live after the restart: the last report within a second.
    let name = drop_seed(&seeds[4], &d.watch);
    let batch = report_batch(&mut d, &rt, &name);
    let took = check_batch(&b, &rt, &url, &batch, Instant::now(), LIVE);
    eprintln!("board: update after the restart {took:?}");
    seen.extend(d.seen.iter().cloned());

    // The meeting's page: every claim the events brought, with its sentence.
    rt.block_on(async {
        b.client
            .goto(&format!("{url}/{}", format_args!("#/d/{mid}")))
            .await
            .expect("open the meeting");
        b.must(
            "the meeting's page",
            &format!("document.querySelector('article.development') && document.querySelector('article.development').dataset.id === {}", js_str(&mid)),
            TIMEOUT,
        )
        .await;
        for e in seen.iter().filter(|e| {
            e["subject"] == mid.as_str()
                && e["type"].as_str().is_some_and(|t| t.starts_with("development."))
        }) {
            let sentence = e["data"]["evidence"]["sentence"].as_str().expect("evidence");
            b.must(
                &format!("the evidence of event {}", e["id"]),
                &page_has_evidence(sentence),
                LIVE,
            )
            .await;
        }
    });
    rt.block_on(b.close());
}

/// A report of our own that names a real town, so that the map has something to place.
const MOSUL: &str = "source: Board Test Wire\ndate: 2031-04-06\n\nTroops leave Mosul airport\n\nGovernment troops began withdrawing from Mosul airport on Monday, a spokesman for the garrison said.\n";

#[test]
fn the_board_asks_for_the_token_filters_and_is_driven_by_keyboard() {
    let Some(paths) = browser_paths() else { return };
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let fixtures = crate::support::fixtures();
    let mut reports: Vec<PathBuf> = [
        "progression/01_tallis-kestria-to-withdraw.txt",
        "progression/02_tallis-kestrian-pullout-begins.txt",
        "progression/03_moor-gazette-withdrawal-complete.txt",
        "reversal/01_sws-evacuation-begins.txt",
        "reversal/02_sws-evacuation-suspended.txt",
        "aliases/01_keldar-courier.txt",
        "aliases/02_amber-times.txt",
    ]
    .iter()
    .map(|r| fixtures.join(r))
    .collect();
    let extra = tempfile::tempdir().expect("tempdir");
    let mosul = extra.path().join("mosul.txt");
    std::fs::write(&mosul, MOSUL).expect("write report");
    reports.push(mosul);
    let token = "board-test-secret";
    let port = free_port();
    let mut d = daemon_on(&reports, port, &format!("token = \"{token}\"\n"));
    let url = d.url();
    let rt = runtime();
    let b = rt.block_on(Browser::start(&paths));
    let total = get_json_with(&rt, &format!("{url}/developments"), token)["developments"]
        .as_array()
        .map_or(0, Vec::len) as u64;
    assert!(total >= 4, "the fixtures make developments: {total}");
    rt.block_on(async {
        // Without the token the page asks for it, and shows why it is not live.
        b.client.goto(&format!("{url}/")).await.expect("board");
        b.must(
            "the token form",
            "!document.getElementById('token-form').hidden && document.documentElement.dataset.conn === 'auth' && document.activeElement === document.getElementById('token-input')",
            TIMEOUT,
        )
        .await;
        b.key(&format!("{token}{}", Key::Enter)).await;
        b.must("live with the token", "document.documentElement.dataset.conn === 'live'", TIMEOUT)
            .await;
        let listed = b.js("return document.querySelectorAll('#main li.dev').length").await;
        assert_eq!(listed, json!(total), "every development listed");

        // Filters: words, kind, status, entity.
        let search = b.client.find(Locator::Css("#f-text")).await.expect("search");
        search.send_keys("varnholt").await.expect("type");
        b.must(
            "only the Varnholt withdrawal",
            "[...document.querySelectorAll('#main li.dev')].filter(li => !li.closest('section').hidden).map(li => li.dataset.kind).join() === 'withdrawal'",
            LIVE,
        )
        .await;
        b.must(
            "the count of what is shown",
            &format!("document.getElementById('f-count').textContent === '1 of {total} developments'"),
            LIVE,
        )
        .await;
        search.clear().await.expect("clear");
        search.send_keys(" ").await.expect("type");
        b.client
            .find(Locator::Css("#f-kind"))
            .await
            .expect("kind")
            .select_by_value("evacuation")
            .await
            .expect("select");
        b.must(
            "evacuations only",
            "(() => { const k = [...document.querySelectorAll('#main li.dev')].map(li => li.dataset.kind); return k.length > 0 && k.every(x => x === 'evacuation'); })()",
            LIVE,
        )
        .await;
        b.client
            .find(Locator::Css("#f-status"))
            .await
            .expect("status")
            .select_by_value("halted")
            .await
            .expect("select");
        b.must(
            "the halted evacuation",
            "(() => { const s = [...document.querySelectorAll('#main li.dev')].map(li => li.dataset.status); return s.length === 1 && s[0] === 'halted'; })()",
            LIVE,
        )
        .await;
        b.client
            .find(Locator::Css("#f-entity"))
            .await
            .expect("entity")
            .send_keys("Nowhere")
            .await
            .expect("type");
        b.must("nothing for an unknown entity", "document.querySelectorAll('#main li.dev').length === 0", LIVE)
            .await;
        // The filters live in the address: reloading keeps them (and the token, for the tab).
        b.client.refresh().await.expect("reload");
        b.must(
            "the filters after a reload",
            "document.getElementById('f-entity') && document.getElementById('f-entity').value === 'nowhere' && document.getElementById('f-kind').value === 'evacuation' && document.documentElement.dataset.conn === 'live'",
            TIMEOUT,
        )
        .await;

        // Keyboard: 2 for entities, / to search, down to the first match, Enter to open.
        b.js("document.activeElement.blur(); return true").await;
        b.key("2").await;
        b.must("the entities", "document.querySelector('table.entities')", TIMEOUT).await;
        b.key("/").await;
        b.must("the search field", "document.activeElement.id === 'e-text'", LIVE).await;
        b.key("port of keldar").await;
        b.must(
            "Port Keldar alone",
            "document.querySelectorAll('table.entities tbody tr').length === 1",
            LIVE,
        )
        .await;
        b.key(&Key::Down.to_string()).await;
        b.key(&Key::Enter.to_string()).await;
        b.must(
            "the entity's page: its aliases with counts and its reports",
            "(() => { const a = document.querySelector('article.entity'); if (!a) return false;
               const aliases = [...a.querySelectorAll('ul.aliases li')].map(li => li.textContent);
               return aliases.includes('port of Keldar ×2') && aliases.includes('Port Keldar ×2')
                 && a.textContent.includes('Reports (2)'); })()",
            TIMEOUT,
        )
        .await;

        // 3 for the map: the Mosul withdrawal placed at Mosul, a link to it on the map.
        b.key("3").await;
        b.must(
            "a mark at Mosul",
            "[...document.querySelectorAll('svg.map a.mark')].some(a => a.getAttribute('aria-label').includes('Mosul') && a.getAttribute('href').startsWith('#/d/withdrawal'))",
            TIMEOUT,
        )
        .await;
        b.key("j").await;
        b.must(
            "keyboard focus on a map mark or place",
            "document.activeElement && (document.activeElement.matches('a.mark') || document.activeElement.matches('a.row'))",
            LIVE,
        )
        .await;
        b.key("1").await;
        b.must("the list again", "document.getElementById('f-text')", LIVE).await;

        // A story, once the picture gives developments one: the page shows the others in
        // it. (Set here in the page's own model, as a snapshot or record would bring it.)
        b.js("const s = window.sitrepBoard.state; const ids = [...s.devs.keys()].sort();
              s.devs.get(ids[0]).story = 'story-test'; s.devs.get(ids[1]).story = 'story-test';
              window.sitrepBoard.changed(ids[1]);
              location.hash = '#/d/' + ids[0]; return true")
            .await;
        b.must(
            "the story section",
            "(() => { const st = document.querySelector('article.development section.story');
               const ids = [...window.sitrepBoard.state.devs.keys()].sort();
               return st && st.textContent.includes('story-test')
                 && [...st.querySelectorAll('a')].some(a => a.getAttribute('href').endsWith(ids[1].split('/').map(encodeURIComponent).join('/'))); })()",
            LIVE,
        )
        .await;
        b.js("location.hash = '#/'; return true").await;
    });

    // Live with the token: the stream carries it too.
    let name = drop_seed(
        &fixtures.join("progression/04_ridge-post-stale-bulletin.txt"),
        &d.watch,
    );
    rt.block_on(b.js("location.hash = '#/'; return true"));
    let accepted = d.wait_file("report.accepted", &name);
    let seen_at = Instant::now();
    let id = accepted["id"].as_str().expect("id").to_string();
    rt.block_on(b.must(
        "the new report's event",
        &format!("Number(document.getElementById('seq').dataset.seq) >= {id}"),
        LIVE.saturating_sub(seen_at.elapsed()),
    ));

    // Another daemon, with another picture, where this one was: the page starts again from
    // its snapshot instead of waiting for event numbers it will never reach.
    drop(d);
    rt.block_on(b.must(
        "the lost connection",
        "document.documentElement.dataset.conn === 'reconnecting'",
        TIMEOUT,
    ));
    let other = daemon_on(&reports[..1], port, &format!("token = \"{token}\"\n"));
    let total = get_json_with(&rt, &format!("{}/developments", other.url()), token)["developments"]
        .as_array()
        .map_or(0, Vec::len);
    rt.block_on(b.must(
        "the new picture",
        &format!(
            "document.documentElement.dataset.conn === 'live' && document.querySelectorAll('#main li.dev').length === {total}"
        ),
        TIMEOUT,
    ));
    rt.block_on(b.close());
}

/// Invented reports of four developments each, every one at its own invented town: an
/// evacuation, an attack on a port, a ceasefire and a meeting, in statuses of every kind.
fn invented_reports(n: usize) -> Vec<(String, String)> {
    const SYLLABLES: [&str; 10] = ["ba", "do", "ge", "li", "mu", "ra", "te", "vo", "pe", "ni"];
    const KINDS: [[&str; 3]; 4] = [
        [
            "Aid workers began evacuating civilians from {P} on Wednesday.",
            "Shelling halted the evacuation of {P} on Thursday.",
            "Aid workers evacuated the last civilians from {P} on Friday.",
        ],
        [
            "Drones attacked {P} port overnight, officials said.",
            "Gunmen were attacking {P} port on Saturday, witnesses said.",
            "Rebels plan to attack {P} port, officials warned.",
        ],
        [
            "A ceasefire in {P} took effect on Monday.",
            "A ceasefire in {P} is set to begin on Friday.",
            "The ceasefire in {P} collapsed on Sunday.",
        ],
        [
            "Envoys met in {P} on Tuesday.",
            "Envoys will meet in {P} next week.",
            "Envoys are meeting in {P} on Thursday.",
        ],
    ];
    // Distinct consonants make distinct name keys: one town per number.
    let town = |i: usize| -> String {
        let mut s = String::new();
        let mut digits = vec![i / 100 % 10, i / 10 % 10, i % 10];
        if i >= 1000 {
            digits.insert(0, i / 1000 % 10);
        }
        for d in digits {
            s.push_str(SYLLABLES[d]);
        }
        s.push('n');
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    (0..n)
        .map(|r| {
            let mut text = format!(
                "source: Bench Wire {}\ndate: 2031-05-{:02}\n\nRegional roundup {r}\n\n",
                r % 7,
                1 + r % 28
            );
            for (k, kind) in KINDS.iter().enumerate() {
                text.push_str(&kind[(r + k) % 3].replace("{P}", &town(r * 4 + k)));
                text.push_str("\n\n");
            }
            (format!("r{r:04}.txt"), text)
        })
        .collect()
}

/// With a thousand developments loaded: the first view in a fresh page, five times over,
/// printed (not asserted: `docs/BENCHMARKS.md` records it, `scripts/bench-board.sh` runs it
/// against the release build); every development listed, a filter and the keyboard working.
#[test]
fn the_board_first_view_with_a_thousand_developments() {
    let Some(paths) = browser_paths() else { return };
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let watch = dir.path().join("watch");
    std::fs::create_dir_all(&watch).expect("watch dir");
    let reports = invented_reports(300);
    for (name, text) in &reports {
        std::fs::write(watch.join(name), text).expect("write report");
    }
    let mut d = start_daemon(dir, 0, "");
    d.wait_count("reports read", reports.len(), |e| {
        e["type"] == "report.accepted"
    });
    let url = d.url();
    let rt = runtime();
    let total = get_json(&rt, &format!("{url}/developments"))["developments"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        total >= 1000,
        "the invented reports make {total} developments"
    );
    let b = rt.block_on(Browser::start(&paths));
    let mut runs = Vec::new();
    rt.block_on(async {
        for _ in 0..5 {
            b.client.goto("about:blank").await.expect("blank");
            b.client.goto(&format!("{url}/")).await.expect("board");
            b.must(
                "the first view, then every row",
                "document.documentElement.dataset.ready === '1' && document.documentElement.dataset.complete === '1'",
                TIMEOUT,
            )
            .await;
            let t = b
                .js("const m = n => performance.getEntriesByName(n)[0].startTime;
                     const s = performance.getEntriesByType('resource').find(r => r.name.endsWith('/situation'));
                     return [m('sitrep:first-view'), m('sitrep:first-frame'), s ? s.duration : null,
                             m('sitrep:first-view') - m('sitrep:snapshot'), s ? s.startTime : null,
                             m('sitrep:list-complete')]")
                .await;
            runs.push(t);
        }
        let listed = b.js("return document.querySelectorAll('#main li.dev').length").await;
        assert_eq!(listed, json!(total), "every development listed");
        // Usable: a search narrows a thousand rows, the keyboard moves through them.
        let search = b.client.find(Locator::Css("#f-text")).await.expect("search");
        search.send_keys("bavoten").await.expect("type");
        b.must(
            "a handful of developments, the town's among them",
            "(() => { const t = [...document.querySelectorAll('#main li.dev .title')].map(x => x.textContent.toLowerCase());
               return t.length >= 1 && t.length < 5 && t.some(x => x.includes('bavoten')); })()",
            LIVE,
        )
        .await;
        search.clear().await.expect("clear");
        search.send_keys(" ").await.expect("type");
        b.must(
            "all again",
            &format!("document.querySelectorAll('#main li.dev').length === {total}"),
            LIVE,
        )
        .await;
        b.js("document.activeElement.blur(); return true").await;
        for _ in 0..3 {
            b.key("j").await;
        }
        b.must(
            "the third row focused",
            "document.activeElement === document.querySelectorAll('#main a.row')[2]",
            LIVE,
        )
        .await;
    });
    let ms = |i: usize| {
        let mut v: Vec<f64> = runs.iter().filter_map(|r| r[i].as_f64()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (view, frame, fetch, build, asked, all) = (ms(0), ms(1), ms(2), ms(3), ms(4), ms(5));
    eprintln!(
        "board first view with {total} developments (ms after navigation start, 5 loads): \
         built {view:.0?}, on screen {frame:.0?}; /situation asked at {asked:.0?}, \
         fetched in {fetch:.0?}; from the snapshot to the built view {build:.0?}; \
         every row built {all:.0?}; median on screen {:.0} ms",
        frame.get(frame.len() / 2).copied().unwrap_or(f64::NAN)
    );
    rt.block_on(b.close());
}

/// Starts a daemon on `reports` (copied in name order, modification times kept) and waits
/// until each is read.
fn daemon_on(reports: &[PathBuf], port: u16, extra_api: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let watch = dir.path().join("watch");
    std::fs::create_dir_all(&watch).expect("watch dir");
    let mut names = Vec::new();
    for r in reports {
        names.push(drop_seed(r, &watch));
    }
    let mut d = start_daemon(dir, port, extra_api);
    for n in &names {
        d.wait_for(&format!("{n} read"), |e| {
            e["type"].as_str().is_some_and(|t| t.starts_with("report."))
                && e["data"]["file"] == n.as_str()
        });
    }
    d
}

/// Saves what the browser shows.
async fn shot(b: &Browser, dir: &Path, name: &str) {
    // Let the page settle its last fetches (the places for the map) before the picture.
    b.must(
        "the page settled",
        "document.documentElement.dataset.ready === '1'",
        TIMEOUT,
    )
    .await;
    let png = b.client.screenshot().await.expect("screenshot");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("wrote {}", path.display());
}

/// The screenshots in docs/: the seed story and a real-news storyline, from the same setup
/// as the tests. Run by `scripts/board-screenshots.sh`.
#[test]
#[ignore = "writes the docs' screenshots; run by scripts/board-screenshots.sh"]
fn board_screenshots() {
    let Some(seeds) = seeds() else { return };
    let Some(paths) = browser_paths() else { return };
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let out = PathBuf::from(std::env::var_os("SITREP_SCREENSHOTS").unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/board")
            .into()
    }));
    std::fs::create_dir_all(&out).expect("screenshot dir");
    let storyline = std::env::var("SITREP_STORYLINE")
        .unwrap_or_else(|_| "israel-hezbollah-ceasefire-lebanon-2024".into());
    let story_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/eval")
        .join(&storyline);
    let mut story: Vec<PathBuf> = std::fs::read_dir(&story_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", story_dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    story.sort();

    let rt = runtime();
    let b = rt.block_on(Browser::start(&paths));
    let d = daemon_on(&seeds, 0, "");
    let url = d.url();
    let snap = get_json(&rt, &format!("{url}/situation"));
    let wid = find_dev(&snap, "withdrawal", "location", &["qamishli"])
        .and_then(|w| w["id"].as_str())
        .expect("the withdrawal")
        .to_string();
    rt.block_on(async {
        b.client.goto(&format!("{url}/")).await.expect("board");
        b.must("live", "document.documentElement.dataset.conn === 'live'", TIMEOUT)
            .await;
        shot(&b, &out, "seeds-developments.png").await;
        b.client
            .goto(&format!("{url}/#/d/{wid}"))
            .await
            .expect("development");
        b.must(
            "the timeline, and the place on the map",
            "document.querySelector('ol.timeline li.step') && document.querySelector('dl.roles').textContent.includes('On the map')",
            TIMEOUT,
        )
        .await;
        shot(&b, &out, "seeds-development.png").await;
        b.client.goto(&format!("{url}/#/map")).await.expect("map");
        b.must(
            "the map with its places",
            "document.querySelectorAll('svg.map .land path').length > 100 && document.querySelector('svg.map circle')",
            TIMEOUT,
        )
        .await;
        shot(&b, &out, "seeds-map.png").await;
        b.client
            .goto(&format!("{url}/#/entities"))
            .await
            .expect("entities");
        b.must("the entities", "document.querySelector('table.entities tbody tr')", TIMEOUT)
            .await;
        shot(&b, &out, "seeds-entities.png").await;
    });
    drop(d);

    let d = daemon_on(&story, 0, "");
    let url = d.url();
    rt.block_on(async {
        b.client.goto(&format!("{url}/")).await.expect("board");
        b.must("live", "document.documentElement.dataset.conn === 'live'", TIMEOUT)
            .await;
        shot(&b, &out, "storyline-developments.png").await;
        b.client.goto(&format!("{url}/#/map")).await.expect("map");
        b.must(
            "the map with its places",
            "document.querySelectorAll('svg.map .land path').length > 100 && document.querySelector('svg.map circle')",
            TIMEOUT,
        )
        .await;
        shot(&b, &out, "storyline-map.png").await;
    });
    rt.block_on(b.close());
}
