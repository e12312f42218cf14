"""A band of a tight-binding (Slater–Koster) model as a source: its irreps, λ, |M_kb|, and its blocks.

``model`` is :class:`nhm.bands.tightbinding.TightBindingModel`, ``band_index`` the band's energy-ordered index.
:func:`model_band_symmetry` names the band's irreps at the points of symmetry; :func:`tight_binding_characters`
takes λ from its eigenvectors at every mesh point (with its R2 points under reading R2,
:mod:`nhm.kspace.sources.tightbinding_levels`); :func:`tight_binding_overlaps` gives |M_kb| on the stencil.
:class:`TightBindingBand` is the same band as a block source of :mod:`nhm.kspace.sources.states` (the DFT path fed
with a model: it must reproduce the characters computed here).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nhm.bands.symmetry import BandSymmetry
from nhm.crystal.setting import primitive_transform
from nhm.errors import InputError
from nhm.kspace.constraints.characters import BandCharacters, band_characters
from nhm.kspace.constraints.levels import SpatialLevel
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.mesh import KMesh
from nhm.kspace.sources.model import voronoi_cells
from nhm.kspace.sources.tightbinding_levels import r2_points_on_mesh, r2_spinors_on_mesh, tight_binding_level


def model_band_symmetry(model, band_index: int, allow_degenerate: bool = False) -> BandSymmetry:
    """The irreps of the energy-ordered band ``band_index`` of a tight-binding model at the points of
    symmetry (``model``: :class:`nhm.bands.tightbinding.TightBindingModel`). InputError if the state is
    degenerate there (then the band is not a single branch), unless ``allow_degenerate`` (reading R2:
    the label is then that of the multi-dimensional level the band lies in)."""
    if not 0 <= band_index < model.size:
        raise InputError(f"band index {band_index} out of range (the model has {model.size} bands)")
    irreps: dict[str, tuple[str, ...]] = {}
    for name, levels in model.levels_at_points().items():  # ascending; one degenerate group shares its energy
        lv = [x for x in levels for _ in range(x.dimension)][band_index]
        states = sum(x.dimension for x in levels if x.energy == lv.energy)
        if states > 1 and not allow_degenerate:
            raise InputError(
                f"band {band_index} is degenerate at {name} ({states} states): not a single branch (reading R2: its "
                "spinors there are a 2d×2 isometry, nhm.kspace.sources.tightbinding_levels.r2_points_on_mesh; tight_binding_characters(..., "
                "reading='R2') builds the F(k) field around them)"
            )
        irreps[name] = (lv.irrep,)
    return BandSymmetry(model.space_group, irreps)


def tight_binding_characters(
    mesh: KMesh, model, band_index: int, site: SpinSiteRepresentation, gap_tol: float = 1e-6, reading: str = "R1",
) -> BandCharacters:
    """λ from the Bloch states of band ``band_index`` of a tight-binding model at every mesh k with a
    nontrivial little co-group: c_h(k) = ⟨ψ_k|P(h)|ψ_k⟩ (physics convention). InputError where the
    state is degenerate (within ``gap_tol`` eV): the energy-ordered band is not defined there.

    ``reading="R2"``: where the state is degenerate because its level is one multi-dimensional irrep of
    the little group, the representative is collected as an R2 point with its isometry
    (:func:`nhm.kspace.sources.tightbinding_levels.r2_points_on_mesh`, listed in ``BandCharacters.r2_points``) instead;
    other degeneracies (crossings) and site representations absent from D ⊗ D½ still raise InputError.
    The Bloch spinors of those stars are attached as ``BandCharacters.r2_spinors``.
    """
    if model.space_group != mesh.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the mesh of {mesh.space_group}")
    if reading not in ("R1", "R2"):
        raise InputError(f"reading must be R1 or R2, not {reading!r}")
    r2: dict = {}
    if reading == "R2":
        r2 = r2_points_on_mesh(mesh, model, band_index, site, gap_tol)
    band = model_band_symmetry(model, band_index, allow_degenerate=reading == "R2")

    def spatial(m: int, hs: np.ndarray) -> np.ndarray:
        kc = np.array([float(x) for x in mesh.k_conventional(m)])
        e, v = model.bands(kc)
        gaps = np.abs(np.delete(e, band_index) - e[band_index])
        if gaps.size and gaps.min() < gap_tol:
            raise InputError(f"band {band_index} is degenerate at k = {tuple(mesh.k_conventional(m))} (conventional): choose a mesh avoiding the crossing")
        psi = v[:, band_index]
        return np.array([psi.conj() @ model.symmetry_matrix(int(h), kc) @ psi for h in hs])

    chars = band_characters(mesh, site, band.text(), spatial, cell=voronoi_cells(mesh), source={}, r2_points=r2)
    if r2:
        chars = replace(chars, r2_spinors=r2_spinors_on_mesh(mesh, model, band_index, site, r2, gap_tol))
    return chars


def tight_binding_overlaps(mesh: KMesh, model, band_index: int) -> np.ndarray:
    """|M_kb| = |⟨u_k|u_{k+b}⟩| of band ``band_index`` on the stencil of the mesh, (N, n_b).

    Orbitals are orthonormal and centred on the atoms, so the cell-periodic overlap is the overlap of the
    eigenvectors (for one atom per primitive cell the Bloch-sum convention only adds a global phase per k,
    which |·| removes). Across a crossing where the energy-ordered band switches branch |M| drops to ~0.
    """
    if model.space_group != mesh.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the mesh of {mesh.space_group}")
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = mesh.k_primitive @ p_to_conv.T
    _, vecs = np.linalg.eigh(model.hamiltonian(k_conv))
    if not 0 <= band_index < vecs.shape[-1]:
        raise InputError(f"band index {band_index} out of range (the model has {vecs.shape[-1]} bands)")
    c = vecs[:, :, band_index]
    _, _, table = mesh.neighbours
    return np.abs(np.einsum("ki,kni->kn", c.conj(), c[table]))


# ----------------------------------------------------------------------------- the same band as a block source (consistency with the DFT path)


class TightBindingBand:
    """Band ``band_index`` of a tight-binding model through the same path: eigenvectors at the primary
    representatives only, unfolded with the model's P(g) (``symmetry_matrix``) and complex conjugation
    (real orbitals and hoppings), overlaps V_a†V_b (orthonormal orbitals, a Bloch basis periodic in k)."""

    def __init__(self, model, band_index: int, gap_tol: float = 1e-6) -> None:
        self.model = model
        self.space_group = model.space_group
        self.band_index = band_index
        self.gap_tol = gap_tol
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
        return tight_binding_level(self.model, mesh.k_conventional(m), self.band_index, self.gap_tol, vectors=blk)

    def dim(self, blk: np.ndarray) -> int:
        return int(blk.shape[1])
