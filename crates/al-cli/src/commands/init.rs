use anyhow::Result;
use serde_json::json;

use al_data::{BadTarget, InitOptions, InitReport, ReadOptions, RecipeOptions};

use crate::cli::{BadTargetArg, Global, InitArgs};
use crate::output::{notice, print_json};

pub fn run(global: &Global, args: InitArgs) -> Result<()> {
    let opts = options(global, args)?;
    let spinner = crate::output::spinner(
        global,
        &format!("reading and encoding {}", opts.source.display()),
    );
    let report = al::Project::init(&opts, global.settings()).map(|(_, report)| report);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    report_init(global, &opts, report?);
    Ok(())
}

/// Prints what `init` did.
pub fn report_init(global: &Global, opts: &InitOptions, report: InitReport) {
    if global.json {
        print_json(&json!({
            "project": opts.project.display().to_string(),
            "rows": report.rows,
            "labeled": report.labeled,
            "test": report.test,
            "unlabeled": report.unlabeled,
            "features": report.features,
            "notices": report.notices,
        }));
        return;
    }
    for n in &report.notices {
        notice(global.quiet, n);
    }
    if !global.quiet {
        println!(
            "created {}: {} rows ({} labeled for training, {} held out for testing, {} to label), {} features",
            opts.project.display(),
            report.rows,
            report.labeled,
            report.test,
            report.unlabeled,
            report.features
        );
        println!("next: `al-cli status` to inspect the columns");
    }
}

fn options(global: &Global, args: InitArgs) -> Result<InitOptions> {
    let (impute_default, impute) =
        al::impute_rules(&args.impute).map_err(|e| anyhow::anyhow!("--impute: {e}"))?;
    Ok(InitOptions {
        source: args.data,
        project: global.project.clone(),
        force: args.force,
        read: ReadOptions {
            delimiter: args.delimiter,
            ..ReadOptions::default()
        },
        recipe: RecipeOptions {
            target: args.target,
            numeric_threshold: args.numeric_threshold,
            categorical: args.categorical,
            numeric: args.numeric,
            drop: args.drop,
            id_cols: args.id_col,
            impute_default,
            impute,
            missing_indicators: args.missing_indicators,
            max_levels: args.max_levels,
        },
        bad_target: match args.bad_target {
            BadTargetArg::Error => BadTarget::Error,
            BadTargetArg::Skip => BadTarget::Skip,
        },
        test_frac: args.test_frac,
        seed: args.seed,
        min: args.min,
        max: args.max,
        pool: args.pool,
        test: args.test,
    })
}
