//! The evaluate flow: measure a model on the held-out rows (or by 5-fold
//! cross-validation when there are none) and store the report; compare
//! models by cross-validation on the labeled rows.

use anyhow::{bail, Result};
use serde::Serialize;

use al_data::store::{ErrorFigures, ErrorInterval, EvalMethod};
use al_data::{store, Report, Subset};
use al_models::metrics::{mae, mean_std, mse, r2, rmse};
use al_models::pool_error::PoolErrorParams;
use al_models::validation::{cross_val_folds, cross_val_predict};
use al_models::{Matrix, ModelSpec, MODELS};

use crate::Project;

/// One model's figures in a comparison: the error and its spread (the
/// standard deviation over the five folds), or why it could not be fitted.
#[derive(Debug, Clone, Serialize)]
pub struct ModelScore {
    pub model: String,
    pub mae: Option<f64>,
    pub mae_spread: Option<f64>,
    pub rmse: Option<f64>,
    pub rmse_spread: Option<f64>,
    pub error: Option<String>,
}

/// Models measured on the same folds, best (lowest MAE) first.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub method: EvalMethod,
    pub models: Vec<ModelScore>,
    pub best: String,
    /// The model stored as the project's, when asked.
    pub set_default: Option<String>,
}

impl Project {
    /// Measures `spec` and stores the report: fitted on every labeled
    /// training row and measured on the held-out rows; when there are none,
    /// the error on the unlabeled rows is estimated from 5-fold
    /// cross-validation on the labeled rows, corrected for how they were
    /// picked ([`al_models::pool_error`]) and checked against the rows drawn
    /// at random for an audit (`query --audit`), with the plain
    /// cross-validation kept beside it (alone when no unlabeled row is left).
    pub fn evaluate(&mut self, spec: &ModelSpec, seed: u64) -> Result<Report> {
        let project = &mut self.file;
        let test = project.load(Subset::Test, false)?;
        let learner = spec.build()?;
        let measured = if test.is_empty() {
            let [train, pool] =
                project.load_compact_subsets([Subset::Training, Subset::PoolWithPending])?;
            let recipe = project.recipe()?;
            // Only the rows the estimate looks at are expanded.
            let pool = match PoolErrorParams::default().pool_sample_rows(pool.len(), seed) {
                Some(rows) => pool.select(&rows),
                None => pool,
            };
            let (train, pool) = (train.expand(&recipe, false), pool.expand(&recipe, false));
            let audited = project.audit_row_ids()?;
            let audit: Vec<usize> = (0..train.len())
                .filter(|&i| audited.contains(&train.row_ids[i]))
                .collect();
            without_test_rows(&*learner, &train, &pool, &audit, seed)?
        } else {
            let train = project.load(Subset::Training, false)?;
            let fitted = learner.fit(&features(&train), &train.targets(), seed)?;
            let pred = fitted.predict(&features(&test))?;
            Measured {
                labels: train.len(),
                figures: figures(&test.targets(), &pred),
                method: EvalMethod::Holdout,
                interval: None,
                cross_validation: None,
                detail: None,
            }
        };
        let round = project.last_round()?;
        let report = Report {
            round: round.as_ref().map(|r| r.round),
            labels: measured.labels as u64,
            mae: measured.figures.mae,
            mse: measured.figures.mse,
            rmse: measured.figures.rmse,
            r2: measured.figures.r2,
            model: spec.to_string(),
            strategy: round.map(|r| r.strategy),
            created_at: String::new(),
            method: measured.method,
            interval: measured.interval,
            cross_validation: measured.cross_validation,
            detail: measured.detail,
        };
        project.write(|tx| store::insert_report(tx, &report))?;
        Ok(report)
    }

    /// Whether there is enough to measure: held-out rows, or five labels
    /// for cross-validation.
    pub fn measurable(&self) -> Result<bool> {
        let counts = self.file.counts()?;
        Ok(counts.test > 0 || counts.labeled >= 5)
    }

    /// Model specs from a list (`all`: every built-in model), every one
    /// resolved and checked before any is fitted.
    pub fn model_specs(&self, given: &[String]) -> Result<Vec<ModelSpec>> {
        let registry = self.registry()?;
        let texts: Vec<String> = if given.len() == 1 && given[0] == "all" {
            MODELS.iter().map(|m| m.name.to_string()).collect()
        } else {
            given.to_vec()
        };
        texts.iter().map(|t| Ok(registry.model(t)?)).collect()
    }

    /// Measures each model by 5-fold cross-validation on the same labeled
    /// rows (the same folds for all), best first; with `set_default`, stores
    /// the best as the project's model. Never on the held-out rows: a model
    /// chosen on them would make every later report on them optimistic.
    /// `measuring` is told each model before it is fitted.
    pub fn compare_models(
        &mut self,
        specs: &[ModelSpec],
        seed: u64,
        set_default: bool,
        mut measuring: impl FnMut(&ModelSpec),
    ) -> Result<Comparison> {
        let train = self.file.load(Subset::Training, false)?;
        if train.len() < 5 {
            bail!(
                "{} labeled row(s): label at least 5 to compare models by 5-fold cross-validation",
                train.len()
            );
        }
        let train_x = features(&train);
        let truth = train.targets();
        let mut scores = Vec::with_capacity(specs.len());
        for spec in specs {
            measuring(spec);
            scores.push(
                cv_score(spec, &train_x, &truth, seed).unwrap_or_else(|e| ModelScore {
                    model: spec.to_string(),
                    mae: None,
                    mae_spread: None,
                    rmse: None,
                    rmse_spread: None,
                    error: Some(format!("{e:#}")),
                }),
            );
        }
        scores.sort_by(|a, b| {
            let key = |s: &ModelScore| s.mae.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        });
        let Some(best) = scores.first().filter(|s| s.mae.is_some()).cloned() else {
            bail!(
                "no model could be fitted: {}",
                scores[0].error.clone().unwrap_or_default()
            );
        };
        if set_default {
            if crate::plugins::is_local_model(&best.model) {
                bail!(crate::error::invalid(
                    "set_default",
                    &format!("the best model, {}, is your own Python estimator: it cannot be the project's model (al-cli could not run it); pass it as model=... to each call instead", best.model),
                ));
            }
            self.file
                .write(|tx| store::set_default_model(tx, &best.model))?;
        }
        Ok(Comparison {
            method: EvalMethod::Cv5,
            best: best.model.clone(),
            set_default: set_default.then_some(best.model),
            models: scores,
        })
    }
}

/// What one evaluation measured, before it is stored as a report.
struct Measured {
    labels: usize,
    figures: ErrorFigures,
    method: EvalMethod,
    interval: Option<ErrorInterval>,
    cross_validation: Option<ErrorFigures>,
    detail: Option<serde_json::Value>,
}

fn features(rows: &al_data::Rows) -> Matrix {
    Matrix::new(rows.features.clone(), rows.width).with_keys(rows.row_ids.clone())
}

fn figures(truth: &[f64], pred: &[f64]) -> ErrorFigures {
    ErrorFigures {
        mae: mae(truth, pred),
        mse: mse(truth, pred),
        rmse: rmse(truth, pred),
        r2: r2(truth, pred),
    }
}

/// A project without held-out rows: the pool estimate, with the plain
/// cross-validation beside it; the plain cross-validation alone when no
/// unlabeled row is left to estimate on.
fn without_test_rows(
    learner: &dyn al_models::Fit,
    train: &al_data::Rows,
    pool: &al_data::Rows,
    audit: &[usize],
    seed: u64,
) -> Result<Measured> {
    if train.len() < 5 {
        bail!(
            "{} labeled row(s) and no held-out rows: label at least 5 to measure by 5-fold cross-validation",
            train.len()
        );
    }
    let truth = train.targets();
    let labeled = features(train);
    if pool.len() < 2 {
        let oof = cross_val_predict(learner, &labeled, &truth, 5, seed)?;
        return Ok(Measured {
            labels: train.len(),
            figures: figures(&truth, &oof),
            method: EvalMethod::Cv5,
            interval: None,
            cross_validation: None,
            detail: None,
        });
    }
    let (oof, estimate) = PoolErrorParams::default().cross_validate_and_estimate(
        learner,
        &labeled,
        &truth,
        &features(pool),
        audit,
        seed,
    )?;
    Ok(Measured {
        labels: train.len(),
        figures: ErrorFigures {
            mae: estimate.mae.estimate,
            mse: estimate.mse,
            rmse: estimate.rmse.estimate,
            r2: estimate.r2,
        },
        method: EvalMethod::PoolEstimate,
        interval: Some(ErrorInterval {
            level: estimate.level,
            mae_low: estimate.mae.low,
            mae_high: estimate.mae.high,
            rmse_low: estimate.rmse.low,
            rmse_high: estimate.rmse.high,
        }),
        cross_validation: Some(figures(&truth, &oof)),
        detail: Some(serde_json::to_value(&estimate)?),
    })
}

fn cv_score(spec: &ModelSpec, x: &Matrix, y: &[f64], seed: u64) -> Result<ModelScore> {
    let oof = cross_val_folds(&*spec.build()?, x, y, 5, seed)?;
    Ok(ModelScore {
        model: spec.to_string(),
        mae: Some(mae(y, &oof.predictions)),
        mae_spread: Some(mean_std(&oof.per_fold(y, mae)).std),
        rmse: Some(rmse(y, &oof.predictions)),
        rmse_spread: Some(mean_std(&oof.per_fold(y, rmse)).std),
        error: None,
    })
}

/// How a report was measured, in words.
pub fn method_text(method: EvalMethod) -> &'static str {
    match method {
        EvalMethod::Holdout => "on the held-out rows",
        EvalMethod::Cv5 => "by 5-fold cross-validation on the labeled rows (no held-out rows)",
        EvalMethod::PoolEstimate => {
            "estimated on the unlabeled rows from the labeled rows, corrected for how they were picked (no held-out rows)"
        }
    }
}
