"""Sparse exact diagonalization of number-conserving fermion operators in momentum sectors.

The operator (a :class:`~nhm.manybody.operators.FermionOperator` in Bloch modes p = 2k + m) is compiled
once into its non-negligible terms: the diagonal part, hops c†_p c_q, and pair terms
A[pq, rs] c†_p c†_q c_s c_r (p < q, r < s) grouped by the annihilated pair (r, s). The sector matrix
is then built with numpy over all basis states per annihilated pair (the creation pairs of a group are
handled at once by broadcasting): no Python loop over states. Crystal momentum is conserved by every
term (checked at compilation); the m-count Σ n_{k,+½} is used as a further quantum number when the
operator conserves it (k-independent f, where S_z is conserved; in general it is NOT, and the ED then
does without it).

Eigenpairs come from dense ``eigh`` for small sectors and from ARPACK (``eigsh``, which='SA') otherwise;
every eigenpair's residual ‖Hψ − Eψ‖ is returned, so convergence is checked, not assumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nhm.errors import NhmError
from nhm.manybody.fock import ModeLabels, SectorBasis, sector_basis
from nhm.manybody.operators import FermionOperator

DENSE_LIMIT = 1500  # sectors up to this dimension are diagonalized densely
DEGENERACY_TOL = 1e-8  # relative: eigenvalues closer than this (× energy scale) are degenerate


class SymmetryViolation(NhmError, RuntimeError):
    """An operator breaks a symmetry the ED relies on (a bug upstream, e.g. a non-periodic basis)."""


@dataclass(frozen=True)
class CompiledOperator:
    """The non-negligible terms of a FermionOperator, grouped for vectorized application."""

    n_modes: int
    constant: float
    h_diag: np.ndarray  # (M,) real: Σ_p h_pp n_p
    pair_diag: np.ndarray  # (M, M) real symmetric, zero diagonal: ½ Σ_{p≠q} D_pq n_p n_q
    hop: tuple[np.ndarray, np.ndarray, np.ndarray]  # (p, q, value) with p ≠ q: value c†_p c_q
    groups: tuple[np.ndarray, np.ndarray, np.ndarray]  # annihilated pairs (r, s) and pointers into terms
    terms: tuple[np.ndarray, np.ndarray, np.ndarray]  # created pairs (p, q) and values, per group
    is_real: bool
    conserves_up: bool
    spin_flip_symmetric: bool
    scale: float

    @property
    def n_terms(self) -> int:
        return int(len(self.hop[0]) + len(self.terms[0]) + np.count_nonzero(self.h_diag) + np.count_nonzero(self.pair_diag) // 2)


def antisymmetrized_pairs(v: np.ndarray) -> np.ndarray:
    """A[p,q,r,s] = ½(V_pqrs − V_qprs − V_pqsr + V_qpsr): ½ Σ V c†c†cc = Σ_{p<q, r<s} A c†_p c†_q c_s c_r."""
    return 0.5 * (v - v.transpose(1, 0, 2, 3) - v.transpose(0, 1, 3, 2) + v.transpose(1, 0, 3, 2))


def compile_operator(op: FermionOperator, labels: ModeLabels, rel_tol: float = 1e-13) -> CompiledOperator:
    """Terms of ``op`` above rel_tol × (largest term); raises SymmetryViolation if one breaks momentum."""
    m = op.n_modes
    if labels.n_modes != m:
        raise ValueError(f"operator on {m} modes, labels for {labels.n_modes}")
    h = op.one_body
    a = antisymmetrized_pairs(op.two_body)
    scale = float(max(np.abs(h).max(initial=0.0), np.abs(a).max(initial=0.0), 1e-300))
    tol = rel_tol * scale
    kk, up = labels.k, labels.up.astype(np.int64)
    # --- one-body
    p, q = np.nonzero(np.abs(h) > tol)
    bad = kk[p] != kk[q]
    if np.any(bad):
        raise SymmetryViolation(f"a one-body term breaks crystal momentum (|h| = {np.abs(h[p[bad], q[bad]]).max():.3g})")
    up_ok = bool(np.all(up[p] == up[q]))
    off = p != q
    hop = (p[off], q[off], h[p[off], q[off]])
    h_diag = np.real(np.diag(h)).copy()
    # --- two-body (p < q, r < s)
    iu_p, iu_q = np.triu_indices(m, 1)
    pair_a = a[iu_p[:, None], iu_q[:, None], iu_p[None, :], iu_q[None, :]]  # [created pair, annihilated pair]
    c_idx, a_idx = np.nonzero(np.abs(pair_a) > tol)
    cp, cq, ar, as_ = iu_p[c_idx], iu_q[c_idx], iu_p[a_idx], iu_q[a_idx]
    k_in = labels.k_add[kk[ar], kk[as_]]
    k_out = labels.k_add[kk[cp], kk[cq]]
    bad = k_in != k_out
    if np.any(bad):
        worst = np.abs(pair_a[c_idx[bad], a_idx[bad]]).max()
        raise SymmetryViolation(f"a two-body term breaks crystal momentum (|A| = {worst:.3g}, scale {scale:.3g})")
    up_ok &= bool(np.all(up[cp] + up[cq] == up[ar] + up[as_]))
    vals = pair_a[c_idx, a_idx]
    diag = c_idx == a_idx
    pair_diag = np.zeros((m, m))
    pair_diag[cp[diag], cq[diag]] = np.real(vals[diag])
    pair_diag = pair_diag + pair_diag.T
    keep = ~diag
    order = np.lexsort((c_idx[keep], a_idx[keep]))
    ga = a_idx[keep][order]
    uniq, first = np.unique(ga, return_index=True)
    ptr = np.concatenate([first, [len(ga)]]).astype(np.int64)
    groups = (iu_p[uniq], iu_q[uniq], ptr)
    terms = (cp[keep][order], cq[keep][order], vals[keep][order])
    is_real = bool(
        np.abs(np.imag(terms[2])).max(initial=0.0) <= tol and np.abs(np.imag(hop[2])).max(initial=0.0) <= tol
    )
    if is_real:
        terms = (terms[0], terms[1], np.real(terms[2]).copy())
        hop = (hop[0], hop[1], np.real(hop[2]).copy())
    # the spin flip m ↔ −m at every k (a mode permutation) maps the m-count M to N_e − M
    perm = np.arange(m) ^ 1
    flip_ok = bool(
        np.abs(h[np.ix_(perm, perm)] - h).max(initial=0.0) <= tol
        and np.abs(a[np.ix_(perm, perm, perm, perm)] - a).max(initial=0.0) <= tol
    )
    return CompiledOperator(m, float(np.real(op.constant)), h_diag, pair_diag, hop, groups, terms, is_real, up_ok, flip_ok, scale)


_U1 = np.uint64(1)


def _bits(m: int) -> tuple[np.ndarray, np.ndarray]:
    bit = np.left_shift(_U1, np.arange(m, dtype=np.uint64))
    return bit, bit - _U1  # the bit of mode p, and the mask of the modes below p


def _between(low: np.ndarray, bit: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Masks of the modes strictly between p < q."""
    return (low[q] ^ low[p]) & ~bit[p]


def _to_csr(row: np.ndarray, col: np.ndarray, val: np.ndarray, dim: int) -> sp.csr_matrix:
    """CSR from COO without sorting or merging duplicates (the matvec sums them anyway).

    scipy's public route sorts every row and merges duplicates, which costs more than the counting
    sort itself for 10⁸ entries; its counting-sort kernel is used directly when available.
    """
    try:
        from scipy.sparse._sparsetools import coo_tocsr
    except ImportError:  # pragma: no cover - older/newer scipy layouts
        return sp.coo_matrix((val, (row, col)), shape=(dim, dim)).tocsr()
    idx_dtype = row.dtype
    indptr = np.empty(dim + 1, dtype=idx_dtype)
    indices = np.empty(len(val), dtype=idx_dtype)
    data = np.empty(len(val), dtype=val.dtype)
    coo_tocsr(dim, dim, len(val), row, col, val, indptr, indices, data)
    return sp.csr_matrix((data, indices, indptr), shape=(dim, dim))


def sector_matrix(op: CompiledOperator, basis: SectorBasis, check: bool = False) -> sp.csr_matrix:
    """The matrix of ``op`` in ``basis`` (CSR; real if the operator is real in this mode basis).

    Fermionic signs: for c†_p c†_q c_s c_r (p < q, r < s) acting on a state with r, s occupied, the sign
    is (−1)^(n(r, s) + n′(p, q)) with n(r, s) the occupied modes strictly between r and s before, and
    n′(p, q) those strictly between p and q after the annihilation. ``check=True`` verifies that every
    image state lies in the sector (slower; for tests).
    """
    states = basis.states
    dim = basis.dimension
    bit, low = _bits(op.n_modes)
    dtype = np.float64 if op.is_real else np.complex128
    idx_dtype = np.int32 if dim < 2**31 - 1 else np.int64
    occ = basis.occupations().astype(np.float64)
    diag = op.constant + occ @ op.h_diag + 0.5 * np.einsum("ip,ip->i", occ @ op.pair_diag, occ)
    del occ
    rows: list[np.ndarray] = [np.arange(dim, dtype=idx_dtype)]
    cols: list[np.ndarray] = [np.arange(dim, dtype=idx_dtype)]
    vals: list[np.ndarray] = [diag.astype(dtype)]

    def emit(final: np.ndarray, source: np.ndarray, value: np.ndarray) -> None:
        idx = basis.index(final)
        if check and not np.array_equal(states[idx], final):
            raise SymmetryViolation("an operator term leaves the sector")
        rows.append(idx.astype(idx_dtype, copy=False))
        cols.append(source.astype(idx_dtype, copy=False))
        vals.append(value.astype(dtype, copy=False))

    # one-body hops c†_p c_q (p ≠ q): sign (−1)^(occupied modes strictly between p and q)
    for p, q, v in zip(*op.hop):
        sel = np.flatnonzero(((states & bit[q]) != 0) & ((states & bit[p]) == 0))
        if sel.size == 0:
            continue
        st = states[sel]
        lo_, hi_ = (p, q) if p < q else (q, p)
        par = np.bitwise_count(st & _between(low, bit, np.array(lo_), np.array(hi_))) & 1
        emit(st ^ (bit[q] | bit[p]), sel, np.where(par, -v, v))
    # pair terms A c†_p c†_q c_s c_r, grouped by the annihilated pair (r, s)
    g_r, g_s, ptr = op.groups
    t_p, t_q, t_v = op.terms
    t_target = bit[t_p] | bit[t_q]
    t_between = _between(low, bit, t_p, t_q)
    for g in range(len(g_r)):
        r, s = int(g_r[g]), int(g_s[g])
        both = bit[r] | bit[s]
        sel = np.flatnonzero((states & both) == both)
        if sel.size == 0:
            continue
        st = states[sel]
        par = np.bitwise_count(st & _between(low, bit, np.array(r), np.array(s))) & 1
        st = st ^ both
        lo_, hi_ = ptr[g], ptr[g + 1]
        target = t_target[lo_:hi_]
        i, j = np.nonzero((st[:, None] & target[None, :]) == 0)
        if i.size == 0:
            continue
        st2 = st[i]
        par2 = (np.bitwise_count(st2 & t_between[lo_:hi_][j]) + par[i]) & 1
        cv = t_v[lo_:hi_][j]
        emit(st2 | target[j], sel[i], np.where(par2 == 1, -cv, cv))
    row = np.concatenate(rows)
    del rows
    col = np.concatenate(cols)
    del cols
    val = np.concatenate(vals)
    del vals
    return _to_csr(row, col, val, dim)


@dataclass
class SectorResult:
    """Lowest eigenpairs of one sector. Energies ascending; ``vectors`` (dim, n) or None if not kept."""

    momentum: int | None
    n_up: int | None
    dimension: int
    nnz: int
    energies: np.ndarray
    residuals: np.ndarray
    vectors: np.ndarray | None
    build_seconds: float
    solve_seconds: float
    k_multiplicity: int = 1  # 2 when the sector also stands for its partner −K (equal spectra)
    up_multiplicity: int = 1  # 2 when it also stands for the spin-flipped sector N_e − M
    basis: SectorBasis | None = field(default=None, repr=False)

    @property
    def multiplicity(self) -> int:
        return self.k_multiplicity * self.up_multiplicity


def lowest_eigenpairs(mat: sp.spmatrix, n_eig: int, tol: float = 0.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_eig`` lowest eigenpairs of a Hermitian sparse matrix (dense below DENSE_LIMIT)."""
    dim = mat.shape[0]
    n = min(n_eig, dim)
    if dim <= DENSE_LIMIT or n >= dim - 1:
        w, v = np.linalg.eigh(mat.toarray())
        return w[:n], v[:, :n]
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(dim)
    if np.iscomplexobj(mat.data):
        v0 = v0 + 1j * rng.standard_normal(dim)
    ncv = min(dim, max(2 * n + 1, 20))
    w, v = spla.eigsh(mat, k=n, which="SA", tol=tol, v0=v0, ncv=ncv, maxiter=20 * dim)
    order = np.argsort(w)
    return w[order], v[:, order]


def _residuals(mat: sp.spmatrix, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    if w.size == 0:
        return np.zeros(0)
    return np.linalg.norm(mat @ v - v * w[None, :], axis=0)


def diagonalize_sector(
    op: CompiledOperator,
    labels: ModeLabels,
    n_electrons: int,
    momentum: int | None,
    n_up: int | None = None,
    n_eig: int = 4,
    keep_vectors: bool = False,
    tol: float = 0.0,
) -> SectorResult:
    """Build and diagonalize one sector.

    If all ``n_eig`` ≥ 2 eigenvalues found are degenerate with the lowest, more are computed until the
    ground manifold of the sector is complete (a triplet needs 3 when S_z is not conserved);
    ``n_eig = 1`` asks for the lowest energy only.
    """
    t0 = time.perf_counter()
    basis = sector_basis(labels, n_electrons, momentum, n_up)
    if basis.dimension == 0:
        return SectorResult(momentum, n_up, 0, 0, np.zeros(0), np.zeros(0), None, 0.0, 0.0)
    mat = sector_matrix(op, basis)
    t1 = time.perf_counter()
    k = n_eig
    while True:
        w, v = lowest_eigenpairs(mat, k, tol)
        if k == 1 or len(w) < k or w[-1] - w[0] > _deg_tol(op.scale):
            break
        k *= 2
    res = _residuals(mat, w, v)
    t2 = time.perf_counter()
    return SectorResult(momentum, n_up, basis.dimension, int(mat.nnz), w, res, v if keep_vectors else None, t1 - t0, t2 - t1,
                        basis=basis if keep_vectors else None)


@dataclass
class Spectrum:
    """Lowest eigenvalues over all sectors (with multiplicity) and the ground-state manifold."""

    energies: np.ndarray
    sectors: list[SectorResult]
    ground_energy: float
    ground: list[tuple[SectorResult, np.ndarray]]  # (sector, vectors of its states in the ground manifold)
    seconds: float
    used_up_sectors: bool
    used_kramers_pairs: bool

    @property
    def max_dimension(self) -> int:
        return max((s.dimension for s in self.sectors), default=0)

    @property
    def max_nnz(self) -> int:
        return max((s.nnz for s in self.sectors), default=0)

    @property
    def max_residual(self) -> float:
        return float(max((s.residuals.max(initial=0.0) for s in self.sectors), default=0.0))


def sector_list(
    op: CompiledOperator,
    labels: ModeLabels,
    n_electrons: int,
    kramers_pairs: bool = False,
    momenta: Iterable[int] | None = None,
    use_up: bool = True,
    up_values: Iterable[int] | None = None,
) -> list[tuple[int, int | None, int, int]]:
    """(momentum, m-count or None, K-multiplicity, M-multiplicity) of the sectors to diagonalize.

    With ``kramers_pairs`` (the caller guarantees that K and −K have equal spectra) only one of each
    pair is listed, with multiplicity 2. The m-count is used only if the operator conserves it; if it
    is also symmetric under the spin flip M ↔ N_e − M, only M ≥ N_e/2 is listed. ``up_values``
    restricts the m-counts (e.g. [N_e // 2]: for an SU(2)-invariant H every spin multiplet has a member
    there, so the ground energy is found, though not the multiplicities of the levels).
    """
    nk = labels.n_k
    ks = list(range(nk)) if momenta is None else sorted(set(int(k) for k in momenta))
    out_k: list[tuple[int, int]] = []
    for k in ks:
        partner = int(labels.k_neg[k])
        if kramers_pairs and momenta is None:
            if partner < k:
                continue
            out_k.append((k, 1 if partner == k else 2))
        else:
            out_k.append((k, 1))
    n_modes = labels.n_modes
    if not (op.conserves_up and use_up):
        return [(k, None, mult, 1) for k, mult in out_k]
    n_up_modes = int(labels.up.sum())
    ups = range(max(0, n_electrons - (n_modes - n_up_modes)), min(n_electrons, n_up_modes) + 1)
    if up_values is not None:
        ups = [u for u in ups if u in set(int(x) for x in up_values)]
    out: list[tuple[int, int | None, int, int]] = []
    for k, mult in out_k:
        for u in ups:
            if op.spin_flip_symmetric:
                mirror = n_electrons - u
                if mirror > u:
                    continue
                out.append((k, u, mult, 1 if mirror == u else 2))
            else:
                out.append((k, u, mult, 1))
    return out


def diagonalize(
    op: CompiledOperator,
    labels: ModeLabels,
    n_electrons: int,
    n_eig: int = 4,
    kramers_pairs: bool = False,
    momenta: Iterable[int] | None = None,
    keep_ground: bool = True,
    tol: float = 0.0,
    use_up: bool = True,
    up_values: Iterable[int] | None = None,
    progress=None,
) -> Spectrum:
    """Lowest ``n_eig`` eigenvalues over the sectors, and the ground-state manifold (vectors per sector).

    ``progress``: optional callable(advance: int, description: str) for progress reporting.
    """
    t0 = time.perf_counter()
    plan = sector_list(op, labels, n_electrons, kramers_pairs, momenta, use_up, up_values)
    results: list[SectorResult] = []
    for k, u, k_mult, u_mult in plan:
        res = diagonalize_sector(op, labels, n_electrons, k, u, n_eig, keep_vectors=keep_ground, tol=tol)
        res.k_multiplicity, res.up_multiplicity = k_mult, u_mult
        results.append(res)
        if progress is not None:
            progress(1, f"K={k}{'' if u is None else f', M={u}'} (dim {res.dimension})")
        # keep vectors only while they may still belong to the ground manifold
        e_min = min(r.energies[0] for r in results if r.energies.size)
        for r in results:
            if r.vectors is not None and r.energies.size and r.energies[0] > e_min + _deg_tol(op.scale):
                r.vectors = None
                r.basis = None
    all_e = np.sort(np.concatenate([np.repeat(r.energies, r.multiplicity) for r in results if r.energies.size]))
    e0 = float(all_e[0])
    ground: list[tuple[SectorResult, np.ndarray]] = []
    if keep_ground:
        for r in results:
            if r.vectors is None:
                continue
            sel = r.energies <= e0 + _deg_tol(op.scale)
            if np.any(sel):
                ground.append((r, r.vectors[:, sel]))
    used_up = any(r.n_up is not None for r in results)
    return Spectrum(all_e[:n_eig], results, e0, ground, time.perf_counter() - t0, used_up, kramers_pairs)


def _deg_tol(scale: float) -> float:
    return DEGENERACY_TOL * max(scale, 1.0)


def projected_expectation(op: CompiledOperator, ground: Sequence[tuple[SectorResult, np.ndarray]]) -> tuple[float, float]:
    """(lowest eigenvalue, mean) of ``op`` projected onto a ground manifold (op must conserve the sectors).

    For a non-degenerate ground state both equal ⟨G|op|G⟩. The lowest value gives the tightest
    variational bound E0(H) ≤ E0(H′) + min_{G′} ⟨G′|H_z|G′⟩.
    """
    values: list[float] = []
    for res, vecs in ground:
        assert res.basis is not None
        mat = sector_matrix(op, res.basis)
        proj = vecs.conj().T @ (mat @ vecs)
        proj = 0.5 * (proj + proj.conj().T)
        values.extend(np.linalg.eigvalsh(proj).tolist())
    arr = np.array(values)
    return float(arr.min()), float(arr.mean())
