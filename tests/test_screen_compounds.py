"""nhm screen on compounds: the shipped table and its provenance, the crystals built from it, every choice of
Wannier centres, and the report against measured Tc (confusion matrix, Tc against VEC, the plotly page).

Fast tests fake the analysis; the slow one runs GPAW on two small compounds at a light k mesh.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from nhm.errors import InputError
from selfcontained_html import check_self_contained_html
from test_screen import SCREEN, fake_doc, small_parameters, threaded_client  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "nhm" / "data" / "compounds_superconductivity.json"


# --- the shipped table ------------------------------------------------------------------------------


def test_make_compound_tc_regenerates_the_shipped_file_exactly(tmp_path):
    out = tmp_path / "c.json"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_compound_tc.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == SHIPPED.read_bytes()


def test_every_number_has_a_citation_and_the_table_covers_the_families():
    from nhm.screen.compounds import compound_data, compound_names

    doc = compound_data()
    sources, table = doc["sources"], doc["compounds"]
    assert all(s["citation"] and s["checked"] in ("text", "compilation") for s in sources.values())
    for name, e in table.items():
        lat = e["lattice"]
        assert lat["a_A"] > 2 and lat["sources"] and set(lat["sources"]) <= set(sources), name
        assert (lat["c_A"] is not None) == (e["structure"]["space_group"] == 191), name
        assert e["reports"][0]["superconducting"] == e["superconducting"] and e["reports"][0]["tc_K"] == e["tc_K"]
        assert e["sources"] == e["reports"][0]["sources"] and e["phase"] == e["reports"][0]["phase"], name
        for r in e["reports"]:
            assert r["sources"] and set(r["sources"]) <= set(sources), (name, r)
            numbers = [v for v in (r["tc_K"], r["not_superconducting_down_to_K"]) if v is not None]
            assert all(v > 0 for v in numbers) and (r["tc_K"] is not None) == r["superconducting"], (name, r)
        assert e["confidence"] in doc["conventions"]["confidence"], name
        answers = {r["superconducting"] for r in e["reports"] if r["computed_phase"]}
        assert e["disputed"] == (len(answers) > 1) == (e["confidence"] == "disputed"), name
    for metal in ("Ti", "Zr", "Hf", "V", "Nb", "Ta"):
        assert f"{metal}C" in table and f"{metal}N" in table
    assert {"MoC", "WC"} <= set(table)
    assert compound_names("diborides") == ["MgB2", "AlB2", "TiB2", "ZrB2", "HfB2", "NbB2", "TaB2"]
    assert {table[n]["vec"] for n in ("TiC", "ZrC", "HfC")} == {8} and table["NbN"]["vec"] == 10 and table["MgB2"]["vec"] == 8
    assert table["MgB2"]["tc_K"] == 39.0 and "nagamatsu2001" in table["MgB2"]["sources"]
    assert table["NbN"]["tc_K"] == pytest.approx(16.0) and table["TiB2"]["not_superconducting_down_to_K"] == 0.42
    # where the literature disagrees both answers are kept and the compound is marked
    assert {n for n, e in table.items() if e["disputed"]} == {"TiC", "VC", "ZrB2", "NbB2", "TaB2"}
    tab2 = {r["tc_K"] for r in table["TaB2"]["reports"]}
    assert 9.5 in tab2 and None in tab2
    assert any(not r["computed_phase"] and not r["superconducting"] for r in table["WC"]["reports"])  # hexagonal WC


def test_compound_crystals_are_the_measured_structures():
    from nhm.crystal import read_crystal
    from nhm.screen.compounds import compound_atoms, compound_names, measured_compounds
    from nhm.screen.elements import pearson_symbol

    table = measured_compounds()
    for name in compound_names("all"):
        e, crystal = table[name], read_crystal(compound_atoms(name))
        s, lat = e["structure"], e["lattice"]
        assert crystal.space_group == s["space_group"] and pearson_symbol(crystal) == s["pearson"], name
        v = crystal.primitive_atoms().get_volume()
        a = lat["a_A"]
        expected = a**3 / 4 if s["space_group"] == 225 else math.sqrt(3) / 2 * a * a * lat["c_A"]
        assert v == pytest.approx(expected, rel=1e-9), name
        assert sorted(o.element for o in crystal.orbits) == sorted({x["element"] for x in s["sites"]}), name
    with pytest.raises(InputError, match="no compound"):
        compound_atoms("NbSe2")


def test_resolve_families_names_and_errors(tmp_path):
    from nhm.screen.compounds import compound_names
    from nhm.screen.inputs import resolve

    inputs, excluded = resolve(["Nb", "NbC"], compounds="rocksalt-nitrides")
    assert [(c.name, c.kind) for c in inputs] == [("Nb", "element"), ("NbC", "compound")] + [
        (n, "compound") for n in compound_names("rocksalt-nitrides")]
    assert not excluded and len(resolve([], compounds="all")[0]) == 21
    with pytest.raises(InputError, match="--compounds takes a family"):
        resolve([], compounds="perovskites")
    with pytest.raises(InputError, match="compound of the shipped table"):
        resolve(["NbSe2"])
    r = subprocess.run([*SCREEN, "--compounds", "diborides", "--dry-run", "--db", str(tmp_path / "d.db"), "--json", "-"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["compute"] == compound_names("diborides") and not (tmp_path / "d.db").exists()
    human = subprocess.run([*SCREEN, "--compounds", "diborides", "--dry-run", "--db", str(tmp_path / "d.db")],
                           capture_output=True, text=True, timeout=300)
    assert "MgB2: diborides, P6/mmm (hP3), a = 3.086 Å, c = 3.524 Å, VEC 8, measured: Tc 39 K" in human.stdout
    assert "ZrB2" in human.stdout and "(disputed)" in human.stdout


# --- centres --------------------------------------------------------------------------------------


def test_centre_choices_are_each_orbit_alone_then_all():
    from nhm.crystal import read_crystal
    from nhm.screen.centres import centre_choices, centre_key_values
    from nhm.screen.compounds import compound_atoms

    nbc = centre_choices(read_crystal(compound_atoms("NbC")))
    assert [(c.key, c.name, c.default) for c in nbc] == [
        ("4a", "C 4a", False), ("4b", "Nb 4b", False), ("4a+4b", "all atoms (C 4a + Nb 4b)", True)]
    mgb2 = centre_choices(read_crystal(compound_atoms("MgB2")))
    assert [c.key for c in mgb2] == ["1a", "2d", "1a+2d"] and mgb2[1].elements == ("B",)
    assert [c.key for c in centre_choices(read_crystal("Nb"))] == ["2a"]
    entries = [{"key": "4a", "name": "C 4a", "default": False, "summary": {"verdict": "none", "best_filling": 0.9}},
               {"key": "4b", "name": "Nb 4b", "default": False, "error": "boom"},
               {"key": "4a+4b", "name": "all atoms", "default": True, "summary": {"verdict": "superconducting"}}]
    assert centre_key_values(entries) == {
        "verdict_4a": "none", "best_filling_4a": 0.9, "verdict_4b": "failed", "centres": "4a+4b",
        "centre_verdicts": "C 4a: none; Nb 4b: failed; all atoms: superconducting",
        "centres_superconducting": "all atoms"}
    assert centre_key_values(entries[2:]) == {}


# name -> verdict per centre choice key (the all-atoms choice is the headline); absent: no superconducting band
FAKE_CENTRES = {
    "NbC": {"4a": False, "4b": True, "4a+4b": True},  # TP
    "TiC": {"4a": False, "4b": False, "4a+4b": True},  # disputed: outside the matrix
    "ZrC": {"4a": True, "4b": False, "4a+4b": False},  # TN, but FP if any choice counts
    "NbN": {"4a": False, "4b": True, "4a+4b": False},  # FN, TP if any choice counts
    "MgB2": {"1a": False, "2d": True, "1a+2d": True},  # TP
    "TiB2": {"1a": False, "2d": False, "1a+2d": False},  # TN
}


@pytest.fixture
def fake_compound_analysis(monkeypatch):
    """The real orchestration of :func:`nhm.screen.task.analyze_crystal` around a fake ``analyze``: each choice of
    centres gets the verdict of FAKE_CENTRES; TiB2's B-only choice fails."""
    from dataclasses import dataclass

    import nhm.report.analyze as analyze_module
    from nhm.crystal import read_crystal
    from nhm.screen import task

    calls: list[tuple[str, tuple]] = []

    @dataclass
    class Fake:
        crystal: object
        key: str
        from_cache: bool = False

    def fake_analyze(atoms, *, centres=None, **kw):
        crystal = read_crystal(atoms)
        labels = tuple(centres) if centres else tuple(dict.fromkeys(o.label for o in crystal.orbits))
        name = crystal.atoms.get_chemical_formula(mode="metal", empirical=True)
        calls.append((name, labels))
        if name == "TiB2" and labels == ("2d",):
            raise RuntimeError("fake search failure on 2d")
        return Fake(crystal, "+".join(labels))

    def fake_document(an, name):
        found = FAKE_CENTRES.get(name, {}).get(an.key, False)
        doc = task.clean_json(fake_doc(name, found))
        doc["wannier_centres"] = an.key.split("+")
        return doc

    monkeypatch.setattr(analyze_module, "analyze", fake_analyze)
    monkeypatch.setattr(task, "_document", fake_document)
    return calls


@pytest.fixture
def compound_db(tmp_path, threaded_client, fake_compound_analysis):  # noqa: F811 - the imported fixture
    from nhm.screen.run import screen

    db = tmp_path / "c.db"
    s = screen(list(FAKE_CENTRES), db=str(db), scheduler=threaded_client, isolate=False, progress=False)
    assert sorted(s.computed) == sorted(FAKE_CENTRES) and not s.failed
    assert ("NbC", ("4a",)) in fake_compound_analysis and ("NbC", ("4a", "4b")) in fake_compound_analysis
    return db


def test_each_choice_of_centres_is_stored_in_the_row(compound_db):
    import ase.db

    rows = {r.name: r for r in ase.db.connect(str(compound_db)).select()}
    nbc = rows["NbC"]
    assert nbc.verdict == "superconducting" and nbc.centres == "4a+4b" and nbc.kind == "compound"
    assert nbc.verdict_4a == "none" and nbc.verdict_4b == "superconducting"
    assert nbc.centres_superconducting == "Nb 4b; all atoms (C 4a + Nb 4b)"
    choices = nbc.data["centre_choices"]
    assert [c["key"] for c in choices] == ["4a", "4b", "4a+4b"] and choices[2]["default"]
    assert "analysis" in choices[0] and "analysis" not in choices[2]  # the headline's analysis is the row's own
    assert rows["TiB2"].verdict_2d == "failed" and "fake search failure" in rows["TiB2"].data["centre_choices"][1]["error"]
    assert rows["TiB2"].status == "ok"  # one failing choice leaves the row standing
    assert [r.id for r in ase.db.connect(str(compound_db)).select(verdict_2d="superconducting")] == [rows["MgB2"].id]


def test_compound_report_matrix_any_centres_and_rejudging(compound_db):
    from nhm.screen.report import build_report
    from nhm.wannier.verdict import Criteria

    rep = build_report(str(compound_db))
    out = {r.name: r.outcome for r in rep.rows}
    assert out == {"TiC": "", "ZrC": "TN", "NbC": "TP", "NbN": "FN", "MgB2": "TP", "TiB2": "TN"}
    assert rep.matrix == {"TP": 0, "FP": 0, "FN": 0, "TN": 0}  # no elements
    assert rep.compounds.matrix == {"TP": 2, "FP": 0, "FN": 1, "TN": 2}
    assert rep.compounds_any_centres.matrix == {"TP": 3, "FP": 1, "FN": 0, "TN": 1}
    tic = next(r for r in rep.rows if r.name == "TiC")
    assert not tic.in_matrix and "disputed" in tic.excluded_reason and "dicataldo2025" in tic.excluded_reason
    nbc = next(r for r in rep.rows if r.name == "NbC")
    assert nbc.vec == 9 and nbc.family == "rocksalt-carbides" and nbc.measured_tc_K == pytest.approx(11.1)
    assert [(c.name, c.verdict) for c in nbc.centres][:2] == [("C 4a", "none"), ("Nb 4b", "superconducting")]
    assert set(rep.compound_sweep) == {"free-electron", "median", "widest"} and not rep.sweep
    wide = build_report(str(compound_db), criteria=Criteria(width_factor=1.3))  # every fake 12 eV band is now narrow
    assert wide.compounds.matrix == {"TP": 3, "FP": 2, "FN": 0, "TN": 0}
    assert all(c.verdict == "superconducting" for r in wide.rows for c in r.centres if c.verdict is not None)


def test_compound_report_files_figure_and_plotly_page(compound_db, tmp_path):
    out = tmp_path / "report"
    r = subprocess.run([*SCREEN, "--report", "--db", str(compound_db), "--out", str(out), "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Confusion matrix (compounds" in r.stdout and "if any choice of centres counts: TP 3" in r.stdout
    assert "Nb 4b SC" in r.stdout and "all atoms as Wannier centres" in r.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {"screen-results.csv", "screen-report.json", "compounds-tc-vec.png", "compounds-tc-vec.svg",
                     "compounds-tc-vec.html", "compounds-width-sweep.png", "compounds-width-sweep.svg"}
    assert (out / "compounds-tc-vec.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["compounds"]["confusion_matrix"] == {"TP": 2, "FP": 0, "FN": 1, "TN": 2}
    assert "all atoms" in doc["compounds"]["headline_centres"] and "nagamatsu2001" in doc["compounds"]["sources"]
    assert len(doc["compounds"]["not_computed"]) == 21 - len(FAKE_CENTRES)
    csv_lines = (out / "screen-results.csv").read_text().splitlines()
    assert "vec" in csv_lines[0].split(",") and any(line.startswith(tuple("0123456789")) and ",NbC," in line for line in csv_lines)
    page = (out / "compounds-tc-vec.html").read_text()
    parsed = check_self_contained_html(page)
    assert parsed.scripts >= 1 and "Plotly" in page  # plotly embedded, not fetched
    assert "centres Nb 4b" in page and "11.1 K" in page and "dicataldo2025" in page  # hover: centres, reports
    assert "Confusion matrix (compounds" in page and "Sources" in page


# --- GPAW: two small compounds ----------------------------------------------------------------------


@pytest.mark.slow
def test_screen_and_report_two_compounds_with_gpaw(tmp_path, dft_cache):
    """ZrN (rock salt) and AlB2 (AlB2 type) at a light k mesh, end to end: rows with every choice of centres from
    one DFT run each, the report with its matrix, the Tc-VEC figure and the plotly page, and a resumed screen."""
    import ase.db

    from nhm.screen.exports import write_exports
    from nhm.screen.report import build_report
    from nhm.screen.run import screen

    db = tmp_path / "compounds.db"
    s = screen(["ZrN", "AlB2"], db=str(db), workers=2, parameters=small_parameters(), cache_dir=dft_cache, progress=False)
    assert sorted(s.computed) == ["AlB2", "ZrN"] and not s.failed, s.errors
    rows = {r.name: r for r in ase.db.connect(str(db)).select()}
    for name, keys in (("ZrN", ["4a", "4b", "4a+4b"]), ("AlB2", ["1a", "2d", "1a+2d"])):
        row = rows[name]
        assert row.kind == "compound" and row.status == "ok" and row.centres == keys[-1], name
        choices = row.data["centre_choices"]
        assert [c["key"] for c in choices] == keys and all("error" not in c for c in choices), name
        for c in choices[:-1]:
            assert c["analysis"]["wannier_centres"] == [c["key"]] and row.get(f"verdict_{c['key']}") in ("superconducting", "none")
        assert row.data["analysis"]["wannier_centres"] == keys[-1].split("+")
    rep = build_report(str(db))
    assert {r.name: r.group for r in rep.rows} == {"ZrN": "compound", "AlB2": "compound"}
    assert sum(rep.compounds.matrix.values()) == 2 and all(len(r.centres) == 3 for r in rep.rows)
    files = {Path(f).name for f in write_exports(rep, str(tmp_path / "out"))}
    assert {"compounds-tc-vec.png", "compounds-tc-vec.svg", "compounds-tc-vec.html", "screen-report.json"} <= files
    check_self_contained_html((tmp_path / "out" / "compounds-tc-vec.html").read_text())
    again = screen(["ZrN", "AlB2"], db=str(db), workers=1, parameters=small_parameters(), cache_dir=dft_cache, progress=False)
    assert again.computed == [] and sorted(again.skipped) == ["AlB2", "ZrN"]
