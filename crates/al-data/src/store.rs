//! Reading rows for models and recording rounds, labels and reports.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::{sql, DataError, Result};
pub use crate::project::set_meta;
use crate::project::{blob_to_features, Project, NOW};

/// The optional bounds labels must respect (`init --min/--max`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    pub fn is_set(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    /// A finite number within the bounds.
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}, {}]",
            self.min.map_or("-inf".into(), |v| v.to_string()),
            self.max.map_or("inf".into(), |v| v.to_string())
        )
    }
}

/// Which rows to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// Labeled, not held out: what models train on.
    Training,
    /// Held out for evaluation.
    Test,
    /// Unlabeled rows not out in a pending batch.
    Pool,
    /// Unlabeled rows, pending or not.
    PoolWithPending,
    /// Every row.
    All,
}

impl Subset {
    fn condition(self) -> &'static str {
        match self {
            Subset::Training => "r.label IS NOT NULL AND r.is_test = 0",
            Subset::Test => "r.is_test = 1",
            Subset::Pool => {
                "r.label IS NULL AND r.is_test = 0 AND r.row_id NOT IN (SELECT row_id FROM queries)"
            }
            Subset::PoolWithPending => "r.label IS NULL AND r.is_test = 0",
            Subset::All => "1",
        }
    }
}

/// Rows in row-id order with dense features, ready for a model.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub row_ids: Vec<i64>,
    /// Row-major, `width` values per row.
    pub features: Vec<f64>,
    pub width: usize,
    pub labels: Vec<Option<f64>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.row_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_ids.is_empty()
    }

    /// Known labels; rows without one are skipped.
    pub fn targets(&self) -> Vec<f64> {
        self.labels.iter().flatten().copied().collect()
    }
}

/// A row chosen in a query round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueriedRow {
    pub row_id: i64,
    pub rank: usize,
    pub score: f64,
    pub prediction: Option<f64>,
    pub spread: Option<f64>,
}

/// A query round as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRecord {
    pub strategy: String,
    pub model: String,
    pub seed: u64,
    pub batch: usize,
    pub params: String,
}

/// One stored evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub round: Option<i64>,
    pub labels: u64,
    pub mae: f64,
    pub mse: f64,
    pub rmse: f64,
    pub r2: f64,
    pub model: String,
    pub strategy: Option<String>,
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

impl Project {
    /// Loads rows with dense features; `scaled` z-scores numeric columns
    /// with the recipe's mean and std (for distance-based strategies).
    pub fn load(&self, subset: Subset, scaled: bool) -> Result<Rows> {
        let recipe = self.recipe()?;
        let width = recipe.n_features();
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT r.row_id, r.label, d.features FROM rows r JOIN row_data d USING (row_id)
                 WHERE {} ORDER BY r.row_id",
                subset.condition()
            ))
            .map_err(sql)?;
        let mut rows = Rows {
            width,
            ..Rows::default()
        };
        let mut q = stmt.query([]).map_err(sql)?;
        while let Some(r) = q.next().map_err(sql)? {
            rows.row_ids.push(r.get(0).map_err(sql)?);
            rows.labels.push(r.get(1).map_err(sql)?);
            let blob: Vec<u8> = r.get(2).map_err(sql)?;
            let start = rows.features.len();
            recipe.expand_into(&blob_to_features(&blob), &mut rows.features);
            if scaled {
                recipe.scale_dense(&mut rows.features[start..]);
            }
        }
        Ok(rows)
    }

    /// Source header, in source order.
    pub fn headers(&self) -> Result<Vec<String>> {
        let text = self.meta("source_headers")?.unwrap_or_else(|| "[]".into());
        serde_json::from_str(&text).map_err(|e| DataError::Usage(e.to_string()))
    }

    /// Raw cells of one row, as read from the source.
    pub fn raw_row(&self, row_id: i64) -> Result<Option<Vec<String>>> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT raw FROM row_data WHERE row_id = ?1",
                [row_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| DataError::Usage(e.to_string())))
            .transpose()
    }

    /// The optional bounds labels must respect (`init --min/--max`).
    pub fn target_bounds(&self) -> Result<Bounds> {
        let get = |key| -> Result<Option<f64>> { Ok(self.meta(key)?.and_then(|v| v.parse().ok())) };
        Ok(Bounds {
            min: get("target_min")?,
            max: get("target_max")?,
        })
    }

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

    /// Compact features of the rows of a subset, in row-id order.
    pub fn load_compact(&self, subset: Subset) -> Result<Vec<Vec<f64>>> {
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT d.features FROM rows r JOIN row_data d USING (row_id) WHERE {} ORDER BY r.row_id",
                subset.condition()
            ))
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(sql)?
            .map(|b| b.map(|b| blob_to_features(&b)))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// `(round, row_id)` of every queried row that has no label yet.
    pub fn pending(&self) -> Result<Vec<(i64, i64)>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT q.round, q.row_id FROM queries q JOIN rows r USING (row_id)
                 WHERE r.label IS NULL ORDER BY q.round, q.rank",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// Current label of a row and whether it exists and is held out.
    pub fn row_state(&self, row_id: i64) -> Result<Option<(Option<f64>, bool)>> {
        self.conn()
            .query_row(
                "SELECT label, is_test FROM rows WHERE row_id = ?1",
                [row_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)
    }

    /// The label events of one row, oldest first:
    /// `(value, source, round, annotator, note, created_at)`.
    #[allow(clippy::type_complexity)]
    pub fn history(
        &self,
        row_id: i64,
    ) -> Result<
        Vec<(
            f64,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            String,
        )>,
    > {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT value, source, round, annotator, note, created_at FROM labels
                 WHERE row_id = ?1 ORDER BY event_id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([row_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    pub fn reports(&self) -> Result<Vec<Report>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT round, labels, mae, mse, rmse, r2, model, strategy, created_at
                 FROM reports ORDER BY report_id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Report {
                    round: r.get(0)?,
                    labels: r.get::<_, i64>(1)? as u64,
                    mae: r.get(2)?,
                    mse: r.get(3)?,
                    rmse: r.get(4)?,
                    r2: r.get(5)?,
                    model: r.get(6)?,
                    strategy: r.get(7)?,
                    created_at: r.get(8)?,
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// The latest round, with its strategy.
    pub fn last_round(&self) -> Result<Option<(i64, String)>> {
        self.conn()
            .query_row(
                "SELECT round, strategy FROM rounds ORDER BY round DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)
    }

    pub fn simulation(&self, id: i64) -> Result<Option<(String, String)>> {
        self.conn()
            .query_row(
                "SELECT params, results FROM simulations WHERE simulation_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql)
    }

    pub fn last_simulation_id(&self) -> Result<Option<i64>> {
        self.conn()
            .query_row("SELECT max(simulation_id) FROM simulations", [], |r| {
                r.get(0)
            })
            .map_err(sql)
    }
}

/// Records a query round and its rows; returns the round number.
pub fn record_round(tx: &Transaction, round: &RoundRecord, rows: &[QueriedRow]) -> Result<i64> {
    tx.execute(
        &format!(
            "INSERT INTO rounds(strategy, model, seed, batch, params, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, {NOW})"
        ),
        params![
            round.strategy,
            round.model,
            round.seed as i64,
            round.batch as i64,
            round.params
        ],
    )
    .map_err(sql)?;
    let id = tx.last_insert_rowid();
    let mut stmt = tx
        .prepare(
            "INSERT INTO queries(round, rank, row_id, score, prediction, spread)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sql)?;
    for r in rows {
        let score = if r.score.is_finite() {
            Some(r.score)
        } else {
            None
        };
        stmt.execute(params![
            id,
            r.rank as i64,
            r.row_id,
            score,
            r.prediction,
            r.spread
        ])
        .map_err(sql)?;
    }
    Ok(id)
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
    tx.execute(
        "INSERT INTO rows(row_id, source, is_test) VALUES (?1, 'synthesized', 0)",
        [id],
    )
    .map_err(sql)?;
    tx.execute(
        &format!(
            "INSERT INTO row_data(row_id, raw, features, added_at) VALUES (?1, ?2, ?3, {NOW})"
        ),
        params![id, raw, features],
    )
    .map_err(sql)?;
    Ok(true)
}

pub fn insert_report(tx: &Transaction, report: &Report) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO reports(round, labels, model, strategy, mae, mse, rmse, r2, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, {NOW})"
        ),
        params![
            report.round,
            report.labels as i64,
            report.model,
            report.strategy,
            report.mae,
            report.mse,
            report.rmse,
            report.r2
        ],
    )
    .map_err(sql)?;
    Ok(())
}

pub fn insert_simulation(tx: &Transaction, params_json: &str, results_json: &str) -> Result<i64> {
    tx.execute(
        &format!("INSERT INTO simulations(params, results, created_at) VALUES (?1, ?2, {NOW})"),
        params![params_json, results_json],
    )
    .map_err(sql)?;
    Ok(tx.last_insert_rowid())
}

/// Rows read and encoded, not yet written.
#[derive(Debug, Clone, Default)]
pub struct PreparedRows {
    pub raw: Vec<String>,
    pub features: Vec<Vec<u8>>,
    /// Dense features with numeric columns z-scored, for scoring.
    pub dense: Vec<Vec<f64>>,
    pub labels: Vec<Option<f64>>,
    pub issues: Vec<String>,
}

impl PreparedRows {
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Row `i` alone, to insert rows one at a time.
    pub fn one(&self, i: usize) -> PreparedRows {
        PreparedRows {
            raw: vec![self.raw[i].clone()],
            features: vec![self.features[i].clone()],
            dense: vec![self.dense[i].clone()],
            labels: vec![self.labels[i]],
            issues: vec![],
        }
    }

    pub fn report(&self, first_row_id: i64) -> AddReport {
        AddReport {
            rows: self.len() as u64,
            labeled: self.labels.iter().flatten().count() as u64,
            first_row_id,
            issues: self.issues.clone(),
        }
    }
}

/// Inserts prepared rows after the last row id; returns the first new id.
pub fn insert_prepared(tx: &Transaction, rows: &PreparedRows, source: &str) -> Result<i64> {
    let next: i64 = tx
        .query_row("SELECT coalesce(max(row_id), 0) + 1 FROM rows", [], |r| {
            r.get(0)
        })
        .map_err(sql)?;
    for i in 0..rows.len() {
        let id = next + i as i64;
        let label = rows.labels[i];
        tx.execute(
            "INSERT INTO rows(row_id, source, is_test, label, label_source) VALUES (?1, ?2, 0, ?3, ?4)",
            params![id, source, label, label.map(|_| source)],
        )
        .map_err(sql)?;
        tx.execute(
            &format!(
                "INSERT INTO row_data(row_id, raw, features, added_at) VALUES (?1, ?2, ?3, {NOW})"
            ),
            params![id, rows.raw[i], rows.features[i]],
        )
        .map_err(sql)?;
        if let Some(v) = label {
            tx.execute(
                &format!("INSERT INTO labels(row_id, value, source, created_at) VALUES (?1, ?2, ?3, {NOW})"),
                params![id, v, source],
            )
            .map_err(sql)?;
        }
    }
    Ok(next)
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

/// What `add` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AddReport {
    pub rows: u64,
    pub labeled: u64,
    pub first_row_id: i64,
    /// Cells that did not encode cleanly, as `line: message`.
    pub issues: Vec<String>,
}

impl Project {
    /// Appends the rows of another file with the same columns, encoded with
    /// the stored recipe, in one transaction. Target cells that hold numbers
    /// become labels of source `source`.
    pub fn add_rows(&mut self, path: &std::path::Path, source: &str) -> Result<AddReport> {
        let prepared = self.prepare_rows(path)?;
        let first = self.write(|tx| insert_prepared(tx, &prepared, source))?;
        Ok(prepared.report(first))
    }

    /// Reads and encodes a file's rows with the stored recipe, writing nothing.
    pub fn prepare_rows(&self, path: &std::path::Path) -> Result<PreparedRows> {
        let headers = self.headers()?;
        let recipe = self.recipe()?;
        let delimiter = self
            .meta("delimiter")?
            .and_then(|d| d.bytes().next())
            .unwrap_or(b',');
        let table = crate::table::read_table(
            path,
            &crate::table::ReadOptions {
                delimiter: Some(delimiter),
            },
        )?;
        // Columns are matched by name, so their order may differ.
        let mut positions = Vec::with_capacity(headers.len());
        for h in &headers {
            positions.push(table.column_index(h).ok_or_else(|| {
                DataError::input(
                    path,
                    format!(
                        "has no column {h:?}; rows added to this project need its columns: {}",
                        headers.join(", ")
                    ),
                )
            })?);
        }
        let target = recipe.target_index();
        let bounds = self.target_bounds()?;
        let mut prepared = PreparedRows::default();
        for r in 0..table.n_rows() {
            let cells: Vec<&str> = positions.iter().map(|&c| table.cell(r, c)).collect();
            let mut issues = Vec::new();
            let compact = recipe.encode(&cells, &mut issues);
            prepared.issues.extend(
                issues
                    .iter()
                    .map(|i| format!("line {}: {i}", table.line(r))),
            );
            let t = cells[target].trim();
            let label = if t.is_empty() {
                None
            } else {
                match crate::recipe::parse_number(t)
                    .filter(|v| bounds.contains(*v))
                {
                    Some(v) => Some(v),
                    None => {
                        return Err(DataError::AtCell {
                            path: path.to_path_buf(),
                            line: table.line(r),
                            column: headers[target].clone(),
                            message: format!(
                                "target {t:?} is not a finite number within the project's bounds; empty the cell to add the row unlabeled"
                            ),
                        })
                    }
                }
            };
            let mut dense = recipe.expand(&compact);
            recipe.scale_dense(&mut dense);
            prepared
                .raw
                .push(serde_json::to_string(&cells).map_err(|e| DataError::Usage(e.to_string()))?);
            prepared
                .features
                .push(crate::project::features_to_blob(&compact));
            prepared.dense.push(dense);
            prepared.labels.push(label);
        }
        Ok(prepared)
    }

    /// Every row's raw cells, current label and its source, in row-id order.
    #[allow(clippy::type_complexity)]
    pub fn export_rows(
        &self,
    ) -> Result<Vec<(i64, Vec<String>, Option<f64>, Option<String>, bool)>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT r.row_id, d.raw, r.label, r.label_source, r.is_test
                 FROM rows r JOIN row_data d USING (row_id) ORDER BY r.row_id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        rows.into_iter()
            .map(|(id, raw, label, source, test)| {
                let cells =
                    serde_json::from_str(&raw).map_err(|e| DataError::Usage(e.to_string()))?;
                Ok((id, cells, label, source, test))
            })
            .collect()
    }
}
