//! The query flow: fit the model, run the strategy, record the round.
//!
//! Planning reads the project and writes nothing; recording writes the
//! round, its rows and (when asked) the batch file in one transaction, so a
//! front-end can show a plan, or be interrupted, without touching the file.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::json;

use al_data::batch::{stage_round, BatchFile, BatchFormat, BatchRow, StagedBatch};
use al_data::store::record_round;
use al_data::store::PreparedRows;
use al_data::{CompactRows, QueriedRow, RoundRecord, Subset};
use al_models::{Fit, Matrix, Predict};
use al_query::simulate::COLD_START;
use al_query::strategies::Diverse;
use al_query::{CompactPool, Pool, QueryInput, Selection, DEFAULT_STRATEGY};

use crate::audit::AuditShare;
use crate::error::at_least;
use crate::forecast::Snapshot;
use crate::intervals::{Coverage, Intervals};
use crate::report::SNAPSHOTS;
use crate::Project;

/// How to choose a round's rows. Numbers are checked by [`QueryOptions::check`]
/// before any work.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOptions {
    /// A strategy spec; `None` is [`DEFAULT_STRATEGY`].
    pub strategy: Option<String>,
    /// How many rows to pick (at least 1).
    pub batch: usize,
    /// A model spec; `None` is the project's model.
    pub model: Option<String>,
    pub seed: u64,
    /// At most this many candidates in the expensive strategies (at least 1).
    pub candidates: usize,
    /// Spread the batch out: top 10×batch by utility, then far-apart picks.
    pub diversity: bool,
    /// Also offer rows of unanswered batches.
    pub include_pending: bool,
    /// The level of the picked rows' intervals (`None`: 90 %); too few
    /// labels for it leaves them out with a note.
    pub coverage: Option<Coverage>,
    /// The share of the batch drawn at random from the pool instead of
    /// picked, marked as audit rows (0: none).
    pub audit: AuditShare,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            strategy: None,
            batch: 10,
            model: None,
            seed: 0,
            candidates: 500,
            diversity: false,
            include_pending: false,
            coverage: None,
            audit: AuditShare::default(),
        }
    }
}

impl QueryOptions {
    /// The one place the numbers are checked (the CLI's parsers say the same).
    pub fn check(&self) -> Result<()> {
        at_least("batch", self.batch, 1)?;
        at_least("candidates", self.candidates, 1)
    }
}

/// One picked row, best first.
#[derive(Debug, Clone, Serialize)]
pub struct PickedRow {
    pub row_id: i64,
    /// 1 for the best.
    pub rank: usize,
    /// The strategy's utility (its own scale).
    pub score: f64,
    /// The model's guess, once a model can be fitted.
    pub prediction: Option<f64>,
    /// The model's own spread (its members' standard deviation), where it
    /// has one.
    pub spread: Option<f64>,
    /// The conformal interval at the asked coverage, once there are labels
    /// enough for it.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// The row's cells as the source had them.
    pub raw: Vec<String>,
    /// Drawn at random from the pool (an audit row), not picked: it comes
    /// after the picks and has no score.
    pub audit: bool,
}

/// A round chosen, not yet recorded.
#[derive(Debug, Clone)]
pub struct PlannedRound {
    pub strategy: String,
    pub model: String,
    pub seed: u64,
    /// The cold-start strategy chose (fewer than two labels).
    pub cold_start: bool,
    /// Candidates the strategy chose from.
    pub pool: usize,
    pub rows: Vec<PickedRow>,
    /// How the rows' intervals were made, or why there are none.
    pub intervals: String,
    /// Their level.
    coverage: f64,
    record: RoundRecord,
    /// The model's predictions on the stop set, kept with the round.
    snapshot: Option<Snapshot>,
    /// Picked rows from outside the project, in pick order: they become
    /// pool rows of the project when the round is recorded.
    new_rows: Option<PreparedRows>,
}

/// Where a round's candidates come from.
pub(crate) enum Candidates {
    /// The project's own pool.
    Project,
    /// Rows from outside the project (a Spark pool's sample, or its top
    /// rows with their utilities already computed), encoded by its recipe.
    External {
        rows: PreparedRows,
        /// The rows' utilities, when they are already the round's picks
        /// in rank order; `None` runs the strategy on them.
        ranked: Option<Vec<f64>>,
        /// Candidates the round chose from (the whole outside pool).
        pool: usize,
        /// The project's labeled training rows, loaded once by the caller
        /// (which checked the scorer against them).
        train: Box<CompactRows>,
    },
}

/// Rows picked elsewhere, in rank order, with their utilities.
struct Ranked(Vec<f64>);

impl al_query::Strategy for Ranked {
    fn query(&self, _: &QueryInput) -> Result<Vec<Selection>, al_query::QueryError> {
        Ok(self
            .0
            .iter()
            .enumerate()
            .map(|(index, &score)| Selection { index, score })
            .collect())
    }
}

impl PlannedRound {
    /// The outcome of this plan once recorded as `round`.
    fn outcome(self, round: i64, file: Option<PathBuf>) -> QueryOutcome {
        QueryOutcome {
            round,
            strategy: self.strategy,
            model: self.model,
            cold_start: self.cold_start,
            pool: self.pool,
            rows: self.rows,
            intervals: self.intervals,
            file,
        }
    }
}

/// Where a recorded round's batch file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOut {
    /// No file: the caller presents the rows itself (the workbench, Python).
    None,
    /// `batch-ROUND.csv` in the working directory.
    Default,
    /// This file (written beside it under a temporary name, renamed after the commit).
    File(PathBuf),
    /// Standard output, after the commit.
    Stdout,
    /// This file, as Label Studio tasks (staged and renamed as `File`).
    LabelStudio(PathBuf),
}

impl BatchOut {
    /// What `--out` means on the command line: nothing given, the default
    /// file; `-`, standard output; else that file.
    pub fn from_arg(out: Option<&Path>) -> BatchOut {
        match out {
            None => BatchOut::Default,
            Some(p) if p.as_os_str() == "-" => BatchOut::Stdout,
            Some(p) => BatchOut::File(p.to_path_buf()),
        }
    }

    /// As `al_data::batch::BatchFile::out` takes it, inside `Some` when a
    /// file is to be written at all.
    pub(crate) fn path(&self) -> Option<Option<&Path>> {
        match self {
            BatchOut::None => None,
            BatchOut::Default => Some(None),
            BatchOut::File(p) => Some(Some(p.as_path())),
            BatchOut::Stdout => Some(Some(Path::new("-"))),
            BatchOut::LabelStudio(p) => Some(Some(p.as_path())),
        }
    }
}

/// A recorded round.
#[derive(Debug, Clone, Serialize)]
pub struct QueryOutcome {
    pub round: i64,
    pub strategy: String,
    pub model: String,
    pub cold_start: bool,
    pub pool: usize,
    pub rows: Vec<PickedRow>,
    /// How the rows' intervals were made, or why there are none.
    pub intervals: String,
    /// The batch file written, if any.
    pub file: Option<PathBuf>,
}

impl Project {
    /// Plans and records a round.
    pub fn query(&mut self, options: &QueryOptions, out: BatchOut) -> Result<QueryOutcome> {
        let planned = self.plan_query(options)?;
        self.record_query(planned, out)
    }

    /// Fits the model and runs the strategy; writes nothing.
    pub fn plan_query(&self, options: &QueryOptions) -> Result<PlannedRound> {
        self.plan(options, Candidates::Project)
    }

    /// [`Project::plan_query`] that ends early, writing nothing, once
    /// `stop` is set (checked while the pool loads and per scored chunk):
    /// for a front end's Ctrl-C.
    pub fn plan_query_until(
        &mut self,
        options: &QueryOptions,
        stop: Arc<AtomicBool>,
    ) -> Result<PlannedRound> {
        self.file.set_stop(Some(stop));
        let planned = self.plan_query(options);
        self.file.set_stop(None);
        planned
    }

    pub(crate) fn plan(
        &self,
        options: &QueryOptions,
        candidates: Candidates,
    ) -> Result<PlannedRound> {
        options.check()?;
        let project = &self.file;
        let registry = self.registry()?;
        let spec = self.model_spec(options.model.as_deref())?;
        let labeled = project.counts()?.labeled;
        let asked = options.strategy.as_deref().unwrap_or(DEFAULT_STRATEGY);
        // A model needs two labeled rows: before that, the cold-start strategy.
        let cold = labeled < 2;
        let mut strategy = registry.parse(if cold { COLD_START } else { asked })?;
        if options.diversity {
            strategy = Box::new(Diverse { inner: strategy });
        }
        let name = strategy.name();
        // One pass over the feature chunks for both. The pool stays in its
        // compact encoding; strategies expand the chunks and rows they look
        // at (al_query::pool).
        let recipe = project.recipe()?;
        let mut offered = None;
        let (train, pool, external) = match candidates {
            Candidates::Project => {
                let [train, pool] = project.load_compact_subsets([
                    Subset::Training,
                    if options.include_pending {
                        Subset::PoolWithPending
                    } else {
                        Subset::Pool
                    },
                ])?;
                (train, pool, None)
            }
            Candidates::External { .. } if options.audit.share() > 0.0 => {
                bail!("audit rows are drawn from the project's own pool; leave out the audit share for an outside pool")
            }
            Candidates::External {
                rows,
                ranked,
                pool,
                train,
            } => {
                offered = Some(pool);
                let pool = rows.compact_rows(recipe.compact_width());
                if let Some(scores) = ranked {
                    strategy = Box::new(Ranked(scores));
                }
                (*train, pool, Some(rows))
            }
        };
        if pool.is_empty() {
            bail!("no unlabeled rows left to offer (pending batches are held back unless --include-pending)");
        }
        project.check_stop()?;
        let train = train.expand(&recipe, true);
        let ly = train.targets();
        let lx = Matrix::new(train.features, train.width).with_keys(train.row_ids);
        let candidates = CompactPool::new(&pool, &recipe).with_stop(project.stop_flag());
        // Fitted once: for the rows' guesses and for the strategy.
        let fitted = if cold {
            None
        } else {
            Some(spec.build()?.fit(&lx, &ly, options.seed)?)
        };
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &candidates,
            model: &spec,
            batch: options.batch,
            seed: options.seed,
            max_candidates: options.candidates,
            fitted: fitted.as_deref(),
        };
        project.check_stop()?;
        let audit = options.audit.draw(pool.len(), options.batch, options.seed);
        let picks = with_audit(strategy.query(&input)?, &audit, options.batch);
        let first_audit = picks.len() - audit.len();
        project.check_stop()?;
        let snapshot = match &fitted {
            // The stop set is drawn from the project's own pool.
            Some(model) if external.is_none() => {
                let rows = crate::forecast::stop_set(&pool.row_ids);
                Some(Snapshot {
                    labels: ly.len() as u64,
                    row_ids: rows.iter().map(|&i| pool.row_ids[i]).collect(),
                    predictions: model.predict(&candidates.select(&rows))?,
                })
            }
            _ => None,
        };
        let new_rows = external
            .as_ref()
            .map(|rows| rows.picked(&picks.iter().map(|p| p.index).collect::<Vec<_>>()));
        let chosen = candidates.select(&picks.iter().map(|p| p.index).collect::<Vec<_>>());
        let coverage = options.coverage.unwrap_or_default();
        let (guesses, intervals) = guesses(
            fitted.as_deref(),
            Labeled {
                learner: &*spec.build()?,
                x: &lx,
                y: &ly,
            },
            &chosen,
            coverage,
            options.seed,
        )?;
        let rows = picks
            .iter()
            .zip(&guesses)
            .enumerate()
            .map(|(k, (p, g))| {
                let row_id = pool.row_ids[p.index];
                let raw = match &external {
                    Some(rows) => rows.cells(p.index)?,
                    None => project.raw_row(row_id)?.unwrap_or_default(),
                };
                Ok(PickedRow {
                    row_id,
                    rank: k + 1,
                    score: p.score,
                    prediction: g.map(|g| g.prediction),
                    spread: g.and_then(|g| g.spread),
                    lower: g.and_then(|g| g.interval.map(|i| i.0)),
                    upper: g.and_then(|g| g.interval.map(|i| i.1)),
                    raw,
                    audit: k >= first_audit,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let record = RoundRecord {
            strategy: name,
            model: spec.to_string(),
            seed: options.seed,
            batch: options.batch,
            params: round_params(options, cold, &intervals, spec.build()?.describe()),
        };
        Ok(PlannedRound {
            strategy: record.strategy.clone(),
            model: record.model.clone(),
            seed: options.seed,
            cold_start: cold,
            pool: offered.unwrap_or(pool.len()),
            rows,
            intervals: intervals.describe().to_string(),
            coverage: intervals.coverage,
            record,
            snapshot,
            new_rows,
        })
    }

    /// Records a planned round with its rows, and its batch file when asked,
    /// in one transaction: a failure leaves neither round nor file.
    pub fn record_query(&mut self, planned: PlannedRound, out: BatchOut) -> Result<QueryOutcome> {
        if planned.new_rows.is_some() {
            return self.record_external(planned, out);
        }
        let queried = queried_rows(&planned.rows);
        let path = out.path();
        let snapshots = self.snapshots_with(planned.snapshot.clone())?;
        let (round, file) = match path {
            None => {
                let round = self.file.write(|tx| {
                    let round = record_round(tx, &planned.record, &queried)?;
                    store_snapshots(tx, snapshots.as_deref())?;
                    Ok(round)
                })?;
                (round, None)
            }
            Some(path) => {
                let tasks = matches!(out, BatchOut::LabelStudio(_));
                self.record_with_file(&planned, &queried, path, tasks, snapshots.as_deref())?
            }
        };
        Ok(planned.outcome(round, file))
    }

    /// Records a round whose picks come from outside the project: the
    /// picked rows join the project's pool and the round names them, in
    /// one transaction.
    fn record_external(
        &mut self,
        mut planned: PlannedRound,
        out: BatchOut,
    ) -> Result<QueryOutcome> {
        if out != BatchOut::None {
            bail!("a round picked from an outside pool writes no batch file; present its rows from the outcome");
        }
        let new_rows = planned.new_rows.take().context("no outside rows")?;
        let rows = &mut planned.rows;
        let record = &planned.record;
        let round = self.file.write(|tx| {
            let first = al_data::store::insert_prepared_as(
                tx,
                &new_rows,
                "pool",
                al_data::store::Role::Pool,
            )?;
            for (k, row) in rows.iter_mut().enumerate() {
                row.row_id = first + k as i64;
            }
            let queried = queried_rows(rows);
            record_round(tx, record, &queried)
        })?;
        Ok(planned.outcome(round, None))
    }

    fn record_with_file(
        &mut self,
        planned: &PlannedRound,
        queried: &[QueriedRow],
        out: Option<&Path>,
        label_studio: bool,
        snapshots: Option<&str>,
    ) -> Result<(i64, Option<PathBuf>)> {
        let headers = self.file.headers()?;
        // A query adds no label: the version the tasks go by is today's
        // with the new round's number.
        let labels = self.file.label_state()?;
        let version = |round| {
            crate::label_studio::model_version_at(
                al_data::store::LabelState { round, ..labels },
                &planned.record.model,
            )
        };
        let file = BatchFile {
            out,
            headers: &headers,
            target: self.file.recipe()?.target_index(),
            format: if label_studio {
                BatchFormat::LabelStudio {
                    coverage: planned.coverage,
                    version: &version,
                }
            } else {
                BatchFormat::Csv
            },
        };
        let batch: Vec<BatchRow> = planned
            .rows
            .iter()
            .map(|r| BatchRow {
                row_id: r.row_id,
                rank: r.rank,
                score: r.score,
                prediction: r.prediction,
                interval: r.lower.zip(r.upper),
                raw: r.raw.clone(),
            })
            .collect();
        let mut staged: Option<StagedBatch> = None;
        let result = self.file.write(|tx| {
            let (round, batch) = stage_round(tx, &planned.record, queried, file, &batch)?;
            store_snapshots(tx, snapshots)?;
            staged = Some(batch);
            Ok(round)
        });
        let (round, staged) = StagedBatch::settle(result, staged)?;
        let staged = staged.context("no batch was written")?;
        Ok((round, staged.publish()?))
    }
}

impl Project {
    /// The last three stop-set snapshots with `new` appended, as stored
    /// text; `None` when there is nothing new to store.
    fn snapshots_with(&self, new: Option<Snapshot>) -> Result<Option<String>> {
        let Some(new) = new else {
            return Ok(None);
        };
        let mut all = self.snapshots()?;
        all.push(new);
        let keep = all.len().saturating_sub(3);
        Ok(Some(serde_json::to_string(&all[keep..])?))
    }
}

fn queried_rows(rows: &[PickedRow]) -> Vec<QueriedRow> {
    rows.iter()
        .map(|r| QueriedRow {
            row_id: r.row_id,
            rank: r.rank,
            score: r.score,
            prediction: r.prediction,
            spread: r.spread,
            audit: r.audit,
        })
        .collect()
}

/// How a round was asked for, as stored with it; a model from outside al
/// (a Python estimator) adds what it says about itself.
fn round_params(
    options: &QueryOptions,
    cold: bool,
    intervals: &Intervals,
    model: Option<serde_json::Value>,
) -> String {
    let mut params = json!({"audit": options.audit.share(), "diversity": options.diversity, "include_pending": options.include_pending, "candidates": options.candidates, "cold_start": cold, "intervals": intervals.describe().to_string()});
    if let Some(model) = model {
        params["model_params"] = model;
    }
    params.to_string()
}

/// The strategy's picks that are not audit rows, as many as leave room for
/// them, then the audit rows (no score: nothing chose them).
fn with_audit(picks: Vec<Selection>, audit: &[usize], batch: usize) -> Vec<Selection> {
    let room = batch.saturating_sub(audit.len());
    let mut rows: Vec<Selection> = picks
        .into_iter()
        .filter(|p| !audit.contains(&p.index))
        .take(room)
        .collect();
    rows.extend(audit.iter().map(|&index| Selection {
        index,
        score: f64::NAN,
    }));
    rows
}

/// Stores the snapshots in the round's transaction.
fn store_snapshots(tx: &rusqlite::Transaction, snapshots: Option<&str>) -> al_data::Result<()> {
    match snapshots {
        Some(text) => al_data::store::set_meta(tx, SNAPSHOTS, text),
        None => Ok(()),
    }
}

/// The model's guess for a chosen row, with its spread and interval.
#[derive(Clone, Copy)]
struct Guess {
    prediction: f64,
    spread: Option<f64>,
    interval: Option<(f64, f64)>,
}

/// The labeled rows and the learner the intervals are calibrated with.
struct Labeled<'a> {
    learner: &'a dyn Fit,
    x: &'a Matrix,
    y: &'a [f64],
}

/// The fitted model's guesses for the chosen rows, with their intervals;
/// no guesses before a model can be fitted.
fn guesses(
    fitted: Option<&dyn Predict>,
    labeled: Labeled,
    chosen: &Matrix,
    coverage: Coverage,
    seed: u64,
) -> Result<(Vec<Option<Guess>>, Intervals)> {
    let Some(fitted) = fitted else {
        let intervals = Intervals::without_model(coverage, labeled.y.len());
        return Ok((vec![None; chosen.rows()], intervals));
    };
    let predictions = fitted.predict(chosen)?;
    let intervals = crate::intervals::for_rows(
        crate::intervals::LabeledRows {
            learner: labeled.learner,
            fitted,
            x: labeled.x,
            y: labeled.y,
        },
        chosen,
        &predictions,
        coverage,
        seed,
        // The picks matter more than their intervals: too few labels
        // for the level is a note, whether or not it was asked for.
        false,
    )?;
    let spreads = fitted.predict_std(chosen)?;
    let guesses = predictions
        .iter()
        .enumerate()
        .map(|(k, &prediction)| {
            Some(Guess {
                prediction,
                spread: spreads.as_ref().map(|s| s[k]),
                interval: intervals.get(k),
            })
        })
        .collect();
    Ok((guesses, intervals))
}
