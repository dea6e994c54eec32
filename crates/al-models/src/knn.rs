//! k-nearest-neighbours regression on standardised features.

use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::params::{at_least, param};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Predict};

/// The registry entry of `knn`.
pub static INFO: ModelInfo = ModelInfo {
    name: "knn",
    description: "mean target of the k nearest rows on standardised features",
    library: "al",
    params: &[param(
        "k",
        "5",
        at_least(1),
        "neighbours (at most the labeled rows)",
    )],
    build: |p| Box::new(KnnParams { k: p.count("k") }),
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnParams {
    pub k: usize,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams { k: 5 }
    }
}

impl KnnParams {
    pub fn fit_knn(&self, x: &Matrix, y: &[f64]) -> Result<Knn, ModelError> {
        check_training(x, y)?;
        // As scikit-learn's KNeighborsRegressor: k neighbours or an error,
        // never silently fewer.
        if self.k == 0 || self.k > x.rows() {
            return Err(ModelError::ParamAboveRows {
                model: "knn",
                key: "k",
                value: self.k,
                rows: x.rows(),
            });
        }
        let (mean, std) = x.column_scale();
        let mut scaled = Matrix::with_cols(x.cols());
        for r in x.iter_rows() {
            scaled.push_row(&standardise(r, &mean, &std));
        }
        Ok(Knn {
            k: self.k,
            x: scaled,
            y: y.to_vec(),
            mean,
            std,
        })
    }
}

impl Fit for KnnParams {
    fn fit(&self, x: &Matrix, y: &[f64], _seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        Ok(Box::new(self.fit_knn(x, y)?))
    }
}

fn standardise(row: &[f64], mean: &[f64], std: &[f64]) -> Vec<f64> {
    row.iter()
        .zip(mean)
        .zip(std)
        .map(|((v, m), s)| (v - m) / s)
        .collect()
}

/// A fitted kNN regressor: the training rows, standardised.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Knn {
    k: usize,
    x: Matrix,
    y: Vec<f64>,
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Knn {
    /// The `k` nearest training rows of `row` (raw features), nearest first;
    /// ties go to the earlier training row.
    pub fn neighbours(&self, row: &[f64]) -> Vec<(usize, f64)> {
        let q = standardise(row, &self.mean, &self.std);
        let mut d: Vec<(usize, f64)> = self
            .x
            .iter_rows()
            .enumerate()
            .map(|(i, r)| (i, r.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum()))
            .collect();
        let k = self.k.min(d.len());
        let by = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
        if k < d.len() {
            d.select_nth_unstable_by(k - 1, by);
            d.truncate(k);
        }
        d.sort_by(by);
        d
    }
}

/// No cheap `refit_with`: a one-row refit that kept the old scaling
/// disagreed with a full refit (the model contract suite found it), and a
/// full fit is only a standardisation pass, as cheap as the shortcut.
impl Predict for Knn {
    fn export(&self) -> Option<crate::fitted::FittedModel> {
        Some(crate::fitted::FittedModel::Knn(self.clone()))
    }

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        Ok((0..x.rows())
            .into_par_iter()
            .map(|i| {
                let nb = self.neighbours(x.row(i));
                nb.iter().map(|(j, _)| self.y[*j]).sum::<f64>() / nb.len() as f64
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_k_nearest_on_standardised_features() {
        // Feature 1 has a huge scale; standardisation keeps it from dominating.
        let rows = vec![
            vec![0.0, 0.0],
            vec![1.0, 1000.0],
            vec![2.0, 2000.0],
            vec![10.0, 0.0],
        ];
        let y = [1.0, 2.0, 3.0, 100.0];
        let m = KnnParams { k: 2 }
            .fit_knn(&Matrix::from_rows(&rows), &y)
            .unwrap();
        let p = m.predict(&Matrix::from_rows(&[vec![1.5, 1500.0]])).unwrap();
        assert_eq!(p, vec![2.5]);
        assert_eq!(m.neighbours(&[0.0, 0.0])[0], (0, 0.0));
    }
}
