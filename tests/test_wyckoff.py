"""The shipped Wyckoff table against spglib's operations (exact), ITA facts and Bilbao's maximal positions."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.crystal.setting import centering_vectors
from nhm.errors import InputError
from nhm.groups.bcs import bcs_ebrs
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import parse_triplet, wyckoff_position, wyckoff_positions

F = Fraction


def _mod1(x):
    return tuple(v - (v.numerator // v.denominator) for v in x)


def _full_orbit(n, q):
    g = space_group(n)
    return {_mod1(tuple(p[i] + c[i] for i in range(3))) for op in g.operations for p in [op.apply(q)] for c in g.centering}


def test_table_size_is_itas():
    assert sum(len(wyckoff_positions(n)) for n in range(1, 231)) == 1731


@pytest.mark.parametrize("n", range(1, 231))
def test_orbits_multiplicities_and_stabilizers(n):
    g = space_group(n)
    ncent = len(centering_vectors(n))
    positions = wyckoff_positions(n)
    assert [w.letter for w in positions] == list("abcdefghijklmnopqrstuvwxyzA"[: len(positions)])
    assert positions[-1].site_symmetry == "1" and positions[-1].multiplicity == g.order * ncent
    for w in positions:
        q = w.point()
        orbit = _full_orbit(n, q)
        assert len(orbit) == w.multiplicity, w.label
        listed = {_mod1(tuple(p[i] + c[i] for i in range(3))) for p in w.orbit() for c in g.centering}
        assert listed == orbit, w.label
        assert len(g.site_stabilizer(q)) * w.multiplicity == g.order * ncent, w.label


@pytest.mark.parametrize("n", range(1, 231))
def test_maximal_positions_are_the_ones_bilbao_induces_ebrs_from(n):
    bcs = {e.wyckoff for d in (False, True) for tr in (False, True) for e in bcs_ebrs(n, d, tr).ebrs}
    assert {w.label for w in wyckoff_positions(n) if w.maximal} == bcs


def test_spot_checks():
    bcc = {w.label: w.site_symmetry for w in wyckoff_positions(229)}
    assert bcc["2a"] == "m-3m" and bcc["8c"] == ".-3m" and bcc["12d"] == "-4m.2" and bcc["16f"] == ".3m"
    assert wyckoff_position(227, "a").point() == (F(1, 8), F(1, 8), F(1, 8))  # origin choice 2
    assert wyckoff_position(227, "16c").point() == (F(0), F(0), F(0))
    assert wyckoff_position(194, "c").point() == (F(1, 3), F(2, 3), F(1, 4))
    assert wyckoff_position(194, "c").site_symmetry == "-6m2"
    c6 = wyckoff_position(166, "c")  # hexagonal axes
    assert c6.multiplicity == 6 and c6.free_parameters == ("z",) and not c6.maximal
    assert wyckoff_position(191, "d").point() == (F(1, 3), F(2, 3), F(1, 2))


def test_parse_triplet():
    assert parse_triplet("x,1/4,-z+1/2", {"x": F(1, 5), "z": F(1, 3)}) == (F(1, 5), F(1, 4), F(1, 6))
    assert parse_triplet("2x,x,1/4", {"x": F(1, 7)}) == (F(2, 7), F(1, 7), F(1, 4))
    assert parse_triplet("-x+y,y,-z", {"x": F(1, 2), "y": F(1, 3), "z": F(0)}) == (F(-1, 6), F(1, 3), F(0))
    with pytest.raises(InputError):
        parse_triplet("x,y")


def test_bad_input():
    with pytest.raises(InputError, match="no Wyckoff position 'z'"):
        wyckoff_position(229, "z")
    with pytest.raises(InputError, match="no Wyckoff position '4a'"):
        wyckoff_position(229, "4a")
    with pytest.raises(InputError, match="1 to 230"):
        wyckoff_positions(0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 230), st.data(), st.fractions(0, 1, max_denominator=60), st.fractions(0, 1, max_denominator=60))
def test_orbit_closes_for_any_parameters(n, data, x, z):
    """Property: for any parameter values the listed orbit (plus centring) is closed under the group."""
    w = data.draw(st.sampled_from(wyckoff_positions(n)))
    params = {"x": x, "y": F(3, 11), "z": z}
    g = space_group(n)
    listed = {_mod1(tuple(p[i] + c[i] for i in range(3))) for p in w.orbit(params) for c in g.centering}
    for op in g.operations:
        assert {_mod1(op.apply(p)) for p in listed} == listed
