//! `report`: the stored evaluations, or a stored simulation.

use anyhow::Result;
use serde_json::json;

use al::plot::learning_curves;
use al::{report_series, Project, CURVE_TITLE};
use al_models::metrics::relative_improvement;

use crate::cli::{Format, Global, ReportArgs};
use crate::output::{print_json, print_rows};

pub fn run(global: &Global, args: ReportArgs) -> Result<()> {
    let project = Project::open_for_reading(&global.project, global.settings())?;
    if let Some(id) = args.simulation {
        return simulation(global, &project, id, &args);
    }
    let reports = project.reports()?;
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    if let Some(path) = &args.plot {
        learning_curves(path, CURVE_TITLE, &report_series(&reports))?;
    }
    if format == Format::Json {
        let list: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({"round": r.round, "labels": r.labels, "mae": r.mae, "mse": r.mse, "rmse": r.rmse,
                       "r2": r.r2, "model": r.model, "strategy": r.strategy, "method": r.method,
                       "created_at": r.created_at})
            })
            .collect();
        print_json(&json!({ "reports": list }));
        return Ok(());
    }
    if reports.is_empty() {
        println!("no reports yet: run `al-cli evaluate` (label imports run it too)");
        return Ok(());
    }
    let first = reports[0].mae;
    let rows: Vec<Vec<String>> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let prev = if i == 0 {
                None
            } else {
                Some(reports[i - 1].mae)
            };
            vec![
                r.round.map_or("-".into(), |v| v.to_string()),
                r.labels.to_string(),
                format!("{:.4}", r.mae),
                format!("{:.4}", r.mse),
                format!("{:.4}", r.rmse),
                format!("{:.4}", r.r2),
                prev.map_or("-".into(), |p| {
                    format!("{:+.1}", relative_improvement(p, r.mae))
                }),
                format!("{:+.1}", relative_improvement(first, r.mae)),
                r.method.as_str().to_string(),
                r.strategy.clone().unwrap_or_else(|| "-".into()),
                r.model.clone(),
            ]
        })
        .collect();
    let header = [
        "round",
        "labels",
        "MAE",
        "MSE",
        "RMSE",
        "R²",
        "MAE vs prev %",
        "MAE vs first %",
        "measured",
        "strategy",
        "model",
    ];
    print_rows(&header, &rows, format);
    if let Some(p) = &args.plot {
        println!("learning curve: {}", p.display());
    }
    Ok(())
}

fn simulation(global: &Global, project: &Project, id: i64, args: &ReportArgs) -> Result<()> {
    let result = project.simulation(id)?;
    if let Some(path) = &args.plot {
        super::simulate::plot_simulation(path, &result)?;
    }
    if global.json || args.format == Format::Json {
        print_json(&super::simulate::simulation_json(id, &result));
    } else {
        super::simulate::print_simulation(&result, args.format);
    }
    Ok(())
}
