"""Superconducting bands as bands: lines of symmetry, compatibility, branches, connected candidates, measures.

Fast tests run on group theory and on the bcc s+d tight-binding model (its top band is a
superconducting band whose branches switch along the lines); the GPAW end-to-end checks on Nb are slow.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.bandrep.ebr import band_representation, elementary_band_representations
from nhm.bands.lines import TOUCH_TOL_EV
from nhm.bands.tightbinding import (
    BCC_SD_SUPERCONDUCTING_BAND,
    bcc_s_band,
    bcc_sd_model,
    default_lattice,
    model_from_wyckoff,
    model_zone_bands,
)
from nhm.bands.zone import band_measures, irreducible_mesh, tetrahedra, tetrahedron_counts
from nhm.errors import InputError
from nhm.groups.lines import lines_of_symmetry
from nhm.groups.wyckoff import wyckoff_position
from nhm.wannier.connected import ATTACH_TOL_EV, LevelChoice, connected_search
from nhm.wannier.verdict import Criteria, judge


# --- lines of symmetry ------------------------------------------------------------------------------


def test_bcc_fcc_hcp_lines_are_bilbaos():
    assert sorted(ln.name for ln in lines_of_symmetry(229)) == ["GM-H", "GM-N", "GM-P", "H-N", "H-P", "N-P"]
    # fcc: Δ, Λ, Σ (Γ–K–X′, the second Γ–X line), Z (X–W), Q (L–W)
    assert sorted(ln.name for ln in lines_of_symmetry(225)) == ["GM-L", "GM-X", "GM-X(2)", "L-W", "W-X"]
    assert len(lines_of_symmetry(194)) == 9  # Δ, Σ, T, P, U, R, S, S′ and A–H
    orders = {ln.name: ln.little_group().order for ln in lines_of_symmetry(229)}
    assert orders == {"GM-H": 8, "GM-N": 4, "GM-P": 6, "H-N": 4, "H-P": 6, "N-P": 4}  # C4v, C2v, C3v, C2v, C3v, C2v


@pytest.mark.parametrize("number", [229, 225, 194, 166, 191, 139, 12, 2])
@pytest.mark.parametrize("double", [False, True])
def test_elementary_band_representations_are_compatible_along_every_line(number, double):
    """An EBR is a band: the subductions of its irreps at the two ends of every line agree."""
    for br in elementary_band_representations(number, double=double, time_reversal=False).band_representations:
        for ln in lines_of_symmetry(number):
            ends = []
            for end, point in (("start", ln.start), ("end", ln.end)):
                c: Counter = Counter()
                for label, m in br.multiplicities[point].items():
                    for lbl, x in ln.subduce(end, label, double=double).items():
                        c[lbl] += m * x
                ends.append(c)
            assert ends[0] == ends[1], (number, br.wyckoff, br.site_irrep, ln.name)


@pytest.mark.slow
def test_compatibility_along_lines_in_all_230_groups():
    for number in range(1, 231):
        lines = lines_of_symmetry(number)
        names = {ln.start for ln in lines} | {ln.end for ln in lines}
        ebrs = elementary_band_representations(number, double=True, time_reversal=False)
        assert names >= set(ebrs.band_representations[0].multiplicities), number  # every point is reached
        for double in (False, True):
            for br in elementary_band_representations(number, double=double, time_reversal=False).band_representations:
                for ln in lines:
                    sub = [
                        sum((Counter({lbl: m * x for lbl, x in ln.subduce(end, label, double=double).items()})
                             for label, m in br.multiplicities[point].items()), Counter())
                        for end, point in (("start", ln.start), ("end", ln.end))
                    ]
                    assert sub[0] == sub[1], (number, double, br.wyckoff, br.site_irrep, ln.name)


def test_subduction_keeps_dimensions_and_matches_bcc_tables():
    lines = {ln.name: ln for ln in lines_of_symmetry(229)}
    gh = lines["GM-H"]
    dims = {r.label: r.dimension for r in gh.little_group().irreps}
    from nhm.groups.irreps import little_group

    for end, point in (("start", "GM"), ("end", "H")):
        for r in little_group(229, point).irreps:
            sub = gh.subduce(end, r.label)
            assert sum(m * dims[x] for x, m in sub.items()) == r.dimension
    # Γ25' (GM5+) -> Δ2' + Δ5: a one- and a two-dimensional line irrep
    assert sorted(dims[x] for x in gh.subduce("start", "GM5+").elements()) == [1, 2]


# --- the tight-binding superconducting band ------------------------------------------------------------


@pytest.fixture(scope="module")
def sd_zone():
    model = bcc_sd_model()
    k = np.random.default_rng(0).random((4000, 3))
    ef = float(np.median(np.linalg.eigvalsh(model.hamiltonian(k))[:, BCC_SD_SUPERCONDUCTING_BAND]))
    return model, model_zone_bands(model, ef, spacing=0.15, mesh=12)


def _levels(zone):
    return [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in zone.levels.values() for lv in lvs]


@pytest.fixture(scope="module")
def sd_search(sd_zone):
    _, zone = sd_zone
    return connected_search(_levels(zone), zone.lines, 229, [wyckoff_position(229, "a")], fermi_level=zone.fermi_level, window=(-10, 10))


def test_model_superconducting_band_recovered_exactly(sd_zone, sd_search):
    """The top band of tb:bcc-sd, traced like a DFT band: width and filling equal the direct evaluation."""
    model, zone = sd_zone
    v = judge(sd_search, zone)
    r1 = [mc for mc in v.superconducting if mc.candidate.reading == "R1"]
    assert [mc.candidate.band_text() for mc in r1] == ["GM:GM1+ H:H1+ N:N4+ P:P1"]
    best = r1[0]
    direct = band_measures(zone.mesh_energies[:, BCC_SD_SUPERCONDUCTING_BAND], zone.mesh.n, zone.cell, zone.fermi_level)
    assert best.measures.width == pytest.approx(direct.width, abs=1e-9)
    assert best.measures.filling == pytest.approx(direct.filling, abs=1e-12)
    assert best.measures.dos_at_fermi == pytest.approx(direct.dos_at_fermi, abs=1e-12)
    # the band is the energy-ordered top band at every sample of every line ...
    for p in best.candidate.paths:
        assert np.all(p.indices[:, 0] == BCC_SD_SUPERCONDUCTING_BAND), p.line
    # ... and switches single-valued branch along the lines (science.md §3), so test U fails
    assert best.candidate.switches >= 1
    assert v.verdict == "superconducting band" and best.passes


def test_every_candidate_is_made_of_eigenvalues_and_switches_only_where_allowed(sd_zone, sd_search):
    _, zone = sd_zone
    lines = {lb.name: lb for lb in zone.lines}
    for cand in (*sd_search.superconducting, *sd_search.usual):
        assert len(cand.paths) == len(zone.lines)
        for p in cand.paths:
            lb = lines[p.line]
            # energies along the line are eigenvalues at every sample, at the recorded positions
            rows = np.arange(len(lb.s))[:, None]
            assert np.allclose(p.energies, lb.energies[rows, p.indices], atol=1e-9)
            # the ends are the chosen levels
            ends = {lv.k: lv for lv in cand.levels}
            for i, point in ((0, lb.line.start), (-1, lb.line.end)):
                chosen = [lv.energy for lv in cand.levels if lv.k == point]
                assert all(min(abs(e - c) for c in chosen) < ATTACH_TOL_EV for e in p.energies[i]), (p.line, point)
            # switches only at crossings of the two branches, both carrying the band's line spinor rep
            for j in range(1, len(p.states)):
                if p.states[j] == p.states[j - 1]:
                    continue
                (old,) = set(p.states[j - 1]) - set(p.states[j])
                (new,) = set(p.states[j]) - set(p.states[j - 1])
                a, b = lb.branches[old], lb.branches[new]
                assert a.irrep != b.irrep
                d0 = a.energies[j - 1] - b.energies[j - 1]
                d1 = a.energies[j] - b.energies[j]
                assert d0 * d1 <= 0 or min(abs(d0), abs(d1)) < TOUCH_TOL_EV, (p.line, j)
                assert cand.reading != "U"
                sigma = Counter(dict(p.representation))
                for br in (a, b):  # the band's double-group line representation is in both branches
                    spin = lb.line.spinor_of(br.irrep)
                    assert all(spin[x] >= m for x, m in sigma.items()), (p.line, br.key)
            assert ends  # levels present


def test_usual_band_never_switches(sd_search):
    for cand in sd_search.usual:
        assert cand.switches == 0


def test_s_band_is_usual_and_not_superconducting():
    model = bcc_s_band()
    zone = model_zone_bands(model, 0.0, spacing=0.2, mesh=8)
    r = connected_search(_levels(zone), zone.lines, 229, [wyckoff_position(229, "a")], fermi_level=0.0, window=(-20, 20))
    assert [c.band_text() for c in r.usual] == ["GM:GM1+ H:H1+ N:N1+ P:P1"]
    assert not r.superconducting
    assert judge(r, zone).verdict == "no superconducting band"


def test_pi_band_of_a_layered_pz_model_is_found_as_the_usual_band_of_its_ebr():
    """Issue 25: pz alone on 2d of P6/mmm (stacked B layers of MgB2, c/a = 1.14) keeps its hoppings.

    pz at the −6m2 site is A2'', so the two π bands (μ = 2: the two atoms of 2d) carry the elementary
    band representation A2''@2d at every point (K6, H5 two-dimensional: the Dirac points). They are the
    model's only bands, so the search on 2d finds exactly one connected band, the usual band of that
    EBR (test U, reported under U even where R1/R2 would also accept it), made of both bands everywhere.
    """
    lattice = default_lattice(191, c_over_a=1.14)
    model = model_from_wyckoff(191, "d", ["pz"], {"ppp": (-2.5, -0.25, 0.0), "pps": (0.0, 0.0, 1.0)}, lattice=lattice, shells=3)
    zone = model_zone_bands(model, 0.0, spacing=0.15, mesh=8)
    r = connected_search(_levels(zone), zone.lines, 191, [wyckoff_position(191, "d")], fermi_level=0.0, window=(-20, 20))
    assert r.mu == 2 and not r.superconducting and r.unconnected == 0
    assert len(r.usual) == 1
    pi = r.usual[0]
    assert pi.site_representations == (("A2''@2d",),)
    per_k: dict[str, Counter] = {}
    for lv in pi.levels:
        per_k.setdefault(lv.k, Counter())[lv.irrep] += 1
    assert per_k == {k: Counter(v) for k, v in band_representation(191, "d", "A2''").multiplicities.items()}
    for p in pi.paths:
        assert np.all(np.sort(p.indices, axis=1) == [0, 1]), p.line  # both bands at every sample
    assert judge(r, zone).verdict == "no superconducting band"


def test_verdict_does_not_depend_on_the_window(sd_zone):
    _, zone = sd_zone
    verdicts = set()
    for w in (4.0, 6.0, 10.0):
        r = connected_search(_levels(zone), zone.lines, 229, [wyckoff_position(229, "a")], fermi_level=zone.fermi_level, window=(-w, w))
        v = judge(r, zone)
        best = next(mc for mc in v.superconducting if mc.candidate.reading == "R1")
        verdicts.add((v.verdict, best.candidate.band_text(), round(best.measures.width, 9)))
    assert len(verdicts) == 1


def test_criteria_are_validated():
    with pytest.raises(InputError):
        Criteria(0.8, 0.2)
    with pytest.raises(InputError):
        Criteria(width_factor=0)
    with pytest.raises(InputError):
        Criteria(filling_min=float("nan"))


# --- the zone mesh and the tetrahedron method ------------------------------------------------------------


@pytest.mark.parametrize("number,n", [(229, 12), (225, 8), (194, 6), (166, 6), (2, 4)])
def test_irreducible_mesh_is_a_partition_into_stars(number, n):
    m = irreducible_mesh(number, n)
    assert len(m.full) == n**3 and m.to_irreducible.max() == len(m.irreducible) - 1
    # every wedge point belongs to its own star
    full_codes = m.full @ np.array([n * n, n, 1])
    irr_codes = m.irreducible @ np.array([n * n, n, 1])
    assert np.all(irr_codes[m.to_irreducible[np.searchsorted(full_codes, irr_codes)]] == irr_codes)


def test_unfolded_energies_equal_direct_evaluation(sd_zone):
    model, zone = sd_zone
    from nhm.crystal.setting import primitive_transform

    p = np.array(primitive_transform(229), dtype=float)
    direct = np.linalg.eigvalsh(model.hamiltonian(zone.mesh.full_primitive() @ np.linalg.inv(p)))
    assert np.allclose(direct, zone.mesh_energies, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.floats(min_value=-3.2, max_value=3.2))
def test_tetrahedron_counts_equal_ase(energy):
    from ase.dft.dos import linear_tetrahedron_integration

    n = 8
    cell = np.array([[0, 1.6, 1.6], [1.6, 0, 1.6], [1.6, 1.6, 0.0]])
    k = np.stack(np.meshgrid(*[np.arange(n) / n] * 3, indexing="ij"), -1).reshape(-1, 3)
    e = (-np.cos(2 * np.pi * k).sum(-1) + 0.3 * np.cos(2 * np.pi * (k[:, 0] - k[:, 1])))[:, None]
    filling, dos = tetrahedron_counts(e, tetrahedra(n, cell), energy)
    grid = np.linspace(e.min() - 0.01, e.max() + 0.01, 6001)
    ref = linear_tetrahedron_integration(cell, e.reshape(n, n, n, 1), grid)
    assert dos == pytest.approx(np.interp(energy, grid, ref), abs=2e-3)
    cum = np.concatenate([[0], np.cumsum(0.5 * (ref[1:] + ref[:-1]) * np.diff(grid))])
    assert filling == pytest.approx(np.interp(energy, grid, cum) / cum[-1], abs=2e-3)
