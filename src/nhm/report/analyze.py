"""The main job: crystal -> DFT (GPAW) -> irreps of the Bloch states -> Krüger's search -> report.

``analyze`` does the calculation and returns a plain :class:`Analysis`; ``analysis_json``,
``write_json`` and :mod:`nhm.report.figures` turn it into output (calculation separate from I/O).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

from nhm.atomic import write_atomically
from nhm.bands.bloch import BlochLevel
from nhm.bands.dft import BandPath, DftParameters, band_path, bloch_states_at_points, run_scf
from nhm.crystal import Crystal, read_crystal
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position
from nhm.wannier.search import Level, SearchResult, search


@dataclass(frozen=True)
class Analysis:
    """Everything ``nhm analyze`` found for one crystal (energies in eV, absolute unless named *_rel)."""

    material: str
    crystal: Crystal
    parameters: DftParameters
    fermi_level: float
    levels: dict[str, list[BlochLevel]]  # per point of symmetry, ascending
    centres: tuple[WyckoffPosition, ...]
    result: SearchResult
    path: BandPath | None
    from_cache: bool
    notes: tuple[str, ...] = field(default=())


def wannier_centres(crystal: Crystal) -> tuple[WyckoffPosition, ...]:
    """The Wyckoff positions occupied by the atoms (one orbit each): the WF centres of the NHM."""
    seen: dict[str, WyckoffPosition] = {}
    for orbit in crystal.orbits:
        w = wyckoff_position(crystal.space_group, orbit.wyckoff_letter)
        seen.setdefault(w.label, w)
    return tuple(seen.values())


def analyze(
    material: str | Any,
    *,
    a: float | None = None,
    parameters: DftParameters = DftParameters(),
    window_eV: tuple[float, float] = (-6.0, 6.0),
    readings: Sequence[str] = ("R1", "R2"),
    kramers: bool = False,
    with_path: bool = True,
    npoints: int = 80,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    progress=None,
) -> Analysis:
    """Run the whole analysis of ``material`` (element symbol, structure file or ase.Atoms)."""
    crystal = read_crystal(material, a=a) if a is not None else read_crystal(material)
    scf = run_scf(crystal, parameters, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
    states = bloch_states_at_points(
        crystal, parameters, scf=scf, progress=progress, use_cache=use_cache, cache_dir=cache_dir
    )
    levels = {name: st.levels(crystal.space_group) for name, st in states.items()}
    path = (
        band_path(crystal, parameters, npoints, scf=scf, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
        if with_path
        else None
    )
    centres = wannier_centres(crystal)
    flat = [Level(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in levels.values() for lv in lvs]
    ef = scf.fermi_level_eV
    window, notes = _window_with_every_point(levels, ef, window_eV)
    result = search(
        flat, crystal.space_group, centres,
        fermi_level=ef, window=window, readings=tuple(readings), kramers=kramers,  # type: ignore[arg-type]
    )
    name = material if isinstance(material, str) else crystal.atoms.get_chemical_formula()
    return Analysis(
        str(name), crystal, parameters, ef, levels, centres, result, path, scf.from_cache, tuple(notes),
    )


WINDOW_STEP_EV = 0.5  # widening step when a point of symmetry has no level in the requested window


def _window_with_every_point(
    levels: dict[str, list[BlochLevel]], ef: float, window: tuple[float, float]
) -> tuple[tuple[float, float], list[str]]:
    """The requested window, widened symmetrically until every point of symmetry has a level in it."""
    lo, hi = window
    while any(not any(lo <= lv.energy - ef <= hi for lv in lvs) for lvs in levels.values()):
        if hi - lo > 100:
            break  # no levels at some point at all: search() reports it
        lo, hi = lo - WINDOW_STEP_EV, hi + WINDOW_STEP_EV
    notes = []
    if (lo, hi) != tuple(window):
        notes.append(
            f"search window widened from {window[0]:+g}…{window[1]:+g} eV to {lo:+g}…{hi:+g} eV so that every "
            "point of symmetry has a level in it"
        )
    return (lo, hi), notes


def analysis_json(an: Analysis) -> dict:
    """The JSON document of ``nhm analyze --json``."""
    ef = an.fermi_level
    sg = an.crystal.space_group
    return {
        "material": an.material,
        "space_group": sg,
        "international": an.crystal.international,
        "fermi_level_eV": ef,
        "parameters": an.parameters.as_dict(),
        "wannier_centres": [w.label for w in an.centres],
        "points": {
            k: [{"energy_eV": lv.energy - ef, "irrep": lv.irrep, "dimension": lv.dimension} for lv in lvs]
            for k, lvs in an.levels.items()
        },
        "points_of_symmetry": [p.as_dict() for p in points_of_symmetry(sg)],
        "window_eV": list(an.result.window),
        "superconducting_bands": [c.as_dict(ef) for c in an.result.superconducting],
        "usual_bands": [c.as_dict(ef) for c in an.result.usual],
        "notes": list(an.notes),
    }


def write_json(an: Analysis, path: str | os.PathLike[str]) -> None:
    write_atomically(path, (json.dumps(analysis_json(an), indent=2, ensure_ascii=False) + "\n").encode())
