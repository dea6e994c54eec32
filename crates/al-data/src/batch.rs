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
        let bytes = batch_csv(file.headers, file.target, round, rows)?;
        let out = file.out.map_or_else(
            || PathBuf::from(format!("batch-{round}.csv")),
            Path::to_path_buf,
        );
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
    /// `None`: `batch-ROUND.csv`; `-`: standard output.
    pub out: Option<&'a Path>,
    pub headers: &'a [String],
    /// The target's index among `headers` (its cells are emptied).
    pub target: usize,
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
        return Err(DataError::input(
            path,
            format!(
                "its columns are not those of a batch from this project (expected {}); was it written by `al-cli query` on {}?",
                expected.join(","),
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
