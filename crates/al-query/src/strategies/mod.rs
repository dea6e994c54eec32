//! The built-in strategies, one file each: the strategy's type, its
//! registry entry (`INFO`: name, description, reference, parameters with
//! defaults and allowed values) and its unit tests. References are in
//! docs/strategies.md. Adding a strategy is a file here and one line in
//! [`crate::registry::STRATEGIES`]; the contract suite
//! (`tests/strategy_contract.rs`) then runs it.

pub mod committee;
pub mod cover;
pub mod density;
pub mod diverse;
pub mod emc_retrain;
pub mod emcm;
pub mod greedy;
pub mod lcmd;
pub mod leaf_alloc;
pub mod qbc;
pub mod random;
pub mod tree_variance;
pub mod var_reduction;

pub use committee::CommitteeVariance;
pub use cover::{Cover, CoverMetric, CoverWeight};
pub use density::Density;
pub use diverse::Diverse;
pub use emc_retrain::EmcRetrain;
pub use emcm::Emcm;
pub use greedy::{Greedy, GreedySpace};
pub use lcmd::Lcmd;
pub use leaf_alloc::LeafAlloc;
pub use qbc::Qbc;
pub use random::Random;
pub use tree_variance::TreeVariance;
pub use var_reduction::VarReduction;

use al_models::{derive_seed, Fit, Matrix, Predict};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::{QueryError, QueryInput, RowScorer, Selection};

/// `--model` fitted on the labeled rows: the caller's fit when it passed
/// one ([`QueryInput::fitted`]), else a new one.
pub(crate) fn fit_model<'a>(input: &QueryInput<'a>) -> Result<Fitted<'a>, QueryError> {
    Ok(match input.fitted {
        Some(model) => Fitted::Given(model),
        None => Fitted::Own(input.model.build()?.fit(
            input.labeled_x,
            input.labeled_y,
            input.seed,
        )?),
    })
}

/// A fitted `--model`, the caller's or the strategy's own.
pub(crate) enum Fitted<'a> {
    Given(&'a dyn Predict),
    Own(Box<dyn Predict>),
}

impl<'a> std::ops::Deref for Fitted<'a> {
    type Target = dyn Predict + 'a;

    fn deref(&self) -> &(dyn Predict + 'a) {
        match self {
            Fitted::Given(model) => *model,
            Fitted::Own(model) => model.as_ref(),
        }
    }
}

/// Population variance across members, per row. Two passes that each read
/// one member's predictions front to back (cache-friendly for 100 trees ×
/// 100 000 rows). No members gives zero variance.
pub(crate) fn member_variance(members: &[Vec<f64>], rows: usize) -> Vec<f64> {
    if members.is_empty() {
        return vec![0.0; rows];
    }
    let m = members.len() as f64;
    let mut mean = vec![0.0; rows];
    for p in members {
        for (a, v) in mean.iter_mut().zip(p) {
            *a += v;
        }
    }
    mean.iter_mut().for_each(|a| *a /= m);
    let mut var = vec![0.0; rows];
    for p in members {
        for ((s, v), mu) in var.iter_mut().zip(p).zip(&mean) {
            *s += (v - mu) * (v - mu);
        }
    }
    var.iter_mut().for_each(|s| *s /= m);
    var
}

/// `members` fits of `learner` on bootstrap resamples of the labeled rows.
pub(crate) fn bootstrap_fits(
    learner: &dyn Fit,
    input: &QueryInput,
    members: usize,
) -> Result<Vec<Box<dyn Predict>>, QueryError> {
    let n = input.labeled_y.len();
    (0..members)
        .into_par_iter()
        .map(|m| {
            al_models::interrupt::check()?;
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(input.seed, 1000 + m as u64));
            let idx: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
            let y: Vec<f64> = idx.iter().map(|&i| input.labeled_y[i]).collect();
            Ok(al_models::call_context::within(
                "committee member",
                m,
                members,
                || {
                    learner.fit(
                        &input.labeled_x.select(&idx),
                        &y,
                        derive_seed(input.seed, m as u64),
                    )
                },
            )?)
        })
        .collect()
}

/// Each fitted member's predictions for the rows of `x`.
pub(crate) fn predict_each(
    fits: &[Box<dyn Predict>],
    x: &Matrix,
) -> Result<Vec<Vec<f64>>, QueryError> {
    fits.par_iter().map(|f| Ok(f.predict(x)?)).collect()
}

/// `--model`'s predictive variance at each candidate: its own when it has
/// one (a Gaussian process's posterior variance, the spread of a forest's
/// trees or of a boosting ensemble's members), else the variance of a
/// bootstrap committee of `members` fits of `--model`. Pool, stream and cover
/// all measure uncertainty this way. Fitted once, then scored a chunk of
/// the pool at a time.
pub(crate) fn predictive_variance(
    input: &QueryInput,
    members: usize,
) -> Result<Vec<f64>, QueryError> {
    variance_scorer(input, members)?.score_pool(input.candidates)
}

/// The scorer of [`predictive_variance`].
pub(crate) fn variance_scorer<'a>(
    input: &QueryInput<'a>,
    members: usize,
) -> Result<RowScorer<'a>, QueryError> {
    if input.labeled_x.rows() == 0 {
        return Err(al_models::ModelError::TooFewRows(0).into());
    }
    let model = fit_model(input)?;
    // Whether a model has a spread depends on its type, not on the rows:
    // one labeled row tells, and a committee is fitted if it has none.
    let probe = input.labeled_x.select(&[0]);
    if model.predict_std(&probe)?.is_some() {
        return Ok(RowScorer::spread_squared(model));
    }
    Ok(RowScorer::fit_variance(bootstrap_fits(
        &*input.model.build()?,
        input,
        members,
    )?))
}

/// A greedy batch, best first: the pick order is the priority order, so each
/// score is capped by the one before it and the scores never increase.
pub(crate) fn in_pick_order(mut picked: Vec<Selection>) -> Vec<Selection> {
    for k in 1..picked.len() {
        picked[k].score = picked[k].score.min(picked[k - 1].score);
    }
    picked
}

/// A seeded sample of `k` of `0..n` (all of them when `k >= n`), in
/// increasing order.
pub(crate) fn sample_sorted(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = rand::seq::index::sample(&mut rng, n, k.min(n)).into_vec();
    idx.sort_unstable();
    idx
}

/// Shuffles `0..n` with a seed; for callers that need a random order.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    v
}

#[cfg(test)]
pub(crate) mod test_support {
    use al_models::{Matrix, ModelSpec};

    use crate::{QueryInput, Strategy};

    /// The indices `s` picks for a seed of 0.
    pub fn run(
        s: &dyn Strategy,
        lx: &[Vec<f64>],
        ly: &[f64],
        c: &[Vec<f64>],
        batch: usize,
        model: &str,
    ) -> Vec<usize> {
        let spec = ModelSpec::parse(model).unwrap();
        let lx = Matrix::from_rows(lx);
        let c = Matrix::from_rows(c);
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: ly,
            candidates: &c,
            model: &spec,
            batch,
            seed: 0,
            max_candidates: 500,
            fitted: None,
        };
        s.query(&input).unwrap().iter().map(|s| s.index).collect()
    }
}
