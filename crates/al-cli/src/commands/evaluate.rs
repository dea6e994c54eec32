//! `evaluate`: fit on the training rows, measure on the held-out test rows
//! (or by 5-fold cross-validation when there are none).

use anyhow::{bail, Result};
use serde_json::json;

use al_data::store::EvalMethod;
use al_data::{store, Project, Report, Subset};
use al_models::metrics::{mae, mse, r2, relative_improvement, rmse};
use al_models::validation::cross_val_predict;
use al_models::{Matrix, ModelSpec};

use crate::cli::{EvaluateArgs, Global};
use crate::output::print_json;

pub fn run(global: &Global, args: EvaluateArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let spec = crate::plugins::model_spec(global, &project, &args.model)?;
    let report = evaluate(&mut project, &spec, args.seed)?;
    print_report(global, &project, &report)
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
