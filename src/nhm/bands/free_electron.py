"""The empty lattice: free-electron bands of a crystal's lattice, and the width of a band of μ branches.

E_n(k) = ħ²|k + G|²/2m, the n-th lowest over the reciprocal-lattice vectors G (eV, with
ħ²/2m = 3.80998 eV Å²). The lowest μ of these bands hold μ states per spin and primitive cell, as a band
of μ branches does, and span [0, W_FE(μ)] with

    W_FE(μ) = max over the zone of E_μ(k)          (E_1(Γ) = 0 is the bottom).

nhm's default reference for "narrow" (docs/theory.md §4): a band whose electrons move atomic-like is
narrower than the same number of states would be without any lattice potential. W_FE depends on the
lattice alone (bcc a = 3.30 Å, μ = 1: H, 13.8 eV; fcc a = 4.05 Å: W, 11.5 eV).

Exact maximum. E_μ is piecewise quadratic; inside a piece it has no interior maximum (|k + G|² is
convex), on a face equidistant from two G it has none either, nor on an edge equidistant from three:
the maximum lies at a point equidistant from four lattice points (a vertex of the order-μ Voronoi
diagram of the reciprocal lattice). A grid locates it; the vertex is then solved exactly from the four
nearest-ranked G around the grid maximum, and the points of symmetry are evaluated too.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np

__all__ = ["HBAR2_2M_EV_A2", "empty_lattice_energies", "free_electron_width"]

HBAR2_2M_EV_A2 = 3.80998208  # ħ²/2m_e in eV Å² (CODATA 2018)
_GRID = 16  # grid per reciprocal axis to locate the maximum (refined exactly afterwards)
_SHELL = 3  # G = n1 b1 + n2 b2 + n3 b3 with |n_i| ≤ this, in a Minkowski-reduced basis
_TOP = 8  # grid maxima refined


def _reduced_reciprocal(cell: np.ndarray) -> np.ndarray:
    """Reciprocal vectors (rows, 1/Å, 2π included) in a Minkowski-reduced basis (short, nearly orthogonal)."""
    from ase.geometry import minkowski_reduce

    recip = 2 * np.pi * np.linalg.inv(np.asarray(cell, dtype=float)).T
    reduced, _ = minkowski_reduce(recip)
    return np.asarray(reduced, dtype=float)


def _g_vectors(recip: np.ndarray) -> np.ndarray:
    r = np.arange(-_SHELL, _SHELL + 1)
    n = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    return n @ recip


def empty_lattice_energies(cell: np.ndarray, k_cartesian: np.ndarray, bands: int) -> np.ndarray:
    """(N, bands) the lowest ``bands`` empty-lattice energies (eV) at Cartesian ``k`` (1/Å, 2π included).

    ``cell``: the primitive cell (rows, Å). Valid for k within a few zone radii of Γ and bands up to a
    few dozen (the G shell spans ±3 reduced reciprocal vectors).
    """
    g = _g_vectors(_reduced_reciprocal(cell))
    k = np.atleast_2d(np.asarray(k_cartesian, dtype=float))
    e = HBAR2_2M_EV_A2 * (np.sum(k**2, axis=1)[:, None] + 2 * k @ g.T + np.sum(g**2, axis=1)[None, :])
    return np.partition(e, bands - 1, axis=1)[:, :bands].copy() if bands < e.shape[1] else np.sort(e, axis=1)


def _vertex_values(k0: np.ndarray, g: np.ndarray, mu: int) -> np.ndarray:
    """E_μ at the points equidistant from four lattice points ranked around μ at ``k0`` (batched)."""
    d = np.sum((k0 + g) ** 2, axis=1)
    near = np.argsort(d)[max(0, mu - 5) : mu + 5]  # the G whose distances rank around μ near the maximum
    quads = np.array(list(combinations(near, 4)))
    g0, rest = g[quads[:, 0]], g[quads[:, 1:]]
    a = 2 * (rest - g0[:, None, :])  # |k+Gi|² = |k+G0|²  ⇔  2k·(Gi − G0) = |G0|² − |Gi|²
    b = np.sum(g0**2, axis=1)[:, None] - np.sum(rest**2, axis=2)
    ok = np.abs(np.linalg.det(a)) > 1e-9
    if not ok.any():
        return np.zeros(0)
    k = np.linalg.solve(a[ok], b[ok][..., None])[..., 0]
    e = HBAR2_2M_EV_A2 * np.sum((k[:, None, :] + g[None]) ** 2, axis=-1)
    return np.partition(e, mu - 1, axis=1)[:, mu - 1]


@cache
def _width_cached(cell_flat: tuple[float, ...], mu: int, extra_flat: tuple[float, ...]) -> float:
    cell = np.array(cell_flat).reshape(3, 3)
    recip = _reduced_reciprocal(cell)
    g = _g_vectors(recip)
    f = (np.arange(_GRID) + 0.5) / _GRID - 0.5
    frac = np.stack(np.meshgrid(f, f, f, indexing="ij"), -1).reshape(-1, 3)
    k = np.vstack([frac @ recip, np.array(extra_flat).reshape(-1, 3)]) if extra_flat else frac @ recip
    e = empty_lattice_energies(cell, k, mu)[:, mu - 1]
    best = float(e.max())
    for i in np.argsort(e)[-_TOP:]:
        vals = _vertex_values(k[i], g, mu)
        if vals.size:
            best = max(best, float(vals.max()))
    return best


def free_electron_width(cell: np.ndarray, mu: int = 1, extra_k: np.ndarray | None = None) -> float:
    """W_FE(μ) in eV: the top of the μ-th empty-lattice band of the primitive ``cell`` (rows, Å); the bottom
    of the lowest band is 0 at Γ. ``extra_k`` (Cartesian, 1/Å, 2π included): points also evaluated exactly,
    e.g. the points of symmetry."""
    if not (isinstance(mu, int | np.integer) and mu >= 1):
        raise ValueError(f"μ must be a positive integer, got {mu!r}")
    cell = np.asarray(cell, dtype=float)
    extra = () if extra_k is None else tuple(np.round(np.asarray(extra_k, dtype=float).ravel(), 12))
    return _width_cached(tuple(np.round(cell.ravel(), 12)), int(mu), extra)
