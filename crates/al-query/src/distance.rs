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
/// `reference` is `x` itself. Distances are computed in f32 (a density
/// estimate needs no more), twice the SIMD lanes and half the memory traffic
/// of f64: this loop is most of `density`'s cost on a large pool.
pub fn mean_knn_distance(x: &Matrix, reference: &Matrix, k: usize, same: bool) -> Vec<f64> {
    let cols = x.cols();
    let to_f32 = |m: &Matrix| -> Vec<f32> { m.iter_rows().flatten().map(|&v| v as f32).collect() };
    let (xs, refs) = (to_f32(x), to_f32(reference));
    (0..x.rows())
        .into_par_iter()
        .map(|i| {
            let r = &xs[i * cols..(i + 1) * cols];
            let mut best = vec![f32::INFINITY; k];
            for (j, t) in refs.chunks_exact(cols.max(1)).enumerate() {
                if same && i == j {
                    continue;
                }
                let d: f32 = r.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best[k - 1] {
                    let pos = best.partition_point(|b| *b <= d);
                    best.insert(pos, d);
                    best.pop();
                }
            }
            let found: Vec<f64> = best
                .into_iter()
                .filter(|d| d.is_finite())
                .map(f64::from)
                .collect();
            if found.is_empty() {
                0.0
            } else {
                found.iter().map(|d| d.sqrt()).sum::<f64>() / found.len() as f64
            }
        })
        .collect()
}
