//! Reading delimited text (CSV, TSV, ...) into columns of raw cells; Parquet
//! and Arrow IPC files (by extension) go through [`crate::columnar`] into the
//! same table when al is built with the `parquet` feature.
//!
//! Why not polars here: ingestion must name the line of a ragged row and the
//! line and column of invalid UTF-8 and keep every cell byte-exact for the raw
//! rows; polars' CSV reader pads short rows with nulls or fails without a
//! position, and polars (0.55, `csv` feature only) alone took over five minutes
//! of a cold build on the 2-core reference machine. The `csv` crate's
//! tokenizer feeding one text buffer per column does the job with exact
//! positions; its speed and memory against pandas are in docs/benchmarks.md.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};

/// How to read a delimited file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Field delimiter; sniffed from the header line when `None`.
    pub delimiter: Option<u8>,
    /// Column types a delimited file's writer declares: a data frame's
    /// dtypes, when the Python package hands a frame to `init` as CSV. They
    /// count as a Parquet file's schema does (a text column is text however
    /// its values look), so a frame and the Parquet file it came from give
    /// the same recipe. Every name must be a column of the file.
    pub declared: Vec<(String, SourceKind)>,
    /// Columns are taken by position and checked by the caller, so two may
    /// share a name: a batch file's own `score` beside a source column
    /// called `score`.
    pub positional: bool,
}

/// One column's cells, stored back to back in one buffer: a million-row file
/// costs two allocations per column instead of a million.
#[derive(Debug, Default, Clone)]
struct TextColumn {
    data: String,
    /// Where each cell ends in `data`: 4 bytes per cell instead of 8, which
    /// at 10 million rows × 51 columns is 2 GB less (so one column holds at
    /// most 4 GiB of text).
    ends: Vec<u32>,
}

fn column_full(path: &Path, column: &str) -> DataError {
    DataError::input(
        path,
        format!(
            "column {column:?} holds more than 4 GiB of text, more than al reads from one file; split the file, `init` on the first part and `add` the others"
        ),
    )
}

/// A column past [`TextColumn`]'s 4 GiB of text.
#[derive(Debug)]
struct ColumnFull;

impl TextColumn {
    fn push(&mut self, cell: &str) -> std::result::Result<(), ColumnFull> {
        let end = u32::try_from(self.data.len() + cell.len()).map_err(|_| ColumnFull)?;
        self.data.push_str(cell);
        self.ends.push(end);
        Ok(())
    }

    fn get(&self, row: usize) -> &str {
        let start = if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize
        };
        &self.data[start..self.ends[row] as usize]
    }
}

/// A delimited file held in memory as raw text cells, column by column.
#[derive(Debug, Clone)]
pub struct RawTable {
    pub path: PathBuf,
    pub delimiter: u8,
    pub headers: Vec<String>,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Things the user should know that are not errors (renamed headers, ...).
    pub notices: Vec<String>,
    columns: Vec<TextColumn>,
    /// 1-based line on which each record starts (records may span lines).
    lines: Vec<u64>,
    /// What the file's schema says of each column (`Untyped` for text
    /// formats, where the recipe decides from the values).
    kinds: Vec<SourceKind>,
}

/// A column's type as the source file declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Delimited text: no declared type.
    Untyped,
    /// Declared numeric (Parquet/Arrow integer or float).
    Number,
    /// Declared text or boolean: never parsed as a number.
    Text,
}

/// How a table file is stored, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Delimited,
    Parquet,
    /// Arrow IPC (`.arrow`, `.ipc`, `.feather`).
    ArrowIpc,
}

impl TableFormat {
    pub fn of(path: &Path) -> TableFormat {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet" | "pq") => TableFormat::Parquet,
            Some("arrow" | "ipc" | "feather") => TableFormat::ArrowIpc,
            _ => TableFormat::Delimited,
        }
    }
}

impl RawTable {
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    pub fn n_cols(&self) -> usize {
        self.headers.len()
    }

    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.columns[col].get(row)
    }

    pub fn column(&self, col: usize) -> impl Iterator<Item = &str> + '_ {
        (0..self.n_rows()).map(move |r| self.columns[col].get(r))
    }

    pub fn row(&self, row: usize) -> Vec<&str> {
        (0..self.n_cols()).map(|c| self.cell(row, c)).collect()
    }

    /// The line of the source file on which record `row` (0-based) starts.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The type the source file declares for column `col`.
    pub fn source_kind(&self, col: usize) -> SourceKind {
        self.kinds[col]
    }

    /// Takes the types `declared` for the named columns
    /// ([`ReadOptions::declared`]).
    fn declare(&mut self, declared: &[(String, SourceKind)]) -> Result<()> {
        for (name, kind) in declared {
            let Some(col) = self.headers.iter().position(|h| h == name) else {
                return Err(DataError::input(
                    &self.path,
                    format!("a type is declared for column {name:?}, which the file does not have"),
                ));
            };
            self.kinds[col] = *kind;
        }
        Ok(())
    }

    /// A table of text columns (`numeric` ones from the source's number
    /// columns) that came from elsewhere (an Arrow batch of a Spark pool);
    /// `origin` names it in messages.
    pub fn from_text_columns(
        origin: &Path,
        headers: Vec<String>,
        numeric: &[bool],
        cells: Vec<Vec<String>>,
    ) -> Result<RawTable> {
        let kinds = numeric
            .iter()
            .map(|&n| {
                if n {
                    SourceKind::Number
                } else {
                    SourceKind::Text
                }
            })
            .collect();
        RawTable::from_columns(origin, headers, kinds, cells, String::new())
    }

    /// A table from typed columns (Parquet, Arrow) already turned into
    /// text; row `r` is reported as line `r + 2`, as in a CSV export.
    pub(crate) fn from_columns(
        path: &Path,
        headers: Vec<String>,
        kinds: Vec<SourceKind>,
        cells: Vec<Vec<String>>,
        sha256: String,
    ) -> Result<RawTable> {
        let rows = cells.first().map_or(0, Vec::len);
        let columns = cells
            .iter()
            .enumerate()
            .map(|(k, column)| {
                let mut text = TextColumn::default();
                for c in column {
                    text.push(c).map_err(|_| column_full(path, &headers[k]))?;
                }
                Ok(text)
            })
            .collect::<Result<_>>()?;
        Ok(RawTable {
            path: path.to_path_buf(),
            // Stored as the project's delimiter: what files added later
            // are read with, if they are CSV.
            delimiter: b',',
            headers,
            sha256,
            notices: vec![],
            columns,
            lines: (0..rows as u64).map(|r| r + 2).collect(),
            kinds,
        })
    }
}

/// Tables a front end handed over in memory (a Python data frame's Arrow
/// columns), each under a name no file has; [`read_table`] takes one the
/// first time it is asked for that name. So every flow that reads a table
/// (`init`, `add`, `predict`, `stream`) reads a frame without a file.
static HELD: std::sync::Mutex<Vec<RawTable>> = std::sync::Mutex::new(Vec::new());

/// Holds `table` for [`read_table`] under `table.path`.
pub fn hold(table: RawTable) {
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    held.retain(|t| t.path != table.path);
    held.push(table);
}

/// Drops a held table that was not read (the call failed before it).
pub fn release(path: &Path) {
    HELD.lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|t| t.path != path);
}

fn take_held(path: &Path) -> Option<RawTable> {
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    let at = held.iter().position(|t| t.path == path)?;
    Some(held.swap_remove(at))
}

/// Builds a [`RawTable`] from columns handed over in memory, cell by cell
/// into the same column buffers a file fills; row `r` is reported as line
/// `r + 2`, as in a CSV export. `origin` names it in messages.
pub struct TableBuilder {
    origin: PathBuf,
    headers: Vec<String>,
    kinds: Vec<SourceKind>,
    columns: Vec<TextColumn>,
    notices: Vec<String>,
    hasher: Sha256,
}

impl TableBuilder {
    pub fn new(origin: &Path) -> TableBuilder {
        TableBuilder {
            origin: origin.to_path_buf(),
            headers: vec![],
            kinds: vec![],
            columns: vec![],
            notices: vec![],
            hasher: Sha256::new(),
        }
    }

    /// Adds a column of `rows` cells; `cell(r)` gives row `r`'s text (a
    /// missing value: empty) or says why it cannot.
    pub fn column<'a>(
        &mut self,
        name: &str,
        kind: SourceKind,
        rows: usize,
        mut cell: impl FnMut(usize) -> std::result::Result<&'a str, String>,
    ) -> Result<()> {
        if let Some(first) = self.columns.first() {
            if first.ends.len() != rows {
                return Err(DataError::input(
                    &self.origin,
                    format!(
                        "column {name:?} has {rows} rows, column {:?} {}",
                        self.headers[0],
                        first.ends.len()
                    ),
                ));
            }
        }
        let name = if name.trim().is_empty() {
            let generated = format!("column_{}", self.headers.len() + 1);
            self.notices.push(format!(
                "column {} has no name; it is called {generated:?}",
                self.headers.len() + 1
            ));
            generated
        } else {
            name.to_string()
        };
        if let Some(j) = self.headers.iter().position(|h| *h == name) {
            return Err(DataError::input(
                &self.origin,
                format!(
                    "duplicate column name {name:?} (columns {} and {}); rename one of them",
                    j + 1,
                    self.headers.len() + 1
                ),
            ));
        }
        let name = name.as_str();
        let mut text = TextColumn::default();
        self.hasher.update(name.as_bytes());
        for r in 0..rows {
            let value = cell(r).map_err(|e| {
                DataError::input(&self.origin, format!("column {name:?}, row {r}: {e}"))
            })?;
            self.hasher.update(value.as_bytes());
            self.hasher.update([0x1f]);
            text.push(value)
                .map_err(|_| column_full(&self.origin, name))?;
        }
        self.headers.push(name.to_string());
        self.kinds.push(kind);
        self.columns.push(text);
        Ok(())
    }

    /// The table; its `sha256` is of the names and cells, so the same frame
    /// gives the same digest.
    pub fn finish(self) -> RawTable {
        let rows = self.columns.first().map_or(0, |c| c.ends.len());
        RawTable {
            path: self.origin,
            delimiter: b',',
            headers: self.headers,
            sha256: hex(&self.hasher.finalize()),
            notices: self.notices,
            columns: self.columns,
            lines: (0..rows as u64).map(|r| r + 2).collect(),
            kinds: self.kinds,
        }
    }
}

/// Hashes every byte that passes through.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Picks the delimiter that occurs most often outside quotes in the first line.
pub fn sniff_delimiter(head: &[u8], path: &Path) -> u8 {
    let candidates = [b',', b'\t', b';', b'|'];
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    for &b in head {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = candidates.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], usize::from(i == 0)))
        .unwrap_or(0);
    if counts[best] == 0 {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        return if matches!(ext, "tsv" | "tab") {
            b'\t'
        } else {
            b','
        };
    }
    candidates[best]
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a whole delimited file, checking its structure as it goes.
///
/// Errors name the file and line: a row with the wrong number of fields,
/// invalid UTF-8 (with the column), duplicate header names, an empty file or a
/// header without rows.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<RawTable> {
    if let Some(mut table) = take_held(path) {
        table.declare(&options.declared)?;
        return Ok(table);
    }
    match TableFormat::of(path) {
        TableFormat::Delimited => {
            let mut table = read_delimited(path, options)?;
            table.declare(&options.declared)?;
            Ok(table)
        }
        #[cfg(feature = "parquet")]
        format => crate::columnar::read(path, format),
        #[cfg(not(feature = "parquet"))]
        _ => Err(DataError::input(
            path,
            "this al-cli was built without Parquet and Arrow support; rebuild it with `--features parquet` (see the README), or save the file as CSV",
        )),
    }
}

fn read_delimited(path: &Path, options: &ReadOptions) -> Result<RawTable> {
    let file = open(path)?;
    let mut buffered = BufReader::with_capacity(
        1 << 20,
        HashingReader {
            inner: file,
            hasher: Sha256::new(),
        },
    );
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let head = buffered.fill_buf().map_err(io_err)?;
    let bom = head.starts_with(BOM);
    if bom {
        buffered.consume(BOM.len());
    }
    let head = buffered.fill_buf().map_err(io_err)?;
    if head.iter().all(|b| b.is_ascii_whitespace()) && head.len() < (1 << 20) {
        return Err(DataError::input(
            path,
            "the file is empty; al-cli needs a header row naming the columns, then data rows",
        ));
    }
    let delimiter = options
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(head, path));

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        // With the default CRLF terminator the crate reports the line of the
        // previous record for CRLF files; splitting on '\n' and trimming a
        // trailing '\r' keeps line numbers exact for both endings.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(buffered);
    let mut record = csv::ByteRecord::new();
    let mut notices = Vec::new();

    let read_next = |reader: &mut csv::Reader<_>, record: &mut csv::ByteRecord| loop {
        let more = reader.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            DataError::AtLine {
                path: path.to_path_buf(),
                line,
                message: format!("cannot parse: {e}"),
            }
        })?;
        if more {
            strip_carriage_return(record);
            // A blank CRLF line arrives as one empty field: skip it like LF ones.
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
        }
        return Ok::<bool, DataError>(more);
    };

    if !read_next(&mut reader, &mut record)? {
        return Err(DataError::input(
            path,
            "the file is empty; al-cli needs a header row",
        ));
    }
    let headers = parse_headers(path, &record, &mut notices, options.positional)?;
    let width = headers.len();
    let mut columns = vec![TextColumn::default(); width];
    let mut lines = Vec::new();

    while read_next(&mut reader, &mut record)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != width {
            let snippet: String = String::from_utf8_lossy(record.as_slice())
                .chars()
                .take(60)
                .collect();
            return Err(DataError::AtLine {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "this row has {} field(s) but the header has {width} (delimiter {:?}); row starts {snippet:?}. Fix the row, or pass --delimiter if the delimiter was guessed wrong",
                    record.len(),
                    char::from(delimiter),
                ),
            });
        }
        for (c, field) in record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|e| DataError::AtCell {
                path: path.to_path_buf(),
                line,
                column: headers[c].clone(),
                message: format!(
                    "invalid UTF-8 at byte {} of the cell; save the file as UTF-8",
                    e.valid_up_to()
                ),
            })?;
            columns[c]
                .push(text)
                .map_err(|_| column_full(path, &headers[c]))?;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(DataError::input(
            path,
            "the file has a header row but no data rows",
        ));
    }
    let mut hashing = reader.into_inner().into_inner();
    // Hash whatever the parser had not pulled yet (nothing, normally).
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io_err)?;
    let sha256 = hex(&hashing.hasher.finalize());
    if bom {
        notices.push("a UTF-8 byte order mark was skipped".into());
    }
    let kinds = vec![SourceKind::Untyped; headers.len()];
    Ok(RawTable {
        path: path.to_path_buf(),
        delimiter,
        headers,
        sha256,
        notices,
        columns,
        lines,
        kinds,
    })
}

fn strip_carriage_return(record: &mut csv::ByteRecord) {
    let n = record.len();
    if n == 0 || !record[n - 1].ends_with(b"\r") {
        return;
    }
    let mut fixed = csv::ByteRecord::with_capacity(record.as_slice().len(), n);
    for (i, field) in record.iter().enumerate() {
        fixed.push_field(if i + 1 == n {
            &field[..field.len() - 1]
        } else {
            field
        });
    }
    fixed.set_position(record.position().cloned());
    *record = fixed;
}

fn parse_headers(
    path: &Path,
    record: &csv::ByteRecord,
    notices: &mut Vec<String>,
    positional: bool,
) -> Result<Vec<String>> {
    let mut headers: Vec<String> = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field).map_err(|_| DataError::AtLine {
            path: path.to_path_buf(),
            line: 1,
            message: format!("column {} of the header is not valid UTF-8", i + 1),
        })?;
        let name = name.trim();
        let name = if name.is_empty() {
            let generated = format!("column_{}", i + 1);
            notices.push(format!(
                "header cell {} is empty; the column is called {generated:?}",
                i + 1
            ));
            generated
        } else {
            name.to_string()
        };
        if let Some(j) = headers
            .iter()
            .position(|h| *h == name)
            .filter(|_| !positional)
        {
            return Err(DataError::AtLine {
                path: path.to_path_buf(),
                line: 1,
                message: format!(
                    "duplicate column name {name:?} (columns {} and {}); rename one of them",
                    j + 1,
                    i + 1
                ),
            });
        }
        headers.push(name);
    }
    Ok(headers)
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_table_held_in_memory_is_read_once_in_place_of_a_file() {
        let name = Path::new("al-frame://test-held/data");
        let mut b = TableBuilder::new(name);
        let xs = ["1.5", "", "1e-7"];
        let zips = ["02134", "10001", ""];
        b.column("x", SourceKind::Number, 3, |r| Ok(xs[r])).unwrap();
        b.column("zip", SourceKind::Text, 3, |r| Ok(zips[r]))
            .unwrap();
        let err = b
            .column("zip", SourceKind::Text, 3, |r| Ok(zips[r]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("duplicate column name \"zip\" (columns 2 and 3)"),
            "{err}"
        );
        let err = b
            .column("y", SourceKind::Number, 2, |r| Ok(xs[r]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("column \"y\" has 2 rows, column \"x\" 3"),
            "{err}"
        );
        let err = b
            .column("bad", SourceKind::Number, 3, |_| {
                Err("malformed".to_string())
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("column \"bad\", row 0: malformed"),
            "{err}"
        );
        let table = b.finish();
        let digest = table.sha256.clone();
        hold(table);
        let read = read_table(name, &ReadOptions::default()).unwrap();
        assert_eq!(read.headers, ["x", "zip"]);
        assert_eq!(
            (read.cell(2, 0), read.cell(0, 1), read.cell(1, 0)),
            ("1e-7", "02134", "")
        );
        assert_eq!(read.source_kind(1), SourceKind::Text);
        assert_eq!(read.line(2), 4, "row r is line r + 2, as in a CSV export");
        assert_eq!(read.sha256, digest);
        // Taken by the first read: the name is no file.
        assert!(read_table(name, &ReadOptions::default()).is_err());
        // One released unread is gone too.
        let other = Path::new("al-frame://test-held/other");
        let mut b = TableBuilder::new(other);
        b.column("x", SourceKind::Number, 1, |_| Ok("1")).unwrap();
        hold(b.finish());
        release(other);
        assert!(read_table(other, &ReadOptions::default()).is_err());
    }

    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn declared_types_stand_as_a_schema_and_must_name_columns() {
        let f = write(b"zip,x,y\n02134,1.5,3\n10001,2.5,\n");
        let plain = read_table(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(plain.source_kind(0), SourceKind::Untyped);
        let declared = |names: &[(&str, SourceKind)]| ReadOptions {
            declared: names.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            ..ReadOptions::default()
        };
        let typed = read_table(
            f.path(),
            &declared(&[("zip", SourceKind::Text), ("x", SourceKind::Number)]),
        )
        .unwrap();
        assert_eq!(
            (0..3).map(|c| typed.source_kind(c)).collect::<Vec<_>>(),
            [SourceKind::Text, SourceKind::Number, SourceKind::Untyped]
        );
        // The cells are the file's, whatever the types.
        assert_eq!(typed.column(0).collect::<Vec<_>>(), ["02134", "10001"]);
        let err = read_table(f.path(), &declared(&[("zips", SourceKind::Text)])).unwrap_err();
        assert!(
            err.to_string()
                .contains("a type is declared for column \"zips\", which the file does not have"),
            "{err}"
        );
    }

    #[test]
    fn sniffs_tab_semicolon_and_comma() {
        let p = Path::new("x.csv");
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2\t3", p), b'\t');
        assert_eq!(sniff_delimiter(b"a;b;\"c,d\"\n", p), b';');
        assert_eq!(sniff_delimiter(b"a,b\n", p), b',');
        assert_eq!(sniff_delimiter(b"single\n", Path::new("x.tsv")), b'\t');
    }

    #[test]
    fn reads_bom_crlf_and_quotes() {
        let f = write(b"\xEF\xBB\xBFa,\"b \"\"q\"\"\"\r\n1,\"x,\r\ny\"\r\n2,z\r\n");
        let t = read_table(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(t.headers, vec!["a", "b \"q\""]);
        assert_eq!(t.n_rows(), 2);
        assert_eq!(t.cell(0, 1), "x,\r\ny");
        assert_eq!(t.line(0), 2);
        assert_eq!(t.line(1), 4);
    }

    #[test]
    fn blank_lines_are_skipped_and_lines_stay_exact() {
        let f = write(b"a,b\r\n\r\n1,2\r\n\r\n3,4\r\n");
        let t = read_table(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(t.n_rows(), 2);
        assert_eq!((t.line(0), t.line(1)), (3, 5));
        assert_eq!(t.row(1), vec!["3", "4"]);
    }

    #[test]
    fn ragged_row_names_its_line() {
        let f = write(b"a,b\n1,2\n3\n");
        let err = read_table(f.path(), &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(":3:"), "{msg}");
        assert!(msg.contains("1 field(s) but the header has 2"), "{msg}");
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let f = write(b"a,b\n1,2\n3,\xff\xfe\n");
        let msg = read_table(f.path(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":3: column \"b\""), "{msg}");
    }

    #[test]
    fn hashes_the_whole_file() {
        let f = write(b"a\n1\n");
        let t = read_table(f.path(), &ReadOptions::default()).unwrap();
        assert_eq!(
            t.sha256,
            "309b0e45a73d3fc5325e2b6ed0a01ef8b9cde6b05a5633c1f893f970d52bfddc"
        );
    }
}
