"""Numbers to decide with, from Python: conformal intervals on the query and
predict frames, the forecast and the stopping advice, refused options with
the CLI's messages."""

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import al
from conftest import FIXTURES, cli


def partly_labeled(path, labeled):
    """price_2k.csv with its first `labeled` prices kept; the rest's truth."""
    frame = pd.read_csv(FIXTURES / "price_2k.csv", dtype={"loc2": str})
    truth = frame["price"].copy()
    frame.loc[labeled:, "price"] = math.nan
    frame.to_csv(path, index=False)
    return truth


def answer(batch, truth):
    return pd.DataFrame({"row_id": batch.row_id, "price": truth.to_numpy()[batch.row_id.to_numpy() - 1]})


def test_query_and_predict_frames_carry_conformal_bounds_around_the_guess(tmp_path):
    partly_labeled(tmp_path / "p.csv", 100)
    project = al.Project.init(tmp_path / "p.csv", target="price", path=tmp_path / "p.db")
    batch = project.query(batch=5, seed=3, model="forest:trees=30", coverage="80%")
    assert batch.attrs["intervals"] == "80 % intervals: normalized jackknife+-after-bootstrap, 30 members"
    assert ((batch.lower <= batch.prediction) & (batch.prediction <= batch.upper)).all()
    assert (batch.upper > batch.lower).all()
    pool = project.predict(pool=True, model="forest:trees=30", coverage=0.8)
    assert list(pool.columns) == ["row_id", "prediction", "lower", "upper", "spread", "label"]
    assert ((pool.lower <= pool.prediction) & (pool.prediction <= pool.upper)).all()
    # The same bounds the CLI writes for the same model, level and seed.
    done = cli("predict", "--pool", "--model", "forest:trees=30", "--coverage", "0.8", project=tmp_path / "p.db")
    rows = [line.split(",") for line in done.stdout.splitlines()[1:]]
    assert [float(r[2]) for r in rows] == pool.lower.tolist()
    assert [float(r[3]) for r in rows] == pool.upper.tolist()


def test_too_few_labels_for_the_level_asked_is_the_clis_refusal(tmp_path):
    partly_labeled(tmp_path / "p.csv", 5)
    project = al.Project.init(tmp_path / "p.csv", target="price", path=tmp_path / "p.db")
    done = cli("predict", "--pool", "--coverage", "0.95", project=tmp_path / "p.db", check=False)
    assert done.returncode != 0
    with pytest.raises(ValueError) as refused:
        project.predict(pool=True, coverage=0.95)
    assert str(refused.value) == (
        "95 % intervals need at least 19 labeled rows; there are 5: label 14 more, or ask for a lower coverage"
    )
    assert done.stderr.strip().splitlines()[0] == f"error: {refused.value}"
    # Not asked for: NaN bounds and the reason, predictions all the same.
    quiet = project.predict(pool=True)
    assert quiet.lower.isna().all() and quiet.prediction.notna().all()
    assert quiet.attrs["intervals"].startswith("no intervals: 90 % intervals need at least 9")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["0", "1", "90", "x", "100%", "-5%", "1e-300", "0.999999"])))
def test_a_bad_coverage_is_refused_by_name_as_the_cli_refuses_it(tmp_path, level):
    db = tmp_path / "base.db"
    if not db.exists():
        cli("init", FIXTURES / "price_partial.csv", "--target", "price", project=db)
    text = str(level)
    done = cli("predict", f"--coverage={text}", project=db, check=False)
    if done.returncode == 0:
        al.Project.open(db).predict(coverage=level)  # accepted by both
        return
    with pytest.raises(ValueError) as refused:
        al.Project.open(db).predict(coverage=level)
    message = str(refused.value)
    # Out of range, or a level this project has too few labels for.
    assert message == "coverage: expected a level strictly between 0 and 1, such as 0.9 or 90%" or (
        "intervals need at least" in message and message.endswith("or ask for a lower coverage")
    )
    assert message in done.stderr


def test_the_forecast_comes_with_enough_rounds_and_the_advice_follows_the_threshold(tmp_path):
    truth = partly_labeled(tmp_path / "p.csv", 40)
    project = al.Project.init(tmp_path / "p.csv", target="price", path=tmp_path / "p.db")
    for r in range(3):
        project.label(answer(project.query(batch=20, seed=r), truth))
    early = project.forecast()
    assert early.empty and early.attrs["need_more"] == 1
    assert early.attrs["advice"]["decision"] == "continue"
    project.label(answer(project.query(batch=20, seed=3), truth))
    forecast = project.forecast()
    assert list(forecast.metric) == ["mae"] * 3 + ["rmse"] * 3
    assert list(forecast.labels) == [140, 160, 220] * 2
    assert ((forecast.low <= forecast.expected) & (forecast.expected <= forecast.high)).all()
    # No test rows: the curve is the pool estimate, on which the rule asks
    # for its signal three rounds running (one forecast so far).
    report = project.report(stop_below="99%")
    assert report.attrs["advice"]["decision"] == "continue"
    assert "waits for 3 such rounds running (1 so far)" in report.attrs["advice"]["reason"]
    for r in (4, 5):
        project.label(answer(project.query(batch=20, seed=r), truth))
    report = project.report()
    assert report.attrs["advice"]["decision"] == "stop", report.attrs["advice"]
    assert "stop" in report._repr_html_()
    assert project.status()["advice"]["stop_below"] == 0.99
    # The CLI reads the same stored threshold and forecast.
    assert cli("status", project=tmp_path / "p.db", json_out=True).parsed["advice"] == project.status()["advice"]
    with pytest.raises(ValueError, match="stop_below: expected a share"):
        project.report(stop_below=0)


def test_forecast_curve_fits_any_curve_and_refuses_a_ragged_one():
    labels = [20 + 10 * k for k in range(11)]
    errors = [40 * n ** -0.6 + 2.5 for n in labels]
    forecast = al.forecast_curve(labels, errors, batch=10, batches=[10])
    assert abs(forecast["curve"]["b"] - 0.6) < 0.01
    (ahead,) = forecast["ahead"]
    assert ahead["labels"] == 220
    assert abs(ahead["expected"] / (40 * 220 ** -0.6 + 2.5) - 1) < 1e-3
    assert al.forecast_curve(labels[:3], errors[:3], batch=10) is None
    with pytest.raises(ValueError, match="errors: 10 values for 11 label counts"):
        al.forecast_curve(labels, errors[:10], batch=10)
    with pytest.raises(ValueError, match="batch: expected a whole number >= 1"):
        al.forecast_curve(labels, errors, batch=0)


def test_advise_curve_is_the_rule_report_applies():
    labels = [20 + 20 * k for k in range(8)]
    plateau = [10 / n + 2 for n in labels]
    assert al.advise_curve(labels, plateau, batch=20)["decision"] == "stop"
    noisy = [e * (1.08 if k % 2 == 0 else 0.92) for k, e in enumerate(plateau)]
    waiting = al.advise_curve(labels, noisy, batch=20)
    assert waiting["decision"] == "continue" and "not sure yet" in waiting["reason"]
    assert al.advise_curve(labels[:3], plateau[:3], batch=20)["reason"].startswith("too few rounds")
    with pytest.raises(ValueError, match="stop_below: expected a share"):
        al.advise_curve(labels, plateau, batch=20, stop_below="0")


def test_audit_rows_come_last_marked_and_reach_the_report(tmp_path):
    truth = partly_labeled(tmp_path / "p.csv", 0)
    project = al.Project.init(tmp_path / "p.csv", target="price", path=tmp_path / "p.db")
    for r in range(3):
        batch = project.query(batch=20, seed=r, model="forest:trees=30", audit="25%")
        assert list(batch.audit) == [False] * 15 + [True] * 5
        assert batch.score[batch.audit].isna().all()
        project.label(answer(batch, truth))
    report = project.report()
    assert list(report.method) == ["pool_estimate"] * 3
    assert report.audit_mae.iloc[-1] > 0
    with pytest.raises(ValueError, match=r"audit: expected a share of the batch in \[0, 1\)"):
        project.query(batch=5, audit=1.5)


def test_advise_curve_applies_the_estimates_rule_when_asked():
    noise = [0.0, 0.03, -0.02, 0.025, -0.03, 0.02, -0.025, 0.03, -0.02, 0.025, -0.03, 0.02, -0.01, 0.015, -0.015, 0.01]
    labels = [20 + 20 * k for k in range(len(noise))]
    errors = [(10 + 40 / n) * (1 + e) for n, e in zip(labels, noise)]
    held_out = [al.advise_curve(labels[:k], errors[:k], batch=20)["decision"] for k in range(4, len(labels) + 1)]
    assert "stop" not in held_out
    estimated = [al.advise_curve(labels[:k], errors[:k], batch=20, estimated=True) for k in range(4, len(labels) + 1)]
    first = next(i for i, a in enumerate(estimated) if a["decision"] == "stop")
    assert estimated[first]["reason"].endswith(", 3 rounds running")
    assert "waits for 3 such rounds running" in estimated[first - 1]["reason"]
