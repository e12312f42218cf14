"""The elements as screening targets: which ones nhm can compute, and what was measured on them.

``measured()`` reads ``nhm/data/elements_superconductivity.json`` (written by
``scripts/make_element_tc.py``, which holds the literature table with a citation per value and the
comparison with pymatgen's element data). ``feasible(symbol)`` says whether ``--elements all`` can
compute an element: ASE has a reference crystal that :func:`nhm.crystal.read_crystal` builds, and GPAW
has a PAW setup for the functional. ``pearson_symbol`` names a structure the way the data file names
the measured phase (``cI2``, ``hP4``, ``tI4``...), so a computed crystal can be checked against the phase
in which Tc was measured.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "Feasibility",
    "coverage_flags",
    "feasible",
    "measured",
    "pearson_symbol",
    "same_pearson",
]

DATA_FILE = "elements_superconductivity.json"


@cache
def _data() -> dict[str, Any]:
    text = resources.files("nhm").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def measured() -> dict[str, dict[str, Any]]:
    """``{symbol: entry}`` of the shipped data file (see scripts/make_element_tc.py for the fields)."""
    return _data()["elements"]


def data_document() -> dict[str, Any]:
    """The whole shipped data document (sources, pymatgen comparison, disagreements)."""
    return _data()


def _family(space_group: int) -> str:
    for top, letter in ((2, "a"), (15, "m"), (74, "o"), (142, "t"), (194, "h"), (230, "c")):
        if space_group <= top:
            return letter
    raise ValueError(space_group)


def pearson_symbol(crystal: Any) -> str:
    """Pearson symbol of an nhm Crystal: family, centring (A/B/C written S), atoms in the conventional
    cell (in the rhombohedral primitive cell for R groups: hR1 for α-Hg, hR2 for Bi)."""
    centring = crystal.international.strip()[0]
    if centring == "R":
        return f"hR{len(crystal.primitive_atoms())}"
    letter = "S" if centring in "ABC" else centring
    return f"{_family(crystal.space_group)}{letter}{len(crystal.numbers)}"


def same_pearson(a: str | None, b: str | None) -> bool:
    """Equal Pearson symbols, with the old base-centring letter C read as S (oC8 = oS8)."""
    if not a or not b:
        return False

    def norm(p: str) -> str:
        return p[0] + ("S" if p[1] in "ABC" else p[1]) + p[2:]

    return norm(a) == norm(b)


@dataclass(frozen=True)
class Feasibility:
    symbol: str
    ok: bool
    reason: str  # why not ("" if ok)
    space_group: int | None = None
    pearson: str | None = None


def _has_setup(symbol: str, xc: str) -> tuple[bool, str]:
    from ase.data import atomic_numbers

    from nhm.bands.dft_parameters import valence_electrons
    from nhm.errors import NhmError

    try:
        valence_electrons(atomic_numbers[symbol], xc)
    except NhmError as exc:
        return False, str(exc)
    return True, ""


@cache
def feasible(symbol: str, xc: str = "PBE") -> Feasibility:
    """Can nhm compute element ``symbol`` as ASE's reference crystal (no DFT is run)?"""
    from nhm.crystal import read_crystal

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            crystal = read_crystal(symbol)
    except Exception as exc:  # noqa: BLE001 - any failure to build the crystal makes it infeasible
        import re

        text = " ".join(str(exc).split()) or type(exc).__name__
        state = re.search(r"reference state is '([^']+)'", text)
        if state:
            reason = f"ASE's reference state is '{state.group(1)}', which nhm cannot build as a crystal"
        elif "no reference structure" in text:
            reason = "ASE has no reference structure"
        else:
            reason = f"ASE's reference crystal cannot be built ({text})"
        return Feasibility(symbol, False, reason)
    ok, _ = _has_setup(symbol, xc)
    sg, pearson = crystal.space_group, pearson_symbol(crystal)
    if not ok:
        functional = "PBE" if xc.upper() not in ("LDA", "PBE") else xc.upper()
        return Feasibility(symbol, False, f"no GPAW PAW setup ({functional})", sg, pearson)
    return Feasibility(symbol, True, "", sg, pearson)


def coverage_flags(symbol: str, pearson: str | None = None) -> list[str]:
    """Why the model, as nhm computes it, does not cover this element (empty: covered).

    Flags come from the data file (magnetic ground states, open 4f shells) and, given the Pearson
    symbol of the computed crystal, from comparing it with the phase in which Tc was measured.
    """
    entry = measured().get(symbol)
    if entry is None:
        return []
    flags = [f["reason"] for f in entry.get("model_flags", []) if f.get("flag") != "phase"]
    phase = entry.get("phase") or {}
    if pearson is not None and phase.get("pearson") and not same_pearson(pearson, phase["pearson"]):
        flags.append(f"computed crystal {pearson} is not the measured phase {phase['name']} ({phase['pearson']})")
    elif pearson is None:
        flags.extend(f["reason"] for f in entry.get("model_flags", []) if f.get("flag") == "phase")
    return flags
