"""Krüger's tests (usual vs spin-dependent Wannier functions) and the superconducting-band search."""

from __future__ import annotations

from collections import Counter
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.bandrep.ebr import site_representations as site_reps_of
from nhm.bandrep.induce import induce
from nhm.bands.symmetry import BandSymmetry, parse_band, points_of_symmetry_names
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.wyckoff import wyckoff_position, wyckoff_positions
from nhm.wannier.krueger import classify
from nhm.wannier.connected import LevelChoice
from nhm.wannier.points_only import points_only_search

BCC_ORACLE = {
    # site irrep (single-valued, one WF per atom): (GM, H, P, N of the usual band, N of the SC types)
    "A1g": ("GM1+", "H1+", "P1", "N1+", {"N2+", "N3+", "N4+"}),
    "A2g": ("GM2+", "H2+", "P2", "N2+", {"N1+", "N3+", "N4+"}),
    "A2u": ("GM2-", "H2-", "P1", "N2-", {"N1-", "N3-", "N4-"}),
    "A1u": ("GM1-", "H1-", "P2", "N1-", {"N2-", "N3-", "N4-"}),
}


def test_bcc_oracle_all_256_one_branch_tuples():
    """science.md §3: at 2a of Im-3m under R1, 4 usual bands, 12 superconducting-band types, 240 neither."""
    a = wyckoff_position(229, "a")
    verdicts: dict[tuple, str] = {}
    for gm, h, p, n in product(
        ["GM1+", "GM1-", "GM2+", "GM2-"], ["H1+", "H1-", "H2+", "H2-"], ["P1", "P2"],
        [f"N{i}{s}" for i in range(1, 5) for s in "+-"],
    ):
        band = BandSymmetry(229, {"GM": (gm,), "H": (h,), "N": (n,), "P": (p,)})
        verdicts[(gm, h, p, n)] = classify(band, [a], reading="R1").verdict
    counts = Counter(verdicts.values())
    assert counts == {"usual": 4, "superconducting": 12, "neither": 240}
    for gm, h, p, n_usual, n_sc in BCC_ORACLE.values():
        assert verdicts[(gm, h, p, n_usual)] == "usual"
        for n in n_sc:
            assert verdicts[(gm, h, p, n)] == "superconducting"


def test_classification_explains_itself_point_by_point():
    a = wyckoff_position(229, "a")
    c = classify(parse_band("Γ:Γ1+ H:H1+ P:P1 N:N2+", 229), [a], reading="R1")
    assert c.verdict == "superconducting" and c.superconducting_band
    assert c.spin_site_representations and not c.usual_site_representations
    assert all(p.agrees for p in c.points_spin)
    failing = [p.k for p in c.points_usual if not p.agrees]
    assert failing == ["N"]  # test U fails exactly at N
    d = c.as_dict()
    assert d["usual"] is False and d["spin_dependent"] is True and d["reading"] == "R1"


def _induced_band(sg: int, letter: str, rho_index: int) -> BandSymmetry:
    w = wyckoff_position(sg, letter)
    rho = site_reps_of(w, False, False)[rho_index]
    names = points_of_symmetry_names(sg)
    br = induce(sg, w.point(), rho, names, double=False, time_reversal=False)
    return BandSymmetry(sg, {k: tuple(lbl for lbl, m in br.multiplicities[k].items() for _ in range(m)) for k in names})


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 230), st.data())
def test_band_induced_from_atoms_passes_u_and_s(sg, data):
    """Property: a band induced from a 1-dim site irrep at the atoms passes U, and so S."""
    w = data.draw(st.sampled_from(wyckoff_positions(sg)))
    reps = [i for i, r in enumerate(site_reps_of(w, False, False)) if r.dimension == 1]
    if not reps:
        return
    band = _induced_band(sg, w.letter, data.draw(st.sampled_from(reps)))
    c = classify(band, [w], reading="R1")
    assert c.usual and c.spin_dependent and c.verdict == "usual"


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 230), st.data())
def test_passing_u_implies_passing_s_under_both_readings(sg, data):
    w = data.draw(st.sampled_from([p for p in wyckoff_positions(sg) if p.maximal]))
    reps = [i for i, r in enumerate(site_reps_of(w, False, False)) if r.dimension == 1]
    if not reps:
        return
    band = _induced_band(sg, w.letter, data.draw(st.sampled_from(reps)))
    for reading in ("R1", "R2"):
        c = classify(band, [w], reading=reading)
        assert not c.usual or c.spin_dependent


def test_band_from_interstitial_site_is_neither_for_fcc_atom_at_4a():
    """fcc with the atom at 4a: bands induced from the octahedral interstitial 4b are 'neither'."""
    atom = wyckoff_position(225, "a")
    b = wyckoff_position(225, "b")
    for i, rho in enumerate(site_reps_of(b, False, False)):
        if rho.dimension != 1:
            continue
        band = _induced_band(225, "b", i)
        c = classify(band, [atom], reading="R1")
        assert c.verdict == "neither", rho.name


def test_hcp_two_atom_orbit_nonsymmorphic():
    """P6_3/mmc with the atoms at 2c (two atoms in the cell, μ = 2).

    The band induced from A1' at 2c (site -6m2) is usual by construction. Its spin-doubled partner
    structure is then checked: the same band with the A-point representation taken from a different
    2c-induced band (so the pieces come from two different usual bands) is not usual. Because 2c
    holds both atoms, μ = 2 and the band's representation at Γ is two-dimensional (a bonding and an
    antibonding combination); at A and H, which the screw axis makes degenerate, it is one 2-dim irrep.
    """
    c2 = wyckoff_position(194, "c")
    usual = _induced_band(194, "c", 0)
    assert classify(usual, [c2], reading="R1").verdict == "usual"
    assert all(usual.dimension(k) == 2 for k in usual.irreps)
    other = _induced_band(194, "c", 1)
    mixed = BandSymmetry(194, {**usual.irreps, "A": other.irreps["A"]})
    if mixed.irreps != usual.irreps:
        assert classify(mixed, [c2], reading="R1").verdict != "usual"


def test_mgb2_boron_2d_usual_band():
    """MgB2 (P6/mmm, B at 2d, site -6m2): the pz-like band induced from A2'' at 2d is usual, μ = 2."""
    d = wyckoff_position(191, "d")
    for i, rho in enumerate(site_reps_of(d, False, False)):
        if rho.dimension == 1:
            band = _induced_band(191, "d", i)
            assert classify(band, [d], reading="R1").verdict == "usual"


def test_bismuth_6c_non_maximal_position():
    """Bi (R-3m, atoms at 6c (0,0,z) in hexagonal axes, site 3m, a non-maximal position).

    Two atoms per primitive cell, μ = 2; bands induced from the 1-dim site irreps of 3m at 6c are usual.
    """
    c6 = wyckoff_position(166, "c")
    assert not c6.maximal
    for i, rho in enumerate(site_reps_of(c6, False, False)):
        if rho.dimension == 1:
            band = _induced_band(166, "c", i)
            assert all(band.dimension(k) == 2 for k in band.irreps)
            assert classify(band, [c6], reading="R1").verdict == "usual"


def test_bad_band_input():
    a = wyckoff_position(229, "a")
    with pytest.raises(InputError, match="no representation at N"):
        parse_band("GM:GM1+ H:H1+ P:P1", 229)
    with pytest.raises(InputError, match="not an irrep"):
        parse_band("GM:GM7+ H:H1+ P:P1 N:N1+", 229)
    with pytest.raises(InputError, match="dimension mismatch"):
        classify(parse_band("GM:GM5+ H:H1+ P:P1 N:N1+", 229), [a], reading="R1")
    with pytest.raises(InputError, match="no point of symmetry"):
        parse_band("X:X1", 229)


def test_r2_accepts_a_constituent_of_a_larger_representation():
    """Under R2, Γ5+ (3-dim) at Γ may host a 2-dim double constituent (Γ5+ ⊗ D½ = Γ7+ ⊕ Γ8+)."""
    a = wyckoff_position(229, "a")
    band = parse_band("GM:GM5+ H:H5+ P:P4 N:N1+", 229)
    c = classify(band, [a], reading="R2")
    assert c.spin_dependent and not c.usual


NB_LEVELS = [  # science.md §7 (GPAW, PBE): E - E_F in eV with BCS labels
    ("GM", -5.90, "GM1+"), ("GM", 0.37, "GM5+"), ("GM", 3.27, "GM3+"), ("H", -3.72, "H3+"), ("H", 5.62, "H5+"),
    ("P", -1.09, "P4"), ("P", 4.12, "P3"), ("N", -3.71, "N1+"), ("N", -1.65, "N3+"), ("N", 2.28, "N3-"),
    ("N", 3.31, "N1+"), ("N", 3.99, "N2+"), ("N", 6.39, "N4+"),
]


def test_search_on_nb_levels_finds_r2_candidates_only():
    """Nb's states at E_F are multi-dimensional at Γ and H, so a superconducting band exists only under R2."""
    a = wyckoff_position(229, "a")
    res = points_only_search([LevelChoice(k, e, i) for k, e, i in NB_LEVELS], 229, [a], window=(-7, 7))
    assert res.superconducting
    assert {c.reading for c in res.superconducting} == {"R2"}
    best = res.superconducting[0]
    assert 0 <= best.filling <= 1 and best.width > 0
    r1 = points_only_search([LevelChoice(k, e, i) for k, e, i in NB_LEVELS], 229, [a], window=(-7, 7), readings=("R1",))
    assert not r1.superconducting


def test_search_finds_planted_superconducting_band_and_usual_band():
    a = wyckoff_position(229, "a")
    levels = [
        LevelChoice("GM", -1.0, "GM1+"), LevelChoice("GM", 0.5, "GM2-"),
        LevelChoice("H", 1.0, "H1+"), LevelChoice("H", -0.4, "H2-"),
        LevelChoice("P", 0.2, "P1"), LevelChoice("P", -0.3, "P2"),
        LevelChoice("N", -0.2, "N1+"), LevelChoice("N", 0.3, "N3+"),
    ]
    res = points_only_search(levels, 229, [a], readings=("R1",))
    usual = {c.band_text() for c in res.usual}
    sc = {c.band_text() for c in res.superconducting}
    assert "GM:GM1+ H:H1+ N:N1+ P:P1" in usual
    assert "GM:GM1+ H:H1+ N:N3+ P:P1" in sc
    assert "GM:GM2- H:H2- N:N3+ P:P1" not in sc  # GM2- H2- P1 needs N1-, N3-, N4-: none present
    for c in res.superconducting:
        band = BandSymmetry(229, {k: tuple(lv.irrep for lv in c.levels if lv.k == k) for k in ("GM", "H", "N", "P")})
        assert classify(band, [a], reading="R1").verdict == "superconducting"


def test_little_group_label_lookup_is_used_by_levels():
    with pytest.raises(InputError):
        points_only_search([LevelChoice("GM", 0.0, "GM9")], 229, [wyckoff_position(229, "a")])
    assert little_group(229, "N").irrep("N1+").dimension == 1
