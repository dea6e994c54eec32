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
    let n = y.len();
    if folds < 2 || n < folds || n - n.div_ceil(folds) < 2 {
        return Err(ModelError::TooFewRows(n));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut predictions = vec![f64::NAN; n];
    for fold in 0..folds {
        let held: Vec<usize> = order.iter().copied().skip(fold).step_by(folds).collect();
        let mut is_held = vec![false; n];
        held.iter().for_each(|&i| is_held[i] = true);
        let train: Vec<usize> = (0..n).filter(|&i| !is_held[i]).collect();
        let ty: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let fitted = learner.fit(&x.select(&train), &ty, seed)?;
        for (&i, p) in held.iter().zip(fitted.predict(&x.select(&held))?) {
            predictions[i] = p;
        }
    }
    Ok(predictions)
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
    }
}
