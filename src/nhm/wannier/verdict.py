"""Connected candidates measured over the whole zone, and the material's verdict.

Measures (:func:`nhm.bands.zone.band_measures`): the band's width over the mesh and the lines, its
filling (fraction of its states below E_F) and its density of states at E_F, both by the linear
tetrahedron method. The band's energy at a mesh point is taken from the same position in the energy
order as at the nearest sample of the lines of symmetry (band-index continuity from the lines;
docs/theory.md says where this rule fails: near a crossing where the band switches branch the
assignment jumps by the gap of the avoided crossing off the line).

Criteria (defaults, all adjustable; docs/theory.md, "The verdict"):
- roughly half filled: ``filling_min <= filling <= filling_max`` (0.25 .. 0.75: a band at most a quarter
  away from half filling; a band that is nearly full or empty carries no atomic-like motion of the
  kind the NHM needs, which is strongest at half filling);
- narrow: ``width <= width_factor ×`` the median width of the energy-ordered bands that cross E_F
  (factor 1: Krüger's first postulate asks for "one of the narrowest bands" of the metal, so the band
  must be no wider than the typical band at E_F of the same metal);
The verdict is "superconducting band" when at least one connected candidate that passes test S and
not test U meets both criteria. Neither criterion involves the search window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nhm.bands.zone import BandMeasures, ZoneBands, band_measures
from nhm.errors import InputError
from nhm.wannier.connected import ConnectedCandidate, ConnectedSearch

__all__ = ["Criteria", "MeasuredCandidate", "Verdict", "judge", "measure"]


@dataclass(frozen=True)
class Criteria:
    """Thresholds of the verdict (see the module docstring)."""

    filling_min: float = 0.25
    filling_max: float = 0.75
    width_factor: float = 1.0

    def __post_init__(self) -> None:
        for name in ("filling_min", "filling_max", "width_factor"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v)):
                raise InputError(f"{name} must be a finite number, got {v!r}")
        if not 0 <= self.filling_min <= self.filling_max <= 1:
            raise InputError(f"need 0 <= filling_min <= filling_max <= 1, got {self.filling_min}, {self.filling_max}")
        if self.width_factor <= 0:
            raise InputError(f"width_factor must be positive, got {self.width_factor}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MeasuredCandidate:
    candidate: ConnectedCandidate
    measures: BandMeasures
    half_filled: bool
    narrow: bool
    assignment_jumps: int  # mesh neighbours whose band energies differ by more than the line's steps allow

    @property
    def passes(self) -> bool:
        return self.half_filled and self.narrow


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "superconducting band" or "no superconducting band"
    reason: str
    criteria: Criteria
    reference_width: float  # median width of the energy-ordered bands crossing E_F (eV)
    fermi_bands: tuple[tuple[int, float, float, float], ...]
    superconducting: tuple[MeasuredCandidate, ...]
    usual: tuple[MeasuredCandidate, ...]


def _mesh_energies(zone: ZoneBands, cand: ConnectedCandidate) -> np.ndarray:
    table = np.concatenate([p.indices for p in cand.paths])  # (samples, μ)
    sample, _ = zone.assignment
    idx = table[sample]  # (N, μ)
    return np.take_along_axis(zone.mesh_energies, idx, axis=1)


def measure(zone: ZoneBands, cand: ConnectedCandidate, criteria: Criteria, reference_width: float) -> MeasuredCandidate:
    """Width, filling and DOS at E_F of one candidate over the zone, and whether it meets the criteria."""
    e = _mesh_energies(zone, cand)
    m = band_measures(e, zone.mesh.n, zone.cell, zone.fermi_level, extra=cand.line_energies())
    half = criteria.filling_min <= m.filling <= criteria.filling_max
    narrow = bool(np.isfinite(reference_width)) and m.width <= criteria.width_factor * reference_width + 1e-9
    return MeasuredCandidate(cand, m, half, narrow, 0)


def judge(search: ConnectedSearch, zone: ZoneBands, criteria: Criteria = Criteria()) -> Verdict:
    """Measure every connected candidate and give the material's verdict."""
    fermi = tuple(zone.energy_ordered_widths())
    ref = float(np.median([w for *_, w in fermi])) if fermi else float("nan")
    rank = lambda mc: (not mc.passes, abs(mc.measures.filling - 0.5), mc.measures.width)  # noqa: E731
    sc = tuple(sorted((measure(zone, c, criteria, ref) for c in search.superconducting), key=rank))
    us = tuple(sorted((measure(zone, c, criteria, ref) for c in search.usual), key=rank))
    if not fermi:
        verdict, reason = "no superconducting band", "no band crosses the Fermi level (not a metal)"
    elif not sc:
        verdict, reason = "no superconducting band", "no connected band passes test S without passing test U"
    elif sc[0].passes:
        verdict = "superconducting band"
        reason = (
            f"{sum(mc.passes for mc in sc)} connected candidate(s) are roughly half filled and narrow "
            f"(best: filling {sc[0].measures.filling:.2f}, width {sc[0].measures.width:.2f} eV ≤ "
            f"{criteria.width_factor:g} × {ref:.2f} eV)"
        )
    else:
        half = [mc for mc in sc if mc.half_filled]
        if not half:
            reason = f"no connected candidate has a filling within [{criteria.filling_min:g}, {criteria.filling_max:g}]"
        else:
            best = min(half, key=lambda mc: mc.measures.width)
            reason = (
                f"the half-filled candidates are wide (narrowest {best.measures.width:.2f} eV > "
                f"{criteria.width_factor:g} × {ref:.2f} eV, the median width of the bands at E_F)"
            )
        verdict = "no superconducting band"
    return Verdict(verdict, reason, criteria, ref, fermi, sc, us)
