//! Parquet and Arrow IPC files end to end (al-cli built with the `parquet`
//! feature): the same recipe rules as CSV with the file's schema deciding
//! the column types, clear errors for corrupt, nested and mismatched files
//! that leave the project as it was, and Parquet output that reads back.
#![cfg(feature = "parquet")]

mod common;

use common::{al, fixture, json_of, snapshot};
use predicates::prelude::*;

fn init_from(dir: &std::path::Path, file: &str) -> std::path::PathBuf {
    let db = dir.join("p.db");
    al(&db)
        .args([
            "init",
            &fixture(file),
            "--target",
            "price",
            "--test-frac",
            "0",
        ])
        .assert()
        .success();
    db
}

#[test]
fn init_reads_parquet_and_arrow_with_the_schema_deciding_types() {
    for file in ["price_200.parquet", "price_200.arrow"] {
        let dir = tempfile::tempdir().unwrap();
        let db = init_from(dir.path(), file);
        let status = json_of(al(&db).args(["--json", "status"]));
        // 200 rows; price is null in 150 of them, as the CSV's blanks.
        assert_eq!(status["rows"], 200, "{file}");
        assert_eq!(status["labeled"], 50, "{file}");
        // loc2 holds digit strings ("01", "99"): a code by the schema, so
        // one-hot levels, where the CSV makes it a number.
        let out = al(&db).args(["--json", "export"]).assert().success();
        let rows: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(rows[0]["loc2"], "01", "{file}");
        assert_eq!(rows[0]["price"], "73.49", "{file}");
        assert_eq!(rows[1]["price"], "", "{file}");
        let text = String::from_utf8(
            al(&db)
                .args(["status"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .unwrap();
        let loc2 = text.lines().find(|l| l.contains(" loc2 ")).unwrap();
        assert!(loc2.contains("categorical"), "{file}: {loc2}");
        let loc1 = text.lines().find(|l| l.contains(" loc1 ")).unwrap();
        assert!(loc1.contains("numeric"), "{file}: {loc1}");
    }
}

#[test]
fn add_appends_parquet_rows_and_refuses_other_columns_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_from(dir.path(), "price_200.parquet");
    let before = snapshot(&db);
    al(&db)
        .args(["add", &fixture("odd/price_renamed.parquet")])
        .assert()
        .failure()
        .stderr(predicate::str::contains("para4").or(predicate::str::contains("para_4")));
    assert_eq!(snapshot(&db), before);
    al(&db)
        .args(["add", &fixture("price_more.parquet")])
        .assert()
        .success();
    let status = json_of(al(&db).args(["--json", "status"]));
    assert_eq!(status["rows"], 260);
}

#[test]
fn corrupt_and_nested_files_get_clear_errors_and_no_project() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("odd/truncated.parquet"),
            "--target",
            "price",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("truncated.parquet"))
        .stderr(predicate::str::contains("cannot read this Parquet file"));
    assert!(!db.exists());
    al(&db)
        .args(["init", &fixture("odd/nested.parquet"), "--target", "price"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("column \"tags\" has type list"));
    assert!(!db.exists());
}

#[test]
fn small_integers_and_categories_are_read_and_types_polars_cannot_read_are_named() {
    for file in ["odd/small_types.parquet", "odd/small_types.arrow"] {
        let dir = tempfile::tempdir().unwrap();
        let db = init_from(dir.path(), file);
        let status = json_of(al(&db).args(["status", "--json"]));
        let kinds: Vec<(&str, &str)> = status["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["kind"].as_str().unwrap()))
            .collect();
        // int8 and uint16 are numbers; a pandas Categorical (a dictionary
        // of strings) is a category, as a string column is.
        assert_eq!(
            kinds,
            [
                ("rooms", "numeric"),
                ("floor", "numeric"),
                ("kind", "categorical"),
                ("price", "target")
            ],
            "{file}"
        );
        assert_eq!(status["labeled"], 4, "{file}");
    }
    // Read from the schema before any column: polars panicked on these.
    let dir = tempfile::tempdir().unwrap();
    for (file, column, dtype) in [
        ("odd/decimal.parquet", "x", "decimal(10, 2)"),
        ("odd/half_float.parquet", "x", "float16"),
        ("odd/struct.arrow", "x", "struct"),
    ] {
        let db = dir.path().join("q.db");
        al(&db)
            .args(["init", &fixture(file), "--target", "price"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "column \"{column}\" has type {dtype}; al-cli reads numbers"
            )))
            .stderr(predicate::str::contains("panicked").not());
        assert!(!db.exists(), "{file}");
    }
}

#[test]
fn export_and_predict_write_parquet_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_from(dir.path(), "price_200.parquet");
    let exported = dir.path().join("rows.parquet");
    al(&db)
        .args(["export", "--format", "parquet", "-o"])
        .arg(&exported)
        .assert()
        .success();
    // The export is a Parquet file al reads again: same rows, same cells.
    let again = dir.path().join("again.db");
    al(&again)
        .args([
            "init",
            exported.to_str().unwrap(),
            "--target",
            "price",
            "--test-frac",
            "0",
        ])
        .args([
            "--drop",
            "row_id",
            "--drop",
            "label_source",
            "--drop",
            "test",
        ])
        .assert()
        .success();
    let first = json_of(al(&db).args(["--json", "export"]));
    let second = json_of(al(&again).args(["--json", "export"]));
    for (a, b) in first
        .as_array()
        .unwrap()
        .iter()
        .zip(second.as_array().unwrap())
    {
        for column in ["loc1", "loc2", "dow", "para3", "price"] {
            assert_eq!(a[column], b[column], "{column}");
        }
    }
    assert_eq!(
        first.as_array().unwrap().len(),
        second.as_array().unwrap().len()
    );
    let predicted = dir.path().join("pred.parquet");
    al(&db)
        .args(["predict", "--model", "linear", "--format", "parquet", "-o"])
        .arg(&predicted)
        .assert()
        .success();
    assert!(std::fs::read(&predicted).unwrap().starts_with(b"PAR1"));
    // Parquet needs a file, not standard output.
    al(&db)
        .args(["export", "--format", "parquet"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("-o FILE.parquet"));
}
