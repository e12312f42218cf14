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
        m = np.asarray(characters) @ self.projector(time_reversal)
        mi = np.rint(m.real)
        if np.max(np.abs(m - mi), initial=0) > 1e-6 or np.any(mi < 0):
            raise GroupTheoryError(
                f"characters at {self.name or self.k} do not decompose into irreps: {np.round(m, 4)}"
            )
        return mi.astype(int)

    def projector(self, time_reversal: bool = False) -> np.ndarray:
        """The ``(|G_k|, n)`` matrix that turns characters (on ``indices``) into multiplicities of the
        n irreps (co-reps): ``conj(chi_r) / |G_k|``, divided by ``<chi_r, chi_r>`` for co-reps (the
        number of irreps in one)."""
        return self._projectors[time_reversal]

    @cached_property
    def _projectors(self) -> dict[bool, np.ndarray]:
        irreps = np.array([r.characters for r in self.irreps])
        coreps = np.array([r.characters for r in self.coreps])
        norms = np.einsum("ij,ij->i", coreps.conj(), coreps).real / self.order
        return {False: irreps.conj().T / self.order, True: coreps.conj().T / self.order / norms}

    def irrep(self, label: str) -> Irrep | CoRep:
        for r in (*self.irreps, *self.coreps):
            if r.label == label:
                return r
        known = ", ".join(r.label for r in self.irreps)
        raise InputError(f"{self.name or self.k} of space group {self.space_group.number} has no irrep {label!r} (it has {known})")


def _label_sort_key(label: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]


def _match(chars: np.ndarray, table: BcsKPoint, positions: list[int]) -> list[str | None]:
    """BCS labels of the representations with these characters (one per row; None where none matches):
    the first of BCS's irreps whose characters equal ``conj(chi)`` on the little co-group."""
    ref = table.character_table[:, positions]
    close = np.abs(chars.conj()[:, None, :] - ref[None, :, :]).max(axis=-1) < CHARACTER_TOL
    first = close.argmax(axis=1)
    return [table.irreps[j].label if ok else None for j, ok in zip(first.tolist(), close.any(axis=1).tolist())]


@dataclass(frozen=True, eq=False)
class _AtK:
    """What the single- and double-valued little groups at one k-vector share (computed once per k).

    The factor system is ``phase`` (times ``sign`` when double-valued). Time reversal: the coset
    representatives a with a k = -k (``minus``); for each, the position of a^2 in G_k and its phase and
    lift sign (the Herring sum); for the first, a^-1 h a = {E|delta} sign ops[conj] for h in G_k.
    """

    indices: tuple[int, ...]  # coset representatives of G_k / T
    prod: np.ndarray  # g_i g_j = g_prod[i, j] (positions in ``indices``)
    phase: np.ndarray  # exp(-2 pi i k.delta(a, b)) on G_k x G_k
    sign: np.ndarray  # lift signs on G_k x G_k
    minus: tuple[int, ...]
    square_pos: np.ndarray
    square_phase: np.ndarray
    square_sign: np.ndarray
    conj_pos: np.ndarray
    conj_phase: np.ndarray
    conj_sign: np.ndarray

    def herring(self, chars: np.ndarray, double: bool) -> np.ndarray:
        """Herring indicators (+1, -1, 0; 2 if no operation maps k to -k) of irreps with these characters (rows)."""
        if not self.minus:
            return np.full(len(chars), 2)
        factor = self.square_phase * (-self.square_sign if double else 1)  # T^2 = -1 on spinors
        w = (factor * chars[:, self.square_pos]).sum(axis=1) / len(self.indices)
        wi = np.rint(w.real)
        bad = (np.abs(w - wi) > 1e-6) | (np.abs(wi) > 1)
        if bad.any():
            raise GroupTheoryError(f"Herring sum {w[np.argmax(bad)]:.4f} is not -1, 0 or 1")
        return wi.astype(int)

    def partner(self, chars: np.ndarray, double: bool) -> np.ndarray:
        """chi'(h) = conj(chi(a^-1 h a)) for h in G_k: the characters of the time-reversal partner."""
        factor = self.conj_phase * (self.conj_sign if double else 1)
        return np.conj(factor * chars[self.conj_pos])


@cache
def _at_k(g: SpaceGroup, k: Vec3) -> _AtK:
    indices = g.little_cogroup(k)
    table, delta, sign = g.multiplication
    idx = np.array(indices)
    kf = np.array([float(x) for x in k])
    pos = np.full(g.order, -1)
    pos[idx] = np.arange(len(idx))
    prod = pos[table[idx][:, idx]]
    phase = np.exp(-2j * np.pi * np.einsum("ija,a->ij", delta[idx][:, idx], kf))
    minus = g.minus_k_operations(k)
    empty = np.zeros(0, dtype=int)
    if not minus:
        return _AtK(indices, prod, phase, sign[idx][:, idx], (), empty, empty, empty, empty, empty, empty)
    m = np.array(minus)
    cidx, cdelta, csign = g.conjugates(minus[0], indices)
    return _AtK(
        indices, prod, phase, sign[idx][:, idx], minus,
        pos[table[m, m]], np.exp(-2j * np.pi * delta[m, m] @ kf), sign[m, m],
        pos[cidx], np.exp(-2j * np.pi * cdelta @ kf), csign,
    )


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
    at = _at_k(g, k)
    indices = at.indices
    omega = at.phase * at.sign if double else at.phase
    mats = projective_irreps(g.rotations[list(indices)], omega, at.prod)
    chars = np.array([m.trace(axis1=1, axis2=2) for m in mats])
    if name is None:
        labels = [f"k{n + 1}" for n in range(len(mats))]
        order = list(range(len(mats)))
    else:
        bcs_k = g.bcs_table(double, False).kpoint(name)
        positions = _positions(bcs_k, indices, name, g.number)
        labels = _match(chars, bcs_k, positions)
        if any(lbl is None for lbl in labels):
            raise GroupTheoryError(f"an irrep at {name} of SG {g.number} matches no BCS irrep")
        order = sorted(range(len(mats)), key=lambda n: _label_sort_key(labels[n]))  # type: ignore[arg-type]
    herring = at.herring(chars[order], double)
    irreps = tuple(
        Irrep(labels[n], mats[n].shape[1], chars[n], mats[n], int(w)) for n, w in zip(order, herring)  # type: ignore[arg-type]
    )
    coreps = _build_coreps(g, at, name, double, irreps)
    return LittleGroup(g, k, name, double, indices, omega, irreps, coreps)


def _positions(bcs_k: BcsKPoint, indices: tuple[int, ...], name: str, number: int) -> list[int]:
    """Where each of our little co-group's operations stands in BCS's list for this k-vector."""
    bpos = {i: n for n, i in enumerate(bcs_k.operations)}
    if set(bpos) != set(indices):
        raise GroupTheoryError(f"little co-group at {name} of SG {number} differs from BCS's")
    return [bpos[i] for i in indices]


def _build_coreps(g: SpaceGroup, at: _AtK, name: str | None, double: bool, irreps: tuple[Irrep, ...]) -> tuple[CoRep, ...]:
    chars_all = np.array([ir.characters for ir in irreps])
    found: list[tuple[tuple[int, ...], str, np.ndarray]] = []
    used: set[int] = set()
    for n, ir in enumerate(irreps):
        if n in used:
            continue
        w = ir.herring
        if w in (1, 2):
            comps, kind, chars = (n,), ("alone" if w == 1 else "none"), ir.characters
        elif w == -1:
            comps, kind, chars = (n, n), "doubled", 2 * ir.characters
        else:
            partner = at.partner(ir.characters, double)
            match = np.nonzero(np.abs(chars_all - partner).max(axis=1) < 1e-6)[0]
            if len(match) != 1 or match[0] == n:
                raise GroupTheoryError(f"no time-reversal partner for {ir.label} at {name}")
            m = int(match[0])
            comps, kind, chars = (n, m), "paired", ir.characters + irreps[m].characters
        used.update(comps)
        found.append((comps, kind, chars))
    if name is None:
        labels = ["".join(irreps[c].label for c in comps) for comps, _, _ in found]
    else:
        bcs_k = g.bcs_table(double, True).kpoint(name)
        labels = _match(np.array([c for _, _, c in found]), bcs_k, _positions(bcs_k, at.indices, name, g.number))
        for label, (comps, _, _) in zip(labels, found):
            if label is None:
                raise GroupTheoryError(f"co-rep {'+'.join(irreps[c].label for c in comps)} at {name} of SG {g.number} matches no BCS co-rep")
    return tuple(
        CoRep(label, int(round(chars[0].real)), chars, comps, kind)  # type: ignore[arg-type]
        for label, (comps, kind, chars) in zip(labels, found)
    )


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
