//! Standardisation and the bridge to ndarray, shared by the models that come
//! from linfa, egobox and perpetual.
//!
//! Penalised and kernel models depend on the features' scales (a price in
//! thousands next to a one-hot 0/1 column), so these models standardise
//! every feature on the training rows, as scikit-learn users do with a
//! `StandardScaler` in front of `ElasticNet`, `SVR` or a Gaussian process.

use ndarray::{Array1, Array2};

use crate::matrix::Matrix;
use crate::metrics::{mean_std, z_score, MeanStd};

/// Per-column mean and standard deviation of the training rows (1 where a
/// column is constant, so it standardises to zeros).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardizer {
    pub fn fit(x: &Matrix) -> Standardizer {
        let (mean, std) = x.column_scale();
        Standardizer { mean, std }
    }

    /// `x` standardised, as an ndarray matrix.
    pub fn transform(&self, x: &Matrix) -> Array2<f64> {
        let mut out = Array2::zeros((x.rows(), x.cols()));
        for (mut dst, row) in out.rows_mut().into_iter().zip(x.iter_rows()) {
            for (j, v) in row.iter().enumerate() {
                dst[j] = z_score(*v, self.mean[j], self.std[j]);
            }
        }
        out
    }
}

/// Mean and standard deviation of the targets (1 when they are constant), for
/// models whose parameters are on the target's scale (SVR's epsilon, a
/// Gaussian process's variance).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct TargetScale {
    pub mean: f64,
    pub std: f64,
}

impl TargetScale {
    pub fn fit(y: &[f64]) -> TargetScale {
        let MeanStd { mean, std: sd } = mean_std(y);
        TargetScale {
            mean,
            std: if sd > 1e-12 * (1.0 + mean.abs()) {
                sd
            } else {
                1.0
            },
        }
    }

    pub fn transform(&self, y: &[f64]) -> Array1<f64> {
        y.iter().map(|v| z_score(*v, self.mean, self.std)).collect()
    }

    pub fn inverse(&self, z: f64) -> f64 {
        self.mean + self.std * z
    }
}

/// Whether every target is the same value: penalised and kernel solvers
/// then have nothing to fit, and the honest prediction is that value.
pub fn constant_target(y: &[f64]) -> Option<f64> {
    let first = *y.first()?;
    y.iter().all(|v| *v == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_columns_and_leaves_constant_ones_at_zero() {
        let x = Matrix::from_rows(&[vec![1.0, 5.0], vec![3.0, 5.0]]);
        let z = Standardizer::fit(&x).transform(&x);
        assert_eq!(z.row(0).to_vec(), vec![-1.0, 0.0]);
        assert_eq!(z.row(1).to_vec(), vec![1.0, 0.0]);
        let t = TargetScale::fit(&[2.0, 4.0]);
        assert_eq!(t.transform(&[2.0, 4.0]).to_vec(), vec![-1.0, 1.0]);
        assert_eq!(t.inverse(1.0), 4.0);
        assert_eq!(constant_target(&[3.0, 3.0]), Some(3.0));
        assert_eq!(constant_target(&[3.0, 2.0]), None);
    }

    #[test]
    fn features_near_the_largest_f64_standardise_to_finite_values() {
        // The plain sums overflow (MAX − MAX): the scaled fallback gives
        // mean −MAX/3 and spread MAX·√(8/9), so MAX lies √2 spreads above.
        let max = f64::MAX;
        let x = Matrix::from_rows(&[vec![max, 1.0], vec![-max, 2.0], vec![-max, 3.0]]);
        let z = Standardizer::fit(&x).transform(&x);
        assert!((z[[0, 0]] - 2f64.sqrt()).abs() < 1e-12, "{z:?}");
        assert!((z[[1, 0]] + 1.0 / 2f64.sqrt()).abs() < 1e-12, "{z:?}");
        // The ordinary column is untouched by the fallback.
        let sd = (2.0f64 / 3.0).sqrt();
        assert_eq!(z.column(1).to_vec(), vec![-1.0 / sd, 0.0, 1.0 / sd]);
    }
}
