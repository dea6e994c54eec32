//! Ordinary least squares and ridge regression.
//!
//! Why not linfa-linear: its OLS solves through ndarray-linalg (a LAPACK
//! backend to build) and this tool's designs are small (tens to a few hundred
//! features) and often rank-deficient (every one-hot level plus an
//! intercept). Here the fit keeps the centred cross-products, solves them by a
//! Cholesky factorisation that skips columns already explained by earlier
//! ones (on a rank-deficient design this gives a least-squares solution, so
//! the predictions equal scikit-learn's `lstsq` ones), and adding one row is a
//! rank-one update of those cross-products: the cheap refit that expected
//! model change uses hundreds of times per query.

use crate::matrix::Matrix;
use crate::params::{param, Kind};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Predict};

/// The registry entry of `linear`.
pub static LINEAR: ModelInfo = ModelInfo {
    name: "linear",
    description: "ordinary least squares with intercept",
    library: "al",
    params: &[],
    build: |_| Box::new(LinearParams::ols()),
};

/// The registry entry of `ridge`.
pub static RIDGE: ModelInfo = ModelInfo {
    name: "ridge",
    description: "least squares with an L2 penalty on the coefficients",
    library: "al",
    params: &[param("alpha", "1.0", Kind::NonNegative, "penalty strength")],
    build: |p| Box::new(LinearParams::ridge(p.real("alpha"))),
};

/// `alpha = 0` is ordinary least squares; `alpha > 0` is ridge (the
/// intercept is not penalised, as in scikit-learn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearParams {
    pub alpha: f64,
}

impl LinearParams {
    pub fn ols() -> Self {
        LinearParams { alpha: 0.0 }
    }

    pub fn ridge(alpha: f64) -> Self {
        LinearParams { alpha }
    }

    pub fn fit_linear(&self, x: &Matrix, y: &[f64]) -> Result<Linear, ModelError> {
        check_training(x, y)?;
        let p = x.cols();
        let n = x.rows() as f64;
        let (mean_x, _) = x.column_scale();
        let mean_y = y.iter().sum::<f64>() / n;
        let mut cxx = vec![0.0; p * p];
        let mut cxy = vec![0.0; p];
        let mut d = vec![0.0; p];
        for (row, &yi) in x.iter_rows().zip(y) {
            for j in 0..p {
                d[j] = row[j] - mean_x[j];
            }
            let dy = yi - mean_y;
            for j in 0..p {
                cxy[j] += d[j] * dy;
                for k in 0..=j {
                    cxx[j * p + k] += d[j] * d[k];
                }
            }
        }
        let mut model = Linear {
            alpha: self.alpha,
            n,
            mean_x,
            mean_y,
            cxx,
            cxy,
            coef: vec![0.0; p],
            intercept: 0.0,
        };
        model.solve();
        Ok(model)
    }
}

impl Fit for LinearParams {
    fn fit(&self, x: &Matrix, y: &[f64], _seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        Ok(Box::new(self.fit_linear(x, y)?))
    }
}

/// A fitted linear model together with the statistics it was solved from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Linear {
    alpha: f64,
    n: f64,
    mean_x: Vec<f64>,
    mean_y: f64,
    /// Lower triangle of the centred X'X, row-major p x p.
    cxx: Vec<f64>,
    cxy: Vec<f64>,
    coef: Vec<f64>,
    intercept: f64,
}

impl Linear {
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }

    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    fn solve(&mut self) {
        let p = self.mean_x.len();
        let mut a = self.cxx.clone();
        for j in 0..p {
            a[j * p + j] += self.alpha;
        }
        self.coef = cholesky_solve_skipping(&a, &self.cxy, p);
        self.intercept = self.mean_y
            - self
                .mean_x
                .iter()
                .zip(&self.coef)
                .map(|(m, c)| m * c)
                .sum::<f64>();
    }

    /// The model refitted with one more row, in O(p²) plus one O(p³) solve.
    pub fn with_row(&self, x: &[f64], y: f64) -> Linear {
        let p = self.mean_x.len();
        let mut next = self.clone();
        let n1 = self.n + 1.0;
        let d: Vec<f64> = x.iter().zip(&self.mean_x).map(|(v, m)| v - m).collect();
        let dy = y - self.mean_y;
        // Welford's update of centred co-moments.
        let w = self.n / n1;
        for j in 0..p {
            next.cxy[j] += w * d[j] * dy;
            for k in 0..=j {
                next.cxx[j * p + k] += w * d[j] * d[k];
            }
            next.mean_x[j] += d[j] / n1;
        }
        next.mean_y += dy / n1;
        next.n = n1;
        next.solve();
        next
    }
}

/// Solves A w = b for symmetric positive semi-definite A (lower triangle
/// given). A column whose remaining pivot is negligible next to its diagonal
/// is linearly dependent on earlier ones: its coefficient is set to 0.
pub(crate) fn cholesky_solve_skipping(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    const TOL: f64 = 1e-10;
    let mut l = vec![0.0; p * p];
    let mut kept = vec![false; p];
    for j in 0..p {
        let diag = a[j * p + j];
        let mut d = diag;
        for k in 0..j {
            d -= l[j * p + k] * l[j * p + k];
        }
        // Written so that a NaN pivot is skipped too.
        if d.is_nan() || d <= TOL * diag.abs().max(f64::MIN_POSITIVE) {
            continue;
        }
        kept[j] = true;
        let ljj = d.sqrt();
        l[j * p + j] = ljj;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            l[i * p + j] = s / ljj;
        }
    }
    // Forward then backward substitution over the kept columns only.
    let mut z = vec![0.0; p];
    for i in (0..p).filter(|&i| kept[i]) {
        let mut s = b[i];
        for k in (0..i).filter(|&k| kept[k]) {
            s -= l[i * p + k] * z[k];
        }
        z[i] = s / l[i * p + i];
    }
    let mut w = vec![0.0; p];
    for i in (0..p).rev().filter(|&i| kept[i]) {
        let mut s = z[i];
        for k in (i + 1..p).filter(|&k| kept[k]) {
            s -= l[k * p + i] * w[k];
        }
        w[i] = s / l[i * p + i];
    }
    w
}

impl Predict for Linear {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        Ok(x.iter_rows()
            .map(|r| self.intercept + r.iter().zip(&self.coef).map(|(v, c)| v * c).sum::<f64>())
            .collect())
    }

    fn refit_with(&self, x: &[f64], y: f64) -> Option<Box<dyn Predict>> {
        Some(Box::new(self.with_row(x, y)))
    }

    fn export(&self) -> Option<crate::fitted::FittedModel> {
        Some(crate::fitted::FittedModel::Linear(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn exact_ols_coefficients() {
        // y = 1 + 2 a - 3 b exactly.
        let rows = vec![
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![2.0, 5.0],
            vec![3.0, -1.0],
            vec![4.0, 2.0],
        ];
        let y: Vec<f64> = rows.iter().map(|r| 1.0 + 2.0 * r[0] - 3.0 * r[1]).collect();
        let m = LinearParams::ols()
            .fit_linear(&Matrix::from_rows(&rows), &y)
            .unwrap();
        assert!(close(m.intercept(), 1.0));
        assert!(close(m.coefficients()[0], 2.0) && close(m.coefficients()[1], -3.0));
    }

    #[test]
    fn least_squares_line_through_three_points() {
        // Points (0,0), (1,0), (2,2): y = -1/3 + x.
        let m = LinearParams::ols()
            .fit_linear(
                &Matrix::from_rows(&[vec![0.0], vec![1.0], vec![2.0]]),
                &[0.0, 0.0, 2.0],
            )
            .unwrap();
        assert!(close(m.intercept(), -1.0 / 3.0) && close(m.coefficients()[0], 1.0));
    }

    #[test]
    fn rank_deficient_one_hot_design_still_fits() {
        // Two one-hot columns always sum to 1 (collinear with the intercept).
        let rows = vec![
            vec![1.0, 0.0, 1.0],
            vec![0.0, 1.0, 2.0],
            vec![1.0, 0.0, 3.0],
            vec![0.0, 1.0, 5.0],
        ];
        let y = [10.0, 20.0, 12.0, 26.0];
        let m = LinearParams::ols()
            .fit_linear(&Matrix::from_rows(&rows), &y)
            .unwrap();
        let pred = m.predict(&Matrix::from_rows(&rows)).unwrap();
        // Group means after the slope: the residuals sum to zero in each group.
        let r: Vec<f64> = y.iter().zip(&pred).map(|(a, b)| a - b).collect();
        assert!(close(r[0] + r[2], 0.0) && close(r[1] + r[3], 0.0));
        assert!(pred.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn ridge_shrinks_towards_the_mean() {
        let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..10).map(|i| 2.0 * i as f64).collect();
        let x = Matrix::from_rows(&rows);
        // Centred x'x = 82.5, x'y = 165: ridge slope = 165 / (82.5 + alpha).
        let m = LinearParams::ridge(82.5).fit_linear(&x, &y).unwrap();
        assert!(close(m.coefficients()[0], 1.0));
    }

    #[test]
    fn adding_a_row_equals_refitting() {
        let rows: Vec<Vec<f64>> = (0..30)
            .map(|i| {
                vec![
                    (i as f64).sin() * 5.0,
                    (i as f64 * 0.3).cos(),
                    (i % 4) as f64,
                ]
            })
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| r[0] * 1.5 - r[1] + 0.25 * r[2] + (r[0] * 7.0).sin())
            .collect();
        let x = Matrix::from_rows(&rows);
        let first: Vec<usize> = (0..29).collect();
        let base = LinearParams::ridge(0.5)
            .fit_linear(&x.select(&first), &y[..29])
            .unwrap();
        let updated = base.with_row(x.row(29), y[29]);
        let full = LinearParams::ridge(0.5).fit_linear(&x, &y).unwrap();
        for (a, b) in updated.coefficients().iter().zip(full.coefficients()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!((updated.intercept() - full.intercept()).abs() < 1e-9);
    }
}
