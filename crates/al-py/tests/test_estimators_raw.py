"""``raw=True``: your own estimator (a ``Pipeline`` with its own encoders)
works on the table as read, not on al's encoding of it."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

import al
from conftest import FIXTURES

NUMERIC = ["loc1", "para1", "para2", "para3", "para4"]
TEXT = ["dow"]


def source(tmp_path, labeled=60):
    """400 rows with an id column, a column dropped by name, text and
    missing cells; the first `labeled` rows labeled."""
    frame = pd.read_csv(FIXTURES / "price_2k.csv").head(400).drop(columns=["loc2"])
    frame.insert(0, "ref", [f"r{i}" for i in range(len(frame))])
    frame["note"] = "n"
    frame.loc[::7, "para3"] = np.nan
    frame.loc[3::11, "dow"] = np.nan
    frame.loc[labeled:, "price"] = np.nan
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def project(tmp_path, labeled=60):
    return al.Project.init(source(tmp_path, labeled), "price", tmp_path / "p.db", id_col="ref",
                           drop=["note"], test_frac=0)


def pipeline(seen=None):
    """Imputes and one-hot encodes by column name, then a ridge; `seen`
    collects every frame the pipeline is given."""
    steps = []
    if seen is not None:
        steps.append(FunctionTransformer(lambda X: (seen.append(X.copy()), X)[1]))
    steps += [
        make_column_transformer(
            (SimpleImputer(add_indicator=True), NUMERIC),
            (make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                           OneHotEncoder(handle_unknown="ignore")), TEXT),
        ),
        Ridge(alpha=1.0),
    ]
    return make_pipeline(*steps)


def test_a_raw_pipeline_gets_the_cells_as_read_and_predicts_as_if_fitted_by_hand(tmp_path):
    p = project(tmp_path)
    seen = []
    predicted = p.predict(model=pipeline(seen), raw=True)
    # The same pipeline fitted by hand on the labeled rows as read.
    rows = pd.read_csv(source(tmp_path))
    rows.index = p.export().row_id.values
    labeled = rows[rows.price.notna()]
    by_hand = pipeline().fit(labeled[NUMERIC + TEXT], labeled.price)
    expected = by_hand.predict(rows.loc[predicted.row_id, NUMERIC + TEXT])
    np.testing.assert_allclose(predicted.prediction, expected, rtol=1e-12, atol=1e-9)
    # Every source column but the target and those left out by name, typed
    # the same in every call; missing cells stay missing, not imputed.
    fitted_on = seen[0]
    assert list(fitted_on.columns) == ["loc1", "para1", "dow", "para2", "para3", "para4"]
    assert all(frame[NUMERIC].dtypes.eq("float64").all() for frame in seen)
    assert fitted_on.index.name == "row_id" and len(fitted_on) == 60
    assert fitted_on.para3.isna().sum() == labeled.para3.isna().sum() > 0
    assert fitted_on.dow.isna().sum() == labeled.dow.isna().sum() > 0
    assert fitted_on.dow.dropna().isin(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]).all()


@pytest.mark.parametrize("strategy", list(al.strategies().name))
def test_every_strategy_picks_with_a_raw_pipeline(tmp_path, strategy):
    p = project(tmp_path)
    first = p.query(batch=5, strategy=strategy, model=pipeline(), raw=True, seed=3, include_pending=True)
    again = p.query(batch=5, strategy=strategy, model=pipeline(), raw=True, seed=3, include_pending=True)
    assert len(first) == 5 and first.row_id.is_unique
    assert (first.row_id > 60).all(), "picks come from the pool"
    assert list(first.row_id) == list(again.row_id)
    assert first.prediction.notna().all()


class Scribbler:
    """A pipeline that writes into the X it is given after using it, as
    some users' feature code does; what each copy was given goes to the
    class's `seen` (a clone's own attributes are copies)."""

    seen = []

    def __init__(self):
        self.inner = pipeline()

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.inner.fit(X, y)
        return self

    def predict(self, X):
        self.seen.append(X.para1.to_numpy().copy())
        out = self.inner.predict(X)
        X["para1"] = -1.0
        return out


def test_members_read_the_same_rows_each_from_a_copy_of_their_own(tmp_path):
    p = project(tmp_path)
    seen = Scribbler.seen = []
    mutated = p.query(batch=5, strategy="qbc:members=3", model=Scribbler(), raw=True, seed=4)
    # Every member scoring a chunk saw its cells as read, whatever the one
    # before it wrote; so the picks are those of the same pipeline unharmed.
    # (The pool's 340 rows: three members, and the model fitted on every
    # label for the guesses.)
    chunks = [x for x in seen if len(x) == 340]
    assert len(chunks) == 4
    assert all((x == chunks[0]).all() and (x != -1.0).all() for x in chunks)
    reopened = al.Project.open(tmp_path / "p.db")
    clean = reopened.query(batch=5, strategy="qbc:members=3", model=pipeline(), raw=True, seed=4,
                           include_pending=True)
    assert list(mutated.row_id) == list(clean.row_id)


def test_a_round_made_with_a_raw_pipeline_records_it(tmp_path):
    p = project(tmp_path)
    p.query(batch=3, strategy="qbc", model=pipeline(), raw=True, seed=0)
    with sqlite3.connect(tmp_path / "p.db") as conn:
        model, params = conn.execute("SELECT model, params FROM rounds ORDER BY round DESC").fetchone()
    assert model == "python.sklearn.pipeline.Pipeline"
    assert json.loads(params)["model_params"]["raw"] is True


def test_evaluate_and_simulate_take_a_raw_pipeline(tmp_path):
    p = project(tmp_path)
    compared = p.evaluate([pipeline(), "linear"], raw=True)
    assert compared.error.isna().all() and (compared.mae > 0).all()
    sim = p.simulate(["qbc"], models=pipeline(), raw=True, init=20, batch=10, rounds=2, repeats=1,
                     progress=False)
    assert (sim.curves.mae > 0).all()


def test_rows_without_source_cells_are_refused_with_what_to_do(tmp_path):
    p = project(tmp_path)
    before = p.export()
    with pytest.raises(ValueError, match="raw=True: these rows have no source cells"):
        p.predict(source(tmp_path), model=pipeline(), raw=True)
    pd.testing.assert_frame_equal(p.export(), before)


def test_raw_asks_for_an_estimator(tmp_path):
    p = project(tmp_path)
    with pytest.raises(ValueError, match="raw=True: only for your own estimator"):
        p.query(batch=3, raw=True)
    with pytest.raises(ValueError, match="raw=True: only for your own estimator"):
        al.query(np.zeros((5, 2)), model="linear", raw=True)


def test_array_query_hands_a_raw_estimator_the_callers_own_rows(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"], index=np.arange(200) * 10)
    y = X.to_numpy() @ np.array([1.0, -2.0, 0.5])
    y[20:] = np.nan
    seen = []
    spy = make_pipeline(FunctionTransformer(lambda F: (seen.append(F), F)[1]), Ridge())
    picked = al.query(X, y, batch_size=5, strategy="qbc", model=spy, raw=True)
    assert len(picked) == 5 and (picked >= 20).all()
    assert all(list(frame.columns) == ["a", "b", "c"] for frame in seen)
    # Fitted on bootstrap draws of the labeled rows, unscaled, as given.
    fitted_on = seen[0]
    assert set(fitted_on.index) <= set(X.index[:20])
    pd.testing.assert_frame_equal(fitted_on, X.loc[fitted_on.index])
