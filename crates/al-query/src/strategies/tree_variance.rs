//! `tree-variance`: the article's decision-tree uncertainty sampling.

use al_models::params::{param, Kind};
use al_models::tree::TreeParams;

use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, RowScorer, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "tree-variance",
    description: "variance of the training targets in the candidate's leaf of a decision tree",
    reference: "the article (decision-tree uncertainty sampling)",
    params: &[param(
        "depth",
        "5",
        Kind::CountOrNone { min: 1 },
        "levels of splits of the tree (none = grow fully)",
    )],
    build: |p| {
        Ok(Box::new(TreeVariance {
            depth: p.count_or_none("depth"),
        }))
    },
    model_use: crate::registry::ModelUse::OwnModel,
};

/// The variance of the training targets in the leaf a candidate falls into.
pub struct TreeVariance {
    pub depth: Option<usize>,
}

impl Strategy for TreeVariance {
    fn row_scorer<'a>(&self, input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        Some((|| {
            let tree = TreeParams::default().depth(self.depth).fit_tree(
                input.labeled_x,
                input.labeled_y,
                input.seed,
            )?;
            Ok(RowScorer::leaf_variance(tree))
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use al_models::{Matrix, ModelSpec};

    #[test]
    fn constant_leaves_score_zero_and_varied_leaves_score_their_variance() {
        let x = Matrix::from_rows(&(0..40).map(|i| vec![i as f64]).collect::<Vec<_>>());
        // Constant targets on the left, 100/110/120/130/140 on the right.
        let y: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    1.0
                } else {
                    100.0 + (i % 5) as f64 * 10.0
                }
            })
            .collect();
        let c = Matrix::from_rows(&[vec![3.0], vec![35.0]]);
        let spec = ModelSpec::parse("linear").unwrap();
        let input = QueryInput {
            labeled_x: &x,
            labeled_y: &y,
            candidates: &c,
            model: &spec,
            batch: 2,
            seed: 0,
            max_candidates: 10,
            fitted: None,
        };
        let u = TreeVariance { depth: Some(1) }
            .utilities(&input)
            .unwrap()
            .unwrap();
        assert_eq!(u[0], 0.0);
        // One split at 19.5: the right leaf holds 100..=140 by 10, four times each.
        assert!((u[1] - 200.0).abs() < 1e-9, "{}", u[1]);
    }
}
