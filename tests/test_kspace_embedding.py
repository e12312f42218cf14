"""R2 points: the band's Bloch spinors at a degenerate level as a 2d×2 isometry (nhm.kspace.constraints.r2).

Model: tb:bcc-sd (Im-3m, one atom at 2a). Its energy-ordered band 2 is the top state of the lowest d
level GM5+ (Γ25′, t2g, 3-dim) at Γ and lies in H5+ (3-dim) at H. Γ5+ ⊗ D½ = Γ7+ ⊕ Γ8+; Γ7+ is induced by
the site representation A2g ⊗ D½ (-E2g@2a), so that site representation fits; A1g ⊗ D½ (Γ6+) does not.
"""

from __future__ import annotations

import numpy as np
import pytest

from nhm.bands.tightbinding import MODELS
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.spacegroup import space_group
from nhm.kspace.constraints.levels import representation_residual
from nhm.kspace.constraints.r2 import (
    invariance_residual,
    r2_isometry,
    r2_residuals,
    restricted_characters,
    site_characters,
    spinor_overlap,
)
from nhm.kspace.constraints.site import spin_site_representation
from nhm.kspace.constraints.spaces import (
    SIGMA_Y_ACTION,
    _conj_action,
    _null_space,
    constraint_spaces,
    real_antilinear,
    real_linear,
    vec,
)
from nhm.kspace.mesh import make_mesh
from nhm.kspace.sources.tightbinding import tight_binding_characters
from nhm.kspace.sources.tightbinding_levels import r2_points_on_mesh, tight_binding_level, tight_binding_r2_point

BAND = 2  # GM5+ at Γ, H5+ at H
TOL = 1e-10


@pytest.fixture(scope="module")
def model():
    return MODELS["bcc-sd"][0]()


@pytest.fixture(scope="module")
def a2g():
    return spin_site_representation(229, "a", "A2g")


def _random_unitary(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def test_the_band_is_gm5_and_h5(model):
    levels = model.levels_at_points()
    for name, label in (("GM", "GM5+"), ("H", "H5+")):
        states = [x for x in levels[name] for _ in range(x.dimension)]
        assert states[BAND].irrep == label and states[BAND].dimension == 3


@pytest.mark.parametrize("point", ["GM", "H"])
def test_isometry_solves_symmetry_and_time_reversal(model, a2g, point):
    p, level = tight_binding_r2_point(model, point, BAND, a2g)
    assert p.d == 3 and p.isometry.shape == (6, 2) and len(level.band_indices) == 3
    assert level.representation_residual < TOL and level.tr_residual < TOL
    assert np.linalg.norm(p.isometry.conj().T @ p.isometry - np.eye(2)) < TOL
    assert p.symmetry_residual < TOL and p.isometry_residual < TOL and p.time_reversal_residual < TOL
    assert p.time_reversal_matrix is not None  # Γ and H are time-reversal invariant
    # independently recomputed
    assert max(r2_residuals(p.k, p.ops, p.d_mats, a2g, p.isometry, p.time_reversal_matrix)) < TOL
    assert invariance_residual(p) < TOL
    assert np.max(np.abs(restricted_characters(p) - site_characters(a2g, np.array(p.k), p.ops))) < TOL
    # unique up to a sign: one real dimension, the constituent occurs once
    assert (p.solution_dimension, p.freedom, p.multiplicity) == (1, 0, 1) and p.note == ""


def test_constituent_is_gm7_of_the_double_group(model, a2g):
    """Cross-check with nhm's double-valued irreps at Γ: A†(D⊗S)A carries exactly the irrep that A2g ⊗ D½
    (Γ7+) induces, and D ⊗ D½ = Γ7+ ⊕ Γ8+ (the 4-dim one)."""
    p, _ = tight_binding_r2_point(model, "GM", BAND, a2g)
    lg = little_group(229, "GM", double=True)
    assert tuple(p.ops) == tuple(lg.indices)
    lifts = space_group(229).lifts
    constituent = lg.decompose(restricted_characters(p))
    assert constituent.sum() == 1
    label = lg.irreps[int(np.argmax(constituent))].label
    assert np.array_equal(constituent, lg.decompose(site_characters(a2g, np.zeros(3), lg.indices)))
    whole = lg.decompose(np.array([np.trace(dm) * np.trace(lifts[op]) for op, dm in zip(p.ops, p.d_mats)]))
    dims = sorted(lg.irreps[i].dimension for i in np.nonzero(whole)[0])
    assert whole.sum() == 2 and dims == [2, 4] and whole[int(np.argmax(constituent))] == 1
    # and it is not Γ6+ (the one A1g ⊗ D½ gives)
    a1g = spin_site_representation(229, "a", "A1g")
    assert lg.irreps[int(np.argmax(lg.decompose(site_characters(a1g, np.zeros(3), lg.indices))))].label != label


def test_absent_constituent_is_refused(model):
    a1g = spin_site_representation(229, "a", "A1g")  # ρ_Γ = Γ6+, not in Γ5+ ⊗ D½
    with pytest.raises(InputError, match="does not occur"):
        tight_binding_r2_point(model, "GM", BAND, a1g)
    a2g = spin_site_representation(229, "a", "A2g")
    with pytest.raises(InputError, match="does not occur"):  # H3+ ⊗ D½ = H8+ only
        tight_binding_r2_point(model, "H", 0, a2g)


def test_gauge_covariance(model, a2g):
    """A random unitary change of basis W of the degenerate eigenvectors: D → W†DW, U → W†UW̄, and the
    spinor subspace (V ⊗ 1) A A† (V ⊗ 1)† in orbital ⊗ spin space does not move (A → ±(W† ⊗ 1) A)."""
    rng = np.random.default_rng(7)
    for point in ("GM", "H"):
        p0, lv0 = tight_binding_r2_point(model, point, BAND, a2g)
        c0 = p0.spinor_coefficients(lv0.vectors)
        proj0 = c0 @ c0.conj().T
        for _ in range(5):
            w = _random_unitary(rng, 3)
            p, lv = tight_binding_r2_point(model, point, BAND, a2g, vectors=lv0.vectors @ w)
            assert p.symmetry_residual < TOL and p.time_reversal_residual < TOL
            c = p.spinor_coefficients(lv.vectors)
            assert np.linalg.norm(c @ c.conj().T - proj0) < 1e-9
            expected = np.kron(w.conj().T, np.eye(2)) @ p0.isometry
            assert min(np.linalg.norm(p.isometry - expected), np.linalg.norm(p.isometry + expected)) < 1e-9


def test_time_reversal_fixes_the_phase(model, a2g):
    """Without (E2) the solution space is the complex line (real dimension 2); with it, a real line. A
    phase other than ±1 violates (E2) — the check can fail."""
    lv = tight_binding_level(model, little_group(229, "GM").k, BAND)
    free = r2_isometry(lv.k, lv.ops, lv.d_mats, a2g, None, "GM")
    assert free.solution_dimension == 2 and free.freedom == 0
    fixed = r2_isometry(lv.k, lv.ops, lv.d_mats, a2g, lv.time_reversal_matrix, "GM")
    _, _, tr = r2_residuals(fixed.k, fixed.ops, fixed.d_mats, a2g, 1j * fixed.isometry, lv.time_reversal_matrix)
    assert tr > 1.0
    # the projector is the same with or without time reversal
    assert np.linalg.norm(free.projector - fixed.projector) < 1e-9


def test_d_equal_one_reduces_to_eqs_1_and_3(model):
    """At N the top band (index 5, N4+) is non-degenerate: the 2×2 'isometry' is F(N) and must lie in the
    constraint space of constraints.py (λ S F S† = F with λ = c/s, and F = σ_y F* σ_y)."""
    e1g = spin_site_representation(229, "a", "A1g")
    lv = tight_binding_level(model, little_group(229, "N").k, 5)
    assert len(lv.band_indices) == 1
    p = r2_isometry(lv.k, lv.ops, lv.d_mats, e1g, lv.time_reversal_matrix, "N")
    f = p.isometry
    lifts = space_group(229).lifts
    rows = [real_linear(lv.d_mats[n, 0, 0] / e1g.s[op] * _conj_action(lifts[op]) - np.eye(4)) for n, op in enumerate(lv.ops)]
    rows.append(real_linear(np.eye(4)) - real_antilinear(SIGMA_Y_ACTION))  # b = E at N (−N ≡ N)
    q = _null_space(rows)
    assert q.shape[1] == 1
    assert np.linalg.norm(q @ q.T @ vec(f) - vec(f)) < TOL
    assert p.symmetry_residual < TOL and p.time_reversal_residual < TOL
    # F(N) is in SU(2) and traceless here (λ = −1 on some two-fold axes): ±i n·σ
    assert abs(np.linalg.det(f) - 1) < 1e-9 and abs(np.trace(f)) < 1e-9


def test_representation_check_can_fail(model):
    lv = tight_binding_level(model, little_group(229, "GM").k, BAND)
    g = space_group(229)
    assert representation_residual(g, np.zeros(3), lv.ops, lv.d_mats) < TOL
    bad = lv.d_mats.copy()
    bad[3] = bad[3] @ np.diag([1, 1, -1])  # no longer a representation
    assert representation_residual(g, np.zeros(3), lv.ops, bad) > 0.5


def test_spinor_overlap_generalises_the_r1_bond(model, a2g):
    """O = A†(m ⊗ 1)F: for d = 1 it is F(K)† M F(k′); at an R2 point it equals the direct overlap of the
    spinor coefficient vectors ((V ⊗ 1)A)† (v′ ⊗ 1) F(k′) in orbital ⊗ spin space."""
    rng = np.random.default_rng(3)
    f1, f2 = _random_unitary(rng, 2), _random_unitary(rng, 2)
    assert np.allclose(spinor_overlap(f1, np.array([0.3 - 0.2j]), f2), (0.3 - 0.2j) * f1.conj().T @ f2)
    p, lv = tight_binding_r2_point(model, "GM", BAND, a2g)
    kp = np.array([0.0, 0.0, 0.05])  # on Δ towards H: band 2 is non-degenerate there
    e, v = model.bands(kp)
    assert min(abs(e[BAND] - e[BAND - 1]), abs(e[BAND + 1] - e[BAND])) > 1e-4
    vp = v[:, BAND : BAND + 1]
    m = lv.vectors.conj().T @ vp[:, 0]
    direct = p.spinor_coefficients(lv.vectors).conj().T @ np.kron(vp, np.eye(2)) @ f2
    assert np.linalg.norm(spinor_overlap(p.isometry, m, f2) - direct) < TOL
    # |O| ≤ 1 as a contraction: singular values of O are at most |m| ≤ 1
    assert np.linalg.svd(spinor_overlap(p.isometry, m, f2), compute_uv=False).max() <= np.linalg.norm(m) + 1e-12



def test_spin_overlap_bound_at_an_r2_point(model, a2g):
    """[nhm] tr_spin(A A†) commutes with the irreducible D, so it is (2/d)·1: for every spatial overlap m,
    ‖A†(m ⊗ 1)‖_F² = (2/d)|m|². A bond from an R2 point keeps at most 2/d of the spin overlap 2 that a
    point of Eq. 7's form can reach (the gauge-invariant spread of the bond is ≥ w_b (2 − 2/d))."""
    rng = np.random.default_rng(11)
    for point in ("GM", "H"):
        p, _ = tight_binding_r2_point(model, point, BAND, a2g)
        reduced = np.einsum("isjs->ij", p.projector.reshape(3, 2, 3, 2))
        assert np.linalg.norm(reduced - (2 / 3) * np.eye(3)) < TOL
        for _ in range(3):
            m = rng.normal(size=3) + 1j * rng.normal(size=3)
            o = spinor_overlap(p.isometry, m, _random_unitary(rng, 2))
            assert abs(np.linalg.norm(o) ** 2 - (2 / 3) * np.linalg.norm(m) ** 2) < 1e-9


def test_r2_points_on_a_mesh(model, a2g):
    """On the 4³ mesh band 2 is degenerate at Γ, H (3-dim), P (3-dim) and at the midpoint of Δ (2-dim, Δ5):
    each is an R2 point with a solved isometry. The top band 5 is nowhere degenerate; band 1 (H3+ at H) is refused."""
    mesh = make_mesh(229, 4)
    pts = r2_points_on_mesh(mesh, model, BAND, a2g)
    found = {tuple(str(x) for x in mesh.k_conventional(m)): p for m, p in pts.items()}
    assert set(found) == {("0", "0", "0"), ("1/2", "1/2", "1/2"), ("1", "1", "1/2"), ("1", "1", "1")}
    assert [found[k].d for k in sorted(found)] == [3, 3, 2, 3]
    for p in pts.values():
        assert max(p.symmetry_residual, p.isometry_residual, p.time_reversal_residual) < TOL
        assert invariance_residual(p) < TOL and p.freedom == 0
    assert found[("0", "0", "0")].solution_dimension == 1  # time reversal at Γ
    assert found[("1", "1", "1/2")].solution_dimension == 2  # a phase on the line (antiunitary I·T not used)
    assert r2_points_on_mesh(mesh, model, 5, a2g) == {}
    with pytest.raises(InputError, match="does not occur"):
        r2_points_on_mesh(mesh, model, 1, a2g)


def test_tight_binding_characters_collects_r2_points(model, a2g):
    """reading="R2": the k-space tight-binding path lists the R2 points with their isometries instead of
    refusing the band; λ at every other point is still a character; the constraint spaces leave them out."""
    mesh = make_mesh(229, 4)
    with pytest.raises(InputError, match="degenerate"):
        tight_binding_characters(mesh, model, BAND, a2g)
    chars = tight_binding_characters(mesh, model, BAND, a2g, reading="R2")
    assert set(chars.r2_points) == set(r2_points_on_mesh(mesh, model, BAND, a2g))
    assert not set(chars.r2_points) & set(chars.lam)
    assert chars.character_residual < 1e-8 and all(np.allclose(np.abs(v), 1) for v in chars.lam.values())
    assert "GM:GM5+" in chars.band_text and "gauge" in chars.source[0]
    spaces = constraint_spaces(chars)  # the R2 representatives are not variables
    assert not set(int(m) for m in spaces.reps) & set(chars.r2_points)
    from dataclasses import replace

    with pytest.raises(InputError, match="R2 points"):  # without their Bloch spinors the construction refuses
        constraint_spaces(replace(chars, r2_spinors=None))
    # the top band has no R2 point: the R2 path gives the same λ as the R1 path
    top_r1 = tight_binding_characters(mesh, model, 5, a2g)
    top_r2 = tight_binding_characters(mesh, model, 5, a2g, reading="R2")
    assert top_r2.r2_points == {} and set(top_r1.lam) == set(top_r2.lam)
    assert all(np.allclose(top_r1.lam[m], top_r2.lam[m]) for m in top_r1.lam)


# --- the same from DFT states (GPAW plane waves) -----------------------------------------------------


@pytest.mark.slow
def test_r2_isometries_from_niobium_dft_states(tmp_path):
    """Nb's own Bloch states: the 3-dim levels GM5+ (Γ25′, just above E_F) and P4 as plane waves. D and U
    from the states are a representation and commute as T requires; A2g ⊗ D½ (Γ7+) embeds at Γ, A1g ⊗ D½
    (Γ6+) does not; at P (−P ≢ P, no T) the embedding is unique up to a phase; the spinors (V ⊗ 1)A do not
    depend on the basis chosen in the level."""
    from nhm.bands.bloch import degenerate_groups, levels_from_plane_waves
    from nhm.bands.dft import DftParameters, bloch_states_at_points
    from nhm.crystal import read_crystal
    from nhm.kspace.constraints.r2 import restricted_characters, site_characters
    from nhm.kspace.sources.planewaves import plane_wave_level

    states = bloch_states_at_points(read_crystal("Nb"), DftParameters(kmesh=6, mode_ecut_eV=350), cache_dir=tmp_path)
    rng = np.random.default_rng(11)
    for name, site_name, label, time_reversal in (("GM", "-rho3", "GM5+", True), ("P", "-rho2", "P4", False)):
        s = states[name]
        a, b = next((a, b) for a, b in degenerate_groups(s.energies_eV)
                    if b - a == 3 and abs(s.energies_eV[a] - s.fermi_level_eV) < 2)
        assert [lv.irrep for lv in levels_from_plane_waves(229, name, s.k_primitive, s.energies_eV[a:b + 1],
                                                           s.g_vectors, s.coefficients[a:b + 1])][0] == label
        site = spin_site_representation(229, "a", site_name)
        spinors = []
        for mix in (np.eye(3), np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))[0]):
            level = plane_wave_level(229, s.k_conventional, s.k_primitive, s.g_vectors, mix.T @ s.coefficients[a:b])
            assert level.representation_residual < 1e-9
            assert (level.time_reversal_matrix is not None) == time_reversal and level.tr_residual < 1e-9
            point = r2_isometry(s.k_conventional, level.ops, level.d_mats, site, level.time_reversal_matrix, name)
            assert max(point.symmetry_residual, point.isometry_residual, point.time_reversal_residual) < 1e-9
            assert invariance_residual(point) < 1e-9
            kf = np.array([float(x) for x in s.k_conventional])
            np.testing.assert_allclose(restricted_characters(point), site_characters(site, kf, point.ops), atol=1e-9)
            assert point.solution_dimension == (1 if time_reversal else 2)
            spinors.append(point.spinor_coefficients(level.vectors))
        x, y = spinors
        np.testing.assert_allclose(x @ x.conj().T, y @ y.conj().T, atol=1e-9)  # the same two-dimensional subspace
    s = states["GM"]
    a, b = next((a, b) for a, b in degenerate_groups(s.energies_eV) if b - a == 3 and abs(s.energies_eV[a] - s.fermi_level_eV) < 2)
    level = plane_wave_level(229, s.k_conventional, s.k_primitive, s.g_vectors, s.coefficients[a:b])
    with pytest.raises(InputError, match="does not occur"):
        r2_isometry(s.k_conventional, level.ops, level.d_mats, spin_site_representation(229, "a", "-rho1"), level.time_reversal_matrix)
