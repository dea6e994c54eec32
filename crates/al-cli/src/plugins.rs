//! `plugins`: list what can run here, or register an external program in
//! the project (the wiring itself is `al::plugins`; docs/plugins.md).

use anyhow::Result;
use serde_json::json;

use crate::cli::{Global, PluginsArgs, PluginsCommand};
use crate::output::{print_json, table};

pub fn run(global: &Global, args: PluginsArgs) -> Result<()> {
    match args.command {
        PluginsCommand::Add { name, kind, cmd } => {
            let mut project = al_data::Project::open(&global.project)?;
            let plugin = al::plugins::register(&mut project, &name, &kind, &cmd)?;
            if !global.quiet {
                println!(
                    "registered {} plugin {name:?} in {}",
                    plugin.kind,
                    global.project.display()
                );
            }
            Ok(())
        }
        PluginsCommand::List => list(global),
    }
}

fn list(global: &Global) -> Result<()> {
    let project = al_data::Project::open_for_reading(&global.project).ok();
    let rows = al::plugins::list(project.as_ref())?;
    if global.json {
        print_json(&json!({ "plugins": rows }));
        return Ok(());
    }
    let mut t = table(&["kind", "name", "source"]);
    for r in rows {
        t.add_row(vec![r.kind, r.name, r.source]);
    }
    println!("{t}");
    Ok(())
}
