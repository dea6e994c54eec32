//! Query strategies of **al**: which unlabeled rows are most worth an
//! annotator's time.
//!
//! Every strategy has the same call shape, as in scikit-activeml: labeled
//! features and targets, candidate features, a model spec, a batch size and a
//! seed go in ([`QueryInput`]); a ranked list of candidates with their
//! utilities comes out ([`Selection`]). Each strategy is one type implementing
//! [`Strategy`], registered by name in [`STRATEGIES`]; the CLI name is the
//! registry name. Ties are broken by candidate order (the caller passes
//! candidates in row-id order), so a seed fixes the whole selection.

mod distance;
mod leaf_space;
pub mod pool;
mod registry;
pub mod savings;
pub mod scorer;
pub mod simulate;
pub mod strategies;
pub mod stream;
pub mod synthesis;

use al_models::{Matrix, ModelError, ModelSpec, ParamError, Predict};

pub use pool::{CompactPool, Pool};
pub use scorer::RowScorer;

pub use registry::{
    default_strategy_name, parse_strategy, strategy_info, ModelUse, Registry, Resolver, Source,
    StrategyInfo, DEFAULT_STRATEGY, STRATEGIES,
};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("unknown strategy {name:?}; the strategies are: {known} (see `al-cli strategies`; external ones are executables named al-strategy-NAME on PATH)")]
    UnknownStrategy { name: String, known: String },
    #[error("no candidates to choose from: every unlabeled row is already labeled or out in a pending batch")]
    NoCandidates,
    #[error("{0} has no per-row utility (it picks a whole batch at once); use one that has, such as qbc, committee, tree-variance, emcm or random")]
    NoUtilities(String),
    #[error("{option} {value}: expected {expected}")]
    BadOption {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("density cannot take density as its base")]
    DensityOfDensity,
    #[error("this query cannot be shipped to other machines: its model has no byte form; the models that have one: {0}")]
    NotShippable(String),
    #[error("{0}")]
    Plugin(String),
    #[error("{0}")]
    Oracle(String),
    #[error("stopped before it finished (interrupted); nothing was written")]
    Interrupted,
}

/// Everything a strategy may look at.
pub struct QueryInput<'a> {
    pub labeled_x: &'a Matrix,
    pub labeled_y: &'a [f64],
    /// The pool: dense chunks and rows on demand ([`pool::Pool`]).
    pub candidates: &'a dyn Pool,
    /// The model the strategy fits and predicts with (`--model`).
    pub model: &'a ModelSpec,
    pub batch: usize,
    pub seed: u64,
    /// Bound on the candidates the expensive strategies score (`--candidates`).
    pub max_candidates: usize,
    /// `model` already fitted on exactly `labeled_x`/`labeled_y` with
    /// `seed`, when the caller has it (the CLI fits it anyway for the batch
    /// file's predictions): strategies that fit `--model` use it instead of
    /// fitting the same model again.
    pub fitted: Option<&'a dyn Predict>,
}

/// One chosen candidate: its index in `QueryInput::candidates` and its utility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selection {
    pub index: usize,
    pub score: f64,
}

/// A query strategy.
pub trait Strategy: Send + Sync {
    /// What the strategy is called in records and messages. The registry
    /// names what it builds by the canonical spec (`qbc:members=10`); this
    /// default only names strategies built by hand in code.
    fn name(&self) -> String {
        let path = std::any::type_name::<Self>();
        path.rsplit("::").next().unwrap_or(path).to_string()
    }

    /// Up to `input.batch` candidates, best first. By default the top of
    /// [`Strategy::utilities`]; greedy strategies, whose utility depends on
    /// what was already picked, implement this instead.
    fn query(&self, input: &QueryInput) -> Result<Vec<Selection>, QueryError> {
        if input.candidates.rows() == 0 {
            return Err(QueryError::NoCandidates);
        }
        match self.utilities(input) {
            Some(utilities) => Ok(top_k(&utilities?, input.batch)),
            None => Err(QueryError::NoUtilities(self.name())),
        }
    }

    /// Utility of every candidate, when the strategy has one per row. Used
    /// by the default `query`, density weighting and batch diversity. By
    /// default the [`Strategy::row_scorer`]'s, a chunk of the pool at a time.
    fn utilities(&self, input: &QueryInput) -> Option<Result<Vec<f64>, QueryError>> {
        self.row_scorer(input)
            .map(|scorer| scorer?.score_pool(input.candidates))
    }

    /// What the strategy fits on the labeled rows to score candidates one
    /// row at a time, when a row's utility depends on that row alone (and
    /// its place in the candidate order): such strategies can score a pool
    /// in pieces, on other machines ([`RowScorer::to_bytes`]). `None` for
    /// strategies whose utilities look at the pool as a whole.
    fn row_scorer<'a>(&self, _input: &QueryInput<'a>) -> Option<Result<RowScorer<'a>, QueryError>> {
        None
    }
}

/// The `k` best of `scores` (highest first, ties to the lower index).
pub fn top_k(scores: &[f64], k: usize) -> Vec<Selection> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let key = |i: &usize| {
        if scores[*i].is_nan() {
            f64::NEG_INFINITY
        } else {
            scores[*i]
        }
    };
    let by = |a: &usize, b: &usize| key(b).total_cmp(&key(a)).then(a.cmp(b));
    let k = k.min(order.len());
    if k == 0 {
        return vec![];
    }
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, by);
        order.truncate(k);
    }
    order.sort_by(by);
    order
        .into_iter()
        .map(|index| Selection {
            index,
            score: scores[index],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_breaks_ties_by_index_and_puts_nan_last() {
        let s = [1.0, 3.0, f64::NAN, 3.0, 2.0];
        let picked: Vec<usize> = top_k(&s, 4).iter().map(|s| s.index).collect();
        assert_eq!(picked, vec![1, 3, 4, 0]);
        assert_eq!(top_k(&s, 0), vec![]);
        assert_eq!(top_k(&s, 10).len(), 5);
    }
}
