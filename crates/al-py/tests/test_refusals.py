"""Bad input is refused as al-cli refuses it, with the same message, and
leaves the project file as it was; Ctrl-C leaves it as it was too."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import al
from conftest import FIXTURES, cli

NAMES = ["cover", "qbc", "gsx", "density", "random", "committee", "nope"]
KEYS = ["k", "members", "metric", "hedge", "power", "base", "x"]
VALUES = ["0", "1", "-1", "0.5", "2.5", "abc", "", "qbc", "forest", "1e400"]

pairs = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=2)
specs = st.builds(
    lambda name, ps: name + (":" + ",".join(f"{k}={v}" for k, v in ps) if ps else ""),
    st.sampled_from(NAMES),
    pairs,
)


@pytest.fixture(scope="module")
def base_project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("refusals")
    db = directory / "base.db"
    cli("init", FIXTURES / "price_partial.csv", "--target", "price", project=db)
    return db


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(min_value=-3, max_value=4), strategy=specs)
def test_python_refuses_what_the_cli_refuses_with_the_same_message(tmp_path, base_project, batch, strategy):
    py_db, cli_db = tmp_path / "py.db", tmp_path / "cli.db"
    shutil.copy(base_project, py_db)
    shutil.copy(base_project, cli_db)
    done = cli(
        "query", f"--batch={batch}", f"--strategy={strategy}", "--seed", "1", "--out", tmp_path / "b.csv",
        project=cli_db, check=False,
    )
    before = py_db.read_bytes()
    if done.returncode == 0:
        picked = al.Project.open(py_db).query(batch=batch, strategy=strategy, seed=1)
        assert len(picked) == batch
        return
    cli_message = done.stderr.strip().splitlines()[0]
    with pytest.raises(ValueError) as refused:
        al.Project.open(py_db).query(batch=batch, strategy=strategy, seed=1)
    message = str(refused.value)
    if batch < 1:
        # clap words the range check itself; the range is the same.
        assert "batch" in cli_message and "whole number >= 1" in cli_message
        assert message == "batch: expected a whole number >= 1"
    else:
        assert cli_message == f"error: {message}"
    assert py_db.read_bytes() == before


def test_bad_parameters_name_their_key(tmp_path, price_partial):
    with pytest.raises(ValueError, match="numeric_threshold: expected a fraction in \\[0, 1\\]"):
        al.Project.init(price_partial, target="price", path=tmp_path / "x.db", numeric_threshold=2)
    assert not (tmp_path / "x.db").exists()
    with pytest.raises(ValueError, match="max_levels: expected a whole number >= 1"):
        al.Project.init(price_partial, target="price", path=tmp_path / "x.db", max_levels=-2)
    with pytest.raises(ValueError, match='the delimiter must be one ASCII character or "tab", not ";;"'):
        al.Project.init(price_partial, target="price", path=tmp_path / "x.db", delimiter=";;")
    with pytest.raises(ValueError, match="impute: "):
        al.Project.init(price_partial, target="price", path=tmp_path / "x.db", impute=["area=sometimes"])
    assert not (tmp_path / "x.db").exists()
    project = al.Project.init(price_partial, target="price", path=tmp_path / "y.db")
    before = (tmp_path / "y.db").read_bytes()
    with pytest.raises(ValueError, match="random_budget: expected a multiple from 1 to 100"):
        project.simulate(["qbc"], random_budget=0.5)
    with pytest.raises(ValueError, match="init: expected a whole number >= 2"):
        project.simulate(["qbc"], init=1)
    with pytest.raises(ValueError, match="seed: expected a whole number >= 0"):
        project.query(seed=-1)
    with pytest.raises(ValueError, match="unknown model"):
        project.evaluate("nope")
    with pytest.raises(ValueError, match='as_: "nowhere" is not one of train, pool, test'):
        project.add(price_partial, as_="nowhere")
    with pytest.raises(FileNotFoundError):
        project.add(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="no project file"):
        al.Project.open(tmp_path / "missing.db")
    with pytest.raises(TypeError, match="answers"):
        project.label([1, 2, 3])
    unlabeled = int(project.export().query("price.isna()").row_id.iloc[0])
    with pytest.raises(ValueError, match=rf"row {unlabeled}: value 1e200: beyond ±1e150, too large to learn from"):
        project.label({unlabeled: 1e200})
    assert (tmp_path / "y.db").read_bytes() == before


def test_a_frames_refusal_names_the_frame_and_its_row_not_a_temporary_file(tmp_path):
    y = [1.0, 2.0, "n/a", 4.0, None, None]
    frame = pd.DataFrame({"x": np.arange(6.0), "y": y})
    with pytest.raises(ValueError) as refused:
        al.Project.init(frame, target="y", path=tmp_path / "p.db")
    assert str(refused.value).startswith('data (a DataFrame), row 2: column "y": target "n/a" is not a finite number')
    assert not (tmp_path / "p.db").exists()
    twice = pd.DataFrame(np.zeros((2, 3)), columns=["x", "x", "y"])
    with pytest.raises(ValueError, match=r'^data \(a DataFrame\), header: duplicate column name "x"'):
        al.Project.init(twice, target="y", path=tmp_path / "p.db")
    nested = pd.DataFrame(np.zeros((2, 2)), columns=pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")]))
    with pytest.raises(ValueError, match=r"^data \(a DataFrame\): its columns are a MultiIndex"):
        al.Project.init(nested, target="y", path=tmp_path / "p.db")
    project = al.Project.init(frame.assign(y=[1.0, 2.0, 3.0, 4.0, None, None]), target="y", path=tmp_path / "q.db")
    before = (tmp_path / "q.db").read_bytes()
    with pytest.raises(ValueError, match=r'^added \(a DataFrame\): has no column "x"'):
        project.add(pd.DataFrame({"q": [1.0]}))
    assert (tmp_path / "q.db").read_bytes() == before


INTERRUPTED = textwrap.dedent(
    """
    import sys, time
    import al
    project = al.Project.open(sys.argv[1])
    print("started", flush=True)
    try:
        project.simulate(["qbc", "gsx", "cover"], init=20, batch=10, rounds=40, repeats=20, progress=False)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
    """
)


def _interrupt(script, db):
    """Runs `script` on `db` in a child Python, sends it SIGINT 1.5 s after
    it prints "started", and returns the two words it prints then and when
    the signal was sent."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=120)
    word, number = out.split()
    return word, number, sent


def test_keyboard_interrupt_stops_a_simulation_within_a_second_and_stores_nothing(tmp_path, price_2k):
    db = tmp_path / "k.db"
    cli("init", price_2k, "--target", "price", project=db)
    before = cli("export", project=db).stdout
    word, caught, sent = _interrupt(INTERRUPTED, db)
    assert word == "interrupted"
    assert float(caught) - sent < 1.0
    assert cli("export", project=db).stdout == before
    assert "no simulation 1" in cli("report", "--simulation", "1", project=db, check=False).stderr


QUERY_INTERRUPTED = textwrap.dedent(
    """
    import sys, time
    import al
    project = al.Project.open(sys.argv[1])
    print("started", flush=True)
    try:
        t = time.monotonic()
        project.query(batch=10, strategy="qbc", model="forest:trees=1000", seed=0)
        print("finished", time.monotonic() - t, flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
    """
)


def test_keyboard_interrupt_stops_a_long_query_within_a_second_and_writes_nothing(tmp_path):
    # qbc's spread over 1 000 trees, on 300 000 rows: about 5 s in the test
    # build, in chunks of 16 384 rows (a quarter of a second each) with the
    # stop flag checked between them.
    rng = np.random.default_rng(0)
    n = 300_000
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n).round(4) for j in range(8)})
    frame["y"] = frame["x0"] * 3 + rng.normal(size=n)
    frame.loc[200:, "y"] = np.nan
    db = tmp_path / "q.db"
    al.Project.init(frame, target="y", path=db, test_frac=0)
    before = db.read_bytes()
    word, number, sent = _interrupt(QUERY_INTERRUPTED, db)
    assert word == "interrupted", f"the query finished first, in {number} s: make the pool larger"
    assert float(number) - sent < 1.0
    assert db.read_bytes() == before


FIT_INTERRUPTED = textwrap.dedent(
    """
    import sys, time
    import al
    project = al.Project.open(sys.argv[1])
    print("started", flush=True)
    try:
        t = time.monotonic()
        project.query(batch=5, strategy="qbc:members=10", model="forest:trees=40000", seed=0)
        print("finished", time.monotonic() - t, flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
    """
)


def test_keyboard_interrupt_stops_the_model_fits_within_a_second_and_writes_nothing(tmp_path, price_2k):
    # A small pool and huge forests: the time goes into fitting (half a
    # minute uninterrupted), which checks the stop between trees.
    frame = pd.read_csv(price_2k, dtype={"loc2": str})
    frame.loc[1200:, "price"] = np.nan
    db = tmp_path / "f.db"
    al.Project.init(frame, target="price", path=db, test_frac=0)
    before = db.read_bytes()
    word, number, sent = _interrupt(FIT_INTERRUPTED, db)
    assert word == "interrupted", f"the query finished first, in {number} s: make the forests larger"
    assert float(number) - sent < 1.0
    assert db.read_bytes() == before


def test_a_wrong_keyword_is_refused_against_the_public_call_with_what_it_takes(tmp_path, price_2k):
    with pytest.raises(TypeError) as refused:
        al.Project.init(price_2k, target="price", path=tmp_path / "p.db", id_cols_typo=["loc1"])
    message = str(refused.value)
    assert message.startswith("Project.init() got an unexpected keyword argument 'id_cols_typo'; it takes: ")
    assert "id_col" in message and "ProjectHandle" not in message
    assert not (tmp_path / "p.db").exists()
    project = al.Project.init(price_2k, target="price", path=tmp_path / "p.db", id_col="loc2", test_frac=0)
    assert project.status()["columns"][1]["kind"] == "id"
    with pytest.raises(TypeError, match=r"^Project.query\(\) got an unexpected keyword argument 'batch_size'; it takes: batch, strategy"):
        project.query(batch_size=5)
    with pytest.raises(TypeError, match=r"^al.query\(\) got an unexpected keyword argument 'batch'; it takes: X, y, batch_size"):
        al.query(np.zeros((4, 2)), batch=2)
    # The old name still works, alone.
    old = al.Project.init(price_2k, target="price", path=tmp_path / "q.db", id_cols=["loc2"])
    assert old.status()["columns"][1]["kind"] == "id"
    with pytest.raises(TypeError, match="not both"):
        al.Project.init(price_2k, target="price", path=tmp_path / "r.db", id_col="loc2", id_cols=["loc2"])
