//! `emcm`: expected model change maximisation for a linear model.

use al_models::linear::LinearParams;
use al_models::params::{at_least, param};
use al_models::Fit;

use super::{bootstrap_fits, predict_each};
use crate::pool::score_in_chunks;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Strategy};

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
};

/// Cai, Zhang & Zhou (2013): the mean over a bootstrap committee of the norm
/// of the squared-loss gradient a candidate would add,
/// |f(x) - f_k(x)| * ||(1, x)||.
pub struct Emcm {
    pub members: usize,
}

impl Strategy for Emcm {
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some((|| {
            let linear = LinearParams::ols();
            let main_fit = linear.fit(input.labeled_x, input.labeled_y, input.seed)?;
            let fits = bootstrap_fits(&linear, input, self.members)?;
            score_in_chunks(input.candidates, |x| {
                let main = main_fit.predict(x)?;
                let committee = predict_each(&fits, x)?;
                Ok(x.iter_rows()
                    .enumerate()
                    .map(|(i, row)| {
                        let norm = (1.0 + row.iter().map(|v| v * v).sum::<f64>()).sqrt();
                        let change: f64 = committee.iter().map(|p| (main[i] - p[i]).abs()).sum();
                        change / committee.len() as f64 * norm
                    })
                    .collect())
            })
        })())
    }
}
