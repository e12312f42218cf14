"""Superconducting-band candidates from the levels at the points of symmetry alone (science.md §3), untraced.

For DFT output that holds nothing but the points of symmetry (``nhm analyze --from-dft``: the external readers of
:mod:`nhm.bands.external` give no lines). A candidate here is an *assembly*: one choice of level(s) per point
with consistent dimensions that passes Krüger's test S for some site representation (or test U: a usual band).
The assemblies are pruned exactly: for each site representation, the levels admissible at k are those whose
representation matches the induced one there (:func:`nhm.wannier.connected.carries`), and the admissible
assemblies are the product of those lists. Nothing joins the levels along the lines: an assembly need not be a
band at all, and its width and filling are those of its levels at the points (each point weighted by the size of
its star: the number of k in the first Brillouin zone with the same energies), not over the zone; every result
says so in its ``notes``. nhm's own runs trace the bands and use the connected search (:mod:`nhm.wannier.connected`).
No thresholds are imposed; candidates are ranked by |filling − 1/2|, then by width.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import product
from typing import Sequence

from nhm.bandrep.induce import induction
from nhm.bands.symmetry import points_of_symmetry_names
from nhm.groups.irreps import little_group
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import WyckoffPosition
from nhm.wannier.connected import LevelChoice, carries, level_sets, levels_in_window
from nhm.wannier.krueger import Reading, site_representation_choices

NOTE = (
    "only the points of symmetry are known: the candidates are assemblies of levels, not traced along "
    "the lines (no width, filling or verdict over the zone)"
)


@dataclass(frozen=True)
class LevelAssembly:
    """One choice of level(s) per point of symmetry that passes test S (or U), with the measures of its levels."""

    verdict: str  # "superconducting" or "usual"
    reading: Reading
    levels: tuple[LevelChoice, ...]  # one entry per chosen level, in point order
    site_representations: tuple[tuple[str, ...], ...]
    energy_min: float
    energy_max: float
    centre: float  # mean energy of the chosen states minus E_F
    filling: float

    @property
    def width(self) -> float:
        return self.energy_max - self.energy_min

    def band_text(self) -> str:
        per_k: dict[str, list[str]] = {}
        for lv in self.levels:
            per_k.setdefault(lv.k, []).append(lv.irrep)
        return " ".join(f"{k}:{','.join(v)}" for k, v in per_k.items())

    def as_dict(self, fermi_level: float) -> dict:
        return {
            "verdict": self.verdict,
            "reading": self.reading,
            "band": self.band_text(),
            "levels": [
                {"k": lv.k, "irrep": lv.irrep, "dimension": lv.dimension, "energy_eV": lv.energy - fermi_level}
                for lv in self.levels
            ],
            "site_representations": [list(s) for s in self.site_representations],
            "energy_range_eV": [self.energy_min - fermi_level, self.energy_max - fermi_level],
            "width_eV": self.width,
            "centre_eV": self.centre,
            "filling": self.filling,
        }


@dataclass(frozen=True)
class PointsOnlySearch:
    """The assemblies found, best first; ``notes`` say that they are not traced."""

    space_group: int
    centres: tuple[str, ...]
    fermi_level: float
    window: tuple[float, float]
    superconducting: tuple[LevelAssembly, ...]
    usual: tuple[LevelAssembly, ...]
    notes: tuple[str, ...] = field(default=(NOTE,))


def _star_sizes(number: int) -> dict[str, int]:
    g = space_group(number)
    return {k: g.order // little_group(number, k).order for k in points_of_symmetry_names(number)}


def points_only_search(
    levels: Sequence[LevelChoice],
    number: int,
    centres: Sequence[WyckoffPosition],
    *,
    fermi_level: float = 0.0,
    window: tuple[float, float] = (-2.0, 2.0),
    readings: Sequence[Reading] = ("R1", "R2"),
    kramers: bool = False,
    wfs_per_atom: int = 1,
) -> PointsOnlySearch:
    """All level assemblies within ``window`` (eV, relative to E_F) that pass test S, and those that pass test U."""
    names = points_of_symmetry_names(number)
    by_k = levels_in_window(levels, number, fermi_level, window)
    mu = sum(len(induction(number, w.point()).orbit) * wfs_per_atom for w in centres)
    stars = _star_sizes(number)

    found: dict[tuple[Reading, tuple[LevelChoice, ...]], set] = {}
    usual: dict[tuple[LevelChoice, ...], set] = {}
    for reading in readings:
        sets = {k: level_sets(by_k[k], mu, reading) for k in names}
        for site_names, induced in site_representation_choices(number, centres, [wfs_per_atom] * len(centres), True, kramers):
            allowed = [[c for c in sets[k] if carries(number, k, c, induced.get(k, Counter()), reading)] for k in names]
            for choice in product(*allowed):
                key = tuple(lv for combo in choice for lv in combo)
                found.setdefault((reading, key), set()).add(site_names)
        if reading == "R1" or "R1" not in readings:
            for site_names, induced in site_representation_choices(number, centres, [wfs_per_atom] * len(centres), False, False):
                allowed = [
                    [c for c in sets[k] if sum(x.dimension for x in c) == mu and carries(number, k, c, induced.get(k, Counter()), "U")]
                    for k in names
                ]
                for choice in product(*allowed):
                    usual.setdefault(tuple(lv for combo in choice for lv in combo), set()).add(site_names)

    def make(verdict: str, reading: Reading, key: tuple[LevelChoice, ...], sites: set) -> LevelAssembly:
        energies = [lv.energy for lv in key]
        below = sum(stars[lv.k] * min(lv.dimension, mu) for lv in key if lv.energy < fermi_level)
        total = sum(stars[lv.k] * min(lv.dimension, mu) for lv in key)
        return LevelAssembly(
            verdict, reading, key, tuple(sorted(sites)), min(energies), max(energies),
            sum(energies) / len(energies) - fermi_level, below / total,
        )

    sc = []
    for (reading, key), sites in found.items():
        if key in usual:
            continue  # passes test U as well: a usual band
        sc.append(make("superconducting", reading, key, sites))
    us = [make("usual", "R1", key, sites) for key, sites in usual.items()]
    rank = lambda c: (abs(c.filling - 0.5), c.width, abs(c.centre))  # noqa: E731
    return PointsOnlySearch(
        number, tuple(w.label for w in centres), fermi_level, window,
        tuple(sorted(sc, key=rank)), tuple(sorted(us, key=rank)),
    )
