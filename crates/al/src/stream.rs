//! Rows arriving one at a time (`al-cli stream`): each is scored by the
//! strategy as it arrives and queried or let go on the spot, by a labeling
//! budget or a utility threshold (`al_query::stream`). Every arriving row
//! joins the project; the queried ones get a round and a batch file.
//!
//! Two ways through: [`Project::stream`] takes the whole file at once (one
//! transaction: rows, round and batch file land together or not at all);
//! [`Project::stream_asking`] asks an annotator about each queried row as
//! it comes (the CLI's `--interactive` in a terminal, Python's
//! `Project.stream(..., ask=...)` through a callback), each row and each
//! answer in its own transaction.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::json;

use al_data::batch::{stage_round, BatchFile, BatchFormat, BatchRow, StagedBatch};
use al_data::recipe::fmt_num;
use al_data::store::{self, record_round, PreparedRows};
use al_data::{QueriedRow, RoundRecord, Subset};
use al_models::{Fit, Matrix, ModelSpec, Predict};
use al_query::stream::StreamScorer;
pub use al_query::stream::{Rule, StreamSelector};
use al_query::Strategy;

use crate::error::{at_least, invalid};
use crate::intervals::{Calibration, LabeledRows};
use crate::{BatchOut, Coverage, Intervals, PickedRow, Project};

/// Refuses a `refit_every` of 0: the one check of that parameter, which
/// front ends also call before they read the arriving rows.
pub fn check_refit_every(refit_every: usize) -> Result<()> {
    at_least("refit_every", refit_every, 1)
}

/// What a stream is told.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The strategy that scores each arriving row.
    pub strategy: String,
    /// The model (default: the project's).
    pub model: Option<String>,
    /// When to query: a budget (share of the rows) or a utility threshold.
    pub rule: Rule,
    pub seed: u64,
    /// Bound on the candidates an expensive strategy scores.
    pub candidates: usize,
}

/// The share of arriving rows queried when neither a budget nor a
/// threshold is given.
pub const DEFAULT_BUDGET: f64 = 0.1;

/// The rule from a budget or a threshold, at most one of them given (none:
/// a budget of [`DEFAULT_BUDGET`]); its values are checked by
/// [`StreamOptions::check`].
pub fn rule(budget: Option<f64>, threshold: Option<f64>) -> Result<Rule> {
    match (budget, threshold) {
        (Some(_), Some(_)) => bail!(invalid("budget, threshold", "give one of them, not both")),
        (None, Some(t)) => Ok(Rule::Threshold(t)),
        (b, None) => Ok(Rule::Budget(b.unwrap_or(DEFAULT_BUDGET))),
    }
}

impl StreamOptions {
    /// Refuses a budget outside (0, 1], a threshold that is not a number
    /// and no candidates, before any row is read.
    pub fn check(&self) -> Result<()> {
        match self.rule {
            Rule::Budget(b) if !(b > 0.0 && b <= 1.0) => {
                bail!(invalid("budget", "expected a share in (0, 1]"))
            }
            Rule::Threshold(t) if !t.is_finite() => {
                bail!(invalid("threshold", "expected a finite number"))
            }
            _ => at_least("candidates", self.candidates, 1),
        }
    }
}

/// Arriving rows, read from a file and encoded with the project's recipe
/// as `add` encodes them.
pub struct Arrivals {
    pub rows: PreparedRows,
    /// Their dense features, one row each.
    pub features: Matrix,
}

impl Arrivals {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// Arriving row `i`'s cells as the file had them.
    pub fn raw(&self, i: usize) -> Result<Vec<String>> {
        serde_json::from_str(&self.rows.raw[i])
            .context("a prepared row's raw cells are not a JSON list of strings")
    }
}

/// What a stream did.
#[derive(Debug, Clone, Serialize)]
pub struct StreamOutcome {
    pub strategy: String,
    pub model: String,
    /// The queried rows in the order they arrived (rank 1 first).
    pub rows: Vec<PickedRow>,
    /// How the rows' intervals were made, or why there are none.
    pub intervals: String,
    /// Unlabeled rows scored.
    pub seen: u64,
    pub queried: u64,
    /// The threshold the rule ended with (`None` while it had none).
    pub threshold: Option<f64>,
    /// Rows added to the project (all arriving rows).
    pub added: usize,
    /// The round of the queried rows, when any were queried.
    pub round: Option<i64>,
    /// The batch file written (`None`: nothing queried, or standard output).
    pub file: Option<PathBuf>,
    /// Whether the batch went to standard output.
    pub to_stdout: bool,
}

/// An arriving row the stream asks the annotator about.
#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    /// Its row id, the row already added to the project.
    pub row_id: i64,
    /// The strategy's utility for it.
    pub utility: f64,
    /// Its cells as the source had them, in the project's column order.
    pub raw: Vec<String>,
    /// The model's guess for its target.
    pub prediction: f64,
}

/// The annotator's reply to an [`Ask`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reply {
    /// The label (checked against the project's bounds before it is kept).
    Value(f64),
    /// Leave the row unlabeled and go on.
    Skip,
    /// End the stream; what was added and labeled so far stays.
    Stop,
}

/// What an asking stream did.
#[derive(Debug, Clone, Serialize)]
pub struct AskedOutcome {
    /// Unlabeled rows scored.
    pub seen: u64,
    pub queried: u64,
    /// The threshold the rule ended with (`None` while it had none).
    pub threshold: Option<f64>,
    /// Rows added to the project.
    pub added: usize,
    /// Labels the annotator gave.
    pub labeled: usize,
}

/// The model's guess for one arriving row.
#[derive(Debug, Clone, Copy)]
pub struct Guess {
    pub prediction: f64,
    /// The model's own spread, where it has one.
    pub spread: Option<f64>,
    /// Its 90 % conformal interval, once there are labels enough.
    pub interval: Option<(f64, f64)>,
}

/// An arriving row the stream chose to ask about.
struct Queried {
    /// Its index among the arriving rows.
    index: usize,
    utility: f64,
    guess: Guess,
}

/// What a stream scores and predicts with, refitted on the project's
/// labeled training rows together.
pub struct StreamModel<'a> {
    scorer: StreamScorer<'a>,
    learner: Box<dyn Fit>,
    model: Option<Box<dyn Predict>>,
    /// Intervals calibrated on the same rows, once there are labels enough
    /// for 90 %.
    calibration: Option<Calibration>,
    /// LabeledRows rows the last fit saw.
    labeled: usize,
    seed: u64,
}

impl<'a> StreamModel<'a> {
    pub fn new(
        spec: &'a ModelSpec,
        strategy: &'a dyn Strategy,
        seed: u64,
        candidates: usize,
    ) -> Result<Self> {
        Ok(StreamModel {
            scorer: StreamScorer::new(strategy, spec, seed, candidates),
            learner: spec.build()?,
            model: None,
            calibration: None,
            labeled: 0,
            seed,
        })
    }

    /// Fits the model, the intervals and the scorer on the project's
    /// labeled training rows.
    pub fn fit_on_training(&mut self, project: &Project) -> Result<()> {
        let train = project.file.load(Subset::Training, true)?;
        let y = train.targets();
        let x = Matrix::new(train.features, train.width);
        let model = self.learner.fit(&x, &y, self.seed)?;
        // Too few labels for a 90 % interval: the batch file leaves the
        // bounds empty, as `query` does.
        self.calibration =
            if y.len() >= al_models::conformal::min_labels(Coverage::default().level()) {
                let labeled = LabeledRows {
                    learner: &*self.learner,
                    fitted: &*model,
                    x: &x,
                    y: &y,
                };
                Some(Calibration::fit(labeled, self.seed)?)
            } else {
                None
            };
        self.model = Some(model);
        self.labeled = y.len();
        self.scorer.fit(x, y, self.seed);
        Ok(())
    }

    /// "90 % intervals: …", or why the guesses have none.
    pub fn intervals(&self) -> String {
        match &self.calibration {
            Some(c) => format!(
                "{} intervals: {}",
                Coverage::default().percent(),
                c.method()
            ),
            None => Intervals::without_model(Coverage::default(), self.labeled)
                .describe()
                .to_string(),
        }
    }

    /// The strategy's utility for arriving row `i`.
    pub fn score(&mut self, arrivals: &Arrivals, i: usize) -> Result<f64> {
        Ok(self.scorer.score(&arrivals.features, i)?)
    }

    /// The model's prediction for arriving row `i`, its spread and its
    /// 90 % conformal interval.
    pub fn guess(&self, arrivals: &Arrivals, i: usize) -> Result<Guess> {
        let model = self
            .model
            .as_ref()
            .context("the stream's model was not fitted")?;
        let x = arrivals.features.select(&[i]);
        let prediction = model.predict(&x)?[0];
        let interval = match &self.calibration {
            Some(c) => c
                .intervals(&**model, &x, &[prediction], Coverage::default(), false)?
                .get(0),
            None => None,
        };
        Ok(Guess {
            prediction,
            spread: model.predict_std(&x)?.map(|s| s[0]),
            interval,
        })
    }
}

impl Project {
    /// Reads the arriving rows of `path`, encoded with the project's recipe
    /// (their issues in `rows.issues`).
    pub fn arrivals(&self, path: &Path) -> Result<Arrivals> {
        let rows = self.file.prepare_rows(path)?;
        let features = Matrix::new(rows.dense.concat(), self.file.recipe()?.n_features());
        Ok(Arrivals { rows, features })
    }

    /// The model and the strategy a stream runs with, checked.
    pub fn stream_parts(&self, options: &StreamOptions) -> Result<(ModelSpec, Box<dyn Strategy>)> {
        let registry = self.registry()?;
        let spec = self.model_spec(options.model.as_deref())?;
        let strategy = registry.parse(&options.strategy)?;
        Ok((spec, strategy))
    }

    /// Adds arriving row `i` on its own, in its own transaction; its row id.
    pub fn add_arrival(&mut self, arrivals: &Arrivals, i: usize) -> Result<i64> {
        let one = arrivals.rows.one(i);
        Ok(self
            .file
            .write(|tx| store::insert_prepared(tx, &one, "stream"))?)
    }

    /// Streams the rows of `arrivals` one at a time, asking about each
    /// queried row at once: every row is added in its own transaction
    /// before it is asked about, an answer is kept in its own, and the
    /// model refits after every `refit_every` labels. [`Reply::Stop`] (or
    /// an error from `ask`) ends the stream with everything before it kept.
    /// A label outside the project's bounds is refused, naming the row,
    /// and ends the stream the same way.
    pub fn stream_asking(
        &mut self,
        arrivals: &Arrivals,
        options: &StreamOptions,
        refit_every: usize,
        mut ask: impl FnMut(&Ask) -> Result<Reply>,
    ) -> Result<AskedOutcome> {
        options.check()?;
        check_refit_every(refit_every)?;
        let (spec, strategy) = self.stream_parts(options)?;
        let mut model = StreamModel::new(&spec, &*strategy, options.seed, options.candidates)?;
        let bounds = self.file.target_bounds()?;
        model.fit_on_training(self)?;
        let mut selector = StreamSelector::new(options.rule, options.seed);
        let (mut added, mut labeled, mut since_refit) = (0usize, 0usize, 0usize);
        for i in 0..arrivals.len() {
            // Scored before the row is added: a strategy that cannot score
            // stops the stream with the project as it was.
            let utility = match arrivals.rows.labels[i] {
                Some(_) => None,
                None => Some(model.score(arrivals, i)?),
            };
            let row_id = self.add_arrival(arrivals, i)?;
            added += 1;
            let Some(utility) = utility else {
                continue;
            };
            if !selector.decide(utility) {
                continue;
            }
            let question = Ask {
                row_id,
                utility,
                raw: arrivals.raw(i)?,
                prediction: model.guess(arrivals, i)?.prediction,
            };
            let value = match ask(&question)? {
                Reply::Stop => break,
                Reply::Skip => continue,
                Reply::Value(value) => value,
            };
            if let Err(why) = bounds.check(value) {
                bail!(invalid(
                    "label",
                    &format!(
                        "{} for row {row_id} is {why}; the stream stopped there, with the rows before it kept",
                        fmt_num(value)
                    )
                ));
            }
            let event = al_data::LabelEvent {
                row_id,
                value,
                round: None,
                annotator: None,
                note: None,
            };
            self.label(&[event], None)?;
            labeled += 1;
            since_refit += 1;
            if since_refit >= refit_every {
                model.fit_on_training(self)?;
                selector.reset_window();
                since_refit = 0;
            }
        }
        Ok(AskedOutcome {
            seen: selector.seen,
            queried: selector.queried,
            threshold: selector.threshold.is_finite().then_some(selector.threshold),
            added,
            labeled,
        })
    }

    /// Streams every row of `arrivals`: scores each unlabeled one as it
    /// comes, queries by the rule, and adds all of them, the queried rows'
    /// round and its batch file (`out`, as for `query`) in one
    /// transaction.
    pub fn stream(
        &mut self,
        arrivals: &Arrivals,
        options: &StreamOptions,
        out: BatchOut,
    ) -> Result<StreamOutcome> {
        options.check()?;
        let (spec, strategy) = self.stream_parts(options)?;
        let mut model = StreamModel::new(&spec, &*strategy, options.seed, options.candidates)?;
        model.fit_on_training(self)?;
        let mut selector = StreamSelector::new(options.rule, options.seed);
        let mut queried = Vec::new();
        for i in 0..arrivals.len() {
            if arrivals.rows.labels[i].is_some() {
                continue; // arrived labeled: nothing to ask
            }
            let utility = model.score(arrivals, i)?;
            if selector.decide(utility) {
                queried.push(Queried {
                    index: i,
                    utility,
                    guess: model.guess(arrivals, i)?,
                });
            }
        }
        let record = RoundRecord {
            strategy: format!("stream:{}", strategy.name()),
            model: spec.to_string(),
            seed: options.seed,
            batch: queried.len(),
            params: json!({"rule": format!("{:?}", options.rule)}).to_string(),
        };
        let path = out.path();
        let (first, round, staged) = self.add_and_stage(arrivals, &queried, &record, path)?;
        let to_stdout = staged.as_ref().is_some_and(StagedBatch::to_stdout);
        let file = match staged {
            Some(b) => b.publish()?,
            None => None,
        };
        let rows = queried
            .iter()
            .enumerate()
            .map(|(k, q)| {
                Ok(PickedRow {
                    row_id: first + q.index as i64,
                    rank: k + 1,
                    score: q.utility,
                    prediction: Some(q.guess.prediction),
                    spread: q.guess.spread,
                    lower: q.guess.interval.map(|i| i.0),
                    upper: q.guess.interval.map(|i| i.1),
                    raw: arrivals.raw(q.index)?,
                    audit: false,
                })
            })
            .collect::<Result<_>>()?;
        Ok(StreamOutcome {
            strategy: record.strategy,
            model: record.model,
            rows,
            intervals: model.intervals(),
            seen: selector.seen,
            queried: selector.queried,
            threshold: selector.threshold.is_finite().then_some(selector.threshold),
            added: arrivals.len(),
            round,
            file,
            to_stdout,
        })
    }

    /// Adds every arriving row and, when some were queried, records their
    /// round and (`path`: `Some`) stages its batch file, all in one
    /// transaction; the first added row's id.
    fn add_and_stage(
        &mut self,
        arrivals: &Arrivals,
        queried: &[Queried],
        record: &RoundRecord,
        path: Option<Option<&Path>>,
    ) -> Result<(i64, Option<i64>, Option<StagedBatch>)> {
        let headers = self.file.headers()?;
        let target = self.file.recipe()?.target_index();
        let raws = queried
            .iter()
            .map(|q| arrivals.raw(q.index))
            .collect::<Result<Vec<_>>>()?;
        let mut staged: Option<StagedBatch> = None;
        let written = self.file.write(|tx| {
            let first = store::insert_prepared(tx, &arrivals.rows, "stream")?;
            if queried.is_empty() {
                return Ok((first, None));
            }
            let rows: Vec<QueriedRow> = queried
                .iter()
                .enumerate()
                .map(|(k, q)| QueriedRow {
                    row_id: first + q.index as i64,
                    rank: k + 1,
                    score: q.utility,
                    prediction: Some(q.guess.prediction),
                    spread: q.guess.spread,
                    audit: false,
                })
                .collect();
            let Some(out) = path else {
                return Ok((first, Some(record_round(tx, record, &rows)?)));
            };
            let batch: Vec<BatchRow> = queried
                .iter()
                .zip(&rows)
                .zip(raws)
                .map(|((q, r), raw)| BatchRow {
                    row_id: r.row_id,
                    rank: r.rank,
                    score: r.score,
                    prediction: r.prediction,
                    interval: q.guess.interval,
                    raw,
                })
                .collect();
            let file = BatchFile {
                out,
                headers: &headers,
                target,
                format: BatchFormat::Csv,
            };
            let (round, batch) = stage_round(tx, record, &rows, file, &batch)?;
            staged = Some(batch);
            Ok((first, Some(round)))
        });
        let ((first, round), staged) = StagedBatch::settle(written, staged)?;
        Ok((first, round, staged))
    }
}
