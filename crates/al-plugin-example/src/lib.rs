//! An example plugin crate: it adds one query strategy to al.
//!
//! A plugin strategy is one type implementing [`al_query::Strategy`] and one
//! [`StrategyInfo`] entry; `al-cli` picks the crate's [`STRATEGIES`] up with
//! one line in `crates/al-cli/src/plugins.rs`. See docs/plugins.md.

use al_models::knn::KnnParams;
use al_models::params::{at_least, param};
use al_models::{Fit, Matrix};
use al_query::pool::score_in_chunks;
use al_query::{QueryError, QueryInput, Strategy, StrategyInfo};

/// Rows where two model families disagree most: |`--model` - kNN|. Where a
/// forest and a k-nearest-neighbours regressor predict differently, at least
/// one of them is wrong.
pub struct Disagreement {
    pub k: usize,
}

impl Disagreement {
    fn scores(&self, input: &QueryInput) -> Result<Vec<f64>, QueryError> {
        let x: &Matrix = input.labeled_x;
        let main = input.model.build()?.fit(x, input.labeled_y, input.seed)?;
        // At most k neighbours, as the parameter's help says: with fewer
        // labeled rows than k, all of them.
        let knn = KnnParams {
            k: self.k.min(x.rows()),
        }
        .fit(x, input.labeled_y, input.seed)?;
        // Fitted once, then the pool a chunk at a time (bounded memory).
        score_in_chunks(input.candidates, |chunk| {
            let (a, b) = (main.predict(chunk)?, knn.predict(chunk)?);
            Ok(a.iter().zip(&b).map(|(a, b)| (a - b).abs()).collect())
        })
    }
}

impl Strategy for Disagreement {
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some(self.scores(input))
    }
}

/// This crate's registry entries.
pub static STRATEGIES: &[&StrategyInfo] = &[&DISAGREEMENT];

/// The registry entry of `disagreement`.
pub static DISAGREEMENT: StrategyInfo = StrategyInfo {
    name: "disagreement",
    description: "(example plugin) rows where --model and a kNN regressor disagree most",
    reference: "crates/al-plugin-example",
    params: &[param(
        "k",
        "5",
        at_least(1),
        "neighbours of the kNN regressor (all labeled rows when fewer)",
    )],
    build: |p| Ok(Box::new(Disagreement { k: p.count("k") })),
    model_use: al_query::ModelUse::Predictions,
};

#[cfg(test)]
mod tests {
    use super::*;
    use al_models::ModelSpec;

    #[test]
    fn picks_where_the_models_disagree() {
        // y = x on the labeled rows; a linear model extrapolates, kNN cannot:
        // the farthest candidate has the largest disagreement.
        let lx = Matrix::from_rows(&(0..10).map(|i| vec![i as f64]).collect::<Vec<_>>());
        let ly: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let c = Matrix::from_rows(&[vec![5.0], vec![30.0], vec![12.0]]);
        let spec = ModelSpec::parse("linear").unwrap();
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &c,
            model: &spec,
            batch: 2,
            seed: 0,
            max_candidates: 10,
            fitted: None,
        };
        let picks: Vec<usize> = Disagreement { k: 3 }
            .query(&input)
            .unwrap()
            .iter()
            .map(|s| s.index)
            .collect();
        assert_eq!(picks, vec![1, 2]);
    }
}
