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
//! With `raw=True` the estimator works on the table as read (a `Pipeline`
//! with its own encoders): Rust hands the glue the rows' keys instead of
//! their encoded features (`al_models::Matrix::keys`: a project's row ids,
//! positions in the caller's array), and the glue turns them into a
//! DataFrame of the source's cells. Rows that have no key (synthesized,
//! streamed, read from a file outside the project) are refused by name.
//!
//! A fitted copy ships to Spark's workers as a pickle
//! ([`FittedModel::External`], format `python-pickle`): `export` pickles it
//! through the glue (`al._dump_fitted`), and [`read_shipped`], registered
//! when the module loads, unpickles it where the scorer is read.
//!
//! An exception raised inside the estimator is kept ([`take_failure`]) and raised
//! again to the caller as itself, with a note saying which call it was; the
//! flow around it fails as any model failure does, so nothing is written.
//!
//! **One thread calls the estimator: the caller's.** al's flows run on a
//! worker thread and fit committee members on rayon's threads; calling the
//! estimator from those made scikit-learn's OpenMP runtime start a thread
//! team per calling thread, whose threads then competed with each other
//! and, after the call, with everything the user ran next: a
//! `HistGradientBoostingRegressor` committee took 2.6 times as long as the
//! same fits in a plain loop, and the user's own loop afterwards ran 4
//! times slower for the rest of the session (docs/benchmarks.md). So each
//! call is sent as a job to the thread that called al ([`run_jobs_here`]),
//! which runs it between its checks for Ctrl-C; the estimator uses the
//! cores its own way (OpenMP, `n_jobs`), one call at a time.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use al_models::fitted::FittedModel;
use al_models::{Fit, Matrix, ModelError, Predict};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

/// Work for the thread that called al: a call of the estimator.
pub type Job = Box<dyn FnOnce() + Send>;

/// The thread that runs the estimator's calls while an al call is under
/// way, and where to send them.
struct Executor {
    thread: ThreadId,
    jobs: mpsc::Sender<Job>,
}

static EXECUTOR: Mutex<Option<Executor>> = Mutex::new(None);

/// This thread's jobs while it runs the estimator's calls ([`run_jobs_here`]).
pub struct Jobs {
    pub receiver: mpsc::Receiver<Job>,
    /// For the worker to wake this thread when it is done.
    pub waker: mpsc::Sender<Job>,
    _serving: JobsGuard,
}

/// Makes this thread the one that runs the estimator's calls until the
/// returned [`Jobs`] are dropped; the caller runs the jobs it receives.
pub fn run_jobs_here() -> Jobs {
    let (jobs, receiver) = mpsc::channel();
    *EXECUTOR.lock().unwrap_or_else(|p| p.into_inner()) = Some(Executor {
        thread: std::thread::current().id(),
        jobs: jobs.clone(),
    });
    Jobs {
        receiver,
        waker: jobs,
        _serving: JobsGuard,
    }
}

/// Ends [`run_jobs_here`]: calls run where they are made again.
struct JobsGuard;

impl Drop for JobsGuard {
    fn drop(&mut self) {
        *EXECUTOR.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// A sender of jobs to the running executor, for a thread that is not it.
pub fn job_sender() -> Option<mpsc::Sender<Job>> {
    let executor = EXECUTOR.lock().unwrap_or_else(|p| p.into_inner());
    executor
        .as_ref()
        .filter(|e| e.thread != std::thread::current().id())
        .map(|e| e.jobs.clone())
}

/// Runs `f` with the GIL on the executor's thread (here, when this is it
/// or there is none) and waits for its result.
fn on_python_thread<R: Send + 'static>(
    f: impl FnOnce(Python<'_>) -> PyResult<R> + Send + 'static,
) -> PyResult<R> {
    let Some(jobs) = job_sender() else {
        return Python::attach(f);
    };
    let (tx, rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = tx.send(Python::attach(f));
    });
    if let Err(mpsc::SendError(job)) = jobs.send(job) {
        // The executor has just finished: run it here.
        job();
    }
    rx.recv().unwrap_or_else(|_| {
        // Only when another thread's al call took the executor over and
        // ended with the job unrun.
        Err(pyo3::exceptions::PyRuntimeError::new_err(
            "the estimator's call was dropped: another thread's al call ended meanwhile; call al from one Python thread at a time",
        ))
    })
}

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
    factory: Arc<Py<PyAny>>,
    /// Its `predict` takes `return_std=True` (a Gaussian process, NGBoost).
    with_std: bool,
    /// Its class and `get_params()`, as the glue wrote them.
    description: serde_json::Value,
    /// It takes the rows' keys, for the glue to look their cells up.
    raw: bool,
}

impl PyModel {
    pub fn new(
        name: String,
        factory: Py<PyAny>,
        with_std: bool,
        description: serde_json::Value,
        raw: bool,
    ) -> PyModel {
        PyModel {
            name,
            factory: Arc::new(factory),
            with_std,
            description,
            raw,
        }
    }
}

/// What the estimator's call gets for `x`, owned, to go to the executor's
/// thread (the one copy: NumPy takes the vector as it is).
enum Owned {
    /// The encoded features.
    Values {
        values: Vec<f64>,
        rows: usize,
        cols: usize,
    },
    /// The rows' keys, for the glue to look their raw cells up.
    Keys(Vec<i64>),
}

impl Owned {
    fn of(x: &Matrix, raw: bool) -> PyResult<Owned> {
        if !raw {
            return Ok(Owned::Values {
                values: x.rows_values(0..x.rows()).to_vec(),
                rows: x.rows(),
                cols: x.cols(),
            });
        }
        match x.keys() {
            Some(keys) => Ok(Owned::Keys(keys.to_vec())),
            None => Err(pyo3::exceptions::PyValueError::new_err(
                "raw=True: these rows have no source cells to hand over (rows al synthesized or streamed, or rows of a file outside the project); call without raw=True, so the estimator gets al's encoded features",
            )),
        }
    }

    /// As a C-ordered float64 array, or an int64 vector of keys.
    fn array(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        match self {
            Owned::Values { values, rows, cols } => Ok(PyArray1::from_vec(py, values)
                .reshape([rows, cols])?
                .into_any()),
            Owned::Keys(keys) => Ok(PyArray1::from_vec(py, keys).into_any()),
        }
    }
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
        // Which of several fits this is (a committee's member, a fold), to
        // name it if it fails, in fit or later in predict.
        let place = al_models::call_context::current();
        let call = format!("{}.fit on {} rows{}", self.name, x.rows(), of_place(place));
        let data = Owned::of(x, self.raw).map_err(|e| keep(e, call.clone()))?;
        let (factory, y) = (self.factory.clone(), y.to_vec());
        let fitted = on_python_thread(move |py| -> PyResult<Option<Py<PyAny>>> {
            if al::interrupt::requested() {
                return Ok(None);
            }
            let estimator = factory.bind(py).call1((seed,))?;
            estimator.call_method1("fit", (data.array(py)?, PyArray1::from_vec(py, y)))?;
            Ok(Some(estimator.unbind()))
        })
        .map_err(|e| keep(e, call))?
        .ok_or(ModelError::Interrupted)?;
        Ok(Box::new(PyFitted {
            name: self.name.clone(),
            estimator: Arc::new(fitted),
            with_std: self.with_std,
            raw: self.raw,
            place,
        }))
    }

    fn describe(&self) -> Option<serde_json::Value> {
        Some(self.description.clone())
    }
}

/// A fitted copy of the user's estimator.
struct PyFitted {
    name: String,
    estimator: Arc<Py<PyAny>>,
    with_std: bool,
    raw: bool,
    /// Which of several fits made it, if it was one of several.
    place: Option<al_models::call_context::Place>,
}

/// ", committee member 3 of 5" for a call in one of several fits.
fn of_place(place: Option<al_models::call_context::Place>) -> String {
    place.map(|p| format!(", {p}")).unwrap_or_default()
}

impl PyFitted {
    fn call(&self, method: &'static str, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        al::interrupt::check()?;
        let call = format!(
            "{}.{method} on {} rows{}",
            self.name,
            x.rows(),
            of_place(self.place)
        );
        let data = Owned::of(x, self.raw).map_err(|e| keep(e, call.clone()))?;
        let (estimator, rows) = (self.estimator.clone(), x.rows());
        on_python_thread(move |py| -> PyResult<Option<Vec<f64>>> {
            if al::interrupt::requested() {
                return Ok(None);
            }
            let out = estimator
                .bind(py)
                .call_method1(method, (data.array(py)?,))?;
            vector(&out, rows, method).map(Some)
        })
        .map_err(|e| keep(e, call))?
        .ok_or(ModelError::Interrupted)
    }
}

impl Predict for PyFitted {
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, ModelError> {
        self.call("predict", x)
    }

    /// The fitted estimator pickled, for Spark's workers; `None` with
    /// `raw=True` (a worker has no project to look the rows' cells up in)
    /// and when it does not pickle (the exception is kept and raised).
    fn export(&self) -> Option<FittedModel> {
        if self.raw {
            return None;
        }
        let (estimator, name, with_std) =
            (self.estimator.clone(), self.name.clone(), self.with_std);
        let bytes = on_python_thread(move |py| -> PyResult<Vec<u8>> {
            let model = estimator.bind(py).getattr("model")?;
            py.import("al")?
                .call_method1("_dump_fitted", (model, name, with_std))?
                .extract()
        });
        match bytes {
            Ok(bytes) => Some(FittedModel::External {
                format: SHIPPED_FORMAT.into(),
                bytes,
            }),
            Err(e) => {
                keep(e, format!("pickling {} for the workers", self.name));
                None
            }
        }
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

/// The format of a fitted estimator shipped to workers.
const SHIPPED_FORMAT: &str = "python-pickle";

/// Reads a fitted estimator a driver shipped ([`PyFitted::export`]); the
/// glue unpickles it (`al._load_fitted`), so the worker needs the
/// estimator's package installed, as the driver has it.
pub fn read_shipped(format: &str, bytes: &[u8]) -> Result<Box<dyn Predict>, ModelError> {
    if format != SHIPPED_FORMAT {
        return Err(ModelError::Plugin(format!(
            "a shipped model in format {format:?}; this al reads {SHIPPED_FORMAT}"
        )));
    }
    let bytes = bytes.to_vec();
    let loaded = on_python_thread(move |py| -> PyResult<(Py<PyAny>, String, bool)> {
        py.import("al")?
            .call_method1("_load_fitted", (pyo3::types::PyBytes::new(py, &bytes),))?
            .extract()
    });
    let (estimator, name, with_std) =
        loaded.map_err(|e| keep(e, "unpickling a shipped estimator".into()))?;
    Ok(Box::new(PyFitted {
        name,
        estimator: Arc::new(estimator),
        with_std,
        raw: false,
        place: None,
    }))
}
