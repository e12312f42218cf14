"""The band's Fermi surface as points, and k-space magnetism on it.

The Fermi surface: star-shaped samples k_F(d̂) d̂ (:func:`fermi_surface_points`; the free-electron sphere at half
filling without a dispersion), the crossings on the stencil bonds (:func:`fermi_crossings`), the mesh points next
to it (:func:`fermi_points`, for μ branches), a band known on a mesh as a dispersion (:class:`MeshDispersion`) or a
model's (:func:`model_dispersion`). K-space magnetism is there where the spin axes z_k vary on the Fermi surface:
1 − λ_max⟨z zᵀ⟩ (:func:`axis_variation`, :func:`fermi_surface_axes`) above AXIS_VARIATION_TOL. Cartesian k in
units of 1/a without the 2π.
"""

from __future__ import annotations

import numpy as np

from nhm.kspace.construction.field import SpinorField
from nhm.kspace.mesh import KMesh


def fibonacci_directions(n: int) -> np.ndarray:
    """n nearly uniform unit vectors (Fibonacci sphere)."""
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + 5**0.5) * i
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def fermi_surface_points(mesh, directions: np.ndarray, dispersion=None, filling: float = 0.5) -> np.ndarray:
    """Points k_F(d̂) d̂ of a star-shaped Fermi surface (Cartesian, units 1/a, no 2π).

    ``dispersion(k_cart) -> energies`` (vectorized) with the Fermi level at ``filling`` of the band
    (from the mesh); without it, the free-electron sphere enclosing ``filling`` of the zone. The radius
    along each direction is the first crossing, found by bisection (so the surface is star-shaped about Γ).
    """
    d = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    v_bz = abs(np.linalg.det(mesh.k_to_cart))
    if dispersion is None:
        r = (3 * filling * v_bz / (4 * np.pi)) ** (1 / 3)
        return d * r
    e_f = getattr(dispersion, "fermi_level", None)  # a band with its own Fermi level (MeshDispersion)
    if e_f is None:
        e_f = float(np.quantile(np.asarray(dispersion(mesh.k_cartesian_bz)), filling))
    r_max = float(np.max(np.linalg.norm(mesh.k_cartesian_bz, axis=1)))
    lo = np.zeros(len(d))
    # bracket: march outwards to the first sign change of ε − E_F
    steps = np.linspace(0, r_max, 65)[1:]
    hi = np.full(len(d), r_max)
    found = np.zeros(len(d), dtype=bool)
    prev = np.asarray(dispersion(np.zeros((len(d), 3)))) - e_f
    prev_r = np.zeros(len(d))
    for r in steps:
        val = np.asarray(dispersion(d * r)) - e_f
        hit = (~found) & (np.sign(val) != np.sign(prev))
        lo[hit], hi[hit] = prev_r[hit], r
        found |= hit
        prev, prev_r = np.where(found, prev, val), np.where(found, prev_r, r)
    sign_lo = np.sign(np.asarray(dispersion(d * lo[:, None])) - e_f)  # lo only moves where the sign is the same
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        val = np.asarray(dispersion(d * mid[:, None])) - e_f
        below = np.sign(val) == sign_lo
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return d * (0.5 * (lo + hi))[:, None]


def fermi_crossings(mesh, dispersion, defined: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The band's own Fermi surface as points: on every stencil bond (k, k+b) whose ends lie on opposite
    sides of ``dispersion.fermi_level``, the linear interpolation of the crossing (Cartesian, units 1/a,
    about the first-zone k of the bond's start). Returns (points (M, 3), mesh index of the nearer end).
    ``defined`` (N,) bool: keep only crossings whose nearer end has F defined (not an R2 point)."""
    e = np.asarray(dispersion(mesh.k_cartesian_bz), dtype=float) - dispersion.fermi_level
    steps, _, table = mesh.neighbours
    b_cart = (steps / np.array(mesh.divisions, dtype=float)) @ mesh.k_to_cart.T
    kk, bb = np.nonzero((np.sign(e)[:, None] != np.sign(e[table])) & (np.arange(mesh.size)[:, None] < table))
    if not len(kk):
        return np.zeros((0, 3)), np.zeros(0, dtype=int)
    e0, e1 = e[kk], e[table[kk, bb]]
    t = e0 / (e0 - e1)
    pts = mesh.k_cartesian_bz[kk] + t[:, None] * b_cart[bb]
    near = np.where(t <= 0.5, kk, table[kk, bb])
    if defined is not None:
        keep = np.asarray(defined)[near]
        pts, near = pts[keep], near[keep]
    return pts, near


class MeshDispersion:
    """ε(k_cart) (eV) of a band known at the points of ``mesh`` (``energies`` (N,)), by periodic trilinear
    interpolation in the primitive basis; ``fermi_level`` (eV, same zero) is where its Fermi surface lies."""

    def __init__(self, mesh, energies: np.ndarray, fermi_level: float) -> None:
        self.mesh = mesh
        self.div = np.array(mesh.divisions)
        self.grid = np.asarray(energies, dtype=float).reshape(tuple(mesh.divisions))
        self.fermi_level = float(fermi_level)
        self._to_p = np.linalg.inv(mesh.k_to_cart).T

    def __call__(self, k_cart: np.ndarray) -> np.ndarray:
        x = np.asarray(k_cart, dtype=float) @ self._to_p * self.div
        i0 = np.floor(x).astype(int)
        t = x - i0
        out = np.zeros(x.shape[:-1])
        for c in np.ndindex(2, 2, 2):
            w = np.prod(np.where(np.array(c, dtype=bool), t, 1 - t), axis=-1)
            j = (i0 + np.array(c)) % self.div
            out += w * self.grid[j[..., 0], j[..., 1], j[..., 2]]
        return out


def model_dispersion(model, band_index: int = 0):
    """ε(k_cart) of band ``band_index`` of a tight-binding model on the mesh's Cartesian frame (k without 2π)."""
    lat = model.lattice

    def eps(k_cart: np.ndarray) -> np.ndarray:
        kc = np.asarray(k_cart) @ lat  # k_c = Aᵀ k_cart
        return np.linalg.eigvalsh(model.hamiltonian(kc))[..., band_index]

    return eps


def fermi_points(mesh: KMesh, energies: np.ndarray, fermi_level: float) -> np.ndarray:
    """Mesh points with a stencil bond across E_F in any of the μ branches."""
    de = np.asarray(energies, dtype=float) - float(fermi_level)
    _, _, table = mesh.neighbours
    cross = np.any(np.sign(de[table]) != np.sign(de)[:, None, :], axis=(1, 2))
    return np.nonzero(cross)[0]


# ----------------------------------------------------------------------------- k-space magnetism on the Fermi surface


AXIS_VARIATION_TOL = 1e-6  # 1 − λ_max⟨z zᵀ⟩ above this: z_k is not constant (round-off of a constant field ~1e-15)


def axis_variation(axes: np.ndarray) -> float:
    """1 − λ_max⟨z zᵀ⟩ of unit directors z (0: one axis everywhere; 2/3: isotropic)."""
    z = axes / np.maximum(np.linalg.norm(axes, axis=-1, keepdims=True), 1e-300)
    q = z.T @ z / len(z)
    return float(max(1.0 - np.linalg.eigvalsh(q)[-1], 0.0))


def fermi_surface_axes(fld: SpinorField, energies: np.ndarray | None = None, fermi_level: float | None = None) -> dict:
    """Is there k-space magnetism on the Fermi surface? The spin axes z_k = n_{+½}(k) at the mesh points
    next to the Fermi surface (a stencil bond across E_F of the band's ``energies``, (N,) eV) where F is
    defined; without energies, the mesh points nearest to the free-electron sphere at half filling.

    The measure is 1 − λ_max of ⟨z zᵀ⟩ (the axis as a director: the Kramers partner has −z): 0 when z_k is
    the same axis everywhere, 2/3 when the axes are isotropic. Present when above AXIS_VARIATION_TOL."""
    mesh = fld.mesh
    if energies is None:
        idx = np.unique(mesh.nearest_index(fermi_surface_points(mesh, fibonacci_directions(600))))
        where = "mesh points nearest to the free-electron sphere at half filling (no band energies)"
    else:
        de = np.asarray(energies, dtype=float) - float(fermi_level)
        _, _, table = mesh.neighbours
        idx = np.nonzero(np.any(np.sign(de[table]) != np.sign(de)[:, None], axis=1))[0]
        where = "mesh points with a stencil bond across E_F (the band's own Fermi surface)"
    idx = idx[fld.defined[idx]]
    if not len(idx):
        return {"points": 0, "axis_variation": None, "present": None, "where": where}
    z = fld.spin_axes[idx, 0]
    q = z.T @ z / len(z)
    variation = float(max(1.0 - np.linalg.eigvalsh(q)[-1], 0.0))
    return {"points": int(len(idx)), "axis_variation": variation, "present": bool(variation > AXIS_VARIATION_TOL),
            "tolerance": AXIS_VARIATION_TOL, "where": where}
