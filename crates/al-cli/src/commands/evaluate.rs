//! `evaluate`: fit on the training rows, measure on the held-out test rows
//! (or by 5-fold cross-validation when there are none).

use anyhow::{bail, Result};
use serde_json::json;

use al_data::store::EvalMethod;
use al_data::{store, Project, Report, Subset};
use al_models::metrics::{mae, mean_std, mse, r2, relative_improvement, rmse};
use al_models::validation::{cross_val_folds, cross_val_predict};
use al_models::{Matrix, ModelSpec, MODELS};

use crate::cli::{EvaluateArgs, Global};
use crate::output::{print_json, table};

pub fn run(global: &Global, args: EvaluateArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    if let Some(list) = &args.models {
        let registry = crate::plugins::registry(global, Some(&project))?;
        // Every spec is checked before any model is fitted.
        let specs = model_list(&list.0)
            .iter()
            .map(|text| Ok(registry.model(text)?))
            .collect::<Result<Vec<ModelSpec>>>()?;
        return compare(global, &mut project, &specs, args.seed, args.set_default);
    }
    let spec = crate::plugins::model_spec(global, &project, args.model.as_deref())?;
    let report = evaluate(&mut project, &spec, args.seed)?;
    print_report(global, &project, &report)
}

/// `all` means every built-in model with its defaults.
fn model_list(given: &[String]) -> Vec<String> {
    if given.len() == 1 && given[0] == "all" {
        return MODELS.iter().map(|m| m.name.to_string()).collect();
    }
    given.to_vec()
}

/// One model's figures in a comparison: the error and its spread (the
/// standard deviation over the five folds), or why it could not be fitted.
#[derive(Debug, Clone, serde::Serialize)]
struct ModelScore {
    model: String,
    mae: Option<f64>,
    mae_spread: Option<f64>,
    rmse: Option<f64>,
    rmse_spread: Option<f64>,
    error: Option<String>,
}

/// Measures each model by 5-fold cross-validation on the same labeled rows
/// (the same folds for all) and prints them best first; with `set_default`,
/// stores the best as the project's model. Never on the held-out rows: a
/// model chosen on them would make every later report on them optimistic.
fn compare(
    global: &Global,
    project: &mut Project,
    specs: &[ModelSpec],
    seed: u64,
    set_default: bool,
) -> Result<()> {
    let train = project.load(Subset::Training, false)?;
    if train.len() < 5 {
        bail!(
            "{} labeled row(s): label at least 5 to compare models by 5-fold cross-validation",
            train.len()
        );
    }
    let train_x = Matrix::new(train.features.clone(), train.width);
    let truth = train.targets();
    let mut scores = Vec::with_capacity(specs.len());
    for spec in specs {
        let spinner = crate::output::spinner(global, &format!("measuring {spec}"));
        let measured = cv_score(spec, &train_x, &truth, seed);
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        scores.push(measured.unwrap_or_else(|e| ModelScore {
            model: spec.to_string(),
            mae: None,
            mae_spread: None,
            rmse: None,
            rmse_spread: None,
            error: Some(format!("{e:#}")),
        }));
    }
    scores.sort_by(|a, b| {
        let key = |s: &ModelScore| s.mae.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    });
    let best = scores.first().filter(|s| s.mae.is_some()).cloned();
    let Some(best) = best else {
        bail!(
            "no model could be fitted: {}",
            scores[0].error.clone().unwrap_or_default()
        );
    };
    if set_default {
        project.write(|tx| store::set_default_model(tx, &best.model))?;
    }
    print_comparison(global, &scores, set_default.then_some(&best.model));
    Ok(())
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

fn print_comparison(global: &Global, scores: &[ModelScore], stored: Option<&String>) {
    if global.json {
        print_json(&json!({
            "method": EvalMethod::Cv5,
            "models": scores,
            "best": scores[0].model,
            "set_default": stored,
        }));
        return;
    }
    if global.quiet {
        return;
    }
    let mut t = table(&["model", "MAE ± std over folds", "RMSE ± std over folds"]);
    for s in scores {
        let cell = |v: Option<f64>, sd: Option<f64>| match (v, sd) {
            (Some(v), Some(sd)) => format!("{v:.4} ± {sd:.4}"),
            _ => "—".to_string(),
        };
        let mae_cell = match &s.error {
            Some(e) => format!("failed: {e}"),
            None => cell(s.mae, s.mae_spread),
        };
        t.add_row(vec![s.model.clone(), mae_cell, cell(s.rmse, s.rmse_spread)]);
    }
    println!("{t}");
    println!("measured by 5-fold cross-validation on the labeled training rows, the same folds for every model");
    match stored {
        Some(model) => println!(
            "stored {model} as the project's model: later commands use it unless given --model"
        ),
        None => println!(
            "best: {}; `--set-default` stores it as the project's model",
            scores[0].model
        ),
    }
}

/// Measures `spec` and stores the report: fitted on every labeled training
/// row and measured on the held-out rows, or, when there are none, by
/// 5-fold cross-validation on the labeled rows.
pub fn evaluate(project: &mut Project, spec: &ModelSpec, seed: u64) -> Result<Report> {
    let train = project.load(Subset::Training, false)?;
    let test = project.load(Subset::Test, false)?;
    let learner = spec.build()?;
    let train_x = Matrix::new(train.features.clone(), train.width);
    let (truth, pred, method) = if test.is_empty() {
        if train.len() < 5 {
            bail!(
                "{} labeled row(s) and no held-out rows: label at least 5 to measure by 5-fold cross-validation",
                train.len()
            );
        }
        let truth = train.targets();
        let pred = cross_val_predict(&*learner, &train_x, &truth, 5, seed)?;
        (truth, pred, EvalMethod::Cv5)
    } else {
        let fitted = learner.fit(&train_x, &train.targets(), seed)?;
        let pred = fitted.predict(&Matrix::new(test.features.clone(), test.width))?;
        (test.targets(), pred, EvalMethod::Holdout)
    };
    let round = project.last_round()?;
    let report = Report {
        round: round.as_ref().map(|r| r.round),
        labels: train.len() as u64,
        mae: mae(&truth, &pred),
        mse: mse(&truth, &pred),
        rmse: rmse(&truth, &pred),
        r2: r2(&truth, &pred),
        model: spec.to_string(),
        strategy: round.map(|r| r.strategy),
        created_at: String::new(),
        method,
    };
    project.write(|tx| store::insert_report(tx, &report))?;
    Ok(report)
}

/// Whether there is enough to measure: held-out rows, or five labels for
/// cross-validation.
pub fn measurable(project: &Project) -> Result<bool> {
    let counts = project.counts()?;
    Ok(counts.test > 0 || counts.labeled >= 5)
}

/// How a report was measured, in words.
pub fn method_text(method: EvalMethod) -> &'static str {
    match method {
        EvalMethod::Holdout => "on the held-out rows",
        EvalMethod::Cv5 => "by 5-fold cross-validation on the labeled rows (no held-out rows)",
    }
}

/// Prints a report with its change against the previous and the first one.
pub fn print_report(global: &Global, project: &Project, report: &Report) -> Result<()> {
    let all = project.reports()?;
    let previous = all.len().checked_sub(2).map(|i| all[i].mae);
    let first = all.first().filter(|_| all.len() > 1).map(|r| r.mae);
    let change = |before: Option<f64>| before.map(|b| relative_improvement(b, report.mae));
    if global.json {
        print_json(&json!({
            "labels": report.labels,
            "mae": report.mae,
            "mse": report.mse,
            "rmse": report.rmse,
            "r2": report.r2,
            "model": report.model,
            "method": report.method,
            "improvement_vs_previous_pct": change(previous),
            "improvement_vs_first_pct": change(first),
        }));
    } else if !global.quiet {
        println!(
            "{} training labels: MAE {:.4}  MSE {:.4}  RMSE {:.4}  R² {:.4}  ({}), measured {}",
            report.labels,
            report.mae,
            report.mse,
            report.rmse,
            report.r2,
            report.model,
            method_text(report.method)
        );
        if let (Some(p), Some(f)) = (change(previous), change(first)) {
            println!(
                "MAE improvement: {p:+.1} % since the previous report, {f:+.1} % since the first"
            );
        }
    }
    Ok(())
}
