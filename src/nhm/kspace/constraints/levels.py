"""A degenerate level of the band's spatial states at k: D(a) on the little co-group, U, and their checks.

Every source of Bloch states (tight binding, plane waves, blocks of μ branches) describes the level it finds at
a point as a :class:`SpatialLevel`: its states, the matrices D(a) (physics convention P(a)φ_i = Σ_j φ_j D_ji(a))
on the coset representatives of the little co-group, and at a time-reversal-invariant k the matrix U of time
reversal, each checked (:func:`level_symmetry`: a projective representation with the factor system of k, T² = +1,
T commuting with the space group). :func:`is_irreducible` tells one irrep from an accidental degeneracy, and
:func:`level_null_tol` how exactly the constraints built on the level can hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from nhm.errors import GroupTheoryError
from nhm.groups.spacegroup import SpaceGroup
from nhm.kspace.constraints.spaces import NULL_TOL


REP_TOL = 1e-8  # D(a)D(b) = ω(a,b) D(ab) and the unitarity of D, U must hold to this
PLANE_WAVE_REP_TOL = 1e-6  # the same for DFT states (plane waves in a full cutoff sphere: measured ≤ 1e-12 for Nb)


@dataclass(frozen=True, eq=False)
class SpatialLevel:
    """The degenerate level of a tight-binding model at k that contains a band.

    ``vectors`` (n_orb × d) eigenvectors (columns; the Bloch basis of the model, periodic in k);
    ``d_mats`` D(a) = V† P(a) V on ``ops``; ``time_reversal_matrix`` U = V†V̄ at a time-reversal-invariant
    k (real orbitals, real hoppings: T is complex conjugation of the coefficients), else None;
    ``representation_residual`` see :func:`representation_residual`; ``tr_residual`` the larger of max_a ‖D(a)U − U D(a)*‖ (T commutes with
    the space group) and ‖U U* − 1‖ (T² = +1 on spatial states).
    """

    k: tuple[float, float, float]
    band_indices: tuple[int, ...]
    energy: float  # eV
    vectors: np.ndarray
    ops: tuple[int, ...]
    d_mats: np.ndarray
    time_reversal_matrix: np.ndarray | None
    representation_residual: float
    tr_residual: float


def representation_residual(g: SpaceGroup, k: np.ndarray, ops: Sequence[int], mats: np.ndarray) -> float:
    """max ‖D(a)D(b) − e^{−2πiK·δ(a,b)} D(ab)‖ over a, b ∈ ``ops`` (ops[a]ops[b] = {E|δ} ops[ab], the
    physics convention D({E|δ}) = e^{−2πiK·δ}); also ‖D†D − 1‖. GroupTheoryError if ``ops`` does not close."""
    table, delta, _ = g.multiplication
    pos = {int(o): n for n, o in enumerate(ops)}
    worst = 0.0
    eye = np.eye(mats.shape[-1])
    for i, a in enumerate(ops):
        worst = max(worst, float(np.linalg.norm(mats[i].conj().T @ mats[i] - eye)))
        for j, b in enumerate(ops):
            ab = int(table[a, b])
            if ab not in pos:
                raise GroupTheoryError("the little co-group does not close")
            w = np.exp(-2j * np.pi * float(np.dot(k, delta[a, b])))
            worst = max(worst, float(np.linalg.norm(mats[i] @ mats[j] - w * mats[pos[ab]])))
    return worst


def exact_k(k) -> tuple[Fraction, Fraction, Fraction]:
    """Conventional k as exact fractions: Fractions kept, floats snapped to the nearest n/m with m ≤ 48."""
    return tuple(x if isinstance(x, Fraction) else Fraction(float(x)).limit_denominator(48) for x in k)  # type: ignore[return-value]


def level_symmetry(g: SpaceGroup, kx, ops, d_mats: np.ndarray, time_reversal, tol: float) -> tuple[float, np.ndarray | None, float]:
    """(representation residual, U or None, time-reversal residual) of a level's D(a) on ``ops``; U =
    ``time_reversal()`` only at a time-reversal-invariant k. The TR residual is max(‖U Ū − 1‖, max_a ‖D(a)U −
    U D̄(a)‖) (T² = +1 on spatial states, T commutes with the space group). GroupTheoryError above ``tol``."""
    kf = np.array([float(x) for x in kx])
    rep = representation_residual(g, kf, ops, d_mats)
    if rep > tol:
        raise GroupTheoryError(f"the level at k = ({', '.join(str(x) for x in kx)}) is not invariant under its little group (residual {rep:.2e})")
    if not g.is_reciprocal_lattice_vector(tuple(2 * x for x in kx)):
        return rep, None, 0.0
    u = time_reversal()
    trr = max(
        float(np.linalg.norm(u @ u.conj() - np.eye(len(u)))),
        max(float(np.linalg.norm(dm @ u - u @ dm.conj())) for dm in d_mats),
    )
    if trr > tol:
        raise GroupTheoryError(f"time reversal does not map the level at k = ({', '.join(str(x) for x in kx)}) to itself (residual {trr:.2e})")
    return rep, u, trr


def is_irreducible(level: SpatialLevel) -> bool:
    """Σ_a |tr D(a)|² = |G_k|: the level is one irrep (not an accidental degeneracy of several)."""
    chi = np.array([np.trace(dm) for dm in level.d_mats])
    return abs(float(np.vdot(chi, chi).real) / len(chi) - 1.0) < 1e-6


def level_null_tol(level: SpatialLevel) -> float:
    """Null-space tolerance of (R2.1)/(R2.2) for a level whose D(a) (and U) hold to ``representation_residual``
    (and ``tr_residual``): DFT states are symmetric to ~1e-9, so the exact solutions have singular values of that
    size; the others are O(1). 1000 × the residuals, at least NULL_TOL, at most 1e-4."""
    return float(min(max(NULL_TOL, 1e3 * max(level.representation_residual, level.tr_residual)), 1e-4))
