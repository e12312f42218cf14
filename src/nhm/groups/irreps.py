"""Irreducible (co-)representations of little groups, single- and double-valued, with BCS labels.

Convention (physics, as spgrep): ``P(g) f(r) = f(g^-1 r)`` and ``D({E|t}) = exp(-2 pi i k.t)`` with k in
the conventional reciprocal basis and t in the conventional direct basis. Characters are given on the
coset representatives of :mod:`nhm.groups.spacegroup` (BCS translations and BCS SU(2) lifts).
BCS characters are the complex conjugates of ours; labels are assigned by comparing ``conj(chi)``
with the irreptables table (science.md §2.1).

Irreps come from :func:`nhm.groups.projective.projective_irreps` (spgrep's kernel, validated, with
fallbacks) fed with our exact factor system ``omega(a, b) = sign(a, b) * exp(-2 pi i k.delta(a, b))``.

Time reversal: irreps are paired by the Herring test in the double group,
``W = (1/|G_k|) sum_{a k = -k} chi((a T)^2)`` with ``T^2 = +1`` (spinless) or ``-1`` (spinor):
W = +1 the irrep is its own co-representation, -1 it is doubled, 0 it pairs with
``chi'(g) = conj(chi(a^-1 g a))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal

import numpy as np

from nhm.errors import GroupTheoryError, InputError
from nhm.groups.bcs import BcsKPoint
from nhm.groups.projective import projective_irreps
from nhm.groups.seitz import Vec3, as_fraction_vector
from nhm.groups.spacegroup import SpaceGroup, as_space_group

CHARACTER_TOL = 1e-3  # BCS tables print 5 significant digits (0.70711)

Reality = Literal["alone", "doubled", "paired", "none"]


@dataclass(frozen=True)
class Irrep:
    """A unitary irrep of the little group G_k (double-valued if ``double``)."""

    label: str
    dimension: int
    characters: np.ndarray  # on LittleGroup.indices, physics convention
    matrices: np.ndarray  # (|indices|, d, d)
    herring: int  # +1, -1, 0; 2 if no operation maps k to -k (T relates k to another star)


@dataclass(frozen=True)
class CoRep:
    """A co-representation with time reversal: one irrep (alone or doubled) or a pair of irreps."""

    label: str
    dimension: int
    characters: np.ndarray  # on the unitary part, physics convention
    components: tuple[int, ...]  # indices into LittleGroup.irreps (repeated when doubled)
    kind: Reality


@dataclass(frozen=True, eq=False)
class LittleGroup:
    space_group: SpaceGroup
    k: Vec3
    name: str | None
    double: bool
    indices: tuple[int, ...]  # coset representatives of G_k / T
    factor_system: np.ndarray
    irreps: tuple[Irrep, ...]
    coreps: tuple[CoRep, ...]

    @property
    def order(self) -> int:
        return len(self.indices)

    def decompose(self, characters: np.ndarray, *, time_reversal: bool = False) -> np.ndarray:
        """Multiplicities of the irreps (or co-reps) in a representation with these characters.

        ``characters`` may be one vector or a stack (one representation per row). Raises
        GroupTheoryError if the multiplicities are not non-negative integers (not a representation).
        """
        basis = self._corep_chars if time_reversal else self._irrep_chars
        m = np.asarray(characters) @ basis.conj().T / self.order
        if time_reversal:
            m = m / self._corep_norms  # <chi_corep, chi_corep> = number of irreps in it
        mi = np.rint(m.real)
        if np.max(np.abs(m - mi), initial=0) > 1e-6 or np.any(mi < 0):
            raise GroupTheoryError(
                f"characters at {self.name or self.k} do not decompose into irreps: {np.round(m, 4)}"
            )
        return mi.astype(int)

    @cached_property
    def _irrep_chars(self) -> np.ndarray:
        return np.array([r.characters for r in self.irreps])

    @cached_property
    def _corep_chars(self) -> np.ndarray:
        return np.array([r.characters for r in self.coreps])

    @cached_property
    def _corep_norms(self) -> np.ndarray:
        c = self._corep_chars
        return np.einsum("ij,ij->i", c.conj(), c).real / self.order

    def irrep(self, label: str) -> Irrep | CoRep:
        for r in (*self.irreps, *self.coreps):
            if r.label == label:
                return r
        known = ", ".join(r.label for r in self.irreps)
        raise InputError(f"{self.name or self.k} of space group {self.space_group.number} has no irrep {label!r} (it has {known})")


def factor_system(g: SpaceGroup, indices: tuple[int, ...], k: Vec3, double: bool) -> np.ndarray:
    table, delta, sign = g.multiplication
    idx = np.array(indices)
    kf = np.array([float(x) for x in k])
    phase = np.exp(-2j * np.pi * np.einsum("ija,a->ij", delta[np.ix_(idx, idx)], kf))
    if double:
        phase = phase * sign[np.ix_(idx, idx)]
    return phase


def _label_sort_key(label: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]


def _match(chars: np.ndarray, table: BcsKPoint, positions: list[int]) -> str | None:
    for r in table.irreps:
        ref = r.characters[positions]
        if np.max(np.abs(np.conj(chars) - ref)) < CHARACTER_TOL:
            return r.label
    return None


@dataclass(frozen=True)
class _TimeReversalData:
    """What the Herring test and the partner search need, computed once per little group."""

    a: int | None  # one operation with a k = -k (None: T relates k to another star)
    count: int  # how many coset representatives map k to -k
    square_pos: np.ndarray  # for each such a: position of a^2's coset rep in G_k
    square_factor: np.ndarray  # exp(-ik.delta) * lift sign * T^2 for each a^2
    conj_pos: np.ndarray  # position of a^-1 h a for h in G_k
    conj_factor: np.ndarray  # its phase and lift sign


def _time_reversal_data(g: SpaceGroup, k: Vec3, indices: tuple[int, ...], double: bool) -> _TimeReversalData:
    minus = g.minus_k_operations(k)
    if not minus:
        empty = np.zeros(0)
        return _TimeReversalData(None, 0, empty.astype(int), empty, empty.astype(int), empty)
    table, delta, sign = g.multiplication
    pos = {i: n for n, i in enumerate(indices)}
    kf = np.array([float(x) for x in k])
    m = np.array(minus)
    sq = table[m, m]
    factor = np.exp(-2j * np.pi * delta[m, m] @ kf)
    if double:
        factor = factor * (-sign[m, m])  # T^2 = -1 on spinors
    a = minus[0]
    cidx, cdelta, csign = g.conjugates(a, indices)
    conj_pos = [pos[j] for j in cidx]
    conj_factor = np.exp(-2j * np.pi * cdelta @ kf) * (csign if double else 1)
    return _TimeReversalData(
        a, len(minus), np.array([pos[i] for i in sq]), factor, np.array(conj_pos), np.array(conj_factor)
    )


def _herring(trd: _TimeReversalData, chars: np.ndarray, order: int) -> int:
    """Herring indicator: +1, -1, 0; 2 if no operation maps k to -k."""
    if trd.a is None:
        return 2
    w = np.sum(trd.square_factor * chars[trd.square_pos]) / order
    wi = round(w.real)
    if abs(w - wi) > 1e-6 or wi not in (-1, 0, 1):
        raise GroupTheoryError(f"Herring sum {w:.4f} is not -1, 0 or 1")
    return wi


def _partner_characters(trd: _TimeReversalData, chars: np.ndarray) -> np.ndarray:
    """chi'(h) = conj(chi(a^-1 h a)) for h in G_k."""
    return np.conj(trd.conj_factor * chars[trd.conj_pos])


def _resolve_k(g: SpaceGroup, k: str | Vec3 | tuple, double: bool) -> tuple[Vec3, str | None, BcsKPoint | None]:
    table = g.bcs_table(double, False)
    if isinstance(k, str):
        name = normalize_k_name(k)
        kp = table.kpoint(name)
        return kp.k, kp.name, kp
    kv = as_fraction_vector(k, 48)
    for kp in table.kpoints:
        if kp.k == kv:
            return kv, kp.name, kp
    return kv, None, None


_ALIASES = {"Γ": "GM", "G": "GM", "GAMMA": "GM", "Gamma": "GM", "GM": "GM"}


def normalize_k_name(name: str) -> str:
    """Accept Γ, G, Gamma for BCS's GM; other names as BCS writes them (case-sensitive after that)."""
    s = name.strip()
    return _ALIASES.get(s, _ALIASES.get(s.upper(), s))


@cache
def little_group_at(g: SpaceGroup, k: Vec3, name: str | None, double: bool) -> LittleGroup:
    """The little group of the exact k-vector ``k`` of ``g`` (conventional reciprocal basis), cached.

    ``name`` is the BCS name of ``k`` if it is one of BCS's maximal k-vectors: the irreps and co-reps
    then carry BCS's labels (checked against BCS's characters); ``None`` leaves them ``k1``, ``k2``, ...
    in the order the irreps were found. :func:`little_group` finds the name (or coordinates) for you.
    """
    number = g.number
    indices = g.little_cogroup(k)
    omega = factor_system(g, indices, k, double)
    table, _, _ = g.multiplication
    pos = {i: n for n, i in enumerate(indices)}
    prod = np.array([[pos[table[i, j]] for j in indices] for i in indices])
    mats = projective_irreps(g.rotations[list(indices)], omega, prod)

    bcs_k = None
    if name is not None:
        bcs_k = g.bcs_table(double, False).kpoint(name)
        bpos = {i: n for n, i in enumerate(bcs_k.operations)}
        if set(bpos) != set(indices):
            raise GroupTheoryError(f"little co-group at {name} of SG {number} differs from BCS's")
        positions = [bpos[i] for i in indices]

    raw = []
    for m in mats:
        chars = np.trace(m, axis1=1, axis2=2)
        label = _match(chars, bcs_k, positions) if bcs_k is not None else None
        raw.append((label, m, chars))
    if bcs_k is not None and any(lbl is None for lbl, _, _ in raw):
        raise GroupTheoryError(f"an irrep at {name} of SG {number} matches no BCS irrep")
    if bcs_k is not None:
        raw.sort(key=lambda x: _label_sort_key(x[0]))
    prefix = name or "k"
    trd = _time_reversal_data(g, k, indices, double)
    irreps = []
    for n, (label, m, chars) in enumerate(raw):
        irreps.append(Irrep(label or f"{prefix}{n + 1}", m.shape[1], chars, m, _herring(trd, chars, len(indices))))
    coreps = _build_coreps(g, name, double, indices, irreps, trd)
    return LittleGroup(g, k, name, double, indices, omega, tuple(irreps), coreps)


def _build_coreps(g, name, double, indices, irreps, trd: _TimeReversalData) -> tuple[CoRep, ...]:
    out: list[CoRep] = []
    used: set[int] = set()
    bcs_k = g.bcs_table(double, True).kpoint(name) if name is not None else None
    if bcs_k is not None:
        bpos = {i: n for n, i in enumerate(bcs_k.operations)}
        positions = [bpos[i] for i in indices]
    for n, ir in enumerate(irreps):
        if n in used:
            continue
        w = ir.herring
        if w in (1, 2):
            comps, kind, chars = (n,), ("alone" if w == 1 else "none"), ir.characters
        elif w == -1:
            comps, kind, chars = (n, n), "doubled", 2 * ir.characters
        else:
            partner = _partner_characters(trd, ir.characters)
            match = [m for m, other in enumerate(irreps) if np.max(np.abs(other.characters - partner)) < 1e-6]
            if len(match) != 1 or match[0] == n:
                raise GroupTheoryError(f"no time-reversal partner for {ir.label} at {name}")
            comps, kind, chars = (n, match[0]), "paired", ir.characters + irreps[match[0]].characters
        used.update(comps)
        label = None
        if bcs_k is not None:
            label = _match(chars, bcs_k, positions)
            if label is None:
                raise GroupTheoryError(f"co-rep {'+'.join(irreps[c].label for c in comps)} at {name} of SG {g.number} matches no BCS co-rep")
        if label is None:
            label = "".join(irreps[c].label for c in comps)
        out.append(CoRep(label, int(round(chars[0].real)), chars, comps, kind))  # type: ignore[arg-type]
    return tuple(out)


def little_group(group: SpaceGroup | int, k: str | Vec3 | tuple, *, double: bool = False) -> LittleGroup:
    """The little group of k with its labelled irreps and time-reversal co-reps.

    ``group`` is a :class:`SpaceGroup` or its number; ``k`` is a BCS k-vector name (``"GM"``, ``"Γ"``,
    ``"H"``, ...) or coordinates in the conventional reciprocal basis (exact Fractions preferred; floats
    are snapped to 1/48).
    """
    if isinstance(k, str):
        key = (group.number if isinstance(group, SpaceGroup) else group, k, double)
        if key not in _BY_NAME:
            g = as_space_group(group)
            kv, name, _ = _resolve_k(g, k, double)
            _BY_NAME[key] = little_group_at(g, kv, name, double)
        return _BY_NAME[key]
    g = as_space_group(group)
    kv, name, _ = _resolve_k(g, k, double)
    return little_group_at(g, kv, name, double)


_BY_NAME: dict[tuple, LittleGroup] = {}  # fast path for the common call with a BCS name
