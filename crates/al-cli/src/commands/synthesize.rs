//! `synthesize`: membership query synthesis (the flow is
//! `al::Project::synthesize`; this file wires the flags and prints).

use anyhow::Result;
use serde_json::json;

use al::synthesize::SynthesizeOptions;
use al::{BatchOut, Project};

use crate::cli::{Global, SynthesizeArgs};
use crate::output::print_json;

pub fn run(global: &Global, args: SynthesizeArgs) -> Result<()> {
    let mut project = Project::open(&global.project, global.settings())?;
    let options = SynthesizeOptions {
        n: args.n,
        strategy: args.strategy.clone(),
        model: args.model.clone(),
        seed: args.seed,
    };
    let spinner = crate::output::spinner(
        global,
        &format!("searching for {} rows where the models disagree", args.n),
    );
    let out = BatchOut::from_arg(args.out.as_deref());
    let outcome = project.synthesize(&options, out);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let outcome = outcome?;
    let file = outcome.file.unwrap_or_else(|| "-".into());
    let out = file.display();
    if global.json {
        print_json(
            &json!({"round": outcome.round, "rows": outcome.rows.len(), "file": out.to_string()}),
        );
    } else if !global.quiet {
        println!(
            "round {}: {} synthetic row(s) -> {out}",
            outcome.round,
            outcome.rows.len()
        );
        if let Some(first) = outcome.rows.first() {
            println!(
                "their row_ids start at {}; label them like any batch: al-cli label {out}",
                first.row_id
            );
        }
    }
    Ok(())
}
