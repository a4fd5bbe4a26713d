//! The HTTP API of the real daemon on an ephemeral port: event streams (SSE, WebSocket),
//! resumption, snapshots, filters, fan-out, lagging subscribers, the token, shutdown.

use std::collections::BTreeMap;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::Value;

use crate::support::{copy_fixture, drop_file, event_ids, Daemon, TIMEOUT};

const STORY: [&str; 4] = [
    "progression/01_tallis-kestria-to-withdraw.txt",
    "progression/02_tallis-kestrian-pullout-begins.txt",
    "progression/03_moor-gazette-withdrawal-complete.txt",
    "reversal/01_sws-evacuation-begins.txt",
];

pub(crate) fn start(extra: &str) -> Daemon {
    start_on("127.0.0.1:0", extra)
}

/// Starts with `[api] listen = ADDR` and further `[api]` keys.
fn start_on(listen: &str, extra: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).unwrap();
    let config = format!(
        "[source]\nsettle_ms = 100\nrescan_secs = 60\n[api]\nlisten = \"{listen}\"\n{extra}"
    );
    Daemon::start_with(dir, watch, data, &config)
}

/// Drops the `i`-th report of the story, the careful way.
pub(crate) fn drop_story(d: &Daemon, i: usize) -> String {
    let name = format!("{:02}.txt", i + 1);
    let tmp = format!(".{name}");
    copy_fixture(STORY[i], &d.watch, &tmp);
    std::fs::rename(d.watch.join(&tmp), d.watch.join(&name)).unwrap();
    name
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `GET url` as JSON.
pub(crate) fn get_json(rt: &tokio::runtime::Runtime, url: &str) -> Value {
    rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// An open SSE stream: CloudEvents as JSON, with the SSE ids.
pub(crate) struct Sse {
    inner: std::pin::Pin<
        Box<
            dyn futures_util::Stream<
                    Item = Result<
                        eventsource_stream::Event,
                        eventsource_stream::EventStreamError<reqwest::Error>,
                    >,
                > + Send,
        >,
    >,
}

impl Sse {
    pub(crate) async fn open(url: &str, last_event_id: Option<u64>) -> Sse {
        let mut req = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.expect("connect");
        assert_eq!(resp.status(), 200, "GET {url}");
        Sse {
            inner: Box::pin(resp.bytes_stream().eventsource()),
        }
    }

    /// The next message (`event` name, parsed data), or `None` at the end of the stream.
    pub(crate) async fn next(&mut self) -> Option<(String, Value)> {
        let item = tokio::time::timeout(TIMEOUT, self.inner.next())
            .await
            .expect("an SSE message within the timeout")?;
        let e = item.ok()?;
        let data: Value = serde_json::from_str(&e.data).expect("JSON data");
        if e.event == "stream.lagged" {
            // The notice has no id of its own, and an SSE client's last event id stays that
            // of the last event it got, which is what the notice says it last delivered.
            let last = data["data"]["last_delivered"]
                .as_u64()
                .expect("last_delivered");
            let expected = if last == 0 {
                String::new()
            } else {
                last.to_string()
            };
            assert_eq!(e.id, expected, "last event id = last_delivered");
        } else if !e.id.is_empty() {
            assert_eq!(
                data["id"].as_str(),
                Some(e.id.as_str()),
                "SSE id = CloudEvent id"
            );
        }
        Some((e.event, data))
    }

    /// Every message until the stream ends.
    pub(crate) async fn rest(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some((_, v)) = self.next().await {
            out.push(v);
        }
        out
    }
}

#[test]
fn stream_resumes_without_gap_and_snapshot_plus_stream_is_the_final_state() {
    let mut d = start("");
    let url = d.url();
    let rt = runtime();
    let first = drop_story(&d, 0);
    d.wait_file("report.accepted", &first);

    // Read the first three events, then hang up.
    let three = rt.block_on(async {
        let mut s = Sse::open(&format!("{url}/events?since=0"), None).await;
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(s.next().await.unwrap().1);
        }
        got
    });
    assert_eq!(event_ids(&three), [1, 2, 3]);

    // A snapshot, and a stream from its seq, while more reports come in.
    let snapshot = get_json(&rt, &format!("{url}/situation"));
    let at = snapshot["seq"].as_u64().unwrap();
    let (mut from_snapshot, mut resumed) = rt.block_on(async {
        (
            Sse::open(&format!("{url}/events?since={at}"), None).await,
            Sse::open(&format!("{url}/events"), Some(3)).await,
        )
    });
    let mut last = String::new();
    for i in 1..STORY.len() {
        last = drop_story(&d, i);
    }
    d.wait_file("report.accepted", &last);
    d.wait_for("withdrawal completed", |e| {
        e["type"] == "development.status_changed" && e["data"]["to"] == "completed"
    });
    let fin = get_json(&rt, &format!("{url}/situation"));
    let (status, _) = d.stop();
    assert!(status.success());
    // Shutdown ends the streams.
    let (tail, rest) = rt.block_on(async { (from_snapshot.rest().await, resumed.rest().await) });
    let all = d.events_file();

    // Resumed with Last-Event-ID 3: exactly the events after 3.
    assert_eq!(event_ids(&rest), (4..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(rest, all[3..]);
    // From the snapshot's seq: every later event, none before.
    assert_eq!(tail, all[at as usize..]);
    // The snapshot with the stream applied gives the final statuses.
    let mut statuses: BTreeMap<String, Value> = snapshot["developments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d["status"].clone()))
        .collect();
    for e in &tail {
        match e["type"].as_str().unwrap() {
            "development.detected" => {
                statuses.insert(
                    e["subject"].as_str().unwrap().into(),
                    e["data"]["status"].clone(),
                );
            }
            "development.status_changed" => {
                statuses.insert(
                    e["subject"].as_str().unwrap().into(),
                    e["data"]["to"].clone(),
                );
            }
            _ => {}
        }
    }
    let final_statuses: BTreeMap<String, Value> = fin["developments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d["status"].clone()))
        .collect();
    assert_eq!(statuses, final_statuses);
    assert!(final_statuses.values().any(|s| s == "completed"));
}

#[test]
fn filters_lookups_errors_and_websocket() {
    let mut d = start("");
    let url = d.url();
    let rt = runtime();
    for i in 0..3 {
        let name = drop_story(&d, i);
        d.wait_file("report.accepted", &name);
    }
    let moved = d.wait_for("completed", |e| {
        e["type"] == "development.status_changed" && e["data"]["to"] == "completed"
    });
    let dev = moved["subject"].as_str().unwrap().to_string();
    let seq: u64 = moved["id"].as_str().unwrap().parse().unwrap();

    rt.block_on(async {
        // Only status changes, from the start.
        let mut s = Sse::open(
            &format!("{url}/events?since=0&types=development.status_changed"),
            None,
        )
        .await;
        let mut changes = Vec::new();
        while changes
            .last()
            .is_none_or(|e: &Value| e["id"] != moved["id"])
        {
            changes.push(s.next().await.unwrap().1);
        }
        assert!(changes
            .iter()
            .all(|e| e["type"] == "development.status_changed"));
        assert_eq!(changes.len(), 2, "planned → underway → completed");

        // One development's events only.
        let mut s = Sse::open(&format!("{url}/events?since=0&subject={dev}"), None).await;
        let first = s.next().await.unwrap().1;
        assert_eq!(first["type"], "development.detected");
        assert_eq!(first["subject"], dev);

        // Lookups: the development (its id has slashes), an entity, a report; 404s; 400s.
        let client = reqwest::Client::new();
        let get = |path: String| {
            let client = client.clone();
            let full = format!("{url}{path}");
            async move { client.get(full).send().await.unwrap() }
        };
        let r = get(format!("/developments/{dev}")).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["development"]["status"], "completed");
        assert_eq!(body["development"]["history"].as_array().unwrap().len(), 3);
        let list: Value = get("/developments".into()).await.json().await.unwrap();
        assert!(list["developments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == dev.as_str()));
        let ents: Value = get("/entities".into()).await.json().await.unwrap();
        let some = ents["entities"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(get(format!("/entities/{some}")).await.status(), 200);
        let accepted: Value = get("/events?since=0".into())
            .await
            .bytes_stream()
            .eventsource()
            .next()
            .await
            .map(|e| serde_json::from_str(&e.unwrap().data).unwrap())
            .unwrap();
        let rep = accepted["subject"].as_str().unwrap();
        let r: Value = get(format!("/reports/{rep}")).await.json().await.unwrap();
        assert_eq!(r["report"]["file"], "01.txt");
        for (path, code) in [
            ("/developments/attack/nobody".to_string(), 404),
            ("/entities/nobody-at-all".into(), 404),
            ("/reports/0000".into(), 404),
            ("/no/such/endpoint".into(), 404),
            ("/events?since=soon".into(), 400),
            ("/events?types=development.exploded".into(), 400),
            ("/events?sinse=3".into(), 400),
        ] {
            let r = get(path.clone()).await;
            assert_eq!(r.status().as_u16(), code, "{path}");
            let body: Value = r.json().await.unwrap();
            assert!(
                body["error"].as_str().is_some_and(|m| !m.is_empty()),
                "{path}"
            );
        }
        assert_eq!(get("/healthz".into()).await.status(), 200);
        let ready: Value = get("/readyz".into()).await.json().await.unwrap();
        assert_eq!(ready["ready"], true);
        let metrics = get("/metrics".into()).await.text().await.unwrap();
        assert!(
            metrics.contains("# TYPE sitrep_subscribers gauge"),
            "{metrics}"
        );
        assert!(
            metrics.contains(&format!("sitrep_last_event_seq {}", ready["seq"])),
            "{metrics}"
        );

        // The same stream over WebSocket, filtered the same way.
        let ws_url = format!(
            "{}/ws?since=0&types=development.status_changed",
            url.replacen("http", "ws", 1)
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            let msg = tokio::time::timeout(TIMEOUT, ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                got.push(serde_json::from_str::<Value>(t.as_str()).unwrap());
            }
        }
        assert_eq!(got, changes);
        ws.close(None).await.unwrap();
    });
    assert!(seq > 0);
    let (status, _) = d.stop();
    assert!(status.success());
}

#[test]
fn two_hundred_subscribers_all_get_every_event() {
    let mut d = start("");
    let url = d.url();
    let rt = runtime();
    let streams = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..200 {
            v.push(Sse::open(&format!("{url}/events"), None).await);
        }
        v
    });
    let mut last = String::new();
    for i in 0..STORY.len() {
        last = drop_story(&d, i);
    }
    d.wait_file("report.accepted", &last);
    let (status, _) = d.stop();
    assert!(status.success());
    let all = d.events_file();
    let received = rt.block_on(async {
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut s| tokio::spawn(async move { s.rest().await }))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert_eq!(received.len(), 200);
    for r in received {
        assert_eq!(r, all);
    }
}

/// Reports naming many people each: lots of `entity.discovered` events, fast.
fn crowded_reports(n: usize, names_per_report: usize) -> Vec<(String, String)> {
    const FIRST: [&str; 12] = [
        "Arvid", "Belen", "Corin", "Dagny", "Ewald", "Fenna", "Gorm", "Hilde", "Ivar", "Jorun",
        "Kasim", "Liesel",
    ];
    (0..n)
        .map(|r| {
            let names: Vec<String> = (0..names_per_report)
                .map(|k| {
                    let i = r * names_per_report + k;
                    format!("{} Vantor{i:05}", FIRST[i % FIRST.len()])
                })
                .collect();
            let body = names
                .iter()
                .map(|n| format!("{n} attended the meeting."))
                .collect::<Vec<_>>()
                .join(" ");
            (
                format!("c{r:04}.txt"),
                format!("source: Tallis Wire\ndate: 2031-05-02\n\nCouncil meets in Ostravel\n\n{body}\n"),
            )
        })
        .collect()
}

#[test]
fn a_slow_subscriber_is_told_it_lagged_and_resumes_without_loss() {
    let mut d = start("subscriber_buffer = 16\n");
    let url = d.url();
    let rt = runtime();
    // Connected, but not reading: its socket buffers fill, then its channel overflows.
    let mut slow = rt.block_on(Sse::open(&format!("{url}/events"), None));
    let (mut slow_ws, _) = rt
        .block_on(tokio_tungstenite::connect_async(format!(
            "{}/ws",
            url.replacen("http", "ws", 1)
        )))
        .unwrap();
    let reports = crowded_reports(150, 40);
    for (name, text) in &reports {
        drop_file(&d.watch, name, text.as_bytes());
    }
    // Ingestion goes on at its pace: every report is taken while the slow one sleeps.
    for (name, _) in &reports {
        d.wait_file("report.accepted", name);
    }
    let (mut got, lagged) = rt.block_on(async {
        let mut got = Vec::new();
        loop {
            match slow.next().await {
                Some((ev, v)) if ev == "stream.lagged" => break (got, v),
                Some((_, v)) => got.push(v),
                None => panic!("stream ended without a lagged notice"),
            }
        }
    });
    assert_eq!(lagged["type"], "stream.lagged");
    let last = lagged["data"]["last_delivered"].as_u64().unwrap();
    assert_eq!(event_ids(&got).last().copied().unwrap_or(0), last);
    assert!(
        rt.block_on(slow.next()).is_none(),
        "the lagged stream is closed"
    );
    // The WebSocket subscriber too: the notice, then a Close with the lag code whose
    // reason says where to resume.
    let ws_lagged = rt.block_on(async {
        use tokio_tungstenite::tungstenite::Message;
        let notice = loop {
            match crate::edges::next_ws(&mut slow_ws).await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "stream.lagged" {
                        break v;
                    }
                }
                other => panic!("no lag notice before {other:?}"),
            }
        };
        let last = notice["data"]["last_delivered"].as_u64().unwrap();
        match crate::edges::next_ws(&mut slow_ws).await {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(u16::from(f.code), 4000);
                assert_eq!(
                    f.reason.as_str(),
                    format!("lagged; resume after event {last}")
                );
            }
            other => panic!("expected Close 4000, got {other:?}"),
        }
        notice
    });
    // Every notice is an event of its own: ids are never reused.
    for notice in [&lagged, &ws_lagged] {
        let last = notice["data"]["last_delivered"].as_u64().unwrap();
        assert_ne!(notice["id"], format!("lagged-{last}"), "{notice}");
        assert_eq!(notice["source"], d.seen[0]["source"]);
    }
    assert_ne!(lagged["id"], ws_lagged["id"]);
    // It resumes from there and, with what it had, has everything.
    let mut again = rt.block_on(Sse::open(&format!("{url}/events"), Some(last)));
    let (status, _) = d.stop();
    assert!(status.success());
    got.extend(rt.block_on(again.rest()));
    let all = d.events_file();
    assert_eq!(event_ids(&got), event_ids(&all));
    assert_eq!(got, all);
    let lag_metric = all.len(); // events really were many
    assert!(lag_metric > 5000, "{lag_metric} events");
}

#[test]
fn the_token_is_required_everywhere_but_healthz() {
    let d = start("token = \"s3cret-token\"\n");
    let url = d.url();
    let rt = runtime();
    rt.block_on(async {
        let c = reqwest::Client::new();
        assert_eq!(
            c.get(format!("{url}/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        for path in [
            "/situation",
            "/events",
            "/metrics",
            "/readyz",
            "/developments",
        ] {
            let r = c.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 401, "{path} without a token");
            let r = c
                .get(format!("{url}{path}"))
                .bearer_auth("wrong")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} with a wrong token");
        }
        let r = c
            .get(format!("{url}/situation"))
            .bearer_auth("s3cret-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = c
            .get(format!("{url}/situation?access_token=s3cret-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
}

#[test]
fn resuming_from_before_the_retained_log_is_gone() {
    let mut d = start("retain_events = 2\n");
    let url = d.url();
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    // The events file is the log of last resort; without it, old positions are gone.
    std::fs::write(d.data.join("events.ndjson"), "").unwrap();
    let rt = runtime();
    rt.block_on(async {
        let r = reqwest::get(format!("{url}/events?since=0")).await.unwrap();
        assert_eq!(r.status(), 410, "{:?}", r.headers());
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("snapshot"));
    });
}

#[test]
fn subscribe_command_resumes_across_a_daemon_restart() {
    use std::io::{BufRead, BufReader};
    // A fixed port, so the restarted daemon is where the subscriber looks for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut d = start_on(&listen, "");
    let mut sub = std::process::Command::new(crate::support::bin())
        .args(["subscribe", "--since", "0", "--url"])
        .arg(format!("http://{listen}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<Value>();
    let stdout = sub.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap());
        }
    });
    let mut got: Vec<Value> = Vec::new();
    let wait_for = |got: &mut Vec<Value>, file: &str| {
        while !got
            .iter()
            .any(|e| e["type"] == "report.accepted" && e["data"]["file"] == file)
        {
            got.push(lines.recv_timeout(TIMEOUT).expect("subscriber output"));
        }
    };
    let first = drop_story(&d, 0);
    wait_for(&mut got, &first);
    let (d2, _) = d.restart(false);
    d = d2;
    let second = drop_story(&d, 1);
    wait_for(&mut got, &second);
    let all = d.events_file();
    while got.len() < all.len() {
        got.push(lines.recv_timeout(TIMEOUT).expect("subscriber output"));
    }
    let _ = sub.kill();
    let _ = sub.wait();
    assert_eq!(event_ids(&got), event_ids(&all));
    assert_eq!(got, all);
}

/// A short report of our own, different for every `n`.
fn numbered_report(n: usize) -> String {
    format!(
        "Convoy {n} reaches Velgrad\n\nVELGRAD (Tallis Wire) - Aid convoy number {n} reached \
         the northern district of Velgrad on Monday. Officials said {n} trucks were unloaded.\n"
    )
}

/// `sitrep_queue_depth` samples by queue, from `/metrics`.
fn queue_depths(rt: &tokio::runtime::Runtime, url: &str) -> BTreeMap<String, u64> {
    let text = rt.block_on(async {
        reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    text.lines()
        .filter_map(|l| l.strip_prefix("sitrep_queue_depth{queue=\""))
        .filter_map(|l| l.split_once("\"} "))
        .map(|(q, v)| (q.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn queue_depths_fall_back_to_zero_once_a_burst_is_processed() {
    const BURST: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).unwrap();
    // All there at start-up: the initial scan hands them on as fast as the queues take
    // them, so every queue fills.
    for n in 0..BURST {
        std::fs::write(
            watch.join(format!("r{n:04}.txt")),
            numbered_report(n).as_bytes(),
        )
        .unwrap();
    }
    let config = "[source]\nsettle_ms = 100\nrescan_secs = 60\n[pipeline]\nchannel_capacity = 8\n";
    let mut d = Daemon::start_with(dir, watch, data, config);
    d.wait_count("reports taken", BURST, |e| e["type"] == "report.accepted");
    let rt = runtime();
    let depths = queue_depths(&rt, &d.url());
    assert_eq!(depths.len(), 3, "{depths:?}");
    assert!(depths.values().all(|&n| n == 0), "idle, yet {depths:?}");
}

#[test]
fn the_subscribe_log_writes_positions_as_numbers() {
    use std::io::{BufRead, BufReader};
    let d = start("");
    let url = d.url();
    let subscribed = |since: Option<&str>| -> String {
        let mut cmd = std::process::Command::new(crate::support::bin());
        cmd.arg("subscribe").args(["--url", &url]);
        if let Some(s) = since {
            cmd.args(["--since", s]);
        }
        let mut sub = cmd
            .env("SITREP_LOG", "sitrep=info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = sub.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = loop {
            let line = lines.recv_timeout(TIMEOUT).expect("a Subscribed. line");
            if line.contains("Subscribed.") {
                break line;
            }
        };
        let _ = sub.kill();
        let _ = sub.wait();
        line
    };
    let line = subscribed(Some("0"));
    assert!(line.contains("since=0"), "{line}");
    assert!(!line.contains("Some("), "{line}");
    let line = subscribed(None);
    assert!(!line.contains("since"), "{line}");
}

#[test]
fn a_report_object_holds_its_sentences_across_restarts() {
    let mut d = start("");
    let text = "source: Tallis Wire\ndate: 2031-04-05\n\nConvoy reaches Velgrad\n\n\
                VELGRAD (TW) - The convoy reached the “northern” district on Monday. \
                Officials said 12 trucks were unloaded.\n";
    drop_file(&d.watch, "a.txt", text.as_bytes());
    let id = d.wait_file("report.accepted", "a.txt")["subject"]
        .as_str()
        .unwrap()
        .to_string();
    let rt = runtime();
    let sentences = |d: &Daemon| -> Vec<Value> {
        let r = get_json(&rt, &format!("{}/reports/{id}", d.url()));
        let list = r["report"]["sentence_texts"].as_array().unwrap().clone();
        assert_eq!(r["report"]["sentences"], list.len());
        list
    };
    let list = sentences(&d);
    let texts: Vec<&str> = list.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        [
            "Convoy reaches Velgrad",
            "The convoy reached the “northern” district on Monday.",
            "Officials said 12 trucks were unloaded."
        ]
    );
    // Offsets index the decoded text, here the file's own bytes.
    for s in &list {
        let (start, end) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], s["text"].as_str().unwrap());
    }
    // The journal, replayed after a crash, and the snapshot written at a clean stop
    // keep them.
    let (d2, _) = d.restart(true);
    assert_eq!(sentences(&d2), list);
    let (d3, _) = d2.restart(false);
    assert_eq!(sentences(&d3), list);
    // The situation's report list stays light.
    let situation = get_json(&rt, &format!("{}/situation", d3.url()));
    assert!(situation["reports"][0].get("sentence_texts").is_none());
}

#[test]
fn state_lists_developments_filtered_with_counts_in_words() {
    let mut d = start("");
    for i in 0..4 {
        let name = drop_story(&d, i);
        d.wait_file("report.accepted", &name);
    }
    let url = d.url();
    let state = |args: &[&str]| -> String {
        let out = std::process::Command::new(crate::support::bin())
            .args(["state", "--url", &url])
            .args(args)
            .output()
            .unwrap();
        crate::support::assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let all = state(&[]);
    let rows = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .filter(|l| !l.trim_start().starts_with('('))
            .map(str::to_string)
            .collect()
    };
    assert!(all.starts_with("as of event "), "{all}");
    assert!(!all.contains("(1 claims"), "{all}");
    assert!(
        !all.contains(" 1 reports") && !all.contains(" 1 developments"),
        "{all}"
    );
    let every = rows(&all);
    assert!(every.len() >= 2, "{all}");
    let withdrawals = state(&["--kind", "withdrawal"]);
    let kept = rows(&withdrawals);
    assert!(!kept.is_empty(), "{withdrawals}");
    assert!(
        kept.iter().all(|l| l.contains("withdrawal/")),
        "{withdrawals}"
    );
    assert!(kept.len() < every.len(), "{all}\n{withdrawals}");
    assert!(
        withdrawals.contains(&format!("({} of {} shown)", kept.len(), every.len())),
        "{withdrawals}"
    );
    let status = kept[0].split_whitespace().next().unwrap().to_string();
    let by_status = rows(&state(&["--status", &status]));
    assert!(by_status
        .iter()
        .all(|l| l.trim_start().starts_with(&status)));
    assert_eq!(rows(&state(&["--limit", "1"])), every[..1]);
    let out = std::process::Command::new(crate::support::bin())
        .args(["state", "--url", &url, "--status", "finished"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown status `finished`"));
}
