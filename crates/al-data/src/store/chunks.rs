//! Encoded features by column, in chunks of [`CHUNK_ROWS`] rows.
//!
//! A row's place in the chunks is its `rows.slot` (0, 1, 2, ... in the
//! order rows were added, which is also row-id order). Each chunk of each
//! compact feature column is one blob, so loading a pool reads the features
//! and nothing else (the raw cells live in `row_data`), one sequential blob
//! after another.
//!
//! Precision: a blob is stored as `f32` when every value in it survives the
//! round trip through `f32` exactly (category codes, counts, flags, integers
//! below 2^24 and values that came from `f32`), else as `f64`. Storage is
//! therefore lossless: a model sees the very numbers `init` encoded, and a
//! seed re-runs to the same picks after an upgrade. Decimal measurements
//! (`3.8`, `0.1234`) are not exact in `f32`, so their chunks stay `f64`.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::{sql, DataError, Result};

/// Rows per chunk: 16 384 rows of one column are 64–128 KB, large enough
/// that a million-row pool is a few thousand blob reads, small enough that
/// adding one row rewrites little.
pub const CHUNK_ROWS: usize = 16_384;

pub(crate) const CREATE_TABLE: &str = r#"
CREATE TABLE feature_chunks (
    chunk  INTEGER NOT NULL,
    col    INTEGER NOT NULL,
    dtype  TEXT NOT NULL CHECK (dtype IN ('f32', 'f64')),
    len    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (chunk, col)
);
"#;

/// How one blob's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    fn parse(text: &str) -> Option<Dtype> {
        match text {
            "f32" => Some(Dtype::F32),
            "f64" => Some(Dtype::F64),
            _ => None,
        }
    }
}

/// `f32` when every value round-trips exactly (NaN stays NaN), else `f64`.
fn narrowest(values: &[f64]) -> Dtype {
    let exact = values
        .iter()
        .all(|&v| v.is_nan() || f64::from(v as f32) == v);
    if exact {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

fn encode(values: &[f64]) -> (Dtype, Vec<u8>) {
    match narrowest(values) {
        Dtype::F32 => (
            Dtype::F32,
            values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect(),
        ),
        Dtype::F64 => (
            Dtype::F64,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
    }
}

fn corrupt(chunk: i64, col: i64, why: &str) -> DataError {
    DataError::Usage(format!(
        "the project file's feature chunk {chunk}, column {col} is damaged ({why}); restore the file from a copy"
    ))
}

/// Decodes one blob of `len` values.
fn decode(dtype: &str, len: usize, data: &[u8], at: (i64, i64)) -> Result<Vec<f64>> {
    let dtype = Dtype::parse(dtype).ok_or_else(|| corrupt(at.0, at.1, "unknown dtype"))?;
    let size = match dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
    };
    if data.len() != len * size {
        return Err(corrupt(at.0, at.1, "wrong length"));
    }
    Ok(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
    })
}

/// One chunk read back: its columns, each `len` values.
pub(crate) struct Chunk {
    pub columns: Vec<Vec<f64>>,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
}

/// Reads chunk `chunk` (all `width` columns). A chunk with no blobs (a
/// project with no rows yet) reads as empty.
pub(crate) fn read_chunk(conn: &rusqlite::Connection, chunk: usize, width: usize) -> Result<Chunk> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT col, dtype, len, data FROM feature_chunks WHERE chunk = ?1 ORDER BY col",
        )
        .map_err(sql)?;
    let mut columns = Vec::with_capacity(width);
    let mut q = stmt.query([chunk as i64]).map_err(sql)?;
    while let Some(r) = q.next().map_err(sql)? {
        let col: i64 = r.get(0).map_err(sql)?;
        let dtype: String = r.get(1).map_err(sql)?;
        let len: i64 = r.get(2).map_err(sql)?;
        if col != columns.len() as i64 {
            return Err(corrupt(chunk as i64, col, "a column is missing"));
        }
        let data = r
            .get_ref(3)
            .map_err(sql)?
            .as_blob()
            .map_err(|_| corrupt(chunk as i64, col, "not a blob"))?;
        columns.push(decode(&dtype, len as usize, data, (chunk as i64, col))?);
    }
    if !columns.is_empty() && columns.len() != width {
        return Err(corrupt(
            chunk as i64,
            columns.len() as i64,
            "columns missing",
        ));
    }
    if columns.iter().any(|c| c.len() != columns[0].len()) {
        return Err(corrupt(chunk as i64, 0, "columns of different lengths"));
    }
    Ok(Chunk { columns })
}

/// The compact features of a few rows by slot (sorted), row by row, read
/// through SQLite's incremental BLOB I/O: only the bytes asked for, not
/// the chunks' columns whole (100 rows scattered over a million-row pool
/// touch ~60 chunks of 16 384 rows; reading those whole took ~150 ms). One
/// BLOB handle is moved from column to column (`reopen`), since opening
/// one prepares a statement each time.
pub(crate) fn read_rows(
    conn: &rusqlite::Connection,
    width: usize,
    slots: &[usize],
) -> Result<Vec<Vec<f64>>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT col, rowid, dtype, len FROM feature_chunks WHERE chunk = ?1 ORDER BY col",
        )
        .map_err(sql)?;
    let mut rows = vec![vec![0.0; width]; slots.len()];
    let mut blob: Option<rusqlite::blob::Blob> = None;
    let mut start = 0;
    while start < slots.len() {
        let chunk = slots[start] / CHUNK_ROWS;
        let end = start + slots[start..].partition_point(|s| s / CHUNK_ROWS == chunk);
        let columns: Vec<(i64, i64, String, i64)> = stmt
            .query_map([chunk as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql)?;
        if columns.len() != width {
            return Err(corrupt(
                chunk as i64,
                columns.len() as i64,
                "columns missing",
            ));
        }
        for (j, (col, rowid, dtype, len)) in columns.iter().enumerate() {
            let at = (chunk as i64, *col);
            if *col != j as i64 {
                return Err(corrupt(at.0, at.1, "a column is missing"));
            }
            let dtype = Dtype::parse(dtype).ok_or_else(|| corrupt(at.0, at.1, "unknown dtype"))?;
            let size = match dtype {
                Dtype::F32 => 4,
                Dtype::F64 => 8,
            };
            let handle = match &mut blob {
                Some(b) => {
                    b.reopen(*rowid).map_err(sql)?;
                    b
                }
                None => blob.insert(
                    conn.blob_open(rusqlite::MAIN_DB, "feature_chunks", "data", *rowid, true)
                        .map_err(sql)?,
                ),
            };
            if handle.len() != *len as usize * size {
                return Err(corrupt(at.0, at.1, "wrong length"));
            }
            let mut bytes = [0u8; 8];
            for (row, &slot) in rows[start..end].iter_mut().zip(&slots[start..end]) {
                let offset = slot - chunk * CHUNK_ROWS;
                if offset >= *len as usize {
                    return Err(corrupt(at.0, at.1, "a row beyond the chunk"));
                }
                handle
                    .read_at_exact(&mut bytes[..size], offset * size)
                    .map_err(|_| corrupt(at.0, at.1, "unreadable"))?;
                row[j] = match dtype {
                    Dtype::F32 => {
                        f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
                    }
                    Dtype::F64 => f64::from_le_bytes(bytes),
                };
            }
        }
        start = end;
    }
    Ok(rows)
}

/// Appends rows' compact features after the last slot, a chunk at a time;
/// a partly filled last chunk is read back and completed. Call
/// [`FeatureWriter::finish`] to write what is buffered.
pub struct FeatureWriter<'t> {
    tx: &'t Transaction<'t>,
    width: usize,
    /// Slot of the first buffered row: a multiple of [`CHUNK_ROWS`].
    chunk_start: usize,
    /// Buffered rows, by column.
    columns: Vec<Vec<f64>>,
}

impl<'t> FeatureWriter<'t> {
    /// A writer appending after the project's last slot.
    pub fn open(tx: &'t Transaction<'t>, width: usize) -> Result<FeatureWriter<'t>> {
        let next: i64 = tx
            .query_row("SELECT coalesce(max(slot), -1) + 1 FROM rows", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        let next = next as usize;
        let chunk = next / CHUNK_ROWS;
        let mut columns = vec![Vec::with_capacity(CHUNK_ROWS); width];
        if !next.is_multiple_of(CHUNK_ROWS) {
            let partial = read_chunk(tx, chunk, width)?;
            if partial.len() != next % CHUNK_ROWS {
                return Err(corrupt(chunk as i64, 0, "fewer values than rows"));
            }
            columns = partial.columns;
        }
        Ok(FeatureWriter {
            tx,
            width,
            chunk_start: chunk * CHUNK_ROWS,
            columns,
        })
    }

    /// The slot the next pushed row gets.
    pub fn next_slot(&self) -> i64 {
        (self.chunk_start + self.buffered()) as i64
    }

    fn buffered(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// Buffers one row's compact features; returns its slot.
    pub fn push(&mut self, compact: &[f64]) -> Result<i64> {
        if compact.len() != self.width {
            return Err(DataError::Usage(format!(
                "a row has {} encoded values where the recipe has {}",
                compact.len(),
                self.width
            )));
        }
        let slot = self.next_slot();
        for (column, &v) in self.columns.iter_mut().zip(compact) {
            column.push(v);
        }
        if self.buffered() == CHUNK_ROWS {
            self.flush()?;
            self.chunk_start += CHUNK_ROWS;
            self.columns.iter_mut().for_each(Vec::clear);
        }
        Ok(slot)
    }

    /// Writes the buffered (possibly partial) chunk.
    fn flush(&mut self) -> Result<()> {
        if self.buffered() == 0 {
            return Ok(());
        }
        let chunk = (self.chunk_start / CHUNK_ROWS) as i64;
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT OR REPLACE INTO feature_chunks(chunk, col, dtype, len, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(sql)?;
        for (col, values) in self.columns.iter().enumerate() {
            let (dtype, data) = encode(values);
            stmt.execute(params![
                chunk,
                col as i64,
                dtype.name(),
                values.len() as i64,
                data
            ])
            .map_err(sql)?;
        }
        Ok(())
    }

    /// Writes what is still buffered.
    pub fn finish(mut self) -> Result<()> {
        self.flush()
    }
}

/// Schema 2 → 3: writes the per-row feature blobs, in row-id order, into
/// column chunks, numbers each row's slot in that order and drops the old
/// column. Runs inside [`crate::Project::upgrade`]'s transaction.
pub(crate) fn migrate_row_blobs_to_chunks(tx: &Transaction) -> Result<()> {
    tx.execute_batch(&format!(
        "ALTER TABLE rows ADD COLUMN slot INTEGER NOT NULL DEFAULT -1; {CREATE_TABLE}"
    ))
    .map_err(sql)?;
    let width: Option<usize> = tx
        .query_row(
            "SELECT length(features) / 8 FROM row_data LIMIT 1",
            [],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql)?
        .map(|w| w as usize);
    if let Some(width) = width {
        let mut writer = FeatureWriter::open(tx, width)?;
        let mut stmt = tx
            .prepare("SELECT features FROM row_data ORDER BY row_id")
            .map_err(sql)?;
        let mut q = stmt.query([]).map_err(sql)?;
        while let Some(r) = q.next().map_err(sql)? {
            let blob: Vec<u8> = r.get(0).map_err(sql)?;
            writer.push(&crate::project::blob_to_features(&blob))?;
        }
        writer.finish()?;
    }
    tx.execute_batch(
        "UPDATE rows SET slot = s.n - 1
           FROM (SELECT row_id, row_number() OVER (ORDER BY row_id) AS n FROM rows) AS s
          WHERE rows.row_id = s.row_id;
         ALTER TABLE row_data DROP COLUMN features;",
    )
    .map_err(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact features of one row, by slot.
    fn row_at(conn: &rusqlite::Connection, slot: i64, width: usize) -> Result<Vec<f64>> {
        let chunk = slot as usize / CHUNK_ROWS;
        let offset = slot as usize % CHUNK_ROWS;
        let read = read_chunk(conn, chunk, width)?;
        if offset >= read.len() {
            return Err(corrupt(
                chunk as i64,
                0,
                "a row's slot is past the chunk's end",
            ));
        }
        Ok(read.columns.iter().map(|c| c[offset]).collect())
    }

    #[test]
    fn values_exact_in_f32_are_stored_in_four_bytes_and_others_in_eight() {
        let (dtype, bytes) = encode(&[0.0, 1.0, 3.0, f64::NAN, 0.5, 16_777_216.0]);
        assert_eq!(dtype, Dtype::F32);
        assert_eq!(bytes.len(), 24);
        let (dtype, bytes) = encode(&[1.0, 3.8]);
        assert_eq!(dtype, Dtype::F64);
        assert_eq!(bytes.len(), 16);
        // 2^24 + 1 has no f32.
        assert_eq!(encode(&[16_777_217.0]).0, Dtype::F64);
    }

    #[test]
    fn decoding_returns_the_very_values_encoded() {
        for values in [vec![0.0, -2.0, 7.0], vec![3.8, 1e-300, -0.1234567890123]] {
            let (dtype, data) = encode(&values);
            let back = decode(dtype.name(), values.len(), &data, (0, 0)).unwrap();
            assert_eq!(back, values);
        }
        let back = decode("f32", 1, &(f32::NAN).to_le_bytes(), (0, 0)).unwrap();
        assert!(back[0].is_nan());
    }

    #[test]
    fn a_damaged_blob_is_an_error_naming_the_chunk_and_column() {
        let err = decode("f64", 2, &[0u8; 12], (3, 5))
            .unwrap_err()
            .to_string();
        assert!(err.contains("chunk 3, column 5"), "{err}");
        let err = decode("f16", 1, &[0u8; 2], (0, 1)).unwrap_err().to_string();
        assert!(err.contains("unknown dtype"), "{err}");
    }

    #[test]
    fn the_writer_fills_chunks_across_the_boundary_and_completes_a_partial_one() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE rows (row_id INTEGER PRIMARY KEY, slot INTEGER NOT NULL); {CREATE_TABLE}"
        ))
        .unwrap();
        let row = |i: usize| vec![i as f64, i as f64 + 0.1];
        let n = CHUNK_ROWS + 5;
        let tx = conn.transaction().unwrap();
        let mut w = FeatureWriter::open(&tx, 2).unwrap();
        for i in 0..n {
            let slot = w.push(&row(i)).unwrap();
            assert_eq!(slot, i as i64);
            tx.execute(
                "INSERT INTO rows(row_id, slot) VALUES (?1, ?1 - 1)",
                [slot + 1],
            )
            .unwrap();
        }
        w.finish().unwrap();
        // A second writer appends to the partial chunk.
        let mut w = FeatureWriter::open(&tx, 2).unwrap();
        assert_eq!(w.next_slot(), n as i64);
        w.push(&row(n)).unwrap();
        tx.execute(
            "INSERT INTO rows(row_id, slot) VALUES (?1, ?1 - 1)",
            [n as i64 + 1],
        )
        .unwrap();
        w.finish().unwrap();
        assert_eq!(row_at(&tx, 3, 2).unwrap(), row(3));
        assert_eq!(row_at(&tx, CHUNK_ROWS as i64 + 5, 2).unwrap(), row(n));
        let first = read_chunk(&tx, 0, 2).unwrap();
        assert_eq!(first.len(), CHUNK_ROWS);
        let dtypes: Vec<String> = tx
            .prepare("SELECT dtype FROM feature_chunks WHERE chunk = 0 ORDER BY col")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|d| d.unwrap())
            .collect();
        assert_eq!(dtypes, ["f32", "f64"]);
    }
}
