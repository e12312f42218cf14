"""GPAW's plane-wave Bloch states as a source of the DFT path (:mod:`nhm.kspace.sources.states`).

A degenerate level of plane-wave coefficients as a :class:`~nhm.kspace.constraints.levels.SpatialLevel`
(:func:`plane_wave_level`); a band's block at a point as orthonormal rows (:class:`PlaneWaveBlock`) and the
overlaps of all blocks on the stencil at once (:func:`plane_wave_block_overlaps`); a DFT band on the mesh
(:class:`PlaneWaveBand`: the states at the primary representatives, the band's level chosen and split by symmetry
where states of other irreps come near, unfolded over the mesh). Inner products are those of the PAW pseudo wave
functions (docs/theory.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nhm.errors import GroupTheoryError, InputError
from nhm.groups.spacegroup import space_group
from nhm.kspace.constraints.levels import PLANE_WAVE_REP_TOL, SpatialLevel, exact_k, is_irreducible, level_symmetry
from nhm.kspace.mesh import KMesh
from nhm.kspace.sources.states import unfold


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
    kx = exact_k(k_conventional)
    kf = np.array([float(x) for x in kx])
    c = orthonormal_rows(np.atleast_2d(np.asarray(coefficients, dtype=complex)), "the level")
    ops = tuple(int(i) for i in g.little_cogroup(kx))
    d_mats = matrices_on_plane_waves(operations_at(space_group_number, kx, ops), k_primitive, g_vectors, c)
    rep, u, trr = level_symmetry(
        g, kx, ops, d_mats,
        lambda: time_reversal_on_plane_waves(conventional_to_primitive_k(space_group_number, kx), k_primitive, g_vectors, c),
        PLANE_WAVE_REP_TOL,
    )
    return SpatialLevel(
        (float(kf[0]), float(kf[1]), float(kf[2])), tuple(int(i) for i in band_indices), float(energy), c.T, ops, d_mats, u,
        rep, trr,
    )


# ----------------------------------------------------------------------------- blocks of plane-wave states and their overlaps


@dataclass(frozen=True, eq=False)
class PlaneWaveBlock:
    """``c`` (d, nG) orthonormal rows (plain inner product of the pseudo wave functions) on ``g`` (nG, 3)."""

    g: np.ndarray
    c: np.ndarray


def orthonormal_rows(c: np.ndarray, what: str = "the band's level") -> np.ndarray:
    """Löwdin-orthonormalised rows ψ'_n = Σ_j ψ_j (S^-1/2)_jn of plane-wave coefficients ``c`` (d, nG), S the overlaps
    in the plain inner product (of the PAW pseudo wave functions: the space group and T preserve it); InputError,
    naming ``what``, if the rows are linearly dependent."""
    w, v = np.linalg.eigh(c.conj() @ c.T)
    if w.min() <= 1e-12 * w.max():
        raise InputError(f"the plane-wave states of {what} are linearly dependent")
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


# ----------------------------------------------------------------------------- a DFT band on the mesh


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
        blk = PlaneWaveBlock(g, orthonormal_rows(c[lo:hi]))
        if hi - lo == 1 and self.fine.cogroup_order[m] > 1 and not self._invariant(m, blk):
            # a neighbour a little more than ``tol`` away has mixed into the state: take the near-degenerate
            # group (NEAR_TOL) and split it by symmetry
            while lo > 0 and abs(e[lo - 1] - e[b]) < NEAR_TOL_EV:
                lo -= 1
            while hi < len(e) - 1 and abs(e[hi] - e[b]) < NEAR_TOL_EV:
                hi += 1
            blk = PlaneWaveBlock(g, orthonormal_rows(c[lo:hi]))
        if hi - lo > 1 and not self._one_irrep(m, blk):
            self.accidental.append(m)
            part = self._isotypic_part(m, blk, c[b])
            blk = part if part is not None else PlaneWaveBlock(g, orthonormal_rows(c[b:b + 1]))
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
        part = PlaneWaveBlock(blk.g, orthonormal_rows(q.T @ blk.c))
        return part if len(best) == 1 or self._one_irrep(m, part) else None

    def _invariant(self, m: int, blk: PlaneWaveBlock) -> bool:
        try:
            self.level(self.fine, m, blk)
            return True
        except GroupTheoryError:
            return False

    def _one_irrep(self, m: int, blk: PlaneWaveBlock) -> bool:
        """The degenerate states form one irrep of the little group (not a near-degeneracy of several, nor a
        set that the little group does not leave invariant)."""
        try:
            return is_irreducible(self.level(self.fine, m, blk))
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
        k = tuple(mesh.k_conventional(m))
        hit = self._levels.get(id(blk))
        if hit is not None and hit[0] is blk and hit[1] == k:  # the block was checked when it was chosen
            return hit[2]
        lv = plane_wave_level(self.space_group, k, mesh.k_primitive[m], blk.g, blk.c)
        self._levels[id(blk)] = (blk, k, lv)  # keeps blk alive, so its id is not reused
        return lv

    def dim(self, blk: PlaneWaveBlock) -> int:
        return int(blk.c.shape[0])
