use anyhow::Result;
use serde_json::json;

use al_data::Project;

use crate::cli::Global;
use crate::output::{print_json, table};

pub fn run(global: &Global) -> Result<()> {
    let project = Project::open_for_reading(&global.project)?;
    let recipe = project.recipe()?;
    let counts = project.counts()?;
    let source = project.meta("source_path")?.unwrap_or_default();
    let sha = project.meta("source_sha256")?.unwrap_or_default();
    let columns: Vec<_> = recipe
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "kind": c.kind_name(),
                "missing": c.missing,
                "unparsed": c.unparsed,
                "treatment": c.treatment(),
            })
        })
        .collect();
    if global.json {
        print_json(&json!({
            "project": global.project.display().to_string(),
            "source": source,
            "sha256": sha,
            "target": recipe.target,
            "rows": counts.rows,
            "labeled": counts.labeled,
            "test": counts.test,
            "unlabeled": counts.unlabeled,
            "features": recipe.n_features(),
            "rounds": counts.rounds,
            "columns": columns,
        }));
        return Ok(());
    }
    println!("project   {}", global.project.display());
    println!("source    {source}");
    println!("sha256    {sha}");
    println!(
        "rows      {} = {} labeled + {} test + {} unlabeled (pool)",
        counts.rows, counts.labeled, counts.test, counts.unlabeled
    );
    println!("features  {} (encoded)", recipe.n_features());
    println!("rounds    {}", counts.rounds);
    let mut t = table(&[
        "column",
        "kind",
        "missing",
        "of which not numbers",
        "treatment",
    ]);
    for c in &recipe.columns {
        t.add_row(vec![
            c.name.clone(),
            c.kind_name().to_string(),
            c.missing.to_string(),
            c.unparsed.to_string(),
            c.treatment(),
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
