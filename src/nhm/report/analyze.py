"""The main job: crystal -> DFT (GPAW) -> irreps at the points and along the lines -> connected
superconducting bands -> measures over the zone -> verdict.

``analyze`` does the calculation and returns a plain :class:`Analysis`; ``analysis_json``,
``write_json`` and :mod:`nhm.report.figures` turn it into output (calculation separate from I/O).
``analysis_from_external`` does the same on someone else's DFT output (points only: no lines).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from nhm.atomic import write_atomically
from nhm.bands.bloch import BlochLevel
from nhm.bands.dft import DftParameters, bloch_states_at_points, run_scf
from nhm.bands.zone import ZoneBands
from nhm.crystal import Crystal, read_crystal
from nhm.errors import InputError
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position
from nhm.wannier.connected import ConnectedSearch, LevelChoice, connected_search
from nhm.wannier.search import Level, SearchResult, search
from nhm.wannier.verdict import Criteria, MeasuredCandidate, Verdict, judge

if TYPE_CHECKING:
    from nhm.bands.external import ExternalBands

__all__ = [
    "Analysis",
    "analysis_from_external",
    "analysis_json",
    "analyze",
    "wannier_centres",
    "write_json",
]


@dataclass(frozen=True)
class Analysis:
    """Everything ``nhm analyze`` found for one crystal (energies in eV, absolute unless named *_rel).

    ``zone``/``search``/``verdict``: the traced band structure, the connected candidates and the
    verdict (None for external DFT output, which has the points of symmetry only; then
    ``points_only`` holds the untraced assemblies of levels).
    """

    material: str
    crystal: Crystal
    parameters: DftParameters
    fermi_level: float
    levels: dict[str, list[BlochLevel]]  # per point of symmetry, ascending
    centres: tuple[WyckoffPosition, ...]
    window: tuple[float, float]
    zone: ZoneBands | None
    search: ConnectedSearch | None
    verdict: Verdict | None
    points_only: SearchResult | None
    from_cache: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def formula(self) -> str:
        return self.crystal.atoms.get_chemical_formula(mode="metal", empirical=True)


def wannier_centres(crystal: Crystal, selection: Sequence[str] | None = None) -> tuple[WyckoffPosition, ...]:
    """The Wyckoff positions of the atoms (one orbit each): the WF centres of the NHM.

    ``selection``: Wyckoff labels or letters (``2a``, ``a``) or element symbols (``B``) naming which of
    the atom orbits carry Wannier functions (default: all). Unknown names raise InputError.
    """
    seen: dict[str, WyckoffPosition] = {}
    by_element: dict[str, list[str]] = {}
    for orbit in crystal.orbits:
        w = wyckoff_position(crystal.space_group, orbit.wyckoff_letter)
        seen.setdefault(w.label, w)
        by_element.setdefault(orbit.element, []).append(w.label)
    if not selection:
        return tuple(seen.values())
    chosen: dict[str, WyckoffPosition] = {}
    for item in selection:
        name = item.strip()
        labels = [lbl for lbl in seen if lbl == name or lbl.lstrip("0123456789") == name]
        labels = labels or by_element.get(name, [])
        if not labels:
            known = ", ".join([*seen, *by_element])
            raise InputError(f"--centres {name!r} names no atom orbit of this crystal (it has {known})")
        for lbl in labels:
            chosen.setdefault(lbl, seen[lbl])
    return tuple(chosen.values())


def analyze(
    material: str | Any,
    *,
    a: float | None = None,
    symprec: float | None = None,
    parameters: DftParameters = DftParameters(),
    window_eV: tuple[float, float] = (-6.0, 6.0),
    readings: Sequence[str] = ("R1", "R2"),
    kramers: bool = False,
    centres: Sequence[str] | None = None,
    criteria: Criteria = Criteria(),
    with_zone: bool = True,
    spacing: float | None = None,
    mesh: int | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    progress=None,
) -> Analysis:
    """Run the whole analysis of ``material`` (element symbol, structure file or ase.Atoms).

    ``window_eV``: levels (relative to E_F) the search may use, widened until every point has one.
    ``centres``: which atom orbits carry the Wannier functions (Wyckoff labels or elements; default
    all). ``with_zone=False`` skips the lines and the mesh (levels at the points only, no search).
    ``spacing``: distance of the samples on the lines (1/Å, 2π convention); ``mesh``: n of the zone
    mesh (default: the SCF's ``kmesh``). ``symprec``: spglib's tolerance in Å (default
    :data:`nhm.crystal.DEFAULT_SYMPREC`). The notes include the caveats of
    :func:`nhm.crystal.caveats.structure_notes` (higher symmetry at a looser tolerance, magnetic and heavy
    elements in a non-magnetic, scalar-relativistic calculation).
    """
    from nhm.bands.dft_zone import DEFAULT_SPACING, zone_bands
    from nhm.crystal.caveats import structure_notes

    crystal = read_crystal(material, a=a, **({} if symprec is None else {"symprec": symprec}))
    wcentres = wannier_centres(crystal, centres)
    from nhm.bands.resources import check_dft_memory

    check_dft_memory(crystal, parameters, spacing=DEFAULT_SPACING if spacing is None else spacing, mesh=mesh,
                     with_zone=with_zone, name=material if isinstance(material, str) else "")  # before GPAW starts
    scf = run_scf(crystal, parameters, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
    ef = scf.fermi_level_eV
    name = material if isinstance(material, str) else crystal.atoms.get_chemical_formula()
    zone = found = verdict = None
    notes: list[str] = []
    if with_zone:
        zone = zone_bands(
            crystal, parameters, spacing=DEFAULT_SPACING if spacing is None else spacing, mesh=mesh, scf=scf,
            progress=progress, use_cache=use_cache, cache_dir=cache_dir,
        )
        levels = zone.levels
        window, notes = _window_with_every_point(levels, ef, window_eV)
        flat = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in levels.values() for lv in lvs]
        found = connected_search(
            flat, zone.lines, crystal.space_group, wcentres,
            fermi_level=ef, window=window, readings=tuple(readings), kramers=kramers,  # type: ignore[arg-type]
        )
        verdict = judge(found, zone, criteria)
        notes.extend(found.notes)
    else:
        states = bloch_states_at_points(
            crystal, parameters, scf=scf, progress=progress, use_cache=use_cache, cache_dir=cache_dir
        )
        levels = {k: st.levels(crystal.space_group) for k, st in states.items()}
        window, notes = _window_with_every_point(levels, ef, window_eV)
    notes.extend(structure_notes(crystal))
    return Analysis(
        str(name), crystal, parameters, ef, levels, wcentres, window, zone, found, verdict, None, scf.from_cache, tuple(notes),
    )


WINDOW_STEP_EV = 0.5  # widening step when a point of symmetry has no level in the requested window


def _window_with_every_point(
    levels: dict[str, list[BlochLevel]], ef: float, window: tuple[float, float]
) -> tuple[tuple[float, float], list[str]]:
    """The requested window, widened symmetrically until every point of symmetry has a level in it."""
    lo, hi = window
    while any(not any(lo <= lv.energy - ef <= hi for lv in lvs) for lvs in levels.values()):
        if hi - lo > 100:
            break  # no levels at some point at all: the search reports it
        lo, hi = lo - WINDOW_STEP_EV, hi + WINDOW_STEP_EV
    notes = []
    if (lo, hi) != tuple(window):
        notes.append(
            f"search window widened from {window[0]:+g}…{window[1]:+g} eV to {lo:+g}…{hi:+g} eV so that every "
            "point of symmetry has a level in it"
        )
    return (lo, hi), notes


def analysis_from_external(
    bands: ExternalBands,
    *,
    fermi_level_eV: float | None = None,
    window_eV: tuple[float, float] = (-6.0, 6.0),
    readings: Sequence[str] = ("R1", "R2"),
    kramers: bool = False,
    material: str | None = None,
) -> Analysis:
    """Krüger's tests on external bands (points of symmetry only, so the candidates are not traced).

    ``fermi_level_eV`` overrides the file's (mandatory if it has none). The returned Analysis has no
    zone, default (meaningless) DftParameters, the untraced level assemblies in ``points_only`` and a
    note naming the source; ``material`` names it in the report (default: the path).
    """
    from nhm.crystal.caveats import structure_notes

    ef = bands.fermi_level_eV if fermi_level_eV is None else float(fermi_level_eV)
    if ef is None:
        raise InputError(f"{bands.path} records no Fermi level ({bands.code}): give it (--fermi, eV, the file's zero)")
    crystal = bands.crystal
    centres = wannier_centres(crystal)
    flat = [Level(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in bands.levels.values() for lv in lvs]
    window, notes = _window_with_every_point(bands.levels, ef, window_eV)
    result = search(
        flat, crystal.space_group, centres,
        fermi_level=ef, window=window, readings=tuple(readings), kramers=kramers,  # type: ignore[arg-type]
    )
    notes = [
        f"bands read from the {bands.code} calculation {bands.path} (through irrep; irreps by nhm)",
        "only the points of symmetry are known: the candidates are assemblies of levels, not traced along "
        "the lines (no width, filling or verdict over the zone)",
        *notes,
        *structure_notes(crystal),
    ]
    return Analysis(
        material or bands.path, crystal, DftParameters(), ef, bands.levels, centres, window, None, None, None,
        result, False, tuple(notes),
    )


# --- JSON --------------------------------------------------------------------------------------------


def candidate_json(mc: MeasuredCandidate, ef: float, zone: ZoneBands) -> dict:
    """One measured connected candidate as JSON (energies relative to E_F; branches named LINE-IRREP#copy)."""
    c, m = mc.candidate, mc.measures
    lines = {lb.name: lb for lb in zone.lines}
    return {
        "verdict": c.verdict,
        "reading": c.reading,
        "band": c.band_text(),
        "levels": [{"k": lv.k, "irrep": lv.irrep, "dimension": lv.dimension, "energy_eV": lv.energy - ef} for lv in c.levels],
        "site_representations": [list(s) for s in c.site_representations],
        "energy_range_eV": [m.energy_min - ef, m.energy_max - ef],
        "width_eV": m.width,
        "filling": m.filling,
        "dos_at_fermi_per_eV_spin_cell": m.dos_at_fermi,
        "half_filled": mc.half_filled,
        "narrow": mc.narrow,
        "passes": mc.passes,
        "branch_switches": [
            {"line": p.line, "s": sw.s, "energy_eV": sw.energy - ef, "from": sw.from_branch, "to": sw.to_branch}
            for p in c.paths for sw in p.switches
        ],
        "lines": [
            {
                "line": p.line,
                "representation": dict(p.representation),
                "branches": [[lines[p.line].branches[b].key for b in st] for st in _distinct(p.states)],
            }
            for p in c.paths
        ],
    }


def _distinct(states):
    out = []
    for st in states:
        if not out or out[-1] != st:
            out.append(st)
    return out


def analysis_json(an: Analysis) -> dict:
    """The JSON document of ``nhm analyze --json``."""
    ef = an.fermi_level
    sg = an.crystal.space_group
    doc: dict[str, Any] = {
        "material": an.material,
        "formula": an.formula,
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
        "window_eV": list(an.window),
        "notes": list(an.notes),
    }
    if an.verdict is not None and an.zone is not None and an.search is not None:
        v = an.verdict
        doc["verdict"] = {
            "verdict": v.verdict,
            "reason": v.reason,
            "criteria": v.criteria.as_dict(),
            "reference_width_eV": v.reference_width,
            "bands_at_fermi_level": [
                {"index": n, "energy_range_eV": [lo - ef, hi - ef], "width_eV": w} for n, lo, hi, w in v.fermi_bands
            ],
        }
        doc["lines_of_symmetry"] = [
            {**lb.line.as_dict(), "samples": len(lb.s), "crossings": len(lb.crossings)} for lb in an.zone.lines
        ]
        doc["mesh"] = an.zone.mesh.n
        doc["unconnected_level_choices"] = an.search.unconnected
        doc["superconducting_bands"] = [candidate_json(mc, ef, an.zone) for mc in v.superconducting]
        doc["usual_bands"] = [candidate_json(mc, ef, an.zone) for mc in v.usual]
    elif an.points_only is not None:
        doc["superconducting_bands"] = [{**c.as_dict(ef), "connected": None} for c in an.points_only.superconducting]
        doc["usual_bands"] = [{**c.as_dict(ef), "connected": None} for c in an.points_only.usual]
    return doc


def write_json(an: Analysis, path: str | os.PathLike[str]) -> None:
    write_atomically(path, (json.dumps(analysis_json(an), indent=2, ensure_ascii=False) + "\n").encode())
