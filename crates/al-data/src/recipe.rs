//! The recipe: how raw text cells become a numeric feature vector.
//!
//! It is fitted once, at `init`, and stored in the project; every later
//! encoding (rows added in another session, synthetic rows decoded back) uses
//! the stored recipe and nothing else, so features mean the same thing forever.
//!
//! Rows are stored *compact*: one value per feature column, the parsed number
//! (NaN when missing) or the categorical level's index (-1 when unseen).
//! [`Recipe::expand`] turns that into the dense model input: imputed numerics,
//! optional 0/1 missing indicators, and one 0/1 column per categorical level.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::table::RawTable;

pub const MISSING_LEVEL: &str = "__missing__";
pub const OTHER_LEVEL: &str = "__other__";

/// How missing numeric cells are filled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    Mean,
    Median,
    Constant(f64),
}

impl std::str::FromStr for Impute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "mean" => Ok(Impute::Mean),
            "median" => Ok(Impute::Median),
            other => {
                let number = other.strip_prefix("constant:").unwrap_or(other);
                match parse_number(number) {
                    Some(v) => Ok(Impute::Constant(v)),
                    None => Err(format!(
                        "unknown imputation {other:?}: use mean, median or a number"
                    )),
                }
            }
        }
    }
}

impl std::fmt::Display for Impute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Impute::Mean => write!(f, "mean"),
            Impute::Median => write!(f, "median"),
            Impute::Constant(_) => write!(f, "constant"),
        }
    }
}

/// What a source column is and, for features, how it is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric(NumericSpec),
    Categorical(CategoricalSpec),
    Target,
    /// Kept in the raw rows, left out of the features.
    Id {
        reason: String,
    },
    Dropped {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSpec {
    pub impute: Impute,
    /// The value missing cells take.
    pub fill: f64,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// Most digits after the decimal point seen in a parsed cell.
    pub decimals: u32,
    /// Every parsed cell was an integer written without a decimal point.
    pub integer: bool,
    pub missing_indicator: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSpec {
    /// Sorted; includes `__missing__` and `__other__` when they occur.
    pub levels: Vec<String>,
    /// Rare values pooled into `__other__` (beyond `max_levels`).
    pub pooled: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnRecipe {
    pub name: String,
    /// Position in the source file's header.
    pub source_index: usize,
    /// Empty cells plus cells that could not be parsed as numbers.
    pub missing: u64,
    /// Non-empty cells that did not parse in a numeric column.
    pub unparsed: u64,
    /// A few of those cells, for the notice.
    pub unparsed_examples: Vec<String>,
    #[serde(flatten)]
    pub kind: ColumnKind,
}

impl ColumnRecipe {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ColumnKind::Numeric(_) => "numeric",
            ColumnKind::Categorical(_) => "categorical",
            ColumnKind::Target => "target",
            ColumnKind::Id { .. } => "id",
            ColumnKind::Dropped { .. } => "dropped",
        }
    }

    /// Imputation or encoding, in words, for `status`.
    pub fn treatment(&self) -> String {
        match &self.kind {
            ColumnKind::Numeric(n) => {
                let mut s = format!("{} = {}", n.impute, fmt_num(n.fill));
                if n.missing_indicator {
                    s.push_str(" + indicator");
                }
                s
            }
            ColumnKind::Categorical(c) => format!("one-hot, {} levels", c.levels.len()),
            ColumnKind::Target => "label".into(),
            ColumnKind::Id { reason } | ColumnKind::Dropped { reason } => reason.clone(),
        }
    }
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{:.6}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Settings that shape the recipe at `init`.
#[derive(Debug, Clone)]
pub struct RecipeOptions {
    pub target: String,
    pub numeric_threshold: f64,
    pub categorical: Vec<String>,
    pub numeric: Vec<String>,
    pub drop: Vec<String>,
    pub id_cols: Vec<String>,
    pub impute_default: Impute,
    pub impute: Vec<(String, Impute)>,
    pub missing_indicators: bool,
    pub max_levels: usize,
}

impl Default for RecipeOptions {
    fn default() -> Self {
        RecipeOptions {
            target: String::new(),
            numeric_threshold: 0.9,
            categorical: vec![],
            numeric: vec![],
            drop: vec![],
            id_cols: vec![],
            impute_default: Impute::Mean,
            impute: vec![],
            missing_indicators: false,
            max_levels: 50,
        }
    }
}

/// The stored recipe: one entry per source column, in source order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub columns: Vec<ColumnRecipe>,
    pub target: String,
    pub numeric_threshold: f64,
    pub max_levels: usize,
}

/// Parses a cell as a finite number; surrounding spaces are allowed.
pub fn parse_number(cell: &str) -> Option<f64> {
    let t = cell.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn is_missing(cell: &str) -> bool {
    cell.trim().is_empty()
}

/// Digits after the decimal point as written, ignoring an exponent.
fn decimals_of(cell: &str) -> (u32, bool) {
    let t = cell.trim();
    let mantissa = t.split(['e', 'E']).next().unwrap_or(t);
    let has_exp = mantissa.len() != t.len();
    match mantissa.find('.') {
        Some(dot) => ((mantissa.len() - dot - 1) as u32, true),
        None => (0, has_exp),
    }
}

/// Per-column counts from one cheap pass over the cells.
struct ColumnScan {
    non_empty: u64,
    parsed: u64,
}

fn scan(table: &RawTable, col: usize) -> ColumnScan {
    let mut s = ColumnScan {
        non_empty: 0,
        parsed: 0,
    };
    for cell in table.column(col) {
        if !is_missing(cell) {
            s.non_empty += 1;
            s.parsed += u64::from(parse_number(cell).is_some());
        }
    }
    s
}

/// How often each distinct (trimmed) non-empty value occurs. Only run for
/// columns that are not numeric: counting a million distinct numbers as
/// strings cost most of `init`'s time on the benchmark file.
fn value_counts(table: &RawTable, col: usize) -> HashMap<&str, u64> {
    let mut counts = HashMap::new();
    for cell in table.column(col) {
        if !is_missing(cell) {
            *counts.entry(cell.trim()).or_insert(0) += 1;
        }
    }
    counts
}

impl Recipe {
    /// Decides each column's kind and fits imputation, scaling and levels.
    /// Returns the recipe and notices for the user.
    pub fn fit(table: &RawTable, opts: &RecipeOptions) -> Result<(Recipe, Vec<String>)> {
        let usage = |what: &str, name: &str| {
            DataError::Usage(format!(
                "{what} {name:?} is not a column of {}; its columns are: {}",
                table.path.display(),
                table.headers.join(", ")
            ))
        };
        let index =
            |name: &str, what: &str| table.column_index(name).ok_or_else(|| usage(what, name));
        let target = index(&opts.target, "--target")?;
        for (what, names) in [
            ("--categorical", &opts.categorical),
            ("--numeric", &opts.numeric),
            ("--drop", &opts.drop),
            ("--id-col", &opts.id_cols),
        ] {
            for n in names {
                index(n, what)?;
            }
        }
        for (n, _) in &opts.impute {
            index(n, "--impute")?;
        }
        if !(0.0..=1.0).contains(&opts.numeric_threshold) {
            return Err(DataError::Usage(format!(
                "--numeric-threshold must be a fraction between 0 and 1, not {}",
                opts.numeric_threshold
            )));
        }

        let columns: Vec<(ColumnRecipe, Vec<String>)> = (0..table.n_cols())
            .into_par_iter()
            .map(|c| fit_column(table, c, c == target, opts))
            .collect();
        let mut notices = Vec::new();
        let mut recipe_columns = Vec::with_capacity(columns.len());
        for (column, mut column_notices) in columns {
            notices.append(&mut column_notices);
            recipe_columns.push(column);
        }
        let recipe = Recipe {
            columns: recipe_columns,
            target: opts.target.clone(),
            numeric_threshold: opts.numeric_threshold,
            max_levels: opts.max_levels,
        };
        if recipe.n_features() == 0 {
            return Err(DataError::input(
                &table.path,
                "no feature column is left after dropping id, constant and empty columns; check --drop and --id-col",
            ));
        }
        Ok((recipe, notices))
    }

    pub fn target_index(&self) -> usize {
        self.columns
            .iter()
            .find(|c| matches!(c.kind, ColumnKind::Target))
            .map(|c| c.source_index)
            .unwrap_or(0)
    }

    /// The feature columns in encoding order.
    pub fn feature_columns(&self) -> impl Iterator<Item = &ColumnRecipe> {
        self.columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnKind::Numeric(_) | ColumnKind::Categorical(_)))
    }

    /// Length of a compact row.
    pub fn compact_width(&self) -> usize {
        self.feature_columns().count()
    }

    /// Length of a dense (model input) row.
    pub fn n_features(&self) -> usize {
        self.feature_columns()
            .map(|c| match &c.kind {
                ColumnKind::Numeric(n) => 1 + usize::from(n.missing_indicator),
                ColumnKind::Categorical(k) => k.levels.len(),
                _ => 0,
            })
            .sum()
    }

    /// Names of the dense features: `col`, `col__missing`, `col=level`.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_features());
        for c in self.feature_columns() {
            match &c.kind {
                ColumnKind::Numeric(n) => {
                    names.push(c.name.clone());
                    if n.missing_indicator {
                        names.push(format!("{}__missing", c.name));
                    }
                }
                ColumnKind::Categorical(k) => {
                    names.extend(k.levels.iter().map(|l| format!("{}={l}", c.name)));
                }
                _ => {}
            }
        }
        names
    }

    /// Encodes one source row (cells in source order) into its compact form,
    /// reporting unseen levels and unparsed numeric cells as `(column, cell)`.
    pub fn encode(&self, cells: &[&str], issues: &mut Vec<EncodeIssue>) -> Vec<f64> {
        self.feature_columns()
            .map(|c| {
                let cell = cells.get(c.source_index).copied().unwrap_or("");
                match &c.kind {
                    ColumnKind::Numeric(_) => match parse_number(cell) {
                        Some(v) => v,
                        None => {
                            if !is_missing(cell) {
                                issues.push(EncodeIssue::Unparsed {
                                    column: c.name.clone(),
                                    cell: cell.to_string(),
                                });
                            }
                            f64::NAN
                        }
                    },
                    ColumnKind::Categorical(k) => {
                        let level = level_of(k, cell);
                        match k.levels.binary_search_by(|l| l.as_str().cmp(level)) {
                            Ok(i) => i as f64,
                            Err(_) => {
                                issues.push(EncodeIssue::UnseenLevel {
                                    column: c.name.clone(),
                                    cell: cell.to_string(),
                                });
                                -1.0
                            }
                        }
                    }
                    _ => f64::NAN,
                }
            })
            .collect()
    }

    /// Appends the dense features of a compact row to `out`.
    pub fn expand_into(&self, compact: &[f64], out: &mut Vec<f64>) {
        for (c, &v) in self.feature_columns().zip(compact) {
            match &c.kind {
                ColumnKind::Numeric(n) => {
                    out.push(if v.is_nan() { n.fill } else { v });
                    if n.missing_indicator {
                        out.push(if v.is_nan() { 1.0 } else { 0.0 });
                    }
                }
                ColumnKind::Categorical(k) => {
                    let start = out.len();
                    out.resize(start + k.levels.len(), 0.0);
                    if v >= 0.0 && (v as usize) < k.levels.len() {
                        out[start + v as usize] = 1.0;
                    }
                }
                _ => {}
            }
        }
    }

    /// Z-scores the numeric columns of a dense row in place (indicators and
    /// one-hot columns stay 0/1), as distance-based strategies need.
    pub fn scale_dense(&self, dense: &mut [f64]) {
        let mut at = 0;
        for c in self.feature_columns() {
            match &c.kind {
                ColumnKind::Numeric(n) => {
                    let std = if n.std > 1e-12 { n.std } else { 1.0 };
                    dense[at] = (dense[at] - n.mean) / std;
                    at += 1 + usize::from(n.missing_indicator);
                }
                ColumnKind::Categorical(k) => at += k.levels.len(),
                _ => {}
            }
        }
    }

    pub fn expand(&self, compact: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.n_features());
        self.expand_into(compact, &mut out);
        out
    }
}

/// What synthesis may do with one compact column.
#[derive(Debug, Clone, PartialEq)]
pub enum SynthDim {
    Numeric {
        min: f64,
        max: f64,
        std: f64,
        step: f64,
        fill: f64,
    },
    /// Level indices a synthetic row may take (real levels, not the
    /// `__missing__` / `__other__` buckets, unless they are all there is).
    Categorical { allowed: Vec<usize> },
}

impl Recipe {
    /// The compact columns, for generating synthetic rows inside the data.
    pub fn synthesis_dims(&self) -> Vec<SynthDim> {
        self.feature_columns()
            .map(|c| match &c.kind {
                ColumnKind::Numeric(n) => SynthDim::Numeric {
                    min: n.min,
                    max: n.max,
                    std: n.std,
                    step: if n.integer {
                        1.0
                    } else {
                        10f64.powi(-(n.decimals.min(12) as i32))
                    },
                    fill: n.fill,
                },
                ColumnKind::Categorical(k) => {
                    let real: Vec<usize> = (0..k.levels.len())
                        .filter(|&i| k.levels[i] != MISSING_LEVEL && k.levels[i] != OTHER_LEVEL)
                        .collect();
                    SynthDim::Categorical {
                        allowed: if real.is_empty() {
                            (0..k.levels.len()).collect()
                        } else {
                            real
                        },
                    }
                }
                _ => SynthDim::Categorical { allowed: vec![0] },
            })
            .collect()
    }

    /// Raw cells (source order, `width` columns) for a compact row: numbers
    /// at the column's observed precision, categories by level name; id,
    /// dropped and target columns are left empty.
    pub fn decode(&self, compact: &[f64], width: usize) -> Vec<String> {
        let mut cells = vec![String::new(); width];
        for (c, &v) in self.feature_columns().zip(compact) {
            let Some(cell) = cells.get_mut(c.source_index) else {
                continue;
            };
            *cell = match &c.kind {
                ColumnKind::Numeric(_) if v.is_nan() => String::new(),
                ColumnKind::Numeric(n) if n.integer => format!("{v:.0}"),
                ColumnKind::Numeric(n) => format!("{v:.*}", n.decimals.min(12) as usize),
                ColumnKind::Categorical(k) => {
                    match k.levels.get(v.max(0.0) as usize).map(String::as_str) {
                        Some(MISSING_LEVEL) | None => String::new(),
                        Some(OTHER_LEVEL) => k.pooled.first().cloned().unwrap_or_default(),
                        Some(level) => level.to_string(),
                    }
                }
                _ => String::new(),
            };
        }
        cells
    }
}

/// A cell that did not encode cleanly.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodeIssue {
    UnseenLevel { column: String, cell: String },
    Unparsed { column: String, cell: String },
}

impl std::fmt::Display for EncodeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeIssue::UnseenLevel { column, cell } => write!(
                f,
                "column {column:?}: level {cell:?} was not seen at init; encoded as all zeros"
            ),
            EncodeIssue::Unparsed { column, cell } => write!(
                f,
                "column {column:?}: {cell:?} is not a number; treated as missing"
            ),
        }
    }
}

fn level_of<'a>(spec: &'a CategoricalSpec, cell: &'a str) -> &'a str {
    let t = cell.trim();
    if t.is_empty() {
        MISSING_LEVEL
    } else if spec.pooled.binary_search_by(|p| p.as_str().cmp(t)).is_ok() {
        OTHER_LEVEL
    } else {
        t
    }
}

fn fit_column(
    table: &RawTable,
    col: usize,
    is_target: bool,
    opts: &RecipeOptions,
) -> (ColumnRecipe, Vec<String>) {
    let name = table.headers[col].clone();
    let mut notices = Vec::new();
    let named = |list: &[String]| list.contains(&name);
    let mut recipe = ColumnRecipe {
        name: name.clone(),
        source_index: col,
        missing: 0,
        unparsed: 0,
        unparsed_examples: vec![],
        kind: ColumnKind::Target,
    };
    let rows = table.n_rows() as u64;
    if is_target {
        recipe.missing = table.column(col).filter(|c| is_missing(c)).count() as u64;
        return (recipe, notices);
    }
    if named(&opts.drop) {
        recipe.kind = ColumnKind::Dropped {
            reason: "dropped by --drop".into(),
        };
        return (recipe, notices);
    }
    if named(&opts.id_cols) {
        recipe.kind = ColumnKind::Id {
            reason: "id (--id-col)".into(),
        };
        return (recipe, notices);
    }
    let s = scan(table, col);
    recipe.missing = rows - s.non_empty;
    if s.non_empty == 0 {
        notices.push(format!("column {name:?} is entirely empty; dropped"));
        recipe.kind = ColumnKind::Dropped {
            reason: "entirely empty".into(),
        };
        return (recipe, notices);
    }
    let numeric = if named(&opts.numeric) {
        true
    } else if named(&opts.categorical) {
        false
    } else {
        s.parsed as f64 >= opts.numeric_threshold * s.non_empty as f64
    };
    if numeric {
        fit_numeric(table, col, opts, &mut recipe, &mut notices);
        return (recipe, notices);
    }
    let counts = value_counts(table, col);
    let every_value_distinct = counts.len() as u64 == rows && rows > 1;
    if every_value_distinct && s.parsed < s.non_empty && !named(&opts.categorical) {
        notices.push(format!(
            "column {name:?} has a different text in every row; treated as an id (kept in the raw rows, not a feature; --categorical {name} overrides)"
        ));
        recipe.kind = ColumnKind::Id {
            reason: "id (every value distinct)".into(),
        };
        return (recipe, notices);
    }
    let distinct = counts.len() + usize::from(recipe.missing > 0);
    if distinct <= 1 {
        notices.push(format!("column {name:?} is constant; dropped"));
        recipe.kind = ColumnKind::Dropped {
            reason: "constant".into(),
        };
        return (recipe, notices);
    }
    recipe.kind = ColumnKind::Categorical(fit_levels(
        &name,
        counts,
        recipe.missing,
        opts,
        &mut notices,
    ));
    (recipe, notices)
}

fn fit_levels(
    name: &str,
    counts: HashMap<&str, u64>,
    missing: u64,
    opts: &RecipeOptions,
    notices: &mut Vec<String>,
) -> CategoricalSpec {
    let mut by_frequency: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(v, c)| (v.to_string(), c))
        .collect();
    by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keep = opts.max_levels.max(1);
    let mut pooled: Vec<String> = if by_frequency.len() > keep {
        by_frequency
            .split_off(keep)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    } else {
        vec![]
    };
    let mut levels: Vec<String> = by_frequency.into_iter().map(|(l, _)| l).collect();
    if !pooled.is_empty() {
        notices.push(format!(
            "column {name:?}: {} rare level(s) beyond --max-levels {keep} pooled into {OTHER_LEVEL}",
            pooled.len()
        ));
        levels.push(OTHER_LEVEL.into());
    }
    if missing > 0 {
        levels.push(MISSING_LEVEL.into());
    }
    levels.sort();
    pooled.sort();
    CategoricalSpec { levels, pooled }
}

fn fit_numeric(
    table: &RawTable,
    col: usize,
    opts: &RecipeOptions,
    recipe: &mut ColumnRecipe,
    notices: &mut Vec<String>,
) {
    let mut values = Vec::with_capacity(table.n_rows());
    let mut decimals = 0u32;
    let mut integer = true;
    let mut unparsed = 0u64;
    let mut examples: Vec<String> = Vec::new();
    for cell in table.column(col) {
        if is_missing(cell) {
            continue;
        }
        match parse_number(cell) {
            Some(v) => {
                let (d, written_as_real) = decimals_of(cell);
                decimals = decimals.max(d);
                integer &= !written_as_real && v.fract() == 0.0;
                values.push(v);
            }
            None => {
                unparsed += 1;
                let t = cell.trim();
                if examples.len() < 5 && !examples.iter().any(|e| e == t) {
                    examples.push(t.to_string());
                }
            }
        }
    }
    let name = &recipe.name;
    recipe.unparsed = unparsed;
    recipe.missing += unparsed;
    recipe.unparsed_examples = examples;
    if unparsed > 0 {
        notices.push(format!(
            "column {name:?}: {unparsed} non-numeric cell(s) such as {:?} treated as missing",
            recipe.unparsed_examples
        ));
    }
    if values.is_empty() {
        notices.push(format!("column {name:?} has no numeric cell; dropped"));
        recipe.kind = ColumnKind::Dropped {
            reason: "no numeric cell".into(),
        };
        return;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if min == max {
        notices.push(format!(
            "column {name:?} is constant ({}); dropped",
            fmt_num(min)
        ));
        recipe.kind = ColumnKind::Dropped {
            reason: "constant".into(),
        };
        return;
    }
    let impute = opts
        .impute
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, i)| *i)
        .unwrap_or(opts.impute_default);
    let fill = match impute {
        Impute::Mean => mean,
        Impute::Median => median(&mut values),
        Impute::Constant(v) => v,
    };
    recipe.kind = ColumnKind::Numeric(NumericSpec {
        impute,
        fill,
        mean,
        std: var.sqrt(),
        min,
        max,
        decimals,
        integer,
        missing_indicator: opts.missing_indicators && recipe.missing > 0,
    });
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{read_table, ReadOptions};
    use std::io::Write;

    fn table(text: &str) -> (tempfile::NamedTempFile, RawTable) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let t = read_table(f.path(), &ReadOptions::default()).unwrap();
        (f, t)
    }

    fn opts(target: &str) -> RecipeOptions {
        RecipeOptions {
            target: target.into(),
            ..Default::default()
        }
    }

    #[test]
    fn numeric_with_stray_letters_is_numeric_and_counts_them() {
        let mut text = String::from("loc,y\n");
        for i in 0..18 {
            text.push_str(&format!("{i},1\n"));
        }
        text.push_str("S,1\nT,2\n");
        let (_f, t) = table(&text);
        let (r, notices) = Recipe::fit(&t, &opts("y")).unwrap();
        let loc = &r.columns[0];
        assert_eq!(loc.kind_name(), "numeric");
        assert_eq!(loc.unparsed, 2);
        assert_eq!(loc.missing, 2);
        let ColumnKind::Numeric(n) = &loc.kind else {
            unreachable!()
        };
        assert_eq!(n.fill, 8.5);
        assert!(n.integer);
        assert!(notices.iter().any(|n| n.contains("\"S\"")));
    }

    #[test]
    fn categorical_levels_sorted_with_missing_and_one_hot() {
        let (_f, t) = table("dow,x,y\nMon,1,1\nTue,2,\n,3,2\nMon,4,1\n");
        let (r, _) = Recipe::fit(&t, &opts("y")).unwrap();
        let ColumnKind::Categorical(c) = &r.columns[0].kind else {
            panic!()
        };
        assert_eq!(c.levels, vec!["Mon", "Tue", "__missing__"]);
        assert_eq!(
            r.feature_names(),
            vec!["dow=Mon", "dow=Tue", "dow=__missing__", "x"]
        );
        let mut issues = vec![];
        let compact = r.encode(&["Tue", "7", ""], &mut issues);
        assert_eq!(r.expand(&compact), vec![0.0, 1.0, 0.0, 7.0]);
        let compact = r.encode(&["Sun", "", ""], &mut issues);
        assert_eq!(r.expand(&compact), vec![0.0, 0.0, 0.0, 2.5]);
        assert_eq!(issues.len(), 1);
    }

    #[test]
    fn max_levels_pools_rare_values() {
        let (_f, t) = table("c,x,y\na,1,1\na,2,1\nb,3,1\nb,4,1\nc,5,1\nd,6,1\n");
        let o = RecipeOptions {
            max_levels: 2,
            ..opts("y")
        };
        let (r, _) = Recipe::fit(&t, &o).unwrap();
        let ColumnKind::Categorical(c) = &r.columns[0].kind else {
            panic!()
        };
        assert_eq!(c.levels, vec!["__other__", "a", "b"]);
        assert_eq!(c.pooled, vec!["c", "d"]);
        let mut issues = vec![];
        let compact = r.encode(&["d", "1", ""], &mut issues);
        assert_eq!(r.expand(&compact)[..3], [1.0, 0.0, 0.0]);
        assert!(issues.is_empty());
    }

    #[test]
    fn id_constant_and_empty_columns_leave_the_features() {
        let (_f, t) = table("name,k,e,x,y\nann,1,,1,1\nbob,1,,2,2\ncid,1,,3,\n");
        let (r, notices) = Recipe::fit(&t, &opts("y")).unwrap();
        let kinds: Vec<_> = r.columns.iter().map(|c| c.kind_name()).collect();
        assert_eq!(kinds, vec!["id", "dropped", "dropped", "numeric", "target"]);
        assert_eq!(notices.len(), 3);
        assert_eq!(r.n_features(), 1);
    }

    #[test]
    fn median_and_constant_imputation_and_indicators() {
        let (_f, t) = table("a,b,y\n1,1,1\n2,,1\n10,3,1\n,4,1\n");
        let o = RecipeOptions {
            impute: vec![
                ("a".into(), Impute::Median),
                ("b".into(), Impute::Constant(-1.0)),
            ],
            missing_indicators: true,
            ..opts("y")
        };
        let (r, _) = Recipe::fit(&t, &o).unwrap();
        assert_eq!(
            r.feature_names(),
            vec!["a", "a__missing", "b", "b__missing"]
        );
        let mut issues = vec![];
        let compact = r.encode(&["", "", ""], &mut issues);
        assert_eq!(r.expand(&compact), vec![2.0, 1.0, -1.0, 1.0]);
    }

    #[test]
    fn decimals_and_scientific_notation() {
        assert_eq!(decimals_of("3.250"), (3, true));
        assert_eq!(decimals_of("1e3"), (0, true));
        assert_eq!(decimals_of("12"), (0, false));
        assert_eq!(parse_number(" 1.5e2 "), Some(150.0));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
    }

    #[test]
    fn decoded_rows_re_encode_to_the_same_features() {
        let (_f, t) = table("dow,x,n,y\nMon,1.25,3,1\nTue,2.50,4,\n,3.75,5,2\n");
        let (r, _) = Recipe::fit(&t, &opts("y")).unwrap();
        // A synthetic point on the columns' grids: x has 2 decimals, n is integer.
        for compact in [vec![1.0, 2.37, 4.0], vec![0.0, 1.25, 3.0]] {
            let cells = r.decode(&compact, 4);
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            let mut issues = vec![];
            assert_eq!(r.encode(&refs, &mut issues), compact, "{cells:?}");
            assert!(issues.is_empty());
            assert_eq!(cells[3], "", "the target stays empty");
        }
        assert_eq!(r.decode(&[1.0, 2.37, 4.0], 4), vec!["Tue", "2.37", "4", ""]);
        let dims = r.synthesis_dims();
        assert_eq!(
            dims[0],
            SynthDim::Categorical {
                allowed: vec![0, 1]
            }
        );
        assert!(matches!(dims[2], SynthDim::Numeric { step, .. } if step == 1.0));
    }

    #[test]
    fn impute_parses() {
        assert_eq!("median".parse::<Impute>(), Ok(Impute::Median));
        assert_eq!("0".parse::<Impute>(), Ok(Impute::Constant(0.0)));
        assert_eq!("constant:2.5".parse::<Impute>(), Ok(Impute::Constant(2.5)));
        assert!("mode".parse::<Impute>().is_err());
    }
}
