"""Bands along the lines of symmetry: states labelled by line irreps, branches, crossings.

Tracing rule (docs/theory.md, "Bands along the lines"). On a line of symmetry two branches that carry
the same line irrep do not cross (the non-crossing rule has one parameter, the position on the
line); branches of different irreps cross freely. So every state at every sample is labelled by its
irrep of the line's little group, the states of each irrep are ordered by energy, and the j-th copy
of irrep X is one continuous branch from end to end: connectivity needs no overlaps of wave
functions. Crossings between branches of different irreps are located between samples by the change
of sign of their energy difference (or a touching within ``TOUCH_TOL_EV``) and placed by linear
interpolation.

Known limits: two crossings of the same pair within one sampling interval cancel and are missed
(the sampling is dense enough that bands of metals do not do this at the default spacing). A line
irrep whose copies run past the top of the labelled states at some samples has *partial* branches:
they are kept, with NaN energies (state −1) where they lie above the labelled states, so a path may use
them only where they are known; ``LineBands.partial`` lists them. A caller that needs every state up to
some energy reruns with more bands until the lowest unlabelled state lies above it at every sample
(:meth:`nhm.bands.zone.ZoneBands.coverage_problems`); then every partial branch is unknown only above it.

The states and traces come from anywhere (DFT plane waves, a tight-binding model): a
``trace_function(start, stop)`` gives the traces of the line's operations on the states
``start:stop`` at one sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from nhm.bands.bloch import DEGENERACY_TOL_EV, degenerate_groups
from nhm.errors import GroupTheoryError
from nhm.groups.lines import LineOfSymmetry

__all__ = ["TOUCH_TOL_EV", "Branch", "Crossing", "LineBands", "label_line_states", "line_bands", "line_samples"]

TOUCH_TOL_EV = 2e-3  # eV: two branches of different irreps closer than this at a sample touch there


@dataclass(frozen=True)
class Branch:
    """One branch along a line: the ``copy``-th (from below) copy of line irrep ``irrep``.

    ``energies`` (n_samples,) in eV, absolute; ``states`` (n_samples,) index of its lowest state in the
    energy-ordered list at each sample (the branch occupies ``states .. states + dimension - 1``).
    """

    irrep: str
    dimension: int
    copy: int
    energies: np.ndarray = field(repr=False)
    states: np.ndarray = field(repr=False)

    @property
    def key(self) -> str:
        return f"{self.irrep}#{self.copy + 1}"

    @property
    def present(self) -> np.ndarray:
        """(n_samples,) True where the branch is among the labelled states (False above them: partial branch)."""
        return self.states >= 0


@dataclass(frozen=True)
class Crossing:
    """Branches ``a`` and ``b`` (indices into LineBands.branches, different irreps) meet between
    samples ``interval`` and ``interval + 1`` at parameter ``s`` and energy ``energy`` (eV)."""

    a: int
    b: int
    interval: int
    s: float
    energy: float


@dataclass(frozen=True)
class LineBands:
    """Bands along one line: samples ``s`` in [0, 1], energies (n, nbands) ascending, labels per state."""

    line: LineOfSymmetry
    s: np.ndarray
    kpts_conventional: np.ndarray
    energies: np.ndarray
    labels: tuple[tuple[str, ...], ...]
    branches: tuple[Branch, ...]
    crossings: tuple[Crossing, ...]
    partial: tuple[tuple[str, int, float], ...] = ()  # (irrep, copy, lowest energy eV) of copies missing at some sample

    @property
    def name(self) -> str:
        return self.line.name

    def first_unlabelled(self) -> np.ndarray:
        """(n,) energy (eV) of the lowest unlabelled state at each sample (inf if every computed state is labelled)."""
        out = np.full(len(self.s), np.inf)
        for i, row in enumerate(self.labels):
            free = [n for n, lbl in enumerate(row) if not lbl]
            if free:
                out[i] = self.energies[i, free[0]]
        return out


def line_samples(line: LineOfSymmetry, spacing: float, minimum: int = 8) -> tuple[Fraction, ...]:
    """Exact parameters s = j/n (j = 0..n) with n = max(minimum, ceil(length / spacing)).

    ``spacing`` in the units of ``line.length`` (1/Å without 2π when the crystal's metric was used).
    """
    n = max(minimum, int(np.ceil(line.length / spacing - 1e-9)))
    return tuple(Fraction(j, n) for j in range(n + 1))


def label_line_states(
    line: LineOfSymmetry,
    k_conventional: np.ndarray,
    energies: np.ndarray,
    trace_function: Callable[[int, int], np.ndarray],
    *,
    nbands: int | None = None,
    tol: float = DEGENERACY_TOL_EV,
    complete: bool = False,
) -> tuple[str, ...]:
    """Line irrep of every state at one sample (one label per state; degenerate groups labelled together).

    ``energies`` ascending (eV). Groups that start at or beyond ``nbands`` are left unlabelled (""), and
    so is a group that touches the last computed band unless ``complete`` (all bands of a model were
    computed; a DFT run computes a few bands more than it converges and the last group may be cut).
    """
    e = np.asarray(energies, dtype=float)
    limit = len(e) if nbands is None else min(nbands, len(e))
    labels = [""] * len(e)
    lg = line.little_group()
    dims = {r.label: r.dimension for r in lg.irreps}
    for start, stop in degenerate_groups(e, tol):
        if start >= limit or (stop == len(e) and not complete):
            continue
        counts = line.label_traces(k_conventional, trace_function(start, stop))
        out = [lbl for lbl in sorted(counts) for _ in range(counts[lbl] * dims[lbl])]
        if len(out) != stop - start:
            raise GroupTheoryError(f"states {start}:{stop} on {line.name} decompose into {len(out)} dimensions")
        labels[start:stop] = out
    return tuple(labels)


def line_bands(
    line: LineOfSymmetry,
    s: Sequence[float] | np.ndarray,
    energies: np.ndarray,
    labels: Sequence[Sequence[str]],
) -> LineBands:
    """Branches and crossings from labelled states at the samples ``s`` (ascending, 0 and 1 included)."""
    s = np.asarray(s, dtype=float)
    e = np.asarray(energies, dtype=float)
    lg = line.little_group()
    dims = {r.label: r.dimension for r in lg.irreps}
    # states of each irrep, by energy, at every sample
    per_sample: list[dict[str, list[int]]] = []
    for i in range(len(s)):
        d: dict[str, list[int]] = {}
        for n, lbl in enumerate(labels[i]):
            if lbl:
                d.setdefault(lbl, []).append(n)
        per_sample.append(d)
    branches: list[Branch] = []
    partial: list[tuple[str, int, float]] = []
    for lbl in sorted(dims):
        dim = dims[lbl]
        counts = [len(d.get(lbl, [])) // dim for d in per_sample]
        for c in range(max(counts, default=0)):
            states = np.array([d[lbl][c * dim] if counts[i] > c else -1 for i, d in enumerate(per_sample)])
            en = np.array([np.mean(e[i, d[lbl][c * dim : (c + 1) * dim]]) if counts[i] > c else np.nan
                           for i, d in enumerate(per_sample)])
            branches.append(Branch(lbl, dim, c, en, states))
            if c >= min(counts):
                partial.append((lbl, c, float(np.nanmin(en))))
    crossings = _crossings(branches, s)
    return LineBands(line, s, line.k_at(s), e, tuple(tuple(x) for x in labels), tuple(branches), crossings, tuple(partial))


def _crossings(branches: Sequence[Branch], s: np.ndarray) -> tuple[Crossing, ...]:
    out: list[Crossing] = []
    n = len(s)
    if n < 3:
        return ()
    for a in range(len(branches)):
        for b in range(a + 1, len(branches)):
            if branches[a].irrep == branches[b].irrep:
                continue  # the non-crossing rule
            d = branches[a].energies - branches[b].energies  # NaN where either is unknown: no crossing there
            # interior samples only: at the ends, branches from one level of the point are degenerate
            with np.errstate(invalid="ignore"):
                touch = np.abs(d) < TOUCH_TOL_EV
            for i in range(1, n - 1):
                if touch[i] and not touch[i - 1]:
                    out.append(Crossing(a, b, i, float(s[i]), float(branches[a].energies[i])))
            for i in range(n - 1):
                if touch[i] or touch[i + 1] or np.isnan(d[i]) or np.isnan(d[i + 1]):
                    continue
                if d[i] * d[i + 1] < 0:
                    t = d[i] / (d[i] - d[i + 1])
                    si = float(s[i] + t * (s[i + 1] - s[i]))
                    ei = float(branches[a].energies[i] + t * (branches[a].energies[i + 1] - branches[a].energies[i]))
                    out.append(Crossing(a, b, i, si, ei))
    out.sort(key=lambda c: (c.s, c.a, c.b))
    return tuple(out)


def branch_spinors(lb: LineBands) -> dict[str, Counter]:
    """X ⊗ D½ (double-valued line irreps) for every line irrep X present."""
    return {br.irrep: lb.line.spinor_of(br.irrep) for br in lb.branches}
