//! `simulate`: the article's experiment on the project's labeled rows.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::{store, Project, Subset};
use al_models::Matrix;
use al_query::savings::{LabelsSaved, SavedAt};
use al_query::simulate::{
    run_simulation, run_synthesis_simulation, strategy_names, Metric, Mode, Oracle,
    SimulationConfig, SimulationData, SimulationResult, SynthesisData,
};
use al_query::Registry;

use crate::cli::{Format, Global, SimulateArgs};
use crate::output::{notice, print_json};
use crate::plot::{learning_curves, CatchUp, Series};

pub fn run(global: &Global, args: SimulateArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let labeled = Labeled::load(&project)?;
    if labeled.y.len() < args.init + args.batch + 2 {
        bail!(
            "the project has {} labeled rows; a simulation needs more than --init {} + --batch {}",
            labeled.y.len(),
            args.init,
            args.batch
        );
    }
    let registry = crate::plugins::registry(global, Some(&project))?;
    let models = match &args.models {
        Some(list) => list.0.clone(),
        None => vec![crate::plugins::model_text(&project, args.model.as_deref())?],
    };
    // Every setting of every run is checked before the first one starts.
    let configs = models
        .iter()
        .map(|m| config(&args, &registry, m, labeled.has_test))
        .collect::<Result<Vec<_>>>()?;
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
        let run = simulate_one(
            global,
            &args,
            &mut project,
            &labeled,
            &registry,
            config,
            &stop,
        )?;
        if !global.json && !global.quiet {
            print_outcome(&args, &run.config, &run.result, labeled.y.len(), run.id);
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

/// One finished (or interrupted, with at least one repeat) simulation,
/// stored in the project.
struct Run {
    id: i64,
    config: SimulationConfig,
    result: SimulationResult,
}

fn simulate_one(
    global: &Global,
    args: &SimulateArgs,
    project: &mut Project,
    labeled: &Labeled,
    registry: &Registry,
    config: SimulationConfig,
    stop: &Arc<AtomicBool>,
) -> Result<Run> {
    let names = strategy_names(&config);
    let bars = progress_bars(global, &names, &config);
    let progress = |name: &str, repeat: usize, round: usize| {
        if let Some((_, bars)) = &bars {
            if let Some(s) = names.iter().position(|n| n == name) {
                bars[s * config.repeats + repeat].set_position(round as u64);
            }
        }
    };
    let data = SimulationData {
        x: &labeled.x,
        y: &labeled.y,
        is_test: &labeled.is_test,
    };
    let result = if config.mode == Mode::Synthesis {
        let run = |synth: &SynthesisData| {
            run_synthesis_simulation(synth, &config, registry, stop, &progress)
        };
        with_synthesis_data(global, project, &data, &args.oracle, run)?
    } else {
        run_simulation(&data, &config, registry, stop, &progress)?
    };
    if let Some((multi, bars)) = &bars {
        for b in bars {
            b.finish_and_clear();
        }
        let _ = multi.clear();
    }
    if result.repeats_done == 0 {
        bail!("interrupted before any repeat finished; nothing stored");
    }
    if result.repeats_done < config.repeats {
        notice(
            global.quiet,
            &format!(
                "interrupted: keeping the {} finished repeat(s)",
                result.repeats_done
            ),
        );
    }
    let config_json =
        serde_json::to_string(&config).context("cannot store the simulation's settings")?;
    let result_json =
        serde_json::to_string(&result).context("cannot store the simulation's results")?;
    let id = project.write(|tx| store::insert_simulation(tx, &config_json, &result_json))?;
    Ok(Run { id, config, result })
}

/// The strategy effect (ratio to random under the same model) and the model
/// effect (final error) in one table, one row per model and strategy.
fn print_models_side_by_side(runs: &[Run]) {
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
                format!("{:.2}", s.final_mae_mean),
            ]);
        }
    }
    println!("{t}");
    println!("same seed, initial rows and test split for every model; the ratio compares a strategy with random under its own model, the final MAE compares the models");
}

/// Every labeled row, training rows first, then the held-out ones.
struct Labeled {
    x: Matrix,
    y: Vec<f64>,
    is_test: Vec<bool>,
    has_test: bool,
}

impl Labeled {
    fn load(project: &Project) -> Result<Labeled> {
        let train = project.load(Subset::Training, true)?;
        let test = project.load(Subset::Test, true)?;
        let mut features = train.features;
        features.extend_from_slice(&test.features);
        let mut y = train.labels.iter().flatten().copied().collect::<Vec<_>>();
        y.extend(test.labels.iter().flatten());
        let is_test: Vec<bool> = (0..y.len()).map(|i| i >= train.row_ids.len()).collect();
        Ok(Labeled {
            x: Matrix::new(features, train.width),
            y,
            is_test,
            has_test: !test.is_empty(),
        })
    }
}

/// The simulation's settings from the options; strategies and model stored
/// by their canonical specs, so the simulation re-runs exactly.
fn config(
    args: &SimulateArgs,
    registry: &Registry,
    model: &str,
    has_test: bool,
) -> Result<SimulationConfig> {
    let strategies = args
        .strategies
        .0
        .iter()
        .map(|s| Ok(registry.parse(s)?.name()))
        .collect::<Result<Vec<String>>>()?;
    Ok(SimulationConfig {
        strategies,
        model: registry.model(model)?.to_string(),
        init: args.init,
        batch: args.batch,
        rounds: args.rounds,
        repeats: args.repeats,
        seed: args.seed,
        max_candidates: args.candidates,
        pool_max: args.pool_max,
        diversity: args.diversity,
        test_frac: args.test_frac.or((!has_test).then_some(0.25)),
        metric: match args.metric {
            crate::cli::MetricArg::Mae => Metric::Mae,
            crate::cli::MetricArg::Rmse => Metric::Rmse,
        },
        cold_start: args.cold_start,
        random_budget: args.random_budget,
        mode: match args.mode {
            crate::cli::SimMode::Pool => Mode::Pool,
            crate::cli::SimMode::Stream => Mode::Stream,
            crate::cli::SimMode::Synthesis => Mode::Synthesis,
        },
    })
}

/// Runs `run` with what synthesis mode needs: the compact rows, the space
/// synthetic rows live in, and the oracle (kNN or a plugin).
fn with_synthesis_data(
    global: &Global,
    project: &Project,
    data: &SimulationData,
    oracle_spec: &str,
    run: impl Fn(&SynthesisData) -> Result<SimulationResult, al_query::QueryError>,
) -> Result<SimulationResult> {
    let recipe = project.recipe()?;
    let space = al_query::synthesis::Space::of(&recipe);
    let mut compact = project.load_compact(Subset::Training)?;
    compact.extend(project.load_compact(Subset::Test)?);
    space.fill_missing(&mut compact);
    let expand = |p: &[f64]| {
        let mut d = recipe.expand(p);
        recipe.scale_dense(&mut d);
        d
    };
    let headers = project.headers()?;
    let knn = knn_k(oracle_spec)?;
    let external = match knn {
        Some(_) => None,
        None => Some(crate::plugins::oracle(global, project, oracle_spec)?),
    };
    let ask = |points: &[Vec<f64>]| -> Result<Vec<f64>, String> {
        let rows: Vec<Vec<String>> = points
            .iter()
            .map(|p| recipe.decode(p, headers.len()))
            .collect();
        match &external {
            Some(o) => o.label(&headers, &rows),
            None => Err("no oracle".into()),
        }
    };
    let oracle = match knn {
        Some(k) => Oracle::Knn(k),
        None => Oracle::External(&ask),
    };
    Ok(run(&SynthesisData {
        rows: data,
        compact: &compact,
        space: &space,
        expand: &expand,
        oracle,
    })?)
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

/// One bar per strategy × repeat, on a terminal only.
fn progress_bars(
    global: &Global,
    names: &[String],
    config: &SimulationConfig,
) -> Option<(indicatif::MultiProgress, Vec<indicatif::ProgressBar>)> {
    let repeats = config.repeats;
    if global.quiet || global.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let multi = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>28} {bar:30} {pos}/{len} rounds {elapsed}",
    )
    .ok()?;
    let mut bars = Vec::with_capacity(names.len() * repeats);
    for name in names {
        for r in 0..repeats {
            let b = multi.add(indicatif::ProgressBar::new(config.rounds_of(name) as u64));
            b.set_style(style.clone());
            b.set_prefix(format!("{name} #{}", r + 1));
            bars.push(b);
        }
    }
    Some((multi, bars))
}

pub fn simulation_json(id: i64, result: &SimulationResult) -> serde_json::Value {
    let strategies: Vec<_> = result
        .strategies
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
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
        s.name.clone(),
        format!("{:.3} ± {:.3}", s.aulc_ratio_mean, s.aulc_ratio_std),
        format!("[{:.3}, {:.3}]", s.aulc_ratio_ci[0], s.aulc_ratio_ci[1]),
        saved_cell(mae.map(|m| &m.budget)),
        saved_cell(mae.map(|m| &m.half)),
        format!("{:.2}", s.final_mae_mean),
        format!("{:.1}", s.final_mse_mean),
        format!("{:.1}", s.improvement_pct_mean),
        format!("{:.3}", s.seconds_per_round),
    ]
}

pub fn print_simulation(result: &SimulationResult, format: Format) {
    let rows: Vec<Vec<String>> = result.strategies.iter().map(row).collect();
    let header = header(result);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    crate::output::print_rows(&header, &rows, format);
}

pub fn plot_simulation(path: &std::path::Path, result: &SimulationResult) -> Result<()> {
    // Where random's run stopped: a strategy it never caught up with gets
    // a dashed line to there.
    let random_end = result
        .strategies
        .first()
        .and_then(|r| r.curves.first())
        .and_then(|c| c.labels.last())
        .map_or(0.0, |&l| l as f64);
    let series: Vec<Series> = result
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
                name: s.name.clone(),
                x: s.curves[0].labels.iter().map(|&l| l as f64).collect(),
                y: mean,
                std: Some(std),
                catch_up,
            }
        })
        .collect();
    learning_curves(
        path,
        "test MAE by labels (mean ± 1 std; ◆ where random catches up)",
        &series,
    )
}

/// `Some(k)` for `knn` / `knn:k=N`; `None` for a plugin's name.
fn knn_k(spec: &str) -> Result<Option<usize>> {
    let (name, rest) = al_models::params::split_name(spec);
    if name != "knn" {
        return Ok(None);
    }
    let params = al_models::Params::check("knn", al_query::simulate::KNN_ORACLE_PARAMS, rest)
        .map_err(|e| anyhow::anyhow!("--oracle: {e}"))?;
    Ok(Some(params.count("k")))
}
