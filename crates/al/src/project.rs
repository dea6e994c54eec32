//! [`Project`]: a project file with the settings of the front-end using it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use serde::Serialize;

use al_data::store::{AddReport, Role};
use al_data::{InitOptions, InitReport};
use al_models::{Fit, ModelSpec};
use al_query::Registry;

use crate::plugins::LocalModels;
use crate::Settings;

/// One project file, opened for the flows of this crate.
pub struct Project {
    pub(crate) file: al_data::Project,
    pub(crate) settings: Settings,
    /// The front end's own models ([`Project::register_model`]).
    pub(crate) local_models: LocalModels,
}

/// What a project holds (`al-cli status`).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub project: String,
    pub source: String,
    pub sha256: String,
    pub target: String,
    /// The field delimiter of the source (files added later are read with it).
    pub delimiter: String,
    pub rows: u64,
    pub labeled: u64,
    pub test: u64,
    pub unlabeled: u64,
    pub features: usize,
    pub rounds: u64,
    pub columns: Vec<Column>,
    /// Stop or continue labeling, and why (the forecast-gain rule on the
    /// stored reports); `None` before the first report.
    pub advice: Option<crate::Advice>,
    /// The latest report: the error as the project measures it now (on
    /// the held-out rows, else estimated on the pool); `None` before one.
    pub error: Option<al_data::Report>,
}

/// One source column and what the recipe does with it.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    pub kind: String,
    pub missing: u64,
    pub unparsed: u64,
    pub treatment: String,
}

impl Project {
    /// Reads, encodes and stores `options.source` as a new project file.
    pub fn init(options: &InitOptions, settings: Settings) -> Result<(Project, InitReport)> {
        check_init(options)?;
        let report = al_data::init(options)?;
        Ok((Project::open(&options.project, settings)?, report))
    }

    /// Opens a project to read and write (refusing a file of another schema).
    pub fn open(path: &Path, settings: Settings) -> Result<Project> {
        Ok(Project {
            file: al_data::Project::open(path)?,
            settings,
            local_models: LocalModels::default(),
        })
    }

    /// Opens a project without writing anything to it, not even a migration.
    pub fn open_for_reading(path: &Path, settings: Settings) -> Result<Project> {
        Ok(Project {
            file: al_data::Project::open_for_reading(path)?,
            settings,
            local_models: LocalModels::default(),
        })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The project file itself, for what the flows do not cover (the
    /// workbench's pages, the terminal prompt).
    pub fn file(&self) -> &al_data::Project {
        &self.file
    }

    pub fn file_mut(&mut self) -> &mut al_data::Project {
        &mut self.file
    }

    /// Strategies and models this project can run: linked ones, then its
    /// registered plugins and those on PATH.
    pub fn registry(&self) -> Result<Registry> {
        crate::plugins::registry(&self.settings, Some(&self.file), &self.local_models)
    }

    /// `given`, else the project's model, else [`crate::DEFAULT_MODEL`],
    /// resolved and checked.
    pub fn model_spec(&self, given: Option<&str>) -> Result<ModelSpec> {
        crate::plugins::model_spec_with(&self.settings, &self.file, given, &self.local_models)
    }

    /// Makes a model the front end holds in its own process (a Python
    /// user's estimator) available to every flow of this project under
    /// `name` (`python.MODULE.CLASS`), as `--model NAME` would name a
    /// built-in one. Nothing is written: the rounds it makes record its
    /// name and [`al_models::Fit::describe`].
    pub fn register_model(&mut self, name: &str, model: Arc<dyn Fit>) -> Result<()> {
        self.local_models.insert(name, model)
    }

    pub fn status(&self) -> Result<Status> {
        let recipe = self.file.recipe()?;
        let counts = self.file.counts()?;
        let columns = recipe
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                kind: c.kind_name().to_string(),
                missing: c.missing,
                unparsed: c.unparsed,
                treatment: c.treatment(),
            })
            .collect();
        Ok(Status {
            project: self.path().display().to_string(),
            source: self.file.meta("source_path")?.unwrap_or_default(),
            sha256: self.file.meta("source_sha256")?.unwrap_or_default(),
            target: recipe.target.clone(),
            delimiter: self.file.meta("delimiter")?.unwrap_or_else(|| ",".into()),
            rows: counts.rows,
            labeled: counts.labeled,
            test: counts.test,
            unlabeled: counts.unlabeled,
            features: recipe.n_features(),
            rounds: counts.rounds,
            columns,
            advice: self.forecast()?.map(|f| f.advice),
            error: self.file.reports()?.pop(),
        })
    }

    /// Appends the rows of a file with the project's columns, encoded by its
    /// recipe, in one transaction: as training rows (labeled ones train,
    /// unlabeled join the pool), pool rows or held-out test rows.
    pub fn add(&mut self, file: &Path, role: Role) -> Result<AddReport> {
        Ok(self.file.add_rows_as(file, "added", role)?)
    }
}

/// The one place `init`'s numbers are checked (the CLI's parsers say the same).
fn check_init(options: &InitOptions) -> Result<()> {
    use crate::error::invalid;
    if !(0.0..=1.0).contains(&options.recipe.numeric_threshold) {
        anyhow::bail!(invalid(
            "numeric_threshold",
            "expected a fraction in [0, 1]"
        ));
    }
    crate::error::at_least("max_levels", options.recipe.max_levels, 1)?;
    if let Some(f) = options.test_frac {
        if !(0.0..1.0).contains(&f) {
            anyhow::bail!(invalid("test_frac", "expected a share in [0, 1)"));
        }
        if options.test.is_some() {
            anyhow::bail!(invalid(
                "test_frac",
                "give test_frac or a test file, not both"
            ));
        }
    }
    for (key, value) in [("min", options.min), ("max", options.max)] {
        if value.is_some_and(|v| !v.is_finite()) {
            anyhow::bail!(invalid(key, "expected a finite number"));
        }
    }
    Ok(())
}

/// A field delimiter as a user writes it: one ASCII character, or `tab`
/// (also `\t` and a literal tab). The message is the front-ends'.
pub fn parse_delimiter(text: &str) -> std::result::Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!(
            "the delimiter must be one ASCII character or \"tab\", not {text:?}"
        )),
    }
}

/// Imputation rules as a user writes them: `HOW` sets the default for
/// numeric columns (mean, median or a number), `COL=HOW` one column's.
/// Returns the default (mean when none is given) and the per-column rules;
/// the message names the rule that could not be read.
pub fn impute_rules(
    specs: &[String],
) -> std::result::Result<(al_data::Impute, Vec<(String, al_data::Impute)>), String> {
    let parse = |how: &str| how.parse::<al_data::Impute>().map_err(|e| e.to_string());
    let mut default = al_data::Impute::Mean;
    let mut per_column = Vec::new();
    for spec in specs {
        match spec.rsplit_once('=') {
            Some((column, how)) => per_column.push((column.to_string(), parse(how)?)),
            None => default = parse(spec)?,
        }
    }
    Ok((default, per_column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert!(parse_delimiter(";;").is_err());
    }

    #[test]
    fn impute_rules_set_the_default_and_single_columns() {
        let specs = ["median".to_string(), "area=0".to_string()];
        let (default, columns) = impute_rules(&specs).unwrap();
        assert_eq!(default, al_data::Impute::Median);
        assert_eq!(
            columns,
            vec![("area".to_string(), al_data::Impute::Constant(0.0))]
        );
        assert!(impute_rules(&["sometimes".to_string()]).is_err());
    }
}
