//! The HTTP and WebSocket edges as clients the project did not write meet them: a real
//! headless Chromium on another origin (CORS, `EventSource`, the `cloudevents.json`
//! subprotocol, closing handshakes), `tokio-tungstenite`, raw SSE bytes, pasted ids,
//! filters and positions that cannot match, event identity across data folders, the
//! `Bearer` scheme, error bodies, and the paged report list.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::api::{drop_story, runtime, start, Sse};
use crate::browser::{serve_page, Browser};
use crate::support::{drop_file, Daemon, TIMEOUT};

/// A report of a meeting between two people: its development id joins them with `+`.
const MEETING: &str = "source: Tallis Wire\ndate: 2031-05-02\n\nKestrian and Orlan leaders meet in Ostravel\n\nOSTRAVEL (TW) - Kestrian President Arvid Molen met Orlan Prime Minister Dagny Hollis in Ostravel on Friday, officials said.\n";

fn ws_url(http: &str) -> String {
    http.replacen("http", "ws", 1)
}

/// The next WebSocket message within the timeout, or `None` at the end of the stream.
pub(crate) async fn next_ws<S>(
    ws: &mut S,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(TIMEOUT, ws.next())
        .await
        .expect("a WebSocket message within the timeout")
}

/// Waits for a development whose id joins participants with `+`.
fn meeting_id(d: &mut Daemon) -> String {
    drop_file(&d.watch, "meeting.txt", MEETING.as_bytes());
    let e = d.wait_for("a meeting", |e| {
        e["type"] == "development.detected"
            && e["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("meeting/") && s.contains('+'))
    });
    e["subject"].as_str().unwrap().to_string()
}

/// What a page does with the daemon at `base`: reads `/situation` with the token in a
/// header (a preflighted request), then the first event over `EventSource` and over
/// `WebSocket` (the token in the query, since neither sends headers). Failures come back
/// as text.
const READ_FROM_PAGE: &str = r#"
const [base, token] = arguments;
const out = {};
try {
  const r = await fetch(base + '/situation', {headers: {Authorization: 'Bearer ' + token}});
  out.status = r.status;
  out.seq = (await r.json()).seq;
} catch (e) {
  out.fetch_error = String(e);
}
out.event = await new Promise((resolve) => {
  const es = new EventSource(base + '/events?since=0&access_token=' + encodeURIComponent(token));
  es.onmessage = (m) => { es.close(); resolve({last_event_id: m.lastEventId, data: JSON.parse(m.data)}); };
  es.onerror = () => { es.close(); resolve({error: 'EventSource failed, readyState ' + es.readyState}); };
});
out.ws = await new Promise((resolve) => {
  const ws = new WebSocket(base.replace('http', 'ws') + '/ws?since=0&access_token=' + encodeURIComponent(token));
  ws.onmessage = (m) => { ws.close(); resolve({first: JSON.parse(m.data)}); };
  ws.onerror = () => resolve({error: 'WebSocket failed'});
});
return out;
"#;

#[test]
fn a_page_on_a_listed_origin_reads_the_api_from_a_real_browser_and_others_cannot() {
    let rt = runtime();
    let Some(browser) = rt.block_on(Browser::start(
        "a_page_on_a_listed_origin_reads_the_api_from_a_real_browser_and_others_cannot",
    )) else {
        return;
    };
    const PAGE: &str = "<!doctype html><title>board</title><p>board</p>";
    let (listed, other) = rt.block_on(async { (serve_page(PAGE).await, serve_page(PAGE).await) });
    let mut d = start(&format!(
        "token = \"s3cret\"\ncors_origins = [\"{listed}\"]\n"
    ));
    let url = d.url();
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let (from_listed, from_other) = rt.block_on(async {
        browser.goto(&format!("{listed}/")).await;
        let a = browser
            .run(READ_FROM_PAGE, vec![json!(url), json!("s3cret")])
            .await;
        browser.goto(&format!("{other}/")).await;
        let b = browser
            .run(READ_FROM_PAGE, vec![json!(url), json!("s3cret")])
            .await;
        browser.close().await;
        (a, b)
    });
    assert_eq!(from_listed["status"], 200, "{from_listed:#}");
    assert!(from_listed["seq"].as_u64().unwrap() >= 1, "{from_listed:#}");
    assert_eq!(
        from_listed["event"]["last_event_id"], "1",
        "{from_listed:#}"
    );
    assert_eq!(from_listed["event"]["data"]["type"], "report.accepted");
    assert_eq!(from_listed["ws"]["first"]["id"], "1", "{from_listed:#}");
    // A page of an origin not listed gets nothing: the browser keeps the answers from it.
    assert!(
        from_other["fetch_error"].as_str().is_some(),
        "{from_other:#}"
    );
    assert!(
        from_other["event"]["error"].as_str().is_some(),
        "{from_other:#}"
    );
    // Browsers apply no CORS to WebSocket; the daemon applies the same rule itself.
    assert!(
        from_other["ws"]["error"].as_str().is_some(),
        "{from_other:#}"
    );
}

#[test]
fn preflights_are_answered_for_listed_origins_and_without_cors_nothing_changes() {
    let rt = runtime();
    let d = start("token = \"s3cret\"\ncors_origins = [\"http://board.example:8080\"]\n");
    let plain = start("");
    let preflight = |url: String, origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header(
                "Access-Control-Request-Headers",
                "authorization,last-event-id",
            )
            .send()
    };
    rt.block_on(async {
        // Answered before the token check, since browsers send no credentials with it.
        let r = preflight(format!("{}/events", d.url()), "http://board.example:8080")
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(
            h["access-control-allow-origin"], "http://board.example:8080",
            "{h:?}"
        );
        let allowed = h["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization") && allowed.contains("last-event-id"));
        assert!(h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("GET"));
        // The answers themselves carry the header, errors included.
        let r = reqwest::Client::new()
            .get(format!("{}/situation", d.url()))
            .header("Origin", "http://board.example:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "http://board.example:8080"
        );
        // Another origin is not allowed.
        let r = preflight(format!("{}/events", d.url()), "http://elsewhere.example")
            .await
            .unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
        // Without `api.cors_origins`: no CORS headers, and OPTIONS is a method not served.
        let r = preflight(
            format!("{}/events", plain.url()),
            "http://board.example:8080",
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 405);
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], 405);
        let r = reqwest::Client::new()
            .get(format!("{}/situation", plain.url()))
            .header("Origin", "http://board.example:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("access-control-allow-origin").is_none());
    });
}

/// Opens a WebSocket offering the `cloudevents.json` subprotocol and takes the first
/// event; opens another without one, closes it with 1000 and reports its close event.
const WS_CLOSE_FROM_PAGE: &str = r#"
const [url] = arguments;
const offered = await new Promise((resolve) => {
  const ws = new WebSocket(url, ['cloudevents.json']);
  ws.onmessage = (m) => { resolve({protocol: ws.protocol, first: JSON.parse(m.data)}); ws.close(); };
  ws.onerror = () => resolve({error: 'handshake failed'});
});
const closed = await new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onopen = () => ws.close(1000, 'done');
  ws.onclose = (e) => resolve({code: e.code, reason: e.reason, was_clean: e.wasClean});
});
return {offered, closed};
"#;

/// Opens a WebSocket without a subprotocol and leaves it open; `window.wsClosed` resolves
/// with its close event.
const WS_OPEN_IN_PAGE: &str = r#"
const [url] = arguments;
return await new Promise((resolve) => {
  const ws = new WebSocket(url);
  window.wsClosed = new Promise((done) => {
    ws.onclose = (e) => done({code: e.code, reason: e.reason, was_clean: e.wasClean});
  });
  ws.onopen = () => resolve(ws.protocol);
  ws.onerror = () => resolve('error');
});
"#;

#[test]
fn a_real_browser_gets_the_subprotocol_and_clean_closes_both_ways() {
    let rt = runtime();
    let Some(browser) = rt.block_on(Browser::start(
        "a_real_browser_gets_the_subprotocol_and_clean_closes_both_ways",
    )) else {
        return;
    };
    let page = rt.block_on(serve_page("<!doctype html><title>ws</title>"));
    let mut d = start(&format!("cors_origins = [\"{page}\"]\n"));
    let url = ws_url(&d.url());
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let (client_close, opened) = rt.block_on(async {
        browser.goto(&format!("{page}/")).await;
        let a = browser
            .run(WS_CLOSE_FROM_PAGE, vec![json!(format!("{url}/ws?since=0"))])
            .await;
        let b = browser
            .run(WS_OPEN_IN_PAGE, vec![json!(format!("{url}/ws"))])
            .await;
        (a, b)
    });
    let (offered, closed) = (&client_close["offered"], &client_close["closed"]);
    assert_eq!(offered["protocol"], "cloudevents.json", "{client_close:#}");
    assert_eq!(offered["first"]["id"], "1", "{client_close:#}");
    // The daemon answered the Close: a clean close with the browser's code.
    assert_eq!(closed["code"], 1000, "{client_close:#}");
    assert_eq!(closed["was_clean"], true, "{client_close:#}");
    assert_eq!(opened, "", "no subprotocol asked, none chosen");
    // Shutdown closes the open socket with 1001 (going away) and a reason.
    let (status, _) = d.stop();
    assert!(status.success());
    let shutdown = rt.block_on(async {
        let v = browser.run("return await window.wsClosed;", vec![]).await;
        browser.close().await;
        v
    });
    assert_eq!(shutdown["code"], 1001, "{shutdown:#}");
    assert_eq!(shutdown["was_clean"], true, "{shutdown:#}");
    assert_eq!(shutdown["reason"], "the daemon is shutting down");
}

#[test]
fn a_websocket_close_is_a_handshake_both_ways() {
    let mut d = start("");
    let url = ws_url(&d.url());
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let rt = runtime();
    let mut open = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}/ws?since=0"))
            .await
            .unwrap();
        let first = next_ws(&mut ws).await.unwrap().unwrap();
        let first: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
        assert_eq!(first["id"], "1");
        // A client's Close is answered (RFC 6455 §5.5.1), then the server ends the
        // connection: no reset, no waiting out a timeout.
        ws.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .unwrap();
        loop {
            match next_ws(&mut ws).await {
                Some(Ok(Message::Close(Some(f)))) => {
                    assert_eq!(f.code, CloseCode::Normal);
                    break;
                }
                Some(Ok(Message::Text(_))) => {}
                other => panic!("expected the server's Close, got {other:?}"),
            }
        }
        assert!(
            next_ws(&mut ws).await.is_none(),
            "closed after the handshake"
        );
        // One left open for the shutdown.
        let (ws, _) = tokio_tungstenite::connect_async(format!("{url}/ws"))
            .await
            .unwrap();
        ws
    });
    let (status, _) = d.stop();
    assert!(status.success());
    rt.block_on(async {
        match next_ws(&mut open).await {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(f.code, CloseCode::Away);
                assert_eq!(f.reason.as_str(), "the daemon is shutting down");
            }
            other => panic!("expected Close 1001, got {other:?}"),
        }
        assert!(next_ws(&mut open).await.is_none());
    });
}

#[test]
fn the_cloudevents_json_subprotocol_is_chosen_when_offered() {
    let mut d = start("");
    let url = ws_url(&d.url());
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let rt = runtime();
    rt.block_on(async {
        let offer = |protocols: &str| {
            let mut req = format!("{url}/ws?since=0").into_client_request().unwrap();
            req.headers_mut()
                .insert("sec-websocket-protocol", protocols.parse().unwrap());
            req
        };
        for offered in ["cloudevents.json", "graphql-ws, cloudevents.json"] {
            let (mut ws, resp) = tokio_tungstenite::connect_async(offer(offered))
                .await
                .unwrap_or_else(|e| panic!("{offered}: {e}"));
            assert_eq!(resp.headers()["sec-websocket-protocol"], "cloudevents.json");
            let first = next_ws(&mut ws).await.unwrap().unwrap();
            let first: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
            assert_eq!(first["specversion"], "1.0");
        }
        // Only subprotocols not spoken here: refused before the upgrade, with a reason.
        match tokio_tungstenite::connect_async(offer("graphql-ws")).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 400);
                let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
                assert!(body["error"].as_str().unwrap().contains("cloudevents.json"));
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    });
}

#[test]
fn pages_of_other_origins_may_not_open_a_websocket_unless_listed() {
    let d = start("cors_origins = [\"http://board.example:8080\"]\n");
    let url = ws_url(&d.url());
    let host = url.trim_start_matches("ws://").to_string();
    let rt = runtime();
    rt.block_on(async {
        let with_origin = |origin: &str| {
            let mut req = format!("{url}/ws").into_client_request().unwrap();
            req.headers_mut().insert("origin", origin.parse().unwrap());
            tokio_tungstenite::connect_async(req)
        };
        // Not a browser (no Origin), a page of the daemon's own origin, a listed one.
        assert!(tokio_tungstenite::connect_async(format!("{url}/ws"))
            .await
            .is_ok());
        for origin in [format!("http://{host}"), "http://board.example:8080".into()] {
            assert!(with_origin(&origin).await.is_ok(), "{origin}");
        }
        for origin in ["http://elsewhere.example", "null", "http://board.example"] {
            match with_origin(origin).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                    assert_eq!(resp.status(), 403, "{origin}");
                    let body: Value =
                        serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
                    assert!(body["error"].as_str().unwrap().contains("cors_origins"));
                }
                other => panic!("{origin}: expected a 403, got {other:?}"),
            }
        }
    });
}

#[test]
fn idle_websockets_are_pinged_so_proxies_keep_them() {
    let d = start("keepalive_secs = 1\n");
    let rt = runtime();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/ws", ws_url(&d.url())))
            .await
            .unwrap();
        match next_ws(&mut ws).await {
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected a Ping, got {other:?}"),
        }
    });
}

#[test]
fn a_pasted_development_id_works_as_the_subject_filter() {
    let mut d = start("");
    let url = d.url();
    let id = meeting_id(&mut d);
    let rt = runtime();
    rt.block_on(async {
        // Pasted as it is (`+` unencoded), and encoded as RFC 3986 wants it.
        for subject in [id.clone(), id.replace('+', "%2B")] {
            let mut s = Sse::open(&format!("{url}/events?since=0&subject={subject}"), None).await;
            let (_, first) = s.next().await.unwrap();
            assert_eq!(first["subject"], id.as_str(), "subject={subject}");
            assert_eq!(first["type"], "development.detected");
        }
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("{}/ws?since=0&subject={id}", ws_url(&url)))
                .await
                .unwrap();
        let first: Value =
            serde_json::from_str(next_ws(&mut ws).await.unwrap().unwrap().to_text().unwrap())
                .unwrap();
        assert_eq!(first["subject"], id.as_str());
    });
    // The command-line client sends it so that it arrives as given.
    let mut sub = std::process::Command::new(crate::support::bin())
        .args(["subscribe", "--since", "0", "--subject", &id, "--url", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = sub.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(TIMEOUT).expect("sitrep subscribe output");
    let _ = sub.kill();
    let _ = sub.wait();
    let first: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(first["subject"], id.as_str());
}

#[test]
fn filters_that_match_nothing_and_positions_ahead_of_the_log_are_refused() {
    let mut d = start("");
    let fresh = start("");
    let url = d.url();
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let all = d.events_file();
    let head = all.len() as u64;
    let source = all[0]["source"].as_str().unwrap().to_string();
    let rt = runtime();
    rt.block_on(async {
        let c = reqwest::Client::new();
        for query in ["types=", "types=,", "types=%20", "subject="] {
            let r = c.get(format!("{url}/events?{query}")).send().await.unwrap();
            assert_eq!(r.status(), 400, "{query}");
            let body: Value = r.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("empty"), "{body}");
            match tokio_tungstenite::connect_async(format!("{}/ws?{query}", ws_url(&url))).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                    assert_eq!(resp.status(), 400, "/ws?{query}")
                }
                other => panic!("/ws?{query}: expected a 400, got {other:?}"),
            }
        }
        // The head itself is a position of this log: nothing before it comes.
        let r = c
            .get(format!("{url}/events?since={head}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // One past it is not, however it is asked for.
        let ahead = head + 1;
        for req in [
            c.get(format!("{url}/events?since={ahead}")),
            c.get(format!("{url}/events"))
                .header("Last-Event-ID", ahead.to_string()),
        ] {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 409);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["head"], head, "{body}");
            assert_eq!(body["source"], source.as_str(), "{body}");
        }
        match tokio_tungstenite::connect_async(format!("{}/ws?since={ahead}", ws_url(&url))).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 409)
            }
            other => panic!("expected a 409, got {other:?}"),
        }
        // A client of this log that meets a daemon on a data folder started afresh is
        // told so: the head is behind it, and the source is another.
        let r = c
            .get(format!("{}/events", fresh.url()))
            .header("Last-Event-ID", head.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["head"], 0, "{body}");
        assert_ne!(body["source"], source.as_str(), "{body}");
    });
}

#[test]
fn every_data_folder_has_its_own_event_source_and_keeps_it_across_restarts() {
    let mut a = start("");
    let mut b = start("");
    for d in [&a, &b] {
        drop_file(&d.watch, "m.txt", MEETING.as_bytes());
    }
    let ea = a.wait_file("report.accepted", "m.txt");
    let eb = b.wait_file("report.accepted", "m.txt");
    let (sa, sb) = (
        ea["source"].as_str().unwrap(),
        eb["source"].as_str().unwrap(),
    );
    assert!(sa.starts_with("urn:sitrep:"), "{sa}");
    // The same first event of two logs: the same id, told apart by the source.
    assert_eq!(ea["id"], eb["id"]);
    assert_ne!(sa, sb);
    let sa = sa.to_string();
    assert_eq!(
        std::fs::read_to_string(a.data.join("source"))
            .unwrap()
            .trim(),
        sa
    );
    let rt = runtime();
    let ready = crate::api::get_json(&rt, &format!("{}/readyz", a.url()));
    assert_eq!(ready["source"], sa.as_str());
    drop(b);
    let (mut a, _) = a.restart(false);
    let name = drop_story(&a, 0);
    let later = a.wait_file("report.accepted", &name);
    assert_eq!(later["source"], sa.as_str(), "kept across a restart");
    assert!(a.events_file().iter().all(|e| e["source"] == sa.as_str()));
}

#[test]
fn event_streams_tell_proxies_not_to_buffer_them() {
    let d = start("");
    let rt = runtime();
    rt.block_on(async {
        let resp = reqwest::get(format!("{}/events", d.url())).await.unwrap();
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h["x-accel-buffering"], "no", "{h:?}");
        assert_eq!(h["content-type"], "text/event-stream");
        assert_eq!(h["cache-control"], "no-cache");
    });
}

#[test]
fn keepalives_are_comment_lines_that_no_parser_takes_for_an_event() {
    let mut d = start("keepalive_secs = 1\n");
    let url = d.url();
    let name = drop_story(&d, 0);
    d.wait_file("report.accepted", &name);
    let backlog = d.events_file().len();
    let rt = runtime();
    let resp = rt.block_on(reqwest::get(format!("{url}/events?since=0")));
    let mut raw = resp.unwrap().bytes_stream();
    let mut parsed = rt.block_on(Sse::open(&format!("{url}/events?since=0"), None));
    let mut text = String::new();
    let mut read_until = |text: &mut String, done: &dyn Fn(&str) -> bool| {
        rt.block_on(async {
            while !done(text) {
                let chunk = tokio::time::timeout(TIMEOUT, raw.next())
                    .await
                    .expect("bytes within the timeout")
                    .expect("an open stream")
                    .unwrap();
                text.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
    };
    // The backlog, then a keep-alive once the stream has been idle for a second.
    read_until(&mut text, &|t| t.lines().any(|l| l.starts_with(':')));
    // Then an event after the keep-alive.
    let name = drop_story(&d, 1);
    let next = d.wait_file("report.accepted", &name);
    let next_id = next["id"].as_str().unwrap().to_string();
    read_until(&mut text, &|t| t.contains(&format!("id: {next_id}\n")));
    read_until(&mut text, &|t| t.ends_with("\n\n"));
    // Every blank line ends a message with data: parsers that dispatch on each blank
    // line (httpx-sse 0.4 makes an empty event of one that follows a comment) see no
    // event the daemon did not send.
    for m in text.trim_end_matches('\n').split("\n\n") {
        let data = m.lines().filter(|l| l.starts_with("data: ")).count();
        assert_eq!(data, 1, "a message without exactly one data line: {m:?}");
    }
    assert!(text.contains("\n: keep-alive\nid: "), "{text:?}");
    // A conforming parser (the one `sitrep subscribe` uses) reads through it.
    let got = rt.block_on(async {
        let mut got = Vec::new();
        while got
            .last()
            .is_none_or(|e: &Value| e["id"] != next_id.as_str())
        {
            got.push(parsed.next().await.expect("an event").1);
        }
        got
    });
    assert!(got.len() > backlog, "{} events", got.len());
    assert_eq!(got[backlog - 1]["id"], backlog.to_string());
}

#[test]
fn the_bearer_scheme_is_matched_in_any_case_and_a_wrong_token_is_named_invalid() {
    let d = start("token = \"s3cret+token\"\n");
    let url = d.url();
    let rt = runtime();
    rt.block_on(async {
        let c = reqwest::Client::new();
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let r = c
                .get(format!("{url}/situation"))
                .header("Authorization", format!("{scheme} s3cret+token"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{scheme}");
        }
        // A token pasted into the URL as it is, `+` and all, or encoded.
        for token in ["s3cret+token", "s3cret%2Btoken"] {
            let r = c
                .get(format!("{url}/situation?access_token={token}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{token}");
        }
        let r = c
            .get(format!("{url}/situation"))
            .header("Authorization", "Bearer nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        // No token at all is not an invalid one (RFC 6750 §3.1).
        let r = c.get(format!("{url}/situation")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(!challenge.contains("error="), "{challenge}");
    });
}

#[test]
fn every_error_is_json_and_healthz_too() {
    let d = start("");
    let url = d.url();
    let rt = runtime();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let long_url = format!("{url}/situation?pad={}", "x".repeat(10 * 1024));
        let cases = [
            ("POST /situation", c.post(format!("{url}/situation")), 405),
            (
                "OPTIONS /events",
                c.request(reqwest::Method::OPTIONS, format!("{url}/events")),
                405,
            ),
            ("a 10 KiB URL", c.get(long_url), 414),
            (
                "a 40 KiB header",
                c.get(format!("{url}/situation"))
                    .header("X-Padding", "y".repeat(40 * 1024)),
                431,
            ),
            (
                "a path that is not UTF-8",
                c.get(format!("{url}/developments/%FF%FE")),
                400,
            ),
            (
                "a query that is not UTF-8",
                c.get(format!("{url}/events?subject=%FF")),
                400,
            ),
            (
                "a % without hex digits",
                c.get(format!("{url}/events?subject=a%ZZ")),
                400,
            ),
            (
                "a parameter twice",
                c.get(format!(
                    "{url}/events?types=report.accepted&types=report.rejected"
                )),
                400,
            ),
            ("/ws without an upgrade", c.get(format!("{url}/ws")), 0),
        ];
        for (what, req, code) in cases {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            if code == 0 {
                assert!(status >= 400, "{what}: {status}");
            } else {
                assert_eq!(status, code, "{what}");
            }
            if status == 405 {
                assert!(
                    r.headers()["allow"].to_str().unwrap().contains("GET"),
                    "{what}"
                );
            }
            assert_eq!(r.headers()["content-type"], "application/json", "{what}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["status"], status, "{what}: {body}");
            assert!(
                body["error"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}: {body}"
            );
        }
        let r = c.get(format!("{url}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    });
}

/// A report of `outlet` on `day`, about a council meeting in a town of its own.
fn outlet_report(outlet: &str, day: &str, town: &str) -> String {
    format!(
        "source: {outlet}\ndate: {day}\n\nCouncil sits in {town}\n\nThe council of {town} met on {day} to discuss the harbour.\n"
    )
}

#[test]
fn reports_are_listed_a_page_at_a_time_by_outlet_and_time() {
    let mut d = start("");
    let url = d.url();
    let files = [
        ("a.txt", "Tallis Wire", "2031-04-03", "Arnholm"),
        ("b.txt", "Moor Gazette", "2031-04-01", "Bexley"),
        ("c.txt", "Tallis Wire", "2031-04-01", "Corvale"),
        ("d.txt", "Tallis Wire", "2031-04-02", "Dunmore"),
        ("e.txt", "Moor Gazette", "2031-04-04", "Eastwick"),
    ];
    let mut ids = std::collections::BTreeMap::new();
    for (file, outlet, day, town) in files {
        drop_file(&d.watch, file, outlet_report(outlet, day, town).as_bytes());
        let e = d.wait_file("report.accepted", file);
        ids.insert(file, e["subject"].as_str().unwrap().to_string());
    }
    let rt = runtime();
    let get = |q: &str| -> (u16, Value) {
        rt.block_on(async {
            let r = reqwest::get(format!("{url}/reports{q}")).await.unwrap();
            (r.status().as_u16(), r.json().await.unwrap())
        })
    };
    let files_of = |v: &Value| -> Vec<String> {
        v["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["file"].as_str().unwrap().to_string())
            .collect()
    };
    // Publication order (ties by id), two at a time.
    let mut pages = Vec::new();
    let mut q = "?limit=2".to_string();
    loop {
        let (status, page) = get(&q);
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 5);
        assert!(page["reports"].as_array().unwrap().len() <= 2);
        pages.extend(files_of(&page));
        match page["next"].as_str() {
            Some(next) => q = format!("?limit=2&after={next}"),
            None => break,
        }
    }
    let (b, c) = (ids["b.txt"].as_str(), ids["c.txt"].as_str());
    let first_day = if b < c {
        ["b.txt", "c.txt"]
    } else {
        ["c.txt", "b.txt"]
    };
    assert_eq!(
        pages,
        [first_day[0], first_day[1], "d.txt", "a.txt", "e.txt"]
    );
    // One outlet, as a form encoder writes it and in another case.
    for q in ["?source=Tallis+Wire", "?source=tallis%20wire"] {
        let (status, page) = get(q);
        assert_eq!(status, 200, "{q}: {page}");
        assert_eq!(files_of(&page), ["c.txt", "d.txt", "a.txt"], "{q}");
        assert_eq!(page["total"], 3);
    }
    // A span of publication times: from (inclusive) to (exclusive), days or RFC 3339.
    let (_, page) = get("?from=2031-04-02&to=2031-04-04");
    assert_eq!(files_of(&page), ["d.txt", "a.txt"]);
    let (_, page) = get("?from=2031-04-02T00:00:00%2B02:00&to=2031-04-02T12:00:00Z");
    assert_eq!(files_of(&page), ["d.txt"]);
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?after=0000000000000000",
        "?from=yesterday",
        "?source=",
        "?outlet=Tallis",
    ] {
        let (status, body) = get(bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[test]
fn report_objects_and_events_agree_on_revises() {
    let mut d = start("");
    let url = d.url();
    let text = outlet_report("Tallis Wire", "2031-04-03", "Arnholm");
    drop_file(&d.watch, "a.txt", text.as_bytes());
    let first = d.wait_file("report.accepted", "a.txt");
    let first_id = first["subject"].as_str().unwrap().to_string();
    let revised = format!("{text}The harbour master resigned on the same day.\n");
    std::fs::write(d.watch.join("a.txt"), revised).unwrap();
    let event = d.wait_for("the revision", |e| {
        e["type"] == "report.accepted" && e["data"]["revises"] == first_id.as_str()
    });
    let rt = runtime();
    let new_id = event["subject"].as_str().unwrap();
    let one = get_report(&rt, &url, new_id);
    assert_eq!(one["report"]["revises"], event["data"]["revises"]);
    // No revision: `null`, as in `report.accepted`, not a missing field.
    assert!(first["data"]["revises"].is_null());
    for v in [
        get_report(&rt, &url, &first_id)["report"].clone(),
        crate::api::get_json(&rt, &format!("{url}/situation"))["reports"][0].clone(),
    ] {
        assert!(
            v.as_object()
                .unwrap()
                .get("revises")
                .is_some_and(|r| r.is_null() || r == &event["data"]["revises"]),
            "{v}"
        );
    }
}

fn get_report(rt: &tokio::runtime::Runtime, url: &str, id: &str) -> Value {
    crate::api::get_json(rt, &format!("{url}/reports/{id}"))
}
