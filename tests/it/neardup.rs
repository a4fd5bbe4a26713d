//! Near duplicates against the daemon: a republication by another outlet with a new
//! headline, an edit and an added paragraph is a `report.near_duplicate` of the original;
//! only its added paragraph counts; a report of the same shape about another place is
//! new; and after a restart the index still finds copies, with no event said twice. The
//! copies and their original make one story.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{drop_file, event_ids, Daemon};

const BODY: &str = "MERROW (Tallis Wire) - Emergency crews began evacuating four villages \
below the Merrow reservoir on Tuesday after engineers found a crack in the old earth dam, \
the regional council said.
About 2,300 residents of Ashby, Cullen Ford, Nettlebed and Sorrow Hill were being taken by \
bus to a sports hall in Pellam, council spokesman Oren Vasky said.
Kestrian troops began withdrawing from Varnholt air base on Tuesday to help with the \
evacuation, the council said.
Engineers from the Harven water board lowered the reservoir by opening two sluice gates \
overnight.
The council said the dam, built in 1911, had passed its last inspection in March.
Farmers in the valley moved cattle to higher ground as heavy rain was forecast for Wednesday.
Schools in Pellam will stay closed until the end of the week, the council added.
";

fn original() -> String {
    format!(
        "source: Tallis Wire\ndate: 2031-06-10\n\nDam crews evacuate villages below Merrow \
         reservoir\n\n{BODY}"
    )
}

/// Another outlet's republication: a new headline, one phrase edited, a paragraph added.
fn republished() -> String {
    let body = BODY.replace("Oren Vasky said.", "Oren Vasky told reporters.");
    format!(
        "source: Moor Gazette\ndate: 2031-06-10\n\nThousands leave homes as Merrow dam \
         cracks\n\n{body}Kestrian troops completed their withdrawal from the Ostrel barracks \
         on Tuesday, the ministry said.\n"
    )
}

/// The same shape of report about another dam: other places, numbers and people.
fn other_dam() -> String {
    "source: Tallis Wire\ndate: 2031-06-12\n\nDam crews evacuate villages below Lanmoor \
     reservoir\n\nLANMOOR (Tallis Wire) - Emergency crews began evacuating three villages \
     below the Lanmoor reservoir on Thursday after engineers found a leak in the stone dam, \
     the district council said.\nAbout 900 residents of Brill, Tasker Cross and Wend were \
     being taken by bus to a school in Orbury, council spokeswoman Ilsa Moran said.\n\
     Engineers from the Lanmoor water company lowered the reservoir by opening a spillway \
     overnight.\nThe council said the dam, built in 1887, had passed its last inspection in \
     October.\n"
        .to_string()
}

fn cites(e: &Value, report: &str) -> bool {
    e["data"]["evidence"]["report"] == report
}

#[test]
fn a_republication_is_a_near_duplicate_whose_added_paragraph_alone_counts() {
    let mut d = Daemon::start(200);
    drop_file(&d.watch, "1_original.txt", original().as_bytes());
    let first = d.wait_file("report.accepted", "1_original.txt");
    let original_id = first["subject"].as_str().unwrap().to_string();
    let opened = d.wait_for("the withdrawal from Varnholt", |e| {
        e["type"] == "development.detected" && cites(e, &original_id)
    });
    let varnholt = opened["subject"].as_str().unwrap().to_string();

    drop_file(&d.watch, "2_republished.txt", republished().as_bytes());
    let near = d.wait_file("report.near_duplicate", "2_republished.txt");
    let near_id = near["subject"].as_str().unwrap().to_string();
    assert_ne!(near_id, original_id);
    assert_eq!(
        near["data"]["duplicate_of"],
        original_id.as_str(),
        "{near:#}"
    );
    assert_eq!(near["data"]["original_file"], "1_original.txt");
    let similarity = near["data"]["similarity"].as_f64().unwrap();
    assert!(
        (0.8..1.0).contains(&similarity),
        "seven of eight body sentences repeat: {similarity}"
    );
    // Every sentence but the added one (the edited one too) repeats the original.
    assert_eq!(near["data"]["repeated_sentences"], 7, "{near:#}");
    assert_eq!(near["data"]["claims"], 1, "{near:#}");
    let added = d.wait_for("the withdrawal from Ostrel", |e| {
        e["type"] == "development.detected" && cites(e, &near_id)
    });
    assert_ne!(added["subject"], varnholt.as_str());
    assert_eq!(added["data"]["status"], "completed");
    // The two are one story, named after the original.
    let story = format!("story-{original_id}");
    let formed = d.wait_for("the story of the two", |e| e["type"] == "story.formed");
    assert_eq!(formed["subject"], story.as_str());
    assert_eq!(
        formed["data"]["reports"],
        serde_json::json!([original_id, near_id])
    );

    drop_file(&d.watch, "3_other_dam.txt", other_dam().as_bytes());
    d.wait_file("report.accepted", "3_other_dam.txt");
    // The republication's repeated paragraph did not corroborate what the original said.
    assert!(
        !d.seen
            .iter()
            .any(|e| e["subject"] == varnholt.as_str() && cites(e, &near_id)),
        "{:#?}",
        d.seen
    );

    // After a restart the index still knows both reports: a cosmetic re-send of the
    // republication is a duplicate of it, a trimmed copy of the original a near duplicate.
    let (mut d, _) = d.restart(false);
    drop_file(
        &d.watch,
        "4_resend.txt",
        republished().replace('\n', "\r\n").as_bytes(),
    );
    let dup = d.wait_file("report.duplicate", "4_resend.txt");
    assert_eq!(dup["data"]["duplicate_of"], near_id.as_str());
    let trimmed: String = original()
        .lines()
        .take(10)
        .map(|l| format!("{l}\n"))
        .collect();
    drop_file(&d.watch, "5_trimmed.txt", trimmed.as_bytes());
    let again = d.wait_file("report.near_duplicate", "5_trimmed.txt");
    assert_eq!(
        again["data"]["duplicate_of"],
        original_id.as_str(),
        "{again:#}"
    );
    assert_eq!(again["data"]["claims"], 0, "{again:#}");
    let joined = d.wait_for("the trimmed copy joining the story", |e| {
        e["type"] == "story.updated" && e["data"]["report"] == again["subject"]
    });
    assert_eq!(joined["subject"], story.as_str());
    assert_eq!(joined["data"]["reports"], 3);

    // And a crash on top: nothing is said twice, every file has one outcome.
    let (mut d, _) = d.restart(true);
    let (status, _) = d.stop();
    assert!(status.success());
    let all = d.events_file();
    let ids = event_ids(&all);
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    let mut outcomes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &all {
        if let (Some(t), Some(f)) = (e["type"].as_str(), e["data"]["file"].as_str()) {
            if t.starts_with("report.") {
                outcomes.entry(f).or_default().push(t);
            }
        }
    }
    let expected: BTreeMap<&str, Vec<&str>> = [
        ("1_original.txt", vec!["report.accepted"]),
        ("2_republished.txt", vec!["report.near_duplicate"]),
        ("3_other_dam.txt", vec!["report.accepted"]),
        ("4_resend.txt", vec!["report.duplicate"]),
        ("5_trimmed.txt", vec!["report.near_duplicate"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(outcomes, expected);
    // The other dam's report never joined the story.
    let other = all
        .iter()
        .find(|e| e["data"]["file"] == "3_other_dam.txt")
        .and_then(|e| e["subject"].as_str())
        .unwrap();
    assert!(!all
        .iter()
        .any(|e| e["type"] == "story.updated" && e["data"]["report"] == other));
}
