//! The article's experiment: hide known labels, let each strategy ask for
//! them round after round, and compare test error with random sampling.
//!
//! Within a repeat every strategy starts from the same test split and the
//! same initial rows (a paired comparison). Repeats × strategies run in
//! parallel; every random choice derives from the seed and the (repeat,
//! round) it belongs to, never from the thread that runs it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use al_models::committee::CommitteeParams;
use al_models::knn::KnnParams;
use al_models::metrics::{aulc, mae, mean_std, mse, relative_improvement};
use al_models::{derive_seed, Fit, Matrix, ModelSpec, Predict};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::savings::{CurveView, Savings};
use crate::strategies::{member_variance, shuffled, Diverse};
use crate::stream::{Rule, StreamScorer, StreamSelector};
use crate::synthesis::{synthesize, Space};
use crate::{QueryError, QueryInput, Registry, Strategy};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulationConfig {
    pub strategies: Vec<String>,
    /// Model the strategies use and the learning curve evaluates.
    pub model: String,
    pub init: usize,
    pub batch: usize,
    pub rounds: usize,
    pub repeats: usize,
    pub seed: u64,
    pub max_candidates: usize,
    pub pool_max: Option<usize>,
    pub diversity: bool,
    /// Share of rows held out per repeat; `None` uses the given test mask.
    pub test_frac: Option<f64>,
    /// Pool-based queries, or a stream of rows each queried or let go.
    #[serde(default)]
    pub mode: Mode,
    /// The error whose curve area `aulc_ratio_*` compares (both are stored).
    #[serde(default)]
    pub metric: Metric,
    /// Every strategy but `random` also chooses the first `init` rows, from
    /// zero labels, with the cold-start strategy ([`COLD_START`]).
    #[serde(default)]
    pub cold_start: bool,
    /// Pool mode: random runs on to this multiple of the strategies' rounds,
    /// so that the labels it needs to catch up with them can be counted
    /// ([`Savings`]). Ratios and final errors still stop at the budget.
    #[serde(default = "default_random_budget")]
    pub random_budget: f64,
}

/// Random runs to twice the budget unless told otherwise.
pub const DEFAULT_RANDOM_BUDGET: f64 = 2.0;

fn default_random_budget() -> f64 {
    DEFAULT_RANDOM_BUDGET
}

/// What a query with no labels uses: a greedy k-median of the pool, the
/// rows that best represent it (Wu 2019's representativeness; Nemhauser,
/// Wolsey & Fisher 1978). `query` and `simulate --cold-start` use it.
pub const COLD_START: &str = "cover:weight=uniform,metric=features";

/// Which error a learning curve's area is measured on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    #[default]
    Mae,
    Rmse,
}

impl SimulationConfig {
    /// The rounds `strategy` runs: the budget's, or for random in pool mode
    /// `random_budget` times as many.
    pub fn rounds_of(&self, strategy: &str) -> usize {
        if strategy == "random" && self.mode == Mode::Pool {
            (self.rounds as f64 * self.random_budget).ceil() as usize
        } else {
            self.rounds
        }
    }

    /// Refuses settings no simulation can run with, naming the option; run
    /// before any work (the CLI checks the same ranges when it parses).
    pub fn check(&self) -> Result<(), QueryError> {
        let bad = |option: &'static str, value: String, expected: &'static str| {
            Err(QueryError::BadOption {
                option,
                value,
                expected,
            })
        };
        if self.init < 2 {
            return bad("--init", self.init.to_string(), "a whole number >= 2");
        }
        for (option, value) in [
            ("--batch", self.batch),
            ("--rounds", self.rounds),
            ("--repeats", self.repeats),
            ("--candidates", self.max_candidates),
        ] {
            if value == 0 {
                return bad(option, "0".into(), "a whole number >= 1");
            }
        }
        if self.pool_max == Some(0) {
            return bad("--pool-max", "0".into(), "a whole number >= 1");
        }
        if !(self.random_budget.is_finite() && self.random_budget >= 1.0) {
            return bad(
                "--random-budget",
                self.random_budget.to_string(),
                "a multiple of the budget >= 1",
            );
        }
        if let Some(f) = self.test_frac {
            if !(f > 0.0 && f < 1.0) {
                return bad("--test-frac", f.to_string(), "a share in (0, 1)");
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Pool,
    /// The pool, shuffled, arrives one row at a time; the budget is the
    /// labels pool mode would spend (rounds × batch) over the stream's length.
    Stream,
    /// Synthetic points labeled by a kNN oracle, against pool mode
    /// (see `run_synthesis_simulation`).
    Synthesis,
}

/// One (strategy, repeat) learning curve (random's runs past the budget in
/// pool mode: [`SimulationConfig::random_budget`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    pub labels: Vec<usize>,
    pub mae: Vec<f64>,
    pub mse: Vec<f64>,
    pub seconds: f64,
    /// What a project without held-out rows would have shown at the
    /// budget, beside the truth (pool mode; none in older results).
    #[serde(default)]
    pub shown: Option<Shown>,
}

/// The MAE a project with these labels and no held-out rows would report
/// at the budget, and the truth it stands for: the same model's MAE on the
/// rows still unlabeled (their targets are known in a simulation).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Shown {
    /// The pool estimate `report` shows ([`al_models::pool_error`]).
    pub estimate: f64,
    /// Plain 5-fold cross-validation on the labeled rows.
    pub cross_validation: f64,
    /// The MAE on the unlabeled rows.
    pub truth: f64,
}

/// How far a project's own numbers would have been from the truth at the
/// budget, over repeats: the geometric mean of shown / true and its
/// bootstrap 95 % interval (of the mean log ratio), for the pool estimate
/// and for plain cross-validation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ShownVsTrue {
    pub estimate_ratio: f64,
    pub estimate_ci: [f64; 2],
    pub cross_validation_ratio: f64,
    pub cross_validation_ci: [f64; 2],
    pub repeats: usize,
}

impl ShownVsTrue {
    fn of(curves: &[Curve], seed: u64) -> Option<ShownVsTrue> {
        // A ratio needs a positive truth and figures (a perfect fit has none).
        let shown: Vec<Shown> = curves
            .iter()
            .filter_map(|c| c.shown)
            .filter(|s| s.truth > 0.0 && s.estimate > 0.0 && s.cross_validation > 0.0)
            .collect();
        if shown.is_empty() {
            return None;
        }
        let summary = |pick: fn(&Shown) -> f64| {
            let logs: Vec<f64> = shown.iter().map(|s| (pick(s) / s.truth).ln()).collect();
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            let ci = bootstrap_ci(&logs, seed);
            (mean.exp(), [ci[0].exp(), ci[1].exp()])
        };
        let (estimate_ratio, estimate_ci) = summary(|s| s.estimate);
        let (cross_validation_ratio, cross_validation_ci) = summary(|s| s.cross_validation);
        Some(ShownVsTrue {
            estimate_ratio,
            estimate_ci,
            cross_validation_ratio,
            cross_validation_ci,
            repeats: shown.len(),
        })
    }
}

/// Everything measured for one strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The canonical spec, every parameter spelled out.
    pub name: String,
    /// The strategy as the user gave it (`cover:hedge=0.2`), for tables
    /// and legends; `None` in older results.
    #[serde(default)]
    pub given: Option<String>,
    /// How far the project's own numbers would have been from the truth
    /// at the budget (pool mode).
    #[serde(default)]
    pub shown_vs_true: Option<ShownVsTrue>,
    /// One curve per finished repeat, in repeat order.
    pub curves: Vec<Curve>,
    pub aulc_mean: f64,
    /// The ratio of `--metric`'s curve area to random's on the same repeat:
    /// its mean, standard deviation and paired bootstrap 95 % interval.
    pub aulc_ratio_mean: f64,
    pub aulc_ratio_std: f64,
    #[serde(default)]
    pub aulc_ratio_ci: [f64; 2],
    /// The ratios for MAE and for RMSE, whatever `--metric` is.
    #[serde(default)]
    pub mae_ratio: RatioSummary,
    #[serde(default)]
    pub rmse_ratio: RatioSummary,
    /// Labels saved against random at the budget and at half of it (none
    /// for random itself, nor for results stored before they were counted).
    #[serde(default)]
    pub labels_saved: Option<Savings>,
    pub final_mae_mean: f64,
    pub final_mse_mean: f64,
    pub improvement_pct_mean: f64,
    pub seconds_per_round: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulationResult {
    pub strategies: Vec<StrategyResult>,
    /// Repeats that finished (fewer than asked when interrupted).
    pub repeats_done: usize,
}

/// Fully labeled rows to simulate on.
pub struct SimulationData<'a> {
    pub x: &'a Matrix,
    pub y: &'a [f64],
    /// Rows held out when `test_frac` is `None`.
    pub is_test: &'a [bool],
}

/// Called after each evaluated round: (strategy, repeat, rounds done).
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

pub fn run_simulation(
    data: &SimulationData,
    config: &SimulationConfig,
    registry: &Registry,
    stop: &AtomicBool,
    progress: Progress,
) -> Result<SimulationResult, QueryError> {
    config.check()?;
    let model = registry.model(&config.model)?;
    let names = strategy_names(config);
    for n in &names {
        registry.parse(n)?;
    }
    run_grid(&names, config, stop, |name, repeat| {
        run_one(data, config, registry, &model, name, repeat, stop, progress)
    })
}

/// Runs every (repeat, strategy) pair in parallel, then keeps the repeats
/// every strategy finished (paired results) and summarises each strategy
/// against the first, `random`, on the same repeats.
fn run_grid<S: AsRef<str> + Sync>(
    names: &[S],
    config: &SimulationConfig,
    stop: &AtomicBool,
    run: impl Fn(&str, usize) -> Result<Option<Curve>, QueryError> + Sync,
) -> Result<SimulationResult, QueryError> {
    let jobs: Vec<(usize, usize)> = (0..config.repeats)
        .flat_map(|r| (0..names.len()).map(move |s| (r, s)))
        .collect();
    let runs: Vec<Option<Curve>> = jobs
        .par_iter()
        .map(|&(repeat, s)| {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            run(names[s].as_ref(), repeat)
        })
        .collect::<Result<_, QueryError>>()?;
    let repeats_done: Vec<usize> = (0..config.repeats)
        .filter(|r| (0..names.len()).all(|s| runs[r * names.len() + s].is_some()))
        .collect();
    let curve = |r: usize, s: usize| runs[r * names.len() + s].as_ref();
    // Every finished repeat has all its curves, random's among them.
    let random: Vec<&Curve> = repeats_done.iter().filter_map(|&r| curve(r, 0)).collect();
    // Ratios and final errors compare everything at the budget, random too.
    let random_at_budget: Vec<Curve> = random
        .iter()
        .map(|c| c.truncated(config.rounds + 1))
        .collect();
    let strategies = names
        .iter()
        .enumerate()
        .map(|(s, name)| {
            let curves: Vec<Curve> = repeats_done
                .iter()
                .filter_map(|&r| curve(r, s).cloned())
                .collect();
            let mut result = summarise(name.as_ref(), &curves, &random_at_budget, config);
            if s > 0 {
                result.labels_saved = labels_saved(&curves, &random, config);
            }
            result.curves = curves;
            result
        })
        .collect();
    Ok(SimulationResult {
        strategies,
        repeats_done: repeats_done.len(),
    })
}

/// The strategies a simulation runs, in result order: `random` first (the
/// baseline every ratio refers to), then the asked ones; synthesis mode runs
/// its fixed four.
pub fn strategy_names(config: &SimulationConfig) -> Vec<String> {
    if config.mode == Mode::Synthesis {
        return ["random", "committee", "synthesis", "synthesis-random"]
            .map(String::from)
            .to_vec();
    }
    let mut names = config.strategies.clone();
    if !names.iter().any(|n| n == "random") {
        names.insert(0, "random".into());
    }
    names
}

/// Labels saved against random's (full-length) curves, paired by repeat.
fn labels_saved(curves: &[Curve], random: &[&Curve], config: &SimulationConfig) -> Option<Savings> {
    let strategy: Vec<CurveView> = curves.iter().map(Curve::view).collect();
    let random: Vec<CurveView> = random.iter().map(|c| c.view()).collect();
    Savings::measure(&strategy, &random, derive_seed(config.seed, 7_000_001))
}

impl Curve {
    fn view(&self) -> CurveView<'_> {
        CurveView {
            labels: &self.labels,
            mae: &self.mae,
            mse: &self.mse,
        }
    }

    /// The first `points` evaluated rounds.
    fn truncated(&self, points: usize) -> Curve {
        let n = points.min(self.labels.len());
        Curve {
            labels: self.labels[..n].to_vec(),
            mae: self.mae[..n].to_vec(),
            mse: self.mse[..n].to_vec(),
            seconds: self.seconds,
            shown: self.shown,
        }
    }

    fn new() -> Curve {
        Curve {
            labels: vec![],
            mae: vec![],
            mse: vec![],
            seconds: 0.0,
            shown: None,
        }
    }

    /// The one evaluate-round step of pool, stream and synthesis
    /// simulations: fit `learner` on the labeled rows, record the test error;
    /// returns the fitted model (pool mode predicts the pool with it once).
    fn evaluate(
        &mut self,
        learner: &dyn Fit,
        labeled: (&Matrix, &[f64]),
        test: (&Matrix, &[f64]),
        seed: u64,
    ) -> Result<Box<dyn Predict>, QueryError> {
        let fitted = learner.fit(labeled.0, labeled.1, seed)?;
        let pred = fitted.predict(test.0)?;
        self.labels.push(labeled.1.len());
        self.mae.push(mae(test.1, &pred));
        self.mse.push(mse(test.1, &pred));
        Ok(fitted)
    }
}

/// Area under a curve's MAE or RMSE against labels.
fn area(c: &Curve, metric: Metric) -> f64 {
    let labels: Vec<f64> = c.labels.iter().map(|&l| l as f64).collect();
    match metric {
        Metric::Mae => aulc(&labels, &c.mae),
        Metric::Rmse => aulc(&labels, &c.mse.iter().map(|v| v.sqrt()).collect::<Vec<_>>()),
    }
}

/// Per-repeat ratios of a strategy's curve area to random's, summarised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RatioSummary {
    pub mean: f64,
    pub std: f64,
    /// Paired bootstrap 95 % interval of the mean over repeats.
    pub ci: [f64; 2],
    /// One ratio per finished repeat, in repeat order.
    pub per_repeat: Vec<f64>,
}

impl RatioSummary {
    fn of(areas: &[f64], random_areas: &[f64], seed: u64) -> RatioSummary {
        let per_repeat: Vec<f64> = areas.iter().zip(random_areas).map(|(a, r)| a / r).collect();
        let m = mean_std(&per_repeat);
        RatioSummary {
            mean: m.mean,
            std: m.std,
            ci: bootstrap_ci(&per_repeat, seed),
            per_repeat,
        }
    }
}

/// The percentile bootstrap 95 % interval of the mean of `values` (2 000
/// resamples, seeded). The values are per-repeat ratios, each already
/// paired with random on its own repeat, so resampling repeats keeps the
/// pairing.
pub fn bootstrap_ci(values: &[f64], seed: u64) -> [f64; 2] {
    let n = values.len();
    if n == 0 {
        return [f64::NAN, f64::NAN];
    }
    bootstrap_interval(n, seed, |repeats| {
        repeats.iter().map(|&r| values[r]).sum::<f64>() / n as f64
    })
}

/// The percentile bootstrap 95 % interval of `statistic` over `n` paired
/// repeats: 2 000 seeded resamples of the repeat indices (with
/// replacement), the statistic of each, their 2.5th and 97.5th
/// percentiles. `n` must be at least 1.
pub fn bootstrap_interval(
    n: usize,
    seed: u64,
    mut statistic: impl FnMut(&[usize]) -> f64,
) -> [f64; 2] {
    use rand::{Rng, SeedableRng};
    const RESAMPLES: usize = 2000;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut repeats = vec![0; n];
    let mut values: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            repeats.iter_mut().for_each(|r| *r = rng.gen_range(0..n));
            statistic(&repeats)
        })
        .collect();
    values.sort_by(f64::total_cmp);
    [
        values[RESAMPLES / 40 - 1],
        values[RESAMPLES - RESAMPLES / 40 - 1],
    ]
}

/// A strategy's summary at the budget; `curves` and `labels_saved` are
/// left for the caller to fill in.
fn summarise(
    name: &str,
    curves: &[Curve],
    random: &[Curve],
    config: &SimulationConfig,
) -> StrategyResult {
    let rounds = config.rounds;
    // Time per round over every round run, random's past the budget too.
    let seconds: f64 = curves.iter().map(|c| c.seconds).sum();
    let rounds_run: usize = curves
        .iter()
        .map(|c| c.labels.len().saturating_sub(1))
        .sum();
    // Random's curves run past the budget; everything else here stops at it.
    let curves: Vec<Curve> = curves.iter().map(|c| c.truncated(rounds + 1)).collect();
    let seed = derive_seed(config.seed, 7_000_000);
    let areas = |metric| curves.iter().map(|c| area(c, metric)).collect::<Vec<f64>>();
    let random_areas = |metric| random.iter().map(|c| area(c, metric)).collect::<Vec<f64>>();
    let mae_ratio = RatioSummary::of(&areas(Metric::Mae), &random_areas(Metric::Mae), seed);
    let rmse_ratio = RatioSummary::of(&areas(Metric::Rmse), &random_areas(Metric::Rmse), seed);
    let chosen = match config.metric {
        Metric::Mae => &mae_ratio,
        Metric::Rmse => &rmse_ratio,
    };
    let areas = areas(config.metric);
    let last = |v: &Vec<f64>| v.last().copied().unwrap_or(f64::NAN);
    let finals: Vec<f64> = curves.iter().map(|c| last(&c.mae)).collect();
    let finals_mse: Vec<f64> = curves.iter().map(|c| last(&c.mse)).collect();
    let improvements: Vec<f64> = curves
        .iter()
        .map(|c| relative_improvement(c.mae[0], last(&c.mae)))
        .collect();
    StrategyResult {
        name: name.to_string(),
        given: None,
        shown_vs_true: ShownVsTrue::of(&curves, derive_seed(config.seed, 7_000_002)),
        aulc_mean: mean_std(&areas).mean,
        aulc_ratio_mean: chosen.mean,
        aulc_ratio_std: chosen.std,
        aulc_ratio_ci: chosen.ci,
        final_mae_mean: mean_std(&finals).mean,
        final_mse_mean: mean_std(&finals_mse).mean,
        improvement_pct_mean: mean_std(&improvements).mean,
        seconds_per_round: seconds / rounds_run.max(1) as f64,
        mae_ratio,
        rmse_ratio,
        labels_saved: None,
        curves: vec![],
    }
}

/// The rows of one repeat: test, initially labeled, pool (indices into data).
fn split(
    data: &SimulationData,
    config: &SimulationConfig,
    repeat: usize,
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let seed = derive_seed(config.seed, repeat as u64);
    let n = data.y.len();
    let (test, rest): (Vec<usize>, Vec<usize>) = match config.test_frac {
        Some(f) => {
            let order = shuffled(n, derive_seed(seed, 1));
            let n_test = (f * n as f64).round() as usize;
            let mut test = order[..n_test].to_vec();
            let mut rest = order[n_test..].to_vec();
            test.sort_unstable();
            rest.sort_unstable();
            (test, rest)
        }
        None => (0..n).partition(|&i| data.is_test[i]),
    };
    let order = shuffled(rest.len(), derive_seed(seed, 2));
    let n0 = config.init.min(rest.len());
    let mut initial: Vec<usize> = order[..n0].iter().map(|&i| rest[i]).collect();
    let mut pool: Vec<usize> = order[n0..].iter().map(|&i| rest[i]).collect();
    if let Some(max) = config.pool_max {
        pool.truncate(max);
    }
    initial.sort_unstable();
    pool.sort_unstable();
    (test, initial, pool)
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    data: &SimulationData,
    config: &SimulationConfig,
    registry: &Registry,
    model: &ModelSpec,
    strategy_name: &str,
    repeat: usize,
    stop: &AtomicBool,
    progress: Progress,
) -> Result<Option<Curve>, QueryError> {
    let mut strategy: Box<dyn Strategy> = registry.parse(strategy_name)?;
    if config.mode == Mode::Stream {
        return run_one_stream(
            data,
            config,
            &*strategy,
            model,
            strategy_name,
            repeat,
            stop,
            progress,
        );
    }
    if config.diversity {
        strategy = Box::new(Diverse { inner: strategy });
    }
    let (test, mut labeled, mut pool) = split(data, config, repeat);
    if config.cold_start && strategy_name != "random" {
        (labeled, pool) = cold_start_rows(data, config, model, labeled, pool, repeat)?;
    }
    let x_test = data.x.select(&test);
    let y_test: Vec<f64> = test.iter().map(|&i| data.y[i]).collect();
    let learner = model.build()?;
    let started = Instant::now();
    let mut curve = Curve::new();
    for round in 0..=config.rounds_of(strategy_name) {
        if round > 0 {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if pool.is_empty() {
                break;
            }
            let lx = data.x.select(&labeled);
            let ly: Vec<f64> = labeled.iter().map(|&i| data.y[i]).collect();
            let candidates = data.x.select(&pool);
            let input = QueryInput {
                labeled_x: &lx,
                labeled_y: &ly,
                candidates: &candidates,
                model,
                batch: config.batch,
                seed: derive_seed(derive_seed(config.seed, repeat as u64), round as u64),
                max_candidates: config.max_candidates,
                fitted: None,
            };
            let mut chosen: Vec<usize> = strategy.query(&input)?.iter().map(|s| s.index).collect();
            chosen.sort_unstable();
            for &c in chosen.iter().rev() {
                labeled.push(pool.remove(c));
            }
            labeled.sort_unstable();
        }
        let lx = data.x.select(&labeled);
        let ly: Vec<f64> = labeled.iter().map(|&i| data.y[i]).collect();
        let fitted = curve.evaluate(
            &*learner,
            (&lx, &ly),
            (&x_test, &y_test),
            fit_seed(config, repeat),
        )?;
        if round == config.rounds {
            let px = data.x.select(&pool);
            let py: Vec<f64> = pool.iter().map(|&i| data.y[i]).collect();
            curve.shown = shown(
                &*learner,
                &*fitted,
                (&lx, &ly),
                (&px, &py),
                fit_seed(config, repeat),
            )?;
        }
        progress(strategy_name, repeat, round);
    }
    curve.seconds = started.elapsed().as_secs_f64();
    Ok(Some(curve))
}

/// What `report` would show for a project holding `labeled` with no
/// held-out rows, and the truth on `pool` from `fitted` (the round's model,
/// fitted on `labeled`); `None` when there are too few rows of either to
/// estimate.
fn shown(
    learner: &dyn Fit,
    fitted: &dyn Predict,
    labeled: (&Matrix, &[f64]),
    pool: (&Matrix, &[f64]),
    seed: u64,
) -> Result<Option<Shown>, QueryError> {
    if labeled.1.len() < 5 || pool.1.len() < 2 {
        return Ok(None);
    }
    let (oof, estimate) = al_models::pool_error::PoolErrorParams::default()
        .cross_validate_and_estimate(learner, labeled.0, labeled.1, pool.0, &[], seed)?;
    Ok(Some(Shown {
        estimate: estimate.mae.estimate,
        cross_validation: mae(labeled.1, &oof),
        truth: mae(pool.1, &fitted.predict(pool.0)?),
    }))
}

/// The first `init` rows chosen by [`COLD_START`] from zero labels among
/// the repeat's initial and pool rows, and the rows left as the pool.
fn cold_start_rows(
    data: &SimulationData,
    config: &SimulationConfig,
    model: &ModelSpec,
    initial: Vec<usize>,
    pool: Vec<usize>,
    repeat: usize,
) -> Result<(Vec<usize>, Vec<usize>), QueryError> {
    let mut rows = initial;
    let n0 = rows.len();
    rows.extend(pool);
    rows.sort_unstable();
    let candidates = data.x.select(&rows);
    let none = Matrix::with_cols(data.x.cols());
    let picks = crate::parse_strategy(COLD_START)?.query(&QueryInput {
        labeled_x: &none,
        labeled_y: &[],
        candidates: &candidates,
        model,
        batch: n0,
        seed: derive_seed(derive_seed(config.seed, repeat as u64), 0),
        max_candidates: config.max_candidates,
        fitted: None,
    })?;
    let mut chosen = vec![false; rows.len()];
    for p in &picks {
        chosen[p.index] = true;
    }
    let labeled = (0..rows.len()).filter(|&i| chosen[i]).map(|i| rows[i]);
    let pool = (0..rows.len()).filter(|&i| !chosen[i]).map(|i| rows[i]);
    Ok((labeled.collect(), pool.collect()))
}

/// The seed every evaluation fit of a repeat uses, whatever the strategy.
fn fit_seed(config: &SimulationConfig, repeat: usize) -> u64 {
    derive_seed(config.seed, 1_000_000 + repeat as u64)
}

/// Stream mode: the pool arrives shuffled; each row is scored by the
/// strategy (with its parameters, [`StreamScorer`]) and queried or let go;
/// the model refits every `batch` labels.
#[allow(clippy::too_many_arguments)]
fn run_one_stream(
    data: &SimulationData,
    config: &SimulationConfig,
    strategy: &dyn Strategy,
    model: &ModelSpec,
    strategy_name: &str,
    repeat: usize,
    stop: &AtomicBool,
    progress: Progress,
) -> Result<Option<Curve>, QueryError> {
    let (test, mut labeled, pool) = split(data, config, repeat);
    let repeat_seed = derive_seed(config.seed, repeat as u64);
    let order: Vec<usize> = shuffled(pool.len(), derive_seed(repeat_seed, 3))
        .into_iter()
        .map(|i| pool[i])
        .collect();
    let arriving = data.x.select(&order);
    let spend = config.rounds * config.batch;
    let budget = if order.is_empty() {
        1.0
    } else {
        (spend as f64 / order.len() as f64).min(1.0)
    };
    let mut selector = StreamSelector::new(Rule::Budget(budget), derive_seed(repeat_seed, 4));
    let mut scorer = StreamScorer::new(
        strategy,
        model,
        derive_seed(repeat_seed, 5),
        config.max_candidates,
    );
    let learner = model.build()?;
    let x_test = data.x.select(&test);
    let y_test: Vec<f64> = test.iter().map(|&i| data.y[i]).collect();
    let started = Instant::now();
    let mut curve = Curve::new();
    let fit_seed = fit_seed(config, repeat);
    let evaluate = |labeled: &[usize],
                    curve: &mut Curve,
                    scorer: &mut StreamScorer|
     -> Result<(), QueryError> {
        let lx = data.x.select(labeled);
        let ly: Vec<f64> = labeled.iter().map(|&i| data.y[i]).collect();
        curve.evaluate(&*learner, (&lx, &ly), (&x_test, &y_test), fit_seed)?;
        scorer.fit(lx, ly, fit_seed);
        Ok(())
    };
    evaluate(&labeled, &mut curve, &mut scorer)?;
    let mut since_refit = 0;
    for (i, &row) in order.iter().enumerate() {
        if labeled.len() - config.init.min(labeled.len()) >= spend {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let utility = scorer.score(&arriving, i)?;
        if selector.decide(utility) {
            labeled.push(row);
            since_refit += 1;
            if since_refit == config.batch {
                since_refit = 0;
                evaluate(&labeled, &mut curve, &mut scorer)?;
                selector.reset_window();
                progress(strategy_name, repeat, curve.labels.len() - 1);
            }
        }
    }
    if since_refit > 0 {
        evaluate(&labeled, &mut curve, &mut scorer)?;
    }
    curve.seconds = started.elapsed().as_secs_f64();
    Ok(Some(curve))
}

/// What synthesis simulation needs beyond the dense rows: the compact form
/// of every row and the space synthetic points live in.
pub struct SynthesisData<'a> {
    pub rows: &'a SimulationData<'a>,
    /// Compact row per row of `rows.x`, missing values already filled.
    pub compact: &'a [Vec<f64>],
    pub space: &'a Space,
    /// Compact point -> dense features as the models see them.
    pub expand: &'a (dyn Fn(&[f64]) -> Vec<f64> + Sync),
    /// Who labels synthetic points.
    pub oracle: Oracle<'a>,
}

/// Labels for compact points, or why there are none.
pub type AskOracle<'a> = dyn Fn(&[Vec<f64>]) -> Result<Vec<f64>, String> + Sync + 'a;

/// The parameters of the built-in `knn` oracle (`--oracle knn:k=N`).
pub static KNN_ORACLE_PARAMS: &[al_models::ParamInfo] = &[al_models::params::param(
    "k",
    "5",
    al_models::params::at_least(1),
    "known rows whose mean target labels a synthetic row",
)];

/// Labels for synthetic points in simulation; never the model's own guess.
pub enum Oracle<'a> {
    /// The mean known target of the k nearest real non-test rows.
    Knn(usize),
    /// An external program (an oracle plugin) given the compact points.
    External(&'a AskOracle<'a>),
}

/// Membership query synthesis against pool mode. Per repeat and round:
/// `random` and `committee` query the pool as in pool mode; `synthesis`
/// generates `batch` points where the committee disagrees most and
/// `synthesis-random` generates as many plain interpolations of real rows
/// (its random counterpart). A synthetic point is labeled by the kNN oracle:
/// the mean known target of its `oracle_k` nearest real non-test rows, an
/// approximation of an annotator, never the model's own prediction.
pub fn run_synthesis_simulation(
    data: &SynthesisData,
    config: &SimulationConfig,
    registry: &Registry,
    stop: &AtomicBool,
    progress: Progress,
) -> Result<SimulationResult, QueryError> {
    config.check()?;
    let names = strategy_names(config);
    let model = registry.model(&config.model)?;
    let pool_config = SimulationConfig {
        mode: Mode::Pool,
        ..config.clone()
    };
    run_grid(&names, config, stop, |name, repeat| match name {
        "random" | "committee" => run_one(
            data.rows,
            &pool_config,
            registry,
            &model,
            name,
            repeat,
            stop,
            progress,
        ),
        synth => run_one_synthesis(
            data,
            config,
            &model,
            synth == "synthesis",
            repeat,
            stop,
            progress,
        ),
    })
}

#[allow(clippy::too_many_arguments)]
fn run_one_synthesis(
    data: &SynthesisData,
    config: &SimulationConfig,
    model: &ModelSpec,
    disagreement: bool,
    repeat: usize,
    stop: &AtomicBool,
    progress: Progress,
) -> Result<Option<Curve>, QueryError> {
    let rows = data.rows;
    let (test, labeled, pool) = split(rows, config, repeat);
    let repeat_seed = derive_seed(config.seed, repeat as u64);
    let known: Vec<usize> = labeled.iter().chain(&pool).copied().collect();
    let k = match data.oracle {
        Oracle::Knn(k) => k,
        Oracle::External(_) => 5,
    };
    // The kNN oracle knows every real non-test row's target.
    let knn = KnnParams { k }.fit_knn(
        &rows.x.select(&known),
        &known.iter().map(|&i| rows.y[i]).collect::<Vec<_>>(),
    )?;
    let real: Vec<Vec<f64>> = known.iter().map(|&i| data.compact[i].clone()).collect();
    let mut x = rows.x.select(&labeled);
    let mut y: Vec<f64> = labeled.iter().map(|&i| rows.y[i]).collect();
    let x_test = rows.x.select(&test);
    let y_test: Vec<f64> = test.iter().map(|&i| rows.y[i]).collect();
    let learner = model.build()?;
    let committee = CommitteeParams::default();
    let started = Instant::now();
    let mut curve = Curve::new();
    let fit_seed = fit_seed(config, repeat);
    for round in 0..=config.rounds {
        if round > 0 {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let round_seed = derive_seed(repeat_seed, 100 + round as u64);
            let fitted = committee.fit(&x, &y, round_seed)?;
            let to_dense = |points: &[Vec<f64>]| {
                let mut m = Matrix::with_cols(x.cols());
                for p in points {
                    m.push_row(&(data.expand)(p));
                }
                m
            };
            let utility = |points: &[Vec<f64>]| -> Result<Vec<f64>, QueryError> {
                if !disagreement {
                    return Ok(vec![0.0; points.len()]);
                }
                let m = to_dense(points);
                let members = fitted.predict_members(&m)?.unwrap_or_default();
                Ok(member_variance(&members, m.rows()))
            };
            let points: Vec<Vec<f64>> =
                synthesize(data.space, &real, config.batch, round_seed, &utility)?
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect();
            let dense = to_dense(&points);
            let labels = match data.oracle {
                Oracle::Knn(_) => knn.predict(&dense)?,
                Oracle::External(ask) => ask(&points).map_err(QueryError::Oracle)?,
            };
            for (row, label) in dense.iter_rows().zip(labels) {
                x.push_row(row);
                y.push(label);
            }
        }
        curve.evaluate(&*learner, (&x, &y), (&x_test, &y_test), fit_seed)?;
        progress(
            if disagreement {
                "synthesis"
            } else {
                "synthesis-random"
            },
            repeat,
            round,
        );
    }
    curve.seconds = started.elapsed().as_secs_f64();
    Ok(Some(curve))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Matrix, Vec<f64>) {
        let rows: Vec<Vec<f64>> = (0..300)
            .map(|i| vec![(i as f64 * 0.37).sin() * 3.0, (i % 11) as f64])
            .collect();
        let y = rows.iter().map(|r| r[0] * r[0] * 4.0 + r[1]).collect();
        (Matrix::from_rows(&rows), y)
    }

    /// Runs `config` on the test data, with or without a stop request.
    fn simulate(config: &SimulationConfig, stopped: bool) -> Result<SimulationResult, QueryError> {
        let (x, y) = data();
        let is_test = vec![false; y.len()];
        let d = SimulationData {
            x: &x,
            y: &y,
            is_test: &is_test,
        };
        let stop = AtomicBool::new(stopped);
        run_simulation(&d, config, &Registry::builtin(), &stop, &|_, _, _| {})
    }

    fn config() -> SimulationConfig {
        SimulationConfig {
            strategies: vec!["qbc".into(), "gsx".into()],
            model: "forest:trees=10".into(),
            init: 10,
            batch: 5,
            rounds: 4,
            repeats: 2,
            seed: 3,
            max_candidates: 100,
            pool_max: None,
            diversity: false,
            test_frac: Some(0.25),
            mode: Mode::Pool,
            metric: Metric::Mae,
            cold_start: false,
            random_budget: DEFAULT_RANDOM_BUDGET,
        }
    }

    #[test]
    fn stream_mode_spends_about_the_pool_budget_and_is_seeded() {
        let c = SimulationConfig {
            strategies: vec!["qbc".into(), "committee".into()],
            mode: Mode::Stream,
            ..config()
        };
        let a = simulate(&c, false).unwrap();
        let b = simulate(&c, false).unwrap();
        for (sa, sb) in a.strategies.iter().zip(&b.strategies) {
            for (ca, cb) in sa.curves.iter().zip(&sb.curves) {
                assert_eq!(ca.mae, cb.mae);
                // 10 initial labels, up to 4 x 5 more.
                assert_eq!(ca.labels[0], 10);
                assert!(*ca.labels.last().unwrap() <= 30);
                assert!(
                    *ca.labels.last().unwrap() >= 20,
                    "{}: {:?}",
                    sa.name,
                    ca.labels
                );
            }
        }
        let bad = SimulationConfig {
            strategies: vec!["gsx".into()],
            ..c
        };
        assert!(simulate(&bad, false).is_err());
    }

    #[test]
    fn paired_curves_same_for_a_seed_whatever_the_threads() {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| simulate(&config(), false).unwrap())
        };
        let a = run(1);
        let b = run(2);
        assert_eq!(a.strategies.len(), 3);
        assert_eq!(a.strategies[0].name, "random");
        assert_eq!(a.strategies[0].aulc_ratio_mean, 1.0);
        for (sa, sb) in a.strategies.iter().zip(&b.strategies) {
            assert_eq!(sa.curves.len(), 2);
            for (ca, cb) in sa.curves.iter().zip(&sb.curves) {
                // Random runs on to twice the budget.
                let labels = match sa.name.as_str() {
                    "random" => vec![10, 15, 20, 25, 30, 35, 40, 45, 50],
                    _ => vec![10, 15, 20, 25, 30],
                };
                assert_eq!(ca.labels, labels);
                assert_eq!(ca.mae, cb.mae);
            }
            assert_eq!(sa.labels_saved, sb.labels_saved);
        }
        // Paired: every strategy's round-0 error on a repeat is the same.
        let first: Vec<f64> = a.strategies.iter().map(|s| s.curves[0].mae[0]).collect();
        assert!(first.iter().all(|v| *v == first[0]));
    }

    #[test]
    fn random_runs_past_the_budget_but_is_summarised_at_it() {
        let r = simulate(&config(), false).unwrap();
        let random = &r.strategies[0];
        assert!(random.labels_saved.is_none());
        let at_budget: Vec<f64> = random.curves.iter().map(|c| c.mae[4]).collect();
        let mean = at_budget.iter().sum::<f64>() / at_budget.len() as f64;
        assert!((random.final_mae_mean - mean).abs() < 1e-12);
        for s in &r.strategies[1..] {
            let saved = s.labels_saved.as_ref().expect("labels saved");
            assert_eq!(saved.mae.budget.labels, 30);
            assert_eq!(saved.mae.half.labels, 20);
            let b = &saved.mae.budget;
            assert!(b.ci[0] <= b.ci[1]);
            // Random's labels to reach it lie within its run, or the saving is a bound.
            match b.random_labels {
                Some(n) => assert!((10.0..=50.0).contains(&n), "{n}"),
                None => assert!(b.at_least && (b.saved - (1.0 - 30.0 / 50.0)).abs() < 1e-12),
            }
        }
        let once = SimulationConfig {
            random_budget: 1.0,
            ..config()
        };
        let r1 = simulate(&once, false).unwrap();
        assert_eq!(r1.strategies[0].curves[0].labels.len(), 5);
        assert_eq!(r1.strategies[0].final_mae_mean, random.final_mae_mean);
        for bad in [0.5, f64::NAN, f64::INFINITY] {
            let c = SimulationConfig {
                random_budget: bad,
                ..config()
            };
            let e = simulate(&c, false).expect_err("refused");
            assert!(e.to_string().starts_with("--random-budget "), "{e}");
        }
    }

    #[test]
    fn a_test_share_outside_0_1_is_an_error_not_a_panic() {
        for f in [1.5, 1.0, 0.0, -0.2, f64::NAN] {
            let c = SimulationConfig {
                test_frac: Some(f),
                ..config()
            };
            let e = simulate(&c, false)
                .err()
                .unwrap_or_else(|| panic!("{f} was accepted"));
            assert!(e.to_string().starts_with("--test-frac "), "{f}: {e}");
        }
    }

    #[test]
    fn stream_mode_runs_any_per_row_strategy_with_its_parameters() {
        let c = SimulationConfig {
            strategies: vec!["tree-variance:depth=2".into(), "emcm".into()],
            mode: Mode::Stream,
            ..config()
        };
        let r = simulate(&c, false).unwrap();
        assert_eq!(r.strategies.len(), 3);
        assert_eq!(r.strategies[1].name, "tree-variance:depth=2");
        assert!(r.strategies[1].curves.iter().all(|c| c.labels.len() > 2));
    }

    #[test]
    fn a_stop_request_keeps_no_half_repeat() {
        let r = simulate(&config(), true).unwrap();
        assert_eq!(r.repeats_done, 0);
    }
}
