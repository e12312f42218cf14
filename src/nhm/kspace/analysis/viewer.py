"""The field on a Fermi surface as an interactive 3D page: one self-contained HTML file (plotly, no network).

:func:`write_html` draws the spin axis z_k = n_{+½}(k) at points of the band's Fermi surface — the crossings of its
own Fermi level on the stencil bonds, or the star-shaped surface of
:func:`~nhm.kspace.analysis.fermi.fermi_surface_points` (the free-electron sphere without a dispersion) — as a short
axis through each point, coloured by its component along ẑ, with a dot at its +½ end, inside the edges of the first
Brillouin zone. The view turns and zooms with the mouse and names k and z_k of the point under the pointer. z_k at a
k that is not a mesh point is the axis of the nearest mesh point (no interpolation: forced jumps stay visible).
plotly.js is written into the page (``include_plotlyjs=True``): it opens offline and fetches nothing.
"""

from __future__ import annotations

import html
from itertools import combinations
from pathlib import Path

import numpy as np

from nhm.atomic import write_text_atomically
from nhm.kspace.analysis.checks import spin_axes
from nhm.kspace.analysis.fermi import fermi_crossings, fermi_surface_points, fibonacci_directions
from nhm.kspace.construction.field import SpinorField

COLOURS = "RdBu_r"  # z_k · ẑ from −1 (blue) to +1 (red)
ARROW = 0.12  # half-length of a drawn axis, in units of the largest |k| shown


def _bz_edges(mesh) -> list:
    """Edges of the first Brillouin zone (Cartesian), from the Voronoi cell of Γ among reciprocal vectors."""
    b = mesh.k_to_cart
    g = np.array([b @ np.array(v) for v in np.ndindex(5, 5, 5)]) - b @ np.array([2, 2, 2])
    g = g[np.linalg.norm(g, axis=1) > 1e-9]
    g = g[np.argsort(np.linalg.norm(g, axis=1))][:40]
    verts = []
    for i, j, k in combinations(range(len(g)), 3):
        a = np.array([g[i], g[j], g[k]])
        if abs(np.linalg.det(a)) < 1e-9:
            continue
        x = np.linalg.solve(a, 0.5 * np.sum(a * a, axis=1))
        if np.all(g @ x <= 0.5 * np.sum(g * g, axis=1) + 1e-9):
            if not any(np.linalg.norm(x - v) < 1e-7 for v in verts):
                verts.append(x)
    verts = np.array(verts)
    edges = []
    for i, j in combinations(range(len(verts)), 2):
        # an edge lies on two faces: both endpoints satisfy two common planes with equality
        on_i = np.abs(g @ verts[i] - 0.5 * np.sum(g * g, axis=1)) < 1e-7
        on_j = np.abs(g @ verts[j] - 0.5 * np.sum(g * g, axis=1)) < 1e-7
        if np.sum(on_i & on_j) >= 2:
            edges.append([verts[i].tolist(), verts[j].tolist()])
    return edges


def _fermi_surface_sample(field: SpinorField, dispersion=None, n_points: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """``(points, axes)``: points of the Fermi surface (Cartesian, 1/a, (M, 3)) and z_k there (M, 3).

    With a dispersion that carries its Fermi level, the band's own Fermi surface (at most 3·``n_points`` of its
    crossings on the stencil bonds, where F is defined); otherwise ``n_points`` directions of the star-shaped surface
    of :func:`~nhm.kspace.analysis.fermi.fermi_surface_points`, z_k from the nearest mesh point."""
    mesh = field.mesh
    if getattr(dispersion, "fermi_level", None) is not None:  # the band's own Fermi surface (any shape)
        pts, near = fermi_crossings(mesh, dispersion, field.defined)
        pick = np.linspace(0, len(pts) - 1, min(len(pts), 3 * n_points)).astype(int) if len(pts) else np.zeros(0, dtype=int)
        return pts[pick], spin_axes(field)[near[pick], 0]
    pts = fermi_surface_points(mesh, fibonacci_directions(n_points), dispersion)
    return pts, spin_axes(field)[mesh.nearest_index(pts), 0]


def _polyline(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y, z of line segments (S, 2, 3) for one plotly trace: NaN (a gap) after each."""
    gap = np.full((len(segments), 1, 3), np.nan)
    xyz = np.concatenate([segments, gap], axis=1).reshape(-1, 3)
    return xyz[:, 0], xyz[:, 1], xyz[:, 2]


def _title(field: SpinorField, title: str | None) -> str:
    return title or f"k-space magnetism: {field.characters.band_text} ({field.characters.site.label}), mesh {field.mesh.label}"


def figure_fermi_surface(field: SpinorField, dispersion=None, n_points: int = 600, title: str | None = None):
    """The plotly figure of :func:`write_html`."""
    import plotly.graph_objects as go

    mesh = field.mesh
    pts, axes = _fermi_surface_sample(field, dispersion, n_points)
    scale = float(np.max(np.linalg.norm(pts, axis=1), initial=0.0)) or 1.0
    length = ARROW * scale
    text = _title(field, title)
    edges = np.array(_bz_edges(mesh), dtype=float).reshape(-1, 2, 3)
    ex, ey, ez = _polyline(edges)
    ax, ay, az = _polyline(np.stack([pts - length * axes, pts + length * axes], axis=1))
    tips = pts + length * axes
    hover = [
        f"k = ({k[0]:+.3f}, {k[1]:+.3f}, {k[2]:+.3f}) 1/a<br>z_k = ({n[0]:+.3f}, {n[1]:+.3f}, {n[2]:+.3f})"
        for k, n in zip(pts, axes)
    ]
    colour = dict(colorscale=COLOURS, cmin=-1.0, cmax=1.0)
    fig = go.Figure([
        go.Scatter3d(x=ex, y=ey, z=ez, mode="lines", line=dict(color="#b0b0b0", width=2), hoverinfo="skip",
                     name="first Brillouin zone"),
        go.Scatter3d(x=ax, y=ay, z=az, mode="lines", hoverinfo="skip", name="z_k (axis through k)",
                     line=dict(color=np.repeat(axes[:, 2], 3), width=5, showscale=True,
                               colorbar=dict(title=dict(text="z_k · ẑ")), **colour)),
        go.Scatter3d(x=tips[:, 0], y=tips[:, 1], z=tips[:, 2], mode="markers", hoverinfo="skip", name="+½ end of z_k",
                     marker=dict(size=2.5, color=axes[:, 2], **colour)),
        go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], mode="markers", name="k on the Fermi surface",
                     marker=dict(size=2, color="#555555"), hovertext=hover, hoverinfo="text"),
    ])
    fig.update_layout(
        title=dict(text=f"{html.escape(text, quote=False)}<br><sup>z_k at the Fermi surface, coloured by its component "
                        "along ẑ; drag to turn, scroll to zoom, point for k and z_k</sup>"),
        scene=dict(aspectmode="data", xaxis_title="k_x (1/a)", yaxis_title="k_y (1/a)", zaxis_title="k_z (1/a)"),
        legend=dict(x=0.0, y=0.0), margin=dict(l=0, r=0, t=70, b=0), template="plotly_white",
    )
    return fig


def write_html(field: SpinorField, path: str | Path, dispersion=None, n_points: int = 600, title: str | None = None) -> Path:
    """The field on a Fermi surface as a self-contained interactive HTML page (plotly.js inline, no network)."""
    fig = figure_fermi_surface(field, dispersion, n_points, title)
    text = _title(field, title)
    body = fig.to_html(full_html=False, include_plotlyjs=True, default_width="100%", default_height="100vh",
                       config={"displaylogo": False})
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(text)}</title>"
        "<style>body{margin:0;font-family:sans-serif;background:#fff}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
    p = Path(path)
    write_text_atomically(p, page)
    return p
