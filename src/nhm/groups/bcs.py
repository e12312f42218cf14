"""Bilbao (BCS) reference data, read from the files of the PyPI package ``irreptables``.

irreptables ships, per magnetic space group (BNS number), the BCS character tables of the little
groups at the maximal k-vectors (``correptables/``) and the elementary band representations
(``ebrs/``). We read the files ourselves: the package's own reader needs the ``irrep`` package.

Conventions of the files (checked in the tests):
- operations are ``{R|t}`` with ``x -> R x + t`` in the conventional basis of the BCS setting, one per
  rotation (centring translations omitted), each with the SU(2) matrix BCS uses as its lift;
- k-vectors are in the conventional reciprocal basis;
- characters are the complex conjugates of the physics convention ``D({E|t}) = exp(-i k.t)``.

For space group ``n`` the type-I group is the lowest BNS number ``n.m`` and the grey group (with time
reversal) is ``n.(m+1)``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, cached_property

import numpy as np

from nhm.crystal.setting import check_space_group_number
from nhm.errors import InputError


@cache
def _data_dir() -> str:
    import irreptables  # its data files, without importlib.resources or pathlib (tens of ms at start-up)

    return os.path.join(os.path.dirname(irreptables.__file__), "data")


def _read(*parts: str) -> str:
    with open(os.path.join(_data_dir(), *parts), encoding="utf-8") as f:
        return f.read()


@cache
def _frac(x: str, denominator: int = 48) -> Fraction:
    return Fraction(x).limit_denominator(denominator)  # the same few strings recur: parsed once


@dataclass(frozen=True)
class BcsOperation:
    """One coset representative ``{R|t}`` with BCS's SU(2) lift ``S`` (identity for spinless tables)."""

    rotation: tuple[tuple[int, int, int], ...]
    translation: tuple[Fraction, Fraction, Fraction]
    su2: np.ndarray
    antiunitary: bool


@dataclass(frozen=True)
class BcsIrrep:
    """A BCS irrep (or co-representation) of a little group: characters on the listed operations."""

    label: str
    dimension: int
    characters: np.ndarray  # complex, aligned with BcsKPoint.operations


@dataclass(frozen=True)
class BcsKPoint:
    name: str
    k: tuple[Fraction, Fraction, Fraction]  # conventional reciprocal basis
    operations: tuple[int, ...]  # 0-based indices into BcsTable.operations (unitary ones)
    irreps: tuple[BcsIrrep, ...]

    @cached_property
    def character_table(self) -> np.ndarray:
        """(irreps, operations) BCS's characters, one row per irrep."""
        return np.array([r.characters for r in self.irreps])


@dataclass(frozen=True)
class BcsTable:
    bns: str
    name: str
    spinor: bool
    operation_lines: tuple[str, ...] = field(repr=False)  # the file's symmetry lines, read when asked for
    kpoints: tuple[BcsKPoint, ...]

    @cached_property
    def operations(self) -> tuple[BcsOperation, ...]:
        """The coset representatives ``{R|t}`` with their lifts (antiunitary ones too in a grey group)."""
        return _operations(self.operation_lines, self.spinor)

    def kpoint(self, name: str) -> BcsKPoint:
        for kp in self.kpoints:
            if kp.name == name:
                return kp
        known = ", ".join(kp.name for kp in self.kpoints)
        raise InputError(f"space group {self.bns} has no maximal k-vector {name!r} (it has {known})")


def bns_numbers(space_group: int) -> tuple[str, str]:
    """BNS numbers ``(type I, grey)`` of the magnetic groups built on ``space_group``."""
    n = check_space_group_number(space_group)
    minor = _first_minors()[n]
    return f"{n}.{minor}", f"{n}.{minor + 1}"


@cache
def _first_minors() -> dict[int, int]:
    """The lowest BNS minor number ``m`` of ``n.m`` for every space group ``n``, from one directory listing
    (os.listdir: a glob over the ~1900 files costs ten times more at start-up)."""
    out: dict[int, int] = {}
    for name in os.listdir(os.path.join(_data_dir(), "ebrs")):
        stem, _, rest = name.partition("_")
        if rest == "ebrs.json" and "." in stem:  # n.m_ebrs.json (n_ebrs.json are not magnetic groups)
            major, minor = (int(x) for x in stem.split("."))
            out[major] = min(minor, out.get(major, minor))
    return out


def _operations(lines: tuple[str, ...], spinor: bool) -> tuple[BcsOperation, ...]:
    """The symmetry lines: ``R (9 integers) t (3) [|U| (4) phase/pi (4)] [1 or -1: antiunitary]``."""
    rows = [line.split() for line in lines]
    rots = np.array([v[:9] for v in rows], dtype=int).reshape(-1, 3, 3).tolist()
    if spinor:
        mod = np.array([v[12:16] for v in rows], dtype=float)
        phase = np.array([v[16:20] for v in rows], dtype=float)
        su2 = (mod * np.exp(1j * np.pi * phase)).reshape(-1, 2, 2)
    else:
        su2 = np.broadcast_to(np.eye(2, dtype=complex), (len(rows), 2, 2))
    flag = 20 if spinor else 12
    return tuple(
        BcsOperation(
            tuple(tuple(row) for row in r), tuple(_frac(x) for x in v[9:12]), u.copy(), int(v[flag] if len(v) > flag else "1") == -1,  # type: ignore[arg-type]
        )
        for v, r, u in zip(rows, rots, su2)
    )


_KPOINT = re.compile(r"^\s*kpoint\s+(\S+)\s*:(.*):(.*)$")


@cache
def bcs_table(space_group: int, spinor: bool, time_reversal: bool) -> BcsTable:
    """The BCS character table of space group ``space_group`` (grey group if ``time_reversal``)."""
    bns = bns_numbers(space_group)[1 if time_reversal else 0]
    lines = _read("correptables", f"irreps-SG={bns}-{'spin' if spinor else 'scal'}.dat").splitlines()
    header: dict[str, str] = {}
    i = 0
    while not lines[i].strip().lower().startswith("symmetries"):
        key, _, value = lines[i].partition("=")
        header[key.strip().lower()] = value.strip()
        i += 1
    nsym = int(header["nsym"])
    ops = tuple(lines[i + 1 : i + 1 + nsym])
    i += 1 + nsym
    kpoints: list[BcsKPoint] = []
    current: tuple[str, tuple, tuple[int, ...]] | None = None
    rows: list[list[str]] = []

    def flush() -> None:
        if current is not None:
            kpoints.append(BcsKPoint(current[0], current[1], current[2], _irreps(rows, len(current[2]))))

    for line in lines[i:]:
        if not line.strip():
            continue
        m = _KPOINT.match(line)
        if m:
            flush()
            rows = []
            k = tuple(_frac(x, 12) for x in m.group(2).split())
            current = (m.group(1), k, tuple(int(x) - 1 for x in m.group(3).split()))
            continue
        assert current is not None
        rows.append(line.split())
    flush()
    return BcsTable(bns, header.get("name", "").strip(), spinor, ops, tuple(kpoints))


def _irreps(rows: list[list[str]], n: int) -> tuple[BcsIrrep, ...]:
    """The irreps of one k-point: ``label dim |chi_1| ... |chi_n| [phase_1 ... phase_n]`` (chi = |chi| e^{i pi phase})."""
    if not rows:
        return ()
    mod = np.array([v[2 : 2 + n] for v in rows], dtype=float)
    phase = np.array([v[2 + n : 2 + 2 * n] if len(v) >= 2 + 2 * n else ["0"] * n for v in rows], dtype=float)
    chars = mod * np.exp(1j * np.pi * phase)
    return tuple(BcsIrrep(v[0], int(v[1]), c) for v, c in zip(rows, chars))


@dataclass(frozen=True)
class BcsEbr:
    wyckoff: str  # e.g. "2a"
    site_symmetry: str  # BCS's symbol (with 1' for grey groups)
    name: str  # e.g. "A1g↑G(1)"
    vector: tuple[int, ...]  # multiplicities over BcsEbrData.labels


@dataclass(frozen=True)
class BcsEbrData:
    labels: tuple[str, ...]
    dimensions: tuple[int, ...]
    ebrs: tuple[BcsEbr, ...]
    smith_diagonal: tuple[int, ...]


def bcs_ebrs(space_group: int, spinor: bool, time_reversal: bool) -> BcsEbrData:
    """Bilbao's elementary band representations (as shipped by irreptables)."""
    return _bcs_ebrs(space_group, time_reversal)[1 if spinor else 0]


@cache
def _bcs_ebrs(space_group: int, time_reversal: bool) -> tuple[BcsEbrData, BcsEbrData]:
    """Spinless and spinful EBRs of one magnetic group: its file is read once for both."""
    bns = bns_numbers(space_group)[1 if time_reversal else 0]
    raw = json.loads(_read("ebrs", f"{bns}_ebrs.json"))
    return _ebr_data(raw["single"]), _ebr_data(raw["double"])


def _ebr_data(raw: dict) -> BcsEbrData:
    ebrs = []
    for e in raw["ebrs"]:
        wyck, _, site = e["wyckoff_position"].partition("(")
        ebrs.append(BcsEbr(wyck, site.rstrip(")"), e["ebr_name"], tuple(np.rint(e["vector"]).astype(int).tolist())))
    smith = np.atleast_2d(np.array(raw.get("smith_form", {}).get("r", []), dtype=int))  # u A v = r, diagonal
    diag = tuple(int(x) for x in np.diag(smith)) if smith.size else ()
    return BcsEbrData(
        tuple(raw["basis"]["irrep_labels"]),
        tuple(int(d) for d in raw["basis"]["degeneracies"]),
        tuple(ebrs),
        diag,
    )
