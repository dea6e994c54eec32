//! `var-reduction`: greedy reduction of the integrated predictive variance
//! over the pool under a random forest's proximity kernel (Cohn, Ghahramani
//! & Jordan 1996; batch form as in BAIT, Ash et al. 2021, and Holzmüller
//! et al. 2023).

use al_models::derive_seed;
use al_models::forest::ForestParams;
use al_models::params::{at_least, param, Kind};
use rayon::prelude::*;

use super::sample_sorted;
use super::{fit_model, in_pick_order};
use crate::leaf_space::{leaf_ids, proximity};
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "var-reduction",
    description: "greedy reduction of the pool's summed predictive variance: under --model's own posterior when it has one (gp: its kernel and noise), else under a forest-proximity kernel (rank-one updates)",
    reference: "Cohn, Ghahramani & Jordan 1996; Ash et al. 2021 (BAIT); Breiman 2001 (proximity)",
    params: &[
        param("trees", "50", at_least(1), "trees of the forest whose leaves define the kernel"),
        param("min_leaf", "3", at_least(1), "fewest training rows in a leaf of that forest"),
        param(
            "noise",
            "1",
            Kind::NonNegative,
            "label noise relative to the kernel's unit prior variance",
        ),
        param(
            "sample",
            "600",
            at_least(1),
            "pool rows, a seeded sample, that are both candidates and the variance summed over",
        ),
    ],
    build: |p| {
        Ok(Box::new(VarReduction {
            trees: p.count("trees"),
            min_leaf: p.count("min_leaf"),
            noise: p.real("noise"),
            sample: p.count("sample"),
        }))
    },
    model_use: crate::registry::ModelUse::SpreadElseForest,
};

/// A Gaussian process whose kernel is the forest's proximity (the share of
/// trees in which two rows share a leaf) is conditioned on the labeled rows;
/// each pick is the sample row whose label would most reduce the summed
/// posterior variance over the sample, then the posterior is updated by a
/// rank-one step. It favours rows that are uncertain *and* similar to many
/// others, where random sampling spends labels by density alone.
pub struct VarReduction {
    pub trees: usize,
    pub min_leaf: usize,
    pub noise: f64,
    pub sample: usize,
}

impl Strategy for VarReduction {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let n = input.candidates.rows();
        if n == 0 {
            return Err(QueryError::NoCandidates);
        }
        let sample = sample_sorted(n, self.sample, derive_seed(input.seed, 62));
        let sample_x = input.candidates.select(&sample);
        let posterior = match model_posterior(input, &sample_x)? {
            Some(posterior) => posterior,
            None => self.forest_posterior(input, &sample_x)?,
        };
        Ok(greedy_reduction(posterior, &sample, input.batch))
    }
}

/// The posterior over the sample rows: one covariance row per sample row,
/// and the label-noise variance a new label comes with.
struct SamplePosterior {
    cov: Vec<Vec<f64>>,
    noise: f64,
}

/// The posterior over the sample rows from `--model` when it has a posterior of its own (the
/// Gaussian process: its kernel and noise, fitted by likelihood). Only
/// then is `--model` fitted here.
fn model_posterior(
    input: &QueryInput,
    sample_x: &al_models::Matrix,
) -> Result<Option<SamplePosterior>, QueryError> {
    if input.fitted.is_none() && input.model.name() != al_models::gp::INFO.name {
        return Ok(None);
    }
    let model = fit_model(input)?;
    let Some(posterior) = model.predict_posterior(sample_x)? else {
        return Ok(None);
    };
    let m = sample_x.rows();
    let cov: Vec<Vec<f64>> = posterior
        .covariance
        .chunks(m.max(1))
        .map(<[f64]>::to_vec)
        .collect();
    // A noise-free fit still needs a floor for the rank-one updates.
    let scale = (0..m).map(|i| cov[i][i]).fold(0.0, f64::max).max(1e-12);
    Ok(Some(SamplePosterior {
        noise: posterior.noise.max(1e-9 * scale),
        cov,
    }))
}

impl VarReduction {
    /// The proximity-kernel process conditioned on the labeled rows:
    /// posterior covariance over the sample and the `noise` parameter.
    fn forest_posterior(
        &self,
        input: &QueryInput,
        sample_x: &al_models::Matrix,
    ) -> Result<SamplePosterior, QueryError> {
        let forest = ForestParams::default()
            .trees(self.trees)
            .min_samples_leaf(self.min_leaf)
            .fit_forest(
                input.labeled_x,
                input.labeled_y,
                derive_seed(input.seed, 61),
            )?;
        let all_labeled: Vec<usize> = (0..input.labeled_x.rows()).collect();
        let lab = leaf_ids(&forest, input.labeled_x, &all_labeled);
        let pool = leaf_ids(&forest, sample_x, &(0..sample_x.rows()).collect::<Vec<_>>());
        let kernel = proximity;
        let (l, m) = (lab.len(), pool.len());
        // Cholesky of K_LL + noise·I, then V = L⁻¹ K_LS.
        let mut a: Vec<f64> = (0..l * l)
            .map(|ij| {
                let (i, j) = (ij / l, ij % l);
                kernel(&lab[i], &lab[j]) + if i == j { self.noise.max(1e-9) } else { 0.0 }
            })
            .collect();
        cholesky(&mut a, l);
        let v: Vec<Vec<f64>> = pool
            .par_iter()
            .map(|p| {
                let k: Vec<f64> = lab.iter().map(|q| kernel(p, q)).collect();
                forward_solve(&a, l, k)
            })
            .collect();
        // Posterior covariance over the sample: K_SS − Vᵀ V.
        let cov: Vec<Vec<f64>> = (0..m)
            .into_par_iter()
            .map(|i| {
                (0..m)
                    .map(|j| {
                        kernel(&pool[i], &pool[j])
                            - v[i].iter().zip(&v[j]).map(|(a, b)| a * b).sum::<f64>()
                    })
                    .collect()
            })
            .collect();
        Ok(SamplePosterior {
            cov,
            noise: self.noise.max(1e-9),
        })
    }
}

/// Picks `batch` sample rows, each the one whose label most reduces the
/// summed posterior variance, updating the covariance by a rank-one step.
fn greedy_reduction(posterior: SamplePosterior, sample: &[usize], batch: usize) -> Vec<Selection> {
    let SamplePosterior { mut cov, noise } = posterior;
    let m = cov.len();
    let mut taken = vec![false; m];
    let mut picked = Vec::with_capacity(batch.min(m));
    while picked.len() < batch.min(m) {
        let gains: Vec<f64> = (0..m)
            .into_par_iter()
            .map(|c| {
                if taken[c] {
                    return f64::NEG_INFINITY;
                }
                cov[c].iter().map(|x| x * x).sum::<f64>() / (cov[c][c].max(0.0) + noise)
            })
            .collect();
        let best = (0..m).fold(0, |b, c| if gains[c] > gains[b] { c } else { b });
        if gains[best] == f64::NEG_INFINITY {
            break;
        }
        taken[best] = true;
        picked.push(Selection {
            index: sample[best],
            score: gains[best],
        });
        let column: Vec<f64> = (0..m).map(|r| cov[r][best]).collect();
        let scale = 1.0 / (cov[best][best].max(0.0) + noise);
        cov.par_iter_mut().enumerate().for_each(|(r, row)| {
            let f = column[r] * scale;
            row.iter_mut().zip(&column).for_each(|(x, c)| *x -= f * c);
        });
    }
    in_pick_order(picked)
}

/// In-place lower Cholesky factor of the symmetric positive definite `a`
/// (`n × n`, row-major); a pivot that is not positive is floored.
fn cholesky(a: &mut [f64], n: usize) {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(1e-12).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
}

/// Solves L x = b for the lower factor `l` from [`cholesky`].
fn forward_solve(l: &[f64], n: usize, mut b: Vec<f64>) -> Vec<f64> {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use al_models::{Matrix, ModelSpec};

    #[test]
    fn under_a_gaussian_process_the_first_pick_reduces_its_own_posterior_variance_most() {
        // Labels on [0, 2]; the pool runs on to 6.
        let lx = Matrix::from_rows(&(0..8).map(|i| vec![i as f64 / 4.0]).collect::<Vec<_>>());
        let ly: Vec<f64> = (0..8).map(|i| (i as f64 / 4.0).sin() * 3.0).collect();
        let pool = Matrix::from_rows(&(0..60).map(|i| vec![i as f64 / 10.0]).collect::<Vec<_>>());
        let spec = ModelSpec::parse("gp:noise=0.01").unwrap();
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &pool,
            model: &spec,
            batch: 3,
            seed: 4,
            max_candidates: 100,
            fitted: None,
        };
        let strategy = crate::parse_strategy("var-reduction").unwrap();
        let picks = strategy.query(&input).unwrap();
        // The same gain, from the model's posterior directly.
        let model = spec.build().unwrap().fit(&lx, &ly, 4).unwrap();
        let post = model.predict_posterior(&pool).unwrap().unwrap();
        let gain = |c: usize| {
            let row = &post.covariance[c * 60..(c + 1) * 60];
            row.iter().map(|v| v * v).sum::<f64>() / (row[c] + post.noise)
        };
        let best = (0..60).fold(0, |b, c| if gain(c) > gain(b) { c } else { b });
        assert_eq!(picks[0].index, best);
        assert!(pool.row(best)[0] > 2.0, "{best}");
        // The forest kernel, for the same rows, ranks them otherwise.
        let forest = ModelSpec::parse("forest").unwrap();
        let by_forest = strategy
            .query(&QueryInput {
                model: &forest,
                ..input
            })
            .unwrap();
        let indices = |p: &[Selection]| p.iter().map(|s| s.index).collect::<Vec<_>>();
        assert_ne!(indices(&by_forest), indices(&picks));
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // A = [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, √2]].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        cholesky(&mut a, 2);
        assert!((a[0] - 2.0).abs() < 1e-12 && (a[2] - 1.0).abs() < 1e-12);
        assert!((a[3] - 2f64.sqrt()).abs() < 1e-12);
        // L x = (2, 1 + √2) gives x = (1, 1).
        let x = forward_solve(&a, 2, vec![2.0, 1.0 + 2f64.sqrt()]);
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
    }
}
