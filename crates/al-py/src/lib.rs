//! `al._al`: the Python bindings of the `al` crate (PyO3).
//!
//! A thin layer: every call converts its arguments into the crate's option
//! structs, runs one `al` flow with the GIL released, and hands back plain
//! Python values (JSON text for named structs, column lists for tables) for
//! `python/al/__init__.py` to turn into data frames. Errors become Python
//! exceptions carrying al's own messages; nothing panics through the
//! boundary.
//!
//! Long calls run on a worker thread while the calling thread waits with
//! the GIL released, waking every 100 ms to report progress and to check
//! for Ctrl-C: on KeyboardInterrupt a simulation is stopped and nothing of
//! it is stored, and a query that finishes planning is not recorded.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod estimator;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::create_exception;
use pyo3::exceptions::{PyFileNotFoundError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use al::shipped::{ArrowBuffers, PoolColumn};
use al::{BatchOut, ErrorKind, PredictOptions, QueryOptions, Role, SimulateOptions};

create_exception!(
    _al,
    AlError,
    PyRuntimeError,
    "An al operation failed (a model that cannot be fitted, a database error, ...)."
);
create_exception!(
    _al,
    ProjectBusyError,
    AlError,
    "Another process is writing to the project file; try again in a moment."
);

/// An `anyhow` error as the Python exception of its kind, with al's message;
/// an exception the user's own estimator raised, as itself.
fn to_py(err: anyhow::Error) -> PyErr {
    if let Some(raised) = estimator::take_failure() {
        return raised;
    }
    let message = al::error_message(&err);
    match al::error_kind(&err) {
        ErrorKind::BadInput => PyValueError::new_err(message),
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        ErrorKind::Busy => ProjectBusyError::new_err(message),
        ErrorKind::Interrupted => pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
        ErrorKind::Other => AlError::new_err(message),
    }
}

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| AlError::new_err(e.to_string()))
}

/// The message a panic carried.
fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// What a worker thread returns: its value, an error, or a panic's text.
type Outcome<T> = Result<anyhow::Result<T>, String>;

/// Runs `work` on a worker thread with the GIL released. Meanwhile the
/// caller's thread runs the calls of a user's estimator the work sends it
/// (estimator.rs: one thread calls the estimator, the caller's), and every
/// 100 ms takes the GIL to call `progress(done, total)` (when given) and to
/// check for signals; on KeyboardInterrupt it sets `stop`, waits for the
/// worker to return, and raises the interrupt.
fn interruptible<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    counter: Option<(&AtomicUsize, usize, &Bound<'_, PyAny>)>,
    work: impl FnOnce() -> anyhow::Result<T> + Send,
) -> PyResult<T> {
    al::interrupt::clear();
    estimator::take_failure();
    // Dropped at the end: calls run where they are made again.
    let mut jobs = estimator::run_jobs_here();
    let waker = jobs.waker.clone();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Outcome<T>>();
        scope.spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(panic_text);
            let _ = tx.send(outcome);
            // Wakes the caller's thread from waiting for jobs.
            let _ = waker.send(Box::new(|| {}));
        });
        let mut interrupted: Option<PyErr> = None;
        let mut checked = std::time::Instant::now();
        loop {
            // The receiver is Send, not Sync: it goes into the GIL-free
            // wait and comes back.
            let wait = Duration::from_millis(100).saturating_sub(checked.elapsed());
            let receiver = jobs.receiver;
            let (back, job) = py.detach(move || {
                let job = receiver.recv_timeout(wait);
                (receiver, job)
            });
            jobs.receiver = back;
            if let Ok(job) = job {
                job();
            }
            match rx.try_recv() {
                Ok(outcome) => {
                    if let Some(err) = interrupted {
                        return Err(err);
                    }
                    return match outcome {
                        Ok(result) => result.map_err(to_py),
                        Err(panic) => Err(AlError::new_err(format!(
                            "internal error (please report it): {panic}"
                        ))),
                    };
                }
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(AlError::new_err("the worker thread ended without a result"))
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
            if checked.elapsed() < Duration::from_millis(100) {
                continue;
            }
            checked = std::time::Instant::now();
            if interrupted.is_none() {
                // A failing progress callback stops the work as Ctrl-C
                // does (the worker may be waiting for this thread).
                let progressed = match counter {
                    Some((done, total, callback)) => callback
                        .call1((done.load(Ordering::Relaxed), total))
                        .map(|_| ()),
                    None => Ok(()),
                };
                if let Err(err) = progressed.and_then(|()| py.check_signals()) {
                    stop.store(true, Ordering::SeqCst);
                    // Fits and pool scoring see the process's request.
                    al::interrupt::request();
                    interrupted = Some(err);
                }
            }
        }
    })
}

/// The user's estimator as an al model (see [`estimator`]).
fn local_model(
    name: String,
    factory: Py<PyAny>,
    with_std: bool,
    description: &str,
    raw: bool,
) -> PyResult<Arc<dyn al_models::Fit>> {
    let description: serde_json::Value = serde_json::from_str(description)
        .map_err(|e| PyValueError::new_err(format!("model: its description is not JSON: {e}")))?;
    Ok(Arc::new(estimator::PyModel::new(
        name,
        factory,
        with_std,
        description,
        raw,
    )))
}

/// Rows' source cells for the glue: the columns' names and, per column,
/// a float64 array (a column al reads as numbers) or a list of text.
type RawCells = (Vec<String>, Vec<Py<PyAny>>);

/// A project file, opened once; calls on it take turns.
#[pyclass(module = "al._al", name = "ProjectHandle")]
struct ProjectHandle {
    project: Mutex<al::Project>,
    /// The thread running an asking stream's `ask` callback, if one is:
    /// a call from it on this project would wait for itself.
    asking: Mutex<Option<std::thread::ThreadId>>,
    /// The source's cells for an estimator with `raw=True`, read apart
    /// from `project`, which the flow calling the estimator holds.
    raw: Mutex<Option<al::RawRows>>,
}

impl ProjectHandle {
    fn new(project: al::Project) -> ProjectHandle {
        ProjectHandle {
            project: Mutex::new(project),
            asking: Mutex::new(None),
            raw: Mutex::new(None),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut al::Project) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let me = std::thread::current().id();
        if self.asking.lock().is_ok_and(|a| *a == Some(me)) {
            anyhow::bail!(al::InvalidParameter {
                key: "ask".into(),
                message: "ask: the callback cannot call the project its stream is adding to; return the label and call the project after the stream".into(),
            });
        }
        let mut project = self.project.lock().map_err(|_| {
            anyhow::anyhow!("an earlier call on this project failed midway; open it again")
        })?;
        f(&mut project)
    }
}

fn settings(plugin_timeout: f64) -> PyResult<al::Settings> {
    al::Settings::new(plugin_timeout).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A count from Python for a parameter whose least value is at least 1: a
/// negative one becomes 0, which the library's check refuses with the same
/// message as any other value below the least (one place states the range).
fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

/// A seed: any whole number from 0.
fn seed(value: i64) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| PyValueError::new_err("seed: expected a whole number >= 0"))
}

/// A coverage level as the glue passes it (`str()` of what the user gave:
/// 0.9 or "90%"), checked by the core's rule.
fn coverage(text: Option<String>) -> PyResult<Option<al::Coverage>> {
    text.map(|t| al::Coverage::parse(&t).map_err(|e| PyValueError::new_err(e.to_string())))
        .transpose()
}

/// An audit share as the glue passes it (`str()` of 0.1 or "10%").
fn audit(text: Option<String>) -> PyResult<al::AuditShare> {
    text.map_or(Ok(al::AuditShare::default()), |t| {
        al::AuditShare::parse(&t).map_err(|e| PyValueError::new_err(e.to_string()))
    })
}

/// Where a round's batch file goes from Python: the file `out` names, or
/// none (the caller gets the rows as a frame).
fn batch_out(out: Option<PathBuf>) -> BatchOut {
    out.map_or(BatchOut::None, BatchOut::File)
}

/// A query's options from Python's arguments (no diversity, no pending rows).
fn query_options(
    batch: i64,
    strategy: Option<String>,
    model: Option<String>,
    seed: i64,
    candidates: i64,
    coverage: Option<String>,
) -> PyResult<QueryOptions> {
    Ok(QueryOptions {
        strategy,
        batch: count(batch),
        model,
        seed: self::seed(seed)?,
        candidates: count(candidates),
        diversity: false,
        include_pending: false,
        coverage: self::coverage(coverage)?,
        audit: al::AuditShare::default(),
    })
}

fn role(text: &str) -> PyResult<Role> {
    match text {
        "train" => Ok(Role::Train),
        "pool" => Ok(Role::Pool),
        "test" => Ok(Role::Test),
        other => Err(PyValueError::new_err(format!(
            "as_: {other:?} is not one of train, pool, test"
        ))),
    }
}

#[pymethods]
impl ProjectHandle {
    /// Reads `source` (CSV/TSV) and creates the project file at `path`.
    /// Returns the handle and the init report as JSON.
    #[staticmethod]
    #[pyo3(signature = (source, path, target, *, delimiter=None, numeric_threshold=0.9,
        categorical=vec![], numeric=vec![], drop=vec![], id_cols=vec![], impute=vec![],
        missing_indicators=false, max_levels=50, bad_target="error", test_frac=None,
        pool=None, test=None, seed=0, min=None, max=None, force=false, plugin_timeout=60.0,
        declared=vec![]))]
    #[allow(clippy::too_many_arguments)]
    fn init(
        py: Python<'_>,
        source: PathBuf,
        path: PathBuf,
        target: String,
        delimiter: Option<String>,
        numeric_threshold: f64,
        categorical: Vec<String>,
        numeric: Vec<String>,
        drop: Vec<String>,
        id_cols: Vec<String>,
        impute: Vec<String>,
        missing_indicators: bool,
        max_levels: i64,
        bad_target: &str,
        test_frac: Option<f64>,
        pool: Option<PathBuf>,
        test: Option<PathBuf>,
        seed: i64,
        min: Option<f64>,
        max: Option<f64>,
        force: bool,
        plugin_timeout: f64,
        declared: Vec<(String, String)>,
    ) -> PyResult<(ProjectHandle, String)> {
        let declared = declared
            .into_iter()
            .map(|(column, kind)| match kind.as_str() {
                "number" => Ok((column, al::SourceKind::Number)),
                "text" => Ok((column, al::SourceKind::Text)),
                other => Err(PyValueError::new_err(format!(
                    "declared: column {column:?} has type {other:?}, not one of number, text"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let delimiter = delimiter
            .as_deref()
            .map(al::parse_delimiter)
            .transpose()
            .map_err(PyValueError::new_err)?;
        let (impute_default, per_column) =
            al::impute_rules(&impute).map_err(|e| PyValueError::new_err(format!("impute: {e}")))?;
        let bad_target = match bad_target {
            "error" => al::BadTarget::Error,
            "skip" => al::BadTarget::Skip,
            other => {
                return Err(PyValueError::new_err(format!(
                    "bad_target: {other:?} is not one of error, skip"
                )))
            }
        };
        let options = al::InitOptions {
            source,
            project: path,
            force,
            read: al::ReadOptions {
                delimiter,
                declared,
                ..al::ReadOptions::default()
            },
            recipe: al::RecipeOptions {
                target,
                numeric_threshold,
                categorical,
                numeric,
                drop,
                id_cols,
                impute_default,
                impute: per_column,
                missing_indicators,
                max_levels: count(max_levels),
            },
            bad_target,
            test_frac,
            seed: self::seed(seed)?,
            min,
            max,
            pool,
            test,
        };
        let settings = settings(plugin_timeout)?;
        let stop = AtomicBool::new(false);
        let (project, report) =
            interruptible(py, &stop, None, || al::Project::init(&options, settings))?;
        let report = serde_json::json!({
            "rows": report.rows, "labeled": report.labeled, "test": report.test,
            "unlabeled": report.unlabeled, "features": report.features, "notices": report.notices,
        });
        Ok((ProjectHandle::new(project), json(&report)?))
    }

    /// Opens an existing project file.
    #[staticmethod]
    #[pyo3(signature = (path, *, plugin_timeout=60.0))]
    fn open(path: PathBuf, plugin_timeout: f64) -> PyResult<ProjectHandle> {
        if !path.exists() {
            return Err(PyFileNotFoundError::new_err(format!(
                "no project file {}: create one with al.Project.init(data, target=...)",
                path.display()
            )));
        }
        let project = al::Project::open(&path, settings(plugin_timeout)?).map_err(to_py)?;
        Ok(ProjectHandle::new(project))
    }

    fn path(&self) -> PyResult<String> {
        self.with(|p| Ok(p.path().display().to_string()))
            .map_err(to_py)
    }

    fn status(&self) -> PyResult<String> {
        json(&self.with(|p| p.status()).map_err(to_py)?)
    }

    /// Plans a round (GIL released), then records it unless interrupted.
    #[pyo3(signature = (batch=10, strategy=None, model=None, seed=0, candidates=500,
        diversity=false, include_pending=false, out=None, coverage=None, audit=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        batch: i64,
        strategy: Option<String>,
        model: Option<String>,
        seed: i64,
        candidates: i64,
        diversity: bool,
        include_pending: bool,
        out: Option<PathBuf>,
        coverage: Option<String>,
        audit: Option<String>,
    ) -> PyResult<String> {
        let options = QueryOptions {
            diversity,
            include_pending,
            audit: self::audit(audit)?,
            ..query_options(batch, strategy, model, seed, candidates, coverage)?
        };
        // Ctrl-C sets the flag; the pool's loading and scoring check it.
        let stop = Arc::new(AtomicBool::new(false));
        let planned = interruptible(py, &stop, None, || {
            self.with(|p| p.plan_query_until(&options, stop.clone()))
        })?;
        let out = batch_out(out);
        let outcome = py
            .detach(|| self.with(|p| p.record_query(planned, out)))
            .map_err(to_py)?;
        json(&outcome)
    }

    /// Fits a query's strategy on the labels and packs it for workers
    /// that score an outside pool (`al.spark`); writes nothing.
    #[pyo3(signature = (id_col, batch=10, strategy=None, model=None, seed=0, candidates=500, coverage=None))]
    #[allow(clippy::too_many_arguments)]
    fn ship_query<'py>(
        &self,
        py: Python<'py>,
        id_col: String,
        batch: i64,
        strategy: Option<String>,
        model: Option<String>,
        seed: i64,
        candidates: i64,
        coverage: Option<String>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let options = query_options(batch, strategy, model, seed, candidates, coverage)?;
        let stop = AtomicBool::new(false);
        // Interruptible: a user's estimator is fitted and pickled here.
        let scorer = interruptible(py, &stop, None, || {
            self.with(|p| p.ship_query(&options, &id_col))
        })?;
        Ok(PyBytes::new(py, scorer.to_bytes()))
    }

    /// The id cells of every row the project holds.
    fn held_ids(&self, py: Python<'_>, id_col: String) -> PyResult<Vec<String>> {
        py.detach(|| self.with(|p| p.held_ids(&id_col)))
            .map_err(to_py)
    }

    /// Records a shipped query's round: `rows` (Arrow text columns) are
    /// the picks in rank order with their `utilities`, or the sample.
    #[pyo3(signature = (scorer, batch, rows, utilities, pool))]
    fn record_shipped(
        &self,
        py: Python<'_>,
        scorer: &[u8],
        batch: i64,
        rows: Vec<ArrowColumn>,
        utilities: Option<Vec<f64>>,
        pool: i64,
    ) -> PyResult<String> {
        let stop = AtomicBool::new(false);
        let outcome = interruptible(py, &stop, None, || {
            let scorer = al::shipped::Scorer::from_bytes(scorer)?;
            let table = al::shipped::pool_table(&pool_columns(&rows)?)?;
            self.with(|p| p.record_shipped(&scorer, count(batch), &table, utilities, count(pool)))
        })?;
        json(&outcome)
    }

    /// Checked answers as `(row_id, value)` pairs, or a filled-in batch file.
    #[pyo3(signature = (pairs=None, file=None, annotator=None, evaluate=true, model=None))]
    fn label(
        &self,
        py: Python<'_>,
        pairs: Option<Vec<(i64, f64)>>,
        file: Option<PathBuf>,
        annotator: Option<String>,
        evaluate: bool,
        model: Option<String>,
    ) -> PyResult<String> {
        let labeled = py.detach(|| {
            self.with(|p| {
                // Resolved before any label is written: a bad model changes nothing.
                let spec = p.model_spec(model.as_deref())?;
                let events = match (&pairs, &file) {
                    (Some(pairs), None) => p.answers(pairs, annotator.as_deref())?,
                    (None, Some(file)) => p.read_answers(file, annotator.as_deref())?,
                    _ => anyhow::bail!(al::InvalidParameter {
                        key: "answers".into(),
                        message: "give answers as a data frame, a dict {row_id: value} or a batch file's path".into(),
                    }),
                };
                p.label(&events, evaluate.then_some(&spec))
            })
        });
        json(&labeled.map_err(to_py)?)
    }

    #[pyo3(signature = (model=None, seed=0))]
    fn evaluate(&self, py: Python<'_>, model: Option<String>, seed: i64) -> PyResult<String> {
        let seed = self::seed(seed)?;
        let stop = AtomicBool::new(false);
        let report = interruptible(py, &stop, None, || {
            self.with(|p| {
                let spec = p.model_spec(model.as_deref())?;
                p.evaluate(&spec, seed)
            })
        })?;
        json(&report)
    }

    #[pyo3(signature = (models, seed=0, set_default=false))]
    fn compare_models(
        &self,
        py: Python<'_>,
        models: Vec<String>,
        seed: i64,
        set_default: bool,
    ) -> PyResult<String> {
        let seed = self::seed(seed)?;
        let stop = AtomicBool::new(false);
        let comparison = interruptible(py, &stop, None, || {
            self.with(|p| {
                let specs = p.model_specs(&models)?;
                p.compare_models(&specs, seed, set_default, |_| {})
            })
        })?;
        json(&comparison)
    }

    /// The forecast and the stopping advice as JSON (`null` before the
    /// first report).
    fn forecast(&self) -> PyResult<String> {
        json(&self.with(|p| p.forecast()).map_err(to_py)?)
    }

    /// Makes the user's own estimator a model of this project under
    /// `name` (`python.MODULE.CLASS`): `factory(seed)` returns a fresh
    /// `_Estimator` (the glue's), `description` its class and parameters
    /// as JSON, kept with the rounds it makes; `raw`: it takes row ids,
    /// whose cells the glue reads with [`ProjectHandle::raw_cells`].
    #[pyo3(signature = (name, factory, with_std, description, raw=false))]
    fn register_model(
        &self,
        name: String,
        factory: Py<PyAny>,
        with_std: bool,
        description: String,
        raw: bool,
    ) -> PyResult<()> {
        let model = local_model(name.clone(), factory, with_std, &description, raw)?;
        self.with(|p| {
            if raw {
                let mut cells = self.raw.lock().unwrap_or_else(|e| e.into_inner());
                if cells.is_none() {
                    *cells = Some(al::RawRows::open(p)?);
                }
            }
            p.register_model(&name, model)
        })
        .map_err(to_py)
    }

    /// The source's cells of the rows `row_ids` for an estimator with
    /// `raw=True`: the columns' names and the columns, numbers as float64
    /// arrays (NaN where empty), text as lists (None where empty). Safe to
    /// call while a flow holds the project.
    fn raw_cells(&self, py: Python<'_>, row_ids: PyReadonlyArray1<'_, i64>) -> PyResult<RawCells> {
        let row_ids = row_ids.as_slice()?.to_vec();
        // Read without the GIL, and let go of the lock before taking it
        // back: another thread may be waiting for the lock with the GIL held.
        let (header, columns) = py.detach(|| {
            let cells = self.raw.lock().unwrap_or_else(|e| e.into_inner());
            let raw = cells.as_ref().ok_or_else(|| {
                PyValueError::new_err("raw_cells: no estimator with raw=True was registered")
            })?;
            let columns = raw.columns(&row_ids).map_err(to_py)?;
            PyResult::Ok((raw.header.clone(), columns))
        })?;
        let columns = columns
            .into_iter()
            .map(|column| match column {
                al::RawColumn::Numbers(values) => Ok(values.into_pyarray(py).into_any().unbind()),
                al::RawColumn::Text(cells) => Ok(cells.into_pyobject(py)?.into_any().unbind()),
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok((header, columns))
    }

    /// Stores the stopping rule's threshold: a share as 0.01 or "1%".
    fn set_stop_below(&self, share: String) -> PyResult<()> {
        let share =
            al::StopBelow::parse(&share).map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.with(|p| p.set_stop_below(share)).map_err(to_py)
    }

    /// `report()`'s parts, the forecast fitted once: the reports (JSON),
    /// the learning curve with the forecast (SVG, empty without reports)
    /// and the forecast with the advice (JSON, `null` before enough rounds).
    fn report_parts(&self) -> PyResult<(String, String, String)> {
        let (reports, forecast) = self
            .with(|p| Ok((p.reports()?, p.forecast()?)))
            .map_err(to_py)?;
        let svg = if reports.is_empty() {
            String::new()
        } else {
            al::learning_curve_svg(&reports, forecast.as_ref()).map_err(to_py)?
        };
        Ok((json(&reports)?, svg, json(&forecast)?))
    }

    fn history(&self, row_id: i64) -> PyResult<String> {
        json(&self.with(|p| p.history(row_id)).map_err(to_py)?)
    }

    /// Writes every unlabeled row as Label Studio tasks and/or al's
    /// labeling interface; returns how many tasks.
    #[pyo3(signature = (tasks=None, config=None))]
    fn to_label_studio(
        &self,
        py: Python<'_>,
        tasks: Option<PathBuf>,
        config: Option<PathBuf>,
    ) -> PyResult<usize> {
        py.detach(|| {
            self.with(|p| {
                if let Some(config) = &config {
                    al::write_atomically(config, p.label_studio_config()?.as_bytes())?;
                }
                match &tasks {
                    Some(tasks) => p.write_label_studio_pool(tasks),
                    None => Ok(0),
                }
            })
        })
        .map_err(to_py)
    }

    /// The export as `(header, numeric, columns)`: one list of text cells per column.
    fn export(&self, py: Python<'_>) -> PyResult<ColumnTable> {
        let table = py
            .detach(|| self.with(|p| p.export_table()))
            .map_err(to_py)?;
        let width = table.numeric.len();
        Ok((table.header, table.numeric, columns(table.rows, width)))
    }

    /// Predictions for the project's rows, or a file's rows, as JSON.
    #[pyo3(signature = (file=None, pool=false, model=None, seed=0, coverage=None))]
    fn predict(
        &self,
        py: Python<'_>,
        file: Option<PathBuf>,
        pool: bool,
        model: Option<String>,
        seed: i64,
        coverage: Option<String>,
    ) -> PyResult<String> {
        let options = PredictOptions {
            pool,
            model,
            seed: self::seed(seed)?,
            coverage: self::coverage(coverage)?,
        };
        let stop = AtomicBool::new(false);
        let predictions = interruptible(py, &stop, None, || {
            self.with(|p| match &file {
                Some(f) => p.predict_file(f, &options),
                None => p.predict(&options),
            })
        })?;
        json(&predictions)
    }

    /// Streams the rows of `file` (the rows arriving one at a time), adds
    /// them all and records the queried ones' round; the outcome as JSON.
    #[pyo3(signature = (file, strategy="qbc".to_string(), model=None, budget=None, threshold=None,
        seed=0, candidates=500, out=None))]
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &self,
        py: Python<'_>,
        file: PathBuf,
        strategy: String,
        model: Option<String>,
        budget: Option<f64>,
        threshold: Option<f64>,
        seed: i64,
        candidates: i64,
        out: Option<PathBuf>,
    ) -> PyResult<String> {
        let options = stream_options(strategy, model, budget, threshold, seed, candidates)?;
        let out = batch_out(out);
        // It writes as it ends, so it runs to the end (no interrupt half
        // way: the rows, round and file land together).
        let outcome = py
            .detach(|| {
                self.with(|p| {
                    let arrivals = p.arrivals(&file)?;
                    p.stream(&arrivals, &options, out)
                })
            })
            .map_err(to_py)?;
        json(&outcome)
    }

    /// Streams the rows of `file` one at a time, calling `ask(row_id,
    /// utility, prediction, cells)` for each queried row (cells: the
    /// source's column names and texts) and keeping each answer at once:
    /// a number labels the row, None skips it, "stop" ends the stream.
    /// Holds the GIL throughout (it calls back into Python for every asked
    /// row); Ctrl-C, seen when the next row is asked about or inside
    /// `ask`, ends the stream with everything before it kept. The outcome
    /// as JSON.
    #[pyo3(signature = (file, ask, strategy="qbc".to_string(), model=None, budget=None,
        threshold=None, seed=0, candidates=500, refit_every=10))]
    #[allow(clippy::too_many_arguments)]
    fn stream_asking(
        &self,
        py: Python<'_>,
        file: PathBuf,
        ask: Bound<'_, PyAny>,
        strategy: String,
        model: Option<String>,
        budget: Option<f64>,
        threshold: Option<f64>,
        seed: i64,
        candidates: i64,
        refit_every: i64,
    ) -> PyResult<String> {
        let options = stream_options(strategy, model, budget, threshold, seed, candidates)?;
        let refit_every = count(refit_every);
        // Refused before the arriving file is read (as the CLI does).
        al::stream::check_refit_every(refit_every).map_err(to_py)?;
        // A Python exception from `ask` (KeyboardInterrupt included) ends
        // the stream; it is raised as it was, not as al's error.
        let mut raised: Option<PyErr> = None;
        let outcome = self.with(|p| {
            let headers = p.file().headers()?;
            let arrivals = p.arrivals(&file)?;
            *self.asking.lock().expect("the asking slot") = Some(std::thread::current().id());
            let outcome = p.stream_asking(&arrivals, &options, refit_every, |row| {
                let reply = py
                    .check_signals()
                    .and_then(|()| ask_row(py, &ask, row, &headers));
                reply.map_err(|err| {
                    raised = Some(err);
                    anyhow::anyhow!("the ask callback raised")
                })
            });
            *self.asking.lock().expect("the asking slot") = None;
            outcome
        });
        if let Some(err) = raised {
            return Err(err);
        }
        json(&outcome.map_err(to_py)?)
    }

    /// Synthesizes `n` rows and records them as a round; the outcome as JSON.
    #[pyo3(signature = (n=10, strategy="qbc".to_string(), model=None, seed=0, out=None))]
    fn synthesize(
        &self,
        py: Python<'_>,
        n: i64,
        strategy: String,
        model: Option<String>,
        seed: i64,
        out: Option<PathBuf>,
    ) -> PyResult<String> {
        let options = al::synthesize::SynthesizeOptions {
            n: count(n),
            strategy,
            model,
            seed: self::seed(seed)?,
        };
        let out = batch_out(out);
        let outcome = py
            .detach(|| self.with(|p| p.synthesize(&options, out)))
            .map_err(to_py)?;
        json(&outcome)
    }

    #[pyo3(signature = (file, as_="train"))]
    fn add(&self, py: Python<'_>, file: PathBuf, as_: &str) -> PyResult<String> {
        let role = role(as_)?;
        let report = py
            .detach(|| self.with(|p| p.add(&file, role)))
            .map_err(to_py)?;
        json(&report)
    }

    /// Runs and stores a simulation per model; each run as JSON with its
    /// learning-curve SVG. `progress(done, total)` hears of the rounds.
    #[pyo3(signature = (strategies, models=vec![], init=20, batch=10, rounds=20, repeats=3,
        seed=0, candidates=500, pool_max=None, diversity=false, test_frac=None, mode="pool",
        metric="mae", cold_start=false, random_budget=2.0, oracle="knn".to_string(), progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn simulate(
        &self,
        py: Python<'_>,
        strategies: Vec<String>,
        models: Vec<String>,
        init: i64,
        batch: i64,
        rounds: i64,
        repeats: i64,
        seed: i64,
        candidates: i64,
        pool_max: Option<i64>,
        diversity: bool,
        test_frac: Option<f64>,
        mode: &str,
        metric: &str,
        cold_start: bool,
        random_budget: f64,
        oracle: String,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(String, String)>> {
        let options = SimulateOptions {
            strategies,
            models,
            init: count(init),
            batch: count(batch),
            rounds: count(rounds),
            repeats: count(repeats),
            seed: self::seed(seed)?,
            candidates: count(candidates),
            pool_max: pool_max.map(count),
            diversity,
            test_frac,
            mode: match mode {
                "pool" => al::Mode::Pool,
                "stream" => al::Mode::Stream,
                "synthesis" => al::Mode::Synthesis,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "mode: {other:?} is not one of pool, stream, synthesis"
                    )))
                }
            },
            metric: match metric {
                "mae" => al::Metric::Mae,
                "rmse" => al::Metric::Rmse,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "metric: {other:?} is not one of mae, rmse"
                    )))
                }
            },
            cold_start,
            random_budget,
            oracle,
        };
        // Checked, and the total number of rounds counted, before any work.
        let total = self
            .with(|p| {
                Ok(p.simulation_configs(&options)?
                    .iter()
                    .map(|c| {
                        al_query::simulate::strategy_names(c)
                            .iter()
                            .map(|n| c.rounds_of(n) * c.repeats)
                            .sum::<usize>()
                    })
                    .sum::<usize>())
            })
            .map_err(to_py)?;
        let stop = AtomicBool::new(false);
        let done = AtomicUsize::new(0);
        let counter = progress.as_ref().map(|callback| (&done, total, callback));
        let runs = interruptible(py, &stop, counter, || {
            let tick = |_: &str, _: usize, _: usize| {
                done.fetch_add(1, Ordering::Relaxed);
            };
            self.with(|p| p.simulate(&options, &stop, al::OnStop::Discard, &tick))
        })?;
        runs.iter()
            .map(|run| {
                let svg = al::plot::learning_curves_svg(
                    al::SIMULATION_TITLE,
                    &al::simulation_series(&run.result),
                )
                .map_err(to_py)?;
                Ok((json(run)?, svg))
            })
            .collect()
    }
}

/// A table for Python: header, which columns hold numbers, one list of
/// text cells per column.
type ColumnTable = (Vec<String>, Vec<bool>, Vec<Vec<String>>);

/// Rows of text cells as one list per column.
fn columns(rows: Vec<Vec<String>>, width: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = (0..width).map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (c, cell) in row.into_iter().enumerate().take(width) {
            out[c].push(cell);
        }
    }
    out
}

/// scikit-activeml's call shape: picks among the rows whose `y` is NaN.
/// Returns the indices (best first), their utilities and a JSON summary.
#[pyfunction]
#[pyo3(signature = (x, y, batch_size=10, strategy=None, model=None, seed=0, candidates=500, plugin_timeout=60.0, estimator=None))]
#[allow(clippy::too_many_arguments)]
fn query_array(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    batch_size: i64,
    strategy: Option<String>,
    model: Option<String>,
    seed: i64,
    candidates: i64,
    plugin_timeout: f64,
    estimator: Option<(Py<PyAny>, bool, String, bool)>,
) -> PyResult<(Vec<usize>, Vec<f64>, String)> {
    let width = x.as_array().ncols();
    // Borrowed from NumPy's buffers, no copy (the glue makes them C-contiguous).
    let xs = x
        .as_slice()
        .map_err(|_| PyValueError::new_err("X: expected a C-contiguous float64 array"))?;
    let ys = y
        .as_slice()
        .map_err(|_| PyValueError::new_err("y: expected a contiguous float64 array"))?;
    let options = al::array::ArrayQuery {
        strategy,
        model,
        batch: count(batch_size),
        seed: self::seed(seed)?,
        candidates: count(candidates),
    };
    let settings = settings(plugin_timeout)?;
    // The user's estimator, under the model name the glue gave it.
    let mut local = al::plugins::LocalModels::default();
    if let (Some((factory, with_std, description, raw)), Some(name)) = (estimator, &options.model) {
        let model = local_model(name.clone(), factory, with_std, &description, raw)?;
        local.insert(name, model).map_err(to_py)?;
    }
    let stop = AtomicBool::new(false);
    let picks = interruptible(py, &stop, None, || {
        al::array::query(xs, width, ys, &options, &settings, &local)
    })?;
    let summary = serde_json::json!({
        "strategy": picks.strategy, "model": picks.model, "cold_start": picks.cold_start,
    });
    Ok((picks.indices, picks.utilities, json(&summary)?))
}

/// A stream's options from Python, checked before any row is read.
fn stream_options(
    strategy: String,
    model: Option<String>,
    budget: Option<f64>,
    threshold: Option<f64>,
    seed: i64,
    candidates: i64,
) -> PyResult<al::stream::StreamOptions> {
    let options = al::stream::StreamOptions {
        strategy,
        model,
        rule: al::stream::rule(budget, threshold).map_err(to_py)?,
        seed: self::seed(seed)?,
        candidates: count(candidates),
    };
    options.check().map_err(to_py)?;
    Ok(options)
}

/// Puts one queried row to the Python `ask` callback and reads its reply.
fn ask_row(
    py: Python<'_>,
    ask: &Bound<'_, PyAny>,
    row: &al::stream::Ask,
    headers: &[String],
) -> PyResult<al::stream::Reply> {
    let cells = pyo3::types::PyDict::new(py);
    for (header, cell) in headers.iter().zip(&row.raw) {
        cells.set_item(header, cell)?;
    }
    let reply = ask.call1((row.row_id, row.utility, row.prediction, cells))?;
    if reply.is_none() {
        return Ok(al::stream::Reply::Skip);
    }
    if let Ok(text) = reply.extract::<String>() {
        if text == "stop" {
            return Ok(al::stream::Reply::Stop);
        }
    }
    match reply.extract::<f64>() {
        Ok(value) => Ok(al::stream::Reply::Value(value)),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "ask returned {}; expected a number (the label), None (skip the row) or al.STOP",
            reply
                .repr()
                .map_or_else(|_| "a value".to_string(), |r| r.to_string())
        ))),
    }
}

/// Checks a batch size as a query checks it, for calls whose other
/// options a scorer already carries (`al.spark.query(scorer=...)`).
#[pyfunction]
fn check_batch(batch: i64) -> PyResult<()> {
    QueryOptions {
        batch: count(batch),
        ..QueryOptions::default()
    }
    .check()
    .map_err(to_py)
}

/// The strategies as JSON: name, description, reference, parameters, source.
#[pyfunction]
fn strategies() -> PyResult<String> {
    json(&serde_json::json!({
        "default": al::catalog::default_strategy(),
        "strategies": al::catalog::strategies(),
    }))
}

/// The built-in models as JSON.
#[pyfunction]
fn models() -> PyResult<String> {
    json(&al::catalog::models())
}

/// A learning curve from Python, checked.
struct Curve {
    points: Vec<(f64, f64)>,
    /// The last label count.
    now: u64,
    batch: u64,
}

/// A curve's points, checked: one error per label count, a batch >= 1.
fn curve(labels: &[u64], errors: &[f64], batch: i64) -> PyResult<Curve> {
    if labels.len() != errors.len() {
        return Err(PyValueError::new_err(format!(
            "errors: {} values for {} label counts; give one error per count",
            errors.len(),
            labels.len()
        )));
    }
    let batch = u64::try_from(batch)
        .ok()
        .filter(|&b| b >= 1)
        .ok_or_else(|| PyValueError::new_err("batch: expected a whole number >= 1"))?;
    let now = labels.iter().copied().max().unwrap_or(0);
    let points = labels
        .iter()
        .zip(errors)
        .map(|(&n, &e)| (n as f64, e))
        .collect();
    Ok(Curve { points, now, batch })
}

/// Fits the learning-curve power law to a curve of `(labels, errors)` and
/// forecasts `batch` labels at a time, `batches` ahead, with an 80 % band:
/// JSON of the forecast, or `null` when the curve cannot be fitted (fewer
/// than four points, an error that is not positive).
#[pyfunction]
#[pyo3(signature = (labels, errors, batch, batches=vec![1, 2, 5], seed=0))]
fn forecast_curve(
    labels: Vec<u64>,
    errors: Vec<f64>,
    batch: i64,
    batches: Vec<usize>,
    seed: i64,
) -> PyResult<String> {
    let Curve { points, now, batch } = curve(&labels, &errors, batch)?;
    if batches.contains(&0) {
        return Err(PyValueError::new_err(
            "batches: expected whole numbers >= 1",
        ));
    }
    json(&al::forecast::CurveForecast::new(
        &points,
        now,
        batch,
        &batches,
        self::seed(seed)?,
    ))
}

/// The stopping advice on a curve of `(labels, errors)` with batches of
/// `batch` labels: the rule `report` applies to a project's rounds, as
/// JSON (decision, reason, next_gain, stop_below).
#[pyfunction]
#[pyo3(signature = (labels, errors, batch, stop_below="1%".to_string(), estimated=false))]
fn advise_curve(
    labels: Vec<u64>,
    errors: Vec<f64>,
    batch: i64,
    stop_below: String,
    estimated: bool,
) -> PyResult<String> {
    let stop_below =
        al::StopBelow::parse(&stop_below).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let Curve { points, now, batch } = curve(&labels, &errors, batch)?;
    let need_more = al::forecast::MIN_POINTS.saturating_sub(points.len());
    json(&if estimated {
        // As `report` fits a pool-estimate curve, round by round.
        let forecast =
            al::forecast::CurveForecast::new(&points, now, batch, &al::forecast::AHEAD, 0);
        al::forecast::advise_estimated(&points, forecast.as_ref(), batch, stop_below, need_more)
    } else {
        let forecast = al::forecast::CurveForecast::new(&points, now, batch, &[1], 0);
        al::forecast::advise(forecast.as_ref(), batch, stop_below, need_more)
    })
}

/// One column of an Arrow batch as pyarrow hands it over: its name, its
/// kind (`"number"`: float64 values; `"text"`: cast to `large_string`), its
/// validity bitmap (or `None`), its 64-bit offsets (text only), its data
/// buffer, its offset and its length. Buffers, not Python objects: no
/// per-row Python.
type ArrowColumn = (
    String,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<u8>,
    usize,
    usize,
);

/// The columns borrowed as the core reads them.
fn pool_columns(columns: &[ArrowColumn]) -> anyhow::Result<Vec<PoolColumn<'_>>> {
    columns
        .iter()
        .map(|(name, kind, validity, offsets, data, offset, len)| {
            let buffers = ArrowBuffers {
                validity: validity.as_deref(),
                data,
                offset: *offset,
                len: *len,
            };
            Ok(match (kind.as_str(), offsets) {
                ("number", _) => PoolColumn::Numbers { name, buffers },
                ("text", Some(offsets)) => PoolColumn::Text {
                    name,
                    buffers,
                    offsets,
                },
                _ => anyhow::bail!("column {name:?}: expected a number or text column's buffers"),
            })
        })
        .collect()
}

/// Holds a data frame's columns (Arrow `large_string` buffers, `kinds`
/// each column's declared type: "number", "text" or "untyped") as the
/// table named `name`, which the next flow reading that name reads instead
/// of a file: a frame reaches `init`, `add`, `predict` and `stream` without
/// a temporary CSV. The buffers are read once, without Python per row.
#[pyfunction]
fn hold_table(
    py: Python<'_>,
    name: String,
    columns: Vec<ArrowColumn>,
    kinds: Vec<String>,
) -> PyResult<()> {
    if kinds.len() != columns.len() {
        return Err(PyValueError::new_err("kinds: one per column"));
    }
    py.detach(|| -> anyhow::Result<()> {
        let origin = PathBuf::from(&name);
        let mut builder = al::TableBuilder::new(&origin);
        for (column, kind) in pool_columns(&columns)?.iter().zip(&kinds) {
            let kind = match kind.as_str() {
                "number" => al::SourceKind::Number,
                "text" => al::SourceKind::Text,
                _ => al::SourceKind::Untyped,
            };
            builder.column(column.name(), kind, column.len(), |r| {
                match column.cell(r) {
                    Ok(al::shipped::Cell::Text(text)) => Ok(text),
                    Ok(al::shipped::Cell::Number(_)) => Err("expected text buffers".to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })?;
        }
        al::hold_table(builder.finish());
        Ok(())
    })
    .map_err(to_py)
}

/// Drops a held table no flow read (the call failed before it).
#[pyfunction]
fn release_table(name: PathBuf) {
    al::release_table(&name);
}

/// A shipped query's scorer, decoded once per worker task.
#[pyclass(module = "al._al", name = "Scorer", frozen)]
struct Scorer {
    inner: al::shipped::Scorer,
}

#[pymethods]
impl Scorer {
    #[new]
    fn new(bytes: &[u8]) -> PyResult<Scorer> {
        Ok(Scorer {
            inner: al::shipped::Scorer::from_bytes(bytes).map_err(to_py)?,
        })
    }

    /// `{"plan": "per-row"|"sample", "size": n|None, "id_col", "strategy", "kinds"}`.
    fn info(&self) -> PyResult<String> {
        let (plan, size, positional) = match self.inner.plan() {
            al::shipped::Plan::PerRow { positional, .. } => ("per-row", None, *positional),
            al::shipped::Plan::Sample { size } => ("sample", Some(*size), false),
        };
        json(&serde_json::json!({
            "plan": plan,
            "size": size,
            "positional": positional,
            "id_col": self.inner.id_column(),
            "strategy": self.inner.strategy(),
            "kinds": self.inner.kinds().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        }))
    }

    /// Refuses (ValueError) a pool column the project does not have.
    fn check_columns(&self, names: Vec<String>) -> PyResult<()> {
        self.inner
            .check_columns(names.iter().map(String::as_str))
            .map_err(to_py)
    }

    /// Utilities of the rows of an Arrow batch (its text columns) that
    /// start at position `first` of the candidates in id order.
    #[pyo3(signature = (rows, first=0))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        rows: Vec<ArrowColumn>,
        first: i64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let first = count(first);
        let stop = AtomicBool::new(false);
        // Interruptible: a shipped Python estimator is called on this thread.
        let scores = interruptible(py, &stop, None, || {
            self.inner.score_columns(&pool_columns(&rows)?, first)
        })?;
        Ok(scores.into_pyarray(py))
    }

    /// Sample keys (63-bit, non-negative) of the rows of an Arrow batch.
    fn sample_keys<'py>(
        &self,
        py: Python<'py>,
        rows: Vec<ArrowColumn>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let keys = py
            .detach(|| self.inner.sample_keys(&pool_columns(&rows)?))
            .map_err(to_py)?;
        Ok(keys
            .into_iter()
            .map(|k| (k >> 1) as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py))
    }
}

#[pymodule]
fn _al(m: &Bound<'_, PyModule>) -> PyResult<()> {
    al_models::fitted::set_external_reader(estimator::read_shipped);
    m.add_class::<ProjectHandle>()?;
    m.add_class::<Scorer>()?;
    m.add_function(wrap_pyfunction!(query_array, m)?)?;
    m.add_function(wrap_pyfunction!(hold_table, m)?)?;
    m.add_function(wrap_pyfunction!(release_table, m)?)?;
    m.add_function(wrap_pyfunction!(strategies, m)?)?;
    m.add_function(wrap_pyfunction!(check_batch, m)?)?;
    m.add_function(wrap_pyfunction!(models, m)?)?;
    m.add_function(wrap_pyfunction!(forecast_curve, m)?)?;
    m.add_function(wrap_pyfunction!(advise_curve, m)?)?;
    m.add("AlError", m.py().get_type::<AlError>())?;
    m.add("ProjectBusyError", m.py().get_type::<ProjectBusyError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
