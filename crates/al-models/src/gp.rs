//! A Gaussian process (kriging) with predictive variance, from egobox-gp.
//!
//! Why egobox-gp: it is built on linfa and ndarray (the same stack as the
//! other library models here, so little extra to compile), it is maintained,
//! and it estimates one length scale per feature (a squared-exponential
//! kernel with automatic relevance determination) by maximising the
//! likelihood from several starting points. Its prediction comes with a
//! variance, which is what variance-based strategies were designed for.
//!
//! egobox-gp treats the data as noise-free up to a `nugget` added to the
//! correlation matrix's diagonal; real targets are noisy, so the nugget is
//! the noise-to-signal variance ratio. `noise=auto` fits the process for
//! each ratio on a grid and keeps the one with the highest likelihood (a
//! grid version of estimating the noise by maximum likelihood, as a
//! `WhiteKernel` does in scikit-learn). Features and targets are
//! standardised on the training rows. The cost grows with the cube of the
//! labeled rows: fine for the few hundred labels of active learning, slow
//! beyond a few thousand.

use egobox_gp::correlation_models::SquaredExponentialCorr;
use egobox_gp::mean_models::ConstantMean;
use egobox_gp::GaussianProcess;
use linfa::traits::Fit as _;
use linfa::Dataset;
use ndarray::Ix1;

use crate::matrix::Matrix;
use crate::metrics::Spread;
use crate::params::{param, Kind};
use crate::scaled::{constant_target, Standardizer, TargetScale};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Posterior, Predict};

/// The registry entry of `gp`.
pub static INFO: ModelInfo = ModelInfo {
    name: "gp",
    description: "Gaussian process (squared-exponential kernel, a length scale per feature) with predictive variance",
    library: "egobox-gp",
    params: &[param(
        "noise",
        "auto",
        Kind::PositiveOr("auto"),
        "noise-to-signal variance ratio; auto picks it by likelihood",
    )],
    build: |p| {
        Box::new(GpParams {
            noise: p.real_or_word("noise"),
        })
    },
};

/// Noise ratios `noise=auto` chooses among.
const NOISE_GRID: [f64; 4] = [1e-4, 1e-2, 0.1, 0.5];

/// Likelihood optimisations from this many Latin-hypercube starting points
/// (seeded inside egobox-gp; one start would be drawn from entropy).
const STARTS: usize = 3;

/// z of the 10 % and 90 % normal quantiles: the interval committees report.
const Z_80: f64 = 1.281_551_565_545;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpParams {
    /// `None`: chosen by likelihood from a grid of noise levels.
    pub noise: Option<f64>,
}

type Kriging = GaussianProcess<f64, ConstantMean, SquaredExponentialCorr>;

impl GpParams {
    fn fit_one(&self, data: &Dataset<f64, f64, Ix1>, nugget: f64) -> Result<Kriging, ModelError> {
        Kriging::params(ConstantMean::default(), SquaredExponentialCorr::default())
            .nugget(nugget)
            .n_start(STARTS)
            .fit(data)
            .map_err(|e| ModelError::Library {
                model: "gp",
                library: "egobox-gp",
                message: e.to_string(),
            })
    }
}

impl Fit for GpParams {
    fn fit(&self, x: &Matrix, y: &[f64], _seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        let scaler = Standardizer::fit(x);
        let target = TargetScale::fit(y);
        if constant_target(y).is_some() {
            return Ok(Box::new(Gp {
                scaler,
                target,
                model: None,
                nugget: 0.0,
            }));
        }
        let data = Dataset::new(scaler.transform(x), target.transform(y));
        let (model, nugget) = match self.noise {
            Some(nugget) => (self.fit_one(&data, nugget)?, nugget),
            None => {
                let mut best: Option<(Kriging, f64)> = None;
                for nugget in NOISE_GRID {
                    let Ok(gp) = self.fit_one(&data, nugget) else {
                        continue;
                    };
                    if best
                        .as_ref()
                        .is_none_or(|(b, _)| gp.likelihood() > b.likelihood())
                    {
                        best = Some((gp, nugget));
                    }
                }
                match best {
                    Some(best) => best,
                    None => {
                        let nugget = *NOISE_GRID.last().expect("a grid");
                        (self.fit_one(&data, nugget)?, nugget)
                    }
                }
            }
        };
        Ok(Box::new(Gp {
            scaler,
            target,
            model: Some(model),
            nugget,
        }))
    }
}

/// A fitted Gaussian process; `model` is `None` when the targets were
/// constant (the prediction is that constant, with no spread).
pub struct Gp {
    scaler: Standardizer,
    target: TargetScale,
    model: Option<Kriging>,
    /// The noise-to-signal ratio it was fitted with.
    nugget: f64,
}

impl Gp {
    fn library_error(e: egobox_gp::GpError) -> ModelError {
        ModelError::Library {
            model: "gp",
            library: "egobox-gp",
            message: e.to_string(),
        }
    }
}

impl Predict for Gp {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let Some(model) = &self.model else {
            return Ok(vec![self.target.mean; x.rows()]);
        };
        let z = model
            .predict(&self.scaler.transform(x))
            .map_err(Gp::library_error)?;
        Ok(z.iter().map(|v| self.target.inverse(*v)).collect())
    }

    /// The posterior covariance (egobox-gp's, back in target units) and the
    /// label noise the nugget stands for: nugget × the process variance.
    fn predict_posterior(&self, x: &Matrix) -> Result<Option<Posterior>, ModelError> {
        let n = x.rows();
        let Some(model) = &self.model else {
            return Ok(Some(Posterior {
                covariance: vec![0.0; n * n],
                noise: 0.0,
            }));
        };
        let scale = self.target.std * self.target.std;
        let covariance = model
            .predict_covariance(&self.scaler.transform(x))
            .map_err(Gp::library_error)?;
        Ok(Some(Posterior {
            covariance: covariance.iter().map(|c| c * scale).collect(),
            noise: self.nugget * model.variance() * scale,
        }))
    }

    /// The predictive standard deviation and the 80 % normal interval.
    fn predict_spread(&self, x: &Matrix) -> Result<Option<Vec<Spread>>, ModelError> {
        let mean = self.predict(x)?;
        let Some(model) = &self.model else {
            return Ok(Some(
                mean.iter()
                    .map(|m| Spread {
                        std: 0.0,
                        low: *m,
                        high: *m,
                    })
                    .collect(),
            ));
        };
        let var = model
            .predict_var(&self.scaler.transform(x))
            .map_err(Gp::library_error)?;
        Ok(Some(
            mean.iter()
                .zip(var.iter())
                .map(|(m, v)| {
                    let std = v.max(0.0).sqrt() * self.target.std;
                    Spread {
                        std,
                        low: m - Z_80 * std,
                        high: m + Z_80 * std,
                    }
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_a_smooth_function_and_is_unsure_far_from_the_data() {
        let rows: Vec<Vec<f64>> = (0..25).map(|i| vec![i as f64 / 5.0]).collect();
        let y: Vec<f64> = rows.iter().map(|r| 10.0 + 3.0 * r[0].sin()).collect();
        let x = Matrix::from_rows(&rows);
        let model = GpParams { noise: None }.fit(&x, &y, 0).unwrap();
        let grid = Matrix::from_rows(&[vec![2.1], vec![12.0]]);
        let p = model.predict(&grid).unwrap();
        assert!((p[0] - (10.0 + 3.0 * 2.1f64.sin())).abs() < 0.1, "{p:?}");
        let s = model.predict_spread(&grid).unwrap().unwrap();
        assert!(s[1].std > 10.0 * s[0].std, "{s:?}");
        assert!(s[0].low < p[0] && p[0] < s[0].high);
    }

    #[test]
    fn the_posterior_covariance_has_the_predictive_variance_on_its_diagonal() {
        let rows: Vec<Vec<f64>> = (0..25).map(|i| vec![i as f64 / 5.0]).collect();
        let y: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| 10.0 + 3.0 * r[0].sin() + 0.3 * ((i * 7) % 5) as f64)
            .collect();
        let model = GpParams { noise: Some(0.1) }
            .fit(&Matrix::from_rows(&rows), &y, 0)
            .unwrap();
        let grid = Matrix::from_rows(&[vec![2.1], vec![2.3], vec![12.0]]);
        let post = model.predict_posterior(&grid).unwrap().unwrap();
        let std = model.predict_std(&grid).unwrap().unwrap();
        for (i, s) in std.iter().enumerate() {
            let var = post.covariance[i * 3 + i];
            assert!((var - s * s).abs() <= 1e-6 * var.max(1e-9), "{i}");
        }
        // Symmetric; near rows covary, a far one hardly.
        assert!((post.covariance[1] - post.covariance[3]).abs() < 1e-9);
        let corr = |i: usize, j: usize| {
            post.covariance[i * 3 + j]
                / (post.covariance[i * 4].sqrt() * post.covariance[j * 4].sqrt())
        };
        assert!(corr(0, 1) > 0.5, "{}", corr(0, 1));
        assert!(corr(0, 2).abs() < 0.1, "{}", corr(0, 2));
        assert!(post.noise > 0.0);
    }
}
