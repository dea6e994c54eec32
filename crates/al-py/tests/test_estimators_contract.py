"""The strategy contract with a user's estimator: every strategy that
``al.strategies(model=est)`` lists keeps the promises al's own models are
held to (unique picks from the pool, best first, the same seed the same
picks, bad parameters refused with the project untouched), and a
committee of clones picks what a NumPy reference says it should."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import al
from conftest import FIXTURES


def estimator():
    return make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=5))


def project(tmp_path, labeled=60):
    frame = pd.read_csv(FIXTURES / "price_2k.csv", dtype={"loc2": str}).head(300)
    frame.loc[labeled:, "price"] = np.nan
    return al.Project.init(frame, target="price", path=tmp_path / "p.db", test_frac=0)


LISTED = al.strategies(model=estimator())


@pytest.mark.parametrize("strategy", list(LISTED.name))
def test_every_listed_strategy_keeps_the_contract_with_a_users_estimator(tmp_path, strategy):
    p = project(tmp_path)
    pool = set(p.export().query("price.isna()").row_id)
    first = p.query(batch=6, strategy=strategy, model=estimator(), seed=5)
    again = p.query(batch=6, strategy=strategy, model=estimator(), seed=5, include_pending=True)
    assert len(first) == 6 and first.row_id.is_unique
    assert set(first.row_id) <= pool, "picks come from the unlabeled rows"
    assert list(first.row_id) == list(again.row_id), "the same seed gives the same picks"
    assert list(first.score) == list(again.score)
    scores = first.score.to_numpy()
    assert np.all(np.diff(scores) <= 0), f"best first: {scores}"


@pytest.mark.parametrize("strategy", list(LISTED.name))
def test_every_listed_strategy_refuses_an_unknown_parameter_and_writes_nothing(tmp_path, strategy):
    p = project(tmp_path)
    before = (tmp_path / "p.db").read_bytes()
    with pytest.raises(ValueError, match="nope"):
        p.query(batch=6, strategy=f"{strategy}:nope=1", model=estimator(), seed=5)
    assert (tmp_path / "p.db").read_bytes() == before


class RecordedKnn(KNeighborsRegressor):
    """A k-nearest-neighbours regressor that keeps what each copy was
    fitted on (in the class: al fits clones, not this object)."""

    fits = []

    def fit(self, X, y):
        RecordedKnn.fits.append((np.array(X, copy=True), np.array(y, copy=True)))
        return super().fit(X, y)


def knn_by_hand(train_x, train_y, x, k):
    """Mean target of the k nearest training rows (Euclidean; a row drawn
    twice by a bootstrap counts twice, as in scikit-learn)."""
    distances = ((x[:, None, :] - train_x[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return train_y[nearest].mean(axis=1)


def test_qbc_with_a_deterministic_estimator_picks_what_numpy_says(tmp_path):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 3))
    y = np.full(200, np.nan)
    labeled = np.arange(40)
    y[labeled] = X[labeled, 0] * 2 + np.sin(3 * X[labeled, 1])
    RecordedKnn.fits = []
    picked, utilities = al.query(X, y, batch_size=5, strategy="qbc:members=4",
                                 model=RecordedKnn(n_neighbors=3), seed=3, return_utilities=True)
    # The model on every label (fitted first: qbc asks it for a spread of its
    # own, which a k-NN has not), then the 4 members, each on a bootstrap
    # resample of the labeled rows, as al scaled them.
    assert len(RecordedKnn.fits) == 5
    (scaled_labeled, _), members = RecordedKnn.fits[0], RecordedKnn.fits[1:]
    for member_x, _ in members:
        assert len(member_x) == 40 and len(np.unique(member_x, axis=0)) < 40, "a resample draws rows twice"
    # al's scaling (mean-imputed, z-scored over every row) is an affine map
    # per column; the labeled rows' images give it back for the pool.
    scale = (scaled_labeled[1] - scaled_labeled[0]) / (X[1] - X[0])
    shift = scaled_labeled[0] - X[0] * scale
    pool = np.arange(40, 200)
    scaled_pool = X[pool] * scale + shift
    predictions = np.stack([knn_by_hand(mx, my, scaled_pool, 3) for mx, my in members])
    variance = predictions.var(axis=0)  # population variance across members
    expected = pool[np.argsort(-variance, kind="stable")[:5]]
    assert list(picked) == list(expected)
    np.testing.assert_allclose(utilities, np.sort(variance)[::-1][:5], rtol=1e-9)


def test_an_estimator_failing_in_the_third_member_is_raised_naming_that_member(tmp_path):
    class ThirdFails(Ridge):
        calls = 0

        def fit(self, X, y):
            ThirdFails.calls += 1
            # The model on every label is fitted first, then the members.
            if ThirdFails.calls == 4:
                raise FloatingPointError("member diverged")
            return super().fit(X, y)

    p = project(tmp_path)
    before = p.export()
    file_before = (tmp_path / "p.db").read_bytes()
    with pytest.raises(FloatingPointError, match="member diverged") as raised:
        p.query(batch=5, strategy="qbc:members=5", model=ThirdFails(), seed=0)
    notes = getattr(raised.value, "__notes__", [])
    assert any("ThirdFails.fit on 60 rows, committee member" in n and "of 5" in n for n in notes), notes
    assert (tmp_path / "p.db").read_bytes() == file_before
    pd.testing.assert_frame_equal(p.export(), before)


def test_a_fold_that_fails_is_named_as_that_fold(tmp_path):
    class SecondFoldFails(Ridge):
        calls = 0

        def fit(self, X, y):
            SecondFoldFails.calls += 1
            if SecondFoldFails.calls == 2:
                raise OverflowError("fold blew up")
            return super().fit(X, y)

    p = project(tmp_path)
    with pytest.raises(OverflowError, match="fold blew up") as raised:
        p.evaluate(SecondFoldFails(), seed=0)
    notes = getattr(raised.value, "__notes__", [])
    assert any("cross-validation fold" in n and "of 5" in n for n in notes), notes
