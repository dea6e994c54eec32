//! Prediction intervals at a coverage the user sets, for every flow that
//! shows a guess: `predict`, the batch files of `query`, `stream` and
//! `synthesize`, the workbench's label page and the Python package. For a
//! model of bootstrapped members (the forest) the method is
//! jackknife+-after-bootstrap on its own out-of-bag members, which fits
//! nothing more; for every other model, CV+ on the labeled rows. Both are
//! normalised by the model's spread where it has one
//! (`al_models::conformal`); the point prediction stays the model fitted on
//! every label.

use al_models::conformal::{self, CvPlus, JackknifeAfterBootstrap, Scale};
use al_models::{Fit, Matrix, ModelError, Predict};
use serde::Serialize;

use crate::error::refused;
use crate::InvalidParameter;

/// A coverage level strictly between 0 and 1, checked once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coverage(f64);

impl Default for Coverage {
    fn default() -> Self {
        Coverage(0.9)
    }
}

impl Coverage {
    const EXPECTED: &'static str =
        "coverage: expected a level strictly between 0 and 1, such as 0.9 or 90%";

    /// Refuses 0, 1, anything outside them and NaN.
    pub fn new(level: f64) -> Result<Coverage, InvalidParameter> {
        if level > 0.0 && level < 1.0 {
            Ok(Coverage(level))
        } else {
            Err(refused("coverage", Self::EXPECTED))
        }
    }

    /// `0.9` or `90%`.
    pub fn parse(text: &str) -> Result<Coverage, InvalidParameter> {
        crate::parse_share(text)
            .ok_or_else(|| refused("coverage", Self::EXPECTED))
            .and_then(Coverage::new)
    }

    pub fn level(self) -> f64 {
        self.0
    }

    /// "90 %".
    pub fn percent(self) -> String {
        format!("{} %", conformal::percent(self.0))
    }
}

/// Intervals for some rows, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intervals {
    pub coverage: f64,
    /// How they were made ("normalized CV+, 5 folds"), or why not.
    pub method: String,
    /// `None` when there are too few labels for the level: `method` says so.
    pub bounds: Option<Vec<(f64, f64)>>,
    /// One line for people: [`Intervals::describe`].
    pub summary: String,
}

impl Intervals {
    /// The bounds of row `i`, if there are any.
    pub fn get(&self, i: usize) -> Option<(f64, f64)> {
        self.bounds.as_ref().map(|b| b[i])
    }

    /// "90 % intervals: normalized CV+, 5 folds", or the reason there are none.
    pub fn describe(&self) -> &str {
        &self.summary
    }

    fn made(coverage: Coverage, method: String, bounds: Vec<(f64, f64)>) -> Intervals {
        Intervals {
            coverage: coverage.level(),
            summary: format!("{} intervals: {method}", coverage.percent()),
            method,
            bounds: Some(bounds),
        }
    }

    /// None yet: fewer than two labeled rows, so no model to guess with.
    pub fn without_model(coverage: Coverage, labeled: usize) -> Intervals {
        let need = conformal::min_labels(coverage.level()).max(2);
        let why = format!(
            "{} intervals need at least {need} labeled rows; there are {labeled}",
            coverage.percent(),
        );
        Intervals::none(coverage, why)
    }

    fn none(coverage: Coverage, why: String) -> Intervals {
        let method = format!("no intervals: {why}");
        Intervals {
            coverage: coverage.level(),
            summary: method.clone(),
            method,
            bounds: None,
        }
    }
}

/// The labeled rows, the learner and the model fitted on those rows (in
/// the same order): what intervals are calibrated from.
#[derive(Clone, Copy)]
pub struct LabeledRows<'a> {
    pub learner: &'a dyn Fit,
    pub fitted: &'a dyn Predict,
    pub x: &'a Matrix,
    pub y: &'a [f64],
}

/// How the intervals are calibrated.
enum Method {
    /// On the fitted model's out-of-bag members.
    OutOfBag(JackknifeAfterBootstrap),
    /// On K fold models of the learner.
    CrossValidation(CvPlus),
}

/// Intervals calibrated on the labeled rows: jackknife+-after-bootstrap
/// when the fitted model has bootstrapped members, CV+ (folds seeded by
/// `seed`) otherwise.
pub struct Calibration {
    method: Method,
}

impl Calibration {
    pub fn fit(labeled: LabeledRows, seed: u64) -> anyhow::Result<Self> {
        let LabeledRows {
            learner,
            fitted,
            x,
            y,
        } = labeled;
        if let Some(jab) = JackknifeAfterBootstrap::fit(fitted, x, y)? {
            return Ok(Calibration {
                method: Method::OutOfBag(jab),
            });
        }
        let folds = conformal::shuffled_folds(y.len(), conformal::FOLDS.min(y.len()), seed);
        Ok(Calibration {
            method: Method::CrossValidation(CvPlus::fit(
                learner,
                x,
                y,
                &folds,
                seed,
                Scale::Normalized,
            )?),
        })
    }

    /// "normalized jackknife+-after-bootstrap, 100 members" or
    /// "normalized CV+, 5 folds".
    pub fn method(&self) -> String {
        match &self.method {
            Method::OutOfBag(jab) => jab.method(),
            Method::CrossValidation(cv) => cv.method(),
        }
    }

    /// Intervals for the rows of `x`, each widened to hold its point
    /// prediction (both methods build the interval from models other than
    /// the one fitted on every label, which can fall just outside it;
    /// widening only adds coverage). `fitted` is the model the calibration
    /// was fitted with. Too few labels for the level gives no bounds and
    /// the reason, or the error when `strict` (the caller asked for that
    /// level).
    pub fn intervals(
        &self,
        fitted: &dyn Predict,
        x: &Matrix,
        point: &[f64],
        coverage: Coverage,
        strict: bool,
    ) -> anyhow::Result<Intervals> {
        let bounds = match &self.method {
            Method::OutOfBag(jab) => jab.intervals(fitted, x, coverage.level()),
            Method::CrossValidation(cv) => cv.intervals(x, coverage.level()),
        };
        match bounds {
            Ok(bounds) => Ok(Intervals::made(
                coverage,
                self.method(),
                bounds
                    .iter()
                    .zip(point)
                    .map(|(b, &p)| (b.lower.min(p), b.upper.max(p)))
                    .collect(),
            )),
            Err(e @ ModelError::TooFewForCoverage { .. }) => {
                if strict {
                    return Err(refused("coverage", &e.to_string()).into());
                }
                Ok(Intervals::none(coverage, e.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The model fitted on the labeled rows, its predictions for some rows and
/// their intervals: what `predict` and the workbench's label page show.
pub struct Guesses {
    pub fitted: Box<dyn Predict>,
    pub predictions: Vec<f64>,
    pub intervals: Intervals,
}

/// Fits `learner` on the labeled rows and guesses the rows of `x` with
/// intervals at `coverage` (`strict`: too few labels for it is an error).
pub fn guesses(
    learner: &dyn Fit,
    labeled: (&Matrix, &[f64]),
    x: &Matrix,
    coverage: Coverage,
    seed: u64,
    strict: bool,
) -> anyhow::Result<Guesses> {
    let fitted = learner.fit(labeled.0, labeled.1, seed)?;
    let predictions = fitted.predict(x)?;
    let intervals = for_rows(
        LabeledRows {
            learner,
            fitted: &*fitted,
            x: labeled.0,
            y: labeled.1,
        },
        x,
        &predictions,
        coverage,
        seed,
        strict,
    )?;
    Ok(Guesses {
        fitted,
        predictions,
        intervals,
    })
}

/// Intervals for `x` calibrated on the labeled rows. (A model needs two
/// labeled rows, so `labeled` always has them.)
pub fn for_rows(
    labeled: LabeledRows,
    x: &Matrix,
    point: &[f64],
    coverage: Coverage,
    seed: u64,
    strict: bool,
) -> anyhow::Result<Intervals> {
    Calibration::fit(labeled, seed)?.intervals(labeled.fitted, x, point, coverage, strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_takes_a_fraction_or_a_percentage_and_nothing_else() {
        assert_eq!(Coverage::parse("0.9").unwrap().level(), 0.9);
        assert_eq!(Coverage::parse("95%").unwrap().level(), 0.95);
        assert_eq!(Coverage::parse(" 80 % ").unwrap().percent(), "80 %");
        for bad in ["0", "1", "-0.1", "1.5", "NaN", "inf", "100%", "0%", "x", ""] {
            let err = Coverage::parse(bad).unwrap_err();
            assert_eq!(err.key, "coverage", "{bad}");
            assert_eq!(err.to_string(), Coverage::EXPECTED, "{bad}");
        }
    }

    #[test]
    fn intervals_hold_their_point_and_say_their_method() {
        let rows: Vec<Vec<f64>> = (0..30).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..30).map(|i| (i as f64 * 0.7).sin() + i as f64).collect();
        let x = Matrix::from_rows(&rows);
        // A bootstrapped forest calibrates on its own out-of-bag trees; a
        // forest without bootstrap, on CV+'s fold models.
        let bagged = al_models::forest::ForestParams::default().trees(20);
        let whole = al_models::forest::ForestParams {
            bootstrap: false,
            ..bagged
        };
        for (learner, method) in [
            (bagged, "normalized jackknife+-after-bootstrap, 20 members"),
            (whole, "normalized CV+, 5 folds"),
        ] {
            let fitted = learner.fit(&x, &y, 1).unwrap();
            let point = fitted.predict(&x).unwrap();
            let labeled = LabeledRows {
                learner: &learner,
                fitted: &*fitted,
                x: &x,
                y: &y,
            };
            let got = for_rows(labeled, &x, &point, Coverage::default(), 1, true).unwrap();
            assert_eq!(got.method, method);
            assert_eq!(got.describe(), format!("90 % intervals: {method}"));
            for (i, p) in point.iter().enumerate() {
                let (lo, hi) = got.get(i).unwrap();
                assert!(lo <= *p && *p <= hi, "row {i}: {lo} {p} {hi}");
            }
        }
    }

    #[test]
    fn too_few_labels_is_a_note_unless_the_level_was_asked_for() {
        let x = Matrix::from_rows(&(0..5).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let y = [1.0, 2.0, 2.5, 4.0, 5.5];
        let linear = al_models::linear::LinearParams::ols();
        let fitted = linear.fit(&x, &y, 0).unwrap();
        let labeled = LabeledRows {
            learner: &linear,
            fitted: &*fitted,
            x: &x,
            y: &y,
        };
        let point = [0.0; 5];
        let level = Coverage::new(0.95).unwrap();
        let note = for_rows(labeled, &x, &point, level, 0, false).unwrap();
        assert_eq!(note.bounds, None);
        assert_eq!(
            note.describe(),
            "no intervals: 95 % intervals need at least 19 labeled rows; there are 5: label 14 more, or ask for a lower coverage"
        );
        let err = for_rows(labeled, &x, &point, level, 0, true).unwrap_err();
        assert_eq!(crate::error_kind(&err), crate::ErrorKind::BadInput);
        assert!(err
            .to_string()
            .starts_with("95 % intervals need at least 19"));
    }
}
