//! Restarts and crashes: nothing lost, nothing repeated, the same picture afterwards.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    bin, copy_fixture, development, drop_file, event_ids, fixtures, ingest, Daemon,
};

const REPORT_TYPES: [&str; 4] = [
    "report.accepted",
    "report.duplicate",
    "report.near_duplicate",
    "report.rejected",
];

/// Asserts that the events are numbered 1, 2, 3, ... with no gap and no repeat.
fn assert_gapless(events: &[Value]) {
    let got = event_ids(events);
    let want: Vec<u64> = (1..=events.len() as u64).collect();
    assert_eq!(got, want, "event numbers are not 1..=n");
}

fn daemon_config(extra: &str) -> String {
    format!("[source]\nsettle_ms = 100\nrescan_secs = 60\n{extra}")
}

fn start(extra: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).unwrap();
    Daemon::start_with(dir, watch, data, &daemon_config(extra))
}

#[test]
fn restart_re_emits_nothing_and_continues_the_picture_and_the_numbering() {
    let mut d = start("");
    copy_fixture(
        "progression/01_tallis-kestria-to-withdraw.txt",
        &d.watch,
        "01.txt",
    );
    let first = d.wait_file("report.accepted", "01.txt");
    d.wait_for("withdrawal planned", |e| {
        e["type"] == "development.detected" && e["data"]["status"] == "planned"
    });
    let said = |d: &Daemon, what: &str| d.startup_log.iter().any(|l| l.contains(what));
    assert!(
        said(&d, "Starting with an empty situation."),
        "{:#?}",
        d.startup_log
    );
    let (mut d, before) = d.restart(false);
    assert!(
        said(&d, "Situation restored from the data directory."),
        "{:#?}",
        d.startup_log
    );
    let last = *event_ids(&before).last().unwrap();

    // Nothing is said again about 01.txt; the next file continues the numbering and moves
    // the development the first run opened.
    let text = std::fs::read(fixtures().join("progression/02_tallis-kestrian-pullout-begins.txt"))
        .unwrap();
    drop_file(&d.watch, "02.txt", &text);
    let accepted = d.wait_file("report.accepted", "02.txt");
    assert_eq!(
        d.seen[0], accepted,
        "first event after restart: {:#?}",
        d.seen
    );
    assert_eq!(accepted["id"], (last + 1).to_string());
    let moved = d.wait_for("underway", |e| e["type"] == "development.status_changed");
    assert_eq!(moved["data"]["from"], "planned");
    assert_eq!(moved["data"]["to"], "underway");

    // A touched file with the same content is not news; a changed one is a revision.
    let path = d.watch.join("01.txt");
    let f = std::fs::File::options().append(true).open(&path).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    d.wait_log("content is unchanged");
    let mut revised = std::fs::read_to_string(&path).unwrap();
    revised.push_str("\nA spokesman for the garrison declined to comment on the timetable.\n");
    drop_file(&d.watch, "01.txt", revised.as_bytes());
    let rev = d.wait_file("report.accepted", "01.txt");
    assert_eq!(rev["data"]["revises"], first["subject"]);
    assert!(rev["data"]["repeated_sentences"].as_u64().unwrap() >= 3);

    let (status, _) = d.stop();
    assert!(status.success());
    let all = d.events_file();
    assert_gapless(&all);
    assert_eq!(
        all.iter()
            .filter(|e| e["type"] == "report.accepted" && e["data"]["file"] == "01.txt")
            .count(),
        2,
        "01.txt accepted once, then once as a revision"
    );
}

#[test]
fn a_rejected_link_is_rejected_once_not_at_every_start() {
    let mut d = start("");
    std::os::unix::fs::symlink(d.watch.join("missing.txt"), d.watch.join("gone.txt")).unwrap();
    std::os::unix::fs::symlink(d.watch.join("loop.txt"), d.watch.join("loop.txt")).unwrap();
    // A link to a file that is itself rejected (empty), kept outside the watch folder.
    let empty = d.dir().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    std::os::unix::fs::symlink(&empty, d.watch.join("to-empty.txt")).unwrap();
    d.wait_file("report.rejected", "gone.txt");
    d.wait_file("report.rejected", "loop.txt");
    d.wait_file("report.rejected", "to-empty.txt");
    let (mut d, _) = d.restart(false);
    // The start-up scan has seen both links again before this file's turn.
    copy_fixture(
        "progression/01_tallis-kestria-to-withdraw.txt",
        &d.watch,
        "01.txt",
    );
    let accepted = d.wait_file("report.accepted", "01.txt");
    assert_eq!(d.seen[0], accepted, "after the restart: {:#?}", d.seen);
    let (status, _) = d.stop();
    assert!(status.success());
    let all = d.events_file();
    assert_gapless(&all);
    for link in ["gone.txt", "loop.txt", "to-empty.txt"] {
        let rejected = all
            .iter()
            .filter(|e| e["type"] == "report.rejected" && e["data"]["file"] == link)
            .count();
        assert_eq!(rejected, 1, "{link}: {all:#?}");
    }
}

/// Our own wire copy: a few dozen withdrawals told in three steps each, by three outlets,
/// with re-sends and a bad file now and then.
fn generated_reports(n: usize) -> Vec<(String, Vec<u8>)> {
    const LANDS: [&str; 8] = [
        "Kestria", "Vornland", "Aldmark", "Tessany", "Brevia", "Oskaria", "Lunmark", "Dravia",
    ];
    const BASES: [&str; 6] = [
        "Halden", "Moravel", "Pirsk", "Estovar", "Quellin", "Saranth",
    ];
    const OUTLETS: [(&str, &str); 3] = [
        ("Tallis Wire", "TW"),
        ("Moor Gazette", "MG"),
        ("Ridge Post", "RP"),
    ];
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        let land = LANDS[i % LANDS.len()];
        let base = BASES[(i / LANDS.len()) % BASES.len()];
        let (outlet, tag) = OUTLETS[i % OUTLETS.len()];
        let step = (i / (LANDS.len() * BASES.len())) % 3;
        let day = 1 + (i % 27);
        let body = match step {
            0 => format!(
                "{land} to pull troops out of {base} air base\n\nOSTRAVEL ({tag}) - {land} will withdraw its troops from {base} air base next month, officials said on Tuesday.\n"
            ),
            1 => format!(
                "Troops begin leaving {base}\n\nOSTRAVEL ({tag}) - Troops from {land} began withdrawing from {base} air base on Saturday, officials said.\n"
            ),
            _ => format!(
                "Last soldiers leave {base}\n\nThe withdrawal of troops of {land} from {base} air base was completed on Friday, officials said.\n"
            ),
        };
        let text = format!(
            "source: {outlet}\ndate: 2031-{:02}-{day:02}\n\n{body}",
            3 + step
        );
        out.push((format!("r{:04}.txt", out.len()), text.into_bytes()));
        if i % 17 == 5 && out.len() < n {
            // A re-send of the report just written, under another name.
            let again = out[out.len() - 1].1.clone();
            out.push((format!("r{:04}.txt", out.len()), again));
        }
        if i % 29 == 11 && out.len() < n {
            out.push((format!("r{:04}.txt", out.len()), Vec::new()));
        }
        i += 1;
    }
    out
}

fn replay_json(data: &Path, extra: &[&str]) -> Value {
    let out = Command::new(bin())
        .arg("replay")
        .arg(data)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    crate::support::assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The parts of a snapshot that must not depend on how a run was interrupted.
fn picture(v: &Value) -> Value {
    serde_json::json!({
        "seq": v["seq"],
        "entities": v["entities"],
        "developments": v["developments"],
        "reports": v["reports"],
    })
}

#[test]
fn kill_9_at_random_moments_loses_and_repeats_nothing() {
    const REPORTS: usize = 300;
    const KILLS: usize = 6;
    let reports = generated_reports(REPORTS);
    // A fixed schedule by default; `SITREP_CRASH_SEED` tries others.
    let seed = std::env::var("SITREP_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_311_123);
    let mut rng = fastrand::Rng::with_seed(seed);
    // Small sync batches make the crash land between batches as well as inside them.
    let mut d = start("[journal]\nsync_batch = 16\nsnapshot_every = 64\n");
    let chunk = REPORTS / (KILLS + 1);
    let mut kills = 0;
    let mut runs = 1;
    for (k, batch) in reports.chunks(chunk).enumerate() {
        // A burst of files, then a kill at an arbitrary moment while they are processed.
        for (name, bytes) in batch {
            drop_file(&d.watch, name, bytes);
        }
        if k < KILLS {
            // Not synchronisation: the point is to strike at an arbitrary moment.
            std::thread::sleep(Duration::from_millis(rng.u64(0..120)));
            d = d.restart(true).0;
            kills += 1;
            runs += 1;
        }
    }
    // Wait until every file is accounted for, by this run or an earlier one.
    let published: HashSet<String> = d
        .events_file()
        .iter()
        .filter(|e| REPORT_TYPES.contains(&e["type"].as_str().unwrap_or("")))
        .filter_map(|e| e["data"]["file"].as_str().map(str::to_string))
        .collect();
    for (name, _) in &reports {
        if !published.contains(name) {
            d.wait_for(&format!("an outcome for {name}"), |e| {
                REPORT_TYPES.contains(&e["type"].as_str().unwrap_or(""))
                    && e["data"]["file"] == *name
            });
        }
    }
    let (status, _) = d.stop();
    assert!(status.success());

    let all = d.events_file();
    assert_gapless(&all);
    let mut per_file: BTreeMap<String, usize> = BTreeMap::new();
    for e in &all {
        if REPORT_TYPES.contains(&e["type"].as_str().unwrap_or("")) {
            *per_file
                .entry(e["data"]["file"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
    }
    let lost = reports
        .iter()
        .filter(|(n, _)| !per_file.contains_key(n))
        .count();
    let repeated = per_file.values().filter(|&&c| c > 1).count();
    eprintln!(
        "crash test (seed {seed}): {runs} runs, {kills} kills, {} reports, {} events, lost {lost}, repeated {repeated}",
        reports.len(),
        all.len()
    );
    assert_eq!(lost, 0, "files without an outcome");
    assert_eq!(
        repeated, 0,
        "files with more than one outcome: {per_file:?}"
    );

    // The picture equals a clean one-shot run over the same files, whether rebuilt from
    // the snapshot or from the whole journal.
    let (events, clean) = ingest(&[&d.watch]);
    assert_eq!(events.len(), all.len());
    let from_snapshot = replay_json(&d.data, &[]);
    assert_eq!(picture(&from_snapshot), picture(&clean));
    let last = all.len().to_string();
    let from_journal = replay_json(&d.data, &["--until", &last]);
    assert_eq!(picture(&from_journal), picture(&clean));
}

#[test]
fn replay_until_shows_what_was_known_then() {
    let mut d = start("");
    for (name, fixture) in [
        ("01.txt", "progression/01_tallis-kestria-to-withdraw.txt"),
        (
            "02.txt",
            "progression/02_tallis-kestrian-pullout-begins.txt",
        ),
    ] {
        copy_fixture(fixture, &d.watch, &format!(".{name}"));
        std::fs::rename(d.watch.join(format!(".{name}")), d.watch.join(name)).unwrap();
        d.wait_file("report.accepted", name);
    }
    d.wait_for("underway", |e| e["type"] == "development.status_changed");
    let (status, seen) = d.stop();
    assert!(status.success());
    let second = seen
        .iter()
        .find(|e| e["type"] == "report.accepted" && e["data"]["file"] == "02.txt")
        .unwrap();
    let before: u64 = second["id"].as_str().unwrap().parse().unwrap();
    let then = replay_json(&d.data, &["--until", &(before - 1).to_string()]);
    assert_eq!(then["seq"], before - 1);
    assert_eq!(then["reports"].as_array().unwrap().len(), 1);
    assert_eq!(development(&then, "withdrawal/")["status"], "planned");
    let now = replay_json(&d.data, &[]);
    assert_eq!(development(&now, "withdrawal/")["status"], "underway");
}
