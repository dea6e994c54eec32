//! `evaluate`: fit on the training rows, measure on the held-out test rows.

use anyhow::{bail, Result};
use serde_json::json;

use al_data::{store, Project, Report, Subset};
use al_models::metrics::{mae, mse, r2, relative_improvement, rmse};
use al_models::{Matrix, ModelSpec};

use crate::cli::{EvaluateArgs, Global};
use crate::output::print_json;

pub fn run(global: &Global, args: EvaluateArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let spec = crate::plugins::model_spec(global, &project, &args.model)?;
    let report = evaluate(&mut project, &spec, args.seed)?;
    print_report(global, &project, &report)
}

/// Fits `model` on every labeled training row, stores and returns the report.
pub fn evaluate(project: &mut Project, spec: &ModelSpec, seed: u64) -> Result<Report> {
    let train = project.load(Subset::Training, false)?;
    let test = project.load(Subset::Test, false)?;
    if test.is_empty() {
        bail!(
            "the project has no held-out test rows to measure on; create it with `init --test-frac 0.2` (the default once 50 rows are labeled)"
        );
    }
    let fitted = spec.build()?.fit(
        &Matrix::new(train.features.clone(), train.width),
        &train.targets(),
        seed,
    )?;
    let truth = test.targets();
    let pred = fitted.predict(&Matrix::new(test.features.clone(), test.width))?;
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
    };
    project.write(|tx| store::insert_report(tx, &report))?;
    Ok(report)
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
            "improvement_vs_previous_pct": change(previous),
            "improvement_vs_first_pct": change(first),
        }));
    } else if !global.quiet {
        println!(
            "{} training labels: MAE {:.4}  MSE {:.4}  RMSE {:.4}  R² {:.4}  ({})",
            report.labels, report.mae, report.mse, report.rmse, report.r2, report.model
        );
        if let (Some(p), Some(f)) = (change(previous), change(first)) {
            println!(
                "MAE improvement: {p:+.1} % since the previous report, {f:+.1} % since the first"
            );
        }
    }
    Ok(())
}
