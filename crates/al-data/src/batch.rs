//! The batch file an annotator fills in ([`batch_csv`]), how it is read
//! back and checked ([`read_filled`]), and the one way a round is
//! recorded with its file: `query`, `stream` and `synthesize` all record the
//! round and stage the file in one transaction ([`stage_round`]), then put
//! the file in place only after the commit ([`StagedBatch::publish`]), so a
//! failure leaves neither round nor file.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Transaction;

use crate::store::{record_round, LabelEvent, QueriedRow, RoundRecord};
use crate::{read_table, DataError, Project, ReadOptions, Result};

/// The columns a batch file starts with, before the source columns; `note`
/// ends it. `lower` and `upper` bound the conformal interval of the guess.
pub const LEAD: [&str; 7] = [
    "row_id",
    "round",
    "rank",
    "score",
    "prediction",
    "lower",
    "upper",
];

/// The lead columns of batch files written before the intervals were
/// conformal (the members' 10th and 90th percentiles): still read back.
const OLD_LEAD: [&str; 7] = [
    "row_id",
    "round",
    "rank",
    "score",
    "prediction",
    "prediction_low",
    "prediction_high",
];

/// A temporary name beside `path`, for writing a file then renaming it.
pub fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// One row of a batch file.
pub struct BatchRow {
    pub row_id: i64,
    pub rank: usize,
    pub score: f64,
    pub prediction: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// Raw cells in source order.
    pub raw: Vec<String>,
}

/// The batch CSV an annotator fills in: the lead columns, the raw source
/// columns with the target emptied, and `note`.
pub fn batch_csv(
    headers: &[String],
    target: usize,
    round: i64,
    rows: &[BatchRow],
) -> Result<Vec<u8>> {
    let csv_error = |e: csv::Error| DataError::Usage(format!("cannot write the batch: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = LEAD.iter().map(|s| s.to_string()).collect();
    header.extend(headers.iter().cloned());
    header.push("note".into());
    w.write_record(&header).map_err(csv_error)?;
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        let mut raw = r.raw.clone();
        if let Some(t) = raw.get_mut(target) {
            t.clear();
        }
        let mut record = vec![
            r.row_id.to_string(),
            round.to_string(),
            r.rank.to_string(),
            num(Some(r.score).filter(|s| s.is_finite())),
            num(r.prediction),
            num(r.interval.map(|i| i.0)),
            num(r.interval.map(|i| i.1)),
        ];
        record.extend(raw);
        record.push(String::new());
        w.write_record(&record).map_err(csv_error)?;
    }
    w.into_inner()
        .map_err(|e| DataError::Usage(format!("cannot write the batch: {e}")))
}

/// A batch file written under a temporary name inside the transaction that
/// records its round (whose number is only known there), and put in place,
/// or printed, only after the commit: a failure leaves neither round nor file.
pub struct StagedBatch {
    temp: Option<PathBuf>,
    pub out: PathBuf,
    bytes: Vec<u8>,
}

impl StagedBatch {
    /// Writes the batch beside `out` (default `batch-ROUND.csv`; "-" is stdout).
    pub fn stage(file: BatchFile, round: i64, rows: &[BatchRow]) -> Result<StagedBatch> {
        let (bytes, default_name) = match file.format {
            BatchFormat::Csv => (
                batch_csv(file.headers, file.target, round, rows)?,
                format!("batch-{round}.csv"),
            ),
            BatchFormat::LabelStudio { coverage, version } => (
                crate::label_studio::batch_tasks(
                    file.headers,
                    file.target,
                    round,
                    rows,
                    coverage,
                    &version(round),
                )?,
                format!("tasks-{round}.json"),
            ),
        };
        let out = file
            .out
            .map_or_else(|| PathBuf::from(default_name), Path::to_path_buf);
        let temp = (out.as_os_str() != "-").then(|| temp_beside(&out));
        if let Some(t) = &temp {
            std::fs::write(t, &bytes).map_err(|source| DataError::Io {
                path: t.clone(),
                source,
            })?;
        }
        Ok(StagedBatch { temp, out, bytes })
    }

    pub fn to_stdout(&self) -> bool {
        self.temp.is_none()
    }

    /// After the round's transaction: passes the batch on, or removes the
    /// staged file when the transaction failed.
    pub fn settle<T>(
        result: Result<T>,
        staged: Option<StagedBatch>,
    ) -> Result<(T, Option<StagedBatch>)> {
        match result {
            Ok(v) => Ok((v, staged)),
            Err(e) => {
                if let Some(b) = &staged {
                    b.discard();
                }
                Err(e)
            }
        }
    }

    fn discard(&self) {
        if let Some(t) = &self.temp {
            let _ = std::fs::remove_file(t);
        }
    }

    /// After the commit: the file's final path, or `None` when printed.
    pub fn publish(self) -> Result<Option<PathBuf>> {
        match &self.temp {
            Some(t) => {
                std::fs::rename(t, &self.out).map_err(|source| DataError::Io {
                    path: self.out.clone(),
                    source,
                })?;
                Ok(Some(self.out))
            }
            None => {
                std::io::stdout()
                    .write_all(&self.bytes)
                    .map_err(|source| DataError::Io {
                        path: PathBuf::from("-"),
                        source,
                    })?;
                Ok(None)
            }
        }
    }
}

/// Records `record` with its queried rows and stages the batch file of
/// `batch` (default name `batch-ROUND.csv`) inside the round's transaction.
pub fn stage_round(
    tx: &Transaction,
    record: &RoundRecord,
    queried: &[QueriedRow],
    file: BatchFile,
    batch: &[BatchRow],
) -> Result<(i64, StagedBatch)> {
    let round = record_round(tx, record, queried)?;
    let staged = StagedBatch::stage(file, round, batch)?;
    Ok((round, staged))
}

/// Where a batch goes and the source columns it shows.
#[derive(Clone, Copy)]
pub struct BatchFile<'a> {
    /// `None`: `batch-ROUND.csv` (`tasks-ROUND.json`); `-`: standard output.
    pub out: Option<&'a Path>,
    pub headers: &'a [String],
    /// The target's index among `headers` (its cells are emptied).
    pub target: usize,
    pub format: BatchFormat<'a>,
}

/// What a batch file is.
#[derive(Clone, Copy)]
pub enum BatchFormat<'a> {
    /// The CSV an annotator fills in (`label` reads it back).
    Csv,
    /// Label Studio tasks (`label_studio::batch_tasks`): the rows' guesses
    /// and intervals at `coverage` as predictions, named by the model
    /// version `version(round)` gives.
    LabelStudio {
        coverage: f64,
        version: &'a dyn Fn(i64) -> String,
    },
}

/// A batch row's `round` cell: empty (a row not from a round), or a round
/// the project recorded. Anything else would reach the labels table as a
/// round that does not exist.
fn recorded_round(
    cell: &str,
    rounds: &std::collections::HashSet<i64>,
) -> Result<Option<i64>, String> {
    let text = cell.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if rounds.contains(&n) => Ok(Some(n)),
        Ok(n) => Err(format!(
            "round {n} is not a round of this project; leave the column as query wrote it"
        )),
        Err(_) => Err(format!(
            "{text:?} is not a round number; leave the column as query wrote it"
        )),
    }
}

/// Reads and checks a whole filled-in batch file before anything is
/// written: its columns are this project's batch columns, every row id is
/// a row (or synthetic row) of the project, no cell but the target's was
/// changed, every label is a number within the project's bounds, and a row
/// labeled twice is labeled alike. Errors name the file, line and column.
pub fn read_filled(
    project: &Project,
    path: &Path,
    annotator: Option<&str>,
) -> Result<Vec<LabelEvent>> {
    if crate::label_studio::is_export(path) {
        return crate::label_studio::read_export(project, path, annotator);
    }
    let bounds = project.target_bounds()?;
    let table = read_table(
        path,
        &ReadOptions {
            delimiter: Some(b','),
            // The header is checked whole below; a source column may be
            // called like a lead column (`score`, `round`, `note`).
            positional: true,
            ..ReadOptions::default()
        },
    )?;
    let source = project.headers()?;
    let with_lead = |lead: &[&str]| {
        let mut columns: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
        columns.extend(source.iter().cloned());
        columns.push("note".into());
        columns
    };
    let expected = with_lead(&LEAD);
    if table.headers != expected && table.headers != with_lead(&OLD_LEAD) {
        if let Some(shape) = AnswersShape::of(project, &table.headers)? {
            return read_answers(project, path, &table, shape, annotator);
        }
        return Err(DataError::input(
            path,
            format!(
                "its columns are not those of a batch from this project (expected {}), nor of an answers file (two columns: row_id or an id column, and {}; a `note` column may follow); was it written by `al-cli query` on {}?",
                expected.join(","),
                project.recipe()?.target,
                project.path().display()
            ),
        ));
    }
    let target = project.recipe()?.target_index();
    let target_col = LEAD.len() + target;
    let note_col = expected.len() - 1;
    let at = |row: usize, column: &str, message: String| DataError::AtCell {
        path: path.to_path_buf(),
        line: table.line(row),
        column: column.to_string(),
        message,
    };
    let rounds = project.round_numbers()?;
    let mut seen: HashMap<i64, (f64, usize)> = HashMap::new();
    let mut events = Vec::new();
    for r in 0..table.n_rows() {
        let id_text = table.cell(r, 0).trim();
        let row_id: i64 = id_text
            .parse()
            .map_err(|_| at(r, "row_id", format!("{id_text:?} is not a row id")))?;
        let raw = match project.raw_row(row_id)? {
            Some(raw) => Some(raw),
            None => project.synthetic_row(row_id)?,
        };
        let Some(raw) = raw else {
            return Err(at(
                r,
                "row_id",
                format!("row {row_id} is not in this project"),
            ));
        };
        for (c, original) in raw.iter().enumerate() {
            if c != target && table.cell(r, LEAD.len() + c) != original {
                return Err(at(
                    r,
                    &source[c],
                    format!(
                        "changed from {original:?} to {:?}; only the target column may be filled in",
                        table.cell(r, LEAD.len() + c)
                    ),
                ));
            }
        }
        let cell = table.cell(r, target_col).trim();
        if cell.is_empty() {
            continue; // still pending
        }
        let value: f64 = cell
            .parse()
            .map_err(|_| at(r, &source[target], format!("{cell:?} is not a number")))?;
        bounds
            .check(value)
            .map_err(|m| at(r, &source[target], format!("{cell}: {m}")))?;
        if let Some((previous, line)) = seen.insert(row_id, (value, r)) {
            if previous != value {
                return Err(at(
                    r,
                    &source[target],
                    format!(
                        "row {row_id} is labeled {previous} on line {} and {value} here",
                        table.line(line)
                    ),
                ));
            }
            continue;
        }
        let round = recorded_round(table.cell(r, 1), &rounds).map_err(|m| at(r, "round", m))?;
        let note = Some(table.cell(r, note_col).trim().to_string()).filter(|n| !n.is_empty());
        events.push(LabelEvent {
            row_id,
            value,
            round,
            annotator: annotator.map(str::to_string),
            note,
        });
    }
    Ok(events)
}

/// How a plain answers file names its rows: the project's row ids, or the
/// values of one of its id columns (`init --id-col`).
struct AnswersShape {
    key: usize,
    /// The id column's place in the source, when the rows are named by it.
    id_source: Option<usize>,
    value: usize,
    note: Option<usize>,
}

impl AnswersShape {
    /// The shape of a file whose header is `row_id` (or an id column) and
    /// the target, in either order, and optionally `note`; `None` for any
    /// other header.
    fn of(project: &Project, headers: &[String]) -> Result<Option<AnswersShape>> {
        let recipe = project.recipe()?;
        let find = |name: &str| headers.iter().position(|h| h == name);
        let (Some(value), true) = (find(&recipe.target), (2..=3).contains(&headers.len())) else {
            return Ok(None);
        };
        let note = find("note");
        if headers.len() == 3 && note.is_none() {
            return Ok(None);
        }
        let key = (0..headers.len()).find(|&c| c != value && Some(c) != note);
        let Some(key) = key else { return Ok(None) };
        if headers[key] == "row_id" {
            return Ok(Some(AnswersShape {
                key,
                id_source: None,
                value,
                note,
            }));
        }
        let id_source = recipe
            .columns
            .iter()
            .find(|c| c.name == headers[key] && c.kind_name() == "id")
            .map(|c| c.source_index);
        Ok(id_source.map(|i| AnswersShape {
            key,
            id_source: Some(i),
            value,
            note,
        }))
    }
}

/// Reads a plain answers file (the shape a lab or a spreadsheet sends
/// back): each row names a row of the project by `row_id` or by its id
/// column's value, and gives its label. The same checks as a batch file's:
/// every row known, every label a number within the bounds, a row labeled
/// twice labeled alike; a row that was queried and is pending keeps its
/// round. Errors name the file, line and column.
fn read_answers(
    project: &Project,
    path: &Path,
    table: &crate::RawTable,
    shape: AnswersShape,
    annotator: Option<&str>,
) -> Result<Vec<LabelEvent>> {
    let bounds = project.target_bounds()?;
    let key_name = table.headers[shape.key].clone();
    let value_name = table.headers[shape.value].clone();
    let at = |row: usize, column: &str, message: String| DataError::AtCell {
        path: path.to_path_buf(),
        line: table.line(row),
        column: column.to_string(),
        message,
    };
    // Rows named by an id column: one pass over the project's rows, for
    // the ids the file names only.
    let by_id: HashMap<String, i64> = match shape.id_source {
        None => HashMap::new(),
        Some(source) => {
            let wanted: std::collections::HashSet<&str> = (0..table.n_rows())
                .map(|r| table.cell(r, shape.key).trim())
                .collect();
            let mut found = HashMap::new();
            project.each_exported_row(|row| {
                if let Some(id) = row.cells.get(source).map(|c| c.trim()) {
                    if wanted.contains(id) {
                        found.insert(id.to_string(), row.row_id);
                    }
                }
                Ok(())
            })?;
            found
        }
    };
    let pending = project.pending_rounds()?;
    let mut seen: HashMap<i64, (f64, usize)> = HashMap::new();
    let mut events = Vec::new();
    for r in 0..table.n_rows() {
        let key = table.cell(r, shape.key).trim();
        let row_id = match shape.id_source {
            None => {
                let id: i64 = key
                    .parse()
                    .map_err(|_| at(r, &key_name, format!("{key:?} is not a row id")))?;
                let known = project.holds_row(id)?;
                if !known {
                    return Err(at(r, &key_name, format!("row {id} is not in this project")));
                }
                id
            }
            Some(_) => *by_id.get(key).ok_or_else(|| {
                at(
                    r,
                    &key_name,
                    format!("no row of this project has {key_name} {key:?}"),
                )
            })?,
        };
        let cell = table.cell(r, shape.value).trim();
        if cell.is_empty() {
            continue; // not answered
        }
        let value: f64 = cell
            .parse()
            .map_err(|_| at(r, &value_name, format!("{cell:?} is not a number")))?;
        bounds
            .check(value)
            .map_err(|m| at(r, &value_name, format!("{cell}: {m}")))?;
        if let Some((previous, line)) = seen.insert(row_id, (value, r)) {
            if previous != value {
                return Err(at(
                    r,
                    &value_name,
                    format!(
                        "row {row_id} is labeled {previous} on line {} and {value} here",
                        table.line(line)
                    ),
                ));
            }
            continue;
        }
        let note = shape
            .note
            .map(|c| table.cell(r, c).trim().to_string())
            .filter(|n| !n.is_empty());
        events.push(LabelEvent {
            row_id,
            value,
            round: pending.get(&row_id).copied(),
            annotator: annotator.map(str::to_string),
            note,
        });
    }
    Ok(events)
}
