//! Test MAE on a slice of the seed data against scikit-learn's figure for the
//! same split and features.
//!
//! Reference (scikit-learn 1.9.1, computed once on 2026-11-26): features of
//! fixtures/price_2k.csv as al's recipe builds them (loc1, loc2, para1-4
//! coerced to numbers with mean imputation over all 2000 rows, dow one-hot),
//! rows 1-1500 train, rows 1501-2000 test:
//!
//! ```python
//! RandomForestRegressor(n_estimators=100, random_state=s)  # s = 0..4
//! # test MAE 112.469, 112.389, 112.220, 113.398, 111.229: mean 112.341
//! DecisionTreeRegressor(max_depth=1, random_state=0)       # test MAE 167.8970405729604
//! DecisionTreeRegressor(max_depth=2, random_state=0)       # test MAE 146.03440272434415
//! DecisionTreeRegressor(max_depth=5, random_state=0)       # test MAE 123.784
//! ```
//!
//! Deeper trees differ a little for two legitimate reasons. `para2` and
//! `para3` have 706 and 1115 distinct values, more than the 256 bins, so
//! their splits are chosen among 255 quantile thresholds (al's depth-2 tree
//! differs from scikit-learn's for that reason). And `loc2`'s codes begin
//! with `loc1`'s digit, so some splits on the two columns make the same
//! partition with the same gain. scikit-learn breaks such ties by a random
//! feature order, al by column order; both trees are optimal on the training
//! rows but put different thresholds in front of the test rows. (With only the
//! four low-cardinality columns, depths 1 and 2 agree to the last digit and
//! depth 3 differs by 0.3 %.)

use std::path::Path;

use al_data::{read_table, ReadOptions, Recipe, RecipeOptions};
use al_models::{metrics, Matrix, ModelSpec};

fn seed_slice() -> (Matrix, Vec<f64>, Matrix, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/price_2k.csv");
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    let opts = RecipeOptions {
        target: "price".into(),
        ..Default::default()
    };
    let (recipe, _) = Recipe::fit(&table, &opts).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for r in 0..table.n_rows() {
        let mut issues = vec![];
        recipe.expand_into(&recipe.encode(&table.row(r), &mut issues), &mut x);
        y.push(table.cell(r, 7).parse::<f64>().unwrap());
    }
    let all = Matrix::new(x, recipe.n_features());
    let train: Vec<usize> = (0..1500).collect();
    let test: Vec<usize> = (1500..2000).collect();
    (
        all.select(&train),
        y[..1500].to_vec(),
        all.select(&test),
        y[1500..].to_vec(),
    )
}

fn test_mae(spec: &str, seed: u64) -> f64 {
    let (xtr, ytr, xte, yte) = seed_slice();
    let model = ModelSpec::parse(spec)
        .unwrap()
        .build()
        .unwrap()
        .fit(&xtr, &ytr, seed)
        .unwrap();
    metrics::mae(&yte, &model.predict(&xte).unwrap())
}

#[test]
fn forest_mae_within_two_percent_of_scikit_learn() {
    let mean = (0..5).map(|s| test_mae("forest:trees=100", s)).sum::<f64>() / 5.0;
    let reference = 112.341;
    assert!(
        (mean / reference - 1.0).abs() < 0.02,
        "al forest mean MAE {mean:.3} vs scikit-learn {reference}"
    );
}

#[test]
fn a_stump_equals_scikit_learn() {
    assert!((test_mae("tree:depth=1", 0) - 167.8970405729604).abs() < 1e-9);
}

#[test]
fn depth_five_tree_within_two_percent_of_scikit_learn() {
    let mae = test_mae("tree:depth=5", 0);
    assert!(
        (mae / 123.784 - 1.0).abs() < 0.02,
        "al tree MAE {mae:.3} vs scikit-learn 123.784"
    );
}
