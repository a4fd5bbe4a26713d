//! The hub: fan-out of published events to live subscribers, with a retained backlog so a
//! subscriber can resume from a sequence number without a gap or a repeat.
//!
//! The writer publishes each durable batch here. Recent events stay in an in-memory ring
//! (`api.retain_events`); older ones are read back from the events file, which holds every
//! published event in order. Live delivery goes through a `tokio::sync::broadcast` channel:
//! the writer never waits for a subscriber, and a subscriber that falls more than
//! `api.subscriber_buffer` events behind is told it lagged and is dropped, instead of
//! slowing everyone else down.
//!
//! Subscribing and publishing take the same lock, so every event is either in a new
//! subscriber's backlog or in its live channel, never both and never neither.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::broadcast;

use crate::events::ChangeEvent;

/// A published event as subscribers get it: the number, what filters look at, and the
/// CloudEvent JSON exactly as journaled.
#[derive(Debug)]
pub struct Emitted {
    pub seq: u64,
    pub kind: String,
    pub subject: String,
    pub json: Box<RawValue>,
}

impl Emitted {
    pub fn new(event: &ChangeEvent, json: Box<RawValue>) -> Self {
        Self {
            seq: event.seq,
            kind: event.kind.to_string(),
            subject: event.subject.clone(),
            json,
        }
    }

    /// From a line of the events file.
    pub fn from_line(line: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            id: std::borrow::Cow<'a, str>,
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            subject: String,
        }
        let head: Head<'_> = serde_json::from_str(line).ok()?;
        Some(Self {
            seq: head.id.parse().ok()?,
            kind: head.kind,
            subject: head.subject,
            json: RawValue::from_string(line.to_string()).ok()?,
        })
    }
}

/// The requested position is older than anything retained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("events after {since} are no longer retained (the oldest retained is {oldest}); take a snapshot from /situation and stream from its seq")]
pub struct Gone {
    pub since: u64,
    pub oldest: u64,
}

/// What a new subscriber gets: the events it missed, then the live channel.
#[derive(Debug)]
pub struct Subscription {
    pub backlog: Vec<Arc<Emitted>>,
    pub live: broadcast::Receiver<Arc<Emitted>>,
}

#[derive(Debug)]
struct Inner {
    ring: VecDeque<Arc<Emitted>>,
    /// `None` once the daemon is shutting down: live channels end.
    tx: Option<broadcast::Sender<Arc<Emitted>>>,
    /// The last sequence number published.
    last: u64,
}

/// Counters the API reports in `/metrics`.
#[derive(Debug, Default)]
pub struct HubStats {
    pub subscribers: AtomicU64,
    pub lagged_dropped: AtomicU64,
    pub published: AtomicU64,
}

/// Shared by the writer (publish) and the API (subscribe).
#[derive(Debug)]
pub struct Hub {
    inner: Mutex<Inner>,
    retain: usize,
    events_file: Option<PathBuf>,
    ready: AtomicBool,
    pub stats: HubStats,
}

impl Hub {
    /// `last` is the last sequence number already published (after recovery).
    pub fn new(retain: usize, buffer: usize, events_file: Option<PathBuf>, last: u64) -> Self {
        let (tx, _) = broadcast::channel(buffer.max(1));
        Self {
            inner: Mutex::new(Inner {
                ring: VecDeque::with_capacity(retain.min(1 << 16)),
                tx: Some(tx),
                last,
            }),
            retain: retain.max(1),
            events_file,
            ready: AtomicBool::new(false),
            stats: HubStats::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a durable batch to subscribers.
    pub fn publish(&self, batch: impl IntoIterator<Item = Emitted>) {
        let mut inner = self.lock();
        for e in batch {
            let e = Arc::new(e);
            inner.last = e.seq;
            if inner.ring.len() == self.retain {
                inner.ring.pop_front();
            }
            inner.ring.push_back(e.clone());
            if let Some(tx) = &inner.tx {
                // No subscriber is not an error.
                let _ = tx.send(e);
            }
            self.stats.published.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The last sequence number published.
    pub fn last_seq(&self) -> u64 {
        self.lock().last
    }

    /// Subscribes. With `since`, every retained event after it comes first, then the live
    /// ones; without, only what is published from now on.
    ///
    /// # Errors
    /// [`Gone`] when events after `since` are neither in the ring nor in the events file.
    pub fn subscribe(&self, since: Option<u64>) -> Result<Subscription, Gone> {
        let inner = self.lock();
        let live = match &inner.tx {
            Some(tx) => tx.subscribe(),
            None => {
                // Shutting down: a receiver whose channel is already closed.
                let (tx, rx) = broadcast::channel(1);
                drop(tx);
                rx
            }
        };
        let Some(since) = since.filter(|&s| s < inner.last) else {
            return Ok(Subscription {
                backlog: Vec::new(),
                live,
            });
        };
        let ring_first = inner.ring.front().map_or(inner.last + 1, |e| e.seq);
        let mut backlog = Vec::new();
        if since + 1 < ring_first {
            backlog = self.read_file(since, ring_first)?;
        }
        backlog.extend(inner.ring.iter().filter(|e| e.seq > since).cloned());
        Ok(Subscription { backlog, live })
    }

    /// Events `since < seq < before` from the events file.
    fn read_file(&self, since: u64, before: u64) -> Result<Vec<Arc<Emitted>>, Gone> {
        let gone = |oldest| Gone { since, oldest };
        let Some(path) = &self.events_file else {
            return Err(gone(before));
        };
        let file = std::fs::File::open(path).map_err(|_| gone(before))?;
        let mut out = Vec::new();
        let mut first = None;
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            let Some(e) = Emitted::from_line(&line) else {
                continue;
            };
            first.get_or_insert(e.seq);
            if e.seq >= before {
                break;
            }
            if e.seq > since {
                out.push(Arc::new(e));
            }
        }
        match first {
            Some(f) if f <= since + 1 => Ok(out),
            Some(f) => Err(gone(f)),
            None => Err(gone(before)),
        }
    }

    /// Ends every live stream (after the last publish of a shutdown).
    pub fn close(&self) {
        self.lock().tx = None;
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// True once the initial scan of the watch folder has been handed on.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::types;

    fn emitted(seq: u64) -> Emitted {
        let e = ChangeEvent {
            seq,
            kind: types::REPORT_ACCEPTED,
            subject: format!("r{seq}"),
            time: time::OffsetDateTime::UNIX_EPOCH,
            data: serde_json::json!({}).into(),
        };
        let json = e.to_raw("urn:test");
        Emitted::new(&e, json)
    }

    fn seqs(v: &[Arc<Emitted>]) -> Vec<u64> {
        v.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn backlog_then_live_without_gap_or_repeat() {
        let hub = Hub::new(10, 16, None, 0);
        hub.publish((1..=5).map(emitted));
        let mut sub = hub.subscribe(Some(2)).unwrap();
        assert_eq!(seqs(&sub.backlog), [3, 4, 5]);
        hub.publish([emitted(6)]);
        assert_eq!(sub.live.try_recv().unwrap().seq, 6);
        assert!(sub.live.try_recv().is_err());
    }

    #[test]
    fn older_than_the_ring_comes_from_the_events_file_or_is_gone() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("events.ndjson");
        let lines: String = (1..=8)
            .map(|s| format!("{}\n", emitted(s).json.get()))
            .collect();
        std::fs::write(&path, lines).unwrap();
        let hub = Hub::new(3, 16, Some(path.clone()), 0);
        hub.publish((1..=8).map(emitted));
        let sub = hub.subscribe(Some(1)).unwrap();
        assert_eq!(seqs(&sub.backlog), (2..=8).collect::<Vec<_>>());
        // The file was rotated: it starts at 5.
        let lines: String = (5..=8)
            .map(|s| format!("{}\n", emitted(s).json.get()))
            .collect();
        std::fs::write(&path, lines).unwrap();
        let err = hub.subscribe(Some(1)).unwrap_err();
        assert_eq!(
            err,
            Gone {
                since: 1,
                oldest: 5
            }
        );
        assert_eq!(seqs(&hub.subscribe(Some(4)).unwrap().backlog), [5, 6, 7, 8]);
    }

    #[test]
    fn a_lagging_receiver_is_told_and_others_are_not_held_back() {
        let hub = Hub::new(100, 4, None, 0);
        let mut slow = hub.subscribe(None).unwrap().live;
        hub.publish((1..=10).map(emitted));
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        assert_eq!(hub.last_seq(), 10);
    }

    #[test]
    fn close_ends_live_streams() {
        let hub = Hub::new(10, 16, None, 0);
        let mut sub = hub.subscribe(None).unwrap().live;
        hub.close();
        assert!(matches!(
            sub.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
    }
}
