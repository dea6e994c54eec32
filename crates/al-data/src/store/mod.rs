//! Reading rows for models and recording rounds, labels and reports, by
//! concern: loading rows here; rounds, reports and simulations in
//! `rounds.rs`; labels and their history in `labels.rs`; adding and
//! exporting rows in `rows.rs`.

pub mod chunks;
mod labels;
mod rounds;
mod rows;

pub use labels::*;
pub use rounds::*;
pub use rows::*;

use rusqlite::OptionalExtension;

use crate::error::{sql, DataError, Result};
use crate::project::Project;
pub use crate::project::{set_default_model, set_meta};

/// The optional bounds labels must respect (`init --min/--max`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    pub fn is_set(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    /// A finite number within the bounds.
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }

    /// A label value the project accepts, or why not.
    pub fn check(&self, v: f64) -> std::result::Result<(), String> {
        if !v.is_finite() {
            return Err("not a finite number".into());
        }
        if !self.contains(v) {
            return Err(format!("outside the project's bounds {self}"));
        }
        Ok(())
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}, {}]",
            self.min.map_or("-inf".into(), |v| v.to_string()),
            self.max.map_or("inf".into(), |v| v.to_string())
        )
    }
}

/// Which rows to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// Labeled, not held out: what models train on.
    Training,
    /// Held out for evaluation.
    Test,
    /// Unlabeled rows not out in a pending batch.
    Pool,
    /// Unlabeled rows, pending or not.
    PoolWithPending,
    /// Every row.
    All,
}

impl Subset {
    fn condition(self) -> &'static str {
        match self {
            Subset::Training => "r.label IS NOT NULL AND r.is_test = 0",
            Subset::Test => "r.is_test = 1",
            Subset::Pool => {
                "r.label IS NULL AND r.is_test = 0 AND r.row_id NOT IN (SELECT row_id FROM queries)"
            }
            Subset::PoolWithPending => "r.label IS NULL AND r.is_test = 0",
            Subset::All => "1",
        }
    }
}

/// Rows in row-id order with dense features, ready for a model.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub row_ids: Vec<i64>,
    /// Row-major, `width` values per row.
    pub features: Vec<f64>,
    pub width: usize,
    pub labels: Vec<Option<f64>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.row_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_ids.is_empty()
    }

    /// Known labels; rows without one are skipped.
    pub fn targets(&self) -> Vec<f64> {
        self.labels.iter().flatten().copied().collect()
    }
}

/// Rows in row-id order with their compact features (one value per feature
/// column, categories as codes): an eighth to a quarter of the dense width
/// when there are one-hot columns. Expand a row with
/// [`crate::Recipe::expand_into`].
#[derive(Debug, Clone, Default)]
pub struct CompactRows {
    pub row_ids: Vec<i64>,
    pub labels: Vec<Option<f64>>,
    /// Row-major, `width` values per row.
    pub values: Vec<f64>,
    /// The recipe's compact width.
    pub width: usize,
}

impl CompactRows {
    pub fn len(&self) -> usize {
        self.row_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_ids.is_empty()
    }

    /// Row `i`'s compact features.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// Dense features by the recipe (one-hot, imputed); `scaled` also
    /// z-scores the numeric columns.
    pub fn expand(self, recipe: &crate::Recipe, scaled: bool) -> Rows {
        let width = recipe.n_features();
        let mut features = Vec::with_capacity(self.len() * width);
        for i in 0..self.len() {
            let start = features.len();
            recipe.expand_into(self.row(i), &mut features);
            if scaled {
                recipe.scale_dense(&mut features[start..]);
            }
        }
        Rows {
            row_ids: self.row_ids,
            features,
            width,
            labels: self.labels,
        }
    }
}

/// A row of a subset: where its features are and what its label is.
struct Member {
    row_id: i64,
    slot: i64,
    label: Option<f64>,
}

impl Project {
    /// Loads rows with dense features; `scaled` z-scores numeric columns
    /// with the recipe's mean and std (for distance-based strategies).
    pub fn load(&self, subset: Subset, scaled: bool) -> Result<Rows> {
        Ok(self
            .load_compact_rows(subset)?
            .expand(&self.recipe()?, scaled))
    }

    /// Loads rows with their compact features, reading only the feature
    /// chunks that hold rows of the subset, one chunk at a time.
    pub fn load_compact_rows(&self, subset: Subset) -> Result<CompactRows> {
        let [rows] = self.load_compact_subsets([subset])?;
        Ok(rows)
    }

    /// Several subsets (say the training rows and the pool) in one pass over
    /// the feature chunks: each chunk is read once, whichever subsets have
    /// rows in it.
    pub fn load_compact_subsets<const N: usize>(
        &self,
        subsets: [Subset; N],
    ) -> Result<[CompactRows; N]> {
        let width = self.recipe()?.compact_width();
        let mut out: [CompactRows; N] = std::array::from_fn(|_| CompactRows {
            width,
            ..CompactRows::default()
        });
        // Every wanted row, tagged with its subset, in slot order.
        let mut wanted: Vec<(usize, Member)> = Vec::new();
        for (k, subset) in subsets.iter().enumerate() {
            let members = self.members(*subset)?;
            out[k].values.reserve(members.len() * width);
            wanted.extend(members.into_iter().map(|m| (k, m)));
        }
        wanted.sort_by_key(|(_, m)| m.slot);
        let mut at = 0;
        while at < wanted.len() {
            let chunk = wanted[at].1.slot as usize / chunks::CHUNK_ROWS;
            let read = chunks::read_chunk(self.conn(), chunk, width)?;
            let base = chunk * chunks::CHUNK_ROWS;
            while at < wanted.len() && wanted[at].1.slot as usize / chunks::CHUNK_ROWS == chunk {
                let (k, m) = &wanted[at];
                let offset = m.slot as usize - base;
                if offset >= read.len() {
                    return Err(DataError::Usage(format!(
                        "the project file has no features for row {} (slot {}); restore the file from a copy",
                        m.row_id, m.slot
                    )));
                }
                let rows = &mut out[*k];
                rows.values.extend(read.columns.iter().map(|c| c[offset]));
                rows.row_ids.push(m.row_id);
                rows.labels.push(m.label);
                at += 1;
            }
        }
        Ok(out)
    }

    /// The subset's rows in row-id order.
    fn members(&self, subset: Subset) -> Result<Vec<Member>> {
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT r.row_id, r.slot, r.label FROM rows r WHERE {} ORDER BY r.row_id",
                subset.condition()
            ))
            .map_err(sql)?;
        let members = stmt
            .query_map([], |r| {
                Ok(Member {
                    row_id: r.get(0)?,
                    slot: r.get(1)?,
                    label: r.get(2)?,
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        if members.windows(2).any(|w| w[1].slot <= w[0].slot) {
            return Err(DataError::Usage(
                "the project file's row slots are out of order; restore the file from a copy"
                    .into(),
            ));
        }
        Ok(members)
    }

    /// Source header, in source order.
    pub fn headers(&self) -> Result<Vec<String>> {
        let text = self.meta("source_headers")?.unwrap_or_else(|| "[]".into());
        serde_json::from_str(&text).map_err(|e| DataError::Usage(e.to_string()))
    }

    /// Raw cells of one row, as read from the source.
    pub fn raw_row(&self, row_id: i64) -> Result<Option<Vec<String>>> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT raw FROM row_data WHERE row_id = ?1",
                [row_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| DataError::Usage(e.to_string())))
            .transpose()
    }

    /// The optional bounds labels must respect (`init --min/--max`).
    pub fn target_bounds(&self) -> Result<Bounds> {
        let get = |key| -> Result<Option<f64>> { Ok(self.meta(key)?.and_then(|v| v.parse().ok())) };
        Ok(Bounds {
            min: get("target_min")?,
            max: get("target_max")?,
        })
    }

    /// Compact features of the rows of a subset, in row-id order.
    pub fn load_compact(&self, subset: Subset) -> Result<Vec<Vec<f64>>> {
        let rows = self.load_compact_rows(subset)?;
        Ok((0..rows.len()).map(|i| rows.row(i).to_vec()).collect())
    }
}
