"""A band given by its Bloch states, on a k mesh: λ(k), the R2 points, their Bloch spinors and |M_kb|.

The DFT path (seed Eq. 7 with a metal's own Bloch functions). The states are computed only at the
primary star representatives of the mesh (the irreducible wedge with time reversal) and unfolded to
every mesh point by the exact operations — P(b)ψ at bK for the star members, complex conjugation at
−k for the time-reversed ones — so the representation matrices are taken from the states themselves,
never assumed. At each mesh point the band is a *block*: its one state (an R1 point: Eq. 7 holds and
λ_h(k) = ⟨ψ_k|P(h)|ψ_k⟩ enters the constraints) or the d states of the multi-dimensional level it lies
in (an R2 point: its Bloch spinors are the 2d×2 isometry A of :func:`nhm.kspace.embedding.r2_isometry`
in the block's basis, Ψ_K = (V_K ⊗ 1₂) A_K). Spatial overlaps ⟨u_k|u_{k+b}⟩ between blocks give |M_kb|
and the Bloch-spinor overlaps of the bonds that touch R2 points.

Two sources share this machinery: :class:`PlaneWaveBand` (GPAW states, plane-wave coefficients of the
PAW pseudo wave functions: the overlaps are pseudo-wave-function overlaps, see docs/theory.md) and
:class:`TightBindingBand` (a Slater–Koster model's eigenvectors: the same path fed with a model, which
must reproduce the model path of :func:`nhm.kspace.constraints.tight_binding_characters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints import BandCharacters, SpinSiteRepresentation, band_characters
from nhm.kspace.embedding import SpatialLevel, _irreducible, _phase_free, r2_isometry
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import SIGMA, SIGMA_Y

__all__ = ["BandOnMesh", "BlockR2Spinors", "PlaneWaveBand", "TightBindingBand", "band_on_mesh", "unfold"]


class BlockSource(Protocol):
    """What the DFT-style path needs of a band's Bloch states (blocks are source-specific objects)."""

    space_group: int

    def block_at(self, j: np.ndarray, n: int) -> Any: ...  # the band's block at mesh point j of the n³ mesh (computed or unfolded)
    def rotate(self, op: int, k_src: np.ndarray, k_dst: np.ndarray, blk: Any) -> Any: ...  # P(op) on the block
    def conjugate(self, k_src: np.ndarray, k_dst: np.ndarray, blk: Any) -> Any: ...  # time reversal
    def overlap(self, a: Any, b: Any, shift: np.ndarray) -> np.ndarray: ...  # ⟨u_a|u_b'⟩, b seen at k_b + shift
    def level(self, mesh: KMesh, m: int, blk: Any) -> SpatialLevel: ...  # D(a) on the little co-group, U at TRIM
    def dim(self, blk: Any) -> int: ...


def unfold(mesh: KMesh, source: BlockSource, rep_block) -> list:
    """Blocks at every mesh point from ``rep_block(m)`` at the primary representatives: star members
    p = b·K get P(b) of the representative's block, time-reversed points the conjugate of −k's."""
    kp = mesh.k_primitive
    blocks: list = [None] * mesh.size
    for m in mesh.representatives:
        if mesh.primary[m]:
            blocks[int(m)] = rep_block(int(m))
    direct = np.nonzero(~mesh.time_reversed)[0]
    for p in direct:
        rep = int(mesh.star_rep[p])
        if p != rep:
            blocks[p] = source.rotate(int(mesh.star_op[p]), kp[rep], kp[p], blocks[rep])
    for p in np.nonzero(mesh.time_reversed)[0]:
        q = int(mesh.minus[p])
        blocks[p] = source.conjugate(kp[q], kp[p], blocks[q])
    return blocks


# ----------------------------------------------------------------------------- Bloch spinors at R2 points, block basis


@dataclass(frozen=True, eq=False)
class BlockR2Spinors:
    """The band's fixed Bloch spinors at the R2 points of a mesh, Ψ_k = (V_k ⊗ 1₂) A_k in the basis V_k of
    each point's block (the DFT path's counterpart of :class:`nhm.kspace.embedding.R2Spinors`).

    ``a[slot[k]]`` (2 d_max × 2, zero-padded beyond 2 d_k rows; rows (i, s) ↦ 2i + s) in the reference
    gauge of the constraints: the isometry of :func:`r2_isometry` at primary representatives (the phase
    fixed by time reversal where −K is in the star of K), A_{bK} = (1_d ⊗ S(b)) A_K ρ(b)† e^{2πi (bK)·R_b}
    on the star (the block at bK is P(b)V_K), A_{−k} = (1_d ⊗ σ_y) A_k* σ_y on time-reversed points (the
    block there is V_k*). ``kind``/``mats``: the bonds of the stencil as in
    :func:`nhm.kspace.construct.r2_bond_matrices`, from the spatial block overlaps. Residuals as in
    R2Spinors (``direct``: propagated A against A solved at each member from its own block).
    """

    mask: np.ndarray
    slot: np.ndarray
    points: np.ndarray
    a: np.ndarray
    dims: np.ndarray
    kind: np.ndarray
    mats: np.ndarray
    direct: float
    symmetry: float
    gauge: float
    isometry: float
    mesh_size: int = 0

    def bond_matrices(self, mesh: KMesh) -> tuple[np.ndarray, np.ndarray]:
        if mesh.size != self.mesh_size:
            raise ValueError("these R2 spinors belong to another mesh")
        return self.kind, self.mats

    def spin_axes(self) -> np.ndarray:
        """(n_points, 2, 3) ⟨σ⟩ of each spinor column, (A†(1_d ⊗ σ)A)_mm (length < 1 where d > 1)."""
        p = self.a.reshape(len(self.points), -1, 2, 2)
        return np.real(np.einsum("pism,jst,pitm->pmj", p.conj(), SIGMA, p))


def _spin_big(d: int, s: np.ndarray) -> np.ndarray:
    return np.kron(np.eye(d), s)


# ----------------------------------------------------------------------------- the band on a mesh


@dataclass(frozen=True, eq=False)
class BandOnMesh:
    """λ, R2 points and spinors (``characters``) and |M_kb| (``overlaps``, (N, n_b); 1 on bonds that touch an
    R2 point, whose Bloch-spinor overlaps are in ``characters.r2_spinors``) of a band on a mesh, and the
    band's block at every mesh point (``blocks``, source-specific)."""

    characters: BandCharacters
    overlaps: np.ndarray
    blocks: list = field(repr=False)


def level_null_tol(level: SpatialLevel) -> float:
    """Null-space tolerance of (R2.1)/(R2.2) for a level whose D(a) (and U) hold to ``representation_residual``
    (and ``tr_residual``): DFT states are symmetric to ~1e-9, so the exact solutions have singular values of that
    size; the others are O(1). 1000 × the residuals, at least NULL_TOL, at most 1e-4."""
    from nhm.kspace.constraints import NULL_TOL

    return float(min(max(NULL_TOL, 1e3 * max(level.representation_residual, level.tr_residual)), 1e-4))


SNAP_TOL = 1e-6  # a computed character this close to its exact value is replaced by it
_ROOTS = np.exp(2j * np.pi * np.arange(24) / 24)
_ROOTS[::6] = (1, 1j, -1, -1j)  # exactly


def snap_character(c: complex, k_conventional: np.ndarray, translation) -> complex:
    """The exact value of a one-dimensional character c_h(k) computed from Bloch states: with the
    translation phase removed, χ = c e^{2πi k·t} is a root of unity of order dividing 24 (the 1-dim
    representations of little co-groups, and their projective factors at the zone boundary); χ is
    snapped to it when within SNAP_TOL (DFT states give ~1e-10), else c is returned unchanged."""
    kt = float(np.dot(k_conventional, [float(x) for x in translation]))
    ph = 1.0 if kt == 0.0 else np.exp(2j * np.pi * kt)
    chi = complex(c) * ph
    i = int(np.argmin(np.abs(_ROOTS - chi)))
    return complex(_ROOTS[i] / ph) if abs(_ROOTS[i] - chi) < SNAP_TOL else complex(c)


def band_on_mesh(mesh: KMesh, source: BlockSource, site: SpinSiteRepresentation, band_text: str) -> BandOnMesh:
    """The band of ``source`` on ``mesh``: blocks unfolded from the primary representatives, λ at the R1
    representatives, R2 points where the block is one multi-dimensional irrep, the R2 spinors and |M_kb|."""
    if source.space_group != mesh.space_group or site.space_group != mesh.space_group:
        raise InputError("the band, the site representation and the mesh must be of the same space group")
    n = mesh.divisions[0]
    blocks = getattr(source, "unfolded", lambda mm: None)(mesh)  # the source's own mesh: reuse its blocks
    if blocks is None:
        blocks = unfold(mesh, source, lambda m: source.block_at(mesh.indices[m], n))
    levels: dict[int, SpatialLevel] = {}
    r2: dict = {}
    for m in mesh.representatives:
        m = int(m)
        d = source.dim(blocks[m])
        if mesh.cogroup_order[m] == 1 and d == 1:
            continue
        lv = source.level(mesh, m, blocks[m])
        levels[m] = lv
        if d > 1:
            if not _irreducible(lv):
                raise InputError(
                    f"the band's level at k = ({', '.join(str(x) for x in mesh.k_conventional(m))}) (conventional) is "
                    f"{d}-fold degenerate without being one irrep of the little group (a crossing of branches): "
                    "the band is not defined there; choose another mesh"
                )
            r2[m] = r2_isometry(mesh.k_conventional(m), lv.ops, lv.d_mats, site, lv.time_reversal_matrix, f"k{m}", level_null_tol(lv))

    g = mesh.group

    def spatial(m: int, hs: np.ndarray) -> np.ndarray:
        lv = levels[m]
        pos = {op: i for i, op in enumerate(lv.ops)}
        kc = np.array([float(x) for x in mesh.k_conventional(m)])
        return np.array([snap_character(lv.d_mats[pos[int(h)]][0, 0], kc, g.operations[int(h)].translation) for h in hs])

    chars = band_characters(mesh, site, band_text, spatial, source={}, r2_points=r2)
    steps, _, table = mesh.neighbours
    j = mesh.indices
    shifts = (j[:, None, :] + steps[None, :, :] - j[table]) // n  # k + b = k_{k+b} + shift
    mask = np.isin(mesh.star_rep, np.array(sorted(r2), dtype=int)) if r2 else np.zeros(mesh.size, dtype=bool)
    r1 = ~(mask[:, None] | mask[table])  # bonds between R1 points; the others use BlockR2Spinors.mats
    fast = getattr(source, "bond_overlaps", None)
    if fast is not None:
        mags = np.where(r1, np.abs(fast(blocks, table, shifts, r1)), 1.0)
    else:
        mags = np.ones(table.shape)
        for k, b in zip(*np.nonzero(r1)):
            mags[k, b] = abs(source.overlap(blocks[k], blocks[table[k, b]], shifts[k, b])[0, 0])
    if r2:
        from dataclasses import replace

        chars = replace(chars, r2_spinors=_r2_spinors(mesh, source, site, blocks, r2, mask, shifts))
    return BandOnMesh(chars, mags, blocks)


def _r2_spinors(mesh: KMesh, source: BlockSource, site: SpinSiteRepresentation, blocks: list, r2: dict,
                mask: np.ndarray, shifts: np.ndarray) -> BlockR2Spinors:
    g = mesh.group
    kp = mesh.k_primitive
    pc = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = kp @ pc.T
    points = np.nonzero(mask)[0]
    slot = np.full(mesh.size, -1)
    slot[points] = np.arange(len(points))
    dims = np.array([source.dim(blocks[p]) for p in points], dtype=int)
    dmax = int(dims.max())
    a = np.zeros((len(points), 2 * dmax, 2), dtype=complex)
    sy = SIGMA_Y

    def star_image(b: int, x: np.ndarray, k_img: np.ndarray) -> np.ndarray:
        rho = site.s[b] * g.lifts[b]
        return _spin_big(len(x) // 2, g.lifts[b]) @ x @ rho.conj().T * np.exp(2j * np.pi * float(k_img @ site.shift[b]))

    def time_reverse(x: np.ndarray) -> np.ndarray:
        return _spin_big(len(x) // 2, sy) @ x.conj() @ sy

    gauge = 0.0
    for m in (int(x) for x in mesh.representatives if mask[x] and mesh.primary[x]):
        x = r2[m].isometry
        if mesh.partner_rep[m] == m and mesh.minus[m] != m:  # −K in the star of K: fix the phase (up to a sign)
            mk = int(mesh.minus[m])
            b = int(mesh.star_op[mk])
            rotated = source.rotate(b, kp[m], kp[mk], blocks[m])
            t = source.overlap(blocks[mk], rotated, np.zeros(3, dtype=int))  # V_{−K}† P(b) V_K
            z0 = np.kron(t, np.eye(2)) @ star_image(b, x, k_conv[mk])
            w0 = time_reverse(x)
            ov = complex(np.vdot(z0, w0))
            th = 0.5 * np.angle(ov) if abs(ov) > 1e-12 else 0.0
            x = np.exp(1j * th) * x
            gauge = max(gauge, float(np.linalg.norm(np.exp(1j * th) * z0 - np.exp(-1j * th) * w0)))
        a[slot[m], : len(x)] = x
    for p in (int(x) for x in points if not mesh.time_reversed[x]):
        rep = int(mesh.star_rep[p])
        if p != rep:
            x = a[slot[rep], : 2 * dims[slot[rep]]]
            a[slot[p], : len(x)] = star_image(int(mesh.star_op[p]), x, k_conv[p])
    for p in (int(x) for x in points if mesh.time_reversed[x]):
        q = int(mesh.minus[p])
        x = a[slot[q], : 2 * dims[slot[q]]]
        a[slot[p], : len(x)] = time_reverse(x)
    direct = sym = 0.0
    for p in points:
        p = int(p)
        lv = source.level(mesh, p, blocks[p])
        pt = r2_isometry(mesh.k_conventional(p), lv.ops, lv.d_mats, site, lv.time_reversal_matrix, f"k{p}", level_null_tol(lv))
        sym = max(sym, pt.symmetry_residual, pt.time_reversal_residual)
        direct = max(direct, _phase_free(a[slot[p], : 2 * pt.d], pt.isometry))
    iso = float(np.max(np.linalg.norm(np.swapaxes(a.conj(), 1, 2) @ a - np.eye(2), axis=(1, 2))))
    # the bonds touching R2 points: spatial block overlaps combined with the spinors
    _, _, table = mesh.neighbours
    kind = 2 * mask[:, None].astype(int) + mask[table].astype(int)
    mats = np.zeros((*table.shape, 2, 2), dtype=complex)
    for k, bb in zip(*np.nonzero(kind)):
        q = int(table[k, bb])
        s = source.overlap(blocks[k], blocks[q], shifts[k, bb])  # (d_k, d_q)
        if kind[k, bb] == 1:  # R1 → R2: B = (c_k ⊗ 1)† Ψ_q = (s ⊗ 1) A_q
            aq = a[slot[q], : 2 * s.shape[1]]
            mats[k, bb] = np.kron(s, np.eye(2)) @ aq
        elif kind[k, bb] == 2:  # R2 → R1: Ψ_k† (c_q ⊗ 1) = A_k† (s ⊗ 1)
            ak = a[slot[k], : 2 * s.shape[0]]
            mats[k, bb] = ak.conj().T @ np.kron(s, np.eye(2))
        else:  # R2 → R2: A_k† (s ⊗ 1) A_q
            ak, aq = a[slot[k], : 2 * s.shape[0]], a[slot[q], : 2 * s.shape[1]]
            mats[k, bb] = ak.conj().T @ np.kron(s, np.eye(2)) @ aq
    return BlockR2Spinors(mask, slot, points, a, dims, kind, mats, direct, sym, gauge, iso, mesh.size)


# ----------------------------------------------------------------------------- plane-wave (DFT) states


@dataclass(frozen=True, eq=False)
class PlaneWaveBlock:
    """``c`` (d, nG) orthonormal rows (plain inner product of the pseudo wave functions) on ``g`` (nG, 3)."""

    g: np.ndarray
    c: np.ndarray


def _orthonormal_rows(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c.conj() @ c.T)
    if w.min() <= 1e-12 * w.max():
        raise InputError("the plane-wave states of the band's level are linearly dependent")
    return (v @ np.diag(w**-0.5) @ v.conj().T).T @ c


_CHUNK = 1024  # mesh points per vectorised lookup
_SPAN = 256  # G components in [−128, 128): integer codes of plane waves for sorted lookups
_OFF = 128


def _code(g: np.ndarray) -> np.ndarray:
    g = np.asarray(g, dtype=np.int64)
    return ((g[..., 0] + _OFF) * _SPAN + (g[..., 1] + _OFF)) * _SPAN + (g[..., 2] + _OFF)


def plane_wave_bond_overlaps(blocks: list, table: np.ndarray, shifts: np.ndarray, use: np.ndarray) -> np.ndarray:
    """⟨u_k|u_{k+b}⟩ of one-state plane-wave blocks on the stencil bonds where ``use`` (N, n_b) is True, all
    at once (the same result as :func:`nhm.bands.bloch.plane_wave_overlap` bond by bond); 0 elsewhere and on
    bonds touching blocks of several states."""
    one = np.array([blocks[i].c.shape[0] == 1 for i in range(len(blocks))])
    use = use & one[:, None] & one[table]
    return plane_wave_block_overlaps(blocks, table, shifts, use, rows=1)[..., 0, 0]


def plane_wave_block_overlaps(blocks: list, table: np.ndarray, shifts: np.ndarray, use: np.ndarray, rows: int | None = None) -> np.ndarray:
    """(N, n_b, μ, μ) overlap matrices Φ_k†Φ_{k+b} of plane-wave blocks of μ = ``rows`` states (default: the
    first block's) on the stencil bonds where ``use`` is True, all at once: one sorted table of every point's
    plane-wave codes, looked up in chunks; 0 elsewhere. Blocks of another size are left out (their rows 0)."""
    n = len(blocks)
    mu = int(blocks[0].c.shape[0]) if rows is None else rows
    sel = [i for i in range(n) if blocks[i].c.shape[0] == mu]
    nmax = max(len(blocks[i].g) for i in sel) if sel else 1
    top = _SPAN**3  # above every code: pads the rows and keeps them sorted
    keys = np.full((n, nmax), top, dtype=np.int64)
    coef = np.zeros((n, mu, nmax), dtype=complex)
    for i in sel:
        kk = _code(blocks[i].g)
        if kk.min() < 0 or kk.max() >= top:
            raise InputError("plane-wave components beyond ±128: the cutoff is too large for nhm's overlap table")
        order = np.argsort(kk)
        keys[i, : len(kk)] = kk[order]
        coef[i, :, : len(kk)] = blocks[i].c[:, order]
    stride = top + 1
    flat = (np.arange(n, dtype=np.int64)[:, None] * stride + keys).ravel()
    cflat = np.swapaxes(coef, 0, 1).reshape(mu, -1)  # (μ, n·nmax), aligned with ``flat``
    s = np.asarray(shifts, dtype=np.int64)
    scode = (s[..., 0] * _SPAN + s[..., 1]) * _SPAN + s[..., 2]
    out = np.zeros((*table.shape, mu, mu), dtype=complex)
    for b in range(table.shape[1]):
        todo = np.nonzero(use[:, b])[0]
        for start in range(0, len(todo), _CHUNK // mu):  # bounded temporaries
            rows_ = todo[start:start + _CHUNK // mu]
            q = table[rows_, b].astype(np.int64)
            valid = keys[rows_] < top
            glob = q[:, None] * stride + keys[rows_] + scode[rows_, b][:, None]
            pos = np.clip(np.searchsorted(flat, glob), 0, len(flat) - 1)
            found = valid & (flat[pos] == glob)
            other = np.where(found[None], cflat[:, pos], 0)  # (μ, rows, nmax)
            out[rows_, b] = np.einsum("rig,jrg->rij", coef[rows_].conj(), other)
    return out


NEAR_TOL_EV = 0.01  # eV: states this close may mix in a non-self-consistent run; split by symmetry when they do


class PlaneWaveBand:
    """A band of a DFT calculation: :class:`nhm.bands.dft_mesh.MeshStates` at the primary representatives
    of the finest mesh, and the band's energy-ordered index at each of those points (``band_index``,
    aligned with ``states.points``). The block at a point is the degenerate group (``tol`` eV) containing
    the index if it is one irrep of the little group; a group of several irreps (an accidental
    near-degeneracy, also one within NEAR_TOL_EV whose states have mixed) is split into isotypic components
    and the one holding the band's state is kept (``accidental`` lists those points)."""

    def __init__(self, space_group: int, states, band_index: np.ndarray, mesh: KMesh, tol: float | None = None) -> None:
        from nhm.bands.bloch import DEGENERACY_TOL_EV

        self.space_group = space_group
        self.states = states
        self.band_index = np.asarray(band_index, dtype=int)
        self.tol = DEGENERACY_TOL_EV if tol is None else tol
        self.fine = mesh
        self.accidental: list[int] = []
        self._levels: dict[int, tuple] = {}  # id(block) -> (block, k, SpatialLevel)
        where = {tuple(int(x) for x in j): i for i, j in enumerate(states.points)}
        n = states.n
        self._blocks = unfold(mesh, self, lambda m: self._computed(where[tuple(int(x) for x in mesh.indices[m] % n)], m))

    def _computed(self, i: int, m: int) -> PlaneWaveBlock:
        e = self.states.energies[i]
        b = int(self.band_index[i])
        lo, hi = self._level_of(e, b, i)
        g, c = self.states.g_vectors[i], self.states.coefficients[i]
        blk = PlaneWaveBlock(g, _orthonormal_rows(c[lo:hi]))
        if hi - lo == 1 and self.fine.cogroup_order[m] > 1 and not self._invariant(m, blk):
            # a neighbour a little more than ``tol`` away has mixed into the state: take the near-degenerate
            # group (NEAR_TOL) and split it by symmetry
            while lo > 0 and abs(e[lo - 1] - e[b]) < NEAR_TOL_EV:
                lo -= 1
            while hi < len(e) - 1 and abs(e[hi] - e[b]) < NEAR_TOL_EV:
                hi += 1
            blk = PlaneWaveBlock(g, _orthonormal_rows(c[lo:hi]))
        if hi - lo > 1 and not self._one_irrep(m, blk):
            self.accidental.append(m)
            part = self._isotypic_part(m, blk, c[b])
            blk = part if part is not None else PlaneWaveBlock(g, _orthonormal_rows(c[b:b + 1]))
        return blk

    def _level_of(self, e: np.ndarray, b: int, i: int) -> tuple[int, int]:
        """``(lo, hi)``: the states within ``tol`` of state b (its degenerate group); InputError if it reaches the last computed band."""
        lo, hi = b, b + 1
        while lo > 0 and abs(e[lo - 1] - e[b]) < self.tol:
            lo -= 1
        while hi < len(e) and abs(e[hi] - e[b]) < self.tol:
            hi += 1
        if hi == len(e):
            raise InputError(f"the band's level at mesh point {self.states.points[i].tolist()} touches the last computed band")
        return lo, hi

    def _isotypic_part(self, m: int, blk: PlaneWaveBlock, state: np.ndarray) -> PlaneWaveBlock | None:
        """A near-degenerate group of several irreps: split it into isotypic components by a central element
        of the group algebra, H = Σ_a r(class of a) D(a) (r a fixed generic class function: its eigenspaces are
        the isotypic components), and keep the component that holds most of the band's own state — one
        irrep again, so the symmetry of the band's state is exact. None if that fails (then the state itself
        is used)."""
        from nhm.errors import GroupTheoryError

        try:
            lv = self.level(self.fine, m, blk)
        except GroupTheoryError:
            return None
        g = self.fine.group
        table, _, _ = g.multiplication
        inv = g.inverse_index
        ops = list(lv.ops)
        label = {}
        for a in ops:
            if a not in label:
                for x in {int(table[table[bb, a], inv[bb]]) for bb in ops}:
                    label[x] = len(set(label.values()))  # one number per class
        rng = np.random.default_rng(12345)
        r = rng.normal(size=len(ops)) + 1j * rng.normal(size=len(ops))
        h = sum(r[label[a]] * dm for a, dm in zip(ops, lv.d_mats))
        w, v = np.linalg.eig(h)
        x = blk.c.conj() @ state  # the band's state in the block's orthonormal basis
        groups: list[list[int]] = []
        for i in np.argsort(w.real):
            if groups and abs(w[i] - w[groups[-1][0]]) < 1e-6 * max(1.0, float(np.max(np.abs(w)))):
                groups[-1].append(int(i))
            else:
                groups.append([int(i)])
        best = max(groups, key=lambda gi: float(np.linalg.norm(np.linalg.qr(v[:, gi])[0].conj().T @ x)))
        q = np.linalg.qr(v[:, best])[0]
        part = PlaneWaveBlock(blk.g, _orthonormal_rows(q.T @ blk.c))
        return part if len(best) == 1 or self._one_irrep(m, part) else None

    def _invariant(self, m: int, blk: PlaneWaveBlock) -> bool:
        from nhm.errors import GroupTheoryError

        try:
            self.level(self.fine, m, blk)
            return True
        except GroupTheoryError:
            return False

    def _one_irrep(self, m: int, blk: PlaneWaveBlock) -> bool:
        """The degenerate states form one irrep of the little group (not a near-degeneracy of several, nor a
        set that the little group does not leave invariant)."""
        from nhm.errors import GroupTheoryError

        try:
            return _irreducible(self.level(self.fine, m, blk))
        except GroupTheoryError:
            return False

    def energies(self) -> np.ndarray:
        """(N,) the band's energy (eV, absolute) at every point of the mesh the states were computed for."""
        mesh = self.fine
        n = mesh.divisions[0]
        pts = self.states.points
        e_pts = self.states.energies[np.arange(len(pts)), self.band_index]
        e = np.full(mesh.size, np.nan)
        e[(pts[:, 0] * n + pts[:, 1]) * n + pts[:, 2]] = e_pts
        direct = np.where(mesh.time_reversed, mesh.minus, np.arange(mesh.size))
        return e[mesh.star_rep[direct]]

    def unfolded(self, mesh: KMesh) -> list | None:
        return self._blocks if mesh.divisions == self.fine.divisions else None

    def block_at(self, j: np.ndarray, n: int) -> PlaneWaveBlock:
        nf = self.fine.divisions[0]
        if nf % n:
            raise InputError(f"the {n}³ mesh is not a sub-mesh of the {nf}³ mesh the states were computed on")
        jj = (np.asarray(j) * (nf // n)) % nf
        return self._blocks[int((jj[0] * nf + jj[1]) * nf + jj[2])]

    def rotate(self, op: int, k_src, k_dst, blk: PlaneWaveBlock) -> PlaneWaveBlock:
        from nhm.bands.bloch import rotate_plane_waves

        return PlaneWaveBlock(*rotate_plane_waves(self.space_group, op, k_src, k_dst, blk.g, blk.c))

    def conjugate(self, k_src, k_dst, blk: PlaneWaveBlock) -> PlaneWaveBlock:
        from nhm.bands.bloch import conjugate_plane_waves

        return PlaneWaveBlock(*conjugate_plane_waves(k_src, k_dst, blk.g, blk.c))

    def bond_overlaps(self, blocks: list, table: np.ndarray, shifts: np.ndarray, use: np.ndarray) -> np.ndarray:
        return plane_wave_bond_overlaps(blocks, table, shifts, use)

    def overlap(self, a: PlaneWaveBlock, b: PlaneWaveBlock, shift) -> np.ndarray:
        from nhm.bands.bloch import plane_wave_overlap

        return plane_wave_overlap(a.g, a.c, b.g, b.c, shift)

    def level(self, mesh: KMesh, m: int, blk: PlaneWaveBlock) -> SpatialLevel:
        from nhm.kspace.embedding import plane_wave_level

        k = tuple(mesh.k_conventional(m))
        hit = self._levels.get(id(blk))
        if hit is not None and hit[0] is blk and hit[1] == k:  # the block was checked when it was chosen
            return hit[2]
        lv = plane_wave_level(self.space_group, k, mesh.k_primitive[m], blk.g, blk.c)
        self._levels[id(blk)] = (blk, k, lv)  # keeps blk alive, so its id is not reused
        return lv

    def dim(self, blk: PlaneWaveBlock) -> int:
        return int(blk.c.shape[0])


# ----------------------------------------------------------------------------- tight-binding states (consistency)


class TightBindingBand:
    """Band ``band_index`` of a tight-binding model through the same path: eigenvectors at the primary
    representatives only, unfolded with the model's P(g) (``symmetry_matrix``) and complex conjugation
    (real orbitals and hoppings), overlaps V_a†V_b (orthonormal orbitals, a Bloch basis periodic in k)."""

    def __init__(self, model, band_index: int, gap_tol: float = 1e-6) -> None:
        self.model = model
        self.space_group = model.space_group
        self.band_index = band_index
        self.gap_tol = gap_tol
        from nhm.crystal.setting import primitive_transform

        self._pc = np.linalg.inv(np.array(primitive_transform(self.space_group), dtype=float)).T  # k_c = P^-T k_p

    def block_at(self, j: np.ndarray, n: int) -> np.ndarray:
        e, v = self.model.bands(self._pc @ (np.asarray(j, dtype=float) / n))
        idx = np.nonzero(np.abs(e - e[self.band_index]) < self.gap_tol)[0]
        return v[:, idx]

    def rotate(self, op: int, k_src, k_dst, blk: np.ndarray) -> np.ndarray:
        return self.model.symmetry_matrix(op, self._pc @ np.asarray(k_src, dtype=float)) @ blk

    def conjugate(self, k_src, k_dst, blk: np.ndarray) -> np.ndarray:
        return blk.conj()

    def overlap(self, a: np.ndarray, b: np.ndarray, shift) -> np.ndarray:
        return a.conj().T @ b

    def level(self, mesh: KMesh, m: int, blk: np.ndarray) -> SpatialLevel:
        from nhm.kspace.embedding import tight_binding_level

        return tight_binding_level(self.model, mesh.k_conventional(m), self.band_index, self.gap_tol, vectors=blk)

    def dim(self, blk: np.ndarray) -> int:
        return int(blk.shape[1])
