//! GSx, GSy and iGS pick the same rows as scikit-activeml from the same
//! initial labels. The reference (fixtures/gs_reference/expected.json) was
//! made by `python3 bench/gs_reference.py` with scikit-activeml 1.0.1 and
//! scikit-learn 1.9.1; see that script for the data and settings.

use std::path::Path;

use al_models::{Matrix, ModelSpec};
use al_query::{parse_strategy, QueryInput};

fn reference() -> (Matrix, Vec<f64>, serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/gs_reference");
    let mut r = csv::Reader::from_path(dir.join("data.csv")).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut cols = 0;
    for rec in r.records() {
        let v: Vec<f64> = rec.unwrap().iter().map(|c| c.parse().unwrap()).collect();
        cols = v.len() - 1;
        x.extend_from_slice(&v[..cols]);
        y.push(v[cols]);
    }
    let expected =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    (Matrix::new(x, cols), y, expected)
}

#[test]
fn greedy_sampling_matches_scikit_activeml() {
    let (x, y, expected) = reference();
    let labeled = expected["labeled"].as_u64().unwrap() as usize;
    let batch = expected["batch"].as_u64().unwrap() as usize;
    let lx = x.select(&(0..labeled).collect::<Vec<_>>());
    let candidates = x.select(&(labeled..x.rows()).collect::<Vec<_>>());
    let model = ModelSpec::parse("linear").unwrap();
    for name in ["gsx", "gsy", "igs"] {
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &y[..labeled],
            candidates: &candidates,
            model: &model,
            batch,
            seed: 0,
            max_candidates: 500,
            fitted: None,
        };
        let picked: Vec<u64> = parse_strategy(name)
            .unwrap()
            .query(&input)
            .unwrap()
            .iter()
            .map(|s| (s.index + labeled) as u64)
            .collect();
        let want: Vec<u64> = expected[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(picked, want, "{name}");
    }
}
