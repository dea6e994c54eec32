//! The export table: every row as it was read, with its current label (in
//! the target's column), where that label came from and whether the row is
//! held out. `al-cli export` writes it as CSV or Parquet; the browser
//! workbench streams the CSV.

use std::io::Write;

use crate::store::ExportedRow;
use crate::{ColumnKind, DataError, Project, Result};

/// The export's columns: `row_id`, the source columns, `label_source`,
/// `test`.
#[derive(Debug, Clone)]
pub struct ExportLayout {
    pub header: Vec<String>,
    /// Which columns hold numbers (Parquet types them).
    pub numeric: Vec<bool>,
    target: usize,
}

impl ExportLayout {
    pub fn of(project: &Project) -> Result<ExportLayout> {
        let recipe = project.recipe()?;
        let mut header = vec!["row_id".to_string()];
        header.extend(project.headers()?);
        header.extend(["label_source".to_string(), "test".to_string()]);
        let mut numeric = vec![true];
        numeric.extend(
            recipe
                .columns
                .iter()
                .map(|c| matches!(c.kind, ColumnKind::Numeric(_) | ColumnKind::Target)),
        );
        numeric.extend([false, true]);
        Ok(ExportLayout {
            header,
            numeric,
            target: recipe.target_index(),
        })
    }

    /// One row's cells in the export's columns.
    pub fn record(&self, row: ExportedRow) -> Vec<String> {
        let mut cells = row.cells;
        if let Some(t) = cells.get_mut(self.target) {
            *t = row.label.map_or(String::new(), |v| v.to_string());
        }
        let mut record = Vec::with_capacity(cells.len() + 3);
        record.push(row.row_id.to_string());
        record.extend(cells);
        record.push(row.source.unwrap_or_default());
        record.push(if row.is_test { "1" } else { "0" }.into());
        record
    }
}

/// Writes the export as CSV to `out`, one row at a time (constant memory
/// whatever the project's size); returns the number of rows.
pub fn write_csv(project: &Project, out: impl Write) -> Result<u64> {
    let layout = ExportLayout::of(project)?;
    let failed = |e: csv::Error| DataError::Usage(format!("cannot write the export: {e}"));
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&layout.header).map_err(failed)?;
    let mut n = 0;
    project.each_exported_row(|row| {
        n += 1;
        w.write_record(layout.record(row)).map_err(failed)
    })?;
    w.flush()
        .map_err(|e| DataError::Usage(format!("cannot write the export: {e}")))?;
    Ok(n)
}
