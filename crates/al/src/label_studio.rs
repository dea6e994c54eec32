//! Label Studio through al's flows: tasks that carry al's guesses (what
//! `al-cli export --label-studio` writes) and the guesses the ML backend
//! of `al-cli serve` answers `/predict` with. The formats themselves are
//! `al_data::label_studio`'s.
//!
//! A guess is the project's model fitted on every label with its
//! conformal interval (the label page's and `predict`'s), and a score
//! that orders Label Studio's Data Manager as al's query ranked the rows:
//! rows of the open batch first, al's first pick on top.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use al_data::label_studio::{self as format, Control, Guess};
use al_data::store::{PendingPick, Subset};
use al_models::{Matrix, ModelSpec, Predict};

use crate::intervals::{Calibration, Coverage, LabeledRows};
use anyhow::Result;

use crate::Project;

/// The model fitted on the project's labels, with its intervals'
/// calibration: fitted once, it guesses any rows asked for.
pub struct Guesser {
    fitted: Box<dyn Predict>,
    calibration: Calibration,
    coverage: Coverage,
}

impl Guesser {
    /// Fits `spec` on the labeled training rows (seed 0, as the label
    /// page does); `None` with fewer than two labels.
    pub fn fit(file: &al_data::Project, spec: &ModelSpec) -> Result<Option<Guesser>> {
        let train = file.load(Subset::Training, true)?;
        if train.len() < 2 {
            return Ok(None);
        }
        let x = Matrix::new(train.features, train.width).with_keys(train.row_ids);
        let y: Vec<f64> = train.labels.iter().flatten().copied().collect();
        let learner = spec.build()?;
        let fitted = learner.fit(&x, &y, 0)?;
        let calibration = Calibration::fit(
            LabeledRows {
                learner: &*learner,
                fitted: &*fitted,
                x: &x,
                y: &y,
            },
            0,
        )?;
        Ok(Some(Guesser {
            fitted,
            calibration,
            coverage: Coverage::default(),
        }))
    }

    /// Point predictions and intervals (none when too few labels for the
    /// level) for the rows of `x`.
    fn guess(&self, x: &Matrix) -> Result<Vec<RowGuess>> {
        let point = self.fitted.predict(x)?;
        let intervals =
            self.calibration
                .intervals(&*self.fitted, x, &point, self.coverage, false)?;
        Ok(point
            .iter()
            .enumerate()
            .map(|(i, &value)| RowGuess {
                value,
                interval: intervals.get(i),
            })
            .collect())
    }
}

/// One row's point prediction and interval.
struct RowGuess {
    value: f64,
    interval: Option<(f64, f64)>,
}

/// Names the labels and model guesses are made from: it changes with
/// every label given, changed or withdrawn and with the project's model,
/// so Label Studio asks again for tasks it predicted before.
pub fn model_version(file: &al_data::Project, spec: &ModelSpec) -> Result<String> {
    Ok(model_version_at(file.label_state()?, &spec.to_string()))
}

/// [`model_version`] for labels in `state` and a model spec.
pub fn model_version_at(state: al_data::store::LabelState, spec: &str) -> String {
    // Label Studio splits model versions at commas, which specs have: the
    // model's name and a hash of its whole spec stand for it.
    let name = spec.split(':').next().unwrap_or_default();
    format!(
        "al round {} · {} labels · event {} · {name} #{:08x}",
        state.round,
        state.labels,
        state.last_event,
        fnv1a(spec.as_bytes()) as u32
    )
}

/// FNV-1a, 64 bits: a stable short name for a spec (not a secret).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where each pending row sits in its batch.
fn picks_by_row(file: &al_data::Project) -> Result<HashMap<i64, PendingPick>> {
    Ok(file
        .pending_picks()?
        .into_iter()
        .map(|p| (p.row_id, p))
        .collect())
}

/// al's guesses for rows already loaded (scaled features, `ids` in the
/// same order): a prediction for every row (without a result when there
/// is no model yet) scored by its place in the open batch.
fn guesses_for(
    picks: &HashMap<i64, PendingPick>,
    guesser: Option<&Guesser>,
    ids: &[i64],
    x: &Matrix,
    version: &str,
) -> Result<Vec<GuessOrScore>> {
    let guessed = match guesser {
        Some(g) if !ids.is_empty() => Some(g.guess(x)?),
        _ => None,
    };
    Ok(ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let pick = picks.get(id);
            let score = pick.map_or(0.0, |p| format::rank_score(p.rank, p.batch));
            let utility = pick.and_then(|p| p.score);
            match (&guessed, guesser) {
                (Some(g), Some(guesser)) => GuessOrScore::Guess(Guess {
                    value: g[i].value,
                    interval: g[i].interval,
                    coverage: guesser.coverage.level(),
                    score,
                    utility,
                    model_version: version.to_string(),
                }),
                _ => GuessOrScore::Score {
                    score,
                    model_version: version.to_string(),
                },
            }
        })
        .collect())
}

/// A task's prediction: al's guess, or only its score before there is a
/// model (two labels).
#[derive(Debug, Clone, PartialEq)]
pub enum GuessOrScore {
    Guess(Guess),
    Score { score: f64, model_version: String },
}

impl GuessOrScore {
    /// As Label Studio takes a prediction.
    pub fn to_json(&self, control: &Control) -> serde_json::Value {
        match self {
            GuessOrScore::Guess(g) => format::prediction_json(control, g),
            GuessOrScore::Score {
                score,
                model_version,
            } => format::score_only_json(*score, model_version),
        }
    }
}

/// The answer to one `/predict` request.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicted {
    /// A prediction per row asked for, in the order asked.
    Rows(Vec<GuessOrScore>),
    /// Rows asked for that the project does not hold: nothing predicted.
    Unknown(Vec<i64>),
}

/// Predicts the rows Label Studio's tasks name.
pub fn predict_rows(
    file: &al_data::Project,
    guesser: Option<&Guesser>,
    version: &str,
    row_ids: &[i64],
) -> Result<Predicted> {
    let recipe = file.recipe()?;
    let loaded = file.load_compact_ids(row_ids)?;
    let held: std::collections::HashSet<i64> = loaded.row_ids.iter().copied().collect();
    let unknown: Vec<i64> = row_ids
        .iter()
        .copied()
        .filter(|id| !held.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Ok(Predicted::Unknown(unknown));
    }
    let rows = loaded.expand(&recipe, true);
    let x = Matrix::new(rows.features, rows.width).with_keys(rows.row_ids.clone());
    let by_slot = guesses_for(&picks_by_row(file)?, guesser, &rows.row_ids, &x, version)?;
    let at: HashMap<i64, usize> = rows
        .row_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    Ok(Predicted::Rows(
        row_ids.iter().map(|id| by_slot[at[id]].clone()).collect(),
    ))
}

impl Project {
    /// Writes every unlabeled row as Label Studio tasks (a JSON list) with
    /// al's guesses as predictions, the open batch scored in al's order;
    /// returns how many. (A round's picks: `query` with
    /// [`crate::BatchOut::LabelStudio`].)
    pub fn write_label_studio_pool(&self, out: &Path) -> Result<usize> {
        let file = self.file();
        let recipe = file.recipe()?;
        let spec = self.model_spec(None)?;
        let guesser = Guesser::fit(file, &spec)?;
        let version = model_version(file, &spec)?;
        let pool = file.load(Subset::PoolWithPending, true)?;
        let ids = pool.row_ids;
        let x = Matrix::new(pool.features, pool.width).with_keys(ids.clone());
        let picks = picks_by_row(file)?;
        let predictions = guesses_for(&picks, guesser.as_ref(), &ids, &x, &version)?;
        let control = Control::for_target(&recipe.target);
        let headers = file.headers()?;
        crate::rows::write_through_temporary(out, |writer| {
            writer.write_all(b"[\n")?;
            for (i, &id) in ids.iter().enumerate() {
                let cells = file.raw_row(id)?.unwrap_or_default();
                let task = format::task_json(
                    id,
                    picks.get(&id).map(|p| p.round),
                    &headers,
                    &cells,
                    &recipe.target,
                    Some(predictions[i].to_json(&control)),
                );
                if i > 0 {
                    writer.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut *writer, &task)?;
            }
            writer.write_all(b"\n]\n")?;
            Ok(())
        })?;
        Ok(ids.len())
    }

    /// al's labeling interface for this project (Label Studio's XML).
    pub fn label_studio_config(&self) -> Result<String> {
        let file = self.file();
        Ok(format::config_xml(
            &file.recipe()?.target,
            file.target_bounds()?,
        ))
    }
}
