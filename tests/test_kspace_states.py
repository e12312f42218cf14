"""The DFT path of k-space magnetism (nhm.kspace.sources.states): plane-wave states carried by the exact
operations, and the whole path fed with a tight-binding model's eigenvectors against the model path."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhm.bands.bloch import (
    conjugate_plane_waves,
    matrices_on_plane_waves,
    operations_at,
    plane_wave_overlap,
    primitive_operation,
    rotate_plane_waves,
)
from nhm.bands.tightbinding import MODELS
from nhm.groups.spacegroup import space_group
from nhm.kspace.constraints.site import spin_site_representation
from nhm.kspace.construction.field import r2_bond_matrices, residuals, spread
from nhm.kspace.construction.optimise import build_field
from nhm.kspace.mesh import make_mesh
from nhm.kspace.sources.states import band_on_mesh, snap_character
from nhm.kspace.sources.tightbinding import model_band_symmetry, tight_binding_characters, tight_binding_overlaps
from nhm.kspace.sources.tightbinding import TightBindingBand

N = 8  # mesh of the plane-wave tests (k = j / N, primitive basis)


def _sphere() -> np.ndarray:
    """Candidate integer G (primitive reciprocal basis); the callers keep those with |k + G| ≤ 2.6 in the
    conventional cubic metric (a sphere closed under the point group)."""
    r = np.arange(-4, 5)
    return np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)


def _cart_metric(sg: int) -> np.ndarray:
    from nhm.crystal.setting import primitive_transform

    p = np.array(primitive_transform(sg), dtype=float)
    return np.linalg.inv(p)  # rows: primitive reciprocal vectors in conventional reciprocal coordinates


def _state(sg: int, j, d: int = 1, seed: int = 0):
    """Random plane-wave states at k = j/N on the cutoff sphere |k + G| ≤ 2.6 (conventional units)."""
    k = np.asarray(j, dtype=float) / N
    g = _sphere()
    b = _cart_metric(sg)
    keep = np.linalg.norm((k + g) @ b, axis=1) <= 2.6
    rng = np.random.default_rng(seed)
    g = g[keep]
    c = rng.normal(size=(d, len(g))) + 1j * rng.normal(size=(d, len(g)))
    return k, g, c


def _index_of_product(sg: int, a: int, b: int) -> tuple[int, np.ndarray]:
    """Coset representative of {R_a|t_a}{R_b|t_b} and the lattice vector L (primitive) with t_ab + L = t_a + R_a t_b."""
    g = space_group(sg)
    ra, ta = primitive_operation(sg, a)
    rb, tb = primitive_operation(sg, b)
    r_ab = ra @ rb  # R^-T composes in the same order
    for i in range(g.order):
        ri, ti = primitive_operation(sg, i)
        if np.array_equal(ri, r_ab):
            # t_a + R_a t_b in primitive direct coordinates; R_a = (R_a^-T)^-T
            r_direct = np.rint(np.linalg.inv(ra.T)).astype(int)
            t = np.array([float(x) for x in ta]) + r_direct @ np.array([float(x) for x in tb])
            return i, t - np.array([float(x) for x in ti])
    raise AssertionError("no coset representative")


@settings(max_examples=40, deadline=None)
@given(
    sg=st.sampled_from([229, 227, 225, 221]),
    j=st.tuples(*(st.integers(0, N - 1),) * 3),
    a=st.integers(0, 47),
    b=st.integers(0, 47),
)
def test_rotation_of_plane_waves_is_a_representation(sg, j, a, b):
    """P(a)P(b)ψ = P(ab)ψ up to the phase of the lattice translation (227: non-symmorphic, so the
    translation phases matter), with the phase of that translation."""
    k, g, c = _state(sg, j)
    ra, _ = primitive_operation(sg, a)
    rb, _ = primitive_operation(sg, b)
    kb = rb @ k
    kab = ra @ kb
    g1, c1 = rotate_plane_waves(sg, b, k, kb, g, c)
    g2, c2 = rotate_plane_waves(sg, a, kb, kab, g1, c1)
    ab, lat = _index_of_product(sg, a, b)
    g3, c3 = rotate_plane_waves(sg, ab, k, kab, g, c)
    ov = plane_wave_overlap(g2, c2, g3, c3)[0, 0]
    norm = float(np.vdot(c, c).real)
    assert abs(ov) == pytest.approx(norm, rel=1e-12)
    # the phase is that of the lattice translation L: P({E|L}) = e^{-2πi K·L} on the state at K
    # P(a)P(b) = P({E|L}) P(ab) and P({E|L})ψ_K = e^{−2πi K·L} ψ_K, so ⟨P(a)P(b)ψ|P(ab)ψ⟩ = e^{+2πi K·L} ‖ψ‖²
    assert ov / norm == pytest.approx(np.exp(2j * np.pi * float(kab @ lat)), abs=1e-9)


def test_rotation_agrees_with_the_little_group_matrices():
    """On the little group of a point of symmetry, rotate_plane_waves(k → k) is matrices_on_plane_waves."""
    from nhm.groups.irreps import little_group

    for sg, name in ((229, "P"), (227, "X"), (227, "L")):
        lg = little_group(sg, name)
        ops = operations_at(sg, lg.k, lg.indices, name)
        k = np.array([float(x) for x in ops.k])
        g = _sphere()
        keep = np.linalg.norm((k + g) @ _cart_metric(sg), axis=1) <= 2.6
        g = g[keep]
        rng = np.random.default_rng(1)
        c = rng.normal(size=(2, len(g))) + 1j * rng.normal(size=(2, len(g)))
        c = np.linalg.qr(c.T)[0].T  # orthonormal rows
        d = matrices_on_plane_waves(ops, k, g, c)
        for i, op in enumerate(lg.indices):
            g2, c2 = rotate_plane_waves(sg, op, k, k, g, c)
            np.testing.assert_allclose(plane_wave_overlap(g, c, g2, c2), d[i], atol=1e-12)


def test_conjugation_and_overlap_shift():
    k, g, c = _state(229, (1, 2, 3), d=2)
    mk = (-k) % 1.0
    g1, c1 = conjugate_plane_waves(k, mk, g, c)
    g2, c2 = conjugate_plane_waves(mk, k, g1, c1)
    np.testing.assert_allclose(plane_wave_overlap(g, c, g2, c2), c.conj() @ c.T, atol=1e-12)
    # the same state stored at k − G0 (labels G + G0), seen at k − G0 + G0 = k, overlaps with itself
    g0 = np.array([1, -1, 2])
    np.testing.assert_allclose(plane_wave_overlap(g, c, g + g0, c, g0), c.conj() @ c.T, atol=1e-12)  # stored at k - G0


def test_snap_character():
    assert snap_character(-1 + 3e-11j, np.zeros(3), (0, 0, 0)) == -1
    assert snap_character(1j * np.exp(-2j * np.pi * 0.125) * (1 + 1e-10), np.array([0.5, 0, 0]), (Fraction(1, 4), 0, 0)) == pytest.approx(
        1j * np.exp(-2j * np.pi * 0.125), abs=1e-15)
    assert snap_character(0.3 + 0.2j, np.zeros(3), (0, 0, 0)) == 0.3 + 0.2j  # not a root of unity: unchanged


# ----------------------------------------------------------------------------- the path fed with a tight-binding model


@pytest.fixture(scope="module")
def bcc_sd():
    return MODELS["bcc-sd"][0]()


@pytest.mark.parametrize("band, site_name", [(MODELS["bcc-sd"][1], "-E1g"), (2, "A2g")])
def test_states_path_reproduces_the_model_path(bcc_sd, band, site_name):
    """tb:bcc-sd band 5 (reading R1) and band 2 (R2 at Γ, H, P and on Λ): the DFT-style path (eigenvectors at the
    primary representatives only, unfolded by P(g) and T) gives the model path's λ, R2 points, Bloch-spinor bonds
    and |M_kb|; the model path's optimal F satisfies the DFT path's constraints with the same spread, and (R2) the
    optimised spin axes z_k agree."""
    model = bcc_sd
    reading = "R2" if band == 2 else "R1"
    site = spin_site_representation(229, "a", site_name)
    mesh = make_mesh(229, N)
    ref = tight_binding_characters(mesh, model, band, site, reading=reading)
    text = model_band_symmetry(model, band, allow_degenerate=True).text()
    got = band_on_mesh(mesh, TightBindingBand(model, band), site, text)
    ch = got.characters
    assert set(ch.lam) == set(ref.lam) and set(ch.r2_points) == set(ref.r2_points)
    for m in ref.lam:
        np.testing.assert_allclose(ch.lam[m], ref.lam[m], atol=1e-12)
    np.testing.assert_allclose(ch.lam_gamma, ref.lam_gamma, atol=1e-12)
    ov = tight_binding_overlaps(mesh, model, band)
    f_ref = build_field(ref, overlaps=lambda mm: ov)
    if reading == "R1":
        assert ch.r2_spinors is None
        np.testing.assert_allclose(got.overlaps, ov, atol=1e-12)
        # the model's optimum is a solution of the states path's problem with the same spread
        from nhm.kspace.constraints.spaces import constraint_spaces

        r = residuals(constraint_spaces(ch), f_ref.f_reference, f_ref.f)
        assert max(r.constraint, r.star, r.time_reversal) < 1e-10
        assert spread(mesh, f_ref.f, projective=True, overlaps=got.overlaps) == pytest.approx(f_ref.spread_with_overlaps, abs=1e-12)
        f_got = build_field(ch, overlaps=lambda mm: got.overlaps)
        assert f_got.spread_with_overlaps == pytest.approx(f_ref.spread_with_overlaps, abs=1e-9)
    else:
        r2 = ch.r2_spinors
        assert max(r2.direct, r2.symmetry, r2.gauge, r2.isometry) < 1e-10
        assert set(r2.dims) == {2, 3} and np.array_equal(r2.mask, ref.r2_spinors.mask)
        k1, m1 = r2_bond_matrices(mesh, ref.r2_spinors)
        k2, m2 = r2_bond_matrices(mesh, r2)
        assert np.array_equal(k1, k2)
        sel = k1 > 0  # the block bases differ from the orbital basis by a unitary per point: compare invariants
        np.testing.assert_allclose(np.linalg.svd(m2[sel], compute_uv=False), np.linalg.svd(m1[sel], compute_uv=False), atol=1e-12)
        np.testing.assert_allclose(np.abs(np.einsum("naa->n", m2[k1 == 3])), np.abs(np.einsum("naa->n", m1[k1 == 3])), atol=1e-12)
        np.testing.assert_allclose(got.overlaps[k1 == 0], ov[k1 == 0], atol=1e-12)
        f_got = build_field(ch, overlaps=lambda mm: got.overlaps)
        assert f_got.spread_with_overlaps == pytest.approx(f_ref.spread_with_overlaps, abs=1e-9)
        ok = f_ref.defined
        np.testing.assert_allclose(f_got.spin_axes[ok], f_ref.spin_axes[ok], atol=1e-8)
        np.testing.assert_allclose(f_got.spin_axes[~ok], f_ref.spin_axes[~ok], atol=1e-8)  # the R2 points' Ψ


def test_bond_overlaps_all_at_once_equal_the_pairwise_ones():
    from nhm.kspace.sources.planewaves import PlaneWaveBlock, plane_wave_bond_overlaps

    mesh = make_mesh(221, 4)
    steps, _, table = mesh.neighbours
    j = mesh.indices
    shifts = (j[:, None, :] + steps[None, :, :] - j[table]) // 4
    blocks = []
    for m in range(mesh.size):
        k, g, c = _state(221, j[m] * 2, d=1 if m % 7 else 2, seed=m)  # some two-state blocks, left out
        blocks.append(PlaneWaveBlock(g, c))
    use = np.array([[blocks[k].c.shape[0] == 1 and blocks[q].c.shape[0] == 1 for q in row] for k, row in enumerate(table)])
    fast = plane_wave_bond_overlaps(blocks, table, shifts, use)
    for k, b in zip(*np.nonzero(use)):
        q = table[k, b]
        assert fast[k, b] == pytest.approx(plane_wave_overlap(blocks[k].g, blocks[k].c, blocks[q].g, blocks[q].c, shifts[k, b])[0, 0], abs=1e-9)
    assert np.all(fast[~use] == 0) and np.any(np.abs(fast[use]) > 0)
