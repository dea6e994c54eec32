//! `models` and `strategies`: what the registries hold.

use anyhow::Result;
use serde_json::json;

use al_models::{ParamInfo, MODELS};
use al_query::{default_strategy_name, Source, DEFAULT_STRATEGY};

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
                    "library": m.library,
                    "params": params_json(m.params),
                })
            })
            .collect();
        print_json(&json!({ "models": models }));
        return Ok(());
    }
    let mut t = table(&["model", "parameters (default)", "what it is", "from"]);
    for m in MODELS {
        t.add_row(vec![
            m.name.to_string(),
            params_text(m.params),
            m.description.to_string(),
            m.library.to_string(),
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
            .map(|(s, source)| {
                json!({
                    "name": s.name,
                    "description": s.description,
                    "reference": s.reference,
                    "params": params_json(s.params),
                    "source": source_text(*source),
                })
            })
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
    for (s, _) in strategies {
        let name = if s.name == default_strategy_name() {
            format!("{} (default: {DEFAULT_STRATEGY})", s.name)
        } else {
            s.name.to_string()
        };
        t.add_row(vec![
            name,
            s.description.to_string(),
            s.reference.to_string(),
            params_text(s.params),
        ]);
    }
    println!("{t}");
    println!("use as --strategy NAME or NAME:key=value, e.g. --strategy density:base=committee; see docs/strategies.md");
    Ok(())
}

/// Where a strategy comes from, as `plugins list` and `strategies --json` say.
pub fn source_text(source: Source) -> String {
    match source {
        Source::BuiltIn => "built-in".into(),
        Source::Crate(name) => format!("crate {name}"),
    }
}

fn params_json(params: &[ParamInfo]) -> Vec<serde_json::Value> {
    params
        .iter()
        .map(|p| json!({"key": p.key, "default": p.default, "allowed": p.kind.to_string(), "help": p.help}))
        .collect()
}

/// One line per parameter: `key=default (allowed) — help`.
fn params_text(params: &[ParamInfo]) -> String {
    params
        .iter()
        .map(|p| format!("{}={} ({}) — {}", p.key, p.default, p.kind, p.help))
        .collect::<Vec<_>>()
        .join("\n")
}
