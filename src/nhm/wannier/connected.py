"""Connected superconducting bands: level choices at the points of symmetry joined along every line.

A candidate (docs/theory.md, "Superconducting bands as bands") is
- a choice of level(s) at every point of symmetry that passes Krüger's test S (reading R1: the levels'
  spinor representation equals the induced one; R2: a level's spinor representation contains it) or
  test U (the usual band), for one site representation on the Wannier centres, and
- a continuous path along every line of symmetry between the chosen levels at its two ends.

Along a line the band carries the double-valued line representation σ_L that the site
representation induces there (continuity fixes it along the whole open line). At every sample the
band occupies a *state*: branches of the line's band structure (:mod:`nhm.bands.lines`) with
- R1 (and R2): branches of total dimension μ whose spinor representation ⊕ X ⊗ D½ equals σ_L;
- R2 only: one branch of dimension > μ whose X ⊗ D½ contains σ_L;
- test U: branches of total dimension μ whose single-valued irreps equal the induced ones.
The path starts on branches attached to the chosen level(s) (same energy, irrep in the subduction)
and may pass from one branch to another only at a crossing of the two where the new state is again
valid, i.e. where the double-group representation carried by the band is common to both branches.
For test U no switch is ever valid (branches of equal single-valued irreps do not cross), so a usual
band follows its branches. Identical bands found under several readings are reported once, under
the strictest reading (U before R1 before R2).

A band whose *level set* passes test U at the points for some single-valued site representation of the
centres is a usual band, whatever path it takes between them (science.md §3: a superconducting band
fails test U at the points for every such representation): a path with a detour through a crossing does
not make it superconducting. Such candidates are reported as usual, with the site representations under
which their levels pass U (``usual_sites``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations, product

import numpy as np

from nhm.bandrep.induce import induction
from nhm.bands.lines import LineBands
from nhm.bands.symmetry import BandSymmetry, points_of_symmetry_names
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.wyckoff import WyckoffPosition
from nhm.wannier.krueger import Reading, band_spinor, contains, site_representation_choices

__all__ = [
    "ATTACH_TOL_EV",
    "MAX_PATHS_PER_LINE",
    "ConnectedCandidate",
    "ConnectedSearch",
    "LevelChoice",
    "LinePath",
    "Switch",
    "carries",
    "connected_search",
    "level_sets",
    "levels_in_window",
]

ATTACH_TOL_EV = 5e-3  # eV: a branch ends on a level of the point when their energies agree this well
MAX_PATHS_PER_LINE = 256  # paths enumerated per line and pair of end choices (a note says when it was hit)
MAX_CANDIDATES = 20000


@dataclass(frozen=True)
class LevelChoice:
    """A level at a point of symmetry (energy eV absolute, single-valued BCS irrep, dimension; 0: the irrep's)."""

    k: str
    energy: float
    irrep: str
    dimension: int = 0


@dataclass(frozen=True)
class Switch:
    """The band passes from branch ``from_branch`` to ``to_branch`` at parameter ``s`` on the line (energy eV)."""

    s: float
    energy: float
    from_branch: str
    to_branch: str
    interval: int


@dataclass(frozen=True)
class LinePath:
    """The band along one line: the branches it occupies at each sample, its energies and state indices.

    ``states[i]``: branch indices (into ``LineBands.branches``) at sample i; ``energies`` (n, μ) eV
    absolute; ``indices`` (n, μ) positions of those energies in the energy-ordered list at each sample.
    """

    line: str
    states: tuple[tuple[int, ...], ...]
    switches: tuple[Switch, ...]
    representation: tuple[tuple[str, int], ...]  # σ_L: the line irreps the band carries (double-valued; single for U)
    energies: np.ndarray = field(repr=False, compare=False)
    indices: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class ConnectedCandidate:
    """A connected band that passes test S (``verdict`` superconducting) or test U (usual)."""

    verdict: str
    reading: str  # "R1", "R2" (test S) or "U"
    levels: tuple[LevelChoice, ...]
    site_representations: tuple[tuple[str, ...], ...]
    paths: tuple[LinePath, ...]
    usual_sites: tuple[tuple[str, ...], ...] = ()  # single-valued site reps under which the level set passes test U

    def band_text(self) -> str:
        per_k: dict[str, list[str]] = {}
        for lv in self.levels:
            per_k.setdefault(lv.k, []).append(lv.irrep)
        return " ".join(f"{k}:{','.join(v)}" for k, v in per_k.items())

    @property
    def switches(self) -> int:
        return sum(len(p.switches) for p in self.paths)

    def line_energies(self) -> np.ndarray:
        return np.concatenate([p.energies.ravel() for p in self.paths]) if self.paths else np.zeros(0)


@dataclass(frozen=True)
class ConnectedSearch:
    space_group: int
    centres: tuple[str, ...]
    mu: int
    fermi_level: float
    window: tuple[float, float]
    superconducting: tuple[ConnectedCandidate, ...]
    usual: tuple[ConnectedCandidate, ...]
    unconnected: int  # level choices that pass a test at the points but that no path joins
    notes: tuple[str, ...] = ()


# --- states on a line ------------------------------------------------------------------------------


class _LineStates:
    """Valid states of one line for one σ_L (a reading and a site representation), memoized."""

    def __init__(self, lb: LineBands, sigma: Counter, reading: str, mu: int) -> None:
        self.lb = lb
        self.mu = mu
        self.sigma = tuple(sorted(sigma.items()))
        spin = {b: lb.line.spinor_of(br.irrep) for b, br in enumerate(lb.branches)} if reading != "U" else {}
        valid: set[tuple[int, ...]] = set()
        dims = [br.dimension for br in lb.branches]
        n = len(lb.branches)
        for size in range(1, mu + 1):
            for combo in combinations(range(n), size):
                if sum(dims[b] for b in combo) != mu:
                    continue
                if reading == "U":
                    total = Counter()
                    for b in combo:
                        total[lb.branches[b].irrep] += 1
                else:
                    total = Counter()
                    for b in combo:
                        total += spin[b]
                if total == sigma:
                    valid.add(combo)
        if reading == "R2":
            for b in range(n):
                if dims[b] > mu and contains(spin[b], sigma):
                    valid.add((b,))
        self.valid = valid

    def attached(self, levels: Sequence[LevelChoice], end: str) -> list[tuple[int, ...]]:
        """Valid states whose branches all end on the chosen ``levels`` at ``end`` and use each of them."""
        i = 0 if end == "start" else -1
        lb = self.lb
        per_level = []
        for lv in levels:
            sub = lb.line.subduce(end, lv.irrep)
            per_level.append(
                {b for b, br in enumerate(lb.branches) if abs(br.energies[i] - lv.energy) < ATTACH_TOL_EV and sub.get(br.irrep, 0) > 0}
            )
        allowed = set().union(*per_level) if per_level else set()
        return [st for st in self.valid if set(st) <= allowed and all(set(st) & p for p in per_level)]


def _next_absent(lb: LineBands) -> np.ndarray:
    """(branches, n + 1): the first sample at or after i where the branch is unknown (n if none)."""
    n = len(lb.s)
    out = np.full((len(lb.branches), n + 1), n, dtype=int)
    for b, br in enumerate(lb.branches):
        present = br.present
        for i in range(n - 1, -1, -1):
            out[b, i] = i if not present[i] else out[b, i + 1]
    return out


def _paths(ls: _LineStates, starts: list[tuple[int, ...]], ends: set[tuple[int, ...]]) -> tuple[list[tuple], bool]:
    """All switch sequences from a start state to an end state: [(start, ((event, new_state), ...))].

    A state may be held only over samples where all its branches are known (a partial branch is unknown
    above the labelled states: a path may use it only where it is known)."""
    events = ls.lb.crossings
    n = len(ls.lb.s)
    absent = _next_absent(ls.lb)
    out: list[tuple] = []
    truncated = False

    def walk(state: tuple[int, ...], i: int, since: int, switches: tuple) -> None:
        nonlocal truncated
        if len(out) >= MAX_PATHS_PER_LINE:
            truncated = True
            return
        stop = min(int(absent[b, since]) for b in state)  # the state is known on samples since … stop − 1
        for j in range(i, len(events)):
            e = events[j]
            if e.interval >= stop:
                break  # events are ordered along the line: the state is unknown before this one
            if (e.a in state) == (e.b in state):
                continue
            old, new = (e.a, e.b) if e.a in state else (e.b, e.a)
            nxt = tuple(sorted(new if b == old else b for b in state))
            if nxt in ls.valid:
                walk(nxt, j + 1, e.interval + 1, (*switches, (j, nxt)))
        if state in ends and stop == n:
            out.append((start_state, switches))

    for start_state in starts:
        walk(start_state, 0, 0, ())
    return out, truncated


def _line_path(ls: _LineStates, start: tuple[int, ...], switches: tuple) -> LinePath:
    lb = ls.lb
    n = len(lb.s)
    states = [start] * n
    sw = []
    current = start
    for j, nxt in switches:
        e = lb.crossings[j]
        for i in range(e.interval + 1, n):
            states[i] = nxt
        old = (set(current) - set(nxt)).pop()
        new = (set(nxt) - set(current)).pop()
        sw.append(Switch(e.s, e.energy, lb.branches[old].key, lb.branches[new].key, e.interval))
        current = nxt
    mu = ls.mu
    energies = np.empty((n, mu))
    indices = np.empty((n, mu), dtype=int)
    for i, st in enumerate(states):
        es, ix = [], []
        for b in st:
            br = lb.branches[b]
            take = br.dimension if len(st) > 1 or br.dimension <= mu else mu
            take = min(take, mu - len(es))
            es += [br.energies[i]] * take
            ix += [int(br.states[i]) + t for t in range(take)]
        energies[i] = es
        indices[i] = ix
    return LinePath(lb.name, tuple(states), tuple(sw), ls.sigma, energies, indices)


# --- the search ------------------------------------------------------------------------------------


def _level_set_key(per_k: dict[str, Counter]) -> tuple:
    return tuple(sorted((k, tuple(sorted(c.elements()))) for k, c in per_k.items()))


def _usual_level_sets(number: int, centres, dims, names) -> dict[tuple, set[tuple[str, ...]]]:
    """Level sets (single-valued irreps per point) that pass test U, with the site representations that induce them."""
    out: dict[tuple, set[tuple[str, ...]]] = {}
    for site_names, induced in site_representation_choices(number, centres, dims, False, False):
        key = _level_set_key({k: induced.get(k, Counter()) for k in names})
        out.setdefault(key, set()).add(site_names)
    return out


def levels_in_window(
    levels: Sequence[LevelChoice], number: int, fermi_level: float, window: tuple[float, float],
) -> dict[str, list[LevelChoice]]:
    """The levels within ``window`` (eV relative to E_F) at each point of symmetry of space group ``number``, their
    dimensions filled in from the irreps. InputError for a level at another point, or a point left without one."""
    by_k: dict[str, list[LevelChoice]] = {k: [] for k in points_of_symmetry_names(number)}
    for lv in levels:
        if lv.k not in by_k:
            raise InputError(f"level at {lv.k!r}, which is not a point of symmetry of space group {number}")
        dim = lv.dimension or little_group(number, lv.k).irrep(lv.irrep).dimension
        if window[0] <= lv.energy - fermi_level <= window[1]:
            by_k[lv.k].append(LevelChoice(lv.k, lv.energy, lv.irrep, dim))
    empty = [k for k, v in by_k.items() if not v]
    if empty:
        raise InputError(f"no levels within {window} eV of E_F at {', '.join(empty)}: widen the window")
    return by_k


def level_sets(levels: list[LevelChoice], mu: int, reading: str) -> list[tuple[LevelChoice, ...]]:
    """The choices of levels at one point a band of μ branches can take: total dimension μ (R1, U), or under R2 also
    any single level of dimension > μ."""
    out: list[tuple[LevelChoice, ...]] = []
    for size in range(1, mu + 1):
        for combo in combinations(levels, size):
            dim = sum(lv.dimension for lv in combo)
            if dim == mu or (reading == "R2" and size == 1 and dim > mu):
                out.append(combo)
    return out


def carries(number: int, k: str, levels: Sequence[LevelChoice], want: Counter, reading: str) -> bool:
    """Do ``levels`` at point ``k`` carry ``want``, the representation the site representation induces there: the
    same single-valued irreps (test U), the same spinor representation (test S, R1), or one that contains it (R2)?"""
    if reading == "U":
        return Counter(lv.irrep for lv in levels) == want
    spin = band_spinor(BandSymmetry(number, {k: tuple(lv.irrep for lv in levels)}), k)
    return spin == want if reading == "R1" else contains(spin, want)


def connected_search(
    levels: Sequence[LevelChoice],
    lines: Sequence[LineBands],
    number: int,
    centres: Sequence[WyckoffPosition],
    *,
    fermi_level: float = 0.0,
    window: tuple[float, float] = (-6.0, 6.0),
    readings: Sequence[Reading] = ("R1", "R2"),
    kramers: bool = False,
    wfs_per_atom: int = 1,
) -> ConnectedSearch:
    """Every connected band within ``window`` (eV relative to E_F) that passes test S or test U."""
    names = points_of_symmetry_names(number)
    by_k = levels_in_window(levels, number, fermi_level, window)
    missing = [k for k in names if not any(k in (lb.line.start, lb.line.end) for lb in lines)]
    if missing and len(names) > 1:
        raise InputError(f"no line of symmetry reaches {', '.join(missing)}: the bands cannot be traced there")
    mu = sum(len(induction(number, w.point()).orbit) * wfs_per_atom for w in centres)
    dims = [wfs_per_atom] * len(centres)

    found: dict[tuple, dict] = {}  # band identity -> {"reading", "sites", "levels", "paths"}
    notes: list[str] = []
    truncated_lines: set[str] = set()
    unconnected = 0
    order = {"U": 0, "R1": 1, "R2": 2}
    tests = [("U", False)] + [(r, True) for r in readings]
    state_memo: dict[tuple, _LineStates] = {}
    path_memo: dict[tuple, list[LinePath]] = {}

    for reading, double in tests:
        sets = {k: level_sets(by_k[k], mu, "R1" if reading == "U" else reading) for k in names}
        for site_names, induced in site_representation_choices(number, centres, dims, double, kramers and double):
            allowed = {k: [c for c in sets[k] if carries(number, k, c, induced.get(k, Counter()), reading)] for k in names}
            if not all(allowed.values()):
                continue
            # σ_L on every line, from the induced representation at its start
            line_states = []
            for lb in lines:
                sigma: Counter = Counter()
                for label, m in induced.get(lb.line.start, Counter()).items():
                    for lbl, x in lb.line.subduce("start", label, double=double).items():
                        sigma[lbl] += m * x
                key = (lb.name, reading, tuple(sorted(sigma.items())))
                if key not in state_memo:
                    state_memo[key] = _LineStates(lb, sigma, reading, mu)
                line_states.append((key, state_memo[key]))

            def paths_for(i: int, a: tuple[LevelChoice, ...], b: tuple[LevelChoice, ...]) -> list[LinePath]:
                key, ls = line_states[i]
                pkey = (key, a, b)
                if pkey not in path_memo:
                    starts = ls.attached(a, "start")
                    ends = set(ls.attached(b, "end"))
                    raw, cut = _paths(ls, starts, ends) if starts and ends else ([], False)
                    if cut:
                        truncated_lines.add(ls.lb.name)
                    path_memo[pkey] = [_line_path(ls, st, sw) for st, sw in raw]
                return path_memo[pkey]

            # backtracking over the points: a line is checked as soon as both its ends are chosen
            choice: dict[str, tuple[LevelChoice, ...]] = {}

            def assign(pos: int) -> None:
                nonlocal unconnected
                if len(found) >= MAX_CANDIDATES:
                    return
                if pos == len(names):
                    per_line = [paths_for(i, choice[lb.line.start], choice[lb.line.end]) for i, lb in enumerate(lines)]
                    for combo in product(*per_line):
                        ident = (
                            tuple(lv for k in names for lv in choice[k]),
                            tuple(p.states for p in combo),
                        )
                        entry = found.get(ident)
                        if entry is None or order[reading] < order[entry["reading"]]:
                            found[ident] = {"reading": reading, "sites": {site_names}, "levels": ident[0], "paths": combo}
                        elif entry["reading"] == reading:
                            entry["sites"].add(site_names)
                    return
                k = names[pos]
                for combo in allowed[k]:
                    choice[k] = combo
                    ok = True
                    for i, lb in enumerate(lines):
                        ends = (lb.line.start, lb.line.end)
                        if k in ends and all(e in choice and names.index(e) <= pos for e in ends):
                            if not paths_for(i, choice[ends[0]], choice[ends[1]]):
                                ok = False
                                break
                    if ok:
                        assign(pos + 1)
                    else:
                        unconnected += 1
                    del choice[k]

            assign(0)

    if truncated_lines:
        notes.append(
            f"more than {MAX_PATHS_PER_LINE} paths between the same levels on {', '.join(sorted(truncated_lines))}: "
            "only the first were enumerated"
        )
    if len(found) >= MAX_CANDIDATES:
        notes.append(f"stopped after {MAX_CANDIDATES} connected bands: narrow the window")
    usual_sets = _usual_level_sets(number, centres, dims, names)
    sc, us = [], []
    for entry in found.values():
        per_k: dict[str, Counter] = {k: Counter() for k in names}
        for lv in entry["levels"]:
            per_k[lv.k][lv.irrep] += 1
        usual_sites = tuple(sorted(usual_sets.get(_level_set_key(per_k), ())))
        cand = ConnectedCandidate(
            "usual" if entry["reading"] == "U" or usual_sites else "superconducting",
            entry["reading"],
            entry["levels"],
            tuple(sorted(entry["sites"])),
            tuple(entry["paths"]),
            usual_sites,
        )
        (us if cand.verdict == "usual" else sc).append(cand)
    return ConnectedSearch(
        number, tuple(w.label for w in centres), mu, fermi_level, window, tuple(sc), tuple(us), unconnected, tuple(notes)
    )
