"""Space groups, SU(2) lifts, little groups, irreps and co-representations against spglib, spgrep and BCS."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import spglib
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.crystal.setting import bcs_hall_number, centering_vectors
from nhm.errors import InputError
from nhm.groups.bcs import bcs_table
from nhm.groups.irreps import little_group
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.seitz import SeitzOp, seitz_symbol
from nhm.groups.spacegroup import space_group

ALL_GROUPS = range(1, 231)
HEXAGONAL_FAMILY = set(range(143, 195))


@pytest.mark.parametrize("n", ALL_GROUPS)
def test_bcs_operations_are_spglibs_in_the_bcs_setting(n):
    """Each BCS coset representative is an operation of spglib's group for bcs_hall_number(n)."""
    g = space_group(n)
    sym = spglib.get_symmetry_from_database(bcs_hall_number(n))
    rots, trans = sym["rotations"], sym["translations"]
    assert len(rots) == g.order * len(centering_vectors(n))
    for op in g.operations:
        match = [
            t for r, t in zip(rots, trans) if (r == np.array(op.rotation)).all()
        ]
        assert match, f"rotation {op.rotation} of SG {n} missing in spglib"
        t_ref = [Fraction(float(x)).limit_denominator(48) for x in match[0]]
        delta = tuple(a - b for a, b in zip(op.translation, t_ref))
        assert g.is_lattice_vector(delta), (n, seitz_symbol(op), t_ref)


def _rotation_angle(r_cart: np.ndarray) -> float:
    return float(np.arccos(np.clip((np.trace(r_cart) - 1) / 2, -1, 1)))


def _frame(n: int) -> np.ndarray:
    """Cartesian frame (rows a1, a2, a3) in which BCS's spin matrices are ±spgrep's (science.md §2.2)."""
    if n in HEXAGONAL_FAMILY:
        return np.array([[0.0, 1.0, 0.0], [np.sqrt(3) / 2, -0.5, 0.0], [0.0, 0.0, 1.0]])
    return np.eye(3)


@pytest.mark.parametrize("n", [n for n in ALL_GROUPS if n >= 16])  # orthorhombic and up: frame fixed by symmetry
def test_bcs_lifts_are_su2_rotations_by_angle_at_most_pi(n):
    from spgrep.spinor import get_spinor_unitary_rotation

    g = space_group(n)
    lat = _frame(n)
    for op in g.operations:
        u = op.su2
        assert np.allclose(u @ u.conj().T, np.eye(2), atol=1e-4)
        assert abs(np.linalg.det(u) - 1) < 1e-4
        r = np.array(op.rotation) * round(np.linalg.det(op.rotation))
        theta = _rotation_angle(lat.T @ r @ np.linalg.inv(lat.T))
        assert np.trace(u).real == pytest.approx(2 * np.cos(theta / 2), abs=1e-4)
        ref = get_spinor_unitary_rotation(lat, np.array(op.rotation))
        assert np.allclose(u, ref, atol=1e-4) or np.allclose(u, -ref, atol=1e-4), (n, seitz_symbol(op))


@pytest.mark.parametrize("n", ALL_GROUPS)
def test_multiplication_closes_with_lattice_translations_and_lift_signs(n):
    g = space_group(n)
    table, delta, sign = g.multiplication
    rng = np.random.default_rng(n)
    for _ in range(20):
        i, j = rng.integers(0, g.order, 2)
        prod = g.operations[i] @ g.operations[j]
        m, d, s = g.reduce(prod)
        assert m == table[i, j] and s == sign[i, j]
        assert np.allclose([float(x) for x in d], delta[i, j])


def _check_little_group(n: int, kname: str, double: bool) -> None:
    lg = little_group(n, kname, double=double)
    order = lg.order
    assert sum(r.dimension**2 for r in lg.irreps) == order
    chars = np.array([r.characters for r in lg.irreps])
    assert np.allclose(chars.conj() @ chars.T / order, np.eye(len(lg.irreps)), atol=1e-8)
    # matrices form a projective representation with the factor system
    table, _, _ = lg.space_group.multiplication
    pos = {i: a for a, i in enumerate(lg.indices)}
    for r in lg.irreps:
        for a, i in enumerate(lg.indices):
            for b, j in enumerate(lg.indices):
                c = pos[table[i, j]]
                assert np.allclose(r.matrices[a] @ r.matrices[b], lg.factor_system[a, b] * r.matrices[c], atol=1e-8)
    # every BCS irrep and co-rep is matched exactly once
    bcs = {ir.label for ir in bcs_table(n, double, False).kpoint(lg.name).irreps}
    assert {r.label for r in lg.irreps} == bcs
    bcs_co = {ir.label for ir in bcs_table(n, double, True).kpoint(lg.name).irreps}
    assert {c.label for c in lg.coreps} == bcs_co
    # co-reps: each irrep used once (twice when doubled)
    used = sorted(i for c in lg.coreps for i in dict.fromkeys(c.components))
    assert used == list(range(len(lg.irreps)))


@pytest.mark.slow
@pytest.mark.parametrize("n", ALL_GROUPS)
def test_irreps_and_coreps_of_every_maximal_k_match_bcs(n):
    """Acceptance: all 230 groups, single and double, every maximal k-vector (KA/HA included)."""
    for double in (False, True):
        for kp in bcs_table(n, double, False).kpoints:
            _check_little_group(n, kp.name, double)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 230), st.booleans(), st.data())
def test_irreps_property_random_groups(n, double, data):
    kps = bcs_table(n, double, False).kpoints
    kp = data.draw(st.sampled_from(kps))
    _check_little_group(n, kp.name, double)


def test_known_spgrep_failures_are_guarded():
    """spgrep 0.8 fails at W of SG 24 and 73 (science.md §2.4); our fallback produces the BCS irrep."""
    for n in (24, 73):
        lg = little_group(n, "W")
        assert [r.label for r in lg.irreps] == ["W1"]
        assert lg.irreps[0].dimension == 2


def test_bcc_labels_and_products_with_spin_half():
    """science.md §2.6: Γ1+⊗D½ = Γ6+, Γ3+⊗D½ = Γ8+, Γ4+⊗D½ = Γ6+ ⊕ Γ8+, Γ5+⊗D½ = Γ7+ ⊕ Γ8+ (Bethe names);
    in BCS labels: GM1+⊗D½ = -GM6, GM3+⊗D½ = -GM10, GM4+⊗D½ = -GM6 ⊕ -GM10, GM5+⊗D½ = -GM7 ⊕ -GM10."""
    single = little_group(229, "GM")
    double = little_group(229, "GM", double=True)
    tr_s = np.array([np.trace(op.su2) for op in single.space_group.operations])[list(double.indices)]
    expect = {"GM1+": {"-GM6": 1}, "GM3+": {"-GM10": 1}, "GM4+": {"-GM6": 1, "-GM10": 1}, "GM5+": {"-GM7": 1, "-GM10": 1}}
    for label, want in expect.items():
        chi = single.irrep(label).characters * tr_s
        m = double.decompose(chi)
        got = {r.label: int(x) for r, x in zip(double.irreps, m) if x}
        assert got == want, label


def test_n_point_of_bcc_every_irrep_times_spin_is_n5_or_n6():
    single = little_group(229, "N")
    double = little_group(229, "N", double=True)
    tr_s = np.array([np.trace(single.space_group.operations[i].su2) for i in double.indices])
    for r in single.irreps:
        m = double.decompose(r.characters * tr_s)
        got = {d.label for d, x in zip(double.irreps, m) if x}
        assert got == ({"-N5"} if r.label.endswith("+") else {"-N6"})


def test_points_of_symmetry_of_bcc_and_primitive_coordinates():
    pts = {p.name: p for p in points_of_symmetry(229)}
    assert set(pts) == {"GM", "H", "P", "N"}
    assert pts["N"].primitive == (0, 0, Fraction(1, 2))
    assert pts["P"].little_cogroup_order == 24
    hexa = {p.name for p in points_of_symmetry(143)}
    assert {"K", "KA", "H", "HA"} <= hexa


def test_exact_k_finds_the_right_little_group_at_h_of_194():
    """science.md §2.3: with k = 0.333333 spgrep finds a wrong little group at H of SG 194; exact k is right."""
    lg = little_group(194, (Fraction(1, 3), Fraction(1, 3), Fraction(1, 2)))
    assert lg.name == "H" and lg.order == 12
    lg_float = little_group(194, (0.333333, 0.333333, 0.5))
    assert lg_float.order == 12


def test_bad_input():
    with pytest.raises(InputError, match="1 to 230"):
        space_group(231)
    with pytest.raises(InputError, match="no maximal k-vector 'X'"):
        little_group(229, "X")
    with pytest.raises(InputError, match="no irrep"):
        little_group(229, "N").irrep("N7+")


def test_seitz_composition_and_inverse():
    g = space_group(227)
    for a in g.operations[:10]:
        e = a @ a.inverse()
        assert e.rotation == ((1, 0, 0), (0, 1, 0), (0, 0, 1))
        assert all(x == 0 for x in e.translation)
        assert np.allclose(e.su2, np.eye(2))
    assert isinstance(g.operations[0], SeitzOp)


def test_rotation_indices_tell_every_rotation_and_refuse_others():
    for n in (1, 2, 47, 166, 194, 221, 229):
        g = space_group(n)
        assert (g.rotation_indices(g.rotations) == np.arange(g.order)).all()
        assert g.rotation_indices(g.rotations[None, ::-1]).tolist() == [list(range(g.order))[::-1]]
    with pytest.raises(Exception, match="not in space group 1"):
        space_group(1).rotation_indices(-np.eye(3, dtype=int))
