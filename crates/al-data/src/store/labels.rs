//! Labels: applying them (the `labels` table only grows), a row's state
//! and history, and synthetic rows until they are labeled.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use crate::error::{sql, DataError, Result};
use crate::project::{Project, NOW};

/// A row's current label and whether it is held out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowState {
    pub label: Option<f64>,
    pub is_test: bool,
}

/// One label event of a row (the `labels` table only grows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    pub value: f64,
    /// Who gave it: `init`, `annotator`, `add`, ...
    pub source: String,
    pub round: Option<i64>,
    pub annotator: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
}

/// One label to write.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelEvent {
    pub row_id: i64,
    pub value: f64,
    pub round: Option<i64>,
    pub annotator: Option<String>,
    pub note: Option<String>,
}

/// What a label import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LabelOutcome {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// Where the project's labels stand: what a model fitted on them is
/// named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelState {
    /// The latest query round (0 before the first).
    pub round: i64,
    /// Labeled rows models train on (held-out rows not counted).
    pub labels: i64,
    /// The latest label event's id (0 before the first): it moves with
    /// every label given, changed or withdrawn.
    pub last_event: i64,
}

impl Project {
    /// Raw cells of a synthetic row not yet labeled into the project.
    pub fn synthetic_row(&self, id: i64) -> Result<Option<Vec<String>>> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT raw FROM synthetic WHERE synth_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| DataError::Usage(e.to_string())))
            .transpose()
    }

    /// Whether the project holds row `row_id`: a row of its own, or a
    /// synthetic row waiting for its label.
    pub fn holds_row(&self, row_id: i64) -> Result<bool> {
        Ok(self.row_state(row_id)?.is_some() || self.synthetic_row(row_id)?.is_some())
    }

    /// Where the project's labels stand.
    pub fn label_state(&self) -> Result<LabelState> {
        self.conn()
            .query_row(
                "SELECT (SELECT coalesce(max(round), 0) FROM rounds),
                        (SELECT count(*) FROM rows WHERE label IS NOT NULL AND is_test = 0),
                        (SELECT coalesce(max(event_id), 0) FROM labels)",
                [],
                |r| {
                    Ok(LabelState {
                        round: r.get(0)?,
                        labels: r.get(1)?,
                        last_event: r.get(2)?,
                    })
                },
            )
            .map_err(sql)
    }

    /// Current label of a row and whether it is held out; `None` when the
    /// project has no such row.
    pub fn row_state(&self, row_id: i64) -> Result<Option<RowState>> {
        self.conn()
            .query_row(
                "SELECT label, is_test FROM rows WHERE row_id = ?1",
                [row_id],
                |r| {
                    Ok(RowState {
                        label: r.get(0)?,
                        is_test: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    /// The label events of one row, oldest first.
    pub fn history(&self, row_id: i64) -> Result<Vec<HistoryEvent>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT value, source, round, annotator, note, created_at FROM labels
                 WHERE row_id = ?1 ORDER BY event_id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([row_id], |r| {
                Ok(HistoryEvent {
                    value: r.get(0)?,
                    source: r.get(1)?,
                    round: r.get(2)?,
                    annotator: r.get(3)?,
                    note: r.get(4)?,
                    created_at: r.get(5)?,
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }
}

/// Appends label events where the value differs from the current label and
/// updates the current label; events equal to it change nothing.
pub fn apply_labels(tx: &Transaction, events: &[LabelEvent], source: &str) -> Result<LabelOutcome> {
    let mut outcome = LabelOutcome::default();
    let mut insert = tx
        .prepare(&format!(
            "INSERT INTO labels(row_id, value, source, round, annotator, note, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW})"
        ))
        .map_err(sql)?;
    let mut update = tx
        .prepare("UPDATE rows SET label = ?2, label_source = ?3 WHERE row_id = ?1")
        .map_err(sql)?;
    for e in events {
        let current: Option<Option<f64>> = tx
            .query_row(
                "SELECT label FROM rows WHERE row_id = ?1",
                [e.row_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        let current = match current {
            None if materialise_synthetic(tx, e.row_id)? => Some(None),
            other => other,
        };
        match current {
            None => {
                return Err(DataError::Usage(format!(
                    "row {} is not in the project",
                    e.row_id
                )))
            }
            Some(Some(v)) if v == e.value => {
                outcome.unchanged += 1;
                continue;
            }
            Some(Some(_)) => outcome.changed += 1,
            Some(None) => outcome.new += 1,
        }
        insert
            .execute(params![
                e.row_id,
                e.value,
                source,
                e.round,
                e.annotator,
                e.note
            ])
            .map_err(sql)?;
        update
            .execute(params![e.row_id, e.value, source])
            .map_err(sql)?;
    }
    Ok(outcome)
}

/// Turns a synthetic row into a project row of source `synthesized` (its id
/// kept), when it exists; the label that triggered it follows.
fn materialise_synthetic(tx: &Transaction, id: i64) -> Result<bool> {
    let found: Option<(String, Vec<u8>)> = tx
        .query_row(
            "SELECT raw, features FROM synthetic WHERE synth_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    let Some((raw, features)) = found else {
        return Ok(false);
    };
    let compact = crate::project::blob_to_features(&features);
    let mut writer = super::chunks::FeatureWriter::open(tx, compact.len())?;
    let slot = writer.push(&compact)?;
    writer.finish()?;
    tx.execute(
        "INSERT INTO rows(row_id, slot, source, is_test) VALUES (?1, ?2, 'synthesized', 0)",
        params![id, slot],
    )
    .map_err(sql)?;
    tx.execute(
        &format!("INSERT INTO row_data(row_id, raw, added_at) VALUES (?1, ?2, {NOW})"),
        params![id, raw],
    )
    .map_err(sql)?;
    Ok(true)
}

/// Synthetic rows get ids from here up, a range of their own.
pub const SYNTHETIC_BASE: i64 = 1_000_000_000;

/// Stores a synthetic row until an annotator labels it; returns its id.
pub fn insert_synthetic(
    tx: &Transaction,
    round: i64,
    raw: &[String],
    compact: &[f64],
    utility: f64,
) -> Result<i64> {
    let next: i64 = tx
        .query_row(
            "SELECT max(coalesce(max(synth_id), 0), ?1) + 1 FROM synthetic",
            [SYNTHETIC_BASE],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let raw = serde_json::to_string(raw).map_err(|e| DataError::Usage(e.to_string()))?;
    tx.execute(
        &format!(
            "INSERT INTO synthetic(synth_id, round, raw, features, utility, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, {NOW})"
        ),
        params![
            next,
            round,
            raw,
            crate::project::features_to_blob(compact),
            utility
        ],
    )
    .map_err(sql)?;
    Ok(next)
}
