"""al: active learning for tabular regression, from Python.

The same crates as ``al-cli`` and the same project file: a project begun
here carries on with ``al-cli`` and the reverse, and the same seed picks the
same rows on both sides. This module is glue only: it turns data frames into
what the Rust core reads and the core's answers into data frames.

    >>> import al
    >>> project = al.Project.init("houses.csv", target="price", path="al.db")
    >>> batch = project.query(batch=20)          # a DataFrame of rows to label
    >>> project.label({101: 250_000.0, 7: 199_500.0})
    >>> project.report()                         # one row per round, with its curve

Or without a project, in scikit-activeml's shape (NaN marks unlabeled rows):

    >>> picks = al.query(X, y, batch_size=10, strategy="qbc", seed=0)
"""

from __future__ import annotations

import copy
import html
import inspect
import json
import os
import pickle
import tempfile
import time
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from al._al import AlError, ProjectBusyError, ProjectHandle as _Handle
from al._al import __version__
from al._al import models as _models
from al._al import advise_curve as _advise_curve
from al._al import forecast_curve as _forecast_curve
from al._al import query_array as _query_array
from al._al import hold_table as _hold_table
from al._al import release_table as _release_table
from al._al import strategies as _strategies

__all__ = [
    "AlError",
    "Project",
    "ProjectBusyError",
    "ReportFrame",
    "STOP",
    "Simulation",
    "advise_curve",
    "forecast_curve",
    "models",
    "query",
    "strategies",
    "__version__",
]

Data = Union[str, "os.PathLike[str]", pd.DataFrame, Any]

#: What an asking stream's ``ask`` returns to end the stream
#: (``Project.stream(data, ask=...)``).
STOP = "stop"

#: A model: a spec al knows (``"forest:trees=200"``, see :func:`models`), or
#: your own regressor, anything with scikit-learn's ``fit(X, y)`` and
#: ``predict(X)`` (a LightGBM, an XGBoost, a ``Pipeline``, a Gaussian
#: process).
Model = Union[str, Any]


#: With ``raw=True``: the rows' keys (int64) to the cells the estimator gets.
RawRows = Callable[[np.ndarray], Any]


class _Estimator:
    """A fresh copy of the user's estimator as al's core calls it: whole
    float64 matrices in (with ``raw=True``, the rows' keys, made into the
    table as read by ``rows``), float64 vectors out."""

    __slots__ = ("model", "rows")

    def __init__(
        self, template: Any, clone: Callable[[Any], Any], seed: Optional[int], rows: Optional[RawRows]
    ) -> None:
        self.model = clone(template)
        self.rows = rows
        if seed is not None:
            self.model.set_params(random_state=seed % (2**32))

    def _x(self, X: np.ndarray) -> Any:
        return X if self.rows is None else self.rows(X)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.model.fit(self._x(X), y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return _float_vector(self.model.predict(self._x(X)))

    def predict_std(self, X: np.ndarray) -> np.ndarray:
        _mean, std = self.model.predict(self._x(X), return_std=True)
        return _float_vector(std)

    @classmethod
    def fitted(cls, model: Any) -> "_Estimator":
        """An estimator already fitted (unpickled on a Spark worker)."""
        made = cls.__new__(cls)
        made.model, made.rows = model, None
        return made


def _dump_fitted(model: Any, name: str, with_std: bool) -> bytes:
    """A fitted estimator as the bytes shipped to Spark's workers."""
    return pickle.dumps({"model": model, "name": name, "with_std": with_std}, protocol=5)


def _load_fitted(blob: bytes) -> Tuple[_Estimator, str, bool]:
    """:func:`_dump_fitted`'s bytes back, on a worker (which needs the
    estimator's package installed, as the driver has it)."""
    shipped = pickle.loads(blob)
    return _Estimator.fitted(shipped["model"]), shipped["name"], shipped["with_std"]


def _is_single_model(models: Any) -> bool:
    """One estimator rather than a list of models (an estimator may itself
    be iterable: a ``Pipeline``)."""
    return not isinstance(models, (str, list, tuple)) and callable(getattr(models, "fit", None))


def _float_vector(values: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))


def _json_param(value: Any) -> Any:
    """A ``get_params()`` value as JSON: numbers, text, flags and None as
    they are, anything else (an estimator, a function) by its short repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value if not isinstance(value, str) else value[:200]
    if isinstance(value, (list, tuple)) and len(value) <= 20:
        return [_json_param(v) for v in value]
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _estimator_parts(
    estimator: Any, rows: Optional[RawRows] = None
) -> Tuple[str, Callable[[int], _Estimator], bool, str]:
    """The user's estimator as the core takes it: its model name
    (``python.MODULE.CLASS``), a factory of fresh seeded copies (scikit-learn's
    ``clone``, else ``copy.deepcopy``; ``random_state`` from al's seed when
    the estimator has one), whether ``predict`` offers ``return_std``, and
    its class and ``get_params()`` as JSON, kept with the rounds it makes.
    ``rows``: it works on the table as read (``raw=True``), these cells."""
    if not (callable(getattr(estimator, "fit", None)) and callable(getattr(estimator, "predict", None))):
        raise TypeError(
            "model: expected a model name (see al.models()) or an estimator with fit(X, y) and "
            f"predict(X), not {type(estimator).__name__}"
        )
    cls = type(estimator)
    path = f"{cls.__module__}.{cls.__qualname__}"
    try:
        from sklearn.base import clone
    except ImportError:
        clone = copy.deepcopy
    get_params = getattr(estimator, "get_params", None)
    params = dict(get_params(deep=False)) if callable(get_params) else {}
    seeded = "random_state" in params and callable(getattr(estimator, "set_params", None))
    # A Pipeline hands predict's keywords to its last step.
    last = estimator.steps[-1][1] if isinstance(getattr(estimator, "steps", None), list) else estimator
    try:
        with_std = "return_std" in inspect.signature(last.predict).parameters
    except (TypeError, ValueError, AttributeError):
        with_std = False

    def factory(seed: int) -> _Estimator:
        return _Estimator(estimator, clone, seed if seeded else None, rows)

    described = {"class": path, "params": {k: _json_param(v) for k, v in sorted(params.items())}}
    if rows is not None:
        described["raw"] = True
    return "python." + path, factory, with_std, json.dumps(described)


def _raw_frame(header: Sequence[str], columns: Sequence[Any], index: np.ndarray) -> pd.DataFrame:
    """A project's cells as an estimator with ``raw=True`` gets them: the
    columns al reads as numbers as float64 (NaN where empty), the others as
    text (None where empty), the same types whatever rows are asked for;
    indexed by row id. The core types the cells; only the frame is built
    here."""
    out = {
        name: cells if isinstance(cells, np.ndarray) else pd.Series(cells, dtype=object).to_numpy()
        for name, cells in zip(header, columns)
    }
    return pd.DataFrame(out, columns=list(header), index=pd.Index(index, name="row_id"), copy=False)


def _rows_of(X: Any) -> RawRows:
    """``al.query(..., raw=True)``: the rows of the caller's own ``X`` by position."""
    if hasattr(X, "iloc"):
        return lambda keys: X.iloc[keys]
    array = np.asarray(X)
    return lambda keys: array[keys]


def _check_raw(raw: bool, models: Any) -> None:
    """``raw=True`` needs an estimator of the user's among ``models`` (one
    model, or a list of them)."""
    listed = models if isinstance(models, (list, tuple)) else [models]
    if raw and all(m is None or isinstance(m, str) for m in listed):
        raise ValueError(
            "raw=True: only for your own estimator (model=an object with fit and predict), "
            "which then gets the table as read; al's models take its encoded features"
        )

# Formats the core reads itself; anything else goes through pandas/pyarrow.
_CORE_SUFFIXES = (".csv", ".tsv", ".txt")


class _Source:
    """What the core reads for ``data``: the path itself (CSV/TSV), or, for
    a data frame, a pyarrow Table or a Parquet/Arrow file, its columns as
    Arrow text buffers held in memory under a name no file has (the core's
    ``hold_table``; one copy, no per-row Python), read by the flow in place
    of a file. Without pyarrow, or for a column Arrow cannot type (mixed
    objects), a CSV in a temporary directory instead. ``declared`` holds
    each column's type as the frame has it (``"number"`` or ``"text"``),
    which ``init`` counts as a Parquet file's schema: zip codes held as
    strings stay categories, as they do in ``al-cli init file.parquet``."""

    _held = 0

    def __init__(self, data: Data, name: str = "data", sep: str = ",") -> None:
        self._dir: Optional[tempfile.TemporaryDirectory] = None
        self._memory: Optional[str] = None
        self.declared: List[Tuple[str, str]] = []
        if isinstance(data, (str, os.PathLike)):
            path = os.fspath(data)
            if not os.path.exists(path):
                raise FileNotFoundError(f"cannot read {path}: no such file")
            if path.lower().endswith(_CORE_SUFFIXES):
                self.path = path
                return
            frame = _read_columnar(path)
            self._shown = path
            name = os.path.splitext(os.path.basename(path))[0]
        else:
            frame = _as_frame(data)
            self._shown = f"{name} (a {type(data).__name__})"
        if isinstance(frame.columns, pd.MultiIndex):
            raise ValueError(f"{self._shown}: its columns are a MultiIndex; flatten them to one level of names first")
        frame, self.declared = _declared_types(frame)
        columns = _arrow_text_columns(frame)
        if columns is not None:
            _Source._held += 1
            self._memory = self.path = f"al-frame://{os.getpid()}-{_Source._held}/{name}"
            kinds = dict(self.declared)
            _hold_table(self.path, columns, [kinds.get(c[0], "untyped") for c in columns])
            return
        self._dir = tempfile.TemporaryDirectory(prefix="al-")
        self.path = os.path.join(self._dir.name, f"{name}.csv")
        # repr-exact floats; missing cells empty, as the core reads them.
        frame.to_csv(self.path, index=False, na_rep="", sep=sep)

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self._memory is not None:
            _release_table(self._memory)  # a no-op once the flow read it
        elif self._dir is not None:
            self._dir.cleanup()
        else:
            return
        if isinstance(error, Exception) and self.path in str(error):
            # The temporary name means nothing to the caller: name what
            # they passed, and its row (0-based) where the core names a line.
            raise _renamed(error, _where(str(error), self.path, self._shown)) from None


def _arrow_text_columns(frame: pd.DataFrame) -> Optional[list]:
    """Each column of ``frame`` as Arrow ``large_string`` buffers (numbers
    written by Arrow: the shortest text that reads back as the same
    float), as the core's ``hold_table`` takes them; ``None`` without
    pyarrow or when Arrow cannot type a column (the caller writes a CSV)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        columns = []
        for field, column in zip(table.schema, table.columns):
            text = pc.cast(column.combine_chunks(), pa.large_string())
            validity, offsets, data = text.buffers()
            columns.append(
                (
                    str(field.name),
                    "text",
                    None if validity is None else validity.to_pybytes(),
                    offsets.to_pybytes(),
                    b"" if data is None else data.to_pybytes(),
                    text.offset,
                    len(text),
                )
            )
        return columns
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
        # Duplicate names, mixed objects: the CSV route names the problem.
        return None


def _where(message: str, path: str, shown: str) -> str:
    """``message`` with ``path:LINE:`` (a line of the temporary CSV, the
    header being line 1) as ``shown, row N:`` and any other mention of
    ``path`` as ``shown``."""
    import re

    def row(match: "re.Match[str]") -> str:
        line = int(match.group(1))
        return f"{shown}, header:" if line == 1 else f"{shown}, row {line - 2}:"

    message = re.sub(re.escape(path) + r":(\d+):", row, message)
    return message.replace(path, shown)


def _renamed(error: Exception, message: str) -> Exception:
    """The same kind of exception with another message (``error`` itself
    when its type cannot be built from one)."""
    try:
        return type(error)(message)
    except Exception:  # noqa: BLE001 - keep the original rather than fail here
        return error


def _declared_types(frame: pd.DataFrame) -> Tuple[pd.DataFrame, List[Tuple[str, str]]]:
    """Each column's type as the core's Parquet reader would take it (and
    as pyarrow would write the frame to Parquet): numbers, booleans
    excluded, are ``"number"``, everything else ``"text"``; an ``object``
    column is judged by what it holds (integers and None from a database
    are numbers). Booleans are written ``true``/``false``, as that reader
    writes them."""
    declared = []
    booleans = []
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif pd.api.types.is_numeric_dtype(dtype):
            kind = "integer"
        elif dtype == object:
            kind = pd.api.types.infer_dtype(frame[column], skipna=True)
        else:
            kind = "string"
        if kind == "boolean":
            booleans.append(column)
        if kind == "empty":
            continue  # nothing to type: the core drops an empty column
        number = kind in ("integer", "floating", "mixed-integer-float", "decimal")
        declared.append((str(column), "number" if number else "text"))
    if booleans:
        frame = frame.copy()
        for column in booleans:
            frame[column] = frame[column].map({True: "true", False: "false"})
    return frame, declared


def _read_columnar(path: str) -> pd.DataFrame:
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if lower.endswith((".arrow", ".feather", ".ipc")):
        return pd.read_feather(path)
    raise ValueError(
        f"{path}: not a format al reads (CSV, TSV, Parquet, Arrow IPC/Feather)"
    )


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):  # pyarrow.Table, polars.DataFrame
        return data.to_pandas()
    raise TypeError(
        f"data: expected a path, a pandas DataFrame or a pyarrow Table, not {type(data).__name__}"
    )


def _typed(header: Sequence[str], columns: Sequence[Sequence[str]], numeric: Sequence[bool]) -> pd.DataFrame:
    """Text cells as the source had them into typed columns: numeric
    columns become int64 (whole numbers, none missing) or float64 (NaN where
    missing), the others stay text with None where missing."""
    out = {}
    for name, cells, is_number in zip(header, columns, numeric):
        if is_number:
            out[name] = pd.to_numeric(pd.Series(cells, dtype=object).replace("", np.nan), errors="coerce")
            as_float = out[name]
            if len(as_float) and not as_float.isna().any() and (as_float % 1 == 0).all():
                out[name] = as_float.astype("int64")
        else:
            series = pd.Series(cells, dtype=object)
            out[name] = series.where(series != "", None)
    return pd.DataFrame(out, columns=list(header))


class ReportFrame(pd.DataFrame):
    """A data frame (one row per round) that also draws its learning curve
    with the forecast dashed past the last round: Jupyter shows the SVG and
    the stopping advice above the table; ``.svg`` holds the drawing,
    ``.attrs["forecast"]`` the forecast (a data frame: metric, batches,
    labels, expected, low, high; empty until there are rounds enough) and
    ``.attrs["advice"]`` the advice (decision, reason, next_gain, stop_below)."""

    _metadata = ["svg"]

    @property
    def _constructor(self):  # operations on it give plain data frames
        return pd.DataFrame

    def _repr_html_(self) -> str:  # type: ignore[override]
        table = super()._repr_html_() or ""
        advice = self.attrs.get("advice")
        line = ""
        if advice:
            line = f"<p><b>{html.escape(advice['decision'])}</b>: {html.escape(advice['reason'])}</p>"
        return (getattr(self, "svg", "") or "") + line + table


class Simulation:
    """A stored simulation: ``.table`` (one row per strategy), ``.curves``
    (one row per strategy, repeat and round), ``.id``, ``.svg``; drawn
    inline in Jupyter."""

    def __init__(self, run: dict, svg: str) -> None:
        self.id: int = run["id"]
        self.config: dict = run["config"]
        self.result: dict = run["result"]
        self.svg = svg
        self.table = _simulation_table(self.result)
        self.curves = _simulation_curves(self.result)

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return self.svg + self.table._repr_html_()

    def __repr__(self) -> str:
        return f"Simulation {self.id} ({self.config['model']}, {self.result['repeats_done']} repeats)\n{self.table.to_string()}"


def _saved(entry: Optional[dict], at: str, metric: str = "mae") -> Optional[float]:
    if not entry:
        return None
    return entry[metric][at]["saved"]


def _simulation_table(result: dict) -> pd.DataFrame:
    rows = []
    for s in result["strategies"]:
        saved = s.get("labels_saved")
        shown = s.get("shown_vs_true")
        rows.append(
            {
                "strategy": s["name"],
                "aulc_ratio": s["aulc_ratio_mean"],
                "aulc_ratio_low": s["aulc_ratio_ci"][0],
                "aulc_ratio_high": s["aulc_ratio_ci"][1],
                "labels_saved": _saved(saved, "budget"),
                "labels_saved_low": saved["mae"]["budget"]["ci"][0] if saved else None,
                "labels_saved_high": saved["mae"]["budget"]["ci"][1] if saved else None,
                "labels_saved_half": _saved(saved, "half"),
                "final_mae": s["final_mae_mean"],
                "final_mse": s["final_mse_mean"],
                # What a project with these labels and no held-out rows
                # would report, over the truth on the rows left unlabeled.
                "shown_true": shown["estimate_ratio"] if shown else None,
                "shown_true_low": shown["estimate_ci"][0] if shown else None,
                "shown_true_high": shown["estimate_ci"][1] if shown else None,
                "given": s.get("given") or s["name"],
                "seconds_per_round": s["seconds_per_round"],
            }
        )
    return pd.DataFrame(rows)


def _simulation_curves(result: dict) -> pd.DataFrame:
    parts = []
    for s in result["strategies"]:
        for repeat, curve in enumerate(s["curves"]):
            parts.append(
                pd.DataFrame(
                    {
                        "strategy": s["name"],
                        "repeat": repeat,
                        "labels": curve["labels"],
                        "mae": curve["mae"],
                        "mse": curve["mse"],
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=["strategy", "repeat", "labels", "mae", "mse"])
    return pd.concat(parts, ignore_index=True)


def _progress(description: str) -> Optional[Callable[[int, int], None]]:
    """A tqdm bar that appears once a call has run for a second (when tqdm
    is installed), fed by the core every 100 ms."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    started = time.monotonic()
    state: dict = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            if time.monotonic() - started < 1.0:
                return
            bar = state["bar"] = tqdm(total=total, desc=description, unit="round")
        bar.n = done
        bar.refresh()

    update.close = lambda: state["bar"].close() if "bar" in state else None  # type: ignore[attr-defined]
    return update


class Project:
    """One project file: data, recipe, labels, rounds and reports, shared
    with ``al-cli`` (``al-cli -p PATH ...`` works on the same file)."""

    def __init__(self, handle: _Handle) -> None:
        self._h = handle
        # The last rows read for an estimator with raw=True: (row ids, frame).
        self._raw_last: Optional[Tuple[np.ndarray, pd.DataFrame]] = None

    # -- creating and opening -------------------------------------------
    @classmethod
    def init(
        cls,
        data: Data,
        target: str,
        path: Union[str, "os.PathLike[str]"] = "al.db",
        *,
        pool: Optional[Data] = None,
        test: Optional[Data] = None,
        id_col: Union[str, Sequence[str], None] = None,
        drop: Sequence[str] = (),
        categorical: Sequence[str] = (),
        numeric: Sequence[str] = (),
        impute: Sequence[str] = (),
        missing_indicators: bool = False,
        max_levels: int = 50,
        numeric_threshold: float = 0.9,
        bad_target: str = "error",
        test_frac: Optional[float] = None,
        seed: int = 0,
        min: Optional[float] = None,
        max: Optional[float] = None,
        delimiter: Optional[str] = None,
        force: bool = False,
        plugin_timeout: float = 60.0,
        id_cols: Optional[Sequence[str]] = None,
    ) -> "Project":
        """Ingests ``data`` (a CSV/TSV/Parquet path, a DataFrame or a
        pyarrow Table) into a new project file. Rows with an empty target are
        the pool. The options are ``al-cli init``'s, in snake case:
        ``id_col`` (one column or a list, kept out of the features),
        ``drop``, ``categorical``, ``numeric``, ``impute``,
        ``missing_indicators``, ``max_levels``, ``numeric_threshold``,
        ``bad_target`` ("error"/"skip"), ``test_frac``, ``seed``, ``min``,
        ``max``, ``delimiter``, ``force``. (``id_cols`` is the old name of
        ``id_col``, still taken.)"""
        ids = [id_col] if isinstance(id_col, str) else list(id_col or [])
        if id_cols is not None:
            if ids:
                raise TypeError("Project.init(): give id_col (id_cols is its old name), not both")
            ids = [id_cols] if isinstance(id_cols, str) else list(id_cols)
        main = _Source(data)
        with main as source, _Optional(pool, "pool") as pool_path, _Optional(test, "test") as test_path:
            handle, report = _Handle.init(
                source,
                os.fspath(path),
                target,
                pool=pool_path,
                test=test_path,
                plugin_timeout=plugin_timeout,
                declared=main.declared,
                id_cols=ids,
                drop=list(drop),
                categorical=list(categorical),
                numeric=list(numeric),
                impute=list(impute),
                missing_indicators=missing_indicators,
                max_levels=max_levels,
                numeric_threshold=numeric_threshold,
                bad_target=bad_target,
                test_frac=test_frac,
                seed=seed,
                min=min,
                max=max,
                delimiter=delimiter,
                force=force,
            )
        project = cls(handle)
        project.init_report = json.loads(report)
        return project

    @classmethod
    def open(cls, path: Union[str, "os.PathLike[str]"] = "al.db", *, plugin_timeout: float = 60.0) -> "Project":
        """Opens an existing project file (made here or by ``al-cli``)."""
        return cls(_Handle.open(os.fspath(path), plugin_timeout=plugin_timeout))

    @property
    def path(self) -> str:
        return self._h.path()

    def __repr__(self) -> str:
        s = self.status()
        return (
            f"al.Project({s['project']!r}: {s['rows']} rows = {s['labeled']} labeled + "
            f"{s['test']} test + {s['unlabeled']} to label, target {s['target']!r}, {s['rounds']} rounds)"
        )

    # -- reading ----------------------------------------------------------
    def status(self) -> dict:
        """Rows, labels, columns (with kind and treatment), rounds."""
        return json.loads(self._h.status())

    def _delimiter(self) -> str:
        """The project's field delimiter: rows it reads later are read with it."""
        return self.status()["delimiter"]

    def _kinds(self) -> dict:
        return {c["name"]: c["kind"] for c in self.status()["columns"]}

    def report(self, *, stop_below: Optional[Union[float, str]] = None) -> ReportFrame:
        """The stored evaluations, one row per round, with the learning curve,
        the forecast of the next batches and the stopping advice. ``method``
        says how each was measured: ``holdout`` (held-out rows), else
        ``pool_estimate`` (the error on the unlabeled rows estimated from
        the labeled ones, corrected for how al picked them; ``mae_low`` /
        ``mae_high`` its 80 % interval, ``cv_mae`` the plain cross-validation
        on the picked rows beside it; ``audit_mae`` with its 80 % interval
        ``audit_mae_low`` / ``audit_mae_high``: what the rows drawn at random
        by ``query(audit=...)`` alone say, once there are 10) or ``cv5``
        (older reports).
        ``stop_below`` (0.01 or "1%") stores the stopping rule's threshold in
        the project first, as ``al-cli report --stop-below`` does."""
        if stop_below is not None:
            self._h.set_stop_below(str(stop_below))
        reports, svg, forecast = self._h.report_parts()
        reports, forecast = json.loads(reports), json.loads(forecast)
        columns = ["round", "labels", "mae", "mae_low", "mae_high", "mse", "rmse", "rmse_low", "rmse_high",
                   "r2", "cv_mae", "cv_rmse", "audit_mae", "audit_mae_low", "audit_mae_high", "model", "strategy", "method", "created_at"]
        for r in reports:
            # The interval of an estimate and the plain cross-validation on
            # the picked rows kept beside it, as columns of their own.
            interval = r.pop("interval", None) or {}
            cv = r.pop("cross_validation", None) or {}
            audit = (r.pop("detail", None) or {}).get("audit_mae") or {}
            r["audit_mae"], r["audit_mae_low"], r["audit_mae_high"] = (
                audit.get("estimate"), audit.get("low"), audit.get("high"))
            for key in ("mae_low", "mae_high", "rmse_low", "rmse_high"):
                r[key] = interval.get(key)
            r["cv_mae"], r["cv_rmse"] = cv.get("mae"), cv.get("rmse")
        frame = ReportFrame(pd.DataFrame(reports, columns=columns))
        frame.svg = svg
        frame.attrs["forecast"] = _forecast_frame(forecast)
        frame.attrs["advice"] = None if forecast is None else forecast["advice"]
        return frame

    def forecast(self) -> pd.DataFrame:
        """The expected MAE and RMSE after the next 1, 2 and 5 batches with
        an 80 % band (a power law fitted to the rounds' errors); empty until
        there are rounds enough. ``attrs``: advice, measured, model, points,
        labels, batch, need_more."""
        forecast = json.loads(self._h.forecast())
        frame = _forecast_frame(forecast)
        if forecast is not None:
            for key in ("advice", "measured", "model", "points", "labels", "batch", "need_more"):
                frame.attrs[key] = forecast[key]
        return frame

    def history(self, row_id: int) -> pd.DataFrame:
        """Every label event of one row, oldest first (``.attrs['raw']``: its cells)."""
        history = json.loads(self._h.history(int(row_id)))
        frame = pd.DataFrame(history["labels"], columns=["value", "source", "round", "annotator", "note", "created_at"])
        frame.attrs["raw"] = history["raw"]
        return frame

    def to_label_studio(
        self,
        tasks: Optional[Union[str, "os.PathLike[str]"]] = None,
        config: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> int:
        """Writes every unlabeled row as Label Studio tasks (JSON: the
        row's cells, ``row_id``, al's guess as a prediction scored in al's
        order) to ``tasks`` and/or al's labeling interface (XML) to
        ``config``; returns how many tasks. Import them into Label Studio,
        then ``label(export_path)`` with its JSON export, or connect
        ``al-cli serve`` as its model (docs/label-studio.md)."""
        if tasks is None and config is None:
            raise TypeError("to_label_studio() needs tasks= or config= (or both): where to write")
        return self._h.to_label_studio(
            tasks=None if tasks is None else os.fspath(tasks),
            config=None if config is None else os.fspath(config),
        )

    def export(self) -> pd.DataFrame:
        """Every row as it was read, with its current label, source and test flag."""
        header, numeric, columns = self._h.export()
        return _typed(header, columns, numeric)

    def _model(self, model: Optional[Model], raw: bool = False) -> Optional[str]:
        """A model spec as given, or the user's estimator made a model of
        this project, by its name; with ``raw``, given the project's rows as
        read instead of their encoded features."""
        if model is None or isinstance(model, str):
            return model
        rows = self._raw_rows if raw else None
        name, factory, with_std, description = _estimator_parts(model, rows)
        self._h.register_model(name, factory, with_std, description, raw)
        return name

    def _raw_rows(self, row_ids: np.ndarray) -> pd.DataFrame:
        # A committee's members are handed the same chunk of the pool one
        # after another: its frame is read once and each member gets a
        # copy of its own (an estimator may write into its X).
        row_ids = np.ascontiguousarray(row_ids, dtype=np.int64)
        last = self._raw_last
        if last is None or not np.array_equal(last[0], row_ids):
            header, columns = self._h.raw_cells(row_ids)
            last = self._raw_last = (row_ids.copy(), _raw_frame(header, columns, row_ids))
        return last[1].copy()

    def predict(
        self,
        data: Optional[Data] = None,
        *,
        pool: bool = False,
        model: Optional[Model] = None,
        seed: int = 0,
        coverage: Optional[Union[float, str]] = None,
        raw: bool = False,
    ) -> pd.DataFrame:
        """The model (default: the project's) fitted on the labeled rows,
        predicting the project's rows (``pool=True``: only the unlabeled), or
        the rows of ``data`` (same columns; nothing is written), with
        conformal ``lower``/``upper`` bounds at ``coverage`` (0.9 or "90%";
        default 0.9: too few labels for it leaves them NaN, while a level
        asked for raises ValueError) and the model's own ``spread`` where it
        has one. ``attrs["intervals"]`` names the method. ``raw=True``: your
        estimator gets the project's rows as read (see :meth:`query`); rows
        of ``data`` are not the project's, so it refuses them."""
        _check_raw(raw, model)
        level = None if coverage is None else str(coverage)
        model = self._model(model, raw)
        if data is None:
            result = json.loads(self._h.predict(pool=pool, model=model, seed=seed, coverage=level))
        else:
            with _Source(data, sep=self._delimiter()) as source:
                result = json.loads(self._h.predict(file=source, model=model, seed=seed, coverage=level))
        n = len(result["row_ids"])
        bounds = result["intervals"]["bounds"]
        frame = pd.DataFrame(
            {
                "row_id": np.asarray(result["row_ids"], dtype=np.int64),
                "prediction": np.asarray(result["prediction"], dtype=float),
                "lower": _floats(None if bounds is None else [b[0] for b in bounds], n),
                "upper": _floats(None if bounds is None else [b[1] for b in bounds], n),
                "spread": _floats(result["spread"], n),
                "label": _floats(result["label"], n),
            }
        )
        frame.attrs["model"] = result["model"]
        frame.attrs["intervals"] = result["intervals"]["summary"]
        return frame

    # -- the labeling loop --------------------------------------------------
    def query(
        self,
        batch: int = 20,
        strategy: Optional[str] = None,
        model: Optional[Model] = None,
        seed: Optional[int] = None,
        *,
        candidates: int = 500,
        diversity: bool = False,
        include_pending: bool = False,
        out: Optional[Union[str, "os.PathLike[str]"]] = None,
        coverage: Optional[Union[float, str]] = None,
        audit: Optional[Union[float, str]] = None,
        raw: bool = False,
    ) -> pd.DataFrame:
        """Chooses the next ``batch`` rows to label and records the round
        (as ``al-cli query``; ``out`` also writes its batch CSV). Returns the
        rows best first: row id, cells as the source had them, the model's
        guess with its conformal interval at ``coverage`` (default 0.9; NaN
        with too few labels, ``attrs["intervals"]`` says why), the
        strategy's score, rank and round. ``audit`` (0.1 or "10%") draws
        that share of the batch at random from the pool instead, after the
        picks, with ``audit`` True and no score: ``report()`` checks its
        error estimate against them.

        ``raw=True`` (with your own estimator as ``model``): it gets the rows
        as the source had them instead of al's encoding, a DataFrame of
        every source column but the target and those left out by name
        (``drop``, ``id_cols``), indexed by row id; numeric columns float64
        with NaN where empty, the others text with None: a ``Pipeline`` with
        its own ``ColumnTransformer`` sees missing cells as missing. al's
        strategies still measure distances on its own encoding."""
        _check_raw(raw, model)
        outcome = json.loads(
            self._h.query(
                batch=batch,
                strategy=strategy,
                model=self._model(model, raw),
                seed=0 if seed is None else seed,
                candidates=candidates,
                diversity=diversity,
                include_pending=include_pending,
                out=None if out is None else os.fspath(out),
                coverage=None if coverage is None else str(coverage),
                audit=None if audit is None else str(audit),
            )
        )
        return self._batch_frame(outcome)

    def scorer(
        self,
        id_col: str,
        batch: int = 20,
        strategy: Optional[str] = None,
        model: Optional[Model] = None,
        seed: Optional[int] = None,
        *,
        candidates: int = 500,
        coverage: Optional[Union[float, str]] = None,
    ) -> bytes:
        """The query's strategy fitted on the current labels and packed for
        workers that score a pool outside the project (``al.spark.query``):
        bytes in a versioned, checked format, refused by another project
        or once the labels change. ``id_col``: the pool's id, a column the
        project keeps out of the features (``init --id-col``). ``model``:
        one of al's models, or your own estimator: its fitted copies travel
        pickled, so the workers need its package, and a scorer holding one
        is a pickle (read only scorers you made)."""
        return self._h.ship_query(
            id_col=id_col,
            batch=batch,
            strategy=strategy,
            model=self._model(model),
            seed=0 if seed is None else seed,
            candidates=candidates,
            coverage=None if coverage is None else str(coverage),
        )

    def _batch_frame(self, outcome: Mapping[str, Any]) -> pd.DataFrame:
        kinds = self._kinds()
        header = list(kinds)
        rows = outcome["rows"]
        cells = [[r["raw"][c] if c < len(r["raw"]) else "" for r in rows] for c in range(len(header))]
        raw = _typed(header, cells, [kinds[h] in ("numeric", "target") for h in header])
        frame = pd.concat(
            [
                pd.DataFrame({"row_id": np.asarray([r["row_id"] for r in rows], dtype=np.int64)}),
                raw,
                pd.DataFrame(
                    {
                        "prediction": _floats([r["prediction"] for r in rows], len(rows)),
                        "lower": _floats([r["lower"] for r in rows], len(rows)),
                        "upper": _floats([r["upper"] for r in rows], len(rows)),
                        "spread": _floats([r["spread"] for r in rows], len(rows)),
                        "score": _floats([r["score"] for r in rows], len(rows)),
                        "rank": np.asarray([r["rank"] for r in rows], dtype=np.int64),
                        "round": np.full(len(rows), outcome["round"] or 0, dtype=np.int64),
                        "audit": np.asarray([bool(r.get("audit", False)) for r in rows], dtype=bool),
                    }
                ),
            ],
            axis=1,
        )
        for key in ("round", "strategy", "model", "cold_start", "pool", "file", "intervals"):
            if key in outcome:
                frame.attrs[key] = outcome[key]
        return frame

    def label(
        self,
        answers: Union[pd.DataFrame, Mapping[int, float], str, "os.PathLike[str]"],
        *,
        annotator: Optional[str] = None,
        evaluate: bool = True,
        model: Optional[Model] = None,
    ) -> dict:
        """Imports answers, all or nothing: a DataFrame with ``row_id`` and
        the target column (rows left empty are skipped), a dict
        ``{row_id: value}``, or a file's path: a filled-in batch CSV, an
        answers file (``row_id`` or the id column, and the target), or a
        Label Studio JSON export of tasks al wrote. Then,
        unless ``evaluate=False``, measures the model and stores a report."""
        if isinstance(answers, (str, os.PathLike)):
            result = self._h.label(
                file=os.fspath(answers), annotator=annotator, evaluate=evaluate, model=self._model(model)
            )
            return json.loads(result)
        if isinstance(answers, pd.DataFrame):
            pairs = self._pairs_from_frame(answers)
        elif isinstance(answers, Mapping):
            pairs = [(int(k), float(v)) for k, v in answers.items()]
        else:
            raise TypeError(
                "answers: expected a DataFrame, a dict {row_id: value} or a batch file's path, "
                f"not {type(answers).__name__}"
            )
        return json.loads(
            self._h.label(pairs=pairs, annotator=annotator, evaluate=evaluate, model=self._model(model))
        )

    def _pairs_from_frame(self, frame: pd.DataFrame) -> list:
        target = self.status()["target"]
        if "row_id" not in frame.columns:
            raise ValueError("answers: the data frame needs a row_id column")
        value = target if target in frame.columns else "label" if "label" in frame.columns else None
        if value is None:
            raise ValueError(f"answers: the data frame needs a {target!r} (or label) column")
        values = pd.to_numeric(frame[value], errors="raise")
        answered = values.notna().to_numpy()
        ids = frame["row_id"].to_numpy()[answered].astype(np.int64)
        return list(zip(ids.tolist(), values.to_numpy(dtype=float)[answered].tolist()))

    def evaluate(
        self,
        models: Optional[Union[Model, Sequence[Model]]] = None,
        *,
        seed: int = 0,
        set_default: bool = False,
        raw: bool = False,
    ) -> Union[dict, pd.DataFrame]:
        """With no ``models`` (or one spec): measures that model (default:
        the project's) and stores a report, returned as a dict. With a list
        (or ``"all"``): compares them by 5-fold cross-validation on the
        labeled rows, best first, as a DataFrame; ``set_default`` stores the
        best as the project's model. Your own estimators go in the list as
        they are, beside al's models, measured on the same folds; with
        ``raw=True`` they get the rows as read (see :meth:`query`)."""
        _check_raw(raw, models)
        if models is None or (isinstance(models, str) and models != "all") or _is_single_model(models):
            return json.loads(self._h.evaluate(model=self._model(models, raw), seed=seed))
        specs = [models] if isinstance(models, str) else [self._model(m, raw) for m in models]
        comparison = json.loads(self._h.compare_models(specs, seed=seed, set_default=set_default))
        frame = pd.DataFrame(comparison["models"])
        frame.attrs.update({k: comparison[k] for k in ("method", "best", "set_default")})
        return frame

    def add(self, data: Data, as_: str = "train") -> dict:
        """Appends rows with the project's columns, encoded by its recipe:
        ``as_="train"`` (labeled rows train, the rest join the pool),
        ``"pool"`` (the target may be missing) or ``"test"``."""
        with _Source(data, "added", sep=self._delimiter()) as source:
            return json.loads(self._h.add(source, as_=as_))

    def stream(
        self,
        data: Data,
        strategy: str = "qbc",
        *,
        model: Optional[Model] = None,
        budget: Optional[float] = None,
        threshold: Optional[float] = None,
        seed: Optional[int] = None,
        candidates: int = 500,
        out: Optional[Union[str, "os.PathLike[str]"]] = None,
        ask: Optional[Callable[[pd.Series], Any]] = None,
        refit_every: int = 10,
    ) -> Union[pd.DataFrame, dict]:
        """Rows arriving one at a time (as ``al-cli stream``): each
        unlabeled row of ``data`` is scored by ``strategy`` as it comes and
        queried or let go on the spot, by a ``budget`` (the share to query,
        0.1 unless a ``threshold`` on the utility is given). Every row joins
        the project; the queried ones get a round (``out`` also writes its
        batch CSV), all in one transaction. Returns the queried rows in the
        order they arrived, as :meth:`query` returns its picks;
        ``attrs`` has ``seen``, ``queried``, ``threshold``, ``added`` and
        ``round`` (None when nothing was queried).

        With ``ask`` (``al-cli stream --interactive`` in a notebook), each
        queried row is put to ``ask`` at once, as a Series of its cells as
        the source had them (``name``: its row id; ``attrs``: ``utility``
        and ``prediction``, the model's guess). ``ask`` returns the label,
        None to skip the row, or :data:`al.STOP` to end the stream. Each
        row is added, and each label kept, in its own transaction, and the
        model refits after every ``refit_every`` labels; stopping, Ctrl-C
        or an exception from ``ask`` keeps everything before it. Returns a
        dict: ``seen``, ``queried``, ``threshold``, ``added``, ``labeled``."""
        if ask is not None:
            if out is not None:
                raise ValueError("out: a stream that asks labels as it goes and writes no batch file; give out or ask, not both")
            if not callable(ask):
                raise TypeError(f"ask: expected a callable, not {type(ask).__name__}")

            def put(row_id: int, utility: float, prediction: float, cells: dict) -> Any:
                row = pd.Series(cells, name=row_id, dtype=object)
                row.attrs = {"utility": utility, "prediction": prediction}
                return ask(row)

        options = dict(
            strategy=strategy,
            model=self._model(model),
            budget=budget,
            threshold=threshold,
            seed=0 if seed is None else seed,
            candidates=candidates,
        )
        with _Source(data, "arriving", sep=self._delimiter()) as source:
            if ask is not None:
                return json.loads(self._h.stream_asking(source, put, refit_every=refit_every, **options))
            outcome = json.loads(
                self._h.stream(source, out=None if out is None else os.fspath(out), **options)
            )
        frame = self._batch_frame(outcome)
        for key in ("seen", "queried", "threshold", "added"):
            frame.attrs[key] = outcome[key]
        return frame

    def synthesize(
        self,
        n: int = 10,
        strategy: str = "qbc",
        *,
        model: Optional[Model] = None,
        seed: Optional[int] = None,
        out: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> pd.DataFrame:
        """Membership query synthesis (as ``al-cli synthesize``): ``n`` new
        rows where ``strategy`` finds the most to learn, decoded to the
        source's kinds of values and recorded as a round (``out`` also
        writes its batch CSV). Returns them as :meth:`query` returns its
        picks; label them like any batch (their row ids start past 10⁹)."""
        outcome = json.loads(
            self._h.synthesize(
                n=n,
                strategy=strategy,
                model=self._model(model),
                seed=0 if seed is None else seed,
                out=None if out is None else os.fspath(out),
            )
        )
        return self._batch_frame(outcome)

    def simulate(
        self,
        strategies: Union[str, Sequence[str]] = ("committee", "qbc", "gsx", "gsy", "igs"),
        *,
        models: Optional[Union[Model, Sequence[Model]]] = None,
        init: int = 20,
        batch: int = 10,
        rounds: int = 20,
        repeats: int = 3,
        seed: int = 0,
        candidates: int = 500,
        pool_max: Optional[int] = None,
        diversity: bool = False,
        test_frac: Optional[float] = None,
        mode: str = "pool",
        metric: str = "mae",
        cold_start: bool = False,
        random_budget: float = 2.0,
        oracle: str = "knn",
        progress: Union[bool, Callable[[int, int], None]] = True,
        raw: bool = False,
    ) -> Union[Simulation, list]:
        """Compares strategies on the labeled rows, the known target playing
        the annotator (``al-cli simulate``); random is always included and
        runs on to ``random_budget`` × the rounds so the labels it needs to
        catch up can be counted. Stored in the project. Ctrl-C stops it
        within a second and stores nothing of it. One model: a
        :class:`Simulation`; several: a list of them. ``raw=True``: your
        estimators get the rows as read (see :meth:`query`)."""
        strategy_list = [strategies] if isinstance(strategies, str) else list(strategies)
        _check_raw(raw, models)
        if models is None:
            model_list = []
        elif isinstance(models, str) or _is_single_model(models):
            model_list = [self._model(models, raw)]
        else:
            model_list = [self._model(m, raw) for m in models]
        callback = _progress("simulate") if progress is True else (progress or None)
        try:
            runs = self._h.simulate(
                strategy_list,
                models=model_list,
                init=init,
                batch=batch,
                rounds=rounds,
                repeats=repeats,
                seed=seed,
                candidates=candidates,
                pool_max=pool_max,
                diversity=diversity,
                test_frac=test_frac,
                mode=mode,
                metric=metric,
                cold_start=cold_start,
                random_budget=random_budget,
                oracle=oracle,
                progress=callback,
            )
        finally:
            close = getattr(callback, "close", None)
            if close is not None:
                close()
        simulations = [Simulation(json.loads(run), svg) for run, svg in runs]
        return simulations[0] if len(model_list) <= 1 else simulations


def _keywords_named(func: Callable[..., Any], public: str) -> Callable[..., Any]:
    """``func`` refusing an unknown keyword against ``public`` (the call as
    the user wrote it) with the keywords it takes, before any work; Python's
    own message names an internal class, or nothing to choose from."""
    import functools

    signature = inspect.signature(func)
    takes = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for key in kwargs:
            if key not in signature.parameters:
                raise TypeError(
                    f"{public}() got an unexpected keyword argument {key!r}; it takes: {', '.join(takes)}"
                )
        return func(*args, **kwargs)

    return checked


def _check_keywords(cls: type) -> None:
    """Every public method of ``cls`` refuses unknown keywords by name."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, classmethod):
            setattr(cls, name, classmethod(_keywords_named(member.__func__, f"{cls.__name__}.{name}")))
        elif inspect.isfunction(member):
            setattr(cls, name, _keywords_named(member, f"{cls.__name__}.{name}"))


_check_keywords(Project)


class _Optional:
    """``_Source`` for an optional argument (None stays None)."""

    def __init__(self, data: Optional[Data], name: str) -> None:
        self._source = None if data is None else _Source(data, name)

    def __enter__(self) -> Optional[str]:
        return None if self._source is None else self._source.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._source is not None:
            self._source.__exit__(*exc)


def forecast_curve(
    labels: Sequence[int], errors: Sequence[float], batch: int, batches: Sequence[int] = (1, 2, 5), seed: int = 0
) -> Optional[dict]:
    """Fits the power law ``err(n) = a·n^(−b) + c`` to any learning curve
    (a project's, a simulation's) and forecasts the error ``batches``
    batches of ``batch`` labels past its last point, with an 80 % band:
    ``{"curve": {a, b, c}, "now": ..., "ahead": [{batches, labels,
    expected, low, high}, ...]}``, or None with fewer than four points."""
    return json.loads(
        _forecast_curve([int(n) for n in labels], [float(e) for e in errors], batch, [int(k) for k in batches], seed)
    )


def advise_curve(
    labels: Sequence[int],
    errors: Sequence[float],
    batch: int,
    stop_below: Union[float, str] = "1%",
    *,
    estimated: bool = False,
) -> dict:
    """The stopping advice ``report`` gives, on any learning curve: stop
    when the next batch is forecast to cut the error by less than
    ``stop_below`` and the forecast is sure enough to say so.
    ``estimated=True``: the curve is an estimated pool error (a project
    without held-out rows), on which the rule asks for that signal three
    rounds running with a wider band (docs/decide.md).
    ``{"decision": "stop" | "continue", "reason": ..., "next_gain": ..., "stop_below": ...}``."""
    return json.loads(
        _advise_curve(
            [int(n) for n in labels], [float(e) for e in errors], batch, str(stop_below), estimated=bool(estimated)
        )
    )


def _forecast_frame(forecast: Optional[dict]) -> pd.DataFrame:
    rows = []
    for metric in ("mae", "rmse"):
        curve = None if forecast is None else forecast[metric]
        for a in [] if curve is None else curve["ahead"]:
            rows.append({"metric": metric, **a})
    return pd.DataFrame(rows, columns=["metric", "batches", "labels", "expected", "low", "high"])


def _floats(values: Optional[Iterable[Optional[float]]], n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def _numeric_array(X: Any) -> np.ndarray:
    """``X`` as float64, or a ValueError naming the column that is not a
    number (numpy's own message names only the first bad cell)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):
        for name, dtype in dtypes.items():
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise ValueError(
                    f"X: column {name!r} holds {dtype}, not numbers; al.query takes numbers "
                    "(encode it first, e.g. with pandas.get_dummies), or start a project with "
                    "al.Project.init, whose recipe encodes text columns"
                )
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"X: expected numbers: {e}") from None


def query(
    X: Any,
    y: Any = None,
    batch_size: int = 10,
    strategy: Optional[str] = None,
    model: Optional[Model] = None,
    seed: int = 0,
    *,
    return_utilities: bool = False,
    candidates: int = 500,
    raw: bool = False,
) -> Union[np.ndarray, "tuple[np.ndarray, np.ndarray]"]:
    """Picks ``batch_size`` rows of ``X`` to label next among those whose
    ``y`` is NaN (scikit-activeml's call shape; ``y=None``: every row is
    unlabeled, modAL's ``query(X_pool)``). ``X``: a 2-D numeric array or
    DataFrame (NaN cells are missing values). Returns the indices picked,
    best first, and with ``return_utilities=True`` also their utilities.
    Columns are mean-imputed and z-scored as a project's recipe does, so a
    project made from the same table picks the same rows. ``raw=True``
    (with your own estimator): it gets the rows of ``X`` itself (``X.iloc[rows]``
    for a DataFrame, with its column names and dtypes) instead of al's
    scaled copy."""
    _check_raw(raw, model)
    x = np.ascontiguousarray(_numeric_array(X))
    if x.ndim != 2:
        raise ValueError(f"X: expected a 2-D array, not {x.ndim}-D")
    if y is None:
        target = np.full(x.shape[0], np.nan)
    else:
        target = np.ascontiguousarray(np.asarray(y, dtype=np.float64).reshape(-1))
    estimator = None
    if model is not None and not isinstance(model, str):
        model, factory, with_std, description = _estimator_parts(model, _rows_of(X) if raw else None)
        estimator = (factory, with_std, description, raw)
    indices, utilities, _summary = _query_array(
        x,
        target,
        batch_size=batch_size,
        strategy=strategy,
        model=model,
        seed=seed,
        candidates=candidates,
        estimator=estimator,
    )
    picked = np.asarray(indices, dtype=np.int64)
    if return_utilities:
        return picked, np.asarray(utilities, dtype=float)
    return picked


query = _keywords_named(query, "al.query")


def _with_model(use: Optional[str], name: str, with_std: bool, estimator: bool) -> str:
    """What a strategy gets from a model, in words."""
    own_spread = f"{name}'s own predict(X, return_std=True)" if estimator else f"{name}'s own spread"
    return {
        None: "unknown (a plugin's strategy)",
        "none": "nothing: it works on the features (and targets) alone",
        "own_model": "a model of its own (see description), whatever model= is",
        "predictions": f"{name}'s predictions",
        "spread": own_spread if with_std else f"the spread of a committee of bootstrap clones of {name} (members=)",
        "spread_else_forest": own_spread if with_std else "the spread of a forest fitted alongside (the estimator has no return_std)",
        "refits": f"refits of {name} with each candidate added",
    }.get(use, use or "")


def strategies(model: Optional[Any] = None) -> pd.DataFrame:
    """The query strategies: name, what it does, reference, parameters
    (key, default, allowed values, help), whether it is the default, and
    ``model_use``: what it asks of the model. Given ``model`` (a model spec
    or your own estimator), a ``with_model`` column says what each strategy
    gets from that model: its predictions, its own spread
    (``predict(X, return_std=True)``) or a committee of bootstrap clones of
    it, or nothing (strategies with a model of their own). Every strategy
    runs with any estimator."""
    listing = json.loads(_strategies())
    frame = pd.DataFrame(listing["strategies"])
    frame.attrs["default"] = listing["default"]
    if model is not None:
        if isinstance(model, str):
            name, with_std = model, model.split(":")[0] in ("forest", "gbm", "gp", "committee")
        else:
            name, _, with_std, _ = _estimator_parts(model)
            name = type(model).__name__
        estimator = not isinstance(model, str)
        frame["with_model"] = [_with_model(use, name, with_std, estimator) for use in frame["model_use"]]
    return frame


def models() -> pd.DataFrame:
    """The built-in models: name, what it is, library, parameters."""
    return pd.DataFrame(json.loads(_models()))
