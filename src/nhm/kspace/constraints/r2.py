"""Bloch spinors at points where they are not of Eq. 7's form (reading R2): 2d×2 isometries.

Conventions are those of :mod:`nhm.kspace.constraints.characters` (physics convention P(g)f(x) = f(g⁻¹x); k in the
conventional reciprocal basis, translations in the conventional direct basis, phases 2πi k·x; S(α) the
BCS SU(2) lift carried by each coset representative; ρ(a) = s(a) S(α) with shift R_a = a q − q).

The objects. At a point of symmetry K where the band's spatial level is a d-dimensional representation
D of the little group (d > 1), let φ_{K,1..d} be its Bloch functions, with

    P(a) φ_{K,i} = Σ_j φ_{K,j} D_ji(a),     a = {α|t} ∈ G_K (coset representatives),

D taken from the states (not assumed to be a tabulated irrep matrix). Under reading R2 the band's two
Bloch spinors at K are

    ψ_{K,m} = Σ_{i,s} A_{(i,s),m} φ_{K,i} u_s,      A ∈ C^{2d×2},  A†A = 1,

with the composite index (i, s) ↦ 2i + s, so that D ⊗ S = ``np.kron(D, S)`` acts on the rows of A. For
d = 1 and D = c_a(K), A = F(K) of eq. (1) of :mod:`nhm.kspace.constraints.characters`. Symmetry adaptation of the
spin-dependent WFs w_m (site representation ρ) requires, by the derivation of eq. (1) with c_a S F
replaced by (D ⊗ S) A,

    (D(a) ⊗ S(α)) A = e^{−2πi (αK)·R_a} A ρ(a)        for every a ∈ G_K,                  (E1)

(e^{−2πi(αK)·R_a} = e^{−2πi K·R_a} because αK − K is a reciprocal and R_a a direct lattice vector). Both
sides are projective representations of G_K with the same factor system sign(a,b) e^{−2πiK·δ(a,b)}, so
(E1) says that A intertwines the two-dimensional representation ρ_K(a) = e^{−2πiK·R_a} ρ(a) into D ⊗ D½.
At a time-reversal-invariant K (−K ≡ K) with T φ_{K,i} = Σ_j φ_{K,j} U_ji (T antiunitary; U from the
states; for real orbitals in a Bloch basis periodic in k, U = V†V̄ for the coefficient vectors V) and
T = −iσ_y K on spin, T w_m = Σ_m' τ_m'm w_m' with τ = −iσ_y (eq. (3) of :mod:`nhm.kspace.constraints.spaces`):

    (U ⊗ (−iσ_y)) A* = A τ.                                                                (E2)

For d = 1, U = 1 this is (−iσ_y)F* = F(−iσ_y), i.e. F = σ_y F* σ_y, eq. (3) at −K ≡ K.

(E1) and (E2) are real-linear in A; they are solved on R^{8d} (A ↦ (Re vec A, Im vec A), column-major
vec) exactly as :func:`nhm.kspace.constraints.spaces.constraint_spaces` does on R^8, and the isometry is the
polar factor of an element of the null space. If ρ_K is irreducible (at every point and line of
symmetry of bcc; not on a mirror plane, where D½ splits into two one-dimensional double irreps) every
nonzero intertwiner is a multiple of an isometry (Schur), and the complex dimension of the solution
space of (E1) is the multiplicity of ρ_K in D ⊗ D½. Time reversal
then halves the real dimension. When the constituent occurs once the isometry is unique up to a global
phase (up to a sign with (E2)); the projector A A† is unique. No smoothness enters: A is not a variable.

The levels (D, U) come from the sources (:mod:`nhm.kspace.sources`); this module solves (E1) and (E2) for A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nhm.errors import InputError
from nhm.groups.spacegroup import SpaceGroup, space_group
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.constraints.spaces import NULL_TOL, real_antilinear, real_linear
from nhm.kspace.spin import SIGMA_Y


TAU = -1j * SIGMA_Y  # time reversal on the spin-dependent WFs (and T on spin without K): −iσ_y
RANK_TOL = 1e-6  # smallest singular value of an intertwiner accepted as rank 2


# ----------------------------------------------------------------------------- real-linear algebra on C^{2d×2}


def vec_matrix(a: np.ndarray) -> np.ndarray:
    """Real vector (Re vec A, Im vec A) of a complex n×2 matrix (column-major vec), length 4n."""
    v = np.asarray(a, dtype=complex).T.reshape(-1)
    return np.concatenate([v.real, v.imag])


def unvec_matrix(x: np.ndarray, rows: int) -> np.ndarray:
    """Inverse of :func:`vec_matrix` for a ``rows``×2 matrix."""
    n = 2 * rows
    v = x[:n] + 1j * x[n:]
    return v.reshape(2, rows).T


def _null_space(rows: list[np.ndarray], n: int, tol: float = NULL_TOL) -> np.ndarray:
    """Orthonormal basis (n × r) of the common real null space (singular values < ``tol``)."""
    if not rows:
        return np.eye(n)
    a = np.vstack(rows)
    if a.shape[0] < n:
        a = np.vstack([a, np.zeros((n - a.shape[0], n))])
    _, sv, vt = np.linalg.svd(a, full_matrices=False)  # a is tall: vt is n × n
    return vt[sv < tol].T


def site_phase_rep(site: SpinSiteRepresentation, op: int, k: np.ndarray) -> np.ndarray:
    """ρ_K(a) = e^{−2πi K·R_a} s(a) S(α): the 2×2 matrix the WFs' site representation gives at K."""
    g = space_group(site.space_group)
    return np.exp(-2j * np.pi * float(np.dot(site.shift[op], k))) * site.s[op] * g.lifts[op]


# ----------------------------------------------------------------------------- the R2 point


@dataclass(frozen=True, eq=False)
class R2Point:
    """The band's two Bloch spinors at a point where they are not of Eq. 7's form (reading R2).

    ``k`` coordinates in the conventional reciprocal basis (floats, dimensionless); ``ops`` the coset
    representatives of the little co-group (indices into ``space_group(n).operations``) at which ``d_mats``
    (d×d, physics convention) are given; ``isometry`` A (2d × 2, rows (i, s) ↦ 2i + s, A†A = 1);
    ``time_reversal_matrix`` U or None. ``solution_dimension``: real dimension of the solution space of
    (E1) (and (E2) if U is given); ``freedom``: real dimensions beyond the unavoidable global phase
    (TR: a sign) — 0 means A is unique up to that; ``multiplicity``: how often ρ_K occurs in D ⊗ D½
    (from characters). Residuals are Frobenius norms (dimensionless).
    """

    k: tuple[float, float, float]
    name: str
    d: int
    isometry: np.ndarray
    ops: tuple[int, ...]
    d_mats: np.ndarray
    time_reversal_matrix: np.ndarray | None
    site: SpinSiteRepresentation
    solution_dimension: int
    freedom: int
    multiplicity: int
    symmetry_residual: float  # max_a ‖(D⊗S)A − e^{−2πiK·R_a} A ρ(a)‖
    isometry_residual: float  # ‖A†A − 1‖
    time_reversal_residual: float  # ‖(U⊗(−iσ_y))A* − Aτ‖ (0 without U)
    note: str = ""

    @property
    def projector(self) -> np.ndarray:
        """A A† (2d × 2d): the band's spinor subspace at K in the basis φ_{K,i} ⊗ u_s (blind to the global
        phase of A; covariant, P → (W†⊗1) P (W⊗1), under a change of basis φ → φ W of the level)."""
        return self.isometry @ self.isometry.conj().T

    def spinor_coefficients(self, vectors: np.ndarray) -> np.ndarray:
        """Coefficients of ψ_{K,m} in (orbital basis) ⊗ spin, (2n × 2), given the spatial states as the
        columns of ``vectors`` (n × d): (V ⊗ 1₂) A — the Bloch spinors Φ_K A of the Fourier sum."""
        return np.kron(vectors, np.eye(2)) @ self.isometry


def _spin_action(g: SpaceGroup, op: int) -> np.ndarray:
    return g.lifts[op]


def r2_residuals(
    k: np.ndarray, ops: Sequence[int], d_mats: np.ndarray, site: SpinSiteRepresentation, a: np.ndarray,
    u: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """(symmetry, isometry, time-reversal) residuals of (E1), A†A = 1 and (E2); Frobenius norms."""
    g = space_group(site.space_group)
    k = np.asarray(k, dtype=float)
    sym = max(
        float(np.linalg.norm(np.kron(d_mats[n], _spin_action(g, op)) @ a - a @ site_phase_rep(site, op, k)))
        for n, op in enumerate(ops)
    )
    iso = float(np.linalg.norm(a.conj().T @ a - np.eye(2)))
    tr = 0.0 if u is None else float(np.linalg.norm(np.kron(u, TAU) @ a.conj() - a @ TAU))
    return sym, iso, tr


def invariance_residual(point: R2Point) -> float:
    """max_a ‖(1 − Π)(D⊗S)Π‖ with Π = A A†: span(A) is invariant under the double-group action."""
    g = space_group(point.site.space_group)
    p = point.projector
    q = np.eye(p.shape[0]) - p
    return max(float(np.linalg.norm(q @ np.kron(dm, _spin_action(g, op)) @ p)) for op, dm in zip(point.ops, point.d_mats))


def restricted_characters(point: R2Point) -> np.ndarray:
    """tr A†(D(a)⊗S(α))A on ``point.ops``: the characters of the band's two-dimensional constituent."""
    g = space_group(point.site.space_group)
    a = point.isometry
    return np.array([np.trace(a.conj().T @ np.kron(dm, _spin_action(g, op)) @ a) for op, dm in zip(point.ops, point.d_mats)])


def site_characters(site: SpinSiteRepresentation, k: np.ndarray, ops: Sequence[int]) -> np.ndarray:
    """tr ρ_K(a) = e^{−2πiK·R_a} s(a) tr S(α) on ``ops`` (physics convention)."""
    return np.array([np.trace(site_phase_rep(site, int(op), np.asarray(k, dtype=float))) for op in ops])


def r2_isometry(
    k,
    ops: Sequence[int],
    d_mats: np.ndarray,
    site: SpinSiteRepresentation,
    time_reversal_matrix: np.ndarray | None = None,
    name: str = "",
    null_tol: float = NULL_TOL,
) -> R2Point:
    """Solve (E1) (and (E2) if ``time_reversal_matrix`` U is given) for the 2d×2 isometry A.

    ``k``: conventional reciprocal coordinates; ``ops``: coset representatives of the little co-group of
    k (all of them: the constraints of a generating subset would do, but the residuals are over all);
    ``d_mats``: (len(ops), d, d) spatial representation matrices, P(a)φ_i = Σ_j φ_j D_ji(a).

    The solution space is computed on R^{8d}; A is the polar factor of its first basis vector (the
    singular vectors of the stacked system: deterministic for given input), with the global phase fixed
    so that the largest entry of the first column (first in row order among ties within 1e-9) is real
    and positive (with time reversal only the sign is free: that entry gets a positive real part). Raises InputError if ρ_K does not occur in D ⊗ D½ (the band cannot carry these
    spin-dependent WFs at k under R2), or if it occurs but no solution respects time reversal.
    """
    g = space_group(site.space_group)
    kf = np.array([float(x) for x in k])
    d_mats = np.asarray(d_mats, dtype=complex)
    ops = tuple(int(o) for o in ops)
    if d_mats.ndim != 3 or d_mats.shape[0] != len(ops) or d_mats.shape[1] != d_mats.shape[2]:
        raise InputError(f"expected {len(ops)} square spatial matrices, got shape {d_mats.shape}")
    d = d_mats.shape[1]
    n2 = 2 * d
    nreal = 4 * n2
    where = f"{name} " if name else ""
    kt = ", ".join(f"{x:g}" for x in kf)
    # the characters: how often ρ_K occurs in D ⊗ D½
    chi_rho = site_characters(site, kf, ops)
    chi_big = np.array([np.trace(dm) * np.trace(_spin_action(g, op)) for op, dm in zip(ops, d_mats)])
    mult_c = complex(np.vdot(chi_rho, chi_big)) / len(ops)
    norm_rho = float(np.vdot(chi_rho, chi_rho).real) / len(ops)
    rows = []
    for op, dm in zip(ops, d_mats):
        big = np.kron(dm, _spin_action(g, op))
        c = np.kron(np.eye(2), big) - np.kron(site_phase_rep(site, op, kf).T, np.eye(n2))
        rows.append(real_linear(c))
    q_lin = _null_space(rows, nreal, null_tol)
    if q_lin.shape[1] == 0:
        raise InputError(
            f"the site representation {site.label} does not occur in the band's spinor representation D ⊗ D½ at "
            f"{where}k = ({kt}) (d = {d}; character multiplicity {mult_c.real:.3g}): under reading R2 this level "
            "cannot carry these spin-dependent WFs"
        )
    q = q_lin
    if time_reversal_matrix is not None:
        u = np.asarray(time_reversal_matrix, dtype=complex)
        if u.shape != (d, d):
            raise InputError(f"time-reversal matrix must be {d}×{d}, got {u.shape}")
        rows.append(real_antilinear(np.kron(np.eye(2), np.kron(u, TAU))) - real_linear(np.kron(TAU.T, np.eye(n2))))
        q = _null_space(rows, nreal, null_tol)
        if q.shape[1] == 0:
            raise InputError(
                f"{site.label} occurs in D ⊗ D½ at {where}k = ({kt}), but no embedding of it respects time "
                "reversal (E2): the level's time-reversal partner structure does not fit the WFs' τ = −iσ_y"
            )
    x = unvec_matrix(q[:, 0], n2)
    uu, sv, vh = np.linalg.svd(x, full_matrices=False)
    if sv[-1] < RANK_TOL * sv[0]:
        raise InputError(
            f"the solutions of the symmetry conditions at {where}k = ({kt}) have rank < 2: ρ_K is reducible and "
            "the polar factor of the chosen solution is not an isometry into the constituent"
        )
    a = uu @ vh
    col = a[:, 0]
    big_i = int(np.argmax(np.abs(col) > np.max(np.abs(col)) - 1e-9))
    if time_reversal_matrix is None:
        a = a * (abs(col[big_i]) / col[big_i])  # global phase: that entry real and positive
    elif (col[big_i].real, col[big_i].imag) < (-1e-12, 0.0) or (abs(col[big_i].real) <= 1e-12 and col[big_i].imag < 0):
        a = -a  # (E2) leaves only a sign: that entry with positive real part (imaginary if the real part is 0)
    dim = q.shape[1]
    base = 1 if time_reversal_matrix is not None else 2
    freedom = dim - base
    mult = int(round(mult_c.real / norm_rho)) if norm_rho > 0 else 0
    note = ""
    if freedom > 0:
        note = (
            f"A is not unique: the solution space has real dimension {dim} (> {base}); ρ_K occurs {mult} times "
            "in D ⊗ D½ and the first singular vector was taken"
        )
    sym, iso, tr = r2_residuals(kf, ops, d_mats, site, a, time_reversal_matrix)
    return R2Point(
        (float(kf[0]), float(kf[1]), float(kf[2])), name, d, a, ops, d_mats,
        None if time_reversal_matrix is None else np.asarray(time_reversal_matrix, dtype=complex),
        site, dim, freedom, mult, sym, iso, tr, note,
    )


def spinor_overlap(a: np.ndarray, m: np.ndarray, f: np.ndarray) -> np.ndarray:
    """O = A† (m ⊗ 1₂) F(k′) (2×2): overlaps ⟨ψ_{K,m}|ψ_{k′,m′}⟩ of the cell-periodic Bloch spinors for a
    bond from an R2 point K (isometry A, 2d×2) to a point k′ of Eq. 7's form (F(k′), spatial state u_k′),
    with m_i = ⟨u_{K,i}|u_{k′}⟩ (length d). For d = 1, A = F(K): O = F(K)† M F(k′), the R1 bond term."""
    m = np.asarray(m, dtype=complex).reshape(-1, 1)
    return a.conj().T @ np.kron(m, np.eye(2)) @ f


def phase_free_distance(a: np.ndarray, b: np.ndarray) -> float:
    """min_θ ‖a − e^{iθ} b‖ (Frobenius) for two matrices of the same shape."""
    ov = complex(np.vdot(b, a))
    om = ov / abs(ov) if abs(ov) > 1e-300 else 1.0
    return float(np.linalg.norm(a - om * b))
