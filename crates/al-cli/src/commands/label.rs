//! `label`: import an annotator's answers, all or nothing.

use anyhow::{bail, Result};
use serde_json::json;

use al::{LabelEvent, Project};

use crate::cli::{Global, HistoryArgs, LabelArgs};
use crate::output::{print_json, table};
use crate::prompt::{ask, Answer, Question};

pub fn run(global: &Global, args: LabelArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    // Resolved before any label is written: a bad --model changes nothing.
    let spec = project.model_spec(args.model.as_deref())?;
    if args.interactive {
        return interactive(global, &mut project, &args, &spec);
    }
    let annotator = args.annotator.as_deref();
    let events = match (&args.file, args.row, args.value) {
        (Some(file), _, _) => project.read_answers(file, annotator)?,
        (None, Some(row), Some(value)) => project.answers(&[(row, value)], annotator)?,
        _ => bail!("give a batch file (al-cli label batch-1.csv) or --row ID --value V"),
    };
    let labeled = project.label(&events, (!args.no_eval).then_some(&spec))?;
    if global.json {
        print_json(&json!({
            "new": labeled.new, "changed": labeled.changed, "unchanged": labeled.unchanged,
            "report": labeled.report.as_ref().map(|r| json!({"labels": r.labels, "mae": r.mae, "mse": r.mse, "rmse": r.rmse, "r2": r.r2, "model": r.model})),
        }));
        return Ok(());
    }
    if !global.quiet {
        print_outcome(labeled.new, labeled.changed, labeled.unchanged);
    }
    if let Some(r) = &labeled.report {
        super::evaluate::print_report(global, &project, r)?;
    }
    Ok(())
}

fn print_outcome(new: u64, changed: u64, unchanged: u64) {
    if new + changed == 0 {
        println!(
            "nothing new: every label in the input is already in the project ({unchanged} unchanged)"
        );
    } else {
        println!("{new} new label(s), {changed} changed, {unchanged} unchanged");
    }
}

/// Asks for each pending row on stdin; every answer is committed at once,
/// so quitting (or a crash) keeps what was entered.
fn interactive(
    global: &Global,
    project: &mut Project,
    args: &LabelArgs,
    spec: &al_models::ModelSpec,
) -> Result<()> {
    let bounds = project.file().target_bounds()?;
    let pending = project.file().pending()?;
    if pending.is_empty() {
        println!("no pending rows: run `al-cli query` first");
        return Ok(());
    }
    let headers = project.file().headers()?;
    let target_name = project.file().recipe()?.target;
    let train = project.file().load(al_data::Subset::Training, true)?;
    let fitted = spec.build()?.fit(
        &al_models::Matrix::new(train.features.clone(), train.width),
        &train.targets(),
        0,
    )?;
    let all = project
        .file()
        .load(al_data::Subset::PoolWithPending, true)?;
    let mut lines = crate::prompt::stdin_lines();
    let mut total = al::Labeled {
        new: 0,
        changed: 0,
        unchanged: 0,
        report: None,
    };
    for al_data::store::Pending { round, row_id } in pending {
        let raw = project.file().raw_row(row_id)?.unwrap_or_default();
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
                // Committed at once: quitting keeps what was entered.
                let o = project.label(&[event], None)?;
                total.new += o.new;
                total.changed += o.changed;
            }
        }
    }
    println!();
    print_outcome(total.new, total.changed, total.unchanged);
    if total.new + total.changed > 0 && !args.no_eval && project.measurable()? {
        let report = project.evaluate(spec, 0)?;
        super::evaluate::print_report(global, project, &report)?;
    }
    Ok(())
}

pub fn history(global: &Global, args: HistoryArgs) -> Result<()> {
    let project = Project::open_for_reading(&global.project, global.settings())?;
    let history = project.history(args.row)?;
    if global.json {
        print_json(&json!(history));
        return Ok(());
    }
    println!("row {}: {}", args.row, history.raw.join(", "));
    let mut t = table(&["when", "value", "source", "round", "annotator", "note"]);
    for e in &history.labels {
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
