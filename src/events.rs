//! Change events: what subscribers see, as CloudEvents 1.0 structured JSON.
//!
//! The situation writer numbers every event from one counter, so the sequence number is a
//! total order over everything the daemon has said; `id` is that number and the
//! `sequence` extension carries it zero-padded (the extension is compared as a string).

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The event types sitrep emits (see `docs/EVENTS.md`).
pub mod types {
    pub const REPORT_ACCEPTED: &str = "report.accepted";
    pub const REPORT_DUPLICATE: &str = "report.duplicate";
    pub const REPORT_NEAR_DUPLICATE: &str = "report.near_duplicate";
    pub const REPORT_REJECTED: &str = "report.rejected";
    pub const REPORT_RETRACTED: &str = "report.retracted";
    pub const ENTITY_DISCOVERED: &str = "entity.discovered";
    pub const ENTITY_ALIAS_ADDED: &str = "entity.alias_added";
    pub const ENTITY_RETIRED: &str = "entity.retired";
    pub const DEVELOPMENT_DETECTED: &str = "development.detected";
    pub const DEVELOPMENT_STATUS_CHANGED: &str = "development.status_changed";
    pub const DEVELOPMENT_CORROBORATED: &str = "development.corroborated";
    pub const DEVELOPMENT_DISPUTED: &str = "development.disputed";
    pub const DEVELOPMENT_RETIRED: &str = "development.retired";
    pub const STORY_FORMED: &str = "story.formed";
    pub const STORY_UPDATED: &str = "story.updated";

    /// Every type, for validating filters.
    pub const ALL: [&str; 15] = [
        REPORT_ACCEPTED,
        REPORT_DUPLICATE,
        REPORT_NEAR_DUPLICATE,
        REPORT_REJECTED,
        REPORT_RETRACTED,
        ENTITY_DISCOVERED,
        ENTITY_ALIAS_ADDED,
        ENTITY_RETIRED,
        DEVELOPMENT_DETECTED,
        DEVELOPMENT_STATUS_CHANGED,
        DEVELOPMENT_CORROBORATED,
        DEVELOPMENT_DISPUTED,
        DEVELOPMENT_RETIRED,
        STORY_FORMED,
        STORY_UPDATED,
    ];
}

/// A CloudEvents `source` no other event log has: `urn:sitrep:` and a random UUID.
///
/// Every log numbers its events from 1, and consumers and brokers tell events apart by
/// (`source`, `id`), so two logs must never share a source.
pub fn new_source() -> String {
    format!("urn:sitrep:{}", uuid::Uuid::new_v4())
}

/// One change to the situation.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub seq: u64,
    /// One of [`types`].
    pub kind: &'static str,
    /// The report, entity or development id the event is about.
    pub subject: String,
    pub time: OffsetDateTime,
    pub data: EventData,
}

/// An event's `data`: a JSON value, or JSON text written straight from the fields.
///
/// The events every report brings by the dozen (a report taken, an entity found, a new
/// spelling) are rendered from borrowed fields at once: a [`Value`] would allocate a map
/// and a string for every key and value, only to be printed once and dropped. Both print
/// the same bytes as long as the rendered structs declare their fields in sorted key
/// order (a [`Value`]'s map keeps its keys sorted) and hold no map of their own whose
/// keys come out unsorted.
#[derive(Debug, Clone)]
pub enum EventData {
    Value(Value),
    Json(Box<RawValue>),
}

impl EventData {
    /// The JSON text of `data`, written once.
    pub fn render<T: Serialize>(data: &T) -> Self {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::value::to_raw_value(data).map_or(Self::Value(Value::Null), Self::Json)
    }

    /// As a JSON value (parsed again when it was written as text).
    pub fn to_value(&self) -> Value {
        match self {
            Self::Value(v) => v.clone(),
            Self::Json(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
        }
    }
}

impl From<Value> for EventData {
    fn from(v: Value) -> Self {
        Self::Value(v)
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => v.serialize(s),
            Self::Json(raw) => raw.serialize(s),
        }
    }
}

impl ChangeEvent {
    /// The CloudEvents 1.0 structured-mode JSON object.
    pub fn to_cloudevent(&self, source: &str) -> Value {
        json!({
            "specversion": "1.0",
            "id": self.seq.to_string(),
            "source": source,
            "type": self.kind,
            "subject": self.subject,
            "time": self.time.format(&Rfc3339).unwrap_or_default(),
            "datacontenttype": "application/json",
            "sequence": format!("{:020}", self.seq),
            "data": self.data.to_value(),
        })
    }

    /// One NDJSON line (without the newline): the same text as [`Self::to_cloudevent`]
    /// printed, written straight from the event without building the envelope as a value.
    pub fn to_line(&self, source: &str) -> String {
        serde_json::to_string(&self.envelope(source)).unwrap_or_default()
    }

    /// The CloudEvent as raw JSON: rendered once, then journaled and published as is.
    pub fn to_raw(&self, source: &str) -> Box<RawValue> {
        // The serializer's output is valid JSON, so it needs no second parse.
        serde_json::value::to_raw_value(&self.envelope(source))
            .unwrap_or_else(|_| Box::<RawValue>::default())
    }

    fn envelope<'a>(&'a self, source: &'a str) -> Envelope<'a> {
        Envelope {
            data: &self.data,
            datacontenttype: "application/json",
            id: Decimal(self.seq),
            sequence: Padded(self.seq),
            source,
            specversion: "1.0",
            subject: &self.subject,
            time: self.time.format(&Rfc3339).unwrap_or_default(),
            kind: self.kind,
        }
    }
}

/// The CloudEvent's attributes in the order a JSON object value prints its keys (sorted),
/// so lines rendered from it are byte for byte those of [`ChangeEvent::to_cloudevent`].
#[derive(Serialize)]
struct Envelope<'a> {
    data: &'a EventData,
    datacontenttype: &'static str,
    id: Decimal,
    sequence: Padded,
    source: &'a str,
    specversion: &'static str,
    subject: &'a str,
    time: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A number as a JSON string of its decimal digits (the CloudEvent `id`).
struct Decimal(u64);

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(digits(self.0, 1, &mut [0; 20]))
    }
}

/// A number as a JSON string of 20 digits, zero-padded, so that it orders as a string.
struct Padded(u64);

impl Serialize for Padded {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(digits(self.0, 20, &mut [0; 20]))
    }
}

/// `n` in decimal with at least `width` digits (zero-padded), written at the end of `buf`
/// (20 bytes hold any `u64`). Every event has two such numbers; the formatting machinery
/// costs more than the digits.
fn digits(mut n: u64, width: usize, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    while at > 0 && (n > 0 || buf.len() - at < width.max(1)) {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudevent_has_required_attributes() {
        let e = ChangeEvent {
            seq: 42,
            kind: types::REPORT_ACCEPTED,
            subject: "abc".into(),
            time: OffsetDateTime::UNIX_EPOCH,
            data: json!({"file": "a.txt"}).into(),
        };
        let v = e.to_cloudevent("urn:sitrep");
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "42");
        assert_eq!(v["sequence"], "00000000000000000042");
        assert_eq!(v["type"], "report.accepted");
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
        assert_eq!(v["data"]["file"], "a.txt");
    }

    #[test]
    fn line_is_the_cloudevent_printed() {
        let e = ChangeEvent {
            seq: 7,
            kind: types::DEVELOPMENT_DETECTED,
            subject: "withdrawal/x/\"y\"".into(),
            time: OffsetDateTime::UNIX_EPOCH + time::Duration::nanoseconds(1_500),
            data: json!({"z": [1, null], "a": {"b": "é\n"}}).into(),
        };
        let printed = e.to_cloudevent("urn:sitrep").to_string();
        assert_eq!(e.to_line("urn:sitrep"), printed);
        assert_eq!(e.to_raw("urn:sitrep").get(), printed);
    }

    #[test]
    fn data_written_as_text_prints_as_its_value_would() {
        #[derive(Serialize)]
        struct Fields<'a> {
            alias: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            gone: Option<u8>,
            kind: Option<&'a str>,
            sentence: usize,
        }
        let fields = Fields {
            alias: "Ost\"ravel\u{1}é",
            gone: None,
            kind: None,
            sentence: 3,
        };
        let text = EventData::render(&fields);
        let value =
            EventData::from(json!({"sentence": 3, "kind": null, "alias": "Ost\"ravel\u{1}é"}));
        assert!(matches!(text, EventData::Json(_)));
        assert_eq!(text, value);
        let event = |data: EventData| ChangeEvent {
            seq: 1,
            kind: types::ENTITY_DISCOVERED,
            subject: "ostravel".into(),
            time: OffsetDateTime::UNIX_EPOCH,
            data,
        };
        assert_eq!(
            event(text).to_raw("urn:sitrep").get(),
            event(value).to_raw("urn:sitrep").get()
        );
    }

    #[test]
    fn digits_pad_to_the_width() {
        let mut buf = [0; 20];
        assert_eq!(digits(0, 1, &mut buf), "0");
        assert_eq!(digits(907, 1, &mut buf), "907");
        assert_eq!(digits(907, 5, &mut buf), "00907");
        assert_eq!(digits(0, 20, &mut buf), "00000000000000000000");
        assert_eq!(digits(u64::MAX, 1, &mut buf), u64::MAX.to_string());
        assert_eq!(digits(u64::MAX, 20, &mut buf), format!("{:020}", u64::MAX));
    }
}
