"""nhm screen: many crystals on Dask into an ASE database, resumable; the report against measured Tc.

Fast tests fake the analysis (``nhm.screen.task.analyze_crystal``) on a threaded cluster; the slow ones
run GPAW on three light elements on a LocalCluster (SQLite and a PostgreSQL server the test starts),
and kill -9 a screen mid-run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nhm.errors import InputError
from selfcontained_html import check_self_contained_html

ROOT = Path(__file__).resolve().parents[1]
SCREEN = [sys.executable, "-m", "nhm.cli.screen"]
SMALL = ["--kmesh", "4", "--ecut", "300", "--spacing", "0.3"]


def small_parameters():
    from nhm.bands.dft import DftParameters
    from nhm.screen.params import ScreenParameters

    return ScreenParameters(dft=DftParameters(mode_ecut_eV=300, kmesh=4), spacing=0.3)


# --- a fake analysis --------------------------------------------------------------------------------

# name -> (verdict found?, raise?) ; anything else: no superconducting band
FAKE = {"Nb": True, "Cu": True, "Fe": True, "Pb": False, "Ag": False, "Lu": True, "La": True}


def fake_doc(name: str, superconducting: bool) -> dict:
    """An ``nhm analyze --json`` document whose one candidate band is narrow (1.5 eV) when ``superconducting``,
    else 12 eV wide: too wide for the free-electron reference (10 eV), narrow against 1.2 × it."""
    width = 1.5 if superconducting else 12.0

    def measures(filling):
        return {"energy_range_eV": [-0.5, width - 0.5], "width_eV": width, "filling": filling,
                "dos_at_fermi_per_eV_spin_cell": 0.31}

    band = {"verdict": "superconducting", "band": "GM:GM5+ H:H5+ N:N3+ P:P4", "reading": "R2",
            "site_representations": [["-GM8"]], **measures(0.45), "width_interval_eV": [width, width],
            "filling_interval": [0.4, 0.5], "dos_interval_per_eV_spin_cell": [0.31, 0.31], "passes": superconducting,
            "marginal": False, "half_filled": "yes", "narrow": "yes" if superconducting else "no",
            "variants": [{"reading": "R2", "switches": 0, "degenerate_samples": 3,
                          "assignments": {"lower": measures(0.5), "upper": measures(0.4)}}]}
    return {
        "material": name, "formula": name, "space_group": 229, "international": "Im-3m", "fermi_level_eV": 7.5,
        "verdict": {"verdict": "superconducting band" if superconducting else "no superconducting band",
                    "reason": "fake", "marginal": False,
                    "criteria": {"filling_min": 0.25, "filling_max": 0.75, "width_factor": 1.0, "width_reference": "free-electron"},
                    "reference_width_eV": 10.0,
                    "width_references": {"free_electron_eV": 10.0, "median_eV": 8.0, "widest_eV": 12.0, "mu": 1},
                    "bands_at_fermi_level": [{"index": 5, "energy_range_eV": [-4.0, 4.0], "width_eV": 8.0}]},
        "superconducting_bands": [band], "usual_bands": [],
    }


@pytest.fixture
def fake_analysis(monkeypatch):
    """Replace the analysis by a fake that records its calls (in the client process: threaded cluster)."""
    from nhm.screen import task

    calls: list[str] = []

    def fake(request):
        name = request["name"]
        calls.append(name)
        if name.endswith("boom.cif") or name == "Zn":
            raise RuntimeError(f"fake SCF failure for {name}")
        found = FAKE.get(name, FAKE.get(Path(name).stem.capitalize(), False))  # nb.cif is Nb
        doc = task.clean_json(fake_doc(name, found))
        return {"analysis": doc, "summary": task.summarize(doc), "dft_cached": False}

    monkeypatch.setattr(task, "analyze_crystal", fake)
    return calls


@pytest.fixture(scope="module")
def threaded_client():
    import distributed

    import warnings

    with warnings.catch_warnings():  # port 8787 taken by another cluster: its HTTP server moves elsewhere
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                           silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def fake_screen(client, crystals, db, **kw):
    from nhm.screen.run import screen

    return screen(crystals, db=str(db), scheduler=client, isolate=False, progress=False, **kw)


def rows(db) -> dict[str, dict]:
    import ase.db

    out = {}
    for row in ase.db.connect(str(db)).select():
        out.setdefault(row.name, []).append({"id": row.id, "ctime": row.ctime, **row.key_value_pairs})
    return out


@pytest.fixture
def structures(tmp_path):
    """A directory with a good CIF (Nb), a malformed one, and one the fake analysis fails on."""
    import ase.io
    from ase.build import bulk

    d = tmp_path / "structures"
    d.mkdir()
    ase.io.write(d / "nb.cif", bulk("Nb", "bcc", a=3.3))
    ase.io.write(d / "boom.cif", bulk("Cu", "fcc", a=3.6))
    (d / "broken.cif").write_text("data_x\n_cell_length_a 3.0\nthis is not a CIF loop\n")
    (d / "notes.txt").write_text("not a structure")
    return d


# --- parameters, inputs, elements ------------------------------------------------------------------


def test_params_hash_is_stable_sensitive_and_a_string():
    from ase.db.core import str_represents

    from nhm.bands.dft import DftParameters
    from nhm.screen.params import ScreenParameters

    a, b = small_parameters(), small_parameters()
    assert a.hash() == b.hash() and a.hash().startswith("sha256-")
    assert ScreenParameters.from_dict(json.loads(json.dumps(a.as_dict()))) == a
    assert ScreenParameters(dft=DftParameters(mode_ecut_eV=300, kmesh=6), spacing=0.3).hash() != a.hash()
    assert ScreenParameters(dft=DftParameters(mode_ecut_eV=300, kmesh=4), spacing=0.2).hash() != a.hash()
    assert not any(str_represents(a.hash(), t) for t in (bool, int, float))
    for bad in ({"spacing": 0}, {"window": float("nan")}, {"mesh": 1}, {"readings": ("R3",)}):
        with pytest.raises(InputError):
            ScreenParameters(**bad)


def test_resolve_elements_files_directories(structures):
    from nhm.screen.inputs import resolve

    items, excluded = resolve(["Al", str(structures), "Al", str(structures / "nb.cif")])
    names = [i.name for i in items]
    assert names[0] == "Al" and names.count("Al") == 1
    assert {Path(n).name for n in names[1:]} == {"boom.cif", "broken.cif", "nb.cif"}  # not notes.txt, no duplicate
    assert excluded == []
    with pytest.raises(InputError, match="neither an element symbol"):
        resolve(["Xx"])
    with pytest.raises(InputError, match="nothing to screen"):
        resolve([])
    with pytest.raises(InputError, match="--elements takes 'all'"):
        resolve([], "3d")
    empty = structures / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no structure files"):
        resolve([str(empty)])


def test_elements_all_excludes_with_reasons_and_flags():
    from nhm.screen.inputs import resolve

    items, excluded = resolve([], "all")
    names = {i.name for i in items}
    why = {e.name: e.reason for e in excluded}
    assert {"Li", "Na", "Al", "Nb", "Pb", "Sn", "Hg", "Bi", "Rh", "W"} <= names
    for magnetic in ("Fe", "Co", "Ni", "Cr", "Gd"):
        assert magnetic not in names and "not covered by the model" in why[magnetic]
    assert "Mn" in why and "Ga" in why  # ASE cannot build their reference crystals (α-Mn, α-Ga)
    assert "α-La" in why["La"]  # ASE's hcp La is not the measured double-hcp phase
    assert "no GPAW PAW setup" in why["Tc"]
    assert names.isdisjoint(why) and len(names) + len(why) == 118  # nothing dropped silently
    items, _ = resolve([], "all", include_flagged=True)
    assert {"Fe", "La", "Gd"} <= {i.name for i in items}


def test_pearson_symbols_of_reference_crystals():
    from nhm.crystal import read_crystal
    from nhm.screen.elements import pearson_symbol, same_pearson

    expected = {"Nb": "cI2", "Al": "cF4", "Mg": "hP2", "Sn": "tI4", "In": "tI2", "Hg": "hR1", "Bi": "hR2",
                "Sm": "hR3", "Si": "cF8"}
    for symbol, pearson in expected.items():
        assert pearson_symbol(read_crystal(symbol)) == pearson, symbol
    assert same_pearson("oC8", "oS8") and not same_pearson("hP2", "hP4") and not same_pearson(None, "cI2")


def test_measured_superconductivity_data_file():
    from nhm.screen.elements import data_document, measured

    doc, el = data_document(), measured()
    sc = {s for s, e in el.items() if e["superconducting"]}
    assert len(sc) == doc["superconducting_at_ambient_pressure"] == 32  # 31 (Webb et al. 2015) + Bi-I (2017)
    assert el["Bi"]["tc_K"] == pytest.approx(0.53e-3) and "prakash2017" in el["Bi"]["sources"]
    assert el["Li"]["tc_K"] == pytest.approx(0.4e-3) and el["Rh"]["tc_K"] == pytest.approx(325e-6)
    assert el["Nb"]["tc_K"] == pytest.approx(9.25) and el["Sn"]["phase"]["pearson"] == "tI4"
    for s, e in el.items():
        assert all(src in doc["sources"] for src in e["sources"]), s
        if e["superconducting"]:
            assert e["tc_K"] > 0 and e["phase"]["pearson"] and e["sources"], s
    for s in ("Fe", "Co", "Ni", "Cr", "Mn", "Gd", "Tb"):
        assert any(f["flag"] == "magnetic" for f in el[s]["model_flags"]), s
    assert any(f["flag"] == "phase" for f in el["La"]["model_flags"]) and not el["Sn"]["model_flags"]
    # the comparison with pymatgen was run and every disagreement is recorded
    assert doc["pymatgen"] is not None and "periodic_table.json" in doc["pymatgen"]["origin"]
    kinds = {d["element"]: d["kind"] for d in doc["disagreements"]}
    assert kinds["Bi"] == kinds["Li"] == kinds["Rh"] == "missing in pymatgen"
    assert "does not superconduct" in kinds["Gd"] and "another phase" in kinds["Hg"] and "another phase" in kinds["La"]
    assert all(e.get("pymatgen_tc_K", "absent") != "absent" for e in el.values())


def test_make_element_tc_reproduces_the_shipped_table(tmp_path):
    """The script regenerates the committed JSON (the pymatgen comparison too, if the same pymatgen-core
    version is installed)."""
    import importlib.metadata

    shipped = json.loads((ROOT / "src" / "nhm" / "data" / "elements_superconductivity.json").read_text())
    try:
        same = importlib.metadata.version("pymatgen-core") in shipped["pymatgen"]["origin"]
    except importlib.metadata.PackageNotFoundError:
        same = False
    out = tmp_path / "el.json"
    args = [] if same else [str(tmp_path / "no-pymatgen.json")]
    if not same:  # compare all but the pymatgen columns
        (tmp_path / "no-pymatgen.json").write_text(json.dumps({}))
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_element_tc.py"), *args, "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    new = json.loads(out.read_text())
    if same:
        shipped["pymatgen"]["origin"] = new["pymatgen"]["origin"]  # a wheel then, the installed package now
    else:
        for doc in (shipped, new):
            for e in doc["elements"].values():
                e.pop("pymatgen_tc_K", None)
            doc["pymatgen"], doc["disagreements"] = None, []
    assert new == shipped


def test_summarize_takes_the_best_candidate_and_drops_unknowns():
    from nhm.screen.task import clean_json, summarize

    raw = fake_doc("Nb", True)
    raw["verdict"]["width_references"]["median_eV"] = float("nan")
    doc = clean_json(raw)
    s = summarize(doc)
    assert s["verdict"] == "superconducting" and s["best_reading"] == "R2" and s["best_site"] == "-GM8"
    assert s["best_width"] == 1.5 and s["best_filling"] == 0.45 and s["best_dos"] == 0.31 and s["best_passes"]
    assert (s["best_filling_min"], s["best_filling_max"], s["best_variants"]) == (0.4, 0.5, 1)
    assert s["width_fe"] == 10.0 and s["width_reference"] == "free-electron" and not s["verdict_marginal"]
    assert "width_median" not in s  # NaN in the analysis: left out, ASE takes no None
    assert json.dumps(doc, allow_nan=False)
    bare = summarize({"verdict": None, "superconducting_bands": []})
    assert bare["verdict"] == "none" and not any(k.startswith("best_") for k in bare)


# --- the screen with a fake analysis ----------------------------------------------------------------


def test_fake_screen_writes_rows_resumes_and_records_failures(tmp_path, threaded_client, fake_analysis, structures):
    import ase.db

    db = tmp_path / "s.db"
    crystals = ["Nb", "Cu", "Zn", str(structures)]
    s = fake_screen(threaded_client, crystals, db)
    assert set(s.computed) == {"Nb", "Cu", str(structures / "nb.cif")}
    assert set(s.failed) == {"Zn", str(structures / "boom.cif"), str(structures / "broken.cif")}
    nb_cif = str(structures / "nb.cif")
    assert s.superconducting == ["Nb", "Cu", nb_cif] and s.skipped == []
    r = rows(db)
    assert all(len(v) == 1 for v in r.values()) and len(r) == 6
    assert r["Zn"][0]["status"] == "failed" and "fake SCF failure" in r["Zn"][0]["error"]
    broken = r[str(structures / "broken.cif")][0]
    assert broken["status"] == "failed" and broken["error"].startswith("cannot read the crystal")
    assert len(fake_analysis) == 5 and not any("broken" in c for c in fake_analysis)  # never reached a worker
    nb = r["Nb"][0]
    assert nb["verdict"] == "superconducting" and nb["best_band"].startswith("GM:") and nb["space_group"] == 229
    assert nb["params_hash"] == s.params_hash
    con = ase.db.connect(str(db))
    assert {row.name for row in con.select(verdict="superconducting")} == {"Nb", "Cu", nb_cif}
    full = con.get(name="Nb")
    assert full.data["analysis"]["verdict"]["reference_width_eV"] == 10.0 and full.data["parameters"]["dft"]["kmesh"] == 12
    assert full.toatoms().get_chemical_formula() == "Nb"

    # the same command again: nothing is computed, nothing rewritten
    fake_analysis.clear()
    again = fake_screen(threaded_client, crystals, db)
    assert fake_analysis == [] and again.computed == [] and again.failed == []
    assert set(again.skipped) == set(r) and again.superconducting == ["Nb", "Cu", nb_cif]
    assert rows(db) == r

    # --retry-failed: only the failed ones, each replacing its row
    again = fake_screen(threaded_client, crystals, db, retry_failed=True)
    assert set(fake_analysis) == {"Zn", str(structures / "boom.cif")} and len(again.failed) == 3
    r2 = rows(db)
    assert all(len(v) == 1 for v in r2.values())
    assert r2["Zn"][0]["id"] != r["Zn"][0]["id"] and r2["Nb"][0]["id"] == r["Nb"][0]["id"]

    # --force: everything, one row per crystal still
    fake_analysis.clear()
    fake_screen(threaded_client, ["Nb"], db, force=True)
    assert fake_analysis == ["Nb"] and len(rows(db)["Nb"]) == 1 and rows(db)["Nb"][0]["id"] != r["Nb"][0]["id"]

    # other parameters: a second parameter set next to the first
    fake_analysis.clear()
    other = fake_screen(threaded_client, ["Nb"], db, parameters=small_parameters())
    assert fake_analysis == ["Nb"] and other.params_hash != s.params_hash
    assert len(rows(db)["Nb"]) == 2


def test_changed_structure_file_is_recomputed(tmp_path, threaded_client, fake_analysis):
    import ase.io
    from ase.build import bulk

    cif = tmp_path / "x.cif"
    ase.io.write(cif, bulk("Nb", "bcc", a=3.3))
    db = tmp_path / "s.db"
    fake_screen(threaded_client, [str(cif)], db)
    fake_screen(threaded_client, [str(cif)], db)
    assert len(fake_analysis) == 1
    ase.io.write(cif, bulk("Nb", "bcc", a=3.4))
    s = fake_screen(threaded_client, [str(cif)], db)
    assert len(fake_analysis) == 2 and s.computed == [os.path.normpath(str(cif))]
    assert len(rows(db)[os.path.normpath(str(cif))]) == 1


def test_timeout_stops_the_crystal_and_is_recorded(tmp_path, threaded_client):
    from nhm.screen.run import screen

    s = screen(["Al"], db=str(tmp_path / "t.db"), scheduler=threaded_client, timeout=0.3, progress=False,
               parameters=small_parameters(), cache_dir=tmp_path / "cache")
    assert s.failed == ["Al"] and "timed out after 0.3 s" in s.errors["Al"]
    row = rows(tmp_path / "t.db")["Al"][0]
    assert row["status"] == "failed" and row["error_type"] == "Timeout"
    with pytest.raises(InputError, match="timeout"):
        screen(["Al"], db=str(tmp_path / "t.db"), timeout=-1)


def test_progress_lines_on_stderr_when_not_a_terminal(tmp_path, threaded_client, fake_analysis, capsys):
    from nhm.screen.run import screen

    screen(["Nb", "Zn"], db=str(tmp_path / "p.db"), scheduler=threaded_client, isolate=False, progress=True)
    err = capsys.readouterr().err
    assert "[1/2]" in err and "[2/2]" in err and "failed 1" in err and "ETA" in err


# --- the report ---------------------------------------------------------------------------------------


@pytest.fixture
def report_db(tmp_path, threaded_client, fake_analysis, structures):
    """Nb TP, Cu FP, Pb FN, Ag TN; Fe magnetic, La other phase, Lu uncertain; Zn failed; a CIF of Nb."""
    db = tmp_path / "r.db"
    fake_screen(threaded_client, ["Nb", "Cu", "Pb", "Ag", "Fe", "La", "Lu", "Zn", str(structures / "nb.cif")], db)
    return db


def test_report_confusion_matrix_precision_recall(report_db):
    from nhm.screen.exports import report_csv, report_json
    from nhm.screen.report import build_report

    rep = build_report(str(report_db))
    out = {r.name: r.outcome for r in rep.rows}
    assert out["Nb"] == "TP" and out["Cu"] == "FP" and out["Pb"] == "FN" and out["Ag"] == "TN"
    cif = next(r for r in rep.rows if r.kind == "file")
    assert cif.element == "Nb" and cif.outcome == "TP"  # a CIF of an element is compared too (same phase)
    assert rep.matrix == {"TP": 2, "FP": 1, "FN": 1, "TN": 1}
    assert rep.precision == pytest.approx(2 / 3) and rep.recall == pytest.approx(2 / 3)
    excluded = {r.name: r.excluded_reason for r in rep.excluded}
    assert "ferromagnetic" in excluded["Fe"] and "α-La" in excluded["La"] and "uncertain" in excluded["Lu"]
    assert excluded["Zn"] == "failed"
    assert rep.criteria == [{"filling_min": 0.25, "filling_max": 0.75, "width_factor": 1.0, "width_reference": "free-electron"}]
    doc = report_json(rep)
    assert json.dumps(doc, allow_nan=False) and doc["confusion_matrix"]["TP"] == 2
    assert {"Tc", "Ga"} <= {e["element"] for e in doc["not_computed"]}
    lines = report_csv(rep).splitlines()
    assert lines[0].startswith("id,name,formula") and len(lines) == 1 + len(rep.rows)


def test_report_judges_the_stored_rows_again_under_other_criteria(report_db):
    """No DFT: every row's stored analysis is judged again (Pb's 12 eV band is narrow against 1.2 × 10 eV)."""
    from nhm.screen.report import build_report
    from nhm.wannier.verdict import Criteria

    stored = build_report(str(report_db))
    assert not stored.rejudged and {r.name: r.outcome for r in stored.rows}["Pb"] == "FN"
    same = build_report(str(report_db), criteria=Criteria())
    assert [(r.name, r.verdict, r.outcome) for r in same.rows] == [(r.name, r.verdict, r.outcome) for r in stored.rows]
    wide = build_report(str(report_db), criteria=Criteria(width_factor=1.2))
    out = {r.name: r.outcome for r in wide.rows}
    assert wide.rejudged and out["Pb"] == "TP" and out["Ag"] == "FP" and out["Nb"] == "TP"
    assert wide.matrix == {"TP": 3, "FP": 2, "FN": 0, "TN": 0}
    median = build_report(str(report_db), criteria=Criteria(width_reference="median", width_factor=1.5))
    assert {r.name: r.outcome for r in median.rows}["Pb"] == "TP"  # 12 ≤ 1.5 × 8
    strict = build_report(str(report_db), criteria=Criteria(filling_min=0.44))
    nb = next(r for r in strict.rows if r.name == "Nb")
    assert nb.verdict == "superconducting" and nb.marginal  # best 0.45 (the mean of 0.4 and 0.5) passes, 0.4 would not
    assert build_report(str(report_db), criteria=Criteria(filling_min=0.6)).matrix["TP"] == 0


def test_report_sweeps_the_width_factor_for_each_reference(report_db):
    from nhm.screen.report import SWEEP_FACTORS, build_report

    rep = build_report(str(report_db))
    assert set(rep.sweep) == {"free-electron", "median", "widest"}
    for ref, pts in rep.sweep.items():
        assert [p.factor for p in pts] == list(SWEEP_FACTORS)
        recalls = [p.recall for p in pts]
        assert all(a <= b for a, b in zip(recalls, recalls[1:])), ref  # a looser width bound never loses a TP
        assert all(sum(p.matrix.values()) == 5 for p in pts)
    at = {p.factor: p for p in rep.sweep["free-electron"]}
    assert at[1.0].matrix == rep.matrix and at[1.2].matrix["TP"] == 3
    assert {p.factor: p for p in rep.sweep["widest"]}[1.0].matrix["TP"] == 3  # 12 ≤ 1 × 12


def test_report_command_exports_table_figure_html(report_db, tmp_path):
    out = tmp_path / "report"
    r = subprocess.run([*SCREEN, "--report", "--db", str(report_db), "--out", str(out), "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Confusion matrix" in r.stdout and "precision 0.67, recall 0.67" in r.stdout
    assert json.loads((tmp_path / "r.json").read_text())["precision"] == pytest.approx(2 / 3)
    for name in ("screen-results.csv", "screen-report.json", "periodic-table.png", "periodic-table.svg", "periodic-table.html",
                 "width-sweep.png", "width-sweep.svg"):
        assert (out / name).stat().st_size > 500, name
    assert "What the width criterion does" in r.stdout
    again = subprocess.run([*SCREEN, "--report", "--db", str(report_db), "--width-factor", "1.2", "--json", "-"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["rejudged"] and doc["confusion_matrix"]["TP"] == 3 and len(doc["width_sweep"]["median"]) == 56
    assert (out / "periodic-table.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "periodic-table.html").read_text()
    check_self_contained_html(page)
    assert "103 Lr" in page and "9.25 K" in page and "Confusion matrix" in page  # every element hovers


def test_cli_errors_are_one_line(tmp_path):
    cases = [
        (["--report", "Nb", "--db", str(tmp_path / "x.db")], "--report reads the database only"),
        (["--report", "--db", str(tmp_path / "missing.db")], "no screen database"),
        (["Nb", "--db", str(tmp_path / "x.json")], "JSON backend"),
        (["Nb", "--timeout", "-1", "--db", str(tmp_path / "x.db")], "--timeout"),
        (["Xx", "--db", str(tmp_path / "x.db")], "neither an element symbol"),
        (["Nb", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--db", str(tmp_path / "x.db")], "--workers"),
        (["Nb", "--out", str(Path(__file__)), "--db", str(tmp_path / "x.db")], "not a directory"),
    ]
    for args, message in cases:
        r = subprocess.run([*SCREEN, *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("nhm: error:") and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_dry_run_plans_without_touching_the_database(tmp_path):
    db = tmp_path / "d.db"
    r = subprocess.run([*SCREEN, "--elements", "all", "--dry-run", "--db", str(db), "--json", str(tmp_path / "plan.json")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert "Nb" in plan["compute"] and "Fe" in plan["excluded"] and not db.exists()


# --- GPAW: three light elements ---------------------------------------------------------------------

LIGHT = ["Li", "Na", "Al"]


@pytest.fixture(scope="module")
def light_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("screen-cache")


def _check_light_rows(r: dict, failing: list[str]) -> None:
    for name in LIGHT:
        (row,) = r[name]
        assert row["status"] == "ok" and row["verdict"] in ("superconducting", "none"), row
        assert row["kmesh"] == 4 and row["ecut"] == 300 and row["runtime_s"] > 0 and row["gpaw_version"]
        assert isinstance(row["fermi_level"], float) and row["space_group"] in (229, 225)
    for name in failing:
        (row,) = r[name]
        assert row["status"] == "failed" and row["error"], row


@pytest.mark.slow
def test_screen_light_elements_on_a_local_cluster(tmp_path, light_cache, structures):
    from nhm.screen.report import build_report
    from nhm.screen.run import screen

    db = tmp_path / "light.db"
    broken = str(structures / "broken.cif")
    s = screen([*LIGHT, "Tc", broken], db=str(db), workers=2, parameters=small_parameters(), cache_dir=light_cache,
               progress=False)
    assert s.workers == 2 and sorted(s.computed) == sorted(LIGHT) and sorted(s.failed) == sorted(["Tc", broken])
    assert "PAW" in s.errors["Tc"] and "cannot read the crystal" in s.errors[broken]
    r = rows(db)
    _check_light_rows(r, ["Tc", broken])
    # ASE's own tools query the rows
    q = subprocess.run([sys.executable, "-m", "ase", "db", str(db), "status=ok", "-c", "name,verdict", "--csv"],
                       capture_output=True, text=True, timeout=120)
    assert q.returncode == 0, q.stderr
    assert {line.split(",")[0] for line in q.stdout.strip().splitlines()[1:]} == set(LIGHT)
    rep = build_report(str(db))
    assert {r.name for r in rep.rows if r.in_matrix} == set(LIGHT)  # Tc failed, the broken file is no element
    assert sum(rep.matrix.values()) == 3
    again = screen([*LIGHT, "Tc", broken], db=str(db), workers=2, parameters=small_parameters(), cache_dir=light_cache,
                   progress=False)
    assert again.computed == [] and again.failed == [] and len(again.skipped) == 5


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _db_rows(db: Path) -> list[tuple]:
    try:
        con = sqlite3.connect(db)
        try:
            return con.execute("SELECT id, ctime, key_value_pairs FROM systems ORDER BY id").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_kill_9_mid_run_and_resume_without_recomputing(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "NHM_CACHE_DIR": str(cache)}
    db = tmp_path / "kill.db"
    args = [*SCREEN, *LIGHT, "--db", str(db), *SMALL, "--workers", "2"]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: list[int] = []
    try:
        deadline = time.time() + 600
        while not _db_rows(db):
            assert proc.poll() is None, "the screen ended before its first row"
            assert time.time() < deadline
            family = _descendants(proc.pid) or family
            time.sleep(0.2)
        family = sorted(set(family) | set(_descendants(proc.pid)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = _db_rows(db)
        assert 1 <= len(before) < len(LIGHT), "the kill came too late to test resumption"
        # the workers, the analysis processes and their GPAW processes go with it
        deadline = time.time() + 30
        while any(_alive(p) for p in family) and time.time() < deadline:
            time.sleep(0.5)
        assert not [p for p in family if _alive(p)]
    finally:
        for p in [proc.pid, *family]:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
    cache_files = {p: p.stat().st_mtime_ns for p in cache.glob("*.npz")}
    finished = {json.loads(kvp)["name"] for _, _, kvp in before}
    r = subprocess.run([*args, "--json", str(tmp_path / "summary.json")], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["skipped"]) == finished and set(summary["computed"]) == set(LIGHT) - finished
    after = _db_rows(db)
    assert after[: len(before)] == before  # finished rows untouched: same ids, same ctime, same values
    assert len(after) == len(LIGHT)
    for path, mtime in cache_files.items():  # no DFT result of a finished crystal was computed again
        assert path.stat().st_mtime_ns == mtime
    _check_light_rows(rows(db), [])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_bin() -> Path | None:
    for initdb in sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True):
        return initdb.parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own: initdb in a temporary directory, a free port, stopped afterwards."""
    bindir = _postgres_bin()
    # scripts/setup.sh installs Debian's postgresql and psycopg2: a missing server is a broken set-up, not a skip
    assert bindir is not None, "PostgreSQL server binaries are not installed: run scripts/setup.sh (Debian package postgresql)"
    import psycopg2  # noqa: F401
    import ase_db_backends.postgresql  # noqa: F401 - ASE's PostgreSQL backend must be installed (no skip)

    data = Path(tempfile.mkdtemp(prefix="nhm-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    pgdata = data / "db"

    def run(*cmd: str) -> None:
        r = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    run(str(bindir / "initdb"), "-D", str(pgdata), "--auth=trust", "-U", "postgres")
    run(str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(data / "log"), "-w",
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.slow
def test_screen_into_a_real_postgresql_server(postgres_url, light_cache, tmp_path):
    from nhm.screen.report import build_report
    from nhm.screen.run import screen

    s = screen([*LIGHT, "Tc"], db=postgres_url, workers=2, parameters=small_parameters(), cache_dir=light_cache,
               progress=False)
    assert sorted(s.computed) == sorted(LIGHT) and s.failed == ["Tc"]
    r = rows(postgres_url)
    _check_light_rows(r, ["Tc"])
    import ase.db

    assert ase.db.connect(postgres_url).get(name="Al").data["analysis"]["formula"] == "Al"
    again = screen([*LIGHT, "Tc"], db=postgres_url, workers=1, parameters=small_parameters(), cache_dir=light_cache,
                   progress=False)
    assert again.computed == [] and len(again.skipped) == 4 and rows(postgres_url) == r
    out = tmp_path / "pg-report"
    cmd = subprocess.run([*SCREEN, "--report", "--db", postgres_url, "--out", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert cmd.returncode == 0, cmd.stderr
    assert (out / "periodic-table.svg").exists() and sum(build_report(postgres_url).matrix.values()) == 3


@pytest.mark.slow
def test_screen_on_an_existing_dask_scheduler(tmp_path, light_cache):
    """--scheduler ADDRESS: a scheduler and a worker started apart from nhm (as dask-jobqueue would)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NHM_CACHE_DIR": str(light_cache)}  # the workers' own cache: the crystals of the local-cluster test
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--nworkers", "2", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        db = tmp_path / "remote.db"
        r = subprocess.run([*SCREEN, *LIGHT, "--scheduler", address, "--db", str(db), *SMALL, "--json", "-"],
                           env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert sorted(summary["computed"]) == sorted(LIGHT) and summary["workers"] == 2
        _check_light_rows(rows(db), [])
        assert scheduler.poll() is None and worker.poll() is None  # nhm leaves a cluster it did not start running
    finally:
        for p in (worker, scheduler):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_screen_analyses_run_one_gpaw_process_each(monkeypatch):
    """Two crystals side by side on two cores: each analysis keeps its zone stage to one GPAW process."""
    from nhm.bands.dft_zone import _zone_workers_allowed
    from nhm.screen.task import _child_env

    assert _child_env()["NHM_ZONE_WORKERS"] == "1"
    monkeypatch.setenv("NHM_ZONE_WORKERS", "1")
    assert _zone_workers_allowed() == 1
    monkeypatch.setenv("NHM_ZONE_WORKERS", "not a number")
    assert _zone_workers_allowed() == 2
    monkeypatch.delenv("NHM_ZONE_WORKERS")
    assert _zone_workers_allowed() == 2
