"""The documentation site (mkdocs + mkdocstrings): docs/theory.md, docs/screen/ and the API reference generated
from the docstrings build without a warning, offline (the built-in theme ships its assets)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strict_and_offline(tmp_path):
    import mkdocstrings  # noqa: F401 - a test dependency (pyproject [test]); missing means a broken set-up
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                       capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING" not in r.stderr, r.stderr
    site = tmp_path / "site"
    api = (site / "api.html").read_text()
    for name in ("nhm.api.analyze", "nhm.api.kspace", "nhm.api.classify", "nhm.api.manybody", "nhm.api.screen",
                 "nhm.api.irreps", "nhm.api.ebr", "AnalysisResult", "KSpaceResult", "schema_version"):
        assert name in api, name
    assert (site / "theory.html").exists() and (site / "screen" / "index.html").exists()
    assert (site / "screen" / "periodic-table.png").exists()
    for page in site.rglob("*.html"):  # nothing the pages load comes from the network
        text = page.read_text(errors="replace")
        loaded = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert not loaded, (page.name, loaded)
