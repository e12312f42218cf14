"""Spin-dependent Wannier functions of a one-band model, from a field of unitary 2×2 matrices F(k).

Conventions (science.md §1, §4; seed Eqs. 7–12): F(k) = f(k)ᵀ, so the m-th column of F(k) is the spinor
χ_{k,m} (components s = ↑, ↓) of the Bloch spinor φ_{k,m} = Σ_s f_ms(k) u_s φ_k. Index m = 0 is m = +½,
m = 1 is m = −½. The spin-dependent Wannier functions are

    w_m(r − R, t) = Σ_{R′} φ(r − R′) Σ_s g_ms(R′ − R) u_s(t),   g(R) = N⁻¹ Σ_k e^{ik·R} f(k),

so c†_{Rm} = Σ_{R′s} W[(R′, s), (R, m)] c†_{R′s} with the unitary W[(R′, s), (R, m)] = g_ms(R′ − R), and in
Bloch form c†_{km} = Σ_s F_sm(k) c†_{ks}. A k-independent F (e.g. the identity) gives g(R) = δ_{R0} f:
usual, spin-independent Wannier functions.

Example fields (each a unitary field on the cluster mesh, even in k and SU(2)-valued, hence
time-reversal adapted: F(−k) = σ_y F(k)* σ_y exactly):

- ``identity``: F = 1.
- ``spiral``: F(k) = exp(−i λ θ(k) σ_y / 2), θ(k) = π (1 − ⟨cos k·a_j⟩_j): the spin axis turns in the
  xz plane from z at Γ towards −z at the zone boundary (coplanar axes).
- ``texture``: F(k) = exp(−i λ Θ(k)·σ / 2) with an even, non-coplanar vector field
  Θ(k) = Σ_j [0.35π (1 − cos k·a_j) u_j + 0.5π (1 − cos 2k·a_j) w_j] + 0.5π Σ_{i<j} sin k·a_i sin k·a_j z_ij
  (fixed non-coplanar u_j, w_j, z_ij; the last term removes the accidental mirror symmetries
  k·a_j → −k·a_j of the others, and 0.35π avoids a rotation by exactly π at the zone boundary, which
  would make n(π) ∥ n(0)): a generic k-space magnetic texture whose strength λ ∈ [0, 1]
  interpolates from the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.errors import InputError
from nhm.manybody.lattice import Cluster

SIGMA = np.array(
    [[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
    dtype=complex,
)  # σ_x, σ_y, σ_z

FIELDS = ("identity", "spiral", "texture")


@dataclass(frozen=True)
class SpinField:
    """F(k) (N_k, 2, 2) on ``kpoints`` (N_k, d): wave vectors in reciprocal-lattice coordinates
    (k = Σ_j kpoints[:, j] b_j, so e^{ik·R} = exp(2πi kpoints·n)); any representative modulo 1."""

    kpoints: np.ndarray
    matrices: np.ndarray
    label: str = "custom"


def su2(theta: np.ndarray) -> np.ndarray:
    """exp(−i Θ·σ/2) for rotation vectors Θ (..., 3) (radians): an SU(2) matrix per vector."""
    theta = np.asarray(theta, dtype=float)
    angle = np.linalg.norm(theta, axis=-1)
    axis = np.where(angle[..., None] > 1e-300, theta / np.where(angle > 1e-300, angle, 1.0)[..., None], 0.0)
    gen = np.einsum("...a,aij->...ij", axis, SIGMA)
    c = np.cos(angle / 2)[..., None, None]
    s = np.sin(angle / 2)[..., None, None]
    return c * np.eye(2) - 1j * s * gen


def _cos_k_dot(cluster: Cluster, multiple: int = 1) -> np.ndarray:
    """cos(multiple · k·a_j) for every k of the mesh and primitive vector a_j: (N_k, d)."""
    num = np.mod(multiple * cluster.kpoints, cluster.denominator)
    return np.cos(2 * np.pi * num / cluster.denominator)


def identity_field(cluster: Cluster) -> SpinField:
    """F(k) = 1: usual, spin-independent Wannier functions."""
    return SpinField(cluster.k_fractional.copy(), np.broadcast_to(np.eye(2, dtype=complex), (cluster.n_sites, 2, 2)).copy(), "identity")


def spiral_field(cluster: Cluster, strength: float = 1.0) -> SpinField:
    """Coplanar k-space spiral: the axis turns about y by λ π (1 − mean_j cos k·a_j)."""
    _check_strength(strength)
    theta = strength * np.pi * (1.0 - _cos_k_dot(cluster).mean(axis=1))
    vec = np.zeros((cluster.n_sites, 3))
    vec[:, 1] = theta
    return SpinField(cluster.k_fractional.copy(), su2(vec), f"spiral (λ={strength:g})")


# fixed, non-coplanar directions for the texture (one pair per primitive vector)
_U = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
_W = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]) / np.sqrt(2.0)
_Z = {(0, 1): np.array([1.0, -1.0, 1.0]) / np.sqrt(3.0), (0, 2): np.array([-1.0, 1.0, 1.0]) / np.sqrt(3.0),
      (1, 2): np.array([1.0, 1.0, -1.0]) / np.sqrt(3.0)}


def texture_field(cluster: Cluster, strength: float = 1.0) -> SpinField:
    """Non-coplanar k-space texture exp(−i λ Θ(k)·σ/2) (module docstring); λ = 0 is the identity."""
    _check_strength(strength)
    d = cluster.dim
    c1, c2 = _cos_k_dot(cluster, 1), _cos_k_dot(cluster, 2)
    theta = np.pi * (0.35 * (1 - c1) @ _U[:d] + 0.5 * (1 - c2) @ _W[:d])
    num = np.mod(cluster.kpoints, cluster.denominator)
    s1 = np.sin(2 * np.pi * num / cluster.denominator)
    for (i, j), z in _Z.items():
        if j < d:
            theta += 0.5 * np.pi * (s1[:, i] * s1[:, j])[:, None] * z
    return SpinField(cluster.k_fractional.copy(), su2(strength * theta), f"texture (λ={strength:g})")


def _check_strength(strength: float) -> None:
    if not np.isfinite(strength) or not 0.0 <= strength <= 1.0:
        raise InputError(f"the strength λ of the k-space magnetic structure must lie in [0, 1], got {strength}")


def example_field(cluster: Cluster, name: str, strength: float = 1.0) -> SpinField:
    """One of :data:`FIELDS` on the cluster mesh."""
    key = name.strip().lower()
    if key == "identity":
        return identity_field(cluster)
    if key == "spiral":
        return spiral_field(cluster, strength)
    if key == "texture":
        return texture_field(cluster, strength)
    raise InputError(f"unknown field {name!r}; choose one of {', '.join(FIELDS)}")


def unitarity_defect(matrices: np.ndarray) -> float:
    """max_k ‖F(k)† F(k) − 1‖ (entrywise max)."""
    m = np.asarray(matrices)
    return float(np.abs(np.einsum("kji,kjl->kil", m.conj(), m) - np.eye(2)).max(initial=0.0))


def checked_field(field: SpinField, cluster: Cluster, tol: float = 1e-10) -> np.ndarray:
    """F(k) in the cluster's mesh order, after checking shape, mesh and unitarity (InputError otherwise)."""
    m = np.asarray(field.matrices)
    kp = np.asarray(field.kpoints)
    n = cluster.n_sites
    if m.ndim != 3 or m.shape[1:] != (2, 2):
        raise InputError(f"F must have shape (N_k, 2, 2), got {m.shape}")
    if m.shape[0] != n:
        raise InputError(f"F has {m.shape[0]} k-points but the {n}-site cluster has a mesh of {n}")
    if kp.shape != (n, cluster.dim):
        raise InputError(f"the k-points of F must have shape ({n}, {cluster.dim}), got {kp.shape}")
    if not np.all(np.isfinite(m)):
        raise InputError("F contains non-finite entries")
    if not np.all(np.isfinite(kp)):
        raise InputError("the k-points of F must be finite")
    num = kp * cluster.denominator
    near = np.round(num)
    off = np.abs(num - near).max(axis=1) > 1e-8
    idx = np.where(off, -1, cluster.k_index(near.astype(np.int64)))
    if np.any(idx < 0):
        bad = kp[np.flatnonzero(idx < 0)[0]]
        raise InputError(f"k-point {np.round(bad, 6).tolist()} of F is not on the mesh of the {n}-site cluster "
                         f"(the mesh does not match the cluster)")
    if len(np.unique(idx)) != n:
        raise InputError("the k-points of F repeat a point of the cluster mesh (the mesh does not match the cluster)")
    defect = unitarity_defect(m)
    if defect > tol:
        raise InputError(f"F(k) is not unitary (max |F†F − 1| = {defect:.3g}); spin-dependent WFs need a unitary f(k)")
    out = np.empty((n, 2, 2), dtype=complex)
    out[idx] = m
    return out


def time_reversal_defect(matrices: np.ndarray, cluster: Cluster) -> float:
    """max over k, m of ‖F(−k) e_m − e^{iφ} σ_y F(k)* σ_y e_m‖ with the best phase φ per column.

    Zero iff F(−k) = σ_y F(k)* σ_y up to a diagonal phase matrix (science.md §4).
    """
    f = np.asarray(matrices)
    target = np.einsum("ij,kjl,lm->kim", SIGMA[1], f.conj(), SIGMA[1])
    mine = f[cluster.k_neg]
    overlap = np.einsum("kim,kim->km", target.conj(), mine)
    phase = np.where(np.abs(overlap) > 0, overlap / np.where(np.abs(overlap) > 0, np.abs(overlap), 1.0), 1.0)
    # the difference itself, not sqrt(2 − 2|overlap|), which loses half the digits
    return float(np.linalg.norm(mine - target * phase[:, None, :], axis=1).max(initial=0.0))


def kramers_phases_constant(matrices: np.ndarray, cluster: Cluster, tol: float = 1e-10) -> bool:
    """True if time inversion maps c†_{km} to η_m c†_{−k,−m} with k-independent η_m.

    Then it maps each spin-dependent WF |R, m⟩ to η_m |R, −m⟩, the split (indices R) is time-reversal
    invariant, and H′ has the same spectrum in the momentum sectors K and −K (used by the ED).
    """
    f = np.asarray(matrices)
    isy = -1j * SIGMA[1]
    img = np.einsum("ij,kjm->kim", isy, f.conj())  # (−iσ_y) F(k)* e_m = η_m(k) F(−k) e_{−m}
    partner = f[cluster.k_neg][:, :, ::-1]
    eta = np.einsum("kim,kim->km", partner.conj(), img)
    if np.abs(np.abs(eta) - 1).max() > tol:
        return False
    return bool(np.abs(eta - eta[0]).max() < tol)


def spin_axes(matrices: np.ndarray) -> np.ndarray:
    """n_m(k) = ⟨χ_{k,m}|σ|χ_{k,m}⟩ for the columns χ_{k,m} of F(k): shape (N_k, 2, 3), unit vectors."""
    f = np.asarray(matrices)
    return np.einsum("kim,aij,kjm->kma", f.conj(), SIGMA, f).real


def wannier_coefficients(matrices: np.ndarray, cluster: Cluster) -> np.ndarray:
    """g[R, m, s] = N⁻¹ Σ_k e^{ik·R} f_ms(k) with f = Fᵀ: the spin-dependent WFs on the site orbitals."""
    f = np.transpose(np.asarray(matrices), (0, 2, 1))
    return np.einsum("kR,kms->Rms", cluster.phases, f) / cluster.n_sites


def wannier_matrix(matrices: np.ndarray, cluster: Cluster) -> np.ndarray:
    """The unitary W[(R′, s), (R, m)] = g_ms(R′ − R), rows p = 2R′ + s, columns 2R + m."""
    g = wannier_coefficients(matrices, cluster)
    diff = cluster.site_add[:, cluster.site_neg]  # diff[R′, R] = R′ − R
    w = g[diff]  # [R′, R, m, s]
    n = cluster.n_sites
    return np.transpose(w, (0, 3, 1, 2)).reshape(2 * n, 2 * n)


def wannier_spread(matrices: np.ndarray, cluster: Cluster) -> float:
    """Σ_R |R|² Σ_{ms} |g_ms(R)|² / 2 (minimum-image |R|, units of a²): how far the WFs leak from their site."""
    g = wannier_coefficients(matrices, cluster)
    pos = cluster.positions
    return float(np.sum(np.sum(pos**2, axis=1) * np.sum(np.abs(g) ** 2, axis=(1, 2))) / 2)
