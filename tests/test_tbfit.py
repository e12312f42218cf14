"""Slater–Koster fits to levels at the points of symmetry: self-consistency, bad labels, Nb (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from nhm.bands.tbfit import fit_to_levels, sk_parameter_names, targets_from_levels
from nhm.bands.tightbinding import model_from_wyckoff
from nhm.errors import InputError

BCC_SD = {"sss": (-0.3, 0.0), "sds": (-0.5, -0.1), "dds": (-1.5, -0.4), "ddp": (0.2, 0.14), "ddd": (-0.05, -0.15)}
BCC_SD_ONSITE = {"s": 2.4, "d": 0.0}


def _targets(model):
    return {k: [(lv.energy, lv.irrep) for lv in lvs] for k, lvs in model.levels_at_points().items()}


def _perturbed(sk, onsite):
    return {k: tuple(1.2 * v + 0.03 for v in vals) for k, vals in sk.items()} | {k: e + 0.3 for k, e in onsite.items()}


def test_sk_parameter_names():
    assert sk_parameter_names(["s", "d"]) == ("sss", "sds", "dds", "ddp", "ddd")
    assert len(sk_parameter_names(["s", "p", "d"])) == 10


def test_fit_recovers_the_levels_of_a_known_bcc_sd_model():
    model = model_from_wyckoff(229, "a", ["s", "d"], BCC_SD, onsite=BCC_SD_ONSITE)
    targets = _targets(model)
    r = fit_to_levels(229, "a", ["s", "d"], targets, initial=_perturbed(BCC_SD, BCC_SD_ONSITE))
    assert r.success and r.rms_eV < 1e-6 and r.max_abs_eV < 1e-6
    assert len(r.levels) == sum(len(v) for v in targets.values()) == 15
    # the returned model (labelled by traces, independently of the fit's projectors) has the targets' levels
    got = _targets(r.model)
    for k, lvs in targets.items():
        assert [lab for _, lab in got[k]] == [lab for _, lab in lvs]
        assert np.allclose([e for e, _ in got[k]], [e for e, _ in lvs], atol=1e-6)
    # 15 levels determine these 12 parameters here: they are recovered too
    for name, vals in BCC_SD.items():
        assert r.parameters[name] == pytest.approx(vals, abs=1e-6)
    assert r.onsite == pytest.approx(BCC_SD_ONSITE, abs=1e-6)


def test_fit_is_deterministic_and_starts_by_default():
    targets = _targets(model_from_wyckoff(229, "a", ["s", "d"], BCC_SD, onsite=BCC_SD_ONSITE))
    a = fit_to_levels(229, "a", ["s", "d"], targets)
    b = fit_to_levels(229, "a", ["s", "d"], targets)
    assert a.parameters == b.parameters and a.onsite == b.onsite
    assert a.rms_eV < 1e-6


def test_fit_in_a_nonsymmorphic_group():
    """Diamond (Fd-3m, 8a) s + p: two-dimensional irreps at X and W come with fractional translations."""
    sk = {"sss": (-1.9, 0.1), "sps": (1.7, 0.05), "pps": (2.7, 0.2), "ppp": (-0.7, -0.1)}
    onsite = {"s": -4.0, "p": 1.5}
    targets = _targets(model_from_wyckoff(227, "a", ["s", "p"], sk, onsite=onsite))
    r = fit_to_levels(227, "a", ["s", "p"], targets, initial=_perturbed(sk, onsite))
    assert r.success and r.rms_eV < 1e-6


def test_window_drops_targets_and_pushes_other_levels_out():
    model = model_from_wyckoff(229, "a", ["s", "d"], BCC_SD, onsite=BCC_SD_ONSITE)
    window = (-4.0, 2.0)
    targets = {k: [t for t in v if t[1] != "GM1+"] for k, v in _targets(model).items()}  # GM1+ at 0 eV: no target
    r = fit_to_levels(229, "a", ["s", "d"], targets, window=window)
    assert r.success and not r.intruders
    assert all(window[0] <= lv.target <= window[1] for lv in r.levels)
    inside = [lv for lv in r.model.levels("GM") if window[0] < lv.energy < window[1]]
    assert "GM1+" not in [lv.irrep for lv in inside]  # ... GM1+ had no target: it left the window
    assert r.rms_eV < 1e-3


def test_a_label_the_model_cannot_produce_is_named():
    targets = {"N": [(-3.7, "N1+"), (2.3, "N3-")]}  # N3- (odd) needs p orbitals
    with pytest.raises(InputError, match=r"N3-.*N1\+×3"):
        fit_to_levels(229, "a", ["s", "d"], targets)
    with pytest.raises(InputError, match="GM1\\+ at GM.*1 GM1\\+ level"):
        fit_to_levels(229, "a", ["s", "d"], {"GM": [(-5.9, "GM1+"), (3.0, "GM1+")]})
    with pytest.raises(InputError, match="GM9"):
        fit_to_levels(229, "a", ["s", "d"], {"GM": [(0.0, "GM9+")]})
    with pytest.raises(InputError, match="initial"):
        fit_to_levels(229, "a", ["s", "d"], {"GM": [(0.0, "GM1+")]}, initial={"pps": 1.0})
    with pytest.raises(InputError, match="no target levels"):
        fit_to_levels(229, "a", ["s", "d"], {"GM": [(9.0, "GM1+")]}, window=(-7.0, 7.0))


# Two shells cannot do better on Nb: the eight levels with only d character (GM3+, GM5+, H3+, H5+,
# P3, N2+, N3+, N4+) are linear in E_d and the six dd integrals, with one sum rule
#   S = E(P3) + [E(GM3+) + E(H3+)]/4 − [E(N2+) + E(N3+) + E(N4+)]/2 = 0,
# which GPAW's Nb breaks by S = −0.355 eV. The best fit spreads S over these levels with the weights
# above (Σw² = 15/8): rms ≥ |S|/√(15/8 · 13) = 0.0719 eV, max ≥ |S|/(15/8) = 0.189 eV (at P3).
# Measured: rms 0.0719 eV, max 0.189 eV, i.e. the fit reaches this floor; every other level is exact.
NB_WINDOW = (-7.0, 7.0)
NB_RMS_EV = 0.08


def _sum_rule(targets) -> float:
    e = {(k, lab): en for k, lvs in targets.items() for en, lab in lvs}
    return (e["P", "P3"] + (e["GM", "GM3+"] + e["H", "H3+"]) / 4
            - (e["N", "N2+"] + e["N", "N3+"] + e["N", "N4+"]) / 2)


@pytest.mark.slow
def test_fit_spd_to_niobium(tmp_path, monkeypatch):
    """s + p + d, two shells, to GPAW's Nb levels at GM, H, N, P within ±7 eV of E_F (13 levels).

    Measured: rms 0.0719 eV, max 0.189 eV — the floor of the sum rule above (see its comment); the
    fitted model's labels at the four points, in energy order within the window, are GPAW's.
    """
    from nhm.report.analyze import analyze

    monkeypatch.setenv("NHM_CACHE_DIR", str(tmp_path / "cache"))
    an = analyze("Nb", with_zone=False)
    targets = targets_from_levels(an.levels, zero=an.fermi_level, window=NB_WINDOW)
    assert sum(len(v) for v in targets.values()) == 13
    r = fit_to_levels(229, "a", ["s", "p", "d"], targets, window=NB_WINDOW)
    assert r.success and not r.intruders
    floor = abs(_sum_rule(targets)) / np.sqrt(15 / 8 * 13)
    assert r.rms_eV < NB_RMS_EV
    assert r.rms_eV == pytest.approx(floor, abs=1e-4)
    assert r.max_abs_eV < 0.2
    for k, lvs in targets.items():
        fitted = [lv.irrep for lv in r.model.levels(k) if NB_WINDOW[0] < lv.energy < NB_WINDOW[1]]
        assert fitted == [lab for _, lab in lvs], k
