//! Reading Parquet and Arrow IPC files into the same raw table as CSV,
//! through polars (cargo feature `parquet`).
//!
//! Every cell becomes the text a CSV export of the file would hold (numbers
//! in their shortest exact form, booleans as `true`/`false`, nulls empty), so
//! the raw rows, the recipe and every later command treat a Parquet source
//! exactly as a CSV one. What the file's schema says is kept: a numeric
//! column is numeric and a string column is text, whatever its values look
//! like (zip codes stored as strings stay categories). A "line" in messages
//! about such a file is the row number plus one, as in its CSV export.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};
use crate::table::{hex, RawTable, SourceKind, TableFormat};

pub(crate) fn read(path: &Path, format: TableFormat) -> Result<RawTable> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_bytes(bytes, path, format)
}

/// An Arrow IPC file held in memory (a record batch a Spark worker or
/// pyarrow serialised) as the same raw table a file of it gives; `origin`
/// names it in messages.
pub fn read_arrow_ipc(bytes: Vec<u8>, origin: &Path) -> Result<RawTable> {
    read_bytes(bytes, origin, TableFormat::ArrowIpc)
}

fn read_bytes(bytes: Vec<u8>, path: &Path, format: TableFormat) -> Result<RawTable> {
    let sha256 = hex(&Sha256::digest(&bytes));
    // Parsed from the bytes already read for the hash: one read of the file.
    let file = Cursor::new(bytes);
    let what = match format {
        TableFormat::Parquet => "Parquet",
        _ => "Arrow IPC",
    };
    let unreadable = |e: PolarsError| {
        DataError::input(
            path,
            format!("cannot read this {what} file ({e}); is it complete and really {what}?"),
        )
    };
    // The schema is checked before any column is read: polars panics on
    // some types it is not built for (decimals, half floats, structs).
    let frame = match format {
        TableFormat::Parquet => {
            let mut reader = ParquetReader::new(file);
            check_types(&*reader.schema().map_err(unreadable)?, path)?;
            reader.finish()
        }
        _ => {
            let mut reader = IpcReader::new(file);
            check_types(&*reader.schema().map_err(unreadable)?, path)?;
            reader.finish()
        }
    }
    .map_err(unreadable)?;
    if frame.width() == 0 {
        return Err(DataError::input(
            path,
            format!("the {what} file has no columns"),
        ));
    }
    if frame.height() == 0 {
        return Err(DataError::input(
            path,
            format!("the {what} file has no rows"),
        ));
    }
    let mut headers = Vec::with_capacity(frame.width());
    let mut kinds = Vec::with_capacity(frame.width());
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let name = column.name().to_string();
        let dtype = column.dtype().clone();
        let kind = if dtype.is_primitive_numeric() {
            SourceKind::Number
        } else if dtype.is_string() || dtype.is_bool() || dtype.is_categorical() {
            SourceKind::Text
        } else {
            return Err(DataError::input(
                path,
                format!(
                    "column {name:?} has type {dtype}; al-cli reads numbers, text and booleans (flatten or drop nested, binary and date columns first)"
                ),
            ));
        };
        let text = column.cast(&DataType::String).map_err(|e| {
            DataError::input(path, format!("column {name:?} cannot be read as text: {e}"))
        })?;
        let strings = text.str().map_err(|e| {
            DataError::input(path, format!("column {name:?} cannot be read as text: {e}"))
        })?;
        cells.push(
            (0..frame.height())
                .map(|r| strings.get(r).unwrap_or("").to_string())
                .collect(),
        );
        headers.push(name);
        kinds.push(kind);
    }
    RawTable::from_columns(path, headers, kinds, cells, sha256)
}

/// Refuses, naming the column, a type the reader below is not built to
/// read: it passes numbers, text, booleans, categories (dictionaries of
/// text), and the types whose refusal [`read_bytes`] words (dates, times,
/// binary, lists); decimals, half floats, structs, maps and the rest stop
/// here.
fn check_types(schema: &ArrowSchema, path: &Path) -> Result<()> {
    use ArrowDataType as A;
    let text = |t: &A| matches!(t, A::Utf8 | A::LargeUtf8 | A::Utf8View);
    for field in schema.iter_values() {
        let readable = match &field.dtype {
            A::Boolean | A::Null | A::Float32 | A::Float64 => true,
            A::Int8 | A::Int16 | A::Int32 | A::Int64 => true,
            A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64 => true,
            t if text(t) => true,
            A::Dictionary(_, values, _) => text(values),
            A::Date32 | A::Date64 | A::Timestamp(..) | A::Time32(_) | A::Time64(_) => true,
            A::Duration(_) | A::Binary | A::LargeBinary | A::BinaryView => true,
            A::FixedSizeBinary(_) | A::List(_) | A::LargeList(_) | A::FixedSizeList(..) => true,
            _ => false,
        };
        if !readable {
            return Err(DataError::input(
                path,
                format!(
                    "column {:?} has type {}; al-cli reads numbers, text and booleans (cast decimals and half floats to float64, flatten or drop nested columns first)",
                    field.name.as_str(),
                    type_name(&field.dtype)
                ),
            ));
        }
    }
    Ok(())
}

/// An Arrow type as a message names it: `struct`, `decimal(10, 2)`.
fn type_name(dtype: &ArrowDataType) -> String {
    match dtype {
        ArrowDataType::Struct(_) => "struct".into(),
        ArrowDataType::Map(..) => "map".into(),
        ArrowDataType::Union(_) => "union".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Writes text columns as a Parquet file: columns flagged `numeric` as 64-bit
/// integers when every cell is a whole number written as one, else as 64-bit
/// floats (empty cells as nulls); the rest as strings. Read back, each cell
/// gives the same text.
pub fn write_parquet(
    path: &Path,
    headers: &[String],
    rows: &[Vec<String>],
    numeric: &[bool],
) -> Result<()> {
    let io = |e: PolarsError| DataError::input(path, format!("cannot write Parquet: {e}"));
    let columns: Vec<Column> = headers
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let name = PlSmallStr::from(name.as_str());
            let whole = rows
                .iter()
                .all(|r| r[c].is_empty() || r[c].parse::<i64>().is_ok());
            if numeric[c] && whole {
                let values: Vec<Option<i64>> = rows.iter().map(|r| r[c].parse().ok()).collect();
                Column::new(name, values)
            } else if numeric[c] {
                let values: Vec<Option<f64>> = rows
                    .iter()
                    .map(|r| r[c].parse::<f64>().ok().filter(|_| !r[c].is_empty()))
                    .collect();
                Column::new(name, values)
            } else {
                let values: Vec<&str> = rows.iter().map(|r| r[c].as_str()).collect();
                Column::new(name, values)
            }
        })
        .collect();
    let mut frame = DataFrame::new_infer_height(columns).map_err(io)?;
    let file = File::create(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetWriter::new(file).finish(&mut frame).map_err(io)?;
    Ok(())
}
