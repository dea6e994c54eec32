"""Project.stream and Project.synthesize: the CLI's flows, called from
Python, pick and record exactly what al-cli does with the same seed."""

import csv
import shutil

import pandas as pd
import pytest

import al
from conftest import cli


def arriving_rows(price_2k, tmp_path, n=300):
    """Rows of the 2 000-row fixture the project has not seen, unlabeled."""
    frame = pd.read_csv(price_2k, dtype={"loc2": str}).tail(n).reset_index(drop=True)
    frame["price"] = float("nan")
    path = tmp_path / "arriving.csv"
    frame.to_csv(path, index=False)
    return frame, path


def batch_ids(path):
    with open(path, newline="") as f:
        return [int(row["row_id"]) for row in csv.DictReader(f)]


def test_stream_queries_what_al_cli_stream_queries_and_adds_every_row(tmp_path, price_partial, price_2k):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "s.db")
    shutil.copy(tmp_path / "s.db", tmp_path / "c.db")
    frame, path = arriving_rows(price_2k, tmp_path)
    rows_before = project.status()["rows"]

    picked = project.stream(frame, "qbc", model="forest:trees=20", budget=0.2, seed=4)

    done = cli(
        "stream", path, "--strategy", "qbc", "--model", "forest:trees=20", "--budget", "0.2",
        "--seed", "4", "--out", tmp_path / "cli.csv", project=tmp_path / "c.db", json_out=True,
    )
    assert list(picked.row_id) == batch_ids(tmp_path / "cli.csv")
    assert picked.attrs["queried"] == done.parsed["queried"] == len(picked) > 0
    assert picked.attrs["seen"] == 300 and picked.attrs["added"] == 300
    assert picked.attrs["round"] == done.parsed["round"] == 1
    assert picked.attrs["strategy"].startswith("stream:qbc")
    assert list(picked["rank"]) == list(range(1, len(picked) + 1))
    assert ((picked.lower <= picked.prediction) & (picked.prediction <= picked.upper)).all()
    assert project.status()["rows"] == rows_before + 300
    assert picked.attrs["file"] is None  # no out=: no batch file


def test_stream_refuses_bad_rules_and_leaves_the_project_as_it_was(tmp_path, price_partial, price_2k):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "r.db")
    frame, _ = arriving_rows(price_2k, tmp_path, n=20)
    before = (tmp_path / "r.db").read_bytes()
    with pytest.raises(ValueError, match=r"budget: expected a share in \(0, 1\]"):
        project.stream(frame, budget=0.0)
    with pytest.raises(ValueError, match="give one of them, not both"):
        project.stream(frame, budget=0.5, threshold=1.0)
    with pytest.raises(ValueError, match="threshold: expected a finite number"):
        project.stream(frame, threshold=float("nan"))
    with pytest.raises(ValueError, match="unknown strategy"):
        project.stream(frame, "nope")
    assert (tmp_path / "r.db").read_bytes() == before


def test_synthesize_makes_the_rows_al_cli_makes(tmp_path, price_partial):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "y.db")
    shutil.copy(tmp_path / "y.db", tmp_path / "c.db")
    made = project.synthesize(3, "qbc", model="forest:trees=20", seed=2, out=tmp_path / "py.csv")
    cli("synthesize", "--n", "3", "--strategy", "qbc", "--model", "forest:trees=20", "--seed", "2",
        "--out", tmp_path / "cli.csv", project=tmp_path / "c.db")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert list(made.row_id) == batch_ids(tmp_path / "cli.csv")
    assert (made.row_id > 1_000_000_000).all() and made.attrs["round"] == 1
    before = (tmp_path / "y.db").read_bytes()
    with pytest.raises(ValueError, match="n: expected a whole number >= 1"):
        project.synthesize(0)
    assert (tmp_path / "y.db").read_bytes() == before


def test_a_stream_that_asks_keeps_each_answer_as_al_cli_stream_interactive_does(tmp_path, price_partial, price_2k):
    """The notebook's `stream --interactive`: the same rows asked, the same
    answers kept, as the CLI with the same answers typed in."""
    project = al.Project.init(price_partial, target="price", path=tmp_path / "s.db")
    shutil.copy(tmp_path / "s.db", tmp_path / "c.db")
    frame, path = arriving_rows(price_2k, tmp_path, n=30)
    answers = iter([100.0, None, 200.0, al.STOP])
    asked = []

    def ask(row):
        asked.append((row.name, row.attrs["utility"], row["loc2"]))
        assert set(row.index) == set(frame.columns) and row.attrs["prediction"] > 0
        return next(answers)

    options = dict(threshold=-1, refit_every=1, model="forest:trees=10", seed=2)
    outcome = project.stream(frame, ask=ask, **options)
    assert outcome == {"seen": 4, "queried": 4, "threshold": -1.0, "added": 4, "labeled": 2}
    typed = cli(
        "stream", path, "--interactive", "--threshold=-1", "--refit-every", "1",
        "--model", "forest:trees=10", "--seed", "2", project=tmp_path / "c.db",
        input="100\ns\n200\nq\n",
    )
    assert "streamed 4 row(s): 4 queried, 2 labeled" in typed.stdout
    # The same rows were asked, and the same labels kept, on both sides.
    assert [a[0] for a in asked] == [int(r.split("row ")[1].split(" ")[0]) for r in typed.stdout.split("\n") if r.startswith("row ")]
    mine, theirs = project.export(), al.Project.open(tmp_path / "c.db").export()
    pd.testing.assert_frame_equal(mine.drop(columns="label_source"), theirs.drop(columns="label_source"))
    labeled = mine.set_index("row_id").loc[[asked[0][0], asked[2][0]], "price"].tolist()
    assert labeled == [100.0, 200.0]
    assert asked[0][2] == frame["loc2"][0]  # the cells as the source had them


def test_ask_is_refused_its_bad_replies_and_calls_back_into_the_project(tmp_path, price_partial, price_2k):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "s.db", min=0)
    frame, _ = arriving_rows(price_2k, tmp_path, n=10)
    before = project.status()["rows"]
    with pytest.raises(TypeError, match=r"ask returned 'many'; expected a number \(the label\), None"):
        project.stream(frame, ask=lambda row: "many", threshold=-1)
    # The first row was added before it was asked about; nothing was labeled.
    assert project.status()["rows"] == before + 1
    with pytest.raises(ValueError, match=r"label: -5 for row \d+ is outside the project's bounds \[0, inf\]; the stream stopped there"):
        project.stream(frame, ask=lambda row: -5.0, threshold=-1)
    with pytest.raises(ValueError, match="ask: the callback cannot call the project its stream is adding to"):
        project.stream(frame, ask=lambda row: project.status(), threshold=-1)
    with pytest.raises(ValueError, match="refit_every: expected a whole number >= 1"):
        project.stream(frame, ask=lambda row: None, refit_every=0)
    # Refused before the arriving file is read: its wrong columns go unseen.
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="refit_every: expected a whole number >= 1"):
        project.stream(wrong, ask=lambda row: None, refit_every=0)
    with pytest.raises(ValueError, match="give out or ask, not both"):
        project.stream(frame, ask=lambda row: None, out=tmp_path / "b.csv")
    # KeyboardInterrupt from the callback ends the stream as it was raised.
    def interrupted(row):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project.stream(frame, ask=interrupted, threshold=-1)
    project.status()  # the project is usable after every refusal
