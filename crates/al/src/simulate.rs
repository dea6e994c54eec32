//! The simulate flow: the article's experiment on the project's labeled
//! rows, the known target playing the annotator; each run is stored.

use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use al_data::{store, Subset};
use al_models::Matrix;
use al_query::simulate::{
    run_simulation, run_synthesis_simulation, Metric, Mode, Oracle, SimulationConfig,
    SimulationData, SimulationResult, SynthesisData, DEFAULT_RANDOM_BUDGET,
};
use al_query::Registry;

use crate::error::{at_least, invalid};
use crate::Project;

/// The settings of a simulation as a user gives them; checked by
/// [`SimulateOptions::check`] before any work.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateOptions {
    /// Strategy specs; random is always included.
    pub strategies: Vec<String>,
    /// Model specs, one stored simulation each; empty: the project's model.
    pub models: Vec<String>,
    /// Rows labeled at the start of each repeat (at least 2).
    pub init: usize,
    pub batch: usize,
    pub rounds: usize,
    pub repeats: usize,
    pub seed: u64,
    pub candidates: usize,
    pub pool_max: Option<usize>,
    pub diversity: bool,
    /// A share in (0, 1); `None`: the project's test rows, or 0.25 without.
    pub test_frac: Option<f64>,
    pub mode: Mode,
    pub metric: Metric,
    pub cold_start: bool,
    /// From 1 to 100.
    pub random_budget: f64,
    /// Synthesis mode's annotator: `knn`, `knn:k=N` or an oracle plugin.
    pub oracle: String,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            strategies: ["committee", "qbc", "gsx", "gsy", "igs"]
                .map(String::from)
                .to_vec(),
            models: vec![],
            init: 20,
            batch: 10,
            rounds: 20,
            repeats: 3,
            seed: 0,
            candidates: 500,
            pool_max: None,
            diversity: false,
            test_frac: None,
            mode: Mode::Pool,
            metric: Metric::Mae,
            cold_start: false,
            random_budget: DEFAULT_RANDOM_BUDGET,
            oracle: "knn".into(),
        }
    }
}

impl SimulateOptions {
    /// The one place the numbers are checked (the CLI's parsers say the same).
    pub fn check(&self) -> Result<()> {
        at_least("init", self.init, 2)?;
        at_least("batch", self.batch, 1)?;
        at_least("rounds", self.rounds, 1)?;
        at_least("repeats", self.repeats, 1)?;
        at_least("candidates", self.candidates, 1)?;
        if let Some(p) = self.pool_max {
            at_least("pool_max", p, 1)?;
        }
        if let Some(f) = self.test_frac {
            if !(f > 0.0 && f < 1.0) {
                bail!(invalid("test_frac", "expected a share in (0, 1)"));
            }
        }
        if !(1.0..=100.0).contains(&self.random_budget) {
            bail!(invalid(
                "random_budget",
                "expected a multiple from 1 to 100"
            ));
        }
        if self.strategies.is_empty() {
            bail!(invalid("strategies", "name at least one"));
        }
        Ok(())
    }
}

/// One finished (or interrupted, with at least one repeat) simulation,
/// stored in the project.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationRun {
    pub id: i64,
    pub config: SimulationConfig,
    pub result: SimulationResult,
    /// How many labeled rows the simulation drew from.
    pub labeled: usize,
}

/// Every labeled row, training rows first, then the held-out ones.
struct LabeledRows {
    x: Matrix,
    y: Vec<f64>,
    is_test: Vec<bool>,
}

impl LabeledRows {
    fn load(project: &al_data::Project) -> Result<LabeledRows> {
        let train = project.load(Subset::Training, true)?;
        let test = project.load(Subset::Test, true)?;
        let mut features = train.features;
        features.extend_from_slice(&test.features);
        let mut keys = train.row_ids.clone();
        keys.extend_from_slice(&test.row_ids);
        let mut y = train.labels.iter().flatten().copied().collect::<Vec<_>>();
        y.extend(test.labels.iter().flatten());
        let is_test: Vec<bool> = (0..y.len()).map(|i| i >= train.row_ids.len()).collect();
        Ok(LabeledRows {
            x: Matrix::new(features, train.width).with_keys(keys),
            y,
            is_test,
        })
    }
}

/// What a stopped simulation leaves in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// Store the repeats that finished (`al-cli simulate` on Ctrl-C).
    KeepFinishedRepeats,
    /// Store nothing of the run that was stopped (Python's KeyboardInterrupt:
    /// the project is left as it was; runs of earlier models stay).
    Discard,
}

/// Called as the rounds go: strategy, repeat, round.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

impl Project {
    /// The simulation settings, one per model, every spec resolved and every
    /// number checked; nothing runs. Strategies and models are stored by
    /// their canonical specs, so a simulation re-runs exactly.
    pub fn simulation_configs(&self, options: &SimulateOptions) -> Result<Vec<SimulationConfig>> {
        options.check()?;
        let registry = self.registry()?;
        let counts = self.file.counts()?;
        let labeled = (counts.labeled + counts.test) as usize;
        if labeled < options.init + options.batch + 2 {
            bail!(
                "the project has {labeled} labeled rows; a simulation needs more than --init {} + --batch {}",
                options.init,
                options.batch
            );
        }
        let has_test = counts.test > 0;
        // The split each repeat makes (al_query::simulate): a share of the
        // labeled rows held out, or the project's test rows.
        let test_frac = options.test_frac.or((!has_test).then_some(0.25));
        let (held_out, rest) = match test_frac {
            Some(f) => {
                let n = (f * labeled as f64).round() as usize;
                (n, labeled - n)
            }
            None => (counts.test as usize, counts.labeled as usize),
        };
        if held_out == 0 {
            bail!(invalid(
                "test_frac",
                &format!(
                    "a share of {} of {labeled} labeled rows holds none out to measure the error on; give a larger share (one row is 1/{labeled} of them)",
                    test_frac.unwrap_or(0.0)
                )
            ));
        }
        if rest < options.init + options.batch {
            bail!(invalid(
                "test_frac",
                &format!(
                    "holding out {held_out} of the {labeled} labeled rows leaves {rest} to simulate on; --init {} + --batch {} need more",
                    options.init, options.batch
                )
            ));
        }
        let models = if options.models.is_empty() {
            vec![crate::plugins::model_text(&self.file, None)?]
        } else {
            options.models.clone()
        };
        models
            .iter()
            .map(|m| config(options, &registry, m, has_test))
            .collect()
    }

    /// Runs the simulation under each model and stores each run. `stop`
    /// ends it early, and `on_stop` says what is kept; `progress` hears of
    /// every round.
    pub fn simulate(
        &mut self,
        options: &SimulateOptions,
        stop: &AtomicBool,
        on_stop: OnStop,
        progress: Progress,
    ) -> Result<Vec<SimulationRun>> {
        let mut runs = Vec::new();
        for config in self.simulation_configs(options)? {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            runs.push(self.simulate_config(options, config, stop, on_stop, progress)?);
        }
        Ok(runs)
    }

    /// Runs and stores one of [`Project::simulation_configs`]' settings, for
    /// a front-end that shows each model's run as it ends.
    pub fn simulate_config(
        &mut self,
        options: &SimulateOptions,
        config: SimulationConfig,
        stop: &AtomicBool,
        on_stop: OnStop,
        progress: Progress,
    ) -> Result<SimulationRun> {
        let labeled = LabeledRows::load(&self.file)?;
        let registry = self.registry()?;
        let data = SimulationData {
            x: &labeled.x,
            y: &labeled.y,
            is_test: &labeled.is_test,
        };
        let mut result = if config.mode == Mode::Synthesis {
            let run = |synth: &SynthesisData| {
                run_synthesis_simulation(synth, &config, &registry, stop, progress)
            };
            self.with_synthesis_data(&data, &options.oracle, run)?
        } else {
            run_simulation(&data, &config, &registry, stop, progress)?
        };
        if config.mode != Mode::Synthesis {
            name_as_given(&mut result, &options.strategies, &config.strategies);
        }
        let stopped = stop.load(std::sync::atomic::Ordering::SeqCst);
        if result.repeats_done == 0 || (stopped && on_stop == OnStop::Discard) {
            bail!(Interrupted);
        }
        let config_json =
            serde_json::to_string(&config).context("cannot store the simulation's settings")?;
        let result_json =
            serde_json::to_string(&result).context("cannot store the simulation's results")?;
        let id = self
            .file
            .write(|tx| store::insert_simulation(tx, &config_json, &result_json))?;
        Ok(SimulationRun {
            id,
            config,
            result,
            labeled: labeled.y.len(),
        })
    }

    /// Runs `run` with what synthesis mode needs: the compact rows, the space
    /// synthetic rows live in, and the oracle (kNN or a plugin).
    fn with_synthesis_data(
        &self,
        data: &SimulationData,
        oracle_spec: &str,
        run: impl Fn(&SynthesisData) -> Result<SimulationResult, al_query::QueryError>,
    ) -> Result<SimulationResult> {
        let project = &self.file;
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
            None => Some(crate::plugins::oracle(
                &self.settings,
                project,
                oracle_spec,
            )?),
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
}

/// A simulation stopped before anything was stored.
#[derive(Debug, thiserror::Error)]
#[error("interrupted before any repeat finished; nothing stored")]
pub struct Interrupted;

fn config(
    options: &SimulateOptions,
    registry: &Registry,
    model: &str,
    has_test: bool,
) -> Result<SimulationConfig> {
    let strategies = options
        .strategies
        .iter()
        .map(|s| Ok(registry.parse(s)?.name()))
        .collect::<Result<Vec<String>>>()?;
    Ok(SimulationConfig {
        strategies,
        model: registry.model(model)?.to_string(),
        init: options.init,
        batch: options.batch,
        rounds: options.rounds,
        repeats: options.repeats,
        seed: options.seed,
        max_candidates: options.candidates,
        pool_max: options.pool_max,
        diversity: options.diversity,
        test_frac: options.test_frac.or((!has_test).then_some(0.25)),
        metric: options.metric,
        cold_start: options.cold_start,
        random_budget: options.random_budget,
        mode: options.mode,
    })
}

/// Each strategy's name as the user gave it (`config` holds the canonical
/// specs, in the same order), for tables and legends.
fn name_as_given(result: &mut SimulationResult, given: &[String], canonical: &[String]) {
    for s in &mut result.strategies {
        s.given = canonical
            .iter()
            .position(|c| *c == s.name)
            .and_then(|i| given.get(i))
            .cloned()
            .or_else(|| (s.name == "random").then(|| "random".to_string()));
    }
}

/// `Some(k)` for `knn` / `knn:k=N`; `None` for a plugin's name.
fn knn_k(spec: &str) -> Result<Option<usize>> {
    let (name, rest) = al_models::params::split_name(spec);
    if name != "knn" {
        return Ok(None);
    }
    let params = al_models::Params::check("knn", al_query::simulate::KNN_ORACLE_PARAMS, rest)
        .map_err(|e| invalid("--oracle", &e.to_string()))?;
    Ok(Some(params.count("k")))
}
