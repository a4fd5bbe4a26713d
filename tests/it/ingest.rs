use std::path::Path;

use serde_json::Value;

use crate::support::{development, entity_with_alias, fixtures, ingest, of_type};

fn statuses_of(events: &[Value], subject_prefix: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| {
            e["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with(subject_prefix))
        })
        .filter(|e| e["type"] == "development.status_changed")
        .map(|e| {
            (
                e["data"]["from"].as_str().unwrap().to_string(),
                e["data"]["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn status_progression_across_three_reports() {
    let dir = fixtures().join("progression");
    let files: Vec<_> = [
        "01_tallis-kestria-to-withdraw.txt",
        "02_tallis-kestrian-pullout-begins.txt",
        "03_moor-gazette-withdrawal-complete.txt",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (events, snap) = ingest(&paths);
    let detected = of_type(&events, "development.detected");
    let dev = detected
        .iter()
        .find(|e| e["data"]["kind"] == "withdrawal")
        .expect("withdrawal detected");
    assert_eq!(dev["data"]["status"], "planned");
    let id = dev["subject"].as_str().unwrap();
    assert_eq!(
        statuses_of(&events, id),
        [
            ("planned".into(), "underway".into()),
            ("underway".into(), "completed".into())
        ]
    );
    let change = events
        .iter()
        .find(|e| e["type"] == "development.status_changed" && e["data"]["to"] == "completed")
        .unwrap();
    assert_eq!(change["data"]["evidence"]["source"], "Moor Gazette");
    assert!(change["data"]["evidence"]["sentence"]
        .as_str()
        .unwrap()
        .contains("was completed on Friday"));
    let d = development(&snap, id);
    assert_eq!(d["status"], "completed");
    assert_eq!(d["history"].as_array().unwrap().len(), 3);
    // Every event is a CloudEvent with a sequence number that counts up from 1.
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["specversion"], "1.0");
        assert_eq!(e["id"], (i + 1).to_string());
        assert_eq!(
            e["sequence"].as_str().unwrap().trim_start_matches('0'),
            (i + 1).to_string()
        );
    }
    assert_eq!(snap["seq"], events.len());
}

#[test]
fn lagging_report_after_completion_never_rolls_back() {
    // 04 is dated before 03 but arrives after it, still saying "withdrawing".
    let (events, snap) = ingest(&[&fixtures().join("progression")]);
    let d = development(&snap, "withdrawal/");
    assert_eq!(d["status"], "completed");
    let id = d["id"].as_str().unwrap();
    assert_eq!(statuses_of(&events, id).last().unwrap().1, "completed");
    let lagging = events
        .iter()
        .find(|e| e["type"] == "development.corroborated" && e["subject"] == id)
        .expect("the lagging report corroborates");
    assert_eq!(lagging["data"]["lagging"], true);
    assert_eq!(lagging["data"]["claimed"], "underway");
}

#[test]
fn any_arrival_order_ends_in_the_same_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "01_tallis-kestria-to-withdraw.txt",
        "02_tallis-kestrian-pullout-begins.txt",
        "03_moor-gazette-withdrawal-complete.txt",
        "04_ridge-post-stale-bulletin.txt",
    ];
    let orders = [[3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]];
    let (_, reference) = ingest(&[&fixtures().join("progression")]);
    for (n, order) in orders.iter().enumerate() {
        let d = dir.path().join(format!("order{n}"));
        std::fs::create_dir(&d).unwrap();
        for (pos, &i) in order.iter().enumerate() {
            std::fs::copy(
                fixtures().join("progression").join(names[i]),
                d.join(format!("{pos}_{}", names[i])),
            )
            .unwrap();
        }
        let (events, snap) = ingest(&[&d]);
        let got = development(&snap, "withdrawal/");
        let want = development(&reference, "withdrawal/");
        assert_eq!(got["status"], want["status"]);
        assert_eq!(got["roles"], want["roles"]);
        let history = |d: &Value| -> Vec<(Value, Value)> {
            d["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["from"].clone(), h["to"].clone()))
                .collect()
        };
        assert_eq!(history(got), history(want));
        // No status ever moves backwards along planned < underway < completed.
        let rank = |s: &str| {
            ["planned", "underway", "completed"]
                .iter()
                .position(|x| *x == s)
        };
        for (from, to) in statuses_of(&events, got["id"].as_str().unwrap()) {
            if let (Some(a), Some(b)) = (rank(&from), rank(&to)) {
                assert!(b > a, "moved back from {from} to {to} in order {order:?}");
            }
        }
    }
}

#[test]
fn reversal_halts_and_resumes() {
    let (events, snap) = ingest(&[&fixtures().join("reversal")]);
    let d = development(&snap, "evacuation/");
    assert_eq!(d["status"], "underway");
    let id = d["id"].as_str().unwrap();
    assert_eq!(
        statuses_of(&events, id),
        [
            ("underway".into(), "halted".into()),
            ("halted".into(), "underway".into())
        ]
    );
}

#[test]
fn aliases_resolve_to_one_entity() {
    let (events, snap) = ingest(&[&fixtures().join("aliases")]);
    let general = entity_with_alias(&snap, "Yusuf al-Tamimi");
    assert_eq!(general["kind"], "person");
    for alias in ["Youssef Al Tamimi", "Tamimi"] {
        assert_eq!(
            entity_with_alias(&snap, alias)["id"],
            general["id"],
            "{alias}"
        );
    }
    let port = entity_with_alias(&snap, "Port Keldar");
    assert_eq!(port["kind"], "facility");
    for alias in ["Keldar harbour", "port of Keldar"] {
        assert_eq!(entity_with_alias(&snap, alias)["id"], port["id"], "{alias}");
    }
    let nra = entity_with_alias(&snap, "Northern Reach Alliance");
    assert_eq!(nra["kind"], "organization");
    assert_eq!(entity_with_alias(&snap, "NRA")["id"], nra["id"]);
    assert_ne!(nra["id"], port["id"]);
    assert!(of_type(&events, "entity.alias_added")
        .iter()
        .any(|e| e["data"]["alias"] == "Youssef Al Tamimi"));
}

#[test]
fn hedged_claim_moves_nothing_and_negation_maps_the_status() {
    let (_, snap) = ingest(&[&fixtures().join("claims")]);
    let devs = snap["developments"].as_array().unwrap();
    // "may withdraw" is hedged: the development is not shown with a status.
    assert!(
        devs.iter()
            .all(|d| !d["id"].as_str().unwrap().contains("tessaly")),
        "{devs:#?}"
    );
    // "had not completed the withdrawal" is a negated completion: underway.
    let corvin = devs
        .iter()
        .find(|d| d["id"].as_str().unwrap().contains("corvin"))
        .expect("corvin base");
    assert_eq!(corvin["status"], "underway");
    assert_eq!(corvin["claims"][0]["modality"], "negated");
}

#[test]
fn an_entity_lists_every_report_that_names_it() {
    let (events, snap) = ingest(&[&fixtures().join("reversal")]);
    let accepted: Vec<&str> = of_type(&events, "report.accepted")
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(accepted.len(), 3);
    // The town is named several times in each of the three reports.
    let town = snap["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Marrowby")
        .expect("Marrowby");
    let mut expected = accepted.clone();
    expected.sort_unstable();
    assert_eq!(town["reports"], serde_json::json!(expected));
    assert!(town["mentions"].as_u64().unwrap() > 3, "{town}");
}

/// A folder with a fixture report as `a.txt` and `second` of its text as `b.txt`.
fn two_copies(second: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(fixtures().join("reversal/01_sws-evacuation-begins.txt")).unwrap();
    std::fs::write(dir.path().join("a.txt"), &text).unwrap();
    std::fs::write(dir.path().join("b.txt"), second(text)).unwrap();
    dir
}

#[test]
fn exact_resend_under_another_name_is_a_duplicate() {
    // Same text with CRLF line endings.
    let dir = two_copies(|text| text.replace('\n', "\r\n"));
    let (events, snap) = ingest(&[dir.path()]);
    let dups = of_type(&events, "report.duplicate");
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["data"]["original_file"], "a.txt");
    assert_eq!(snap["reports"].as_array().unwrap().len(), 1);
    // The duplicate changed nothing: it is the last event.
    assert_eq!(events.last().unwrap()["type"], "report.duplicate");
}

/// `ingest` prints the events; a log line per report would only repeat them, so at the
/// default level there is none, and with `debug` there is one per report.
#[test]
fn ingest_logs_a_line_per_report_only_at_debug() {
    let dir = two_copies(|text| text);
    let stderr = |filter: Option<&str>| {
        let mut cmd = std::process::Command::new(crate::support::bin());
        cmd.env_remove("RUST_LOG").env_remove("SITREP_LOG");
        if let Some(f) = filter {
            cmd.env("SITREP_LOG", f);
        }
        let out = cmd.arg("ingest").arg(dir.path()).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let quiet = stderr(None);
    assert!(!quiet.contains("Report accepted."), "{quiet}");
    assert!(!quiet.contains("duplicate; dropped"), "{quiet}");
    let debug = stderr(Some("sitrep=debug"));
    let lines = |needle: &str| debug.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(lines("Report accepted."), 1, "{debug}");
    assert_eq!(lines("duplicate; dropped"), 1, "{debug}");
}

/// `ingest` reads each file once, as it is: a last sentence without a stop or a line break
/// is taken like any other (the daemon holds it back until the file is complete).
#[test]
fn ingest_takes_a_last_sentence_without_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.txt"),
        "Velmar port reopens\n\nVELMAR - The port reopened on Sunday. \
         The first ship docked at noon, said Anya Roe",
    )
    .unwrap();
    let (events, _) = ingest(&[dir.path()]);
    let accepted = &of_type(&events, "report.accepted")[0];
    assert!(
        accepted["data"]["unfinished_sentence"].is_null(),
        "{accepted}"
    );
    assert!(of_type(&events, "entity.discovered")
        .iter()
        .any(|e| e["data"]["alias"] == "Anya Roe"));
}

#[test]
fn bad_inputs_are_rejected_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("01_empty.txt"), b"").unwrap();
    std::fs::write(
        p.join("02_binary.txt"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    )
    .unwrap();
    // Neither UTF-8 nor plausibly Windows-1252 (Cyrillic in Windows-1251).
    std::fs::write(
        p.join("03_cp1251.txt"),
        b"\xcf\xf0\xe8\xe2\xe5\xf2 \xe8\xe7 \xc2\xe5\xeb\xe3\xf0\xe0\xe4\xe0.",
    )
    .unwrap();
    std::fs::create_dir(p.join("04_folder.txt")).unwrap();
    std::fs::copy(
        fixtures().join("reversal/03_sws-evacuation-resumes.txt"),
        p.join("05_good.txt"),
    )
    .unwrap();
    let missing = p.join("06_missing.txt");
    let (events, snap) = ingest(&[p, &missing]);
    let rejected = of_type(&events, "report.rejected");
    let codes: Vec<(&str, &str)> = rejected
        .iter()
        .map(|e| {
            (
                e["data"]["file"].as_str().unwrap(),
                e["data"]["reason_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("01_empty.txt", "empty"),
            ("02_binary.txt", "binary"),
            ("03_cp1251.txt", "invalid_utf8"),
            ("04_folder.txt", "directory"),
            ("06_missing.txt", "vanished"),
        ]
    );
    for e in &rejected {
        assert!(!e["data"]["reason"].as_str().unwrap().is_empty());
    }
    // The good report in the middle still went through.
    assert_eq!(of_type(&events, "report.accepted").len(), 1);
    assert_eq!(snap["reports"][0]["file"], "05_good.txt");
}

/// A report that names no development ("the truce collapsed") joins the one the other
/// reports make salient for its day, whatever the arrival order; a truce first reported
/// after it is not a candidate.
#[test]
fn a_claim_that_names_nothing_finds_its_development_in_any_order() {
    let reports = [
        (
            "kelvar.txt",
            "source: Test Wire\ndate: 2031-05-01\n\nTruce in Kelvar\n\nA truce between the Varn Front and the Ostrian army took effect in Kelvar province on Friday, the Varn Front said.\n",
        ),
        (
            "brask.txt",
            "source: Test Wire\ndate: 2031-05-03\n\nTruce in Brask\n\nA truce between the Varn Front and the Ostrian army took effect in Brask on Sunday, the Varn Front said.\n",
        ),
        (
            "collapse.txt",
            "source: Test Wire\ndate: 2031-05-02\n\nFighting returns\n\nThe truce collapsed on Saturday after heavy fighting, the Varn Front said.\n",
        ),
    ];
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, order) in perms.iter().enumerate() {
        let d = dir.path().join(format!("order{n}"));
        std::fs::create_dir(&d).unwrap();
        for (pos, &i) in order.iter().enumerate() {
            let (name, text) = reports[i];
            std::fs::write(d.join(format!("{pos}_{name}")), text).unwrap();
        }
        let (_, snap) = ingest(&[&d]);
        let kelvar = development(&snap, "ceasefire/kelvar");
        let brask = development(&snap, "ceasefire/brask");
        assert_eq!(kelvar["status"], "cancelled", "order {order:?}: {kelvar:#}");
        assert_eq!(brask["status"], "underway", "order {order:?}: {brask:#}");
    }
}

/// Writes invented one-paragraph reports, dated a day apart, named so that they sort in
/// the order given.
fn one_liners(bodies: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in bodies.iter().enumerate() {
        let text = format!(
            "source: Tallis Wire\ndate: 2031-05-{:02}\n\nReport {i}\n\n{body}\n",
            i + 1
        );
        std::fs::write(dir.path().join(format!("{i:02}.txt")), text).unwrap();
    }
    dir
}

#[test]
fn one_army_leaving_two_places_is_two_withdrawals() {
    let dir = one_liners(&[
        "Russian troops withdrew from Brennmoor air base on Monday, officials said.",
        "Russian troops withdrew from Kindu airport on Tuesday, officials said.",
        "Russian troops completed their withdrawal from Harven airport, officials said.",
    ]);
    let (events, snap) = ingest(&[dir.path()]);
    let detected: Vec<&str> = of_type(&events, "development.detected")
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        detected,
        [
            "withdrawal/russia/brennmoor-air-base",
            "withdrawal/russia/kindu-airport",
            "withdrawal/russia/harven-airport"
        ]
    );
    assert!(of_type(&events, "development.corroborated").is_empty());
    for d in snap["developments"].as_array().unwrap() {
        let places: std::collections::BTreeSet<&str> = d["claims"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["roles"]["location"].as_str())
            .collect();
        assert!(places.len() <= 1, "{} mixes places {places:?}", d["id"]);
    }
}

#[test]
fn a_claim_that_names_no_place_never_moves_a_development_placed_elsewhere() {
    let dir = one_liners(&[
        "Russian troops completed their withdrawal from Varnholt air base, officials said.",
        "Russia said it would pull out of the grain deal, officials said.",
        "Russian officials said they were pulling out all the stops to win the vote.",
    ]);
    let (events, snap) = ingest(&[dir.path()]);
    let id = "withdrawal/russia/varnholt-air-base";
    assert_eq!(development(&snap, id)["status"], "completed");
    let touching: Vec<&str> = events
        .iter()
        .filter(|e| e["subject"] == id)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(touching, ["development.detected"]);
}

#[test]
fn a_report_dated_only_by_its_file_never_disputes_a_dated_one() {
    let done = "source: Tallis Wire\ndate: 2020-05-01\n\nPullout over\n\nKestria completed its withdrawal from Varnholt air base on Friday, officials said.\n";
    let plan = |header: &str| {
        let (header, dateline) = header.split_once('|').unwrap_or((header, ""));
        format!("{header}Pullout ahead\n\n{dateline}Kestria will withdraw its troops from Varnholt air base, officials said.\n")
    };
    let run = |header: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1.txt"), done).unwrap();
        std::fs::write(dir.path().join("2.txt"), plan(header)).unwrap();
        let (events, snap) = ingest(&[dir.path()]);
        let mut reports: Vec<&Value> = snap["reports"].as_array().unwrap().iter().collect();
        reports.sort_by_key(|r| r["file"].as_str().unwrap().to_string());
        let origins: Vec<String> = reports
            .iter()
            .map(|r| r["date_origin"].as_str().unwrap().to_string())
            .collect();
        (of_type(&events, "development.disputed").len(), origins)
    };
    // Dated in the text, the later report disputes; dated by its file (a copy made now), it
    // only lags, and the event says where its date came from.
    assert_eq!(
        run("source: Moor Gazette\ndate: 2020-05-03\n\n"),
        (1, vec!["header".to_string(), "header".to_string()])
    );
    assert_eq!(
        run(""),
        (0, vec!["header".to_string(), "mtime".to_string()])
    );
    // A dated dateline dates the report by its text again.
    assert_eq!(
        run("|VARNHOLT, May 3, 2020 (MG) - "),
        (1, vec!["header".to_string(), "dateline".to_string()])
    );
}

#[test]
fn a_claim_about_an_earlier_occasion_opens_no_development() {
    // The past visit comes first: were it the report's meeting, "the new visit" would join
    // it and give the 2029 meeting a planned status.
    let (events, snap) = ingest_report(
        "Varn heads abroad\n\n\
         During a previous visit to Velgrad in 2029, Otto Varn met Ilsa Brandt.\n\
         The new visit is expected to last two days, officials said.\n",
    );
    assert!(
        of_type(&events, "development.detected").is_empty(),
        "{:#?}",
        snap["developments"]
    );
}

#[test]
fn talks_about_somewhere_else_leave_a_coming_summit_planned() {
    let (events, _) = ingest_report(
        "Varn to meet Brandt\n\n\
         Otto Varn will arrive in Kessa on Friday for talks with Ilsa Brandt, officials said.\n\
         Officials also spoke of ongoing talks on the future of the bases at Meltz airfield.\n",
    );
    let detected = of_type(&events, "development.detected");
    assert_eq!(detected.len(), 1, "{detected:#?}");
    assert_eq!(detected[0]["data"]["status"], "planned", "{detected:#?}");
}

#[test]
fn a_person_is_found_by_the_title_the_report_gave_them() {
    let (events, snap) = ingest_report(
        "Varnholt in Velgrad\n\n\
         Kestrian President Ilsa Varnholt arrived in Velgrad on Monday.\n\
         President Varnholt will meet the mayor on Tuesday.\n",
    );
    let e = entity_with_alias(&snap, "Kestrian President Ilsa Varnholt");
    assert_eq!(e["name"], "Ilsa Varnholt");
    assert!(e["aliases"].get("President Varnholt").is_some(), "{e:#}");
    let added: Vec<&str> = of_type(&events, "entity.alias_added")
        .iter()
        .filter_map(|ev| ev["data"]["alias"].as_str())
        .collect();
    assert!(added.contains(&"President Varnholt"), "{added:?}");
}

/// A report of the Tallis Wire of 2 May 2031 with `body` (headline, blank line, text), run
/// through `sitrep ingest` alone.
fn ingest_report(body: &str) -> (Vec<Value>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1.txt");
    std::fs::write(
        &path,
        format!("source: Tallis Wire\ndate: 2031-05-02\n\n{body}"),
    )
    .unwrap();
    ingest(&[&path])
}
