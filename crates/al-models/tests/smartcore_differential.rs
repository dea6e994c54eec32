//! Differential tests against smartcore, an independent implementation of
//! the same algorithms: the hand-written CART must grow the same tree as
//! smartcore's `DecisionTreeRegressor` where the two are defined alike, and
//! the forest must be as accurate as smartcore's `RandomForestRegressor`.

use al_models::{metrics, Matrix, ModelSpec};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_regressor::{
    DecisionTreeRegressor, DecisionTreeRegressorParameters,
};

/// Rows with few distinct values per feature (fewer than al's 256 bins, so
/// both trees search every threshold); new rows also take values no
/// training row has, which is where the two could cut differently.
fn data(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..4).map(|_| (next() * 40.0).floor()).collect())
        .collect();
    let y = rows
        .iter()
        .map(|r| r[0] * 2.0 + (r[1] - 20.0).abs() * 3.0 + r[2] * r[3] / 10.0 + next())
        .collect();
    (rows, y)
}

fn ours(spec: &str, rows: &[Vec<f64>], y: &[f64], new: &[Vec<f64>]) -> Vec<f64> {
    ModelSpec::parse(spec)
        .unwrap()
        .build()
        .unwrap()
        .fit(&Matrix::from_rows(rows), y, 0)
        .unwrap()
        .predict(&Matrix::from_rows(new))
        .unwrap()
}

#[test]
fn trees_of_equal_depth_predict_alike() {
    let (rows, y) = data(300, 1);
    let (new, _) = data(200, 2);
    let x = DenseMatrix::from_2d_vec(&rows).unwrap();
    let xn = DenseMatrix::from_2d_vec(&new).unwrap();
    for depth in 1..=5u16 {
        let theirs = DecisionTreeRegressor::fit(
            &x,
            &y,
            DecisionTreeRegressorParameters::default().with_max_depth(depth + 1),
        )
        .unwrap()
        .predict(&xn)
        .unwrap();
        let mine = ours(&format!("tree:depth={depth}"), &rows, &y, &new);
        // smartcore counts the root as level 1 (its max_depth 2 is a
        // stump), scikit-learn and al count splits: hence depth + 1. Both
        // cut halfway between a node's values, so unseen values fall alike.
        for (a, b) in mine.iter().zip(&theirs) {
            assert!(
                (a - b).abs() < 1e-9,
                "depth {depth}: al {a} vs smartcore {b}"
            );
        }
    }
}

#[test]
fn the_forest_is_as_accurate_as_smartcores() {
    let (rows, y) = data(600, 3);
    let (new, truth) = data(300, 4);
    let x = DenseMatrix::from_2d_vec(&rows).unwrap();
    let xn = DenseMatrix::from_2d_vec(&new).unwrap();
    let mut theirs = 0.0;
    let mut mine = 0.0;
    for seed in 0..3 {
        let params = RandomForestRegressorParameters::default()
            .with_n_trees(100)
            .with_m(4)
            .with_seed(seed);
        let p = RandomForestRegressor::fit(&x, &y, params)
            .unwrap()
            .predict(&xn)
            .unwrap();
        theirs += metrics::mae(&truth, &p) / 3.0;
        let model = ModelSpec::parse("forest:trees=100")
            .unwrap()
            .build()
            .unwrap();
        let fitted = model.fit(&Matrix::from_rows(&rows), &y, seed).unwrap();
        mine += metrics::mae(&truth, &fitted.predict(&Matrix::from_rows(&new)).unwrap()) / 3.0;
    }
    assert!(
        (mine / theirs - 1.0).abs() < 0.05,
        "al forest MAE {mine:.4} vs smartcore {theirs:.4}"
    );
}
