"""Query a pool that lives on Apache Spark; the picks are recorded in the
project file.

The pool stays where it is (partitioned Parquet, a table, any Spark
DataFrame of the source's columns); the project keeps the recipe, the
labels and the rounds. The strategy is fitted on the driver from the
project's labels, packed as bytes (``Project.scorer``) and broadcast; every
partition is encoded by the project's recipe and scored by the same Rust
code a local query runs (``mapInArrow``: Arrow batches handed over as
buffers, no per-row Python).
Per-row strategies keep the top ``batch`` rows by utility (ties to the
smaller id); ``cover`` keeps the rows with the smallest hash of their id (the
same sample however the pool is partitioned) and picks among them on the
driver. Only the picked rows enter the project, as pool rows pending an
answer, so ``label``, ``serve`` and ``report`` work on them unchanged.

    >>> import al, al.spark
    >>> project = al.Project.open("al.db")
    >>> pool = spark.read.parquet("s3://bucket/pool/")
    >>> batch = al.spark.query(project, pool, batch=20, id_col="listing_id")

``pool`` may also be Parquet paths (a directory, a file, or a list): Spark
lists the files and checks the ids as for a DataFrame, and each task reads
its files with Arrow in the Python worker, so the cells do not pass through
Spark's JVM rows on their way to Python (at ten million rows of 50 columns
that hand-over alone took 51 s, three times a local query; docs/scaling.md).
Each task then sends back only its best ``batch`` rows (or its part of
``cover``'s sample), not a value per row.

    >>> batch = al.spark.query(project, "s3://bucket/pool/", batch=20, id_col="listing_id")

Needs ``pyspark`` (the ``spark`` extra) and the ``al`` package on every
executor (docs/scaling.md has the runbook).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Union

import pandas as pd

from al import Project, _keywords_named
from al._al import Scorer as _Scorer
from al._al import check_batch as _check_batch

__all__ = ["query"]

_VALUE = "_al_value"


def _columns(batch: Any, kinds: Optional[dict] = None) -> list:
    """An Arrow batch or table as the core reads it, each column as its
    buffers (no per-row Python): columns the recipe reads as numbers as
    float64 values, the others cast to text by Arrow (numbers in their
    shortest exact form, booleans as true/false, nulls empty: what a CSV
    export holds). ``kinds``: the recipe's kind of each column (``None``:
    every column as text, as the rows that enter the project need)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, column in zip(batch.schema.names, batch.columns):
        kind = column.type
        number = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        if not (number or pa.types.is_decimal(kind) or pa.types.is_string(kind)
                or pa.types.is_large_string(kind) or pa.types.is_boolean(kind)):
            raise ValueError(f"pool column {name!r} has type {kind}; al reads numbers, text and booleans")
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if number and kinds is not None and kinds.get(name) == "numeric":
            values = pc.cast(column, pa.float64(), safe=False)
            validity, data = values.buffers()
            offsets, what = None, "number"
        else:
            values = pc.cast(column, pa.large_string())
            validity, offsets, data = values.buffers()
            offsets, what = offsets.to_pybytes(), "text"
        columns.append(
            (
                name,
                what,
                None if validity is None else validity.to_pybytes(),
                offsets,
                b"" if data is None else data.to_pybytes(),
                values.offset,
                len(values),
            )
        )
    return columns


def _mapper(blob: Any, id_col: str, what: str, kinds: dict, offsets: Optional[dict] = None):
    """The function each partition runs: Arrow batches in, (id, value)
    batches out. ``blob`` is the broadcast scorer; ``offsets``: where each
    partition of a pool sorted by id starts (positional scorers)."""

    def run(batches):
        import pyarrow as pa
        from pyspark import TaskContext

        scorer = _Scorer(blob.value)
        first = offsets[TaskContext.get().partitionId()] if offsets is not None else 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            data = _columns(batch, kinds)
            values = scorer.score(data, first) if what == "score" else scorer.sample_keys(data)
            first += batch.num_rows
            yield pa.RecordBatch.from_arrays(
                [batch.column(id_col), pa.array(values)], names=[id_col, _VALUE]
            )

    return run


# Rows a file task reads and scores at a time; the rank column its kept
# rows are ordered by (the utility with NaN as -inf, or the sample key).
_READ_ROWS = 65_536
_RANK = "_al_rank"


def _keep_best(table: Any, k: int, id_col: str, per_row: bool) -> Any:
    """The ``k`` best rows of ``table``, best first: per-row strategies by
    utility, highest first (NaN last, as a local query ranks it), then the
    smaller id; ``cover``'s sample by key, smallest first, then the smaller
    id. Ids are unique, so the rows kept do not depend on the input order."""
    import pyarrow.compute as pc

    keys = [(_RANK, "descending" if per_row else "ascending"), (id_col, "ascending")]
    if table.num_rows > k:
        table = table.take(pc.select_k_unstable(table, k, keys))
    return table.take(pc.sort_indices(table, keys))


def _file_mapper(blob: Any, id_col: str, per_row: bool, keep: int, kinds: dict, columns: list, held: Any):
    """The function each file task runs: the task's Parquet files read by
    Arrow here in the worker, rows the project holds dropped, every row
    scored (or keyed), and one row sent back: how many rows were offered
    and the ``keep`` best of them with their cells, as Arrow IPC bytes."""

    def run(batches):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.fs as pafs
        import pyarrow.parquet as pq

        scorer = _Scorer(blob.value)
        held_ids = pa.array(held.value, pa.string())
        offered, best = 0, None
        for task in batches:
            for uri in task.column("file").to_pylist():
                fs, path = pafs.FileSystem.from_uri(_arrow_uri(uri))
                with fs.open_input_file(path) as handle:
                    for batch in pq.ParquetFile(handle).iter_batches(_READ_ROWS, columns=columns):
                        ids = batch.column(id_col)
                        if len(held_ids):
                            batch = batch.filter(pc.invert(pc.is_in(pc.cast(ids, pa.string()), held_ids)))
                        if batch.num_rows == 0:
                            continue
                        offered += batch.num_rows
                        if per_row:
                            values = pa.array(scorer.score(_columns(batch, kinds)))
                            rank = pc.if_else(pc.is_nan(values), float("-inf"), values)
                        else:
                            values = rank = pa.array(scorer.sample_keys(_columns(batch.select([id_col]), kinds)))
                        scored = pa.Table.from_batches([batch]).append_column(_VALUE, values).append_column(_RANK, rank)
                        best = scored if best is None else pa.concat_tables([best, scored])
                        best = _keep_best(best, keep, id_col, per_row)
        sink = pa.BufferOutputStream()
        if best is not None:
            with pa.ipc.new_stream(sink, best.schema) as writer:
                writer.write_table(best.combine_chunks())
        yield pa.RecordBatch.from_arrays(
            [pa.array([offered], pa.int64()), pa.array([sink.getvalue().to_pybytes()], pa.binary())],
            names=["offered", "best"],
        )

    return run


def _best_from_files(spark: Any, files: list, mapper: Any) -> tuple:
    """Runs ``mapper`` with one task per file; returns the rows offered in
    all and the tasks' kept rows as one Arrow table (``None`` if none)."""
    import pyarrow as pa
    from pyspark.sql.types import BinaryType, LongType, StructField, StructType

    tasks = spark.createDataFrame([(f,) for f in files], "file string").repartition(len(files))
    out = StructType([StructField("offered", LongType(), False), StructField("best", BinaryType(), False)])
    offered, parts = 0, []
    for row in tasks.mapInArrow(mapper, out).collect():
        offered += row["offered"]
        if row["best"]:
            parts.append(pa.ipc.open_stream(bytes(row["best"])).read_all())
    return offered, (pa.concat_tables(parts, promote_options="permissive") if parts else None)


def _parquet_pool(pool: Any) -> Optional[list]:
    """``pool`` as a list of Parquet paths, or ``None`` for a DataFrame."""
    if isinstance(pool, (str, os.PathLike)):
        return [os.fspath(pool)]
    if isinstance(pool, (list, tuple)) and pool and all(isinstance(p, (str, os.PathLike)) for p in pool):
        return [os.fspath(p) for p in pool]
    return None


def query(
    project: Project,
    pool: Any,
    batch: int = 20,
    strategy: Optional[str] = None,
    model: Optional[Any] = None,
    id_col: Optional[str] = None,
    seed: Optional[int] = None,
    *,
    candidates: int = 500,
    coverage: Optional[Union[float, str]] = None,
    scorer: Optional[bytes] = None,
) -> pd.DataFrame:
    """Chooses the next ``batch`` rows to label from ``pool`` (a Spark
    DataFrame of the project's source columns, keyed by ``id_col``, or the
    path of a Parquet directory or file, or a list of them, which the tasks
    read with Arrow themselves: the faster route) and records the round in
    the project. Returns the picked rows as
    ``Project.query`` does. ``scorer``: bytes from ``Project.scorer`` made
    earlier (then ``strategy``, ``model`` and ``seed`` come from it). Pool
    rows whose id the project already holds are skipped. ``model`` may be
    your own estimator (anything with ``fit`` and ``predict``): it is
    fitted on the driver and its fitted copies go to the executors
    pickled, so they need its package installed."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    if not id_col:
        raise ValueError("id_col: name the pool's id column (a column the project keeps out of the features)")
    pool, files = _open_pool(pool)
    if id_col not in pool.columns:
        raise ValueError(f"id_col {id_col!r}: the pool has no such column; its columns are: {', '.join(pool.columns)}")
    if scorer is None:
        scorer = project.scorer(
            id_col, batch, strategy, model, seed, candidates=candidates, coverage=coverage
        )
    elif strategy is not None or model is not None or seed is not None or coverage is not None:
        raise ValueError("scorer: give a scorer or strategy/model/seed/coverage, not both (the scorer carries them)")
    else:
        _check_batch(batch)  # before any Spark job, as a scorer made here is checked
    decoded = _Scorer(scorer)
    info = json.loads(decoded.info())
    if info["id_col"] != id_col:
        raise ValueError(f"scorer: it was made for id column {info['id_col']!r}, not {id_col!r}")
    decoded.check_columns(pool.columns)
    id_field = pool.schema[id_col]
    if id_field.dataType.typeName() not in ("string", "long", "integer", "short", "byte"):
        raise ValueError(f"id_col {id_col!r} has type {id_field.dataType.simpleString()}; ids must be integers or text")
    # One aggregation finds both: a missing id is a group of its own.
    bad = pool.groupBy(id_col).count().where(F.col(id_col).isNull() | (F.col("count") > 1)).limit(1).collect()
    if bad and bad[0][0] is None:
        raise ValueError(f"id_col {id_col!r}: some pool rows have no id")
    if bad:
        raise ValueError(f"id_col {id_col!r}: id {bad[0][0]!r} occurs {bad[0][1]} times; ids must be unique")

    held = project._h.held_ids(id_col)
    spark = pool.sparkSession
    if held:
        # A broadcast anti-join: the project's ids (thousands) go to every
        # executor once, whatever their number, instead of into the plan.
        ids = spark.createDataFrame([(h,) for h in held], "_al_held string")
        offered = pool.join(F.broadcast(ids), F.col(id_col).cast("string") == F.col("_al_held"), "left_anti")
    else:
        offered = pool
    per_row = info["plan"] == "per-row"
    if files is not None and not info.get("positional") and _files_hold(files, pool.columns):
        return _query_files(project, spark, files, pool.columns, scorer, info, id_col, batch, held)
    size = offered.count()
    if size == 0:
        raise ValueError("no pool rows left to offer: the project already holds every id")
    blob = spark.sparkContext.broadcast(scorer)
    out = StructType(
        [StructField(id_col, id_field.dataType, False), StructField(_VALUE, DoubleType() if per_row else LongType(), False)]
    )
    offsets = None
    if info.get("positional"):
        # random: a row's draw is read at its place among the candidates in
        # id order. Sort once (kept, so the partitions counted are the ones
        # scored), count each partition, and tell each where it starts.
        offered = offered.orderBy(F.col(id_col).asc()).persist()
        counts = dict(offered.groupBy(F.spark_partition_id()).count().collect())
        offsets, start = {}, 0
        for part in sorted(counts):
            offsets[part] = start
            start += counts[part]
    mapper = _mapper(blob, id_col, "score" if per_row else "keys", info["kinds"], offsets)
    # A sample key needs the id alone: only that column goes to the workers.
    values = (offered if per_row else offered.select(id_col)).mapInArrow(mapper, out)
    if per_row:
        # NaN utilities last, as a local query ranks them.
        key = F.nanvl(F.col(_VALUE), F.lit(float("-inf")))
        top = values.orderBy(key.desc(), F.col(id_col).asc()).limit(batch).collect()
        ids = [r[0] for r in top]
        utilities = [float(r[1]) for r in top]
    else:
        top = values.orderBy(F.col(_VALUE).asc(), F.col(id_col).asc()).limit(info["size"]).collect()
        ids = sorted(r[0] for r in top)
        utilities = None
    rows = offered.where(F.col(id_col).isin(ids)).toArrow()
    order = {v: k for k, v in enumerate(ids)}
    place = [order[v] for v in rows.column(id_col).to_pylist()]
    rows = rows.take(sorted(range(len(place)), key=place.__getitem__))
    blob.unpersist()
    if offsets is not None:
        offered.unpersist()
    outcome = json.loads(
        project._h.record_shipped(scorer, batch, _columns(rows), utilities, size)
    )
    return project._batch_frame(outcome)


def _open_pool(pool: Any) -> tuple:
    """The pool as a Spark DataFrame, and its Parquet files when it was
    given as paths (``None`` for a DataFrame)."""
    paths = _parquet_pool(pool)
    if paths is None:
        if not (hasattr(pool, "mapInArrow") and hasattr(pool, "columns")):
            raise TypeError(
                f"pool: expected a Spark DataFrame or Parquet paths (a path or a list of them), got {type(pool).__name__}"
            )
        return pool, None
    from pyspark.errors import AnalysisException
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise ValueError("pool: Parquet paths are read by Spark's executors; start a SparkSession first")
    try:
        frame = spark.read.parquet(*paths)
        files = frame.inputFiles()
    except AnalysisException as e:
        if "PATH_NOT_FOUND" in str(e):
            raise FileNotFoundError(f"pool: {str(e).split('. SQLSTATE')[0]}") from None
        raise ValueError(f"pool: {', '.join(paths)} is not a Parquet pool Spark can read: {str(e).splitlines()[0]}") from None
    except Exception as e:  # Spark's errors from reading footers differ by version
        raise ValueError(f"pool: {', '.join(paths)} is not a Parquet pool Spark can read: {str(e).splitlines()[0]}") from None
    if not files:
        raise ValueError(f"pool: no Parquet files under {', '.join(paths)}")
    return frame, list(files)


def _arrow_uri(uri: str) -> str:
    """A file name as Spark lists it, in the form Arrow's file systems
    open (Hadoop's ``s3a://`` and ``s3n://`` are Arrow's ``s3://``)."""
    for hadoop in ("s3a://", "s3n://"):
        if uri.startswith(hadoop):
            return "s3://" + uri[len(hadoop):]
    return uri


def _files_hold(files: list, columns: list) -> bool:
    """Whether the tasks can read the files themselves: Arrow opens the
    first one and it holds every column Spark shows. Not so for columns
    Spark reads from directory names (``city=ames/``), or a file system
    Arrow has no driver for here: then the pool goes through Spark's rows,
    with a warning saying why."""
    import warnings

    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    try:
        fs, path = pafs.FileSystem.from_uri(_arrow_uri(files[0]))
        with fs.open_input_file(path) as handle:
            names = set(pq.ParquetFile(handle).schema_arrow.names)
    except Exception as e:  # Arrow's errors differ by file system and version
        warnings.warn(f"pool: Arrow cannot open {files[0]} ({e}); reading the pool through Spark's rows instead, which is slower")
        return False
    missing = [c for c in columns if c not in names]
    if missing:
        warnings.warn(
            f"pool: column {missing[0]!r} is not in the files (Spark reads it from directory names); "
            "reading the pool through Spark's rows instead, which is slower"
        )
        return False
    return True


def _query_files(project, spark, files, columns, scorer, info, id_col, batch, held) -> pd.DataFrame:
    """The rest of ``query`` for a pool of Parquet files read in the tasks."""
    per_row = info["plan"] == "per-row"
    keep = batch if per_row else info["size"]
    blob = spark.sparkContext.broadcast(scorer)
    held_ids = spark.sparkContext.broadcast(list(held))
    try:
        mapper = _file_mapper(blob, id_col, per_row, keep, info["kinds"], columns, held_ids)
        size, best = _best_from_files(spark, files, mapper)
    finally:
        blob.unpersist()
        held_ids.unpersist()
    if size == 0 or best is None:
        raise ValueError("no pool rows left to offer: the project already holds every id")
    best = _keep_best(best, keep, id_col, per_row)
    if per_row:
        utilities = [float(v) for v in best.column(_VALUE).to_pylist()]
    else:
        import pyarrow.compute as pc

        best = best.take(pc.sort_indices(best, [(id_col, "ascending")]))
        utilities = None
    rows = best.drop_columns([_VALUE, _RANK])
    outcome = json.loads(project._h.record_shipped(scorer, batch, _columns(rows), utilities, size))
    return project._batch_frame(outcome)


query = _keywords_named(query, "al.spark.query")
