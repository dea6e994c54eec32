//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `al-cli -p DB`, the real binary.
pub fn al(db: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("al-cli").unwrap();
    cmd.env_remove("AL_PROJECT").arg("-p").arg(db);
    cmd
}

pub fn fixture(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    root.join(name).to_str().unwrap().to_string()
}

/// Runs the command, expects success and parses stdout as JSON.
pub fn json_of(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.assert().success();
    serde_json::from_slice(&out.get_output().stdout).expect("stdout is JSON")
}

/// The bytes of a file, for "left exactly as it was" checks.
pub fn snapshot(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The `row_id`s of a batch CSV, in file order.
pub fn batch_ids(path: &Path) -> Vec<i64> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect()
}

/// Runs the command, expects success and returns its stdout.
pub fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// `al-cli -p DB` as a process to start and talk to (`serve`).
pub fn al_process(db: &Path) -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    let mut cmd = std::process::Command::cargo_bin("al-cli").unwrap();
    cmd.env_remove("AL_PROJECT").arg("-p").arg(db);
    cmd
}
