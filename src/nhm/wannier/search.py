"""The search for superconducting bands among the levels near the Fermi level (science.md §3).

A superconducting band is assembled from pieces of branches that cross along lines of symmetry, so
single-valued connectivity is NOT demanded: an *assembly* is one choice of level(s) per point of
symmetry with consistent dimensions. Rather than testing every assembly, we prune exactly: for each
site representation, the levels admissible at k are those whose representation matches the induced
one at k, and the admissible assemblies are the product of those per-point lists.

Every candidate is reported with its energy range at the points of symmetry, its width, its position
relative to E_F and its filling: the fraction of its states at the points of symmetry that lie below
E_F, each point weighted by the size of its star (the number of k in the first Brillouin zone that
carry the same energies). No thresholds are imposed; candidates are ranked by |filling - 1/2|, then by
width.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Sequence

from nhm.bandrep.induce import induction
from nhm.bands.symmetry import BandSymmetry, points_of_symmetry_names
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import WyckoffPosition
from nhm.wannier.krueger import Reading, band_spinor, contains, site_representation_choices


@dataclass(frozen=True)
class Level:
    """A (possibly degenerate) level at a point of symmetry: energy in eV and single-valued BCS irrep."""

    k: str
    energy: float
    irrep: str
    dimension: int = 0  # filled in from the irrep when 0


@dataclass(frozen=True)
class Candidate:
    verdict: str  # "superconducting" or "usual"
    reading: Reading
    levels: tuple[Level, ...]  # one entry per chosen level, in point order
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
class SearchResult:
    space_group: int
    centres: tuple[str, ...]
    fermi_level: float
    window: tuple[float, float]
    superconducting: tuple[Candidate, ...]
    usual: tuple[Candidate, ...]
    notes: tuple[str, ...] = field(default=())


def _star_sizes(number: int) -> dict[str, int]:
    g = space_group(number)
    return {k: g.order // little_group(number, k).order for k in points_of_symmetry_names(number)}


def _level_sets(levels: list[Level], mu: int, reading: Reading) -> list[tuple[Level, ...]]:
    """Choices of levels at one point: total dimension mu (R1), or any single level of dimension >= mu (R2)."""
    out: list[tuple[Level, ...]] = []
    for size in range(1, mu + 1):
        for combo in combinations(levels, size):
            dim = sum(lv.dimension for lv in combo)
            if dim == mu or (reading == "R2" and size == 1 and dim > mu):
                out.append(combo)
    return out


def search(
    levels: Sequence[Level],
    number: int,
    centres: Sequence[WyckoffPosition],
    *,
    fermi_level: float = 0.0,
    window: tuple[float, float] = (-2.0, 2.0),
    readings: Sequence[Reading] = ("R1", "R2"),
    kramers: bool = False,
    wfs_per_atom: int = 1,
) -> SearchResult:
    """All superconducting-band candidates and usual bands within ``window`` (eV, relative to E_F)."""
    names = points_of_symmetry_names(number)
    by_k: dict[str, list[Level]] = {k: [] for k in names}
    for lv in levels:
        if lv.k not in by_k:
            raise InputError(f"level at {lv.k!r}, which is not a point of symmetry of space group {number}")
        dim = lv.dimension or little_group(number, lv.k).irrep(lv.irrep).dimension
        if window[0] <= lv.energy - fermi_level <= window[1]:
            by_k[lv.k].append(Level(lv.k, lv.energy, lv.irrep, dim))
    empty = [k for k, v in by_k.items() if not v]
    if empty:
        raise InputError(f"no levels within {window} eV of E_F at {', '.join(empty)}: widen the window")
    mu = sum(len(induction(number, w.point()).orbit) * wfs_per_atom for w in centres)
    stars = _star_sizes(number)
    template = BandSymmetry(number, {k: () for k in names})

    found: dict[tuple[Reading, tuple[Level, ...]], set] = {}
    usual: dict[tuple[Level, ...], set] = {}
    for reading in readings:
        sets = {k: _level_sets(by_k[k], mu, reading) for k in names}
        for site_names, induced in site_representation_choices(number, centres, [wfs_per_atom] * len(centres), True, kramers):
            allowed = []
            for k in names:
                want = induced.get(k, Counter())
                ok = []
                for combo in sets[k]:
                    spin = band_spinor(BandSymmetry(number, {k: tuple(lv.irrep for lv in combo)}), k)
                    if (spin == want) if reading == "R1" else contains(spin, want):
                        ok.append(combo)
                allowed.append(ok)
            for choice in product(*allowed):
                key = tuple(lv for combo in choice for lv in combo)
                found.setdefault((reading, key), set()).add(site_names)
        if reading == "R1" or "R1" not in readings:
            for site_names, induced in site_representation_choices(number, centres, [wfs_per_atom] * len(centres), False, False):
                allowed = [
                    [c for c in sets[k] if sum(x.dimension for x in c) == mu and Counter(x.irrep for x in c) == induced.get(k, Counter())]
                    for k in names
                ]
                for choice in product(*allowed):
                    usual.setdefault(tuple(lv for combo in choice for lv in combo), set()).add(site_names)

    def make(verdict: str, reading: Reading, key: tuple[Level, ...], sites: set) -> Candidate:
        energies = [lv.energy for lv in key]
        below = sum(stars[lv.k] * min(lv.dimension, mu) for lv in key if lv.energy < fermi_level)
        total = sum(stars[lv.k] * min(lv.dimension, mu) for lv in key)
        return Candidate(
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
    return SearchResult(
        number, tuple(w.label for w in centres), fermi_level, window,
        tuple(sorted(sc, key=rank)), tuple(sorted(us, key=rank)),
    )
