use anyhow::Result;
use serde_json::json;

use al_data::Project;

use crate::cli::Global;
use crate::output::{print_json, table};

pub fn run(global: &Global) -> Result<()> {
    let project = al::Project::open_for_reading(&global.project, global.settings())?;
    let status = project.status()?;
    if global.json {
        print_json(&json!(status));
        return Ok(());
    }
    println!("project   {}", status.project);
    println!("source    {}", status.source);
    println!("sha256    {}", status.sha256);
    println!(
        "rows      {} = {} labeled + {} test + {} unlabeled (pool)",
        status.rows, status.labeled, status.test, status.unlabeled
    );
    println!("features  {} (encoded)", status.features);
    println!("rounds    {}", status.rounds);
    if let Some(r) = &status.error {
        println!(
            "error     MAE {}{} at {} labels, {}",
            al_models::metrics::display(r.mae),
            r.interval.map_or(String::new(), |i| format!(
                " ({:.0} %: {} – {})",
                i.level * 100.0,
                al_models::metrics::display(i.mae_low),
                al_models::metrics::display(i.mae_high)
            )),
            r.labels,
            al::method_text(r.method)
        );
    }
    if let Some(advice) = &status.advice {
        println!(
            "{}",
            super::report::advice_line(advice).replacen("advice: ", "advice    ", 1)
        );
    }
    let mut t = table(&[
        "column",
        "kind",
        "missing",
        "of which not numbers",
        "treatment",
    ]);
    for c in status.columns {
        t.add_row(vec![
            c.name,
            c.kind,
            c.missing.to_string(),
            c.unparsed.to_string(),
            c.treatment,
        ]);
    }
    println!("{t}");
    Ok(())
}

/// `upgrade`: brings an older project file to this al-cli's schema.
pub fn upgrade(global: &Global) -> Result<()> {
    let from = Project::upgrade(&global.project)?;
    let to = al_data::project::SCHEMA_VERSION;
    if global.json {
        print_json(&serde_json::json!({"from": from, "to": to, "changed": from != to}));
    } else if !global.quiet {
        if from == to {
            println!(
                "{} is already at schema {to}; nothing to do",
                global.project.display()
            );
        } else {
            println!("{}: schema {from} -> {to}", global.project.display());
        }
    }
    Ok(())
}
