"""The shipped table of compounds: its provenance and the crystals built from it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from nhm.errors import InputError

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
