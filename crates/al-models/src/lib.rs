//! Regressors and metrics of **al**, active learning for tabular regression.
//!
//! Two small traits, in the manner of linfa: a parameter set implements
//! [`Fit`] and yields a fitted model implementing [`Predict`]. Ensembles also
//! expose each member's prediction (the raw material of query-by-committee),
//! and models that can absorb one more labeled row cheaply say so through
//! [`Predict::refit_with`] (expected model change refits hundreds of times per
//! query).
//!
//! Models are registered by name in [`spec::MODELS`] and described by spec
//! strings such as `forest:trees=100,max_features=0.33`.

pub mod call_context;
pub mod committee;
pub mod conformal;
pub mod elasticnet;
pub mod fitted;
pub mod forest;
pub mod gbm;
pub mod glm;
pub mod gp;
pub mod interrupt;
pub mod knn;
pub mod linear;
pub mod matrix;
pub mod metrics;
pub mod params;
pub mod pool_error;
mod scaled;
pub mod spec;
pub mod svr;
pub mod tree;
pub mod validation;

pub use matrix::Matrix;
pub use params::{ParamError, ParamInfo, Params};
pub use spec::{ModelInfo, ModelResolver, ModelSpec, MODELS};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot fit a model on {0} labeled rows; label at least 2")]
    TooFewRows(usize),
    #[error("interrupted: stopped before anything was written")]
    Interrupted,
    #[error("{rows} feature rows but {targets} targets")]
    Shape { rows: usize, targets: usize },
    #[error("the targets contain a value that is not a finite number")]
    NonFinite,
    #[error(transparent)]
    Param(#[from] params::ParamError),
    #[error("unknown model {name:?}; the models are: {known} (see `al-cli models`; external ones are executables named al-model-NAME on PATH)")]
    UnknownModel { name: String, known: String },
    #[error("model plugin {0:?} takes no parameters in its spec")]
    PluginParams(String),
    #[error("{model}: {key}={value} needs at least {value} labeled rows; there are {rows}")]
    ParamAboveRows {
        model: &'static str,
        key: &'static str,
        value: usize,
        rows: usize,
    },
    #[error("{0}")]
    Plugin(String),
    #[error("{pct} % intervals need at least {need} labeled rows; there are {rows}: label {more} more, or ask for a lower coverage", pct = conformal::percent(*coverage), more = need - rows)]
    TooFewForCoverage {
        coverage: f64,
        rows: usize,
        need: usize,
    },
    #[error("{model} needs {requirement}; the labeled targets include {value}")]
    Target {
        model: &'static str,
        requirement: &'static str,
        value: f64,
    },
    #[error("{model} could not be fitted on these rows ({library}: {message}); try another model, such as forest")]
    Library {
        model: &'static str,
        library: &'static str,
        message: String,
    },
}

/// A model's joint posterior over some rows, in squared target units.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// Covariance of the predictions, `n × n` row-major; its diagonal is
    /// the predictive variance.
    pub covariance: Vec<f64>,
    /// The model's own estimate of the label-noise variance.
    pub noise: f64,
}

/// A parameter set that can be fitted: one per algorithm.
pub trait Fit: Send + Sync {
    /// Fits on rows `x` and targets `y`; every random choice follows `seed`.
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError>;

    /// What a model made outside al says about itself, as JSON (a Python
    /// estimator's class and `get_params()`), kept with the rounds it
    /// made; `None` for al's own, whose spec says it all.
    fn describe(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A fitted model. Predicting can fail (a model plugin that crashes or
/// answers garbage); the built-in models never do.
pub trait Predict: Send + Sync {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError>;

    /// Each member's predictions (ensembles only): `members[m][row]`.
    fn predict_members(&self, _x: &Matrix) -> Result<Option<Vec<Vec<f64>>>, ModelError> {
        Ok(None)
    }

    /// For an ensemble whose members were each fitted on a bootstrap
    /// sample of the training rows: `out[m][i]` is whether training row `i`
    /// was left out of member `m`'s sample (in [`Predict::predict_members`]'s
    /// order). `None` for every other model.
    fn out_of_bag(&self) -> Option<Vec<Vec<bool>>> {
        None
    }

    /// Each row's predictive spread: the standard deviation and an 80 %
    /// interval. Ensembles derive it from their members (the 10 % and 90 %
    /// member quantiles); a Gaussian process has its own predictive variance.
    /// `None`: the model has no notion of its uncertainty.
    fn predict_spread(&self, x: &Matrix) -> Result<Option<Vec<metrics::Spread>>, ModelError> {
        use rayon::prelude::*;
        Ok(self.predict_members(x)?.filter(|m| m.len() > 1).map(|m| {
            (0..x.rows())
                .into_par_iter()
                .map(|i| metrics::member_spread(&m, i))
                .collect()
        }))
    }

    /// The standard deviation of [`Predict::predict_spread`] alone, which
    /// strategies scoring a whole pool need; models override it when the
    /// deviation is cheaper than the deciles (a forest's trees).
    fn predict_std(&self, x: &Matrix) -> Result<Option<Vec<f64>>, ModelError> {
        Ok(self
            .predict_spread(x)?
            .map(|s| s.iter().map(|s| s.std).collect()))
    }

    /// The joint posterior over the rows of `x` (models with one: the
    /// Gaussian process); `None` for the others.
    fn predict_posterior(&self, _x: &Matrix) -> Result<Option<Posterior>, ModelError> {
        Ok(None)
    }

    /// This model refitted with one more row, when that is cheaper than a
    /// full refit; `None` means "refit from scratch".
    fn refit_with(&self, _x: &[f64], _y: f64) -> Option<Box<dyn Predict>> {
        None
    }

    /// The fitted state as data ([`fitted::FittedModel`]), to predict
    /// elsewhere; `None` for models without one.
    fn export(&self) -> Option<fitted::FittedModel> {
        None
    }
}

/// Refuses training data no model can fit: shapes that differ, fewer than
/// two rows, a target that is not finite.
pub fn check_training(x: &Matrix, y: &[f64]) -> Result<(), ModelError> {
    if x.rows() != y.len() {
        return Err(ModelError::Shape {
            rows: x.rows(),
            targets: y.len(),
        });
    }
    if y.len() < 2 {
        return Err(ModelError::TooFewRows(y.len()));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite);
    }
    Ok(())
}

/// A child seed for part `index` of a seeded computation (SplitMix64), so
/// parallel parts never share a random stream and never depend on threads.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index.wrapping_add(1)));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
