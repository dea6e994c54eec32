//! The label flow: answers read and checked whole, then applied in one
//! transaction and, when there is enough to measure, evaluated.

use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use al_data::recipe::fmt_num;
use al_data::store::HistoryEvent;
use al_data::{store, LabelEvent, LabelOutcome, Report};
use al_models::ModelSpec;

use crate::error::refused;
use crate::Project;

/// What a label import did.
#[derive(Debug, Clone, Serialize)]
pub struct Labeled {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// The evaluation after the import, when labels changed and there was
    /// enough to measure.
    pub report: Option<Report>,
}

/// Every label event of one row.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub row_id: i64,
    pub raw: Vec<String>,
    pub labels: Vec<HistoryEvent>,
}

impl Project {
    /// A filled-in batch file, read and checked whole before anything is
    /// written (columns, row ids, untouched cells, bounds; errors name the
    /// file, line and column).
    pub fn read_answers(&self, file: &Path, annotator: Option<&str>) -> Result<Vec<LabelEvent>> {
        Ok(al_data::batch::read_filled(&self.file, file, annotator)?)
    }

    /// Answers given as `(row_id, value)` pairs, checked whole: every row is
    /// in the project and every value within the project's bounds.
    pub fn answers(
        &self,
        pairs: &[(i64, f64)],
        annotator: Option<&str>,
    ) -> Result<Vec<LabelEvent>> {
        let bounds = self.file.target_bounds()?;
        // A row out in a pending batch is answered for that batch's round.
        let rounds: std::collections::HashMap<i64, i64> = self
            .file
            .pending()?
            .into_iter()
            .map(|p| (p.row_id, p.round))
            .collect();
        pairs
            .iter()
            .map(|&(row_id, value)| {
                if let Err(m) = bounds.check(value) {
                    bail!(refused(
                        "value",
                        &format!("row {row_id}: value {}: {m}", fmt_num(value))
                    ));
                }
                if self.file.row_state(row_id)?.is_none() {
                    bail!(refused(
                        "row_id",
                        &format!("row {row_id} is not in the project")
                    ));
                }
                Ok(LabelEvent {
                    row_id,
                    value,
                    round: rounds.get(&row_id).copied(),
                    annotator: annotator.map(str::to_string),
                    note: None,
                })
            })
            .collect()
    }

    /// Applies checked answers in one transaction; then, when a label
    /// changed and `evaluate_with` is given and there is enough to measure,
    /// evaluates that model and stores the report.
    pub fn label(
        &mut self,
        events: &[LabelEvent],
        evaluate_with: Option<&ModelSpec>,
    ) -> Result<Labeled> {
        let outcome: LabelOutcome = self
            .file
            .write(|tx| store::apply_labels(tx, events, "annotator"))?;
        let changed = outcome.new + outcome.changed > 0;
        let report = match evaluate_with {
            Some(spec) if changed && self.measurable()? => Some(self.evaluate(spec, 0)?),
            _ => None,
        };
        Ok(Labeled {
            new: outcome.new,
            changed: outcome.changed,
            unchanged: outcome.unchanged,
            report,
        })
    }

    /// The label events of one row, oldest first, with its raw cells.
    pub fn history(&self, row_id: i64) -> Result<History> {
        let Some(raw) = self.file.raw_row(row_id)? else {
            bail!(refused(
                "row_id",
                &format!("row {row_id} is not in the project")
            ));
        };
        Ok(History {
            row_id,
            raw,
            labels: self.file.history(row_id)?,
        })
    }
}
