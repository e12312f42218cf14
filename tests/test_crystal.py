"""Reading crystals and standardizing them to the BCS setting (nhm.crystal.structure)."""

from __future__ import annotations

import json

import ase
import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.spacegroup import crystal
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.crystal import AtomOrbit, Crystal, read_crystal
from nhm.errors import InputError


def labels(crystal: Crystal) -> list[tuple[str, str]]:
    return [(o.element, o.label) for o in crystal.orbits]


def mgb2() -> ase.Atoms:
    a, c = 3.086, 3.524
    cell = [[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]]
    return ase.Atoms(
        "MgB2",
        scaled_positions=[(0, 0, 0), (1 / 3, 2 / 3, 1 / 2), (2 / 3, 1 / 3, 1 / 2)],
        cell=cell,
        pbc=True,
    )


def same_point(x, y, tol=1e-6) -> bool:
    d = np.asarray(x) - np.asarray(y)
    return bool(np.all(np.abs(d - np.round(d)) < tol))


# --- elements ----------------------------------------------------------------------------------


def test_niobium_bcc():
    nb = read_crystal("Nb")
    assert (nb.space_group, nb.international, nb.hall_number) == (229, "Im-3m", 529)
    assert len(nb.orbits) == 1
    orbit = nb.orbits[0]
    assert isinstance(orbit, AtomOrbit)
    assert (orbit.element, orbit.label, orbit.site_symmetry) == ("Nb", "2a", "m-3m")
    assert orbit.representative == (0.0, 0.0, 0.0)
    a = nb.lattice[0, 0]
    assert np.allclose(nb.lattice, a * np.eye(3))
    assert a == pytest.approx(bulk("Nb").cell.cellpar()[0] * 2 / np.sqrt(3))
    prim = nb.primitive_atoms()
    assert len(prim) == 1
    assert prim.get_volume() == pytest.approx(a**3 / 2)
    conv = nb.conventional_atoms()
    assert len(conv) == 2 and conv.get_volume() == pytest.approx(a**3)


@pytest.mark.parametrize("symbol", ["Cu", "Al", "Pb"])
def test_fcc_metals(symbol):
    c = read_crystal(symbol)
    assert c.space_group == 225
    assert labels(c) == [(symbol, "4a")]
    assert c.orbits[0].site_symmetry == "m-3m"
    assert len(c.primitive_atoms()) == 1
    assert c.primitive_atoms().get_volume() == pytest.approx(c.conventional_atoms().get_volume() / 4)


def test_magnesium_hcp_is_2c():
    mg = read_crystal("Mg")
    assert mg.space_group == 194
    assert labels(mg) == [("Mg", "2c")]
    assert mg.orbits[0].site_symmetry == "-6m2"
    assert same_point(mg.orbits[0].representative, (1 / 3, 2 / 3, 1 / 4))
    assert len(mg.primitive_atoms()) == 2


def test_lattice_constant_override():
    nb = read_crystal("Nb", a=3.30)
    assert nb.lattice[0, 0] == pytest.approx(3.30)
    ref = read_crystal("Mg")
    mg = read_crystal("Mg", a=3.0)
    cpar, ref_cpar = mg.conventional_atoms().cell.cellpar(), ref.conventional_atoms().cell.cellpar()
    assert cpar[0] == pytest.approx(3.0)
    assert cpar[2] / cpar[0] == pytest.approx(ref_cpar[2] / ref_cpar[0])  # c/a kept


def test_diamond_silicon_origin_choice_2():
    si = read_crystal(bulk("Si"))
    assert si.space_group == 227
    assert si.hall_number == 526  # F d -3 m, origin choice 2
    assert labels(si) == [("Si", "8a")]
    assert si.orbits[0].site_symmetry == "-43m"
    # origin choice 2 puts 8a at 1/8,1/8,1/8 (origin choice 1 would put it at 0,0,0)
    assert si.orbits[0].representative == pytest.approx((0.125, 0.125, 0.125))
    assert len(si.positions) == 8
    assert any(same_point(x, (0.125, 0.125, 0.125)) for x in si.positions)
    assert not any(same_point(x, (0, 0, 0)) for x in si.positions)


def test_mgb2():
    c = read_crystal(mgb2())
    assert (c.space_group, c.international) == (191, "P6/mmm")
    assert labels(c) == [("Mg", "1a"), ("B", "2d")]
    assert c.orbits[1].site_symmetry == "-6m2"


def test_mgb2_shifted_by_half_c_keeps_mg_on_1a():
    # the normalizer shift (0,0,1/2) would give Mg 1b + B 2c; we pick the lower letters
    atoms = mgb2()
    atoms.translate(atoms.cell.cartesian_positions([0, 0, 0.5]))
    assert labels(read_crystal(atoms)) == [("Mg", "1a"), ("B", "2d")]


def test_perovskite_and_rocksalt_orbit_choice():
    srtio3 = crystal(
        ["Sr", "Ti", "O"], [(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)], spacegroup=221,
        cellpar=[3.905, 3.905, 3.905, 90, 90, 90],
    )
    assert labels(read_crystal(srtio3)) == [("Sr", "1a"), ("Ti", "1b"), ("O", "3c")]
    nacl = crystal(["Cl", "Na"], [(0, 0, 0), (0.5, 0.5, 0.5)], spacegroup=225, cellpar=[5.64] * 3 + [90] * 3)
    assert labels(read_crystal(nacl)) == [("Na", "4a"), ("Cl", "4b")]


def test_bismuth_rhombohedral_in_hexagonal_axes():
    bi = read_crystal("Bi")  # ASE's reference is the rhombohedral A7 structure
    assert (bi.space_group, bi.international, bi.hall_number) == (166, "R-3m", 458)
    assert labels(bi) == [("Bi", "6c")]
    assert bi.orbits[0].site_symmetry == "3m"
    x, y, z = bi.orbits[0].representative
    assert (x, y) == (0.0, 0.0) and 0 < z < 0.5
    a, b, c, alpha, beta, gamma = bi.conventional_atoms().cell.cellpar()
    assert a == pytest.approx(b) and gamma == pytest.approx(120) and alpha == pytest.approx(90)
    assert len(bi.positions) == 6
    assert len(bi.primitive_atoms()) == 2


# --- files -------------------------------------------------------------------------------------


def test_cif_round_trip(tmp_path):
    path = tmp_path / "mgb2.cif"
    ase.io.write(path, mgb2())
    for source in (path, str(path)):
        c = read_crystal(source)
        assert c.space_group == 191
        assert labels(c) == [("Mg", "1a"), ("B", "2d")]


def test_poscar_round_trip(tmp_path):
    path = tmp_path / "POSCAR"
    ase.io.write(path, bulk("Si"), format="vasp")
    si = read_crystal(path)
    assert si.space_group == 227 and labels(si) == [("Si", "8a")]


def test_file_named_like_an_element_takes_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ase.io.write("Nb", bulk("Cu"), format="extxyz")  # a file that ASE reads without a suffix
    assert read_crystal("Nb").space_group == 225


# --- the returned object -----------------------------------------------------------------------


def test_transformation_relates_input_and_standard_cell():
    atoms = bulk("Mg").repeat((2, 1, 1))
    atoms.translate(atoms.cell.cartesian_positions([0.13, 0.41, 0.07]))
    atoms.wrap()
    c = read_crystal(atoms)
    assert c.atoms is atoms
    p, r = c.transformation_matrix, c.std_rotation_matrix
    assert np.allclose(np.linalg.inv(p).T @ atoms.cell[:] @ r.T, c.lattice, atol=1e-8)
    x_std = atoms.get_scaled_positions() @ p.T + c.origin_shift
    for x, z in zip(x_std, atoms.numbers):
        assert any(same_point(x, y) for y, zz in zip(c.positions, c.numbers) if zz == z)
    assert not c.positions.flags.writeable


def test_summary_is_json_ready():
    s = read_crystal(mgb2()).summary()
    text = json.dumps(s)
    back = json.loads(text)
    assert back["space_group"] == 191
    assert back["international"] == "P6/mmm"
    assert [o["wyckoff"] for o in back["orbits"]] == ["1a", "2d"]
    assert back["cell_parameters"]["a"] == pytest.approx(3.086)


# --- bad input ---------------------------------------------------------------------------------


def test_unknown_element():
    with pytest.raises(InputError, match="'Xx' is neither a chemical element nor a readable structure file"):
        read_crystal("Xx")


@pytest.mark.parametrize("symbol", ["H", "N", "O", "He"])
def test_elements_without_bulk_reference(symbol):
    with pytest.raises(InputError, match=f"'{symbol}'.*structure file"):
        read_crystal(symbol)


def test_lowercase_symbol_is_not_an_element():
    with pytest.raises(InputError, match="'nb' is neither"):
        read_crystal("nb")


def test_garbage_file(tmp_path):
    path = tmp_path / "bad.cif"
    path.write_text("this is not a crystal\n%%% 1 2 3 ???\n")
    with pytest.raises(InputError, match="cannot read a crystal structure from '.*bad.cif'"):
        read_crystal(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.cif"
    path.write_text("")
    with pytest.raises(InputError, match="empty.cif"):
        read_crystal(str(path))


def test_directory_and_empty_name(tmp_path):
    with pytest.raises(InputError, match="directory"):
        read_crystal(tmp_path)
    with pytest.raises(InputError, match="no structure given"):
        read_crystal("")


def test_missing_path():
    with pytest.raises(InputError, match="nosuch.cif"):
        read_crystal("nosuch.cif")


def test_non_periodic_atoms():
    molecule = ase.Atoms("H2O", positions=[(0, 0, 0), (0.96, 0, 0), (-0.24, 0.93, 0)])
    with pytest.raises(InputError, match="H2O.*not periodic"):
        read_crystal(molecule)


def test_xyz_without_cell(tmp_path):
    path = tmp_path / "water.xyz"
    path.write_text("3\n\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n")
    with pytest.raises(InputError, match="water.xyz"):
        read_crystal(path)


def test_overlapping_atoms_name_the_tolerance():
    atoms = bulk("Cu") + ase.Atoms("Cu", positions=[(1e-6, 0, 0)])
    with pytest.raises(InputError, match=r"1e-06 Å apart, closer than 0.5 × the sum of their covalent radii"):
        read_crystal(atoms, symprec=1e-5)  # refused before spglib sees it (issue 21)
    with pytest.raises(InputError, match="symprec=1e-300.*larger symprec"):
        read_crystal("Al", symprec=1e-300)  # spglib's own failure still names the tolerance


def test_nonpositive_symprec():
    with pytest.raises(InputError, match="symprec"):
        read_crystal("Nb", symprec=0)


def test_a_refused_for_structures():
    with pytest.raises(InputError, match="a="):
        read_crystal(bulk("Nb"), a=3.3)


# --- invariance under how the input is written ------------------------------------------------

_INPUTS = {symbol: bulk(symbol) for symbol in ("Nb", "Cu", "Mg")}
_EXPECTED = {symbol: (c.space_group, labels(c)) for symbol, c in
             ((s, read_crystal(a)) for s, a in _INPUTS.items())}


@settings(max_examples=40, deadline=None)
@given(
    symbol=st.sampled_from(sorted(_INPUTS)),
    repeat=st.sampled_from([(1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2)]),
    shift=st.tuples(*[st.floats(0, 1, allow_nan=False)] * 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_rigid_shift_and_permutation_invariance(symbol, repeat, shift, seed):
    atoms = _INPUTS[symbol].repeat(repeat)
    atoms.translate(atoms.cell.cartesian_positions(shift))
    atoms.wrap()
    atoms = atoms[np.random.default_rng(seed).permutation(len(atoms))]
    c = read_crystal(atoms)
    assert (c.space_group, labels(c)) == _EXPECTED[symbol]
    reference = read_crystal(_INPUTS[symbol])
    for o, ref in zip(c.orbits, reference.orbits):
        assert same_point(o.representative, ref.representative)
