//! Decoding compact rows back to raw cells, and the compact space that
//! synthesis may generate rows in.

use super::*;

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
                    } else if n.scientific {
                        // Digits of a mantissa are no grid of the values.
                        0.0
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
                // Not snapped to a grid (`synthesis_dims`), so written in
                // full: the shortest text that reads back as the value.
                ColumnKind::Numeric(n) if n.scientific => format!("{v:e}"),
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
