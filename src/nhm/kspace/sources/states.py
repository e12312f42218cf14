"""A band given by its Bloch states, on a k mesh: λ(k), the R2 points, their Bloch spinors and |M_kb|.

The DFT path (seed Eq. 7 with a metal's own Bloch functions). The states are computed only at the
primary star representatives of the mesh (the irreducible wedge with time reversal) and unfolded to
every mesh point by the exact operations — P(b)ψ at bK for the star members, complex conjugation at
−k for the time-reversed ones — so the representation matrices are taken from the states themselves,
never assumed. At each mesh point the band is a *block*: its one state (an R1 point: Eq. 7 holds and
λ_h(k) = ⟨ψ_k|P(h)|ψ_k⟩ enters the constraints) or the d states of the multi-dimensional level it lies
in (an R2 point: its Bloch spinors are the 2d×2 isometry A of :func:`nhm.kspace.constraints.r2.r2_isometry`
in the block's basis, Ψ_K = (V_K ⊗ 1₂) A_K). Spatial overlaps ⟨u_k|u_{k+b}⟩ between blocks give |M_kb|
and the Bloch-spinor overlaps of the bonds that touch R2 points.

This module owns that machinery (:class:`BlockSource`, :func:`unfold`, :func:`band_on_mesh`). Two sources use it:
:class:`~nhm.kspace.sources.planewaves.PlaneWaveBand` (GPAW states, plane-wave coefficients of the PAW pseudo wave
functions: the overlaps are pseudo-wave-function overlaps, see docs/theory.md) and
:class:`~nhm.kspace.sources.tightbinding.TightBindingBand` (a Slater–Koster model's eigenvectors: the same path fed
with a model, which must reproduce :func:`~nhm.kspace.sources.tightbinding.tight_binding_characters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints.characters import BandCharacters, band_characters
from nhm.kspace.constraints.levels import SpatialLevel, is_irreducible, level_null_tol
from nhm.kspace.constraints.r2 import phase_free_distance, r2_isometry
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import SIGMA, SIGMA_Y


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
    each point's block (the DFT path's counterpart of :class:`nhm.kspace.sources.tightbinding_levels.R2Spinors`).

    ``a[slot[k]]`` (2 d_max × 2, zero-padded beyond 2 d_k rows; rows (i, s) ↦ 2i + s) in the reference
    gauge of the constraints: the isometry of :func:`r2_isometry` at primary representatives (the phase
    fixed by time reversal where −K is in the star of K), A_{bK} = (1_d ⊗ S(b)) A_K ρ(b)† e^{2πi (bK)·R_b}
    on the star (the block at bK is P(b)V_K), A_{−k} = (1_d ⊗ σ_y) A_k* σ_y on time-reversed points (the
    block there is V_k*). ``kind``/``mats``: the bonds of the stencil as in
    :func:`nhm.kspace.construction.field.r2_bond_matrices`, from the spatial block overlaps. Residuals as in
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
            if not is_irreducible(lv):
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
        direct = max(direct, phase_free_distance(a[slot[p], : 2 * pt.d], pt.isometry))
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
