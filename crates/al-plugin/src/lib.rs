//! External plugins of **al** (protocol `al-plugin/1`, docs/plugins.md):
//! models, query strategies and oracles run as programs. One JSON line goes
//! in on stdin, one JSON object comes out on stdout, matrices travel as CSV
//! files in a fresh temporary directory named in the request. Whatever a
//! plugin does wrong (crash, hang, garbage, wrong rows, NaN) becomes an error
//! naming the plugin and the fault; nothing it says is trusted unchecked.
//!
//! This crate is the only one that starts processes or writes temporary
//! files for plugins: `al-models` and `al-query` only see the [`Fit`] and
//! [`Strategy`] traits these types implement.
//!
//! [`Fit`]: al_models::Fit
//! [`Strategy`]: al_query::Strategy

mod model;
mod oracle;
mod process;
mod strategy;

pub use model::ExternalModel;
pub use oracle::ExternalOracle;
pub use process::{check_numbers, write_matrix, PluginCommand, PROTOCOL};
pub use strategy::ExternalStrategy;
