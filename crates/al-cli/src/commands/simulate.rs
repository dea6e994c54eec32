//! `simulate`: the article's experiment on the project's labeled rows.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use al_models::metrics::display;
use anyhow::Result;
use serde_json::json;

use al::plot::learning_curves;
use al::{
    simulation_series, Metric, Mode, OnStop, Project, SimulateOptions, SimulationConfig,
    SimulationResult, SimulationRun, SIMULATION_TITLE,
};
use al_query::savings::{LabelsSaved, SavedAt};
use al_query::simulate::strategy_names;

use crate::cli::{Format, Global, SimulateArgs};
use crate::output::{notice, print_json};

pub fn run(global: &Global, args: SimulateArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    let options = options(&args);
    // Every setting of every run is checked before the first one starts.
    let configs = project.simulation_configs(&options)?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Only the first handler installed in a process takes effect.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let mut runs = Vec::with_capacity(configs.len());
    for config in configs {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let bars = progress_bars(global, &config);
        let progress = |name: &str, repeat: usize, round: usize| {
            if let Some(b) = &bars {
                b.set(name, repeat, round);
            }
        };
        let run = project.simulate_config(
            &options,
            config,
            &stop,
            OnStop::KeepFinishedRepeats,
            &progress,
        );
        if let Some(b) = bars {
            b.clear();
        }
        let run = run?;
        if run.result.repeats_done < run.config.repeats {
            notice(
                global.quiet,
                &format!(
                    "interrupted: keeping the {} finished repeat(s)",
                    run.result.repeats_done
                ),
            );
        }
        if !global.json && !global.quiet {
            print_outcome(&args, &run.config, &run.result, run.labeled, run.id);
        }
        runs.push(run);
    }
    if let (Some(path), Some(run)) = (&args.plot, runs.last()) {
        plot_simulation(path, &run.result)?;
    }
    if global.json {
        match runs.as_slice() {
            [one] if args.models.is_none() => print_json(&simulation_json(one.id, &one.result)),
            _ => print_json(&json!({
                "models": runs
                    .iter()
                    .map(|r| {
                        let mut j = simulation_json(r.id, &r.result);
                        j["model"] = json!(r.config.model);
                        j
                    })
                    .collect::<Vec<_>>()
            })),
        }
    } else if !global.quiet && runs.len() > 1 {
        print_models_side_by_side(&runs);
    }
    Ok(())
}

/// The library's options from the flags.
fn options(args: &SimulateArgs) -> SimulateOptions {
    SimulateOptions {
        strategies: args.strategies.0.clone(),
        models: match (&args.models, &args.model) {
            (Some(list), _) => list.0.clone(),
            (None, Some(one)) => vec![one.clone()],
            (None, None) => vec![],
        },
        init: args.init,
        batch: args.batch,
        rounds: args.rounds,
        repeats: args.repeats,
        seed: args.seed,
        candidates: args.candidates,
        pool_max: args.pool_max,
        diversity: args.diversity,
        test_frac: args.test_frac,
        mode: match args.mode {
            crate::cli::SimMode::Pool => Mode::Pool,
            crate::cli::SimMode::Stream => Mode::Stream,
            crate::cli::SimMode::Synthesis => Mode::Synthesis,
        },
        metric: match args.metric {
            crate::cli::MetricArg::Mae => Metric::Mae,
            crate::cli::MetricArg::Rmse => Metric::Rmse,
        },
        cold_start: args.cold_start,
        random_budget: args.random_budget,
        oracle: args.oracle.clone(),
    }
}

/// The strategy effect (ratio to random under the same model) and the model
/// effect (final error) in one table, one row per model and strategy.
fn print_models_side_by_side(runs: &[SimulationRun]) {
    let mut t = crate::output::table(&[
        "model",
        "strategy",
        "AULC ratio to random",
        "95 % interval",
        "final MAE",
    ]);
    for run in runs {
        for s in &run.result.strategies {
            t.add_row(vec![
                run.config.model.clone(),
                s.name.clone(),
                format!("{:.3}", s.aulc_ratio_mean),
                format!("[{:.3}, {:.3}]", s.aulc_ratio_ci[0], s.aulc_ratio_ci[1]),
                display(s.final_mae_mean),
            ]);
        }
    }
    println!("{t}");
    println!("same seed, initial rows and test split for every model; the ratio compares a strategy with random under its own model, the final MAE compares the models");
}

fn print_outcome(
    args: &SimulateArgs,
    config: &SimulationConfig,
    result: &SimulationResult,
    labeled: usize,
    id: i64,
) {
    if config.mode == Mode::Synthesis {
        println!(
            "synthesis mode: committee-chosen and random synthetic rows, labeled by the {} oracle over the known rows (an approximation of an annotator), against pool-mode random and committee",
            args.oracle
        );
    }
    if config.mode == Mode::Stream {
        println!(
            "stream mode: the pool arrives one row at a time; each strategy may spend {} labels",
            config.rounds * config.batch
        );
    }
    println!(
        "{labeled} labeled rows, {} repeat(s) of {} rounds of {} from {} initial labels{}, model {}",
        result.repeats_done,
        config.rounds,
        config.batch,
        config.init,
        if config.cold_start {
            " (chosen by the cold-start strategy, random's at random)"
        } else {
            ""
        },
        config.model
    );
    print_simulation(result, Format::Table);
    let metric = match config.metric {
        Metric::Mae => "MAE",
        Metric::Rmse => "RMSE",
    };
    println!("AULC ratio: area under the test-{metric} curve divided by random's on the same repeat (below 1 beats random); the interval is a paired bootstrap 95 % interval over repeats");
    if config.mode == Mode::Pool && config.random_budget > 1.0 {
        println!(
            "labels saved: 1 - the strategy's labels / the labels random needed to reach the same mean MAE (random ran on to {} labels; ≥ where it never caught up; negative where random needed fewer)",
            config.init + config.rounds_of("random") * config.batch
        );
    }
    println!("stored as simulation {id}: `al-cli report --simulation {id}`");
    if let Some(p) = &args.plot {
        println!("learning curves: {}", p.display());
    }
}

/// One bar per strategy × repeat of one run, on a terminal only.
struct Bars {
    multi: indicatif::MultiProgress,
    names: Vec<String>,
    repeats: usize,
    bars: Vec<indicatif::ProgressBar>,
}

impl Bars {
    fn set(&self, name: &str, repeat: usize, round: usize) {
        if let Some(s) = self.names.iter().position(|n| n == name) {
            if let Some(b) = self.bars.get(s * self.repeats + repeat) {
                b.set_position(round as u64);
            }
        }
    }

    fn clear(self) {
        for b in &self.bars {
            b.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

fn progress_bars(global: &Global, config: &SimulationConfig) -> Option<Bars> {
    let repeats = config.repeats;
    if global.quiet || global.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let names = strategy_names(config);
    let multi = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>28} {bar:30} {pos}/{len} rounds {elapsed}",
    )
    .ok()?;
    let mut bars = Vec::with_capacity(names.len() * repeats);
    for name in &names {
        for r in 0..repeats {
            let b = multi.add(indicatif::ProgressBar::new(config.rounds_of(name) as u64));
            b.set_style(style.clone());
            b.set_prefix(format!("{name} #{}", r + 1));
            bars.push(b);
        }
    }
    Some(Bars {
        multi,
        names,
        repeats,
        bars,
    })
}

pub fn simulation_json(id: i64, result: &SimulationResult) -> serde_json::Value {
    let strategies: Vec<_> = result
        .strategies
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "given": s.given,
                "shown_vs_true": s.shown_vs_true,
                "aulc_ratio_mean": s.aulc_ratio_mean,
                "aulc_ratio_std": s.aulc_ratio_std,
                "aulc_ratio_ci": s.aulc_ratio_ci,
                "mae_ratio": {"mean": s.mae_ratio.mean, "ci": s.mae_ratio.ci, "per_repeat": s.mae_ratio.per_repeat},
                "rmse_ratio": {"mean": s.rmse_ratio.mean, "ci": s.rmse_ratio.ci, "per_repeat": s.rmse_ratio.per_repeat},
                "labels_saved": s.labels_saved,
                "curves": {
                    "labels": s.curves.first().map(|c| &c.labels),
                    "mae": s.curves.iter().map(|c| &c.mae).collect::<Vec<_>>(),
                    "mse": s.curves.iter().map(|c| &c.mse).collect::<Vec<_>>(),
                },
                "final_mae_mean": s.final_mae_mean,
                "final_mse_mean": s.final_mse_mean,
                "improvement_pct_mean": s.improvement_pct_mean,
                "seconds_per_round": s.seconds_per_round,
            })
        })
        .collect();
    json!({ "simulation": id, "repeats": result.repeats_done, "strategies": strategies })
}

fn header(result: &SimulationResult) -> Vec<String> {
    let at = |pick: fn(&SavedAt) -> &LabelsSaved| {
        result
            .strategies
            .iter()
            .find_map(|s| s.labels_saved.as_ref().map(|l| pick(&l.mae).labels))
    };
    let saved = |labels: Option<usize>| match labels {
        Some(n) => format!("labels saved at {n} [95 %]"),
        None => "labels saved [95 %]".into(),
    };
    vec![
        "strategy".into(),
        "AULC ratio".into(),
        "95 % interval".into(),
        saved(at(|s| &s.budget)),
        saved(at(|s| &s.half)),
        "final MAE".into(),
        "final MSE".into(),
        "MAE improvement %".into(),
        "shown/true MAE [95 %]".into(),
        "s/round".into(),
    ]
}

/// "27 % [12, 38]"; "≥ 40 %" when random never caught up; "-" for random.
pub fn saved_cell(saved: Option<&LabelsSaved>) -> String {
    let Some(s) = saved else {
        return "-".into();
    };
    let pct = |v: f64| format!("{:.0}", 100.0 * v);
    format!(
        "{}{} % [{}, {}]",
        if s.at_least { "≥ " } else { "" },
        pct(s.saved),
        pct(s.ci[0]),
        pct(s.ci[1])
    )
}

fn row(s: &al_query::simulate::StrategyResult) -> Vec<String> {
    let mae = s.labels_saved.as_ref().map(|l| &l.mae);
    vec![
        s.given.clone().unwrap_or_else(|| s.name.clone()),
        format!("{:.3} ± {:.3}", s.aulc_ratio_mean, s.aulc_ratio_std),
        format!("[{:.3}, {:.3}]", s.aulc_ratio_ci[0], s.aulc_ratio_ci[1]),
        saved_cell(mae.map(|m| &m.budget)),
        saved_cell(mae.map(|m| &m.half)),
        display(s.final_mae_mean),
        format!("{:.1}", s.final_mse_mean),
        format!("{:.1}", s.improvement_pct_mean),
        s.shown_vs_true.map_or("-".into(), |v| {
            format!(
                "{:.2} [{:.2}, {:.2}]",
                v.estimate_ratio, v.estimate_ci[0], v.estimate_ci[1]
            )
        }),
        format!("{:.3}", s.seconds_per_round),
    ]
}

pub fn print_simulation(result: &SimulationResult, format: Format) {
    let rows: Vec<Vec<String>> = result.strategies.iter().map(row).collect();
    let header = header(result);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    crate::output::print_rows(&header, &rows, format);
    if format == Format::Table {
        print_footnotes(result);
    }
}

/// What the shown/true column means, and the specs behind the names given.
fn print_footnotes(result: &SimulationResult) {
    if let Some(s) = result.strategies.iter().find_map(|s| s.shown_vs_true) {
        println!(
            "shown/true: the MAE a project with these labels and no held-out rows reports (the pool estimate) over the MAE on the rows left unlabeled, at the budget, over {} repeats (1 = exact; plain cross-validation on the picked rows per strategy in --json)",
            s.repeats
        );
    }
    for s in &result.strategies {
        if s.given.as_deref().is_some_and(|g| g != s.name) {
            println!("{}: {}", s.given.as_deref().unwrap_or_default(), s.name);
        }
    }
}

pub fn plot_simulation(path: &std::path::Path, result: &SimulationResult) -> Result<()> {
    learning_curves(path, SIMULATION_TITLE, &simulation_series(result))
}
