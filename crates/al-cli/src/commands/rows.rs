//! `add`, `export` and `predict`: rows in and out of the project.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::json;

use al_data::store::Role;
use al_data::{Project, Subset};
use al_models::Matrix;

use crate::cli::{AddArgs, ExportArgs, Global, PredictArgs, TableFormatArg};
use crate::output::{notice, print_json};

pub fn add(global: &Global, args: AddArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let role = match args.role {
        crate::cli::RoleArg::Train => Role::Train,
        crate::cli::RoleArg::Pool => Role::Pool,
        crate::cli::RoleArg::Test => Role::Test,
    };
    let report = project.add_rows_as(&args.file, "added", role)?;
    if global.json {
        print_json(&json!(report));
        return Ok(());
    }
    for issue in report.issues.iter().take(20) {
        notice(global.quiet, issue);
    }
    if report.issues.len() > 20 {
        notice(
            global.quiet,
            &format!("... and {} more", report.issues.len() - 20),
        );
    }
    if !global.quiet {
        println!(
            "added {} row(s) ({} labeled) as row_id {}..{}",
            report.rows,
            report.labeled,
            report.first_row_id,
            report.first_row_id + report.rows as i64 - 1
        );
    }
    Ok(())
}

/// Writes CSV bytes to a file (through a temporary name) or stdout; with
/// --json, the same table as a JSON array of objects keyed by the header.
fn write_out(global: &Global, out: &Path, bytes: &[u8]) -> Result<()> {
    let converted;
    let bytes = if global.json {
        let mut r = csv::Reader::from_reader(bytes);
        let header = r.headers()?.clone();
        let mut list = Vec::new();
        for rec in r.records() {
            let rec = rec?;
            let obj: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            list.push(serde_json::Value::Object(obj));
        }
        converted = serde_json::to_vec_pretty(&list)?;
        &converted[..]
    } else {
        bytes
    };
    if out.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)?;
        return Ok(());
    }
    let temp = al_data::batch::temp_beside(out);
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

/// A table to write: its header, which columns hold numbers (for Parquet),
/// and its rows as text.
struct OutTable {
    header: Vec<String>,
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

/// Refuses a format this binary cannot write, or Parquet to stdout, before
/// any work.
fn check_format(format: TableFormatArg, out: &Path) -> Result<()> {
    if format == TableFormatArg::Parquet {
        if !cfg!(feature = "parquet") {
            bail!("this al-cli was built without Parquet support; rebuild it with `--features parquet` (see the README), or use --format csv");
        }
        if out.as_os_str() == "-" {
            bail!("--format parquet needs a file: add -o FILE.parquet");
        }
    }
    Ok(())
}

fn write_table(global: &Global, out: &Path, format: TableFormatArg, table: OutTable) -> Result<()> {
    if format == TableFormatArg::Parquet {
        return write_parquet(out, &table);
    }
    write_out(global, out, &csv_bytes(&table)?)
}

#[cfg(feature = "parquet")]
fn write_parquet(out: &Path, table: &OutTable) -> Result<()> {
    let temp = al_data::batch::temp_beside(out);
    let written =
        al_data::columnar::write_parquet(&temp, &table.header, &table.rows, &table.numeric);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(_out: &Path, _table: &OutTable) -> Result<()> {
    unreachable!("check_format refuses parquet without the feature")
}

pub fn export(global: &Global, args: ExportArgs) -> Result<()> {
    check_format(args.format, &args.out)?;
    let project = Project::open_for_reading(&global.project)?;
    if args.format == TableFormatArg::Csv && !global.json {
        return stream_csv(&project, &args.out);
    }
    write_table(global, &args.out, args.format, export_table(&project)?)
}

/// The export as CSV, row by row, to stdout or through a temporary file
/// renamed into place (constant memory on any project size).
fn stream_csv(project: &Project, out: &Path) -> Result<()> {
    if out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        al_data::export::write_csv(project, std::io::BufWriter::new(stdout.lock()))?;
        return Ok(());
    }
    let temp = al_data::batch::temp_beside(out);
    let file =
        std::fs::File::create(&temp).with_context(|| format!("cannot write {}", temp.display()))?;
    if let Err(e) = al_data::export::write_csv(project, std::io::BufWriter::new(file)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

fn csv_bytes(table: &OutTable) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.header)?;
    for r in &table.rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// The export in memory, for JSON and Parquet.
fn export_table(project: &Project) -> Result<OutTable> {
    let layout = al_data::export::ExportLayout::of(project)?;
    let mut rows = Vec::new();
    project.each_exported_row(|row| {
        rows.push(layout.record(row));
        Ok(())
    })?;
    Ok(OutTable {
        header: layout.header,
        numeric: layout.numeric,
        rows,
    })
}

pub fn predict(global: &Global, args: PredictArgs) -> Result<()> {
    check_format(args.format, &args.out)?;
    let project = Project::open_for_reading(&global.project)?;
    let spec = crate::plugins::model_spec(global, &project, args.model.as_deref())?;
    let train = project.load(Subset::Training, true)?;
    let rows = project.load(
        if args.pool {
            Subset::PoolWithPending
        } else {
            Subset::All
        },
        true,
    )?;
    let fitted = spec.build()?.fit(
        &Matrix::new(train.features, train.width),
        &train.labels.iter().flatten().copied().collect::<Vec<_>>(),
        args.seed,
    )?;
    let x = Matrix::new(rows.features.clone(), rows.width);
    let pred = fitted.predict(&x)?;
    let spreads = fitted.predict_spread(&x)?;
    let header = [
        "row_id",
        "prediction",
        "spread",
        "prediction_low",
        "prediction_high",
        "label",
    ];
    let mut out_rows = Vec::with_capacity(pred.len());
    for (i, prediction) in pred.iter().enumerate() {
        let (spread, low, high) = match &spreads {
            Some(all) => {
                let s = all[i];
                (s.std.to_string(), s.low.to_string(), s.high.to_string())
            }
            None => Default::default(),
        };
        out_rows.push(vec![
            rows.row_ids[i].to_string(),
            prediction.to_string(),
            spread,
            low,
            high,
            rows.labels[i].map_or(String::new(), |v| v.to_string()),
        ]);
    }
    let table = OutTable {
        header: header.iter().map(|h| h.to_string()).collect(),
        numeric: vec![true; header.len()],
        rows: out_rows,
    };
    write_table(global, &args.out, args.format, table)
}
