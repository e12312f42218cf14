"""Krüger's tests: does a band admit usual or spin-dependent Wannier functions? (science.md §3)

Test U (usual WFs centred on the atom orbits O): for some single-valued site representation d of
each orbit, chi_band^k = chi_ind^k at every point of symmetry k.

Test S (spin-dependent WFs): for some double-valued site representation rho (two WFs per atom: a
2-dim double irrep or two 1-dim ones; with ``kramers`` a time-reversal co-rep), the band's spinor
representation equals (reading R1) or contains (reading R2) the double-valued induced representation
at every point of symmetry:
- R1 (strict): the band is μ single-valued branches, its spinor representation is D_k ⊗ D½;
- R2 (relaxed): D'_k may be larger than μ; one picks a 2μ-dim double-valued constituent of D'_k ⊗ D½.

Representations at k are compared through their multiplicities in the (BCS-labelled) irreps of the
little group at k, which is equivalent to comparing characters on G_k.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations_with_replacement, product
from typing import Literal, Sequence

import numpy as np

from nhm.bandrep.induce import induction
from nhm.bands.symmetry import BandSymmetry, points_of_symmetry_names
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.site import SiteIrrep
from nhm.groups.wyckoff import WyckoffPosition

Reading = Literal["R1", "R2"]
Verdict = Literal["usual", "superconducting", "neither"]


def _counter_text(c: Counter) -> str:
    return " + ".join(f"{m}{lbl}" if m > 1 else lbl for lbl, m in sorted(c.items())) or "-"


@cache
def spin_doubling(space_group: int, k: str) -> dict[str, Counter]:
    """D ⊗ D½ for every single-valued irrep D at k, as double-valued irrep multiplicities.

    chi_double(g) = chi_single(g) * tr S(g) on the same SU(2) lift (science.md §2.6).
    """
    single = little_group(space_group, k)
    double = little_group(space_group, k, double=True)
    tr_s = np.array([np.trace(single.space_group.operations[i].su2) for i in double.indices])
    out = {}
    for r in single.irreps:
        m = double.decompose(r.characters * tr_s)
        out[r.label] = Counter({d.label: int(x) for d, x in zip(double.irreps, m) if x})
    return out


@dataclass(frozen=True)
class SiteRepresentation:
    """A site representation on one orbit: a multiset of site irreps (or co-reps)."""

    wyckoff: str
    irreps: tuple[str, ...]
    dimension: int

    @property
    def name(self) -> str:
        return f"{'+'.join(self.irreps)}@{self.wyckoff}"


@cache
def _induced_counters(space_group: int, point, double: bool, kramers: bool) -> tuple[tuple[SiteIrrep, dict[str, Counter]], ...]:
    """For every site (co-)irrep of the site group of ``point``: its induced multiplicities per point of symmetry."""
    ind = induction(space_group, point)
    reps = ind.site.coreps(True) if (double and kramers) else ind.site.irreps(double)
    out = []
    for rho in reps:
        per_k = {}
        for k in points_of_symmetry_names(space_group):
            lg = little_group(space_group, k, double=double)
            m = lg.decompose(ind.characters(lg, rho.characters))
            per_k[k] = Counter({r.label: int(x) for r, x in zip(lg.irreps, m) if x})
        out.append((rho, per_k))
    return tuple(out)


def _display_name(space_group: int, position: WyckoffPosition, rho_name: str, double: bool, kramers: bool) -> str:
    """Bilbao's (Mulliken) name of a site irrep where known (maximal positions), else ours (rhoN)."""
    if not position.maximal:
        return rho_name
    from nhm.bandrep.ebr import site_irrep_label

    return site_irrep_label(space_group, position.letter, rho_name, double, double and kramers)


def site_representations(space_group: int, position: WyckoffPosition, dimension: int, *, double: bool, kramers: bool = False):
    """All site representations of total ``dimension`` (multisets of site irreps) with their induced counters."""
    items = _induced_counters(space_group, position.point(), double, kramers)
    n_points = len(induction(space_group, position.point()).orbit)
    out = []
    for size in range(1, dimension + 1):
        for combo in combinations_with_replacement(range(len(items)), size):
            if sum(items[i][0].dimension for i in combo) != dimension:
                continue
            total: dict[str, Counter] = {}
            for i in combo:
                for k, c in items[i][1].items():
                    total[k] = total.get(k, Counter()) + c
            names = tuple(_display_name(space_group, position, items[i][0].name, double, kramers) for i in combo)
            rep = SiteRepresentation(position.label, names, dimension)
            out.append((rep, total, n_points * dimension))
    return out


@dataclass(frozen=True)
class PointMatch:
    """How the band's representation at one point compares with the induced one."""

    k: str
    band: str  # the band's single-valued irreps
    band_spinor: str  # D_k ⊗ D½ (double-valued), for test S
    induced: str  # induced representation of the best site representation
    agrees: bool


@dataclass(frozen=True)
class Classification:
    reading: Reading
    usual: bool
    spin_dependent: bool
    centres: tuple[str, ...]
    usual_site_representations: tuple[tuple[str, ...], ...]
    spin_site_representations: tuple[tuple[str, ...], ...]
    points_usual: tuple[PointMatch, ...]
    points_spin: tuple[PointMatch, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        if self.usual:
            return "usual"
        return "superconducting" if self.spin_dependent else "neither"

    @property
    def superconducting_band(self) -> bool:
        return self.verdict == "superconducting"

    def as_dict(self) -> dict:
        return {
            "usual": self.usual,
            "spin_dependent": self.spin_dependent,
            "superconducting_band": self.superconducting_band,
            "verdict": self.verdict,
            "reading": self.reading,
            "centres": list(self.centres),
            "site_representations": [list(s) for s in self.spin_site_representations],
            "usual_site_representations": [list(s) for s in self.usual_site_representations],
            "points": {
                "usual": [p.__dict__ for p in self.points_usual],
                "spin_dependent": [p.__dict__ for p in self.points_spin],
            },
            "notes": list(self.notes),
        }


def band_spinor(band: BandSymmetry, k: str) -> Counter:
    """The band's spinor representation D_k ⊗ D½ at ``k`` (double-valued irrep multiplicities)."""
    dbl = spin_doubling(band.space_group, k)
    total: Counter = Counter()
    for lbl in band.irreps[k]:
        total += dbl[lbl]
    return total


def contains(big: Counter, small: Counter) -> bool:
    """True if the representation ``big`` contains ``small`` (multiplicities)."""
    return all(big[k] >= v for k, v in small.items())


def site_representation_choices(space_group: int, centres, dims, double: bool, kramers: bool):
    """Every choice of one site representation per orbit: yields (names, induced multiplicities per point).

    ``dims``: dimension of the single-valued site representation on each orbit (doubled when ``double``).
    """
    per_orbit = [
        site_representations(space_group, w, (2 if double else 1) * d, double=double, kramers=kramers)
        for w, d in zip(centres, dims)
    ]
    for choice in product(*per_orbit):
        total: dict[str, Counter] = {}
        for _, counters, _ in choice:
            for k, c in counters.items():
                total[k] = total.get(k, Counter()) + c
        yield tuple(rep.name for rep, _, _ in choice), total


def classify(
    band: BandSymmetry,
    centres: Sequence[WyckoffPosition],
    *,
    reading: Reading = "R1",
    kramers: bool = False,
    wfs_per_atom: int | Sequence[int] = 1,
) -> Classification:
    """Test U and test S for ``band`` with Wannier centres on the given Wyckoff orbits.

    ``wfs_per_atom`` is the dimension of the single-valued site representation on each orbit (one WF
    per atom by default); test S uses twice that many spin-dependent WFs per atom.
    """
    if not centres:
        raise InputError("give at least one Wyckoff position for the Wannier centres")
    dims = [wfs_per_atom] * len(centres) if isinstance(wfs_per_atom, int) else list(wfs_per_atom)
    if len(dims) != len(centres) or min(dims) < 1:
        raise InputError("wfs_per_atom must give a positive number for every centre orbit")
    for w in centres:
        if w.space_group != band.space_group:
            raise InputError(f"Wyckoff position {w.label} is of space group {w.space_group}, the band of {band.space_group}")
    mu = sum(len(induction(band.space_group, w.point()).orbit) * d for w, d in zip(centres, dims))
    names = points_of_symmetry_names(band.space_group)
    band_dims = {k: band.dimension(k) for k in names}
    notes = list(band.notes)
    small = [k for k, d in band_dims.items() if d < mu]
    if small:
        raise InputError(
            f"dimension mismatch: the band has μ = {mu} branches (from the Wannier centres) but its "
            f"representation at {', '.join(f'{k} has dimension {band_dims[k]}' for k in small)}"
        )
    exact = all(d == mu for d in band_dims.values())
    if reading == "R1" and not exact:
        raise InputError(
            "dimension mismatch under reading R1: every point needs a representation of dimension "
            f"μ = {mu}, but {', '.join(f'{k}: {d}' for k, d in band_dims.items() if d != mu)} (use reading R2)"
        )

    band_single = {k: band.counter(k) for k in names}
    band_spin = {k: band_spinor(band, k) for k in names}

    usual_ok, usual_best = [], None
    if exact:
        for names_, induced in site_representation_choices(band.space_group, centres, dims, False, False):
            agree = {k: induced.get(k, Counter()) == band_single[k] for k in names}
            score = sum(agree.values())
            if all(agree.values()):
                usual_ok.append(names_)
            if usual_best is None or score > usual_best[0]:
                usual_best = (score, induced, agree)
    else:
        notes.append("test U not applicable: the band's dimension exceeds μ at some points (reading R2)")

    spin_ok, spin_best = [], None
    for names_, induced in site_representation_choices(band.space_group, centres, dims, True, kramers):
        if reading == "R1":
            agree = {k: induced.get(k, Counter()) == band_spin[k] for k in names}
        else:
            agree = {k: contains(band_spin[k], induced.get(k, Counter())) for k in names}
        score = sum(agree.values())
        if all(agree.values()):
            spin_ok.append(names_)
        if spin_best is None or score > spin_best[0]:
            spin_best = (score, induced, agree)

    def matches(best, spinor: bool) -> tuple[PointMatch, ...]:
        if best is None:
            return ()
        _, induced, agree = best
        return tuple(
            PointMatch(
                k,
                _counter_text(band_single[k]),
                _counter_text(band_spin[k]) if spinor else "",
                _counter_text(induced.get(k, Counter())),
                agree[k],
            )
            for k in names
        )

    return Classification(
        reading,
        bool(usual_ok),
        bool(spin_ok),
        tuple(w.label for w in centres),
        tuple(usual_ok),
        tuple(spin_ok),
        matches(usual_best, False),
        matches(spin_best, True),
        tuple(notes),
    )
