"""Checks of numeric options: one readable InputError (the CLI prints it and exits 2) instead of nonsense.

Each check returns the value (converted to float or int) so it can be used inline::

    mesh = positive_int("--mesh", mesh)
    window = positive_finite("--window", window)

Beyond "finite" and "positive", every number is checked for physical sense before any work starts:
the limits below are named, each with the reason for its value, and a refusal names the limit (and,
where exceeding it can be legitimate, how to do so deliberately). Limits that depend on the machine
(memory) are estimates of what a run needs, compared with what the machine has (:func:`memory_budget`).
"""

from __future__ import annotations

import math
import numbers
import os

from nhm.errors import InputError

GIB = 2**30

# --- DFT (nhm analyze, nhm screen, nhm kspace on a material) -------------------------------------------

ECUT_MIN_EV = 100.0
"""Lowest plane-wave cutoff (eV). GPAW's softest PAW setups need about 250 eV to converge; below 100 eV the
basis cannot represent the pseudo wave functions at all (GPAW fails with a non-positive-definite overlap)."""

ECUT_MAX_EV = 3000.0
"""Highest plane-wave cutoff (eV). GPAW's hardest setups are converged well below 1500 eV; the basis grows
as E^3/2, so 3000 eV already costs 15 times the plane waves (and memory) of the default 500 eV."""

SMEARING_MIN_EV = 1e-4
"""Smallest Fermi–Dirac width kT (eV), about 1 K: sharper occupations are a step that no k-mesh resolves,
and the SCF of a metal does not converge."""

SMEARING_MAX_EV = 2.0
"""Largest Fermi–Dirac width kT (eV), about 23 000 K: hotter than any solid, it smears the occupations
over a whole band width and no band is 'at E_F' any more."""

KMESH_MAX = 100
"""Largest n of the n×n×n SCF k-mesh (also from --kdensity): 10⁶ k-points, far beyond what converges any
metal (n = 20–40); larger meshes only cost hours of SCF."""

KDENSITY_MAX = 100.0
"""Largest --kdensity (k-points per Å⁻¹, 2π convention). Converged metals need 3–10; the resulting mesh is
also held to KMESH_MAX once the crystal is known (this bound keeps that arithmetic finite)."""

MAXITER_MAX = 1000
"""Most SCF iterations (--maxiter): GPAW converges a metal in 20–60; an SCF still unconverged after 1000 is
oscillating and never will (more smearing or a smaller mixing step helps, more iterations do not)."""

ZONE_MESH_MAX = 128
"""Largest n of the zone mesh (--mesh of nhm analyze): 2·10⁶ points, whose unfolding tables alone take
about 3 kB per point (6 GB); width, filling and DOS are converged at n = 16–32."""

SPACING_MIN = 1e-3
"""Smallest distance between samples on the lines of symmetry (Å⁻¹, 2π convention). The lines of a cell of
a few Å are about 10 Å⁻¹ long in total: 10⁴ samples, each a k-point of the NSCF whose wave functions are
kept for labelling; the default is 0.08."""

ENERGY_AXIS_MAX_EV = 1000.0
"""Largest |--emin|, |--emax| of a band figure (eV from E_F): valence bands span less than 50 eV; beyond
1000 eV the axis shows nothing (and matplotlib cannot draw infinite limits)."""

SYMPREC_MAX = 1.0
"""Largest spglib tolerance (Å): half the shortest bond of any solid; a looser tolerance merges atoms of
different sites and reports a symmetry the crystal does not have."""

MEMORY_ENV = "NHM_MAX_MEMORY_GIB"
"""Environment variable that sets the memory budget of a run (GiB) deliberately, e.g. above the RAM of a
machine with ample swap, or below it on a shared node (default: the machine's RAM)."""

# --- the screen -----------------------------------------------------------------------------------------

WORKERS_PER_CORE_MAX = 4
"""Local Dask workers per core (--workers): each worker runs one single-threaded GPAW calculation, so more
than a few per core only queue and share memory. A larger cluster is a cluster of its own (--scheduler)."""

TIMEOUT_MAX_S = 30 * 24 * 3600.0
"""Longest --timeout of one crystal (s): 30 days, longer than any GPAW run of nhm; beyond, the number only
overflows the clocks that measure it."""


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {value!r}")
    return float(value)


def _show(value: float) -> str:
    return f"{value:g}"


def finite(name: str, value: object) -> float:
    """``value`` as a float; InputError if it is NaN or ±inf."""
    x = _number(name, value)
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {_show(x)}")
    return x


def positive_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError unless 0 < value < inf."""
    x = finite(name, value)
    if x <= 0:
        raise InputError(f"{name} must be positive, got {_show(x)}")
    return x


def nonnegative_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError unless 0 ≤ value < inf."""
    x = finite(name, value)
    if x < 0:
        raise InputError(f"{name} must not be negative, got {_show(x)}")
    return x


def nonzero_finite(name: str, value: object) -> float:
    """``value`` as a float; InputError if it is 0, NaN or ±inf."""
    x = finite(name, value)
    if x == 0:
        raise InputError(f"{name} must not be zero")
    return x


def positive_int(name: str, value: object) -> int:
    """``value`` as an int; InputError unless it is an integer ≥ 1 (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be a positive integer, got {value}")
    return int(value)


def at_most(name: str, value: float, limit: float, why: str, unit: str = "") -> float:
    """``value`` unless it exceeds ``limit``: then InputError naming the limit and ``why`` it is there."""
    if value > limit:
        raise InputError(f"{name} {_show(value)}{unit} exceeds the limit of {_show(limit)}{unit}: {why}")
    return value


def at_least(name: str, value: float, limit: float, why: str, unit: str = "") -> float:
    """``value`` unless it is below ``limit``: then InputError naming the limit and ``why`` it is there."""
    if value < limit:
        raise InputError(f"{name} {_show(value)}{unit} is below the limit of {_show(limit)}{unit}: {why}")
    return value


def dft_options(
    *,
    ecut: float,
    smearing: float,
    spacing: float,
    kmesh: int | None = None,
    kdensity: float | None = None,
    mesh: int | None = None,
    maxiter: int | None = None,
) -> None:
    """The DFT options of ``nhm analyze`` and ``nhm screen``, for sense and size, before any work.

    The memory of the whole run, which needs the crystal, is :func:`nhm.bands.resources.check_dft_memory`.
    """
    ecut = positive_finite("--ecut", ecut)
    at_least("--ecut", ecut, ECUT_MIN_EV, "no PAW setup is described by so few plane waves (GPAW's softest need ~250 eV)", " eV")
    at_most("--ecut", ecut, ECUT_MAX_EV, "every GPAW setup is converged far below, and the basis grows as E^3/2", " eV")
    smearing = positive_finite("--smearing", smearing)
    at_least("--smearing", smearing, SMEARING_MIN_EV, "kT below ~1 K is a step that no k-mesh resolves", " eV")
    at_most("--smearing", smearing, SMEARING_MAX_EV, f"kT = {SMEARING_MAX_EV:g} eV is ~23 000 K and smears a whole band", " eV")
    spacing = positive_finite("--spacing", spacing)
    at_least("--spacing", spacing, SPACING_MIN, "~10⁴ samples on the lines of symmetry, each an NSCF k-point", " 1/Å")
    if maxiter is not None:
        at_most("--maxiter", positive_int("--maxiter", maxiter), MAXITER_MAX,
                "an SCF unconverged after that many iterations oscillates (raise --smearing instead)")
    if kmesh is not None:
        kmesh_size(positive_int("--kmesh", kmesh))
    if kdensity is not None:
        kdensity = positive_finite("--kdensity", kdensity)
        at_most("--kdensity", kdensity, KDENSITY_MAX, "converged metals need 3–10 k-points per Å⁻¹", " per Å⁻¹")
    if mesh is not None:
        at_most("--mesh", positive_int("--mesh", mesh), ZONE_MESH_MAX,
                f"{ZONE_MESH_MAX}³ points already need ~6 GB for the zone's tables; width, filling and DOS converge at 16–32")


def kmesh_size(n: int | tuple[int, ...], source: str = "--kmesh") -> None:
    """The SCF mesh (n or n1×n2×n3; ``source`` says where it came from) within :data:`KMESH_MAX` per direction."""
    largest = max(n) if isinstance(n, tuple) else n
    if largest > KMESH_MAX:
        label = "×".join(map(str, n)) if isinstance(n, tuple) else f"{n}³"
        raise InputError(f"{source}: the SCF k-mesh {label} exceeds the limit of {KMESH_MAX} per direction: "
                         "10⁶ k-points, far beyond what converges a metal (n = 20–40)")


def energy_axis(name: str, value: float | None) -> float | None:
    """An energy limit of a figure (eV from E_F): finite and within ±:data:`ENERGY_AXIS_MAX_EV`."""
    if value is None:
        return None
    x = finite(name, value)
    if abs(x) > ENERGY_AXIS_MAX_EV:
        raise InputError(f"{name} {_show(x)} eV lies beyond ±{ENERGY_AXIS_MAX_EV:g} eV from E_F: valence bands span less than 50 eV")
    return x


def symprec(name: str, value: float) -> float:
    """spglib's tolerance (Å): positive, finite, at most :data:`SYMPREC_MAX`."""
    return at_most(name, positive_finite(name, value), SYMPREC_MAX, "a looser tolerance merges atoms of different sites", " Å")


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def workers(value: int) -> int:
    """--workers of a local cluster: at least 1, at most :data:`WORKERS_PER_CORE_MAX` per core."""
    n = positive_int("--workers", value)
    limit = WORKERS_PER_CORE_MAX * cores()
    if n > limit:
        raise InputError(
            f"--workers {_short_number(n)} exceeds the limit of {limit} ({WORKERS_PER_CORE_MAX} per core of this machine): "
            "each worker runs one GPAW calculation at a time; for more workers start a Dask cluster of your own and pass --scheduler"
        )
    return n


def timeout(value: float | None) -> float | None:
    """--timeout of a screen (s): positive, finite, at most :data:`TIMEOUT_MAX_S`."""
    if value is None:
        return None
    seconds = _number("--timeout", value)
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"--timeout must be a positive number of seconds, got {value}")
    return at_most("--timeout", seconds, TIMEOUT_MAX_S, "30 days, longer than any GPAW run of nhm", " s")


def _short_number(n: int) -> str:
    text = str(n)
    return text if len(text) <= 12 else f"{text[:3]}…({len(text)} digits)"


# --- memory ------------------------------------------------------------------------------------------------


def _meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (empty where there is none)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                name, _, rest = line.partition(":")
                out[name] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return out


def machine_memory() -> tuple[int, int]:
    """``(RAM, swap)`` of this machine in bytes (swap 0 if unknown)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        ram = _meminfo().get("MemTotal", 16 * GIB)
    return int(ram), _meminfo().get("SwapTotal", 0)


def memory_budget() -> tuple[float, str]:
    """``(bytes, description)`` a run may use: $NHM_MAX_MEMORY_GIB if set, else the memory this machine has
    available now (RAM not used by other processes: on a shared machine, more would push them out)."""
    text = os.environ.get(MEMORY_ENV)
    if text:
        try:
            gib = float(text)
        except ValueError:
            raise InputError(f"{MEMORY_ENV}={text!r} must be a number of GiB") from None
        if not (math.isfinite(gib) and gib > 0):
            raise InputError(f"{MEMORY_ENV}={text!r} must be a positive number of GiB")
        return gib * GIB, f"{MEMORY_ENV}={gib:g} GiB"
    available = _meminfo().get("MemAvailable")
    if available:
        return float(available), f"the {available / GIB:.3g} GiB of memory available on this machine"
    ram, _ = machine_memory()
    return float(ram), f"this machine's {ram / GIB:.3g} GiB of RAM"


def memory_cap(name: str, gib: float) -> float:
    """A memory limit given in GiB (``--max-memory``): positive, and at most the machine's RAM + swap."""
    gib = positive_finite(name, gib)
    ram, swap = machine_memory()
    if gib * GIB > ram + swap:
        raise InputError(
            f"{name} {_show(gib)} GiB is more than this machine has ({ram / GIB:.3g} GiB RAM + {swap / GIB:.3g} GiB swap): "
            "a run that needs it would be killed by the kernel, not finished"
        )
    return gib


def check_memory_need(what: str, need_bytes: float, hint: str) -> None:
    """InputError if ``need_bytes`` (an estimate) exceeds :func:`memory_budget`; ``hint`` says what to change."""
    budget, described = memory_budget()
    if need_bytes > budget:
        raise InputError(
            f"{what} needs an estimated {need_bytes / GIB:.3g} GiB of memory, more than {described}: {hint} "
            f"(or set {MEMORY_ENV} to allow more, deliberately)"
        )


__all__ = [
    "ECUT_MAX_EV", "ECUT_MIN_EV", "ENERGY_AXIS_MAX_EV", "GIB", "KDENSITY_MAX", "KMESH_MAX", "MAXITER_MAX", "MEMORY_ENV", "SMEARING_MAX_EV",
    "SMEARING_MIN_EV", "SPACING_MIN", "SYMPREC_MAX", "TIMEOUT_MAX_S", "WORKERS_PER_CORE_MAX", "ZONE_MESH_MAX", "at_least",
    "at_most", "check_memory_need", "cores", "dft_options", "energy_axis", "finite", "kmesh_size", "machine_memory",
    "memory_budget", "memory_cap", "nonnegative_finite", "nonzero_finite", "positive_finite", "positive_int", "symprec",
    "timeout", "workers",
]
