"""Band representations against Bilbao's EBR tables (irreptables), and their algebra."""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.bandrep.decompose import decompose, indicator_group, symmetry_indicators
from nhm.bandrep.ebr import (
    band_representations,
    elementary_band_representations,
    full_zone_characters,
    site_representations,
)
from nhm.bandrep.induce import induce, induction
from nhm.bandrep.smith import smith_normal_form
from nhm.groups.bcs import _data_dir, bcs_ebrs
from nhm.groups.seitz import SeitzOp
from nhm.groups.site import SiteIrrep
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import wyckoff_position, wyckoff_positions

CASES = list(product(range(1, 231), (False, True), (False, True)))


def _ours(n: int, double: bool, tr: bool) -> Counter:
    ebrs = elementary_band_representations(n, double=double, time_reversal=tr)
    ref = bcs_ebrs(n, double, tr)
    index = {}
    for k in ebrs.kpoints:
        for lbl in ref.labels:
            index.setdefault(lbl, len(index))
    out = Counter()
    for br in ebrs.band_representations:
        v = [0] * len(ref.labels)
        for k, labels in br.multiplicities.items():
            for lbl, m in labels.items():
                v[ref.labels.index(lbl)] += m
        out[(br.wyckoff, tuple(v))] += 1
    return out


def _bilbao(n: int, double: bool, tr: bool) -> Counter:
    return Counter((e.wyckoff, e.vector) for e in bcs_ebrs(n, double, tr).ebrs)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, 231))
def test_ebrs_equal_bilbao_for_all_920_cases(n):
    """Acceptance: 230 groups x {spinless, spinful} x {with, without time reversal}."""
    for double, tr in product((False, True), (False, True)):
        assert _ours(n, double, tr) == _bilbao(n, double, tr), (n, double, tr)


@pytest.mark.parametrize("n,double,tr", [(229, False, False), (229, True, True), (143, True, True), (194, True, True), (227, True, True), (191, False, True)])
def test_ebrs_equal_bilbao_spot_checks(n, double, tr):
    assert _ours(n, double, tr) == _bilbao(n, double, tr)


D3_SITES = {(163, "2a"), (165, "2a"), (167, "6a"), (188, "2a"), (188, "2c"), (188, "2e"), (190, "2a"), (192, "4c"),
            (193, "4d"), (208, "4b"), (208, "4c"), (210, "16c"), (210, "16d"), (211, "8c"), (223, "8e"), (228, "32b"),
            (230, "16b")}


def test_spinful_composite_exceptions_of_science_md():
    """science.md §2.5: spinful composites at D3 sites (17 positions), D3h at 193:2a and 194:2b, Td at 224:2a,
    225:8c, 227:8a, 227:8b. Derived here; they are the spinful case WITHOUT time reversal (with time
    reversal those BRs are elementary, as in Bilbao's grey-group tables)."""
    import json
    from importlib import resources

    table = json.loads(resources.files("nhm").joinpath("data/composite_brs.json").read_text())["composite"]
    spinful = {(e["space_group"], e["wyckoff"]) for e in table if e["double"] and not e["time_reversal"]}
    d3 = {(e["space_group"], e["wyckoff"]) for e in table
          if e["double"] and not e["time_reversal"] and e["site_symmetry"].replace(".", "") in ("32", "321", "312")}
    assert d3 == D3_SITES
    assert {(193, "2a"), (194, "2b"), (224, "2a"), (225, "8c"), (227, "8a"), (227, "8b")} <= spinful
    assert not any(e["double"] and e["time_reversal"] for e in table)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, 231))
def test_composite_table_is_rederived(n):
    """The shipped table equals what the real-space criterion derives now."""
    from nhm.bandrep.ebr import _composite_table

    for double, tr in product((False, True), (False, True)):
        derived = elementary_band_representations(n, double=double, time_reversal=tr, derive=True)
        assert {(b.wyckoff, b.irreps_text) for b in derived.composite} == _composite_table().get((n, double, tr), set())


def test_bcc_2a_ebrs_are_the_bcc_table():
    ebrs = elementary_band_representations(229)
    one_dim = [br.multiplicities for br in ebrs.band_representations if br.wyckoff == "2a" and br.dimension == 1]
    assert {tuple(sorted((k, *labels) for k, labels in m.items())) for m in one_dim} == {  # A1g, A2g, A1u, A2u
        (("GM", "GM1+"), ("H", "H1+"), ("N", "N1+"), ("P", "P1")),
        (("GM", "GM2+"), ("H", "H2+"), ("N", "N2+"), ("P", "P2")),
        (("GM", "GM1-"), ("H", "H1-"), ("N", "N1-"), ("P", "P2")),
        (("GM", "GM2-"), ("H", "H2-"), ("N", "N2-"), ("P", "P1")),
    }


def _finite_group_induced_characters(big: tuple[SeitzOp, ...], small_idx: list[int], chars: np.ndarray, double: bool) -> np.ndarray:
    """Frobenius: Ind_H^G rho on G (finite site groups, elements compared by rotation; lifts by sign)."""
    rot_index = {op.rotation: i for i, op in enumerate(big)}
    small = {big[i].rotation: chars[n] for n, i in enumerate(small_idx)}
    out = np.zeros(len(big), dtype=complex)
    for i, s in enumerate(big):
        total = 0j
        for x in big:
            c = x.inverse() @ s @ x
            if c.rotation in small:
                ref = big[rot_index[c.rotation]].su2
                sign = np.real(np.trace(c.su2 @ ref.conj().T)) / 2
                total += small[c.rotation] * (np.sign(sign) if double else 1)
        out[i] = total / len(small_idx)
    return out


def _containing_maximal_point(n: int, q) -> tuple:
    """A point q' with G_q ⊂ G_q' (exactly, as Seitz operations): searched among maximal positions."""
    g = space_group(n)
    ops_q = g.site_stabilizer(q)
    for w in wyckoff_positions(n):
        if not w.maximal:
            continue
        for p in w.orbit():
            for shift in product((-1, 0, 1), repeat=3):
                for c in g.centering:
                    qq = tuple(p[i] + shift[i] + c[i] for i in range(3))
                    if all(op.apply(qq) == qq for op in ops_q):
                        return qq, w
    return None, None


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 230), st.booleans(), st.data())
def test_induction_is_transitive(n, double, data):
    """BR from a non-maximal site q equals the BR induced through a maximal site q' ⊃ G_q: (rho↑G_q')↑G."""
    nonmax = [w for w in wyckoff_positions(n) if not w.maximal]
    if not nonmax:
        return
    w = data.draw(st.sampled_from(nonmax))
    q = w.point()
    q2, w2 = _containing_maximal_point(n, q)
    assert q2 is not None, (n, w.label)
    small = induction(n, q).site
    big = induction(n, q2).site
    rho = data.draw(st.sampled_from(small.irreps(double)))
    small_idx = [next(i for i, b in enumerate(big.operations) if b.rotation == s.rotation) for s in small.operations]
    ind_chars = _finite_group_induced_characters(big.operations, small_idx, rho.characters, double)
    via_big = full_zone_characters(n, q2, SiteIrrep("ind", int(round(ind_chars[0].real)), ind_chars), double)
    direct = full_zone_characters(n, q, rho, double)
    assert np.allclose(direct, via_big, atol=1e-8)


def test_smith_normal_form_property():
    rng = np.random.default_rng(7)
    for _ in range(200):
        r, c = rng.integers(1, 7, 2)
        a = rng.integers(-4, 5, (r, c))
        u, d, v = smith_normal_form(a)
        assert (u.dot(a.astype(object)).dot(v) == d).all()
        diag = [d[i, i] for i in range(min(r, c))]
        nz = [x for x in diag if x]
        assert all(x > 0 for x in nz) and diag[: len(nz)] == nz
        assert all(nz[i + 1] % nz[i] == 0 for i in range(len(nz) - 1))


@pytest.mark.parametrize("n,double,group", [(2, True, (2, 2, 2, 4)), (2, False, (2, 2, 2, 4)), (229, False, ()), (221, True, (4, 8))])
def test_indicator_groups_known(n, double, group):
    """X_BS with time reversal: P-1 is Z2^3 x Z4 (both spin cases); Pm-3m spinful Z4 x Z8."""
    assert indicator_group(n, double=double, time_reversal=True) == group


@pytest.mark.slow
def test_indicator_groups_nontrivial_exactly_where_irreptables_has_formulas():
    root = Path(_data_dir(), "symmetry_indicators")
    for spin, fname in ((False, "single_indicators.json"), (True, "double_indicators.json")):
        expected = {int(k) for k in json.loads((root / fname).read_text())}
        ours = {n for n in range(1, 231) if indicator_group(n, double=spin, time_reversal=True)}
        assert ours == expected, spin


def test_indicator_group_equals_bcs_smith_form():
    for n in (2, 10, 47, 123, 191, 221):
        for double in (False, True):
            bcs = tuple(x for x in bcs_ebrs(n, double, True).smith_diagonal if x > 1)
            assert indicator_group(n, double=double, time_reversal=True) == bcs


def test_decompose_recovers_ebr_sums_and_rejects_non_bands():
    ebrs = elementary_band_representations(229)
    a, b = ebrs.band_representations[0], ebrs.band_representations[5]
    total: dict = {}
    for br in (a, b, b):
        for k, labels in br.multiplicities.items():
            for lbl, m in labels.items():
                total.setdefault(k, {}).setdefault(lbl, 0)
                total[k][lbl] += m
    d = decompose(total, 229)
    assert d is not None and sum(n for _, n in d.coefficients) == 3
    assert decompose({"GM": {"GM1+": 1}, "H": {"H1+": 1}, "N": {"N2+": 1}, "P": {"P1": 1}}, 229) is None


def test_indicator_of_an_atomic_insulator_is_zero():
    ebrs = elementary_band_representations(2, double=True, time_reversal=True)
    br = ebrs.band_representations[0]
    assert all(x == 0 for x in symmetry_indicators(br.multiplicities, 2, double=True))


def test_band_representations_from_a_non_maximal_position():
    """Bi (R-3m, 6c): BRs from a non-maximal position exist and are not elementary."""
    brs = band_representations(166, positions=(wyckoff_position(166, "c"),))
    assert brs and all(br.dimension == 2 * site.dimension for br, site in zip(brs, site_representations(wyckoff_position(166, "c"), False, False)))


def test_fractions_exact_in_positions():
    assert wyckoff_position(227, "a").point() == (Fraction(1, 8), Fraction(1, 8), Fraction(1, 8))
    assert induce  # imported API
