"""Bloch spinors at points where they are not of Eq. 7's form (reading R2): 2d×2 isometries.

Conventions are those of :mod:`nhm.kspace.constraints` (physics convention P(g)f(x) = f(g⁻¹x); k in the
conventional reciprocal basis, translations in the conventional direct basis, phases 2πi k·x; S(α) the
BCS SU(2) lift carried by each coset representative; ρ(a) = s(a) S(α) with shift R_a = a q − q).

The objects. At a point of symmetry K where the band's spatial level is a d-dimensional representation
D of the little group (d > 1), let φ_{K,1..d} be its Bloch functions, with

    P(a) φ_{K,i} = Σ_j φ_{K,j} D_ji(a),     a = {α|t} ∈ G_K (coset representatives),

D taken from the states (not assumed to be a tabulated irrep matrix). Under reading R2 the band's two
Bloch spinors at K are

    ψ_{K,m} = Σ_{i,s} A_{(i,s),m} φ_{K,i} u_s,      A ∈ C^{2d×2},  A†A = 1,

with the composite index (i, s) ↦ 2i + s, so that D ⊗ S = ``np.kron(D, S)`` acts on the rows of A. For
d = 1 and D = c_a(K), A = F(K) of eq. (1) of :mod:`nhm.kspace.constraints`. Symmetry adaptation of the
spin-dependent WFs w_m (site representation ρ) requires, by the derivation of eq. (1) with c_a S F
replaced by (D ⊗ S) A,

    (D(a) ⊗ S(α)) A = e^{−2πi (αK)·R_a} A ρ(a)        for every a ∈ G_K,                  (E1)

(e^{−2πi(αK)·R_a} = e^{−2πi K·R_a} because αK − K is a reciprocal and R_a a direct lattice vector). Both
sides are projective representations of G_K with the same factor system sign(a,b) e^{−2πiK·δ(a,b)}, so
(E1) says that A intertwines the two-dimensional representation ρ_K(a) = e^{−2πiK·R_a} ρ(a) into D ⊗ D½.
At a time-reversal-invariant K (−K ≡ K) with T φ_{K,i} = Σ_j φ_{K,j} U_ji (T antiunitary; U from the
states; for real orbitals in a Bloch basis periodic in k, U = V†V̄ for the coefficient vectors V) and
T = −iσ_y K on spin, T w_m = Σ_m' τ_m'm w_m' with τ = −iσ_y (eq. (3) of constraints.py):

    (U ⊗ (−iσ_y)) A* = A τ.                                                                (E2)

For d = 1, U = 1 this is (−iσ_y)F* = F(−iσ_y), i.e. F = σ_y F* σ_y, eq. (3) at −K ≡ K.

(E1) and (E2) are real-linear in A; they are solved on R^{8d} (A ↦ (Re vec A, Im vec A), column-major
vec) exactly as :func:`nhm.kspace.constraints.constraint_spaces` does on R^8, and the isometry is the
polar factor of an element of the null space. If ρ_K is irreducible (at every point and line of
symmetry of bcc; not on a mirror plane, where D½ splits into two one-dimensional double irreps) every
nonzero intertwiner is a multiple of an isometry (Schur), and the complex dimension of the solution
space of (E1) is the multiplicity of ρ_K in D ⊗ D½. Time reversal
then halves the real dimension. When the constituent occurs once the isometry is unique up to a global
phase (up to a sign with (E2)); the projector A A† is unique. No smoothness enters: A is not a variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from nhm.errors import GroupTheoryError, InputError
from nhm.groups.spacegroup import SpaceGroup, space_group
from nhm.kspace.constraints import NULL_TOL, SpinSiteRepresentation, _real_antilinear, _real_linear
from nhm.kspace.spin import SIGMA_Y

TAU = -1j * SIGMA_Y  # time reversal on the spin-dependent WFs (and T on spin without K): −iσ_y
REP_TOL = 1e-8  # D(a)D(b) = ω(a,b) D(ab) and the unitarity of D, U must hold to this
PLANE_WAVE_REP_TOL = 1e-6  # the same for DFT states (plane waves in a full cutoff sphere: measured ≤ 1e-12 for Nb)
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
        rows.append(_real_linear(c))
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
        rows.append(_real_antilinear(np.kron(np.eye(2), np.kron(u, TAU))) - _real_linear(np.kron(TAU.T, np.eye(n2))))
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


# ----------------------------------------------------------------------------- from a tight-binding model


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


def _exact(k) -> tuple[Fraction, Fraction, Fraction]:
    return tuple(x if isinstance(x, Fraction) else Fraction(float(x)).limit_denominator(48) for x in k)  # type: ignore[return-value]


def _level_symmetry(g: SpaceGroup, kx, ops, d_mats: np.ndarray, time_reversal, tol: float) -> tuple[float, np.ndarray | None, float]:
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


def tight_binding_level(model, k, band_index: int, gap_tol: float = 1e-6, vectors: np.ndarray | None = None) -> SpatialLevel:
    """D(a) (and U at a time-reversal-invariant k) of the degenerate level containing ``band_index``.

    ``k`` conventional (exact Fractions preferred; floats are snapped to 1/48); ``gap_tol`` eV decides
    which energy-ordered states belong to the level. ``vectors`` may replace the eigenvectors of that
    level by another orthonormal basis of the same space (n_orb × d), e.g. to test gauge covariance.
    Raises GroupTheoryError if the D(a) are not a representation (degenerate block not invariant).
    """
    g = space_group(model.space_group)
    kx = _exact(k)
    kf = np.array([float(x) for x in kx])
    e, v = model.bands(kf)
    if not 0 <= band_index < len(e):
        raise InputError(f"band index {band_index} out of range (the model has {len(e)} bands)")
    idx = tuple(int(i) for i in np.nonzero(np.abs(e - e[band_index]) < gap_tol)[0])
    block = v[:, list(idx)]
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=complex)
        if vectors.shape != block.shape or np.linalg.norm(block @ block.conj().T @ vectors - vectors) > 1e-8:
            raise InputError("the given vectors do not span the level's eigenspace")
        block = vectors
    ops = tuple(int(i) for i in g.little_cogroup(kx))
    d_mats = np.array([block.conj().T @ model.symmetry_matrix(op, kf) @ block for op in ops])

    def time_reversal() -> np.ndarray:
        h = model.hamiltonian(kf)
        if np.linalg.norm(h - h.conj()) > 1e-9:
            raise InputError("H(k) is not real at a time-reversal-invariant k: T is not plain complex conjugation")
        return block.conj().T @ block.conj()

    rep, u, trr = _level_symmetry(g, kx, ops, d_mats, time_reversal, REP_TOL)
    return SpatialLevel(
        (float(kf[0]), float(kf[1]), float(kf[2])), idx, float(np.mean(e[list(idx)])), block, ops, d_mats, u, rep, trr,
    )


def plane_wave_level(
    space_group_number: int,
    k_conventional,
    k_primitive: Sequence[float] | np.ndarray,
    g_vectors: np.ndarray,
    coefficients: np.ndarray,
    *,
    band_indices: Sequence[int] = (),
    energy: float = float("nan"),
) -> SpatialLevel:
    """D(a) (and U at a time-reversal-invariant k) of a degenerate level given by plane-wave coefficients
    (rows, e.g. a DFT level: :class:`nhm.bands.dft.BlochStates` rows ``start:stop``).

    ``k_conventional`` exact (the point of symmetry), ``k_primitive`` the k the coefficients refer to
    (primitive basis; may differ by a reciprocal-lattice vector), ``g_vectors`` integer, primitive basis.
    The rows are first orthonormalised (Löwdin, in the plain inner product of the PAW pseudo wave
    functions, which the space group and T preserve), so D and U are unitary; ``vectors`` holds the
    orthonormalised coefficients as columns (nG × d). Raises GroupTheoryError if the rows do not span a
    representation of the little group (an incomplete degenerate group) or T does not map them to themselves.
    """
    from nhm.bands.bloch import matrices_on_plane_waves, operations_at, time_reversal_on_plane_waves
    from nhm.groups.kpoints import conventional_to_primitive_k

    g = space_group(space_group_number)
    kx = _exact(k_conventional)
    kf = np.array([float(x) for x in kx])
    c = np.atleast_2d(np.asarray(coefficients, dtype=complex))
    w, v = np.linalg.eigh(c.conj() @ c.T)
    if w.min() <= 1e-12 * w.max():
        raise InputError("the plane-wave states of the level are linearly dependent")
    c = (v @ np.diag(w**-0.5) @ v.conj().T).T @ c  # rows ψ'_n = Σ_j ψ_j (S^-1/2)_jn
    ops = tuple(int(i) for i in g.little_cogroup(kx))
    d_mats = matrices_on_plane_waves(operations_at(space_group_number, kx, ops), k_primitive, g_vectors, c)
    rep, u, trr = _level_symmetry(
        g, kx, ops, d_mats,
        lambda: time_reversal_on_plane_waves(conventional_to_primitive_k(space_group_number, kx), k_primitive, g_vectors, c),
        PLANE_WAVE_REP_TOL,
    )
    return SpatialLevel(
        (float(kf[0]), float(kf[1]), float(kf[2])), tuple(int(i) for i in band_indices), float(energy), c.T, ops, d_mats, u,
        rep, trr,
    )


def tight_binding_r2_point(
    model, k, band_index: int, site: SpinSiteRepresentation, name: str = "", *, time_reversal: bool = True,
    gap_tol: float = 1e-6, vectors: np.ndarray | None = None,
) -> tuple[R2Point, SpatialLevel]:
    """The R2 isometry of band ``band_index`` of a tight-binding model at ``k`` (a BCS point name such
    as ``"GM"`` or conventional coordinates), with the level it lives in. InputError if the level is
    one-dimensional (Eq. 7 holds there: use F(k)) or if ρ_K is not in D ⊗ D½."""
    if isinstance(k, str):
        from nhm.groups.irreps import little_group

        lg = little_group(model.space_group, k)
        name = name or (lg.name or k)
        k = lg.k
    if model.space_group != site.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the site representation of {site.space_group}")
    level = tight_binding_level(model, k, band_index, gap_tol, vectors)
    if len(level.band_indices) == 1:
        raise InputError(f"band {band_index} is non-degenerate at {name or level.k}: its Bloch spinors are of Eq. 7's form there")
    u = level.time_reversal_matrix if time_reversal else None
    return r2_isometry(k, level.ops, level.d_mats, site, u, name), level


def _irreducible(level: SpatialLevel) -> bool:
    """Σ_a |tr D(a)|² = |G_k|: the level is one irrep (not an accidental degeneracy of several)."""
    chi = np.array([np.trace(dm) for dm in level.d_mats])
    return abs(float(np.vdot(chi, chi).real) / len(chi) - 1.0) < 1e-6


def r2_points_on_mesh(mesh, model, band_index: int, site: SpinSiteRepresentation, gap_tol: float = 1e-6) -> dict[int, R2Point]:
    """The R2 points of the energy-ordered band ``band_index`` of a tight-binding model on a mesh.

    At every star representative m of ``mesh`` (:class:`nhm.kspace.mesh.KMesh`) where the band's state
    is degenerate within ``gap_tol`` eV, the isometry of :func:`r2_isometry` (with (E2) where −k ≡ k).
    Points on lines of symmetry where the level stays a multi-dimensional irrep are R2 points as well
    (there only (E1) is imposed: the antiunitary operations that fix k, such as I·T, are not used, so A
    is fixed up to a phase). Other star members follow by symmetry and are not listed.
    Raises InputError at a degeneracy that is not one irrep of the little group (a crossing of branches:
    the band is not defined there, choose another mesh) or where ρ_k is absent from D ⊗ D½.
    """
    if model.space_group != mesh.space_group or site.space_group != mesh.space_group:
        raise InputError("the model, the site representation and the mesh must be of the same space group")
    out: dict[int, R2Point] = {}
    for m in mesh.representatives:
        m = int(m)
        kx = mesh.k_conventional(m)
        e = np.linalg.eigvalsh(model.hamiltonian(np.array([float(x) for x in kx])))
        if np.sum(np.abs(e - e[band_index]) < gap_tol) == 1:
            continue
        level = tight_binding_level(model, kx, band_index, gap_tol)
        where = ", ".join(str(x) for x in kx)
        if not _irreducible(level):
            raise InputError(
                f"band {band_index} is degenerate at k = ({where}) (conventional) without being one irrep of the "
                "little group (a crossing of branches): the band is not defined there; choose a mesh avoiding it"
            )
        out[m] = r2_isometry(kx, level.ops, level.d_mats, site, level.time_reversal_matrix, f"k{m}")
    return out


# ----------------------------------------------------------------------------- Bloch spinors at the R2 points of a mesh


def _phase_free(a: np.ndarray, b: np.ndarray) -> float:
    """min_θ ‖a − e^{iθ} b‖ (Frobenius) for two matrices of the same shape."""
    ov = complex(np.vdot(b, a))
    om = ov / abs(ov) if abs(ov) > 1e-300 else 1.0
    return float(np.linalg.norm(a - om * b))


@dataclass(frozen=True, eq=False)
class R2Spinors:
    """The band's Bloch spinors Ψ_k = (V_k ⊗ 1₂) A_k at every mesh point of the R2 stars, fixed (not variables).

    ``mask`` (N,) marks the R2 mesh points (whole stars of the representatives in ``r2_points`` and their
    time-reversed partners); ``slot[k]`` indexes ``psi`` (−1 elsewhere). ``psi[slot[k]]`` (2n × 2, rows
    (orbital i, spin s) ↦ 2i + s, columns m) is in the reference gauge of the constraints: at a primary
    representative the isometry of :func:`r2_isometry` (phase fixed by (E2) or, when −K is in the star
    of K, by the star image of time reversal, up to a sign); on the star Ψ_{bK} = (P(b) ⊗ S(b)) Ψ_K ρ(b)†
    e^{2πi (bK)·R_b} (b = ``KMesh.star_op``; this is c_b(K) ⊗ λ^Γ S F S† of the R1 points with the
    spatial gauge c_b = λ^Γ(b) s(b) e^{−2πi(bK)·R_b}, as in :func:`nhm.kspace.wannier.model_wannier_functions`); on time-reversed points Ψ_{−k} = (1 ⊗ σ_y) Ψ_k* σ_y.
    ``vectors`` (N, n) are the band's eigenvectors c_k at every mesh point (raw, arbitrary phase; used in
    the bonds from an R1 point to an R2 point, whose overlap is F(k)† (c_k ⊗ 1₂)† Ψ_K). Residuals
    (Frobenius, dimensionless): ``direct`` the largest phase-free distance between the propagated Ψ and
    the isometry solved directly at each member (its own little group, (E1)/(E2)) — it checks that the
    propagation is the symmetry image; ``symmetry`` the largest (E1)/(E2) residual of those direct
    solutions; ``gauge`` the largest ‖e^{iθ}Z − e^{−iθ}W‖ of the phase fix at representatives whose star
    holds −K (antiunitary consistency); ``isometry`` max ‖Ψ†Ψ − 1‖.
    """

    mask: np.ndarray
    slot: np.ndarray
    points: np.ndarray  # mesh indices of the R2 points (ascending)
    psi: np.ndarray  # (n_points, 2n, 2)
    dims: np.ndarray  # (n_points,) d
    vectors: np.ndarray  # (N, n)
    direct: float
    symmetry: float
    gauge: float
    isometry: float

    def at(self, k: int) -> np.ndarray:
        return self.psi[self.slot[k]]

    @property
    def orbitals(self) -> int:
        return self.vectors.shape[1]

    def spin_axes(self) -> np.ndarray:
        """(n_points, 2, 3) ⟨σ⟩ of each spinor column, Ψ[:, m]† (1_n ⊗ σ) Ψ[:, m] = (A†(1_d ⊗ σ)A)_mm.
        Their length is < 1 where d > 1 (the spin of one column is not pure: tr_spin A A† = (2/d)·1)."""
        from nhm.kspace.spin import SIGMA

        p = self.psi.reshape(len(self.points), -1, 2, 2)  # (pt, i, s, m)
        return np.real(np.einsum("pism,jst,pitm->pmj", p.conj(), SIGMA, p))


def r2_spinors_on_mesh(mesh, model, band_index: int, site: SpinSiteRepresentation, r2_points: dict,
                       gap_tol: float = 1e-6) -> R2Spinors:
    """:class:`R2Spinors` of band ``band_index`` of a tight-binding model on ``mesh`` for the representatives
    ``r2_points`` (from :func:`r2_points_on_mesh`). The star gauge λ^Γ does not enter: it multiplies the
    spatial gauge c_b and F alike and cancels in Ψ."""
    g = space_group(site.space_group)
    n = mesh.size
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = mesh.k_primitive @ p_to_conv.T
    _, vecs = np.linalg.eigh(model.hamiltonian(k_conv))
    vectors = vecs[:, :, band_index]
    mask = np.isin(mesh.star_rep, np.array(sorted(r2_points), dtype=int))
    points = np.nonzero(mask)[0]
    slot = np.full(n, -1)
    slot[points] = np.arange(len(points))
    n2 = 2 * model.size
    psi = np.zeros((len(points), n2, 2), dtype=complex)
    dims = np.zeros(len(points), dtype=int)
    sy = SIGMA_Y
    eye2 = np.eye(2)

    def star_image(b: int, x: np.ndarray, k_src: np.ndarray, k_img: np.ndarray) -> np.ndarray:
        rho = site.s[b] * g.lifts[b]
        big = np.kron(model.symmetry_matrix(b, k_src), g.lifts[b])
        return big @ x @ rho.conj().T * np.exp(2j * np.pi * float(k_img @ site.shift[b]))

    def time_reverse(x: np.ndarray) -> np.ndarray:
        return np.kron(np.eye(model.size), sy) @ x.conj() @ sy

    gauge_res = 0.0
    primary_reps = [int(m) for m in mesh.representatives if mask[m] and mesh.primary[m]]
    for m in primary_reps:
        pt = r2_points[m]
        lv = tight_binding_level(model, mesh.k_conventional(m), band_index, gap_tol)
        x = np.kron(lv.vectors, eye2) @ pt.isometry
        if mesh.partner_rep[m] == m and mesh.minus[m] != m:  # −K in the star of K: fix the phase (up to a sign)
            mk = int(mesh.minus[m])
            b = int(mesh.star_op[mk])
            z0 = star_image(b, x, k_conv[m], k_conv[mk])
            w0 = time_reverse(x)
            ov = complex(np.vdot(z0, w0))
            th = 0.5 * np.angle(ov) if abs(ov) > 1e-12 else 0.0
            x = np.exp(1j * th) * x
            gauge_res = max(gauge_res, float(np.linalg.norm(np.exp(1j * th) * z0 - np.exp(-1j * th) * w0)))
        psi[slot[m]] = x
        dims[slot[m]] = pt.d
    direct_pts = [int(p) for p in points if not mesh.time_reversed[p]]
    for p in direct_pts:
        rep, b = int(mesh.star_rep[p]), int(mesh.star_op[p])
        if p != rep:
            psi[slot[p]] = star_image(b, psi[slot[rep]], k_conv[rep], k_conv[p])
            dims[slot[p]] = dims[slot[rep]]
    for p in points:
        if mesh.time_reversed[p]:
            psi[slot[p]] = time_reverse(psi[slot[int(mesh.minus[p])]])
            dims[slot[p]] = dims[slot[int(mesh.minus[p])]]
    # verification: the isometry solved directly at every member, against the propagated Ψ (up to a phase)
    direct = sym = 0.0
    for p in points:
        p = int(p)
        lv = tight_binding_level(model, mesh.k_conventional(p), band_index, gap_tol)
        pt = r2_isometry(mesh.k_conventional(p), lv.ops, lv.d_mats, site, lv.time_reversal_matrix, f"k{p}")
        sym = max(sym, pt.symmetry_residual, pt.time_reversal_residual)
        direct = max(direct, _phase_free(psi[slot[p]], np.kron(lv.vectors, eye2) @ pt.isometry))
    iso = float(np.max(np.linalg.norm(np.swapaxes(psi.conj(), 1, 2) @ psi - eye2, axis=(1, 2)))) if len(points) else 0.0
    return R2Spinors(mask, slot, points, psi, dims, vectors, direct, sym, gauge_res, iso)
