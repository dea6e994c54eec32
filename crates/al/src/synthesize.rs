//! Membership query synthesis (`al-cli synthesize`): new rows where the
//! strategy finds the most to learn (`al_query::synthesis`), decoded to raw
//! values through the stored recipe, go out as a batch; their labels come
//! from an annotator, never from the model itself.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::json;

use al_data::batch::{BatchFile, BatchFormat, BatchRow, StagedBatch};
use al_data::{store, RoundRecord, Subset};
use al_models::Matrix;
use al_query::synthesis::{synthesize, Space};
use al_query::{QueryError, QueryInput};

use crate::error::at_least;
use crate::intervals::{for_rows, LabeledRows};
use crate::{BatchOut, Coverage, Intervals, PickedRow, Project};

/// What to synthesize.
#[derive(Debug, Clone)]
pub struct SynthesizeOptions {
    /// How many rows.
    pub n: usize,
    /// The strategy whose utility the new rows maximise.
    pub strategy: String,
    /// The model (default: the project's).
    pub model: Option<String>,
    pub seed: u64,
}

impl SynthesizeOptions {
    /// Refuses asking for no rows, before anything is fitted.
    pub fn check(&self) -> Result<()> {
        at_least("n", self.n, 1)
    }
}

/// A recorded round of synthetic rows.
#[derive(Debug, Clone, Serialize)]
pub struct SynthesisOutcome {
    pub round: i64,
    pub strategy: String,
    pub model: String,
    /// The new rows, best first.
    pub rows: Vec<PickedRow>,
    /// How the rows' intervals were made, or why there are none.
    pub intervals: String,
    /// The batch file written, if any (`-`: standard output).
    pub file: Option<PathBuf>,
}

/// Synthetic rows ready to record: (decoded cells, compact features) with
/// their utilities and the model's guesses.
struct Synthesized {
    rows: Vec<(Vec<String>, Vec<f64>)>,
    utilities: Vec<f64>,
    predictions: Vec<f64>,
    intervals: Intervals,
}

impl Project {
    /// Synthesizes `options.n` rows and records them as a round with its
    /// batch file (`out`, as for `query`), all in one transaction.
    pub fn synthesize(
        &mut self,
        options: &SynthesizeOptions,
        out: BatchOut,
    ) -> Result<SynthesisOutcome> {
        options.check()?;
        let recipe = self.file.recipe()?;
        let headers = self.file.headers()?;
        let registry = self.registry()?;
        let strategy = registry.parse(&options.strategy)?;
        let spec = self.model_spec(options.model.as_deref())?;
        let train = self.file.load(Subset::Training, true)?;
        if train.len() < 2 {
            bail!("label at least 2 rows before synthesizing");
        }
        let (lx, ly) = (
            Matrix::new(train.features.clone(), train.width),
            train.targets(),
        );
        let fitted = spec.build()?.fit(&lx, &ly, options.seed)?;
        let space = Space::of(&recipe);
        let mut real = self.file.load_compact(Subset::Training)?;
        real.extend(self.file.load_compact(Subset::PoolWithPending)?);
        space.fill_missing(&mut real);
        let dense = |points: &[Vec<f64>]| {
            let mut data = Vec::with_capacity(points.len() * recipe.n_features());
            for p in points {
                let start = data.len();
                recipe.expand_into(p, &mut data);
                recipe.scale_dense(&mut data[start..]);
            }
            Matrix::new(data, recipe.n_features())
        };
        // The strategy's per-row utility of synthetic points, as if they
        // were the pool (the same seed each call, so the same fitted
        // models).
        let utility = |points: &[Vec<f64>]| -> Result<Vec<f64>, QueryError> {
            let x = dense(points);
            let input = QueryInput {
                labeled_x: &lx,
                labeled_y: &ly,
                candidates: &x,
                model: &spec,
                batch: x.rows(),
                seed: options.seed,
                max_candidates: x.rows().max(1),
                fitted: None,
            };
            match strategy.utilities(&input) {
                Some(u) => u,
                None => Err(QueryError::NoUtilities(strategy.name())),
            }
        };
        let points = synthesize(&space, &real, options.n, options.seed, &utility)?;
        // Decode, then re-encode what was written: the stored features are
        // exactly what the written cells mean.
        let mut rows = Vec::with_capacity(points.len());
        for (p, _) in &points {
            let cells = recipe.decode(p, headers.len());
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            let mut issues = vec![];
            let compact = recipe.encode(&refs, &mut issues);
            rows.push((cells, compact));
        }
        let compact: Vec<Vec<f64>> = rows.iter().map(|r| r.1.clone()).collect();
        let x = dense(&compact);
        let predictions = fitted.predict(&x)?;
        let intervals = for_rows(
            LabeledRows {
                learner: &*spec.build()?,
                fitted: &*fitted,
                x: &lx,
                y: &ly,
            },
            &x,
            &predictions,
            Coverage::default(),
            options.seed,
            false,
        )?;
        let made = Synthesized {
            utilities: utility(&compact)?,
            rows,
            predictions,
            intervals,
        };
        let record = RoundRecord {
            strategy: format!("synthesize:{}", strategy.name()),
            model: spec.to_string(),
            seed: options.seed,
            batch: options.n,
            params: json!({"synthetic": true}).to_string(),
        };
        let path = out.path();
        let file = path.map(|out| BatchFile {
            out,
            headers: &headers,
            target: recipe.target_index(),
            format: BatchFormat::Csv,
        });
        self.record_synthesized(&record, file, &made)
    }

    /// Records the round, its synthetic rows and (`file`: `Some`) its batch
    /// file in one transaction. Synthetic rows get their ids from the
    /// round, so the round is recorded first and the batch staged after
    /// them.
    fn record_synthesized(
        &mut self,
        record: &RoundRecord,
        file: Option<BatchFile>,
        made: &Synthesized,
    ) -> Result<SynthesisOutcome> {
        let mut staged: Option<StagedBatch> = None;
        let result = self.file.write(|tx| {
            let round = store::record_round(tx, record, &[])?;
            let mut batch = Vec::with_capacity(made.rows.len());
            for (k, (cells, compact)) in made.rows.iter().enumerate() {
                let id = store::insert_synthetic(tx, round, cells, compact, made.utilities[k])?;
                batch.push(BatchRow {
                    row_id: id,
                    rank: k + 1,
                    score: made.utilities[k],
                    prediction: Some(made.predictions[k]),
                    interval: made.intervals.get(k),
                    raw: cells.clone(),
                });
            }
            if let Some(file) = file {
                staged = Some(StagedBatch::stage(file, round, &batch)?);
            }
            Ok((round, batch))
        });
        let ((round, batch), staged) = StagedBatch::settle(result, staged)?;
        let file = match staged {
            Some(staged) => {
                let out = staged.out.clone();
                staged.publish()?;
                Some(out)
            }
            None => None,
        };
        Ok(SynthesisOutcome {
            round,
            strategy: record.strategy.clone(),
            model: record.model.clone(),
            rows: batch
                .into_iter()
                .enumerate()
                .map(|(k, b)| PickedRow {
                    row_id: b.row_id,
                    rank: b.rank,
                    score: b.score,
                    prediction: b.prediction,
                    spread: None,
                    lower: made.intervals.get(k).map(|i| i.0),
                    upper: made.intervals.get(k).map(|i| i.1),
                    raw: b.raw,
                    audit: false,
                })
                .collect(),
            intervals: made.intervals.describe().to_string(),
            file,
        })
    }
}
