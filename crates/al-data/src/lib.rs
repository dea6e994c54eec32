//! Data layer of **al**, active learning for tabular regression.
//!
//! It turns a dirty delimited file into model-ready features and keeps
//! everything in one SQLite project file:
//!
//! * [`table`] reads CSV/TSV into raw text cells with exact error positions,
//!   and (feature `parquet`) Parquet and Arrow IPC files through polars;
//! * [`recipe`] decides each column's kind and fits imputation, scaling and
//!   one-hot levels, and is the only thing that ever encodes a row;
//! * [`project`] is the project file (schema in `docs/project-file.md`);
//! * [`init`] ties them together for `al-cli init`;
//! * [`store`] loads rows for models and records rounds, labels and reports;
//! * [`batch`] writes the batch file an annotator fills in, with its round;
//! * [`export`] writes every row with its current label.

pub mod batch;
#[cfg(feature = "parquet")]
pub mod columnar;
pub mod error;
pub mod export;
pub mod init;
pub mod label_studio;
pub mod project;
pub mod recipe;
pub mod store;
pub mod table;

pub use error::{DataError, Result};
pub use init::{init, BadTarget, InitOptions, InitReport};
pub use project::{Counts, Project};
pub use recipe::{ColumnKind, ColumnRecipe, Impute, Recipe, RecipeOptions};
pub use store::{
    CompactRows, LabelEvent, LabelOutcome, QueriedRow, Report, RoundRecord, Rows, Subset,
};
pub use table::{read_table, RawTable, ReadOptions, SourceKind};
