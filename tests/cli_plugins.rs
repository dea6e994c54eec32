//! External strategy plugins (shell scripts in tests/plugins) and the
//! example plugin crate, through the real binary.

mod common;

use std::path::{Path, PathBuf};

use common::{al, batch_ids, fixture, json_of, snapshot};
use predicates::prelude::*;

fn plugins_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/plugins")
}

/// `al-cli -p DB` with tests/plugins first on PATH.
fn al_with_plugins(db: &Path) -> assert_cmd::Command {
    let mut cmd = al(db);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![plugins_dir()];
    dirs.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(dirs).unwrap());
    cmd
}

fn project(dir: &Path) -> PathBuf {
    let db = dir.join("p.db");
    al(&db)
        .args(["init", &fixture("price_partial.csv"), "--target", "price"])
        .assert()
        .success();
    db
}

#[test]
fn a_path_plugin_is_used_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = project(dir.path());
    let out = dir.path().join("b.csv");
    al_with_plugins(&db)
        .args(["query", "--strategy", "first", "--batch", "4", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("chosen by first"));
    // The pool's first four rows (rows 1, 5, 9, ... are labeled).
    assert_eq!(batch_ids(&out), vec![2, 3, 4, 6]);
    let list = json_of(al_with_plugins(&db).args(["plugins", "list", "--json"]));
    let names: Vec<String> = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["kind"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            )
        })
        .collect();
    for n in ["strategy first", "strategy cover", "model forest"] {
        assert!(names.contains(&n.to_string()), "{n} not listed");
    }
    // The example crate is linked only with the `example-plugin` feature.
    assert_eq!(
        names.contains(&"strategy disagreement".to_string()),
        cfg!(feature = "example-plugin")
    );
}

#[test]
fn a_registered_plugin_works_in_query_and_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let db = project(dir.path());
    let script = plugins_dir().join("al-strategy-first");
    al(&db)
        .args(["plugins", "add", "mine", "--kind", "strategy", "--cmd"])
        .arg(format!("sh {}", script.display()))
        .assert()
        .success();
    al(&db)
        .args(["query", "--strategy", "mine", "--batch", "2", "--out", "-"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("row_id,round,rank"));
    let sim = json_of(al(&db).args([
        "--json",
        "simulate",
        "--strategies",
        "mine,gsx",
        "--init",
        "10",
        "--batch",
        "5",
        "--rounds",
        "2",
        "--repeats",
        "1",
        "--model",
        "forest:trees=10",
    ]));
    let names: Vec<&str> = sim["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["random", "mine", "gsx"]);
}

#[test]
fn misbehaving_plugins_get_clear_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = project(dir.path());
    let before = snapshot(&db);
    for (name, expected) in [
        ("garbage", "printed something that is not the expected JSON"),
        (
            "crash",
            "exited with exit status: 3; its stderr ends: \"boom: cannot import sklearn\"",
        ),
        ("repeat", "answered row 0 twice"),
        ("outofrange", "answered row 999999, outside 0..300"),
        ("nan", "gave row 1 a score that is not a finite number"),
        ("short", "answered 1 row(s); 3 were asked for"),
        ("hang", "did not answer within 1 s"),
    ] {
        al_with_plugins(&db)
            .args([
                "--plugin-timeout",
                "1",
                "query",
                "--strategy",
                name,
                "--batch",
                "3",
                "--out",
            ])
            .arg(dir.path().join("x.csv"))
            .assert()
            .failure()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "strategy plugin \"{name}\""
            )))
            .stderr(predicate::str::contains(expected));
        assert_eq!(snapshot(&db), before, "{name} changed the project");
        assert!(!dir.path().join("x.csv").exists());
    }
    al_with_plugins(&db)
        .args(["query", "--strategy", "nosuch"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("al-strategy-NAME on PATH"));
}

#[test]
fn oracle_plugins_label_synthetic_rows_in_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    al(&db)
        .args(["init", &fixture("price_2k.csv"), "--target", "price"])
        .assert()
        .success();
    let sim = |oracle: &str| {
        let mut cmd = al_with_plugins(&db);
        cmd.args([
            "--json",
            "simulate",
            "--mode",
            "synthesis",
            "--rounds",
            "2",
            "--batch",
            "3",
            "--repeats",
            "1",
            "--model",
            "forest:trees=5",
            "--oracle",
            oracle,
        ]);
        cmd
    };
    let out = json_of(&mut sim("const"));
    assert_eq!(out["strategies"].as_array().unwrap().len(), 4);
    sim("short")
        .assert()
        .failure()
        .stderr(predicate::str::contains("oracle plugin \"short\""))
        .stderr(predicate::str::contains(
            "answered 1 label(s); 3 were asked for",
        ));
    sim("nosuch")
        .assert()
        .failure()
        .stderr(predicate::str::contains("no oracle \"nosuch\""));
}

#[test]
fn model_plugins_fit_and_predict_by_name_and_failures_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = project(dir.path());
    let e = json_of(al_with_plugins(&db).args(["--json", "evaluate", "--model", "mean"]));
    assert_eq!(e["model"], "mean");
    assert_eq!(e["labels"], 80);
    // The mean of the 80 training prices predicts every test row: R² <= 0.
    assert!(e["r2"].as_f64().unwrap() <= 0.0);
    al_with_plugins(&db)
        .args([
            "query",
            "--strategy",
            "gsy",
            "--model",
            "mean",
            "--batch",
            "2",
            "--out",
            "-",
        ])
        .assert()
        .success();
    let before = snapshot(&db);
    al_with_plugins(&db)
        .args(["evaluate", "--model", "garbage"])
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("model plugin \"garbage\""))
        .stderr(predicate::str::contains("not the expected JSON"));
    al_with_plugins(&db)
        .args(["query", "--strategy", "qbc", "--model", "garbage", "--out"])
        .arg(dir.path().join("q.csv"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("model plugin \"garbage\""));
    assert_eq!(snapshot(&db), before);
    assert!(!dir.path().join("q.csv").exists());
}
