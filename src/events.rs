//! Change events: what subscribers see, as CloudEvents 1.0 structured JSON.
//!
//! The situation writer numbers every event from one counter, so the sequence number is a
//! total order over everything the daemon has said; `id` is that number and the
//! `sequence` extension carries it zero-padded (the extension is compared as a string).

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The event types sitrep emits (see `docs/EVENTS.md`).
pub mod types {
    pub const REPORT_ACCEPTED: &str = "report.accepted";
    pub const REPORT_DUPLICATE: &str = "report.duplicate";
    pub const REPORT_REJECTED: &str = "report.rejected";
    pub const ENTITY_DISCOVERED: &str = "entity.discovered";
    pub const ENTITY_ALIAS_ADDED: &str = "entity.alias_added";
    pub const DEVELOPMENT_DETECTED: &str = "development.detected";
    pub const DEVELOPMENT_STATUS_CHANGED: &str = "development.status_changed";
    pub const DEVELOPMENT_CORROBORATED: &str = "development.corroborated";
    pub const DEVELOPMENT_DISPUTED: &str = "development.disputed";

    /// Every type, for validating filters.
    pub const ALL: [&str; 9] = [
        REPORT_ACCEPTED,
        REPORT_DUPLICATE,
        REPORT_REJECTED,
        ENTITY_DISCOVERED,
        ENTITY_ALIAS_ADDED,
        DEVELOPMENT_DETECTED,
        DEVELOPMENT_STATUS_CHANGED,
        DEVELOPMENT_CORROBORATED,
        DEVELOPMENT_DISPUTED,
    ];
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
    pub data: Value,
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
            "data": self.data,
        })
    }

    /// One NDJSON line (without the newline).
    pub fn to_line(&self, source: &str) -> String {
        self.to_cloudevent(source).to_string()
    }

    /// The CloudEvent as raw JSON: rendered once, then journaled and published as is.
    pub fn to_raw(&self, source: &str) -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::from_string(self.to_line(source))
            .unwrap_or_else(|_| Box::<serde_json::value::RawValue>::default())
    }
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
            data: json!({"file": "a.txt"}),
        };
        let v = e.to_cloudevent("urn:sitrep");
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "42");
        assert_eq!(v["sequence"], "00000000000000000042");
        assert_eq!(v["type"], "report.accepted");
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
        assert_eq!(v["data"]["file"], "a.txt");
    }
}
