//! Euclidean distances on the features as given (the CLI standardises
//! numeric columns with the stored recipe first), computed in parallel and in
//! memory linear in the pool: never a full pairwise matrix.

use al_models::Matrix;
use rayon::prelude::*;

pub fn squared(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// For each row of `x`, the mean distance to its `k` nearest rows of
/// `reference`, skipping an exact self-match at the same index when
/// `reference` is `x` itself.
pub fn mean_knn_distance(x: &Matrix, reference: &Matrix, k: usize, same: bool) -> Vec<f64> {
    (0..x.rows())
        .into_par_iter()
        .map(|i| {
            let r = x.row(i);
            let mut best = vec![f64::INFINITY; k];
            for (j, t) in reference.iter_rows().enumerate() {
                if same && i == j {
                    continue;
                }
                let d = squared(r, t);
                if d < best[k - 1] {
                    let pos = best.partition_point(|b| *b <= d);
                    best.insert(pos, d);
                    best.pop();
                }
            }
            let found: Vec<f64> = best.into_iter().filter(|d| d.is_finite()).collect();
            if found.is_empty() {
                0.0
            } else {
                found.iter().map(|d| d.sqrt()).sum::<f64>() / found.len() as f64
            }
        })
        .collect()
}
