"""The Bilbao (BCS) setting of the 230 space groups.

BCS tables use the ITA standard setting: unique axis b and cell choice 1 for monoclinic groups,
origin choice 2 for the 24 groups that have two origins, and hexagonal axes for the seven R groups.
spglib's default Hall number is origin choice 1 for those 24 groups, so we pick Hall numbers here.

Bases: ``a_p = a_c P`` turns the conventional cell into the BCS primitive cell, reciprocal
coordinates transform as ``k_p = P^T k_c`` and direct ones as ``x_p = P^{-1} x_c``.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from functools import cache

import spglib

from nhm.errors import InputError

F = Fraction
_H = F(1, 2)
_T = F(1, 3)

# Primitive cells (columns are the primitive vectors in conventional coordinates), as in BCS/KVEC.
_PRIMITIVE: dict[str, tuple[tuple[Fraction, ...], ...]] = {
    "P": ((F(1), F(0), F(0)), (F(0), F(1), F(0)), (F(0), F(0), F(1))),
    "A": ((F(1), F(0), F(0)), (F(0), _H, -_H), (F(0), _H, _H)),
    "C": ((_H, _H, F(0)), (-_H, _H, F(0)), (F(0), F(0), F(1))),
    "I": ((-_H, _H, _H), (_H, -_H, _H), (_H, _H, -_H)),
    "F": ((F(0), _H, _H), (_H, F(0), _H), (_H, _H, F(0))),
    "R": ((2 * _T, -_T, -_T), (_T, _T, -2 * _T), (_T, _T, _T)),
}

# Centring translations of the conventional cell (besides 0,0,0).
_CENTERING: dict[str, tuple[tuple[Fraction, Fraction, Fraction], ...]] = {
    "P": (),
    "A": ((F(0), _H, _H),),
    "C": ((_H, _H, F(0)),),
    "I": ((_H, _H, _H),),
    "F": ((F(0), _H, _H), (_H, F(0), _H), (_H, _H, F(0))),
    "R": ((2 * _T, _T, _T), (_T, 2 * _T, 2 * _T)),
}


def check_space_group_number(number: int) -> int:
    """Return ``number`` if it names one of the 230 space groups, else raise InputError."""
    try:
        n = int(number)
    except (TypeError, ValueError):
        raise InputError(f"space group must be a number from 1 to 230, got {number!r}") from None
    if not 1 <= n <= 230 or str(number).strip() not in (str(n), f"{n}.0"):
        raise InputError(f"space group must be a number from 1 to 230, got {number!r}")
    return n


@cache
def spacegroup_type(hall: int):
    """spglib's space-group type of a Hall number (its deprecation chatter silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return spglib.get_spacegroup_type(hall)


@cache
def _hall_numbers(number: int) -> list[int]:
    """spglib's Hall numbers of space group ``number`` (they run in order of the group number: bisection,
    about 10 look-ups instead of all 530 at every start)."""
    lo, hi = 1, 531
    while lo < hi:  # the first Hall number whose group is >= number
        mid = (lo + hi) // 2
        if spacegroup_type(mid).number < number:
            lo = mid + 1
        else:
            hi = mid
    halls = []
    while lo <= 530 and spacegroup_type(lo).number == number:
        halls.append(lo)
        lo += 1
    return halls


@cache
def bcs_hall_number(number: int) -> int:
    """spglib Hall number of the BCS setting of space group ``number``."""
    halls = _hall_numbers(check_space_group_number(number))
    for hall in halls:
        if spacegroup_type(hall).choice == "2":
            return hall
    return halls[0]  # spglib's default: ITA standard (b-unique, cell choice 1, hexagonal axes)


def lattice_centering(number: int) -> str:
    """One of P, A, C, I, F, R (R only for the rhombohedral groups in hexagonal axes)."""
    symbol = spacegroup_type(bcs_hall_number(number)).international_short
    return symbol[0]


def centering_vectors(number: int) -> tuple[tuple[Fraction, Fraction, Fraction], ...]:
    """Centring translations (conventional coordinates), the zero vector included first."""
    zero = (F(0), F(0), F(0))
    return (zero, *_CENTERING[lattice_centering(number)])


def primitive_transform(number: int) -> tuple[tuple[Fraction, ...], ...]:
    """The matrix P (rows of a 3x3, exact) with ``a_p = a_c P`` for the BCS primitive cell."""
    return _PRIMITIVE[lattice_centering(number)]


def setting_summary(number: int) -> dict:
    """JSON-ready description of the BCS setting of space group ``number``."""
    n = check_space_group_number(number)
    hall = bcs_hall_number(n)
    t = spacegroup_type(hall)
    choice = t.choice
    words = {"1": "origin choice 1", "2": "origin choice 2", "H": "hexagonal axes", "R": "rhombohedral axes"}
    description = words.get(choice, f"ITA standard setting{f' ({choice})' if choice else ''}")
    return {
        "symbol": t.international_short,
        "full_symbol": t.international_full,
        "hall_number": hall,
        "hall_symbol": t.hall_symbol,
        "choice": choice,
        "description": description,
        "centering": lattice_centering(n),
        "primitive_transform": [[str(x) for x in row] for row in primitive_transform(n)],
    }
