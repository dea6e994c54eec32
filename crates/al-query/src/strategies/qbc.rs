//! `qbc`: query by committee over any ensemble.

use al_models::params::{at_least, param};

use super::variance_scorer;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, RowScorer, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "qbc",
    description:
        "--model's predictive variance (a GP's posterior, a forest's trees), else a bootstrap committee's",
    reference: "Burbidge, Rowland & King 2007",
    params: &[param(
        "members",
        "10",
        at_least(2),
        "bootstrap fits when --model has no members of its own",
    )],
    build: |p| {
        Ok(Box::new(Qbc {
            members: p.count("members"),
        }))
    },
    model_use: crate::registry::ModelUse::Spread,
};

/// The members of `--model` when it has them (a forest's trees), else a
/// bootstrap committee of `--model`.
pub struct Qbc {
    pub members: usize,
}

impl Strategy for Qbc {
    fn row_scorer<'a>(&self, input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        Some(variance_scorer(input, self.members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use al_models::{Matrix, ModelSpec};

    #[test]
    fn a_model_without_members_gets_a_bootstrap_committee() {
        // A linear model has no members: qbc must still disagree off the data.
        let x = Matrix::from_rows(&(0..30).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let y: Vec<f64> = (0..30)
            .map(|i| (i as f64 * 0.7).sin() * 5.0 + i as f64)
            .collect();
        let c = Matrix::from_rows(&[vec![15.0], vec![200.0]]);
        let spec = ModelSpec::parse("linear").unwrap();
        let input = QueryInput {
            labeled_x: &x,
            labeled_y: &y,
            candidates: &c,
            model: &spec,
            batch: 1,
            seed: 0,
            max_candidates: 10,
            fitted: None,
        };
        let u = Qbc { members: 10 }.utilities(&input).unwrap().unwrap();
        assert!(u[0] > 0.0, "{u:?}");
        // Extrapolating 170 past the data, the bootstrap slopes fan out.
        assert!(u[1] > 10.0 * u[0], "{u:?}");
    }
}
