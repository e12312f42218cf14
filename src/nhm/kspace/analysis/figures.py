"""Figures of k-space magnetism (matplotlib): seed Fig. 1 (a) and (b), and the plane of a band of μ branches.

- :func:`figure_plane` — seed Fig. 1(a): the spin axes z_k on a plane of k (arrows: in-plane part,
  colour: out-of-plane part; background: the Voronoi cells of the model band; black: forced jumps) and
  on the Fermi contour in that plane (black arrows k, red arrows z_k at their tips).
- :func:`figure_symmetry_related` — seed Fig. 1(b): k vectors related by the rotations about z and
  their spin axes, which are related by the same rotations (P3: three of them).
- :func:`figure_orbit_plane` — a band of μ > 1 branches: the spin axes of the Bloch-spinor columns on a plane.

z_k at a k that is not a mesh point is the axis of the nearest mesh point (no interpolation: forced jumps stay
visible). Calculation lives in :mod:`nhm.kspace.analysis.checks` and :mod:`nhm.kspace.analysis.fermi`; this module
only draws and writes (the interactive page is :mod:`nhm.kspace.analysis.viewer`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nhm.atomic import save_figure_atomically
from nhm.errors import InputError
from nhm.kspace.analysis.checks import spin_axes
from nhm.kspace.analysis.fermi import fermi_crossings, fermi_points, fermi_surface_points
from nhm.kspace.construction.field import SpinorField


def _plane_basis(normal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    # u: the Cartesian axis most perpendicular to n, made orthogonal; v = n × u
    e = np.eye(3)[int(np.argmin(np.abs(n)))] if abs(n[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = e - (e @ n) * n
    u /= np.linalg.norm(u)
    return n, u, np.cross(n, u)


def figure_plane(field: SpinorField, normal=(1, -1, 0), offset: float = 0.0, dispersion=None, title: str | None = None,
                 ax=None):
    """Seed Fig. 1(a) for ``field`` on the plane n̂·k = offset (Cartesian k, units 1/a without 2π).

    The default plane (1, −1, 0) of a cubic group contains Γ, H, N and P. Left: every mesh point of the
    plane with the in-plane part of z_k (arrow) and its out-of-plane part (colour), the Voronoi cells
    of the model band, and the bonds where F jumps. Right: the Fermi contour in the plane (free-electron
    sphere at half filling unless ``dispersion`` is given), k (black) and z_k (red) in 3D. With ``ax`` (a 2D
    Axes), only the left panel is drawn, into it; its figure is returned.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    mesh = field.mesh
    n, u, v = _plane_basis(normal)
    k = mesh.k_cartesian_bz
    on = np.abs(k @ n - offset) < 1e-6
    axes = spin_axes(field)[:, 0]
    if ax is None:
        fig = plt.figure(figsize=(14, 6.5))
        ax1 = fig.add_subplot(1, 2, 1)
    else:
        fig, ax1 = ax.figure, ax
    x, y = k[on] @ u, k[on] @ v
    steps = np.linalg.norm(np.diff(np.sort(np.stack([x, y], 1), axis=0), axis=0), axis=1)
    spacing = np.min(steps[steps > 1e-9], initial=1.0 / min(mesh.divisions))
    names = sorted({str(c) for c in field.characters.cell if c})
    if names:
        cells = field.characters.cell[on]
        code = np.array([names.index(str(c)) if c else -1 for c in cells])
        cmap = ListedColormap(plt.cm.Pastel2.colors[: max(len(names), 1)])
        ax1.scatter(x, y, c=code, cmap=cmap, s=60, marker="o", vmin=-0.5, vmax=len(names) - 0.5, alpha=0.8)
        for i, nm in enumerate(names):
            ax1.scatter([], [], color=cmap(i), marker="o", label=f"Voronoi cell of {nm}")
    a = axes[on]
    r2_on = ~field.defined[on]
    if np.any(r2_on):  # R2 points: F undefined; the arrow is ⟨σ⟩ of the fixed Bloch spinor (length ≤ 1)
        ax1.scatter(x[r2_on], y[r2_on], s=140, facecolors="none", edgecolors="crimson", lw=1.5,
                    label="R2 point (F undefined; arrow: ⟨σ⟩ of Ψ_K)")
    segments = None
    if getattr(dispersion, "fermi_level", None) is not None:  # the band's own Fermi contour in the plane
        gx = np.linspace(x.min() - spacing, x.max() + spacing, 241)
        gy = np.linspace(y.min() - spacing, y.max() + spacing, 241)
        xx, yy = np.meshgrid(gx, gy)
        kk = xx[..., None] * u + yy[..., None] * v + offset * n
        cs = ax1.contour(xx, yy, dispersion(kk.reshape(-1, 3)).reshape(xx.shape) - dispersion.fermi_level, levels=[0.0],
                         colors="darkorange", linewidths=1.8)
        segments = [seg[:, :1] * u + seg[:, 1:2] * v + offset * n for seg in cs.allsegs[0] if len(seg) > 1]
        ax1.plot([], [], color="darkorange", lw=1.8, label="Fermi contour of the band (interpolated)")
    length = 1.6 * spacing
    q = ax1.quiver(x, y, a @ u, a @ v, a @ n, cmap="viridis", clim=(-1, 1), angles="xy", scale_units="xy",
                   scale=1 / length, width=0.0035, pivot="middle")
    fig.colorbar(q, ax=ax1, label="component of z_k normal to the plane", shrink=0.8)
    _, _, table = mesh.neighbours
    _, proj, _ = field.bond_distances
    for kk in np.nonzero(on)[0]:
        for b, m in enumerate(table[kk]):
            if on[m] and m > kk and proj[kk, b] > 1.0 and np.linalg.norm(k[m] - k[kk]) < 3 * spacing:
                ax1.plot([k[kk] @ u, k[m] @ u], [k[kk] @ v, k[m] @ v], color="k", lw=1.5)
    ax1.plot([], [], color="k", lw=1.5, label="jump of F (phase-free distance > 1)")
    ax1.set_aspect("equal")
    ax1.set_xlabel(f"k · ({', '.join(f'{c:.2f}' for c in u)})  (1/a)")
    ax1.set_ylabel(f"k · ({', '.join(f'{c:.2f}' for c in v)})  (1/a)")
    ax1.legend(loc="lower left", fontsize=7, framealpha=0.8)
    ax1.set_title("z_k = n_{+½}(k) at the mesh points of the plane")
    if ax is not None:
        return fig
    ax2 = fig.add_subplot(1, 2, 2, projection="3d")
    if segments is not None:  # the band's own contour: 16 points spread along its pieces
        allpts = np.vstack(segments) if segments else np.zeros((0, 3))
        pts = allpts[np.linspace(0, len(allpts) - 1, min(16, len(allpts))).astype(int)] if len(allpts) else allpts
        for seg in segments:
            ax2.plot(*seg.T, color="0.6", lw=1)
    else:
        phi = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        pts = fermi_surface_points(mesh, np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * v, dispersion) + offset * n
        fine = np.linspace(0, 2 * np.pi, 240)
        cont = fermi_surface_points(mesh, np.cos(fine)[:, None] * u + np.sin(fine)[:, None] * v, dispersion) + offset * n
        ax2.plot(*cont.T, color="0.6", lw=1)
    z = axes[mesh.nearest_index(pts)] if len(pts) else np.zeros((0, 3))
    o = np.zeros_like(pts)
    ax2.quiver(*o.T, *pts.T, color="k", arrow_length_ratio=0.06, lw=1)
    span = float(np.max(np.linalg.norm(pts, axis=1), initial=0.5))
    ax2.quiver(*pts.T, *(0.3 * span * z).T, color="red", arrow_length_ratio=0.25, lw=1.6)
    ax2.quiver(*pts.T, *(-0.3 * span * z).T, color="red", alpha=0.4, arrow_length_ratio=0.0, lw=1.6)
    for ax_, lim in ((ax2.set_xlim, span), (ax2.set_ylim, span), (ax2.set_zlim, span)):
        ax_(-1.3 * lim, 1.3 * lim)
    ax2.set_xlabel("k_x")
    ax2.set_ylabel("k_y")
    ax2.set_zlabel("k_z")
    ax2.set_title("Fermi contour in the plane: k (black), z_k (red)")
    fig.suptitle(title or f"k-space magnetism: {field.characters.band_text} with {field.characters.site.label}, mesh {mesh.label}")
    fig.tight_layout()
    return fig


def figure_symmetry_related(field: SpinorField, k_direction=(0.8, 0.25, 0.45), dispersion=None, title: str | None = None,
                            ax=None):
    """Seed Fig. 1(b): the images of one Fermi-surface k under the rotations about z, with their axes (into ``ax``,
    a 3D Axes, if given)."""
    import matplotlib.pyplot as plt

    mesh = field.mesh
    g = mesh.group
    d = np.asarray(k_direction, dtype=float)
    if getattr(dispersion, "fermi_level", None) is not None:  # the crossing of the band's Fermi surface nearest to d
        cross, _ = fermi_crossings(mesh, dispersion, field.defined)
        if not len(cross):
            raise InputError("the band does not cross its Fermi level on the mesh: no Fermi surface to draw")
        k0 = cross[int(np.argmax(cross @ d / np.maximum(np.linalg.norm(cross, axis=1), 1e-12)))]
    else:
        k0 = fermi_surface_points(mesh, d[None, :], dispersion)[0]
    lat = mesh.lattice
    kstar = []
    for r in g.rotations:
        rc = lat @ r @ np.linalg.inv(lat)
        if np.linalg.det(r) > 0 and abs(rc[2, 2] - 1) < 1e-9:  # proper rotations about z
            kr = np.linalg.inv(rc).T @ k0
            if not any(np.linalg.norm(kr - x) < 1e-9 for x in kstar):
                kstar.append(kr)
    kstar = np.array(kstar)
    z = spin_axes(field)[mesh.nearest_index(kstar), 0]
    if ax is None:
        fig = plt.figure(figsize=(7, 6))
        ax = fig.add_subplot(projection="3d")
    else:
        fig = ax.figure
    o = np.zeros((len(kstar), 3))
    ax.quiver(*o.T, *kstar.T, color="k", arrow_length_ratio=0.08)
    s = 0.35 * np.linalg.norm(k0)
    ax.quiver(*kstar.T, *(s * z).T, color="red", arrow_length_ratio=0.2)
    ax.quiver(*kstar.T, *(-s * z).T, color="red", alpha=0.35, arrow_length_ratio=0.0)
    for kk in kstar:
        ax.plot([kk[0], kk[0]], [kk[1], kk[1]], [0, kk[2]], color="0.7", lw=0.8, ls=":")
    lim = 1.3 * np.linalg.norm(k0)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_zlim(-lim, lim)
    ax.set_xlabel("k_x")
    ax.set_ylabel("k_y")
    ax.set_zlabel("k_z")
    ax.set_title(title or f"symmetry-related k (SG {g.number}) and their spin axes z_k")
    return fig


def figure_orbit_plane(fld, energies=None, fermi_level: float | None = None, normal=None, offset: float = 0.0, title: str | None = None):
    """A band of μ > 1 branches (:class:`nhm.kspace.construction.orbit.OrbitField`) on the plane n̂·k = offset: one panel per atom j
    of the orbit, the spin axis ⟨σ⟩ of the Bloch-spinor column (j, +½) at every mesh point of the plane (arrow:
    in-plane part; colour: normal part; its length is below 1 where the column mixes the branches' spins), the
    mesh points where a branch crosses E_F (orange rings) and those whose stars admit no symmetric spin-independent
    F (red rings). The default plane holds the c axis and, in hexagonal groups, Γ, K, H and A (else k_y = 0)."""
    import matplotlib.pyplot as plt

    mesh = fld.mesh
    if normal is None:
        normal = (0.0, 1.0, 0.0)
        if 168 <= mesh.space_group <= 194:  # the plane Γ-K-H-A
            conv_to_cart = mesh.k_to_cart @ np.linalg.inv(np.array([[float(x) for x in r] for r in mesh.p_to_conv]))
            normal = tuple(np.cross(conv_to_cart @ np.array([1 / 3, 1 / 3, 0.0]), [0.0, 0.0, 1.0]))
    n, u, v = _plane_basis(normal)
    if abs(n[2]) < 1e-9:  # a plane holding the c axis: draw it vertically
        v = np.array([0.0, 0.0, 1.0])
        u = np.cross(v, n)
    k = mesh.k_cartesian_bz
    on = np.abs(k @ n - offset) < 1e-6
    x, y = k[on] @ u, k[on] @ v

    def step(c: np.ndarray) -> float:
        d = np.diff(np.unique(np.round(c, 9)))
        return float(np.min(d[d > 1e-9], initial=1.0 / min(mesh.divisions)))

    length = 0.5 * max(step(x), step(y))  # arrows along the denser direction may overlap, across the rows they do not
    fs = np.zeros(mesh.size, dtype=bool)
    if energies is not None and fermi_level is not None:
        fs[fermi_points(mesh, energies, fermi_level)] = True
    direct = np.where(mesh.time_reversed, mesh.minus, np.arange(mesh.size))
    odd = np.isin(mesh.star_rep[direct], fld.needs_spin)[on]
    fig, axs = plt.subplots(1, fld.mu, figsize=(6.5 * fld.mu, 6.2), squeeze=False)
    axes = fld.spin_axes
    for j, ax in enumerate(axs[0]):
        a = axes[on, 2 * j]
        if np.any(odd):
            ax.scatter(x[odd], y[odd], s=90, facecolors="none", edgecolors="crimson", lw=1.2,
                       label="no symmetric spin-independent F here")
        if np.any(fs[on]):
            ax.scatter(x[fs[on]], y[fs[on]], s=150, facecolors="none", edgecolors="darkorange", lw=1.5, label="a branch crosses E_F here")
        q = ax.quiver(x, y, a @ u, a @ v, a @ n, cmap="viridis", clim=(-1, 1), angles="xy", scale_units="xy",
                      scale=1 / length, width=0.004, pivot="middle")
        ax.set_aspect("equal")
        ax.set_xlabel(f"k · ({', '.join(f'{c:.2f}' for c in u)})  (1/a)")
        ax.set_ylabel(f"k · ({', '.join(f'{c:.2f}' for c in v)})  (1/a)")
        ax.set_title(f"⟨σ⟩ of the Bloch spinor (atom {j + 1}, m = +½)")
        if np.any(fs[on]) or np.any(odd):
            ax.legend(loc="lower left", fontsize=7)
        fig.colorbar(q, ax=ax, label="component normal to the plane", shrink=0.8)
    fig.suptitle(title or f"k-space magnetism of a band of {fld.mu} branches with {fld.site.label}, mesh {mesh.label}")
    fig.tight_layout()
    return fig


def save_figures(figures: dict[str, object], directory: str | Path) -> list[Path]:
    """Write each figure as PNG and SVG; returns the paths."""
    out = Path(directory)  # created by the first write (nhm.atomic), not before
    paths = []
    for name, fig in figures.items():
        for ext in ("png", "svg"):
            p = out / f"{name}.{ext}"
            save_figure_atomically(fig, p, dpi=130)
            paths.append(p)
    import matplotlib.pyplot as plt

    for fig in figures.values():
        plt.close(fig)  # type: ignore[arg-type]
    return paths
