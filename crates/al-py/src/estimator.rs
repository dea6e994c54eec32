//! A Python user's own regressor (anything with scikit-learn's `fit` and
//! `predict`) as one of al's models: [`PyModel`] is an `al_models::Fit`, so
//! every flow, strategy, interval and report takes it like a built-in model.
//!
//! The glue (`al/__init__.py`, `_Estimator`) hands over a factory: called
//! with a seed, it returns a fresh copy of the user's estimator (scikit-learn's
//! `clone`, else `copy.deepcopy`; `random_state` set from the seed when the
//! estimator has one) behind three methods, `fit(X, y)`, `predict(X)` and
//! `predict_std(X)`, that take and return float64 NumPy arrays. Rust calls
//! them with whole matrices (the pool in the chunks al scores it in), never
//! row by row, taking the GIL only for the call: al's own work between calls
//! runs with it released.
//!
//! An exception raised inside the estimator is kept ([`take_failure`]) and raised
//! again to the caller as itself, with a note saying which call it was; the
//! flow around it fails as any model failure does, so nothing is written.

use std::sync::Mutex;

use al_models::{Fit, Matrix, ModelError, Predict};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

/// The first exception an estimator raised in the call under way (one per
/// process, as the package's calls take turns on the GIL's thread).
static FAILURE: Mutex<Option<PyErr>> = Mutex::new(None);

/// Keeps `err` (the first one: later ones are usually its echoes from
/// members fitted in parallel) and returns the model error al's flow
/// reports.
fn keep(err: PyErr, what: String) -> ModelError {
    let message = format!("{what} raised {err}");
    let mut slot = FAILURE.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        Python::attach(|py| {
            // Python 3.11+: the note shows under the traceback.
            let _ = err
                .value(py)
                .call_method1("add_note", (format!("(al: in {what})"),));
        });
        *slot = Some(err);
    }
    ModelError::Plugin(message)
}

/// The exception an estimator raised since the last call, if one did: the
/// package raises it as itself instead of al's report of it.
pub fn take_failure() -> Option<PyErr> {
    FAILURE.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// The user's estimator as an al model.
pub struct PyModel {
    /// As the flows name it: `python.MODULE.CLASS`.
    pub name: String,
    /// `factory(seed)` → a fresh `_Estimator`.
    factory: Py<PyAny>,
    /// Its `predict` takes `return_std=True` (a Gaussian process, NGBoost).
    with_std: bool,
    /// Its class and `get_params()`, as the glue wrote them.
    description: serde_json::Value,
}

impl PyModel {
    pub fn new(
        name: String,
        factory: Py<PyAny>,
        with_std: bool,
        description: serde_json::Value,
    ) -> PyModel {
        PyModel {
            name,
            factory,
            with_std,
            description,
        }
    }
}

/// `x` as a C-ordered float64 array (one copy).
fn array<'py>(py: Python<'py>, x: &Matrix) -> PyResult<Bound<'py, PyAny>> {
    let flat = PyArray1::from_slice(py, x.rows_values(0..x.rows()));
    Ok(flat.reshape([x.rows(), x.cols()])?.into_any())
}

/// A float64 vector the glue returned, checked for its length.
fn vector(value: &Bound<'_, PyAny>, rows: usize, call: &str) -> PyResult<Vec<f64>> {
    let values: PyReadonlyArray1<f64> = value.extract()?;
    let values = values.as_slice()?.to_vec();
    if values.len() != rows {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{call} returned {} values for {rows} rows",
            values.len()
        )));
    }
    Ok(values)
}

impl Fit for PyModel {
    fn fit(&self, x: &Matrix, y: &[f64], seed: u64) -> Result<Box<dyn Predict>, ModelError> {
        al::interrupt::check()?;
        let fitted = Python::attach(|py| -> PyResult<Py<PyAny>> {
            let estimator = self.factory.bind(py).call1((seed,))?;
            estimator.call_method1("fit", (array(py, x)?, PyArray1::from_slice(py, y)))?;
            Ok(estimator.unbind())
        })
        .map_err(|e| keep(e, format!("{}.fit on {} rows", self.name, x.rows())))?;
        Ok(Box::new(PyFitted {
            name: self.name.clone(),
            estimator: fitted,
            with_std: self.with_std,
        }))
    }

    fn describe(&self) -> Option<serde_json::Value> {
        Some(self.description.clone())
    }
}

/// A fitted copy of the user's estimator.
struct PyFitted {
    name: String,
    estimator: Py<PyAny>,
    with_std: bool,
}

impl PyFitted {
    fn call(&self, method: &str, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        al::interrupt::check()?;
        Python::attach(|py| {
            let out = self
                .estimator
                .bind(py)
                .call_method1(method, (array(py, x)?,))?;
            vector(&out, x.rows(), method)
        })
        .map_err(|e| keep(e, format!("{}.{method} on {} rows", self.name, x.rows())))
    }
}

impl Predict for PyFitted {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        self.call("predict", x)
    }

    /// The estimator's own standard deviation (`predict(X, return_std=True)`),
    /// when it has one.
    fn predict_std(&self, x: &Matrix) -> Result<Option<Vec<f64>>, ModelError> {
        if !self.with_std {
            return Ok(None);
        }
        self.call("predict_std", x).map(Some)
    }
}
