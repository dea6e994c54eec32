//! What the registries hold, as named structs (`al-cli models`,
//! `al-cli strategies`, `al.models()`, `al.strategies()`).

use serde::Serialize;

use al_models::{ParamInfo, MODELS};
use al_query::{default_strategy_name, DEFAULT_STRATEGY};

use crate::plugins::{linked_strategies, source_text};

/// One parameter of a strategy or model spec.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub key: String,
    pub default: String,
    /// What values it takes, in words (`a whole number >= 1`, ...).
    pub allowed: String,
    pub help: String,
}

/// A strategy that can run here.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyEntry {
    pub name: String,
    pub description: String,
    pub reference: String,
    pub params: Vec<Param>,
    /// `built-in` or `crate NAME`.
    pub source: String,
    /// Whether [`DEFAULT_STRATEGY`] is this strategy (with its parameters).
    pub is_default: bool,
    /// What it asks of the model (none listed for external plugins).
    pub model_use: Option<al_query::ModelUse>,
}

/// A built-in model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    pub name: String,
    pub description: String,
    pub library: String,
    pub params: Vec<Param>,
}

fn params(list: &[ParamInfo]) -> Vec<Param> {
    list.iter()
        .map(|p| Param {
            key: p.key.into(),
            default: p.default.into(),
            allowed: p.kind.to_string(),
            help: p.help.into(),
        })
        .collect()
}

/// The linked strategies (built-in and plugin crates), registry order.
pub fn strategies() -> Vec<StrategyEntry> {
    linked_strategies()
        .entries()
        .iter()
        .map(|(s, source)| StrategyEntry {
            name: s.name.into(),
            description: s.description.into(),
            reference: s.reference.into(),
            params: params(s.params),
            source: source_text(*source),
            is_default: s.name == default_strategy_name(),
            model_use: Some(s.model_use),
        })
        .collect()
}

/// The default strategy spec.
pub fn default_strategy() -> &'static str {
    DEFAULT_STRATEGY
}

/// The built-in models.
pub fn models() -> Vec<ModelEntry> {
    MODELS
        .iter()
        .map(|m| ModelEntry {
            name: m.name.into(),
            description: m.description.into(),
            library: m.library.into(),
            params: params(m.params),
        })
        .collect()
}
