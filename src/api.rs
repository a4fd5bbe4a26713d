//! The HTTP API: change events over Server-Sent Events and WebSocket, resumable from a
//! sequence number; the situation (and its stories) as JSON, and its reports a page at a
//! time; health and Prometheus metrics.
//!
//! A client takes `GET /situation` (which carries the `seq` it is consistent with), then
//! streams `GET /events?since=<seq>`: every later event, no gap, no repeat. After a
//! disconnect, the `Last-Event-ID` header (sent by every EventSource) resumes the stream.
//!
//! The edges are held to what clients the project did not write expect: every error is
//! JSON, query values are read as RFC 3986 writes them, browsers on other origins get
//! in only through `api.cors_origins` (WebSocket included), and every WebSocket close is
//! a closing handshake with a code. See `docs/API.md`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::task::TaskTracker;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::hub::{Emitted, Gone, Hub, Subscription};
use crate::retraction::{RetractError, RetractRequest, MAX_NOTE_BYTES};
use crate::source::Intake;
use crate::state::{ReportInfo, SituationHandle};

/// The WebSocket subprotocol of the CloudEvents WebSocket binding: one structured-mode
/// JSON event per text message, which is what `/ws` sends.
pub const CLOUDEVENTS_JSON: &str = "cloudevents.json";

/// Close code of a WebSocket subscriber dropped for falling behind (in the 4000-4999
/// range RFC 6455 leaves to applications). The reason says where to resume.
pub const CLOSE_LAGGED: u16 = 4000;

/// How long a closing WebSocket waits for the peer's Close before dropping the connection.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The longest URL (path and query) read; longer ones get a JSON 414.
const MAX_URL_BYTES: usize = 8 * 1024;

/// The largest header section read (names, values and their separators); larger ones get
/// a JSON 431. Both limits sit well inside the HTTP layer's own (a 64 KiB request line,
/// 100 header fields, about 400 KiB of head), past which it answers with a bare status.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct Api {
    pub hub: Arc<Hub>,
    pub situation: SituationHandle,
    pub token: Option<Arc<str>>,
    pub keepalive: Duration,
    /// The CloudEvents `source` of this log's events.
    pub source: Arc<str>,
    /// `api.cors_origins`: empty, no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// The WebSocket connections, so shutdown can let them finish their closing handshake.
    pub sockets: TaskTracker,
    /// The situation board served at `/` (see [`crate::board`]).
    pub board: Arc<crate::board::Board>,
    /// The pipeline's intake, where retractions go to the situation writer. Weak, so that
    /// the API never keeps the pipeline from draining at shutdown; `None`: no retractions.
    pub retract: Option<tokio::sync::mpsc::WeakSender<Intake>>,
}

impl Api {
    /// The last sequence number given out. The situation numbers an event before the
    /// journal makes it durable and the hub publishes it, so a `seq` from `/situation`
    /// may be one the hub has not published yet; it is still a position of this log.
    fn head(&self) -> u64 {
        self.hub
            .last_seq()
            .max(self.situation.read(crate::state::Situation::seq))
    }
}

/// An API error: a status and a message, sent as JSON with any further fields.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    extra: serde_json::Map<String, Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: serde_json::Map::new(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no {what} with id `{id}`"))
    }
    fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }
}

impl From<Gone> for ApiError {
    fn from(g: Gone) -> Self {
        Self::new(StatusCode::GONE, g.to_string()).with("oldest", g.oldest)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("error".into(), self.message.into());
        body.insert("status".into(), self.status.as_u16().into());
        (self.status, Json(Value::Object(body))).into_response()
    }
}

/// The routes, with the token check on all but `/healthz` and the board's page and assets
/// (which hold no situation data); every error as JSON; CORS when `api.cors_origins` names
/// origins.
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
        .route("/reports", get(reports))
        .route("/reports/{id}", get(report))
        .route("/reports/{id}/retract", post(retract))
        .route("/stories", get(stories))
        .route("/stories/{id}", get(story))
        .route("/board/places", get(crate::board::located))
        .route_layer(middleware::from_fn_with_state(api.clone(), require_token));
    let cors = cors(&api.cors_origins);
    let router = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .merge(crate::board::assets())
        .merge(guarded)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(request_limits))
        .with_state(api);
    match cors {
        // Outermost, so preflights are answered before the token check (browsers send
        // them without credentials) and errors carry the headers a page needs to read them.
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The CORS policy for `origins` (validated by the settings): reading only (`GET`,
/// `HEAD`), any request header (the token and `Last-Event-ID` among them; no cookies are
/// used, so nothing rides along unasked), and private-network access, so a page on an
/// intranet host may read a daemon on loopback.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD])
            .allow_headers(AllowHeaders::mirror_request())
            .allow_private_network(true)
            .max_age(Duration::from_secs(3600)),
    )
}

/// Refuses URLs and header sections beyond [`MAX_URL_BYTES`] and [`MAX_HEADER_BYTES`]
/// with a JSON error, before the HTTP layer's own limits answer without a body.
async fn request_limits(req: Request, next: Next) -> Response {
    let url = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if url > MAX_URL_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the URL is {url} bytes long; at most {MAX_URL_BYTES} are read"),
        )
        .into_response();
    }
    let head: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request headers are {head} bytes long; at most {MAX_HEADER_BYTES} are read"
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Turns the errors the router and extractors answer by themselves (an unsupported
/// method, a bad upgrade request) into the JSON errors every client of the API expects.
async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let resp = next.run(req).await;
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = parts
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("GET, HEAD");
        format!("{method} is not served here; allowed: {allowed}")
    } else if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let mut resp = ApiError::new(status, message).into_response();
    let headers = std::mem::take(&mut parts.headers);
    for (name, value) in &headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

/// A query parameter's value, percent-decoded.
///
/// RFC 3986 reads `+` as itself and HTML forms as a space; development ids hold `+`
/// (`meeting/a+b`, pasted as is) and outlet and file names hold spaces (which form
/// encoders write as `+`), so where the raw value has a `+` both readings are kept and
/// either may match. `%2B` and `%20` are exact.
#[derive(Debug, Clone)]
struct QueryValue {
    exact: String,
    spaced: Option<String>,
}

impl QueryValue {
    fn readings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.exact.as_str()).chain(self.spaced.as_deref())
    }

    fn matches(&self, s: &str) -> bool {
        self.readings().any(|r| r == s)
    }
}

/// Percent-decodes `raw`, refusing a `%` without two hex digits and bytes that are not
/// UTF-8 (form decoding would put replacement characters in their place silently).
fn percent_decode(raw: &str) -> Result<String, ApiError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + p;
        let hex = bytes.get(at + 1..at + 3);
        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(ApiError::bad_request(format!(
                "bad percent-encoding in the query: `{raw}` has a `%` not followed by two hex digits"
            )));
        }
        i = at + 3;
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            ApiError::bad_request(format!(
                "bad percent-encoding in the query: `{raw}` does not decode to UTF-8 text"
            ))
        })
}

/// The query string, each key once.
#[derive(Debug, Default)]
struct Params(Vec<(String, QueryValue)>);

impl Params {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut out: Vec<(String, QueryValue)> = Vec::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(k)?;
            let value = QueryValue {
                exact: percent_decode(v)?,
                spaced: if v.contains('+') {
                    Some(percent_decode(&v.replace('+', "%20"))?)
                } else {
                    None
                },
            };
            if out.iter().any(|(seen, _)| *seen == key) {
                return Err(ApiError::bad_request(format!(
                    "query parameter `{key}` is given twice"
                )));
            }
            out.push((key, value));
        }
        Ok(Self(out))
    }

    fn get(&self, key: &str) -> Option<&QueryValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Refuses keys other than `known` (and the token): a misspelt filter would
    /// otherwise widen the answer silently.
    fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self
            .0
            .iter()
            .find(|(k, _)| k != "access_token" && !known.contains(&k.as_str()))
        {
            Some((key, _)) => Err(ApiError::bad_request(format!(
                "unknown query parameter `{key}` ({})",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query())
    }
}

/// An id from the path, with a JSON error when it is not percent-encoded UTF-8.
#[derive(Debug)]
struct IdPath(String);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| IdPath(id))
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "bad percent-encoding in the path: {}",
                    e.body_text()
                ))
            })
    }
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

/// The credentials of an `Authorization` value in the `Bearer` scheme, whose name is
/// matched without regard to case (RFC 7235 §2.1).
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_start())
}

async fn require_token(State(api): State<Api>, req: Request, next: Next) -> Response {
    let Some(token) = &api.token else {
        return next.run(req).await;
    };
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials)
        .map(str::to_string);
    let given: Vec<String> = match header {
        Some(h) => vec![h],
        // Browsers' EventSource and WebSocket cannot set headers.
        None => match Params::parse(req.uri().query()) {
            Ok(q) => q
                .get("access_token")
                .map(|v| v.readings().map(str::to_string).collect())
                .unwrap_or_default(),
            Err(e) => return e.into_response(),
        },
    };
    if given.is_empty() {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required (Authorization: Bearer ...)",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sitrep\""),
        );
        return r;
    }
    if given
        .iter()
        .any(|g| same_secret(g.as_bytes(), token.as_bytes()))
    {
        return next.run(req).await;
    }
    // RFC 6750 §3.1: a token was given and is not the one.
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "wrong bearer token").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer realm=\"sitrep\", error=\"invalid_token\", error_description=\"the token is not this daemon's\"",
        ),
    );
    r
}

async fn readyz(State(api): State<Api>) -> Response {
    if api.hub.is_ready() {
        Json(json!({"ready": true, "seq": api.hub.last_seq(), "source": &*api.source}))
            .into_response()
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
    Json(api.situation.read(|s| {
        let list: Vec<_> = s
            .developments()
            .map(|d| s.development_in_story(d))
            .collect();
        json!({"seq": s.seq(), "developments": list})
    }))
}

async fn development(
    State(api): State<Api>,
    IdPath(id): IdPath,
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
    IdPath(id): IdPath,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation
        .read(|s| s.entity(&id).map(|e| json!({"seq": s.seq(), "entity": e})))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("entity", &id))
}

async fn report(
    State(api): State<Api>,
    IdPath(id): IdPath,
) -> Result<Json<serde_json::Value>, ApiError> {
    api.situation.read(|s| {
        if let Some(r) = s.report(&id) {
            let mut report = serde_json::to_value(s.report_in_story(r)).unwrap_or_default();
            report["sentence_texts"] = json!(s.report_sentences(&id));
            return Ok(Json(json!({"seq": s.seq(), "report": report})));
        }
        Err(match s.retraction(&id) {
            Some(r) => ApiError::new(StatusCode::GONE, format!("report `{id}` was retracted"))
                .with("retraction", json!(r)),
            None => ApiError::not_found("report", &id),
        })
    })
}

/// The body of `POST /reports/{id}/retract`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RetractBody {
    reason: Option<String>,
    by: Option<String>,
}

/// `POST /reports/{id}/retract`: hands the retraction to the situation writer and answers
/// once its events are durable and published, with those events.
///
/// A JSON body is required (`{}` will do): a page of another origin cannot send one
/// without a CORS preflight, which this daemon never grants for `POST`, so no web page
/// the user opens can retract reports on a daemon without a token.
async fn retract(
    State(api): State<Api>,
    headers: HeaderMap,
    IdPath(id): IdPath,
    body: Result<Json<RetractBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !origin_may_open(origin, headers.get(header::HOST), &api.cors_origins) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "pages of origin {} may not write to this daemon",
                    origin.to_str().unwrap_or("(not text)")
                ),
            ));
        }
    }
    let Json(body) = body.map_err(|r| {
        ApiError::new(
            r.status(),
            format!(
                "the body must be a JSON object with optional `reason` and `by` strings: {}",
                r.body_text()
            ),
        )
    })?;
    for (key, v) in [("reason", &body.reason), ("by", &body.by)] {
        if v.as_ref().is_some_and(|v| v.len() > MAX_NOTE_BYTES) {
            return Err(ApiError::bad_request(format!(
                "{key} is longer than {MAX_NOTE_BYTES} bytes"
            )));
        }
    }
    let unavailable = |why: &str| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why.to_string());
    let intake = api
        .retract
        .as_ref()
        .and_then(tokio::sync::mpsc::WeakSender::upgrade)
        .ok_or_else(|| unavailable("the daemon is stopping and takes no retractions"))?;
    let (req, answer) = RetractRequest::new(id.clone(), body.reason, body.by);
    if intake.send(Intake::Retract(req)).await.is_err() {
        return Err(unavailable(
            "the daemon is stopping and takes no retractions",
        ));
    }
    drop(intake);
    let done = answer
        .await
        .map_err(|_| unavailable("the daemon stopped before the retraction was done"))?;
    match done {
        Ok(r) => {
            let seq = r
                .events
                .last()
                .and_then(|e| crate::journal::event_seq(e))
                .unwrap_or_else(|| api.head());
            Ok(
                Json(json!({"seq": seq, "retraction": r.retraction, "events": r.events}))
                    .into_response(),
            )
        }
        Err(RetractError::Unknown(_)) => Err(ApiError::not_found("report", &id)),
        Err(RetractError::AlreadyRetracted(r)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("report `{}` was already retracted", r.report),
        )
        .with("retraction", json!(r))),
        Err(e @ RetractError::Unavailable(_)) => Err(unavailable(&e.to_string())),
    }
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
        .read(|s| {
            s.stories()
                .get(&id)
                .map(|st| json!({"seq": s.seq(), "story": st}))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found("story", &id))
}

/// Reports on one page of `GET /reports` unless `limit` says otherwise, and the most.
const REPORTS_PAGE: usize = 100;
const REPORTS_PAGE_MAX: usize = 1000;

/// `from` or `to` of `GET /reports`: an RFC 3339 time, or a day (its midnight, UTC).
fn time_param(q: &Params, key: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(v) = q.get(key) else {
        return Ok(None);
    };
    let day = time::macros::format_description!("[year]-[month]-[day]");
    for r in v.readings() {
        if let Ok(t) = OffsetDateTime::parse(r, &time::format_description::well_known::Rfc3339) {
            return Ok(Some(t));
        }
        if let Ok(d) = time::Date::parse(r, day) {
            return Ok(Some(d.midnight().assume_utc()));
        }
    }
    Err(ApiError::bad_request(format!(
        "{key} must be an RFC 3339 time (2031-04-05T06:00:00Z) or a day (2031-04-05), not `{}`",
        v.exact
    )))
}

/// `GET /reports`: the reports in publication order (ties by id), a page at a time,
/// optionally of one outlet and a span of publication times, so a client need not take
/// the whole `/situation` to list them.
async fn reports(State(api): State<Api>, q: Params) -> Result<Json<Value>, ApiError> {
    q.only(&["source", "from", "to", "after", "limit"])?;
    let outlet: Option<Vec<String>> = match q.get("source") {
        Some(v) if v.exact.trim().is_empty() => {
            return Err(ApiError::bad_request(
                "source is empty, which no report has; leave it out for every outlet",
            ))
        }
        Some(v) => Some(v.readings().map(str::to_lowercase).collect()),
        None => None,
    };
    let from = time_param(&q, "from")?;
    let to = time_param(&q, "to")?;
    let limit = match q.get("limit") {
        Some(v) => v
            .exact
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=REPORTS_PAGE_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be a number from 1 to {REPORTS_PAGE_MAX}, not `{}`",
                    v.exact
                ))
            })?,
        None => REPORTS_PAGE,
    };
    let after = q.get("after").map(|v| v.exact.clone());
    api.situation.read(|s| {
        let key = |r: &ReportInfo| (r.published_at, r.id.clone());
        let cursor = match &after {
            Some(id) => Some(s.report(id).map(key).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "after must be the id of a report (the `next` of the page before), not `{id}`"
                ))
            })?),
            None => None,
        };
        let mut hits: Vec<&ReportInfo> = s
            .reports()
            .filter(|r| {
                outlet.as_ref().is_none_or(|o| {
                    r.source
                        .as_ref()
                        .is_some_and(|src| o.contains(&src.to_lowercase()))
                }) && from.is_none_or(|t| r.published_at >= t)
                    && to.is_none_or(|t| r.published_at < t)
            })
            .collect();
        let total = hits.len();
        if let Some(c) = &cursor {
            hits.retain(|r| (r.published_at, &r.id) > (c.0, &c.1));
        }
        let order = |a: &&ReportInfo, b: &&ReportInfo| {
            (a.published_at, &a.id).cmp(&(b.published_at, &b.id))
        };
        let more = hits.len() > limit;
        if more {
            hits.select_nth_unstable_by(limit, order);
            hits.truncate(limit);
        }
        hits.sort_unstable_by(order);
        let next = if more {
            hits.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Json(json!({
            "seq": s.seq(),
            "total": total,
            "reports": hits,
            "next": next,
        })))
    })
}

/// What a stream wants: where to start and which events.
#[derive(Debug, Clone, Default)]
struct StreamParams {
    since: Option<u64>,
    types: Option<Vec<String>>,
    subject: Option<QueryValue>,
}

impl StreamParams {
    fn parse(q: &Params, headers: &HeaderMap, api: &Api) -> Result<Self, ApiError> {
        q.only(&["since", "types", "subject"])?;
        let seq = |what: &str, v: &str| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{what} must be a sequence number, not `{v}`"))
            })
        };
        // Last-Event-ID (a reconnecting EventSource) wins over the URL it reconnects to.
        let since = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
            Some(v) if !v.trim().is_empty() => Some(("Last-Event-ID", seq("Last-Event-ID", v)?)),
            _ => match q.get("since") {
                Some(v) => Some(("since", seq("since", &v.exact)?)),
                None => None,
            },
        };
        let types = match q.get("types") {
            Some(v) => {
                let list: Vec<String> = v
                    .exact
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                if list.is_empty() {
                    return Err(ApiError::bad_request(
                        "types is empty, which matches no event; leave it out for every type",
                    ));
                }
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
        let subject = match q.get("subject") {
            Some(v) if v.exact.is_empty() => {
                return Err(ApiError::bad_request(
                    "subject is empty, which no event has; leave it out for every subject",
                ))
            }
            other => other.cloned(),
        };
        if let Some((what, since)) = since {
            let head = api.head();
            if since > head {
                // Never silently: a position this log has not reached is another log's
                // (a data directory started afresh numbers from 1 again), and waiting
                // for it would skip every event up to it without a word.
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "{what} {since} is ahead of this log, whose last event is {head}: the position belongs to another log (a data directory started afresh, or another daemon; compare `source`); take /situation and stream from its seq"
                    ),
                )
                .with("head", head)
                .with("source", &*api.source));
            }
        }
        Ok(Self {
            since: since.map(|(_, s)| s),
            types,
            subject,
        })
    }

    fn wants(&self, e: &Emitted) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&e.kind))
            && self.subject.as_ref().is_none_or(|s| s.matches(&e.subject))
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

/// The notice a lagging subscriber gets last. Its `id` is unique like every CloudEvent's
/// (brokers deduplicate on `source` and `id`), so a random UUID rather than a number.
fn lagged_json(source: &str, last_delivered: u64) -> String {
    json!({
        "specversion": "1.0",
        "type": "stream.lagged",
        "source": source,
        "id": format!("lagged-{}", uuid::Uuid::new_v4()),
        "datacontenttype": "application/json",
        "data": {
            "last_delivered": last_delivered,
            "message": "this subscriber fell too far behind and is disconnected; reconnect with Last-Event-ID (or ?since=) set to last_delivered to resume without loss",
        },
    })
    .to_string()
}

/// The Server-Sent Events body: one message per frame, and a keep-alive comment after
/// every `keepalive` without one.
///
/// Written here rather than with axum's `Sse` because its keep-alive is a comment and a
/// blank line, and some clients (httpx-sse 0.4) turn every blank line into an event, an
/// empty one carrying the last id. A comment line alone keeps proxies and clients'
/// read timeouts alive all the same, and no conforming parser sees anything in it. The
/// JSON of an event is one line, so each message is `id:` and one `data:` line.
fn sse_body(
    frames: impl Stream<Item = Frame> + Send + 'static,
    keepalive: Duration,
    source: Arc<str>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let frames = Box::pin(frames);
    stream::unfold(frames, move |mut frames| {
        let source = source.clone();
        async move {
            let chunk = tokio::select! {
                f = frames.next() => match f? {
                    Frame::Event(e) => format!("id: {}\ndata: {}\n\n", e.seq, e.json.get()),
                    // No id: the client's Last-Event-ID stays at the last event it really got.
                    Frame::Lagged { last_delivered } => format!(
                        "event: stream.lagged\ndata: {}\n\n",
                        lagged_json(&source, last_delivered)
                    ),
                },
                () = tokio::time::sleep(keepalive) => ": keep-alive\n".to_string(),
            };
            Some((Ok(Bytes::from(chunk)), frames))
        }
    })
}

async fn events(
    State(api): State<Api>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let params = StreamParams::parse(&q, &headers, &api)?;
    let sub = api.hub.subscribe(params.since)?;
    let body = sse_body(
        frames(api.hub.clone(), sub, params),
        api.keepalive,
        api.source.clone(),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // nginx buffers proxied responses by default, holding back the end of a burst
            // until the next keep-alive; this turns that off for the stream alone.
            (HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

async fn ws(
    State(api): State<Api>,
    headers: HeaderMap,
    q: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !origin_may_open(origin, headers.get(header::HOST), &api.cors_origins) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "pages of origin {} may not read this daemon; list it in api.cors_origins",
                    origin.to_str().unwrap_or("(not text)")
                ),
            ));
        }
    }
    let offered: Vec<&str> = upgrade
        .requested_protocols()
        .filter_map(|p| p.to_str().ok())
        .collect();
    // A client that offers subprotocols fails a handshake that picks none of them.
    if !offered.is_empty() && !offered.contains(&CLOUDEVENTS_JSON) {
        return Err(ApiError::bad_request(format!(
            "no subprotocol offered ({}) is spoken here; /ws speaks {CLOUDEVENTS_JSON}, or none",
            offered.join(", ")
        )));
    }
    let params = StreamParams::parse(&q, &headers, &api)?;
    let sub = api.hub.subscribe(params.since)?;
    let frames = frames(api.hub.clone(), sub, params);
    let source = api.source.clone();
    let sockets = api.sockets.clone();
    let keepalive = api.keepalive;
    Ok(upgrade
        .protocols([CLOUDEVENTS_JSON])
        .on_upgrade(move |socket| {
            sockets.track_future(serve_ws(socket, frames, source, keepalive))
        }))
}

/// Whether a browser page of `origin` may open a WebSocket here. Browsers apply no CORS
/// to WebSocket: they send `Origin` and leave the choice to the server, so without this
/// any page the user opens could read the events of a daemon on loopback. The rule is
/// the one `fetch` and `EventSource` get: the daemon's own origin, or one of
/// `api.cors_origins`. Clients that are not browsers send no `Origin`.
fn origin_may_open(origin: &HeaderValue, host: Option<&HeaderValue>, allowed: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let same = origin
        .split_once("://")
        .zip(host.and_then(|h| h.to_str().ok()))
        .is_some_and(|((_, authority), host)| authority.eq_ignore_ascii_case(host));
    same || allowed.iter().any(|a| a == "*" || a == origin)
}

/// Sends the frames until the stream ends, the client closes or the connection fails,
/// with a Ping after every `keepalive` without a frame (as the SSE stream has its
/// keep-alive comments), so proxies' read timeouts do not cut an idle subscriber.
/// Every close is a closing handshake (RFC 6455 §5.5.1): a client's Close is answered,
/// and the server's own carries a code, 1001 at shutdown (the client should reconnect
/// later) and [`CLOSE_LAGGED`] after a lag notice.
async fn serve_ws(
    mut socket: WebSocket,
    frames: impl Stream<Item = Frame> + Send + 'static,
    source: Arc<str>,
    keepalive: Duration,
) {
    let mut frames = Box::pin(frames);
    let close = loop {
        tokio::select! {
            () = tokio::time::sleep(keepalive) => {
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
            }
            f = frames.next() => match f {
                Some(Frame::Event(e)) => {
                    if socket.send(Message::Text(e.json.get().into())).await.is_err() {
                        return;
                    }
                }
                Some(Frame::Lagged { last_delivered }) => {
                    let notice = lagged_json(&source, last_delivered);
                    if socket.send(Message::Text(notice.into())).await.is_err() {
                        return;
                    }
                    break CloseFrame {
                        code: CLOSE_LAGGED,
                        reason: format!("lagged; resume after event {last_delivered}").into(),
                    };
                }
                None => break CloseFrame {
                    code: close_code::AWAY,
                    reason: "the daemon is shutting down".into(),
                },
            },
            m = socket.recv() => match m {
                // The reply to a Close goes out on the next read, which then ends.
                Some(Ok(Message::Close(_))) => {
                    drop(frames);
                    finish_close(socket).await;
                    return;
                }
                Some(Err(_)) | None => return,
                // Clients have nothing to say; pings are answered by the socket itself.
                Some(Ok(_)) => {}
            },
        }
    };
    // The subscriber count drops now, not after the handshake.
    drop(frames);
    if socket.send(Message::Close(Some(close))).await.is_ok() {
        finish_close(socket).await;
    }
}

/// Reads until the connection ends: after the peer's Close this sends the reply; after
/// ours it waits for the peer's, within [`CLOSE_WAIT`].
async fn finish_close(mut socket: WebSocket) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}
