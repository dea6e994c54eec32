"""al.spark: a pool on Apache Spark (local[2]) scored by the same Rust code
a local query runs. The picks must equal a local query's on the same rows
(a project initialised from the labeled rows, the pool added with
``al-cli add --as pool``), whatever the partitioning; bad pools are refused
with nothing written."""

import hashlib
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import al
import al.spark
from al._al import Scorer

from conftest import cli

# Not skipped when missing: run-tests.sh installs pyspark, and CI must run this.
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

PER_ROW = ["random", "qbc", "tree-variance", "committee", "emcm"]
SEED = 3


def _frame(rng, ids, labeled):
    n = len(ids)
    sqft = rng.uniform(500, 3000, n).round(1)
    rooms = rng.integers(1, 7, n)
    city = rng.choice(["ames", "boone", "clive", "dallas", "eldora"], n)
    age = rng.uniform(0, 80, n).round(2)
    frame = pd.DataFrame({"id": ids, "sqft": sqft, "rooms": rooms, "city": city, "age": age})
    if labeled:
        frame["price"] = (sqft * 120 + rooms * 5000 - age * 300 + rng.normal(0, 8000, n)).round(0)
    return frame


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    warnings.filterwarnings("ignore", category=FutureWarning)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("al-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data(spark, tmp_path_factory):
    """60 labeled rows (CSV) and a 20 000-row pool: one Parquet file for
    the local side, and the same rows as 8 Parquet partitions."""
    root = tmp_path_factory.mktemp("spark")
    rng = np.random.default_rng(0)
    labeled = _frame(rng, np.arange(1, 61), True)
    pool = _frame(rng, np.arange(1001, 21001), False)
    labeled.to_csv(root / "labeled.csv", index=False)
    pool.to_parquet(root / "pool.parquet", index=False)
    spark.createDataFrame(pool).repartition(8).write.parquet(str(root / "parts"))
    assert len([f for f in os.listdir(root / "parts") if f.endswith(".parquet")]) == 8
    return root


def _project(data, path):
    return al.Project.init(data / "labeled.csv", target="price", path=path, id_col="id")


def _local(data, tmp_path, strategy, pool_file=None, model=None):
    project = _project(data, tmp_path / "local.db")
    cli("add", pool_file or (data / "pool.parquet"), "--as", "pool", project=tmp_path / "local.db")
    return project.query(batch=10, strategy=strategy, seed=SEED, model=model)


def _pool(spark, data, partitions=8):
    return spark.read.parquet(str(data / "parts")).repartition(partitions)


@pytest.mark.parametrize("strategy", PER_ROW)
def test_per_row_strategies_pick_what_a_local_query_picks(spark, data, tmp_path, strategy):
    project = _project(data, tmp_path / "spark.db")
    picked = al.spark.query(project, _pool(spark, data), batch=10, strategy=strategy, id_col="id", seed=SEED)
    local = _local(data, tmp_path, strategy)
    assert list(picked["id"]) == list(local["id"])
    assert list(picked["score"]) == list(local["score"])
    assert list(picked["prediction"]) == list(local["prediction"])
    assert list(picked["lower"]) == list(local["lower"])
    assert picked.attrs["strategy"] == local.attrs["strategy"]
    assert picked.attrs["pool"] == 20000 == local.attrs["pool"]
    assert project.status()["rounds"] == 1
    assert project.status()["rows"] == 70  # 60 labeled + the 10 picked


@pytest.mark.parametrize("partitions", [3, 17])
def test_the_partitioning_does_not_change_the_picks(spark, data, tmp_path, partitions):
    project = _project(data, tmp_path / "spark.db")
    picked = al.spark.query(project, _pool(spark, data, partitions), batch=10, strategy="qbc", id_col="id", seed=SEED)
    other = _project(data, tmp_path / "eight.db")
    eight = al.spark.query(other, _pool(spark, data, 8), batch=10, strategy="qbc", id_col="id", seed=SEED)
    assert list(picked["id"]) == list(eight["id"])
    # random reads each row's draw at its place in id order: the partitions
    # must each know where they start.
    random_a = al.spark.query(
        _project(data, tmp_path / "r1.db"), _pool(spark, data, partitions), batch=10, strategy="random", id_col="id", seed=SEED
    )
    random_b = al.spark.query(
        _project(data, tmp_path / "r2.db"), _pool(spark, data, 8), batch=10, strategy="random", id_col="id", seed=SEED
    )
    assert list(random_a["id"]) == list(random_b["id"])
    cover_a = al.spark.query(
        _project(data, tmp_path / "c1.db"), _pool(spark, data, partitions), batch=10, strategy="cover", id_col="id", seed=SEED
    )
    cover_b = al.spark.query(
        _project(data, tmp_path / "c2.db"), _pool(spark, data, 8), batch=10, strategy="cover", id_col="id", seed=SEED
    )
    assert list(cover_a["id"]) == list(cover_b["id"])


def test_cover_picks_what_a_local_query_picks_on_the_same_hashed_sample(spark, data, tmp_path):
    project = _project(data, tmp_path / "spark.db")
    blob = project.scorer("id", 10, "cover", seed=SEED)
    picked = al.spark.query(project, _pool(spark, data), batch=10, id_col="id", scorer=blob)
    # The sample: the 2 000 rows with the smallest keys, in id order.
    pool = pd.read_parquet(data / "pool.parquet")
    keys = Scorer(blob).sample_keys(al.spark._columns(pa.Table.from_pandas(pool, preserve_index=False)))
    order = np.lexsort((pool["id"].to_numpy(), keys))[:2000]
    sample = pool.iloc[np.sort(order)]
    sample.to_parquet(tmp_path / "sample.parquet", index=False)
    local = _local(data, tmp_path, "cover", tmp_path / "sample.parquet")
    assert list(picked["id"]) == list(local["id"])
    assert list(picked["score"]) == list(local["score"])
    assert picked.attrs["pool"] == 20000 and local.attrs["pool"] == 2000


def _ridge():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), Ridge(alpha=1.0))


@pytest.mark.parametrize("route", ["dataframe", "parquet paths"])
def test_a_users_estimator_ships_pickled_and_picks_what_a_local_query_picks(spark, data, tmp_path, route):
    from sklearn.gaussian_process import GaussianProcessRegressor

    pool = _pool(spark, data) if route == "dataframe" else str(data / "parts")
    # qbc: a committee of bootstrap clones of the user's Pipeline; emcm-like
    # own models need none of it; a GP's own return_std is its spread.
    for strategy, model in [("qbc", _ridge()), ("qbc", GaussianProcessRegressor()), ("committee", _ridge())]:
        project = _project(data, tmp_path / "spark.db")
        picked = al.spark.query(project, pool, batch=10, strategy=strategy, model=model, id_col="id", seed=SEED)
        local = _local(data, tmp_path, strategy, model=model)
        assert list(picked["id"]) == list(local["id"]), (strategy, model)
        assert list(picked["score"]) == list(local["score"]), (strategy, model)
        assert list(picked["prediction"]) == list(local["prediction"]), (strategy, model)
        for db in ("spark.db", "local.db"):
            os.remove(tmp_path / db)


def test_an_estimator_that_does_not_pickle_is_refused_as_itself_writing_nothing(spark, data, tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    project = _project(data, tmp_path / "spark.db")
    before = _digest(tmp_path / "spark.db")
    unpicklable = make_pipeline(FunctionTransformer(lambda X: X), Ridge())
    with pytest.raises(Exception, match="lambda|pickle") as raised:
        al.spark.query(project, _pool(spark, data), batch=10, strategy="qbc", model=unpicklable, id_col="id")
    assert "pickling python.sklearn.pipeline.Pipeline for the workers" in str(getattr(raised.value, "__notes__", ""))
    assert _digest(tmp_path / "spark.db") == before


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_bad_pools_get_clear_errors_and_leave_the_project_byte_identical(spark, data, tmp_path):
    path = tmp_path / "spark.db"
    project = _project(data, path)
    before = _digest(path)
    pool = _pool(spark, data, 4)
    with pytest.raises(ValueError, match='pool column "colour" is not a column of this project'):
        al.spark.query(project, pool.withColumn("colour", pool["city"]), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(ValueError, match="the pool has no such column"):
        al.spark.query(project, pool.drop("id"), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(ValueError, match="id 1001 occurs 2 times"):
        al.spark.query(project, pool.union(pool.where("id = 1001")), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(ValueError, match="some pool rows have no id"):
        al.spark.query(project, pool.union(pool.limit(1).withColumn("id", F.lit(None).cast("long"))), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(ValueError, match="not its id"):
        al.spark.query(project, pool, batch=5, strategy="qbc", id_col="city")
    with pytest.raises(ValueError, match="cannot run over an outside pool"):
        al.spark.query(project, pool, batch=5, strategy="lcmd", id_col="id")
    with pytest.raises(al.AlError, match="no byte form"):
        al.spark.query(project, pool, batch=5, strategy="qbc", model="gp", id_col="id")
    # A scorer from another project, and one fitted before the labels changed.
    other = al.Project.init(data / "labeled.csv", target="price", path=tmp_path / "other.db", id_cols=["id"], drop=["age"])
    foreign = other.scorer("id", 5, "qbc")
    with pytest.raises(al.AlError, match="another project"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=foreign)
    with pytest.raises(ValueError, match="batch: expected a whole number >= 1"):
        al.spark.query(project, pool, batch=0, id_col="id", scorer=foreign)
    with pytest.raises(ValueError, match="not both"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=foreign, coverage=0.8)
    with pytest.raises(al.AlError, match="not an al scorer"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=b"a pickled model")
    with pytest.raises(al.AlError, match="in format 7, this al reads format 1"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=b"ALSCORER" + (7).to_bytes(4, "little") + b"\0" * 40)
    with pytest.raises(al.AlError, match="damaged"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=foreign[:-1] + bytes([foreign[-1] ^ 1]))
    assert _digest(path) == before
    stale = project.scorer("id", 5, "qbc")
    exported = project.export()
    trained = int(exported[exported["test"] == 0]["row_id"].iloc[0])
    project.label({trained: 123456.0})
    after_label = _digest(path)
    with pytest.raises(al.AlError, match="before the project's labels changed"):
        al.spark.query(project, pool, batch=5, id_col="id", scorer=stale)
    assert _digest(path) == after_label


def test_picked_rows_round_trip_through_label_and_report(spark, data, tmp_path):
    project = _project(data, tmp_path / "spark.db")
    labeled = project.status()["labeled"]
    pool = _pool(spark, data, 8)
    first = al.spark.query(project, pool, batch=10, strategy="qbc", id_col="id", seed=SEED)
    answers = {int(r): 250_000.0 + 1000 * k for k, r in enumerate(first["row_id"])}
    project.label(answers)
    status = project.status()
    assert status["labeled"] == labeled + 10 and status["rounds"] == 1
    # The labeled ids are held now: the next round offers other rows.
    second = al.spark.query(project, pool, batch=10, strategy="qbc", id_col="id", seed=SEED)
    assert not set(second["id"]) & set(first["id"])
    assert second.attrs["pool"] == 19990
    report = project.report()
    assert len(report) >= 1
    history = project.history(int(first["row_id"].iloc[0]))
    assert list(history["value"]) == [250_000.0]
    assert list(history["round"]) == [1]


def test_arrow_batches_reach_the_core_with_their_slices_and_nulls(data, tmp_path):
    project = _project(data, tmp_path / "p.db")
    scorer = Scorer(project.scorer("id", 5, "qbc", seed=SEED))
    table = pa.Table.from_pandas(pd.read_parquet(data / "pool.parquet").head(50), preserve_index=False)
    kinds = json.loads(scorer.info())["kinds"]
    whole = scorer.score(al.spark._columns(table))
    # Numbers as float64 values encode to the bits their text gives.
    assert list(scorer.score(al.spark._columns(table, kinds))) == list(whole)
    # A slice shares its parent's buffers at an offset.
    assert list(scorer.score(al.spark._columns(table.slice(10, 20)))) == list(whole[10:30])
    # A null number is an empty cell, as in a CSV.
    nulls = table.set_column(1, "sqft", pa.array([None] * 50, pa.float64()))
    empty = table.set_column(1, "sqft", pa.array([""] * 50, pa.string()))
    assert list(scorer.score(al.spark._columns(nulls))) == list(scorer.score(al.spark._columns(empty)))
    assert list(scorer.score(al.spark._columns(nulls))) != list(whole)
    with pytest.raises(ValueError, match="has type timestamp"):
        al.spark._columns(table.append_column("seen", pa.array([0] * 50, pa.timestamp("s"))))


# Parquet paths: the tasks read the files themselves (no JVM rows).


def _paths_pool(data, name, files):
    """The pool as `files` Parquet files written by pyarrow, ids shuffled
    across them (not one file per id range)."""
    root = data / name
    if not root.exists():
        root.mkdir()
        pool = pd.read_parquet(data / "pool.parquet").sample(frac=1.0, random_state=1)
        for k, rows in enumerate(np.array_split(np.arange(len(pool)), files)):
            pool.iloc[rows].to_parquet(root / f"part-{k}.parquet", index=False)
    return root


@pytest.mark.parametrize("strategy", PER_ROW + ["cover"])
def test_parquet_paths_pick_what_the_dataframe_picks(spark, data, tmp_path, strategy, monkeypatch):
    read_in_tasks = []
    through_files = al.spark._best_from_files
    monkeypatch.setattr(al.spark, "_best_from_files", lambda *a: read_in_tasks.append(1) or through_files(*a))
    from_paths = al.spark.query(
        _project(data, tmp_path / "paths.db"), str(data / "parts"), batch=10, strategy=strategy, id_col="id", seed=SEED
    )
    from_frame = al.spark.query(
        _project(data, tmp_path / "frame.db"), _pool(spark, data), batch=10, strategy=strategy, id_col="id", seed=SEED
    )
    assert list(from_paths["id"]) == list(from_frame["id"])
    assert list(from_paths["score"]) == list(from_frame["score"])
    assert list(from_paths["sqft"]) == list(from_frame["sqft"])
    assert from_paths.attrs["pool"] == 20000 == from_frame.attrs["pool"]
    # random reads each row's draw at its place in id order, a global
    # sort: it goes through Spark's rows; the others read in the tasks.
    assert read_in_tasks == ([] if strategy == "random" else [1])
    if strategy != "cover":
        # And the local query on the same rows (cover's sample differs).
        assert list(from_paths["id"]) == list(_local(data, tmp_path, strategy)["id"])


def test_parquet_paths_in_other_layouts_give_the_same_picks(spark, data, tmp_path):
    three = _paths_pool(data, "three", 3)
    files = sorted(str(p) for p in _paths_pool(data, "seventeen", 17).iterdir())
    for strategy in ["qbc", "cover"]:
        picks = [
            list(al.spark.query(_project(data, tmp_path / f"{strategy}{k}.db"), pool, batch=10, strategy=strategy, id_col="id", seed=SEED)["id"])
            for k, pool in enumerate([str(data / "parts"), three, files])
        ]
        assert picks[0] == picks[1] == picks[2], strategy


def test_parquet_paths_skip_held_ids_and_refuse_bad_pools_writing_nothing(spark, data, tmp_path):
    path = tmp_path / "spark.db"
    project = _project(data, path)
    first = al.spark.query(project, str(data / "parts"), batch=10, strategy="qbc", id_col="id", seed=SEED)
    second = al.spark.query(project, str(data / "parts"), batch=10, strategy="qbc", id_col="id", seed=SEED)
    assert not set(second["id"]) & set(first["id"])
    assert second.attrs["pool"] == 19990
    before = _digest(path)
    with pytest.raises(FileNotFoundError, match="Path does not exist: file:.*no-such-dir"):
        al.spark.query(project, str(tmp_path / "no-such-dir"), batch=5, strategy="qbc", id_col="id")
    bad = tmp_path / "bad"
    bad.mkdir()
    pool = pd.read_parquet(data / "pool.parquet")
    pool.head(100).to_parquet(bad / "a.parquet", index=False)
    pool.iloc[99:200].to_parquet(bad / "b.parquet", index=False)  # id of row 99 twice
    with pytest.raises(ValueError, match=f"id {pool['id'].iloc[99]} occurs 2 times"):
        al.spark.query(project, str(bad), batch=5, strategy="qbc", id_col="id")
    colour = tmp_path / "colour"
    colour.mkdir()
    pool.head(100).assign(colour="red").to_parquet(colour / "a.parquet", index=False)
    with pytest.raises(ValueError, match='pool column "colour" is not a column of this project'):
        al.spark.query(project, str(colour), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(ValueError, match="the pool has no such column"):
        al.spark.query(project, str(colour), batch=5, strategy="qbc", id_col="listing")
    with pytest.raises(ValueError, match="is not a Parquet pool Spark can read"):
        al.spark.query(project, str(data / "labeled.csv"), batch=5, strategy="qbc", id_col="id")
    with pytest.raises(TypeError, match="expected a Spark DataFrame or Parquet paths"):
        al.spark.query(project, [], batch=5, strategy="qbc", id_col="id")
    with pytest.raises(TypeError, match="got DataFrame"):
        al.spark.query(project, pool, batch=5, strategy="qbc", id_col="id")  # pandas, not Spark
    assert _digest(path) == before


def test_parquet_paths_with_columns_in_directory_names_go_through_spark(spark, data, tmp_path, monkeypatch):
    # city=ames/part-….parquet: the files lack the column Spark reads from
    # their directories, so the tasks could not read it; Spark's rows serve.
    by_city = tmp_path / "by_city"
    spark.read.parquet(str(data / "parts")).write.partitionBy("city").parquet(str(by_city))
    monkeypatch.setattr(al.spark, "_best_from_files", lambda *a: pytest.fail("read in the tasks"))
    with pytest.warns(UserWarning, match="'city' is not in the files"):
        picked = al.spark.query(
            _project(data, tmp_path / "p.db"), str(by_city), batch=10, strategy="qbc", id_col="id", seed=SEED
        )
    assert list(picked["id"]) == list(_local(data, tmp_path, "qbc")["id"])
