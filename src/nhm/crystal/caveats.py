"""What a user should know about a crystal before trusting nhm's verdict on it: notes, one line each.

- :func:`symmetry_note`: a looser tolerance than the one used (``symprec``) gives a *higher* symmetry —
  the coordinates were probably typed or measured to a few digits, and the structure is likely meant
  to be more symmetric than the one found;
- :func:`magnetism_note`: magnetic elements (3d Cr–Ni, 4f Ce–Yb, 5f U–Cm) in a calculation that is
  non-magnetic (spin-restricted);
- :func:`spin_orbit_note`: heavy elements (Z ≥ 72, Hf onwards, and the actinides) in a calculation that
  is scalar-relativistic (no spin–orbit coupling).

:func:`structure_notes` collects them; ``nhm analyze`` returns them in ``Analysis.notes`` (and JSON) and
the command line prints them as warnings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "HEAVY_Z",
    "MAGNETIC_ELEMENTS",
    "magnetism_note",
    "spin_orbit_note",
    "structure_notes",
    "symmetry_note",
]

# Elements whose open d or f shell commonly orders magnetically in elements and compounds: the 3d
# magnets Cr, Mn, Fe, Co, Ni; the lanthanides with a partly filled 4f shell (La 4f0 and Lu 4f14 are
# not; Yb is 4f14 as a metal but 4f13 in many compounds, so it is kept); the light actinides U–Cm.
MAGNETIC_ELEMENTS = (
    "Cr", "Mn", "Fe", "Co", "Ni",
    "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "U", "Np", "Pu", "Am", "Cm",
)
HEAVY_Z = 72  # from Hf on, spin–orbit splittings of the valence bands reach tenths of an eV (Pb 6p, Bi 6p: ~1 eV)

_LOOSER_FACTOR = 10.0
_LOOSE_SYMPREC = 1e-2  # Å: the loosest tolerance probed (unless 10x the user's is looser)


def _elements(crystal: Any) -> list[str]:
    """The distinct elements of the crystal, ordered by atomic number."""
    from ase.data import chemical_symbols

    return [chemical_symbols[z] for z in sorted({int(z) for z in np.asarray(crystal.numbers).ravel()})]


def magnetism_note(crystal: Any) -> str | None:
    """A note if the crystal contains magnetic elements (the calculation is non-magnetic)."""
    found = [el for el in _elements(crystal) if el in MAGNETIC_ELEMENTS]
    if not found:
        return None
    return (
        f"{', '.join(found)}: magnetic element{'s' if len(found) > 1 else ''}, but the calculation is non-magnetic "
        "(spin-restricted): if the material orders magnetically, its real bands are exchange-split and its symmetry "
        "is a magnetic group, so the verdict describes the hypothetical non-magnetic state only"
    )


def spin_orbit_note(crystal: Any) -> str | None:
    """A note if the crystal contains heavy elements (the calculation has no spin–orbit coupling)."""
    from ase.data import atomic_numbers

    found = [el for el in _elements(crystal) if atomic_numbers[el] >= HEAVY_Z]
    if not found:
        return None
    return (
        f"{', '.join(found)}: heavy element{'s' if len(found) > 1 else ''} (Z ≥ {HEAVY_Z}), but the calculation is "
        "scalar-relativistic, without spin–orbit coupling, which splits these bands by tenths of an eV or more, lifts "
        "degeneracies and turns crossings into anticrossings: the levels, the connected bands and the verdict are "
        "those of the bands without spin–orbit coupling"
    )


def _operations(cell: tuple, symprec: float) -> tuple[int, int, str] | None:
    """(number of operations on the input cell, space-group number, symbol) at ``symprec``; None if none."""
    import spglib

    try:
        ds = spglib.get_symmetry_dataset(cell, symprec=symprec)
    except Exception:  # spglib.SpglibError, or nonsense input: no comparison possible
        return None
    if ds is None:
        return None
    return len(ds.rotations), int(ds.number), str(ds.international)


def symmetry_note(crystal: Any) -> str | None:
    """A note if a looser tolerance (10×, 100×, ... ``crystal.symprec`` up to 1e-2 Å) finds a higher symmetry.

    "Higher" means more symmetry operations of the input cell (point operations times the lattice
    translations inside the cell), so a supergroup with the same point group but a smaller primitive
    cell counts too. The smallest such tolerance is named.
    """
    atoms = crystal.atoms
    cell = (np.asarray(atoms.cell[:], dtype=float), atoms.get_scaled_positions(wrap=False), np.asarray(atoms.numbers))
    here = _operations(cell, crystal.symprec)
    if here is None:
        return None
    probes = [crystal.symprec * _LOOSER_FACTOR]  # 10x, 100x, ... up to 1e-2 Å (at least one probe)
    while probes[-1] * _LOOSER_FACTOR <= _LOOSE_SYMPREC * (1 + 1e-9):
        probes.append(probes[-1] * _LOOSER_FACTOR)
    for loose in probes:
        there = _operations(cell, loose)
        if there is not None and there[0] > here[0]:
            return (
                f"at a looser tolerance the structure is more symmetric: space group {there[1]} ({there[2]}) at "
                f"symprec {loose:g} Å instead of {crystal.space_group} ({crystal.international}) at {crystal.symprec:g} Å; "
                f"if its coordinates are rounded or measured values, rerun with --symprec {loose:g}"
            )
    return None


def structure_notes(crystal: Any) -> tuple[str, ...]:
    """Every caveat of :mod:`nhm.crystal.caveats` that applies to ``crystal`` (a Crystal)."""
    notes = (symmetry_note(crystal), magnetism_note(crystal), spin_orbit_note(crystal))
    return tuple(n for n in notes if n)
