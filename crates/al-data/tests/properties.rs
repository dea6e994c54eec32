//! Property tests of the data layer: whatever the cells, reading is exact,
//! encoding is total and finite, and the split has the promised size.

use std::io::Write;

use al_data::init::choose_test_rows;
use al_data::{read_table, ReadOptions, Recipe, RecipeOptions};
use proptest::prelude::*;

/// Cells with delimiters, quotes, newlines and non-ASCII text.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ,;\"\n\té€-]{0,12}",
        (-1e6f64..1e6).prop_map(|v| v.to_string()),
        Just(String::new()),
    ]
}

fn grid() -> impl Strategy<Value = (usize, Vec<Vec<String>>)> {
    (2usize..6).prop_flat_map(|cols| {
        (
            Just(cols),
            prop::collection::vec(prop::collection::vec(cell(), cols), 1..30),
        )
    })
}

fn write_csv(delimiter: u8, header: &[String], rows: &[Vec<String>]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(&mut f);
        w.write_record(header).unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }
    f.flush().unwrap();
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cells_round_trip_exactly((cols, rows) in grid(), tab in any::<bool>()) {
        // A row whose cells are all empty is a blank line in CSV, which
        // readers skip; give each row one non-empty cell.
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|mut r| { if r.iter().all(|c| c.is_empty()) { r[0] = "x".into(); } r })
            .collect();
        let header: Vec<String> = (0..cols).map(|i| format!("c{i}")).collect();
        let delimiter = if tab { b'\t' } else { b',' };
        let f = write_csv(delimiter, &header, &rows);
        let t = read_table(f.path(), &ReadOptions {
                delimiter: Some(delimiter),
                ..ReadOptions::default()
            }).unwrap();
        prop_assert_eq!(&t.headers, &header);
        prop_assert_eq!(t.n_rows(), rows.len());
        for (i, r) in rows.iter().enumerate() {
            prop_assert_eq!(t.row(i), r.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    #[test]
    fn encoding_is_total_finite_and_of_the_promised_width((cols, rows) in grid()) {
        let mut header: Vec<String> = (0..cols).map(|i| format!("c{i}")).collect();
        header.push("y".into());
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| { r.push(if i % 2 == 0 { "1.5".into() } else { String::new() }); r })
            .collect();
        let f = write_csv(b',', &header, &rows);
        let t = read_table(f.path(), &ReadOptions::default()).unwrap();
        let opts = RecipeOptions { target: "y".into(), missing_indicators: true, ..Default::default() };
        // No feature left (all columns dropped) is an error, not a panic.
        let Ok((recipe, _)) = Recipe::fit(&t, &opts) else { return Ok(()) };
        let width = recipe.n_features();
        prop_assert_eq!(recipe.feature_names().len(), width);
        for i in 0..t.n_rows() {
            let mut issues = vec![];
            let compact = recipe.encode(&t.row(i), &mut issues);
            prop_assert!(
                issues.iter().all(|i| matches!(i, al_data::recipe::EncodeIssue::Unparsed { .. })),
                "fitted rows never have unseen levels: {:?}", issues
            );
            prop_assert_eq!(compact.len(), recipe.compact_width());
            let dense = recipe.expand(&compact);
            prop_assert_eq!(dense.len(), width);
            prop_assert!(dense.iter().all(|v| v.is_finite()));
        }
        // The recipe survives the project's JSON storage unchanged.
        let json = serde_json::to_string(&recipe).unwrap();
        prop_assert_eq!(serde_json::from_str::<Recipe>(&json).unwrap(), recipe);
    }

    #[test]
    fn test_split_has_the_rounded_size_and_only_labeled_rows(
        labeled in prop::collection::btree_set(0usize..500, 0..200),
        frac in 0.0f64..0.99,
        seed in any::<u64>(),
    ) {
        let labeled: Vec<usize> = labeled.into_iter().collect();
        let is_test = choose_test_rows(&labeled, 500, frac, seed);
        let chosen: Vec<usize> = (0..500).filter(|&r| is_test[r]).collect();
        prop_assert_eq!(chosen.len(), (frac * labeled.len() as f64).round() as usize);
        prop_assert!(chosen.iter().all(|r| labeled.binary_search(r).is_ok()));
        prop_assert_eq!(is_test, choose_test_rows(&labeled, 500, frac, seed));
    }
}
