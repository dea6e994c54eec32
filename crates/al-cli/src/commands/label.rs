//! `label`: import an annotator's answers, all or nothing.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use al_data::store::Bounds;

use crate::prompt::{ask, check_value, Answer, Question};
use al_data::{store, LabelEvent, LabelOutcome, Project};

use crate::cli::{Global, HistoryArgs, LabelArgs};
use crate::output::{print_json, table};
use al_data::batch::LEAD;

pub fn run(global: &Global, args: LabelArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let bounds = project.target_bounds()?;
    // Resolved before any label is written: a bad --model changes nothing.
    let spec = crate::plugins::model_spec(global, &project, &args.model)?;
    if args.interactive {
        return interactive(global, &mut project, &args, &spec, bounds);
    }
    let events = match (&args.file, args.row, args.value) {
        (Some(file), _, _) => read_batch(&project, file, bounds, args.annotator.as_deref())?,
        (None, Some(row), Some(value)) => {
            check_value(value, bounds).map_err(|m| anyhow!("--value {value}: {m}"))?;
            if project.row_state(row)?.is_none() {
                bail!("row {row} is not in the project");
            }
            vec![LabelEvent {
                row_id: row,
                value,
                round: None,
                annotator: args.annotator.clone(),
                note: None,
            }]
        }
        _ => bail!("give a batch file (al-cli label batch-1.csv) or --row ID --value V"),
    };
    let outcome = project.write(|tx| store::apply_labels(tx, &events, "annotator"))?;
    let changed = outcome.new + outcome.changed > 0;
    if !global.json && !global.quiet {
        print_outcome(&outcome);
    }
    let report = if changed && !args.no_eval && project.counts()?.test > 0 {
        Some(super::evaluate::evaluate(&mut project, &spec, 0)?)
    } else {
        None
    };
    if global.json {
        print_json(&json!({
            "new": outcome.new, "changed": outcome.changed, "unchanged": outcome.unchanged,
            "report": report.as_ref().map(|r| json!({"labels": r.labels, "mae": r.mae, "mse": r.mse, "rmse": r.rmse, "r2": r.r2, "model": r.model})),
        }));
    } else if let Some(r) = &report {
        super::evaluate::print_report(global, &project, r)?;
    }
    Ok(())
}

fn print_outcome(o: &LabelOutcome) {
    if o.new + o.changed == 0 {
        println!(
            "nothing new: every label in the input is already in the project ({} unchanged)",
            o.unchanged
        );
    } else {
        println!(
            "{} new label(s), {} changed, {} unchanged",
            o.new, o.changed, o.unchanged
        );
    }
}

/// Asks for each pending row on stdin; every answer is committed at once,
/// so quitting (or a crash) keeps what was entered.
fn interactive(
    global: &Global,
    project: &mut Project,
    args: &LabelArgs,
    spec: &al_models::ModelSpec,
    bounds: Bounds,
) -> Result<()> {
    let pending = project.pending()?;
    if pending.is_empty() {
        println!("no pending rows: run `al-cli query` first");
        return Ok(());
    }
    let headers = project.headers()?;
    let target_name = project.recipe()?.target;
    let train = project.load(al_data::Subset::Training, true)?;
    let fitted = spec.build()?.fit(
        &al_models::Matrix::new(train.features.clone(), train.width),
        &train.targets(),
        0,
    )?;
    let all = project.load(al_data::Subset::PoolWithPending, true)?;
    let mut lines = crate::prompt::stdin_lines();
    let mut total = LabelOutcome::default();
    for al_data::store::Pending { round, row_id } in pending {
        let raw = project.raw_row(row_id)?.unwrap_or_default();
        let prediction = match all.row_ids.iter().position(|&r| r == row_id) {
            Some(i) => {
                let x = al_models::Matrix::new(
                    all.features[i * all.width..(i + 1) * all.width].to_vec(),
                    all.width,
                );
                Some(fitted.predict(&x)?[0])
            }
            None => None,
        };
        let question = Question {
            row_id,
            context: format!("round {round}"),
            headers: &headers,
            raw: &raw,
            target: &target_name,
            prediction,
            bounds,
        };
        match ask(&mut lines, &question)? {
            Answer::Stop => break,
            Answer::Skip => continue,
            Answer::Value(value) => {
                let event = LabelEvent {
                    row_id,
                    value,
                    round: Some(round),
                    annotator: args.annotator.clone(),
                    note: None,
                };
                let o = project.write(|tx| store::apply_labels(tx, &[event], "annotator"))?;
                total.new += o.new;
                total.changed += o.changed;
            }
        }
    }
    println!();
    print_outcome(&total);
    if total.new + total.changed > 0 && !args.no_eval && project.counts()?.test > 0 {
        let report = super::evaluate::evaluate(project, spec, 0)?;
        super::evaluate::print_report(global, project, &report)?;
    }
    Ok(())
}

/// Reads and checks a whole batch file before anything is written.
fn read_batch(
    project: &Project,
    path: &Path,
    bounds: Bounds,
    annotator: Option<&str>,
) -> Result<Vec<LabelEvent>> {
    let table = al_data::read_table(
        path,
        &al_data::ReadOptions {
            delimiter: Some(b','),
        },
    )?;
    let source = project.headers()?;
    let mut expected: Vec<String> = LEAD.iter().map(|s| s.to_string()).collect();
    expected.extend(source.iter().cloned());
    expected.push("note".into());
    if table.headers != expected {
        bail!(
            "{}: its columns are not those of a batch from this project (expected {}); was it written by `al-cli query` on {}?",
            path.display(),
            expected.join(","),
            project.path().display()
        );
    }
    let target = project.recipe()?.target_index();
    let target_col = LEAD.len() + target;
    let note_col = expected.len() - 1;
    let at = |row: usize, column: &str, message: String| {
        anyhow!(
            "{}:{}: column {column:?}: {message}",
            path.display(),
            table.line(row)
        )
    };
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
        check_value(value, bounds).map_err(|m| at(r, &source[target], format!("{cell}: {m}")))?;
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
        let round = table.cell(r, 1).trim().parse().ok();
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

pub fn history(global: &Global, args: HistoryArgs) -> Result<()> {
    let project = Project::open_for_reading(&global.project)?;
    let Some(raw) = project.raw_row(args.row)? else {
        bail!("row {} is not in the project", args.row);
    };
    let events = project.history(args.row)?;
    if global.json {
        let list: Vec<_> = events
            .iter()
            .map(|e| json!({"value": e.value, "source": e.source, "round": e.round, "annotator": e.annotator, "note": e.note, "created_at": e.created_at}))
            .collect();
        print_json(&json!({"row_id": args.row, "raw": raw, "labels": list}));
        return Ok(());
    }
    println!("row {}: {}", args.row, raw.join(", "));
    let mut t = table(&["when", "value", "source", "round", "annotator", "note"]);
    for e in &events {
        t.add_row(vec![
            e.created_at.clone(),
            e.value.to_string(),
            e.source.clone(),
            e.round.map_or("-".into(), |v| v.to_string()),
            e.annotator.clone().unwrap_or_default(),
            e.note.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    Ok(())
}
