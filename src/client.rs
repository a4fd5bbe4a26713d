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
    let client = reqwest::Client::new();
    let resp = request(&client, &url, token)
        .send()
        .await
        .map_err(|source| ClientError::Http {
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

#[cfg(test)]
mod tests {
    use super::*;

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
