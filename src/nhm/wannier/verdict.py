"""Connected candidates as bands over the whole zone, with their uncertainty, and the material's verdict.

**One row per band.** The connected search (:mod:`nhm.wannier.connected`) returns every path between the
chosen levels; paths that join the same level choice are *variants* of one band (they differ in where
the band passes from one branch to another). :func:`judge` groups them into one :class:`CandidateBand`.

**Assignments over the zone.** A mesh point takes the band's position in the energy order at its nearest
line sample (band-index continuity from the lines; docs/theory.md §4). Where the band lies in a
degenerate level larger than itself at that sample (a two-dimensional line level holding a one-branch
band under reading R2, or a level of a point of symmetry), the level splits off the line and the band may
take any μ of its states: the *lower* and the *upper* choice bound every such assignment (the filling is
monotone in the band's energies). Every variant is measured with both; the band's width, filling and DOS
at E_F are reported as the best assignment's values and as the interval over all of them.

**The best assignment** (docs/theory.md §4) is the most continuous band: the variant with the fewest branch
switches (every switch is a jump of the spatial Bloch function) and then the fewest line samples inside a
degenerate level larger than itself (where the Bloch spinors cannot be continuous either, docs/theory.md
§6) — both raise the spread that optimally localized Wannier functions minimise. At degenerate samples
the band's weight is shared equally by the level's states: an R2 band's Bloch spinors carry the spatial
density (μ/d)·1 on a d-dimensional level (docs/theory.md §6), so its filling and DOS are the mean of the
lower and upper choices and its energy range their union.

**Criteria** (defaults, all adjustable; docs/theory.md §4):
- roughly half filled: ``filling_min <= filling <= filling_max`` (0.25 … 0.75);
- narrow: ``width <= width_factor × W_ref`` with W_ref the free-electron width W_FE(μ) of the lattice
  (:mod:`nhm.bands.free_electron`) by default, or the median or widest energy-ordered band at E_F.
A criterion whose interval straddles its bound is **marginal**: the verdict is then decided by the best
assignment's value and says so. The verdict is "superconducting band" when a candidate band that passes
test S, fails test U (as a level set) and meets both criteria exists. No criterion involves the search
range or the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from nhm.bands.bloch import DEGENERACY_TOL_EV
from nhm.bands.zone import BandMeasures, ZoneBands, band_measures
from nhm.errors import InputError
from nhm.wannier.connected import ConnectedCandidate, ConnectedSearch

__all__ = [
    "WIDTH_REFERENCES",
    "CandidateBand",
    "Criteria",
    "Assignment",
    "Verdict",
    "WidthReferences",
    "assignment_tables",
    "judge",
    "judge_measured",
]

WIDTH_REFERENCES = ("free-electron", "median", "widest")
CHOICES = ("lower", "upper")


@dataclass(frozen=True)
class Criteria:
    """Thresholds of the verdict (see the module docstring)."""

    filling_min: float = 0.25
    filling_max: float = 0.75
    width_factor: float = 1.0
    width_reference: str = "free-electron"

    def __post_init__(self) -> None:
        for name in ("filling_min", "filling_max", "width_factor"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, int | float) and np.isfinite(v)):
                raise InputError(f"{name} must be a finite number, got {v!r}")
        if not 0 <= self.filling_min <= self.filling_max <= 1:
            raise InputError(f"need 0 <= filling_min <= filling_max <= 1, got {self.filling_min}, {self.filling_max}")
        if self.width_factor <= 0:
            raise InputError(f"width_factor must be positive, got {self.width_factor}")
        if self.width_reference not in WIDTH_REFERENCES:
            raise InputError(f"width_reference must be one of {', '.join(WIDTH_REFERENCES)}, got {self.width_reference!r}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WidthReferences:
    """What "narrow" is measured against (eV): the free-electron width W_FE(μ) of the lattice, and the median
    and widest of the energy-ordered bands that cross E_F (over the mesh and the lines)."""

    free_electron: float
    median: float
    widest: float
    mu: int

    def value(self, name: str) -> float:
        return {"free-electron": self.free_electron, "median": self.median, "widest": self.widest}[name]

    def as_dict(self) -> dict:
        return {"free_electron_eV": self.free_electron, "median_eV": self.median, "widest_eV": self.widest, "mu": self.mu}


@dataclass(frozen=True)
class Assignment:
    """One admissible assignment of a band over the mesh: a path variant and, at samples where the band
    lies in a larger degenerate level, its ``choice`` of states ("lower" or "upper")."""

    variant: int
    choice: str
    measures: BandMeasures
    degenerate_samples: int = 0  # line samples where the variant lies in a degenerate level larger than itself


@dataclass(frozen=True)
class CandidateBand:
    """One band: a level choice with all its path variants, measured over the zone.

    ``width``, ``filling``, ``dos`` are (min, max) over every assignment; ``best`` the best assignment's
    measures (module docstring); ``half_filled`` and ``narrow`` are "yes", "no" or "marginal" (the interval
    straddles the bound); ``passes`` is decided by the best assignment.
    """

    verdict: str  # "superconducting" or "usual"
    reading: str  # strictest reading among the variants ("U", "R1", "R2")
    variants: tuple[ConnectedCandidate, ...]
    assignments: tuple[Assignment, ...] = field(repr=False)
    best_variant: int
    best: BandMeasures
    width: tuple[float, float]
    filling: tuple[float, float]
    dos: tuple[float, float]
    half_filled: str
    narrow: str
    passes: bool

    @property
    def candidate(self) -> ConnectedCandidate:
        """The best variant (its paths are drawn and taken by ``nhm kspace``)."""
        return self.variants[self.best_variant]

    @property
    def measures(self) -> BandMeasures:
        return self.best

    @property
    def marginal(self) -> bool:
        return "marginal" in (self.half_filled, self.narrow)

    @property
    def levels(self):
        return self.candidate.levels

    @property
    def site_representations(self) -> tuple[tuple[str, ...], ...]:
        return tuple(sorted({s for v in self.variants for s in v.site_representations}))

    @property
    def usual_sites(self) -> tuple[tuple[str, ...], ...]:
        return self.candidate.usual_sites

    def band_text(self) -> str:
        return self.candidate.band_text()


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "superconducting band" or "no superconducting band"
    reason: str
    criteria: Criteria
    references: WidthReferences
    fermi_bands: tuple[tuple[int, float, float, float], ...]  # (index, min, max, width) eV over mesh and lines
    superconducting: tuple[CandidateBand, ...]
    usual: tuple[CandidateBand, ...]
    marginal: bool = False

    @property
    def reference_width(self) -> float:
        return self.references.value(self.criteria.width_reference)


# --- assignments -----------------------------------------------------------------------------------


def _sample_energies(zone: ZoneBands) -> np.ndarray:
    return np.concatenate([lb.energies for lb in zone.lines])


def assignment_tables(sample_energies: np.ndarray, cand: ConnectedCandidate, tol: float = DEGENERACY_TOL_EV) -> dict[str, np.ndarray]:
    """The band's energy-ordered state indices at every line sample (samples, μ) for the lower and the upper
    choice: where its states lie in a degenerate group of more states, the lowest / highest of them."""
    table = np.concatenate([p.indices for p in cand.paths])
    lower, upper = table.copy(), table.copy()
    for i, row in enumerate(table):
        e = sample_energies[i]
        if not np.any(np.abs(np.diff(e[max(0, row.min() - 6) : row.max() + 7])) < tol):
            continue  # no degeneracy near the band here
        groups: dict[tuple[int, int], int] = {}
        for n in row:
            a, b = int(n), int(n)
            while a > 0 and e[a] - e[a - 1] < tol:
                a -= 1
            while b + 1 < len(e) and e[b + 1] - e[b] < tol:
                b += 1
            groups[(a, b)] = groups.get((a, b), 0) + 1
        lo_row = [a + t for (a, b), m in sorted(groups.items()) for t in range(m)]
        hi_row = [b - m + 1 + t for (a, b), m in sorted(groups.items()) for t in range(m)]
        lower[i], upper[i] = lo_row, hi_row
    return {"lower": lower, "upper": upper}


def _measure(zone: ZoneBands, table: np.ndarray, sample_energies: np.ndarray) -> BandMeasures:
    sample, _ = zone.assignment
    e = np.take_along_axis(zone.mesh_energies, table[sample], axis=1)
    lines = np.take_along_axis(sample_energies, table, axis=1)
    return band_measures(e, zone.mesh.n, zone.cell, zone.fermi_level, extra=lines)


def _status(lo: float, hi: float, bound_lo: float, bound_hi: float) -> str:
    if bound_lo <= lo and hi <= bound_hi:
        return "yes"
    if hi < bound_lo or lo > bound_hi:
        return "no"
    return "marginal"


def _best(variants: Sequence[ConnectedCandidate], assignments: Sequence[Assignment]) -> tuple[int, BandMeasures]:
    """The best assignment (module docstring): fewest switches, then fewest degenerate samples; the mean of
    lower and upper at degenerate samples."""
    degenerate = {a.variant: a.degenerate_samples for a in assignments}
    best = min(range(len(variants)), key=lambda i: (variants[i].switches, degenerate[i], i))
    lo, hi = (next(a.measures for a in assignments if a.variant == best and a.choice == c) for c in CHOICES)
    energy_min, energy_max = min(lo.energy_min, hi.energy_min), max(lo.energy_max, hi.energy_max)
    return best, BandMeasures(
        energy_max - energy_min, 0.5 * (lo.filling + hi.filling), 0.5 * (lo.dos_at_fermi + hi.dos_at_fermi), energy_min, energy_max
    )


def _judge_band(
    variants: Sequence[ConnectedCandidate], assignments: Sequence[Assignment], criteria: Criteria, references: WidthReferences,
) -> CandidateBand:
    order = {"U": 0, "R1": 1, "R2": 2}
    ms = [a.measures for a in assignments]
    best_variant, best = _best(variants, assignments)
    width = (min(best.width, *(m.width for m in ms)), max(best.width, *(m.width for m in ms)))
    filling = (min(m.filling for m in ms), max(m.filling for m in ms))
    dos = (min(m.dos_at_fermi for m in ms), max(m.dos_at_fermi for m in ms))
    limit = criteria.width_factor * references.value(criteria.width_reference)
    half = _status(*filling, criteria.filling_min, criteria.filling_max)
    narrow = _status(*width, -np.inf, limit + 1e-9) if np.isfinite(limit) else "no"
    passes = (
        criteria.filling_min <= best.filling <= criteria.filling_max and np.isfinite(limit) and best.width <= limit + 1e-9
    )
    verdict = "usual" if any(v.verdict == "usual" for v in variants) else "superconducting"
    reading = min((v.reading for v in variants), key=order.__getitem__)
    return CandidateBand(verdict, reading, tuple(variants), tuple(assignments), best_variant, best, width, filling, dos, half, narrow, bool(passes))


def measure_band(zone: ZoneBands, variants: Sequence[ConnectedCandidate], sample_energies: np.ndarray | None = None) -> list[Assignment]:
    """Every variant of one band measured with the lower and the upper choice."""
    se = _sample_energies(zone) if sample_energies is None else sample_energies
    out = []
    for i, cand in enumerate(variants):
        tables = assignment_tables(se, cand)
        degenerate = int(np.sum(np.any(tables["lower"] != tables["upper"], axis=1)))
        for choice, table in tables.items():
            out.append(Assignment(i, choice, _measure(zone, table, se), degenerate))
    return out


# --- the verdict -------------------------------------------------------------------------------------


def width_references(zone: ZoneBands, mu: int) -> WidthReferences:
    """W_FE(μ) of the zone's lattice and the median and widest energy-ordered band crossing E_F."""
    from nhm.bands.free_electron import free_electron_width

    widths = [w for *_, w in zone.fermi_bands()]
    points = np.array([lb.kpts_conventional[i] for lb in zone.lines for i in (0, -1)]) @ zone.reciprocal
    return WidthReferences(
        free_electron_width(zone.cell, mu, extra_k=points),
        float(np.median(widths)) if widths else float("nan"),
        float(max(widths)) if widths else float("nan"),
        mu,
    )


def _group(cands: Sequence[ConnectedCandidate]) -> list[list[ConnectedCandidate]]:
    groups: dict[tuple, list[ConnectedCandidate]] = {}
    for c in cands:
        groups.setdefault((c.verdict, c.levels), []).append(c)
    return list(groups.values())


def _rank(b: CandidateBand) -> tuple:
    """Passing bands first (a clear pass before a marginal one), then the failing ones that fail only
    marginally; within each, closest to half filling, then narrowest."""
    return (not b.passes, b.marginal == b.passes, abs(b.best.filling - 0.5), b.best.width)


def judge(search: ConnectedSearch, zone: ZoneBands, criteria: Criteria = Criteria()) -> Verdict:
    """Group the connected candidates into bands, measure every variant and give the material's verdict."""
    se = _sample_energies(zone)
    measured = [(grp, measure_band(zone, grp, se)) for grp in _group((*search.superconducting, *search.usual))]
    return judge_measured(measured, width_references(zone, search.mu), tuple(zone.fermi_bands()), criteria)


def judge_measured(
    measured: Sequence[tuple[Sequence[ConnectedCandidate], Sequence[Assignment]]],
    references: WidthReferences,
    fermi_bands: tuple[tuple[int, float, float, float], ...],
    criteria: Criteria = Criteria(),
) -> Verdict:
    """The verdict from measured bands (re-judging under other criteria needs no DFT and no search)."""
    bands = [_judge_band(v, a, criteria, references) for v, a in measured]
    sc = tuple(sorted((b for b in bands if b.verdict == "superconducting"), key=_rank))
    us = tuple(sorted((b for b in bands if b.verdict == "usual"), key=_rank))
    verdict, reason, marginal = _verdict_text(sc, criteria, references, fermi_bands)
    return Verdict(verdict, reason, criteria, references, fermi_bands, sc, us, marginal)


def _interval(lo: float, hi: float, fmt: str = ".2f") -> str:
    return f"{lo:{fmt}}" if abs(hi - lo) < 5e-3 else f"{lo:{fmt}}–{hi:{fmt}}"


def _verdict_text(sc, criteria: Criteria, refs: WidthReferences, fermi_bands) -> tuple[str, str, bool]:
    ref = refs.value(criteria.width_reference)
    ref_text = f"{criteria.width_factor:g} × {ref:.2f} eV ({criteria.width_reference} reference)"
    if not fermi_bands:
        return "no superconducting band", "no band crosses the Fermi level (not a metal)", False
    if not sc:
        return "no superconducting band", "no connected band passes test S without passing test U", False
    best = sc[0]
    marginal_note = ""
    if best.marginal:
        parts = []
        if best.half_filled == "marginal":
            parts.append(f"filling {_interval(*best.filling)} straddles [{criteria.filling_min:g}, {criteria.filling_max:g}]")
        if best.narrow == "marginal":
            parts.append(f"width {_interval(*best.width)} eV straddles {criteria.width_factor * ref:.2f} eV")
        marginal_note = f" — marginal: {'; '.join(parts)}; decided by the best assignment's value"
    if best.passes:
        n = sum(b.passes for b in sc)
        reason = (
            f"{n} candidate band(s) roughly half filled and narrow (best: filling {best.best.filling:.2f} "
            f"[{_interval(*best.filling)}], width {best.best.width:.2f} eV ≤ {ref_text}){marginal_note}"
        )
        return "superconducting band", reason, best.marginal
    half = [b for b in sc if criteria.filling_min <= b.best.filling <= criteria.filling_max]
    if not half:
        closest = min(sc, key=lambda b: abs(b.best.filling - 0.5))
        reason = (
            f"no candidate band has a filling within [{criteria.filling_min:g}, {criteria.filling_max:g}] (closest: "
            f"{closest.best.filling:.2f} [{_interval(*closest.filling)}])"
        )
    else:
        narrowest = min(half, key=lambda b: b.best.width)
        reason = f"the half-filled candidate bands are wide (narrowest {narrowest.best.width:.2f} eV > {ref_text})"
    return "no superconducting band", reason + marginal_note, best.marginal
