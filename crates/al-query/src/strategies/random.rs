//! `random`: the baseline every strategy must beat.

use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, RowScorer, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "random",
    description: "uniform random batch: the baseline every strategy must beat",
    reference: "-",
    params: &[],
    build: |_| Ok(Box::new(Random)),
    model_use: crate::registry::ModelUse::None,
};

/// A seeded random batch: every candidate draws a uniform utility.
pub struct Random;

impl Strategy for Random {
    fn row_scorer<'a>(&self, input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        Some(Ok(RowScorer::random(input.seed)))
    }
}
