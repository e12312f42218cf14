"""The field on a Fermi surface as a rotatable 3D view: one self-contained HTML file (no network).

:func:`write_html` writes one HTML file with inline JavaScript and canvas, the data embedded, nothing fetched
at view time: z_k at points of the band's Fermi surface (or of the star-shaped surface of
:func:`~nhm.kspace.analysis.fermi.fermi_surface_points`) inside the edges of the first Brillouin zone. z_k at a k that
is not a mesh point is the axis of the nearest mesh point (no interpolation: forced jumps stay visible).
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np

from nhm.atomic import write_text_atomically
from nhm.kspace.analysis.checks import spin_axes
from nhm.kspace.analysis.fermi import fermi_crossings, fermi_surface_points, fibonacci_directions
from nhm.kspace.construction.field import SpinorField


_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>__TITLE__</title>
<style>body{margin:0;font-family:sans-serif;background:#fff}#c{display:block}#info{position:absolute;left:10px;top:8px;font-size:13px;background:rgba(255,255,255,.8)}</style>
</head><body><div id="info">__TITLE__<br>drag: rotate · wheel: zoom · red: z_k at mesh points on the Fermi surface, colour = direction</div>
<canvas id="c"></canvas>
<script>
const D = __DATA__;
const cv = document.getElementById('c'), cx = cv.getContext('2d');
let W, H, yaw = 0.6, pitch = 0.4, zoom = 1.0, drag = null;
function resize(){ W = cv.width = innerWidth; H = cv.height = innerHeight; draw(); }
function rot(p){ const cy=Math.cos(yaw), sy=Math.sin(yaw), cp=Math.cos(pitch), sp=Math.sin(pitch);
  const x = cy*p[0] + sy*p[1], y = -sy*p[0] + cy*p[1], z = p[2];
  return [x, cp*y - sp*z, sp*y + cp*z]; }
function proj(p){ const r = rot(p), s = zoom*0.38*Math.min(W,H)/D.scale, f = 4/(4 + r[1]/D.scale);
  return [W/2 + s*f*r[0], H/2 - s*f*r[2], r[1]]; }
function colour(n){ return 'rgb(' + n.map(c => Math.round(127*(1+c))).join(',') + ')'; }
function draw(){ if(!W) return; cx.clearRect(0,0,W,H);
  cx.strokeStyle = '#bbb'; cx.lineWidth = 1;
  for(const e of D.edges){ const a = proj(e[0]), b = proj(e[1]); cx.beginPath(); cx.moveTo(a[0],a[1]); cx.lineTo(b[0],b[1]); cx.stroke(); }
  const items = D.points.map((p,i) => [proj(p)[2], i]).sort((a,b) => b[0]-a[0]);
  for(const [_, i] of items){ const p = D.points[i], n = D.axes[i], L = D.arrow;
    const a = proj(p), b = proj([p[0]+L*n[0], p[1]+L*n[1], p[2]+L*n[2]]), c = proj([p[0]-L*n[0], p[1]-L*n[1], p[2]-L*n[2]]);
    cx.fillStyle = '#888'; cx.beginPath(); cx.arc(a[0], a[1], 2, 0, 6.3); cx.fill();
    cx.strokeStyle = colour(n); cx.lineWidth = 2.2; cx.beginPath(); cx.moveTo(c[0],c[1]); cx.lineTo(b[0],b[1]); cx.stroke();
    cx.fillStyle = colour(n); cx.beginPath(); cx.arc(b[0], b[1], 3, 0, 6.3); cx.fill(); }
}
cv.onmousedown = e => drag = [e.clientX, e.clientY];
onmouseup = () => drag = null;
onmousemove = e => { if(!drag) return; yaw += (e.clientX-drag[0])*0.01; pitch += (e.clientY-drag[1])*0.01; drag = [e.clientX, e.clientY]; draw(); };
cv.onwheel = e => { e.preventDefault(); zoom *= Math.exp(-e.deltaY*0.001); draw(); };
onresize = resize; resize();
</script></body></html>
"""


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


def write_html(field: SpinorField, path: str | Path, dispersion=None, n_points: int = 600, title: str | None = None) -> Path:
    """The field on a Fermi surface as a self-contained interactive HTML page (inline JS, no network)."""
    mesh = field.mesh
    if getattr(dispersion, "fermi_level", None) is not None:  # the band's own Fermi surface (any shape)
        pts, near = fermi_crossings(mesh, dispersion, field.defined)
        pick = np.linspace(0, len(pts) - 1, min(len(pts), 3 * n_points)).astype(int) if len(pts) else np.zeros(0, dtype=int)
        pts, axes = pts[pick], spin_axes(field)[near[pick], 0]
    else:
        pts = fermi_surface_points(mesh, fibonacci_directions(n_points), dispersion)
        axes = spin_axes(field)[mesh.nearest_index(pts), 0]
    scale = float(np.max(np.linalg.norm(pts, axis=1)))
    data = {
        "points": np.round(pts, 5).tolist(),
        "axes": np.round(axes, 4).tolist(),
        "edges": _bz_edges(mesh),
        "scale": scale,
        "arrow": 0.12 * scale,
    }
    text = title or f"k-space magnetism: {field.characters.band_text} ({field.characters.site.label}), mesh {mesh.label}"
    html = _HTML.replace("__DATA__", json.dumps(data)).replace("__TITLE__", text)
    p = Path(path)
    write_text_atomically(p, html)
    return p
