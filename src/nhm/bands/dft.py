"""First-principles band structures with GPAW (plane waves, PAW): the runs nhm asks for, and the face of the backend.

Every calculation uses the BCS primitive cell ``crystal.primitive_atoms()``; k-points are given to
GPAW in its reciprocal basis, ``k_p = P^T k_c`` for a point with conventional coordinates ``k_c``.
Energies are in eV and absolute (GPAW's zero); each result carries the SCF Fermi level.

Method (defaults of :class:`DftParameters`): plane waves up to 500 eV, PBE, a Γ-centred
Monkhorst–Pack mesh of 12×12×12, Fermi–Dirac smearing of 0.1 eV (GPAW's default occupation for
bulk metals: physically a temperature, no band-structure artefacts, and the Fermi level is that of a
smooth distribution; Marzari–Vanderbilt would give slightly better total energies, which nhm does
not need). Bloch states and band paths are computed non-self-consistently from the SCF density
(GPAW's ``fixed_density``), with symmetry off so that every requested k is computed as given.

This module asks for the runs: the SCF (:func:`run_scf`) and the Bloch states at the points of symmetry
(:func:`bloch_states_at_points`); the lines of symmetry and the zone mesh are :mod:`nhm.bands.dft_zone`, states on a
mesh :mod:`nhm.bands.dft_mesh`. Every run goes through :func:`_run_worker` (looked up at call time, also by those
modules: tests replace it). The pieces: :mod:`nhm.bands.dft_parameters` (parameters, results, progress, defaults
from the PAW setups), :mod:`nhm.bands.dft_keys` (cache keys), :mod:`nhm.bands.dft_worker` (the worker process) and
:mod:`nhm.bands.dft_gpaw` (what runs inside it); their public names are importable from here as well.

Results are cached (:mod:`nhm.bands.cache`) under a hash of structure, parameters and GPAW version;
``use_cache=False`` bypasses the cache (``--no-cache``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nhm.bands.dft_keys import gpaw_version, open_cache, result_key
from nhm.bands.dft_parameters import (
    EXTRA_CONVERGED_BANDS,
    DftParameters,
    GpawMissingError,
    Progress,
    ProgressEvent,
    ScfResult,
    check_setups,
    default_nbands,
    kmesh_from_density,
    rich_progress,
)
from nhm.bands.dft_worker import base_request, logs_directory, run_worker, stop_workers
from nhm.errors import InputError

if TYPE_CHECKING:
    from nhm.bands.bloch import BlochLevel

__all__ = [
    "BlochStates",
    "DftParameters",
    "GpawMissingError",
    "Progress",
    "ProgressEvent",
    "ScfResult",
    "bloch_states_at_points",
    "check_setups",
    "default_nbands",
    "gpaw_version",
    "kmesh_from_density",
    "logs_directory",
    "rich_progress",
    "run_scf",
    "stop_workers",
]


@dataclass(frozen=True)
class BlochStates:
    """Bloch states at one point of symmetry from a non-self-consistent calculation.

    ``name``: BCS name; ``k_conventional`` (exact, conventional reciprocal basis) and
    ``k_primitive`` (the floats given to GPAW, primitive reciprocal basis). ``energies_eV``:
    ascending, absolute. ``g_vectors`` (nG, 3) integers in the primitive reciprocal basis and
    ``coefficients`` (nbands_computed, nG): ``psi_n(r) = sum_G c[n, G] exp(i (k + G).r)`` for the
    PAW pseudo wave function, within the cutoff sphere, not normalized (normalization is in the PAW
    overlap). ``nbands``: how many bands were asked for; more are computed so that the degenerate
    group containing the last requested band is complete.
    """

    name: str
    k_conventional: tuple[Fraction, Fraction, Fraction]
    k_primitive: np.ndarray
    energies_eV: np.ndarray
    fermi_level_eV: float
    g_vectors: np.ndarray
    coefficients: np.ndarray
    nbands: int

    def levels(self, space_group: int) -> list[BlochLevel]:
        """The levels of the lowest ``nbands`` bands with their BCS irreps (absolute energies, eV)."""
        from nhm.bands.bloch import levels_from_plane_waves

        return levels_from_plane_waves(
            space_group, self.name, self.k_primitive, self.energies_eV, self.g_vectors, self.coefficients, nbands=self.nbands
        )


# --- the worker -------------------------------------------------------------------------------------


def _run_worker(request: dict[str, Any], progress: Progress | None, stage: str) -> dict[str, Any]:
    """Run one GPAW task in a worker process (:func:`nhm.bands.dft_worker.run_worker`), after checking that GPAW is
    installed. Every GPAW run of nhm goes through this name, looked up at call time: tests replace it."""
    if not gpaw_version():
        raise GpawMissingError("GPAW is not installed in this environment; run 'bash scripts/setup.sh' to build it")
    return run_worker(request, progress, stage)


# --- the SCF ----------------------------------------------------------------------------------------


def _check_scf_entry(entry: Any) -> None:
    m = entry.metadata
    gpw = entry.arrays["gpw"]
    if gpw.dtype != np.uint8 or gpw.ndim != 1 or gpw.size == 0:
        raise ValueError(f"the SCF restart file is a {gpw.dtype} array of shape {gpw.shape}")
    for name in ("fermi_level_eV", "total_energy_eV", "elapsed_s"):
        if not np.isfinite(float(m[name])):
            raise ValueError(f"{name} is {m[name]!r}")
    int(m["iterations"]), bool(m["converged"]), str(m["gpaw_version"])


def run_scf(
    crystal: Any,
    params: DftParameters = DftParameters(),
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    strict: bool = True,
) -> ScfResult:
    """Self-consistent GPAW calculation of the BCS primitive cell of ``crystal``.

    ``crystal``: an ``nhm.crystal.Crystal`` (its ``primitive_atoms()`` are computed) or an
    ``ase.Atoms`` taken as is. ``progress`` receives a :class:`ProgressEvent` per SCF iteration.
    With ``use_cache`` a result stored under the same key (structure, parameters, GPAW version) is
    returned without computing. Non-convergence within ``params.maxiter`` iterations raises NhmError
    ("SCF did not converge in N iterations ..."), unless ``strict=False``: then an unconverged result
    (``converged=False``, never cached) is returned.
    """
    cache = open_cache(use_cache, cache_dir)
    key = result_key("scf", crystal, params)
    if cache is not None:
        entry = cache.load(key, check=_check_scf_entry)
        if entry is not None:
            m = entry.metadata
            if progress is not None:
                progress(ProgressEvent("cache", f"SCF read from the cache ({key[:12]})"))
            return ScfResult(
                key=key,
                fermi_level_eV=float(m["fermi_level_eV"]),
                total_energy_eV=float(m["total_energy_eV"]),
                converged=bool(m["converged"]),
                iterations=int(m["iterations"]),
                elapsed_s=float(m["elapsed_s"]),
                gpaw_version=str(m["gpaw_version"]),
                parameters=params,
                from_cache=True,
                gpw=entry.arrays["gpw"].tobytes(),
            )
    check_setups(crystal, params)
    request = {**base_request(crystal, params), "task": "scf", "strict": strict}
    out = _run_worker(request, progress, "SCF")
    result = ScfResult(
        key=key,
        fermi_level_eV=out["fermi_level_eV"],
        total_energy_eV=out["total_energy_eV"],
        converged=out["converged"],
        iterations=out["iterations"],
        elapsed_s=out["elapsed_s"],
        gpaw_version=gpaw_version(),
        parameters=params,
        gpw=out["gpw"],
    )
    if cache is not None and result.converged:
        meta = {k: getattr(result, k) for k in ("fermi_level_eV", "total_energy_eV", "converged", "iterations", "elapsed_s", "gpaw_version")}
        meta["parameters"] = params.as_dict()
        cache.store(key, {"gpw": np.frombuffer(result.gpw, dtype=np.uint8)}, meta)
    return result


# --- Bloch states at the points of symmetry ---------------------------------------------------------


def _points(crystal: Any, points: Sequence[str] | None) -> list[tuple[str, tuple[Fraction, Fraction, Fraction], tuple[Fraction, Fraction, Fraction]]]:
    from nhm.groups.irreps import normalize_k_name
    from nhm.groups.kpoints import points_of_symmetry

    sg = getattr(crystal, "space_group", None)
    if sg is None:
        raise InputError("Bloch states at the points of symmetry need an nhm Crystal (read_crystal), not bare Atoms")
    table = {p.name: p for p in points_of_symmetry(sg)}
    names = list(table) if points is None else [normalize_k_name(p) for p in points]
    for name in names:
        if name not in table:
            raise InputError(f"space group {sg} has no point of symmetry {name!r} (it has {', '.join(table)})")
    return [(n, table[n].conventional, table[n].primitive) for n in names]


def _check_bloch_entry(entry: Any, pts: list, nb: int) -> None:
    a = entry.arrays
    kpts = np.asarray(a["kpts"], dtype=float)
    want = np.array([[float(x) for x in kp] for _, _, kp in pts])
    if kpts.shape != want.shape or not np.allclose(kpts, want, atol=1e-8):
        raise ValueError(f"k-points of shape {kpts.shape}, {want.shape} requested")
    energies = np.asarray(a["energies_eV"], dtype=float)
    if energies.ndim != 2 or energies.shape[0] != len(pts) or energies.shape[1] < nb or not np.all(np.isfinite(energies)):
        raise ValueError(f"energies of shape {energies.shape} for {len(pts)} points and {nb} bands")
    for i in range(len(pts)):
        g, c = np.asarray(a[f"g_{i}"]), np.asarray(a[f"c_{i}"])
        if g.ndim != 2 or g.shape[1] != 3 or c.ndim != 2 or c.shape[1] != g.shape[0] or c.shape[0] < nb:
            raise ValueError(f"plane waves at point {i}: G {g.shape}, coefficients {c.shape}")
    if not np.isfinite(float(entry.metadata["fermi_level_eV"])):
        raise ValueError("no finite Fermi level")


def bloch_states_at_points(
    crystal: Any,
    params: DftParameters = DftParameters(),
    *,
    nbands: int | None = None,
    points: Sequence[str] | None = None,
    scf: ScfResult | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    save_gpw: str | os.PathLike[str] | None = None,
) -> dict[str, BlochStates]:
    """Energies and plane-wave coefficients of the Bloch states at the points of symmetry.

    ``crystal``: an ``nhm.crystal.Crystal``. ``points``: BCS names (default: all points of symmetry
    of its space group, the Bilbao maximal k-vectors). ``nbands``: bands to analyse (default
    :func:`default_nbands`); a few more are computed so that degenerate groups are complete. The
    SCF density comes from ``scf`` or :func:`run_scf` (cached). ``save_gpw``: also write GPAW's
    restart file with wave functions (mode="all") there, e.g. for the program ``irrep`` (this
    bypasses the cache, as the file must be produced).
    Returns ``{name: BlochStates}`` in the order of the points.
    """
    pts = _points(crystal, points)
    nb = default_nbands(crystal, params) if nbands is None else int(nbands)
    if nb < 1:
        raise InputError(f"nbands must be positive, got {nbands!r}")
    nconv = nb + EXTRA_CONVERGED_BANDS
    cache = open_cache(use_cache and save_gpw is None, cache_dir)
    key = result_key("bloch", crystal, params, nbands=nb, points=[(n, [str(x) for x in kc]) for n, kc, _ in pts])
    if cache is not None:
        entry = cache.load(key, check=lambda e: _check_bloch_entry(e, pts, nb))
        if entry is not None:
            if progress is not None:
                progress(ProgressEvent("cache", f"Bloch states read from the cache ({key[:12]})"))
            return _bloch_from_arrays(pts, entry.arrays, float(entry.metadata["fermi_level_eV"]), nb)
    if scf is None:
        scf = run_scf(crystal, params, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
    kpts = np.array([[float(x) for x in kp] for _, _, kp in pts])
    request = {
        **base_request(crystal, params),
        "task": "nscf",
        "stage": "nscf",
        "gpw_bytes": scf.gpw,
        "kpts": kpts,
        "nbands_converged": nconv,
        "maxiter": params.maxiter,
        "wavefunctions": True,
        "ecut": params.mode_ecut_eV,
        "save_gpw": None if save_gpw is None else str(Path(save_gpw).resolve()),
    }
    out = _run_worker(request, progress, "non-self-consistent")
    arrays: dict[str, np.ndarray] = {"kpts": kpts, "energies_eV": out["energies_eV"]}
    for i in range(len(pts)):
        arrays[f"g_{i}"] = out["g_vectors"][i]
        arrays[f"c_{i}"] = out["coefficients"][i]
    if cache is not None:
        cache.store(key, arrays, {"fermi_level_eV": scf.fermi_level_eV, "points": [n for n, _, _ in pts], "nbands": nb})
    return _bloch_from_arrays(pts, arrays, scf.fermi_level_eV, nb)


def _bloch_from_arrays(pts, arrays: dict[str, np.ndarray], fermi: float, nb: int) -> dict[str, BlochStates]:
    out: dict[str, BlochStates] = {}
    for i, (name, kc, _) in enumerate(pts):
        out[name] = BlochStates(
            name=name,
            k_conventional=kc,
            k_primitive=np.asarray(arrays["kpts"][i], dtype=float),
            energies_eV=np.asarray(arrays["energies_eV"][i], dtype=float),
            fermi_level_eV=fermi,
            g_vectors=np.asarray(arrays[f"g_{i}"], dtype=int),
            coefficients=np.asarray(arrays[f"c_{i}"]),
            nbands=nb,
        )
    return out


if __name__ == "__main__":  # a worker process (nhm.bands.dft_worker starts it): python -m nhm.bands.dft WORKDIR
    from nhm.bands.dft_gpaw import worker_main

    sys.exit(worker_main(sys.argv[1]))
