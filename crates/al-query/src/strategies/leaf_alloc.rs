//! `leaf-alloc`: leaf-stratified allocation of the batch (Goetz, Tewari &
//! Zimmerman, NeurIPS 2018; Jose et al., Data Mining and Knowledge
//! Discovery 2023).

use std::collections::HashMap;

use al_models::params::{at_least, param, Kind};
use al_models::tree::TreeParams;
use al_models::Matrix;

use super::in_pick_order;
use crate::distance::squared;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "leaf-alloc",
    description: "leaf-stratified allocation: a tree's leaves get labels by pool share and target spread, counting the labels they hold; inside a leaf the row that best covers the leaf's pool",
    reference: "Goetz, Tewari & Zimmerman 2018; Jose et al. 2023",
    params: &[
        param("min_leaf", "5", at_least(1), "fewest labeled rows in a leaf of the tree"),
        param(
            "loss",
            "mse",
            Kind::Choice(&["mae", "mse"]),
            "the error the allocation minimises: (p·σ)^(2/3) per leaf for mae, √p·σ for mse",
        ),
        param(
            "shrink",
            "2",
            Kind::NonNegative,
            "pseudo-labels pulling a leaf's spread toward the global one",
        ),
        param(
            "within",
            "cover",
            Kind::Choice(&["far", "cover"]),
            "the row taken in a leaf: farthest from its labeled rows, or the one that best covers the leaf's pool (k-median)",
        ),
    ],
    build: |p| {
        Ok(Box::new(LeafAlloc {
            min_leaf: p.count("min_leaf"),
            squared_loss: p.text("loss") == "mse",
            shrink: p.real("shrink"),
            cover: p.text("within") == "cover",
        }))
    },
    model_use: crate::registry::ModelUse::OwnModel,
};

/// A regression tree with at least `min_leaf` labeled rows per leaf splits
/// the space into strata. Leaf k holds a share p_k of all rows (labeled and
/// pool), n_k labels, and a spread σ_k of their targets, shrunk toward the
/// global spread. Its optimal total of labels is proportional to
/// (p_k σ_k)^(2/3) for absolute error (√p_k · σ_k for squared error); each
/// new label goes to the leaf furthest below its total, and inside the leaf
/// to the pool row farthest from every labeled or picked row there.
pub struct LeafAlloc {
    pub min_leaf: usize,
    pub squared_loss: bool,
    pub shrink: f64,
    /// Inside a leaf, take the row that most reduces the summed distance
    /// from the leaf's pool rows to their nearest labeled-or-picked row,
    /// instead of the farthest row.
    pub cover: bool,
}

/// One stratum: its rows and what the allocation needs to know of it.
struct Leaf {
    labeled: Vec<usize>,
    pool: Vec<usize>,
    weight: f64,
}

impl LeafAlloc {
    /// `pool`: the candidates' dense features.
    fn leaves(&self, input: &QueryInput, pool: &Matrix) -> Result<Vec<Leaf>, QueryError> {
        let tree = TreeParams::default()
            .min_samples_leaf(self.min_leaf)
            .fit_tree(input.labeled_x, input.labeled_y, input.seed)?;
        // Leaves numbered in the order rows first reach them: deterministic.
        let mut position: HashMap<usize, usize> = HashMap::new();
        let mut leaves: Vec<Leaf> = Vec::new();
        let mut leaf_of = |row: &[f64]| -> usize {
            *position.entry(tree.leaf_index(row)).or_insert_with(|| {
                leaves.push(Leaf {
                    labeled: vec![],
                    pool: vec![],
                    weight: 0.0,
                });
                leaves.len() - 1
            })
        };
        let labeled_leaf: Vec<usize> = input.labeled_x.iter_rows().map(&mut leaf_of).collect();
        let pool_leaf: Vec<usize> = pool.iter_rows().map(&mut leaf_of).collect();
        for (j, &k) in labeled_leaf.iter().enumerate() {
            leaves[k].labeled.push(j);
        }
        for (i, &k) in pool_leaf.iter().enumerate() {
            leaves[k].pool.push(i);
        }
        let y = input.labeled_y;
        let global = variance(y);
        let total = (y.len() + input.candidates.rows()) as f64;
        for leaf in &mut leaves {
            let targets: Vec<f64> = leaf.labeled.iter().map(|&j| y[j]).collect();
            let n = targets.len() as f64;
            let spread = ((n * variance(&targets) + self.shrink * global)
                / (n + self.shrink).max(1e-12))
            .sqrt();
            let share = (leaf.labeled.len() + leaf.pool.len()) as f64 / total;
            leaf.weight = if self.squared_loss {
                share.sqrt() * spread
            } else {
                (share * spread).powf(2.0 / 3.0)
            };
        }
        Ok(leaves)
    }
}

/// The position in `pool` of the row farthest from its nearest
/// labeled-or-picked row; ties to the earlier row.
fn farthest(pool: &[usize], nearest: &[f64]) -> usize {
    (0..pool.len()).fold(0, |b, at| {
        if nearest[pool[at]] > nearest[pool[b]] {
            at
        } else {
            b
        }
    })
}

/// Pool rows of a leaf weighed as candidates and as rows to cover, at most
/// this many of each (the leaf's first ones, in pool order).
const COVER_SAMPLE: usize = 400;

/// The position in `pool` of the row whose pick most reduces the summed
/// (squared-distance) gap from the leaf's rows to their nearest
/// labeled-or-picked row: greedy k-median inside the leaf. A leaf with no
/// labeled row counts every gap as the leaf's widest distance.
fn best_cover(c: &al_models::Matrix, pool: &[usize], nearest: &[f64]) -> usize {
    let rows = &pool[..pool.len().min(COVER_SAMPLE)];
    let widest = rows
        .iter()
        .flat_map(|&a| rows.iter().map(move |&b| squared(c.row(a), c.row(b))))
        .fold(0.0, f64::max);
    let gap = |u: usize| {
        if nearest[u].is_finite() {
            nearest[u].sqrt()
        } else {
            2.0 * widest.sqrt() + 1.0
        }
    };
    (0..rows.len())
        .map(|at| {
            let gain: f64 = rows
                .iter()
                .map(|&u| (gap(u) - squared(c.row(rows[at]), c.row(u)).sqrt()).max(0.0))
                .sum();
            (at, gain)
        })
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (at, g)| if g > b.1 { (at, g) } else { b },
        )
        .0
}

fn variance(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
}

impl Strategy for LeafAlloc {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let n = input.candidates.rows();
        if n == 0 {
            return Err(QueryError::NoCandidates);
        }
        // Leaves and picks both look at every pool row: the dense pool is
        // expanded once and held.
        let dense = input.candidates.dense();
        let c: &Matrix = &dense;
        let mut leaves = self.leaves(input, c)?;
        let batch = input.batch.min(n);
        let weights: f64 = leaves.iter().map(|l| l.weight).sum();
        let budget = (input.labeled_y.len() + batch) as f64;
        let targets: Vec<f64> = leaves
            .iter()
            .map(|l| {
                if weights > 0.0 {
                    budget * l.weight / weights
                } else {
                    budget * (l.labeled.len() + l.pool.len()) as f64
                        / (input.labeled_y.len() + n) as f64
                }
            })
            .collect();
        // Distance of each pool row to the nearest labeled-or-picked row
        // of its own leaf (infinite when the leaf has none).
        let mut nearest: Vec<f64> = vec![f64::INFINITY; n];
        for leaf in &leaves {
            for &i in &leaf.pool {
                nearest[i] = leaf
                    .labeled
                    .iter()
                    .map(|&j| squared(c.row(i), input.labeled_x.row(j)))
                    .fold(f64::INFINITY, f64::min);
            }
        }
        let mut held: Vec<f64> = leaves.iter().map(|l| l.labeled.len() as f64).collect();
        let mut picked = Vec::with_capacity(batch);
        while picked.len() < batch {
            // The leaf furthest below its target that still has pool rows;
            // ties to the larger weight, then the earlier leaf.
            let Some(k) = (0..leaves.len())
                .filter(|&k| !leaves[k].pool.is_empty())
                .max_by(|&a, &b| {
                    (targets[a] - held[a])
                        .total_cmp(&(targets[b] - held[b]))
                        .then(leaves[a].weight.total_cmp(&leaves[b].weight))
                        .then(b.cmp(&a))
                })
            else {
                break;
            };
            let leaf = &mut leaves[k];
            let at = if self.cover {
                best_cover(c, &leaf.pool, &nearest)
            } else {
                farthest(&leaf.pool, &nearest)
            };
            let best = leaf.pool[at];
            leaf.pool.remove(at);
            picked.push(Selection {
                index: best,
                score: targets[k] - held[k],
            });
            held[k] += 1.0;
            for &i in &leaf.pool {
                nearest[i] = nearest[i].min(squared(c.row(i), c.row(best)));
            }
        }
        Ok(in_pick_order(picked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    #[test]
    fn the_noisy_leaf_gets_more_of_the_batch() {
        // Left half: constant targets; right half: widely spread. Equal
        // pool shares, so the spread decides: most picks go right.
        let labeled: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..20)
            .map(|i| {
                if i < 10 {
                    5.0
                } else {
                    (i * 37 % 11) as f64 * 20.0
                }
            })
            .collect();
        let pool: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64 * 0.5 + 0.25]).collect();
        let picks = run(
            &LeafAlloc {
                min_leaf: 5,
                squared_loss: false,
                shrink: 2.0,
                cover: false,
            },
            &labeled,
            &y,
            &pool,
            8,
            "linear",
        );
        let right = picks.iter().filter(|&&i| pool[i][0] > 9.5).count();
        assert!(
            right >= 6,
            "{right} of 8 picks in the noisy half: {picks:?}"
        );
    }
}
