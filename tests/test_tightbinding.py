"""Slater–Koster tight-binding models: two-centre integrals, symmetry of H(k), irreps at the points of symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from nhm.bandrep.ebr import band_representation
from nhm.bands.tightbinding import (
    bcc_s_band,
    build_model,
    model_from_atoms,
    model_from_wyckoff,
    orbital_rotation,
    two_centre,
)
from nhm.errors import InputError
from nhm.groups.spacegroup import space_group

SK = {"sss": -1.1, "sps": 0.9, "sds": -0.7, "pps": 1.3, "ppp": -0.4, "pds": -0.8, "pdp": 0.35, "dds": -0.6, "ddp": 0.3, "ddd": -0.05}


def _cosines(rng):
    d = rng.normal(size=3)
    return d, *(d / np.linalg.norm(d))


@pytest.mark.parametrize("seed", range(5))
def test_two_centre_integrals_reproduce_the_slater_koster_table(seed):
    rng = np.random.default_rng(seed)
    d, l, m, n = _cosines(rng)
    p = ("px", "py", "pz")
    dd = ("dxy", "dyz", "dzx", "dx2-y2", "dz2")
    s3 = np.sqrt(3)
    assert two_centre(["s"], ["s"], d, SK)[0, 0] == pytest.approx(SK["sss"])
    assert two_centre(["s"], p, d, SK)[0] == pytest.approx(np.array([l, m, n]) * SK["sps"])
    assert two_centre(p, ["s"], d, SK)[:, 0] == pytest.approx(-np.array([l, m, n]) * SK["sps"])
    pp = two_centre(p, p, d, SK)
    assert pp[0, 0] == pytest.approx(l * l * SK["pps"] + (1 - l * l) * SK["ppp"])
    assert pp[0, 1] == pytest.approx(l * m * (SK["pps"] - SK["ppp"]))
    sd = two_centre(["s"], dd, d, SK)[0]
    assert sd[0] == pytest.approx(s3 * l * m * SK["sds"])
    assert sd[3] == pytest.approx(0.5 * s3 * (l * l - m * m) * SK["sds"])
    assert sd[4] == pytest.approx((n * n - 0.5 * (l * l + m * m)) * SK["sds"])
    pd = two_centre(p, dd, d, SK)
    assert pd[0, 0] == pytest.approx(s3 * l * l * m * SK["pds"] + m * (1 - 2 * l * l) * SK["pdp"])
    ddm = two_centre(dd, dd, d, SK)
    assert ddm[0, 0] == pytest.approx(
        3 * l * l * m * m * SK["dds"] + (l * l + m * m - 4 * l * l * m * m) * SK["ddp"] + (n * n + l * l * m * m) * SK["ddd"]
    )
    assert ddm[4, 4] == pytest.approx(
        (n * n - 0.5 * (l * l + m * m)) ** 2 * SK["dds"] + 3 * n * n * (l * l + m * m) * SK["ddp"] + 0.75 * (l * l + m * m) ** 2 * SK["ddd"]
    )
    assert np.allclose(ddm, ddm.T)  # d-d is symmetric under d -> -d and transposition


def test_orbital_rotations_are_orthogonal_representations():
    rng = np.random.default_rng(3)
    q1, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q2, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for names in (("px", "py", "pz"), ("dxy", "dyz", "dzx", "dx2-y2", "dz2")):
        d1, d2, d12 = orbital_rotation(names, q1), orbital_rotation(names, q2), orbital_rotation(names, q1 @ q2)
        assert np.allclose(d1 @ d1.T, np.eye(len(names)), atol=1e-10)
        assert np.allclose(d1 @ d2, d12, atol=1e-10)
    assert np.allclose(orbital_rotation(("px", "py", "pz"), q1), q1, atol=1e-10)


def _model_sd():
    return model_from_wyckoff(229, "a", ["s", "p", "d"], {k: (v, 0.3 * v) for k, v in SK.items()}, onsite={"s": 2.0, "p": 6.0, "d": 0.0})


def test_hamiltonian_is_hermitian_and_symmetric():
    model = _model_sd()
    g = space_group(229)
    rng = np.random.default_rng(5)
    for _ in range(3):
        k = rng.normal(size=3)
        h = model.hamiltonian(k)
        assert np.allclose(h, h.conj().T)
        for i, op in enumerate(g.operations):
            ak = np.linalg.inv(np.array(op.rotation, dtype=float)).T @ k
            m = model.symmetry_matrix(i, k)
            assert np.allclose(model.hamiltonian(ak) @ m, m @ h, atol=1e-10), i


def test_bcc_s_band_irreps():
    levels = bcc_s_band().levels_at_points()
    assert {k: [lv.irrep for lv in v] for k, v in levels.items()} == {"GM": ["GM1+"], "H": ["H1+"], "N": ["N1+"], "P": ["P1"]}


def test_bcc_d_bands_at_gamma_are_eg_and_t2g():
    model = model_from_wyckoff(229, "a", ["d"], {"dds": (-0.6, -0.3), "ddp": (0.3, 0.1), "ddd": (-0.05, 0.0)})
    gm = model.levels("GM")
    assert sorted((lv.irrep, lv.dimension) for lv in gm) == [("GM3+", 2), ("GM5+", 3)]
    full = _model_sd().levels("GM")
    assert sorted(lv.irrep for lv in full) == ["GM1+", "GM3+", "GM4-", "GM5+"]  # s, eg, p (T1u), t2g


def test_fcc_s_band_matches_bilbao_ebr_of_4a_a1g():
    model = model_from_wyckoff(225, "a", ["s"], {"sss": (-1.0, -0.1)})
    got = {k: {lv.irrep: 1 for lv in v} for k, v in model.levels_at_points().items()}
    assert got == band_representation(225, "a", "A1g").multiplicities
    assert got == {"GM": {"GM1+": 1}, "X": {"X1+": 1}, "L": {"L1+": 1}, "W": {"W1": 1}}


def test_hexagonal_model_levels_are_labelled():
    model = model_from_wyckoff(191, "a", ["s", "p"], {"sss": (-1.0, -0.2), "sps": 0.5, "pps": 0.7, "ppp": -0.2}, onsite={"p": 3.0})
    levels = model.levels_at_points()
    assert set(levels) >= {"GM", "A", "K", "H", "M", "L"}
    assert sum(lv.dimension for lv in levels["K"]) == 4


def test_model_from_ase_atoms():
    from ase.build import bulk

    model = model_from_atoms(bulk("Nb", "bcc", a=3.3), ["s"], {"sss": (-1.0, -0.25)})
    assert model.space_group == 229
    assert [lv.irrep for lv in model.levels("N")] == ["N1+"]
    assert model.shells[0] == pytest.approx(3.3 * np.sqrt(3) / 2)


def test_bad_model_input():
    with pytest.raises(InputError, match="unknown orbital"):
        model_from_wyckoff(229, "a", ["f"], {"sss": -1.0})
    with pytest.raises(InputError, match="l1 ≤ l2"):
        model_from_wyckoff(229, "a", ["s", "d"], {"dss": -1.0})
    with pytest.raises(InputError, match="no orbitals"):
        build_model(229, [], ["s"], {"sss": -1.0})
