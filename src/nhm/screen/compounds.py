"""Compounds as screening targets: the shipped literature table and the crystals built from it.

``compound_data()`` reads ``nhm/data/compounds_superconductivity.json`` (written by
``scripts/make_compound_tc.py``, which holds the values and a citation for each). ``compound_atoms(name)``
builds the ordered, stoichiometric crystal of a compound at its measured room-temperature lattice constants
(ASE, the conventional cell of its space group); ``compound_names(family)`` lists a family (``all``: every
compound). ``match_compound`` finds the table entry a computed crystal is to be compared with: a compound of
the screen by its name, a structure file by its reduced formula and space group (another phase of the same
formula is not compared).
"""

from __future__ import annotations

import json
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

from nhm.errors import InputError

__all__ = ["compound_atoms", "compound_data", "compound_names", "families", "match_compound", "measured_compounds"]

DATA_FILE = "compounds_superconductivity.json"


@cache
def compound_data() -> dict[str, Any]:
    """The whole shipped document (sources, conventions, families, compounds)."""
    text = resources.files("nhm").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def measured_compounds() -> dict[str, dict[str, Any]]:
    """``{formula: entry}`` (see scripts/make_compound_tc.py for the fields)."""
    return compound_data()["compounds"]


def families() -> dict[str, str]:
    """``{family: description}`` in the table's order."""
    return compound_data()["families"]


def compound_names(family: str) -> list[str]:
    """The compounds of ``family`` (a key of :func:`families`, or ``all``), in the table's order."""
    key = family.strip().lower()
    table = measured_compounds()
    if key == "all":
        return list(table)
    if key not in families():
        raise InputError(f"--compounds takes a family ({', '.join(families())}) or 'all', got {family!r}")
    return [name for name, e in table.items() if e["family"] == key]


def _fraction(x: Any) -> float:
    return float(Fraction(x)) if isinstance(x, str) else float(x)


def compound_atoms(name: str):
    """The crystal of compound ``name``: its space group's conventional cell at the measured lattice constants
    (Å), with the sites of the table (rock salt: metal 4a, anion 4b; AlB2 type: metal 1a, B 2d)."""
    from ase.spacegroup import crystal

    entry = measured_compounds().get(name)
    if entry is None:
        raise InputError(f"no compound {name!r} in the shipped table ({', '.join(measured_compounds())})")
    s, lat = entry["structure"], entry["lattice"]
    a = float(lat["a_A"])
    c = float(lat["c_A"]) if lat.get("c_A") is not None else a
    gamma = 120.0 if s["space_group"] in range(143, 195) else 90.0
    return crystal(
        [site["element"] for site in s["sites"]],
        basis=[[_fraction(x) for x in site["position"]] for site in s["sites"]],
        spacegroup=s["space_group"],
        cellpar=[a, a, c, 90.0, 90.0, gamma],
        primitive_cell=False,
    )


def _reduced(formula: str) -> str:
    from ase.formula import Formula

    return str(Formula(formula).reduce()[0])


def match_compound(name: str, kind: str, formula: str | None, space_group: int | None) -> dict[str, Any] | None:
    """The table entry a row is compared with, or None: a compound of the screen by name, any other crystal by its
    reduced formula and space group (another phase of the same formula is not the measured one)."""
    table = measured_compounds()
    if kind == "compound":
        return table.get(name)
    if not formula:
        return None
    try:
        reduced = _reduced(formula)
    except ValueError:
        return None
    for entry in table.values():
        if _reduced(entry["formula"]) == reduced and entry["structure"]["space_group"] == space_group:
            return entry
    return None
