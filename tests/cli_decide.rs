//! Numbers to decide with, end to end: conformal intervals in `predict`
//! and the batch files, the forecast in `report`, the stopping advice in
//! `report`, `status` and `query`, and their options refused when bad.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{al, json_of, partly_labeled, snapshot};
use predicates::prelude::*;

/// A project of price_2k.csv with its first `labeled` prices kept.
fn project(dir: &Path, labeled: usize) -> (PathBuf, HashMap<i64, String>) {
    let csv = dir.join("prices.csv");
    let truth = partly_labeled(&csv, labeled);
    let db = dir.join("p.db");
    al(&db)
        .args(["init", csv.to_str().unwrap(), "--target", "price"])
        .assert()
        .success();
    (db, truth)
}

/// One round: query `batch` rows, answer them from `truth`, import.
fn round(db: &Path, dir: &Path, truth: &HashMap<i64, String>, batch: usize, seed: u64) {
    round_with(db, dir, truth, batch, seed, &[]);
}

/// [`round`] with more `query` options.
fn round_with(
    db: &Path,
    dir: &Path,
    truth: &HashMap<i64, String>,
    batch: usize,
    seed: u64,
    options: &[&str],
) {
    let file = dir.join("batch.csv");
    al(db)
        .args([
            "query",
            "--batch",
            &batch.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--model", "forest:trees=30"])
        .args(options)
        .arg("--out")
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let target = header.iter().position(|h| *h == "price").unwrap();
    let mut out = vec![header.join(",")];
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        let id: i64 = cells[0].parse().unwrap();
        cells[target] = truth[&id].clone();
        out.push(cells.join(","));
    }
    std::fs::write(&file, out.join("\n") + "\n").unwrap();
    al(db).arg("label").arg(&file).assert().success();
}

#[test]
fn predict_bounds_hold_every_prediction_and_name_their_method() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = project(dir.path(), 100);
    let out = al(&db)
        .args([
            "predict",
            "--pool",
            "--coverage",
            "80%",
            "--model",
            "forest:trees=30",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "note: 80 % intervals: normalized jackknife+-after-bootstrap, 30 members",
        ));
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "row_id,prediction,lower,upper,spread,label"
    );
    let mut rows = 0;
    for line in lines {
        let v: Vec<f64> = line
            .split(',')
            .take(4)
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(v[2] <= v[1] && v[1] <= v[3], "{line}");
        assert!(v[3] > v[2], "an interval of zero width: {line}");
        rows += 1;
    }
    assert_eq!(rows, 1900);
    // A higher level is wider on every row (same folds, same seed).
    let wide = common::stdout_of(al(&db).args([
        "predict",
        "--pool",
        "--coverage",
        "0.95",
        "--model",
        "forest:trees=30",
    ]));
    let widths = |text: &str| -> Vec<f64> {
        text.lines()
            .skip(1)
            .map(|l| {
                let v: Vec<f64> = l.split(',').take(4).map(|c| c.parse().unwrap()).collect();
                v[3] - v[2]
            })
            .collect()
    };
    for (narrow, wide) in widths(&text).iter().zip(widths(&wide)) {
        assert!(wide >= *narrow, "{wide} < {narrow}");
    }
}

#[test]
fn five_labels_cannot_give_95_percent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = project(dir.path(), 5);
    let before = snapshot(&db);
    al(&db)
        .args(["predict", "--pool", "--coverage", "0.95"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "95 % intervals need at least 19 labeled rows; there are 5: label 14 more, or ask for a lower coverage",
        ));
    // Not asked for: the default 90 % is left out with the reason, and
    // the predictions are still written.
    let out = al(&db)
        .args(["predict", "--pool"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no intervals: 90 % intervals need at least 9 labeled rows; there are 5",
        ));
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert!(first[1].parse::<f64>().is_ok());
    assert_eq!((first[2], first[3]), ("", ""));
    assert_eq!(snapshot(&db), before);
}

#[test]
fn the_forecast_appears_after_enough_rounds_and_the_advice_follows_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let (db, truth) = project(dir.path(), 40);
    let mut had_forecast = Vec::new();
    for r in 0..5 {
        round(&db, dir.path(), &truth, 20, r);
        let report = json_of(al(&db).args(["--json", "report"]));
        let points = report["forecast"]["points"].as_u64().unwrap();
        let mae = &report["forecast"]["mae"];
        had_forecast.push((points, !mae.is_null()));
        if mae.is_null() {
            assert_eq!(report["forecast"]["need_more"], 4 - points);
            assert_eq!(report["forecast"]["advice"]["decision"], "continue");
        } else {
            let ahead = mae["ahead"].as_array().unwrap();
            let labels: Vec<u64> = ahead
                .iter()
                .map(|a| a["labels"].as_u64().unwrap())
                .collect();
            let now = report["forecast"]["labels"].as_u64().unwrap();
            assert_eq!(labels, [now + 20, now + 40, now + 100]);
            for a in ahead {
                let (lo, e, hi) = (
                    a["low"].as_f64().unwrap(),
                    a["expected"].as_f64().unwrap(),
                    a["high"].as_f64().unwrap(),
                );
                assert!(0.0 <= lo && lo <= e && e <= hi, "{a}");
            }
        }
    }
    // One report per round (the first at 60 labels): no forecast on 1–3
    // points, one from the 4th.
    assert_eq!(
        had_forecast,
        [(1, false), (2, false), (3, false), (4, true), (5, true)]
    );
    // The second signal: the stop set's predictions, compared between the
    // last two queried rounds (the 4th at 100 labels, the 5th at 120).
    let report = json_of(al(&db).args(["--json", "report"]));
    let stability = &report["forecast"]["advice"]["stability"];
    assert_eq!(stability["labels_before"], 100);
    assert_eq!(stability["labels_after"], 120);
    // 500 rows in each round's stop set; the few labeled in between drop out.
    let rows = stability["rows"].as_u64().unwrap();
    assert!((450..=500).contains(&rows), "{rows}");
    assert!(stability["change"].as_f64().unwrap() > 0.0);
    let text = common::stdout_of(al(&db).arg("report"));
    assert!(
        text.contains(&format!("predictions on {rows} pool rows moved ")),
        "{text}"
    );
    assert!(
        text.contains("forecast (pool_estimate errors of "),
        "{text}"
    );
    assert!(text.contains("+5 batches (240 labels): MAE "), "{text}");
    assert!(text.contains("advice: "), "{text}");
    // The threshold is stored; 99 % of the error cannot be bought with
    // one batch. On a pool estimate (no test rows here) the rule waits for
    // that signal three rounds running: two forecasts so far.
    al(&db)
        .args(["report", "--stop-below", "99%"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["--json", "status"]));
    assert_eq!(status["advice"]["decision"], "continue");
    let reason = status["advice"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("on a pool estimate the rule waits for 3 such rounds running (2 so far)"),
        "{reason}"
    );
    // A sixth round: the third running, so the advice is to stop, in
    // status and in query (which still queries).
    round(&db, dir.path(), &truth, 20, 5);
    let status = json_of(al(&db).args(["--json", "status"]));
    assert_eq!(status["advice"]["decision"], "stop", "{status}");
    assert!(status["advice"]["reason"]
        .as_str()
        .unwrap()
        .ends_with(", 3 rounds running"));
    assert_eq!(status["advice"]["stop_below"], 0.99);
    assert!(common::stdout_of(al(&db).arg("status")).contains("advice    stop: the next 20 labels"));
    let batch = dir.path().join("after.csv");
    al(&db)
        .args(["query", "--batch", "5", "--out"])
        .arg(&batch)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "note: advice: stop: the next 20 labels are forecast to cut the MAE by",
        ));
    assert_eq!(std::fs::read_to_string(&batch).unwrap().lines().count(), 6);
}

#[test]
fn the_learning_curve_draws_the_forecast_past_the_last_round() {
    let dir = tempfile::tempdir().unwrap();
    let (db, truth) = project(dir.path(), 40);
    for r in 0..4 {
        round(&db, dir.path(), &truth, 20, r);
    }
    let svg = dir.path().join("curve.svg");
    al(&db)
        .args(["report", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    // The x axis runs past the last round (140 labels) towards the
    // 5-batch forecast (240); the MAE stays below 200, so these are x ticks.
    let ticks: Vec<f64> = text
        .split(">\n")
        .filter_map(|t| t.split('\n').next()?.parse::<f64>().ok())
        .collect();
    let last_tick = ticks.iter().copied().fold(f64::MIN, f64::max);
    assert!(
        last_tick >= 220.0,
        "the axis stops at {last_tick}: {ticks:?}"
    );
}

#[test]
fn bad_coverage_and_stop_below_are_refused_before_anything_is_read_or_written() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = project(dir.path(), 40);
    let before = snapshot(&db);
    for bad in ["0", "-1", "NaN", "1.5", "1", "100%", "x"] {
        for command in ["predict", "query"] {
            al(&db)
                .arg(command)
                .arg(format!("--coverage={bad}"))
                .assert()
                .code(2)
                .stderr(predicate::str::contains(
                    "coverage: expected a level strictly between 0 and 1, such as 0.9 or 90%",
                ));
        }
        al(&db)
            .arg("report")
            .arg(format!("--stop-below={bad}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "stop_below: expected a share of the current error in (0, 1), such as 0.01 or 1%",
            ));
    }
    assert_eq!(snapshot(&db), before);
}

#[test]
fn a_cold_start_project_reports_the_pool_estimate_with_its_interval_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    // No label at all: every label comes from al's picks, nothing is held out.
    let (db, truth) = project(dir.path(), 0);
    for r in 0..3 {
        round(&db, dir.path(), &truth, 20, r);
    }
    let report = json_of(al(&db).args(["--json", "report"]));
    let reports = report["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 3);
    for (r, labels) in reports.iter().zip([20, 40, 60]) {
        assert_eq!(r["labels"], labels);
        assert_eq!(r["method"], "pool_estimate", "{r}");
        let mae = r["mae"].as_f64().unwrap();
        let interval = &r["interval"];
        assert!(interval["mae_low"].as_f64().unwrap() < mae, "{r}");
        assert!(mae < interval["mae_high"].as_f64().unwrap(), "{r}");
        let rmse = r["rmse"].as_f64().unwrap();
        assert!(interval["rmse_low"].as_f64().unwrap() < rmse, "{r}");
        assert!(rmse < interval["rmse_high"].as_f64().unwrap(), "{r}");
        // The plain cross-validation has keys of its own.
        assert!(r["cross_validation"]["mae"].as_f64().unwrap() > 0.0, "{r}");
        assert_ne!(r["cross_validation"]["mae"], r["mae"]);
    }
    let text = common::stdout_of(al(&db).arg("report"));
    assert!(text.contains("MAE 80 % interval"), "{text}");
    assert!(text.contains("CV MAE on picked rows"), "{text}");
    assert!(
        text.contains("pool_estimate: the error on the unlabeled rows, estimated"),
        "{text}"
    );
    let svg = dir.path().join("curve.svg");
    al(&db)
        .args(["report", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawn.contains("MAE on the unlabeled rows (estimated) by labels"),
        "the curve is titled by what it measures"
    );
    let status = common::stdout_of(al(&db).arg("status"));
    let last = &reports[2];
    assert!(
        status.contains(&format!(
            "error     MAE {:.4} (80 %: {:.4} – {:.4}) at 60 labels, estimated on the unlabeled rows",
            last["mae"].as_f64().unwrap(),
            last["interval"]["mae_low"].as_f64().unwrap(),
            last["interval"]["mae_high"].as_f64().unwrap()
        )),
        "{status}"
    );
}

#[test]
fn audit_rows_are_drawn_at_random_marked_and_check_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let (db, truth) = project(dir.path(), 0);
    // A quarter of 20: 5 audit rows a round, the last 5 of the batch, with
    // no score (nothing chose them).
    for r in 0..3 {
        round_with(&db, dir.path(), &truth, 20, r, &["--audit", "25%"]);
        let text = std::fs::read_to_string(dir.path().join("batch.csv")).unwrap();
        let scores: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap())
            .collect();
        assert_eq!(scores.len(), 20);
        assert!(scores[15..].iter().all(|s| s.is_empty()), "{text}");
        if r > 0 {
            assert!(scores[..15].iter().all(|s| !s.is_empty()), "{text}");
        }
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (audit, ranks): (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(rank > 15) FROM queries WHERE audit = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    assert_eq!((audit, ranks), (15, 15));
    let report = json_of(al(&db).args(["--json", "report"]));
    let last = report["reports"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["method"], "pool_estimate", "{last}");
    assert_eq!(last["estimate"]["audit_rows"], 15, "{last}");
    let audit_mae = &last["estimate"]["audit_mae"];
    let (low, mae, high) = (
        audit_mae["low"].as_f64().unwrap(),
        audit_mae["estimate"].as_f64().unwrap(),
        audit_mae["high"].as_f64().unwrap(),
    );
    assert!(0.0 <= low && low < mae && mae < high, "{last}");
    let text = common::stdout_of(al(&db).arg("report"));
    assert!(
        text.contains(&format!(
            "audit: 15 labeled rows were drawn at random (query --audit); they alone put the MAE at {mae:.4}"
        )),
        "{text}"
    );
    // The query's JSON marks them too.
    let picked = json_of(
        al(&db)
            .args(["--json", "query", "--batch", "10", "--audit", "0.2"])
            .arg("--out")
            .arg(dir.path().join("b.csv")),
    );
    let flags: Vec<bool> = picked["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["audit"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, [vec![false; 8], vec![true; 2]].concat());
}

#[test]
fn a_bad_audit_share_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = project(dir.path(), 0);
    let before = snapshot(&db);
    for bad in ["1.5", "-0.1", "NaN", "1", "lots"] {
        al(&db)
            .args(["query", "--batch", "5", "--out", "-"])
            .arg(format!("--audit={bad}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "audit: expected a share of the batch in [0, 1)",
            ));
    }
    assert_eq!(snapshot(&db), before);
}

#[test]
fn a_project_with_held_out_rows_still_reports_on_them_first() {
    let dir = tempfile::tempdir().unwrap();
    let (db, truth) = project(dir.path(), 400);
    round(&db, dir.path(), &truth, 20, 0);
    let report = json_of(al(&db).args(["--json", "report"]));
    let last = report["reports"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["method"], "holdout", "{last}");
    assert!(last["interval"].is_null() && last["cross_validation"].is_null());
    let text = common::stdout_of(al(&db).arg("report"));
    assert!(!text.contains("MAE 80 % interval"), "{text}");
    assert!(text.contains("holdout: the held-out rows"), "{text}");
}
