//! `label`: import an annotator's answers, all or nothing.

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use al_data::store::Bounds;
use al_data::{store, LabelEvent, LabelOutcome, Project};

use crate::cli::{Global, HistoryArgs, LabelArgs};
use crate::output::{print_json, table};
use crate::prompt::{ask, Answer, Question};

pub fn run(global: &Global, args: LabelArgs) -> Result<()> {
    let mut project = Project::open(&global.project)?;
    let bounds = project.target_bounds()?;
    // Resolved before any label is written: a bad --model changes nothing.
    let spec = crate::plugins::model_spec(global, &project, args.model.as_deref())?;
    if args.interactive {
        return interactive(global, &mut project, &args, &spec, bounds);
    }
    let events = match (&args.file, args.row, args.value) {
        (Some(file), _, _) => {
            al_data::batch::read_filled(&project, file, args.annotator.as_deref())?
        }
        (None, Some(row), Some(value)) => {
            bounds
                .check(value)
                .map_err(|m| anyhow!("--value {value}: {m}"))?;
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
    let report = if changed && !args.no_eval && super::evaluate::measurable(&project)? {
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
    if total.new + total.changed > 0 && !args.no_eval && super::evaluate::measurable(project)? {
        let report = super::evaluate::evaluate(project, spec, 0)?;
        super::evaluate::print_report(global, project, &report)?;
    }
    Ok(())
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
