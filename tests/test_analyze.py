"""The main job `nhm analyze`: end to end on Nb with GPAW (slow), and its bad-input paths."""

from __future__ import annotations

import json
from collections import Counter
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

NHM = [sys.executable, "-m", "nhm.cli"]


@pytest.fixture(scope="module")
def nb_run(tmp_path_factory, dft_cache):
    work = tmp_path_factory.mktemp("analyze")
    # as a user runs it: the zone stage on both cores (the suite's workers otherwise run one GPAW process each)
    env = {**os.environ, "NHM_CACHE_DIR": str(dft_cache), "NHM_ZONE_WORKERS": "2"}
    r = subprocess.run([*NHM, "analyze", "Nb", "--json", "nb.json", "--plot", "figs"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return work, env, r


@pytest.mark.slow
def test_analyze_nb_json_report_and_figures(nb_run):
    work, _, r = nb_run
    out = json.loads((work / "nb.json").read_text())
    assert out["space_group"] == 229 and out["wannier_centres"] == ["2a"] and out["formula"] == "Nb"
    assert set(out["points"]) == {"GM", "H", "N", "P"}
    gm = {lv["irrep"]: lv["energy_eV"] for lv in out["points"]["GM"]}
    assert gm["GM5+"] == pytest.approx(0.37, abs=0.05) and gm["GM3+"] == pytest.approx(3.27, abs=0.05)
    for key in ("fermi_level_eV", "superconducting_bands", "usual_bands", "verdict", "lines_of_symmetry"):
        assert key in out
    assert sorted(ln["name"] for ln in out["lines_of_symmetry"]) == ["GM-H", "GM-N", "GM-P", "H-N", "H-P", "N-P"]
    assert out["superconducting_bands"], "Nb's connected R2 candidates (docs/theory.md) are missing"
    best = out["superconducting_bands"][0]
    assert best["reading"] == "R2" and 0.0 <= best["filling"] <= 1.0 and best["width_eV"] > 0
    # the band through GM5+, H5+, N3+ and P4 spans at least its levels at the points
    levels = [lv["energy_eV"] for lv in best["levels"]]
    assert best["width_eV"] >= max(levels) - min(levels) - 1e-6
    v = out["verdict"]
    assert v["verdict"] in ("superconducting band", "no superconducting band") and v["criteria"]["filling_min"] == 0.25
    assert len(v["bands_at_fermi_level"]) == 2  # Γ octahedron/N ellipsoids and the jungle gym (science.md §7)
    # "narrow" against free electrons in the same lattice (bcc a = 3.30 Å: 13.8 eV at H), the others beside it
    refs = v["width_references"]
    assert refs["free_electron_eV"] == pytest.approx(13.8, abs=0.2) and refs["mu"] == 1
    assert refs["median_eV"] < refs["widest_eV"] < refs["free_electron_eV"]
    assert v["criteria"]["width_reference"] == "free-electron"
    # one band, its path variants with their measures, and the interval they span
    assert [b["band"] for b in out["superconducting_bands"]] == ["GM:GM5+ H:H5+ N:N3+ P:P4"]
    assert len(best["variants"]) == 24 and all(set(var["assignments"]) == {"lower", "upper"} for var in best["variants"])
    fillings = [a["filling"] for var in best["variants"] for a in var["assignments"].values()]
    assert best["filling_interval"] == pytest.approx([min(fillings), max(fillings)])
    assert best["filling_interval"][0] <= best["filling"] <= best["filling_interval"][1]
    assert best["width_ratios"]["free-electron"] == pytest.approx(best["width_eV"] / refs["free_electron_eV"])
    assert out["search_range_eV"]["range"][1] >= 6.0 and out["search_range_eV"]["excluded_levels"] == []
    for ext in ("png", "svg"):
        assert (work / "figs" / f"Nb-229-bands.{ext}").stat().st_size > 1000
    assert "Candidate superconducting bands" in r.stdout and "Verdict:" in r.stdout


@pytest.mark.slow
def test_nb_candidates_are_dft_eigenvalues_switching_at_allowed_crossings(nb_run):
    """Every connected candidate of Nb: its energy at each sample of each line is a GPAW eigenvalue there,
    and each branch switch sits at a crossing of two branches whose line spinor representations both
    contain the band's (the double-group rule)."""
    work, env, _ = nb_run
    from nhm.report.analyze import analyze

    an = analyze("Nb", cache_dir=env["NHM_CACHE_DIR"])
    assert an.from_cache
    lines = {lb.name: lb for lb in an.zone.lines}
    assert an.verdict.superconducting
    for band in an.verdict.superconducting:
        for p in (p for var in band.variants for p in var.paths):
            lb = lines[p.line]
            rows = np.arange(len(lb.s))[:, None]
            assert np.allclose(p.energies, lb.energies[rows, p.indices], atol=1e-6)
            for j in range(1, len(p.states)):
                if p.states[j] == p.states[j - 1]:
                    continue
                (old,) = set(p.states[j - 1]) - set(p.states[j])
                (new,) = set(p.states[j]) - set(p.states[j - 1])
                a, b = lb.branches[old], lb.branches[new]
                d0, d1 = a.energies[j - 1] - b.energies[j - 1], a.energies[j] - b.energies[j]
                assert d0 * d1 <= 0 or min(abs(d0), abs(d1)) < 2e-3
                sigma = Counter(dict(p.representation))
                for br in (a, b):  # the band's double-group line representation is in both branches
                    spin = lb.line.spinor_of(br.irrep)
                    assert all(spin[x] >= m for x, m in sigma.items()), (p.line, br.key)


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


@pytest.mark.slow
def test_kspace_of_nb_from_its_own_bloch_states(nb_run):
    """`nhm kspace Nb --mesh 16 --json -`: the best candidate (GM5+ H5+ N3+ P4, reading R2) from GPAW's Bloch
    states on the mesh: residuals where F is defined, the R2 points listed (Γ, H, P three-dimensional, points
    of Λ two-dimensional), k-space magnetism on Nb's own Fermi surface, the figures."""
    work, env, _ = nb_run
    r = subprocess.run([*NHM, "kspace", "Nb", "--mesh", "16", "--json", "-", "--plot", "kfigs"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # stdout holds the JSON alone
    assert out["band"] == "GM:GM5+ H:H5+ N:N3+ P:P4" and out["reading"] == "R2" and out["mesh"] == 16
    assert max(out["constraint_residual"], out["time_reversal_residual"], out["unitarity_residual"]) < 1e-10
    assert max(out["r2_residuals"].values()) < 1e-10
    named = {p["name"]: p["d"] for p in out["r2_points"] if not p["name"].startswith("line")}
    assert named == {"GM": 3, "H": 3, "P": 3}
    assert {p["d"] for p in out["r2_points"] if p["name"].startswith("line")} == {2}
    assert out["r2_mesh_points"] == sum(p["star_points"] for p in out["r2_points"])
    mag = out["k_space_magnetism"]
    assert mag["present"] and mag["points"] > 100 and 0.1 < mag["axis_variation"] <= 2 / 3
    assert out["spread_with_spatial_overlaps"] > out["spread_projective"] > 0
    for name in ("kspace_plane.png", "kspace_symmetry_related.png", "kspace_fermi_surface.html"):
        assert (work / "kfigs" / name).stat().st_size > 1000
    assert "k-space magnetism: present" in r.stderr
    bad = subprocess.run([*NHM, "kspace", "Nb", "--mesh", "8", "--candidate", "99"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=900)
    assert bad.returncode == 2 and "--candidate 99 does not exist" in bad.stderr and bad.stderr.count("\n") == 1
