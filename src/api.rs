//! The HTTP API: change events over Server-Sent Events and WebSocket, resumable from a
//! sequence number; the situation (and its stories) as JSON; health and Prometheus metrics.
//!
//! A client takes `GET /situation` (which carries the `seq` it is consistent with), then
//! streams `GET /events?since=<seq>`: every later event, no gap, no repeat. After a
//! disconnect, the `Last-Event-ID` header (sent by every EventSource) resumes the stream.
//! See `docs/API.md`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::hub::{Emitted, Gone, Hub, Subscription};
use crate::state::SituationHandle;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct Api {
    pub hub: Arc<Hub>,
    pub situation: SituationHandle,
    pub token: Option<Arc<str>>,
    pub keepalive: Duration,
    pub source: Arc<str>,
}

/// An API error: a status and a message, sent as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no {what} with id `{id}`"))
    }
}

impl From<Gone> for ApiError {
    fn from(g: Gone) -> Self {
        Self::new(StatusCode::GONE, g.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response()
    }
}

/// The routes, with the token check on all but `/healthz`.
pub fn router(api: Api) -> Router {
    let guarded = Router::new()
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/events", get(events))
        .route("/ws", get(ws))
        .route("/situation", get(situation))
        .route("/developments", get(developments))
        .route("/developments/{*id}", get(development))
        .route("/entities", get(entities))
        .route("/entities/{id}", get(entity))
        .route("/reports/{id}", get(report))
        .route("/stories", get(stories))
        .route("/stories/{id}", get(story))
        .route_layer(middleware::from_fn_with_state(api.clone(), require_token));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(guarded)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(api)
}

/// Binds the listener: a clear error for a bad or busy address.
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: &str) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Byte-wise comparison that takes the same time wherever the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(
    State(api): State<Api>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = &api.token else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        // Browsers' EventSource cannot set headers.
        .or_else(|| q.get("access_token").cloned());
    match given {
        Some(g) if same_secret(g.as_bytes(), token.as_bytes()) => next.run(req).await,
        Some(_) => ApiError::new(StatusCode::UNAUTHORIZED, "wrong bearer token").into_response(),
        None => {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required (Authorization: Bearer ...)",
            )
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
            r
        }
    }
}

async fn readyz(State(api): State<Api>) -> Response {
    if api.hub.is_ready() {
        Json(json!({"ready": true, "seq": api.hub.last_seq()})).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the initial scan of the watch folder is not done yet",
        )
        .into_response()
    }
}

async fn metrics(State(api): State<Api>) -> Response {
    let mut body = crate::metrics::render_prometheus();
    body.push_str(&hub_metrics(&api.hub));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The API's own series, in the Prometheus text format.
fn hub_metrics(hub: &Hub) -> String {
    let s = &hub.stats;
    let mut out = String::new();
    for (name, kind, help, value) in [
        (
            "sitrep_events_published_total",
            "counter",
            "Change events published (durable) since start-up.",
            s.published.load(Ordering::Relaxed),
        ),
        (
            "sitrep_last_event_seq",
            "gauge",
            "Sequence number of the last published event.",
            hub.last_seq(),
        ),
        (
            "sitrep_subscribers",
            "gauge",
            "Event stream subscribers connected (SSE and WebSocket).",
            s.subscribers.load(Ordering::Relaxed),
        ),
        (
            "sitrep_subscribers_lagged_total",
            "counter",
            "Subscribers dropped because they fell too far behind.",
            s.lagged_dropped.load(Ordering::Relaxed),
        ),
        (
            "sitrep_ready",
            "gauge",
            "1 once the initial scan of the watch folder is done.",
            u64::from(hub.is_ready()),
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    out
}

async fn situation(State(api): State<Api>) -> Json<serde_json::Value> {
    Json(api.situation.snapshot_json())
}

async fn developments(State(api): State<Api>) -> Json<serde_json::Value> {
    Json(
        api.situation.read(|s| {
            let list: Vec<_> = s
                .developments()
                .map(|d| s.development_in_story(d))
                .collect();
            json!({"seq": s.seq(), "developments": list})
        }),
    )
}

async fn development(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation
        .read(|s| {
            s.development(&id)
                .map(|d| json!({"seq": s.seq(), "development": s.development_in_story(d)}))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found("development", &id))
}

async fn entities(State(api): State<Api>) -> Json<serde_json::Value> {
    Json(
        api.situation
            .read(|s| json!({"seq": s.seq(), "entities": s.entities().collect::<Vec<_>>()})),
    )
}

async fn entity(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation
        .read(|s| s.entity(&id).map(|e| json!({"seq": s.seq(), "entity": e})))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("entity", &id))
}

async fn report(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation
        .read(|s| {
            s.report(&id)
                .map(|r| json!({"seq": s.seq(), "report": s.report_in_story(r)}))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found("report", &id))
}

async fn stories(State(api): State<Api>) -> Json<serde_json::Value> {
    Json(api.situation.read(|s| {
        let list: Vec<_> = s.stories().all().map(|st| st.summary()).collect();
        json!({"seq": s.seq(), "stories": list})
    }))
}

async fn story(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation
        .read(|s| s.stories().get(&id).map(|st| json!({"seq": s.seq(), "story": st})))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("story", &id))
}

/// What a stream wants: where to start and which events.
#[derive(Debug, Clone, Default)]
struct StreamParams {
    since: Option<u64>,
    types: Option<Vec<String>>,
    subject: Option<String>,
}

impl StreamParams {
    fn parse(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<Self, ApiError> {
        let seq = |what: &str, v: &str| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{what} must be a sequence number, not `{v}`"))
            })
        };
        // Last-Event-ID (a reconnecting EventSource) wins over the URL it reconnects to.
        let since = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
            Some(v) if !v.trim().is_empty() => Some(seq("Last-Event-ID", v)?),
            _ => match q.get("since") {
                Some(v) => Some(seq("since", v)?),
                None => None,
            },
        };
        let types = match q.get("types") {
            Some(v) => {
                let list: Vec<String> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = list
                    .iter()
                    .find(|t| !crate::events::types::ALL.contains(&t.as_str()))
                {
                    return Err(ApiError::bad_request(format!(
                        "unknown event type `{bad}`; known: {}",
                        crate::events::types::ALL.join(", ")
                    )));
                }
                Some(list)
            }
            None => None,
        };
        for key in q.keys() {
            if !["since", "types", "subject", "access_token"].contains(&key.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}` (since, types, subject)"
                )));
            }
        }
        Ok(Self {
            since,
            types,
            subject: q.get("subject").cloned(),
        })
    }

    fn wants(&self, e: &Emitted) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&e.kind))
            && self.subject.as_ref().is_none_or(|s| *s == e.subject)
    }
}

/// One item of a subscriber's stream.
#[derive(Debug)]
enum Frame {
    Event(Arc<Emitted>),
    /// The subscriber fell too far behind: the last event it was sent, then the end.
    Lagged {
        last_delivered: u64,
    },
}

/// Counts a subscriber while its stream lives.
#[derive(Debug)]
struct Connected(Arc<Hub>);

impl Connected {
    fn new(hub: Arc<Hub>) -> Self {
        hub.stats.subscribers.fetch_add(1, Ordering::Relaxed);
        Self(hub)
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.stats.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The backlog, then live events newer than anything already sent, filtered.
fn frames(hub: Arc<Hub>, sub: Subscription, params: StreamParams) -> impl Stream<Item = Frame> {
    let guard = Connected::new(hub.clone());
    let since = params.since.unwrap_or(0);
    let seen = sub.backlog.last().map_or(since, |e| e.seq);
    let sent = sub
        .backlog
        .iter()
        .rev()
        .find(|e| params.wants(e))
        .map_or(since, |e| e.seq);
    let p = params.clone();
    let backlog = stream::iter(
        sub.backlog
            .into_iter()
            .filter(move |e| p.wants(e))
            .map(Frame::Event),
    );
    struct Live {
        rx: tokio::sync::broadcast::Receiver<Arc<Emitted>>,
        seen: u64,
        sent: u64,
        done: bool,
        params: StreamParams,
        guard: Connected,
    }
    let live = stream::unfold(
        Live {
            rx: sub.live,
            seen,
            sent,
            done: false,
            params,
            guard,
        },
        |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                match st.rx.recv().await {
                    Ok(e) if e.seq <= st.seen => {}
                    Ok(e) => {
                        st.seen = e.seq;
                        if st.params.wants(&e) {
                            st.sent = e.seq;
                            return Some((Frame::Event(e), st));
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        st.done = true;
                        st.guard
                            .0
                            .stats
                            .lagged_dropped
                            .fetch_add(1, Ordering::Relaxed);
                        let last = st.sent;
                        return Some((
                            Frame::Lagged {
                                last_delivered: last,
                            },
                            st,
                        ));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    backlog.chain(live)
}

fn lagged_json(source: &str, last_delivered: u64) -> String {
    json!({
        "specversion": "1.0",
        "type": "stream.lagged",
        "source": source,
        "id": format!("lagged-{last_delivered}"),
        "datacontenttype": "application/json",
        "data": {
            "last_delivered": last_delivered,
            "message": "this subscriber fell too far behind and is disconnected; reconnect with Last-Event-ID (or ?since=) set to last_delivered to resume without loss",
        },
    })
    .to_string()
}

async fn events(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let params = StreamParams::parse(&q, &headers)?;
    let sub = api.hub.subscribe(params.since)?;
    let source = api.source.clone();
    let stream = frames(api.hub.clone(), sub, params).map(move |f| {
        Ok::<_, Infallible>(match f {
            Frame::Event(e) => Event::default().id(e.seq.to_string()).data(e.json.get()),
            // No id: the client's Last-Event-ID stays at the last event it really got.
            Frame::Lagged { last_delivered } => Event::default()
                .event("stream.lagged")
                .data(lagged_json(&source, last_delivered)),
        })
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(api.keepalive))
        .into_response())
}

async fn ws(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let params = StreamParams::parse(&q, &headers)?;
    let sub = api.hub.subscribe(params.since)?;
    let frames = frames(api.hub.clone(), sub, params);
    let source = api.source.clone();
    Ok(upgrade.on_upgrade(move |socket| serve_ws(socket, frames, source)))
}

async fn serve_ws(mut socket: WebSocket, frames: impl Stream<Item = Frame>, source: Arc<str>) {
    tokio::pin!(frames);
    loop {
        tokio::select! {
            f = frames.next() => match f {
                Some(Frame::Event(e)) => {
                    if socket.send(Message::Text(e.json.get().into())).await.is_err() {
                        return;
                    }
                }
                Some(Frame::Lagged { last_delivered }) => {
                    let _ = socket.send(Message::Text(lagged_json(&source, last_delivered).into())).await;
                    break;
                }
                None => break,
            },
            m = socket.recv() => match m {
                // Clients have nothing to say; a close or an error ends the stream.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
