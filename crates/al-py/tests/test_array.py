"""al.query on arrays: scikit-activeml's and modAL's call shapes, the same
picks as a project made from the same table."""

import numpy as np
import pandas as pd
import pytest

import al
from conftest import FIXTURES, cli


def diabetes_with_holes(labeled_every=9):
    frame = pd.read_csv(FIXTURES / "diabetes.csv")
    x = frame.drop(columns="target").to_numpy(dtype=float)
    y = frame["target"].to_numpy(dtype=float).copy()
    y[np.arange(len(y)) % labeled_every != 0] = np.nan
    return frame, x, y


def cli_picks(tmp_path, table, strategy):
    """The rows `al-cli query` picks (batch 6, seed 5) on a project made
    from `table`, with its `target` column's NaN as the pool."""
    table.to_csv(tmp_path / "d.csv", index=False, na_rep="")
    db = tmp_path / "d.db"
    cli("init", tmp_path / "d.csv", "--target", "target", "--test-frac", "0", project=db)
    args = ["query", "--batch", "6", "--seed", "5", "--out", tmp_path / "b.csv"]
    if strategy:
        args += ["--strategy", strategy]
    return cli(*args, project=db, json_out=True).parsed["rows"]


@pytest.mark.parametrize("strategy", [None, "qbc", "gsx", "igs", "committee", "random"])
def test_array_picks_equal_a_projects_picks(tmp_path, strategy):
    frame, x, y = diabetes_with_holes()
    expected = cli_picks(tmp_path, frame.assign(target=y), strategy)
    picked, utilities = al.query(x, y, batch_size=6, strategy=strategy, seed=5, return_utilities=True)
    # Row ids count the file's rows from 1.
    assert list(picked + 1) == [r["row_id"] for r in expected]
    np.testing.assert_allclose(utilities, [r["score"] for r in expected], rtol=1e-9)


@pytest.mark.parametrize("strategy", [None, "gsx"])
def test_cells_near_the_largest_float_scale_as_a_project_does(tmp_path, strategy):
    # Column 0 spans ±f64::MAX: its plain mean and spread overflow, and both
    # sides fall back to the same scaled sums.
    frame, x, y = diabetes_with_holes()
    x[:, 0] = x[:, 0] / np.abs(x[:, 0]).max() * np.finfo(float).max
    table = pd.DataFrame(x, columns=frame.columns.drop("target")).assign(target=y)
    expected = cli_picks(tmp_path, table, strategy)
    picked = al.query(x, y, batch_size=6, strategy=strategy, seed=5)
    assert list(picked + 1) == [r["row_id"] for r in expected]


def test_modal_shape_and_data_frames():
    frame, x, y = diabetes_with_holes()
    cold = al.query(x, batch_size=4, seed=1)  # no labels at all: the cold-start strategy
    assert cold.dtype == np.int64 and len(set(cold.tolist())) == 4
    from_frame = al.query(frame.drop(columns="target"), y, batch_size=4, seed=1)
    assert list(from_frame) == list(al.query(x, y, batch_size=4, seed=1))
    assert np.isnan(y[from_frame]).all()
    fortran = np.asfortranarray(x)
    assert list(al.query(fortran, y, batch_size=4, seed=1)) == list(from_frame)


def test_bad_arrays_are_refused_with_their_names():
    _, x, y = diabetes_with_holes()
    with pytest.raises(ValueError, match="y: 10 values for the 442 rows of X"):
        al.query(x, y[:10])
    with pytest.raises(ValueError, match="batch_size: expected a whole number >= 1"):
        al.query(x, y, batch_size=0)
    bad = x.copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="X: row 3, column 2: infinite value"):
        al.query(bad, y)
    # The limit a project puts on targets: their squares must not overflow
    # (the forest's spread was NaN, and the default picked one row twice).
    huge = np.where(np.isnan(y), np.nan, 1e200)
    with pytest.raises(ValueError, match=r"y: row 0: beyond ±1e150, too large to learn from"):
        al.query(x, huge)
    text = pd.DataFrame({"age": x[:, 0], "sex": np.where(x[:, 1] > 0, "f", "m")})
    with pytest.raises(ValueError, match=r"X: column 'sex' holds (object|str), not numbers"):
        al.query(text, y)
    with pytest.raises(ValueError, match="X: expected numbers: could not convert string to float"):
        al.query(np.array([["a", "b"]] * len(y)), y)
    with pytest.raises(ValueError, match="every row is labeled"):
        al.query(x, np.zeros(len(x)))
    with pytest.raises(ValueError, match="unknown strategy"):
        al.query(x, y, strategy="nope")
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        al.query(x[:, 0], y)
