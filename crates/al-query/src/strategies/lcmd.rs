//! `lcmd`: largest-cluster maximum-distance batch selection (Holzmüller,
//! Zaverkin, Kästner & Steinwart, JMLR 2023) in a random forest's leaf
//! space.

use al_models::derive_seed;
use al_models::params::{at_least, param, Kind};

use super::in_pick_order;
use crate::leaf_space::{stack, LeafSpace};
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Selection, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "lcmd",
    description: "largest-cluster max-distance batches in a forest's leaf space: the labeled rows are centres; each pick is the farthest member of the cluster with the most summed distance",
    reference: "Holzmüller, Zaverkin, Kästner & Steinwart 2023 (LCMD); Breiman 2001 (forest proximity)",
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
        Ok(Box::new(Lcmd {
            trees: p.count("trees"),
            input: p.real("input"),
        }))
    },
    model_use: crate::registry::ModelUse::OwnModel,
};

/// Each pool row belongs to its nearest centre (at first the labeled rows).
/// A pick takes the cluster whose members' summed distance to their centre
/// is largest and selects its member farthest from the centre, which then
/// becomes a centre: big, spread-out regions of the leaf space get labels
/// first, and no batch piles up in one region.
pub struct Lcmd {
    pub trees: usize,
    pub input: f64,
}

impl Strategy for Lcmd {
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        let n = input.candidates.rows();
        if n == 0 {
            return Err(QueryError::NoCandidates);
        }
        let labeled = input.labeled_x.rows();
        let space = LeafSpace::fit(
            input.labeled_x,
            input.labeled_y,
            &stack(input.labeled_x, &input.candidates.dense()),
            self.trees,
            self.input,
            derive_seed(input.seed, 41),
        )?;
        let mut centres: Vec<usize> = (0..labeled).collect();
        // Candidates only: (distance to nearest centre, its cluster).
        let mut nearest: Vec<(f64, usize)> = space.nearest(&centres)[labeled..].to_vec();
        let mut taken = vec![false; n];
        let mut picked = Vec::with_capacity(input.batch.min(n));
        while picked.len() < input.batch.min(n) {
            // Summed distance of each cluster's untaken members.
            let mut mass = vec![0.0; centres.len()];
            for (i, &(d, k)) in nearest.iter().enumerate() {
                if !taken[i] {
                    mass[k] += d;
                }
            }
            let cluster = (0..mass.len()).fold(0, |b, k| if mass[k] > mass[b] { k } else { b });
            // Its farthest untaken member; ties to the lower index.
            let best = (0..n)
                .filter(|&i| !taken[i] && nearest[i].1 == cluster)
                .fold(None::<usize>, |b, i| match b {
                    Some(j) if nearest[j].0 >= nearest[i].0 => Some(j),
                    _ => Some(i),
                });
            let Some(best) = best else { break };
            taken[best] = true;
            picked.push(Selection {
                index: best,
                score: nearest[best].0,
            });
            let centre = labeled + best;
            centres.push(centre);
            let k = centres.len() - 1;
            for (i, near) in nearest.iter_mut().enumerate() {
                let d = space.distance(labeled + i, centre);
                if d < near.0 {
                    *near = (d, k);
                }
            }
        }
        // A later pick can be farther from its centre than an earlier one.
        Ok(in_pick_order(picked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::test_support::run;

    #[test]
    fn picks_the_big_unlabeled_region_before_the_covered_one() {
        // Labeled rows sit on the left (x < 5); the pool has 3 rows there
        // and 12 spread over the right. The first picks go right.
        let labeled: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64 * 0.5]).collect();
        let y: Vec<f64> = labeled.iter().map(|r| r[0] * 2.0).collect();
        let mut pool: Vec<Vec<f64>> = vec![vec![1.2], vec![2.7], vec![3.1]];
        pool.extend((0..12).map(|i| vec![10.0 + i as f64 * 2.0]));
        let picks = run(
            &Lcmd {
                trees: 20,
                input: 0.05,
            },
            &labeled,
            &y,
            &pool,
            3,
            "linear",
        );
        assert_eq!(picks.len(), 3);
        assert!(picks.iter().all(|&i| i >= 3), "{picks:?}");
        // No two picks at the same spot.
        let mut sorted = picks.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 3);
    }

    #[test]
    fn rows_infinitely_far_from_every_centre_are_picked_not_a_panic() {
        // Their input distance overflows to infinity: they once kept no
        // centre at all, and the cluster index was usize::MAX.
        let labeled: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64 * 0.5]).collect();
        let y: Vec<f64> = labeled.iter().map(|r| r[0] * 2.0).collect();
        let mut pool: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64]).collect();
        pool.push(vec![f64::MAX]);
        pool.push(vec![-f64::MAX]);
        let lcmd = Lcmd {
            trees: 20,
            input: 0.05,
        };
        let mut picks = run(&lcmd, &labeled, &y, &pool, 3, "linear");
        picks.sort_unstable();
        picks.dedup();
        assert_eq!(picks.len(), 3);
        assert!(
            picks.contains(&6) && picks.contains(&7),
            "the far rows first: {picks:?}"
        );
    }
}
