"""``nhm analyze`` as one pipeline for the command line and for Python: the options checked before anything
long starts, then the structure, the DFT run (GPAW, or someone else's output with ``from_dft``), the search
and the verdict.

:func:`analyze_request` checks every option and returns an :class:`AnalyzeRequest`; :func:`run_request` runs
it and returns the :class:`nhm.report.analyze.Analysis`. :func:`nhm.api.analyze` does both;
``nhm analyze`` (:mod:`nhm.cli.analyze`) checks its outputs in between and prints what the hooks report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nhm.crystal import DEFAULT_SYMPREC
from nhm.errors import InputError
from nhm.report.hooks import QUIET, Hooks

if TYPE_CHECKING:
    from nhm.crystal import Crystal
    from nhm.report.analyze import Analysis
    from nhm.wannier.verdict import Criteria

__all__ = ["OPTIONS", "READINGS", "AnalyzeRequest", "analyze_request", "checked_options", "readings_of", "run_request", "split_names"]

READINGS = ("R1", "R2", "both")


def readings_of(reading: str, option: str = "--reading") -> tuple[str, ...]:
    """``("R1", "R2")`` for ``"both"``, else ``(reading,)``; InputError for anything else."""
    if reading not in READINGS:
        raise InputError(f"{option} must be R1, R2 or both, got {reading!r}")
    return ("R1", "R2") if reading == "both" else (reading,)


def split_names(items: str | Sequence[str] | None) -> tuple[str, ...]:
    """``["2a,4b", "B"]`` or ``"2a, B"`` -> ``("2a", "4b", "B")`` (repeatable, comma-separated options)."""
    if items is None:
        return ()
    if isinstance(items, str):
        items = [items]
    return tuple(c.strip() for item in items for c in item.split(",") if c.strip())


@dataclass(frozen=True)
class AnalyzeRequest:
    """A checked ``nhm analyze`` request (the options of :func:`nhm.api.analyze`, as the run needs them)."""

    material: Any  # an element symbol, a structure file, or ase.Atoms
    a: float | None
    kmesh: int | None
    kdensity: float | None
    maxiter: int
    ecut: float
    xc: str
    smearing: float
    window: float | None
    readings: tuple[str, ...]
    kramers: bool
    centres: tuple[str, ...]
    criteria: Criteria
    spacing: float
    mesh: int | None
    symprec: float
    from_dft: str | None
    fermi: float | None
    nbands: int | None
    use_cache: bool

    @property
    def name(self) -> str:
        """The material as the messages name it."""
        return self.material if isinstance(self.material, str) else self.material.get_chemical_formula()


OPTIONS = (
    "a", "kmesh", "kdensity", "maxiter", "ecut", "xc", "smearing", "window", "reading", "kramers", "centres", "filling_min",
    "filling_max", "width_factor", "width_reference", "spacing", "mesh", "symprec", "from_dft", "fermi", "nbands", "use_cache",
)
"""The options of ``nhm analyze`` as :func:`nhm.api.analyze` names them (its signature holds their defaults)."""


def checked_options(options: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``options`` checked to be exactly ``names`` (a programming error otherwise)."""
    if set(options) != set(names):
        raise TypeError(f"options {sorted(set(options) ^ set(names))} are unknown or missing")
    return options


def analyze_request(material: Any, options: dict[str, Any]) -> AnalyzeRequest:
    """Every option (:data:`OPTIONS`, all of them, by name) checked before anything long starts (InputError naming the
    option as the command line spells it, and its limit)."""
    from nhm.validate import dft_options, positive_finite, positive_int, symprec as check_symprec
    from nhm.wannier.verdict import Criteria

    o = checked_options(options, OPTIONS)
    a, kmesh, kdensity, maxiter, ecut, smearing = o["a"], o["kmesh"], o["kdensity"], o["maxiter"], o["ecut"], o["smearing"]
    window, reading, spacing, mesh, symprec = o["window"], o["reading"], o["spacing"], o["mesh"], o["symprec"]
    from_dft, fermi, nbands = o["from_dft"], o["fermi"], o["nbands"]
    readings = readings_of(reading)
    for name, value in (("--spacing", spacing), ("--ecut", ecut), ("--smearing", smearing), ("--symprec", symprec)):
        positive_finite(name, value)
    if window is not None:
        positive_finite("--window", window)
    if a is not None:
        positive_finite("--a", a)
    positive_int("--maxiter", maxiter)
    if kmesh is not None and kdensity is not None:
        raise InputError("give either --kmesh or --kdensity, not both")
    if kmesh is not None:
        positive_int("--kmesh", kmesh)
    if kdensity is not None:
        positive_finite("--kdensity", kdensity)
    if mesh is not None and positive_int("--mesh", mesh) < 2:
        raise InputError(f"--mesh must be at least 2 (points per direction of the zone mesh), got {mesh}")
    if from_dft is None and mesh is None and kmesh is not None and kmesh < 2:
        raise InputError(f"the zone mesh is --kmesh {kmesh} unless --mesh is given, and needs at least 2 points per direction: add --mesh N")
    if (fermi is not None or nbands is not None) and from_dft is None:
        raise InputError("--fermi and --nbands apply to --from-dft only")
    if nbands is not None:
        positive_int("--nbands", nbands)
    if fermi is not None and not math.isfinite(fermi):
        raise InputError(f"--fermi must be a finite energy in eV, got {fermi}")
    dft_options(ecut=ecut, smearing=smearing, spacing=spacing, kmesh=kmesh, kdensity=kdensity, mesh=mesh, maxiter=maxiter)
    check_symprec("--symprec", symprec)
    criteria = Criteria(o["filling_min"], o["filling_max"], o["width_factor"], o["width_reference"])
    return AnalyzeRequest(
        material, a, kmesh, kdensity, maxiter, ecut, o["xc"], smearing, window, readings, o["kramers"], split_names(o["centres"]),
        criteria, spacing, mesh, symprec, from_dft, fermi, nbands, o["use_cache"],
    )


def run_request(
    req: AnalyzeRequest, hooks: Hooks = QUIET, on_crystal: Callable[[Crystal], None] | None = None,
) -> tuple[Analysis, tuple[str, ...]]:
    """Run ``req``: ``(Analysis, the structure's caveats already given to hooks.warn)``.

    ``on_crystal(crystal)`` is called once the structure is read, before any DFT run (the command line checks
    the names of its figure files there)."""
    from nhm.crystal import read_crystal
    from nhm.crystal.caveats import structure_notes

    if req.from_dft is not None:
        from nhm.bands.external import parse_from_dft, read_external, require_irrep
        from nhm.report.analyze import analysis_from_external

        code, dft_path = parse_from_dft(req.from_dft)
        require_irrep()
        structure = read_crystal(req.material, a=req.a, symprec=req.symprec)
        warned = tuple(structure_notes(structure))
        for note in warned:
            hooks.warn(note)
        with hooks.status(f"reading the {code} calculation {dft_path} (irrep)"):
            bands = read_external(code, dft_path, structure=structure, nbands=req.nbands,
                                  ecut_eV=req.ecut if code == "wannier90" else None, symprec=req.symprec)
        an = analysis_from_external(
            bands, fermi_level_eV=req.fermi, window_eV=(-6.0, 6.0) if req.window is None else (-req.window, req.window),
            readings=req.readings, kramers=req.kramers, material=req.material if isinstance(req.material, str) else None,
        )
        return an, warned
    from nhm.bands.dft import DftParameters, check_setups, kmesh_from_density
    from nhm.report.analyze import analyze
    from nhm.validate import kmesh_size

    crystal = read_crystal(req.material, a=req.a, symprec=req.symprec)  # read again by analyze: cheap, and named errors early
    if on_crystal is not None:
        on_crystal(crystal)
    kgrid = kmesh_from_density(crystal, req.kdensity) if req.kdensity is not None else 12 if req.kmesh is None else req.kmesh
    kmesh_size(kgrid, f"--kdensity {req.kdensity:g}" if req.kdensity is not None else "--kmesh")
    params = DftParameters(mode_ecut_eV=req.ecut, xc=req.xc, kmesh=kgrid, smearing_eV=req.smearing, maxiter=req.maxiter)
    check_setups(crystal, params)
    warned = tuple(structure_notes(crystal))
    for note in warned:
        hooks.warn(note)
    with hooks.progress(req.name) as report:
        an = analyze(
            req.material, a=req.a, symprec=req.symprec, parameters=params, window_eV=req.window, readings=req.readings,
            kramers=req.kramers, centres=req.centres or None, criteria=req.criteria, spacing=req.spacing, mesh=req.mesh,
            use_cache=req.use_cache, progress=report,
        )
    return an, warned
