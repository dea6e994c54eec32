//! The array flow: a strategy run on a plain numeric matrix whose target
//! is missing (NaN) for the rows still to label, without a project file —
//! scikit-activeml's `query(X, y)` and modAL's `query(X_pool)` shape.
//!
//! The columns are prepared as a project's recipe prepares numeric
//! columns: missing cells take the column's mean, then each column is
//! z-scored over every row (population standard deviation; a constant
//! column is left centred). So a project made from the same table picks
//! the same rows with the same seed.

use anyhow::{bail, Result};
use serde::Serialize;

use al_data::recipe::{mean_std, z_score, MeanStd};
use al_models::Matrix;
use al_query::simulate::COLD_START;
use al_query::{QueryInput, DEFAULT_STRATEGY};

use crate::error::{at_least, invalid};
use crate::plugins::LocalModels;
use crate::Settings;

/// How to choose, as [`crate::QueryOptions`] without the project.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayQuery {
    pub strategy: Option<String>,
    pub model: Option<String>,
    pub batch: usize,
    pub seed: u64,
    pub candidates: usize,
}

impl Default for ArrayQuery {
    fn default() -> Self {
        ArrayQuery {
            strategy: None,
            model: None,
            batch: 10,
            seed: 0,
            candidates: 500,
        }
    }
}

/// The rows picked, best first, as indices into the matrix given.
#[derive(Debug, Clone, Serialize)]
pub struct ArrayPicks {
    pub indices: Vec<usize>,
    /// The strategy's utility of each pick (its own scale).
    pub utilities: Vec<f64>,
    pub strategy: String,
    pub model: String,
    /// Fewer than two labels: the cold-start strategy chose.
    pub cold_start: bool,
}

/// Picks `options.batch` rows among those whose `y` is NaN. `x` is
/// row-major with `width` columns; NaN cells in `x` are missing values.
pub fn query(
    x: &[f64],
    width: usize,
    y: &[f64],
    options: &ArrayQuery,
    settings: &Settings,
    local: &LocalModels,
) -> Result<ArrayPicks> {
    check(x, width, y, options)?;
    let rows = y.len();
    let scale = ColumnScale::of(x, width);
    let labeled: Vec<usize> = (0..rows).filter(|&i| !y[i].is_nan()).collect();
    let unlabeled: Vec<usize> = (0..rows).filter(|&i| y[i].is_nan()).collect();
    if unlabeled.is_empty() {
        bail!(invalid(
            "y",
            "every row is labeled: mark the rows to choose from with NaN"
        ));
    }
    let lx = scale.rows(x, &labeled);
    let ly: Vec<f64> = labeled.iter().map(|&i| y[i]).collect();
    let pool = scale.rows(x, &unlabeled);
    let registry = crate::plugins::registry(settings, None, local)?;
    let spec = registry.model(options.model.as_deref().unwrap_or(crate::DEFAULT_MODEL))?;
    let cold = labeled.len() < 2;
    let asked = options.strategy.as_deref().unwrap_or(DEFAULT_STRATEGY);
    let strategy = registry.parse(if cold { COLD_START } else { asked })?;
    // No guesses to show: a strategy that uses the model fits it itself
    // (with the same seed, so the picks are the CLI's), and one that does
    // not (random, gsx, cover on features) costs no fit at all.
    let input = QueryInput {
        labeled_x: &lx,
        labeled_y: &ly,
        candidates: &pool,
        model: &spec,
        batch: options.batch,
        seed: options.seed,
        max_candidates: options.candidates,
        fitted: None,
    };
    let picks = strategy.query(&input)?;
    Ok(ArrayPicks {
        indices: picks.iter().map(|p| unlabeled[p.index]).collect(),
        utilities: picks.iter().map(|p| p.score).collect(),
        strategy: strategy.name(),
        model: spec.to_string(),
        cold_start: cold,
    })
}

fn check(x: &[f64], width: usize, y: &[f64], options: &ArrayQuery) -> Result<()> {
    if width == 0 {
        bail!(invalid("X", "needs at least one column"));
    }
    if x.len() != y.len() * width {
        bail!(invalid(
            "y",
            &format!(
                "{} values for the {} rows of X; give one target per row (NaN where unlabeled)",
                y.len(),
                x.len() / width
            )
        ));
    }
    if let Some(bad) = x.iter().position(|v| v.is_infinite()) {
        bail!(invalid(
            "X",
            &format!(
                "row {}, column {}: infinite value",
                bad / width,
                bad % width
            )
        ));
    }
    if let Some(bad) = y.iter().position(|v| v.is_infinite()) {
        bail!(invalid("y", &format!("row {bad}: infinite value")));
    }
    // The limit a project puts on its targets (their squares must not
    // overflow), so that an array and a project refuse the same labels.
    let limits = al_data::store::Bounds::default();
    for (row, v) in y.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
        if let Err(why) = limits.check(*v) {
            bail!(invalid("y", &format!("row {row}: {why}")));
        }
    }
    at_least("batch_size", options.batch, 1)?;
    at_least("candidates", options.candidates, 1)
}

/// Mean-imputed and z-scored columns (the recipe's numeric treatment).
/// Each column's mean and standard deviation (population; 1 where a
/// column is constant), missing cells left out: the recipe's z-scoring.
struct ColumnScale {
    width: usize,
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl ColumnScale {
    fn of(x: &[f64], width: usize) -> ColumnScale {
        // Row by row, every column's sums side by side: one sequential pass
        // each instead of a strided pass per column (100 000 × 26 cells took
        // 50 ms the strided way). Each column still adds its values in row
        // order, so the means and deviations are the same bits as the recipe's.
        let mut count = vec![0usize; width];
        let mut sum = vec![0.0; width];
        for row in x.chunks_exact(width) {
            for ((n, s), v) in count.iter_mut().zip(&mut sum).zip(row) {
                if !v.is_nan() {
                    *n += 1;
                    *s += v;
                }
            }
        }
        let mut mean: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, &n)| if n == 0 { 0.0 } else { s / n as f64 })
            .collect();
        let mut squares = vec![0.0; width];
        for row in x.chunks_exact(width) {
            for ((q, v), m) in squares.iter_mut().zip(row).zip(&mean) {
                if !v.is_nan() {
                    *q += (v - m) * (v - m);
                }
            }
        }
        let mut std: Vec<f64> = squares
            .iter()
            .zip(&count)
            .map(|(q, &n)| if n == 0 { 0.0 } else { (q / n as f64).sqrt() })
            .collect();
        for c in 0..width {
            // Sums that overflowed (cells near the largest f64): the
            // recipe's fallback, on this column's cells.
            if !(mean[c].is_finite() && std[c].is_finite()) {
                let cells: Vec<f64> = x
                    .iter()
                    .skip(c)
                    .step_by(width)
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                let MeanStd { mean: m, std: s } = mean_std(&cells);
                (mean[c], std[c]) = (m, s);
            }
        }
        for sd in &mut std {
            *sd = if *sd > 1e-12 { *sd } else { 1.0 };
        }
        ColumnScale { width, mean, std }
    }

    /// Rows `idx` of `x`, missing cells mean-imputed and every column
    /// z-scored, gathered and scaled in one pass (no scaled copy of the
    /// whole array first); each row keyed by its position in `x`.
    fn rows(&self, x: &[f64], idx: &[usize]) -> Matrix {
        let width = self.width;
        let mut out = Vec::with_capacity(idx.len() * width);
        for &i in idx {
            let row = &x[i * width..(i + 1) * width];
            out.extend(
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.std)
                    .map(|((v, m), s)| {
                        let filled = if v.is_nan() { *m } else { *v };
                        z_score(filled, *m, *s)
                    }),
            );
        }
        Matrix::new(out, width).with_keys(idx.iter().map(|&i| i as i64).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_near_the_largest_f64_scale_as_the_recipe_does() {
        let max = f64::MAX;
        // Column 0 overflows the plain sums; column 1 is ordinary.
        let x = [max, 1.0, -max, 2.0, f64::NAN, 4.0, -max, 5.0];
        let scale = ColumnScale::of(&x, 2);
        let recipe = mean_std(&[max, -max, -max]);
        assert_eq!((scale.mean[0], scale.std[0]), (recipe.mean, recipe.std));
        assert!(recipe.mean.is_finite() && recipe.std.is_finite());
        assert_eq!(scale.mean[1], 3.0);
        let scaled = scale.rows(&x, &[0, 2]);
        // max − (−max/3) overflows; divided first it is √2.
        assert!(
            (scaled.row(0)[0] - 2f64.sqrt()).abs() < 1e-12,
            "{:?}",
            scaled.row(0)
        );
        // The missing cell takes the mean: z-score 0.
        assert_eq!(scaled.row(1)[0], 0.0);
    }

    #[test]
    fn columns_are_mean_imputed_and_z_scored() {
        let x = [1.0, 5.0, 3.0, f64::NAN, 5.0, 5.0];
        let all: Vec<usize> = (0..3).collect();
        let scaled = ColumnScale::of(&x, 2).rows(&x, &all);
        let s: Vec<f64> = (0..3).flat_map(|r| scaled.row(r).to_vec()).collect();
        // Column 0: mean 3, population std sqrt(8/3).
        let sd = (8.0f64 / 3.0).sqrt();
        assert!((s[0] + 2.0 / sd).abs() < 1e-12);
        assert!((s[2]).abs() < 1e-12);
        // Column 1: constant 5 (the missing cell takes 5): centred, std 1.
        assert_eq!([s[1], s[3], s[5]], [0.0, 0.0, 0.0]);
    }

    #[test]
    fn picks_only_unlabeled_rows_and_refuses_bad_shapes() {
        let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = (0..20)
            .map(|i| if i % 3 == 0 { i as f64 } else { f64::NAN })
            .collect();
        let options = ArrayQuery {
            strategy: Some("random".into()),
            batch: 4,
            ..ArrayQuery::default()
        };
        let picks = query(
            &x,
            2,
            &y,
            &options,
            &Settings::default(),
            &LocalModels::default(),
        )
        .unwrap();
        assert_eq!(picks.indices.len(), 4);
        assert!(picks.indices.iter().all(|&i| y[i].is_nan()));
        let again = query(
            &x,
            2,
            &y,
            &options,
            &Settings::default(),
            &LocalModels::default(),
        )
        .unwrap();
        assert_eq!(picks.indices, again.indices);
        let err = query(
            &x,
            2,
            &y[..5],
            &options,
            &Settings::default(),
            &LocalModels::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("5 values for the 20 rows"),
            "{err}"
        );
        let zero = ArrayQuery {
            batch: 0,
            ..options
        };
        let err = query(
            &x,
            2,
            &y,
            &zero,
            &Settings::default(),
            &LocalModels::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "batch_size: expected a whole number >= 1");
        assert_eq!(crate::error_kind(&err), crate::ErrorKind::BadInput);
    }
}
