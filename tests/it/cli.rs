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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
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
