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
