//! Times one model's fit and predict on CSV files, for bench/models_vs_sklearn.py.
//!
//!     cargo run --release -p al-models --example fit_predict -- \
//!         train.csv test.csv "forest:trees=100" [repeats]
//!
//! Each CSV: a header, feature columns, the target last. Prints one JSON
//! line: best-of-`repeats` fit, predict and members' spread (`predict_std`,
//! null for models without members) seconds and the test MAE.
//! `smartcore-forest:trees=N` times smartcore's `RandomForestRegressor`
//! (all features per split, as al's default) on the same data instead.

use std::time::Instant;

use al_models::{metrics, Matrix, ModelSpec};

fn read(path: &str) -> (Matrix, Vec<f64>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut data = Vec::new();
    let mut y = Vec::new();
    let mut cols = 0;
    for rec in r.records() {
        let rec = rec.expect("a CSV record");
        let v: Vec<f64> = rec.iter().map(|c| c.parse().expect("a number")).collect();
        cols = v.len() - 1;
        data.extend_from_slice(&v[..cols]);
        y.push(v[cols]);
    }
    (Matrix::new(data, cols), y)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (train, test, spec) = (&args[1], &args[2], &args[3]);
    let repeats: usize = args.get(4).map_or(3, |r| r.parse().expect("repeats"));
    let (xtr, ytr) = read(train);
    let (xte, yte) = read(test);
    if let Some(trees) = spec.strip_prefix("smartcore-forest:trees=") {
        smartcore_forest(
            &xtr,
            &ytr,
            &xte,
            &yte,
            trees.parse().expect("trees"),
            repeats,
        );
        return;
    }
    let learner = ModelSpec::parse(spec)
        .expect("model spec")
        .build()
        .expect("model");
    let (mut fit_s, mut pred_s, mut std_s, mut mae) =
        (f64::INFINITY, f64::INFINITY, f64::INFINITY, 0.0);
    for r in 0..repeats {
        let t = Instant::now();
        let model = learner.fit(&xtr, &ytr, r as u64).expect("fit");
        fit_s = fit_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let pred = model.predict(&xte).unwrap();
        pred_s = pred_s.min(t.elapsed().as_secs_f64());
        mae = metrics::mae(&yte, &pred);
        // The members' spread (what qbc and the variance strategies ask).
        let t = Instant::now();
        if model.predict_std(&xte).unwrap().is_some() {
            std_s = std_s.min(t.elapsed().as_secs_f64());
        }
    }
    let std_s = if std_s.is_finite() {
        std_s.to_string()
    } else {
        "null".into()
    };
    println!("{{\"fit_s\": {fit_s}, \"predict_s\": {pred_s}, \"std_s\": {std_s}, \"mae\": {mae}}}");
}

fn dense(x: &Matrix) -> smartcore::linalg::basic::matrix::DenseMatrix<f64> {
    let rows: Vec<Vec<f64>> = x.iter_rows().map(<[f64]>::to_vec).collect();
    smartcore::linalg::basic::matrix::DenseMatrix::from_2d_vec(&rows).expect("a matrix")
}

fn smartcore_forest(
    xtr: &Matrix,
    ytr: &[f64],
    xte: &Matrix,
    yte: &[f64],
    trees: usize,
    repeats: usize,
) {
    use smartcore::ensemble::random_forest_regressor::{
        RandomForestRegressor, RandomForestRegressorParameters,
    };
    let (a, b) = (dense(xtr), dense(xte));
    let y = ytr.to_vec();
    let (mut fit_s, mut pred_s, mut mae) = (f64::INFINITY, f64::INFINITY, 0.0);
    for r in 0..repeats {
        let params = RandomForestRegressorParameters::default()
            .with_n_trees(trees)
            .with_m(xtr.cols())
            .with_seed(r as u64);
        let t = Instant::now();
        let model = RandomForestRegressor::fit(&a, &y, params).expect("fit");
        fit_s = fit_s.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let pred = model.predict(&b).expect("predict");
        pred_s = pred_s.min(t.elapsed().as_secs_f64());
        mae = metrics::mae(yte, &pred);
    }
    println!("{{\"fit_s\": {fit_s}, \"predict_s\": {pred_s}, \"mae\": {mae}}}");
}
