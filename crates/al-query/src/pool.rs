//! The rows a strategy chooses from, dense or kept compact.
//!
//! A million-row pool with one-hot columns is about 1.7 GB as a dense `f64`
//! matrix (1 000 000 × 211) but 400 MB in the project's compact encoding
//! (one value per source column). [`CompactPool`] keeps the compact form
//! and expands rows only when a strategy asks for them: a chunk of
//! [`CHUNK`] rows to score ([`score_in_chunks`]), or the few rows a sampling
//! strategy looks at ([`Pool::select`]). A [`Matrix`] is a pool too, for
//! tests, simulations and small pools. Strategies whose every pick revisits
//! every row (greedy sampling, leaf-alloc, lcmd) call [`Pool::dense`] and
//! hold the dense pool; docs/scaling.md lists which do.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use al_data::{CompactRows, Recipe};
use al_models::Matrix;
use rayon::prelude::*;

use crate::QueryError;

/// Rows per scored chunk: 16 384 rows × 211 features is 28 MB of `f64`.
pub const CHUNK: usize = 16_384;

/// Candidate rows, dense features on demand.
pub trait Pool: Sync {
    fn rows(&self) -> usize;

    /// Dense features per row.
    fn width(&self) -> usize;

    /// Dense features of the rows `range`, in order.
    fn chunk(&self, range: Range<usize>) -> Matrix;

    /// As [`Pool::chunk`], into `buffer`'s allocation (reused chunk after
    /// chunk: no fresh pages to fault in and zero each time).
    fn chunk_into(&self, range: Range<usize>, buffer: Vec<f64>) -> Matrix {
        drop(buffer);
        self.chunk(range)
    }

    /// Dense features of the rows `indices`, in that order.
    fn select(&self, indices: &[usize]) -> Matrix;

    /// Every row as one dense matrix (borrowed when the pool is one).
    fn dense(&self) -> Cow<'_, Matrix> {
        Cow::Owned(self.chunk(0..self.rows()))
    }

    /// Whether the caller asked the work on this pool to stop (a front
    /// end's Ctrl-C): [`score_in_chunks`] then ends with
    /// [`QueryError::Interrupted`] at the next chunk.
    fn stopped(&self) -> bool {
        false
    }
}

impl Pool for Matrix {
    fn rows(&self) -> usize {
        Matrix::rows(self)
    }

    fn width(&self) -> usize {
        self.cols()
    }

    fn chunk(&self, range: Range<usize>) -> Matrix {
        self.chunk_into(range, Vec::new())
    }

    /// The rows are contiguous: one copy into the reused buffer.
    fn chunk_into(&self, range: Range<usize>, mut buffer: Vec<f64>) -> Matrix {
        let cols = self.cols();
        buffer.clear();
        buffer.extend_from_slice(self.rows_values(range.clone()));
        let chunk = Matrix::new(buffer, cols);
        match self.keys() {
            Some(keys) => chunk.with_keys(keys[range].to_vec()),
            None => chunk,
        }
    }

    fn select(&self, indices: &[usize]) -> Matrix {
        Matrix::select(self, indices)
    }

    fn dense(&self) -> Cow<'_, Matrix> {
        Cow::Borrowed(self)
    }
}

/// Utilities of every row of `pool`, computed [`CHUNK`] rows at a time by
/// `score` (which sees one dense chunk and returns one utility per row), so
/// the dense features held at once are one chunk's.
pub fn score_in_chunks(
    pool: &dyn Pool,
    mut score: impl FnMut(&Matrix) -> Result<Vec<f64>, QueryError>,
) -> Result<Vec<f64>, QueryError> {
    let n = pool.rows();
    let mut out = Vec::with_capacity(n);
    let mut buffer = Vec::new();
    for start in (0..n).step_by(CHUNK) {
        if pool.stopped() || al_models::interrupt::requested() {
            return Err(QueryError::Interrupted);
        }
        let chunk = pool.chunk_into(start..(start + CHUNK).min(n), buffer);
        let scores = score(&chunk)?;
        debug_assert_eq!(scores.len(), chunk.rows());
        out.extend(scores);
        buffer = chunk.into_data();
    }
    Ok(out)
}

/// A pool in the project's compact encoding, expanded (one-hot, imputed,
/// numeric columns z-scored) a chunk at a time with the project's recipe:
/// the same numbers `Project::load(subset, true)` gives, without holding
/// them all.
pub struct CompactPool<'a> {
    rows: &'a CompactRows,
    recipe: &'a Recipe,
    width: usize,
    stop: Option<&'a AtomicBool>,
}

impl<'a> CompactPool<'a> {
    pub fn new(rows: &'a CompactRows, recipe: &'a Recipe) -> CompactPool<'a> {
        CompactPool {
            rows,
            recipe,
            width: recipe.n_features(),
            stop: None,
        }
    }

    /// The pool, with work on it ending early once `stop` is set
    /// ([`Pool::stopped`]).
    pub fn with_stop(mut self, stop: Option<&'a AtomicBool>) -> CompactPool<'a> {
        self.stop = stop;
        self
    }

    fn expand(
        &self,
        indices: impl IndexedParallelIterator<Item = usize>,
        mut data: Vec<f64>,
    ) -> Matrix {
        let width = self.width;
        data.resize(indices.len() * width, 0.0);
        data.par_chunks_mut(width.max(1))
            .zip(indices)
            .for_each_init(
                || Vec::with_capacity(width),
                |scratch, (out, i)| {
                    scratch.clear();
                    self.recipe.expand_into(self.rows.row(i), scratch);
                    self.recipe.scale_dense(scratch);
                    out.copy_from_slice(scratch);
                },
            );
        Matrix::new(data, width)
    }
}

impl Pool for CompactPool<'_> {
    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn width(&self) -> usize {
        self.width
    }

    fn chunk(&self, range: Range<usize>) -> Matrix {
        self.chunk_into(range, Vec::new())
    }

    fn chunk_into(&self, range: Range<usize>, buffer: Vec<f64>) -> Matrix {
        let keys = self.rows.row_ids[range.clone()].to_vec();
        self.expand(range.into_par_iter(), buffer).with_keys(keys)
    }

    fn select(&self, indices: &[usize]) -> Matrix {
        let keys = indices.iter().map(|&i| self.rows.row_ids[i]).collect();
        self.expand(indices.par_iter().copied(), Vec::new())
            .with_keys(keys)
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once_in_order() {
        let n = CHUNK + 7;
        let m = Matrix::new((0..n * 2).map(|v| v as f64).collect(), 2);
        let mut sizes = vec![];
        let scores = score_in_chunks(&m, |x| {
            sizes.push(x.rows());
            Ok(x.iter_rows().map(|r| r[0]).collect())
        })
        .unwrap();
        assert_eq!(sizes, vec![CHUNK, 7]);
        assert_eq!(scores, (0..n).map(|i| (2 * i) as f64).collect::<Vec<_>>());
    }

    #[test]
    fn a_matrix_pool_selects_and_chunks_its_own_rows() {
        let m = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]);
        let p: &dyn Pool = &m;
        assert_eq!(
            p.chunk(1..3),
            Matrix::from_rows(&[vec![3.0, 4.0], vec![5.0, 6.0]])
        );
        assert_eq!(
            p.select(&[2, 0]),
            Matrix::from_rows(&[vec![5.0, 6.0], vec![1.0, 2.0]])
        );
        assert!(matches!(p.dense(), Cow::Borrowed(_)));
    }
}
