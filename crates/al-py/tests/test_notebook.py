"""examples/quickstart.ipynb runs headless, as committed (with its outputs)."""

import json
import shutil

import nbclient
import nbformat

from conftest import FIXTURES, ROOT

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def test_the_quickstart_notebook_runs(tmp_path):
    (tmp_path / "examples").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "examples")
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    notebook = nbformat.read(tmp_path / "examples" / NOTEBOOK.name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "examples")}}
    )
    client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # The report and the simulation draw their curves inline.
    html = [o["data"].get("text/html", "") for o in outputs if o.output_type == "execute_result"]
    assert sum("<svg" in h for h in html) >= 2
    assert (tmp_path / "examples" / "quickstart.db").exists()


def test_the_committed_notebook_carries_its_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(c["outputs"] for c in code), "run the notebook and commit it with its outputs"
