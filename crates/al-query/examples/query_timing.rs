//! Times one query step on CSV matrices, for bench/query_vs_skactiveml.py.
//!
//!     cargo run --release -p al-query --example query_timing -- \
//!         labeled.csv pool.csv STRATEGY MODEL BATCH [CANDIDATES]
//!
//! labeled.csv: header, features, target last; pool.csv: header, features.
//! Prints one JSON line: the seconds of the query itself (data loaded; the
//! best of `REPEATS` runs when that variable is set) and the chosen pool rows.

use std::time::Instant;

use al_models::{Matrix, ModelSpec};
use al_query::{parse_strategy, QueryInput};

fn read(path: &str, with_target: bool) -> (Matrix, Vec<f64>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut data, mut y, mut cols) = (Vec::new(), Vec::new(), 0);
    for rec in r.records() {
        let v: Vec<f64> = rec
            .expect("record")
            .iter()
            .map(|c| c.parse().expect("number"))
            .collect();
        cols = v.len() - usize::from(with_target);
        data.extend_from_slice(&v[..cols]);
        if with_target {
            y.push(v[cols]);
        }
    }
    (Matrix::new(data, cols), y)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (lx, ly) = read(&a[1], true);
    let (pool, _) = read(&a[2], false);
    let strategy = parse_strategy(&a[3]).expect("strategy");
    let model = ModelSpec::parse(&a[4]).expect("model");
    let batch: usize = a[5].parse().expect("batch");
    let candidates: usize = a.get(6).map_or(500, |c| c.parse().expect("candidates"));
    let input = QueryInput {
        labeled_x: &lx,
        labeled_y: &ly,
        candidates: &pool,
        model: &model,
        batch,
        seed: 0,
        max_candidates: candidates,
        fitted: None,
    };
    let repeats: usize = std::env::var("REPEATS").map_or(1, |r| r.parse().expect("REPEATS"));
    let mut seconds = f64::INFINITY;
    let mut picks = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        picks = strategy.query(&input).expect("query");
        seconds = seconds.min(t.elapsed().as_secs_f64());
    }
    let rows: Vec<String> = picks.iter().map(|p| p.index.to_string()).collect();
    println!(
        "{{\"seconds\": {seconds}, \"rows\": [{}]}}",
        rows.join(", ")
    );
}
