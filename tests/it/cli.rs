use std::process::Command;

use crate::support::bin;

#[test]
fn check_config_accepts_the_repository_config() {
    let out = Command::new(bin())
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/sitrep.toml"),
            "check-config",
        ])
        .output()
        .unwrap();
    crate::support::assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok") && !stdout.contains("warning"),
        "{stdout}"
    );
}

/// A particle added to `names.toml` after training is valid, but the tagger does not read
/// it until the model is trained again: `check-config` passes and says so.
#[test]
fn check_config_warns_when_the_name_particles_left_the_model_behind() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for entry in std::fs::read_dir(&repo).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let names = dir.path().join("names.toml");
    let text = std::fs::read_to_string(&names).unwrap();
    assert!(
        text.contains("\nconnectors = ["),
        "names.toml has a connectors list"
    );
    std::fs::write(
        &names,
        text.replacen("\nconnectors = [", "\nconnectors = [\"zu\", ", 1),
    )
    .unwrap();
    // No log filter can hide it: `check-config` prints its warnings itself.
    let out = Command::new(bin())
        .env("RUST_LOG", "error")
        .arg("--config")
        .arg(dir.path().join("sitrep.toml"))
        .arg("check-config")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("ok") && stdout.contains("1 warning"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning:")
            && stderr.contains("not in the model: zu")
            && stderr.contains("train-ner"),
        "{stderr}"
    );
    // An ingest with the same settings logs it once, before the first report.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .env_remove("RUST_LOG")
        .arg("--config")
        .arg(dir.path().join("sitrep.toml"))
        .arg("ingest")
        .arg(empty.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("not in the model: zu").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn check_config_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sitrep.toml");
    std::fs::write(
        &cfg,
        "[pipeline]\nchannel_capacity = 0\n[lexicons]\ncues = \"missing.toml\"\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.toml"), "{err}");
    std::fs::write(&cfg, "[pipeline]\nchannel_capacity = 0\n").unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sitrep.toml") && err.contains("pipeline.channel_capacity"),
        "{err}"
    );
}

#[test]
fn embedded_defaults_work_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .current_dir(dir.path())
        .arg("check-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("<embedded>"));
}

/// Steps of `tests/eval/` that the sense filter still reads wrong, each with the reason.
/// Listed, not skipped: the test fails if one starts to pass (remove it here then), and
/// any other failing step fails it as before.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[(
    "orlan-hostage-release",
    "02_mirandel-times-first-hostages-freed.txt",
    "the learned sense filter takes \"freed a first group of four aid workers\" by an \
     unknown armed group for another sense of \"free\" (labelled data has few releases)",
)];

/// Every storyline under `tests/eval/`, in file order and in five shuffled orders: every
/// step (but the known failures above), every change event, no regression.
#[test]
fn eval_storylines_pass() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eval");
    let out = Command::new(bin())
        .args(["eval", "--json"])
        .arg(&root)
        .output()
        .expect("run sitrep eval");
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval json");
    let results = report["results"].as_array().expect("results");
    assert!(results.len() >= 3, "{report:#}");
    for r in results {
        let name = r["storyline"].as_str().unwrap_or_default();
        let failed: Vec<&str> = r["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter(|s| s["pass"] != true)
            .filter_map(|s| s["after"].as_str())
            .collect();
        let known: Vec<&str> = KNOWN_FAILURES
            .iter()
            .filter(|k| k.0 == name)
            .map(|k| k.1)
            .collect();
        assert_eq!(
            failed, known,
            "{name}: failing steps differ from the known ones\n{r:#}"
        );
        assert_eq!(r["regressions"].as_array().map(Vec::len), Some(0), "{r:#}");
    }
    assert_eq!(
        out.status.success(),
        KNOWN_FAILURES.is_empty(),
        "exit status with known failures {KNOWN_FAILURES:?}: {text}"
    );
    let shuffled = Command::new(bin())
        .args(["eval", "--order", "shuffled", "--shuffles", "5"])
        .arg(&root)
        .output()
        .expect("run sitrep eval --order shuffled");
    assert!(
        shuffled.status.success(),
        "{}",
        String::from_utf8_lossy(&shuffled.stdout)
    );
}

/// One CAT-format document of invented text: tokens, the given markables, one cross-document
/// relation per (instance, mention ids).
fn cat_doc(words: &str, marks: &[(&str, u32, &[u32])], chains: &[(&str, &[u32])]) -> String {
    let mut xml = String::from("<Document>\n");
    // Token ids far above a real article's: the markup repeats no corpus document.
    for (i, w) in words.split(' ').enumerate() {
        xml += &format!(
            "<token t_id=\"{}\" sentence=\"0\" number=\"{i}\">{w}</token>\n",
            i + 7001
        );
    }
    xml += "<Markables>\n";
    for (tag, id, toks) in marks {
        xml += &format!("<{tag} m_id=\"{id}\">");
        for t in *toks {
            xml += &format!("<token_anchor t_id=\"{}\"/>", t + 7000);
        }
        xml += &format!("</{tag}>\n");
    }
    xml += "</Markables>\n<Relations>\n";
    for (note, ids) in chains {
        xml += &format!("<CROSS_DOC_COREF r_id=\"1\" note=\"{note}\">");
        for id in *ids {
            xml += &format!("<source m_id=\"{id}\"/>");
        }
        xml += "</CROSS_DOC_COREF>\n";
    }
    xml + "</Relations>\n</Document>\n"
}

#[test]
fn eval_coref_scores_both_linkers_and_rejects_bad_xml() {
    let dir = tempfile::tempdir().unwrap();
    let topic = dir.path().join("3");
    std::fs::create_dir(&topic).unwrap();
    let one = cat_doc(
        "Mayor Ilse Brandt resigned on Monday ; she said the audit forced her hand",
        &[
            ("HUMAN_PART_PER", 1, &[2, 3]),
            ("ACTION_OCCURRENCE", 2, &[4]),
            ("HUMAN_PART_PER", 3, &[8]),
            ("ACTION_REPORTING", 4, &[9]),
        ],
        &[("HUM7", &[1, 3]), ("ACT7", &[2])],
    );
    let two = cat_doc(
        "Brandt 's resignation surprised the council , a spokesman said",
        &[
            ("HUMAN_PART_PER", 1, &[1]),
            ("ACTION_OCCURRENCE", 2, &[3]),
            ("ACTION_REPORTING", 3, &[10]),
        ],
        &[("HUM7", &[1]), ("ACT7", &[2])],
    );
    // Another happening of the topic: grouped apart, so nothing of it links to the above.
    let other = cat_doc(
        "Governor Pell Odum resigned in March",
        &[
            ("HUMAN_PART_PER", 1, &[2, 3]),
            ("ACTION_OCCURRENCE", 2, &[4]),
        ],
        &[("HUM8", &[1]), ("ACT8", &[2])],
    );
    std::fs::write(topic.join("3_1ecb.xml"), one).unwrap();
    std::fs::write(topic.join("3_2ecb.xml"), two).unwrap();
    std::fs::write(topic.join("3_3ecbplus.xml"), other).unwrap();
    let out = Command::new(bin())
        .arg("eval-coref")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last_of = |kind: &str| {
        text.lines()
            .find(|l| l.starts_with("sitrep") && l.contains(kind))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no sitrep {kind} line in {text}"))
    };
    // Every link of this corpus is found: the pronoun, the surname, the resignation, and
    // the second resignation is kept apart.
    assert!((last_of("entities CoNLL F1") - 1.0).abs() < 1e-9, "{text}");
    assert!((last_of("events CoNLL F1") - 1.0).abs() < 1e-9, "{text}");
    let json = Command::new(bin())
        .args(["eval-coref", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["documents"], 3);
    assert_eq!(v["document_groups"], 2);
    // The baseline links "she" to nothing (no other "she") and "said" to "said".
    assert!(v["entities"]["same_lemma"]["conll_f1"].as_f64().unwrap() < 1.0);
    assert!(v["events"]["same_lemma"]["conll_f1"].as_f64().unwrap() < 1.0);

    std::fs::write(topic.join("3_4ecb.xml"), "<Document><token t_id=").unwrap();
    let bad = Command::new(bin())
        .arg("eval-coref")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("3_4ecb.xml"));
}
