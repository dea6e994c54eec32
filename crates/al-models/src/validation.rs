//! Measuring a model without held-out rows: k-fold cross-validation.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Fit, Matrix, ModelError};

/// Out-of-fold predictions of `learner` for every row: the rows, shuffled
/// with `seed`, are cut into `folds` parts; each part is predicted by a fit
/// on the others. Needs at least two rows per training part.
pub fn cross_val_predict(
    learner: &dyn Fit,
    x: &Matrix,
    y: &[f64],
    folds: usize,
    seed: u64,
) -> Result<Vec<f64>, ModelError> {
    Ok(cross_val_folds(learner, x, y, folds, seed)?.predictions)
}

/// Out-of-fold predictions and the fold that predicted each row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfFold {
    pub predictions: Vec<f64>,
    pub fold: Vec<usize>,
}

impl OutOfFold {
    /// `metric(truth, predictions)` on each fold's rows.
    pub fn per_fold(&self, y: &[f64], metric: fn(&[f64], &[f64]) -> f64) -> Vec<f64> {
        let folds = self.fold.iter().max().map_or(0, |m| m + 1);
        (0..folds)
            .map(|f| {
                let rows: Vec<usize> = (0..y.len()).filter(|&i| self.fold[i] == f).collect();
                let truth: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
                let pred: Vec<f64> = rows.iter().map(|&i| self.predictions[i]).collect();
                metric(&truth, &pred)
            })
            .collect()
    }
}

/// As [`cross_val_predict`], keeping which fold predicted each row.
pub fn cross_val_folds(
    learner: &dyn Fit,
    x: &Matrix,
    y: &[f64],
    folds: usize,
    seed: u64,
) -> Result<OutOfFold, ModelError> {
    let n = y.len();
    if folds < 2 || n < folds || n - n.div_ceil(folds) < 2 {
        return Err(ModelError::TooFewRows(n));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut predictions = vec![f64::NAN; n];
    let mut fold_of = vec![0; n];
    for fold in 0..folds {
        crate::interrupt::check()?;
        let held: Vec<usize> = order.iter().copied().skip(fold).step_by(folds).collect();
        held.iter().for_each(|&i| fold_of[i] = fold);
        let mut is_held = vec![false; n];
        held.iter().for_each(|&i| is_held[i] = true);
        let train: Vec<usize> = (0..n).filter(|&i| !is_held[i]).collect();
        let ty: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let fitted = crate::call_context::within("cross-validation fold", fold, folds, || {
            learner.fit(&x.select(&train), &ty, seed)
        })?;
        for (&i, p) in held.iter().zip(fitted.predict(&x.select(&held))?) {
            predictions[i] = p;
        }
    }
    Ok(OutOfFold {
        predictions,
        fold: fold_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear::LinearParams;

    #[test]
    fn every_row_is_predicted_by_a_model_that_did_not_see_it() {
        // y = 2x exactly but for one row: a linear fit that saw it would
        // bend toward it; out of fold, the row's own prediction is 2x.
        let x = Matrix::from_rows(&(0..20).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let mut y: Vec<f64> = (0..20).map(|i| 2.0 * i as f64).collect();
        y[7] = 100.0;
        let p = cross_val_predict(&LinearParams::ols(), &x, &y, 5, 3).unwrap();
        assert!((p[7] - 14.0).abs() < 1e-9, "{}", p[7]);
        assert!(p.iter().all(|v| v.is_finite()));
        assert_eq!(
            p,
            cross_val_predict(&LinearParams::ols(), &x, &y, 5, 3).unwrap()
        );
        assert!(
            cross_val_predict(&LinearParams::ols(), &x.select(&[0, 1, 2]), &y[..3], 5, 0).is_err()
        );
        // Each of the 5 folds holds 4 rows. The fold holding row 7 is fitted
        // on exact rows, so its only error is row 7's; every other fold's
        // fit saw row 7 and is bent.
        let oof = cross_val_folds(&LinearParams::ols(), &x, &y, 5, 3).unwrap();
        let maes = oof.per_fold(&y, crate::metrics::mae);
        assert_eq!(maes.len(), 5);
        assert!((maes[oof.fold[7]] - (100.0 - 14.0) / 4.0).abs() < 1e-9);
        assert!(maes.iter().all(|m| *m > 1e-6));
    }
}
