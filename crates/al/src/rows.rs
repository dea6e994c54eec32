//! Rows out of the project: the export (every row as read, with its label)
//! and predictions, as tables a front-end writes or converts.

use std::io::Write;
use std::path::Path;

use crate::intervals::{Coverage, Intervals};
use anyhow::{Context, Result};
use serde::Serialize;

use al_data::Subset;
use al_models::Matrix;

use crate::Project;

/// A table of text cells with a header; `numeric` says which columns hold
/// numbers (Parquet writes them as floats, Python as floats).
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub header: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

/// The source's own cells of a project's rows, for a model that takes the
/// table as read rather than al's encoding of it (a Python `Pipeline` with
/// its own encoders, `raw=True`): every source column but the target and
/// the columns the user left out by name (`--drop`, `--id-col`), in source
/// order. Reads through a connection of its own, so a model called in the
/// middle of a flow that holds the project can still ask for its rows.
pub struct RawRows {
    file: al_data::Project,
    /// Positions of the kept columns in the source.
    kept: Vec<usize>,
    pub header: Vec<String>,
    /// Which kept columns al reads as numbers.
    pub numeric: Vec<bool>,
}

/// A row's cell at a source position; a short row's missing cells are empty.
fn cell_at(row: &[String], at: usize) -> &str {
    row.get(at).map_or("", String::as_str)
}

impl RawRows {
    pub fn open(project: &Project) -> Result<RawRows> {
        let file = al_data::Project::open_for_reading(project.file().path())?;
        let recipe = file.recipe()?;
        let headers = file.headers()?;
        let mut columns: Vec<&al_data::ColumnRecipe> = recipe
            .columns
            .iter()
            .filter(|c| !matches!(c.kind, al_data::ColumnKind::Target) && !c.left_out_by_name())
            .collect();
        columns.sort_by_key(|c| c.source_index);
        Ok(RawRows {
            kept: columns.iter().map(|c| c.source_index).collect(),
            header: columns
                .iter()
                .map(|c| headers[c.source_index].clone())
                .collect(),
            numeric: columns
                .iter()
                .map(|c| matches!(c.kind, al_data::ColumnKind::Numeric(_)))
                .collect(),
            file,
        })
    }

    /// The kept columns of the rows `row_ids`, rows in the order asked,
    /// typed once here rather than per cell in the front-end: a column al
    /// reads as numbers holds them (NaN where a cell is empty or not a
    /// number, as al's encoding reads it), the others their text (`None`
    /// where empty).
    pub fn columns(&self, row_ids: &[i64]) -> Result<Vec<RawColumn>> {
        let rows = self.file.raw_rows(row_ids)?;
        Ok(self
            .kept
            .iter()
            .zip(&self.numeric)
            .map(|(&at, &numeric)| {
                if numeric {
                    RawColumn::Numbers(
                        rows.iter()
                            .map(|r| {
                                al_data::recipe::parse_number(cell_at(r, at)).unwrap_or(f64::NAN)
                            })
                            .collect(),
                    )
                } else {
                    RawColumn::Text(
                        rows.iter()
                            .map(|r| {
                                Some(cell_at(r, at))
                                    .filter(|c| !c.trim().is_empty())
                                    .map(str::to_owned)
                            })
                            .collect(),
                    )
                }
            })
            .collect())
    }
}

/// One column of [`RawRows::columns`].
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    Numbers(Vec<f64>),
    Text(Vec<Option<String>>),
}

impl Table {
    pub fn csv_bytes(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header)?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Writes the table as CSV, or Parquet when `parquet`, through a
    /// temporary file renamed into place.
    pub fn write(&self, out: &Path, parquet: bool) -> Result<()> {
        if parquet {
            return self.write_parquet(out);
        }
        write_atomically(out, &self.csv_bytes()?)
    }

    #[cfg(feature = "parquet")]
    fn write_parquet(&self, out: &Path) -> Result<()> {
        let temp = al_data::batch::temp_beside(out);
        let written =
            al_data::columnar::write_parquet(&temp, &self.header, &self.rows, &self.numeric);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(e.into());
        }
        std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
    }

    #[cfg(not(feature = "parquet"))]
    fn write_parquet(&self, _out: &Path) -> Result<()> {
        anyhow::bail!(PARQUET_MISSING)
    }
}

/// Why a build without the `parquet` feature refuses Parquet output.
pub const PARQUET_MISSING: &str = "this al-cli was built without Parquet support; rebuild it with `--features parquet` (see the README), or use --format csv";

/// Whether this build writes Parquet.
pub const fn writes_parquet() -> bool {
    cfg!(feature = "parquet")
}

/// Writes bytes to `out` through a temporary name beside it.
pub fn write_atomically(out: &Path, bytes: &[u8]) -> Result<()> {
    let temp = al_data::batch::temp_beside(out);
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

/// Streams a file to `out` through a temporary name beside it: `out`
/// appears whole or not at all (the temporary is removed on an error).
pub(crate) fn write_through_temporary(
    out: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    let temp = al_data::batch::temp_beside(out);
    let file =
        std::fs::File::create(&temp).with_context(|| format!("cannot write {}", temp.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let written = write(&mut writer).and_then(|()| {
        writer
            .flush()
            .with_context(|| format!("cannot write {}", temp.display()))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

/// What to predict, with what.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictOptions {
    /// Only the unlabeled rows (pending ones included).
    pub pool: bool,
    /// A model spec; `None` is the project's model.
    pub model: Option<String>,
    pub seed: u64,
    /// The intervals' level; `None`: 90 %, and too few labels for it
    /// leaves the bounds empty with a note instead of failing.
    pub coverage: Option<Coverage>,
}

/// Predictions for the project's rows, in row-id order.
#[derive(Debug, Clone, Serialize)]
pub struct Predictions {
    pub model: String,
    pub row_ids: Vec<i64>,
    pub prediction: Vec<f64>,
    /// The model's own spread (its members' standard deviation, a GP's
    /// posterior one), where it has one.
    pub spread: Option<Vec<f64>>,
    /// Conformal intervals, with their level and method.
    pub intervals: Intervals,
    /// The row's current label, if any.
    pub label: Vec<Option<f64>>,
}

impl Predictions {
    /// As `al-cli predict` writes them.
    pub fn table(&self) -> Table {
        let header = ["row_id", "prediction", "lower", "upper", "spread", "label"];
        let cell =
            |v: &Option<Vec<f64>>, i: usize| v.as_ref().map_or(String::new(), |v| v[i].to_string());
        let bound = |i: usize, side: fn((f64, f64)) -> f64| {
            self.intervals
                .get(i)
                .map_or(String::new(), |b| side(b).to_string())
        };
        let rows = (0..self.row_ids.len())
            .map(|i| {
                vec![
                    self.row_ids[i].to_string(),
                    self.prediction[i].to_string(),
                    bound(i, |b| b.0),
                    bound(i, |b| b.1),
                    cell(&self.spread, i),
                    self.label[i].map_or(String::new(), |v| v.to_string()),
                ]
            })
            .collect();
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            numeric: vec![true; header.len()],
            rows,
        }
    }
}

impl Project {
    /// Every row's raw cells, label and source, in memory (for JSON,
    /// Parquet and data frames).
    pub fn export_table(&self) -> Result<Table> {
        let layout = al_data::export::ExportLayout::of(&self.file)?;
        let mut rows = Vec::new();
        self.file.each_exported_row(|row| {
            rows.push(layout.record(row));
            Ok(())
        })?;
        Ok(Table {
            header: layout.header,
            numeric: layout.numeric,
            rows,
        })
    }

    /// The export as CSV, streamed row by row to `out` ("-": standard
    /// output) in constant memory, through a temporary file for a path.
    pub fn export_csv(&self, out: &Path) -> Result<()> {
        if out.as_os_str() == "-" {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            al_data::export::write_csv(&self.file, &mut w)?;
            w.flush()?;
            return Ok(());
        }
        write_through_temporary(out, |w| {
            al_data::export::write_csv(&self.file, w)?;
            Ok(())
        })
    }

    /// Fits the model on the labeled training rows and predicts every row
    /// (or the pool), with the members' spread where the model has members.
    pub fn predict(&self, options: &PredictOptions) -> Result<Predictions> {
        let rows = self.file.load(
            if options.pool {
                Subset::PoolWithPending
            } else {
                Subset::All
            },
            true,
        )?;
        let x = Matrix::new(rows.features, rows.width).with_keys(rows.row_ids.clone());
        self.predict_rows(options, x, rows.row_ids, rows.labels)
    }

    /// Predicts the rows of a file with the project's columns (the target
    /// may be missing), encoded by its recipe and written nowhere; the row
    /// ids are the rows' positions in the file, from 0.
    pub fn predict_file(&self, file: &Path, options: &PredictOptions) -> Result<Predictions> {
        // Read as training rows when they carry the target column (labels
        // allowed), else as pool rows (the target may be missing).
        let target = self.file.recipe()?.target;
        let prepared = self.file.prepare_rows_with(file, |table| {
            if table.column_index(&target).is_some() {
                al_data::store::Role::Train
            } else {
                al_data::store::Role::Pool
            }
        })?;
        let width = self.file.recipe()?.n_features();
        let x = Matrix::new(prepared.dense.concat(), width);
        let ids = (0..prepared.len() as i64).collect();
        self.predict_rows(options, x, ids, prepared.labels)
    }

    fn predict_rows(
        &self,
        options: &PredictOptions,
        x: Matrix,
        row_ids: Vec<i64>,
        label: Vec<Option<f64>>,
    ) -> Result<Predictions> {
        let spec = self.model_spec(options.model.as_deref())?;
        let train = self.file.load(Subset::Training, true)?;
        let lx = Matrix::new(train.features, train.width).with_keys(train.row_ids);
        let ly: Vec<f64> = train.labels.iter().flatten().copied().collect();
        let guessed = crate::intervals::guesses(
            &*spec.build()?,
            (&lx, &ly),
            &x,
            options.coverage.unwrap_or_default(),
            options.seed,
            options.coverage.is_some(),
        )?;
        Ok(Predictions {
            model: spec.to_string(),
            row_ids,
            spread: guessed.fitted.predict_std(&x)?,
            prediction: guessed.predictions,
            intervals: guessed.intervals,
            label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_rows_give_the_cells_as_read_without_the_target_or_columns_left_out_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("rows.csv");
        std::fs::write(
            &source,
            "id,size,colour,note,price\n\
             a,1.50,red,x,10\n\
             b,,blue,y,\n\
             c,3,,z,30\n",
        )
        .unwrap();
        let mut options = al_data::InitOptions::new(source, dir.path().join("p.db"), "price");
        options.recipe.id_cols = vec!["id".into()];
        options.recipe.drop = vec!["note".into()];
        options.test_frac = Some(0.0);
        let (project, _) = Project::init(&options, crate::Settings::default()).unwrap();
        let raw = RawRows::open(&project).unwrap();
        assert_eq!(raw.header, ["size", "colour"]);
        assert_eq!(raw.numeric, [true, false]);
        let ids = project.file().load(Subset::All, false).unwrap().row_ids;
        // Asked out of order, an empty cell stays empty (not imputed).
        let columns = raw.columns(&[ids[2], ids[1], ids[0]]).unwrap();
        let RawColumn::Numbers(size) = &columns[0] else {
            panic!("size is read as numbers: {columns:?}")
        };
        assert_eq!(size[0], 3.0);
        assert!(size[1].is_nan());
        assert_eq!(size[2], 1.5);
        let text = |c: &str| Some(c.to_owned());
        assert_eq!(
            columns[1],
            RawColumn::Text(vec![None, text("blue"), text("red")])
        );
        let unknown = raw.columns(&[999]).unwrap_err().to_string();
        assert!(unknown.contains("row 999 has no source cells"), "{unknown}");
    }
}
