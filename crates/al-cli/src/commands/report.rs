//! `report`: the stored evaluations, or a stored simulation.

use al_models::metrics::display;
use anyhow::Result;
use serde_json::json;

use al::plot::learning_curves;
use al::{curve_title, report_series_with, Project, ProjectForecast};
use al_models::metrics::relative_improvement;

use crate::cli::{Format, Global, ReportArgs};
use crate::output::{print_json, print_rows};

pub fn run(global: &Global, args: ReportArgs) -> Result<()> {
    if let Some(stop_below) = args.stop_below {
        Project::open(&global.project, global.settings())?.set_stop_below(stop_below)?;
    }
    let project = Project::open_for_reading(&global.project, global.settings())?;
    if let Some(id) = args.simulation {
        return simulation(global, &project, id, &args);
    }
    let reports = project.reports()?;
    let forecast = project.forecast()?;
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    if let Some(path) = &args.plot {
        learning_curves(
            path,
            curve_title(&reports),
            &report_series_with(&reports, forecast.as_ref()),
        )?;
    }
    if format == Format::Json {
        let list: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({"round": r.round, "labels": r.labels, "mae": r.mae, "mse": r.mse, "rmse": r.rmse,
                       "r2": r.r2, "model": r.model, "strategy": r.strategy, "method": r.method,
                       "interval": r.interval, "cross_validation": r.cross_validation,
                       "estimate": r.detail, "created_at": r.created_at})
            })
            .collect();
        print_json(&json!({ "reports": list, "forecast": forecast }));
        return Ok(());
    }
    if reports.is_empty() {
        println!("no reports yet: run `al-cli evaluate` (label imports run it too)");
        return Ok(());
    }
    let estimated = reports.iter().any(|r| r.interval.is_some());
    let rows: Vec<Vec<String>> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // Changes against the earlier reports measured the same way.
            let same: Vec<&al::Report> = reports[..i]
                .iter()
                .filter(|e| e.method == r.method)
                .collect();
            let prev = same.last().map(|p| p.mae);
            let first = same.first().map_or(r.mae, |f| f.mae);
            let mut row = vec![
                r.round.map_or("-".into(), |v| v.to_string()),
                r.labels.to_string(),
                display(r.mae),
            ];
            if estimated {
                row.push(r.interval.map_or("-".into(), |i| {
                    format!("{} – {}", display(i.mae_low), display(i.mae_high))
                }));
            }
            row.extend([
                display(r.mse),
                display(r.rmse),
                format!("{:.4}", r.r2),
                prev.map_or("-".into(), |p| {
                    format!("{:+.1}", relative_improvement(p, r.mae))
                }),
                format!("{:+.1}", relative_improvement(first, r.mae)),
                r.method.as_str().to_string(),
            ]);
            if estimated {
                row.push(r.cross_validation.map_or("-".into(), |c| display(c.mae)));
            }
            row.extend([
                r.strategy.clone().unwrap_or_else(|| "-".into()),
                r.model.clone(),
            ]);
            row
        })
        .collect();
    let mut header = vec!["round", "labels", "MAE"];
    if estimated {
        header.push("MAE 80 % interval");
    }
    header.extend([
        "MSE",
        "RMSE",
        "R²",
        "MAE vs prev %",
        "MAE vs first %",
        "measured",
    ]);
    if estimated {
        header.push("CV MAE on picked rows");
    }
    header.extend(["strategy", "model"]);
    print_rows(&header, &rows, format);
    print_methods(&reports);
    if let Some(f) = &forecast {
        print_forecast(f);
    }
    if let Some(p) = &args.plot {
        println!("learning curve: {}", p.display());
    }
    Ok(())
}

/// What each way of measuring in the table means, once per way used.
fn print_methods(reports: &[al::Report]) {
    let mut seen = Vec::new();
    for r in reports {
        if !seen.contains(&r.method) {
            seen.push(r.method);
        }
    }
    for method in seen {
        let note = match method {
            al::EvalMethod::Holdout => "the held-out rows, never trained on",
            al::EvalMethod::Cv5 => {
                "5-fold cross-validation on the labeled rows; when al picked them, it measures the rows it found hard, not the pool"
            }
            al::EvalMethod::PoolEstimate => {
                "the error on the unlabeled rows, estimated from the labeled rows' cross-validation corrected for how al picked them, with an 80 % interval; \"CV MAE on picked rows\" is the plain cross-validation, which overstates it (docs/decide.md)"
            }
        };
        println!("{}: {note}", method.as_str());
    }
    if let Some(line) = reports.last().and_then(audit_line) {
        println!("{line}");
    }
}

/// What the random audit rows said in the latest report, when there were
/// enough of them to check the estimate.
fn audit_line(report: &al::Report) -> Option<String> {
    let detail = report.detail.as_ref()?;
    let rows = detail.get("audit_rows")?.as_u64()?;
    let audit: Option<al_models::pool_error::Interval> = detail
        .get("audit_mae")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    match audit {
        Some(mae) => Some(format!(
            "audit: {rows} labeled rows were drawn at random (query --audit); they alone put the MAE at {} (80 %: {} – {}), with no assumption about how the others were picked",
            display(mae.estimate),
            display(mae.low),
            display(mae.high)
        )),
        None if rows > 0 => Some(format!(
            "audit: {rows} labeled row(s) drawn at random (query --audit); the estimate is checked against them from {} on",
            al_models::pool_error::MIN_AUDIT_ROWS
        )),
        None => None,
    }
}

/// The forecast under the table, then the advice.
fn print_forecast(f: &ProjectForecast) {
    println!();
    match (&f.mae, &f.rmse) {
        (Some(mae), rmse) => {
            println!(
                "forecast ({} errors of {}, power law fitted on {} rounds; 80 % band):",
                f.measured, f.model, f.points
            );
            for (k, a) in mae.ahead.iter().enumerate() {
                let rmse = rmse.as_ref().map(|r| &r.ahead[k]);
                println!(
                    "  +{} batch{} ({} labels): MAE {} [{}, {}]{}",
                    a.batches,
                    if a.batches == 1 { "" } else { "es" },
                    a.labels,
                    display(a.expected),
                    display(a.low),
                    display(a.high),
                    rmse.map_or(String::new(), |r| format!(
                        ", RMSE {} [{}, {}]",
                        display(r.expected),
                        display(r.low),
                        display(r.high)
                    ))
                );
            }
        }
        (None, _) => println!(
            "forecast: {} more evaluated round(s) needed to fit a learning curve",
            f.need_more.max(1)
        ),
    }
    println!("{}", advice_line(&f.advice));
}

/// "stop: ..." or "continue: ...".
pub fn advice_line(advice: &al::Advice) -> String {
    let word = match advice.decision {
        al::Decision::Stop => "stop",
        al::Decision::Continue => "continue",
    };
    format!("advice: {word}: {}", advice.explain())
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
