"""The walkthrough notebook runs top to bottom and keeps its plots.

The committed notebook carries its outputs so a reader on GitHub sees results; it is re-saved with
`.venv/bin/jupyter execute --inplace notebooks/walkthrough.ipynb`. Here it is executed in memory,
never written back.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


def _mime_types(nb: nbformat.NotebookNode) -> set[str]:
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    return {mime for out in outputs for mime in out.get("data", {})}


def test_committed_notebook_carries_its_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "saved half-run or out of order"
    assert not [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert "image/png" in _mime_types(nb)


def test_notebook_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A `python3` kernel on this very interpreter: JUPYTER_PATH comes before the user's and the
    # system's kernel folders, so another Python's kernel of that name cannot be picked up.
    write_kernel_spec(tmp_path / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    # The kernel imports this checkout's packages, whatever the environment has installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:  # so the plots checked below are this run's, not the saved ones
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        startup_timeout=120,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any failing cell

    assert "image/png" in _mime_types(nb)
