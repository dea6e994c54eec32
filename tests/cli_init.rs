//! End-to-end tests of `al-cli init` and `al-cli status` on real files.

mod common;

use common::{al, fixture, json_of, snapshot};
use predicates::prelude::*;

#[test]
fn init_seed_slice_counts_kinds_and_imputation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("price_partial.csv"), "--target", "price"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "400 rows (80 labeled for training, 20 held out for testing, 300 to label), 12 features",
        ));
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["rows"], 400);
    assert_eq!(status["labeled"], 80);
    assert_eq!(status["test"], 20);
    assert_eq!(status["unlabeled"], 300);
    assert_eq!(status["features"], 12);
    assert_eq!(status["rounds"], 0);
    let loc1 = &status["columns"][0];
    assert_eq!(loc1["name"], "loc1");
    assert_eq!(loc1["kind"], "numeric");
    // Mean of loc1 over the 400 rows, computed independently with Python.
    assert_eq!(loc1["treatment"], "mean = 3.4975");
    assert_eq!(status["columns"][3]["kind"], "categorical");
    assert_eq!(status["columns"][3]["treatment"], "one-hot, 6 levels");
}

#[test]
fn init_seed_slice_reports_stray_letters_in_numeric_columns() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("price_2k.csv"), "--target", "price"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "column \"loc1\": 2 non-numeric cell(s) such as [\"S\", \"T\"] treated as missing",
        ));
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["columns"][1]["unparsed"], 7);
    assert_eq!(
        (status["labeled"].clone(), status["test"].clone()),
        (1600.into(), 400.into())
    );
}

#[test]
fn init_tsv_crlf_codetest_with_median_override() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("codetest_200.tsv"), "--target", "f_0"])
        .args(["--impute", "f_1=median", "--impute", "f_2=-1"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["rows"], 200);
    // f_0 is empty in 10 rows; 190 labeled, 38 of them held out.
    assert_eq!(status["unlabeled"], 10);
    assert_eq!(status["test"], 38);
    assert_eq!(status["labeled"], 152);
    // 249 numeric columns + one-hot of f_61 (a-e, missing), f_121 (A-F,
    // missing), f_215 (4 colours, missing), f_237 (3 countries, missing).
    assert_eq!(status["features"], 249 + 6 + 7 + 5 + 4);
    let col = |name: &str| {
        status["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(col("f_1")["treatment"], "median = 0.074");
    assert_eq!(col("f_1")["missing"], 3);
    assert_eq!(col("f_2")["treatment"], "constant = -1");
    assert_eq!(col("f_3")["kind"], "numeric");
    assert_eq!(col("f_61")["kind"], "categorical");
    assert_eq!(col("f_61")["treatment"], "one-hot, 6 levels");
}

#[test]
fn same_seed_same_split_other_seed_other_split() {
    let dir = tempfile::tempdir().unwrap();
    let split = |seed: &str, name: &str| {
        let db = dir.path().join(name);
        al(&db)
            .args([
                "init",
                &fixture("price_partial.csv"),
                "--target",
                "price",
                "--seed",
                seed,
            ])
            .assert()
            .success();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT row_id FROM rows WHERE is_test = 1 ORDER BY row_id")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    };
    let a = split("7", "a.db");
    assert_eq!(a.len(), 20);
    assert_eq!(a, split("7", "b.db"));
    assert_ne!(a, split("8", "c.db"));
}

#[test]
fn project_from_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    assert_cmd::Command::cargo_bin("al-cli")
        .unwrap()
        .env("AL_PROJECT", &db)
        .args(["init", &fixture("odd/scientific.csv"), "--target", "price"])
        .assert()
        .success();
    assert!(db.exists());
}

#[test]
fn odd_column_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("odd/odd_names.csv"), "--target", "price"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    let names: Vec<_> = status["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "a \"quoted\" name",
            "semi;colon",
            "select",
            "DROP TABLE rows;--",
            "price"
        ]
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let raw: String = conn
        .query_row("SELECT raw FROM row_data WHERE row_id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(raw, r#"["2","y","5","6",""]"#);
}

#[test]
fn bom_crlf_and_scientific_notation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("odd/bom_crlf.csv"), "--target", "price"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["columns"][0]["name"], "x");
    assert_eq!(
        (status["labeled"].clone(), status["unlabeled"].clone()),
        (2.into(), 1.into())
    );

    let db = dir.path().join("s.db");
    al(&db)
        .args(["init", &fixture("odd/scientific.csv"), "--target", "price"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    // x = 1000, -250, 30: mean 260.
    assert_eq!(status["columns"][0]["treatment"], "mean = 260");
    assert_eq!(status["columns"][0]["kind"], "numeric");
    assert_eq!(status["labeled"], 2);
}

#[test]
fn cells_near_the_largest_number_keep_the_project_readable() {
    // Squares of cells past about 1e154, and sums of cells near f64::MAX,
    // overflow; the project's recipe once stored their infinite spread as
    // JSON null, and every later command failed to read it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("odd/near_max.csv"), "--target", "price"])
        .args(["--test-frac", "0"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["columns"][1]["name"], "big");
    assert_eq!(status["columns"][1]["kind"], "numeric");
    assert_eq!(
        (status["labeled"].clone(), status["unlabeled"].clone()),
        (6.into(), 4.into())
    );
    let out = dir.path().join("b.csv");
    // Every strategy the registry lists (lcmd once panicked: rows
    // infinitely far from every centre kept none).
    let listed = json_of(al(&db).args(["--json", "strategies"]));
    let names: Vec<String> = listed["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.len() >= 14 && names.contains(&"lcmd".to_string()),
        "{names:?}"
    );
    for strategy in &names {
        let strategy = strategy.as_str();
        let picked = json_of(
            al(&db)
                .args([
                    "--json",
                    "query",
                    "--strategy",
                    strategy,
                    "--batch",
                    "2",
                    "--include-pending",
                ])
                .arg("--out")
                .arg(&out),
        );
        assert_eq!(picked["rows"].as_array().unwrap().len(), 2, "{strategy}");
        std::fs::remove_file(&out).unwrap();
    }
    // Every model fits these columns: the kernel and penalised ones
    // standardise them without overflow (the Gaussian process once panicked
    // on the NaN that made), and gbm scales them before perpetual bins them
    // (it once read outside its histogram).
    let compared = json_of(al(&db).args(["--json", "evaluate", "--models", "all"]));
    let rows = compared["models"].as_array().unwrap();
    assert!(rows.len() >= 10, "{compared}");
    for row in rows {
        if row["model"].as_str().unwrap().starts_with("knn") {
            continue; // k=5 needs five rows per fold; six are labeled
        }
        assert!(row["error"].is_null(), "{row}");
        assert!(row["mae"].as_f64().unwrap().is_finite(), "{row}");
    }
}

#[test]
fn targets_too_large_to_learn_from_are_refused_at_every_entry() {
    // Their squares overflow: every prediction and error was NaN, and the
    // NaN report once made the project unreadable.
    let too_large = "\"2e151\" is beyond ±1e150, too large to learn from";
    assert_init_fails(
        &[&fixture("bad/target_too_large.csv"), "--target", "price"],
        &["target_too_large.csv:3: column \"price\"", too_large],
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("bad/target_too_large.csv"),
            "--target",
            "price",
        ])
        .args(["--bad-target", "skip", "--test-frac", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("3 labeled"));
    let before = snapshot(&db);
    al(&db)
        .args(["add", &fixture("bad/target_too_large.csv"), "--as", "train"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "target_too_large.csv:3: column \"price\": target {too_large}"
        )));
    assert_eq!(snapshot(&db), before);
    let out = dir.path().join("b.csv");
    al(&db)
        .args(["query", "--batch", "1", "--out"])
        .arg(&out)
        .assert()
        .success();
    let batch = std::fs::read_to_string(&out).unwrap();
    let (header, row) = batch.split_once('\n').unwrap();
    let price = header.split(',').position(|h| h == "price").unwrap();
    let mut cells: Vec<&str> = row.trim_end().split(',').collect();
    cells[price] = "-3e300";
    std::fs::write(&out, format!("{header}\n{}\n", cells.join(","))).unwrap();
    let before = snapshot(&db);
    al(&db)
        .arg("label")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "-3e300: beyond ±1e150, too large to learn from",
        ));
    assert_eq!(snapshot(&db), before);
}

#[test]
fn entirely_empty_feature_column_is_dropped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("odd/empty_feature.csv"),
            "--target",
            "price",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "column \"empty\" is entirely empty; dropped",
        ));
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["features"], 1);
    assert_eq!(status["columns"][1]["kind"], "dropped");
}

/// Each bad input: exit 1, a message that says what and where, no file left.
fn assert_init_fails(args: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let out = al(&db).arg("init").args(args).assert().failure().code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for e in expected {
        assert!(stderr.contains(e), "expected {e:?} in {stderr:?}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "init left files behind: {left:?}");
}

#[test]
fn bad_inputs_fail_cleanly() {
    let t = ["--target", "price"];
    let with = |f: &str| {
        let mut v = vec![fixture(f)];
        v.extend(t.iter().map(|s| s.to_string()));
        v
    };
    let run = |f: &str, expected: &[&str]| {
        let args = with(f);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_init_fails(&args, expected);
    };
    run(
        "bad/does_not_exist.csv",
        &["cannot read", "does_not_exist.csv"],
    );
    run("bad/empty.csv", &["empty.csv", "the file is empty"]);
    run(
        "bad/header_only.csv",
        &["header_only.csv", "header row but no data rows"],
    );
    run(
        "bad/duplicate_columns.csv",
        &[
            "duplicate_columns.csv:1:",
            "duplicate column name \"a\" (columns 1 and 3)",
        ],
    );
    run(
        "bad/ragged.csv",
        &["ragged.csv:4:", "2 field(s) but the header has 3"],
    );
    run(
        "bad/invalid_utf8.csv",
        &["invalid_utf8.csv:3: column \"b\"", "invalid UTF-8"],
    );
    assert_init_fails(
        &[
            &fixture("bad/target_text.csv"),
            "--target",
            "price",
            "--bad-target",
            "skip",
        ],
        &["target_text.csv", "no numeric value, only text"],
    );
    run(
        "bad/bad_target.csv",
        &[
            "bad_target.csv:4: column \"price\"",
            "\"n/a\" is not a finite number",
            "--bad-target skip",
        ],
    );
    // Options that contradict each other or the target were ignored
    // without a word (the target kept, the bounds failing on a data row).
    let partial = fixture("price_partial.csv");
    for (extra, expected) in [
        (
            &["--drop", "price"][..],
            "--drop \"price\" names the target column",
        ),
        (
            &["--id-col", "price"][..],
            "--id-col \"price\" names the target column",
        ),
        (
            &["--categorical", "price"][..],
            "--categorical \"price\" names the target column",
        ),
        (
            &["--impute", "price=0"][..],
            "--impute \"price\" names the target column",
        ),
        (
            &["--min", "10", "--max", "5"][..],
            "--min 10 is above --max 5",
        ),
    ] {
        let mut args = vec![partial.as_str(), "--target", "price"];
        args.extend_from_slice(extra);
        assert_init_fails(&args, &[expected]);
    }
    assert_init_fails(
        &[&fixture("price_partial.csv"), "--target", "prize"],
        &[
            "--target \"prize\" is not a column",
            "loc1, loc2, para1, dow, para2, para3, para4, price",
        ],
    );
    assert_init_fails(
        &[
            &fixture("price_partial.csv"),
            "--target",
            "price",
            "--drop",
            "nope",
        ],
        &["--drop \"nope\" is not a column"],
    );
}

#[test]
fn bad_target_skip_leaves_the_row_unlabeled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("bad/bad_target.csv"),
            "--target",
            "price",
            "--bad-target",
            "skip",
        ])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(
        (status["labeled"].clone(), status["unlabeled"].clone()),
        (2.into(), 2.into())
    );
}

#[test]
fn ten_megabyte_line_without_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("long.csv");
    let mut bytes = b"a,b,price\n1,2,3\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 10 << 20));
    bytes.extend(b"\n4,5,6\n");
    std::fs::write(&data, bytes).unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", data.to_str().unwrap(), "--target", "price"])
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(
            "long.csv:3: this row has 1 field(s)",
        ));
    assert!(!db.exists());
}

#[test]
fn existing_project_is_kept_without_force_and_after_a_failed_force() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args(["init", &fixture("price_partial.csv"), "--target", "price"])
        .assert()
        .success();
    let before = snapshot(&db);
    al(&db)
        .args(["init", &fixture("price_2k.csv"), "--target", "price"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "a project already exists here; pass --force",
        ));
    assert_eq!(snapshot(&db), before);
    al(&db)
        .args([
            "init",
            &fixture("bad/ragged.csv"),
            "--target",
            "price",
            "--force",
        ])
        .assert()
        .failure();
    assert_eq!(snapshot(&db), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["p.db"]);
    al(&db)
        .args([
            "init",
            &fixture("price_2k.csv"),
            "--target",
            "price",
            "--force",
        ])
        .assert()
        .success();
    assert_eq!(json_of(al(&db).args(["status", "--json"]))["rows"], 2000);
}

#[test]
fn files_that_are_not_projects_are_never_touched() {
    for name in ["bad/not_sqlite.db", "bad/other_sqlite.db"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::copy(fixture(name), &db).unwrap();
        let before = snapshot(&db);
        let expected = if name.contains("other") {
            "an SQLite database of another program"
        } else {
            "not an SQLite database"
        };
        al(&db)
            .arg("status")
            .assert()
            .failure()
            .code(1)
            .stderr(predicate::str::contains(expected));
        al(&db)
            .args([
                "init",
                &fixture("price_partial.csv"),
                "--target",
                "price",
                "--force",
            ])
            .assert()
            .failure()
            .stderr(predicate::str::contains("refusing to overwrite it"));
        assert_eq!(snapshot(&db), before);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "side files created"
        );
    }
}

#[test]
fn missing_project_says_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    al(&dir.path().join("none.db"))
        .arg("status")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "al-cli init DATA.csv --target COLUMN",
        ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn demo_runs_the_whole_example_and_leaves_its_files() {
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("al-cli")
        .unwrap()
        .env_remove("AL_PROJECT")
        .args(["demo", "--dir"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2000 rows (1600 labeled for training, 400 held out for testing, 0 to label), 13 features",
        ))
        .stdout(predicate::str::contains("│ cover"))
        .stdout(predicate::str::contains("labels saved at 220 [95 %]"))
        .stdout(predicate::str::contains("random ran on to 420 labels"));
    for f in ["price_2k.csv", "demo.db", "curves.svg"] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    let svg = std::fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("cover"));
}

#[test]
fn an_empty_target_column_starts_a_project_with_zero_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    al(&db)
        .args([
            "init",
            &fixture("odd/target_empty.csv"),
            "--target",
            "price",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains("every row is in the pool"));
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(status["labeled"], 0);
    assert_eq!(status["unlabeled"], 3);
}

#[test]
fn query_with_no_labels_uses_the_cold_start_strategy_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    // The seed slice with every target emptied: 2 000 rows, no label.
    let text = std::fs::read_to_string(fixture("price_2k.csv")).unwrap();
    let mut lines = text.lines();
    let mut body = format!("{}\n", lines.next().unwrap());
    for r in lines {
        body.push_str(&r[..=r.rfind(',').unwrap()]);
        body.push('\n');
    }
    let data = dir.path().join("unlabeled.csv");
    std::fs::write(&data, body).unwrap();
    al(&db)
        .args(["init", data.to_str().unwrap(), "--target", "price"])
        .assert()
        .success();
    let batch = dir.path().join("b.csv");
    let out = al(&db)
        .args([
            "--json",
            "query",
            "--strategy",
            "qbc",
            "--batch",
            "5",
            "--out",
        ])
        .arg(&batch)
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "0 labeled row(s), too few for a model: this batch is chosen by cover:weight=uniform",
        ));
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["cold_start"], true);
    assert_eq!(
        json["strategy"],
        "cover:weight=uniform,metric=features,sample=2000,power=0.5,leaf=5,hedge=0"
    );
    // No model yet, so no guess in the file; five distinct rows.
    let ids = common::batch_ids(&batch);
    assert_eq!(ids.len(), 5);
    let rows = json["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["prediction"].is_null()));
}

/// Lines `from..to` of the seed slice (header first), the target column
/// kept, emptied, or left out.
fn slice(dir: &std::path::Path, name: &str, from: usize, to: usize, target: &str) -> String {
    let text = std::fs::read_to_string(fixture("price_2k.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cut = |l: &str| l[..l.rfind(',').unwrap()].to_string();
    let mut out = match target {
        "drop" => format!("{}\n", cut(header)),
        _ => format!("{header}\n"),
    };
    for l in lines.skip(from).take(to - from) {
        match target {
            "keep" => out.push_str(l),
            "empty" => out.push_str(&format!("{},", cut(l))),
            _ => out.push_str(&cut(l)),
        }
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn separate_train_pool_and_test_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let train = slice(dir.path(), "train.csv", 0, 60, "keep");
    let pool = slice(dir.path(), "pool.csv", 60, 160, "drop");
    let test = slice(dir.path(), "test.csv", 160, 200, "keep");
    al(&db)
        .args([
            "init", &train, "--target", "price", "--pool", &pool, "--test", &test,
        ])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(
        (
            status["labeled"].clone(),
            status["test"].clone(),
            status["unlabeled"].clone()
        ),
        (60.into(), 40.into(), 100.into())
    );
    // Measured on exactly the test file's rows.
    let r = json_of(al(&db).args(["--json", "evaluate"]));
    assert_eq!(r["method"], "holdout");
    // More rows of each kind later.
    let more_test = slice(dir.path(), "more_test.csv", 200, 210, "keep");
    let more_pool = slice(dir.path(), "more_pool.csv", 210, 230, "empty");
    al(&db)
        .args(["add", &more_test, "--as", "test"])
        .assert()
        .success();
    al(&db)
        .args(["add", &more_pool, "--as", "pool"])
        .assert()
        .success();
    let status = json_of(al(&db).args(["status", "--json"]));
    assert_eq!(
        (
            status["labeled"].clone(),
            status["test"].clone(),
            status["unlabeled"].clone()
        ),
        (60.into(), 50.into(), 120.into())
    );
    // Test rows are never offered.
    let b = dir.path().join("b.csv");
    al(&db)
        .args(["query", "--strategy", "random", "--batch", "120", "--out"])
        .arg(&b)
        .assert()
        .success();
    // Ids: main file 1..=60, pool file 61..=160, test file 161..=200,
    // added test rows 201..=210, added pool rows 211..=230.
    let mut ids = common::batch_ids(&b);
    ids.sort_unstable();
    let pool: Vec<i64> = (61..=160).chain(211..=230).collect();
    assert_eq!(ids, pool);
}

#[test]
fn mismatched_or_unfit_extra_files_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let train = slice(dir.path(), "train.csv", 0, 60, "keep");
    let test_unlabeled = slice(dir.path(), "t.csv", 60, 70, "empty");
    let pool_labeled = slice(dir.path(), "p.csv", 70, 80, "keep");
    std::fs::write(dir.path().join("odd.csv"), "loc1,x\n1,2\n").unwrap();
    let odd = dir.path().join("odd.csv").to_str().unwrap().to_string();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let db = out.join("p.db");
    for (args, message) in [
        (
            vec!["--test", test_unlabeled.as_str()],
            "t.csv:2: column \"price\": is empty; every row of a test file needs its label",
        ),
        (
            vec!["--pool", pool_labeled.as_str()],
            "a pool file's rows are unlabeled",
        ),
        (
            vec!["--pool", odd.as_str()],
            "odd.csv: has no column \"loc2\"",
        ),
        (
            vec!["--test", test_unlabeled.as_str(), "--test-frac", "0.2"],
            "cannot be used with",
        ),
    ] {
        al(&db)
            .args(["init", &train, "--target", "price"])
            .args(&args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(message));
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "{args:?} left a file"
        );
    }
    // add --as test refuses unlabeled rows and leaves the project as it was.
    al(&db)
        .args(["init", &train, "--target", "price"])
        .assert()
        .success();
    let before = snapshot(&db);
    al(&db)
        .args(["add", &test_unlabeled, "--as", "test"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "every row of a test file needs its label",
        ));
    assert_eq!(snapshot(&db), before);
}
