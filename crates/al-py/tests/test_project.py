"""The project API against al-cli on the same files."""

import shutil
import tempfile
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import al
from conftest import FIXTURES, cli


def test_round_trip_python_then_cli_then_python(tmp_path, price_partial):
    db = tmp_path / "al.db"
    frame = pd.read_csv(price_partial, dtype={"loc2": str})
    project = al.Project.init(frame, target="price", path=db)
    assert project.init_report["rows"] == 400
    batch = project.query(batch=4, seed=1, out=tmp_path / "batch-1.csv")
    assert batch.attrs["round"] == 1
    assert list(batch["rank"]) == [1, 2, 3, 4]
    # The CLI labels the batch Python wrote, and queries the next round.
    filled = pd.read_csv(tmp_path / "batch-1.csv", dtype=str, keep_default_na=False)
    filled["price"] = ["101.5", "202", "303.25", "404"]
    filled.to_csv(tmp_path / "batch-1.csv", index=False)
    done = cli("label", tmp_path / "batch-1.csv", "--no-eval", project=db, json_out=True)
    assert done.parsed["new"] == 4
    second = cli("query", "--batch", "3", "--seed", "2", "--out", tmp_path / "batch-2.csv", project=db, json_out=True)
    assert second.parsed["round"] == 2
    # Python reads both rounds and answers the CLI's batch.
    again = al.Project.open(db)
    assert again.status()["rounds"] == 2
    history = again.history(int(batch.row_id[0]))
    assert list(history["value"]) == [101.5]
    assert list(history["round"]) == [1]
    picked = [r["row_id"] for r in second.parsed["rows"]]
    outcome = again.label({picked[0]: 55.0, picked[1]: 66.0}, evaluate=False)
    assert (outcome["new"], outcome["changed"]) == (2, 0)
    # A dict answer to a pending row counts for that row's round.
    assert list(again.history(picked[0])["round"]) == [2]
    exported = cli("export", project=db).stdout
    assert f"\n{picked[0]}," in exported and ",55," in exported


@pytest.mark.parametrize("strategy", [None, "qbc", "random", "gsx", "committee", "cover:metric=features"])
def test_picks_equal_the_cli_for_the_same_seed(tmp_path, price_partial, strategy):
    base = tmp_path / "base.db"
    cli("init", price_partial, "--target", "price", project=base)
    py_db, cli_db = tmp_path / "py.db", tmp_path / "cli.db"
    shutil.copy(base, py_db)
    shutil.copy(base, cli_db)
    picked = al.Project.open(py_db).query(batch=7, strategy=strategy, seed=11)
    args = ["query", "--batch", "7", "--seed", "11", "--out", tmp_path / "b.csv"]
    if strategy:
        args += ["--strategy", strategy]
    expected = cli(*args, project=cli_db, json_out=True).parsed
    assert list(picked.row_id) == [r["row_id"] for r in expected["rows"]]
    assert picked.attrs["strategy"] == expected["strategy"]
    np.testing.assert_allclose(picked.score, [r["score"] for r in expected["rows"]])
    np.testing.assert_allclose(picked.prediction, [r["prediction"] for r in expected["rows"]])


def test_data_frames_keep_integers_text_and_missing_cells(tmp_path):
    frame = pd.DataFrame(
        {
            "rooms": [3, 4, 2, 5, 3, 4, 2, 3, 5, 4],
            "area": [70.5, 88.0, np.nan, 120.25, 65.0, 90.0, 50.5, 72.0, 130.0, 95.5],
            "city": ["Oslo", "Bergen", None, "Oslo", "Tromsø", "Oslo", "Bergen", "Oslo", "Oslo", "Bergen"],
            "price": [300.0, 410.0, np.nan, 520.0, 280.0, np.nan, 190.0, 305.0, 600.0, np.nan],
        }
    )
    project = al.Project.init(frame, target="price", path=tmp_path / "t.db", test_frac=0.0)
    exported = project.export()
    assert exported["rooms"].dtype == np.int64
    assert list(exported["rooms"]) == frame["rooms"].tolist()
    assert exported["area"].dtype == np.float64 and np.isnan(exported["area"][2])
    assert exported["city"].dtype == object
    assert exported["city"][2] is None and exported["city"][5] == "Oslo"
    assert exported["price"].isna().tolist() == frame["price"].isna().tolist()
    batch = project.query(batch=2, seed=0)
    assert batch["rooms"].dtype == np.int64
    assert batch["city"].dtype == object
    assert batch["price"].isna().all()


def test_label_from_a_frame_skips_empty_answers_and_evaluates(tmp_path, price_partial):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "a.db")
    batch = project.query(batch=3, seed=0)
    answers = batch[["row_id", "price"]].copy()
    answers["price"] = [120.0, np.nan, 80.0]
    before = len(project.report())
    outcome = project.label(answers)
    assert (outcome["new"], outcome["changed"]) == (2, 0)
    assert outcome["report"]["labels"] == project.status()["labeled"]
    report = project.report()
    assert len(report) == before + 1
    assert "<svg" in report._repr_html_()
    assert report["mae"].iloc[-1] == pytest.approx(outcome["report"]["mae"])


def test_evaluate_compares_models_and_predict_reads_new_rows(tmp_path, price_partial, price_2k):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "e.db")
    report = project.evaluate()
    assert report["method"] == "holdout" and report["mae"] > 0
    comparison = project.evaluate(["forest", "linear"], set_default=True)
    assert set(comparison["model"].str.split(":").str[0]) == {"forest", "linear"}
    assert comparison.attrs["set_default"] == comparison["model"][0]
    assert comparison["mae"].is_monotonic_increasing
    new_rows = pd.read_csv(price_2k, dtype={"loc2": str}).head(25)
    before = project.status()
    predicted = project.predict(new_rows, model="forest")
    assert len(predicted) == 25 and list(predicted.row_id) == list(range(25))
    assert predicted["label"].notna().all()  # the file's own prices, unused by the fit
    assert ((predicted.lower <= predicted.prediction) & (predicted.prediction <= predicted.upper)).all()
    assert predicted.attrs["intervals"] == "90 % intervals: normalized jackknife+-after-bootstrap, 100 members"
    assert project.status() == before  # nothing written
    pool = project.predict(pool=True, model="forest")
    assert len(pool) == before["unlabeled"] and pool["label"].isna().all()


def test_add_simulate_and_the_stored_result(tmp_path, price_2k):
    project = al.Project.init(FIXTURES / "diabetes.csv", target="target", path=tmp_path / "s.db")
    added = project.add(pd.read_csv(FIXTURES / "diabetes.csv").head(5).assign(target=np.nan), as_="pool")
    assert added["rows"] == 5 and added["labeled"] == 0
    sim = project.simulate(["qbc", "gsx"], init=10, batch=5, rounds=4, repeats=2, seed=3, progress=False)
    assert list(sim.table.strategy) == ["random", "qbc:members=10", "gsx"]
    assert sim.table.loc[0, "aulc_ratio"] == pytest.approx(1.0)
    assert set(sim.curves.repeat) == {0, 1}
    assert sim.curves.groupby("strategy").labels.max()["gsx"] == 10 + 5 * 4
    assert "<svg" in sim._repr_svg_()
    stored = cli("report", "--simulation", sim.id, project=tmp_path / "s.db", json_out=True).parsed
    assert [s["name"] for s in stored["strategies"]] == list(sim.table.strategy)


def test_registries_list_parameters_and_references():
    strategies = al.strategies()
    assert strategies.attrs["default"] == "cover:hedge=0.2"
    cover = strategies.set_index("name").loc["cover"]
    assert cover.is_default and "hedge" in [p["key"] for p in cover.params]
    assert strategies.reference.str.len().gt(0).all()
    models = al.models()
    assert {"forest", "gp", "linear"} <= set(models.name)


def test_the_gil_is_released_during_a_long_call(tmp_path):
    project = al.Project.init(FIXTURES / "diabetes.csv", target="target", path=tmp_path / "g.db")
    ticks = []
    running = threading.Event()

    def simulate():
        running.set()
        project.simulate(["qbc"], init=10, batch=10, rounds=15, repeats=4, progress=False)
        running.clear()

    worker = threading.Thread(target=simulate)
    worker.start()
    running.wait()
    while worker.is_alive():
        ticks.append(time.monotonic())  # Python code running beside the core
        time.sleep(0.01)
    worker.join()
    assert len(ticks) > 10


def test_progress_hears_of_the_rounds(tmp_path):
    project = al.Project.init(FIXTURES / "diabetes.csv", target="target", path=tmp_path / "p.db")
    heard = []
    project.simulate(["qbc"], init=10, batch=10, rounds=15, repeats=4, progress=lambda d, t: heard.append((d, t)))
    assert heard, "no progress reported"
    totals = {t for _, t in heard}
    # random runs on to twice the rounds: (15 + 30) rounds x 4 repeats.
    assert totals == {(15 + 30) * 4}
    done = [d for d, _ in heard]
    assert done == sorted(done)


def test_a_busy_project_raises_project_busy(tmp_path, price_partial):
    db = tmp_path / "b.db"
    project = al.Project.init(price_partial, target="price", path=db)
    batch = project.query(batch=1)
    # Another process holds the write lock (POSIX locks do not separate two
    # connections of one process that use different SQLite libraries).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(al.ProjectBusyError, match="busy"):
            project.label({int(batch.row_id[0]): 1.0}, evaluate=False)
        assert time.monotonic() - started >= 5  # it waited for the lock first
    finally:
        holder.communicate("\n")
    assert isinstance(al.ProjectBusyError("x"), al.AlError)
    assert project.status()["labeled"] == 80  # nothing applied


HOLD_WRITE_LOCK = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
c.execute("ROLLBACK")
"""


def test_frames_reach_a_tab_separated_project_in_its_own_delimiter(tmp_path):
    tsv = FIXTURES / "codetest_200.tsv"
    project = al.Project.init(tsv, target="f_0", path=tmp_path / "tab.db")
    assert project.status()["delimiter"] == "\t"
    rows = pd.read_csv(tsv, sep="\t").head(6)
    predicted = project.predict(rows.drop(columns="f_0"))
    assert len(predicted) == 6 and predicted["prediction"].notna().all()
    added = project.add(rows.assign(f_0=np.nan), as_="pool")
    assert (added["rows"], added["labeled"]) == (6, 0)


def test_init_takes_a_pyarrow_table_and_a_parquet_file(tmp_path):
    import pyarrow.parquet as pq

    table = pq.read_table(FIXTURES / "price_200.parquet")
    from_table = al.Project.init(table, target="price", path=tmp_path / "t.db")
    from_file = al.Project.init(FIXTURES / "price_200.parquet", target="price", path=tmp_path / "f.db")
    assert from_table.status()["rows"] == from_file.status()["rows"] == table.num_rows
    a, b = from_table.export(), from_file.export()
    pd.testing.assert_frame_equal(a.drop(columns="label_source"), b.drop(columns="label_source"))
    with pytest.raises(TypeError, match="data: expected a path, a pandas DataFrame or a pyarrow Table"):
        al.Project.init([1, 2, 3], target="price", path=tmp_path / "x.db")


def test_a_frame_keeps_its_column_types_as_the_parquet_reader_does(tmp_path):
    """Zip codes held as strings stay categories and booleans are text, in
    Python as in `al-cli init file.parquet`: the same recipe, the same picks."""
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame(
        {
            "zip": [f"{z:05d}" for z in rng.integers(1000, 1006, n)],
            "flag": rng.integers(0, 2, n).astype(bool),
            "x": rng.normal(size=n),
            # Numbers and None in an object column, as a database hands them over.
            "rooms": pd.Series([int(r) if r % 7 else None for r in rng.integers(1, 9, n)], dtype=object),
            "y": np.where(np.arange(n) < 20, rng.normal(size=n), np.nan),
        }
    )
    source = tmp_path / "d.parquet"
    frame.to_parquet(source, index=False)
    cli("init", source, "--target", "y", "--test-frac", "0", project=tmp_path / "cli.db")
    from_file = al.Project.init(source, target="y", path=tmp_path / "file.db", test_frac=0)
    from_frame = al.Project.init(frame, target="y", path=tmp_path / "frame.db", test_frac=0)
    # zip: 6 levels, flag: 2, x and rooms: 1 each.
    expected = cli("status", project=tmp_path / "cli.db", json_out=True).parsed["features"]
    assert expected == 10
    assert from_file.init_report["features"] == from_frame.init_report["features"] == expected
    picks = cli(
        "query", "--batch", "5", "--seed", "4", "--out", tmp_path / "b.csv", project=tmp_path / "cli.db", json_out=True
    ).parsed
    for project in (from_file, from_frame):
        assert list(project.query(batch=5, seed=4).row_id) == [r["row_id"] for r in picks["rows"]]
    assert from_frame.export()["flag"].tolist() == ["true" if f else "false" for f in frame["flag"]]


def test_without_held_out_rows_report_shows_the_pool_estimate_with_its_interval(tmp_path, price_partial):
    # No held-out rows: the report's MAE is the estimated error on the
    # unlabeled rows, with its 80 % interval and the plain cross-validation
    # on the labeled rows beside it, as al-cli reports it.
    db = tmp_path / "p.db"
    project = al.Project.init(price_partial, target="price", path=db, test_frac=0.0)
    project.evaluate(seed=3)
    report = project.report()
    last = report.iloc[-1]
    assert last["method"] == "pool_estimate"
    assert 0 < last["mae_low"] < last["mae"] < last["mae_high"]
    assert 0 < last["rmse_low"] < last["rmse"] < last["rmse_high"]
    assert last["cv_mae"] > 0 and last["cv_mae"] != last["mae"]
    shown = cli("report", project=db, json_out=True).parsed["reports"][-1]
    assert shown["mae"] == pytest.approx(last["mae"])
    assert shown["interval"]["mae_low"] == pytest.approx(last["mae_low"])
    assert shown["cross_validation"]["mae"] == pytest.approx(last["cv_mae"])
    status = project.status()
    assert status["error"]["method"] == "pool_estimate"
    assert status["error"]["mae"] == pytest.approx(last["mae"])


def test_a_frame_reaches_the_core_through_arrow_without_a_temporary_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "key": [f"k{i:04d}" for i in range(n)],
            "tiny": np.resize([1e-07, 2.5e-300, 123456789.0, 0.1, np.nan], n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),
            "x": rng.normal(size=n).round(6),
        }
    )
    frame["price"] = frame.x * 3 + frame.rooms + rng.normal(size=n)
    frame.loc[100:, "price"] = np.nan
    frame.to_csv(tmp_path / "same.csv", index=False)
    # No temporary file may be written on the way.
    monkeypatch.setattr(tempfile, "TemporaryDirectory", None)
    options = dict(target="price", test_frac=0, id_col="key")
    from_frame = al.Project.init(frame, path=tmp_path / "f.db", **options)
    from_file = al.Project.init(tmp_path / "same.csv", path=tmp_path / "c.db", **options)
    assert from_frame.status()["columns"] == from_file.status()["columns"]
    # Every cell reads back as the same value; the picks are the same.
    a, b = from_frame.export(), from_file.export()
    pd.testing.assert_frame_equal(a, b)
    assert a["tiny"][:4].tolist() == [1e-07, 2.5e-300, 123456789.0, 0.1] and np.isnan(a["tiny"][4])
    q = dict(batch=5, strategy="qbc", seed=3, model="forest:trees=20")
    assert list(from_frame.query(**q).row_id) == list(from_file.query(**q).row_id)
    # The same frame gives the same digest.
    again = al.Project.init(frame, path=tmp_path / "g.db", **options)
    assert again.status()["sha256"] == from_frame.status()["sha256"]
    # add and predict read frames the same way.
    added = from_frame.add(frame.head(3).assign(price=np.nan, key=["n1", "n2", "n3"]), as_="pool")
    assert added["rows"] == 3 and added["labeled"] == 0
    guessed = from_frame.predict(frame.head(4).drop(columns=["price"]))
    assert len(guessed) == 4 and guessed.prediction.notna().all()
