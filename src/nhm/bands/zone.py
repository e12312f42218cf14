"""The whole Brillouin zone: a Γ-centred mesh, its irreducible wedge, and per-band measures.

Mesh. ``k_p = m / n`` (primitive reciprocal basis, integers ``m`` mod ``n``). The irreducible wedge is
found with the space group's rotations in the primitive basis (``k -> R_p^-T k``, exact integer
arithmetic mod n) and time reversal (``k -> -k``); energies computed on the wedge are unfolded to
every mesh point by these exact maps.

Measures of one band given its energies on the full mesh (eV, shape (N,) or (N, μ)):
- width: max - min over the mesh (and the lines, where the caller adds them);
- filling: the fraction of its states below E_F, and
- density of states at E_F (states per eV, per spin and per primitive cell), both by the linear
  tetrahedron method (closed forms of Blöchl, Jepsen & Andersen, PRB 49, 16223 (1994), vectorized
  over all tetrahedra; cross-checked in the tests against ASE's tetrahedron DOS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np

from nhm.crystal.setting import primitive_transform
from nhm.groups.exact import inverse
from nhm.groups.spacegroup import space_group

SEARCH_FLOOR_EV = 6.0  # the search range is at least ±this around E_F (the fixed window nhm used before)
SEARCH_MARGIN_EV = 0.5  # beyond the bands that cross E_F: levels of neighbouring bands that just touch their range
SEARCH_WIDEN_STEP_EV = 0.5  # an insulator's range grows by this until every point of symmetry has a level
INSULATOR_RANGE_LIMIT_EV = 200.0  # the widening stops here (a point without any computed level: the search says so)

__all__ = ["SEARCH_FLOOR_EV", "SEARCH_MARGIN_EV", "SearchRange", "ZoneBands", "ZoneMesh", "nearest_line_samples", "irreducible_mesh", "band_measures", "BandMeasures", "primitive_rotations"]



@cache
def primitive_rotations(number: int) -> np.ndarray:
    """(|G/T|, 3, 3) integer matrices R_p^-T acting on primitive reciprocal coordinates."""
    p = np.array(primitive_transform(number), dtype=object)
    p_inv = np.array(inverse(primitive_transform(number)), dtype=object)
    out = []
    for op in space_group(number).operations:
        r_p = p_inv.dot(np.array(op.rotation, dtype=object)).dot(p)
        r = np.array(r_p, dtype=float)
        out.append(np.rint(np.linalg.inv(r).T).astype(int))
    return np.array(out)


@dataclass(frozen=True)
class ZoneMesh:
    """A Γ-centred n×n×n mesh of the primitive cell with its irreducible wedge.

    ``full`` (N, 3) integers m (k_p = m/n, components in [0, n)); ``to_irreducible`` (N,) index into
    ``irreducible`` (M, 3); ``energies`` (M, nbands) eV on the wedge once computed.
    """

    n: int
    full: np.ndarray = field(repr=False)
    irreducible: np.ndarray = field(repr=False)
    to_irreducible: np.ndarray = field(repr=False)

    @property
    def kpts_primitive(self) -> np.ndarray:
        """Wedge k-points (floats, primitive reciprocal basis) for the DFT code."""
        return self.irreducible / self.n

    def full_primitive(self, centred: bool = True) -> np.ndarray:
        """Every mesh point (floats, primitive basis); ``centred`` wraps components to [-1/2, 1/2)."""
        k = self.full / self.n
        return (k + 0.5) % 1.0 - 0.5 if centred else k


def irreducible_mesh(number: int, n: int) -> ZoneMesh:
    """The Γ-centred n×n×n mesh of space group ``number`` and its wedge (rotations and time reversal)."""
    if n < 1:
        raise ValueError("mesh size must be positive")
    rots = primitive_rotations(number)
    grid = np.stack(np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij"), -1).reshape(-1, 3)
    code = lambda m: (m[..., 0] % n) * n * n + (m[..., 1] % n) * n + (m[..., 2] % n)  # noqa: E731
    images = np.einsum("rij,kj->rki", rots, grid)  # (nrot, N, 3)
    images = np.concatenate([images, -images])
    codes = code(images)  # (2 nrot, N)
    rep = codes.min(axis=0)  # the smallest code in the star labels it
    uniq, inverse_index = np.unique(rep, return_inverse=True)
    irreducible = np.stack([uniq // (n * n), (uniq // n) % n, uniq % n], -1)
    return ZoneMesh(n, grid, irreducible, inverse_index)


@dataclass(frozen=True)
class ZoneBands:
    """Bands of a crystal along its lines of symmetry and on a mesh (energies absolute, eV).

    ``mesh_energies`` (N, nbands) on ``mesh.full`` (unfolded); ``reciprocal`` rows: conventional
    reciprocal vectors in Cartesian 1/Å with 2π; ``cell`` the primitive cell (rows, Å).
    """

    fermi_level: float
    nbands: int
    lines: tuple  # of nhm.bands.lines.LineBands
    mesh: ZoneMesh
    mesh_energies: np.ndarray
    reciprocal: np.ndarray
    cell: np.ndarray
    space_group: int
    levels: dict | None = None  # {point name: [BlochLevel]} when computed with the lines

    @cached_property
    def sample_offsets(self) -> np.ndarray:
        """Start of each line's samples in the concatenation of all lines' samples."""
        return np.concatenate([[0], np.cumsum([len(lb.s) for lb in self.lines])])

    @cached_property
    def assignment(self) -> tuple[np.ndarray, np.ndarray]:
        """For every full-mesh point: the nearest line sample (index into the concatenated samples) and its distance (1/Å)."""
        line, sample, dist = nearest_line_samples(
            self.space_group, self.mesh, self.reciprocal, [lb.kpts_conventional for lb in self.lines]
        )
        return self.sample_offsets[line] + sample, dist

    def fermi_bands(self) -> list[tuple[int, float, float, float]]:
        """(band index, min, max, width) in eV of every energy-ordered band that crosses E_F, measured over
        the mesh and the lines."""
        lo, hi = self.band_extremes()
        return [(n, float(lo[n]), float(hi[n]), float(hi[n] - lo[n])) for n in range(len(lo)) if lo[n] < self.fermi_level < hi[n]]

    def band_extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) in eV of each of the ``nbands`` analysed energy-ordered bands over the mesh and the lines."""
        e = self.mesh_energies[:, : self.nbands]
        lines = [lb.energies[:, : self.nbands] for lb in self.lines]
        lo = np.min([e.min(axis=0), *(x.min(axis=0) for x in lines)], axis=0)
        hi = np.max([e.max(axis=0), *(x.max(axis=0) for x in lines)], axis=0)
        return lo, hi

    def search_range(self, mu: int, floor: float = SEARCH_FLOOR_EV, margin: float = SEARCH_MARGIN_EV) -> SearchRange:
        """The energies whose levels a band search must see (docs/theory.md §4): every energy-ordered band that
        crosses E_F and, for μ > 1, the μ − 1 bands on either side of them, over their whole range on mesh
        and lines, widened by ``margin``; never less than ±``floor`` eV around E_F. Where no band crosses E_F
        (an insulator) the range is widened symmetrically until every point of symmetry has a level in it."""
        ef = self.fermi_level
        crossing = [n for n, *_ in self.fermi_bands()]
        lo, hi = ef - floor, ef + floor
        group: tuple[int, ...] = ()
        widened = False
        if crossing:
            first, last = max(0, min(crossing) - (mu - 1)), min(self.nbands - 1, max(crossing) + (mu - 1))
            group = tuple(range(first, last + 1))
            b_lo, b_hi = self.band_extremes()
            lo = min(lo, float(b_lo[first]) - margin)
            hi = max(hi, float(b_hi[last]) + margin)
        elif self.levels:
            def bare() -> bool:
                return any(not any(lo <= lv.energy <= hi for lv in lvs) for lvs in self.levels.values())

            while bare() and hi - lo < INSULATOR_RANGE_LIMIT_EV:
                lo, hi, widened = lo - SEARCH_WIDEN_STEP_EV, hi + SEARCH_WIDEN_STEP_EV, True
        return SearchRange(lo - ef, hi - ef, group, floor, margin, widened)

    def coverage_problems(self, top: float) -> list[str]:
        """Why the analysed bands do not reach ``top`` (eV, absolute): the line samples whose lowest unlabelled
        state lies at or below it. Empty if every state up to ``top`` is labelled on every line; then a branch
        that runs out of the labelled states (a partial branch) does so only above ``top``."""
        out = []
        for lb in self.lines:
            free = lb.first_unlabelled()
            i = int(np.argmin(free))
            if free[i] <= top:
                out.append(f"{lb.name}: the lowest unlabelled state at s = {lb.s[i]:.2f} lies at {free[i] - self.fermi_level:+.2f} eV")
        return out

    def states_needed(self, top: float) -> int:
        """A band count whose labelled states reach above ``top`` at every line sample: the largest number of
        computed states at or below it (one more than all computed where every computed state is below)."""
        need = 0
        for lb in self.lines:
            below = np.sum(lb.energies <= top, axis=1)
            need = max(need, int(below.max()) + (1 if np.any(below == lb.energies.shape[1]) else 0))
        return need


@dataclass(frozen=True)
class SearchRange:
    """Levels the search sees, ``lo`` … ``hi`` eV relative to E_F, and the energy-ordered ``bands`` it covers."""

    lo: float
    hi: float
    bands: tuple[int, ...]
    floor: float
    margin: float
    widened: bool = False  # no band crosses E_F: widened until every point of symmetry has a level

    def narrowed(self, window: tuple[float, float] | None) -> tuple[float, float]:
        """The range cut to ``window`` = (lo, hi) eV relative to E_F, if one is given (a window only narrows)."""
        if window is None:
            return (self.lo, self.hi)
        return (max(self.lo, window[0]), min(self.hi, window[1]))


@dataclass(frozen=True)
class BandMeasures:
    """Width (eV), filling (0..1), DOS at E_F (states/eV/spin/cell) and energy range (eV, absolute)."""

    width: float
    filling: float
    dos_at_fermi: float
    energy_min: float
    energy_max: float


def tetrahedra(n: int, cell: np.ndarray) -> np.ndarray:
    """(6 n³, 4) mesh indices of the tetrahedra of a periodic n³ mesh (Blöchl's split of each sub-cell
    along its shortest main diagonal, with the primitive ``cell`` (rows, Å) for the metric)."""
    recip = np.linalg.inv(np.asarray(cell, dtype=float)).T / n  # steps of the mesh, Cartesian
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    diagonals = [(0, 7), (1, 6), (2, 5), (3, 4)]
    lengths = [np.linalg.norm((corners[b] - corners[a]) @ recip) for a, b in diagonals]
    a, b = diagonals[int(np.argmin(lengths))]
    others = [c for c in range(8) if c not in (a, b)]
    # the 6 tetrahedra share the diagonal a-b; each takes two neighbouring corners of the ring around it
    ring = [c for c in others if np.sum(np.abs(corners[c] - corners[a])) == 1]
    far = [c for c in others if c not in ring]
    order: list[int] = []
    cur = ring[0]
    while len(order) < 6:
        order.append(cur)
        nxt = [c for c in ring + far if c not in order and np.sum(np.abs(corners[c] - corners[cur])) == 1]
        if not nxt:
            break
        cur = nxt[0]
    tets = [(a, b, order[i], order[(i + 1) % 6]) for i in range(6)]
    grid = np.stack(np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij"), -1).reshape(-1, 3)
    out = []
    for tet in tets:
        idx = [((grid + corners[c]) % n) @ np.array([n * n, n, 1]) for c in tet]
        out.append(np.stack(idx, -1))
    return np.concatenate(out)


def tetrahedron_counts(energies: np.ndarray, tets: np.ndarray, energy: float) -> tuple[float, float]:
    """Linear tetrahedron method (Blöchl 1994, without correction): the fraction of states below
    ``energy`` and the density of states there (per eV), averaged over tetrahedra and bands.

    ``energies`` (N, nb) on the mesh; ``tets`` from :func:`tetrahedra`.
    """
    e = np.sort(energies[tets], axis=1)  # (T, 4, nb)
    e1, e2, e3, e4 = (e[:, i] for i in range(4))
    x = energy
    tiny = 1e-12
    d21, d31, d41 = e2 - e1 + tiny, e3 - e1 + tiny, e4 - e1 + tiny
    d32, d42, d43 = e3 - e2 + tiny, e4 - e2 + tiny, e4 - e3 + tiny
    n = np.zeros_like(e1)
    g = np.zeros_like(e1)
    a = (x >= e1) & (x < e2)
    n = np.where(a, (x - e1) ** 3 / (d21 * d31 * d41), n)
    g = np.where(a, 3 * (x - e1) ** 2 / (d21 * d31 * d41), g)
    b = (x >= e2) & (x < e3)
    y = x - e2
    nb_ = (d21**2 + 3 * d21 * y + 3 * y**2 - (d31 + d42) / (d32 * d42) * y**3) / (d31 * d41)
    gb = (3 * d21 + 6 * y - 3 * (d31 + d42) / (d32 * d42) * y**2) / (d31 * d41)
    n = np.where(b, nb_, n)
    g = np.where(b, gb, g)
    c = (x >= e3) & (x < e4)
    n = np.where(c, 1 - (e4 - x) ** 3 / (d41 * d42 * d43), n)
    g = np.where(c, 3 * (e4 - x) ** 2 / (d41 * d42 * d43), g)
    n = np.where(x >= e4, 1.0, n)
    return float(np.mean(n)), float(np.mean(g))


def band_measures(
    energies_full: np.ndarray, n: int, cell: np.ndarray, fermi_level: float, extra: np.ndarray | None = None
) -> BandMeasures:
    """Measures of one band (μ branches) from its energies on the full n³ mesh.

    ``energies_full`` (N,) or (N, μ) in the mesh order of :class:`ZoneMesh` (``full``); ``cell`` the
    primitive cell (rows, Å); ``extra``: energies of the band elsewhere (the lines), counted in the
    width only. Filling: fraction of the band's states below E_F; DOS: states per eV, per spin and
    per primitive cell (μ branches hold μ states per spin and cell).
    """
    e = np.asarray(energies_full, dtype=float)
    if e.ndim == 1:
        e = e[:, None]
    mu = e.shape[1]
    lo, hi = float(e.min()), float(e.max())
    if extra is not None and np.size(extra):
        lo, hi = min(lo, float(np.min(extra))), max(hi, float(np.max(extra)))
    filling, dos = tetrahedron_counts(e, _tetrahedra_cached(n, tuple(np.round(np.asarray(cell, dtype=float), 8).ravel())), fermi_level)
    return BandMeasures(hi - lo, filling, dos * mu, lo, hi)


@cache
def _tetrahedra_cached(n: int, cell_flat: tuple) -> np.ndarray:
    return tetrahedra(n, np.array(cell_flat).reshape(3, 3))


def nearest_line_samples(
    number: int, mesh: ZoneMesh, reciprocal: np.ndarray, line_kpts: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every full-mesh point, the nearest sample on the lines of symmetry (over all their images).

    ``reciprocal``: conventional reciprocal vectors (rows, Cartesian 1/Å); ``line_kpts[i]`` (n_i, 3)
    conventional coordinates of the samples of line i. Images: every rotation of the point group,
    time reversal and the reciprocal-lattice vectors next to the origin. Returns (line index, sample
    index, distance in 1/Å) per mesh point.
    """
    from scipy.spatial import cKDTree

    p = np.array(primitive_transform(number), dtype=float)
    p_inv_t = np.linalg.inv(p).T  # k_c = P^-T k_p
    rots = np.array([np.rint(np.linalg.inv(np.array(op.rotation, dtype=float)).T) for op in space_group(number).operations])
    rots = np.concatenate([rots, -rots])
    shifts = np.stack(np.meshgrid(*[np.arange(-1, 2)] * 3, indexing="ij"), -1).reshape(-1, 3) @ p_inv_t.T
    pts, which_line, which_sample = [], [], []
    for i, k in enumerate(line_kpts):
        img = np.einsum("rij,sj->rsi", rots, np.asarray(k, dtype=float))  # (nrot, n, 3)
        img = img[None] + shifts[:, None, None, :]
        pts.append(img.reshape(-1, 3))
        n = len(k)
        which_line.append(np.full(img.shape[0] * img.shape[1] * n, i))
        which_sample.append(np.tile(np.arange(n), img.shape[0] * img.shape[1]))
    cart = np.vstack(pts) @ reciprocal
    tree = cKDTree(cart)
    mesh_c = mesh.full_primitive(centred=True) @ p_inv_t.T @ reciprocal
    dist, idx = tree.query(mesh_c)
    return np.concatenate(which_line)[idx], np.concatenate(which_sample)[idx], dist
