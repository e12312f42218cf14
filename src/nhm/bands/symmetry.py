"""The symmetry of a band: its single-valued representation at every point of symmetry.

A band of μ branches is described, group-theoretically, by the representation D_k of its Bloch
functions at each point of symmetry k (science.md §1): a multiset of BCS irrep labels per k.
This is what Krüger's tests need; it comes from a DFT band structure (``nhm.bands``), a model, or text
copied from a paper: ``"GM:GM1+ H:H1+ P:P1 N:N2+"`` (several irreps at a point: ``GM:GM1+,GM2-``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from nhm.crystal.setting import check_space_group_number
from nhm.errors import InputError
from nhm.groups.bcs import bcs_table
from nhm.groups.irreps import little_group, normalize_k_name


@dataclass(frozen=True)
class BandSymmetry:
    """Single-valued BCS irrep labels (with repetition) of a band at each point of symmetry."""

    space_group: int
    irreps: dict[str, tuple[str, ...]]
    notes: tuple[str, ...] = ()

    def dimension(self, k: str) -> int:
        lg = little_group(self.space_group, k)
        return sum(lg.irrep(label).dimension for label in self.irreps[k])

    def counter(self, k: str) -> Counter:
        return Counter(self.irreps[k])

    def text(self) -> str:
        return " ".join(f"{k}:{','.join(v)}" for k, v in self.irreps.items())


def points_of_symmetry_names(space_group: int) -> tuple[str, ...]:
    return tuple(kp.name for kp in bcs_table(space_group, False, False).kpoints)


def _normalize_label(label: str, k: str) -> str:
    """Γ1+ / G1+ -> GM1+ at Γ; otherwise BCS spelling, upper case."""
    s = label.strip()
    if k == "GM" and not s.upper().startswith("GM"):
        for alias in ("Γ", "G"):
            if s.startswith(alias):
                return "GM" + s[len(alias):]
    return s.upper()


def expand_label(space_group: int, k: str, label: str) -> tuple[str, ...]:
    """A BCS irrep label, or a co-rep label such as ``K2K3``, as irrep labels; InputError if unknown."""
    lg = little_group(space_group, k)
    lab = _normalize_label(label, k)
    for r in lg.irreps:
        if r.label.upper() == lab:
            return (r.label,)
    for c in lg.coreps:
        if c.label.upper() == lab:
            return tuple(lg.irreps[i].label for i in c.components)
    known = ", ".join(r.label for r in lg.irreps)
    raise InputError(f"{label!r} is not an irrep of the little group at {k} of space group {space_group} (it has {known})")


def time_reversal_partner(space_group: int, k: str, label: str) -> str | None:
    """Label of the irrep at the partner point kA = -k (e.g. K -> KA) carrying the time-reversed states."""
    names = points_of_symmetry_names(space_group)
    partner = k + "A" if k + "A" in names else (k[:-1] if k.endswith("A") and k[:-1] in names else None)
    if partner is None:
        return None
    src = little_group(space_group, k).irrep(label)
    dst = little_group(space_group, partner)
    want = np.conj(src.characters)
    for r in dst.irreps:
        if np.max(np.abs(r.characters - want)) < 1e-6:
            return r.label
    return None


_TOKEN = re.compile(r"^\s*([^:\s]+)\s*:\s*(\S+)\s*$")


def parse_band(text: str, space_group: int | str) -> BandSymmetry:
    """Parse ``"GM:GM1+ H:H1+ P:P1 N:N2+"``; Γ/G/Gamma are accepted for GM.

    Points related to a listed one by time reversal (KA to K, HA to H) may be omitted: their irreps
    follow from time-reversal symmetry of the (non-magnetic) band and are filled in, with a note.
    Raises InputError for an unknown point or label, a missing point, or a repeated point.
    """
    n = check_space_group_number(space_group)
    names = points_of_symmetry_names(n)
    given: dict[str, tuple[str, ...]] = {}
    tokens = text.replace(";", " ").split()
    if not tokens:
        raise InputError("empty band: give one 'K:LABEL' per point of symmetry, e.g. 'GM:GM1+ H:H1+ P:P1 N:N2+'")
    for tok in tokens:
        m = _TOKEN.match(tok)
        if not m:
            raise InputError(f"cannot read {tok!r}: write each point as 'K:LABEL' (e.g. 'GM:GM1+')")
        k = normalize_k_name(m.group(1))
        if k not in names and k.upper() in names:
            k = k.upper()
        if k not in names:
            raise InputError(f"space group {n} has no point of symmetry {m.group(1)!r} (it has {', '.join(names)})")
        if k in given:
            raise InputError(f"point {k} is given twice")
        labels: list[str] = []
        for lab in m.group(2).split(","):
            labels.extend(expand_label(n, k, lab))
        given[k] = tuple(labels)
    notes = []
    for k in names:
        if k in given:
            continue
        src = k[:-1] if k.endswith("A") else k + "A"
        if src in given:
            filled = tuple(time_reversal_partner(n, src, lab) for lab in given[src])
            if all(filled):
                given[k] = filled  # type: ignore[assignment]
                notes.append(f"{k} filled in from {src} by time reversal: {','.join(filled)}")  # type: ignore[arg-type]
                continue
        raise InputError(f"the band gives no representation at {k} (points of symmetry of space group {n}: {', '.join(names)})")
    band = BandSymmetry(n, {k: given[k] for k in names}, tuple(notes))
    dims = {k: band.dimension(k) for k in names}
    if len(set(dims.values())) > 1 and min(dims.values()) == 0:
        raise InputError("every point needs at least one irrep")
    return band
