//! Encoding: source cells to compact rows, compact rows to dense model
//! input, with the stored recipe only.

use super::fit::is_missing;
use super::*;

impl Recipe {
    /// Encodes one source row (cells in source order) into its compact form,
    /// reporting unseen levels and unparsed numeric cells as `(column, cell)`.
    pub fn encode(&self, cells: &[&str], issues: &mut Vec<EncodeIssue>) -> Vec<f64> {
        self.feature_columns()
            .map(|c| {
                let cell = cells.get(c.source_index).copied().unwrap_or("");
                c.encode_cell(Cell::Text(cell), issues)
            })
            .collect()
    }
}

/// One source cell: text as a file holds it, or a number a typed source
/// (an Arrow column of numbers) already holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    /// NaN or infinite: missing, as an empty or unparsable cell.
    Number(f64),
}

impl ColumnRecipe {
    /// The compact value of one cell of this feature column: a number (NaN
    /// when missing) or a level's code (-1 for a level the recipe has not
    /// seen); cells that do not encode cleanly are reported in `issues`. A
    /// number in a categorical column is read as the text Rust writes it.
    pub fn encode_cell(&self, cell: Cell, issues: &mut Vec<EncodeIssue>) -> f64 {
        let text = match cell {
            Cell::Number(v) => match &self.kind {
                ColumnKind::Categorical(_) => {
                    return self.encode_cell(Cell::Text(&v.to_string()), issues)
                }
                _ => return if v.is_finite() { v } else { f64::NAN },
            },
            Cell::Text(text) => text,
        };
        match &self.kind {
            ColumnKind::Numeric(_) => match parse_number(text) {
                Some(v) => v,
                None => {
                    if !is_missing(text) {
                        issues.push(EncodeIssue::Unparsed {
                            column: self.name.clone(),
                            cell: text.to_string(),
                        });
                    }
                    f64::NAN
                }
            },
            ColumnKind::Categorical(k) => {
                let level = level_of(k, text);
                match k.levels.binary_search_by(|l| l.as_str().cmp(level)) {
                    Ok(i) => i as f64,
                    Err(_) => {
                        issues.push(EncodeIssue::UnseenLevel {
                            column: self.name.clone(),
                            cell: text.to_string(),
                        });
                        -1.0
                    }
                }
            }
            _ => f64::NAN,
        }
    }
}

impl Recipe {
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
                    dense[at] = super::z_score(dense[at], n.mean, std);
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
