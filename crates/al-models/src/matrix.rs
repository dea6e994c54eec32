//! A dense row-major matrix: the one input type every model takes.

use crate::metrics::{mean_std, MeanStd};

/// Rows of `cols` features stored back to back.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Matrix {
    data: Vec<f64>,
    rows: usize,
    cols: usize,
}

impl Matrix {
    /// Wraps row-major data; `data.len()` must be `rows * cols`.
    pub fn new(data: Vec<f64>, cols: usize) -> Matrix {
        let rows = data.len().checked_div(cols).unwrap_or(0);
        assert_eq!(rows * cols, data.len(), "matrix data is not rows x cols");
        Matrix { data, rows, cols }
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

    pub fn push_row(&mut self, row: &[f64]) {
        assert_eq!(row.len(), self.cols, "row width differs from the matrix");
        self.data.extend_from_slice(row);
        self.rows += 1;
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Matrix::new(data, self.cols)
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
