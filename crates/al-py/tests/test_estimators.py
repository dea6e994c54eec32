"""Your own model: any scikit-learn-style regressor given as ``model=`` drives
al's strategies, intervals, reports and records, as al's own models do."""

import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import al
from conftest import FIXTURES, cli


def project(tmp_path, labeled=60):
    frame = pd.read_csv(FIXTURES / "price_2k.csv", dtype={"loc2": str}).head(400)
    frame.loc[labeled:, "price"] = np.nan
    return al.Project.init(frame, target="price", path=tmp_path / "p.db", test_frac=0)


def rounds(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT model, params FROM rounds ORDER BY round").fetchall()


@pytest.mark.parametrize("strategy", [s for s in al.strategies().name])
def test_every_strategy_runs_with_a_users_estimator(tmp_path, strategy):
    p = project(tmp_path)
    est = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    batch = p.query(batch=5, strategy=strategy, model=est, seed=1)
    assert len(batch) == 5 and batch.row_id.is_unique
    assert (batch.row_id > 60).all(), "picks come from the pool"
    assert batch.prediction.notna().all()
    model, params = rounds(tmp_path / "p.db")[-1]
    assert model == "python.sklearn.pipeline.Pipeline"
    described = json.loads(params)["model_params"]
    assert described["class"] == "sklearn.pipeline.Pipeline"
    assert "steps" in described["params"]


def test_the_same_seed_gives_the_same_picks_and_random_state_follows_it(tmp_path):
    p = project(tmp_path)
    forest = RandomForestRegressor(n_estimators=10, random_state=123)
    first = p.query(batch=5, strategy="qbc", model=forest, seed=7, include_pending=True)
    again = p.query(batch=5, strategy="qbc", model=forest, seed=7, include_pending=True)
    assert list(first.row_id) == list(again.row_id)
    assert list(first.score) == list(again.score)
    other = p.query(batch=5, strategy="qbc", model=forest, seed=8, include_pending=True)
    assert list(other.score) != list(first.score)
    # The user's own object is never fitted: al fits copies.
    assert not hasattr(forest, "estimators_")


def test_predict_std_is_used_where_the_estimator_offers_it(tmp_path):
    p = project(tmp_path)
    ridge = p.query(batch=5, strategy="qbc", model=Ridge(), seed=0)
    assert ridge.spread.isna().all(), "Ridge has no spread of its own"
    gp = GaussianProcessRegressor(normalize_y=True)
    batch = p.query(batch=5, strategy="qbc", model=gp, seed=0, include_pending=True)
    assert (batch.spread > 0).all()
    # A Pipeline hands return_std to its last step.
    piped = make_pipeline(StandardScaler(), GaussianProcessRegressor(normalize_y=True))
    batch = p.query(batch=5, strategy="qbc", model=piped, seed=0, include_pending=True)
    assert (batch.spread > 0).all()


def test_intervals_reports_and_comparisons_take_the_estimator(tmp_path):
    p = project(tmp_path, labeled=80)
    knn = KNeighborsRegressor(n_neighbors=5)
    pool = p.predict(pool=True, model=knn, coverage=0.8)
    assert ((pool.lower <= pool.prediction) & (pool.prediction <= pool.upper)).all()
    assert pool.attrs["model"] == "python.sklearn.neighbors._regression.KNeighborsRegressor"
    report = p.evaluate(knn, seed=0)
    assert report["method"] == "pool_estimate" and report["mae"] > 0
    assert report["model"] == "python.sklearn.neighbors._regression.KNeighborsRegressor"
    compared = p.evaluate([knn, "forest:trees=20", LinearRegression()], seed=0)
    assert len(compared) == 3 and compared.mae.notna().all()
    assert {m for m in compared.model if m.startswith("python.")} == {
        "python.sklearn.neighbors._regression.KNeighborsRegressor",
        "python.sklearn.linear_model._base.LinearRegression",
    }
    # Best first, by the same seeded 5 folds for all.
    assert list(compared.mae) == sorted(compared.mae)
    with pytest.raises(ValueError, match="set_default: the best model"):
        p.evaluate([knn, LinearRegression()], seed=0, set_default=True)


def test_an_exception_inside_the_estimator_surfaces_as_itself_and_writes_nothing(tmp_path):
    class Broken(Ridge):
        def fit(self, X, y):
            raise ArithmeticError("the user's model failed")

    p = project(tmp_path)
    before = (tmp_path / "p.db").read_bytes()
    with pytest.raises(ArithmeticError, match="the user's model failed") as raised:
        p.query(batch=5, strategy="qbc", model=Broken(), seed=0)
    notes = getattr(raised.value, "__notes__", [])
    assert any(".fit on" in n and "Broken" in n for n in notes), notes
    assert (tmp_path / "p.db").read_bytes() == before
    # The project works on afterwards.
    assert len(p.query(batch=2, model=Ridge(), seed=0)) == 2


def test_a_wrong_prediction_length_is_refused_by_name(tmp_path):
    class Short(Ridge):
        def predict(self, X):
            return super().predict(X)[:-1]

    p = project(tmp_path)
    with pytest.raises(ValueError, match="predict returned"):
        p.query(batch=5, strategy="qbc", model=Short(), seed=0)


def test_a_model_that_is_not_an_estimator_is_refused():
    with pytest.raises(TypeError, match="model: expected a model name"):
        al.query(np.zeros((5, 2)), model=42)


def test_array_query_takes_the_estimator(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=200) * 0.1
    y[20:] = np.nan
    picked = al.query(X, y, batch_size=5, strategy="qbc", model=Ridge(), seed=0)
    assert len(picked) == 5 and (picked >= 20).all()
    again = al.query(X, y, batch_size=5, strategy="qbc", model=Ridge(), seed=0)
    assert list(picked) == list(again)


def test_the_cli_says_a_python_round_was_made_and_uses_its_own_model(tmp_path):
    p = project(tmp_path)
    p.query(batch=3, model=Ridge(), seed=0)
    done = cli("query", "--batch", "2", "--out", "-", project=tmp_path / "p.db")
    assert "used a Python estimator (python.sklearn.linear_model._ridge.Ridge)" in done.stderr
    assert rounds(tmp_path / "p.db")[-1][0].startswith("forest")
    # A model name al-cli cannot run is refused with what to do instead.
    refused = cli("query", "--model", "python.sklearn.linear_model._ridge.Ridge", "--out", "-",
                  project=tmp_path / "p.db", check=False)
    assert refused.returncode != 0
    assert "pass it again as model=... from Python" in refused.stderr


def test_a_simulation_runs_strategies_under_the_estimator(tmp_path):
    frame = pd.read_csv(FIXTURES / "price_2k.csv", dtype={"loc2": str}).head(300)
    p = al.Project.init(frame, target="price", path=tmp_path / "s.db", test_frac=0.2)
    sim = p.simulate(["qbc", "gsx"], models=Ridge(), init=20, batch=10, rounds=3, repeats=2, progress=False)
    assert {name.split(":")[0] for name in sim.table.strategy} == {"qbc", "gsx", "random"}
    assert (sim.curves.mae > 0).all()
    assert sim.config["model"] == "python.sklearn.linear_model._ridge.Ridge"


def test_a_scorer_ships_the_estimator_pickled_but_not_raw(tmp_path):
    frame = pd.read_csv(FIXTURES / "price_2k.csv").head(200).drop(columns=["loc2", "dow"])
    frame.insert(0, "id", np.arange(len(frame)))
    p = al.Project.init(frame, target="price", path=tmp_path / "p.db", id_col="id", test_frac=0)
    blob = p.scorer("id", 5, "qbc", model=Ridge(), seed=1)
    assert b"python-pickle" in blob
    # A raw pipeline's rows are looked up in the project: no worker has it.
    p._model(Ridge(), raw=True)
    with pytest.raises(al.AlError, match="Python estimator that pickles"):
        p.scorer("id", 5, "qbc", model="python.sklearn.linear_model._ridge.Ridge", seed=1)


def test_strategies_say_what_each_gets_from_the_users_model():
    listed = al.strategies(model=Ridge()).set_index("name")
    assert set(listed.model_use) <= {"none", "own_model", "predictions", "spread", "spread_else_forest", "refits"}
    assert listed.loc["qbc", "with_model"] == "the spread of a committee of bootstrap clones of Ridge (members=)"
    assert listed.loc["gsy", "with_model"] == "Ridge's predictions"
    assert listed.loc["random", "model_use"] == "none"
    assert listed.loc["tree-variance", "model_use"] == "own_model"
    gp = al.strategies(model=make_pipeline(StandardScaler(), GaussianProcessRegressor())).set_index("name")
    assert gp.loc["qbc", "with_model"] == "Pipeline's own predict(X, return_std=True)"
    assert gp.loc["var-reduction", "with_model"] == "Pipeline's own predict(X, return_std=True)"
    assert al.strategies(model="forest").set_index("name").loc["qbc", "with_model"] == "forest's own spread"
    assert "with_model" not in al.strategies().columns


def test_the_estimator_is_called_on_the_callers_thread_one_call_at_a_time(tmp_path):
    import threading

    seen, running = [], []

    class Watched(Ridge):
        def fit(self, X, y):
            running.append(1)
            assert len(running) == 1, "two estimator calls at once"
            seen.append(threading.get_ident())
            try:
                return super().fit(X, y)
            finally:
                running.pop()

        def predict(self, X):
            seen.append(threading.get_ident())
            return super().predict(X)

    p = project(tmp_path)
    p.query(batch=5, strategy="qbc:members=6", model=Watched(), seed=0)
    assert len(seen) >= 12 and set(seen) == {threading.get_ident()}
