"""The worked notebook examples/nb_superconducting_band.ipynb: committed without outputs, and executed (nbmake) on
the session's DFT cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "nb_superconducting_band.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert all("import nhm.report" not in "".join(c["source"]) for c in code)  # the public API only


@pytest.mark.slow
def test_notebook_runs(dft_cache, tmp_path):
    """The notebook, cell by cell in a fresh kernel (nbmake), with NHM_CACHE_DIR on the session's cache (the kernel
    inherits it): Nb's analysis, the band figure, kspace on an 8³ mesh and the selection rule."""
    import nbmake  # noqa: F401 - a test dependency (pyproject [test]); missing means a broken set-up
    env = {**os.environ, "NHM_CACHE_DIR": str(dft_cache), "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", "--nbmake-timeout=3600",
         "--rootdir", str(tmp_path), str(NOTEBOOK)],
        capture_output=True, text=True, timeout=4000, env=env, cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-2000:]
    assert "1 passed" in r.stdout
