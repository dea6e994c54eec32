//! A random forest's leaf space: two rows are close when they fall into the
//! same leaf in many trees (forest proximity, Breiman 2001; used for batch
//! diversity by Borisov, Tuv & Runger 2011). It is supervised: rows the
//! target does not tell apart are close whatever their raw features, which
//! is what Holzmüller et al. (JMLR 2023) found decides most of a batch
//! method's gain. A small Euclidean term on the z-scored inputs breaks the
//! many ties of a distance that moves in steps of 1 / trees.

use al_models::derive_seed;
use al_models::forest::{Forest, ForestParams};
use al_models::Matrix;
use rayon::prelude::*;

use crate::distance::squared;
use crate::QueryError;

/// The leaf of each of `rows` of `x` in every tree of `forest`.
pub fn leaf_ids(forest: &Forest, x: &Matrix, rows: &[usize]) -> Vec<Vec<u32>> {
    rows.par_iter()
        .map(|&i| {
            forest
                .trees()
                .iter()
                .map(|t| t.leaf_index(x.row(i)) as u32)
                .collect()
        })
        .collect()
}

/// The share of trees in which two rows fall into the same leaf.
pub fn proximity(a: &[u32], b: &[u32]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len().max(1) as f64
}

/// `1 − proximity` between every row of `a` and every row of `b` (leaf ids
/// from [`leaf_ids`] of one forest): `result[i][j]`. Rather than compare
/// every pair tree by tree (|a| · |b| · trees), each tree's leaves index the
/// rows of `b` they hold, and a row of `a` counts only the rows sharing its
/// leaf: with leaves of a few rows, a small fraction of the pairs. The
/// counts, and so the distances, are exactly those of [`proximity`].
pub fn proximity_distances(a: &[Vec<u32>], b: &[Vec<u32>]) -> Vec<Vec<f64>> {
    let trees = a.first().or(b.first()).map_or(0, Vec::len);
    let by_leaf: Vec<std::collections::HashMap<u32, Vec<u32>>> = (0..trees)
        .into_par_iter()
        .map(|t| {
            let mut index: std::collections::HashMap<u32, Vec<u32>> = Default::default();
            for (j, row) in b.iter().enumerate() {
                index.entry(row[t]).or_default().push(j as u32);
            }
            index
        })
        .collect();
    let share = trees.max(1) as f64;
    a.par_iter()
        .map(|row| {
            let mut same = vec![0u32; b.len()];
            for (t, leaf) in row.iter().enumerate() {
                for &j in by_leaf[t].get(leaf).map_or(&[][..], Vec::as_slice) {
                    same[j as usize] += 1;
                }
            }
            same.iter().map(|&n| 1.0 - n as f64 / share).collect()
        })
        .collect()
}

/// Rows embedded by their leaf in every tree, with their inputs.
pub struct LeafSpace {
    /// `leaves[row][t]`: the row's leaf in tree `t`.
    leaves: Vec<Vec<u32>>,
    trees: usize,
    inputs: Matrix,
    /// Weight of the input distance (already divided by √features).
    input_weight: f64,
}

impl LeafSpace {
    /// Fits a `trees`-tree forest on the labeled rows and embeds `rows`.
    pub fn fit(
        labeled_x: &Matrix,
        labeled_y: &[f64],
        rows: &Matrix,
        trees: usize,
        input_weight: f64,
        seed: u64,
    ) -> Result<LeafSpace, QueryError> {
        let forest = ForestParams::default().trees(trees).fit_forest(
            labeled_x,
            labeled_y,
            derive_seed(seed, 31),
        )?;
        let all: Vec<usize> = (0..rows.rows()).collect();
        Ok(LeafSpace {
            leaves: leaf_ids(&forest, rows, &all),
            trees: forest.trees().len(),
            inputs: rows.clone(),
            input_weight: input_weight / (rows.cols().max(1) as f64).sqrt(),
        })
    }

    pub fn rows(&self) -> usize {
        self.inputs.rows()
    }

    /// The share of trees in which rows `a` and `b` fall into different
    /// leaves, plus the weighted input distance.
    pub fn distance(&self, a: usize, b: usize) -> f64 {
        let (la, lb) = (&self.leaves[a], &self.leaves[b]);
        let differ = la.iter().zip(lb).filter(|(x, y)| x != y).count();
        differ as f64 / self.trees as f64
            + self.input_weight * squared(self.inputs.row(a), self.inputs.row(b)).sqrt()
    }

    /// For every row, the distance to its nearest row among `centres` and
    /// that centre's position in `centres` (`INFINITY` and `usize::MAX`
    /// when there are no centres; a NaN distance counts as the farthest).
    pub fn nearest(&self, centres: &[usize]) -> Vec<(f64, usize)> {
        (0..self.rows())
            .into_par_iter()
            .map(|i| {
                centres
                    .iter()
                    .enumerate()
                    .map(|(k, &c)| (self.distance(i, c), k))
                    .fold((f64::INFINITY, usize::MAX), |best, d| {
                        // The first centre counts even at an infinite (or
                        // NaN) distance: a pool row near the largest f64
                        // was infinitely far from every centre, kept no
                        // centre at all, and lcmd indexed with usize::MAX.
                        let first = best.1 == usize::MAX;
                        if first || d.0 < best.0 || (best.0.is_nan() && !d.0.is_nan()) {
                            d
                        } else {
                            best
                        }
                    })
            })
            .collect()
    }
}

/// The labeled rows stacked above the candidates, so that one leaf space
/// holds both: labeled row `j` is row `j`, candidate `i` is row `labeled + i`.
pub fn stack(labeled: &Matrix, candidates: &Matrix) -> Matrix {
    let mut all = labeled.clone();
    for row in candidates.iter_rows() {
        all.push_row(row);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proximity_distances_are_the_pairwise_ones_bit_for_bit() {
        // Three trees; leaf ids shared in various ways, including none.
        let a = vec![vec![1, 2, 3], vec![1, 5, 3], vec![9, 9, 9]];
        let b = vec![vec![1, 2, 3], vec![4, 5, 3], vec![1, 2, 7], vec![0, 0, 0]];
        let fast = proximity_distances(&a, &b);
        for (i, ra) in a.iter().enumerate() {
            for (j, rb) in b.iter().enumerate() {
                let slow = 1.0 - proximity(ra, rb);
                assert_eq!(fast[i][j].to_bits(), slow.to_bits(), "{i},{j}");
            }
        }
        assert_eq!(fast[0][0], 0.0);
        assert_eq!(fast[2], vec![1.0; 4]);
        assert!(proximity_distances(&[], &b).is_empty());
    }
}
