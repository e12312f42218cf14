"""Irreducible representations of Bloch states at the points of symmetry, computed by nhm itself.

The core, :func:`irreps_of_states`, takes the traces of the operations of the little group on a set
of (degenerate) states and returns their BCS irrep labels; it serves DFT and tight-binding bands
alike. :func:`plane_wave_traces` computes those traces from plane-wave coefficients.

Conventions (as :mod:`nhm.groups.irreps`): physics convention ``P(g) f(r) = f(g^-1 r)``, so
``D({E|t}) = exp(-2 pi i k.t)``; operations are the BCS coset representatives ``{R|t}`` of
``space_group(sg).operations``, acting as ``x -> R x + t`` on conventional fractional coordinates.

Plane waves. A Bloch state at k is ``psi(x) = sum_G c(G) exp(2 pi i (k+G).x)`` with ``x``
fractional coordinates of the BCS primitive cell and ``k``, ``G`` in its reciprocal basis (``G``
integer). In that basis ``{R|t}`` reads ``R_p = P^-1 R P``, ``t_p = P^-1 t`` (``a_p = a_c P``). Then

    (P(g) psi)(x) = psi(R_p^-1 (x - t_p)) = sum_G c(G) exp(2 pi i K'.x) exp(-2 pi i K'.t_p),
    K' = R_p^-T (k + G) = k + G',   G' = R_p^-T G + (R_p^-T k - k),

so ``P(g)`` moves the coefficient of ``G`` to ``G'`` with the phase ``exp(-2 pi i (k+G').t_p)``.
For ``g`` in the little group ``R_p^-T k - k`` is a reciprocal-lattice vector; it is computed exactly
(fractions), so ``G -> G'`` is exact integer arithmetic. For a degenerate block of states with
coefficient rows ``C`` (not necessarily orthonormal: PAW pseudo wave functions are orthonormal only
in the PAW overlap), ``P(g) C = D(g) C`` gives ``D(g) = S^-1 M`` with ``S = C* C^T`` and
``M_mn = <psi_m | P(g) psi_n>``, and the trace ``tr D(g)`` does not depend on the basis of the block.
The PAW correction transforms like the pseudo wave function, so the pseudo part suffices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

from nhm.crystal.setting import primitive_transform
from nhm.errors import GroupTheoryError
from nhm.groups.exact import inverse
from nhm.groups.irreps import little_group, normalize_k_name
from nhm.groups.kpoints import conventional_to_primitive_k
from nhm.groups.seitz import Vec3

__all__ = [
    "DEGENERACY_TOL_EV",
    "MULTIPLICITY_TOL",
    "BlochLevel",
    "degenerate_groups",
    "irreps_of_states",
    "levels_from_plane_waves",
    "matrices_on_plane_waves",
    "plane_wave_traces",
    "conjugate_plane_waves",
    "plane_wave_overlap",
    "primitive_operation",
    "primitive_operations",
    "rotate_plane_waves",
    "time_reversal_on_plane_waves",
]

DEGENERACY_TOL_EV = 1e-3  # eV: levels closer than this are one degenerate level (DFT noise ~1e-5 eV)
MULTIPLICITY_TOL = 0.05  # numerical traces give multiplicities within ~1e-4 of integers; 0.05 is safe
_K_TOL = 1e-6  # how far a k-point given as floats may be from the exact point of symmetry


@dataclass(frozen=True)
class BlochLevel:
    """One (degenerate) energy level at a point of symmetry, labelled by a single-valued BCS irrep.

    ``k``: BCS name of the point (``"GM"``, ``"H"``, ...); ``energy``: in eV, absolute (the same
    zero as the calculation's Fermi level); ``irrep``: BCS label (``"GM5+"``); ``dimension``: the
    irrep's dimension (the degeneracy). An accidentally degenerate group of states yields one level
    per irrep it contains, all at the same energy.
    """

    k: str
    energy: float
    irrep: str
    dimension: int


def degenerate_groups(energies: Sequence[float] | np.ndarray, tol: float = DEGENERACY_TOL_EV) -> list[tuple[int, int]]:
    """Half-open index ranges ``(start, stop)`` of groups of ascending ``energies`` (eV) closer than ``tol``.

    Neighbours are chained: a group continues while consecutive levels differ by at most ``tol``.
    """
    e = np.asarray(energies, dtype=float)
    if e.ndim != 1:
        raise ValueError("energies must be a 1D array")
    if np.any(np.diff(e) < -tol):
        raise ValueError("energies must be sorted in ascending order")
    groups: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(e) + 1):
        if i == len(e) or e[i] - e[i - 1] > tol:
            groups.append((start, i))
            start = i
    return groups


def irreps_of_states(
    space_group: int, k_name: str, traces: Sequence[complex] | np.ndarray, *, tolerance: float = MULTIPLICITY_TOL
) -> tuple[str, ...]:
    """BCS labels (with repetition, sorted as BCS sorts them) of a representation given by its traces.

    ``traces[i]`` is ``tr D(g_i)`` for ``g_i = space_group(sg).operations[j]``, ``j =
    little_group(sg, k_name).indices[i]``, in the physics convention (module docstring). Numerical
    traces are accepted: multiplicities ``(1/|G_k|) sum conj(chi_r) tr D`` must lie within
    ``tolerance`` of non-negative integers (``LittleGroup.decompose`` demands 1e-6, right for exact
    characters but not for DFT wave functions). Raises GroupTheoryError otherwise, or if the
    multiplicities do not add up to the dimension ``tr D(E)``.
    """
    lg = little_group(space_group, k_name)
    chi = np.asarray(traces, dtype=complex)
    if chi.shape != (lg.order,):
        raise ValueError(f"expected {lg.order} traces at {lg.name} (one per little-group operation), got shape {chi.shape}")
    m = np.array([np.vdot(r.characters, chi) for r in lg.irreps]) / lg.order
    mi = np.rint(m.real)
    if np.max(np.abs(m - mi)) > tolerance or np.any(mi < 0):
        raise GroupTheoryError(
            f"traces at {lg.name} of space group {space_group} do not decompose into irreps: multiplicities "
            + ", ".join(f"{r.label}: {x.real:.3f}{x.imag:+.3f}i" for r, x in zip(lg.irreps, m) if abs(x) > 1e-3)
        )
    identity = next(i for i, j in enumerate(lg.indices) if _is_identity(space_group, j))
    dims = sum(int(n) * r.dimension for n, r in zip(mi, lg.irreps))
    if dims != round(chi[identity].real):
        raise GroupTheoryError(f"traces at {lg.name}: irreps of total dimension {dims} for {chi[identity].real:.3f} states")
    return tuple(r.label for n, r in zip(mi, lg.irreps) for _ in range(int(n)))


def _is_identity(space_group: int, index: int) -> bool:
    from nhm.groups.spacegroup import space_group as sg_of

    op = sg_of(space_group).operations[index]
    return op.rotation == ((1, 0, 0), (0, 1, 0), (0, 0, 1))


@dataclass(frozen=True)
class PrimitiveLittleGroup:
    """The little group of a point of symmetry written in the BCS primitive basis.

    ``rotations_inv_t[i]`` is ``R_p^-T`` (integer), ``translations[i]`` is ``t_p`` (fractional,
    primitive direct basis), ``g0[i]`` is ``R_p^-T k - k`` (integer), ``k`` the exact primitive k.
    """

    name: str
    k: Vec3
    indices: tuple[int, ...]
    rotations_inv_t: np.ndarray  # (n, 3, 3) int
    translations: np.ndarray  # (n, 3) float
    g0: np.ndarray  # (n, 3) int


def _matmul(a: Sequence[Sequence[Fraction]], b: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    return [[sum((Fraction(a[i][k]) * b[k][j] for k in range(3)), Fraction(0)) for j in range(3)] for i in range(3)]


def _as_int_matrix(m: Sequence[Sequence[Fraction]], what: str) -> np.ndarray:
    if any(Fraction(x).denominator != 1 for row in m for x in row):
        raise GroupTheoryError(f"{what} is not an integer matrix in the primitive basis")
    return np.array([[int(x) for x in row] for row in m], dtype=int)


@cache
def primitive_operations(space_group: int, k_name: str) -> PrimitiveLittleGroup:
    """The operations of the little group of ``k_name`` in the BCS primitive basis (exact)."""
    lg = little_group(space_group, k_name)
    return operations_at(space_group, lg.k, lg.indices, lg.name or str(k_name))


@cache
def primitive_operation(space_group: int, index: int) -> tuple[np.ndarray, tuple[Fraction, Fraction, Fraction]]:
    """``(R_p^-T, t_p)`` of coset representative ``index`` in the BCS primitive basis: R_p^-T (integer)
    acts on primitive reciprocal coordinates, t_p (exact) is the translation in primitive direct ones."""
    from nhm.groups.spacegroup import space_group as sg_of

    op = sg_of(space_group).operations[index]
    p = primitive_transform(space_group)
    p_inv = inverse(p)
    r_p_int = _as_int_matrix(_matmul(_matmul(p_inv, op.rotation), p), f"rotation {op}")  # x_c = P x_p
    r_inv_t = np.rint(np.linalg.inv(r_p_int)).astype(int).T
    t_p = tuple(sum((p_inv[a][b] * op.translation[b] for b in range(3)), Fraction(0)) for a in range(3))
    return r_inv_t, t_p  # type: ignore[return-value]


@cache
def operations_at(space_group: int, k_conventional: Vec3, indices: tuple[int, ...], name: str = "") -> PrimitiveLittleGroup:
    """The operations ``indices`` (which must leave the exact ``k_conventional`` invariant) in the primitive basis."""
    k_p = conventional_to_primitive_k(space_group, k_conventional)
    rots, trans, g0 = [], [], []
    for i in indices:
        r_inv_t, t_p = primitive_operation(space_group, i)
        op = f"operation {i}"
        moved = [sum((int(r_inv_t[a][b]) * k_p[b] for b in range(3)), Fraction(0)) - k_p[a] for a in range(3)]
        if any(x.denominator != 1 for x in moved):
            raise GroupTheoryError(f"{op} of space group {space_group} does not leave {name or k_conventional} invariant in the primitive basis")
        rots.append(r_inv_t)
        trans.append([float(x) for x in t_p])
        g0.append([int(x) for x in moved])
    return PrimitiveLittleGroup(
        name=name,
        k=k_p,
        indices=tuple(indices),
        rotations_inv_t=np.array(rots, dtype=int),
        translations=np.array(trans, dtype=float),
        g0=np.array(g0, dtype=int),
    )


def _integer_shift(k_primitive: np.ndarray, k_exact: Vec3, name: str) -> np.ndarray:
    """The reciprocal-lattice vector ``k_primitive - k_exact`` (the calculation may have wrapped k)."""
    diff = np.asarray(k_primitive, dtype=float) - np.array([float(x) for x in k_exact])
    shift = np.rint(diff)
    if np.max(np.abs(diff - shift)) > _K_TOL:
        raise GroupTheoryError(
            f"the wave functions were computed at k = {np.round(k_primitive, 6).tolist()} (primitive "
            f"basis), which is not the point of symmetry {name} = {[str(x) for x in k_exact]}"
        )
    return shift.astype(int)


def _lookup(table: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row index in ``table`` (n, 3) of each row of ``query`` (m, 3), -1 where absent."""
    lo = min(table.min(), query.min())
    span = max(table.max(), query.max()) - lo + 1
    def encode(v: np.ndarray) -> np.ndarray:
        w = v.astype(np.int64) - lo
        return (w[:, 0] * span + w[:, 1]) * span + w[:, 2]
    keys = encode(table)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    q = encode(query)
    pos = np.searchsorted(sorted_keys, q)
    pos = np.clip(pos, 0, len(sorted_keys) - 1)
    found = sorted_keys[pos] == q
    return np.where(found, order[pos], -1)


def plane_wave_traces(
    space_group: int,
    k_name: str,
    k_primitive: Sequence[float] | np.ndarray,
    g_vectors: np.ndarray,
    coefficients: np.ndarray,
) -> np.ndarray:
    """Traces ``tr D(g)`` on a block of Bloch states given by plane-wave coefficients.

    ``k_primitive``: the k-point (primitive reciprocal basis) the coefficients refer to; it must
    equal the point of symmetry ``k_name`` up to a reciprocal-lattice vector. ``g_vectors``: (nG, 3)
    integers, primitive reciprocal basis, so that ``psi_n = sum_G coefficients[n, G] exp(i (k+G).r)``
    with ``k = k_primitive``. The G set should be a full cutoff sphere (closed under the little
    group); images falling outside it count as zero coefficients. Returns complex traces on
    ``little_group(space_group, k_name).indices`` (physics convention).
    """
    return traces_on_plane_waves(primitive_operations(space_group, normalize_k_name(k_name)), k_primitive, g_vectors, coefficients)


def traces_on_plane_waves(
    ops: PrimitiveLittleGroup, k_primitive: Sequence[float] | np.ndarray, g_vectors: np.ndarray, coefficients: np.ndarray
) -> np.ndarray:
    """Traces of the operations ``ops`` (from :func:`operations_at`) on plane-wave states at ``k_primitive``."""
    return np.trace(matrices_on_plane_waves(ops, k_primitive, g_vectors, coefficients), axis1=1, axis2=2)


def matrices_on_plane_waves(
    ops: PrimitiveLittleGroup, k_primitive: Sequence[float] | np.ndarray, g_vectors: np.ndarray, coefficients: np.ndarray
) -> np.ndarray:
    """Representation matrices ``D(g)`` (n_ops, d, d) of ``ops`` on the d states ``coefficients`` (rows):
    ``P(g) psi_n = sum_m psi_m D(g)_mn``, in the (not necessarily orthonormal) basis of the rows.

    The traces do not depend on that basis; the matrices do, by a similarity ``S^-1 D S``. They make a
    representation up to the translation phases of the little group (``D(g) D(h) = e^{...} D(gh)``).
    """
    c = np.atleast_2d(np.asarray(coefficients, dtype=complex))
    g = np.asarray(g_vectors, dtype=int).reshape(-1, 3)
    if c.shape[1] != len(g):
        raise ValueError(f"coefficients have {c.shape[1]} plane waves, g_vectors {len(g)}")
    # relabel G relative to the exact k of the table: k_calc + G = k_exact + (G + shift)
    g = g + _integer_shift(np.asarray(k_primitive), ops.k, ops.name)
    k_exact = np.array([float(x) for x in ops.k])
    overlap = c.conj() @ c.T
    out = np.empty((len(ops.indices), len(c), len(c)), dtype=complex)
    for i in range(len(ops.indices)):
        g_new = g @ ops.rotations_inv_t[i].T + ops.g0[i]
        phase = np.exp(-2j * np.pi * ((k_exact + g_new) @ ops.translations[i]))
        idx = _lookup(g, g_new)
        moved = np.where(idx >= 0, 1.0, 0.0) * c[:, np.maximum(idx, 0)]  # c_m(G') for each G
        m = moved.conj() @ (c * phase).T
        out[i] = np.linalg.solve(overlap, m)
    return out


def time_reversal_on_plane_waves(
    k_exact: Sequence[Fraction], k_primitive: Sequence[float] | np.ndarray, g_vectors: np.ndarray, coefficients: np.ndarray
) -> np.ndarray:
    """``U`` with ``T psi_n = sum_m psi_m U_mn`` (T: complex conjugation of the spinless Bloch functions) on
    the d states ``coefficients`` at a time-reversal-invariant k (``2 k_exact`` a reciprocal-lattice vector,
    primitive basis, exact).

    ``T psi`` has the coefficient ``conj(c(G))`` at ``-(k + G) = k + G''``, ``G'' = -G - 2k``; with
    ``N_mn = <psi_m | T psi_n>`` and the overlap ``S``, ``U = S^-1 N`` (``T`` is antiunitary: ``U`` is
    unitary for orthonormal states, ``U conj(U) = 1``). As for :func:`matrices_on_plane_waves`, the
    pseudo part of a PAW wave function suffices.
    """
    two_k = [2 * Fraction(x) for x in k_exact]
    if any(x.denominator != 1 for x in two_k):
        raise GroupTheoryError(f"k = {[str(x) for x in k_exact]} is not time-reversal invariant (2k not a lattice vector)")
    c = np.atleast_2d(np.asarray(coefficients, dtype=complex))
    g = np.asarray(g_vectors, dtype=int).reshape(-1, 3) + _integer_shift(np.asarray(k_primitive), tuple(k_exact), "")
    idx = _lookup(g, -g - np.array([int(x) for x in two_k]))
    moved = np.where(idx >= 0, 1.0, 0.0) * c[:, np.maximum(idx, 0)]  # c_m(G'') for each G
    return np.linalg.solve(c.conj() @ c.T, moved.conj() @ c.conj().T)


def rotate_plane_waves(
    space_group: int, index: int, k_source: np.ndarray, k_target: np.ndarray, g_vectors: np.ndarray, coefficients: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``P(g) psi`` for the coset representative ``index``: the states ``coefficients`` (rows) at
    ``k_source`` carried to ``k_target`` (primitive reciprocal basis, ``k_target ≡ R_p^-T k_source``
    modulo a reciprocal-lattice vector, else GroupTheoryError). Returns ``(G', c')`` with
    ``P(g) psi = sum_G' c'(G') exp(2 pi i (k_target + G').x)``: the coefficient of G moves to
    ``R_p^-T (k + G) - k_target`` with the phase ``exp(-2 pi i R_p^-T (k + G).t_p)`` (module docstring).
    The G set of a cutoff sphere about k maps onto the sphere about k_target."""
    r_inv_t, t_p = primitive_operation(space_group, index)
    k_source = np.asarray(k_source, dtype=float)
    moved = r_inv_t @ k_source - np.asarray(k_target, dtype=float)
    shift = np.rint(moved)
    if np.max(np.abs(moved - shift)) > _K_TOL:
        raise GroupTheoryError(f"operation {index} of space group {space_group} does not carry k = {k_source.tolist()} to {np.asarray(k_target).tolist()}")
    g = np.asarray(g_vectors, dtype=int).reshape(-1, 3)
    g_new = g @ r_inv_t.T + shift.astype(int)
    phase = np.exp(-2j * np.pi * ((np.asarray(k_target, dtype=float) + g_new) @ np.array([float(x) for x in t_p])))
    return g_new, np.atleast_2d(coefficients) * phase[None, :]


def conjugate_plane_waves(
    k_source: np.ndarray, k_target: np.ndarray, g_vectors: np.ndarray, coefficients: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Complex conjugation of spinless Bloch states (time reversal): ``psi*`` at ``k_target ≡ -k_source``.
    ``(G', c')`` with ``G' = -(k_source + G) - k_target`` and ``c' = conj(c)``."""
    moved = -np.asarray(k_source, dtype=float) - np.asarray(k_target, dtype=float)
    shift = np.rint(moved)
    if np.max(np.abs(moved - shift)) > _K_TOL:
        raise GroupTheoryError(f"k = {np.asarray(k_target).tolist()} is not -k of {np.asarray(k_source).tolist()}")
    g = np.asarray(g_vectors, dtype=int).reshape(-1, 3)
    return -g + shift.astype(int), np.conj(np.atleast_2d(coefficients))


def plane_wave_overlap(
    g_a: np.ndarray, c_a: np.ndarray, g_b: np.ndarray, c_b: np.ndarray, shift: Sequence[int] | np.ndarray = (0, 0, 0),
) -> np.ndarray:
    """Overlaps ``<u_a,m | u_b',n>`` (rows of ``c_a`` × rows of ``c_b``) of the cell-periodic parts, where
    state b' is state b seen at ``k_b + shift`` (``shift`` integer, primitive reciprocal basis), i.e. at
    ``k_a + b`` for a finite-difference step b: ``u_b' = exp(-2 pi i shift.x) u_b``, whose coefficient at G
    is ``c_b(G + shift)``. Plane waves absent from either set count as zero."""
    ga = np.asarray(g_a, dtype=int).reshape(-1, 3)
    gb = np.asarray(g_b, dtype=int).reshape(-1, 3)
    idx = _lookup(gb, ga + np.asarray(shift, dtype=int)[None, :])
    ok = idx >= 0
    return np.atleast_2d(c_a)[:, ok].conj() @ np.atleast_2d(c_b)[:, idx[ok]].T


def levels_from_plane_waves(
    space_group: int,
    k_name: str,
    k_primitive: Sequence[float] | np.ndarray,
    energies_eV: Sequence[float] | np.ndarray,
    g_vectors: np.ndarray,
    coefficients: np.ndarray,
    *,
    nbands: int | None = None,
    tol: float = DEGENERACY_TOL_EV,
) -> list[BlochLevel]:
    """Levels and irreps at one point of symmetry from plane-wave Bloch states.

    ``energies_eV`` (ascending) and the rows of ``coefficients`` are the computed bands. Degenerate
    groups (``tol``) that start among the lowest ``nbands`` bands (default: all) are reported; a
    group touching the last computed band is dropped, because the rest of it may lie above.
    """
    e = np.asarray(energies_eV, dtype=float)
    c = np.asarray(coefficients)
    if len(e) != len(c):
        raise ValueError(f"{len(e)} energies but {len(c)} coefficient rows")
    limit = len(e) if nbands is None else min(nbands, len(e))
    name = normalize_k_name(k_name)
    lg = little_group(space_group, name)
    levels: list[BlochLevel] = []
    for start, stop in degenerate_groups(e, tol):
        if start >= limit or stop == len(e):
            continue
        traces = plane_wave_traces(space_group, name, k_primitive, g_vectors, c[start:stop])
        energy = float(np.mean(e[start:stop]))
        for label in irreps_of_states(space_group, name, traces):
            levels.append(BlochLevel(lg.name or name, energy, label, lg.irrep(label).dimension))
    return levels
