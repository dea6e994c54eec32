//! `add`, `export` and `predict`: rows in and out of the project.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};
use serde_json::json;

use al::{PredictOptions, Project, Role, Table};

use crate::cli::{AddArgs, ExportArgs, Global, PredictArgs, TableFormatArg};
use crate::output::{notice, print_json};

pub fn add(global: &Global, args: AddArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    let role = match args.role {
        crate::cli::RoleArg::Train => Role::Train,
        crate::cli::RoleArg::Pool => Role::Pool,
        crate::cli::RoleArg::Test => Role::Test,
    };
    let report = project.add(&args.file, role)?;
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
    al::write_atomically(out, bytes)
}

/// Refuses a format this binary cannot write, or Parquet to stdout, before
/// any work.
fn check_format(format: TableFormatArg, out: &Path) -> Result<()> {
    if format == TableFormatArg::Parquet {
        if !al::writes_parquet() {
            bail!(al::PARQUET_MISSING);
        }
        if out.as_os_str() == "-" {
            bail!("--format parquet needs a file: add -o FILE.parquet");
        }
    }
    Ok(())
}

fn write_table(global: &Global, out: &Path, format: TableFormatArg, table: Table) -> Result<()> {
    if format == TableFormatArg::Parquet {
        return table.write(out, true);
    }
    write_out(global, out, &table.csv_bytes()?)
}

pub fn export(global: &Global, args: ExportArgs) -> Result<()> {
    check_format(args.format, &args.out)?;
    let project = Project::open_for_reading(&global.project, global.settings())?;
    if args.label_studio.is_some() || args.label_studio_config.is_some() {
        return export_label_studio(global, &project, &args);
    }
    if args.format == TableFormatArg::Csv && !global.json {
        return project.export_csv(&args.out);
    }
    write_table(global, &args.out, args.format, project.export_table()?)
}

/// `export --label-studio` / `--label-studio-config`: the pool as tasks,
/// the labeling interface, or both.
fn export_label_studio(global: &Global, project: &Project, args: &ExportArgs) -> Result<()> {
    let mut written = serde_json::Map::new();
    if let Some(config) = &args.label_studio_config {
        al::write_atomically(config, project.label_studio_config()?.as_bytes())?;
        written.insert("config".into(), json!(config.display().to_string()));
        notice(
            global.quiet || global.json,
            &format!(
                "wrote the labeling interface to {} (Label Studio: Settings → Labeling Interface → Code)",
                config.display()
            ),
        );
    }
    if let Some(tasks) = &args.label_studio {
        let spinner = crate::output::spinner(global, "guessing the pool's rows");
        let count = project.write_label_studio_pool(tasks);
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        let count = count?;
        written.insert("tasks".into(), json!(tasks.display().to_string()));
        written.insert("rows".into(), json!(count));
        notice(
            global.quiet || global.json,
            &format!(
                "wrote {count} task(s) to {} (Label Studio: Import; sort the Data Manager by prediction score for al's order)",
                tasks.display()
            ),
        );
    }
    if global.json {
        print_json(&serde_json::Value::Object(written));
    }
    Ok(())
}

pub fn predict(global: &Global, args: PredictArgs) -> Result<()> {
    check_format(args.format, &args.out)?;
    let project = Project::open_for_reading(&global.project, global.settings())?;
    let predictions = project.predict(&PredictOptions {
        pool: args.pool,
        model: args.model.clone(),
        seed: args.seed,
        coverage: args.coverage,
    })?;
    // The CSV has no room for it; the method (or why there are no bounds)
    // goes to stderr.
    notice(
        global.quiet || global.json,
        predictions.intervals.describe(),
    );
    write_table(global, &args.out, args.format, predictions.table())
}
