//! Random forest: bootstrapped trees fitted in parallel, each with its own
//! seed derived from the forest's, so the result does not depend on the
//! number of threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::params::{at_least, param, Kind};
use crate::spec::ModelInfo;
use crate::tree::{Binned, Tree, TreeParams};
use crate::{check_training, derive_seed, Fit, ModelError, Predict};

/// The registry entry of `forest`.
pub static INFO: ModelInfo = ModelInfo {
    name: "forest",
    description: "random forest of bootstrapped regression trees (per-tree predictions)",
    library: "al",
    params: &[
        param("trees", "100", at_least(1), "number of trees"),
        param(
            "max_features",
            "1.0",
            Kind::Fraction,
            "fraction of features tried per split",
        ),
        param(
            "min_leaf",
            "1",
            at_least(1),
            "fewest training rows in a leaf",
        ),
        param(
            "depth",
            "none",
            Kind::CountOrNone { min: 1 },
            "levels of splits at most (none = grow fully)",
        ),
        param(
            "bootstrap",
            "true",
            Kind::Bool,
            "draw each tree's rows with replacement",
        ),
    ],
    build: |p| {
        Box::new(ForestParams {
            trees: p.count("trees"),
            bootstrap: p.flag("bootstrap"),
            tree: TreeParams {
                max_depth: p.count_or_none("depth"),
                min_samples_leaf: p.count("min_leaf"),
                max_features: p.real("max_features"),
            },
        })
    },
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    pub trees: usize,
    pub tree: TreeParams,
    pub bootstrap: bool,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            tree: TreeParams::default(),
            bootstrap: true,
        }
    }
}

impl ForestParams {
    pub fn trees(mut self, trees: usize) -> Self {
        self.trees = trees;
        self
    }

    pub fn max_features(mut self, fraction: f64) -> Self {
        self.tree.max_features = fraction;
        self
    }

    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.tree.min_samples_leaf = n;
        self
    }

    pub fn max_depth(mut self, depth: Option<usize>) -> Self {
        self.tree.max_depth = depth;
        self
    }

    /// Fits the forest; also usable without boxing.
    pub fn fit_forest(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Forest, ModelError> {
        check_training(x, y)?;
        self.tree.check()?;
        if self.trees == 0 {
            return Err(ModelError::Param(crate::params::ParamError::Invalid {
                owner: "forest".into(),
                key: "trees".into(),
                value: "0".into(),
                expected: "a whole number >= 1".into(),
            }));
        }
        self.fit_binned(&Binned::new(x), y, seed)
    }

    /// Fits on features binned once by the caller (the committee shares its
    /// binning between its tree and its forest). A stop asked for
    /// ([`crate::interrupt`]) ends it before the next tree.
    pub fn fit_binned(&self, binned: &Binned, y: &[f64], seed: u64) -> Result<Forest, ModelError> {
        let n = binned.rows();
        let trees = (0..self.trees)
            .into_par_iter()
            .map(|t| {
                crate::interrupt::check()?;
                let tree_seed = derive_seed(seed, t as u64);
                let weights = if self.bootstrap {
                    bootstrap_weights(n, tree_seed)
                } else {
                    vec![1.0; n]
                };
                Ok(Tree::fit(binned, y, &weights, &self.tree, tree_seed))
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Forest {
            trees,
            bags: self.bootstrap.then_some(Bags { rows: n, seed }),
        })
    }
}

/// How often each of `n` samples is drawn in `n` draws with replacement.
fn bootstrap_weights(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xB007_5742);
    let mut w = vec![0.0; n];
    for _ in 0..n {
        w[rng.gen_range(0..n)] += 1.0;
    }
    w
}

impl Fit for ForestParams {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        Ok(Box::new(self.fit_forest(x, y, seed)?))
    }
}

/// A fitted forest; its prediction is the mean of its trees'.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    /// How the trees' bootstrap samples were drawn, so that which training
    /// rows each tree left out can be told again (jackknife+-after-bootstrap
    /// intervals). Not shipped: a forest read back from bytes only predicts.
    #[serde(skip)]
    bags: Option<Bags>,
}

/// The bootstrap draws of a fitted forest, as the seed they came from (the
/// draws themselves would be trees × training rows).
#[derive(Debug, Clone, Copy)]
struct Bags {
    rows: usize,
    seed: u64,
}

impl Forest {
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Impurity importance (Breiman 2001; scikit-learn's
    /// `feature_importances_`): each tree's error reductions per feature,
    /// normalised to sum to 1, averaged over trees. Sums to 1 unless no
    /// tree split at all (then all zeros). Biased towards features with
    /// many distinct values (Strobl et al. 2007).
    pub fn importance(&self) -> Vec<f64> {
        let p = self.trees.first().map_or(0, |t| t.gains().len());
        let mut total = vec![0.0; p];
        for t in &self.trees {
            let sum: f64 = t.gains().iter().sum();
            if sum > 0.0 {
                total
                    .iter_mut()
                    .zip(t.gains())
                    .for_each(|(a, g)| *a += g / sum);
            }
        }
        let n = self.trees.len().max(1) as f64;
        total.iter_mut().for_each(|a| *a /= n);
        total
    }
}

/// Rows of `cols` features per block of [`Forest::predict_std`]: about
/// 1 MB of features (in L2 while every tree walks the block), 64 to 1 024
/// rows. Against a fixed 64 rows: 0.117 → 0.096 s over 100 000 rows of 26
/// features; 10⁶ rows of 211 features unchanged (docs/benchmarks.md).
fn std_block(cols: usize) -> usize {
    (128 * 1024 / cols.max(1)).clamp(64, 1024)
}

impl Predict for Forest {
    fn out_of_bag(&self) -> Option<Vec<Vec<bool>>> {
        let bags = self.bags?;
        Some(
            (0..self.trees.len())
                .map(|t| {
                    bootstrap_weights(bags.rows, derive_seed(bags.seed, t as u64))
                        .iter()
                        .map(|&w| w == 0.0)
                        .collect()
                })
                .collect(),
        )
    }

    fn export(&self) -> Option<crate::fitted::FittedModel> {
        Some(crate::fitted::FittedModel::Forest(self.clone()))
    }

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        // Blocks of rows in parallel; every tree over a block.
        const BLOCK: usize = 1024;
        let n = self.trees.len() as f64;
        let mut out = vec![0.0; x.rows()];
        out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, sums)| {
            let mut one = vec![0.0; sums.len()];
            for t in &self.trees {
                t.predict_rows(x, b * BLOCK, &mut one);
                sums.iter_mut().zip(&one).for_each(|(s, v)| *s += v);
            }
            sums.iter_mut().for_each(|s| *s /= n);
        });
        Ok(out)
    }

    /// The trees' standard deviation per row, as [`crate::metrics::mean_std`]
    /// of the tree predictions (so the same numbers as the default), a
    /// block of rows at a time instead of holding trees × rows predictions.
    fn predict_std(&self, x: &Matrix) -> Result<Option<Vec<f64>>, ModelError> {
        let block = std_block(x.cols());
        let trees = self.trees.len();
        if trees < 2 {
            return Ok(None);
        }
        let mut out = vec![0.0; x.rows()];
        out.par_chunks_mut(block).enumerate().for_each(|(b, stds)| {
            let n = stds.len();
            let mut by_tree = vec![0.0; n * trees];
            for (t, tree) in self.trees.iter().enumerate() {
                tree.predict_rows(x, b * block, &mut by_tree[t * n..(t + 1) * n]);
            }
            // metrics::mean_std per row, summed tree by tree across the
            // block's rows (the same order per row, so the same bits,
            // without gathering each row's predictions).
            let mut mean = vec![0.0; n];
            for preds in by_tree.chunks_exact(n) {
                mean.iter_mut().zip(preds).for_each(|(m, p)| *m += p);
            }
            mean.iter_mut().for_each(|m| *m /= trees as f64);
            let mut var = vec![0.0; n];
            for preds in by_tree.chunks_exact(n) {
                for ((v, p), m) in var.iter_mut().zip(preds).zip(&mean) {
                    *v += (p - m) * (p - m);
                }
            }
            for (s, v) in stds.iter_mut().zip(&var) {
                *s = (v / trees as f64).sqrt();
            }
        });
        Ok(Some(out))
    }

    fn predict_members(&self, x: &Matrix) -> Result<Option<Vec<Vec<f64>>>, ModelError> {
        Ok(Some(
            self.trees
                .par_iter()
                .map(|t| {
                    let mut out = vec![0.0; x.rows()];
                    t.predict_rows(x, 0, &mut out);
                    out
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Matrix, Vec<f64>) {
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                let a = (i as f64 * 0.71).sin();
                let b = (i as f64 * 1.3).cos();
                vec![a, b, (i % 7) as f64]
            })
            .collect();
        let y = rows
            .iter()
            .map(|r| 3.0 * r[0] - 2.0 * r[1] * r[1] + r[2])
            .collect();
        (Matrix::from_rows(&rows), y)
    }

    #[test]
    fn the_blockwise_std_is_the_std_of_the_tree_predictions_bit_for_bit() {
        let (x, y) = data(300);
        let forest = ForestParams::default()
            .trees(17)
            .fit_forest(&x, &y, 3)
            .unwrap();
        // 200 rows: three full blocks of 64 and a ragged one.
        let (probe, _) = data(200);
        let std = forest.predict_std(&probe).unwrap().unwrap();
        let members = forest.predict_members(&probe).unwrap().unwrap();
        for (i, s) in std.iter().enumerate() {
            let expected = crate::metrics::member_spread(&members, i).std;
            assert_eq!(s.to_bits(), expected.to_bits(), "row {i}");
        }
    }

    #[test]
    fn importance_sums_to_one_and_goes_to_the_column_that_carries_the_target() {
        // y is a function of column 0; column 1 is a seeded pseudo-random
        // column with as many distinct values, column 2 is constant.
        let rows: Vec<Vec<f64>> = (0..200)
            .map(|i| {
                let noise = ((i * 7919 + 13) % 211) as f64 / 211.0;
                vec![(i as f64 * 0.37).sin(), noise, 1.0]
            })
            .collect();
        let y: Vec<f64> = rows.iter().map(|r| 10.0 * r[0]).collect();
        let forest = ForestParams::default()
            .trees(30)
            .fit_forest(&Matrix::from_rows(&rows), &y, 5)
            .unwrap();
        let importance = forest.importance();
        assert_eq!(importance.len(), 3);
        assert!((importance.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(importance[0] > 0.95, "{importance:?}");
        assert_eq!(importance[2], 0.0);
        // A target no split can reduce: no importance anywhere.
        let flat = ForestParams::default()
            .trees(3)
            .fit_forest(&Matrix::from_rows(&rows), &[2.0; 200], 5)
            .unwrap();
        assert_eq!(flat.importance(), vec![0.0; 3]);
    }

    #[test]
    fn same_seed_same_forest_whatever_the_thread_count() {
        let (x, y) = data(300);
        let params = ForestParams::default().trees(20).max_features(0.67);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let a = one.install(|| params.fit_forest(&x, &y, 42).unwrap().predict(&x).unwrap());
        let b = two.install(|| params.fit_forest(&x, &y, 42).unwrap().predict(&x).unwrap());
        assert_eq!(a, b);
        let c = params.fit_forest(&x, &y, 43).unwrap().predict(&x).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn members_average_to_the_prediction() {
        let (x, y) = data(100);
        let f = ForestParams::default()
            .trees(7)
            .fit_forest(&x, &y, 1)
            .unwrap();
        let members = f.predict_members(&x).unwrap().unwrap();
        assert_eq!(members.len(), 7);
        let mean = f.predict(&x).unwrap();
        for i in 0..x.rows() {
            let m: f64 = members.iter().map(|t| t[i]).sum::<f64>() / 7.0;
            assert!((m - mean[i]).abs() < 1e-9);
        }
    }

    #[test]
    fn forest_beats_the_mean_on_held_out_rows() {
        let (x, y) = data(600);
        let train: Vec<usize> = (0..500).collect();
        let test: Vec<usize> = (500..600).collect();
        let ytr: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let yte: Vec<f64> = test.iter().map(|&i| y[i]).collect();
        let f = ForestParams::default()
            .trees(50)
            .fit_forest(&x.select(&train), &ytr, 0)
            .unwrap();
        let pred = f.predict(&x.select(&test)).unwrap();
        let mean = ytr.iter().sum::<f64>() / ytr.len() as f64;
        let mae = crate::metrics::mae(&yte, &pred);
        let baseline = crate::metrics::mae(&yte, &vec![mean; yte.len()]);
        assert!(mae < 0.25 * baseline, "forest MAE {mae} vs mean {baseline}");
    }
}
