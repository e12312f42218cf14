"""Lines of symmetry: the straight segments of k that join the points of symmetry.

A line ``P -> Q'`` joins a point of symmetry P (its BCS representative) to an image Q' of a point of
symmetry Q (a star image plus a reciprocal-lattice vector) such that every interior point has the same
little co-group G_L with |G_L| >= 2, and no point of symmetry lies inside it. Of the images of Q only
the shortest segments are kept, one per class under G_P (Cartesian length with the crystal's metric;
a default metric of the lattice system otherwise). These are the lines of Bilbao's tables (bcc:
Γ–H, Γ–N, Γ–P, H–N, H–P, N–P); they are named here by their ends (``GM-H``), as no table of
Bilbao's line names is at hand, and their irreps ``GM-H.1``, ``GM-H.2``, ... (numbered by dimension,
then by their characters at the reference point, so the numbering never changes); double-valued ones ``-GM-H.1``, ... as Bilbao
marks double-valued irreps with a leading minus.

Irreps along a line [derived]. All points ``k = k0 + δ`` of the line share G_L, and ``R^T δ = δ`` for
R in G_L (conventional reciprocal coordinates), so ``D_k(g) = D_k0(g) exp(-2πi δ·t_g)`` maps the
irreps at the reference point k0 to those at k (physics convention). Labels, subduction of the
irreps at the ends (compatibility relations) and the labelling of Bloch states anywhere on the line
all go through this phase.

If the lines found do not connect all points of symmetry (low-symmetry groups), the shortest
segments with trivial G_L are added until they do (a spanning forest by length): along such a
segment there is a single irrep and bands cannot cross.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property
from itertools import product
from math import lcm

import numpy as np

from nhm.crystal.setting import lattice_centering
from nhm.errors import GroupTheoryError
from nhm.groups.exact import inverse
from nhm.groups.irreps import LittleGroup, little_group, little_group_at
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.seitz import Vec3
from nhm.groups.spacegroup import SpaceGroup, as_space_group, space_group

__all__ = ["LineOfSymmetry", "lines_of_symmetry", "default_metric"]

_PROBES = (Fraction(1, 3), Fraction(2, 5), Fraction(3, 7), Fraction(2, 7), Fraction(4, 9), Fraction(5, 11))  # interior probes
_LENGTH_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class LineOfSymmetry:
    """A line ``start -> end`` between two points of symmetry (conventional reciprocal coordinates, exact).

    ``k_start`` is the BCS representative of ``start``; ``k_end`` the image of ``end`` that the line
    reaches. ``k_ref`` is the interior reference point whose little group labels the line's irreps.
    ``length`` in 1/Å (without 2π) with the metric the lines were built with.
    """

    space_group: int
    start: str
    end: str
    k_start: Vec3
    k_end: Vec3
    k_ref: Vec3
    s_ref: Fraction
    length: float
    tag: str = ""  # "(2)", "(3)" for further inequivalent lines between the same two points

    @property
    def name(self) -> str:
        return f"{self.start}-{self.end}{self.tag}"

    @cached_property
    def group(self) -> SpaceGroup:
        """The space group (``space_group`` is its number)."""
        return space_group(self.space_group)

    def k_at(self, s: float | np.ndarray) -> np.ndarray:
        """Conventional coordinates (floats) of ``k_start + s (k_end - k_start)``; ``s`` scalar or array."""
        a = np.array([float(x) for x in self.k_start])
        b = np.array([float(x) for x in self.k_end])
        return a + np.multiply.outer(np.asarray(s, dtype=float), b - a)

    def little_group(self, double: bool = False) -> LittleGroup:
        """Little group at the reference point, its irreps labelled ``<name>.<n>``."""
        return _line_little_group(self.group, self.k_ref, self.name, double)

    @cached_property
    def translations(self) -> np.ndarray:
        """(|G_L|, 3) translations t_g (conventional, floats) of the line's coset representatives."""
        ops = self.group.operations
        return np.array([[float(x) for x in ops[i].translation] for i in self.little_group().indices])

    def phase_to_reference(self, k_conventional: np.ndarray) -> np.ndarray:
        """exp(+2πi (k - k_ref)·t_g) for each line operation: multiplies traces at k into the frame of k_ref."""
        d = np.asarray(k_conventional, dtype=float) - np.array([float(x) for x in self.k_ref])
        return np.exp(2j * np.pi * (self.translations @ d))

    def label_traces(
        self, k_conventional: np.ndarray, traces: np.ndarray, double: bool = False, tolerance: float = 0.05
    ) -> Counter:
        """Line irreps (with multiplicity) of a representation with ``traces`` (on the line's operations) at k.

        Numerical traces are accepted: multiplicities must lie within ``tolerance`` of non-negative
        integers (as for Bloch states at the points of symmetry), else GroupTheoryError.
        """
        lg = self.little_group(double)
        chi = np.asarray(traces) * self.phase_to_reference(k_conventional)
        m = np.array([np.vdot(r.characters, chi) for r in lg.irreps]) / lg.order
        mi = np.rint(m.real)
        if np.max(np.abs(m - mi)) > tolerance or np.any(mi < 0):
            raise GroupTheoryError(
                f"states on {self.name} at k = {np.round(k_conventional, 4).tolist()} do not decompose into line irreps: "
                + ", ".join(f"{r.label}: {x.real:.3f}{x.imag:+.3f}i" for r, x in zip(lg.irreps, m) if abs(x) > 1e-3)
            )
        return Counter({r.label: int(x) for r, x in zip(lg.irreps, mi) if x})

    def subduce(self, end: str, irrep: str, *, double: bool = False) -> Counter:
        """Line irreps in the point irrep ``irrep`` at the end ``end`` ("start" or "end"), with multiplicities."""
        return _subduce(self, end, irrep, double)

    def spinor_of(self, irrep: str) -> Counter:
        """The double-valued line representation ``X ⊗ D½`` of the single-valued line irrep ``irrep``."""
        return _line_spinor(self, irrep)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "k_start": [str(x) for x in self.k_start],
            "k_end": [str(x) for x in self.k_end],
            "little_cogroup_order": self.little_group().order,
        }


@cache
def _line_little_group(g: SpaceGroup, k_ref: Vec3, name: str, double: bool) -> LittleGroup:
    lg = little_group_at(g, k_ref, None, double)
    # relabel k1, k2, ... as <line>.1, <line>.2, ...: same irreps, names a reader can place
    from dataclasses import replace

    prefix = "-" if double else ""  # Bilbao marks double-valued irreps with a leading minus (-GM6)
    # a deterministic numbering: by dimension, then by the characters (cached labels must stay valid)
    order = sorted(
        range(len(lg.irreps)),
        key=lambda n: (lg.irreps[n].dimension, tuple((-round(c.real, 6), -round(c.imag, 6)) for c in lg.irreps[n].characters)),
    )
    new_index = {old: new for new, old in enumerate(order)}
    irreps = tuple(replace(lg.irreps[old], label=f"{prefix}{name}.{n + 1}") for n, old in enumerate(order))
    coreps = tuple(replace(c, components=tuple(new_index[i] for i in c.components)) for c in lg.coreps)
    return replace(lg, name=name, irreps=irreps, coreps=coreps)


def _subduce(line: LineOfSymmetry, end: str, irrep: str, double: bool) -> Counter:
    point = line.start if end == "start" else line.end
    return Counter(dict(_subduce_cached(line.group, line.k_start, line.k_end, line.k_ref, line.name, point, end, irrep, double)))


_SUBDUCE: dict = {}


def _subduce_cached(g: SpaceGroup, k_start, k_end, k_ref, name, point, end, irrep, double):
    key = (g.number, k_start, k_end, name, end, irrep, double)
    if key in _SUBDUCE:
        return _SUBDUCE[key]
    k_end_point = k_start if end == "start" else k_end
    plg = little_group(g, point, double=double)
    llg = _line_little_group(g, k_ref, name, double)
    # The point's representative may differ from the line's end by a star operation: transport the
    # irrep's characters to the end by the operation that maps the representative there.
    chars = _transported_characters(g, plg, plg.irrep(irrep).characters, k_end_point, llg.indices)
    t = np.array([[float(x) for x in g.operations[i].translation] for i in llg.indices])
    d = np.array([float(x) for x in k_end_point]) - np.array([float(x) for x in k_ref])
    m = llg.decompose(chars * np.exp(2j * np.pi * (t @ d)))
    out = tuple((r.label, int(x)) for r, x in zip(llg.irreps, m) if x)
    _SUBDUCE[key] = out
    return out


def _transported_characters(g, plg: LittleGroup, chars: np.ndarray, k_image: Vec3, line_indices) -> np.ndarray:
    """Characters on ``line_indices`` of the irrep of ``plg`` carried to the image ``k_image`` of its point.

    With ``a`` mapping k to k' = R_a^-T k (mod G), the irrep at k' is ``D'(h) = D(a^-1 h a)``; the
    conjugation brings a translation and a lift sign that ``SpaceGroup.conjugates`` returns exactly.
    """
    k = plg.k
    mask = g.kvector_images(k, k_image)
    a = int(np.nonzero(mask)[0][0])
    pos = {i: n for n, i in enumerate(plg.indices)}
    idx, delta, sign = g.conjugates(a, list(line_indices))
    kf = np.array([float(x) for x in k])
    factor = np.exp(-2j * np.pi * (delta @ kf)) * (sign if plg.double else 1)
    # a^-1 h a = {E|delta} ops[idx] (times sign): D(a^-1 h a) = exp(-2πi k·delta) sign D(ops[idx])
    # D'(h) at k' carries k' in its translation phase; D(a^-1 h a) is evaluated at k, as it must be.
    return factor * chars[[pos[i] for i in idx]]


def _line_spinor(line: LineOfSymmetry, irrep: str) -> Counter:
    single = line.little_group(False)
    double = line.little_group(True)
    g = line.group
    tr_s = np.array([np.trace(g.operations[i].su2) for i in double.indices])
    chi = next(r for r in single.irreps if r.label == irrep).characters
    m = double.decompose(chi * tr_s)
    return Counter({r.label: int(x) for r, x in zip(double.irreps, m) if x})


def default_metric(number: int) -> np.ndarray:
    """Reciprocal metric of a representative conventional cell of the lattice system (a = 1 Å)."""
    if number >= 143 and number <= 194 or lattice_centering(number) == "R":
        a, c, gamma = 1.0, 1.6, np.deg2rad(120)
        cell = np.array([[a, 0, 0], [a * np.cos(gamma), a * np.sin(gamma), 0], [0, 0, c]])
    elif number >= 75:
        cell = np.diag([1.0, 1.0, 1.4]) if number < 195 else np.eye(3)
    elif number >= 16:
        cell = np.diag([1.0, 1.2, 1.4])
    elif number >= 3:
        beta = np.deg2rad(100)
        cell = np.array([[1.0, 0, 0], [0, 1.2, 0], [1.4 * np.cos(beta), 0, 1.4 * np.sin(beta)]])
    else:
        cell = np.array([[1.0, 0, 0], [0.2, 1.1, 0], [0.3, 0.25, 1.3]])
    b = np.linalg.inv(cell).T
    return b @ b.T


def _as_key(v: Vec3) -> tuple:
    return tuple(v)


def lines_of_symmetry(group: SpaceGroup | int, metric: np.ndarray | None = None) -> tuple[LineOfSymmetry, ...]:
    """The lines of symmetry of ``group`` (a :class:`SpaceGroup` or its number; see the module docstring).

    ``metric``: the conventional reciprocal metric ``B Bᵀ`` (rows of B the reciprocal vectors, 1/Å,
    without 2π) of the actual crystal; the default is a representative cell of the lattice system.
    """
    g = as_space_group(group)
    m = default_metric(g.number) if metric is None else np.asarray(metric, dtype=float)
    return _lines(g, tuple(np.round(m, 9).ravel()))


@cache
def _lines(g: SpaceGroup, metric_flat: tuple) -> tuple[LineOfSymmetry, ...]:
    metric = np.array(metric_flat).reshape(3, 3)
    number = g.number
    pts = points_of_symmetry(g)
    p = g.primitive_transform
    p_inv_t = [[inverse(p)[j][i] for j in range(3)] for i in range(3)]  # k_c = P^-T k_p
    lattice = [
        tuple(sum((p_inv_t[i][j] * n[j] for j in range(3)), Fraction(0)) for i in range(3))
        for n in product((-1, 0, 1), repeat=3)
    ]
    rot_inv_t = [np.rint(np.linalg.inv(np.array(op.rotation, dtype=float)).T).astype(int) for op in g.operations]
    rots_i = np.array(rot_inv_t, dtype=np.int64)
    lattice_den = lcm(*(x.denominator for v in lattice for x in v))

    def images(k: Vec3) -> tuple[list[tuple], np.ndarray, np.ndarray, int]:
        """The images R^-T k + G: exact, as floats, and as integers over their denominator (the last item), in the
        order a set filled by a loop over (R, G) iterates them, so that the order of equally long candidates stays
        that of the exact construction."""
        den = lcm(lattice_den, *(x.denominator for x in k))
        kx = np.array([int(x * den) for x in k], dtype=np.int64)
        lat = np.array([[int(x * den) for x in gv] for gv in lattice], dtype=np.int64)
        every = ((rots_i @ kx)[:, None, :] + lat[None, :, :]).reshape(-1, 3)
        _, first = np.unique(every, axis=0, return_index=True)
        rows = every[np.sort(first)]
        exact = [tuple(Fraction(int(c), den) for c in row) for row in rows]
        where = {v: i for i, v in enumerate(exact)}
        order = [where[v] for v in set(exact)]  # the set's own iteration order
        return [exact[i] for i in order], rows[order] / den, rows[order], den

    all_images = {pt.name: images(pt.conventional) for pt in pts}
    every_image = np.vstack([arr for _, arr, _, _ in all_images.values()])

    def interior_point_of_symmetry(fa: np.ndarray, d: np.ndarray) -> bool:
        """Whether an image of a point of symmetry lies strictly inside the segment from fa along d."""
        rel = every_image - fa
        s = rel @ d / (d @ d)
        inside = (s > 1e-9) & (s < 1 - 1e-9)
        if not inside.any():
            return False
        perp = rel[inside] - np.outer(s[inside], d)
        return bool(np.any(np.max(np.abs(perp), axis=1) < 1e-9))

    rots_f = np.array(rot_inv_t, dtype=float)
    p_f = np.array(p, dtype=float)

    def cogroup(fa: np.ndarray, fb: np.ndarray, s: Fraction) -> tuple[int, ...]:
        """Indices of the rotations with R^-T k = k + G (G in the reciprocal lattice): floats suffice, the
        coordinates are small rationals and G is checked in the primitive basis (k_p = k_c P)."""
        k = fa + float(s) * (fb - fa)
        d = (rots_f @ k - k) @ p_f
        return tuple(int(i) for i in np.nonzero(np.all(np.abs(d - np.rint(d)) < 1e-9, axis=1))[0])

    found: list[LineOfSymmetry] = []
    trivial: list[tuple[float, LineOfSymmetry]] = []
    names = [pt.name for pt in pts]
    for i, pa in enumerate(pts):
        ka = pa.conventional
        fa = np.array([float(x) for x in ka])
        den_a = lcm(*(x.denominator for x in ka))
        ka_int = np.array([int(x * den_a) for x in ka], dtype=np.int64)
        cog_a = g.little_cogroup(ka)
        for pb in pts[i:]:
            exact, approx, ints, den_b = all_images[pb.name]
            keep = [j for j, kb in enumerate(exact) if kb != ka]
            # kb - ka in integers over one denominator, then as floats: each the float of the exact difference
            den = lcm(den_a, den_b)
            diffs = (ints[keep] * (den // den_b) - ka_int * (den // den_a)) / den
            candidates = sorted(
                ((float(np.sqrt(d @ metric @ d)), exact[j], approx[j], d) for d, j in zip(diffs, keep)),
                key=lambda x: x[0],
            )
            kept_dirs: list[Vec3] = []
            best_trivial: tuple[float, LineOfSymmetry] | None = None
            shortest = candidates[0][0] if candidates else 0.0
            for ln, kb, fb, d_ab in candidates:
                if ln > 2.5 * shortest + _LENGTH_TOL:
                    break  # farther images cross the zone; the lines of its skeleton are short
                first = cogroup(fa, fb, _PROBES[0])
                if len(first) < 2 and best_trivial is not None:
                    continue
                if interior_point_of_symmetry(fa, d_ab):
                    continue
                groups = [first] + [cogroup(fa, fb, s) for s in _PROBES[1:]]
                common = set(groups[0]).intersection(*groups[1:])
                s_ref = next((s for s, gr in zip(_PROBES, groups) if set(gr) == common), None)
                if s_ref is None:
                    continue  # special at every probe: not a line with one little group
                if len(common) >= 2 and _fixed_dimension([rot_inv_t[j] for j in common]) != 1:
                    continue  # a plane of symmetry (e.g. one mirror), not a line
                k_ref = tuple(x + s_ref * (y - x) for x, y in zip(ka, kb))
                line = LineOfSymmetry(number, pa.name, pb.name, ka, kb, k_ref, s_ref, ln)  # type: ignore[arg-type]
                if len(common) < 2:
                    if best_trivial is None:
                        best_trivial = (ln, line)
                    continue
                direction = tuple(y - x for x, y in zip(ka, kb))
                if any(_equivalent_direction(direction, d, [rot_inv_t[j] for j in cog_a]) for d in kept_dirs):
                    continue
                same = [l.length for l in found if l.start == pa.name and l.end == pb.name]
                if same and ln > 1.5 * min(same) + _LENGTH_TOL:
                    break  # a much longer way between the same points crosses the zone
                kept_dirs.append(direction)  # type: ignore[arg-type]
                found.append(line)
            if best_trivial is not None:
                trivial.append(best_trivial)
    # connect what the lines leave disconnected (low symmetry): shortest trivial segments first
    parent = {n: n for n in names}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ln in found:
        parent[root(ln.start)] = root(ln.end)
    for _, ln in sorted(trivial, key=lambda x: x[0]):
        if root(ln.start) != root(ln.end):
            parent[root(ln.start)] = root(ln.end)
            found.append(ln)
    from dataclasses import replace

    seen: Counter = Counter()
    out = []
    for ln in found:
        seen[(ln.start, ln.end)] += 1
        n = seen[(ln.start, ln.end)]
        out.append(replace(ln, tag=f"({n})") if n > 1 else ln)
    return tuple(out)


def _fixed_dimension(rotations: list[np.ndarray]) -> int:
    """Dimension of the k-subspace fixed by all ``rotations`` (the matrices R^-T)."""
    stacked = np.vstack([r - np.eye(3) for r in rotations])
    return 3 - int(np.linalg.matrix_rank(stacked))


def _equivalent_direction(d1: Vec3, d2: Vec3, rotations: list[np.ndarray]) -> bool:
    for r in rotations:
        if all(sum((int(r[i][j]) * d1[j] for j in range(3)), Fraction(0)) == d2[i] for i in range(3)):
            return True
    return False
