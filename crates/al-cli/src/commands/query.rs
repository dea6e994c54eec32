//! `query`: choose the next rows to label and write them for an annotator
//! (the flow is `al::Project::query`).

use anyhow::Result;
use serde_json::json;

use al::{BatchOut, Project, QueryOptions, QueryOutcome};
use al_query::simulate::COLD_START;
use al_query::DEFAULT_STRATEGY;

use crate::cli::{Global, QueryArgs};
use crate::output::{notice, print_json};

pub fn run(global: &Global, args: QueryArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    let options = QueryOptions {
        strategy: args.strategy.clone(),
        batch: args.batch,
        model: args.model.clone(),
        seed: args.seed,
        candidates: args.candidates,
        diversity: args.diversity,
        include_pending: args.include_pending,
        coverage: args.coverage,
        audit: args.audit.unwrap_or_default(),
    };
    if args.model.is_none() {
        if let Some(last) = project.file().last_round()? {
            if al::plugins::is_local_model(&last.model) {
                notice(
                    global.quiet,
                    &format!(
                        "round {} used a Python estimator ({}), which al-cli cannot run; this round uses the project's model (--model to choose another)",
                        last.round, last.model
                    ),
                );
            }
        }
    }
    let spinner = crate::output::spinner(global, "choosing the rows to label");
    let planned = project.plan_query(&options);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let planned = planned?;
    if planned.cold_start {
        let asked = args.strategy.as_deref().unwrap_or(DEFAULT_STRATEGY);
        notice(
            global.quiet,
            &format!(
                "{} labeled row(s), too few for a model: this batch is chosen by {COLD_START} (the rows that best represent the pool; no model needed) instead of {asked}",
                project.file().counts()?.labeled
            ),
        );
    }
    let out = match &args.label_studio {
        Some(tasks) => BatchOut::LabelStudio(tasks.clone()),
        None => BatchOut::from_arg(args.out.as_deref()),
    };
    let outcome = project.record_query(planned, out)?;
    // The rule says stop: say so, and query anyway (the user decides).
    if let Some(f) = project.forecast()? {
        if f.advice.decision == al::Decision::Stop {
            notice(
                global.quiet || global.json,
                &super::report::advice_line(&f.advice),
            );
        }
    }
    if outcome.file.is_some() {
        print_outcome(global, &project, &outcome, args.label_studio.is_some())?;
    }
    Ok(())
}

fn print_outcome(
    global: &Global,
    project: &Project,
    outcome: &QueryOutcome,
    label_studio: bool,
) -> Result<()> {
    let out = outcome.file.as_deref().unwrap_or(std::path::Path::new("-"));
    if global.json {
        let list: Vec<_> = outcome
            .rows
            .iter()
            .map(|r| json!({"row_id": r.row_id, "rank": r.rank, "score": r.score, "prediction": r.prediction, "lower": r.lower, "upper": r.upper, "spread": r.spread, "audit": r.audit}))
            .collect();
        print_json(
            &json!({"round": outcome.round, "strategy": outcome.strategy, "model": outcome.model, "cold_start": outcome.cold_start, "intervals": outcome.intervals, "file": out.display().to_string(), "format": if label_studio { "label-studio" } else { "csv" }, "rows": list}),
        );
    } else if !global.quiet {
        println!(
            "round {}: {} row(s) chosen by {} from a pool of {} -> {}",
            outcome.round,
            outcome.rows.len(),
            outcome.strategy,
            outcome.pool,
            out.display()
        );
        let audit = outcome.rows.iter().filter(|r| r.audit).count();
        if audit > 0 {
            println!(
                "{audit} of them drawn at random from the pool for an audit (the last {audit}, no score): label them like the rest"
            );
        }
        if !outcome.cold_start {
            println!("{}", outcome.intervals);
        }
        if label_studio {
            println!(
                "import {} into Label Studio; then `al-cli label EXPORT.json` with its JSON export, or connect `al-cli serve` as its model (docs/label-studio.md)",
                out.display()
            );
        } else {
            println!(
                "fill in the `{}` column, then: al-cli label {}",
                project.file().recipe()?.target,
                out.display()
            );
        }
    }
    Ok(())
}
