"""Bands of μ > 1 branches as sources: at every mesh point the block Φ_k of the band's μ states.

docs/theory.md §6 ("Bands of μ branches"). From a DFT calculation (:class:`PlaneWaveOrbitBand`, sharing the block
operations of :class:`~nhm.kspace.sources.planewaves.PlaneWaveBand`) or from a tight-binding model with μ atoms per
cell (:class:`TightBindingOrbitBand`), computed at the primary representatives and unfolded as in
:mod:`nhm.kspace.sources.states`; with the atom-centred trial projections that start the optimisation of
:mod:`nhm.kspace.construction.orbit`.
"""

from __future__ import annotations

import numpy as np

from nhm.crystal.setting import primitive_transform
from nhm.errors import InputError
from nhm.kspace.constraints.levels import REP_TOL, SpatialLevel, exact_k, level_symmetry
from nhm.kspace.constraints.site import OrbitSite
from nhm.kspace.mesh import KMesh
from nhm.kspace.sources.planewaves import PlaneWaveBand, PlaneWaveBlock, orthonormal_rows, plane_wave_block_overlaps
from nhm.kspace.sources.states import unfold


TRIAL_WIDTH = 0.5  # Å: the Gaussians on the atoms that start the optimisation (Wannier90's projections)


class PlaneWaveOrbitBand(PlaneWaveBand):
    """The μ branches of a DFT band (:class:`nhm.bands.dft_mesh.MeshStates`; ``band_index`` (n_points, μ), aligned
    with ``states.points``): at each point the block of its μ states, unfolded as by :class:`nhm.kspace.sources.planewaves.
    PlaneWaveBand` (whose block operations it shares). InputError where the μ states do not span whole degenerate
    levels (reading R2 for μ > 1, or a crossing between a mesh point and its nearest line sample)."""

    def __init__(self, space_group: int, states, band_index: np.ndarray, mesh: KMesh, tol: float | None = None, cell=None) -> None:
        self.cell = cell  # the BCS primitive cell (Å, rows) of the states: for the trial functions
        super().__init__(space_group, states, np.sort(np.asarray(band_index, dtype=int), axis=1), mesh, tol)

    def _computed(self, i: int, m: int) -> PlaneWaveBlock:
        e = self.states.energies[i]
        idx = [int(x) for x in self.band_index[i]]
        level: set[int] = set()
        for b in idx:  # the degenerate groups of the band's states
            lo, hi = self._level_of(e, b, i)
            level |= set(range(lo, hi))
        extra = sorted(level - set(idx))
        if extra:
            kc = ", ".join(str(x) for x in self.fine.k_conventional(m))
            raise InputError(
                f"at k = ({kc}) (conventional) the band's states {idx} (energy order, from the nearest traced line sample) cut a "
                f"degenerate level that also holds state(s) {extra}: either the band takes part of a larger level there (reading "
                "R2, built for μ = 1 only) or a crossing lies between this point and its nearest line sample; another --mesh "
                "avoids the latter (docs/theory.md §6, 'Bands of μ branches')"
            )
        return PlaneWaveBlock(self.states.g_vectors[i], orthonormal_rows(self.states.coefficients[i][idx]))

    def energies(self) -> np.ndarray:
        """(N, μ) the band's energies (eV, absolute) at every point of the mesh the states were computed for."""
        mesh = self.fine
        n = mesh.divisions[0]
        pts = self.states.points
        e_pts = np.take_along_axis(self.states.energies, self.band_index, axis=1)
        e = np.full((mesh.size, e_pts.shape[1]), np.nan)
        e[(pts[:, 0] * n + pts[:, 1]) * n + pts[:, 2]] = e_pts
        direct = np.where(mesh.time_reversed, mesh.minus, np.arange(mesh.size))
        return e[mesh.star_rep[direct]]

    def blocks(self, mesh: KMesh) -> list:
        blocks = self.unfolded(mesh)
        if blocks is None:
            raise InputError("the μ-branch DFT band is built on the mesh its states were computed on")
        return blocks

    def trial(self, mesh: KMesh, blocks: list, site: OrbitSite) -> np.ndarray | None:
        """(N, μ, μ) ⟨φ_{k,i}|g_{k,j}⟩ with g_j a Gaussian (σ = TRIAL_WIDTH Å) on atom j (Bloch sum), from the plane-wave
        coefficients: Σ_G c*_{iG} e^{−σ²|k+G|²/2} e^{−2πi (k+G)·τ_j}. None without the primitive cell."""
        if self.cell is None:
            return None
        b = 2 * np.pi * np.linalg.inv(np.asarray(self.cell, dtype=float)).T  # reciprocal rows, 1/Å
        p = np.array(primitive_transform(self.space_group), dtype=float)
        tau = site.points @ np.linalg.inv(p).T  # primitive fractional
        kp = mesh.k_primitive
        out = np.empty((mesh.size, site.mu, site.mu), dtype=complex)
        for k, blk in enumerate(blocks):
            q = kp[k] + blk.g
            env = np.exp(-0.5 * TRIAL_WIDTH**2 * np.sum((q @ b) ** 2, axis=1))
            out[k] = blk.c.conj() @ (env[:, None] * np.exp(-2j * np.pi * q @ tau.T))
        return out

    def block_overlaps(self, blocks: list, table: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        return plane_wave_block_overlaps(blocks, table, shifts, np.ones(table.shape, dtype=bool))


class TightBindingOrbitBand:
    """Bands ``band_indices`` (μ of them, energy-ordered) of a tight-binding model with μ atoms per cell, as a block
    source (eigenvectors at the primary representatives, unfolded by the model's P(g) and complex conjugation)."""

    def __init__(self, model, band_indices, mesh: KMesh, gap_tol: float = 1e-6) -> None:
        self.model = model
        self.space_group = model.space_group
        self.band_indices = sorted(int(b) for b in band_indices)
        self.gap_tol = gap_tol
        self._pc = np.linalg.inv(np.array(primitive_transform(self.space_group), dtype=float)).T
        n = mesh.divisions[0]
        self.fine = mesh
        self._blocks = unfold(mesh, self, lambda m: self._computed(mesh.indices[m] / n))
        self._e = np.array([self.model.bands(self._pc @ k)[0][self.band_indices] for k in mesh.k_primitive])

    def _computed(self, kp: np.ndarray) -> np.ndarray:
        e, v = self.model.bands(self._pc @ kp)
        b = self.band_indices
        lo, hi = b[0], b[-1]
        if (lo > 0 and abs(e[lo] - e[lo - 1]) < self.gap_tol) or (hi + 1 < len(e) and abs(e[hi + 1] - e[hi]) < self.gap_tol):
            raise InputError("the model's bands touch other bands: the μ-branch band is not isolated there")
        return v[:, b]

    def energies(self) -> np.ndarray:
        return self._e

    def blocks(self, mesh: KMesh) -> list:
        return self._blocks

    def rotate(self, op, k_src, k_dst, blk):
        return self.model.symmetry_matrix(op, self._pc @ np.asarray(k_src, dtype=float)) @ blk

    def conjugate(self, k_src, k_dst, blk):
        return blk.conj()

    def overlap(self, a, b, shift) -> np.ndarray:
        return a.conj().T @ b

    def trial(self, mesh: KMesh, blocks: list, site: OrbitSite) -> np.ndarray:
        """(N, μ, μ) ⟨φ_{k,i}|g_{k,j}⟩ with g_j the first orbital of atom j (a localized, atom-centred trial function)."""
        first = [min(n for n, o in enumerate(self.model.orbitals) if o.atom == j) for j in range(site.mu)]
        return np.array([b[first, :].conj().T for b in blocks])

    def block_overlaps(self, blocks: list, table: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        v = np.array(blocks)  # (N, n_orb, μ)
        return np.einsum("kom,knop->knmp", v.conj(), v[table])

    def level(self, mesh: KMesh, m: int, blk):
        """D(a) = Φ†P(a)Φ of the μ-state block on the little co-group (checked to be a representation)."""
        g = mesh.group
        kx = exact_k(mesh.k_conventional(m))
        kf = np.array([float(x) for x in kx])
        ops = tuple(int(i) for i in g.little_cogroup(kx))
        d_mats = np.array([blk.conj().T @ self.model.symmetry_matrix(op, kf) @ blk for op in ops])
        rep, u, trr = level_symmetry(g, kx, ops, d_mats, lambda: blk.conj().T @ blk.conj(), REP_TOL)
        return SpatialLevel(tuple(float(x) for x in kf), tuple(self.band_indices), float("nan"), blk, ops, d_mats, u, rep, trr)
