//! Elastic net and lasso from linfa-elasticnet, on standardised features.
//!
//! The objective is scikit-learn's `ElasticNet` one,
//! `1/(2n)·|y − Xw − b|² + alpha·(l1_ratio·|w|₁ + (1 − l1_ratio)/2·|w|²)`,
//! solved by coordinate descent; the features are standardised on the
//! training rows first (a `StandardScaler` in front), so the penalty treats
//! every column alike.

use linfa::traits::Fit as _;
use linfa::Dataset;
use linfa_elasticnet::ElasticNet;
use ndarray::Array1;

use crate::matrix::Matrix;
use crate::params::{param, Kind};
use crate::scaled::{constant_target, Standardizer};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Predict};

/// The registry entry of `elasticnet`.
pub static ELASTICNET: ModelInfo = ModelInfo {
    name: "elasticnet",
    description: "linear model with L1 and L2 penalties on standardised features",
    library: "linfa-elasticnet",
    params: &[
        param("alpha", "1.0", Kind::Positive, "penalty strength"),
        param(
            "l1_ratio",
            "0.5",
            Kind::Fraction,
            "share of the L1 penalty (1 is the lasso)",
        ),
    ],
    build: |p| {
        Box::new(ElasticNetParams {
            alpha: p.real("alpha"),
            l1_ratio: p.real("l1_ratio"),
            name: "elasticnet",
        })
    },
};

/// The registry entry of `lasso`: the elastic net with only the L1 penalty.
pub static LASSO: ModelInfo = ModelInfo {
    name: "lasso",
    description: "linear model with an L1 penalty (sparse coefficients) on standardised features",
    library: "linfa-elasticnet",
    params: &[param("alpha", "1.0", Kind::Positive, "penalty strength")],
    build: |p| {
        Box::new(ElasticNetParams {
            alpha: p.real("alpha"),
            l1_ratio: 1.0,
            name: "lasso",
        })
    },
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElasticNetParams {
    pub alpha: f64,
    pub l1_ratio: f64,
    name: &'static str,
}

impl Fit for ElasticNetParams {
    fn fit(&self, x: &Matrix, y: &[f64], _seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        check_training(x, y)?;
        let scaler = Standardizer::fit(x);
        if let Some(value) = constant_target(y) {
            return Ok(Box::new(LinearFunction::constant(scaler, x.cols(), value)));
        }
        let data = Dataset::new(scaler.transform(x), Array1::from(y.to_vec()));
        let model = ElasticNet::params()
            .penalty(self.alpha)
            .l1_ratio(self.l1_ratio)
            .max_iterations(5_000)
            .tolerance(1e-6)
            .fit(&data)
            .map_err(|e| ModelError::Library {
                model: self.name,
                library: "linfa-elasticnet",
                message: e.to_string(),
            })?;
        Ok(Box::new(LinearFunction {
            scaler,
            weights: model.hyperplane().to_vec(),
            intercept: model.intercept(),
        }))
    }
}

/// A fitted linear function of standardised features.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinearFunction {
    scaler: Standardizer,
    weights: Vec<f64>,
    intercept: f64,
}

impl LinearFunction {
    pub(crate) fn new(scaler: Standardizer, weights: Vec<f64>, intercept: f64) -> LinearFunction {
        LinearFunction {
            scaler,
            weights,
            intercept,
        }
    }

    fn constant(scaler: Standardizer, cols: usize, value: f64) -> LinearFunction {
        LinearFunction::new(scaler, vec![0.0; cols], value)
    }

    /// The coefficients on the standardised features.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

impl Predict for LinearFunction {
    fn export(&self) -> Option<crate::fitted::FittedModel> {
        Some(crate::fitted::FittedModel::LinearFunction(self.clone()))
    }

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let z = self.scaler.transform(x);
        Ok(z.rows()
            .into_iter()
            .map(|r| self.intercept + r.iter().zip(&self.weights).map(|(a, w)| a * w).sum::<f64>())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> (Matrix, Vec<f64>) {
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|i| vec![i as f64, ((i * 7) % 5) as f64])
            .collect();
        let y = rows.iter().map(|r| 2.0 * r[0] + 1.0).collect();
        (Matrix::from_rows(&rows), y)
    }

    #[test]
    fn the_lasso_drops_a_column_that_does_not_help() {
        let (x, y) = line(30);
        let model = ElasticNetParams {
            alpha: 0.5,
            l1_ratio: 1.0,
            name: "lasso",
        };
        let z = Standardizer::fit(&x).transform(&x);
        let data = Dataset::new(z, Array1::from(y.clone()));
        let fitted = ElasticNet::params()
            .penalty(model.alpha)
            .l1_ratio(1.0)
            .fit(&data)
            .unwrap();
        assert_eq!(fitted.hyperplane()[1], 0.0);
        // The penalty shrinks the slope a little, by alpha on the
        // standardised scale.
        let p = model.fit(&x, &y, 0).unwrap().predict(&x).unwrap();
        let mae = crate::metrics::mae(&y, &p);
        assert!(mae > 0.0 && mae < 1.0, "{mae}");
    }
}
