//! Adding rows from another file (`add`, `stream`) and exporting them.

use rusqlite::{params, Transaction};
use serde::Serialize;

use crate::error::{sql, DataError, Result};
use crate::project::{Project, NOW};

/// Rows read and encoded, not yet written.
#[derive(Debug, Clone, Default)]
pub struct PreparedRows {
    pub raw: Vec<String>,
    /// Compact features, one value per feature column.
    pub compact: Vec<Vec<f64>>,
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
            compact: vec![self.compact[i].clone()],
            dense: vec![self.dense[i].clone()],
            labels: vec![self.labels[i]],
            issues: vec![],
        }
    }

    /// The rows `indices`, in that order.
    pub fn picked(&self, indices: &[usize]) -> PreparedRows {
        PreparedRows {
            raw: indices.iter().map(|&i| self.raw[i].clone()).collect(),
            compact: indices.iter().map(|&i| self.compact[i].clone()).collect(),
            dense: indices.iter().map(|&i| self.dense[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            issues: vec![],
        }
    }

    /// Row `i`'s cells as the source had them.
    pub fn cells(&self, i: usize) -> Result<Vec<String>> {
        serde_json::from_str(&self.raw[i]).map_err(|e| DataError::Usage(e.to_string()))
    }

    /// The rows as a pool in the compact encoding, numbered from 0 in
    /// order (they have no row ids until they are inserted).
    pub fn compact_rows(&self, width: usize) -> super::CompactRows {
        super::CompactRows {
            row_ids: (0..self.len() as i64).collect(),
            labels: self.labels.clone(),
            values: self.compact.iter().flatten().copied().collect(),
            width,
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

/// What rows from another file become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Labeled rows train the model, unlabeled ones join the pool.
    Train,
    /// Unlabeled rows for the pool; the file may lack the target column.
    Pool,
    /// Labeled rows held out to measure the model, never queried or
    /// trained on; every row needs its label.
    Test,
}

/// What a project's rows look like: enough to read and encode another file.
pub struct RowsFormat<'a> {
    pub headers: &'a [String],
    pub recipe: &'a crate::recipe::Recipe,
    pub bounds: crate::store::Bounds,
    /// `None`: sniffed from the file's header line.
    pub delimiter: Option<u8>,
}

/// Reads and encodes a file's rows with a fitted recipe, checked for
/// `role`, writing nothing. Columns are matched by name, in any order.
pub fn prepare_file(
    path: &std::path::Path,
    format: &RowsFormat,
    role: Role,
) -> Result<PreparedRows> {
    let table = crate::table::read_table(
        path,
        &crate::table::ReadOptions {
            delimiter: format.delimiter,
            ..Default::default()
        },
    )?;
    prepare_table(&table, format, role)
}

/// As [`prepare_file`], for a table already read (an Arrow batch from a
/// Spark worker, say); messages name the table's path.
pub fn prepare_table(
    table: &crate::table::RawTable,
    format: &RowsFormat,
    role: Role,
) -> Result<PreparedRows> {
    let (headers, recipe) = (format.headers, format.recipe);
    let path = table.path.as_path();
    let target = recipe.target_index();
    let mut positions = Vec::with_capacity(headers.len());
    for (c, h) in headers.iter().enumerate() {
        let position = table.column_index(h);
        if position.is_none() && !(role == Role::Pool && c == target) {
            return Err(DataError::input(
                path,
                format!(
                    "has no column {h:?}; rows added to this project need its columns: {}",
                    headers.join(", ")
                ),
            ));
        }
        positions.push(position);
    }
    let mut prepared = PreparedRows::default();
    for r in 0..table.n_rows() {
        let cells: Vec<&str> = positions
            .iter()
            .map(|p| p.map_or("", |c| table.cell(r, c)))
            .collect();
        let at = |message: String| DataError::AtCell {
            path: path.to_path_buf(),
            line: table.line(r),
            column: headers[target].clone(),
            message,
        };
        let mut issues = Vec::new();
        let compact = recipe.encode(&cells, &mut issues);
        prepared.issues.extend(
            issues
                .iter()
                .map(|i| format!("line {}: {i}", table.line(r))),
        );
        let t = cells[target].trim();
        let label = match (t.is_empty(), role) {
            (true, Role::Test) => {
                return Err(at(
                    "is empty; every row of a test file needs its label".into(),
                ))
            }
            (true, _) => None,
            (false, Role::Pool) => {
                return Err(at(format!(
                    "{t:?}: a pool file's rows are unlabeled; add labeled rows with --as train or --as test"
                )))
            }
            (false, _) => {
                let value = match crate::recipe::parse_number(t) {
                    Some(v) => format.bounds.check(v).map(|()| v),
                    None => Err("not a finite number".to_string()),
                };
                match value {
                    Ok(v) => Some(v),
                    Err(why) => {
                        return Err(at(format!(
                            "target {t:?} is {why}; empty the cell to add the row unlabeled"
                        )))
                    }
                }
            }
        };
        let mut dense = recipe.expand(&compact);
        recipe.scale_dense(&mut dense);
        prepared
            .raw
            .push(serde_json::to_string(&cells).map_err(|e| DataError::Usage(e.to_string()))?);
        prepared.dense.push(dense);
        prepared.compact.push(compact);
        prepared.labels.push(label);
    }
    Ok(prepared)
}

/// Inserts prepared rows after the last row id; returns the first new id.
pub fn insert_prepared(tx: &Transaction, rows: &PreparedRows, source: &str) -> Result<i64> {
    insert_prepared_as(tx, rows, source, Role::Train)
}

/// As [`insert_prepared`], the rows held out when `role` is [`Role::Test`].
pub fn insert_prepared_as(
    tx: &Transaction,
    rows: &PreparedRows,
    source: &str,
    role: Role,
) -> Result<i64> {
    let next: i64 = tx
        .query_row("SELECT coalesce(max(row_id), 0) + 1 FROM rows", [], |r| {
            r.get(0)
        })
        .map_err(sql)?;
    if rows.is_empty() {
        return Ok(next);
    }
    let width = rows.compact[0].len();
    let mut features = super::chunks::FeatureWriter::open(tx, width)?;
    for i in 0..rows.len() {
        let id = next + i as i64;
        let label = rows.labels[i];
        let slot = features.push(&rows.compact[i])?;
        tx.execute(
            "INSERT INTO rows(row_id, slot, source, is_test, label, label_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, slot, source, role == Role::Test, label, label.map(|_| source)],
        )
        .map_err(sql)?;
        tx.execute(
            &format!("INSERT INTO row_data(row_id, raw, added_at) VALUES (?1, ?2, {NOW})"),
            params![id, rows.raw[i]],
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
    features.finish()?;
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
        self.add_rows_as(path, source, Role::Train)
    }

    /// Appends a file's rows in one transaction, as training, pool or test rows.
    pub fn add_rows_as(
        &mut self,
        path: &std::path::Path,
        source: &str,
        role: Role,
    ) -> Result<AddReport> {
        let prepared = self.prepare_rows_as(path, role)?;
        let first = self.write(|tx| insert_prepared_as(tx, &prepared, source, role))?;
        Ok(prepared.report(first))
    }

    /// Reads and encodes a file's rows with the stored recipe, writing nothing.
    pub fn prepare_rows(&self, path: &std::path::Path) -> Result<PreparedRows> {
        self.prepare_rows_as(path, Role::Train)
    }

    /// As [`Project::prepare_rows`], checked for the role the rows will have.
    pub fn prepare_rows_as(&self, path: &std::path::Path, role: Role) -> Result<PreparedRows> {
        self.prepare_rows_with(path, |_| role)
    }

    /// As [`Project::prepare_rows_as`], the role chosen from the table
    /// read (one read: a frame handed over in memory is read once).
    pub fn prepare_rows_with(
        &self,
        path: &std::path::Path,
        role: impl FnOnce(&crate::table::RawTable) -> Role,
    ) -> Result<PreparedRows> {
        let delimiter = self
            .meta("delimiter")?
            .and_then(|d| d.bytes().next())
            .unwrap_or(b',');
        let table = crate::table::read_table(
            path,
            &crate::table::ReadOptions {
                delimiter: Some(delimiter),
                ..Default::default()
            },
        )?;
        let role = role(&table);
        prepare_table(
            &table,
            &RowsFormat {
                headers: &self.headers()?,
                recipe: &self.recipe()?,
                bounds: self.target_bounds()?,
                delimiter: Some(delimiter),
            },
            role,
        )
    }

    /// Every row's raw cells, current label and its source, in row-id
    /// order, one at a time: a million-row export streams in constant
    /// memory.
    pub fn each_exported_row(&self, mut f: impl FnMut(ExportedRow) -> Result<()>) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT r.row_id, d.raw, r.label, r.label_source, r.is_test
                 FROM rows r JOIN row_data d USING (row_id) ORDER BY r.row_id",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            let row_id: i64 = r.get(0).map_err(sql)?;
            let raw: String = r.get(1).map_err(sql)?;
            let cells: Vec<String> = serde_json::from_str(&raw).map_err(|e| {
                DataError::Usage(format!(
                    "row {row_id}: its stored cells are not a JSON list: {e}"
                ))
            })?;
            f(ExportedRow {
                row_id,
                cells,
                label: r.get(2).map_err(sql)?,
                source: r.get(3).map_err(sql)?,
                is_test: r.get(4).map_err(sql)?,
            })?;
        }
        Ok(())
    }
}

/// One row as `export` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedRow {
    pub row_id: i64,
    /// Raw cells in source order, as read.
    pub cells: Vec<String>,
    pub label: Option<f64>,
    /// Where the current label came from (`init`, `annotator`, ...).
    pub source: Option<String>,
    pub is_test: bool,
}
