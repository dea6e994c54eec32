//! `models` and `strategies`: what the registries hold (`al::catalog`).

use anyhow::Result;
use serde_json::json;

use al::catalog::{self, Param};

use crate::cli::Global;
use crate::output::{print_json, table};

pub fn models(global: &Global) -> Result<()> {
    let models = catalog::models();
    if global.json {
        let list: Vec<_> = models
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "description": m.description,
                    "library": m.library,
                    "params": m.params,
                })
            })
            .collect();
        print_json(&json!({ "models": list }));
        return Ok(());
    }
    let mut t = table(&["model", "parameters (default)", "what it is", "from"]);
    for m in models {
        t.add_row(vec![
            m.name,
            params_text(&m.params),
            m.description,
            m.library,
        ]);
    }
    println!("{t}");
    println!("use as --model NAME or NAME:key=value,key=value, e.g. --model forest:trees=200,max_features=0.33");
    Ok(())
}

pub fn strategies(global: &Global) -> Result<()> {
    let strategies = catalog::strategies();
    let default = catalog::default_strategy();
    if global.json {
        let list: Vec<_> = strategies
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "description": s.description,
                    "reference": s.reference,
                    "params": s.params,
                    "source": s.source,
                })
            })
            .collect();
        print_json(&json!({ "default": default, "strategies": list }));
        return Ok(());
    }
    let mut t = table(&[
        "strategy",
        "what it does",
        "reference",
        "parameters (default)",
    ]);
    for s in strategies {
        let name = if s.is_default {
            format!("{} (default: {default})", s.name)
        } else {
            s.name.clone()
        };
        t.add_row(vec![
            name,
            s.description,
            s.reference,
            params_text(&s.params),
        ]);
    }
    println!("{t}");
    println!("use as --strategy NAME or NAME:key=value, e.g. --strategy density:base=committee; see docs/strategies.md");
    Ok(())
}

/// One line per parameter: `key=default (allowed) — help`.
fn params_text(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| format!("{}={} ({}) — {}", p.key, p.default, p.allowed, p.help))
        .collect::<Vec<_>>()
        .join("\n")
}
