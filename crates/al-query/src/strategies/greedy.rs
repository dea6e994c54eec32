//! `gsx`, `gsy` and `igs`: greedy sampling (Wu, Lin & Huang 2019). One
//! algorithm in three spaces, so one file with three registry entries.

use al_models::Matrix;
use rayon::prelude::*;

use super::fit_model;
use crate::distance::squared;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Selection, Strategy};

pub static GSX: StrategyInfo = StrategyInfo {
    name: "gsx",
    description: "greedy sampling in feature space: farthest from everything labeled or picked",
    reference: "Wu, Lin & Huang 2019 (GSx)",
    params: &[],
    build: |_| {
        Ok(Box::new(Greedy {
            space: GreedySpace::Features,
        }))
    },
    model_use: crate::registry::ModelUse::None,
};

pub static GSY: StrategyInfo = StrategyInfo {
    name: "gsy",
    description: "greedy sampling in output space: predictions farthest from known targets",
    reference: "Wu, Lin & Huang 2019 (GSy)",
    params: &[],
    build: |_| {
        Ok(Box::new(Greedy {
            space: GreedySpace::Outputs,
        }))
    },
    model_use: crate::registry::ModelUse::Predictions,
};

pub static IGS: StrategyInfo = StrategyInfo {
    name: "igs",
    description: "greedy sampling in both spaces: product of feature and output distances",
    reference: "Wu, Lin & Huang 2019 (iGS)",
    params: &[],
    build: |_| {
        Ok(Box::new(Greedy {
            space: GreedySpace::Both,
        }))
    },
    model_use: crate::registry::ModelUse::Predictions,
};

/// Which space greedy sampling measures distances in (Wu, Lin & Huang 2019).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreedySpace {
    /// GSx: feature space only.
    Features,
    /// GSy: output space, predictions against known and already-picked targets.
    Outputs,
    /// iGS: the product of both distances.
    Both,
}

/// Greedy sampling: repeatedly pick the candidate farthest from everything
/// labeled or already picked in this batch (picked rows count with their
/// predicted target). Memory is linear in the pool: one running minimum per
/// candidate, never a pairwise matrix.
pub struct Greedy {
    pub space: GreedySpace,
}

impl Strategy for Greedy {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        if input.candidates.rows() == 0 {
            return Err(QueryError::NoCandidates);
        }
        // Every pick updates every row's distance: the dense pool is held.
        let dense = input.candidates.dense();
        let c: &Matrix = &dense;
        let pred = if self.space == GreedySpace::Features {
            vec![0.0; c.rows()]
        } else {
            fit_model(input)?.predict(c)?
        };
        // The distance of candidate `i` to a reference row (features, target):
        // for iGS the product per pair, minimised over pairs, as in Wu et al.
        let pair = |i: usize, row: &[f64], y: f64| match self.space {
            GreedySpace::Features => squared(c.row(i), row).sqrt(),
            GreedySpace::Outputs => (pred[i] - y).abs(),
            GreedySpace::Both => squared(c.row(i), row).sqrt() * (pred[i] - y).abs(),
        };
        let lx = input.labeled_x;
        let mut d: Vec<f64> = (0..c.rows())
            .into_par_iter()
            .map(|i| {
                (0..lx.rows())
                    .map(|j| pair(i, lx.row(j), input.labeled_y[j]))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let mut picked = Vec::with_capacity(input.batch);
        let mut taken = vec![false; c.rows()];
        for _ in 0..input.batch.min(c.rows()) {
            // Highest distance; ties go to the lower index.
            let best = (0..c.rows())
                .filter(|&i| !taken[i])
                .fold(None::<usize>, |b, i| match b {
                    Some(j) if d[j] >= d[i] => Some(j),
                    _ => Some(i),
                });
            let Some(b) = best else { break };
            picked.push(Selection {
                index: b,
                score: d[b],
            });
            taken[b] = true;
            let (row, yb) = (c.row(b).to_vec(), pred[b]);
            d.par_iter_mut()
                .enumerate()
                .for_each(|(i, di)| *di = di.min(pair(i, &row, yb)));
        }
        Ok(picked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    #[test]
    fn gsx_picks_the_farthest_point_then_spreads() {
        let labeled = vec![vec![0.0, 0.0], vec![1.0, 0.0]];
        let cands = vec![
            vec![0.5, 0.1],
            vec![10.0, 0.0],
            vec![9.0, 0.0],
            vec![0.0, 5.0],
        ];
        let picked = run(
            &Greedy {
                space: GreedySpace::Features,
            },
            &labeled,
            &[1.0, 2.0],
            &cands,
            3,
            "linear",
        );
        // 10 is farthest; then (0,5) (distance 5) beats 9 (distance 1 to 10).
        assert_eq!(picked, vec![1, 3, 2]);
    }

    #[test]
    fn igs_multiplies_feature_and_output_distances() {
        // Linear model y = x exactly: predictions equal the candidate's x.
        let labeled = vec![vec![0.0], vec![1.0], vec![2.0]];
        let ly = [0.0, 1.0, 2.0];
        let cands = vec![vec![4.0], vec![-3.0], vec![2.5]];
        // Per-pair products |x - x_i| * |f(x) - y_i|, minimised over i:
        // 4 -> min(16, 9, 4) = 4; -3 -> min(9, 16, 25) = 9; 2.5 -> 0.25.
        // -3 first; then 4 keeps min(4, 7 * 7) = 4; 2.5 stays 0.25.
        let picked = run(
            &Greedy {
                space: GreedySpace::Both,
            },
            &labeled,
            &ly,
            &cands,
            3,
            "linear",
        );
        assert_eq!(picked, vec![1, 0, 2]);
    }

    #[test]
    fn gsy_uses_output_distance_only() {
        let labeled = vec![vec![0.0], vec![10.0]];
        let ly = [0.0, 10.0];
        // Predictions 5 (dy 5), 11 (dy 1), -4 (dy 4).
        let cands = vec![vec![5.0], vec![11.0], vec![-4.0]];
        let picked = run(
            &Greedy {
                space: GreedySpace::Outputs,
            },
            &labeled,
            &ly,
            &cands,
            2,
            "linear",
        );
        assert_eq!(picked, vec![0, 2]);
    }
}
