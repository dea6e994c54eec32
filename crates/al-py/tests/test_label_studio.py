"""Label Studio from Python: tasks and the labeling interface out, its
JSON export in (the export was recorded from a real Label Studio 1.23)."""

import json

import pytest

import al
from conftest import FIXTURES, cli


def test_to_label_studio_writes_every_unlabeled_row_and_the_interface(tmp_path, price_partial):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "p.al")
    project.query(batch=4, seed=3, out=tmp_path / "b.csv")
    tasks, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    assert project.to_label_studio(tasks=tasks, config=config) == 300
    written = json.loads(tasks.read_text())
    assert len(written) == 300
    scored = sorted(written, key=lambda t: -t["predictions"][0]["score"])
    batch = [int(r) for r in (tmp_path / "b.csv").read_text().splitlines()[1:] for r in [r.split(",")[0]]]
    assert [t["data"]["row_id"] for t in scored[:4]] == batch
    assert [t["predictions"][0]["score"] for t in scored[:5]] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert '<Number name="price" toName="row"' in config.read_text()
    with pytest.raises(TypeError, match="needs tasks= or config="):
        project.to_label_studio()


def test_label_takes_a_label_studio_export(tmp_path, price_partial):
    project = al.Project.init(price_partial, target="price", path=tmp_path / "p.al")
    done = project.label(FIXTURES / "label_studio" / "export.json", evaluate=False)
    assert done["new"] == 1
    history = cli("history", "206", project=tmp_path / "p.al", json_out=True).parsed
    assert [(e["value"], e["note"]) for e in history["labels"]] == [(1250.0, "label-studio annotation 1")]
