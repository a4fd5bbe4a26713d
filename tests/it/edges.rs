//! The HTTP and WebSocket edges as clients the project did not write meet them: a real
//! headless Chromium on another origin (CORS, `EventSource`, the `cloudevents.json`
//! subprotocol, closing handshakes), `tokio-tungstenite`, raw SSE bytes, pasted ids,
//! filters and positions that cannot match, event identity across data folders, the
//! `Bearer` scheme, error bodies, and the paged report list.

use crate::api::{drop_story, runtime, start};
use crate::support::drop_file;

/// A report of a meeting between two people: its development id joins them with `+`.
const MEETING: &str = "source: Tallis Wire\ndate: 2031-05-02\n\nKestrian and Orlan leaders meet in Ostravel\n\nOSTRAVEL (TW) - Kestrian President Arvid Molen met Orlan Prime Minister Dagny Hollis in Ostravel on Friday, officials said.\n";

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
