//! Epsilon support vector regression with a Gaussian (RBF) kernel, from
//! linfa-svm.
//!
//! Features and targets are standardised on the training rows (scikit-learn
//! users write `TransformedTargetRegressor(make_pipeline(StandardScaler(),
//! SVR()), transformer=StandardScaler())` for the same), so `epsilon`, the
//! width of the loss's dead zone, is in target standard deviations and the
//! defaults suit a price as well as a percentage. `gamma=scale` is
//! scikit-learn's `1 / (features · variance)`, which on standardised
//! features is `1 / features`.

use linfa::traits::{Fit as _, Predict as _};
use linfa::Dataset;
use linfa_svm::Svm;
use ndarray::Array1;

use crate::matrix::Matrix;
use crate::params::{param, Kind};
use crate::scaled::{constant_target, Standardizer, TargetScale};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Predict};

/// The registry entry of `svr`.
pub static INFO: ModelInfo = ModelInfo {
    name: "svr",
    description: "support vector regression, RBF kernel, on standardised features and target",
    library: "linfa-svm",
    params: &[
        param(
            "c",
            "1.0",
            Kind::Between {
                min: 1e-6,
                max: 1e6,
            },
            "inverse penalty strength (larger fits closer)",
        ),
        param(
            "epsilon",
            "0.1",
            Kind::Positive,
            "errors below this many target standard deviations cost nothing",
        ),
        param(
            "gamma",
            "scale",
            Kind::PositiveOr("scale"),
            "kernel width exp(-gamma·|x−x'|²); scale is 1 / features",
        ),
    ],
    build: |p| {
        Box::new(SvrParams {
            c: p.real("c"),
            epsilon: p.real("epsilon"),
            gamma: p.real_or_word("gamma"),
        })
    },
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvrParams {
    pub c: f64,
    pub epsilon: f64,
    /// `None`: scikit-learn's `scale`.
    pub gamma: Option<f64>,
}

impl Fit for SvrParams {
    fn fit(&self, x: &Matrix, y: &[f64], _seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        let scaler = Standardizer::fit(x);
        let target = TargetScale::fit(y);
        if constant_target(y).is_some() {
            return Ok(Box::new(Svr {
                scaler,
                target,
                model: None,
            }));
        }
        let gamma = self.gamma.unwrap_or(1.0 / x.cols().max(1) as f64);
        let data = Dataset::new(scaler.transform(x), target.transform(y));
        let model = Svm::<f64, f64>::params()
            .c_svr(self.c, Some(self.epsilon))
            .gaussian_kernel(1.0 / gamma)
            .fit(&data)
            .map_err(|e| ModelError::Library {
                model: "svr",
                library: "linfa-svm",
                message: e.to_string(),
            })?;
        Ok(Box::new(Svr {
            scaler,
            target,
            model: Some(model),
        }))
    }
}

/// A fitted SVR; `model` is `None` when the targets were constant.
pub struct Svr {
    scaler: Standardizer,
    target: TargetScale,
    model: Option<Svm<f64, f64>>,
}

impl Predict for Svr {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let Some(model) = &self.model else {
            return Ok(vec![self.target.mean; x.rows()]);
        };
        let z: Array1<f64> = model.predict(&self.scaler.transform(x));
        Ok(z.iter().map(|v| self.target.inverse(*v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_smooth_curve_closely() {
        let rows: Vec<Vec<f64>> = (0..60).map(|i| vec![i as f64 / 10.0]).collect();
        let y: Vec<f64> = rows.iter().map(|r| 100.0 + 20.0 * r[0].sin()).collect();
        let x = Matrix::from_rows(&rows);
        let params = SvrParams {
            c: 10.0,
            epsilon: 0.01,
            gamma: None,
        };
        let p = params.fit(&x, &y, 0).unwrap().predict(&x).unwrap();
        let mae = crate::metrics::mae(&y, &p);
        assert!(mae < 1.0, "MAE {mae} on a sine of amplitude 20");
    }
}
