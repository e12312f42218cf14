"""The main job: crystal -> DFT (GPAW) -> irreps at the points and along the lines -> connected
superconducting bands -> measures over the zone -> verdict.

``analyze`` does the calculation and returns a plain :class:`Analysis`; ``analysis_json``,
``write_json`` and :mod:`nhm.report.figures` turn it into output (calculation separate from I/O).
``analysis_from_external`` does the same on someone else's DFT output (points only: no lines).
"""

from __future__ import annotations

import json
import os

import numpy as np
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from nhm.atomic import write_atomically
from nhm.bands.bloch import BlochLevel
from nhm.bands.dft import DftParameters, bloch_states_at_points, run_scf
from nhm.bands.zone import BandMeasures, SearchRange, ZoneBands
from nhm.crystal import Crystal, read_crystal
from nhm.errors import InputError
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position, wyckoff_positions
from nhm.wannier.connected import ConnectedCandidate, ConnectedSearch, LevelChoice, connected_search
from nhm.wannier.points_only import PointsOnlySearch, points_only_search
from nhm.wannier.verdict import WIDTH_REFERENCES, CandidateBand, Criteria, Verdict, WidthReferences, judge

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
    window: tuple[float, float]  # the levels searched, eV relative to E_F (the search range, narrowed by --window)
    zone: ZoneBands | None
    search: ConnectedSearch | None
    verdict: Verdict | None
    points_only: PointsOnlySearch | None
    from_cache: bool
    notes: tuple[str, ...] = field(default=())
    search_range: SearchRange | None = None  # what the bands asked for, before any --window
    excluded_levels: tuple[BlochLevel, ...] = field(default=())  # levels in the search range that --window cut

    @property
    def formula(self) -> str:
        return self.crystal.atoms.get_chemical_formula(mode="metal", empirical=True)


def wannier_centres(crystal: Crystal, selection: Sequence[str] | None = None) -> tuple[WyckoffPosition, ...]:
    """The Wyckoff positions that carry the Wannier functions (one orbit each).

    Default: the atoms' positions (the NHM's centres). ``selection``: Wyckoff labels or letters of the space
    group (``2a``, ``a``, ``4b``), occupied or empty — bond centres and interstitial sites are legitimate
    centres of single-band Wannier functions — or element symbols (``B``) naming the atom orbits of that
    element. Unknown names raise InputError.
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
        if name in by_element:
            for lbl in by_element[name]:
                chosen.setdefault(lbl, seen[lbl])
            continue
        try:
            w = wyckoff_position(crystal.space_group, name)
        except InputError:
            raise InputError(
                f"--centres {name!r} is neither a Wyckoff position of space group {crystal.space_group} "
                f"({', '.join(p.label for p in wyckoff_positions(crystal.space_group))}) nor an element of the crystal "
                f"({', '.join(by_element)})"
            ) from None
        chosen.setdefault(w.label, w)
    return tuple(chosen.values())


def analyze(
    material: str | Any,
    *,
    a: float | None = None,
    symprec: float | None = None,
    parameters: DftParameters = DftParameters(),
    window_eV: float | tuple[float, float] | None = None,
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

    The levels searched are those of every energy-ordered band that crosses E_F (and, for μ > 1, of the
    μ − 1 bands on either side), over their whole range on mesh and lines, at least ±6 eV
    (:meth:`nhm.bands.zone.ZoneBands.search_range`); GPAW is rerun with more bands until every state up to
    the top of that range is labelled on every line. ``window_eV`` (eV around E_F: W for ±W, or (lo, hi))
    can only narrow that range; the levels it cuts are listed in ``excluded_levels`` and the notes.
    ``centres``: the Wyckoff positions of the Wannier centres, occupied or empty (``2a``, ``a``, ``4b``), or
    elements naming atom orbits (``B``); default: every atom orbit. ``with_zone=False`` skips the lines and
    the mesh (levels at the points only, no search). ``spacing``: distance of the samples on the lines
    (1/Å, 2π convention); ``mesh``: n of the zone mesh (default: the SCF's ``kmesh``). ``symprec``:
    spglib's tolerance in Å (default :data:`nhm.crystal.DEFAULT_SYMPREC`). The notes include the caveats of
    :func:`nhm.crystal.caveats.structure_notes`.
    """
    from nhm.bands.dft_zone import DEFAULT_SPACING
    from nhm.crystal.caveats import structure_notes

    crystal = read_crystal(material, a=a, **({} if symprec is None else {"symprec": symprec}))
    wcentres = wannier_centres(crystal, centres)
    window = _window(window_eV)
    from nhm.bands.resources import check_dft_memory

    check_dft_memory(crystal, parameters, spacing=DEFAULT_SPACING if spacing is None else spacing, mesh=mesh,
                     with_zone=with_zone, name=material if isinstance(material, str) else "")  # before GPAW starts
    scf = run_scf(crystal, parameters, progress=progress, use_cache=use_cache, cache_dir=cache_dir)
    ef = scf.fermi_level_eV
    name = material if isinstance(material, str) else crystal.atoms.get_chemical_formula()
    zone = found = verdict = rng = None
    excluded: tuple[BlochLevel, ...] = ()
    notes: list[str] = []
    if with_zone:
        zone, rng, notes = _zone_covering_the_range(
            crystal, parameters, scf, branches(crystal.space_group, wcentres), window,
            spacing=DEFAULT_SPACING if spacing is None else spacing, mesh=mesh, progress=progress,
            use_cache=use_cache, cache_dir=cache_dir,
        )
        levels = zone.levels
        searched = rng.narrowed(window)
        if rng.widened:
            notes.append(
                f"no band crosses E_F: the search range was widened to {rng.lo:+.2f}…{rng.hi:+.2f} eV so that every "
                "point of symmetry has a level in it"
            )
        excluded = tuple(
            lv for lvs in levels.values() for lv in lvs
            if rng.lo <= lv.energy - ef <= rng.hi and not searched[0] <= lv.energy - ef <= searched[1]
        )
        bare = [k for k, lvs in levels.items() if not any(searched[0] <= lv.energy - ef <= searched[1] for lv in lvs)]
        if bare and window is not None:
            cut = ", ".join(f"{lv.irrep} {lv.energy - ef:+.2f} eV" for lv in excluded if lv.k in bare)
            raise InputError(
                f"--window {_window_text(window)} leaves {', '.join(bare)} without a level of the search range "
                f"{rng.lo:+.2f}…{rng.hi:+.2f} eV (it cuts {cut}): a band has a level at every point of symmetry; "
                "widen the window or drop it"
            )
        if excluded:
            notes.append(
                f"--window cut the search range {rng.lo:+.2f}…{rng.hi:+.2f} eV to {searched[0]:+.2f}…{searched[1]:+.2f} eV; "
                "levels not searched: " + ", ".join(f"{lv.irrep} {lv.energy - ef:+.2f}" for lv in excluded)
            )
        flat = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in levels.values() for lv in lvs]
        found = connected_search(
            flat, zone.lines, crystal.space_group, wcentres,
            fermi_level=ef, window=searched, readings=tuple(readings), kramers=kramers,  # type: ignore[arg-type]
        )
        verdict = judge(found, zone, criteria)
        notes.extend(found.notes)
    else:
        states = bloch_states_at_points(
            crystal, parameters, scf=scf, progress=progress, use_cache=use_cache, cache_dir=cache_dir
        )
        levels = {k: st.levels(crystal.space_group) for k, st in states.items()}
        searched, notes = _window_with_every_point(levels, ef, (-6.0, 6.0) if window is None else window)
    notes.extend(structure_notes(crystal))
    return Analysis(
        str(name), crystal, parameters, ef, levels, wcentres, searched, zone, found, verdict, None, scf.from_cache,
        tuple(notes), rng, excluded,
    )


MAX_BAND_RERUNS = 3  # reruns with more bands before giving up on labelling the whole search range


def branches(space_group: int, centres: Sequence[WyckoffPosition], wfs_per_atom: int = 1) -> int:
    """μ: the branches of a band with ``wfs_per_atom`` Wannier functions on each site of the ``centres``' orbits."""
    from nhm.bandrep.induce import induction

    return sum(len(induction(space_group, w.point()).orbit) * wfs_per_atom for w in centres)


def _window(window_eV: float | tuple[float, float] | None) -> tuple[float, float] | None:
    if window_eV is None:
        return None
    lo, hi = (-float(window_eV), float(window_eV)) if isinstance(window_eV, int | float) else map(float, window_eV)
    if not (lo < hi):
        raise InputError(f"the window must have lo < hi, got {lo}, {hi}")
    return (lo, hi)


def _window_text(window: tuple[float, float]) -> str:
    lo, hi = window
    return f"{hi:g}" if lo == -hi else f"{lo:+g}…{hi:+g} eV"


def _zone_covering_the_range(crystal, parameters, scf, mu, window, *, spacing, mesh, progress, use_cache, cache_dir):
    """The zone run with enough bands that every state up to the top of the search range is labelled on every
    line and no branch that enters the range is cut (reruns with more bands; NhmError if that fails)."""
    from nhm.bands.dft import default_nbands
    from nhm.bands.dft_zone import zone_bands
    from nhm.errors import NhmError

    notes: list[str] = []
    nb = default_nbands(crystal, parameters)
    step = max(4, 2 * len(crystal.primitive_atoms()))
    for attempt in range(MAX_BAND_RERUNS + 1):
        zone = zone_bands(
            crystal, parameters, spacing=spacing, mesh=mesh, nbands=nb, scf=scf, progress=progress,
            use_cache=use_cache, cache_dir=cache_dir,
        )
        rng = zone.search_range(mu)
        hi = rng.narrowed(window)[1]
        top = zone.fermi_level + hi
        problems = zone.coverage_problems(top)
        if not problems:
            return zone, rng, notes
        if attempt == MAX_BAND_RERUNS:
            raise NhmError(
                f"{nb} bands still do not label every state up to the top of the search range ({hi:+.2f} eV): "
                f"{problems[0]}"
            )
        new = max(nb + step, zone.states_needed(top))
        notes.append(f"{nb} bands did not reach the top of the search range ({hi:+.2f} eV; {problems[0]}): recomputed with {new}")
        nb = new
    raise AssertionError("unreachable")


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
    flat = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in bands.levels.values() for lv in lvs]
    window, notes = _window_with_every_point(bands.levels, ef, window_eV)
    result = points_only_search(
        flat, crystal.space_group, centres,
        fermi_level=ef, window=window, readings=tuple(readings), kramers=kramers,  # type: ignore[arg-type]
    )
    notes = [
        f"bands read from the {bands.code} calculation {bands.path} (through irrep; irreps by nhm)",
        *result.notes,
        *notes,
        *structure_notes(crystal),
    ]
    return Analysis(
        material or bands.path, crystal, DftParameters(), ef, bands.levels, centres, window, None, None, None,
        result, False, tuple(notes),
    )


# --- JSON --------------------------------------------------------------------------------------------


def _measures_json(m: BandMeasures, ef: float) -> dict:
    return {
        "energy_range_eV": [m.energy_min - ef, m.energy_max - ef],
        "width_eV": m.width,
        "filling": m.filling,
        "dos_at_fermi_per_eV_spin_cell": m.dos_at_fermi,
    }


def _variant_json(c: ConnectedCandidate, zone: ZoneBands, ef: float) -> dict:
    lines = {lb.name: lb for lb in zone.lines}
    return {
        "reading": c.reading,
        "switches": c.switches,
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


def candidate_json(band: CandidateBand, ef: float, zone: ZoneBands, references: WidthReferences) -> dict:
    """One candidate band as JSON (energies relative to E_F; branches named LINE-IRREP#copy).

    The headline values are the best assignment's (``best_variant``, docs/theory.md §4); ``*_interval``
    span every admissible assignment; ``variants`` keeps every path variant with the measures of its
    lower and upper choice at degenerate samples."""
    c, m = band.candidate, band.best
    per_variant: dict[int, dict] = {}
    degenerate: dict[int, int] = {}
    for a in band.assignments:
        per_variant.setdefault(a.variant, {})[a.choice] = _measures_json(a.measures, ef)
        degenerate[a.variant] = a.degenerate_samples
    return {
        "verdict": band.verdict,
        "reading": band.reading,
        "band": band.band_text(),
        "levels": [{"k": lv.k, "irrep": lv.irrep, "dimension": lv.dimension, "energy_eV": lv.energy - ef} for lv in c.levels],
        "site_representations": [list(s) for s in band.site_representations],
        "usual_site_representations": [list(s) for s in band.usual_sites],
        **_measures_json(m, ef),
        "width_interval_eV": list(band.width),
        "filling_interval": list(band.filling),
        "dos_interval_per_eV_spin_cell": list(band.dos),
        "width_ratios": {
            name: (m.width / references.value(name) if np.isfinite(references.value(name)) and references.value(name) > 0 else None)
            for name in WIDTH_REFERENCES
        },
        "half_filled": band.half_filled,
        "narrow": band.narrow,
        "passes": band.passes,
        "marginal": band.marginal,
        "best_variant": band.best_variant,
        "branch_switches": _variant_json(c, zone, ef)["branch_switches"],
        "variants": [
            {**_variant_json(v, zone, ef), "degenerate_samples": degenerate.get(i, 0), "assignments": per_variant.get(i, {})}
            for i, v in enumerate(band.variants)
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
        rng = an.search_range
        doc["search_range_eV"] = None if rng is None else {
            "range": [rng.lo, rng.hi], "bands": [n + 1 for n in rng.bands], "floor": rng.floor, "margin": rng.margin,
            "excluded_levels": [
                {"k": lv.k, "irrep": lv.irrep, "dimension": lv.dimension, "energy_eV": lv.energy - ef} for lv in an.excluded_levels
            ],
        }
        doc["bands_analysed"] = an.zone.nbands
        doc["verdict"] = {
            "verdict": v.verdict,
            "reason": v.reason,
            "marginal": v.marginal,
            "criteria": v.criteria.as_dict(),
            "reference_width_eV": v.reference_width,
            "width_references": v.references.as_dict(),
            "bands_at_fermi_level": [
                {"index": n, "energy_range_eV": [lo - ef, hi - ef], "width_eV": w} for n, lo, hi, w in v.fermi_bands
            ],
        }
        doc["lines_of_symmetry"] = [
            {**lb.line.as_dict(), "samples": len(lb.s), "crossings": len(lb.crossings)} for lb in an.zone.lines
        ]
        doc["mesh"] = an.zone.mesh.n
        doc["unconnected_level_choices"] = an.search.unconnected
        doc["superconducting_bands"] = [candidate_json(b, ef, an.zone, v.references) for b in v.superconducting]
        doc["usual_bands"] = [candidate_json(b, ef, an.zone, v.references) for b in v.usual]
    elif an.points_only is not None:
        doc["superconducting_bands"] = [{**c.as_dict(ef), "connected": None} for c in an.points_only.superconducting]
        doc["usual_bands"] = [{**c.as_dict(ef), "connected": None} for c in an.points_only.usual]
    return doc


def write_json(an: Analysis, path: str | os.PathLike[str]) -> None:
    write_atomically(path, (json.dumps(analysis_json(an), indent=2, ensure_ascii=False) + "\n").encode())
