"""Type stubs of the compiled core (`crates/al-py/src/lib.rs`). Named
structs come back as JSON text, tables as column lists; `al/__init__.py`
turns both into data frames."""

from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

# An Arrow column cast to large_string: name, numeric source column,
# validity bitmap, 64-bit offsets, UTF-8 data, offset, length.
ArrowText = tuple[str, bool, Optional[bytes], bytes, bytes, int, int]

class AlError(RuntimeError): ...
class ProjectBusyError(AlError): ...

class ProjectHandle:
    @staticmethod
    def init(
        source: str,
        path: str,
        target: str,
        *,
        delimiter: Optional[str] = None,
        numeric_threshold: float = 0.9,
        categorical: Sequence[str] = ...,
        numeric: Sequence[str] = ...,
        drop: Sequence[str] = ...,
        id_cols: Sequence[str] = ...,
        impute: Sequence[str] = ...,
        missing_indicators: bool = False,
        max_levels: int = 50,
        bad_target: str = "error",
        test_frac: Optional[float] = None,
        pool: Optional[str] = None,
        test: Optional[str] = None,
        seed: int = 0,
        min: Optional[float] = None,
        max: Optional[float] = None,
        force: bool = False,
        plugin_timeout: float = 60.0,
        declared: Sequence[tuple[str, str]] = ...,
    ) -> tuple[ProjectHandle, str]: ...
    @staticmethod
    def open(path: str, *, plugin_timeout: float = 60.0) -> ProjectHandle: ...
    def path(self) -> str: ...
    def status(self) -> str: ...
    def query(
        self,
        batch: int = 10,
        strategy: Optional[str] = None,
        model: Optional[str] = None,
        seed: int = 0,
        candidates: int = 500,
        diversity: bool = False,
        include_pending: bool = False,
        out: Optional[str] = None,
        coverage: Optional[str] = None,
        audit: Optional[str] = None,
    ) -> str: ...
    def ship_query(
        self,
        id_col: str,
        batch: int = 10,
        strategy: Optional[str] = None,
        model: Optional[str] = None,
        seed: int = 0,
        candidates: int = 500,
        coverage: Optional[str] = None,
    ) -> bytes: ...
    def held_ids(self, id_col: str) -> list[str]: ...
    def record_shipped(
        self,
        scorer: bytes,
        batch: int,
        rows: Sequence[ArrowText],
        utilities: Optional[Sequence[float]],
        pool: int,
    ) -> str: ...
    def label(
        self,
        pairs: Optional[Sequence[tuple[int, float]]] = None,
        file: Optional[str] = None,
        annotator: Optional[str] = None,
        evaluate: bool = True,
        model: Optional[str] = None,
    ) -> str: ...
    def evaluate(self, model: Optional[str] = None, seed: int = 0) -> str: ...
    def compare_models(self, models: Sequence[str], seed: int = 0, set_default: bool = False) -> str: ...
    def forecast(self) -> str: ...
    def register_model(
        self, name: str, factory: Callable[[int], Any], with_std: bool, description: str, raw: bool = False
    ) -> None: ...
    def raw_cells(
        self, row_ids: npt.NDArray[np.int64]
    ) -> tuple[list[str], list[Union[npt.NDArray[np.float64], list[Optional[str]]]]]: ...
    def set_stop_below(self, share: str) -> None: ...
    def report_parts(self) -> tuple[str, str, str]: ...
    def history(self, row_id: int) -> str: ...
    def to_label_studio(self, tasks: Optional[str] = None, config: Optional[str] = None) -> int: ...
    def export(self) -> tuple[list[str], list[bool], list[list[str]]]: ...
    def predict(
        self,
        file: Optional[str] = None,
        pool: bool = False,
        model: Optional[str] = None,
        seed: int = 0,
        coverage: Optional[str] = None,
    ) -> str: ...
    def add(self, file: str, as_: str = "train") -> str: ...
    def stream_asking(
        self,
        file: str,
        ask: Callable[[int, float, float, dict[str, str]], Any],
        strategy: str = "qbc",
        model: Optional[str] = None,
        budget: Optional[float] = None,
        threshold: Optional[float] = None,
        seed: int = 0,
        candidates: int = 500,
        refit_every: int = 10,
    ) -> str: ...
    def stream(
        self,
        file: str,
        strategy: str = "qbc",
        model: Optional[str] = None,
        budget: Optional[float] = None,
        threshold: Optional[float] = None,
        seed: int = 0,
        candidates: int = 500,
        out: Optional[str] = None,
    ) -> str: ...
    def synthesize(
        self,
        n: int = 10,
        strategy: str = "qbc",
        model: Optional[str] = None,
        seed: int = 0,
        out: Optional[str] = None,
    ) -> str: ...
    def simulate(
        self,
        strategies: Sequence[str],
        models: Sequence[str] = ...,
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
        progress: Optional[Callable[[int, int], Any]] = None,
    ) -> list[tuple[str, str]]: ...

def query_array(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    batch_size: int = 10,
    strategy: Optional[str] = None,
    model: Optional[str] = None,
    seed: int = 0,
    candidates: int = 500,
    plugin_timeout: float = 60.0,
    estimator: Optional[tuple[Callable[[int], Any], bool, str, bool]] = None,
) -> tuple[list[int], list[float], str]: ...
def hold_table(name: str, columns: Sequence[tuple[str, str, Optional[bytes], bytes, bytes, int, int]], kinds: Sequence[str]) -> None: ...
def release_table(name: str) -> None: ...
def strategies() -> str: ...
def models() -> str: ...

def forecast_curve(
    labels: Sequence[int], errors: Sequence[float], batch: int, batches: Sequence[int] = ..., seed: int = 0
) -> str: ...
def advise_curve(
    labels: Sequence[int], errors: Sequence[float], batch: int, stop_below: str = "1%", estimated: bool = False
) -> str: ...

class Scorer:
    """A shipped query's scorer (bytes from ``ProjectHandle.ship_query``), decoded."""
    def __init__(self, bytes: bytes) -> None: ...
    def info(self) -> str: ...
    def check_columns(self, names: Sequence[str]) -> None: ...
    def score(self, rows: Sequence[ArrowText], first: int = 0) -> "np.ndarray": ...
    def sample_keys(self, rows: Sequence[ArrowText]) -> "np.ndarray": ...

def check_batch(batch: int) -> None: ...
