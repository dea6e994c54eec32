//! Reliability: SIGKILL at random moments never half-applies a command, two
//! writers at once lose nothing, and unusable project files are refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{al, fixture, json_of, snapshot};
use predicates::prelude::*;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("al-cli")
}

/// A project with `n` pool rows queried (random) and the batch filled in.
fn prepared(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let db = dir.join("base.db");
    al(&db)
        .args(["init", &fixture("price_partial.csv"), "--target", "price"])
        .assert()
        .success();
    let batch = dir.join("batch.csv");
    al(&db)
        .args([
            "query",
            "--strategy",
            "random",
            "--batch",
            &n.to_string(),
            "--out",
        ])
        .arg(&batch)
        .assert()
        .success();
    let filled = dir.join("filled.csv");
    let mut r = csv::Reader::from_path(&batch).unwrap();
    let header = r.headers().unwrap().clone();
    let mut w = csv::Writer::from_path(&filled).unwrap();
    w.write_record(&header).unwrap();
    for (i, rec) in r.records().enumerate() {
        let mut cells: Vec<String> = rec.unwrap().iter().map(str::to_string).collect();
        cells[14] = format!("{}", 100 + i);
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();
    (db, filled)
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A small deterministic generator for kill delays.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sigkill_never_half_applies_label_or_query() {
    let dir = tempfile::tempdir().unwrap();
    let (base, filled) = prepared(dir.path(), 200);
    let mut rng = XorShift(0x5EED);
    let mut outcomes = [0usize; 2];
    for i in 0..50 {
        let db = dir.path().join(format!("k{i}.db"));
        std::fs::copy(&base, &db).unwrap();
        let label = i % 2 == 0;
        let mut cmd = Command::new(bin());
        cmd.arg("-p")
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if label {
            cmd.arg("label").arg(&filled);
        } else {
            cmd.args(["query", "--strategy", "qbc", "--batch", "50", "--out"])
                .arg(dir.path().join(format!("q{i}.csv")));
        }
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.next() % 120));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        if label {
            let new = count(
                &db,
                "SELECT count(*) FROM labels WHERE source = 'annotator'",
            );
            assert!(
                new == 0 || new == 200,
                "run {i}: {new} of 200 labels applied"
            );
            let current = count(
                &db,
                "SELECT count(*) FROM rows WHERE label_source = 'annotator'",
            );
            assert_eq!(current, new, "run {i}: rows and label events disagree");
            outcomes[usize::from(new == 200)] += 1;
        } else {
            let rounds = count(&db, "SELECT count(*) FROM rounds");
            let queried = count(&db, "SELECT count(*) FROM queries");
            assert!(
                (rounds, queried) == (1, 200) || (rounds, queried) == (2, 250),
                "run {i}: {rounds} rounds, {queried} queried rows"
            );
        }
        // The project still opens and reads.
        al(&db).args(["status", "--json"]).assert().success();
    }
    eprintln!(
        "label runs killed before commit: {}, after: {}",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, filled) = prepared(dir.path(), 100);
    // Two halves of the batch, imported concurrently.
    let text = std::fs::read_to_string(&filled).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = |range: std::ops::Range<usize>, name: &str| {
        let p = dir.path().join(name);
        let mut body = format!("{}\n", lines[0]);
        for l in &lines[range] {
            body.push_str(l);
            body.push('\n');
        }
        std::fs::write(&p, body).unwrap();
        p
    };
    let a = half(1..51, "a.csv");
    let b = half(51..101, "b.csv");
    let spawn = |f: &Path| {
        Command::new(bin())
            .arg("-p")
            .arg(&db)
            .arg("label")
            .arg(f)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    let mut expected = 0;
    for (out, n) in [(oa, 50), (ob, 50)] {
        if out.status.success() {
            expected += n;
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("busy"), "unexpected failure: {err}");
        }
    }
    assert!(expected > 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM labels WHERE source = 'annotator'"
        ),
        expected
    );
}

#[test]
fn read_only_and_newer_projects_are_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, filled) = prepared(dir.path(), 5);
    let before = snapshot(&db);
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms.clone()).unwrap();
    al(&db)
        .arg("label")
        .arg(&filled)
        .assert()
        .failure()
        .stderr(predicate::str::contains("the file is read-only"));
    // Reading still works on a read-only project.
    al(&db).args(["status", "--json"]).assert().success();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&db, perms).unwrap();
    assert_eq!(snapshot(&db), before);

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let before = snapshot(&db);
    al(&db)
        .arg("label")
        .arg(&filled)
        .assert()
        .failure()
        .stderr(predicate::str::contains("newer al-cli (schema 99"));
    assert_eq!(snapshot(&db), before);
}

#[test]
fn an_older_project_is_refused_unchanged_until_upgraded_then_works() {
    // fixtures/v1/project.db was written by the schema-1 al-cli (init on
    // the first 60 rows of price_partial.csv, then evaluate).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    std::fs::copy(fixture("v1/project.db"), &db).unwrap();
    let before = snapshot(&db);
    for args in [
        vec!["status"],
        vec!["query", "--batch", "2"],
        vec!["report"],
    ] {
        al(&db)
            .args(&args)
            .assert()
            .failure()
            .stderr(predicate::str::contains("older al-cli (schema 1"))
            .stderr(predicate::str::contains("upgrade`"));
        assert_eq!(snapshot(&db), before, "{args:?} changed the old file");
    }
    al(&db)
        .arg("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains("schema 1 -> 5"));
    // The report written before the upgrade reads as measured on held-out rows.
    let report = json_of(al(&db).args(["--json", "report"]));
    assert_eq!(report["reports"][0]["method"], "holdout");
    assert_eq!(report["reports"][0]["labels"], 12);
    al(&db)
        .arg("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains("already at schema 5"));
    al(&db)
        .args(["query", "--batch", "2", "--out", "-"])
        .assert()
        .success();
}

#[test]
fn a_schema_2_project_upgrades_to_column_chunks_and_gives_the_same_picks_and_export() {
    // fixtures/v2/project.db was written by the schema-2 al-cli (one feature
    // blob per row): init on the first 60 rows of price_partial.csv, a
    // cover batch of 3 labeled, 10 rows added, evaluate. The same al-cli
    // then wrote query_batch4_seed7.csv and export.csv from it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    std::fs::copy(fixture("v2/project.db"), &db).unwrap();
    let before = snapshot(&db);
    al(&db)
        .args(["query", "--batch", "4", "--seed", "7", "--out", "-"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("older al-cli (schema 2"));
    assert_eq!(snapshot(&db), before, "query changed the old file");
    al(&db)
        .arg("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains("schema 2 -> 5"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (chunks, slots): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM feature_chunks), (SELECT count(DISTINCT slot) FROM rows WHERE slot BETWEEN 0 AND 69)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    assert_eq!(slots, 70, "every row numbered once");
    assert!(chunks > 0);
    // The old binary's default, `cover` as it was then.
    let picks = al(&db)
        .args(["query", "--batch", "4", "--seed", "7", "--out", "-"])
        .args(["--strategy", "cover:metric=features,power=1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    // The same rows, scores and guesses as the old binary wrote; only the
    // interval columns changed since (members' deciles then, conformal
    // bounds now, which must hold the guess).
    let without_intervals = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells.drain(5..7);
                cells.join(",")
            })
            .collect()
    };
    let picks = String::from_utf8(picks).unwrap();
    let old = std::fs::read_to_string(fixture("v2/query_batch4_seed7.csv")).unwrap();
    assert_eq!(without_intervals(&picks), without_intervals(&old));
    assert!(picks.starts_with("row_id,round,rank,score,prediction,lower,upper,"));
    for line in picks.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .skip(4)
            .take(3)
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(v[1] <= v[0] && v[0] <= v[2], "{line}");
    }
    let export = dir.path().join("export.csv");
    al(&db)
        .args(["export", "-o", export.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&export).unwrap(),
        std::fs::read(fixture("v2/export.csv")).unwrap()
    );
}

#[test]
fn without_held_out_rows_evaluate_estimates_the_pool_error_and_keeps_the_plain_cv_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("price_partial.csv"),
            "--target",
            "price",
            "--test-frac",
            "0",
        ])
        .assert()
        .success();
    al(&db)
        .arg("evaluate")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "estimated on the unlabeled rows from the labeled rows",
        ))
        .stdout(predicate::str::contains(
            "Plain 5-fold cross-validation on the labeled rows: MAE ",
        ));
    let r = json_of(al(&db).args(["--json", "evaluate", "--seed", "3"]));
    assert_eq!(r["method"], "pool_estimate");
    let (low, mae, high) = (
        r["interval"]["mae_low"].as_f64().unwrap(),
        r["mae"].as_f64().unwrap(),
        r["interval"]["mae_high"].as_f64().unwrap(),
    );
    assert!(0.0 <= low && low < mae && mae < high, "{r}");
    assert_eq!(r["interval"]["level"], 0.8);
    assert!(r["cross_validation"]["mae"].as_f64().unwrap() > 0.0);
    let again = json_of(al(&db).args(["--json", "evaluate", "--seed", "3"]));
    assert_eq!(r["mae"], again["mae"], "seeded folds and helper forests");
    assert_eq!(r["interval"], again["interval"]);
    let all = json_of(al(&db).args(["--json", "report"]));
    for r in all["reports"].as_array().unwrap() {
        assert_eq!(r["method"], "pool_estimate");
        let estimate = &r["estimate"];
        assert!(estimate["effective_rows"].as_f64().unwrap() > 1.0, "{r}");
        assert!(estimate["weighted_mae"].as_f64().unwrap() > 0.0, "{r}");
        assert!(estimate["surrogate_mae"].as_f64().unwrap() > 0.0, "{r}");
    }
}

#[test]
fn with_every_row_labeled_and_none_held_out_evaluate_cross_validates_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("diabetes.csv"),
            "--target",
            "target",
            "--test-frac",
            "0",
        ])
        .assert()
        .success();
    al(&db)
        .arg("evaluate")
        .assert()
        .success()
        .stdout(predicate::str::contains("by 5-fold cross-validation"));
    let r = json_of(al(&db).args(["--json", "evaluate", "--seed", "3"]));
    assert_eq!(r["method"], "cv5");
    assert!(r["interval"].is_null() && r["cross_validation"].is_null());
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("price_partial.csv"), "--target", "price"])
        .assert()
        .success();
    // `al-cli status | head -0`: the reading end is gone before al writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(bin())
        .args(["-p", db.to_str().unwrap(), "status"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "as if ended by SIGPIPE");
}

/// Ctrl-C while models are being fitted (a committee of big forests, the
/// case that used to run to the end and record its round): the command
/// stops within about a second, exits 130, and leaves the project as it
/// was. Without the checks inside the fits it runs on for half a minute.
#[test]
fn ctrl_c_inside_the_fits_stops_the_query_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    common::partly_labeled(&csv, 1200);
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            csv.to_str().unwrap(),
            "--target",
            "price",
            "--test-frac",
            "0",
        ])
        .assert()
        .success();
    let before = snapshot(&db);
    let mut child = common::al_process(&db)
        .args([
            "query",
            "--strategy",
            "qbc:members=60",
            "--model",
            "forest:trees=4000",
        ])
        .args(["--batch", "5", "--out"])
        .arg(dir.path().join("batch.csv"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the query ended before the signal: make it longer"
    );
    let signalled = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(
        took < Duration::from_secs(2),
        "stopped {took:?} after Ctrl-C"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        snapshot(&db),
        before,
        "the interrupted query changed the project"
    );
    assert!(!dir.path().join("batch.csv").exists());
}
