"""F(k) construction for a band with R2 points (reading R2, docs/theory.md §6): tb:bcc-sd band 2 with the
spin-dependent WFs A2g ⊗ D½ (-E2g@2a) on the 8³ mesh (the smallest bcc mesh with points of Δ and F
inside the two-dimensional segments besides Γ, H, P)."""

from __future__ import annotations

import numpy as np
import pytest

from nhm.bands.tightbinding import MODELS
from nhm.errors import InputError
from nhm.kspace.analysis.checks import check_field, jump_report
from nhm.kspace.analysis.wannier import check_model_wannier, model_wannier_functions, wannier_functions
from nhm.kspace.constraints.site import spin_site_representation
from nhm.kspace.construction.field import r2_bond_matrices
from nhm.kspace.construction.optimise import build_field, start_spread
from nhm.kspace.mesh import make_mesh
from nhm.kspace.sources.tightbinding import tight_binding_characters, tight_binding_overlaps

BAND = 2
TOL = 1e-10


@pytest.fixture(scope="module")
def setup():
    model = MODELS["bcc-sd"][0]()
    site = spin_site_representation(229, "a", "A2g")
    mesh = make_mesh(229, 8)

    def rebuild(mm):
        return tight_binding_characters(mm, model, BAND, site, reading="R2")

    def overlaps(mm):
        return tight_binding_overlaps(mm, model, BAND)

    chars = rebuild(mesh)
    fld = build_field(chars, rebuild=rebuild, overlaps=overlaps)
    return model, site, mesh, chars, fld


def test_r2_points_are_exactly_the_multidimensional_levels(setup):
    model, _, mesh, chars, fld = setup
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    e = np.linalg.eigvalsh(model.hamiltonian(mesh.k_primitive @ p_to_conv.T))
    degenerate = np.sum(np.abs(e - e[:, BAND : BAND + 1]) < 1e-6, axis=1) > 1
    assert np.array_equal(degenerate, fld.r2.mask) and not np.array_equal(degenerate, np.zeros_like(degenerate))
    assert np.array_equal(~fld.defined, degenerate)
    assert set(chars.r2_points) == {int(m) for m in mesh.representatives if degenerate[m]}
    dims = np.sum(np.abs(e - e[:, BAND : BAND + 1]) < 1e-6, axis=1)
    assert np.array_equal(fld.r2.dims, dims[fld.r2.points])
    assert set(fld.r2.dims) == {2, 3}
    # F is not defined (NaN) exactly there and finite elsewhere
    assert np.all(np.isnan(fld.f[fld.r2.mask])) and np.all(np.isfinite(fld.f[fld.defined]))


def test_residuals_where_f_is_defined(setup):
    fld = setup[4]
    r = fld.residuals
    assert max(r.constraint, r.star, r.time_reversal, r.unitarity) < TOL
    # the fixed Bloch spinors: propagation = direct solution at every member, (E1)/(E2), gauge, isometry
    assert r.r2 < TOL
    assert max(fld.r2.direct, fld.r2.symmetry, fld.r2.gauge, fld.r2.isometry) < TOL


def test_spread_is_finite_and_lowered_by_the_relaxation(setup):
    model, _, mesh, chars, fld = setup
    m_kb = tight_binding_overlaps(mesh, model, BAND)
    start = start_spread(chars, m_kb)
    end = fld.spread_with_overlaps
    assert np.isfinite(start) and np.isfinite(end) and np.isfinite(fld.spread) and np.isfinite(fld.spread_projective)
    assert end < start - 0.1
    assert fld.history[-1] == pytest.approx(end, abs=1e-9)


def test_r2_bond_term_is_the_bloch_spinor_overlap(setup):
    """O = F(k)†B with B = (c_k ⊗ 1)†Ψ_K equals the overlap of the 2n-component Bloch spinors computed
    from scratch (c_k ⊗ F(k) against (V_K ⊗ 1)A_K with the isometry solved at K itself)."""
    from nhm.kspace.constraints.r2 import r2_isometry
    from nhm.kspace.sources.tightbinding_levels import tight_binding_level

    model, site, mesh, chars, fld = setup
    kind, mats = r2_bond_matrices(mesh, fld.r2)
    kk, bb = np.nonzero(kind == 1)
    _, _, table = mesh.neighbours
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    for k, b in list(zip(kk, bb))[:: max(1, len(kk) // 12)]:
        kp = int(table[k, b])
        c = np.linalg.eigh(model.hamiltonian(mesh.k_primitive[k] @ p_to_conv.T))[1][:, BAND]
        lv = tight_binding_level(model, mesh.k_conventional(kp), BAND)
        a = r2_isometry(mesh.k_conventional(kp), lv.ops, lv.d_mats, site, lv.time_reversal_matrix).isometry
        o = (np.kron(c[:, None], np.eye(2)) @ fld.f[k]).conj().T @ np.kron(lv.vectors, np.eye(2)) @ a
        assert abs(abs(np.trace(o)) - abs(np.trace(fld.f[k].conj().T @ mats[k, b]))) < 1e-10


def test_spin_axes_vary_and_r2_axes_are_covariant(setup):
    fld = setup[4]
    n = fld.spin_axes[:, 0]
    assert np.all(np.isfinite(fld.spin_axes))
    assert np.max(np.std(n[fld.defined], axis=0)) > 0.1  # z_k is not constant
    length = np.linalg.norm(fld.spin_axes[fld.r2.points], axis=2)
    assert np.all(length <= 1 + 1e-12)
    assert np.allclose(length[fld.r2.dims == 3], 1 / 3)  # tr_spin A A† = (2/3)·1: the spin of a column is 1/3
    ch = check_field(fld)  # Kramers and covariance checks include the R2 axes
    assert max(ch.kramers, ch.axis_even, ch.frame_covariance, ch.axis_covariance, ch.lifts_match_frame) < TOL
    rep = jump_report(fld)
    assert rep.r2_bonds > 0 and rep.jumps <= rep.bonds


def test_real_space_wannier_functions_with_r2_spinors(setup):
    """The WFs with Ψ_K at the R2 points are exactly symmetry- and time-reversal-adapted and orthonormal:
    the gauge of the propagated Ψ_K is the one of the R1 points."""
    model, _, _, _, fld = setup
    wf = model_wannier_functions(fld, model, BAND)
    ch = check_model_wannier(wf, fld, model)
    assert max(ch.symmetry, ch.time_reversal, ch.orthonormality, wf.band_residual) < TOL
    g = wannier_functions(fld)  # spin-only g(R): the R2 points are left out (weight n_R2/N)
    assert np.sum(g.norms**2) == pytest.approx(2 * (1 - len(fld.r2.points) / fld.mesh.size), rel=1e-9)


def test_plain_mode_is_refused(setup):
    chars = setup[3]
    with pytest.raises(InputError, match="projective"):
        build_field(chars, mode="plain")
