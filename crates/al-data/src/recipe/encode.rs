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
