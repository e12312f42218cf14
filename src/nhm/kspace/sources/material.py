"""A material's superconducting-band candidate as a band of Bloch states on a k mesh (the DFT path).

The candidate band of :mod:`nhm.wannier.verdict`, in its best variant, fixes the band's energy-ordered index
along the lines of symmetry; at a mesh point the band takes the index of the nearest line sample (the rule the width and
filling use, :mod:`nhm.wannier.verdict`). GPAW computes the Bloch states at the primary star
representatives of the mesh (:func:`nhm.bands.dft_mesh.bloch_states_on_mesh`, cached);
:class:`nhm.kspace.sources.planewaves.PlaneWaveBand` unfolds them and :func:`nhm.kspace.sources.states.band_on_mesh` gives
λ, the R2 points and |M_kb| on the mesh and on the coarser meshes of the optimisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints.characters import BandCharacters
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.mesh import KMesh, make_mesh
from nhm.kspace.sources.planewaves import PlaneWaveBand
from nhm.kspace.sources.states import BandOnMesh, band_on_mesh

__all__ = ["MaterialBand", "branch_count", "candidate_indices", "material_band", "orbit_material_band"]


def branch_count(candidate: Any) -> int:
    """μ: the number of branches of the candidate (atoms of its orbit in the primitive cell)."""
    return int(candidate.paths[0].indices.shape[1])


def candidate_indices(zone: Any, candidate: Any, mesh: KMesh) -> np.ndarray:
    """(N,) the candidate's energy-ordered band index at every point of ``mesh`` (nearest line sample), or
    (N, μ) for a candidate of μ > 1 branches."""
    from nhm.bands.zone import irreducible_mesh, nearest_line_samples

    if mesh.divisions[0] != mesh.divisions[1] or mesh.divisions[1] != mesh.divisions[2]:
        raise InputError("the DFT path needs an n×n×n mesh")
    table = np.concatenate([p.indices for p in candidate.paths])  # (samples, μ)
    zm = irreducible_mesh(mesh.space_group, mesh.divisions[0])
    line, sample, _ = nearest_line_samples(mesh.space_group, zm, zone.reciprocal, [lb.kpts_conventional for lb in zone.lines])
    idx = table[zone.sample_offsets[line] + sample]
    n = mesh.divisions[0]
    code = (zm.full[:, 0] * n + zm.full[:, 1]) * n + zm.full[:, 2]  # ZoneMesh and KMesh share the 'ij' order
    out = np.empty((mesh.size, table.shape[1]), dtype=int)
    out[code] = idx
    return out[:, 0] if table.shape[1] == 1 else out


@dataclass(eq=False)
class MaterialBand:
    """The candidate's Bloch states on the finest mesh and the band on every mesh asked for (memoized)."""

    source: PlaneWaveBand
    band_text: str
    site: SpinSiteRepresentation | None = None
    _done: dict = field(default_factory=dict, repr=False)

    def on(self, mesh: KMesh) -> BandOnMesh:
        if self.site is None:
            raise ValueError("characters(mesh, site) first: the band on a mesh needs the WFs' site representation")
        key = mesh.divisions
        if key not in self._done:
            self._done[key] = band_on_mesh(mesh, self.source, self.site, self.band_text)
        return self._done[key]

    def characters(self, mesh: KMesh, site: SpinSiteRepresentation) -> BandCharacters:
        if self.site is None or site.label != self.site.label:
            self.site = site
            self._done.clear()
        return self.on(mesh).characters

    def overlaps(self, mesh: KMesh) -> np.ndarray:
        return self.on(mesh).overlaps

    @property
    def accidental(self) -> list[int]:
        return self.source.accidental


def material_band(
    crystal: Any, params: Any, zone: Any, candidate: Any, n: int, *,
    progress=None, use_cache: bool = True, cache_dir=None,
) -> MaterialBand:
    """The candidate of ``nhm analyze`` (``zone`` its traced bands) as a band on the n³ mesh."""
    if branch_count(candidate) != 1:
        raise InputError("a candidate of several branches is built by orbit_material_band (nhm.kspace.sources.orbit)")
    mesh = make_mesh(crystal.space_group, n)
    states, idx = _states_at_representatives(
        crystal, params, zone, mesh, candidate_indices(zone, candidate, mesh),
        progress=progress, use_cache=use_cache, cache_dir=cache_dir,
    )
    return MaterialBand(PlaneWaveBand(crystal.space_group, states, idx, mesh), candidate.band_text())


def orbit_material_band(
    crystal: Any, params: Any, zone: Any, candidate: Any, n: int, *,
    progress=None, use_cache: bool = True, cache_dir=None,
):
    """A candidate of μ > 1 branches (hcp: μ = 2) as :class:`nhm.kspace.sources.orbit.PlaneWaveOrbitBand` on the n³ mesh."""
    from nhm.kspace.sources.orbit import PlaneWaveOrbitBand

    mesh = make_mesh(crystal.space_group, n)
    states, idx = _states_at_representatives(
        crystal, params, zone, mesh, candidate_indices(zone, candidate, mesh).reshape(mesh.size, -1),
        progress=progress, use_cache=use_cache, cache_dir=cache_dir,
    )
    return PlaneWaveOrbitBand(crystal.space_group, states, idx, mesh, cell=np.asarray(crystal.primitive_atoms().cell[:], dtype=float))


def _states_at_representatives(crystal: Any, params: Any, zone: Any, mesh: KMesh, idx: np.ndarray, **run):
    """GPAW's Bloch states at the primary representatives of the n³ ``mesh`` (enough bands for the candidate's
    indices ``idx`` at every mesh point, and for ``zone``'s), and those indices there."""
    from nhm.bands.dft_mesh import bloch_states_on_mesh

    reps = np.array([int(m) for m in mesh.representatives if mesh.primary[m]])
    nb = max(zone.nbands, int(idx.max()) + 1)
    states = bloch_states_on_mesh(crystal, params, mesh.divisions[0], mesh.indices[reps], nbands=nb, **run)
    return states, idx[reps]
