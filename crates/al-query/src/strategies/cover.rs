//! `cover`: representative batches by greedy facility location, weighted by
//! the model's uncertainty.

use al_models::forest::ForestParams;
use al_models::params::{at_least, param, Kind};
use al_models::{derive_seed, Matrix};
use rayon::prelude::*;

use super::{predictive_variance, sample_sorted};
use crate::distance::squared;
use crate::leaf_space::{leaf_ids, proximity_distances};
use crate::registry::StrategyInfo;
use crate::{top_k, QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "cover",
    description:
        "representative batch: greedy k-median cover of the pool in a forest's proximity, weighted by --model's spread",
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
            "forest",
            Kind::Choice(&["features", "importance", "forest"]),
            "distance: random-forest proximity (rows the target does not tell apart are close, whatever columns they differ in; with fewer than 2 labels, features); Euclidean on the features; or on the features weighted by a forest's importance of each",
        ),
        param(
            "sample",
            "2000",
            at_least(1),
            "candidates and covered pool rows, each a seeded sample of at most this many",
        ),
        param(
            "power",
            "0.5",
            Kind::NonNegative,
            "with weight=variance, rows count by the variance to this power (0.5: the standard deviation)",
        ),
        param(
            "leaf",
            "5",
            at_least(1),
            "with metric=importance, the smallest leaf of the forest that measures importance (larger: fewer splits on noise in small samples)",
        ),
        param(
            "hedge",
            "0",
            Kind::Between { min: 0.0, max: 1.0 },
            "share of each batch drawn at random from the pool (the rest covers around them): bounds the loss where coverage does not pay",
        ),
    ],
    build: |p| {
        let weight = match p.text("weight") {
            "uniform" => CoverWeight::Uniform,
            _ => CoverWeight::Variance,
        };
        let metric = match p.text("metric") {
            "forest" => CoverMetric::Forest,
            "importance" => CoverMetric::Importance,
            _ => CoverMetric::Features,
        };
        Ok(Box::new(Cover {
            weight,
            metric,
            sample: p.count("sample"),
            power: p.real("power"),
            importance_leaf: p.count("leaf"),
            hedge: p.real("hedge"),
        }))
    },
    model_use: crate::registry::ModelUse::Spread,
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
    /// Smallest leaf of the forest behind [`CoverMetric::Importance`].
    pub importance_leaf: usize,
    /// Share of the batch picked uniformly at random, before the greedy
    /// cover picks the rest around them.
    pub hedge: f64,
}

/// The distance `cover` measures coverage in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverMetric {
    /// Euclidean on the (standardised) features.
    Features,
    /// Euclidean on the features, each weighted by its impurity importance
    /// in a forest fitted on the labeled rows: a column no split uses
    /// (noise, a one-hot level the target ignores) adds no distance, so
    /// covering the pool follows what predicts the target, not how many
    /// columns there are. Without labels (or with a target no split can
    /// reduce) every column counts alike.
    Importance,
    /// Random-forest proximity: 1 - the share of trees in which two rows
    /// fall into the same leaf. Supervised: rows the target does not tell
    /// apart are close, whatever their raw features.
    Forest,
}

/// Each column's factor for [`CoverMetric::Importance`]: the square root of
/// its importance in a 50-tree forest on the labeled rows, so squared
/// distances weigh each column by its importance. All ones without labels
/// or when no tree could split.
fn importance_scale(input: &QueryInput, min_leaf: usize) -> Result<Vec<f64>, QueryError> {
    let cols = input.labeled_x.cols();
    if input.labeled_y.len() < 2 {
        return Ok(vec![1.0; cols]);
    }
    let forest = ForestParams::default()
        .trees(50)
        .min_samples_leaf(min_leaf)
        .fit_forest(
            input.labeled_x,
            input.labeled_y,
            derive_seed(input.seed, 24),
        )?;
    let importance = forest.importance();
    if importance.iter().all(|&w| w == 0.0) {
        return Ok(vec![1.0; cols]);
    }
    Ok(importance.iter().map(|w| w.sqrt()).collect())
}

fn scale_columns(x: &Matrix, scale: &[f64]) -> Matrix {
    let data = x
        .iter_rows()
        .flat_map(|row| row.iter().zip(scale).map(|(v, s)| v * s))
        .collect();
    Matrix::new(data, x.cols())
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
        // A forest needs two labeled rows; before that, features.
        let metric = match self.metric {
            CoverMetric::Forest if input.labeled_y.len() < 2 => CoverMetric::Features,
            m => m,
        };
        let scaled;
        let (lx, cand_x, ref_x) = match metric {
            CoverMetric::Importance => {
                let scale = importance_scale(input, self.importance_leaf)?;
                scaled = [lx, &cand_x, &ref_x].map(|m| scale_columns(m, &scale));
                (&scaled[0], &scaled[1], &scaled[2])
            }
            _ => (lx, &cand_x, &ref_x),
        };
        let (mut covered, dist): (Vec<f64>, Vec<Vec<f64>>) = match metric {
            CoverMetric::Features | CoverMetric::Importance => {
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
                let refs = leaf_ids(&forest, ref_x, &(0..ref_x.rows()).collect::<Vec<_>>());
                let cands = leaf_ids(&forest, cand_x, &(0..cand_x.rows()).collect::<Vec<_>>());
                let covered = proximity_distances(&refs, &lab)
                    .into_iter()
                    .map(|d| d.into_iter().fold(f64::INFINITY, f64::min))
                    .collect();
                let dist = proximity_distances(&cands, &refs);
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
        let batch = input.batch.min(cand.len());
        // The hedge: random candidates (the candidates are a uniform sample
        // of the pool) count as covering before the greedy picks the rest.
        let n_random = (self.hedge * batch as f64).round() as usize;
        let hedged = sample_sorted(cand.len(), n_random, derive_seed(input.seed, 25));
        for &k in &hedged {
            taken[k] = true;
            for (cov, d) in covered.iter_mut().zip(&dist[k]) {
                *cov = cov.min(*d);
            }
        }
        let mut picked = Vec::with_capacity(batch);
        for _ in 0..batch - hedged.len() {
            let gains: Vec<f64> = (0..cand.len())
                .into_par_iter()
                .map(|k| {
                    if taken[k] {
                        return f64::NEG_INFINITY;
                    }
                    let gain: f64 = dist[k]
                        .iter()
                        .zip(&covered)
                        .zip(&weights)
                        .map(|((d, cov), w)| w * (cov - d).max(0.0))
                        .sum();
                    // Below every real gain, above the taken rows: a NaN
                    // (weights from a model that failed) tied with them,
                    // and the tie picked a taken row again.
                    if gain.is_nan() {
                        f64::MIN
                    } else {
                        gain
                    }
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
        // Random picks have no utility of their own; they rank last.
        picked.extend(hedged.iter().map(|&k| Selection {
            index: cand[k],
            score: 0.0,
        }));
        Ok(picked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    /// 30 labeled and 300 pool rows; the target rises with column 0. With
    /// `noise`, a second column of seeded pseudo-random values with ten
    /// times column 0's spread.
    fn rows(noise: bool) -> (Vec<Vec<f64>>, Vec<f64>, Vec<Vec<f64>>) {
        let row = |i: usize| {
            let x = ((i * 37) % 101) as f64 / 100.0 + if i.is_multiple_of(3) { 1.5 } else { 0.0 };
            let mut r = vec![x];
            if noise {
                r.push(((i * 7919 + 13) % 211) as f64 / 21.1);
            }
            r
        };
        let labeled: Vec<Vec<f64>> = (0..30).map(row).collect();
        let y = labeled.iter().map(|r| r[0].powi(3) + 2.0 * r[0]).collect();
        let pool = (30..330).map(row).collect();
        (labeled, y, pool)
    }

    fn picks(spec: &str, noise: bool) -> Vec<usize> {
        let (lx, ly, pool) = rows(noise);
        let strategy = crate::parse_strategy(spec).unwrap();
        run(&*strategy, &lx, &ly, &pool, 10, "forest:trees=10")
    }

    #[test]
    fn the_importance_weighted_distance_ignores_a_column_of_pure_noise() {
        let spec = "cover:metric=importance,weight=uniform";
        let without = picks(spec, false);
        assert_eq!(without.len(), 10);
        assert_eq!(picks(spec, true), without);
        // Plain Euclidean coverage spends the batch spreading over the noise.
        let plain = "cover:metric=features,weight=uniform";
        assert_eq!(picks(plain, false), without);
        assert_ne!(picks(plain, true), without);
    }

    #[test]
    fn gains_that_are_not_numbers_never_pick_a_row_twice() {
        // Targets whose squares overflow make the forest's variance, and so
        // every weight and gain, NaN; a NaN gain once tied with the rows
        // already taken, and the tie went to a taken row.
        let (lx, ly, pool) = rows(false);
        let huge: Vec<f64> = ly.iter().map(|y| y * 1e200).collect();
        let strategy = crate::parse_strategy("cover").unwrap();
        let picked = run(&*strategy, &lx, &huge, &pool, 10, "forest:trees=10");
        let mut distinct = picked.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 10, "{picked:?}");
    }

    #[test]
    fn the_hedge_draws_its_share_of_the_batch_at_random_and_ranks_it_last() {
        let (lx, ly, pool) = rows(false);
        let strategy = crate::parse_strategy("cover:weight=uniform,hedge=0.3").unwrap();
        let (lxm, pm) = (Matrix::from_rows(&lx), Matrix::from_rows(&pool));
        let model = al_models::ModelSpec::parse("forest:trees=10").unwrap();
        let input = QueryInput {
            labeled_x: &lxm,
            labeled_y: &ly,
            candidates: &pm,
            model: &model,
            batch: 10,
            seed: 0,
            max_candidates: 500,
            fitted: None,
        };
        let picks = strategy.query(&input).unwrap();
        assert_eq!(picks.len(), 10);
        // The pool is smaller than `sample`: the candidates are all its rows.
        let drawn = sample_sorted(pool.len(), 3, derive_seed(0, 25));
        let last: Vec<usize> = picks[7..].iter().map(|p| p.index).collect();
        assert_eq!(last, drawn);
        assert!(picks[7..].iter().all(|p| p.score == 0.0));
        assert!(picks[..7]
            .iter()
            .all(|p| p.score > 0.0 && !drawn.contains(&p.index)));
        // All of it drawn: the same seeded draw, nothing greedy.
        let all = crate::parse_strategy("cover:weight=uniform,hedge=1").unwrap();
        let picks: Vec<usize> = all.query(&input).unwrap().iter().map(|p| p.index).collect();
        assert_eq!(picks, sample_sorted(pool.len(), 10, derive_seed(0, 25)));
    }

    #[test]
    fn the_importance_scale_is_the_root_of_the_forests_importance_and_ones_without_labels() {
        let (lx, ly, pool) = rows(true);
        let (lx, pool) = (Matrix::from_rows(&lx), Matrix::from_rows(&pool));
        let model = al_models::ModelSpec::parse("forest").unwrap();
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &pool,
            model: &model,
            batch: 5,
            seed: 0,
            max_candidates: 100,
            fitted: None,
        };
        // The target is monotone in column 0: every split is on it.
        assert_eq!(importance_scale(&input, 5).unwrap(), vec![1.0, 0.0]);
        let none = Matrix::with_cols(2);
        let cold = QueryInput {
            labeled_x: &none,
            labeled_y: &[],
            ..input
        };
        assert_eq!(importance_scale(&cold, 5).unwrap(), vec![1.0, 1.0]);
    }
}
