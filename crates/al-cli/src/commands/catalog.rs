//! `models` and `strategies`: what the registries hold.

use anyhow::Result;
use serde_json::json;

use al_models::MODELS;
use al_query::DEFAULT_STRATEGY;

use crate::cli::Global;
use crate::output::{print_json, table};

pub fn models(global: &Global) -> Result<()> {
    if global.json {
        let models: Vec<_> = MODELS
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "description": m.description,
                    "params": m.params.iter().map(|p| json!({"key": p.key, "default": p.default, "help": p.help})).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({ "models": models }));
        return Ok(());
    }
    let mut t = table(&["model", "parameters (default)", "what it is"]);
    for m in MODELS {
        let params: Vec<String> = m
            .params
            .iter()
            .map(|p| format!("{}={} — {}", p.key, p.default, p.help))
            .collect();
        t.add_row(vec![
            m.name.to_string(),
            params.join("\n"),
            m.description.to_string(),
        ]);
    }
    println!("{t}");
    println!("use as --model NAME or NAME:key=value,key=value, e.g. --model forest:trees=200,max_features=0.33");
    Ok(())
}

pub fn strategies(global: &Global) -> Result<()> {
    let registry = crate::plugins::registry(global, None)?;
    let strategies = registry.entries();
    if global.json {
        let list: Vec<_> = strategies
            .iter()
            .map(
                |s| json!({"name": s.name, "description": s.description, "reference": s.reference}),
            )
            .collect();
        print_json(&json!({ "default": DEFAULT_STRATEGY, "strategies": list }));
        return Ok(());
    }
    let mut t = table(&[
        "strategy",
        "what it does",
        "reference",
        "parameters (default)",
    ]);
    for s in strategies {
        let name = if s.name == DEFAULT_STRATEGY {
            format!("{} (default)", s.name)
        } else {
            s.name.to_string()
        };
        let params: Vec<String> = s.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        t.add_row(vec![
            name,
            s.description.to_string(),
            s.reference.to_string(),
            params.join(", "),
        ]);
    }
    println!("{t}");
    println!("use as --strategy NAME or NAME:key=value, e.g. --strategy density:base=committee; see docs/strategies.md");
    Ok(())
}
