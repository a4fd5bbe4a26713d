use std::path::PathBuf;

use crate::support::{copy_fixture, drop_file, fixtures, parse_lines, report_outcomes, Daemon};

/// A temporary folder with `watch/` holding the first report of the progression story,
/// and the path `data/` for the daemon to create.
fn folders_with_first_report() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&watch).unwrap();
    copy_fixture(
        "progression/01_tallis-kestria-to-withdraw.txt",
        &watch,
        "01.txt",
    );
    (dir, watch, data)
}

#[test]
fn daemon_processes_existing_then_new_files_and_stops_cleanly() {
    let (dir, watch, data) = folders_with_first_report();
    let mut d = Daemon::start_in(dir, watch.clone(), data.clone(), 200);
    d.wait_file("report.accepted", "01.txt");
    let detected = d.wait_for("withdrawal detected", |e| {
        e["type"] == "development.detected" && e["data"]["kind"] == "withdrawal"
    });
    assert_eq!(detected["data"]["status"], "planned");

    // Dropped while running, with rename-into-place and with a plain write.
    let text = std::fs::read(fixtures().join("progression/02_tallis-kestrian-pullout-begins.txt"))
        .unwrap();
    drop_file(&watch, "02.txt", &text);
    d.wait_file("report.accepted", "02.txt");
    // The log tells of every report at the default level, with what it changed.
    let line = d.wait_log_all(&["INFO", "Report accepted.", "02.txt"]);
    assert!(line.contains(" changed=1"), "{line}");
    std::fs::copy(
        fixtures().join("progression/03_moor-gazette-withdrawal-complete.txt"),
        watch.join("03.txt"),
    )
    .unwrap();
    let done = d.wait_for("completed", |e| {
        e["type"] == "development.status_changed" && e["data"]["to"] == "completed"
    });
    assert_eq!(done["data"]["from"], "underway");
    assert_eq!(done["subject"], detected["subject"]);

    // Hidden and temporary files are ignored; a re-send is a duplicate.
    std::fs::write(watch.join(".hidden.txt"), "Ignored report text.").unwrap();
    std::fs::write(watch.join("draft.txt.tmp"), "Ignored report text.").unwrap();
    drop_file(&watch, "04-resend.txt", &text);
    let dup = d.wait_file("report.duplicate", "04-resend.txt");
    assert_eq!(dup["data"]["original_file"], "02.txt");
    let line = d.wait_log_all(&["INFO", "duplicate; dropped", "04-resend.txt"]);
    assert!(
        line.contains(&format!(
            "of={}",
            dup["data"]["duplicate_of"].as_str().unwrap()
        )),
        "{line}"
    );

    let (status, seen) = d.stop();
    assert!(status.success(), "exit status {status:?}");
    assert!(seen.iter().all(|e| !e["data"]["file"]
        .as_str()
        .is_some_and(|f| f.contains("hidden") || f.contains("draft"))));
    // Every event also went to the events file, in the same order.
    let file = parse_lines(&std::fs::read(data.join("events.ndjson")).unwrap());
    assert_eq!(file, seen);
    let ids: Vec<u64> = file
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
}

#[test]
fn daemon_rejects_bad_input_and_carries_on() {
    let mut d = Daemon::start(200);
    let w = d.watch.clone();
    drop_file(&w, "empty.txt", b"");
    d.wait_file("report.rejected", "empty.txt");
    drop_file(
        &w,
        "image.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    );
    let bin = d.wait_file("report.rejected", "image.txt");
    assert_eq!(bin["data"]["reason_code"], "binary");
    // 0x81 is not Windows-1252 either.
    drop_file(&w, "not-text.txt", b"Caf\x81 owners protest.");
    let bad = d.wait_file("report.rejected", "not-text.txt");
    assert_eq!(bad["data"]["reason_code"], "invalid_utf8");
    std::fs::create_dir(w.join("story.txt")).unwrap();
    let dir = d.wait_file("report.rejected", "story.txt");
    assert_eq!(dir["data"]["reason_code"], "directory");
    d.wait_log("Report rejected.");
    // Still alive and working.
    copy_fixture("reversal/01_sws-evacuation-begins.txt", &w, "good.txt");
    d.wait_file("report.accepted", "good.txt");
    let (status, seen) = d.stop();
    assert!(status.success());
    // Rejections are in the events file too, nothing was deleted or moved.
    let file = parse_lines(&std::fs::read(d.data.join("events.ndjson")).unwrap());
    assert_eq!(file, seen);
    assert_eq!(
        file.iter()
            .filter(|e| e["type"] == "report.rejected")
            .count(),
        4
    );
    assert!(w.join("empty.txt").exists() && w.join("image.txt").exists());
}

/// A file read before its writer was done (here: closed after the first chunk) stops
/// mid-word. Its cut-off words must neither become a name nor state a development; the
/// complete file, a revision, brings the sentence whole, even when it only adds a line
/// break or goes on with more text.
#[test]
fn a_file_read_mid_sentence_has_its_last_sentence_held_back() {
    let mut d = Daemon::start(200);
    let path = d.watch.join("convoy.txt");
    let head = "Tallis forces pull back\n\nHARVEN, May 3 (Moor Gazette) - Officials in Harven \
                spoke on Monday. Tallis forces began withdrawing from Dravenna airp";
    std::fs::write(&path, head).unwrap();
    let first = d.wait_file("report.accepted", "convoy.txt");
    assert_eq!(first["data"]["unfinished_sentence"], 2, "{first}");
    d.wait_log_all(&["INFO", "stops mid-sentence", "convoy.txt", "sentence=2"]);
    std::fs::write(
        &path,
        format!("{head}ort, said Brenna Voss.\n\nMore talks are planned for Tuesday.\n"),
    )
    .unwrap();
    let second = d.wait_for("the complete file", |e| {
        e["type"] == "report.accepted" && e["data"]["revises"] == first["subject"]
    });
    assert!(second["data"]["unfinished_sentence"].is_null(), "{second}");
    let detected = d.wait_for("the withdrawal", |e| e["type"] == "development.detected");
    assert_eq!(detected["data"]["evidence"]["report"], second["subject"]);
    assert_eq!(detected["data"]["roles"]["location"], "dravenna-airport");

    // A file whose writer only had the line break left to write.
    let path = d.watch.join("flash.txt");
    let text = "Velmar port empties\n\nVELMAR - The port closed on Sunday. \
                Kestrian troops began withdrawing from Velmar port, said Anya Roe";
    std::fs::write(&path, text).unwrap();
    let first = d.wait_file("report.accepted", "flash.txt");
    assert_eq!(first["data"]["unfinished_sentence"], 2, "{first}");
    std::fs::write(&path, format!("{text}\n")).unwrap();
    d.wait_for("the line break", |e| {
        e["type"] == "report.accepted" && e["data"]["revises"] == first["subject"]
    });
    d.wait_for("the spokeswoman", |e| {
        e["type"] == "entity.discovered" && e["data"]["alias"] == "Anya Roe"
    });
    // The sentence was held back, not known: its claim counts in the revision.
    let detected = d.wait_for("the second withdrawal", |e| {
        e["type"] == "development.detected" && e["data"]["roles"]["location"] == "velmar-port"
    });
    assert_eq!(detected["data"]["kind"], "withdrawal");

    let (status, seen) = d.stop();
    assert!(status.success());
    let aliases: Vec<&str> = seen
        .iter()
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("entity.")))
        .filter_map(|e| e["data"]["alias"].as_str())
        .collect();
    assert!(
        !aliases
            .iter()
            .any(|a| a.contains("airp") && !a.contains("airport")),
        "{aliases:?}"
    );
    // Nothing was detected from the cut-off texts.
    let detected = seen
        .iter()
        .filter(|e| e["type"] == "development.detected")
        .count();
    assert_eq!(detected, 2, "{seen:#?}");
}

#[test]
fn daemon_reports_a_file_that_vanishes_before_it_is_complete() {
    // A long settle time: the half-written file is never complete while it exists.
    let mut d = Daemon::start(60_000);
    let path = d.watch.join("partial.txt");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"The first half of a report").unwrap();
        f.flush().unwrap();
        // The daemon has seen it arrive once it logs the pending file; then it goes away.
        d.wait_log("partial.txt");
        std::fs::remove_file(&path).unwrap();
    }
    let gone = d.wait_file("report.rejected", "partial.txt");
    assert_eq!(gone["data"]["reason_code"], "vanished");
    assert!(d.seen.iter().all(|e| e["type"] != "report.accepted"));
    let (status, _) = d.stop();
    assert!(status.success());
}

#[test]
fn rescans_take_no_file_twice() {
    let (dir, watch, data) = folders_with_first_report();
    let config = "[source]\nsettle_ms = 100\nrescan_secs = 1\n";
    let mut d = Daemon::start_with(dir, watch.clone(), data, config);
    copy_fixture(
        "progression/02_tallis-kestrian-pullout-begins.txt",
        &watch,
        "02.txt",
    );
    d.wait_file("report.accepted", "01.txt");
    d.wait_file("report.accepted", "02.txt");
    // Full rescans after both files were read: neither may be taken again. A line of a
    // rescan that ran before may still be on its way, so three are awaited: at least two
    // started after the skip.
    d.skip_logs();
    for _ in 0..3 {
        d.wait_log("Rescan done.");
    }
    let (status, seen) = d.stop();
    assert!(status.success());
    let report_events = report_outcomes(&seen);
    assert_eq!(
        report_events,
        [("report.accepted", "01.txt"), ("report.accepted", "02.txt")]
    );
    // Nothing was announced twice either.
    let mut firsts: Vec<_> = seen
        .iter()
        .filter(|e| e["type"] == "development.detected" || e["type"] == "entity.discovered")
        .map(|e| (e["type"].to_string(), e["subject"].to_string()))
        .collect();
    assert!(!firsts.is_empty());
    let n = firsts.len();
    firsts.sort();
    firsts.dedup();
    assert_eq!(firsts.len(), n, "{seen:#?}");
}

#[test]
fn watch_folder_deleted_and_recreated_is_watched_again() {
    let mut d = Daemon::start(100);
    let w = d.watch.clone();
    copy_fixture("reversal/01_sws-evacuation-begins.txt", &w, "01.txt");
    d.wait_file("report.accepted", "01.txt");
    std::fs::remove_dir_all(&w).unwrap();
    d.wait_log("Watch folder is gone");
    std::fs::create_dir(&w).unwrap();
    d.wait_log("watching it again");
    copy_fixture("reversal/02_sws-evacuation-suspended.txt", &w, "02.txt");
    d.wait_file("report.accepted", "02.txt");
    let (status, _) = d.stop();
    assert!(status.success());
}

#[test]
fn a_watch_folder_that_did_not_exist_is_created_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A mistyped folder: nothing there yet.
    let watch = dir.path().join("wacth");
    let data = dir.path().join("data");
    let mut d = Daemon::start_in(dir, watch.clone(), data, 200);
    let created = |d: &Daemon| {
        d.startup_log
            .iter()
            .find(|l| l.contains("Watch folder did not exist; created it."))
            .cloned()
    };
    let line = created(&d).unwrap_or_else(|| panic!("no warning in {:#?}", d.startup_log));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(watch.to_str().unwrap()), "{line}");
    assert!(watch.is_dir());
    // The folder works, and the next start, on a folder that exists, says nothing of it.
    drop_file(
        &watch,
        "a.txt",
        b"Convoy reaches Velgrad\n\nVELGRAD - The convoy reached the district.\n",
    );
    d.wait_file("report.accepted", "a.txt");
    let (d, _) = d.restart(false);
    assert_eq!(created(&d), None, "{:#?}", d.startup_log);
}
