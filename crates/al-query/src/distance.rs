//! Euclidean distances on the features as given (the CLI standardises
//! numeric columns with the stored recipe first), computed in parallel and in
//! memory linear in the pool: never a full pairwise matrix.

use al_models::Matrix;
use rayon::prelude::*;

pub fn squared(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Reference rows compared at once: one per f32 lane.
const LANES: usize = 8;

/// For each row of `x`, the mean distance to its `k` nearest rows of
/// `reference`, skipping an exact self-match at the same index when
/// `reference` is `x` itself. Distances are computed in f32 (a density
/// estimate needs no more). The reference rows are interleaved in blocks of
/// [`LANES`] (`[block][feature][lane]`), so one row is compared with eight
/// reference rows at once, each lane summing its own squares in feature
/// order: the compiler vectorises it, and each distance is summed in the
/// same order as a plain loop would. This loop is most of `density`'s cost.
pub fn mean_knn_distance(x: &Matrix, reference: &Matrix, k: usize, same: bool) -> Vec<f64> {
    let cols = x.cols();
    let n_ref = reference.rows();
    let blocks = n_ref.div_ceil(LANES);
    let mut refs = vec![0.0f32; blocks * cols * LANES];
    for (j, row) in reference.iter_rows().enumerate() {
        let (b, l) = (j / LANES, j % LANES);
        for (f, &v) in row.iter().enumerate() {
            refs[(b * cols + f) * LANES + l] = v as f32;
        }
    }
    let scan = RefScan {
        refs: &refs,
        cols,
        n_ref,
        k,
    };
    let avx2 = has_avx2();
    (0..x.rows())
        .into_par_iter()
        .map(|i| {
            let r: Vec<f32> = x.row(i).iter().map(|&v| v as f32).collect();
            let skip = if same { Some(i) } else { None };
            if avx2 {
                // SAFETY: the CPU has AVX2 (checked at run time just above).
                #[cfg(target_arch = "x86_64")]
                return unsafe { scan.mean_nearest_avx2(&r, skip) };
            }
            scan.mean_nearest(&r, skip)
        })
        .collect()
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Interleaved reference rows and what to find among them.
struct RefScan<'a> {
    refs: &'a [f32],
    cols: usize,
    n_ref: usize,
    k: usize,
}

impl RefScan<'_> {
    /// Mean distance from `r` to its `k` nearest reference rows, skipping
    /// reference row `skip`. Inlined into each instruction-set version.
    #[inline(always)]
    fn mean_nearest(&self, r: &[f32], skip: Option<usize>) -> f64 {
        let k = self.k;
        let mut best = vec![f32::INFINITY; k];
        let block_len = (self.cols * LANES).max(1);
        for (b, block) in self.refs.chunks_exact(block_len).enumerate() {
            let mut acc = [0.0f32; LANES];
            for (v, lanes) in r.iter().zip(block.chunks_exact(LANES)) {
                for l in 0..LANES {
                    let d = v - lanes[l];
                    acc[l] += d * d;
                }
            }
            for (l, &d) in acc.iter().enumerate() {
                let j = b * LANES + l;
                if j >= self.n_ref || skip == Some(j) {
                    continue;
                }
                if d < best[k - 1] {
                    let pos = best.partition_point(|b| *b <= d);
                    best.insert(pos, d);
                    best.pop();
                }
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
    }

    /// [`RefScan::mean_nearest`] compiled for AVX2: eight lanes in one
    /// register. Not FMA: a fused multiply-add rounds differently, and the
    /// same seed must give the same picks on every machine.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn mean_nearest_avx2(&self, r: &[f32], skip: Option<usize>) -> f64 {
        self.mean_nearest(r, skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same mean k-NN distance by brute force in f64.
    fn brute(x: &Matrix, reference: &Matrix, k: usize, same: bool) -> Vec<f64> {
        x.iter_rows()
            .enumerate()
            .map(|(i, r)| {
                let mut d: Vec<f64> = reference
                    .iter_rows()
                    .enumerate()
                    .filter(|(j, _)| !(same && *j == i))
                    .map(|(_, t)| squared(r, t).sqrt())
                    .collect();
                d.sort_by(f64::total_cmp);
                d.truncate(k);
                d.iter().sum::<f64>() / d.len() as f64
            })
            .collect()
    }

    #[test]
    fn lanes_give_the_brute_force_distances_with_a_ragged_last_block() {
        // 21 reference rows: two full blocks of eight and one of five.
        let rows = |n: usize, shift: f64| -> Matrix {
            Matrix::from_rows(
                &(0..n)
                    .map(|i| {
                        (0..3)
                            .map(|f| ((i * 7 + f * 3) % 11) as f64 + shift)
                            .collect()
                    })
                    .collect::<Vec<Vec<f64>>>(),
            )
        };
        let (x, reference) = (rows(13, 0.25), rows(21, 0.0));
        for (k, same) in [(1, false), (3, false), (5, false)] {
            let got = mean_knn_distance(&x, &reference, k, same);
            for (g, b) in got.iter().zip(brute(&x, &reference, k, same)) {
                assert!((g - b).abs() < 1e-5, "k={k}: {g} vs {b}");
            }
        }
        // Against itself the row's own zero distance is skipped.
        let got = mean_knn_distance(&reference, &reference, 2, true);
        for (g, b) in got.iter().zip(brute(&reference, &reference, 2, true)) {
            assert!((g - b).abs() < 1e-5, "{g} vs {b}");
        }
    }

    #[test]
    fn the_avx2_version_gives_bit_identical_distances() {
        if !has_avx2() {
            return; // nothing to compare on this CPU
        }
        let refs: Vec<f32> = (0..3 * 5 * LANES)
            .map(|v| (v as f32 * 0.37).sin())
            .collect();
        let scan = RefScan {
            refs: &refs,
            cols: 5,
            n_ref: 3 * LANES - 2,
            k: 4,
        };
        for i in 0..10 {
            let r: Vec<f32> = (0..5).map(|f| ((i * 5 + f) as f32 * 0.11).cos()).collect();
            let plain = scan.mean_nearest(&r, Some(i));
            #[cfg(target_arch = "x86_64")]
            // SAFETY: has_avx2() was checked above.
            let wide = unsafe { scan.mean_nearest_avx2(&r, Some(i)) };
            #[cfg(target_arch = "x86_64")]
            assert_eq!(plain.to_bits(), wide.to_bits());
        }
    }
}
