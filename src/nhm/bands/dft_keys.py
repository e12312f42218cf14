"""Cache keys of nhm's GPAW results, and the cache a run uses.

A result is stored under a hash of its kind, the structure (the fingerprint of the BCS primitive cell), the
parameters, the GPAW version (read without importing GPAW) and whatever else the request holds
(:func:`result_key`); :func:`open_cache` is the cache of :mod:`nhm.bands.cache` unless the caller bypasses it
(``--no-cache``).
"""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any


def gpaw_version() -> str:
    """Installed GPAW version, read without importing GPAW ('' if it is not installed)."""
    try:
        return importlib.metadata.version("gpaw")
    except importlib.metadata.PackageNotFoundError:
        return ""


def atoms_of(crystal: Any):
    """The BCS primitive cell of an nhm Crystal (``primitive_atoms()``), or ase.Atoms taken as they are."""
    import ase

    if isinstance(crystal, ase.Atoms):
        return crystal
    return crystal.primitive_atoms()


def result_key(kind: str, crystal: Any, params: Any, **extra: Any) -> str:
    """The cache key of a GPAW result of ``kind`` for ``crystal`` with ``params`` (the run's
    :class:`~nhm.bands.dft_parameters.DftParameters`, by ``as_dict()``) and the request's ``extra``."""
    from nhm.bands.cache import cache_key, structure_fingerprint

    atoms = atoms_of(crystal)
    payload = {
        "structure": structure_fingerprint(atoms.cell[:], atoms.get_scaled_positions(wrap=True), atoms.numbers),
        "parameters": params.as_dict(),
        "gpaw": gpaw_version(),
        **extra,
    }
    return cache_key(kind, payload)


def open_cache(use_cache: bool, cache_dir: str | os.PathLike[str] | None):
    """The cache (None without ``use_cache``). An unwritable directory is warned about here, before the
    run (once per directory), and the run goes on: entries are still read, results not stored."""
    if not use_cache:
        return None
    from nhm.bands.cache import BandCache

    cache = BandCache(cache_dir)
    cache.writable()
    return cache
