"""The main job `nhm analyze`: end to end on Nb with GPAW (slow), and its bad-input paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NHM = [sys.executable, "-m", "nhm.cli"]


@pytest.fixture(scope="module")
def nb_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("analyze")
    env = {**os.environ, "NHM_CACHE_DIR": str(work / "cache")}
    r = subprocess.run([*NHM, "analyze", "Nb", "--json", "nb.json", "--plot", "figs"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return work, env, r


@pytest.mark.slow
def test_analyze_nb_json_report_and_figures(nb_run):
    work, _, r = nb_run
    out = json.loads((work / "nb.json").read_text())
    assert out["space_group"] == 229 and out["wannier_centres"] == ["2a"]
    assert set(out["points"]) == {"GM", "H", "N", "P"}
    gm = {lv["irrep"]: lv["energy_eV"] for lv in out["points"]["GM"]}
    assert gm["GM5+"] == pytest.approx(0.37, abs=0.05) and gm["GM3+"] == pytest.approx(3.27, abs=0.05)
    for key in ("fermi_level_eV", "superconducting_bands", "usual_bands"):
        assert key in out
    assert out["superconducting_bands"], "Nb's R2 candidates (science.md §3) are missing"
    best = out["superconducting_bands"][0]
    assert best["reading"] == "R2" and 0.0 <= best["filling"] <= 1.0
    for ext in ("png", "svg"):
        assert (work / "figs" / f"Nb-bands.{ext}").stat().st_size > 1000
    assert "Superconducting-band candidates" in r.stdout


@pytest.mark.slow
def test_analyze_cached_rerun_is_identical(nb_run):
    work, env, _ = nb_run
    first = json.loads((work / "nb.json").read_text())
    r = subprocess.run([*NHM, "analyze", "Nb", "--json", "again.json", "--no-plot"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "cached DFT" in r.stdout
    again = json.loads((work / "again.json").read_text())
    assert again["points"] == first["points"]


@pytest.mark.parametrize(
    "args,needle",
    [(("Xx",), "'Xx'"), (("H",), "H"), (("nonexistent.cif",), "nonexistent.cif"), (("Nb", "--window", "-1"), "window")],
)
def test_analyze_bad_input(tmp_path, args, needle):
    r = subprocess.run([*NHM, "analyze", *args, "--no-plot"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "NHM_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr
    assert not list(Path(tmp_path).glob("**/*.tmp"))
