//! Reports and simulations as learning-curve series (drawn by [`crate::plot`]).

use std::collections::BTreeMap;

use anyhow::Result;

use al_data::store::EvalMethod;
use al_data::Report;
use al_query::simulate::SimulationResult;

use crate::forecast::{project_forecast, ProjectForecast, Snapshot, StopBelow};

/// The meta key of the last three rounds' stop-set predictions.
pub(crate) const SNAPSHOTS: &str = "stop_set_predictions";
use crate::plot::{learning_curves_svg, CatchUp, ForecastPoint, Series};
use crate::Project;

/// The title of the project's learning curve, after how its latest report
/// was measured.
pub fn curve_title(reports: &[Report]) -> &'static str {
    match reports.last().map(|r| r.method) {
        Some(EvalMethod::PoolEstimate) => "MAE on the unlabeled rows (estimated) by labels",
        Some(EvalMethod::Cv5) => "cross-validated MAE by labels",
        Some(EvalMethod::Holdout) | None => "test MAE by labels",
    }
}

/// The title of a simulation's learning curves.
pub const SIMULATION_TITLE: &str = "test MAE by labels (mean ± 1 std; ◆ where random catches up)";

impl Project {
    /// The stored evaluations, oldest first.
    pub fn reports(&self) -> Result<Vec<Report>> {
        Ok(self.file.reports()?)
    }

    /// The learning curve of the stored reports as SVG, with the forecast
    /// dashed past the last round.
    pub fn learning_curve_svg(&self) -> Result<String> {
        learning_curve_svg(&self.reports()?, self.forecast()?.as_ref())
    }

    /// The share of the current error below which the stopping rule says
    /// stop: the one stored by [`Project::set_stop_below`], else 1 %.
    pub fn stop_below(&self) -> Result<StopBelow> {
        stop_below_of(&self.file)
    }

    /// Stores the stopping rule's threshold in the project.
    pub fn set_stop_below(&mut self, stop_below: StopBelow) -> Result<()> {
        self.file.write(|tx| {
            al_data::store::set_meta(tx, "stop_below", &stop_below.share().to_string())
        })?;
        Ok(())
    }

    /// What the next batches are likely to buy and whether to stop, from
    /// the stored reports; `None` before the first report.
    pub fn forecast(&self) -> Result<Option<ProjectForecast>> {
        forecast_of(&self.file)
    }

    /// The stop set's predictions at the last queried rounds, oldest first.
    pub(crate) fn snapshots(&self) -> Result<Vec<Snapshot>> {
        snapshots_of(&self.file)
    }

    /// A stored simulation's results, or an error naming what to run.
    pub fn simulation(&self, id: i64) -> Result<SimulationResult> {
        let stored = self.file.simulation(id)?.ok_or_else(|| {
            crate::error::refused(
                "simulation",
                &format!(
                    "no simulation {id} in {}; `al-cli simulate` stores one",
                    self.path().display()
                ),
            )
        })?;
        Ok(serde_json::from_str(&stored.results_json)?)
    }
}

/// The forecast and advice of a project file (the workbench holds the file
/// itself, not a [`Project`]).
pub fn forecast_of(file: &al_data::Project) -> Result<Option<ProjectForecast>> {
    Ok(project_forecast(
        &file.reports()?,
        stop_below_of(file)?,
        &snapshots_of(file)?,
    ))
}

fn stop_below_of(file: &al_data::Project) -> Result<StopBelow> {
    Ok(match file.meta("stop_below")? {
        Some(text) => StopBelow::parse(&text)?,
        None => StopBelow::default(),
    })
}

fn snapshots_of(file: &al_data::Project) -> Result<Vec<Snapshot>> {
    Ok(match file.meta(SNAPSHOTS)? {
        Some(text) => serde_json::from_str(&text)?,
        None => Vec::new(),
    })
}

/// The report series with the forecast of the MAE dashed past the line
/// that holds the last report.
/// The learning curve of `reports` as SVG, with `forecast` dashed past the
/// last round: for a caller that already holds both (the forecast fits a
/// curve; a report page needs it as numbers too).
pub fn learning_curve_svg(
    reports: &[Report],
    forecast: Option<&ProjectForecast>,
) -> Result<String> {
    learning_curves_svg(curve_title(reports), &report_series_with(reports, forecast))
}

pub fn report_series_with(reports: &[Report], forecast: Option<&ProjectForecast>) -> Vec<Series> {
    let mut series = full_series(reports);
    if let (Some(last), Some(mae)) = (reports.last(), forecast.and_then(|f| f.mae.as_ref())) {
        let key = line_name(last);
        if let Some(line) = series.iter_mut().find(|s| s.name == key) {
            line.forecast = Some(
                mae.ahead
                    .iter()
                    .map(|a| ForecastPoint {
                        labels: a.labels as f64,
                        expected: a.expected,
                        low: a.low,
                        high: a.high,
                    })
                    .collect(),
            );
        }
    }
    short_names(&mut series);
    series
}

fn line_name(r: &Report) -> String {
    format!(
        "{} / {}",
        r.strategy.as_deref().unwrap_or("initial"),
        r.model
    )
}

/// A legend name without the specs' parameters ("cover / forest"), unless
/// that would make two lines look alike.
fn short_names(series: &mut [Series]) {
    let short = |name: &str| {
        name.split(" / ")
            .map(|spec| spec.split(':').next().unwrap_or(spec))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let names: Vec<String> = series.iter().map(|s| short(&s.name)).collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    if distinct.len() == names.len() {
        for (s, n) in series.iter_mut().zip(names) {
            s.name = n;
        }
    }
}

/// One line per strategy and model through the stored reports' MAE.
pub fn report_series(reports: &[Report]) -> Vec<Series> {
    let mut series = full_series(reports);
    short_names(&mut series);
    series
}

/// The lines, named by their full specs.
fn full_series(reports: &[Report]) -> Vec<Series> {
    let mut by_line: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for r in reports {
        let e = by_line.entry(line_name(r)).or_default();
        e.0.push(r.labels as f64);
        e.1.push(r.mae);
    }
    by_line
        .into_iter()
        .map(|(name, (x, y))| Series {
            name,
            x,
            y,
            std: None,
            catch_up: None,
            forecast: None,
        })
        .collect()
}

/// One line per strategy: the mean test MAE over repeats with a ±1 std
/// band, and where random catches up with it.
pub fn simulation_series(result: &SimulationResult) -> Vec<Series> {
    // Where random's run stopped: a strategy it never caught up with gets
    // a dashed line to there.
    let random_end = result
        .strategies
        .first()
        .and_then(|r| r.curves.first())
        .and_then(|c| c.labels.last())
        .map_or(0.0, |&l| l as f64);
    result
        .strategies
        .iter()
        .filter(|s| !s.curves.is_empty())
        .map(|s| {
            let rounds = s.curves[0].mae.len();
            let (mut mean, mut std) = (vec![], vec![]);
            for r in 0..rounds {
                let v: Vec<f64> = s
                    .curves
                    .iter()
                    .filter_map(|c| c.mae.get(r).copied())
                    .collect();
                let m = v.iter().sum::<f64>() / v.len() as f64;
                mean.push(m);
                std.push(
                    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt(),
                );
            }
            let catch_up = s.labels_saved.as_ref().map(|l| {
                let b = &l.mae.budget;
                CatchUp {
                    labels: b.labels as f64,
                    baseline_labels: b.random_labels.unwrap_or(random_end),
                    error: b.error,
                    reached: b.random_labels.is_some(),
                }
            });
            Series {
                name: s.given.clone().unwrap_or_else(|| s.name.clone()),
                x: s.curves[0].labels.iter().map(|&l| l as f64).collect(),
                y: mean,
                std: Some(std),
                catch_up,
                forecast: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(labels: u64, strategy: &str, model: &str) -> Report {
        Report {
            round: Some(1),
            labels,
            mae: 1.0,
            mse: 1.0,
            rmse: 1.0,
            r2: 0.0,
            model: model.into(),
            strategy: Some(strategy.into()),
            created_at: String::new(),
            method: crate::EvalMethod::Cv5,
            interval: None,
            cross_validation: None,
            detail: None,
        }
    }

    #[test]
    fn legend_names_drop_the_parameters_unless_two_lines_would_look_alike() {
        let one = [report(20, "cover:hedge=0.2", "forest:trees=100")];
        assert_eq!(report_series(&one)[0].name, "cover / forest");
        let two = [
            report(20, "cover:hedge=0.2", "forest:trees=100"),
            report(30, "cover:hedge=0.5", "forest:trees=100"),
        ];
        let names: Vec<String> = report_series(&two).into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "cover:hedge=0.2 / forest:trees=100",
                "cover:hedge=0.5 / forest:trees=100"
            ]
        );
    }
}
