"""What a screen computes: element symbols, compounds of the shipped table, structure files, directories of
them, all feasible elements, or a family of compounds.

:func:`resolve` turns the command line into :class:`CrystalInput` items (and the elements that
``--elements all`` leaves out, each with its reason: nothing is dropped silently). :func:`prepare`
reads each crystal in the client (spglib, BCS setting; no DFT), so a malformed file becomes a failed
row at once and the workers receive the structure itself, not a path they might not see.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nhm.errors import InputError

__all__ = ["CrystalInput", "Excluded", "Prepared", "prepare", "resolve"]

STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar")
STRUCTURE_PREFIXES = ("POSCAR", "CONTCAR")


@dataclass(frozen=True)
class CrystalInput:
    name: str  # the row's identity: element symbol, compound formula, or the path as given
    kind: str  # "element", "compound" (built from nhm.screen.compounds at its measured lattice) or "file"
    source: str  # the symbol, the formula, or the absolute path


@dataclass(frozen=True)
class Excluded:
    name: str
    reason: str


def _is_structure_file(path: Path) -> bool:
    return path.is_file() and (path.suffix.lower() in STRUCTURE_SUFFIXES or path.name.startswith(STRUCTURE_PREFIXES))


def _kind(path: Path) -> str | None:
    """"dir", "file" or None (nothing there, or a name the file system cannot even look up: too long)."""
    try:
        return "dir" if path.is_dir() else "file" if path.is_file() else None
    except OSError:
        return None


def _element(item: str) -> str | None:
    from ase.data import chemical_symbols

    return item if item in chemical_symbols[1:] else None


def resolve(
    items: list[str] | tuple[str, ...] = (),
    elements: str | None = None,
    *,
    compounds: str | None = None,
    include_flagged: bool = False,
    xc: str = "PBE",
) -> tuple[list[CrystalInput], list[Excluded]]:
    """The crystals of a screen, in order, without duplicates, and what ``--elements all`` left out.

    ``items``: element symbols (ASE's reference crystal), formulas of the shipped compound table (``NbC``,
    ``MgB2``: built at the measured lattice constants), structure files, or directories (their CIF,
    POSCAR/CONTCAR and .vasp files, not recursive). ``elements``: "all" adds every element nhm can compute
    (ASE reference crystal that nhm builds, GPAW PAW setup for ``xc``) except those the model does not
    cover (magnetic ground states, a reference crystal that is not the measured phase) unless
    ``include_flagged``. An element named explicitly is always computed. ``compounds``: a family of the
    compound table (``rocksalt-carbides``, ``rocksalt-nitrides``, ``diborides``) or ``all``.
    """
    from nhm.screen.compounds import compound_names, measured_compounds

    out: list[CrystalInput] = []
    excluded: list[Excluded] = []
    seen: set[str] = set()

    def add(ci: CrystalInput) -> None:
        if ci.name not in seen:
            seen.add(ci.name)
            out.append(ci)

    for item in items:
        path = Path(item)
        if _kind(path) == "dir":
            files = sorted(p for p in path.iterdir() if _is_structure_file(p))
            if not files:
                raise InputError(f"directory {item} holds no structure files (*.cif, *.vasp, *.poscar, POSCAR*, CONTCAR*)")
            for p in files:
                add(CrystalInput(os.path.normpath(str(p)), "file", str(p.resolve())))
        elif _kind(path) == "file":
            add(CrystalInput(os.path.normpath(item), "file", str(path.resolve())))
        elif _element(item):
            add(CrystalInput(item, "element", item))
        elif item in measured_compounds():
            add(CrystalInput(item, "compound", item))
        else:
            raise InputError(f"{item!r} is neither an element symbol, a compound of the shipped table "
                             f"({', '.join(measured_compounds())}), nor an existing structure file or directory")
    if elements is not None:
        if elements.strip().lower() != "all":
            raise InputError(f"--elements takes 'all' (name single elements as arguments), got {elements!r}")
        from ase.data import chemical_symbols

        from nhm.screen.elements import coverage_flags, feasible

        for symbol in chemical_symbols[1:]:
            f = feasible(symbol, xc)
            if not f.ok:
                excluded.append(Excluded(symbol, f.reason))
                continue
            flags = coverage_flags(symbol, f.pearson)
            if flags and not include_flagged:
                excluded.append(Excluded(symbol, "not covered by the model: " + "; ".join(flags) + " (--include-flagged computes it)"))
                continue
            add(CrystalInput(symbol, "element", symbol))
    if compounds is not None:
        for name in compound_names(compounds):
            add(CrystalInput(name, "compound", name))
    if not out:
        raise InputError("nothing to screen: give element symbols, compounds, structure files or directories, "
                         "--elements all or --compounds FAMILY")
    return out, excluded


@dataclass(frozen=True)
class Prepared:
    """A crystal read in the client: its identity and structure, or the error that reading it gave."""

    input: CrystalInput
    atoms: Any = None  # the structure as read (sent to the worker)
    primitive: Any = None  # the BCS primitive cell (stored in the row: what GPAW computes)
    formula: str = ""
    space_group: int | None = None
    international: str = ""
    pearson: str = ""
    structure_hash: str = ""
    flags: tuple[str, ...] = field(default=())
    error: str = ""
    error_type: str = ""


def structure_hash(atoms) -> str:
    import hashlib
    import json

    from nhm.bands.cache import structure_fingerprint

    fp = structure_fingerprint(atoms.cell[:], atoms.get_scaled_positions(wrap=True), atoms.numbers)
    return "sha256-" + hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:16]


def prepare(ci: CrystalInput) -> Prepared:
    """Read the crystal (BCS setting); a failure is returned, not raised."""
    from nhm.crystal import read_crystal
    from nhm.screen.compounds import compound_atoms
    from nhm.screen.elements import coverage_flags, pearson_symbol

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            crystal = read_crystal(compound_atoms(ci.source) if ci.kind == "compound" else ci.source)
            primitive = crystal.primitive_atoms()
    except Exception as exc:  # noqa: BLE001 - any unreadable input is a failed row
        return Prepared(ci, error=" ".join(str(exc).split()) or type(exc).__name__, error_type=type(exc).__name__)
    pearson = pearson_symbol(crystal)
    elements = set(crystal.atoms.get_chemical_symbols())
    flags = tuple(coverage_flags(next(iter(elements)), pearson)) if len(elements) == 1 else ()
    return Prepared(
        ci,
        atoms=crystal.atoms,
        primitive=primitive,
        formula=crystal.atoms.get_chemical_formula(mode="metal", empirical=True),
        space_group=crystal.space_group,
        international=crystal.international,
        pearson=pearson,
        structure_hash=structure_hash(primitive),
        flags=flags,
    )
