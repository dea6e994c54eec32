//! Fitting the recipe to a table at `init`: each column's kind, fill
//! values, scale, precision and levels.

use std::collections::HashMap;

use rayon::prelude::*;

use super::*;
use crate::error::{DataError, Result};
use crate::table::{RawTable, SourceKind};

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
                // The target is never a feature: dropping it, or treating it
                // as an id or a category, was ignored without a word.
                if index(n, what)? == target && what != "--numeric" {
                    return Err(DataError::Usage(format!(
                        "{what} {n:?} names the target column; the target is what is learned, so it cannot be {} (choose another --target, or leave {n:?} out of {what})",
                        match what {
                            "--drop" => "dropped",
                            "--id-col" => "an id",
                            _ => "a category",
                        }
                    )));
                }
            }
        }
        for (n, _) in &opts.impute {
            if index(n, "--impute")? == target {
                return Err(DataError::Usage(format!(
                    "--impute {n:?} names the target column; an empty target leaves its row unlabeled, it is never filled"
                )));
            }
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
}

pub(super) fn is_missing(cell: &str) -> bool {
    cell.trim().is_empty()
}

/// Digits after the decimal point as written, ignoring an exponent.
/// How a numeric cell was written: its digits after the point (of the
/// mantissa, for `3.2e-6`), whether as a real (a point or an exponent),
/// and whether in scientific notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Written {
    pub decimals: u32,
    pub as_real: bool,
    pub scientific: bool,
}

pub(super) fn written_precision(cell: &str) -> Written {
    let t = cell.trim();
    let mantissa = t.split(['e', 'E']).next().unwrap_or(t);
    let scientific = mantissa.len() != t.len();
    match mantissa.find('.') {
        Some(dot) => Written {
            decimals: (mantissa.len() - dot - 1) as u32,
            as_real: true,
            scientific,
        },
        None => Written {
            decimals: 0,
            as_real: scientific,
            scientific,
        },
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
            reason: super::DROPPED_BY_NAME.into(),
        };
        return (recipe, notices);
    }
    if named(&opts.id_cols) {
        recipe.kind = ColumnKind::Id {
            reason: super::ID_BY_NAME.into(),
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
        match table.source_kind(col) {
            SourceKind::Number => true,
            SourceKind::Text => false,
            SourceKind::Untyped => s.parsed as f64 >= opts.numeric_threshold * s.non_empty as f64,
        }
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
    let mut scientific = false;
    let mut unparsed = 0u64;
    let mut examples: Vec<String> = Vec::new();
    for cell in table.column(col) {
        if is_missing(cell) {
            continue;
        }
        match parse_number(cell) {
            Some(v) => {
                let written = written_precision(cell);
                decimals = decimals.max(written.decimals);
                integer &= !written.as_real && v.fract() == 0.0;
                scientific |= written.scientific;
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
    let MeanStd { mean, std } = mean_std(&values);
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
        std,
        min,
        max,
        decimals,
        integer,
        scientific,
        missing_indicator: opts.missing_indicators && recipe.missing > 0,
    });
}

/// A column's mean and standard deviation (population).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

/// The plain two-pass sums, the same bits as ever for ordinary data; when
/// they overflow (cells beyond about 1e154 square past the largest f64,
/// and a sum of cells near it passes it), the same sums over the cells
/// divided by the largest magnitude, scaled back: both are finite for any
/// finite cells, so the recipe always stores numbers (JSON has no
/// infinity; an infinite mean or spread made the project unreadable).
/// `al_models::metrics::mean_std` is the same rule for the models' own
/// scaling (neither crate depends on the other).
pub fn mean_std(values: &[f64]) -> MeanStd {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if mean.is_finite() && var.is_finite() || values.iter().any(|v| !v.is_finite()) {
        return MeanStd {
            mean,
            std: var.sqrt(),
        };
    }
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let unit_mean = values.iter().map(|v| v / scale).sum::<f64>() / n;
    let unit_var = values
        .iter()
        .map(|v| (v / scale - unit_mean) * (v / scale - unit_mean))
        .sum::<f64>()
        / n;
    MeanStd {
        mean: unit_mean * scale,
        std: unit_var.sqrt() * scale,
    }
}

/// `(value − mean) / std`, the recipe's z-score. Cells near the largest
/// f64 can overflow the difference; divided first, they cannot.
pub fn z_score(value: f64, mean: f64, std: f64) -> f64 {
    let z = (value - mean) / std;
    if z.is_finite() || !value.is_finite() {
        z
    } else {
        value / std - mean / std
    }
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
