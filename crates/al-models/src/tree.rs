//! CART regression trees on histogram-binned features.
//!
//! Why hand-written: linfa-trees has no regression tree, and smartcore's
//! trees (a) count depth one level deeper than scikit-learn, (b) give no
//! per-tree predictions from their forest and (c) sort samples at every node.
//! Here every feature is quantised once into at most 256 bins whose edges are
//! data values (exactly the distinct values when there are at most 256 of
//! them, as on the article's data), so a large node's best split comes from
//! one histogram pass, a small subtree's nodes scan lists sorted once at its
//! root (`Presorted`), and the forest shares the binning across its trees.
//! Thresholds are midpoints between neighbouring data values, as in
//! scikit-learn, so prediction compares raw feature values. Measured against
//! scikit-learn in docs/benchmarks.md.

use rand::seq::index;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::matrix::Matrix;
use crate::params::{at_least, param, Kind};
use crate::spec::ModelInfo;
use crate::{check_training, Fit, ModelError, Predict};

const MAX_BINS: usize = 256;

/// Features quantised to bin codes, column-major, shared by a forest's trees.
#[derive(Debug, Clone)]
pub struct Binned {
    n: usize,
    codes: Vec<u8>,
    /// `thresholds[f][b]` separates bin `b` (<=) from bin `b + 1`.
    thresholds: Vec<Vec<f64>>,
    /// The smallest and largest value of feature `f` in bin `b`.
    lowest: Vec<Vec<f64>>,
    highest: Vec<Vec<f64>>,
}

impl Binned {
    pub fn new(x: &Matrix) -> Binned {
        let n = x.rows();
        let mut codes = vec![0u8; n * x.cols()];
        let mut thresholds = Vec::with_capacity(x.cols());
        let mut lowest = Vec::with_capacity(x.cols());
        let mut highest = Vec::with_capacity(x.cols());
        let mut column = Vec::with_capacity(n);
        for f in 0..x.cols() {
            column.clear();
            column.extend((0..n).map(|i| x.get(i, f)));
            let mut sorted = column.clone();
            sorted.sort_by(f64::total_cmp);
            let mut unique = sorted.clone();
            unique.dedup();
            let cuts: Vec<f64> = if unique.len() <= MAX_BINS {
                unique[..unique.len().saturating_sub(1)].to_vec()
            } else {
                let mut c: Vec<f64> = (1..MAX_BINS).map(|k| sorted[k * n / MAX_BINS]).collect();
                c.dedup();
                c.retain(|v| *v < unique[unique.len() - 1]);
                c
            };
            let t = cuts
                .iter()
                .map(|c| {
                    let i = unique.partition_point(|u| u < c);
                    midpoint(unique[i], unique[i + 1])
                })
                .collect();
            let mut low = vec![f64::INFINITY; cuts.len() + 1];
            let mut high = vec![f64::NEG_INFINITY; cuts.len() + 1];
            for (i, v) in column.iter().enumerate() {
                let code = cuts.partition_point(|c| c < v);
                codes[f * n + i] = code as u8;
                low[code] = low[code].min(*v);
                high[code] = high[code].max(*v);
            }
            thresholds.push(t);
            lowest.push(low);
            highest.push(high);
        }
        Binned {
            n,
            codes,
            thresholds,
            lowest,
            highest,
        }
    }

    pub fn rows(&self) -> usize {
        self.n
    }

    pub fn cols(&self) -> usize {
        self.thresholds.len()
    }

    /// Feature `f`'s bin codes, by sample index.
    fn column(&self, f: usize) -> &[u8] {
        &self.codes[f * self.n..(f + 1) * self.n]
    }

    fn n_bins(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }

    /// Where to cut feature `f` when a node's rows reach up to bin `left`
    /// and resume at bin `right`: halfway between the two bins' data values,
    /// as scikit-learn and smartcore cut halfway between the node's values.
    /// (Cutting right after `left` would send every unseen value in the gap
    /// to the right: a bootstrap sample leaves many such gaps.)
    fn cut(&self, f: usize, left: usize, right: usize) -> f64 {
        if right == left + 1 {
            return self.thresholds[f][left];
        }
        midpoint(self.highest[f][left], self.lowest[f][right])
    }
}

/// scikit-learn's rule: the midpoint, unless rounding lands it on the upper value.
fn midpoint(lo: f64, hi: f64) -> f64 {
    let m = lo / 2.0 + hi / 2.0;
    if m >= hi {
        lo
    } else {
        m
    }
}

/// The registry entry of `tree`.
pub static INFO: ModelInfo = ModelInfo {
    name: "tree",
    description: "one regression tree (CART, squared error)",
    library: "al",
    params: &[
        param(
            "depth",
            "none",
            Kind::CountOrNone { min: 1 },
            "levels of splits at most, as in scikit-learn",
        ),
        param(
            "min_leaf",
            "1",
            at_least(1),
            "fewest training rows in a leaf",
        ),
    ],
    build: |p| {
        Box::new(TreeParams {
            max_depth: p.count_or_none("depth"),
            min_samples_leaf: p.count("min_leaf"),
            max_features: 1.0,
        })
    },
};

/// Growth limits of one tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeParams {
    /// Levels of splits, as in scikit-learn (`Some(5)`: at most 5 splits from root to leaf).
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    /// Fraction of features tried at each split (1.0 = all).
    pub max_features: f64,
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams {
            max_depth: None,
            min_samples_leaf: 1,
            max_features: 1.0,
        }
    }
}

impl TreeParams {
    pub fn depth(mut self, depth: Option<usize>) -> Self {
        self.max_depth = depth;
        self
    }

    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.min_samples_leaf = n;
        self
    }

    /// Refuses limits no tree can meet (the spec parser refuses them first;
    /// this guards parameters built in code).
    pub fn check(&self) -> Result<(), ModelError> {
        let bad = |key: &str, value: String, expected: &str| {
            Err(ModelError::Param(crate::params::ParamError::Invalid {
                owner: "tree".into(),
                key: key.into(),
                value,
                expected: expected.into(),
            }))
        };
        if self.max_depth == Some(0) {
            return bad("depth", "0".into(), "a whole number >= 1, or none");
        }
        if self.min_samples_leaf == 0 {
            return bad("min_leaf", "0".into(), "a whole number >= 1");
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return bad(
                "max_features",
                self.max_features.to_string(),
                "a fraction in (0, 1]",
            );
        }
        Ok(())
    }

    /// Fits one tree on all rows with equal weight.
    pub fn fit_tree(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Tree, ModelError> {
        check_training(x, y)?;
        self.check()?;
        let binned = Binned::new(x);
        Ok(Tree::fit(&binned, y, &vec![1.0; y.len()], self, seed))
    }
}

impl Fit for TreeParams {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        Ok(Box::new(self.fit_tree(x, y, seed)?))
    }
}

impl Predict for Tree {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        let mut out = vec![0.0; x.rows()];
        self.predict_rows(x, 0, &mut out);
        Ok(out)
    }

    fn export(&self) -> Option<crate::fitted::FittedModel> {
        Some(crate::fitted::FittedModel::Tree(self.clone()))
    }
}

/// 16 bytes, so that prediction (a walk per row per tree, the cost of every
/// variance strategy on a large pool) touches little memory. Children are
/// stored next to each other: the right child is `left + 1`. A leaf points
/// to itself with an infinite threshold, so a walk that reaches it stays
/// there: rows can walk in lockstep for the tree's depth without a branch.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Node {
    threshold: f64,
    feature: u32,
    left: u32,
}

/// A fitted regression tree. Every tree, grown or read back from bytes,
/// has the shape [`TreeData::check`] asks for: prediction walks its nodes
/// without bounds checks on that promise.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "TreeData")]
pub struct Tree {
    nodes: Vec<Node>,
    /// Levels of splits on the longest path.
    depth: usize,
    /// Levels walked in lockstep when predicting: the depth by which 90 %
    /// of the training samples have reached their leaf.
    lockstep: usize,
    /// Mean training target per node (used at leaves).
    values: Vec<f64>,
    /// Variance of the training targets that reached each node.
    variances: Vec<f64>,
    /// Per feature, the squared error its splits removed (weighted by the
    /// samples in each node): impurity importance (Breiman 2001).
    gains: Vec<f64>,
    /// Features a row needs: one more than the largest a node reads.
    #[serde(skip)]
    width: usize,
}

/// A tree as bytes hold it, checked before it becomes a [`Tree`].
#[derive(serde::Deserialize)]
struct TreeData {
    nodes: Vec<Node>,
    depth: usize,
    lockstep: usize,
    values: Vec<f64>,
    variances: Vec<f64>,
    gains: Vec<f64>,
}

impl TreeData {
    /// The shape a walk relies on: at least one node, a value and a
    /// variance per node; a leaf points to itself with an infinite
    /// threshold (no row leaves it); a split's children come after it and
    /// both exist (every walk ends, and every step lands on a node).
    fn check(self) -> Result<Tree, String> {
        let n = self.nodes.len();
        if n == 0 || self.values.len() != n || self.variances.len() != n {
            return Err(format!(
                "a tree needs one value and one variance per node: {} nodes, {} values, {} variances",
                n,
                self.values.len(),
                self.variances.len()
            ));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let left = node.left as usize;
            let leaf = left == i && node.threshold == f64::INFINITY;
            let split = left > i && left + 1 < n;
            if !(leaf || split) {
                return Err(format!(
                    "tree node {i} of {n}: a split's children must follow it (left child {left})"
                ));
            }
        }
        let width = self
            .nodes
            .iter()
            .map(|n| n.feature as usize + 1)
            .max()
            .unwrap_or(1);
        Ok(Tree {
            nodes: self.nodes,
            depth: self.depth,
            lockstep: self.lockstep,
            values: self.values,
            variances: self.variances,
            gains: self.gains,
            width,
        })
    }
}

impl TryFrom<TreeData> for Tree {
    type Error = String;

    fn try_from(data: TreeData) -> Result<Tree, String> {
        data.check()
    }
}

#[derive(Clone, Copy, Default)]
struct Acc {
    w: f64,
    s: f64,
    count: u32,
}

struct Split {
    feature: usize,
    bin: usize,
    score: f64,
}

/// Nodes of at most this many samples are fitted from lists kept sorted
/// (see [`Presorted`]); above it, a feature with many bins is scanned by
/// histogram. Twice the bins, as the per-node choice between the two
/// scans below.
const PRESORT_AT: usize = 2 * MAX_BINS;

/// A node waiting to be split: its samples are `samples[start..end]`.
struct Pending {
    id: usize,
    start: usize,
    end: usize,
    depth: usize,
    /// Features known to be constant here (constant in a node, constant
    /// in all below it: never scanned again, as scikit-learn does; they
    /// could not split anyway, so the tree is the same).
    constant: Vec<bool>,
}

/// The samples of one small subtree, sorted by the code of each feature
/// with many bins, so that its nodes scan those features in order without
/// sorting. A node's samples occupy the same range in every list (the
/// range they occupy in `samples`), and a split partitions each list
/// stably, which keeps both halves sorted: O(samples) per feature and node
/// instead of a sort. Built when the depth-first growth first reaches a
/// node of at most [`PRESORT_AT`] samples, and used for all nodes below it
/// (they are grown before any node outside it).
struct Presorted {
    /// Where the subtree's samples start and end in `samples`.
    start: usize,
    end: usize,
    /// `slot[f]`: the list of feature `f`, if kept.
    slot: Vec<Option<usize>>,
    lists: Vec<u32>,
    scratch: Vec<u32>,
}

impl Presorted {
    fn new(features: usize) -> Presorted {
        Presorted {
            start: 0,
            end: 0,
            slot: vec![None; features],
            lists: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn covers(&self, start: usize, end: usize) -> bool {
        self.start <= start && end <= self.end && self.end > self.start
    }

    /// Sorts the subtree's samples by each feature the sorted scan serves
    /// at its size (by code, then sample index: a stable counting sort of
    /// the indices in order).
    fn build(&mut self, binned: &Binned, samples: &[u32], start: usize) {
        let len = samples.len();
        self.start = start;
        self.end = start + len;
        let mut by_index = samples.to_vec();
        by_index.sort_unstable();
        self.lists.clear();
        let mut kept = 0;
        for f in 0..binned.cols() {
            self.slot[f] = None;
            let bins = binned.n_bins(f);
            if len > 2 * bins {
                continue;
            }
            self.slot[f] = Some(kept);
            kept += 1;
            let column = binned.column(f);
            let mut next = [0usize; MAX_BINS + 1];
            for &i in &by_index {
                next[column[i as usize] as usize + 1] += 1;
            }
            for b in 1..=bins {
                next[b] += next[b - 1];
            }
            let base = self.lists.len();
            self.lists.resize(base + len, 0);
            for &i in &by_index {
                let code = column[i as usize] as usize;
                self.lists[base + next[code]] = i;
                next[code] += 1;
            }
        }
    }

    /// Feature `f`'s samples of the node `start..end`, in code order.
    fn list(&self, f: usize, start: usize, end: usize) -> Option<&[u32]> {
        let len = self.end - self.start;
        let base = self.slot[f]? * len;
        Some(&self.lists[base + start - self.start..base + end - self.start])
    }

    /// After the node `start..end` split at `mid`, moves the samples for
    /// which `left` holds to the front of every list, keeping their order.
    fn partition(&mut self, start: usize, end: usize, left: &[bool]) {
        let len = self.end - self.start;
        let lists = self.slot.iter().flatten().count();
        for slot in 0..lists {
            let base = slot * len;
            let segment = &mut self.lists[base + start - self.start..base + end - self.start];
            self.scratch.resize(segment.len(), 0);
            // Without a branch: which way a sample goes is a coin flip to
            // the predictor, so every sample is written to both places and
            // only the right count advances.
            let (mut kept, mut moved) = (0, 0);
            for k in 0..segment.len() {
                let i = segment[k];
                let goes_left = usize::from(left[i as usize]);
                segment[kept] = i;
                self.scratch[moved] = i;
                kept += goes_left;
                moved += 1 - goes_left;
            }
            segment[kept..].copy_from_slice(&self.scratch[..moved]);
        }
    }
}

/// One tree's growth: the training data, the tree so far and the buffers
/// its scans reuse.
struct Grower<'a> {
    binned: &'a Binned,
    y: &'a [f64],
    params: &'a TreeParams,
    /// Each sample's weight and weighted target, by sample index.
    sample_ws: Vec<(f64, f64)>,
    /// `samples[start..end]` are a pending node's samples.
    samples: Vec<u32>,
    presorted: Presorted,
    /// Scratch: which samples go left at the split being made.
    goes_left: Vec<bool>,
    hist: Vec<Acc>,
    pairs: Vec<(u8, f64, f64)>,
    keys: Vec<u32>,
    node_ws: Vec<(f64, f64)>,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    values: Vec<f64>,
    variances: Vec<f64>,
    gains: Vec<f64>,
    /// (depth, training samples) of each leaf.
    leaves: Vec<(usize, usize)>,
    max_depth: usize,
}

impl Tree {
    /// Fits on binned features; `weights[i]` is how often sample `i` counts
    /// (bootstrap multiplicity; 0 leaves it out).
    pub fn fit(
        binned: &Binned,
        y: &[f64],
        weights: &[f64],
        params: &TreeParams,
        seed: u64,
    ) -> Tree {
        Grower::new(binned, y, weights, params, seed).grow(true)
    }

    /// The squared error each feature's splits removed from the training
    /// targets (unnormalised impurity importance; zeros for a single leaf).
    pub fn gains(&self) -> &[f64] {
        &self.gains
    }

    /// Which leaf `x` falls into (a node index; equal for rows the tree
    /// cannot tell apart).
    pub fn leaf_index(&self, x: &[f64]) -> usize {
        self.leaf_from(0, x)
    }

    /// Predictions for rows `first..first + out.len()` of `x`. Sixteen rows
    /// walk in lockstep: their loads are independent, so the CPU overlaps
    /// them instead of waiting on one chain of loads. Leaves point to
    /// themselves, so a row that reached one stays. The lockstep runs to the
    /// depth where 90 % of the training samples had reached their leaf, not
    /// to the deepest leaf (grown trees are lopsided: about 15 levels of 20
    /// on a forest of 1 000 rows); the few rows still inside the tree then
    /// finish alone. The leaf, and so the prediction, is the same.
    ///
    /// Panics if `x` has fewer columns than the tree reads.
    pub fn predict_rows(&self, x: &Matrix, first: usize, out: &mut [f64]) {
        // Without bounds checks, sixteen lanes fit the registers and the
        // spread of a 100-tree forest over 100 000 rows took 0.091 → 0.075 s
        // (eight lanes with checks before; sixteen with checks: 0.104 s).
        const LANES: usize = 16;
        assert!(
            x.cols() >= self.width,
            "the tree reads {} features, the rows have {}",
            self.width,
            x.cols()
        );
        for (block, chunk) in out.chunks_mut(LANES).enumerate() {
            let start = first + block * LANES;
            let rows: [&[f64]; LANES] =
                std::array::from_fn(|l| x.row(start + l.min(chunk.len() - 1)));
            let mut idx = [0usize; LANES];
            for _ in 0..self.lockstep {
                for (i, row) in idx.iter_mut().zip(&rows) {
                    // SAFETY: `*i` is a node: the walk starts at node 0 (a
                    // tree has one) and every step lands on a node
                    // (`TreeData::check`: a leaf's `left` is itself and
                    // `x > ∞` is false, a split's `left + 1` is a node).
                    // `node.feature < self.width <= x.cols() == row.len()`
                    // (the assert above; `width` is computed by the check).
                    let node = unsafe { self.nodes.get_unchecked(*i) };
                    let value = unsafe { *row.get_unchecked(node.feature as usize) };
                    *i = node.left as usize + usize::from(value > node.threshold);
                }
            }
            for ((o, i), row) in chunk.iter_mut().zip(&idx).zip(&rows) {
                *o = self.values[self.leaf_from(*i, row)];
            }
        }
    }

    /// The leaf `x` reaches from node `i`.
    fn leaf_from(&self, mut i: usize, x: &[f64]) -> usize {
        loop {
            let node = &self.nodes[i];
            let next = node.left as usize + usize::from(x[node.feature as usize] > node.threshold);
            if next == i {
                return i;
            }
            i = next;
        }
    }

    pub fn predict_row(&self, x: &[f64]) -> f64 {
        self.values[self.leaf_index(x)]
    }

    /// Variance of the training targets in the leaf `x` falls into.
    pub fn leaf_variance(&self, x: &[f64]) -> f64 {
        self.variances[self.leaf_index(x)]
    }

    /// Levels of splits on the longest path (0 for a single leaf).
    pub fn depth(&self) -> usize {
        self.depth
    }

    pub fn n_leaves(&self) -> usize {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].left as usize == i)
            .count()
    }
}

impl<'a> Grower<'a> {
    fn new(
        binned: &'a Binned,
        y: &'a [f64],
        weights: &[f64],
        params: &'a TreeParams,
        seed: u64,
    ) -> Grower<'a> {
        let n = binned.rows();
        let p = binned.cols();
        Grower {
            binned,
            y,
            params,
            sample_ws: (0..n).map(|i| (weights[i], weights[i] * y[i])).collect(),
            samples: (0..n as u32)
                .filter(|&i| weights[i as usize] > 0.0)
                .collect(),
            presorted: Presorted::new(p),
            goes_left: vec![false; n],
            hist: vec![Acc::default(); MAX_BINS],
            pairs: Vec::new(),
            keys: Vec::new(),
            node_ws: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            nodes: vec![leaf_at(0)],
            values: vec![0.0],
            variances: vec![0.0],
            gains: vec![0.0; p],
            leaves: Vec::new(),
            max_depth: 0,
        }
    }

    /// Grows the tree depth first, left child first. `presort`: keep small
    /// subtrees presorted (false only to check that both scans agree).
    fn grow(mut self, presort: bool) -> Tree {
        let mut stack = vec![Pending {
            id: 0,
            start: 0,
            end: self.samples.len(),
            depth: 0,
            constant: vec![false; self.binned.cols()],
        }];
        while let Some(node) = stack.pop() {
            if let Some((left, right)) = self.split(node, presort) {
                stack.push(right);
                stack.push(left);
            }
        }
        TreeData {
            lockstep: lockstep_depth(&mut self.leaves),
            nodes: self.nodes,
            depth: self.max_depth,
            values: self.values,
            variances: self.variances,
            gains: self.gains,
        }
        .check()
        .expect("a grown tree has a tree's shape")
    }

    /// Sets the node's value and variance, and splits it if it can and
    /// should, returning its children.
    fn split(&mut self, node: Pending, presort: bool) -> Option<(Pending, Pending)> {
        let Pending {
            id,
            start,
            end,
            depth,
            mut constant,
        } = node;
        let (w, s, ss) = self.samples[start..end]
            .iter()
            .fold((0.0, 0.0, 0.0), |(w, s, ss), &i| {
                let (wi, wy) = self.sample_ws[i as usize];
                let yi = self.y[i as usize];
                (w + wi, s + wy, ss + wy * yi)
            });
        let mean = if w > 0.0 { s / w } else { 0.0 };
        let variance = if w > 0.0 {
            (ss / w - mean * mean).max(0.0)
        } else {
            0.0
        };
        self.values[id] = mean;
        self.variances[id] = variance;
        let count = end - start;
        let min_leaf = self.params.min_samples_leaf;
        let at_limit = self.params.max_depth.is_some_and(|d| depth >= d);
        if at_limit || count < 2 * min_leaf || variance <= 1e-12 * (1.0 + mean * mean) {
            self.leaves.push((depth, count));
            return None;
        }
        if presort && count <= PRESORT_AT && !self.presorted.covers(start, end) {
            self.presorted
                .build(self.binned, &self.samples[start..end], start);
        }
        let total = Acc {
            w,
            s,
            count: count as u32,
        };
        let parent_score = s * s / w;
        let split = self
            .best_split(start, end, total, &mut constant)
            .filter(|b| b.score > parent_score * (1.0 + 1e-12) + 1e-12);
        let Some(split) = split else {
            self.leaves.push((depth, count));
            return None;
        };
        self.gains[split.feature] += split.score - parent_score;
        let column = self.binned.column(split.feature);
        let right_bin = self.samples[start..end]
            .iter()
            .map(|&i| column[i as usize] as usize)
            .filter(|&c| c > split.bin)
            .min()
            .expect("a split leaves rows on the right");
        let mid = start
            + partition(&mut self.samples[start..end], |i| {
                column[i as usize] as usize <= split.bin
            });
        if self.presorted.covers(start, end) {
            for (k, &i) in self.samples[start..end].iter().enumerate() {
                self.goes_left[i as usize] = start + k < mid;
            }
            self.presorted.partition(start, end, &self.goes_left);
        }
        let left = self.nodes.len();
        self.nodes.extend([leaf_at(left), leaf_at(left + 1)]);
        self.max_depth = self.max_depth.max(depth + 1);
        self.values.extend([0.0, 0.0]);
        self.variances.extend([0.0, 0.0]);
        self.nodes[id] = Node {
            feature: split.feature as u32,
            threshold: self.binned.cut(split.feature, split.bin, right_bin),
            left: left as u32,
        };
        let child = |id, start, end, constant| Pending {
            id,
            start,
            end,
            depth: depth + 1,
            constant,
        };
        Some((
            child(left, start, mid, constant.clone()),
            child(left + 1, mid, end, constant),
        ))
    }

    /// The best split of the node `start..end` over the features tried
    /// there (all, or a seeded sample with `max_features` below 1); marks
    /// the features found constant.
    fn best_split(
        &mut self,
        start: usize,
        end: usize,
        total: Acc,
        constant: &mut [bool],
    ) -> Option<Split> {
        let p = self.binned.cols();
        let n_try = ((self.params.max_features * p as f64).round() as usize).clamp(1, p.max(1));
        let features: Vec<usize> = if n_try < p {
            index::sample(&mut self.rng, p, n_try).into_vec()
        } else {
            (0..p).collect()
        };
        let min_leaf = self.params.min_samples_leaf as u32;
        let here = &self.samples[start..end];
        let presorted = self.presorted.covers(start, end);
        // Each sample's weight and weighted target in node order, gathered
        // once for the scans that read them in that order.
        let mut gathered = false;
        let mut best: Option<Split> = None;
        for f in features {
            if constant[f] {
                continue;
            }
            let list = if presorted {
                self.presorted.list(f, start, end)
            } else {
                None
            };
            let scan = if let Some(list) = list {
                best_split_presorted(
                    self.binned.column(f),
                    list,
                    &self.sample_ws,
                    total,
                    min_leaf,
                )
            } else {
                if !gathered {
                    self.node_ws.clear();
                    self.node_ws
                        .extend(here.iter().map(|&i| self.sample_ws[i as usize]));
                    gathered = true;
                }
                if here.len() > 2 * self.binned.n_bins(f) {
                    best_split_histogram(
                        self.binned,
                        f,
                        here,
                        &self.node_ws,
                        min_leaf,
                        &mut self.hist,
                    )
                } else {
                    best_split_sorted(
                        self.binned,
                        f,
                        here,
                        &self.node_ws,
                        min_leaf,
                        (&mut self.pairs, &mut self.keys),
                    )
                }
            };
            constant[f] = scan.constant;
            if let Some((bin, score)) = scan.best {
                if best.as_ref().is_none_or(|b| score > b.score) {
                    best = Some(Split {
                        feature: f,
                        bin,
                        score,
                    });
                }
            }
        }
        best
    }
}

/// The depth by which 90 % of the training samples have reached their leaf
/// (`leaves`: depth and samples of each leaf).
fn lockstep_depth(leaves: &mut [(usize, usize)]) -> usize {
    leaves.sort_unstable();
    let total: usize = leaves.iter().map(|l| l.1).sum();
    let mut seen = 0;
    for &(depth, n) in leaves.iter() {
        seen += n;
        if 10 * seen >= 9 * total {
            return depth;
        }
    }
    leaves.last().map_or(0, |l| l.0)
}

/// A leaf at position `index`: it points to itself.
fn leaf_at(index: usize) -> Node {
    Node {
        threshold: f64::INFINITY,
        feature: 0,
        left: index as u32,
    }
}

/// Moves the elements for which `left` holds to the front; returns their count.
fn partition(items: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let mut next = 0;
    for i in 0..items.len() {
        if left(items[i]) {
            items.swap(i, next);
            next += 1;
        }
    }
    next
}

/// Best split of one feature from a full histogram: for large nodes.
/// `ws[k]` is sample `samples[k]`'s weight and weighted target.
fn best_split_histogram(
    binned: &Binned,
    f: usize,
    samples: &[u32],
    ws: &[(f64, f64)],
    min_leaf: u32,
    hist: &mut [Acc],
) -> FeatureScan {
    let bins = binned.n_bins(f);
    hist[..bins].fill(Acc::default());
    let column = &binned.codes[f * binned.n..(f + 1) * binned.n];
    if bins == 2 {
        two_bin_histogram(column, samples, ws, hist);
    } else {
        for (&i, &(w, wy)) in samples.iter().zip(ws) {
            let h = &mut hist[column[i as usize] as usize];
            h.w += w;
            h.s += wy;
            h.count += 1;
        }
    }
    let total = hist[..bins].iter().fold(Acc::default(), |a, h| Acc {
        w: a.w + h.w,
        s: a.s + h.s,
        count: a.count + h.count,
    });
    let mut left = Acc::default();
    let mut best: Option<(usize, f64)> = None;
    for (b, h) in hist[..bins - 1].iter().enumerate() {
        left.w += h.w;
        left.s += h.s;
        left.count += h.count;
        if h.count == 0 {
            continue;
        }
        consider(&mut best, b, left, total, min_leaf);
    }
    FeatureScan {
        best,
        constant: hist[..bins]
            .iter()
            .any(|h| h.count as usize == samples.len()),
    }
}

/// One feature's best split in a node, and whether the feature is
/// constant there.
struct FeatureScan {
    best: Option<(usize, f64)>,
    constant: bool,
}

/// The histogram of a two-valued feature (a one-hot column) with its sums
/// in registers. Through memory, each sample's add waits for the previous
/// one's store to the same bin, and with two bins that is nearly every
/// sample; here each bin's sum is a register chain. Every sample adds to
/// both bins, its values times 1 or 0: `v × 1 = v` and `a + v × 0 = a`
/// exactly, so each bin's sum is the same as the plain loop's, bit for bit.
fn two_bin_histogram(column: &[u8], samples: &[u32], ws: &[(f64, f64)], hist: &mut [Acc]) {
    let (mut w0, mut s0, mut w1, mut s1, mut n1) = (0.0, 0.0, 0.0, 0.0, 0u32);
    for (&i, &(w, wy)) in samples.iter().zip(ws) {
        let code = column[i as usize];
        let one = f64::from(code);
        let zero = 1.0 - one;
        w0 += w * zero;
        s0 += wy * zero;
        w1 += w * one;
        s1 += wy * one;
        n1 += u32::from(code);
    }
    let n = samples.len() as u32;
    hist[0] = Acc {
        w: w0,
        s: s0,
        count: n - n1,
    };
    hist[1] = Acc {
        w: w1,
        s: s1,
        count: n1,
    };
}

/// Best split of one feature by sorting the node's samples: for small nodes,
/// where scanning 256 bins would cost more than the samples themselves.
fn best_split_sorted(
    binned: &Binned,
    f: usize,
    samples: &[u32],
    ws: &[(f64, f64)],
    min_leaf: u32,
    (pairs, keys): (&mut Vec<(u8, f64, f64)>, &mut Vec<u32>),
) -> FeatureScan {
    pairs.clear();
    let column = &binned.codes[f * binned.n..(f + 1) * binned.n];
    // Sort 4-byte keys (code, position) rather than the 24-byte tuples:
    // small nodes are most of a tree's nodes, and this sort was most of
    // the time of fitting a committee on 200 rows. Small nodes have fewer
    // than 2 × 256 samples, so the position fits in 16 bits.
    keys.clear();
    keys.extend(
        samples
            .iter()
            .enumerate()
            .map(|(k, &i)| (u32::from(column[i as usize]) << 16) | k as u32),
    );
    keys.sort_unstable();
    pairs.extend(keys.iter().map(|key| {
        let k = (key & 0xFFFF) as usize;
        (column[samples[k] as usize], ws[k].0, ws[k].1)
    }));
    let total = pairs.iter().fold(Acc::default(), |a, p| Acc {
        w: a.w + p.1,
        s: a.s + p.2,
        count: a.count + 1,
    });
    let mut left = Acc::default();
    let mut best = None;
    for k in 0..pairs.len() - 1 {
        left.w += pairs[k].1;
        left.s += pairs[k].2;
        left.count += 1;
        if pairs[k].0 != pairs[k + 1].0 {
            consider(&mut best, pairs[k].0 as usize, left, total, min_leaf);
        }
    }
    FeatureScan {
        best,
        constant: pairs.first().map(|p| p.0) == pairs.last().map(|p| p.0),
    }
}

/// Best split of one feature from its samples already in code order
/// ([`Presorted`]); `ws` by sample index, `total` the node's sums.
fn best_split_presorted(
    column: &[u8],
    list: &[u32],
    ws: &[(f64, f64)],
    total: Acc,
    min_leaf: u32,
) -> FeatureScan {
    let mut left = Acc::default();
    let mut best = None;
    let mut code = column[list[0] as usize];
    for pair in list.windows(2) {
        let (w, wy) = ws[pair[0] as usize];
        left.w += w;
        left.s += wy;
        left.count += 1;
        let next = column[pair[1] as usize];
        if next != code {
            consider(&mut best, code as usize, left, total, min_leaf);
            code = next;
        }
    }
    FeatureScan {
        best,
        constant: column[list[0] as usize] == code,
    }
}

/// Keeps the split with the largest `sL²/wL + sR²/wR` (the largest drop in
/// squared error); ties keep the earlier bin.
fn consider(best: &mut Option<(usize, f64)>, bin: usize, left: Acc, total: Acc, min_leaf: u32) {
    let right_count = total.count - left.count;
    if left.count < min_leaf || right_count < min_leaf {
        return;
    }
    let right_w = total.w - left.w;
    if left.w <= 0.0 || right_w <= 0.0 {
        return;
    }
    let right_s = total.s - left.s;
    let score = left.s * left.s / left.w + right_s * right_s / right_w;
    if best.is_none_or(|(_, s)| score > s) {
        *best = Some((bin, score));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(x: &[Vec<f64>], y: &[f64], params: TreeParams) -> Tree {
        let m = Matrix::from_rows(x);
        let b = Binned::new(&m);
        Tree::fit(&b, y, &vec![1.0; y.len()], &params, 0)
    }

    #[test]
    fn hand_checked_step_function() {
        // y jumps between x = 2 and x = 3 and again between 5 and 6: a depth-2
        // tree finds the first split at 2.5 (the larger drop in squared error),
        // then 5.5 in the right half.
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64]).collect();
        let y = [1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 9.0, 9.0];
        let t = fit(
            &x,
            &y,
            TreeParams {
                max_depth: Some(2),
                ..Default::default()
            },
        );
        assert_eq!(t.depth(), 2);
        let preds: Vec<f64> = [0.0, 2.4, 2.6, 5.4, 5.6, 100.0]
            .iter()
            .map(|&v| t.predict_row(&[v]))
            .collect();
        assert_eq!(preds, vec![1.0, 1.0, 5.0, 5.0, 9.0, 9.0]);
        let stump = fit(
            &x,
            &y,
            TreeParams {
                max_depth: Some(1),
                ..Default::default()
            },
        );
        assert_eq!(stump.depth(), 1);
        // Left of 2.5: mean 1; right: (5*3 + 9*2) / 5 = 6.6.
        assert_eq!(stump.predict_row(&[0.0]), 1.0);
        assert!((stump.predict_row(&[7.0]) - 6.6).abs() < 1e-12);
        assert!((stump.leaf_variance(&[7.0]) - 3.84).abs() < 1e-12);
    }

    #[test]
    fn depth_five_means_five_levels_of_splits() {
        let x: Vec<Vec<f64>> = (0..200)
            .map(|i| vec![i as f64, (i * 7 % 13) as f64])
            .collect();
        // A target rising with x0: every split halves its node, so depth 5
        // gives 2^5 leaves.
        let y: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let t = fit(
            &x,
            &y,
            TreeParams {
                max_depth: Some(5),
                ..Default::default()
            },
        );
        assert_eq!(t.depth(), 5);
        assert_eq!(t.n_leaves(), 32);
    }

    #[test]
    fn fully_grown_tree_fits_distinct_points_exactly() {
        let x: Vec<Vec<f64>> = (0..50).map(|i| vec![(i * 37 % 50) as f64]).collect();
        let y: Vec<f64> = (0..50).map(|i| (i as f64).sin()).collect();
        let t = fit(&x, &y, TreeParams::default());
        for (r, v) in x.iter().zip(&y) {
            assert_eq!(t.predict_row(r), *v);
        }
    }

    #[test]
    fn lockstep_stops_where_ninety_percent_of_samples_are_at_leaves() {
        // 50 samples at depth 2, 40 at 3, 9 at 7, 1 at 12.
        let mut leaves = vec![(7, 9), (2, 50), (12, 1), (3, 40)];
        assert_eq!(lockstep_depth(&mut leaves), 3);
        assert_eq!(lockstep_depth(&mut [(4, 1)]), 4);
        assert_eq!(lockstep_depth(&mut []), 0);
    }

    #[test]
    fn rows_walked_in_lockstep_reach_the_leaves_of_a_lopsided_tree() {
        // A staircase target grows a lopsided tree: the lockstep stops well
        // above the deepest leaf, and the stragglers must still finish.
        let x: Vec<Vec<f64>> = (0..300)
            .map(|i| vec![(i * 7919 % 300) as f64, (i % 3) as f64])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| (r[0] / 10.0).powi(3) + r[1]).collect();
        let t = fit(&x, &y, TreeParams::default());
        assert!(t.lockstep < t.depth(), "{} vs {}", t.lockstep, t.depth());
        let m = Matrix::from_rows(&x);
        let mut out = vec![0.0; x.len() - 3];
        t.predict_rows(&m, 3, &mut out);
        for (k, o) in out.iter().enumerate() {
            assert_eq!(*o, t.predict_row(&x[k + 3]), "row {}", k + 3);
        }
    }

    /// Integer targets and weights make every sum exact whatever order the
    /// samples are added in, so the presorted subtrees must grow exactly
    /// the tree that sorting each node grows: same nodes, same values.
    #[test]
    fn presorted_subtrees_grow_the_tree_that_sorting_each_node_grows() {
        // 1 500 rows: the root and its children are scanned by histogram,
        // the rest presorted. Columns: many distinct values, few, two.
        let x: Vec<Vec<f64>> = (0..1500)
            .map(|i| {
                vec![
                    ((i * 7919) % 1499) as f64,
                    (i % 37) as f64,
                    (i % 2) as f64,
                    ((i * 31) % 997) as f64 / 7.0,
                ]
            })
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|r| {
                ((r[0] as i64 % 97) * 3 + r[1] as i64 * r[2] as i64 - (r[3] as i64 % 11)) as f64
            })
            .collect();
        let m = Matrix::from_rows(&x);
        let b = Binned::new(&m);
        let weights: Vec<f64> = (0..1500).map(|i| ((i * 13) % 4) as f64).collect();
        for params in [
            TreeParams::default(),
            TreeParams::default().min_samples_leaf(3),
            TreeParams {
                max_features: 0.5,
                ..Default::default()
            },
        ] {
            let grow = |presort| Grower::new(&b, &y, &weights, &params, 7).grow(presort);
            let (fast, plain) = (grow(true), grow(false));
            assert!(fast.nodes.len() > 500, "{} nodes", fast.nodes.len());
            assert_eq!(fast.nodes.len(), plain.nodes.len());
            for (a, p) in fast.nodes.iter().zip(&plain.nodes) {
                assert_eq!((a.feature, a.left), (p.feature, p.left));
                assert_eq!(a.threshold.to_bits(), p.threshold.to_bits());
            }
            assert_eq!(fast.values, plain.values);
            assert_eq!(fast.gains, plain.gains);
        }
    }

    #[test]
    fn min_samples_leaf_is_respected() {
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let t = fit(
            &x,
            &y,
            TreeParams {
                min_samples_leaf: 5,
                ..Default::default()
            },
        );
        assert_eq!(t.n_leaves(), 4);
    }

    #[test]
    fn binning_many_values_keeps_thresholds_between_data_values() {
        let x: Vec<Vec<f64>> = (0..5000)
            .map(|i| vec![(i as f64 * 0.37).sin() * 100.0])
            .collect();
        let b = Binned::new(&Matrix::from_rows(&x));
        assert!(b.n_bins(0) <= MAX_BINS && b.n_bins(0) > 200);
        let mut sorted: Vec<f64> = x.iter().map(|r| r[0]).collect();
        sorted.sort_by(f64::total_cmp);
        for t in &b.thresholds[0] {
            let i = sorted.partition_point(|v| v <= t);
            assert!(i > 0 && i < sorted.len(), "threshold {t} outside the data");
        }
        assert_eq!(midpoint(1.0, 3.0), 2.0);
    }

    /// Bytes that would send a walk off the tree (a child past the end, a
    /// child before its parent, a missing value) are refused when read,
    /// so prediction's unchecked walk never meets them.
    #[test]
    fn a_tree_read_back_must_have_a_trees_shape() {
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64, (i % 7) as f64]).collect();
        let y: Vec<f64> = (0..40).map(|i| ((i * 13) % 11) as f64).collect();
        let tree = fit(&x, &y, TreeParams::default());
        let bytes = rmp_serde::to_vec_named(&tree).unwrap();
        let back: Tree = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back.width, 2);
        assert_eq!(back.predict_row(&[3.0, 3.0]), tree.predict_row(&[3.0, 3.0]));
        let with = |edit: &dyn Fn(&mut TreeData)| {
            let mut data = TreeData {
                nodes: tree.nodes.clone(),
                depth: tree.depth,
                lockstep: tree.lockstep,
                values: tree.values.clone(),
                variances: tree.variances.clone(),
                gains: tree.gains.clone(),
            };
            edit(&mut data);
            data.check().unwrap_err()
        };
        let last = tree.nodes.len() as u32 - 1;
        let past_the_end = with(&|d| d.nodes[0].left = last);
        assert!(past_the_end.starts_with("tree node 0 of"), "{past_the_end}");
        let backwards = with(&|d| d.nodes[1].left = 0);
        assert!(
            backwards.contains("a split's children must follow it"),
            "{backwards}"
        );
        let short = with(&|d| {
            d.values.pop();
        });
        assert!(
            short.contains("one value and one variance per node"),
            "{short}"
        );
        // And through bytes: serde reports the check's message.
        let mut broken = tree.clone();
        broken.nodes[0].left = last;
        let bytes = rmp_serde::to_vec_named(&broken).unwrap();
        let err = rmp_serde::from_slice::<Tree>(&bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a split's children must follow it"), "{err}");
    }

    #[test]
    #[should_panic(expected = "the tree reads 2 features, the rows have 1")]
    fn rows_narrower_than_the_tree_are_refused_before_any_walk() {
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![(i % 5) as f64, i as f64]).collect();
        let y: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let tree = fit(&x, &y, TreeParams::default());
        let mut out = [0.0; 3];
        tree.predict_rows(
            &Matrix::from_rows(&[vec![1.0], vec![2.0], vec![3.0]]),
            0,
            &mut out,
        );
    }
}
