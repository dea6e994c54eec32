//! A dense row-major matrix: the one input type every model takes.

use crate::metrics::{mean_std, MeanStd};

/// Rows of `cols` features stored back to back, and, when the caller knows
/// it, each row's identity ([`Matrix::keys`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Matrix {
    data: Vec<f64>,
    rows: usize,
    cols: usize,
    /// Which row of its source each row is (a project's row id, a
    /// position in the caller's array): a model that works on the source's
    /// own cells instead of the encoded features (a Python `Pipeline` with
    /// `raw=True`) looks them up by it. Carried by [`Matrix::select`],
    /// dropped by anything that makes rows of its own.
    #[serde(skip)]
    keys: Option<Vec<i64>>,
}

/// Equal values: the keys say where rows came from, not what they hold.
impl PartialEq for Matrix {
    fn eq(&self, other: &Matrix) -> bool {
        self.rows == other.rows && self.cols == other.cols && self.data == other.data
    }
}

impl Matrix {
    /// Wraps row-major data; `data.len()` must be `rows * cols`.
    pub fn new(data: Vec<f64>, cols: usize) -> Matrix {
        let rows = data.len().checked_div(cols).unwrap_or(0);
        assert_eq!(rows * cols, data.len(), "matrix data is not rows x cols");
        Matrix {
            data,
            rows,
            cols,
            keys: None,
        }
    }

    /// The same rows, each known by its key (`keys.len()` must be the
    /// number of rows).
    pub fn with_keys(mut self, keys: Vec<i64>) -> Matrix {
        assert_eq!(keys.len(), self.rows, "one key per row");
        self.keys = Some(keys);
        self
    }

    /// Each row's identity in its source, when the matrix was made with it.
    pub fn keys(&self) -> Option<&[i64]> {
        self.keys.as_deref()
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Matrix {
        let cols = rows.first().map_or(0, Vec::len);
        Matrix::new(rows.concat(), cols)
    }

    pub fn with_cols(cols: usize) -> Matrix {
        Matrix {
            data: Vec::new(),
            rows: 0,
            cols,
            keys: None,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The row-major values, to reuse the allocation.
    pub fn into_data(self) -> Vec<f64> {
        self.data
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The values of the consecutive rows `range`, row-major.
    pub fn rows_values(&self, range: std::ops::Range<usize>) -> &[f64] {
        &self.data[range.start * self.cols..range.end * self.cols]
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// Appends a row that has no key: the matrix's keys are dropped.
    pub fn push_row(&mut self, row: &[f64]) {
        self.push_keyed_row(row, None);
    }

    /// Appends a row known by `key`: the matrix keeps its keys when it had
    /// them and the row has one, else drops them.
    pub fn push_keyed_row(&mut self, row: &[f64], key: Option<i64>) {
        assert_eq!(row.len(), self.cols, "row width differs from the matrix");
        let had_keys = self.keys.is_some() || self.rows == 0;
        self.data.extend_from_slice(row);
        self.rows += 1;
        match (key, had_keys) {
            (Some(key), true) => self.keys.get_or_insert_with(Vec::new).push(key),
            _ => self.keys = None,
        }
    }

    /// The rows at `indices`, in that order, with their keys.
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        let selected = Matrix::new(data, self.cols);
        match &self.keys {
            Some(keys) => selected.with_keys(indices.iter().map(|&i| keys[i]).collect()),
            None => selected,
        }
    }

    pub fn iter_rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks_exact(self.cols.max(1)).take(self.rows)
    }

    /// Per-column mean and population standard deviation (1 where constant).
    pub fn column_scale(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.rows.max(1) as f64;
        let mut mean = vec![0.0; self.cols];
        for r in self.iter_rows() {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; self.cols];
        for r in self.iter_rows() {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let mut std: Vec<f64> = var.into_iter().map(|s| (s / n).sqrt()).collect();
        for c in 0..self.cols {
            // Sums that overflowed: mean_std's fallback on this column.
            if !(mean[c].is_finite() && std[c].is_finite()) && self.rows > 0 {
                let column: Vec<f64> = self.iter_rows().map(|r| r[c]).collect();
                let MeanStd { mean: m, std: s } = mean_std(&column);
                (mean[c], std[c]) = (m, s);
            }
        }
        for sd in &mut std {
            *sd = if *sd > 1e-12 { *sd } else { 1.0 };
        }
        (mean, std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_carries_the_keys_of_the_rows_it_takes() {
        let m = Matrix::from_rows(&[vec![1.0], vec![2.0], vec![3.0]]).with_keys(vec![10, 20, 30]);
        let picked = m.select(&[2, 0, 2]);
        assert_eq!(picked.keys(), Some(&[30, 10, 30][..]));
        assert_eq!(
            picked,
            Matrix::from_rows(&[vec![3.0], vec![1.0], vec![3.0]])
        );
    }

    #[test]
    fn a_pushed_row_has_no_key_so_the_matrix_loses_its_keys() {
        let mut m = Matrix::from_rows(&[vec![1.0]]).with_keys(vec![7]);
        m.push_row(&[2.0]);
        assert_eq!(m.keys(), None);
        assert_eq!(Matrix::from_rows(&[vec![1.0]]).select(&[0]).keys(), None);
    }

    #[test]
    fn a_keyed_row_pushed_onto_keyed_rows_keeps_the_keys() {
        let mut m = Matrix::from_rows(&[vec![1.0]]).with_keys(vec![7]);
        m.push_keyed_row(&[2.0], Some(9));
        assert_eq!(m.keys(), Some(&[7, 9][..]));
        let mut unkeyed = Matrix::from_rows(&[vec![1.0]]);
        unkeyed.push_keyed_row(&[2.0], Some(9));
        assert_eq!(unkeyed.keys(), None);
    }
}
