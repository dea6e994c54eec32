//! Reading rows for models and recording rounds, labels and reports, by
//! concern: loading rows here; rounds, reports and simulations in
//! `rounds.rs`; labels and their history in `labels.rs`; adding and
//! exporting rows in `rows.rs`.

mod answers;
pub mod chunks;
mod labels;
mod rounds;
mod rows;

pub use answers::*;
pub use labels::*;
pub use rounds::*;
pub use rows::*;

use rusqlite::OptionalExtension;

use crate::error::{sql, DataError, Result};
pub use crate::project::{set_default_model, set_meta};
use crate::project::{stop_check, Project};
use std::sync::atomic::AtomicBool;

/// The largest target magnitude a project takes. Models square and sum
/// targets (variances, split scores, squared errors): below 1e150 a square
/// stays under 1e300 and a sum of ten million of them under the largest
/// f64, beyond it they overflow to infinity and every prediction and
/// error turns NaN.
pub const MAX_TARGET: f64 = 1e150;

/// The optional bounds labels must respect (`init --min/--max`), within
/// ±[`MAX_TARGET`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    pub fn is_set(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    /// A label value the project accepts (a finite number no larger than
    /// [`MAX_TARGET`] in magnitude, within the bounds), or why not.
    pub fn check(&self, v: f64) -> std::result::Result<(), String> {
        if !v.is_finite() {
            return Err("not a finite number".into());
        }
        if v.abs() > MAX_TARGET {
            return Err(format!(
                "beyond ±{MAX_TARGET:e}, too large to learn from (rescale the target: thousands, millions or its logarithm)"
            ));
        }
        if self.min.is_some_and(|m| v < m) || self.max.is_some_and(|m| v > m) {
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
    /// Unlabeled rows out in a batch: what annotators have to answer.
    Pending,
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
            Subset::Pending => {
                "r.label IS NULL AND r.is_test = 0 AND r.row_id IN (SELECT row_id FROM queries)"
            }
            Subset::All => "1",
        }
    }

    /// [`Subset::condition`] in Rust, for the one scan that sorts every row
    /// into several subsets (a test checks the two agree).
    fn contains(self, row: &RowFlags) -> bool {
        match self {
            Subset::Training => row.label.is_some() && !row.is_test,
            Subset::Test => row.is_test,
            Subset::Pool => row.label.is_none() && !row.is_test && !row.queried,
            Subset::PoolWithPending => row.label.is_none() && !row.is_test,
            Subset::Pending => row.label.is_none() && !row.is_test && row.queried,
            Subset::All => true,
        }
    }

    /// Usually most of the project: read by one scan of `rows`, not row by
    /// row through a partial index.
    fn is_large(self) -> bool {
        matches!(self, Subset::Pool | Subset::PoolWithPending | Subset::All)
    }
}

/// What decides a row's subsets.
struct RowFlags {
    label: Option<f64>,
    is_test: bool,
    /// Asked for in some round.
    queried: bool,
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

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> CompactRows {
        let mut values = Vec::with_capacity(indices.len() * self.width);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        CompactRows {
            row_ids: indices.iter().map(|&i| self.row_ids[i]).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            values,
            width: self.width,
        }
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

/// `wanted` (in slot order) cut into at most `n` runs of whole chunks with
/// about as many chunks each.
fn split_at_chunks(wanted: &[(usize, Member)], n: usize) -> Vec<&[(usize, Member)]> {
    let chunk_of = |i: usize| wanted[i].1.slot as usize / chunks::CHUNK_ROWS;
    let mut starts = vec![0];
    for i in 1..wanted.len() {
        if chunk_of(i) != chunk_of(i - 1) {
            starts.push(i);
        }
    }
    let per_part = starts.len().div_ceil(n.max(1)).max(1);
    let mut parts = Vec::new();
    let mut begin = 0;
    for group in starts.chunks(per_part).skip(1) {
        parts.push(&wanted[begin..group[0]]);
        begin = group[0];
    }
    parts.push(&wanted[begin..]);
    parts
}

/// Reads the chunks holding `part`'s rows and writes each row's compact
/// values, in order, into its subset's slice of `out`.
fn gather(
    conn: &rusqlite::Connection,
    part: &[(usize, Member)],
    width: usize,
    mut out: Vec<&mut [f64]>,
    stop: Option<&AtomicBool>,
) -> Result<()> {
    let mut filled = vec![0usize; out.len()];
    let mut at = 0;
    while at < part.len() {
        stop_check(stop)?;
        let chunk = part[at].1.slot as usize / chunks::CHUNK_ROWS;
        let read = chunks::read_chunk(conn, chunk, width)?;
        let base = chunk * chunks::CHUNK_ROWS;
        while at < part.len() && part[at].1.slot as usize / chunks::CHUNK_ROWS == chunk {
            let (k, m) = &part[at];
            let offset = m.slot as usize - base;
            if offset >= read.len() {
                return Err(DataError::Usage(format!(
                    "the project file has no features for row {} (slot {}); restore the file from a copy",
                    m.row_id, m.slot
                )));
            }
            let row = &mut out[*k][filled[*k]..filled[*k] + width];
            for (v, column) in row.iter_mut().zip(&read.columns) {
                *v = column[offset];
            }
            filled[*k] += width;
            at += 1;
        }
    }
    Ok(())
}

fn out_of_order() -> DataError {
    DataError::Usage(
        "the project file's row slots are out of order; restore the file from a copy".into(),
    )
}

/// A row of a subset: where its features are and what its label is.
#[derive(Clone, Copy)]
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
        let mut wanted: Vec<(usize, Member)> = if subsets.iter().any(|s| s.is_large()) {
            self.members_by_scan(&subsets)?
        } else {
            let mut wanted = Vec::new();
            for (k, subset) in subsets.iter().enumerate() {
                wanted.extend(self.members(*subset)?.into_iter().map(|m| (k, m)));
            }
            wanted
        };
        wanted.sort_by_key(|(_, m)| m.slot);
        // Chunks are read and decoded by up to one reader per thread, each
        // with its own read-only connection and its own run of chunks,
        // writing into its own part of the output: the same values in the
        // same places whatever the thread count.
        let parts = split_at_chunks(&wanted, rayon::current_num_threads());
        let mut counts = vec![[0usize; N]; parts.len()];
        for (p, part) in parts.iter().enumerate() {
            for (k, _) in part.iter() {
                counts[p][*k] += 1;
            }
        }
        for (k, rows) in out.iter_mut().enumerate() {
            rows.values = vec![0.0; counts.iter().map(|c| c[k]).sum::<usize>() * width];
            for (_, m) in wanted.iter().filter(|(j, _)| *j == k) {
                rows.row_ids.push(m.row_id);
                rows.labels.push(m.label);
            }
        }
        // Each part's slice of each subset's values.
        let mut slices: Vec<Vec<&mut [f64]>> = (0..parts.len()).map(|_| Vec::new()).collect();
        for (k, rows) in out.iter_mut().enumerate() {
            let mut rest = rows.values.as_mut_slice();
            for (p, slot) in slices.iter_mut().enumerate() {
                let (mine, others) = rest.split_at_mut(counts[p][k] * width);
                slot.push(mine);
                rest = others;
            }
        }
        let path = self.path();
        let stop = self.stop_flag();
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let mut slices = slices.into_iter();
            let first = slices.next();
            let others: Vec<_> = parts[1.min(parts.len())..]
                .iter()
                .zip(slices)
                .map(|(part, out)| {
                    scope.spawn(move || {
                        let conn = rusqlite::Connection::open_with_flags(
                            path,
                            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                        )
                        .map_err(sql)?;
                        gather(&conn, part, width, out, stop)
                    })
                })
                .collect();
            let mut results = Vec::new();
            if let (Some(part), Some(out)) = (parts.first(), first) {
                results.push(gather(self.conn(), part, width, out, stop));
            }
            for handle in others {
                results.push(
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            results
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(out)
    }

    /// The rows named by `ids` that the project holds (synthetic rows not
    /// yet labeled are not among them), with compact features, in slot
    /// order: what a request for a few rows by id needs without reading
    /// the pool.
    pub fn load_compact_ids(&self, ids: &[i64]) -> Result<CompactRows> {
        let width = self.recipe()?.compact_width();
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT row_id, slot, label FROM rows WHERE row_id = ?1")
            .map_err(sql)?;
        let mut wanted: Vec<(usize, Member)> = Vec::with_capacity(ids.len());
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        for &id in ids {
            if !seen.insert(id) {
                continue;
            }
            let member = stmt
                .query_row([id], |r| {
                    Ok(Member {
                        row_id: r.get(0)?,
                        slot: r.get(1)?,
                        label: r.get(2)?,
                    })
                })
                .optional()
                .map_err(sql)?;
            wanted.extend(member.map(|m| (0, m)));
        }
        wanted.sort_by_key(|(_, m)| m.slot);
        let mut rows = CompactRows {
            width,
            row_ids: wanted.iter().map(|(_, m)| m.row_id).collect(),
            labels: wanted.iter().map(|(_, m)| m.label).collect(),
            values: Vec::with_capacity(wanted.len() * width),
        };
        // Only these rows' bytes (chunks::read_rows).
        stop_check(self.stop_flag())?;
        let slots: Vec<usize> = wanted.iter().map(|(_, m)| m.slot as usize).collect();
        for row in chunks::read_rows(self.conn(), width, &slots)? {
            rows.values.extend_from_slice(&row);
        }
        Ok(rows)
    }

    /// Every row of the project in row-id order, once for each of
    /// `subsets` it belongs to (tagged with the subset's index). One
    /// sequential scan: on a million-row pool this is several times faster
    /// than a million lookups through a partial index.
    fn members_by_scan(&self, subsets: &[Subset]) -> Result<Vec<(usize, Member)>> {
        let queried: std::collections::HashSet<i64> = self
            .conn()
            .prepare("SELECT DISTINCT row_id FROM queries")
            .map_err(sql)?
            .query_map([], |r| r.get(0))
            .map_err(sql)?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql)?;
        let mut stmt = self
            .conn()
            .prepare("SELECT row_id, slot, label, is_test FROM rows NOT INDEXED ORDER BY row_id")
            .map_err(sql)?;
        let mut q = stmt.query([]).map_err(sql)?;
        let mut out = Vec::new();
        let mut last_slot = -1;
        let mut scanned = 0usize;
        while let Some(r) = q.next().map_err(sql)? {
            if scanned.is_multiple_of(65_536) {
                self.check_stop()?;
            }
            scanned += 1;
            let member = Member {
                row_id: r.get(0).map_err(sql)?,
                slot: r.get(1).map_err(sql)?,
                label: r.get(2).map_err(sql)?,
            };
            if member.slot <= last_slot {
                return Err(out_of_order());
            }
            last_slot = member.slot;
            let state = RowFlags {
                label: member.label,
                is_test: r.get(3).map_err(sql)?,
                queried: queried.contains(&member.row_id),
            };
            for (k, subset) in subsets.iter().enumerate() {
                if subset.contains(&state) {
                    out.push((k, member));
                }
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
            return Err(out_of_order());
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

    /// The raw cells of the rows `row_ids`, in that order (one statement,
    /// prepared once, per row: a primary-key lookup each). A row id the
    /// source rows do not hold (a synthesized row still waiting for its
    /// label, a row of another project) is an error naming it.
    pub fn raw_rows(&self, row_ids: &[i64]) -> Result<Vec<Vec<String>>> {
        // One read transaction for the lot: outside one, every lookup
        // takes and drops the file's shared lock (two fcntl calls a row).
        let _snapshot = match self.conn().is_autocommit() {
            true => Some(self.conn().unchecked_transaction().map_err(sql)?),
            false => None,
        };
        let mut statement = self
            .conn()
            .prepare_cached("SELECT raw FROM row_data WHERE row_id = ?1")
            .map_err(sql)?;
        row_ids
            .iter()
            .map(|&id| {
                let text: Option<String> = statement
                    .query_row([id], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                let text = text.ok_or_else(|| {
                    DataError::Usage(format!(
                        "row {id} has no source cells in this project (a synthesized row waiting for its label, or a row of another project)"
                    ))
                })?;
                serde_json::from_str(&text).map_err(|e| DataError::Usage(e.to_string()))
            })
            .collect()
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A project with rows in every state: training, test, pool, pending.
    pub(crate) fn project_in_every_state(dir: &std::path::Path) -> Project {
        let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/price_partial.csv");
        let db = dir.join("p.db");
        let mut opts = crate::InitOptions::new(csv, db.clone(), "price");
        opts.test_frac = Some(0.3);
        crate::init(&opts).unwrap();
        let mut project = Project::open(&db).unwrap();
        project
            .write(|tx| {
                tx.execute_batch(
                    "INSERT INTO rounds(round, strategy, model, seed, batch, created_at)
                         VALUES (1, 'random', 'forest', 0, 3, 'now');
                     INSERT INTO queries(round, rank, row_id)
                         SELECT 1, row_number() OVER (), row_id FROM rows
                          WHERE label IS NULL LIMIT 3;",
                )
                .map_err(sql)
            })
            .unwrap();
        project
    }

    #[test]
    fn a_report_with_a_metric_that_is_not_finite_is_refused_and_nothing_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let report = |mae: f64, r2: f64| Report {
            round: None,
            labels: 3,
            mae,
            mse: 4.0,
            rmse: 2.0,
            r2,
            model: "forest".into(),
            strategy: None,
            created_at: String::new(),
            method: EvalMethod::Holdout,
            interval: None,
            cross_validation: None,
            detail: None,
        };
        for (mae, r2, name) in [(f64::NAN, 0.5, "mae"), (1.0, f64::NEG_INFINITY, "r2")] {
            let err = project
                .write(|tx| insert_report(tx, &report(mae, r2)))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("measured a {name} that is not a finite number")),
                "{err}"
            );
        }
        // The reports still read (a NULL metric once broke every command).
        assert!(project.reports().unwrap().is_empty());
        project
            .write(|tx| insert_report(tx, &report(1.5, 0.5)))
            .unwrap();
        assert_eq!(project.reports().unwrap()[0].mae, 1.5);
    }

    #[test]
    fn rows_read_by_id_are_the_rows_a_subset_read_gives() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_in_every_state(dir.path());
        let all = project.load_compact_rows(Subset::All).unwrap();
        let at = |id: i64| all.row_ids.iter().position(|&r| r == id).unwrap();
        // Out of order, a duplicate and an id the project does not hold.
        let asked = [250, 3, 399, 3, 77, 999_999];
        let got = project.load_compact_ids(&asked).unwrap();
        assert_eq!(got.row_ids, [3, 77, 250, 399], "slot order, each once");
        for (i, &id) in got.row_ids.iter().enumerate() {
            assert_eq!(got.row(i), all.row(at(id)), "row {id}");
            assert_eq!(got.labels[i], all.labels[at(id)]);
        }
    }

    #[test]
    fn the_scan_sorts_rows_into_the_same_subsets_as_the_sql_conditions() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_in_every_state(dir.path());
        let all = [
            Subset::Training,
            Subset::Test,
            Subset::Pool,
            Subset::PoolWithPending,
            Subset::Pending,
            Subset::All,
        ];
        let scanned = project.members_by_scan(&all).unwrap();
        for (k, subset) in all.iter().enumerate() {
            let by_scan: Vec<i64> = scanned
                .iter()
                .filter(|(j, _)| *j == k)
                .map(|(_, m)| m.row_id)
                .collect();
            let by_sql: Vec<i64> = project
                .members(*subset)
                .unwrap()
                .iter()
                .map(|m| m.row_id)
                .collect();
            assert!(!by_sql.is_empty(), "{subset:?} has rows in this project");
            assert_eq!(by_scan, by_sql, "{subset:?}");
        }
        // Pending rows are in PoolWithPending only.
        let pool = project.load_compact_rows(Subset::Pool).unwrap();
        let with = project.load_compact_rows(Subset::PoolWithPending).unwrap();
        assert_eq!(with.len(), pool.len() + 3);
    }

    #[test]
    fn chunk_runs_cover_every_row_in_order_without_splitting_a_chunk() {
        let member = |slot: usize| {
            (
                0,
                Member {
                    row_id: slot as i64 + 1,
                    slot: slot as i64,
                    label: None,
                },
            )
        };
        let c = chunks::CHUNK_ROWS;
        let wanted: Vec<_> = [0, 5, c, c + 1, 2 * c, 3 * c + 9, 4 * c]
            .iter()
            .map(|&s| member(s))
            .collect();
        for n in 1..8 {
            let parts = split_at_chunks(&wanted, n);
            assert!(parts.len() <= n.max(1), "{n}: {} parts", parts.len());
            let joined: Vec<i64> = parts
                .iter()
                .flat_map(|p| p.iter().map(|(_, m)| m.slot))
                .collect();
            assert_eq!(
                joined,
                wanted.iter().map(|(_, m)| m.slot).collect::<Vec<_>>()
            );
            for w in parts.windows(2) {
                let last = w[0].last().unwrap().1.slot as usize / c;
                let first = w[1].first().unwrap().1.slot as usize / c;
                assert!(last < first, "{n}: a chunk split across parts");
            }
        }
        assert_eq!(split_at_chunks(&[], 2).len(), 1);
    }

    #[test]
    fn loading_gives_the_same_rows_with_one_thread_or_several() {
        // Three chunks and a bit, so that several readers share the work.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("big.csv");
        let mut text = String::from("a,b,kind,y\n");
        for i in 0..(3 * chunks::CHUNK_ROWS + 100) {
            let label = if i % 97 == 0 {
                format!("{}", i % 13)
            } else {
                String::new()
            };
            text.push_str(&format!("{},{}.25,k{},{label}\n", i % 1000, i % 7, i % 5));
        }
        std::fs::write(&csv, text).unwrap();
        let path = dir.path().join("big.db");
        crate::init(&crate::InitOptions::new(csv, path.clone(), "y")).unwrap();
        let load = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    Project::open_for_reading(&path)
                        .unwrap()
                        .load_compact_subsets([Subset::Training, Subset::PoolWithPending])
                        .unwrap()
                })
        };
        let (one, four) = (load(1), load(4));
        assert!(one[1].len() > 2 * chunks::CHUNK_ROWS);
        // A set stop flag ends the load (on every reader thread).
        let mut project = Project::open_for_reading(&path).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(true));
        project.set_stop(Some(stop.clone()));
        let stopped = project.load_compact_subsets([Subset::Training, Subset::PoolWithPending]);
        assert!(matches!(stopped, Err(DataError::Interrupted)));
        stop.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(project.load_compact_subsets([Subset::Pool]).is_ok());
        for (a, b) in one.iter().zip(&four) {
            assert_eq!(a.row_ids, b.row_ids);
            assert_eq!(a.labels, b.labels);
            assert_eq!(
                a.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
