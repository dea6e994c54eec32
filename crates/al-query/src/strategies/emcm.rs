//! `emcm`: expected model change maximisation for a linear model.

use al_models::linear::LinearParams;
use al_models::params::{at_least, param};
use al_models::Fit;

use super::bootstrap_fits;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, RowScorer, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "emcm",
    description: "expected model change of a linear model (bootstrap committee, gradient norm)",
    reference: "Cai, Zhang & Zhou 2013",
    params: &[param("members", "8", at_least(1), "bootstrap fits")],
    build: |p| {
        Ok(Box::new(Emcm {
            members: p.count("members"),
        }))
    },
    model_use: crate::registry::ModelUse::OwnModel,
};

/// Cai, Zhang & Zhou (2013): the mean over a bootstrap committee of the norm
/// of the squared-loss gradient a candidate would add,
/// |f(x) - f_k(x)| * ||(1, x)||.
pub struct Emcm {
    pub members: usize,
}

impl Strategy for Emcm {
    fn row_scorer<'a>(&self, input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        Some((|| {
            let linear = LinearParams::ols();
            let main = linear.fit(input.labeled_x, input.labeled_y, input.seed)?;
            let committee = bootstrap_fits(&linear, input, self.members)?;
            Ok(RowScorer::model_change(main, committee))
        })())
    }
}
