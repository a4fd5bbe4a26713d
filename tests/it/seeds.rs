//! The seed story: five real reports kept beside the repository (never copied into it).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{entity_with_alias, ingest};

fn seeds() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} is absent", p.display());
        None
    }
}

fn dev<'a>(snap: &'a Value, kind: &str, with: &str) -> &'a Value {
    snap["developments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == kind && d["id"].as_str().unwrap().contains(with))
        .unwrap_or_else(|| panic!("no {kind} development with {with}"))
}

/// Copies the seeds into a folder in the given order (mtimes kept, so dates stay).
fn ordered(seeds: &Path, order: &[usize], into: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for (pos, &i) in order.iter().enumerate() {
        let from = &names[i];
        let to = into.join(format!(
            "{pos:02}_{}",
            from.file_name().unwrap().to_string_lossy()
        ));
        std::fs::copy(from, &to).unwrap();
        let mtime = std::fs::metadata(from).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&to)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
}

fn check_story(events: &[Value], snap: &Value, order: &[usize]) {
    let withdrawal = dev(snap, "withdrawal", "qamishli");
    assert_eq!(withdrawal["status"], "completed", "order {order:?}");
    let meeting = dev(snap, "meeting", "putin");
    assert_eq!(meeting["status"], "completed", "order {order:?}");
    let rank = |s: &str| {
        ["planned", "underway", "completed"]
            .iter()
            .position(|x| *x == s)
    };
    for e in events
        .iter()
        .filter(|e| e["type"] == "development.status_changed")
    {
        let (from, to) = (
            e["data"]["from"].as_str().unwrap(),
            e["data"]["to"].as_str().unwrap(),
        );
        if let (Some(a), Some(b)) = (rank(from), rank(to)) {
            assert!(
                b > a,
                "{} moved back from {from} to {to} in order {order:?}",
                e["subject"]
            );
        }
    }
    let sharaa = entity_with_alias(snap, "Ahmed al-Sharaa");
    for alias in ["Ahmad Al Shara", "Sharaa", "al-Sharaa"] {
        assert_eq!(
            entity_with_alias(snap, alias)["id"],
            sharaa["id"],
            "{alias}"
        );
    }
    assert_eq!(
        entity_with_alias(snap, "Qamishlo")["id"],
        entity_with_alias(snap, "Qamishli")["id"]
    );
    assert_eq!(
        entity_with_alias(snap, "Qamishlo Airport")["id"],
        entity_with_alias(snap, "Qamishli airport")["id"]
    );
    assert_eq!(
        entity_with_alias(snap, "Tartous")["id"],
        entity_with_alias(snap, "Tartus")["id"]
    );
    assert_eq!(
        entity_with_alias(snap, "SDF")["id"],
        entity_with_alias(snap, "Syrian Democratic Forces")["id"]
    );
}

#[test]
fn seed_story_in_name_order() {
    let Some(seeds) = seeds() else { return };
    let (events, snap) = ingest(&[&seeds]);
    check_story(&events, &snap, &[0, 1, 2, 3, 4]);
    // First seen underway, then completed by the report that says so.
    let id = dev(&snap, "withdrawal", "qamishli")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| {
            e["subject"] == id.as_str()
                && matches!(
                    e["type"].as_str(),
                    Some("development.detected" | "development.status_changed")
                )
        })
        .map(|e| {
            e["data"]["status"]
                .as_str()
                .or(e["data"]["to"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(changes, ["underway", "completed"]);
    let meeting = dev(&snap, "meeting", "putin")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| {
            e["subject"] == meeting.as_str()
                && matches!(
                    e["type"].as_str(),
                    Some("development.detected" | "development.status_changed")
                )
        })
        .map(|e| {
            e["data"]["status"]
                .as_str()
                .or(e["data"]["to"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(changes, ["planned", "completed"]);
}

#[test]
fn seed_story_in_reverse_and_shuffled_order() {
    let Some(seeds) = seeds() else { return };
    for order in [[4, 3, 2, 1, 0], [3, 0, 4, 2, 1], [2, 4, 1, 0, 3]] {
        let dir = tempfile::tempdir().unwrap();
        ordered(&seeds, &order, dir.path());
        let (events, snap) = ingest(&[dir.path()]);
        check_story(&events, &snap, &order);
    }
}
