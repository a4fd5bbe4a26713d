//! Bad input against the running daemon: each kind gets its `report.rejected` event (or is
//! decoded after all), a warning with the path, and the daemon carries on. Files stay where
//! they are unless `source.rejected_dir` is set.
//!
//! Also covered elsewhere: a file that vanishes while it is written, and a watch folder
//! deleted and re-created (`daemon.rs`).

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::support::{copy_fixture, drop_file, report_outcomes, Daemon};

/// A short report of our own, different for every `n`.
fn report(n: usize) -> String {
    format!(
        "Convoy {n} reaches Velgrad\n\nVELGRAD (Tallis Wire) - Aid convoy number {n} reached \
         the northern district of Velgrad on Monday. Officials said {n} trucks were unloaded.\n"
    )
}

/// `text` in UTF-16 with its byte-order mark.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let code = |u: u16| {
        if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        }
    };
    std::iter::once(0xFEFF)
        .chain(text.encode_utf16())
        .flat_map(code)
        .collect()
}

/// Waits for the rejection of `file`, checks its code and the warning naming the path.
fn rejected(d: &mut Daemon, file: &str, code: &str) -> Value {
    let e = d.wait_for(&format!("{file} rejected as {code}"), |e| {
        e["type"] == "report.rejected"
            && e["data"]["file"] == file
            && e["data"]["reason_code"] == code
    });
    assert!(!e["data"]["reason"].as_str().unwrap_or("").is_empty());
    let line = d.wait_log_all(&["Report rejected.", file]);
    assert!(line.contains("WARN"), "{line}");
    e
}

/// The daemon still takes a good report after the bad ones.
fn still_working(d: &mut Daemon) {
    let w = d.watch.clone();
    copy_fixture("reversal/01_sws-evacuation-begins.txt", &w, "after.txt");
    d.wait_file("report.accepted", "after.txt");
}

fn stop_ok(d: &mut Daemon) -> Vec<Value> {
    let (status, seen) = d.stop();
    assert!(status.success(), "exit status {status:?}");
    seen
}

#[test]
fn other_encodings_are_decoded_and_the_encoding_is_reported() {
    let mut d = Daemon::start(200);
    let w = d.watch.clone();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("utf16le.txt", utf16(&report(1), false), "UTF-16LE"),
        ("utf16be.txt", utf16(&report(2), true), "UTF-16BE"),
        (
            "bom.txt",
            [b"\xEF\xBB\xBF".as_slice(), report(3).as_bytes()].concat(),
            "UTF-8",
        ),
        (
            "cp1252.txt",
            b"Caf\xe9 owners\x92 protest ends\n\nVELGRAD - The owners of the Caf\xe9 \
              Rouge said the \x93protest\x94 was over.\n"
                .to_vec(),
            "windows-1252",
        ),
        (
            "mixed.txt",
            b"Caf\xc3\xa9 owners\x92 strike ends\n\nVELGRAD - The owners of the Caf\xc3\xa9 \
              Bleu said the strike was over.\n"
                .to_vec(),
            "UTF-8+windows-1252",
        ),
    ];
    for (name, bytes, encoding) in &cases {
        drop_file(&w, name, bytes);
        let e = d.wait_file("report.accepted", name);
        assert_eq!(e["data"]["encoding"], *encoding, "{name}");
        // The whole path, so that files of one name in two subfolders are told apart.
        assert_eq!(e["data"]["path"], w.join(name).to_str().unwrap(), "{name}");
    }
    let cp = d.wait_file("report.accepted", "cp1252.txt");
    assert_eq!(cp["data"]["title"], "Café owners’ protest ends");
    let mixed = d.wait_file("report.accepted", "mixed.txt");
    assert_eq!(mixed["data"]["title"], "Café owners’ strike ends");
    // The same text in UTF-8 is the same report.
    drop_file(&w, "resend.txt", report(1).as_bytes());
    let dup = d.wait_file("report.duplicate", "resend.txt");
    assert_eq!(dup["data"]["original_file"], "utf16le.txt");
    assert_eq!(dup["data"]["path"], w.join("resend.txt").to_str().unwrap());
    // What still is not text.
    drop_file(&w, "broken16.txt", b"\xFF\xFEA\x00\x00\xD8B\x00");
    rejected(&mut d, "broken16.txt", "invalid_utf16");
    drop_file(
        &w,
        "cp1251.txt",
        b"\xcf\xf0\xe8\xe2\xe5\xf2 \xe8\xe7 \xc2\xe5\xeb.",
    );
    rejected(&mut d, "cp1251.txt", "invalid_utf8");
    drop_file(&w, "nul16.txt", &utf16("Text\u{0}\u{0}\u{0}", false));
    rejected(&mut d, "nul16.txt", "binary");
    still_working(&mut d);
    stop_ok(&mut d);
}

#[test]
fn a_file_over_the_size_cap_is_rejected_and_one_at_the_cap_is_read() {
    let mut d = Daemon::start_with_source(200, "max_bytes = 2000");
    let w = d.watch.clone();
    let mut big = report(1).into_bytes();
    while big.len() < 5000 {
        big.extend_from_slice(b"More words follow here. ");
    }
    drop_file(&w, "big.txt", &big);
    let e = rejected(&mut d, "big.txt", "too_large");
    assert!(
        e["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("2000-byte cap"),
        "{e:#}"
    );
    let mut exact = report(2).into_bytes();
    exact.resize(2000, b' ');
    drop_file(&w, "exact.txt", &exact);
    d.wait_file("report.accepted", "exact.txt");
    stop_ok(&mut d);
    assert!(w.join("big.txt").exists(), "nothing is moved by default");
}

#[test]
fn a_file_still_being_written_is_read_once_complete() {
    // A settle time far longer than the pause: only the close says it is complete.
    let mut d = Daemon::start(10_000);
    let path = d.watch.join("slow.txt");
    let full = report(7);
    let (first, second) = full.split_at(full.len() / 2);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(first.as_bytes()).unwrap();
    d.wait_log_all(&["File arrived", "slow.txt"]);
    // The writer pauses half way (this sleep makes the half-written file, it does not
    // wait for the daemon): nothing may be read meanwhile.
    std::thread::sleep(std::time::Duration::from_millis(500));
    d.poll();
    assert!(d.report_events("slow.txt").is_empty(), "{:#?}", d.seen);
    f.write_all(second.as_bytes()).unwrap();
    drop(f);
    let e = d.wait_file("report.accepted", "slow.txt");
    assert_eq!(e["data"]["title"], "Convoy 7 reaches Velgrad");
    assert_eq!(e["data"]["sentences"], 3, "the whole report: {e:#}");
    let seen = stop_ok(&mut d);
    let about: Vec<_> = seen
        .iter()
        .filter(|e| e["data"]["file"] == "slow.txt")
        .collect();
    assert_eq!(about.len(), 1, "{about:#?}");
}

#[test]
fn a_file_written_in_two_goes_gives_the_picture_of_the_file_written_at_once() {
    // The first part names only the commander; the second names the airfield her troops
    // leave. Each part is closed after writing, so each is read.
    let first = "source: Harbor Ledger\ndate: 2031-06-02\n\nGarrison leaves Meltz airfield\n\n\
        Commander Anja Pellmark will withdraw her troops within a week, the ministry said.\n";
    let second = "Corvanian troops began withdrawing from Meltz airfield on Sunday.\n";
    let mut d = Daemon::start(10_000);
    let path = d.watch.join("grown.txt");
    std::fs::write(&path, first).unwrap();
    d.wait_file("report.accepted", "grown.txt");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(second.as_bytes()).unwrap();
    drop(f);
    d.wait_for("the grown file", |e| {
        e["type"] == "report.accepted" && e["data"]["revises"].is_string()
    });
    let rt = crate::api::runtime();
    let picture = |devs: &Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = devs
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| (d["id"].to_string(), d["status"].to_string()))
            .collect();
        v.sort();
        v
    };
    let daemon = crate::api::get_json(&rt, &format!("{}/developments", d.url()));
    let seen = stop_ok(&mut d);
    let whole = d.dir().join("whole.txt");
    std::fs::write(&whole, format!("{first}{second}")).unwrap();
    let (_, snap) = crate::support::ingest(&[&whole]);
    assert_eq!(
        picture(&daemon["developments"]),
        picture(&snap["developments"])
    );
    assert_eq!(picture(&snap["developments"]).len(), 1, "{snap:#}");
    let retired: Vec<_> = seen
        .iter()
        .filter(|e| e["type"] == "development.retired")
        .collect();
    assert_eq!(retired.len(), 1, "the partial text's guess goes: {seen:#?}");
}

#[test]
fn a_file_that_vanishes_is_reported_and_nothing_is_moved() {
    let mut d = Daemon::start_with_source(60_000, "rejected_dir = \"rejected\"");
    let path = d.watch.join("gone.txt");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(b"Half a report").unwrap();
    d.wait_log_all(&["File arrived", "gone.txt"]);
    std::fs::remove_file(&path).unwrap();
    drop(f);
    rejected(&mut d, "gone.txt", "vanished");
    still_working(&mut d);
    stop_ok(&mut d);
    let rejected_dir = d.dir().join("rejected");
    assert!(
        !rejected_dir.exists() || std::fs::read_dir(&rejected_dir).unwrap().next().is_none(),
        "nothing to move"
    );
}

#[test]
fn an_unreadable_file_is_rejected_with_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let mut d = Daemon::start(200);
    let staged = d.dir().join("locked.txt");
    std::fs::write(&staged, report(3)).unwrap();
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read(&staged).is_ok();
    std::fs::rename(&staged, d.watch.join("locked.txt")).unwrap();
    if readable {
        println!(
            "note: permissions do not stop this user from reading (root?); rejection not checked"
        );
        d.wait_file("report.accepted", "locked.txt");
    } else {
        let e = rejected(&mut d, "locked.txt", "unreadable");
        assert_eq!(
            e["data"]["reason"],
            "file could not be read: permission denied"
        );
    }
    still_working(&mut d);
    stop_ok(&mut d);
    assert!(d.watch.join("locked.txt").exists());
}

#[test]
fn symbolic_link_loops_are_not_regular_files() {
    use std::os::unix::fs::symlink;
    let mut d = Daemon::start(200);
    let w = d.watch.clone();
    symlink("me.txt", w.join("me.txt")).unwrap();
    let e = rejected(&mut d, "me.txt", "not_regular");
    assert_eq!(
        e["data"]["reason"],
        "path is not a regular file (symbolic link loop)"
    );
    // a.txt -> b.txt -> a.txt, made elsewhere and moved in together.
    let staging = d.dir().join("loops");
    std::fs::create_dir(&staging).unwrap();
    symlink("b.txt", staging.join("a.txt")).unwrap();
    symlink("a.txt", staging.join("b.txt")).unwrap();
    std::fs::rename(&staging, w.join("loops")).unwrap();
    for name in ["a.txt", "b.txt"] {
        let e = d.wait_file("report.rejected", name);
        assert_eq!(
            e["data"]["reason"],
            "path is not a regular file (symbolic link loop)"
        );
    }
    still_working(&mut d);
    stop_ok(&mut d);
}

#[test]
fn a_fifo_is_rejected_without_blocking_the_source() {
    let mut d = Daemon::start(200);
    let fifo = d.watch.join("pipe.txt");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        println!("note: mkfifo is not available; FIFO check skipped");
        return;
    }
    let e = rejected(&mut d, "pipe.txt", "not_regular");
    assert_eq!(e["data"]["reason"], "path is not a regular file (a FIFO)");
    // Nobody ever writes to the FIFO: a source that opened it would hang here.
    still_working(&mut d);
    stop_ok(&mut d);
    assert!(fifo.exists());
}

#[test]
fn a_malformed_header_is_rejected_with_the_header_named() {
    let mut d = Daemon::start(200);
    let w = d.watch.clone();
    let body = "\n\nConvoy reaches Velgrad\n\nVELGRAD - The convoy reached the district.\n";
    drop_file(
        &w,
        "bad-date.txt",
        format!("source: Tallis Wire\ndate: next Tuesday{body}").as_bytes(),
    );
    let e = rejected(&mut d, "bad-date.txt", "malformed_header");
    let reason = e["data"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("`date:`") && reason.contains("next Tuesday"),
        "{reason}"
    );
    drop_file(
        &w,
        "header-only.txt",
        b"source: Tallis Wire\ndate: 2031-04-05\n\n",
    );
    let e = rejected(&mut d, "header-only.txt", "malformed_header");
    assert!(e["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("no report text"));
    drop_file(
        &w,
        "good-date.txt",
        format!("source: Tallis Wire\ndate: 5 April 2031{body}").as_bytes(),
    );
    let e = d.wait_file("report.accepted", "good-date.txt");
    assert_eq!(e["data"]["published_at"], "2031-04-05T00:00:00Z");
    assert_eq!(e["data"]["date_origin"], "header");
    stop_ok(&mut d);
}

#[test]
fn a_name_with_odd_bytes_is_read_and_shown_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let mut d = Daemon::start(200);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff report.txt");
    std::fs::write(d.watch.join(name), report(4)).unwrap();
    let e = d.wait_file("report.accepted", "caf\u{FFFD} \u{FFFD} report.txt");
    assert!(e["data"]["title"] == "Convoy 4 reaches Velgrad");
    stop_ok(&mut d);
}

#[test]
fn thousands_of_files_at_once_each_get_exactly_one_event() {
    const N: usize = 2000;
    // Rescans as a second net: a burst may overflow the kernel's notification queue.
    let mut d = Daemon::start_with_source(200, "rescan_secs = 2");
    let w = d.watch.clone();
    let name = |i: usize| format!("burst-{i:04}.txt");
    for i in 0..N {
        let text = match i % 100 {
            // Some bad input and some re-sends in the burst.
            13 => String::new(),
            57 => report(1),
            _ => report(i),
        };
        std::fs::write(w.join(name(i)), text).unwrap();
    }
    let is_report = |e: &Value| {
        e["type"].as_str().is_some_and(|t| t.starts_with("report."))
            && e["data"]["file"]
                .as_str()
                .is_some_and(|f| f.starts_with("burst-"))
    };
    d.wait_count("report events", N, is_report);
    let seen = stop_ok(&mut d);
    let mut per_file = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for e in seen.iter().filter(|e| is_report(e)) {
        per_file
            .entry(e["data"]["file"].as_str().unwrap())
            .or_default()
            .push(e["type"].as_str().unwrap());
    }
    assert_eq!(per_file.len(), N);
    let twice: Vec<_> = per_file.iter().filter(|(_, v)| v.len() != 1).collect();
    assert!(twice.is_empty(), "more than one event: {twice:?}");
    let count = |ty: &str| per_file.values().filter(|v| v[0] == ty).count();
    assert_eq!(count("report.rejected"), N / 100);
    // Report 1 and its twenty re-sends: one accepted, the rest duplicates.
    assert_eq!(count("report.duplicate"), N / 100);
    assert_eq!(count("report.accepted"), N - 2 * N / 100);
}

/// Starts a daemon whose rejected files go to `watch/rejected`, with frequent rescans.
fn daemon_with_rejected_dir() -> (Daemon, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    let data = dir.path().join("data");
    let rejected = watch.join("rejected");
    std::fs::create_dir_all(&watch).unwrap();
    let config = format!(
        "[source]\nsettle_ms = 200\nrescan_secs = 1\nrejected_dir = {:?}\n",
        rejected.to_str().unwrap()
    );
    (Daemon::start_with(dir, watch, data, &config), rejected)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn rejected_files_are_moved_to_the_rejected_folder_and_not_read_again() {
    let (mut d, rejected_dir) = daemon_with_rejected_dir();
    let w = d.watch.clone();
    drop_file(&w, "bad.txt", b"");
    let e = rejected(&mut d, "bad.txt", "empty");
    // The event names the path where the file was found; the move comes after it.
    assert_eq!(e["data"]["path"], w.join("bad.txt").to_str().unwrap());
    d.wait_log_all(&["Rejected file moved.", "bad.txt"]);
    assert!(!w.join("bad.txt").exists());
    // The same name again: a suffix, nothing overwritten.
    drop_file(&w, "bad.txt", b"\x00\x01binary");
    rejected(&mut d, "bad.txt", "binary");
    d.wait_log_all(&["Rejected file moved.", "bad-1.txt"]);
    // A folder named like a report is not moved; a good report is not touched.
    std::fs::create_dir(w.join("folder.txt")).unwrap();
    rejected(&mut d, "folder.txt", "directory");
    still_working(&mut d);
    // Rescans after the moves: the rejected folder is not read.
    d.skip_logs();
    for _ in 0..3 {
        d.wait_log("Rescan done.");
    }
    let seen = stop_ok(&mut d);
    assert_eq!(names_in(&rejected_dir), ["bad-1.txt", "bad.txt"]);
    assert!(w.join("folder.txt").is_dir() && w.join("after.txt").exists());
    let reports = report_outcomes(&seen);
    assert_eq!(
        reports,
        [
            ("report.rejected", "bad.txt"),
            ("report.rejected", "bad.txt"),
            ("report.rejected", "folder.txt"),
            ("report.accepted", "after.txt"),
        ]
    );
}

#[test]
fn html_xml_and_json_files_are_rejected_as_not_plain_text() {
    let mut d = Daemon::start(200);
    let w = d.watch.clone();
    drop_file(
        &w,
        "saved-page.html",
        b"<!DOCTYPE html>\n<html><head><title>Convoy reaches Velgrad</title>\n\
          <style>body { font-family: Arial; }</style></head>\n<body><p>VELGRAD - The convoy \
          reached the district.</p><footer>Cookie Policy | Privacy Policy</footer></body></html>\n",
    );
    let e = rejected(&mut d, "saved-page.html", "not_plain_text");
    let reason = e["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("an HTML page"), "{reason}");
    // Decided by content: the name says text.
    drop_file(
        &w,
        "story.txt",
        br#"{"title": "Convoy reaches Velgrad", "date": "2031-04-05", "body": "The convoy reached the district."}"#,
    );
    let e = rejected(&mut d, "story.txt", "not_plain_text");
    assert!(e["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("JSON object"));
    drop_file(
        &w,
        "feed.txt",
        b"<?xml version=\"1.0\"?>\n<rss><channel><item><title>Convoy</title></item></channel></rss>\n",
    );
    rejected(&mut d, "feed.txt", "not_plain_text");
    // Prose that holds a `<` or opens with brackets is text.
    drop_file(
        &w,
        "prose.txt",
        b"[Update] Convoy reaches Velgrad\n\nVELGRAD - Fewer than <10 trucks reached the \
          district, officials said.\n",
    );
    d.wait_file("report.accepted", "prose.txt");
    stop_ok(&mut d);
}
