"""Parameters and results of nhm's GPAW runs, their progress reports, and the defaults taken from the crystal.

:class:`DftParameters` (plane waves up to 500 eV, PBE, a Γ-centred 12³ mesh, Fermi–Dirac 0.1 eV: the method of
:mod:`nhm.bands.dft`), :class:`ScfResult`, :class:`ProgressEvent` and a spinner that shows them
(:func:`rich_progress`). Defaults that depend on the crystal: the bands analysed (:func:`default_nbands`, from the
valence electrons of GPAW's PAW setups, read without importing GPAW) and a symmetric k mesh from a density
(:func:`kmesh_from_density`); :func:`check_setups` refuses an element without a setup before any run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nhm.bands.dft_keys import atoms_of, result_key
from nhm.errors import InputError, NhmError


EXTRA_CONVERGED_BANDS = 6  # above the requested bands: completes any degenerate group (dim <= 6)
EXTRA_COMPUTED_BANDS = 3  # above the converged ones: the topmost bands of a Davidson run converge slowly


class GpawMissingError(NhmError):
    """GPAW is not installed (scripts/setup.sh builds it)."""


@dataclass(frozen=True)
class DftParameters:
    """Parameters of a GPAW plane-wave calculation.

    ``mode_ecut_eV``: plane-wave cutoff (eV). ``xc``: exchange–correlation functional (GPAW/libxc
    name). ``kmesh``: n for an n×n×n Γ-centred Monkhorst–Pack mesh of the primitive cell, or
    (n1, n2, n3) (see :func:`kmesh_from_density`); a tuple of three equal n is stored as the int n, so
    that a cubic mesh has one cache key however it was given.
    ``smearing_eV``: Fermi–Dirac width kT (eV). ``nbands``: bands in the SCF (None: GPAW's default).
    ``maxiter``: SCF iterations before giving up. Convergence (GPAW's criteria and defaults):
    ``energy_tol_eV`` (eV per valence electron, last 3 iterations), ``density_tol`` (electrons per
    valence electron), ``eigenstates_tol`` (eV² per valence electron).
    """

    mode_ecut_eV: float = 500.0
    xc: str = "PBE"
    kmesh: int | tuple[int, int, int] = 12
    smearing_eV: float = 0.1
    nbands: int | None = None
    maxiter: int = 100
    energy_tol_eV: float = 5e-4
    density_tol: float = 1e-4
    eigenstates_tol: float = 4e-8

    def __post_init__(self) -> None:
        positive = {
            "mode_ecut_eV": self.mode_ecut_eV,
            "smearing_eV": self.smearing_eV,
            "energy_tol_eV": self.energy_tol_eV,
            "density_tol": self.density_tol,
            "eigenstates_tol": self.eigenstates_tol,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number, got {value!r}")
            object.__setattr__(self, name, float(value))  # 500 and 500.0 must give the same cache key
        kmesh = self.kmesh
        if isinstance(kmesh, list | tuple | np.ndarray):
            ns = tuple(kmesh)
            if len(ns) != 3 or not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in ns):
                raise InputError(f"kmesh must be a positive integer n or three of them (n1, n2, n3), got {kmesh!r}")
            ns = tuple(int(n) for n in ns)
            object.__setattr__(self, "kmesh", ns[0] if ns[0] == ns[1] == ns[2] else ns)
        elif not isinstance(kmesh, int) or isinstance(kmesh, bool) or kmesh < 1:
            raise InputError(f"kmesh must be a positive integer (n for an n×n×n mesh), got {kmesh!r}")
        if self.nbands is not None and (not isinstance(self.nbands, int) or self.nbands < 1):
            raise InputError(f"nbands must be a positive integer or None, got {self.nbands!r}")
        if not isinstance(self.maxiter, int) or self.maxiter < 1:
            raise InputError(f"maxiter must be a positive integer, got {self.maxiter!r}")
        if not isinstance(self.xc, str) or not self.xc.strip():
            raise InputError(f"xc must name a functional (e.g. 'PBE'), got {self.xc!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def kmesh_size(self) -> tuple[int, int, int]:
        """(n1, n2, n3) of the SCF mesh."""
        return (self.kmesh,) * 3 if isinstance(self.kmesh, int) else self.kmesh  # type: ignore[return-value]

    @property
    def kmesh_label(self) -> str:
        """"12³" or "12×12×7"."""
        return f"{self.kmesh}³" if isinstance(self.kmesh, int) else "×".join(map(str, self.kmesh))

    def hash(self, crystal: Any) -> str:
        """Cache key of an SCF of ``crystal`` (a Crystal or ase.Atoms) with these parameters."""
        return result_key("scf", crystal, self)


@dataclass(frozen=True)
class ProgressEvent:
    """A progress report from a running calculation.

    ``stage``: "scf", "nscf" (Bloch states), "zone" (lines and mesh) or "cache". ``iteration``: SCF
    iteration (1-based) or None. ``energy_eV``: current total energy (extrapolated to zero
    smearing). ``log10_density_error``, ``log10_eigenstates_error``: GPAW's convergence measures.
    """

    stage: str
    message: str
    iteration: int | None = None
    energy_eV: float | None = None
    log10_density_error: float | None = None
    log10_eigenstates_error: float | None = None


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class ScfResult:
    """A self-consistent GPAW calculation.

    ``fermi_level_eV`` and ``total_energy_eV`` (free energy extrapolated to zero smearing) in eV;
    ``converged`` is True unless ``run_scf(strict=False)`` returned an unconverged result;
    ``gpw`` holds GPAW's restart file (density and potential, no wave functions).
    """

    key: str
    fermi_level_eV: float
    total_energy_eV: float
    converged: bool
    iterations: int
    elapsed_s: float
    gpaw_version: str
    parameters: DftParameters
    from_cache: bool = False
    gpw: bytes = field(default=b"", repr=False, compare=False)


# --- defaults from the crystal and GPAW's PAW setups ------------------------------------------------


def default_nbands(crystal: Any, params: DftParameters = DftParameters()) -> int:
    """Bands analysed by default: the occupied ones plus max(4, 2 per atom) above them.

    Occupied = half the number of valence electrons of GPAW's PAW setups for ``params.xc``,
    rounded up (Nb: 13 electrons -> 7 occupied + 4 = 11 bands, up to ~9 eV above E_F).
    """
    atoms = atoms_of(crystal)
    nval = sum(valence_electrons(int(z), params.xc) for z in atoms.numbers)
    return int(np.ceil(nval / 2)) + max(4, 2 * len(atoms))


def kmesh_from_density(crystal: Any, density: float) -> int | tuple[int, int, int]:
    """The Γ-centred mesh n1×n2×n3 of the primitive cell with ``density`` points per Å⁻¹.

    As GPAW's ``kpts={"density": d}`` (ASE's ``kptdensity2monkhorstpack``): n_i = ceil(d |B_i|) with the
    reciprocal vectors B_i in Å⁻¹, 2π included. Then made symmetric: wherever an operation of the
    crystal's point group mixes two reciprocal axes, both get the larger n, so that the mesh is mapped
    onto itself (for cubic, rhombohedral and body-centred cells all n are equal). Returns an int if
    all n are equal (the key of a cubic mesh does not depend on how it was asked for).
    """
    import spglib

    if not (np.isfinite(density) and density > 0):
        raise InputError(f"--kdensity must be a positive number of k-points per Å⁻¹, got {density!r}")
    atoms = atoms_of(crystal)
    recip = 2 * np.pi * np.linalg.inv(np.asarray(atoms.cell[:], dtype=float)).T
    ns = [max(1, int(np.ceil(density * np.linalg.norm(b) - 1e-9))) for b in recip]
    ds = spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=1e-3)
    rotations = [] if ds is None else [np.rint(np.linalg.inv(r).T).astype(int) for r in ds.rotations]
    changed = True
    while changed:  # k' = R^-T k maps the grid onto itself iff Q_ij n_i / n_j is an integer for all i, j
        changed = False
        for q in rotations:
            for i in range(3):
                for j in range(3):
                    if q[i, j] and (q[i, j] * ns[i]) % ns[j]:
                        ns[i] = ns[j] = max(ns[i], ns[j])
                        changed = True
    return ns[0] if ns[0] == ns[1] == ns[2] else (ns[0], ns[1], ns[2])


def _setup_file(symbol: str, xc: str) -> Path:
    """GPAW's default PAW setup file of ``symbol`` for ``xc`` ($GPAW_SETUP_PATH first, then gpaw-data)."""
    dirs = [Path(d) for d in os.environ.get("GPAW_SETUP_PATH", "").split(os.pathsep) if d]
    try:
        import gpaw_data  # type: ignore[import-not-found]

        dirs.append(Path(gpaw_data.datapath()))
    except ImportError:
        if not dirs:
            raise GpawMissingError("GPAW's PAW setups (package gpaw-data) are not installed; run 'bash scripts/setup.sh'") from None
    functional = "PBE" if xc.upper() not in ("LDA", "PBE") else xc.upper()
    for base in dirs:
        candidates = sorted(base.glob(f"{symbol}.{functional}.gz")) or sorted(base.glob(f"{symbol}.*.{functional}.gz"))
        if candidates:
            return candidates[0]
    raise InputError(
        f"GPAW has no PAW dataset (setup) for {symbol} ({functional}) in {', '.join(map(str, dirs))}: nhm cannot compute "
        f"crystals containing {symbol} (set GPAW_SETUP_PATH to a directory with {symbol}.{functional}.gz to add one)"
    )


def check_setups(crystal: Any, params: DftParameters = DftParameters()) -> None:
    """InputError before any GPAW run if an element of ``crystal`` has no PAW setup."""
    from ase.data import chemical_symbols

    for z in sorted({int(z) for z in atoms_of(crystal).numbers}):
        _setup_file(chemical_symbols[z], params.xc)


def valence_electrons(z: int, xc: str) -> int:
    """Valence electrons of GPAW's default PAW setup (read from the setup file, no GPAW import)."""
    import gzip

    from ase.data import chemical_symbols

    setup = _setup_file(chemical_symbols[z], xc)
    with gzip.open(setup, "rt") as fh:
        head = fh.read(4000)
    m = re.search(r'valence="([0-9.]+)"', head)
    if not m:
        raise NhmError(f"cannot read the number of valence electrons from {setup}")
    return int(round(float(m.group(1))))


# --- progress on the terminal -----------------------------------------------------------------------


@contextmanager
def rich_progress(description: str = "GPAW", console: Any = None) -> Iterator[Progress]:
    """A progress callback that shows a rich spinner with the SCF iteration, energy and errors.

    Usage::

        with rich_progress("Nb") as report:
            scf = run_scf(crystal, progress=report)
    """
    from rich.console import Console
    from rich.status import Status

    status = Status(f"{description}: starting", console=console or Console(stderr=True))

    def report(event: ProgressEvent) -> None:
        parts = [f"{description}: {event.stage} {event.message}"]
        if event.energy_eV is not None:
            parts.append(f"E = {event.energy_eV:.5f} eV")
        if event.log10_density_error is not None:
            parts.append(f"log10(density error) = {event.log10_density_error:.1f}")
        if event.log10_eigenstates_error is not None:
            parts.append(f"log10(eigenstates error) = {event.log10_eigenstates_error:.1f}")
        status.update(", ".join(parts))

    with status:
        yield report
