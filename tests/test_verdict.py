"""The verdict decided by the physics (docs/theory.md §4): the free-electron width W_FE(μ), the search range
from the bands that cross E_F, path variants grouped into one band with the interval of their measures,
test U on level sets, and re-judging a stored analysis under other criteria.

Fast: closed forms of the empty lattice and the bcc s+d tight-binding model traced like a DFT band structure.
The GPAW end-to-end checks (Ta, Al, Zr, Al 4b, MgB2 3g) are slow.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.bands.free_electron import HBAR2_2M_EV_A2, empty_lattice_energies, free_electron_width
from nhm.bands.tightbinding import BCC_SD_SUPERCONDUCTING_BAND, bcc_sd_model, model_zone_bands
from nhm.bands.zone import band_measures
from nhm.groups.wyckoff import wyckoff_position
from nhm.wannier.connected import LevelChoice, connected_search
from nhm.wannier.verdict import WIDTH_REFERENCES, Criteria, assignment_tables, judge

# --- the empty lattice -------------------------------------------------------------------------------


def _cubic(kind: str, a: float) -> np.ndarray:
    return {
        "sc": a * np.eye(3),
        "bcc": 0.5 * a * np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]], dtype=float),
        "fcc": 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float),
    }[kind]


@pytest.mark.parametrize(
    ("kind", "a", "k_max"),
    [
        ("sc", 3.35, lambda a: np.sqrt(3) * np.pi / a),  # R = (π/a)(1,1,1)
        ("bcc", 3.30, lambda a: 2 * np.pi / a),  # H = (2π/a)(0,0,1)
        ("fcc", 4.05, lambda a: np.sqrt(1.25) * 2 * np.pi / a),  # W = (2π/a)(1,1/2,0)
    ],
)
def test_free_electron_width_is_the_zone_corner_farthest_from_gamma(kind, a, k_max):
    w = free_electron_width(_cubic(kind, a), 1)
    assert w == pytest.approx(HBAR2_2M_EV_A2 * k_max(a) ** 2, rel=1e-9)


def test_free_electron_width_of_the_issue_and_its_scaling():
    assert free_electron_width(_cubic("bcc", 3.30)) == pytest.approx(13.8, abs=0.05)
    assert free_electron_width(_cubic("fcc", 4.05)) == pytest.approx(11.5, abs=0.05)
    # 1/a²: the kinetic energy of the lattice's shortest wavelengths
    assert free_electron_width(_cubic("bcc", 2 * 3.30)) == pytest.approx(13.812 / 4, rel=1e-3)
    # a band of more branches holds more states: never narrower
    ws = [free_electron_width(_cubic("fcc", 4.05), mu) for mu in (1, 2, 3, 4)]
    assert all(x <= y + 1e-12 for x, y in zip(ws, ws[1:]))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-2, 2), min_size=9, max_size=9), st.sampled_from(["sc", "bcc", "fcc"]), st.integers(1, 3))
def test_free_electron_width_does_not_depend_on_the_choice_of_cell(entries, kind, mu):
    """A unimodular change of the primitive basis is the same lattice: the same W_FE(μ)."""
    u = np.array(entries).reshape(3, 3)
    if round(abs(np.linalg.det(u))) != 1:
        u = np.eye(3, dtype=int)
    cell = _cubic(kind, 3.7)
    assert free_electron_width(u @ cell, mu) == pytest.approx(free_electron_width(cell, mu), rel=1e-9)


def test_free_electron_width_is_the_maximum_over_a_dense_sample():
    """The exact vertex is at least every sampled value, and the samples come within a grid step of it."""
    cell = np.array([[3.2, 0, 0], [-1.6, 2.771, 0], [0, 0, 5.15]])  # hcp-like, not cubic
    recip = 2 * np.pi * np.linalg.inv(cell).T
    f = np.random.default_rng(3).random((40000, 3)) - 0.5
    for mu in (1, 2):
        e = empty_lattice_energies(cell, f @ recip, mu)[:, mu - 1]
        w = free_electron_width(cell, mu)
        assert e.max() <= w + 1e-9 and e.max() > 0.95 * w


# --- the bcc s+d model, traced and judged ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sd():
    model = bcc_sd_model()
    k = np.random.default_rng(0).random((4000, 3))
    ef = float(np.median(np.linalg.eigvalsh(model.hamiltonian(k))[:, BCC_SD_SUPERCONDUCTING_BAND]))
    zone = model_zone_bands(model, ef, spacing=0.15, mesh=12)
    levels = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in zone.levels.values() for lv in lvs]
    rng = zone.search_range(1)
    search = connected_search(levels, zone.lines, 229, [wyckoff_position(229, "a")], fermi_level=ef, window=(rng.lo, rng.hi))
    return model, zone, search


def test_search_range_covers_every_band_that_crosses_the_fermi_level(sd):
    _, zone, _ = sd
    rng = zone.search_range(1)
    ef = zone.fermi_level
    lo, hi = zone.band_extremes()
    crossing = [n for n, *_ in zone.fermi_bands()]
    assert crossing and list(rng.bands) == list(range(min(crossing), max(crossing) + 1))
    for n in crossing:
        assert rng.lo <= lo[n] - ef - rng.margin + 1e-9 and hi[n] - ef + rng.margin <= rng.hi + 1e-9
    assert rng.lo <= -rng.floor and rng.hi >= rng.floor
    assert rng.narrowed((-1.0, 2.0)) == (max(rng.lo, -1.0), min(rng.hi, 2.0))
    # a model computes every band: every state is labelled, nothing to rerun
    assert zone.coverage_problems(ef + rng.hi) == []


def test_an_insulators_range_is_widened_until_every_point_has_a_level(sd):
    """No band crosses E_F (below the lowest band): ±6 eV would leave points without a level."""
    from dataclasses import replace

    _, zone, _ = sd
    below = replace(zone, fermi_level=float(zone.mesh_energies.min()) - 7.0)
    assert below.fermi_bands() == []
    rng = below.search_range(1)
    assert rng.widened and rng.bands == ()
    ef = below.fermi_level
    for k, lvs in below.levels.items():
        assert any(rng.lo <= lv.energy - ef <= rng.hi for lv in lvs), k
    assert not zone.search_range(1).widened


def test_the_model_band_is_still_recovered_exactly(sd):
    _, zone, search = sd
    v = judge(search, zone)
    r1 = [b for b in v.superconducting if b.reading == "R1"]
    assert [b.band_text() for b in r1] == ["GM:GM1+ H:H1+ N:N4+ P:P1"]
    direct = band_measures(zone.mesh_energies[:, BCC_SD_SUPERCONDUCTING_BAND], zone.mesh.n, zone.cell, zone.fermi_level)
    best = r1[0]
    assert best.best.width == pytest.approx(direct.width, abs=1e-9)
    assert best.best.filling == pytest.approx(direct.filling, abs=1e-12)
    assert best.best.dos_at_fermi == pytest.approx(direct.dos_at_fermi, abs=1e-12)


def test_variants_are_grouped_into_one_band_per_level_choice(sd):
    _, zone, search = sd
    v = judge(search, zone)
    bands = (*v.superconducting, *v.usual)
    keys = [(b.verdict, b.candidate.levels) for b in bands]
    assert len(keys) == len(set(keys))
    assert sum(len(b.variants) for b in bands) == len(search.superconducting) + len(search.usual)
    for b in bands:
        assert all(var.levels == b.candidate.levels for var in b.variants)
        assert len(b.assignments) == 2 * len(b.variants)
        # the best assignment lies in the interval, and the interval is the hull of every assignment
        assert b.width[0] - 1e-12 <= b.best.width <= b.width[1] + 1e-12
        assert b.filling[0] - 1e-12 <= b.best.filling <= b.filling[1] + 1e-12
        assert b.filling == (min(a.measures.filling for a in b.assignments), max(a.measures.filling for a in b.assignments))
        # fewest switches first
        assert b.candidate.switches == min(var.switches for var in b.variants)


def test_filling_and_dos_are_physical_for_every_assignment(sd):
    _, zone, search = sd
    for b in (*judge(search, zone).superconducting, *judge(search, zone).usual):
        for a in b.assignments:
            assert 0.0 <= a.measures.filling <= 1.0 and a.measures.dos_at_fermi >= 0.0 and a.measures.width >= 0.0


def test_lower_and_upper_choices_bound_the_band(sd):
    """At a degenerate sample the lower choice takes the lowest states of the level, the upper the highest;
    raising energies can only lower the tetrahedron filling."""
    _, zone, search = sd
    se = np.concatenate([lb.energies for lb in zone.lines])
    for cand in (*search.superconducting, *search.usual):
        t = assignment_tables(se, cand)
        table = np.concatenate([p.indices for p in cand.paths])
        assert np.all(t["lower"] <= table) and np.all(table <= t["upper"])
        rows = np.arange(len(table))[:, None]
        assert np.allclose(se[rows, t["lower"]], se[rows, t["upper"]], atol=2e-3)  # only within degenerate levels
    for b in judge(search, zone).superconducting:
        for i in range(len(b.variants)):
            lo, hi = (next(a.measures for a in b.assignments if a.variant == i and a.choice == c) for c in ("lower", "upper"))
            assert hi.filling <= lo.filling + 1e-12


def test_no_superconducting_band_has_a_usual_level_set(sd):
    """Test U on the level set (Krüger's classifier, independent of the paths) fails for every candidate
    reported as superconducting; candidates whose levels pass U are reported as usual."""
    from nhm.bands.symmetry import BandSymmetry
    from nhm.wannier.krueger import classify

    _, zone, search = sd
    w = wyckoff_position(229, "a")
    for cand in search.superconducting:
        per_k: dict[str, list[str]] = {}
        for lv in cand.levels:
            per_k.setdefault(lv.k, []).append(lv.irrep)
        band = BandSymmetry(229, {k: tuple(v) for k, v in per_k.items()})
        if all(sum(lv.dimension for lv in cand.levels if lv.k == k) == 1 for k in per_k):
            assert not classify(band, [w], reading="R1").usual, cand.band_text()
        assert cand.usual_sites == ()
    for cand in search.usual:
        assert cand.reading == "U" or cand.usual_sites


def test_criteria_are_validated():
    from nhm.errors import InputError

    with pytest.raises(InputError, match="width_reference"):
        Criteria(width_reference="mean")
    with pytest.raises(InputError, match="filling_min"):
        Criteria(filling_min=0.8, filling_max=0.2)
    assert {c for c in WIDTH_REFERENCES} == {"free-electron", "median", "widest"}


def test_marginal_when_the_interval_straddles_a_bound(sd):
    _, zone, search = sd
    base = judge(search, zone)
    b = next(b for b in base.superconducting if b.filling[1] - b.filling[0] > 1e-3) if any(
        b.filling[1] - b.filling[0] > 1e-3 for b in base.superconducting) else None
    if b is None:  # the model's bands have no spread: make one by a bound inside the best's degenerate-free value
        b = base.superconducting[0]
    mid = 0.5 * (b.filling[0] + b.filling[1])
    crit = Criteria(filling_min=0.0, filling_max=mid if b.filling[1] > b.filling[0] else b.filling[0], width_factor=10)
    v = judge(search, zone, crit)
    same = next(x for x in v.superconducting if x.candidate.levels == b.candidate.levels)
    if b.filling[1] > b.filling[0]:
        assert same.half_filled == "marginal" and same.marginal
    else:
        assert same.half_filled == "yes"


def test_rejudging_a_stored_document_gives_the_same_verdict(sd):
    """The JSON keeps every variant's measures: judging it again equals judging the live search."""
    from nhm.report.analyze import candidate_json
    from nhm.report.rejudge import rejudge

    _, zone, search = sd
    for crit in (Criteria(), Criteria(width_reference="median"), Criteria(width_factor=0.3), Criteria(filling_min=0.5)):
        live = judge(search, zone, crit)
        ef = zone.fermi_level
        doc = {
            "verdict": {
                "width_references": live.references.as_dict(),
                "bands_at_fermi_level": [{"index": n, "energy_range_eV": [lo - ef, hi - ef], "width_eV": w}
                                         for n, lo, hi, w in live.fermi_bands],
            },
            "superconducting_bands": [candidate_json(b, ef, zone, live.references) for b in live.superconducting],
            "usual_bands": [candidate_json(b, ef, zone, live.references) for b in live.usual],
        }
        again = rejudge(doc, crit)
        assert (again.verdict, again.marginal) == (live.verdict, live.marginal)
        assert [b.band_text() for b in again.superconducting] == [b.band_text() for b in live.superconducting]
        for x, y in zip(again.superconducting, live.superconducting):
            assert (x.passes, x.half_filled, x.narrow, x.best_variant) == (y.passes, y.half_filled, y.narrow, y.best_variant)
            assert x.best.filling == pytest.approx(y.best.filling, abs=1e-12)
            assert x.best.width == pytest.approx(y.best.width, abs=1e-12)


def test_judge_counts_every_variant_once(sd):
    _, zone, search = sd
    v = judge(search, zone)
    c = Counter(id(var) for b in (*v.superconducting, *v.usual) for var in b.variants)
    assert all(n == 1 for n in c.values())
