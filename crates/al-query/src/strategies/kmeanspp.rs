//! `kmeanspp`: k-means++ D² sampling that starts from the labeled rows, in a
//! random forest's leaf space.

use al_models::derive_seed;
use al_models::params::{at_least, param, Kind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::leaf_space::{stack, LeafSpace};
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "kmeanspp",
    description: "k-means++ seeding from the labeled rows in a forest's leaf space: each pick drawn with probability proportional to its squared distance to the nearest labeled or picked row",
    reference: "Arthur & Vassilvitskii 2007 (k-means++); Holzmüller et al. 2023 (as a batch method)",
    params: &[
        param("trees", "50", at_least(1), "trees of the forest whose leaves define the distance"),
        param(
            "input",
            "0.05",
            Kind::NonNegative,
            "weight of the z-scored input distance that breaks the leaf distance's ties",
        ),
    ],
    build: |p| {
        Ok(Box::new(KmeansPp {
            trees: p.count("trees"),
            input: p.real("input"),
        }))
    },
};

/// Unlike farthest-point selection, the draw is random, so a batch is
/// spread out without running to the outliers.
pub struct KmeansPp {
    pub trees: usize,
    pub input: f64,
}

impl Strategy for KmeansPp {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let n = input.candidates.rows();
        if n == 0 {
            return Err(QueryError::NoCandidates);
        }
        let labeled = input.labeled_x.rows();
        let space = LeafSpace::fit(
            input.labeled_x,
            input.labeled_y,
            &stack(input.labeled_x, input.candidates),
            self.trees,
            self.input,
            derive_seed(input.seed, 51),
        )?;
        let centres: Vec<usize> = (0..labeled).collect();
        let mut d2: Vec<f64> = space.nearest(&centres)[labeled..]
            .iter()
            .map(|(d, _)| d * d)
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(input.seed, 52));
        let mut picked = Vec::with_capacity(input.batch.min(n));
        let mut taken = vec![false; n];
        while picked.len() < input.batch.min(n) {
            let total: f64 = (0..n).filter(|&i| !taken[i]).map(|i| d2[i]).sum();
            let index = if total > 0.0 && total.is_finite() {
                let mut target = rng.gen::<f64>() * total;
                let mut chosen = None;
                for i in (0..n).filter(|&i| !taken[i]) {
                    target -= d2[i];
                    chosen = Some(i);
                    if target <= 0.0 {
                        break;
                    }
                }
                chosen
            } else {
                // Everything left is a copy of a centre: the first untaken.
                (0..n).find(|&i| !taken[i])
            };
            let Some(index) = index else { break };
            taken[index] = true;
            picked.push(index);
            for (i, d) in d2.iter_mut().enumerate() {
                let to_new = space.distance(labeled + i, labeled + index);
                *d = d.min(to_new * to_new);
            }
        }
        // Draw order is priority order: best first, scores descending.
        let k = picked.len();
        Ok(picked
            .into_iter()
            .enumerate()
            .map(|(rank, index)| Selection {
                index,
                score: (k - rank) as f64,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    #[test]
    fn never_draws_a_copy_of_a_labeled_row_while_others_remain() {
        let labeled: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = labeled.iter().map(|r| r[0]).collect();
        // Two exact copies of labeled rows, three new rows.
        let pool = vec![vec![3.0], vec![5.0], vec![20.0], vec![30.0], vec![40.0]];
        let picks = run(
            &KmeansPp {
                trees: 20,
                input: 0.05,
            },
            &labeled,
            &y,
            &pool,
            3,
            "linear",
        );
        let mut sorted = picks.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![2, 3, 4]);
    }
}
