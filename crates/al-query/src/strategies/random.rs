//! `random`: the baseline every strategy must beat.

use al_models::derive_seed;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "random",
    description: "uniform random batch: the baseline every strategy must beat",
    reference: "-",
    params: &[],
    build: |_| Ok(Box::new(Random)),
};

/// A seeded random batch: every candidate draws a uniform utility.
pub struct Random;

impl Strategy for Random {
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(input.seed, 7));
        Some(Ok((0..input.candidates.rows())
            .map(|_| rng.gen::<f64>())
            .collect()))
    }
}
