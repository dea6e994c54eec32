//! The model's error on the pool, estimated from labeled rows that were
//! *picked*, not drawn at random.
//!
//! Cross-validation on rows an active learner chose measures the error where
//! the strategy looked (rows far from the rest, or hard), not on the pool the
//! model will be used on. Two corrections are computed from the same
//! out-of-fold residuals and averaged (docs/decide.md says why and how they
//! were chosen):
//!
//! - **importance-weighted cross-validation** (Sugiyama, Krauledat & Müller
//!   2007): each residual is weighted by the density ratio
//!   p_pool(x) / p_labeled(x), estimated by a probability forest that tells
//!   labeled rows from pool rows, out of bag (Bickel, Brückner & Scheffer
//!   2009); weights are clipped at [`PoolErrorParams::clip`] times their mean
//!   and their Kish effective sample size is reported;
//! - **a surrogate of the error** (in the spirit of Kossen et al. 2022): a
//!   forest fitted to the absolute (and squared) residuals, averaged over the
//!   pool.
//!
//! Both assume that the pool is what the model will be used on and that the
//! labels come from the same relation as the pool's targets would (covariate
//! shift only: the picks change which x were labeled, not y given x).
//!
//! When some labeled rows were drawn **at random** from the pool (`query
//! --audit`), they give a check that needs no such assumption: the
//! surrogate's pool mean plus the audit rows' mean gap between their
//! residual and the surrogate's out-of-bag guess for it, unbiased whatever
//! the surrogate's quality (prediction-powered inference, Angelopoulos,
//! Bates, Fannjiang, Jordan & Zrnic 2023), with its own interval. It is
//! reported beside the estimate, not pooled into it: on the tuning data,
//! pooling a 10 % audit made the estimate worse (docs/decide.md), a few
//! dozen random rows being noisier than the corrections.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::forest::ForestParams;
use crate::validation::cross_val_predict;
use crate::{derive_seed, Fit, Matrix, ModelError, Predict};

/// How the estimate is made; checked once by [`PoolErrorParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolErrorParams {
    /// Weights above this multiple of their mean are cut down to it.
    pub clip: f64,
    /// Pool rows the estimate looks at, drawn at random (seeded) when the
    /// pool is larger: the average over a few thousand rows is as good as
    /// over a million, and costs a fixed time.
    pub pool_rows: usize,
    /// Coverage of the interval, as 0.8.
    pub level: f64,
    /// Trees of the two helper forests.
    pub trees: usize,
    /// The weighted estimate's share of the estimate; the surrogate has the
    /// rest.
    pub weighted_share: f64,
    /// The spread, in log units, of the error both corrections share, added
    /// to their sampling error and disagreement in the interval.
    pub shared_error: f64,
}

impl Default for PoolErrorParams {
    fn default() -> Self {
        PoolErrorParams {
            clip: 10.0,
            pool_rows: 2000,
            level: 0.8,
            trees: 20,
            // Both chosen on the tuning data of bench/datasets.md (23
            // tables, 10 cold-start runs each; `bench/pool_error.py --tune`,
            // docs/decide.md): with 0.3 of the weighted estimate the shown
            // MAE was within ±10 % of the true pool MAE on 57 % and 69 % of
            // runs at 100 and 220 labels, as often as with any other share,
            // with a median log ratio of +0.01 at both; 0.11 made the 80 %
            // interval hold on 73, 77 and 85 % of runs at 60, 100 and 220.
            weighted_share: 0.3,
            shared_error: 0.11,
        }
    }
}

impl PoolErrorParams {
    pub fn check(&self) -> Result<(), ModelError> {
        let invalid = |key: &str, value: String, expected: &str| {
            Err(ModelError::Param(crate::params::ParamError::Invalid {
                owner: "pool error estimate".into(),
                key: key.into(),
                value,
                expected: expected.into(),
            }))
        };
        if !(self.clip.is_finite() && self.clip >= 1.0) {
            return invalid("clip", self.clip.to_string(), "a number >= 1");
        }
        if self.pool_rows < 2 {
            return invalid("pool_rows", self.pool_rows.to_string(), "at least 2");
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return invalid("level", self.level.to_string(), "a share in (0, 1)");
        }
        if self.trees == 0 {
            return invalid("trees", "0".into(), "at least 1");
        }
        if !(0.0..=1.0).contains(&self.weighted_share) {
            return invalid(
                "weighted_share",
                self.weighted_share.to_string(),
                "a share in [0, 1]",
            );
        }
        if !(self.shared_error.is_finite() && self.shared_error >= 0.0) {
            return invalid(
                "shared_error",
                self.shared_error.to_string(),
                "a number >= 0",
            );
        }
        Ok(())
    }
}

/// Fewest audit rows the estimate is checked against: fewer say too little
/// (their mean gap's standard error is itself guessed from them).
pub const MIN_AUDIT_ROWS: usize = 10;

/// A value and its interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// The estimated error on the pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolError {
    pub mae: Interval,
    pub rmse: Interval,
    pub mse: f64,
    /// 1 − MSE over the pool's target variance (itself weighted).
    pub r2: f64,
    /// The interval's coverage, as 0.8.
    pub level: f64,
    /// Kish's effective sample size of the clipped weights: how many
    /// randomly drawn labels the weighted residuals are worth.
    pub effective_rows: f64,
    /// Pool rows the estimate averaged over.
    pub pool_rows: usize,
    /// The two corrections, before they are averaged.
    pub weighted_mae: f64,
    /// The weighted MAE's standard error (sampling only).
    pub weighted_mae_std_error: f64,
    pub surrogate_mae: f64,
    pub weighted_rmse: f64,
    pub surrogate_rmse: f64,
    /// Labeled rows drawn at random from the pool (`query --audit`).
    #[serde(default)]
    pub audit_rows: usize,
    /// What those rows alone say (prediction-powered), once there are
    /// [`MIN_AUDIT_ROWS`] of them, with an interval at `level` (normal, its
    /// low end not below 0).
    #[serde(default)]
    pub audit_mae: Option<Interval>,
    #[serde(default)]
    pub audit_rmse: Option<Interval>,
}

/// A weighted mean and its standard error (the ratio estimator's, by the
/// delta method: Σ w²(v − m)² / (Σ w)²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedMean {
    pub mean: f64,
    pub std_error: f64,
}

/// Σ w·v / Σ w with its standard error; NaN for no weight.
pub fn weighted_mean(values: &[f64], weights: &[f64]) -> WeightedMean {
    let total: f64 = weights.iter().sum();
    let mean = values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total;
    let spread: f64 = values
        .iter()
        .zip(weights)
        .map(|(v, w)| w * w * (v - mean) * (v - mean))
        .sum();
    WeightedMean {
        mean,
        std_error: spread.sqrt() / total,
    }
}

/// Kish's effective sample size (Σ w)² / Σ w².
pub fn effective_size(weights: &[f64]) -> f64 {
    let sum: f64 = weights.iter().sum();
    let squares: f64 = weights.iter().map(|w| w * w).sum();
    if squares == 0.0 {
        0.0
    } else {
        sum * sum / squares
    }
}

/// Density ratios p_pool / p_labeled from a classifier's probabilities that
/// each labeled row is labeled: the odds (1 − c) / c, with c kept within
/// [floor, 1 − floor] (a forest says 0 or 1 where no tree saw the other
/// kind), then cut at `clip` times their mean.
pub fn ratio_weights(labeled_probability: &[f64], clip: f64, floor: f64) -> Vec<f64> {
    let odds: Vec<f64> = labeled_probability
        .iter()
        .map(|&c| {
            let c = c.clamp(floor, 1.0 - floor);
            (1.0 - c) / c
        })
        .collect();
    let mean = odds.iter().sum::<f64>() / odds.len().max(1) as f64;
    odds.into_iter().map(|w| w.min(clip * mean)).collect()
}

/// The standard normal quantile of a two-sided `level` (0.8 → 1.2816), by
/// Acklam's rational approximation (relative error below 1.2e-9).
pub fn normal_quantile_two_sided(level: f64) -> f64 {
    normal_quantile(0.5 + level / 2.0)
}

fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// What the estimate is made from.
pub struct PoolErrorInput<'a> {
    /// The labeled rows' features.
    pub labeled: &'a Matrix,
    pub targets: &'a [f64],
    /// Each labeled row's out-of-fold prediction (cross-validation).
    pub out_of_fold: &'a [f64],
    /// The pool's features (all of it; a sample is drawn when larger than
    /// [`PoolErrorParams::pool_rows`]).
    pub pool: &'a Matrix,
    /// Which labeled rows (indexes into `labeled`) were drawn at random
    /// from the pool rather than picked (`query --audit`); empty for none.
    pub audit: &'a [usize],
}

/// The mean over the rows each tree left out of its bootstrap sample of the
/// trees' predictions for the first `x.rows()` training rows (which `x`
/// holds); `fallback` for a row every tree drew (rare with dozens of trees).
fn out_of_bag_mean(
    forest: &crate::forest::Forest,
    x: &Matrix,
    fallback: f64,
) -> Result<Vec<f64>, ModelError> {
    let out_of_bag = forest.out_of_bag().unwrap_or_default();
    let members = forest.predict_members(x)?.unwrap_or_default();
    Ok((0..x.rows())
        .map(|i| {
            let (sum, count) = members
                .iter()
                .zip(&out_of_bag)
                .filter(|(_, left_out)| left_out[i])
                .fold((0.0, 0usize), |(s, c), (m, _)| (s + m[i], c + 1));
            if count == 0 {
                fallback
            } else {
                sum / count as f64
            }
        })
        .collect())
}

/// The audit rows' verdict on a mean error: a surrogate fitted on the
/// picked rows only (so that it knows nothing of the audit rows), its mean
/// over the pool, plus the audit rows' mean gap between their error and the
/// surrogate's guess for it; with that mean's standard error.
pub struct AuditCheck<'a> {
    /// The surrogate's mean over the pool sample.
    pub pool_mean: f64,
    /// The surrogate's guesses for the audit rows.
    pub guesses: &'a [f64],
    /// The audit rows' errors, in the same order.
    pub errors: &'a [f64],
}

impl AuditCheck<'_> {
    pub fn mean(&self) -> WeightedMean {
        let gaps: Vec<f64> = self
            .errors
            .iter()
            .zip(self.guesses)
            .map(|(e, g)| e - g)
            .collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let variance = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / (n - 1.0);
        WeightedMean {
            mean: self.pool_mean + mean,
            std_error: (variance / n).sqrt(),
        }
    }
}

/// The forest that tells labeled rows from pool rows and the surrogates: a
/// few rows per leaf, so that its probabilities are averages, not 0 or 1.
fn helper_forest(trees: usize) -> ForestParams {
    // A third of the features per split: the helpers cost a fraction of the
    // model's own cross-validation (docs/benchmarks.md).
    ForestParams::default()
        .trees(trees)
        .min_samples_leaf(5)
        .max_features(1.0 / 3.0)
}

impl PoolErrorParams {
    /// Estimates the model's error on the pool. Needs at least five labeled
    /// rows and two pool rows; every random choice follows `seed`.
    pub fn estimate(&self, input: &PoolErrorInput, seed: u64) -> Result<PoolError, ModelError> {
        self.check()?;
        let n = input.labeled.rows();
        if n < 5 || input.targets.len() != n || input.out_of_fold.len() != n {
            return Err(ModelError::TooFewRows(n));
        }
        if input.pool.rows() < 2 {
            return Err(ModelError::Plugin(
                "the pool error needs at least 2 unlabeled rows".into(),
            ));
        }
        let pool = self.pool_sample(input.pool, seed);
        let abs: Vec<f64> = (0..n)
            .map(|i| (input.targets[i] - input.out_of_fold[i]).abs())
            .collect();
        let squared: Vec<f64> = abs.iter().map(|a| a * a).collect();

        let probability = self.labeled_probability(input.labeled, &pool, seed)?;
        let weights = ratio_weights(&probability, self.clip, 0.01);
        let weighted_abs = weighted_mean(&abs, &weights);
        let weighted_sq = weighted_mean(&squared, &weights);

        let surrogate_mae = self.surrogate(input.labeled, &abs, &pool, derive_seed(seed, 2))?;
        let surrogate_mse = self.surrogate(input.labeled, &squared, &pool, derive_seed(seed, 3))?;

        let mae = self.combine(weighted_abs, surrogate_mae, 1.0);
        // The RMSE's relative errors are half the MSE's.
        let rmse = self.combine(weighted_sq, surrogate_mse, 0.5);
        let (mut audit_mae, mut audit_rmse) = (None, None);
        if input.audit.len() >= MIN_AUDIT_ROWS && n - input.audit.len() >= 5 {
            let abs_check = self.audit_check(input, &abs, &pool, derive_seed(seed, 4))?;
            let sq_check = self.audit_check(input, &squared, &pool, derive_seed(seed, 5))?;
            audit_mae = Some(self.audit_interval(abs_check, 1.0));
            audit_rmse = Some(self.audit_interval(sq_check, 0.5));
        }
        let mse = rmse.estimate * rmse.estimate;
        let target_mean = weighted_mean(input.targets, &weights).mean;
        let deviations: Vec<f64> = input
            .targets
            .iter()
            .map(|t| (t - target_mean) * (t - target_mean))
            .collect();
        let variance = weighted_mean(&deviations, &weights).mean;
        let r2 = if variance > 0.0 {
            1.0 - mse / variance
        } else {
            0.0
        };
        Ok(PoolError {
            mae,
            rmse,
            mse,
            r2,
            level: self.level,
            effective_rows: effective_size(&weights),
            pool_rows: pool.rows(),
            weighted_mae: weighted_abs.mean,
            weighted_mae_std_error: weighted_abs.std_error,
            surrogate_mae,
            weighted_rmse: weighted_sq.mean.sqrt(),
            surrogate_rmse: surrogate_mse.sqrt(),
            audit_rows: input.audit.len(),
            audit_mae,
            audit_rmse,
        })
    }

    /// A forest fitted to `values` (each labeled row's error), averaged
    /// over the pool sample.
    fn surrogate(
        &self,
        labeled: &Matrix,
        values: &[f64],
        pool: &Matrix,
        seed: u64,
    ) -> Result<f64, ModelError> {
        let on_pool = helper_forest(self.trees)
            .fit(labeled, values, seed)?
            .predict(pool)?;
        Ok(on_pool.iter().sum::<f64>() / on_pool.len() as f64)
    }

    /// The audit rows' check of a mean error (`values`: each labeled row's
    /// error), with a surrogate fitted on the picked rows alone.
    fn audit_check(
        &self,
        input: &PoolErrorInput,
        values: &[f64],
        pool: &Matrix,
        seed: u64,
    ) -> Result<WeightedMean, ModelError> {
        let audit = input.audit;
        let picked: Vec<usize> = (0..values.len()).filter(|i| !audit.contains(i)).collect();
        let picked_values: Vec<f64> = picked.iter().map(|&i| values[i]).collect();
        let fitted =
            helper_forest(self.trees).fit(&input.labeled.select(&picked), &picked_values, seed)?;
        let on_pool = fitted.predict(pool)?;
        let guesses = fitted.predict(&input.labeled.select(audit))?;
        let errors: Vec<f64> = audit.iter().map(|&i| values[i]).collect();
        Ok(AuditCheck {
            pool_mean: on_pool.iter().sum::<f64>() / on_pool.len() as f64,
            guesses: &guesses,
            errors: &errors,
        }
        .mean())
    }

    /// The audit check's interval at [`PoolErrorParams::level`]: normal on
    /// the mean error, its low end not below 0; `power` 0.5 takes the root
    /// of a mean squared error (RMSE) and of its bounds.
    fn audit_interval(&self, check: WeightedMean, power: f64) -> Interval {
        let half = normal_quantile_two_sided(self.level) * check.std_error;
        let root = |v: f64| v.max(0.0).powf(power);
        Interval {
            estimate: root(check.mean),
            low: root(check.mean - half),
            high: root(check.mean + half),
        }
    }

    /// The weighted and the surrogate estimate, mixed by
    /// [`PoolErrorParams::weighted_share`], with an interval on the log
    /// scale (errors are positive and their estimates skewed) that spans the
    /// weighted estimate's sampling error, half the two estimates'
    /// disagreement, and the error they share. `power` is 1 for an error
    /// reported as it is (MAE), 0.5 for one reported as a square root (the
    /// interval is then of the root: RMSE from MSE).
    fn combine(&self, weighted: WeightedMean, surrogate: f64, power: f64) -> Interval {
        let share = self.weighted_share;
        let estimate = share * weighted.mean + (1.0 - share) * surrogate;
        let relative = ((share * weighted.std_error).powi(2)
            + ((weighted.mean - surrogate) / 2.0).powi(2))
        .sqrt()
            / estimate;
        let half = normal_quantile_two_sided(self.level)
            * ((power * relative).powi(2) + self.shared_error.powi(2)).sqrt();
        let centre = estimate.powf(power);
        if !(half.is_finite() && centre > 0.0) {
            // A perfect fit (no residual at all): nothing to spread.
            return Interval {
                estimate: centre,
                low: centre,
                high: centre,
            };
        }
        Interval {
            estimate: centre,
            low: centre * (-half).exp(),
            high: centre * half.exp(),
        }
    }

    /// 5-fold cross-validation of `learner` on the labeled rows, then the
    /// estimate from its residuals: what a project without held-out rows
    /// reports (`evaluate`) and what a simulation compares with the truth.
    /// Returns the out-of-fold predictions too (the plain cross-validation
    /// is reported beside the estimate). `audit` names the labeled rows
    /// drawn at random from the pool (empty for none).
    pub fn cross_validate_and_estimate(
        &self,
        learner: &dyn Fit,
        labeled: &Matrix,
        targets: &[f64],
        pool: &Matrix,
        audit: &[usize],
        seed: u64,
    ) -> Result<(Vec<f64>, PoolError), ModelError> {
        let out_of_fold = cross_val_predict(learner, labeled, targets, 5, seed)?;
        let estimate = self.estimate(
            &PoolErrorInput {
                labeled,
                targets,
                out_of_fold: &out_of_fold,
                pool,
                audit,
            },
            seed,
        )?;
        Ok((out_of_fold, estimate))
    }

    /// The pool, or a seeded sample of `pool_rows` of it.
    fn pool_sample(&self, pool: &Matrix, seed: u64) -> Matrix {
        match self.pool_sample_rows(pool.rows(), seed) {
            Some(picked) => pool.select(&picked),
            None => pool.clone(),
        }
    }

    /// Which of `rows` pool rows the estimate looks at, in order: `None`
    /// for all of them. A caller holding the pool in another form (a
    /// project's compact rows) samples with this before it expands them,
    /// and the estimate then sees the same rows.
    pub fn pool_sample_rows(&self, rows: usize, seed: u64) -> Option<Vec<usize>> {
        if rows <= self.pool_rows {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, 0x9001));
        let mut picked = sample(&mut rng, rows, self.pool_rows).into_vec();
        picked.sort_unstable();
        Some(picked)
    }

    /// Each labeled row's out-of-bag probability of being labeled rather
    /// than a pool row: one forest over both kinds, each labeled row
    /// predicted by the trees that did not draw it (cross-fitting at the
    /// price of one forest, where 5 folds cost five).
    fn labeled_probability(
        &self,
        labeled: &Matrix,
        pool: &Matrix,
        seed: u64,
    ) -> Result<Vec<f64>, ModelError> {
        let n = labeled.rows();
        let mut both = labeled.clone();
        pool.iter_rows().for_each(|r| both.push_row(r));
        let is_labeled: Vec<f64> = (0..both.rows())
            .map(|i| if i < n { 1.0 } else { 0.0 })
            .collect();
        let forest =
            helper_forest(self.trees).fit_forest(&both, &is_labeled, derive_seed(seed, 1))?;
        // A row every tree drew gets the labeled share, as if nothing told
        // it apart.
        out_of_bag_mean(&forest, labeled, n as f64 / both.rows() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_mean_and_its_error_by_hand() {
        // Σw = 4, Σwv = 1·1 + 1·2 + 2·4 = 11 → 2.75;
        // Σw²(v − m)² = 1.75² + 0.75² + 4·1.25² = 3.0625 + 0.5625 + 6.25 = 9.875.
        let m = weighted_mean(&[1.0, 2.0, 4.0], &[1.0, 1.0, 2.0]);
        assert_eq!(m.mean, 2.75);
        assert!((m.std_error - 9.875f64.sqrt() / 4.0).abs() < 1e-12);
    }

    #[test]
    fn kish_effective_size_by_hand() {
        assert_eq!(effective_size(&[1.0; 8]), 8.0);
        // (1 + 1 + 2)² / (1 + 1 + 4) = 16 / 6.
        assert!((effective_size(&[1.0, 1.0, 2.0]) - 16.0 / 6.0).abs() < 1e-12);
        assert_eq!(effective_size(&[0.0, 0.0]), 0.0);
    }

    #[test]
    fn ratio_weights_are_odds_floored_and_clipped_at_a_multiple_of_their_mean() {
        // c = 0.5 → 1; c = 0.8 → 0.25; c = 0 → floored to 0.01 → 99.
        let w = ratio_weights(&[0.5, 0.8, 0.0], 1e9, 0.01);
        assert_eq!(w[0], 1.0);
        assert!((w[1] - 0.25).abs() < 1e-12);
        assert!((w[2] - 99.0).abs() < 1e-9);
        // Mean of the odds: (1 + 0.25 + 99) / 3 = 33.4166…; clip at 2× → 66.83.
        let clipped = ratio_weights(&[0.5, 0.8, 0.0], 2.0, 0.01);
        assert!((clipped[2] - 2.0 * 100.25 / 3.0).abs() < 1e-9);
        assert_eq!(clipped[0], 1.0);
    }

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile_two_sided(0.8) - 1.281_551_565_5).abs() < 1e-8);
        assert!((normal_quantile_two_sided(0.95) - 1.959_963_985).abs() < 1e-8);
        let q = normal_quantile(0.001);
        assert!((q + 3.090_232_306).abs() < 1e-7, "{q}");
    }

    /// Monte Carlo: labeled rows drawn from a density other than the pool's,
    /// with the true ratio as weights: the weighted mean of a function is
    /// unbiased for its pool mean within its own interval, where the plain
    /// mean is not.
    #[test]
    fn weighted_mean_with_known_ratios_is_unbiased_under_covariate_shift() {
        use rand::Rng;
        // Pool: x ~ U(0, 1). Labeled: density 2x on (0, 1) (picks lean to
        // large x). Ratio p_pool / p_labeled = 1 / (2x). Error |r| = x²:
        // pool mean 1/3, labeled mean ∫ x² · 2x = 1/2.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let z = normal_quantile_two_sided(0.95);
        let (mut held, mut plain_sum, runs) = (0, 0.0, 200);
        for _ in 0..runs {
            let xs: Vec<f64> = (0..400).map(|_| rng.gen::<f64>().sqrt()).collect();
            let values: Vec<f64> = xs.iter().map(|x| x * x).collect();
            let weights: Vec<f64> = xs.iter().map(|x| 1.0 / (2.0 * x)).collect();
            let m = weighted_mean(&values, &weights);
            if (m.mean - 1.0 / 3.0).abs() <= z * m.std_error {
                held += 1;
            }
            plain_sum += values.iter().sum::<f64>() / values.len() as f64;
        }
        // 95 % intervals: at least 180 of 200 hold (binomial: 190 expected).
        assert!(held >= 180, "{held} of {runs} intervals held 1/3");
        assert!((plain_sum / runs as f64 - 0.5).abs() < 0.01);
    }

    fn grid(n: usize, shift: f64) -> Matrix {
        Matrix::new((0..n).map(|i| i as f64 / n as f64 + shift).collect(), 1)
    }

    #[test]
    fn picked_rows_at_the_hard_end_are_weighted_down() {
        // Pool on [0, 1); labeled rows bunched at the hard end [0.5, 1.5)
        // where the residuals are 10, the rest 1: the plain mean says about
        // 10, the pool (half of it hard) about 5.5.
        let labeled = Matrix::new((0..60).map(|i| 0.5 + i as f64 / 60.0).collect(), 1);
        let targets: Vec<f64> = (0..60).map(|i| if i < 30 { 1.0 } else { 10.0 }).collect();
        let oof = vec![0.0; 60];
        let pool = grid(400, 0.0);
        let est = PoolErrorParams::default()
            .estimate(
                &PoolErrorInput {
                    labeled: &labeled,
                    targets: &targets,
                    out_of_fold: &oof,
                    pool: &pool,
                    audit: &[],
                },
                3,
            )
            .unwrap();
        assert!(est.mae.estimate < 5.0, "{est:?}");
        assert!(est.mae.low <= est.mae.estimate && est.mae.estimate <= est.mae.high);
        assert!(est.effective_rows < 60.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_estimate() {
        let labeled = grid(40, 0.3);
        let targets: Vec<f64> = (0..40).map(|i| (i % 7) as f64).collect();
        let oof = vec![3.0; 40];
        let pool = grid(3000, 0.0);
        let input = PoolErrorInput {
            labeled: &labeled,
            targets: &targets,
            out_of_fold: &oof,
            pool: &pool,
            audit: &[],
        };
        let params = PoolErrorParams::default();
        assert_eq!(
            params.estimate(&input, 5).unwrap(),
            params.estimate(&input, 5).unwrap()
        );
    }

    #[test]
    fn the_audit_check_by_hand() {
        // Gaps 2 − 1, 3 − 1, 4 − 1 = 1, 2, 3: mean 2, sample variance 1.
        let check = AuditCheck {
            pool_mean: 10.0,
            guesses: &[1.0; 3],
            errors: &[2.0, 3.0, 4.0],
        }
        .mean();
        assert_eq!(check.mean, 12.0);
        assert!((check.std_error - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_audit_interval_by_hand() {
        let params = PoolErrorParams::default();
        let z = normal_quantile_two_sided(params.level);
        let check = WeightedMean {
            mean: 4.0,
            std_error: 1.0,
        };
        let mae = params.audit_interval(check, 1.0);
        assert_eq!(mae.estimate, 4.0);
        assert!((mae.low - (4.0 - z)).abs() < 1e-12 && (mae.high - (4.0 + z)).abs() < 1e-12);
        // An MSE of 4 ± z: the RMSE is 2, its bounds the roots of the MSE's.
        let rmse = params.audit_interval(check, 0.5);
        assert_eq!(rmse.estimate, 2.0);
        assert!((rmse.high - (4.0 + z).sqrt()).abs() < 1e-12);
        // A mean error cannot be below 0.
        let wide = params.audit_interval(
            WeightedMean {
                mean: 0.5,
                std_error: 1.0,
            },
            1.0,
        );
        assert_eq!(wide.low, 0.0);
    }

    /// Picked rows whose errors run larger than the pool's at the same x
    /// (what covariate-shift corrections cannot see): the estimate stays
    /// high, the audit check finds the truth.
    #[test]
    fn random_audit_rows_see_what_the_features_cannot_show() {
        let n = 90;
        // Every third row is an audit row; all share the pool's range.
        let labeled = Matrix::new((0..n).map(|i| i as f64 / n as f64).collect(), 1);
        let audit: Vec<usize> = (0..n).filter(|i| i % 3 == 0).collect();
        // Audit rows err by 0.5 or 1.5 (mean 1, the pool's), picked rows by 3.
        let targets: Vec<f64> = (0..n)
            .map(|i| match (i % 3, i % 6) {
                (0, 0) => 0.5,
                (0, _) => 1.5,
                _ => 3.0,
            })
            .collect();
        let oof = vec![0.0; n];
        let pool = grid(600, 0.0);
        let input = |audit| PoolErrorInput {
            labeled: &labeled,
            targets: &targets,
            out_of_fold: &oof,
            pool: &pool,
            audit,
        };
        let params = PoolErrorParams::default();
        let alone = params.estimate(&input(&[]), 4).unwrap();
        let checked = params.estimate(&input(&audit), 4).unwrap();
        assert!(alone.mae.estimate > 2.0, "{alone:?}");
        assert_eq!(alone.audit_mae, None);
        let audit_mae = checked.audit_mae.unwrap();
        assert!((audit_mae.estimate - 1.0).abs() < 0.35, "{checked:?}");
        assert!(audit_mae.low < 1.0 && 1.0 < audit_mae.high, "{checked:?}");
        assert!(audit_mae.high < alone.mae.low, "{checked:?}");
        // The estimate itself is left as it was.
        assert_eq!(checked.mae, alone.mae);
        assert_eq!(checked.audit_rows, 30);
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let bad = PoolErrorParams {
            clip: 0.5,
            ..PoolErrorParams::default()
        };
        assert!(bad.check().unwrap_err().to_string().contains("clip"));
        let bad = PoolErrorParams {
            level: f64::NAN,
            ..PoolErrorParams::default()
        };
        assert!(bad.check().unwrap_err().to_string().contains("level"));
    }
}
