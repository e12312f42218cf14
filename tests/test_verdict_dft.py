"""The verdict on real band structures (GPAW, slow): the search range comes from the bands, not from a
window (Ta, Al), any Wyckoff position as centres (fcc 4b, MgB2 3g), and the measures are physical for every
candidate; Zr's (every level in the range has its branches, usual level sets stay usual) are in tests/test_zr_dft.py."""

from __future__ import annotations

import numpy as np
import pytest

from nhm.bands.dft_parameters import DftParameters
from nhm.report.analyze import analyze
from nhm.wannier.connected import ATTACH_TOL_EV

pytestmark = pytest.mark.slow

# the search range and the window are decided by the bands, not by the mesh: an 8³ SCF and zone mesh give Ta and Al
# the verdicts of the default 12³ (Ta's GM5+ H5+ N3+ P4 first, H5+ at +6.8 eV; Al's band to Γ5+ at +12.7 eV)
LIGHT = DftParameters(kmesh=8)


def _summary(an):
    """What a user reads of a verdict: the candidate bands with their measures, and the verdict."""
    v = an.verdict
    return (
        v.verdict,
        v.marginal,
        [(b.band_text(), b.reading, len(b.variants), round(b.best.width, 9), round(b.best.filling, 12), b.width, b.filling)
         for b in (*v.superconducting, *v.usual)],
    )


@pytest.fixture(scope="module")
def runs(dft_cache):
    """Ta and Al at the defaults and with a window that cuts nothing of their search range (Ta: 10 eV; Al,
    whose band reaches +12.7 eV at Γ: 14 eV)."""
    out = {}
    for name, wide in (("Ta", 10.0), ("Al", 14.0)):
        out[name] = analyze(name, parameters=LIGHT, cache_dir=dft_cache)
        out[name, "wide"] = analyze(name, parameters=LIGHT, cache_dir=dft_cache, window_eV=wide)
    return out


def test_ta_has_nbs_band_by_default(runs):
    """Ta's H5+ lies 6.8 eV above E_F: the band search must reach it without being told."""
    an = runs["Ta"]
    h5 = [lv for lv in an.levels["H"] if lv.irrep == "H5+"]
    assert h5 and h5[0].energy - an.fermi_level > 6.0
    assert an.window[1] >= h5[0].energy - an.fermi_level
    assert [b.band_text() for b in an.verdict.superconducting][:1] == ["GM:GM5+ H:H5+ N:N3+ P:P4"]


@pytest.mark.parametrize("name", ["Ta", "Al"])
def test_a_window_wider_than_the_range_changes_nothing(runs, name):
    assert _summary(runs[name]) == _summary(runs[name, "wide"])
    assert runs[name, "wide"].excluded_levels == ()


def test_a_window_that_leaves_a_point_without_levels_is_refused(runs, dft_cache):
    """--window can only narrow: cutting Al's Γ5+ (+12.7 eV) leaves Γ without a level of its bands, one line."""
    from nhm.errors import InputError

    with pytest.raises(InputError, match=r"--window 10 leaves GM without a level .* GM5\+ \+12\.\d\d eV"):
        analyze("Al", parameters=LIGHT, cache_dir=dft_cache, window_eV=10.0)


def test_al_band_that_crosses_ef_is_searched_to_its_top(runs):
    """Al's band #2 crosses E_F and reaches Γ5+ at +12.7 eV: it is a candidate (too wide: an sp band)."""
    an = runs["Al"]
    top = max(hi for _, _, hi, _ in an.verdict.fermi_bands)
    assert an.window[1] >= top - an.fermi_level
    assert an.zone.coverage_problems(an.fermi_level + an.window[1]) == []
    best = an.verdict.superconducting[0]
    assert "GM5+" in best.band_text() and best.narrow == "no" and best.best.width > an.verdict.references.free_electron


def test_a_narrow_window_lists_what_it_cut(dft_cache):
    an = analyze("Ta", parameters=LIGHT, cache_dir=dft_cache, window_eV=6.0)
    assert any(lv.irrep == "H5+" for lv in an.excluded_levels)
    assert any("levels not searched" in n and "H5+" in n for n in an.notes)


def test_an_empty_wyckoff_position_as_centres(runs, dft_cache):
    """fcc Al with its Wannier centres on the empty octahedral site 4b (from the same DFT run as the defaults)."""
    an = analyze("Al", parameters=LIGHT, cache_dir=dft_cache, centres=["4b"])
    assert [w.label for w in an.centres] == ["4b"] and an.search.mu == 1
    assert an.verdict is not None and an.fermi_level == runs["Al"].fermi_level


def test_bond_centres_of_mgb2():
    """MgB2 with its centres on the B–B bond midpoints 3g (μ = 3): the σ-bond band is the usual band Ag@3g, full —
    not a superconducting band. A light DFT (6³, 300 eV) gives the verdict of the defaults (Ag@3g, 0.98 filled)."""
    from ase import Atoms

    from nhm.bands.dft import DftParameters

    a, c = 3.086, 3.524
    mgb2 = Atoms("MgB2", scaled_positions=[(0, 0, 0), (1 / 3, 2 / 3, 0.5), (2 / 3, 1 / 3, 0.5)],
                 cell=[[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]], pbc=True)
    an = analyze(mgb2, centres=["3g"], parameters=DftParameters(kmesh=6, mode_ecut_eV=300), spacing=0.2)
    assert [w.label for w in an.centres] == ["3g"] and an.search.mu == 3
    assert not an.verdict.superconducting
    assert any(b.usual_sites and ("Ag@3g",) in b.usual_sites and b.best.filling > 0.9 for b in an.verdict.usual)


def physical(an) -> None:
    """Every assignment of every candidate band of ``an`` has a physical filling, DOS and width."""
    for b in (*an.verdict.superconducting, *an.verdict.usual):
        for a in b.assignments:
            m = a.measures
            assert 0.0 <= m.filling <= 1.0 and m.dos_at_fermi >= 0.0 and m.width > 0.0


def test_every_candidate_of_ta_and_al_is_physical(runs):
    for name in ("Ta", "Al"):
        physical(runs[name])
