"""Bloch states of a crystal (energies and plane-wave coefficients) at chosen points of a Γ-centred mesh.

One non-self-consistent GPAW run on the SCF density at the points asked for (typically one point per
star of the mesh and its time-reversed partner, the irreducible wedge; the rest of the mesh follows by
symmetry, :func:`nhm.bands.bloch.rotate_plane_waves`). Unlike the zone run of
:mod:`nhm.bands.dft_zone`, the wave functions are kept: cached (coefficients of the pseudo wave
functions on their cutoff sphere) under a hash of structure, parameters, GPAW version, bands and points.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from nhm.bands.dft import run_scf
from nhm.bands.dft_keys import open_cache, result_key
from nhm.bands.dft_parameters import EXTRA_CONVERGED_BANDS, DftParameters, Progress, ProgressEvent, ScfResult, default_nbands
from nhm.errors import InputError

__all__ = ["MeshStates", "bloch_states_on_mesh"]


@dataclass(frozen=True, eq=False)
class MeshStates:
    """Bloch states at ``points`` (M, 3) of the Γ-centred ``n``³ mesh: k = points / n (primitive
    reciprocal basis of the BCS primitive cell, components in [0, 1)).

    ``energies`` (M, nconv) eV absolute, ascending; ``g_vectors[i]`` (nG_i, 3) integers and
    ``coefficients[i]`` (nconv, nG_i) with ``psi_n(x) = sum_G c[n, G] exp(2 pi i (k + G).x)`` (PAW pseudo
    wave functions); ``nbands`` the bands analysed (the rest complete degenerate groups).
    """

    n: int
    points: np.ndarray
    energies: np.ndarray
    g_vectors: tuple[np.ndarray, ...]
    coefficients: tuple[np.ndarray, ...]
    fermi_level: float
    nbands: int

    def k_primitive(self, i: int) -> np.ndarray:
        return self.points[i] / self.n


def _check_entry(entry: Any, points: np.ndarray, nconv: int) -> None:
    e = np.asarray(entry.arrays["energies_eV"], dtype=float)
    if e.shape != (len(points), nconv) or not np.all(np.isfinite(e)):
        raise ValueError(f"energies of shape {e.shape}, ({len(points)}, {nconv}) requested")
    if not np.array_equal(np.asarray(entry.arrays["points"]), points):
        raise ValueError("other mesh points")
    for i in range(len(points)):
        g, c = entry.arrays[f"g_{i}"], entry.arrays[f"c_{i}"]
        if g.ndim != 2 or g.shape[1] != 3 or c.shape != (nconv, len(g)):
            raise ValueError(f"plane waves at point {i}: G {g.shape}, coefficients {c.shape}")
    if not np.isfinite(float(entry.metadata["fermi_level_eV"])):
        raise ValueError("no finite Fermi level")


def bloch_states_on_mesh(
    crystal: Any,
    params: DftParameters,
    n: int,
    points: np.ndarray,
    *,
    nbands: int | None = None,
    scf: ScfResult | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> MeshStates:
    """Energies and plane-wave coefficients at the mesh points ``points`` (integers j, k = j / n)."""
    from nhm.bands.dft_zone import nscf_in_parallel

    pts = np.asarray(points, dtype=int).reshape(-1, 3) % int(n)
    if int(n) < 1 or not len(pts):
        raise InputError("bloch_states_on_mesh needs a positive mesh size and at least one point")
    nb = default_nbands(crystal, params) if nbands is None else int(nbands)
    nconv = nb + EXTRA_CONVERGED_BANDS
    cache = open_cache(use_cache, cache_dir)
    key = result_key("mesh-states", crystal, params, nbands=nb, n=int(n), points=pts.tolist())
    entry = cache.load(key, check=lambda e: _check_entry(e, pts, nconv)) if cache is not None else None
    if entry is not None:
        if progress is not None:
            progress(ProgressEvent("cache", f"Bloch states on the {n}³ mesh read from the cache ({key[:12]})"))
        a = entry.arrays
        fermi = float(entry.metadata["fermi_level_eV"])
    else:
        if scf is None:
            scf = run_scf(crystal, params, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
        if progress is not None:
            progress(ProgressEvent("mesh", f"Bloch states at {len(pts)} points of the {n}³ mesh"))
        out = nscf_in_parallel(crystal, params, scf, pts / float(n), [True] * len(pts), nconv, progress)
        a = {"points": pts, "energies_eV": np.asarray(out["energies_eV"], dtype=float)}
        for i in range(len(pts)):
            a[f"g_{i}"] = np.asarray(out["g_vectors"][i], dtype=np.int32)
            a[f"c_{i}"] = np.asarray(out["coefficients"][i], dtype=np.complex128)
        fermi = scf.fermi_level_eV
        if cache is not None:
            cache.store(key, a, {"fermi_level_eV": fermi, "nbands": nb, "n": int(n)})
    return MeshStates(
        int(n), pts, np.asarray(a["energies_eV"], dtype=float),
        tuple(np.asarray(a[f"g_{i}"], dtype=int) for i in range(len(pts))),
        tuple(np.asarray(a[f"c_{i}"]) for i in range(len(pts))),
        fermi, nb,
    )
