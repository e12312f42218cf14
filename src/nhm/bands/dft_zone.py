"""A GPAW band structure over the whole zone: labelled states along every line of symmetry, the levels
at the points of symmetry, and energies on a Γ-centred mesh, from one non-self-consistent run on the
SCF density (one run: the levels at the points and the ends of the branches come out of the same
diagonalization, and one GPAW start is saved).

Along the lines the wave functions are kept long enough to label every state by its line irrep (the
plane-wave traces of :mod:`nhm.bands.bloch` at each exact sample k); on the mesh only the energies
of the irreducible wedge are computed and unfolded (:mod:`nhm.bands.zone`). Cached under a hash of
structure, parameters, GPAW version, bands, line samples and mesh; the cache holds energies and
labels only (no wave functions).
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import numpy as np

from nhm.bands import dft as _dft  # the worker is looked up at call time (tests replace it)
from nhm.bands.bloch import BlochLevel, levels_from_plane_waves, operations_at, traces_on_plane_waves
from nhm.bands.dft import run_scf
from nhm.bands.dft_keys import open_cache, result_key
from nhm.bands.dft_parameters import EXTRA_CONVERGED_BANDS, DftParameters, Progress, ProgressEvent, ScfResult, default_nbands
from nhm.bands.dft_worker import base_request
from nhm.bands.lines import label_line_states, line_bands, line_samples
from nhm.bands.zone import ZoneBands, irreducible_mesh
from nhm.errors import InputError
from nhm.groups.kpoints import conventional_to_primitive_k, points_of_symmetry
from nhm.groups.lines import LineOfSymmetry, lines_of_symmetry

__all__ = ["DEFAULT_SPACING", "ZoneBands", "crystal_metric", "zone_bands"]

DEFAULT_SPACING = 0.08  # Å⁻¹ (2π convention, as ASE and GPAW print k): distance between samples on a line; nhm analyze's default
LABELS_VERSION = 2  # in the cache key: bump when the naming of line irreps changes


def crystal_metric(crystal: Any) -> np.ndarray:
    """Conventional reciprocal vectors (rows, Cartesian, 1/Å with 2π) of an nhm Crystal."""
    return 2 * np.pi * np.linalg.inv(np.asarray(crystal.lattice, dtype=float)).T


def _samples(lines: tuple[LineOfSymmetry, ...], spacing: float) -> list[tuple[Fraction, ...]]:
    return [line_samples(ln, spacing / (2 * np.pi)) for ln in lines]


def zone_bands(
    crystal: Any,
    params: DftParameters = DftParameters(),
    *,
    spacing: float = DEFAULT_SPACING,
    mesh: int | None = None,
    nbands: int | None = None,
    scf: ScfResult | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ZoneBands:
    """Lines of symmetry (labelled states) and a Γ-centred ``mesh``³ (default: the SCF's k mesh)."""
    if not (np.isfinite(spacing) and spacing > 0):
        raise InputError(f"line sample spacing must be a positive number of 1/Å, got {spacing!r}")
    sg = crystal.space_group
    b = crystal_metric(crystal)
    lines = lines_of_symmetry(sg, (b @ b.T) / (2 * np.pi) ** 2)
    samples = _samples(lines, spacing)
    n_mesh = max(params.kmesh_size) if mesh is None else int(mesh)  # a non-cubic SCF mesh: its largest n
    if n_mesh < 2:
        raise InputError(f"the zone mesh needs at least 2 points per direction, got {n_mesh}")
    zmesh = irreducible_mesh(sg, n_mesh)
    nb = default_nbands(crystal, params) if nbands is None else int(nbands)
    nconv = nb + EXTRA_CONVERGED_BANDS
    cell = np.asarray(crystal.primitive_atoms().cell[:], dtype=float)

    line_k: list[tuple] = []  # exact conventional k of every sample
    for ln, ss in zip(lines, samples):
        for s in ss:
            line_k.append(tuple(a + s * (e - a) for a, e in zip(ln.k_start, ln.k_end)))
    kp_lines = np.array([[float(x) for x in conventional_to_primitive_k(sg, k)] for k in line_k])
    points = points_of_symmetry(sg)
    kp_points = np.array([[float(x) for x in p.primitive] for p in points])
    kpts = np.vstack([kp_lines, kp_points, zmesh.kpts_primitive])
    nl, npt = len(kp_lines), len(kp_points)

    cache = open_cache(use_cache, cache_dir)
    key = result_key("zone", crystal, params, nbands=nb, kpts=np.round(kpts, 10), lines=[ln.name for ln in lines], labels=LABELS_VERSION)
    entry = cache.load(key, check=lambda e: _check_entry(e, len(kpts), nconv, nl, points)) if cache is not None else None
    if entry is not None:
        if progress is not None:
            progress(ProgressEvent("cache", f"bands over the zone read from the cache ({key[:12]})"))
        energies = np.asarray(entry.arrays["energies_eV"], dtype=float)
        labels = [tuple(x) for x in entry.metadata["labels"]]
        fermi = float(entry.metadata["fermi_level_eV"])
        levels = {k: [BlochLevel(*lv) for lv in lvs] for k, lvs in entry.metadata["levels"].items()}
    else:
        if scf is None:
            scf = run_scf(crystal, params, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
        mask = [True] * (nl + npt) + [False] * (len(kpts) - nl - npt)
        out = nscf_in_parallel(crystal, params, scf, kpts, mask, nconv, progress)
        energies = np.asarray(out["energies_eV"], dtype=float)
        fermi = scf.fermi_level_eV
        if progress is not None:
            progress(ProgressEvent("zone", f"labelling the states at {nl} k-points on {len(lines)} lines of symmetry"))
        labels = []
        for i, kc in enumerate(line_k):
            ln = lines[_line_of(i, samples)]
            ops = operations_at(sg, kc, ln.little_group().indices, ln.name)
            g, c = out["g_vectors"][i], out["coefficients"][i]

            def traces(start: int, stop: int, g=g, c=c, ops=ops, i=i) -> np.ndarray:
                return traces_on_plane_waves(ops, kp_lines[i], g, c[start:stop])

            labels.append(label_line_states(ln, np.array([float(x) for x in kc]), energies[i], traces, nbands=nb))
        levels = {
            p.name: levels_from_plane_waves(
                sg, p.name, kp_points[j], energies[nl + j], out["g_vectors"][nl + j], out["coefficients"][nl + j], nbands=nb
            )
            for j, p in enumerate(points)
        }
        if cache is not None:
            meta = {
                "fermi_level_eV": fermi,
                "labels": [list(x) for x in labels],
                "levels": {k: [[lv.k, lv.energy, lv.irrep, lv.dimension] for lv in lvs] for k, lvs in levels.items()},
            }
            cache.store(key, {"energies_eV": energies}, meta)
    line_list = []
    start = 0
    for ln, ss in zip(lines, samples):
        stop = start + len(ss)
        line_list.append(line_bands(ln, np.array([float(s) for s in ss]), energies[start:stop, :nconv], labels[start:stop]))
        start = stop
    mesh_e = energies[nl + npt:][zmesh.to_irreducible]
    return ZoneBands(fermi, nb, tuple(line_list), zmesh, mesh_e, b, cell, sg, levels)


WAVEFUNCTION_COST = 1.25  # a k-point whose wave functions are extracted costs this many plain ones (measured, Nb)


def _zone_workers_allowed() -> int:
    try:
        return max(1, int(os.environ.get("NHM_ZONE_WORKERS", "2")))
    except ValueError:
        return 2


def nscf_in_parallel(crystal, params, scf, kpts, mask, nconv, progress) -> dict:
    """One non-self-consistent GPAW run per core (at most two), on contiguous chunks of equal cost: the bands
    (``nconv`` converged) at ``kpts`` (primitive) from the SCF density of ``scf``, with the plane-wave coefficients
    where ``mask`` is True. Returns the worker's result (``energies_eV``, ``g_vectors``, ``coefficients``) joined.

    Each GPAW worker is single-threaded (see :mod:`nhm.bands.dft_worker`), so two of them use both cores of
    a two-core machine; the chunks are joined in order. The environment variable ``NHM_ZONE_WORKERS``
    lowers the number (``nhm screen`` sets it to 1: there the crystals share the cores).
    """
    workers = max(1, min(2, os.cpu_count() or 1, len(kpts), _zone_workers_allowed()))
    cost = np.cumsum([WAVEFUNCTION_COST if m else 1.0 for m in mask])
    cuts = [0] + [int(np.searchsorted(cost, cost[-1] * (j + 1) / workers)) + 1 for j in range(workers - 1)] + [len(kpts)]
    chunks = [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]

    def run(chunk: tuple[int, int]) -> dict:
        a, b = chunk
        request = {
            **base_request(crystal, params),
            "task": "nscf",
            "stage": "zone",
            "gpw_bytes": scf.gpw,
            "kpts": kpts[a:b],
            "nbands_converged": nconv,
            "maxiter": params.maxiter,
            "wavefunctions": mask[a:b],
            "ecut": params.mode_ecut_eV,
        }
        return _dft._run_worker(request, progress, "zone")

    if len(chunks) == 1:
        return run(chunks[0])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        parts = list(pool.map(run, chunks))
    return {
        "energies_eV": np.vstack([p["energies_eV"] for p in parts]),
        "g_vectors": [g for p in parts for g in p["g_vectors"]],
        "coefficients": [c for p in parts for c in p["coefficients"]],
    }


def _check_entry(entry, nk: int, nconv: int, nl: int, points) -> None:
    """ValueError/KeyError/TypeError if a cached zone entry does not fit the request (it is then recomputed)."""
    energies = np.asarray(entry.arrays["energies_eV"], dtype=float)
    if energies.shape != (nk, nconv) or not np.all(np.isfinite(energies)):
        raise ValueError(f"energies of shape {energies.shape}, ({nk}, {nconv}) requested")
    if len(entry.metadata["labels"]) != nl:
        raise ValueError(f"{len(entry.metadata['labels'])} labelled line samples, {nl} requested")
    if set(entry.metadata["levels"]) != {p.name for p in points}:
        raise ValueError("levels at other points of symmetry")
    for lvs in entry.metadata["levels"].values():
        [BlochLevel(*lv) for lv in lvs]
    if not np.isfinite(float(entry.metadata["fermi_level_eV"])):
        raise ValueError("no finite Fermi level")


def _line_of(i: int, samples: list[tuple[Fraction, ...]]) -> int:
    for n, ss in enumerate(samples):
        if i < len(ss):
            return n
        i -= len(ss)
    raise IndexError(i)
