//! `evaluate`: fit on the training rows, measure on the held-out test rows
//! (or by 5-fold cross-validation when there are none).

use al_models::metrics::display;
use anyhow::Result;
use serde_json::json;

use al::{method_text, Comparison, Project, Report};
use al_models::metrics::relative_improvement;

use crate::cli::{EvaluateArgs, Global};
use crate::output::{print_json, table};

pub fn run(global: &Global, args: EvaluateArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    if let Some(list) = &args.models {
        // Every spec is checked before any model is fitted.
        let specs = project.model_specs(&list.0)?;
        let mut spinner: Option<indicatif::ProgressBar> = None;
        let comparison = project.compare_models(&specs, args.seed, args.set_default, |spec| {
            if let Some(s) = spinner.take() {
                s.finish_and_clear();
            }
            spinner = crate::output::spinner(global, &format!("measuring {spec}"));
        });
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        print_comparison(global, &comparison?);
        return Ok(());
    }
    let spec = project.model_spec(args.model.as_deref())?;
    let report = project.evaluate(&spec, args.seed)?;
    print_report(global, &project, &report)
}

fn print_comparison(global: &Global, comparison: &Comparison) {
    let scores = &comparison.models;
    let stored = comparison.set_default.as_ref();
    if global.json {
        print_json(&json!(comparison));
        return;
    }
    if global.quiet {
        return;
    }
    let mut t = table(&["model", "MAE ± std over folds", "RMSE ± std over folds"]);
    for s in scores {
        let cell = |v: Option<f64>, sd: Option<f64>| match (v, sd) {
            (Some(v), Some(sd)) => format!("{} ± {}", display(v), display(sd)),
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

/// Prints a report with its change against the previous and the first one.
pub fn print_report(global: &Global, project: &Project, report: &Report) -> Result<()> {
    // Compared with earlier reports measured the same way only: an
    // estimate against a plain cross-validation says nothing about progress.
    let all: Vec<Report> = project
        .reports()?
        .into_iter()
        .filter(|r| r.method == report.method)
        .collect();
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
            "interval": report.interval,
            "cross_validation": report.cross_validation,
            "improvement_vs_previous_pct": change(previous),
            "improvement_vs_first_pct": change(first),
        }));
    } else if !global.quiet {
        println!(
            "{} training labels: MAE {}{}  MSE {}  RMSE {}  R² {:.4}  ({}), measured {}",
            report.labels,
            display(report.mae),
            report.interval.map_or(String::new(), |i| format!(
                " [{}, {}]",
                display(i.mae_low),
                display(i.mae_high)
            )),
            display(report.mse),
            display(report.rmse),
            report.r2,
            report.model,
            method_text(report.method)
        );
        if let (Some(i), Some(cv)) = (report.interval, report.cross_validation) {
            println!(
                "[ ]: {:.0} % interval. Plain 5-fold cross-validation on the labeled rows: MAE {} (it measures the rows al picked, not the pool)",
                i.level * 100.0,
                display(cv.mae)
            );
        }
        if let (Some(p), Some(f)) = (change(previous), change(first)) {
            println!(
                "MAE improvement: {p:+.1} % since the previous report, {f:+.1} % since the first"
            );
        }
    }
    Ok(())
}
