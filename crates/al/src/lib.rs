//! **al** as one typed API: the flows a user runs on a project file.
//!
//! `al-cli`, the browser workbench (`al-serve`) and the Python package
//! (`al-py`) are three thin front-ends over the calls here; none of them
//! holds a flow of its own. A front-end parses its own input (flags, a form,
//! Python arguments) into the option structs below, calls one method of
//! [`Project`] and presents the named struct it gets back.
//!
//! | flow | call | returns |
//! |---|---|---|
//! | init | [`Project::init`] | [`Project`], [`InitReport`] |
//! | add | [`Project::add`] | [`AddReport`] |
//! | query | [`Project::plan_query`] → [`Project::record_query`] (or [`Project::query`]) | [`QueryOutcome`] |
//! | label | [`Project::read_answers`] → [`Project::label`] | [`Labeled`] |
//! | evaluate | [`Project::evaluate`], [`Project::compare_models`] | [`Report`], [`Comparison`] |
//! | report | [`Project::reports`], [`Project::learning_curve_svg`] | [`Report`]s, SVG |
//! | simulate | [`Project::simulate`] | [`SimulationRun`]s |
//! | predict | [`Project::predict`] | [`Predictions`] |
//! | export | [`Project::export_table`] | [`Table`] |
//! | synthesize | [`Project::synthesize`] | [`synthesize::SynthesisOutcome`] |
//! | stream | [`Project::arrivals`] → [`Project::stream`] (or, row by row, [`stream::StreamModel`] and [`Project::add_arrival`]) | [`stream::StreamOutcome`] |
//! | a matrix, no project | [`array::query`] | [`array::ArrayPicks`] |
//!
//! The crates below do the work: `al-data` (tables, recipe, project file),
//! `al-models` (regressors), `al-query` (strategies, simulation),
//! `al-plugin` (external programs). Every write is one SQLite transaction.

pub mod array;
mod audit;
pub mod catalog;
mod error;
mod evaluate;
pub mod forecast;
pub mod intervals;
mod label;
pub mod label_studio;
pub mod plot;
pub mod plugins;
mod project;
mod query;
mod report;
mod rows;
pub mod shipped;
mod simulate;
pub mod stream;
pub mod synthesize;

use std::time::Duration;

pub use al_data::store::{AddReport, ErrorFigures, ErrorInterval, EvalMethod, HistoryEvent, Role};
pub use al_data::table::{hold as hold_table, release as release_table, TableBuilder};
pub use al_data::{
    BadTarget, Impute, InitOptions, InitReport, LabelEvent, LabelOutcome, ReadOptions,
    RecipeOptions, Report, SourceKind,
};
pub use al_models::interrupt;
pub use al_query::simulate::{Metric, Mode, SimulationConfig, SimulationResult};
pub use audit::AuditShare;
pub use error::{error_kind, error_message, ErrorKind, InvalidParameter};
pub use evaluate::{method_text, Comparison, ModelScore};
pub use forecast::{Advice, Decision, ProjectForecast, StopBelow};
pub use intervals::{Coverage, Intervals};
pub use label::{History, Labeled};
pub use project::{impute_rules, parse_delimiter, Column, Project, Status};
pub use query::{BatchOut, PickedRow, PlannedRound, QueryOptions, QueryOutcome};
pub use report::{
    curve_title, forecast_of, learning_curve_svg, report_series, report_series_with,
    simulation_series, SIMULATION_TITLE,
};
pub use rows::{
    write_atomically, writes_parquet, PredictOptions, Predictions, RawColumn, RawRows, Table,
    PARQUET_MISSING,
};
pub use simulate::{OnStop, Progress, SimulateOptions, SimulationRun};

/// A share written as a fraction (`0.9`) or a percentage (`90%`); `None`
/// when it is neither. The range is the caller's to check (`Coverage`,
/// `StopBelow`).
pub(crate) fn parse_share(text: &str) -> Option<f64> {
    let text = text.trim();
    match text.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().ok().map(|p| p / 100.0),
        None => text.parse::<f64>().ok(),
    }
}

/// The model every flow uses when neither the caller nor the project says.
pub use plugins::DEFAULT_MODEL;

/// What every flow of one front-end shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// How long an external plugin may take before it is stopped.
    pub plugin_timeout: Duration,
}

impl Settings {
    /// Settings with a plugin timeout in seconds, in (0, 86 400]: the one
    /// check every front-end's `--plugin-timeout` / `plugin_timeout` goes
    /// through.
    pub fn new(plugin_timeout_seconds: f64) -> Result<Settings, InvalidParameter> {
        if plugin_timeout_seconds > 0.0 && plugin_timeout_seconds <= 86_400.0 {
            Ok(Settings {
                plugin_timeout: Duration::from_secs_f64(plugin_timeout_seconds),
            })
        } else {
            Err(error::refused(
                "plugin_timeout",
                "plugin_timeout: expected seconds in (0, 86400]",
            ))
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            plugin_timeout: Duration::from_secs(60),
        }
    }
}
