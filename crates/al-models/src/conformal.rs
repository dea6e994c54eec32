//! Prediction intervals with a stated coverage, for any model: CV+
//! (Barber, Candès, Ramdas & Tibshirani 2021) and its normalised variant,
//! and jackknife+-after-bootstrap for bagged models.
//!
//! The labeled rows are split into K folds; one model is fitted without
//! each fold and scores the fold's rows by their residuals. For a new row
//! `x`, every labeled row `i` gives the two values `μ₋ₖ₍ᵢ₎(x) ∓ Rᵢ`, where
//! `μ₋ₖ₍ᵢ₎` is the model fitted without `i`'s fold; the interval runs from
//! the ⌊α(n+1)⌋-th smallest of the lower values to the ⌈(1−α)(n+1)⌉-th
//! smallest of the upper ones (α = 1 − coverage). Every label serves both
//! for fitting and for calibration, which matters at 20–500 labels where a
//! split-conformal calibration set would cost a fifth of them. The
//! guarantee is 1 − 2α for any model and close to 1 − α in practice,
//! marginally over rows exchangeable with the labeled ones (see
//! docs/decide.md for what actively picked labels do to that).
//!
//! **Normalised** (Papadopoulos, Gammerman & Vovk 2008; Lei et al. 2018
//! §5.2): where the model has its own spread σ (a forest's trees, a GP's
//! posterior), the scores are `Rᵢ = |yᵢ − μ₋ₖ(xᵢ)| / (σ₋ₖ(xᵢ) + β)` and the
//! values `μ₋ₖ(x) ∓ (σ₋ₖ(x) + β)·Rᵢ`, so rows the model finds hard get wider
//! intervals; β, the median σ over the calibration rows, keeps rows with a
//! near-zero spread from getting a near-zero interval.
//!
//! The quantiles are MAPIE's for the same residuals (checked against
//! MAPIE 1.6.0 in the tests, `bench/conformal_reference.py`).
//!
//! **Jackknife+-after-bootstrap** (Kim, Xu & Barber 2020,
//! [`JackknifeAfterBootstrap`]): for a model whose members were fitted on
//! bootstrap samples (the forest), the members that left a labeled row out
//! play the fold model's part, so the intervals need no model fitted
//! again; the scores, normalisation and order statistics are CV+'s.

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::{check_training, derive_seed, Fit, Matrix, ModelError, Predict};

/// Folds of CV+ unless there are fewer labeled rows (MAPIE's and
/// scikit-learn's default K).
pub const FOLDS: usize = 5;

/// How the residuals are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// `|y − μ|`: the same width everywhere (plain CV+).
    Absolute,
    /// `|y − μ| / (σ + β)` where the model has a spread; plain otherwise.
    Normalized,
}

/// A prediction interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

/// The fewest labeled rows for which CV+ gives a finite interval at
/// `coverage`: ⌊(1 − coverage)(n + 1)⌋ must reach 1.
pub fn min_labels(coverage: f64) -> usize {
    // ⌊α(n+1) + ε⌋ >= 1  ⇔  n >= (1 − ε)/α − 1; the ceiling can land one
    // off in floating point, so step to the exact boundary.
    let alpha = 1.0 - coverage;
    let guess = ((1.0 - 1e-9) / alpha - 1.0).ceil().clamp(1.0, 1e15) as usize;
    if guess > 1_000_000_000 {
        // Past a billion labels the count is a message, not a threshold
        // any project meets; rounding in α(n+1) cannot change that.
        return guess;
    }
    let mut n = guess.saturating_sub(1).max(1);
    while lower_rank(coverage, n) < 1 {
        n += 1;
    }
    n
}

/// A coverage as people write it: 0.9 → "90", 0.975 → "97.5".
pub fn percent(coverage: f64) -> String {
    format!("{}", (coverage * 100.0 * 1e6).round() / 1e6)
}

/// ⌊α(n+1)⌋: which order statistic the lower bound is, counted from 1; the
/// upper bound is the same count from the top. The small allowance keeps
/// a product that is a whole number in exact arithmetic (α = 0.1, n = 19)
/// from landing just under it in floating point.
fn lower_rank(coverage: f64, n: usize) -> usize {
    ((1.0 - coverage) * (n as f64 + 1.0) + 1e-9).floor() as usize
}

/// Fold of each of `n` rows: a seeded shuffle dealt into `k` folds whose
/// sizes differ by at most one.
pub fn shuffled_folds(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x0C0F_01D5));
    let mut folds = vec![0; n];
    for (position, &row) in order.iter().enumerate() {
        folds[row] = position % k;
    }
    folds
}

/// Fold of each of `n` rows in order, as scikit-learn's `KFold` without
/// shuffling deals them (the first `n % k` folds one row larger).
pub fn contiguous_folds(n: usize, k: usize) -> Vec<usize> {
    let mut folds = Vec::with_capacity(n);
    for fold in 0..k {
        let size = n / k + usize::from(fold < n % k);
        folds.extend(std::iter::repeat_n(fold, size));
    }
    folds
}

/// One model fitted without a fold, with the fold's scores, sorted.
struct FoldModel {
    model: Box<dyn Predict>,
    scores: Vec<f64>,
}

/// CV+ fitted on the labeled rows: K fold models and their scores.
pub struct CvPlus {
    folds: Vec<FoldModel>,
    /// Whether the scores are normalised by the models' spread, and by
    /// what offset β.
    beta: Option<f64>,
    rows: usize,
}

impl std::fmt::Debug for CvPlus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CvPlus")
            .field("folds", &self.folds.len())
            .field("beta", &self.beta)
            .field("rows", &self.rows)
            .finish()
    }
}

impl CvPlus {
    /// Fits `learner` once per fold (`folds[i]` is row `i`'s fold, from 0);
    /// each fold model's seed is derived from `seed`, so the intervals do
    /// not depend on the thread count.
    pub fn fit(
        learner: &dyn Fit,
        x: &Matrix,
        y: &[f64],
        folds: &[usize],
        seed: u64,
        scale: Scale,
    ) -> Result<CvPlus, ModelError> {
        check_training(x, y)?;
        let k = folds.iter().max().map_or(0, |m| m + 1);
        let fitted: Vec<(Box<dyn Predict>, Vec<usize>)> = (0..k)
            .into_par_iter()
            .map(|fold| {
                crate::interrupt::check()?;
                let train: Vec<usize> = (0..y.len()).filter(|&i| folds[i] != fold).collect();
                let held: Vec<usize> = (0..y.len()).filter(|&i| folds[i] == fold).collect();
                let ty: Vec<f64> = train.iter().map(|&i| y[i]).collect();
                let model = crate::call_context::within("interval fold", fold, k, || {
                    learner.fit(&x.select(&train), &ty, derive_seed(seed, fold as u64))
                })?;
                Ok((model, held))
            })
            .collect::<Result<_, ModelError>>()?;
        // Each fold's residuals and spreads on its held-out rows.
        let mut residuals = Vec::with_capacity(k);
        let mut spreads = Vec::with_capacity(k);
        for (model, held) in &fitted {
            let rows = x.select(held);
            let predicted = model.predict(&rows)?;
            residuals.push(
                held.iter()
                    .zip(&predicted)
                    .map(|(&i, p)| (y[i] - p).abs())
                    .collect::<Vec<f64>>(),
            );
            spreads.push(match scale {
                Scale::Absolute => None,
                Scale::Normalized => model.predict_std(&rows)?,
            });
        }
        let beta = if spreads.iter().all(Option::is_some) && !spreads.is_empty() {
            let mut all: Vec<f64> = spreads.iter().flatten().flatten().copied().collect();
            all.sort_by(f64::total_cmp);
            let median = all[all.len() / 2];
            // A model that is sure of every calibration row (all spreads 0)
            // gives nothing to scale by.
            (median > 0.0).then_some(median)
        } else {
            None
        };
        let folds = fitted
            .into_iter()
            .zip(residuals)
            .zip(spreads)
            .map(|(((model, _), residual), spread)| {
                let mut scores: Vec<f64> = match (beta, spread) {
                    (Some(beta), Some(spread)) => residual
                        .iter()
                        .zip(&spread)
                        .map(|(r, s)| r / (s + beta))
                        .collect(),
                    _ => residual,
                };
                scores.sort_by(f64::total_cmp);
                FoldModel { model, scores }
            })
            .collect();
        Ok(CvPlus {
            folds,
            beta,
            rows: y.len(),
        })
    }

    /// Whether the intervals are scaled by the model's spread.
    pub fn normalized(&self) -> bool {
        self.beta.is_some()
    }

    /// The method's name, as projects and reports show it.
    pub fn method(&self) -> String {
        let kind = if self.normalized() {
            "normalized CV+"
        } else {
            "CV+"
        };
        format!("{kind}, {} folds", self.folds.len())
    }

    /// Labeled rows the intervals are calibrated on.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The interval of each row of `x` at `coverage` (in (0, 1)). Too few
    /// labeled rows for the level is an error naming how many are needed.
    pub fn intervals(&self, x: &Matrix, coverage: f64) -> Result<Vec<Interval>, ModelError> {
        // A level below 1/(n+1) asks for an order statistic past the last:
        // the narrowest interval CV+ has is the innermost values.
        let rank = lower_rank(coverage, self.rows).min(self.rows);
        if rank == 0 {
            return Err(ModelError::TooFewForCoverage {
                coverage,
                rows: self.rows,
                need: min_labels(coverage),
            });
        }
        // Per fold, the centre and scale of its values at every row.
        let mut centres = Vec::with_capacity(self.folds.len());
        let mut scales = Vec::with_capacity(self.folds.len());
        for fold in &self.folds {
            centres.push(fold.model.predict(x)?);
            scales.push(match self.beta {
                Some(beta) => {
                    let std = fold
                        .model
                        .predict_std(x)?
                        .unwrap_or_else(|| vec![0.0; x.rows()]);
                    std.iter().map(|s| s + beta).collect()
                }
                None => vec![1.0; x.rows()],
            });
        }
        Ok((0..x.rows())
            .into_par_iter()
            .map(|row| {
                let lanes: Vec<Lane> = self
                    .folds
                    .iter()
                    .enumerate()
                    .map(|(f, fold)| Lane {
                        centre: centres[f][row],
                        scale: scales[f][row],
                        scores: &fold.scores,
                    })
                    .collect();
                Interval {
                    lower: -kth_largest(&lanes, rank, -1.0),
                    upper: kth_largest(&lanes, rank, 1.0),
                }
            })
            .collect())
    }
}

/// Jackknife+-after-bootstrap (Kim, Xu & Barber 2020) for a model made of
/// bootstrapped members (a forest): every labeled row is scored by the
/// members whose sample left it out, so the intervals come from the model
/// already fitted, with no fold models to fit. For a new row `x`, labeled
/// row `i` gives `μ₋ᵢ(x) ∓ (σ₋ᵢ(x) + β)·Rᵢ`, where `μ₋ᵢ` and `σ₋ᵢ` are the
/// mean and standard deviation of the members that left `i` out, `Rᵢ =
/// |yᵢ − μ₋ᵢ(xᵢ)| / (σ₋ᵢ(xᵢ) + β)` and β the median of `σ₋ᵢ(xᵢ)` (the
/// normalised scores of [`CvPlus`]; plain residuals when every spread is
/// 0); the bounds are the same order statistics as CV+'s.
#[derive(Debug)]
pub struct JackknifeAfterBootstrap {
    /// Per labeled row, the members that left it out.
    left_out: Vec<Vec<u32>>,
    members: usize,
    scores: Vec<f64>,
    beta: Option<f64>,
}

/// Mean and population standard deviation of `members[m][row]` over the
/// members `m` in `which`.
fn mean_std_of(members: &[Vec<f64>], which: &[u32], row: usize) -> (f64, f64) {
    let values: Vec<f64> = which.iter().map(|&m| members[m as usize][row]).collect();
    let crate::metrics::MeanStd { mean, std } = crate::metrics::mean_std(&values);
    (mean, std)
}

impl JackknifeAfterBootstrap {
    /// Calibrates on the rows `model` was fitted on. `None` when the model
    /// has no bootstrapped members, or when some labeled row is in every
    /// member's sample (it has no out-of-bag prediction: a forest of very
    /// few trees); CV+ serves then.
    pub fn fit(
        model: &dyn Predict,
        x: &Matrix,
        y: &[f64],
    ) -> Result<Option<JackknifeAfterBootstrap>, ModelError> {
        check_training(x, y)?;
        let Some(out_of_bag) = model.out_of_bag() else {
            return Ok(None);
        };
        if out_of_bag.iter().any(|m| m.len() != y.len()) {
            return Ok(None);
        }
        let left_out: Vec<Vec<u32>> = (0..y.len())
            .map(|i| {
                (0..out_of_bag.len() as u32)
                    .filter(|&m| out_of_bag[m as usize][i])
                    .collect()
            })
            .collect();
        if left_out.iter().any(Vec::is_empty) {
            return Ok(None);
        }
        let Some(members) = model.predict_members(x)? else {
            return Ok(None);
        };
        let fits: Vec<(f64, f64)> = (0..y.len())
            .map(|i| mean_std_of(&members, &left_out[i], i))
            .collect();
        let mut spreads: Vec<f64> = fits.iter().map(|f| f.1).collect();
        spreads.sort_by(f64::total_cmp);
        let median = spreads[spreads.len() / 2];
        let beta = (median > 0.0).then_some(median);
        let scores = y
            .iter()
            .zip(&fits)
            .map(|(yi, (mean, std))| {
                let residual = (yi - mean).abs();
                match beta {
                    Some(beta) => residual / (std + beta),
                    None => residual,
                }
            })
            .collect();
        Ok(Some(JackknifeAfterBootstrap {
            members: out_of_bag.len(),
            left_out,
            scores,
            beta,
        }))
    }

    /// The method's name, as projects and reports show it.
    pub fn method(&self) -> String {
        let kind = if self.beta.is_some() {
            "normalized jackknife+-after-bootstrap"
        } else {
            "jackknife+-after-bootstrap"
        };
        format!("{kind}, {} members", self.members)
    }

    /// Labeled rows the intervals are calibrated on.
    pub fn rows(&self) -> usize {
        self.left_out.len()
    }

    /// The interval of each row of `x` at `coverage` (in (0, 1)), from the
    /// model calibrated by [`JackknifeAfterBootstrap::fit`]. Too few labeled
    /// rows for the level is an error naming how many are needed.
    ///
    /// Every new row needs each labeled row's out-of-bag mean and spread: a
    /// block of rows at a time, they are two matrix products (the 0/1
    /// matrix of which members left which labeled row out, times the
    /// members' predictions and their squares), so a pool of a million rows
    /// is not a million loops over every labeled row's members.
    pub fn intervals(
        &self,
        model: &dyn Predict,
        x: &Matrix,
        coverage: f64,
    ) -> Result<Vec<Interval>, ModelError> {
        let n = self.rows();
        // Up to 256 rows a block, fewer with many labeled rows: each block
        // holds two labeled × block matrices (at most 16 MB).
        let block = (1 << 20) / n.max(1);
        let block = block.clamp(1, 256);
        let rank = lower_rank(coverage, n).min(n);
        if rank == 0 {
            return Err(ModelError::TooFewForCoverage {
                coverage,
                rows: n,
                need: min_labels(coverage),
            });
        }
        let mut left_out = Array2::<f64>::zeros((n, self.members));
        for (i, which) in self.left_out.iter().enumerate() {
            for &m in which {
                left_out[[i, m as usize]] = 1.0;
            }
        }
        let blocks: Vec<Vec<Interval>> = (0..x.rows().div_ceil(block))
            .into_par_iter()
            .map(|b| {
                let rows: Vec<usize> = (b * block..((b + 1) * block).min(x.rows())).collect();
                self.block_intervals(model, &x.select(&rows), &left_out, rank)
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(blocks.into_iter().flatten().collect())
    }

    /// [`JackknifeAfterBootstrap::intervals`] for one block of rows.
    fn block_intervals(
        &self,
        model: &dyn Predict,
        x: &Matrix,
        left_out: &Array2<f64>,
        rank: usize,
    ) -> Result<Vec<Interval>, ModelError> {
        let n = self.rows();
        let members = model
            .predict_members(x)?
            .expect("a model calibrated by its members still has them");
        let predictions = Array2::from_shape_vec((self.members, x.rows()), members.concat())
            .expect("one prediction per member and row");
        let sums = left_out.dot(&predictions);
        let squares = left_out.dot(&predictions.mapv(|p| p * p));
        let mut lower = vec![0.0; n];
        let mut upper = vec![0.0; n];
        Ok((0..x.rows())
            .map(|row| {
                for i in 0..n {
                    let count = self.left_out[i].len() as f64;
                    let mean = sums[[i, row]] / count;
                    let half = match self.beta {
                        Some(beta) => {
                            let var = (squares[[i, row]] / count - mean * mean).max(0.0);
                            (var.sqrt() + beta) * self.scores[i]
                        }
                        None => self.scores[i],
                    };
                    lower[i] = mean - half;
                    upper[i] = mean + half;
                }
                // The rank-th smallest lower value and rank-th largest
                // upper one.
                let (_, low, _) = lower.select_nth_unstable_by(rank - 1, f64::total_cmp);
                let low = *low;
                let (_, high, _) = upper.select_nth_unstable_by(n - rank, f64::total_cmp);
                Interval {
                    lower: low,
                    upper: *high,
                }
            })
            .collect())
    }
}

/// One fold's values at a row: `centre + sign · scale · score` for each of
/// its scores.
struct Lane<'a> {
    centre: f64,
    scale: f64,
    scores: &'a [f64],
}

/// The `k`-th largest (from 1) of `sign · (centre + sign · scale · score)`
/// over every lane's scores: for `sign = 1` the upper values, for `-1` the
/// negated lower ones. Each lane's values fall as its scores do, so a
/// K-way merge from the largest score down takes `k` steps; `k` is
/// ⌊α(n+1)⌋, a tenth of the labels at 90 %, not all of them.
fn kth_largest(lanes: &[Lane], k: usize, sign: f64) -> f64 {
    let value = |lane: &Lane, taken: usize| {
        let score = lane.scores[lane.scores.len() - 1 - taken];
        sign * lane.centre + lane.scale * score
    };
    let mut taken = vec![0usize; lanes.len()];
    let mut last = f64::NEG_INFINITY;
    for _ in 0..k {
        let mut best: Option<(usize, f64)> = None;
        for (l, lane) in lanes.iter().enumerate() {
            if taken[l] < lane.scores.len() {
                let v = value(lane, taken[l]);
                if best.is_none_or(|(_, b)| v > b) {
                    best = Some((l, v));
                }
            }
        }
        let (l, v) = best.expect("k is at most the number of scores");
        taken[l] += 1;
        last = v;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear::LinearParams;

    /// The twelve points of bench/conformal_reference.py.
    fn reference_data() -> (Matrix, Vec<f64>) {
        let noise = [
            0.3, -1.1, 0.8, 2.0, -0.4, -1.7, 0.9, 0.1, -0.6, 1.4, -2.2, 0.5,
        ];
        let x: Vec<Vec<f64>> = (0..12).map(|i| vec![i as f64]).collect();
        let y = (0..12).map(|i| 2.0 * i as f64 + 1.0 + noise[i]).collect();
        (Matrix::from_rows(&x), y)
    }

    #[test]
    fn cv_plus_bounds_equal_mapie_1_6_0_on_the_same_folds() {
        // Figures printed by bench/conformal_reference.py with MAPIE 1.6.0
        // (CrossConformalRegressor, method="plus", KFold(5), OLS).
        let expected = [
            (
                0.8,
                [
                    (-2.773232323232326, 1.5400000000000005),
                    (10.048138957816379, 13.948863636363638),
                    (26.44833333333333, 30.775000000000002),
                ],
            ),
            (
                0.9,
                [
                    (-3.553333333333326, 1.6633333333333362),
                    (9.65545454545455, 14.748787878787876),
                    (26.339454094292805, 32.021818181818176),
                ],
            ),
        ];
        let (x, y) = reference_data();
        let folds = contiguous_folds(12, 5);
        assert_eq!(folds, [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4]);
        let cv = CvPlus::fit(&LinearParams::ols(), &x, &y, &folds, 0, Scale::Absolute).unwrap();
        assert_eq!(cv.method(), "CV+, 5 folds");
        let probe = Matrix::from_rows(&[vec![-1.0], vec![5.5], vec![14.0]]);
        for (coverage, bounds) in expected {
            let got = cv.intervals(&probe, coverage).unwrap();
            for (g, (lo, hi)) in got.iter().zip(bounds) {
                assert!(
                    (g.lower - lo).abs() < 1e-9,
                    "{coverage}: {} vs {lo}",
                    g.lower
                );
                assert!(
                    (g.upper - hi).abs() < 1e-9,
                    "{coverage}: {} vs {hi}",
                    g.upper
                );
            }
        }
    }

    #[test]
    fn the_fewest_labels_follow_from_the_level() {
        assert_eq!(min_labels(0.9), 9);
        assert_eq!(min_labels(0.95), 19);
        assert_eq!(min_labels(0.8), 4);
        assert_eq!(min_labels(0.5), 1);
        // α(n+1) whole in exact arithmetic: 0.1 × 20 = 2.
        assert_eq!(lower_rank(0.9, 19), 2);
        // The closed form is the first n that works, for any level.
        for k in 1..400 {
            let coverage = k as f64 / 401.0;
            let n = min_labels(coverage);
            assert!(lower_rank(coverage, n) >= 1, "{coverage}");
            assert!(n == 1 || lower_rank(coverage, n - 1) == 0, "{coverage}");
        }
        // A level a hair below 1 answers at once.
        assert!(min_labels(1.0 - 1e-15) > 1_000_000_000);
    }

    #[test]
    fn too_few_labels_for_the_level_is_an_error_naming_the_count() {
        let (x, y) = reference_data();
        let folds = contiguous_folds(12, 5);
        let cv = CvPlus::fit(&LinearParams::ols(), &x, &y, &folds, 0, Scale::Absolute).unwrap();
        let err = cv.intervals(&x, 0.95).unwrap_err().to_string();
        assert_eq!(
            err,
            "95 % intervals need at least 19 labeled rows; there are 12: label 7 more, or ask for a lower coverage"
        );
    }

    #[test]
    fn the_k_way_merge_equals_sorting_every_value() {
        let (x, y) = reference_data();
        let folds = shuffled_folds(12, 3, 7);
        let cv = CvPlus::fit(&LinearParams::ols(), &x, &y, &folds, 0, Scale::Absolute).unwrap();
        let probe = Matrix::from_rows(&[vec![3.3]]);
        let got = cv.intervals(&probe, 0.75).unwrap()[0];
        let mut lows = Vec::new();
        let mut highs = Vec::new();
        for fold in &cv.folds {
            let mu = fold.model.predict(&probe).unwrap()[0];
            for r in &fold.scores {
                lows.push(mu - r);
                highs.push(mu + r);
            }
        }
        lows.sort_by(f64::total_cmp);
        highs.sort_by(f64::total_cmp);
        let rank = lower_rank(0.75, 12); // ⌊0.25 × 13⌋ = 3
        assert_eq!(rank, 3);
        assert_eq!(got.lower, lows[rank - 1]);
        assert_eq!(got.upper, highs[12 - rank]);
    }

    #[test]
    fn a_level_below_one_over_n_gives_the_innermost_values_not_a_panic() {
        let (x, y) = reference_data();
        let folds = contiguous_folds(12, 5);
        let cv = CvPlus::fit(&LinearParams::ols(), &x, &y, &folds, 0, Scale::Absolute).unwrap();
        let tiny = cv.intervals(&x, 1e-9).unwrap();
        let small = cv.intervals(&x, 0.01).unwrap();
        assert_eq!(tiny, small);
    }

    #[test]
    fn shuffled_folds_are_balanced_and_seeded() {
        let a = shuffled_folds(23, 5, 1);
        let counts: Vec<usize> = (0..5)
            .map(|f| a.iter().filter(|&&x| x == f).count())
            .collect();
        assert_eq!(counts, [5, 5, 5, 4, 4]);
        assert_eq!(a, shuffled_folds(23, 5, 1));
        assert_ne!(a, shuffled_folds(23, 5, 2));
    }

    #[test]
    fn normalized_intervals_widen_where_the_forest_disagrees() {
        // Noise grows with x: a normalised interval should be wider at the
        // noisy end than at the quiet end; the plain one is the same width.
        let n = 200;
        let rows: Vec<Vec<f64>> = (0..n).map(|i| vec![i as f64 / n as f64]).collect();
        let y: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let wiggle = ((i * 7919 % 101) as f64 / 50.0) - 1.0;
                r[0] + wiggle * 2.0 * r[0] * r[0]
            })
            .collect();
        let x = Matrix::from_rows(&rows);
        let forest = crate::forest::ForestParams::default().trees(50);
        let folds = shuffled_folds(n, FOLDS, 3);
        let normal = CvPlus::fit(&forest, &x, &y, &folds, 3, Scale::Normalized).unwrap();
        assert!(normal.normalized());
        assert_eq!(normal.method(), "normalized CV+, 5 folds");
        let probe = Matrix::from_rows(&[vec![0.1], vec![0.95]]);
        let w = normal.intervals(&probe, 0.9).unwrap();
        let (quiet, noisy) = (w[0].upper - w[0].lower, w[1].upper - w[1].lower);
        assert!(noisy > 3.0 * quiet, "quiet {quiet}, noisy {noisy}");
        let plain = CvPlus::fit(&forest, &x, &y, &folds, 3, Scale::Absolute).unwrap();
        assert!(!plain.normalized());
        let w = plain.intervals(&probe, 0.9).unwrap();
        let (quiet, noisy) = (w[0].upper - w[0].lower, w[1].upper - w[1].lower);
        assert!((noisy / quiet) < 1.5, "quiet {quiet}, noisy {noisy}");
    }

    #[test]
    fn a_model_without_spread_falls_back_to_plain_cv_plus() {
        let (x, y) = reference_data();
        let folds = contiguous_folds(12, 5);
        let cv = CvPlus::fit(&LinearParams::ols(), &x, &y, &folds, 0, Scale::Normalized).unwrap();
        assert!(!cv.normalized());
    }

    /// Three members; member `m` left out the training rows `i` with
    /// `i % 3 == m`. At training rows every member predicts `i` (so each
    /// out-of-bag spread is 0 and the scores are plain residuals); at new
    /// rows member `m` predicts `centres[m]`.
    struct Bagged {
        centres: [f64; 3],
    }

    impl Predict for Bagged {
        fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
            Ok(vec![self.centres.iter().sum::<f64>() / 3.0; x.rows()])
        }

        fn predict_members(&self, x: &Matrix) -> Result<Option<Vec<Vec<f64>>>, ModelError> {
            Ok(Some(
                (0..3)
                    .map(|m| {
                        (0..x.rows())
                            .map(|r| match x.get(r, 0) {
                                v if v < 100.0 => v,
                                _ => self.centres[m],
                            })
                            .collect()
                    })
                    .collect(),
            ))
        }

        fn out_of_bag(&self) -> Option<Vec<Vec<bool>>> {
            Some(
                (0..3)
                    .map(|m| (0..9).map(|i| i % 3 == m).collect())
                    .collect(),
            )
        }
    }

    #[test]
    fn jackknife_after_bootstrap_takes_the_order_statistics_of_the_out_of_bag_values() {
        // Worked by hand: residuals R = |d|; at the new row, row i's values
        // are centres[i % 3] ∓ R_i. Lower values sorted: 7.5, 9.5, 9.9, ...;
        // upper values sorted: ..., 13.2, 14.5, 15. At 80 % with 9 rows the
        // rank is ⌊0.2 · 10⌋ = 2: the 2nd smallest lower value and the 2nd
        // largest upper one.
        let d = [0.5, -1.0, 2.0, 0.1, -0.3, 1.5, -2.5, 0.7, 0.2];
        let x = Matrix::from_rows(&(0..9).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let y: Vec<f64> = (0..9).map(|i| i as f64 + d[i]).collect();
        let model = Bagged {
            centres: [10.0, 11.0, 13.0],
        };
        let jab = JackknifeAfterBootstrap::fit(&model, &x, &y)
            .unwrap()
            .unwrap();
        assert_eq!(jab.method(), "jackknife+-after-bootstrap, 3 members");
        let new_row = Matrix::from_rows(&[vec![500.0]]);
        let got = jab.intervals(&model, &new_row, 0.8).unwrap();
        assert_eq!(
            got,
            vec![Interval {
                lower: 9.5,
                upper: 14.5
            }]
        );
        // 9 rows give no 90 % interval (⌊0.1 · 10⌋ = 1 needs ... it does:
        // rank 1, the extremes); 95 % needs 19.
        let extremes = jab.intervals(&model, &new_row, 0.9).unwrap();
        assert_eq!((extremes[0].lower, extremes[0].upper), (7.5, 15.0));
        let err = jab.intervals(&model, &new_row, 0.95).unwrap_err();
        assert!(
            matches!(err, ModelError::TooFewForCoverage { need: 19, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_forest_calibrates_on_its_own_out_of_bag_trees_and_covers_fresh_rows() {
        // y = 3·x0 + noise growing with x0 (x1 carries nothing); 300
        // labeled rows and 2 000 fresh ones, all drawn alike.
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut draw = |n: usize| {
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| vec![rng.gen::<f64>(), rng.gen::<f64>()])
                .collect();
            let y: Vec<f64> = rows
                .iter()
                .map(|r| 3.0 * r[0] + (rng.gen::<f64>() * 2.0 - 1.0) * (0.2 + r[0]))
                .collect();
            (rows, y)
        };
        let (train, y) = draw(300);
        let (fresh, truth) = draw(2000);
        let x = Matrix::from_rows(&train);
        let forest = crate::forest::ForestParams::default()
            .fit_forest(&x, &y, 11)
            .unwrap();
        let jab = JackknifeAfterBootstrap::fit(&forest, &x, &y)
            .unwrap()
            .unwrap();
        assert_eq!(
            jab.method(),
            "normalized jackknife+-after-bootstrap, 100 members"
        );
        let got = jab
            .intervals(&forest, &Matrix::from_rows(&fresh), 0.9)
            .unwrap();
        let covered = got
            .iter()
            .zip(&truth)
            .filter(|(b, t)| b.lower <= **t && **t <= b.upper)
            .count() as f64
            / truth.len() as f64;
        // 90.8 % for this seed (CV+ on the same rows: 92.8 %).
        assert!((0.88..=0.93).contains(&covered), "covered {covered}");
        // A forest read back from its bytes has no record of its draws.
        let bytes = rmp_serde::to_vec(&forest).unwrap();
        let back: crate::forest::Forest = rmp_serde::from_slice(&bytes).unwrap();
        assert!(JackknifeAfterBootstrap::fit(&back, &x, &y)
            .unwrap()
            .is_none());
        // Nor does a forest without bootstrap, or a model without members.
        let whole = crate::forest::ForestParams {
            bootstrap: false,
            ..Default::default()
        };
        let whole = whole.fit_forest(&x, &y, 11).unwrap();
        assert!(JackknifeAfterBootstrap::fit(&whole, &x, &y)
            .unwrap()
            .is_none());
        let linear = LinearParams::ols().fit_linear(&x, &y).unwrap();
        assert!(JackknifeAfterBootstrap::fit(&linear, &x, &y)
            .unwrap()
            .is_none());
    }
}
