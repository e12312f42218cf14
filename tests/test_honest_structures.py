"""Issue 13, item 5: honest structures — disorder refused, --symprec with a default that reads hand-typed
CIFs, a warning when a looser tolerance is more symmetric, and the caveats of magnetic and heavy elements
(returned as notes of the analysis, so also in its JSON)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from nhm.crystal import DEFAULT_SYMPREC, read_crystal
from nhm.crystal.caveats import magnetism_note, spin_orbit_note, structure_notes, symmetry_note
from nhm.errors import InputError

HEADER = """data_x
_cell_length_a 3.0864
_cell_length_b 3.0864
_cell_length_c 3.5215
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
"""
HEX_191 = "_symmetry_space_group_name_H-M 'P 6/m m m'\n_symmetry_Int_Tables_number 191\n"
SITES = "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"

# MgB2 as a user types it from a paper: P1, all atoms, four digits
MGB2_P1 = HEADER + "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_symmetry_equiv_pos_as_xyz\n'x, y, z'\n" + SITES + (
    "Mg1 Mg 0.0000 0.0000 0.0000\nB1 B 0.3333 0.6667 0.5000\nB2 B 0.6667 0.3333 0.5000\n"
)
PARTIAL = HEADER + HEX_191 + SITES + "_atom_site_occupancy\nMg1 Mg 0.0 0.0 0.0 0.9\nB1 B 0.333333 0.666667 0.5 1.0\n"
MIXED = HEADER + HEX_191 + SITES + (
    "_atom_site_occupancy\nMg1 Mg 0.0 0.0 0.0 0.5\nAl1 Al 0.0 0.0 0.0 0.5\nB1 B 0.333333 0.666667 0.5 1.0\n"
)
FULL = HEADER + HEX_191 + SITES + "_atom_site_occupancy\nMg1 Mg 0.0 0.0 0.0 1.0\nB1 B 0.3333 0.6667 0.5 1.0\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def nhm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nhm.cli", *args], capture_output=True, text=True, timeout=timeout)


def stderr_lines(r: subprocess.CompletedProcess) -> list[str]:
    return [line for line in r.stderr.splitlines() if line.strip()]


# --- disorder ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,needle", [(PARTIAL, "Mg 0.9"), (MIXED, "Al 0.5 + Mg 0.5")])
def test_partial_and_mixed_occupancy_are_refused(tmp_path, text, needle):
    path = write(tmp_path, "disordered.cif", text)
    with pytest.raises(InputError, match="disordered crystal") as info:
        read_crystal(path)
    assert needle in str(info.value) and "ordered" in str(info.value)


def test_full_occupancy_is_read(tmp_path):
    c = read_crystal(write(tmp_path, "full.cif", FULL))
    assert c.space_group == 191 and [o.label for o in c.orbits] == ["1a", "2d"]


@pytest.mark.parametrize("command", ["analyze", "classify"])
def test_cli_refuses_disorder_in_one_line_before_any_dft(tmp_path, command):
    path = str(write(tmp_path, "mixed.cif", MIXED))
    args = ["analyze", path, "--no-plot"] if command == "analyze" else ["classify", "--structure", path, "--band", "GM:GM1+"]
    start = time.monotonic()
    r = nhm(*args)
    assert time.monotonic() - start < 60  # no DFT run
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = stderr_lines(r)
    assert line.startswith("nhm: error: ") and "disordered crystal" in line


# --- symprec -----------------------------------------------------------------------------------------


def test_hand_typed_mgb2_is_p6mmm_by_default_and_cmmm_at_1e_5(tmp_path):
    path = write(tmp_path, "MgB2.cif", MGB2_P1)
    assert DEFAULT_SYMPREC == 1e-3
    c = read_crystal(path)
    assert (c.space_group, c.symprec) == (191, 1e-3)
    assert [(o.element, o.label) for o in c.orbits] == [("Mg", "1a"), ("B", "2d")]
    assert symmetry_note(c) is None
    tight = read_crystal(path, symprec=1e-5)
    assert tight.space_group == 65  # Cmmm: what the issue reported
    note = symmetry_note(tight)
    assert note and "191 (P6/mmm)" in note and "--symprec 0.001" in note


def test_exact_structures_need_no_symmetry_warning():
    for el in ("Nb", "Mg", "Bi", "Al"):
        assert symmetry_note(read_crystal(el)) is None


@pytest.mark.parametrize("value", ["0", "-1e-3", "nan", "inf"])
def test_bad_symprec_is_refused(value):
    r = nhm("classify", "--structure", "Nb", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1 N:N2+", "--symprec", value)
    assert r.returncode == 2 and "--symprec" in r.stderr and len(stderr_lines(r)) == 1


def test_classify_prints_the_group_found_and_warns_about_a_looser_tolerance(tmp_path):
    path = str(write(tmp_path, "MgB2.cif", MGB2_P1))
    band = "GM:GM1+ A:A1+ K:K1 H:H1 M:M1+ L:L1+"
    r = nhm("classify", "--structure", path, "--wyckoff", "1a", "--band", band)
    assert r.returncode == 0, r.stderr
    assert "space group 191 (P6/mmm) at symprec 0.001 Å" in r.stdout and r.stderr == ""
    r = nhm("classify", "--structure", path, "--symprec", "1e-5", "--wyckoff", "2a", "--band", "GM:GM1+", "--json")
    lines = stderr_lines(r)
    assert lines[0].startswith("nhm: warning: ") and "191 (P6/mmm)" in lines[0] and "--symprec 0.001" in lines[0]


# --- magnetic and heavy elements --------------------------------------------------------------------


def _swap(symbol: str):
    atoms = bulk("Cu", "fcc", a=4.0)
    atoms.set_chemical_symbols([symbol] * len(atoms))
    return atoms


@pytest.mark.parametrize(
    "symbol,magnetic,heavy",
    [("Cu", False, False), ("Fe", True, False), ("Ni", True, False), ("Gd", True, False), ("La", False, False),
     ("Lu", False, False), ("Pb", False, True), ("Hf", False, True), ("U", True, True), ("Ba", False, False)],
)
def test_element_caveats(symbol, magnetic, heavy):
    c = read_crystal(_swap(symbol))
    assert (magnetism_note(c) is not None, spin_orbit_note(c) is not None) == (magnetic, heavy)
    if magnetic:
        assert "non-magnetic" in magnetism_note(c) and "verdict" in magnetism_note(c)
    if heavy:
        assert "spin–orbit" in spin_orbit_note(c) and "verdict" in spin_orbit_note(c)


def test_caveats_are_notes_of_the_analysis_and_in_its_json(monkeypatch):
    """analyze() returns the structure's caveats as notes (GPAW replaced by a stand-in)."""
    import nhm.report.analyze as ra
    from nhm.bands.dft import DftParameters, ScfResult

    def fake_scf(crystal, params, **kw):
        return ScfResult("k", 5.0, -1.0, True, 1, 0.0, "", params)

    monkeypatch.setattr(ra, "run_scf", fake_scf)
    monkeypatch.setattr(ra, "bloch_states_at_points", lambda *a, **kw: {})
    an = ra.analyze("Fe", with_zone=False, parameters=DftParameters(kmesh=2))
    assert any(n.startswith("Fe: magnetic element") for n in an.notes)
    assert any("Fe: magnetic element" in n for n in ra.analysis_json(an)["notes"])
    an = ra.analyze("Pb", with_zone=False)
    assert any(n.startswith("Pb: heavy element") for n in an.notes)
    an = ra.analyze("Nb", with_zone=False)
    assert not any("element" in n for n in an.notes)
    assert np.isclose(an.crystal.symprec, DEFAULT_SYMPREC)
