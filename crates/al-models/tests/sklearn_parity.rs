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

/// fixtures/diabetes.csv (scikit-learn's bundled data, unscaled): rows
/// 1-332 train, 333-442 test.
fn diabetes() -> (Matrix, Vec<f64>, Matrix, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/diabetes.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for record in reader.records() {
        let values: Vec<f64> = record.unwrap().iter().map(|c| c.parse().unwrap()).collect();
        let (target, features) = values.split_last().unwrap();
        x.push(features.to_vec());
        y.push(*target);
    }
    let x = Matrix::from_rows(&x);
    let train: Vec<usize> = (0..332).collect();
    let test: Vec<usize> = (332..442).collect();
    (
        x.select(&train),
        y[..332].to_vec(),
        x.select(&test),
        y[332..].to_vec(),
    )
}

fn mae_on(data: (Matrix, Vec<f64>, Matrix, Vec<f64>), spec: &str, seed: u64) -> f64 {
    let (xtr, ytr, xte, yte) = data;
    let model = ModelSpec::parse(spec)
        .unwrap()
        .build()
        .unwrap()
        .fit(&xtr, &ytr, seed)
        .unwrap();
    metrics::mae(&yte, &model.predict(&xte).unwrap())
}

fn test_mae(spec: &str, seed: u64) -> f64 {
    mae_on(seed_slice(), spec, seed)
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

/// The library models against their scikit-learn counterparts
/// (`bench/models_parity.py`, scikit-learn 1.9.1, 2026-11-27), each on
/// standardised features: `ElasticNet(alpha=1, l1_ratio=0.5)`,
/// `Lasso(alpha=1)`, `SVR(C=1, epsilon=0.1, gamma="scale")` with a
/// standardised target, `TweedieRegressor(power=2, alpha=1, link="log")`,
/// `GaussianProcessRegressor(C·RBF(ARD) + WhiteKernel, normalize_y=True)` and
/// `HistGradientBoostingRegressor()` against `gbm`. The issue's bar: test MAE
/// within 10 %. The Gaussian process trains on the first 300 seed rows (its
/// cost is cubic).
const SKLEARN_SEED: [(&str, f64); 6] = [
    ("elasticnet", 133.466),
    ("lasso", 126.155),
    ("svr", 113.908),
    ("glm", 139.485),
    ("gp", 131.851),
    ("gbm", 117.167),
];
const SKLEARN_DIABETES: [(&str, f64); 6] = [
    ("elasticnet", 44.707),
    ("lasso", 41.647),
    ("svr", 42.580),
    ("glm", 47.955),
    ("gp", 41.270),
    ("gbm", 45.780),
];

fn within_ten_percent(data: &str, model: &str, ours: f64, reference: f64) -> Option<String> {
    let ratio = ours / reference;
    println!("{data:9} {model:11} al {ours:8.3}  scikit-learn {reference:8.3}  ratio {ratio:.3}");
    ((ratio - 1.0).abs() > 0.10).then(|| format!("{data} {model}: {ours:.3} vs {reference:.3}"))
}

#[test]
fn library_models_within_ten_percent_of_scikit_learn_on_the_seed_data() {
    let mut failures = Vec::new();
    for (model, reference) in SKLEARN_SEED {
        let ours = if model == "gp" {
            let (xtr, ytr, xte, yte) = seed_slice();
            let first: Vec<usize> = (0..300).collect();
            mae_on(
                (xtr.select(&first), ytr[..300].to_vec(), xte, yte),
                model,
                0,
            )
        } else {
            test_mae(model, 0)
        };
        failures.extend(within_ten_percent("seed", model, ours, reference));
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn library_models_within_ten_percent_of_scikit_learn_on_diabetes() {
    let mut failures = Vec::new();
    for (model, reference) in SKLEARN_DIABETES {
        let ours = mae_on(diabetes(), model, 0);
        failures.extend(within_ten_percent("diabetes", model, ours, reference));
    }
    assert!(failures.is_empty(), "{failures:?}");
}
