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

/// price_2k.csv written to `path` with the price kept for its first
/// `labeled` rows only; the prices taken out, by row id (the record
/// number), play the annotator.
pub fn partly_labeled(path: &Path, labeled: usize) -> std::collections::HashMap<i64, String> {
    let text = std::fs::read_to_string(fixture("price_2k.csv")).unwrap();
    let mut truth = std::collections::HashMap::new();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let cut = line.rfind(',').unwrap() + 1;
        if i == 0 || i <= labeled {
            out.push_str(line);
        } else {
            out.push_str(&line[..cut]);
            truth.insert(i as i64, line[cut..].to_string());
        }
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
    truth
}
