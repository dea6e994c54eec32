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

//!
//! By concern: the kinds and the stored recipe here; fitting it to a table
//! in `fit.rs`; encoding rows in `encode.rs`; decoding compact rows
//! back to cells, and the space synthesis may use, in `decode.rs`.

mod decode;
mod encode;
mod fit;

pub use decode::SynthDim;
pub use encode::{Cell, EncodeIssue};
pub use fit::{mean_std, z_score, MeanStd};

use serde::{Deserialize, Serialize};

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
    /// Some cell was written in scientific notation (`3.2e-6`): `decimals`
    /// counts the mantissa's digits, synthetic values are not snapped to a
    /// grid of them and are written the same way. Absent in projects made
    /// before it was kept (false).
    #[serde(default)]
    pub scientific: bool,
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

/// The reason a column dropped by name (`--drop`) is kept under.
pub const DROPPED_BY_NAME: &str = "dropped by --drop";
/// The reason a column named an id (`--id-col`) is kept under.
pub const ID_BY_NAME: &str = "id (--id-col)";

impl ColumnRecipe {
    /// The user left the column out of the features by its name (`--drop`,
    /// `--id-col`), as opposed to al finding it empty, constant or distinct
    /// in every row.
    pub fn left_out_by_name(&self) -> bool {
        match &self.kind {
            ColumnKind::Dropped { reason } => reason == DROPPED_BY_NAME,
            ColumnKind::Id { reason } => reason == ID_BY_NAME,
            _ => false,
        }
    }

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

/// A number for people to read: whole numbers in full below 1e15, others
/// to six decimals without trailing zeros, and in scientific notation with
/// up to seven significant digits beyond 1e15 or below 1e-6 (1e200 as
/// `1e200`, not 201 digits; 3.2e-7 as `3.2e-7`, not `0`).
pub fn fmt_num(v: f64) -> String {
    let size = v.abs();
    if v.is_finite() && v != 0.0 && !(1e-6..1e15).contains(&size) {
        let text = format!("{v:.6e}");
        let (mantissa, exponent) = text.split_once('e').expect("{:e} writes an exponent");
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    } else if v.fract() == 0.0 {
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

impl Recipe {
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
}

#[cfg(test)]
mod tests {
    use super::fit::{written_precision, Written};
    use super::*;
    use crate::table::RawTable;
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
    fn cells_near_the_largest_f64_give_a_finite_mean_and_spread_that_round_trip() {
        // 1e200² and a sum of cells near f64::MAX overflow the plain sums.
        let (_f, t) = table(
            "x,w,y\n1.7976931348623157e308,1e200,1\n-1.7976931348623157e308,1,2\n-1.7976931348623157e308,2,3\n",
        );
        let (r, _) = Recipe::fit(&t, &opts("y")).unwrap();
        let spec = |i: usize| match &r.columns[i].kind {
            ColumnKind::Numeric(n) => n.clone(),
            other => panic!("{other:?}"),
        };
        let (x, w) = (spec(0), spec(1));
        // Scaled by the largest magnitude: exact enough to check by hand.
        assert!(
            (x.mean + f64::MAX / 3.0).abs() <= 1e-12 * f64::MAX,
            "{}",
            x.mean
        );
        assert!(
            (x.std - f64::MAX * (8f64 / 9.0).sqrt()).abs() <= 1e-12 * f64::MAX,
            "{}",
            x.std
        );
        assert!((w.mean - 1e200 / 3.0).abs() <= 1e-12 * 1e200, "{}", w.mean);
        assert!(
            (w.std - 1e200 * 2f64.sqrt() / 3.0).abs() <= 1e-12 * 1e200,
            "{}",
            w.std
        );
        assert_eq!(x.fill, x.mean);
        // It survives the JSON the project stores (infinity would be null).
        let back: Recipe = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        // And z-scores where the plain difference overflows (MAX + MAX/3).
        let mut issues = vec![];
        let mut dense = r.expand(&r.encode(&["1.7976931348623157e308", "1e200", ""], &mut issues));
        r.scale_dense(&mut dense);
        assert!((dense[0] - 2f64.sqrt()).abs() < 1e-12, "{dense:?}");
        assert!(dense[1].is_finite(), "{dense:?}");
        // Ordinary cells keep the plain sums' bits.
        let (_g, t) = table("x,y\n0.1,1\n0.2,2\n0.4,3\n");
        let (r, _) = Recipe::fit(&t, &opts("y")).unwrap();
        let ColumnKind::Numeric(n) = &r.columns[0].kind else {
            panic!()
        };
        let mean = (0.1 + 0.2 + 0.4) / 3.0;
        assert_eq!(n.mean, mean);
        let var: f64 = [0.1, 0.2, 0.4]
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / 3.0;
        assert_eq!(n.std, var.sqrt());
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
        let written = |decimals, as_real, scientific| Written {
            decimals,
            as_real,
            scientific,
        };
        assert_eq!(written_precision("3.250"), written(3, true, false));
        assert_eq!(written_precision("1e3"), written(0, true, true));
        assert_eq!(written_precision("12"), written(0, false, false));
        assert_eq!(written_precision(" 3.2E-6 "), written(1, true, true));
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
    fn scientific_columns_are_synthesised_off_any_grid_and_written_in_full() {
        // Snapped to the mantissa's one decimal (a step of 0.1), every
        // synthetic value of this column once became 0.0.
        let (_f, t) = table("c,y\n3.2e-6,1\n1.1e-6,2\n4.7E-6,3\n");
        let (r, _) = Recipe::fit(&t, &opts("y")).unwrap();
        let ColumnKind::Numeric(n) = &r.columns[0].kind else {
            panic!()
        };
        assert!(n.scientific && !n.integer && n.decimals == 1);
        assert!(matches!(r.synthesis_dims()[0], SynthDim::Numeric { step, .. } if step == 0.0));
        let cells = r.decode(&[2.345678e-6], 2);
        assert_eq!(cells, vec!["2.345678e-6", ""]);
        let mut issues = vec![];
        assert_eq!(
            r.encode(&[cells[0].as_str(), ""], &mut issues),
            vec![2.345678e-6]
        );
        // A recipe stored before the flag existed reads as not scientific.
        let mut stored = serde_json::to_value(&r).unwrap();
        let column = stored["columns"][0].as_object_mut().unwrap();
        column.remove("scientific").unwrap();
        let old: Recipe = serde_json::from_value(stored).unwrap();
        assert!(matches!(&old.columns[0].kind, ColumnKind::Numeric(n) if !n.scientific));
    }

    #[test]
    fn numbers_for_people_stay_short_at_every_scale() {
        let cases = [
            (0.0, "0"),
            (-5.0, "-5"),
            (3.25, "3.25"),
            (1.0 / 3.0, "0.333333"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1e15"),
            (1e200, "1e200"),
            (-1.7976931348623157e308, "-1.797693e308"),
            (3.2e-7, "3.2e-7"),
            (0.0000015, "0.000002"),
        ];
        for (v, text) in cases {
            assert_eq!(fmt_num(v), text, "{v}");
        }
    }

    #[test]
    fn impute_parses() {
        assert_eq!("median".parse::<Impute>(), Ok(Impute::Median));
        assert_eq!("0".parse::<Impute>(), Ok(Impute::Constant(0.0)));
        assert_eq!("constant:2.5".parse::<Impute>(), Ok(Impute::Constant(2.5)));
        assert!("mode".parse::<Impute>().is_err());
    }
}
