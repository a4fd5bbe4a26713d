//! The command-line client of the HTTP API: `sitrep subscribe` and `sitrep state`.
//!
//! `subscribe` is the reference consumer: it remembers the last event id it printed and,
//! after any disconnect (the daemon restarting, a network hiccup, being dropped for
//! lagging), reconnects with `Last-Event-ID` so its output has no gap and no repeat.

use std::io::Write;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use tracing::{info, warn};

/// Client failures that end the command.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url}: {status}: {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

/// What to subscribe to.
#[derive(Debug, Clone, Default)]
pub struct SubscribeOptions {
    pub url: String,
    pub token: Option<String>,
    pub types: Option<String>,
    pub subject: Option<String>,
    pub since: Option<u64>,
}

/// Characters a query value keeps as they are: RFC 3986's unreserved ones, and `/` and
/// `,`, which ids and type lists hold and a query may carry unencoded. The rest (`+`,
/// spaces, `&`, `#` in a file name) are percent-encoded, so they arrive as sent.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b',');

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

fn request(client: &reqwest::Client, url: &str, token: Option<&str>) -> reqwest::RequestBuilder {
    let req = client.get(url);
    match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    }
}

async fn refusal(url: &str, resp: reqwest::Response) -> ClientError {
    let status = resp.status().as_u16();
    let message = resp
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| "request refused".into());
    ClientError::Refused {
        url: url.to_string(),
        status,
        message,
    }
}

/// Prints events as NDJSON until interrupted, resuming after every disconnect. Returns
/// only on a refusal that retrying cannot fix (bad token, bad filter, a position gone or
/// ahead of the log).
///
/// # Errors
/// A 4xx answer, or standard output closing.
pub async fn subscribe(opts: SubscribeOptions) -> Result<(), ClientError> {
    let client = reqwest::Client::new();
    let mut last = opts.since;
    let mut backoff = Duration::from_millis(250);
    let mut query = Vec::new();
    if let Some(t) = &opts.types {
        query.push(format!("types={}", encode(t)));
    }
    if let Some(s) = &opts.subject {
        query.push(format!("subject={}", encode(s)));
    }
    let url = format!(
        "{}/events{}{}",
        opts.url.trim_end_matches('/'),
        if query.is_empty() { "" } else { "?" },
        query.join("&")
    );
    loop {
        let mut req = request(&client, &url, opts.token.as_deref());
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id.to_string());
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                backoff = Duration::from_millis(250);
                // An `Option` field is written only when it holds a value: `since=12`,
                // never `since=Some(12)`.
                info!(url = %url, since = last, "Subscribed.");
                let mut events = resp.bytes_stream().eventsource();
                while let Some(item) = events.next().await {
                    let Ok(ev) = item else { break };
                    if ev.event == "stream.lagged" {
                        warn!(
                            "Fell behind the live stream; resuming from the last event received."
                        );
                        break;
                    }
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{}", ev.data)
                        .and_then(|()| out.flush())
                        .map_err(ClientError::Output)?;
                    if let Ok(id) = ev.id.parse() {
                        last = Some(id);
                    }
                }
                info!("Stream ended; reconnecting.");
            }
            Ok(resp) if resp.status().is_client_error() => return Err(refusal(&url, resp).await),
            Ok(resp) => warn!(status = resp.status().as_u16(), "Server error; retrying."),
            Err(e) => warn!(error = %e, "Cannot reach the daemon; retrying."),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// `GET /situation`.
///
/// # Errors
/// The daemon cannot be reached or refuses.
pub async fn situation(base: &str, token: Option<&str>) -> Result<serde_json::Value, ClientError> {
    let url = format!("{}/situation", base.trim_end_matches('/'));
    let req = request(&reqwest::Client::new(), &url, token);
    json_answer(url, req).await
}

/// Sends `req` and reads its JSON answer; a refusal becomes the daemon's message.
async fn json_answer(
    url: String,
    req: reqwest::RequestBuilder,
) -> Result<serde_json::Value, ClientError> {
    let resp = req.send().await.map_err(|source| ClientError::Http {
        url: url.clone(),
        source,
    })?;
    if !resp.status().is_success() {
        return Err(refusal(&url, resp).await);
    }
    resp.json()
        .await
        .map_err(|source| ClientError::Http { url, source })
}

/// Characters a path segment keeps as they are: RFC 3986's unreserved ones.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `POST /reports/{id}/retract`: the daemon's answer, with the change events it made.
///
/// # Errors
/// The daemon cannot be reached, or refuses (`404` for an unknown report, `409` for one
/// already retracted).
pub async fn retract(
    base: &str,
    token: Option<&str>,
    report: &str,
    reason: Option<&str>,
    by: Option<&str>,
) -> Result<serde_json::Value, ClientError> {
    let url = format!(
        "{}/reports/{}/retract",
        base.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(report, PATH_SEGMENT)
    );
    let client = reqwest::Client::new();
    let mut req = client
        .post(&url)
        .json(&serde_json::json!({"reason": reason, "by": by}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    json_answer(url, req).await
}

/// The API address: `--url`, else `<data_dir>/listen.addr` of a running daemon, else the
/// configured `api.listen`.
pub fn base_url(explicit: Option<String>, data_dir: &std::path::Path, listen: &str) -> String {
    if let Some(u) = explicit {
        return u;
    }
    let addr = std::fs::read_to_string(data_dir.join("listen.addr"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| listen.to_string());
    format!("http://{addr}")
}

/// Which developments a summary lists: all by default.
#[derive(Debug, Clone, Default)]
pub struct SummaryFilter {
    /// Statuses to keep (none: every status).
    pub statuses: Vec<String>,
    /// Kinds to keep, lower case (none: every kind).
    pub kinds: Vec<String>,
    /// The most developments listed.
    pub limit: Option<usize>,
}

impl SummaryFilter {
    fn keeps(&self, d: &serde_json::Value) -> bool {
        let has = |list: &[String], v: &serde_json::Value| {
            list.is_empty() || v.as_str().is_some_and(|v| list.iter().any(|x| x == v))
        };
        has(&self.statuses, &d["status"]) && has(&self.kinds, &d["kind"])
    }
}

/// `n` and the noun, singular for one: `1 claim`, `2 claims`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// When the claim that set a development's current status was published (RFC 3339), for
/// listing the newest movement first.
fn last_moved(d: &serde_json::Value) -> Option<time::OffsetDateTime> {
    let claim = d["history"].as_array()?.last()?["claim"].as_u64()?;
    let at = d["claims"].get(usize::try_from(claim).ok()?)?["published_at"].as_str()?;
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
}

/// A snapshot (as `GET /situation` gives it) for people: the counts, then one line per
/// development, the newest movement first, with its status, id, claims and the outlets
/// behind its status; `filter` narrows the list.
pub fn summarize(snapshot: &serde_json::Value, filter: &SummaryFilter) -> String {
    use std::fmt::Write;
    let len = |k: &str| snapshot[k].as_array().map_or(0, Vec::len);
    let total = len("developments");
    let mut out = format!(
        "as of event {}: {}, {}, {}\n",
        snapshot["seq"],
        count(len("reports"), "report", "reports"),
        count(len("entities"), "entity", "entities"),
        count(total, "development", "developments"),
    );
    let mut shown: Vec<&serde_json::Value> = snapshot["developments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| filter.keeps(d))
        .collect();
    // Newest movement first; undated ones last; ties by id.
    shown.sort_by(|a, b| {
        last_moved(b)
            .cmp(&last_moved(a))
            .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let matching = shown.len();
    shown.truncate(filter.limit.unwrap_or(usize::MAX));
    for d in &shown {
        let sources: Vec<&str> = d["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str())
            .collect();
        let claims = d["claims"].as_array().map_or(0, Vec::len);
        let _ = writeln!(
            out,
            "  {:<10} {}  ({}{}{})",
            d["status"].as_str().unwrap_or("-"),
            d["id"].as_str().unwrap_or("?"),
            count(claims, "claim", "claims"),
            if sources.is_empty() { "" } else { "; " },
            sources.join(", ")
        );
    }
    if shown.len() < total {
        let _ = writeln!(
            out,
            "  ({} of {} shown{})",
            shown.len(),
            total,
            if matching > shown.len() {
                format!("; {matching} match")
            } else {
                String::new()
            }
        );
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn development(id: &str, status: &str, claims: &[&str]) -> serde_json::Value {
        let claims: Vec<_> = claims
            .iter()
            .map(|at| json!({"published_at": at}))
            .collect();
        let last = claims.len().saturating_sub(1);
        json!({
            "id": id,
            "kind": id.split('/').next(),
            "status": status,
            "claims": claims,
            "history": [{"claim": last}],
            "sources": ["Tallis Wire"],
        })
    }

    fn snapshot() -> serde_json::Value {
        json!({
            "seq": 9,
            "reports": [{}],
            "entities": [{}],
            "developments": [
                development("meeting/a+b", "planned", &["2031-04-01T00:00:00Z"]),
                development("withdrawal/kestria/varnholt", "completed",
                    &["2031-04-02T00:00:00Z", "2031-04-05T00:00:00Z"]),
                development("withdrawal/orla/velgrad", "underway", &["2031-04-03T00:00:00Z"]),
            ],
        })
    }

    #[test]
    fn the_summary_counts_in_words_and_lists_the_newest_movement_first() {
        let text = summarize(&snapshot(), &SummaryFilter::default());
        assert_eq!(
            text,
            "as of event 9: 1 report, 1 entity, 3 developments\n\
             \x20 completed  withdrawal/kestria/varnholt  (2 claims; Tallis Wire)\n\
             \x20 underway   withdrawal/orla/velgrad  (1 claim; Tallis Wire)\n\
             \x20 planned    meeting/a+b  (1 claim; Tallis Wire)"
        );
    }

    #[test]
    fn the_summary_filters_by_status_and_kind_and_stops_at_the_limit() {
        let s = snapshot();
        let lines = |f: SummaryFilter| -> Vec<String> {
            summarize(&s, &f)
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect()
        };
        let kind = lines(SummaryFilter {
            kinds: vec!["withdrawal".into()],
            ..SummaryFilter::default()
        });
        assert_eq!(kind.len(), 3, "{kind:?}");
        assert!(kind[0].contains("withdrawal/kestria/varnholt"));
        assert!(kind[1].contains("withdrawal/orla/velgrad"));
        assert_eq!(kind[2], "  (2 of 3 shown)");
        let status = lines(SummaryFilter {
            statuses: vec!["planned".into(), "underway".into()],
            kinds: vec!["withdrawal".into()],
            ..SummaryFilter::default()
        });
        assert_eq!(status.len(), 2, "{status:?}");
        assert!(status[0].contains("withdrawal/orla/velgrad"));
        let limited = lines(SummaryFilter {
            limit: Some(1),
            ..SummaryFilter::default()
        });
        assert_eq!(limited.len(), 2, "{limited:?}");
        assert!(limited[0].contains("withdrawal/kestria/varnholt"));
        assert_eq!(limited[1], "  (1 of 3 shown; 3 match)");
        let none = lines(SummaryFilter {
            kinds: vec!["ceasefire".into()],
            ..SummaryFilter::default()
        });
        assert_eq!(none, ["  (0 of 3 shown)"]);
    }

    #[test]
    fn ids_and_file_names_arrive_as_sent() {
        assert_eq!(
            encode("meeting/ahmed-al-sharaa+vladimir-putin"),
            "meeting/ahmed-al-sharaa%2Bvladimir-putin"
        );
        assert_eq!(encode("my report #2&.txt"), "my%20report%20%232%26.txt");
        assert_eq!(
            encode("report.accepted,report.rejected"),
            "report.accepted,report.rejected"
        );
    }
}
