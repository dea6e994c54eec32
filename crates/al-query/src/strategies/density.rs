//! `density`: a base strategy's utility weighted by density.

use al_models::derive_seed;
use al_models::params::{at_least, param, split_name, Kind};

use super::sample_sorted;
use crate::distance::mean_knn_distance;
use crate::pool::score_in_chunks;
use crate::registry::{parse_strategy, StrategyInfo};
use crate::{QueryError, QueryInput, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "density",
    description:
        "a base strategy's utility times density (1 / mean distance to the k nearest rows)",
    reference: "Settles & Craven 2008; the article",
    params: &[
        param(
            "base",
            "qbc",
            Kind::Text,
            "a strategy with a per-row utility, by name (its own parameters at their defaults)",
        ),
        param(
            "k",
            "5",
            at_least(1),
            "neighbours (all of them when fewer rows)",
        ),
        param(
            "reference",
            "500",
            at_least(1),
            "candidates sampled to measure density against",
        ),
    ],
    build: |p| {
        let base = p.text("base");
        if split_name(base).0 == "density" {
            return Err(QueryError::DensityOfDensity);
        }
        Ok(Box::new(Density {
            base: parse_strategy(base)?,
            k: p.count("k"),
            reference: p.count("reference"),
        }))
    },
    model_use: crate::registry::ModelUse::None,
};

/// The article's density-weighted uncertainty: a base strategy's utility
/// times density = 1 / mean distance to the `k` nearest candidates (against a
/// seeded sample of at most `reference` candidates, to stay linear in the pool).
pub struct Density {
    pub base: Box<dyn Strategy>,
    pub k: usize,
    pub reference: usize,
}

impl Density {
    pub fn densities(&self, input: &QueryInput) -> Result<Vec<f64>, QueryError> {
        let c = input.candidates;
        let distances = if c.rows() <= self.reference {
            let all = c.dense();
            mean_knn_distance(&all, &all, self.k, true)
        } else {
            let idx = sample_sorted(c.rows(), self.reference, derive_seed(input.seed, 13));
            let reference = c.select(&idx);
            score_in_chunks(c, |x| Ok(mean_knn_distance(x, &reference, self.k, false)))?
        };
        Ok(distances.into_iter().map(|d| 1.0 / d.max(1e-12)).collect())
    }
}

impl Strategy for Density {
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        let base = match self.base.utilities(input) {
            Some(Ok(u)) => u,
            Some(Err(e)) => return Some(Err(e)),
            None => return Some(Err(QueryError::NoUtilities(self.base.name()))),
        };
        Some(self.densities(input).map(|densities| {
            base.into_iter()
                .zip(densities)
                .map(|(u, d)| u * d)
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::Random;
    use al_models::{Matrix, ModelSpec};

    #[test]
    fn density_on_a_grid_prefers_the_crowded_middle() {
        // A 5x5 unit grid plus an outlier; with a constant base utility the
        // density alone ranks: interior points have 4 neighbours at distance 1.
        let mut cands: Vec<Vec<f64>> = (0..25)
            .map(|i| vec![(i % 5) as f64, (i / 5) as f64])
            .collect();
        cands.push(vec![50.0, 50.0]);
        let d = Density {
            base: Box::new(Random),
            k: 4,
            reference: 1000,
        };
        let c = Matrix::from_rows(&cands);
        let spec = ModelSpec::parse("linear").unwrap();
        let lx = Matrix::from_rows(&[vec![0.0, 0.0], vec![1.0, 1.0]]);
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &[0.0, 1.0],
            candidates: &c,
            model: &spec,
            batch: 1,
            seed: 0,
            max_candidates: 500,
            fitted: None,
        };
        let dens = d.densities(&input).unwrap();
        assert_eq!(dens[12], 1.0); // the centre: four neighbours at distance 1
        assert_eq!(dens[0], 1.0 / ((1.0 + 1.0 + 2f64.sqrt() + 2.0) / 4.0)); // corner
        assert!(dens[25] < 0.05); // the outlier
    }
}
