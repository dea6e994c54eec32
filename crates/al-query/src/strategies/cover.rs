//! `cover`: representative batches by greedy facility location, weighted by
//! the model's uncertainty.

use al_models::derive_seed;
use al_models::forest::ForestParams;
use al_models::params::{at_least, param, Kind};
use rayon::prelude::*;

use super::{predictive_variance, sample_sorted};
use crate::distance::squared;
use crate::leaf_space::{leaf_ids, proximity};
use crate::registry::StrategyInfo;
use crate::{top_k, QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "cover",
    description:
        "representative batch: greedy k-median cover of the pool, weighted by --model's variance",
    reference:
        "Wu 2018 (representativeness); Nemhauser, Wolsey & Fisher 1978 (greedy facility location)",
    params: &[
        param(
            "weight",
            "variance",
            Kind::Choice(&["uniform", "variance"]),
            "how pool rows count: all alike, or by --model's variance there",
        ),
        param(
            "metric",
            "features",
            Kind::Choice(&["features", "forest"]),
            "distance: Euclidean on the features, or random-forest proximity",
        ),
        param(
            "sample",
            "2000",
            at_least(1),
            "candidates and covered pool rows, each a seeded sample of at most this many",
        ),
        param(
            "power",
            "1",
            Kind::NonNegative,
            "with weight=variance, rows count by the variance to this power (0.5: the standard deviation)",
        ),
    ],
    build: |p| {
        let weight = match p.text("weight") {
            "uniform" => CoverWeight::Uniform,
            _ => CoverWeight::Variance,
        };
        let metric = match p.text("metric") {
            "forest" => CoverMetric::Forest,
            _ => CoverMetric::Features,
        };
        Ok(Box::new(Cover {
            weight,
            metric,
            sample: p.count("sample"),
            power: p.real("power"),
        }))
    },
};

/// How `cover` weighs the pool rows it tries to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverWeight {
    /// Every row counts the same: pure representativeness.
    Uniform,
    /// Rows count by the variance of `--model`'s members there.
    Variance,
}

/// Representative sampling by greedy facility location (k-median): each pick
/// is the candidate that most reduces the summed distance from the pool to
/// its nearest labeled-or-picked row. Unlike GSx (k-center), which runs to
/// the outliers, this favours dense regions not yet covered, so a batch
/// mirrors where the test rows are. Candidates and the covered pool are
/// seeded samples of at most `sample` rows, so the cost is bounded whatever
/// the pool size.
pub struct Cover {
    pub weight: CoverWeight,
    pub sample: usize,
    pub metric: CoverMetric,
    /// Exponent of the variance weight.
    pub power: f64,
}

/// The distance `cover` measures coverage in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverMetric {
    /// Euclidean on the (standardised) features.
    Features,
    /// Random-forest proximity: 1 - the share of trees in which two rows
    /// fall into the same leaf. Supervised: rows the target does not tell
    /// apart are close, whatever their raw features.
    Forest,
}

/// Forest distance: 1 - the share of trees in which two rows share a leaf.
fn proximity_distance(a: &[u32], b: &[u32]) -> f64 {
    1.0 - proximity(a, b)
}

impl Strategy for Cover {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let c = input.candidates;
        if c.rows() == 0 {
            return Err(QueryError::NoCandidates);
        }
        let cand = sample_sorted(c.rows(), self.sample, derive_seed(input.seed, 21));
        let reference = sample_sorted(c.rows(), self.sample, derive_seed(input.seed, 22));
        // Only the sampled rows are expanded, whatever the pool's size.
        let cand_x = c.select(&cand);
        let ref_x = c.select(&reference);
        let weights: Vec<f64> = match self.weight {
            CoverWeight::Uniform => vec![1.0; reference.len()],
            CoverWeight::Variance => {
                let variance = predictive_variance(
                    &QueryInput {
                        candidates: &ref_x,
                        ..*input
                    },
                    10,
                )?;
                variance.into_iter().map(|v| v.powf(self.power)).collect()
            }
        };
        let lx = input.labeled_x;
        let (mut covered, dist): (Vec<f64>, Vec<Vec<f64>>) = match self.metric {
            CoverMetric::Features => {
                let covered = (0..ref_x.rows())
                    .into_par_iter()
                    .map(|r| {
                        lx.iter_rows()
                            .map(|l| squared(ref_x.row(r), l).sqrt())
                            .fold(f64::INFINITY, f64::min)
                    })
                    .collect();
                // Candidate x reference distances, computed once (bounded by `sample`²).
                let dist = (0..cand_x.rows())
                    .into_par_iter()
                    .map(|i| {
                        ref_x
                            .iter_rows()
                            .map(|r| squared(cand_x.row(i), r).sqrt())
                            .collect()
                    })
                    .collect();
                (covered, dist)
            }
            CoverMetric::Forest => {
                let forest = ForestParams::default().trees(50).fit_forest(
                    lx,
                    input.labeled_y,
                    derive_seed(input.seed, 23),
                )?;
                let all_labeled: Vec<usize> = (0..lx.rows()).collect();
                let lab = leaf_ids(&forest, lx, &all_labeled);
                let refs = leaf_ids(&forest, &ref_x, &(0..ref_x.rows()).collect::<Vec<_>>());
                let cands = leaf_ids(&forest, &cand_x, &(0..cand_x.rows()).collect::<Vec<_>>());
                let covered = refs
                    .par_iter()
                    .map(|r| {
                        lab.iter()
                            .map(|l| proximity_distance(r, l))
                            .fold(f64::INFINITY, f64::min)
                    })
                    .collect();
                let dist = cands
                    .par_iter()
                    .map(|k| refs.iter().map(|r| proximity_distance(k, r)).collect())
                    .collect();
                (covered, dist)
            }
        };
        // With no labeled row nothing is covered yet: start every pool row
        // at a distance beyond any pair's, so the first pick is the pool's
        // 1-median and the batch a greedy k-median (cold start).
        let farthest = dist
            .iter()
            .flatten()
            .copied()
            .filter(|d| d.is_finite())
            .fold(0.0, f64::max);
        for c in covered.iter_mut().filter(|c| c.is_infinite()) {
            *c = 2.0 * farthest + 1.0;
        }
        let mut taken = vec![false; cand.len()];
        let mut picked = Vec::with_capacity(input.batch);
        for _ in 0..input.batch.min(cand.len()) {
            let gains: Vec<f64> = (0..cand.len())
                .into_par_iter()
                .map(|k| {
                    if taken[k] {
                        return f64::NEG_INFINITY;
                    }
                    dist[k]
                        .iter()
                        .zip(&covered)
                        .zip(&weights)
                        .map(|((d, cov), w)| w * (cov - d).max(0.0))
                        .sum()
                })
                .collect();
            let Some(best) = top_k(&gains, 1).first().copied() else {
                break;
            };
            taken[best.index] = true;
            picked.push(Selection {
                index: cand[best.index],
                score: best.score,
            });
            for (cov, d) in covered.iter_mut().zip(&dist[best.index]) {
                *cov = cov.min(*d);
            }
        }
        Ok(picked)
    }
}
