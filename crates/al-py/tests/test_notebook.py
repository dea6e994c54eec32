"""The notebooks of examples/ run headless, as committed (with their outputs)."""

import json
import shutil

import nbclient
import nbformat
import pytest

from conftest import FIXTURES, ROOT

NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def run(notebook_path, tmp_path):
    """Runs a copy of the notebook from a scratch examples/ beside the fixtures."""
    (tmp_path / "examples").mkdir()
    shutil.copy(notebook_path, tmp_path / "examples")
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    notebook = nbformat.read(tmp_path / "examples" / notebook_path.name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "examples")}}
    )
    client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs


def test_the_quickstart_notebook_runs(tmp_path):
    outputs = run(ROOT / "examples" / "quickstart.ipynb", tmp_path)
    # The report and the simulation draw their curves inline.
    html = [o["data"].get("text/html", "") for o in outputs if o.output_type == "execute_result"]
    assert sum("<svg" in h for h in html) >= 2
    assert (tmp_path / "examples" / "quickstart.db").exists()


def test_the_own_model_notebook_runs_lightgbm_and_a_pipeline(tmp_path):
    outputs = run(ROOT / "examples" / "your_own_model.ipynb", tmp_path)
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "python.lightgbm.sklearn.LGBMRegressor" in text
    assert "python.sklearn.pipeline.Pipeline" in text
    assert "CV+, 5 folds" in text


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_the_committed_notebooks_carry_their_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(c["outputs"] for c in code), "run the notebook and commit it with its outputs"
