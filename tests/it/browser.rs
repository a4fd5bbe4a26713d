//! A real headless Chromium for tests of what browsers do (CORS, `EventSource`,
//! `WebSocket`), driven through chromedriver over WebDriver, and a web server for the pages
//! it loads, on an origin of their own.
//!
//! [`Browser::start`] finds the browser (`SITREP_CHROMIUM` and `SITREP_CHROMEDRIVER`, else
//! `chromium` and `chromedriver` on the `PATH`; `scripts/install-browser.sh` installs
//! both). Without them it returns `None` after printing why, so the test can skip itself,
//! unless `SITREP_REQUIRE_BROWSER` is set (CI sets it): then a missing browser fails the
//! test instead of skipping it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use serde_json::{json, Value};

use crate::support::TIMEOUT;

/// The flags Chromium needs to run headless as root in a container on a closed network
/// (without the background-networking ones it waits on services it cannot reach).
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
];

/// An executable named by the environment variable `var`, else found on the `PATH`.
fn find(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver, in a process group of its own that the browser it starts shares.
/// Dropping it ends the whole group, so nothing is left running even when a test panics
/// before it closes its session.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// A headless Chromium session. Dropping it ends chromedriver and the browser.
pub struct Browser {
    client: Option<fantoccini::Client>,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a browser session with a fresh profile, or `None` when no
    /// browser is installed and `SITREP_REQUIRE_BROWSER` is unset.
    pub async fn start(test: &str) -> Option<Browser> {
        let chromium = find("SITREP_CHROMIUM", &["chromium", "chromium-browser"]);
        let driver = find("SITREP_CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            assert!(
                std::env::var_os("SITREP_REQUIRE_BROWSER").is_none(),
                "{test}: SITREP_REQUIRE_BROWSER is set, but chromium or chromedriver is missing (scripts/install-browser.sh installs them)"
            );
            // Straight to the terminal: the test harness would hold back `println!`.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no chromium and chromedriver (scripts/install-browser.sh installs them; SITREP_REQUIRE_BROWSER=1 makes this a failure)"
            );
            return None;
        };
        Some(Self::launch(&chromium, &driver).await)
    }

    async fn launch(chromium: &Path, driver: &Path) -> Browser {
        let mut child = Driver(
            Command::new(driver)
                .arg("--port=0")
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display())),
        );
        // chromedriver says where it listens once it does.
        let (tx, rx) = channel();
        let stdout = child.0.stdout.take().expect("chromedriver stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let port = loop {
            let line = rx
                .recv_timeout(TIMEOUT)
                .unwrap_or_else(|_| panic!("chromedriver did not start within {TIMEOUT:?}"));
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                break rest
                    .trim_end_matches('.')
                    .trim()
                    .parse::<u16>()
                    .expect("chromedriver port");
            }
        };
        let profile = tempfile::tempdir().expect("browser profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(TIMEOUT),
                Some(TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .expect("timeouts");
        Browser {
            client: Some(client),
            _driver: child,
            _profile: profile,
        }
    }

    fn client(&self) -> &fantoccini::Client {
        self.client.as_ref().expect("open session")
    }

    /// Loads `url` and waits for it.
    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot load {url}: {e}"));
    }

    /// Runs `body` as the body of an async function in the page, with `args` as
    /// `arguments`, and returns what it resolves to (within [`TIMEOUT`]).
    pub async fn run(&self, body: &str, args: Vec<Value>) -> Value {
        let script = format!("return (async function() {{ {body} }}).apply(null, arguments);");
        self.client()
            .execute(&script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Ends the session and the browser.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

/// A web server on a port of its own (so its pages have an origin other than the
/// daemon's), serving `html` at `/`. Returns its origin (`http://127.0.0.1:PORT`); it
/// serves until the runtime ends.
pub async fn serve_page(html: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind page server");
    let origin = format!("http://{}", listener.local_addr().expect("page addr"));
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    origin
}

#[test]
fn the_browser_loads_a_page_of_the_origin_it_is_served_from() {
    let rt = crate::api::runtime();
    let Some(browser) = rt.block_on(Browser::start(
        "the_browser_loads_a_page_of_the_origin_it_is_served_from",
    )) else {
        return;
    };
    let (origin, seen) = rt.block_on(async {
        let origin = serve_page("<!doctype html><title>page</title>").await;
        browser.goto(&format!("{origin}/")).await;
        let seen = browser
            .run("return [location.origin, document.title];", vec![])
            .await;
        browser.close().await;
        (origin, seen)
    });
    assert_eq!(seen, json!([origin, "page"]));
}
