//! Retracting a report on the running daemon (`POST /reports/{id}/retract`, `sitrep
//! retract`) and on a stopped one's data directory (`--offline`): the status goes back,
//! the change is said once, and restarts (from the journal, and from a snapshot) keep it.

use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::api::{get_json, runtime};
use crate::support::{bin, drop_file, event_ids, parse_lines, Daemon};

const UNDERWAY: &str = "source: Sable Courier\ndate: 2031-06-09\n\n\
Corvanian columns roll out of Meltz\n\n\
Corvanian troops began withdrawing from Meltz airfield on Sunday, with a first column of \
trucks leaving at dawn.\n";

const COMPLETED: &str = "source: Fenwick Daily\ndate: 2031-06-20\n\n\
Meltz handed back\n\n\
The withdrawal of Corvanian troops from Meltz airfield was completed on Friday, when the \
last convoy crossed the Oskel bridge, officer Brannoch Teague said.\n";

const DEV: &str = "withdrawal/corvanian/meltz-airfield";

fn start() -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).unwrap();
    Daemon::start_with(
        dir,
        watch,
        data,
        "[source]\nsettle_ms = 100\nrescan_secs = 60\n",
    )
}

/// Drops the two reports; returns the completed one's id.
fn underway_then_completed(d: &mut Daemon) -> String {
    drop_file(&d.watch, "a.txt", UNDERWAY.as_bytes());
    d.wait_for("underway", |e| {
        e["type"] == "development.detected" && e["subject"] == DEV
    });
    drop_file(&d.watch, "b.txt", COMPLETED.as_bytes());
    d.wait_for("completed", |e| {
        e["type"] == "development.status_changed" && e["data"]["to"] == "completed"
    });
    let accepted = d.wait_file("report.accepted", "b.txt");
    accepted["subject"].as_str().unwrap().to_string()
}

/// `sitrep retract ARGS...` run against `d`'s data folder.
fn retract_cli(d: &Daemon, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(d.dir())
        .arg("retract")
        .args(args)
        .arg("--data-dir")
        .arg(&d.data)
        .output()
        .expect("run sitrep retract")
}

/// `POST url` with a JSON body: the status and the JSON answer.
fn post(rt: &tokio::runtime::Runtime, url: &str, body: &Value) -> (u16, Value) {
    rt.block_on(async {
        let r = reqwest::Client::new()
            .post(url)
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

fn status_of(rt: &tokio::runtime::Runtime, d: &Daemon) -> Value {
    get_json(rt, &format!("{}/developments/{DEV}", d.url()))["development"]["status"].clone()
}

/// Asserts every event of the events file is numbered once, 1 to n, and returns them.
fn gapless(d: &Daemon) -> Vec<Value> {
    let all = d.events_file();
    let want: Vec<u64> = (1..=all.len() as u64).collect();
    assert_eq!(event_ids(&all), want, "event numbers are not 1..=n");
    all
}

#[test]
fn a_retracted_report_moves_the_status_back_once_and_for_good() {
    let rt = runtime();
    let mut d = start();
    let completed = underway_then_completed(&mut d);
    assert_eq!(status_of(&rt, &d), "completed");

    let out = retract_cli(&d, &[&completed, "--reason", "wrong base", "--by", "desk"]);
    crate::support::assert_ok(&out);
    let printed = parse_lines(&out.stdout);
    assert_eq!(printed[0]["type"], "report.retracted");
    assert_eq!(printed[0]["subject"], completed.as_str());
    assert_eq!(printed[0]["data"]["reason"], "wrong base");
    assert_eq!(printed[0]["data"]["by"], "desk");
    assert_eq!(printed[0]["data"]["developments"], json!([DEV]));
    let back = d.wait_for("status back", |e| {
        e["type"] == "development.status_changed" && e["data"]["to"] == "underway"
    });
    assert_eq!(back["subject"], DEV);
    assert_eq!(back["data"]["from"], "completed");
    assert!(
        printed.contains(&back),
        "the CLI prints the events the daemon published: {printed:#?}"
    );
    assert_eq!(status_of(&rt, &d), "underway");

    // Asking again, or for a report that never was, changes nothing and says why.
    let url = d.url();
    let (code, body) = post(
        &rt,
        &format!("{url}/reports/{completed}/retract"),
        &json!({}),
    );
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["retraction"]["reason"], "wrong base");
    let (code, body) = post(
        &rt,
        &format!("{url}/reports/00000000deadbeef/retract"),
        &json!({}),
    );
    assert_eq!((code, body["status"].clone()), (404, json!(404)), "{body}");
    let refused = retract_cli(&d, &["00000000deadbeef"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let gone = rt.block_on(async {
        reqwest::get(format!("{url}/reports/{completed}"))
            .await
            .unwrap()
    });
    assert_eq!(gone.status().as_u16(), 410);

    // The same file content again stays retracted: an exact duplicate, nothing moves.
    drop_file(&d.watch, "b-again.txt", COMPLETED.as_bytes());
    let dup = d.wait_file("report.duplicate", "b-again.txt");
    assert_eq!(dup["data"]["duplicate_of"], completed.as_str());
    let picture = get_json(&rt, &format!("{url}/situation"));
    assert_eq!(status_of(&rt, &d), "underway");

    // A crash before any snapshot: the journal replays the retraction. Then a clean stop,
    // which writes a snapshot, and a start from it. Neither says anything again.
    let (d, _) = d.restart(true);
    let (mut d, _) = d.restart(false);
    d.poll();
    assert!(
        d.seen.is_empty(),
        "said again after restarts: {:#?}",
        d.seen
    );
    assert_eq!(get_json(&rt, &format!("{}/situation", d.url())), picture);
    let (status, _) = d.stop();
    assert!(status.success());
    let all = gapless(&d);
    let count = |ty: &str| all.iter().filter(|e| e["type"] == ty).count();
    assert_eq!(count("report.retracted"), 1);
    assert_eq!(
        all.iter()
            .filter(|e| e["type"] == "development.status_changed")
            .count(),
        2,
        "to completed, and back to underway"
    );
}

#[test]
fn offline_retraction_works_in_a_stopped_daemons_data_folder() {
    let rt = runtime();
    let mut d = start();
    let completed = underway_then_completed(&mut d);
    // While the daemon holds the folder, offline work is refused.
    let busy = retract_cli(&d, &[&completed, "--offline"]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("another sitrep process"),
        "{}",
        String::from_utf8_lossy(&busy.stderr)
    );
    let (status, _) = d.stop();
    assert!(status.success());
    let before = gapless(&d).len() as u64;

    let out = retract_cli(&d, &[&completed, "--offline", "--reason", "duplicate wire"]);
    crate::support::assert_ok(&out);
    let printed = parse_lines(&out.stdout);
    assert_eq!(event_ids(&printed)[0], before + 1, "numbering goes on");
    assert!(printed
        .iter()
        .any(|e| e["type"] == "development.status_changed" && e["data"]["to"] == "underway"));
    let again = retract_cli(&d, &[&completed, "--offline"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already retracted"));

    let mut d = d.start_again();
    d.poll();
    assert!(d.seen.is_empty(), "said again at start: {:#?}", d.seen);
    assert_eq!(status_of(&rt, &d), "underway");
    let (status, _) = d.stop();
    assert!(status.success());
    assert_eq!(gapless(&d).len() as u64, before + printed.len() as u64);
}
