//! `emc-retrain`: the article's expected model change, by refitting.

use al_models::derive_seed;
use al_models::params::{at_least, param};
use rayon::prelude::*;

use super::sample_sorted;
use crate::registry::StrategyInfo;
use crate::{QueryError, QueryInput, Strategy};

pub static INFO: StrategyInfo = StrategyInfo {
    name: "emc-retrain",
    description:
        "refit --model with each candidate at its predicted label; mean change of predictions",
    reference: "the article (expected model change)",
    params: &[param(
        "reference",
        "200",
        at_least(1),
        "pool rows the change of predictions is measured on",
    )],
    build: |p| {
        Ok(Box::new(EmcRetrain {
            reference: p.count("reference"),
        }))
    },
    model_use: crate::registry::ModelUse::Refits,
};

/// Refit with the candidate added at its predicted label and measure the
/// mean change of predictions on a reference sample. Bounded to
/// `--candidates` candidates (a seeded sample); cheap one-row refits where
/// the model has them, full refits otherwise.
pub struct EmcRetrain {
    pub reference: usize,
}

impl Strategy for EmcRetrain {
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        Some(self.scores(input))
    }
}

impl EmcRetrain {
    fn scores(&self, input: &QueryInput) -> Result<Vec<f64>, QueryError> {
        let n = input.candidates.rows();
        let learner = input.model.build()?;
        let model = learner.fit(input.labeled_x, input.labeled_y, input.seed)?;
        let scored = sample_sorted(n, input.max_candidates, derive_seed(input.seed, 11));
        let reference = input.candidates.select(&sample_sorted(
            n,
            self.reference,
            derive_seed(input.seed, 12),
        ));
        let before = model.predict(&reference)?;
        let scored_x = input.candidates.select(&scored);
        let guesses = model.predict(&scored_x)?;
        let changes: Vec<f64> = (0..scored.len())
            .into_par_iter()
            .zip(guesses.par_iter())
            .map(|(k, &guess)| {
                al_models::interrupt::check()?;
                let x = scored_x.row(k);
                let refit = match model.refit_with(x, guess) {
                    Some(m) => m,
                    None => {
                        let mut xs = input.labeled_x.clone();
                        xs.push_keyed_row(x, scored_x.keys().map(|keys| keys[k]));
                        let mut ys = input.labeled_y.to_vec();
                        ys.push(guess);
                        learner.fit(&xs, &ys, input.seed)?
                    }
                };
                let after = refit.predict(&reference)?;
                Ok(before
                    .iter()
                    .zip(&after)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>()
                    / before.len() as f64)
            })
            .collect::<Result<_, QueryError>>()?;
        // Candidates left out of the sample rank below every scored one.
        let mut scores = vec![f64::NEG_INFINITY; n];
        for (&c, s) in scored.iter().zip(changes) {
            scores[c] = s;
        }
        Ok(scores)
    }
}
