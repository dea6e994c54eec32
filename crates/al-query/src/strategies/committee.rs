//! `committee`: the article's query by committee.

use al_models::committee::CommitteeParams;
use al_models::Fit;

use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, RowScorer, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "committee",
    description: "variance of the article's committee: tree (depth 5) + forest (10) + linear",
    reference: "Seung, Opper & Sompolinsky 1992; the article",
    params: &[],
    build: |_| Ok(Box::new(CommitteeVariance)),
    model_use: crate::registry::ModelUse::OwnModel,
};

/// Variance of the predictions of the article's tree (depth 5), 10-tree
/// forest and linear regression.
pub struct CommitteeVariance;

impl Strategy for CommitteeVariance {
    fn row_scorer<'a>(&self, input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        Some((|| {
            let model =
                CommitteeParams::default().fit(input.labeled_x, input.labeled_y, input.seed)?;
            Ok(RowScorer::member_variance(model))
        })())
    }
}
