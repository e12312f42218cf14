"""Figures (PNG and SVG) of ΔE scans, the selection rule and the spin-axis field.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so
nothing global is touched and no display is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nhm.atomic import save_figure_atomically
from nhm.manybody.lattice import Cluster
from nhm.manybody.scan import ScanResult
from nhm.manybody.selection import CATEGORIES, SelectionReport
from nhm.manybody.wannier_basis import spin_axes

_AXIS_LABEL = {"U": "U / t", "filling": "electrons N_e", "sites": "sites N", "strength": "strength λ of the k-space texture"}


def save_figure(fig: Figure, directory: str | Path, stem: str) -> list[Path]:
    """``fig`` as ``stem``.png and ``stem``.svg in ``directory`` (atomically); the paths."""
    out = Path(directory)  # created by the first write (nhm.atomic, which names any failure), not before
    FigureCanvasAgg(fig)
    paths = []
    for ext in ("png", "svg"):
        path = out / f"{stem}.{ext}"
        save_figure_atomically(fig, path, dpi=150 if ext == "png" else None, bbox_inches="tight")
        paths.append(path)
    return paths


def plot_scan(result: ScanResult, directory: str | Path) -> list[Path]:
    """:func:`scan_figure` as PNG and SVG in ``directory``."""
    return save_figure(scan_figure(result), directory, f"manybody_scan_{result.parameter}")


def scan_figure(result: ScanResult) -> Figure:
    """ΔE, ⟨G′|H_z|G′⟩ (the variational upper bound of ΔE), E0(H) and E0(H′) against the scanned parameter."""
    x = np.array(result.values)
    pts = result.points
    de = np.array([p.delta_E for p in pts])
    hz = np.array([p.Hz_expectation_in_G_prime for p in pts])
    e0 = np.array([p.E0_H for p in pts])
    e0p = np.array([p.E0_H_prime for p in pts])
    per_site = result.parameter == "sites"
    n = np.array([p.sites for p in pts], dtype=float) if per_site else np.ones_like(x)
    fig = Figure(figsize=(7.0, 6.4))
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.plot(x, de / n, "o-", label="ΔE = E0(H) − E0(H′)")
    ax1.plot(x, hz / n, "s--", label="⟨G′|H_z|G′⟩ (ΔE ≤ this)")
    ax1.set_ylabel("energy per site / t" if per_site else "energy / t")
    ax1.legend(loc="best", fontsize=8)
    first = pts[0]
    field = first.field.split(" (")[0] if result.parameter == "strength" else first.field
    where = f"{first.lattice}" + ("" if result.parameter == "sites" else f", N = {first.sites}")
    ax1.set_title(f"{where}, field {field}: NHM condensation energy (ΔE > 0 favours H′)", fontsize=9)
    ax2.plot(x, e0 / n, "o-", label="E0(H)")
    ax2.plot(x, e0p / n, "s-", label="E0(H′), H′ = H − H_z")
    ax2.set_ylabel("ground energy per site / t" if per_site else "ground energy / t")
    ax2.set_xlabel(_AXIS_LABEL.get(result.parameter, result.parameter))
    ax2.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def plot_selection(report: SelectionReport, directory: str | Path, stem: str = "selection_rule") -> list[Path]:
    """:func:`selection_figure` as PNG and SVG in ``directory``."""
    return save_figure(selection_figure(report), directory, stem)


def selection_figure(report: SelectionReport, ax=None) -> Figure:
    """Histogram of |ΔS| of the two-electron processes by category (log counts); drawn into ``ax`` if given."""
    edges = np.array(report.histogram_edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    width = edges[1] - edges[0]
    if ax is None:
        fig = Figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
    else:
        fig = ax.figure
    bottom = np.zeros_like(centres)
    for name in CATEGORIES:
        counts = np.array(report.histogram.get(name, np.zeros_like(centres)), dtype=float)
        ax.bar(centres, counts, width=width, bottom=bottom, label=f"{name} ({report.two_electron[name].count})")
        bottom += counts
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("|ΔS| of the process (units of ħ/2)")
    ax.set_ylabel("number of processes")
    ax.set_title(f"Total-spin change of two-electron processes, {report.n_k}-point mesh", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_spin_axes(matrices: np.ndarray, cluster: Cluster, directory: str | Path, stem: str = "spin_axes") -> list[Path]:
    """:func:`spin_axes_figure` as PNG and SVG in ``directory``."""
    return save_figure(spin_axes_figure(matrices, cluster), directory, stem)


def spin_axes_figure(matrices: np.ndarray, cluster: Cluster, ax=None) -> Figure:
    """The axis field n_{+½}(k): components against k (1D) or arrows (n_x, n_y) coloured by n_z (≥ 2D); drawn
    into ``ax`` if given."""
    n = spin_axes(matrices)[:, 0, :]
    if ax is None:
        fig = Figure(figsize=(6.0, 4.5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    if cluster.dim == 1:
        k = cluster.k_fractional[:, 0]
        order = np.argsort(k)
        for i, lab in enumerate("xyz"):
            ax.plot(k[order], n[order, i], "o-", label=f"n_{lab}")
        ax.set_xlabel("k (units of 2π/a)")
        ax.set_ylabel("spin axis of m = +½")
        ax.legend(fontsize=8)
    else:
        kc = cluster.k_cartesian[:, :2]
        q = ax.quiver(kc[:, 0], kc[:, 1], n[:, 0], n[:, 1], n[:, 2], cmap="coolwarm", clim=(-1, 1))
        fig.colorbar(q, ax=ax, label="n_z")
        ax.set_aspect("equal")
        ax.set_xlabel("k_x (1/a)")
        ax.set_ylabel("k_y (1/a)")
    ax.set_title("k-space magnetism: spin axis z_k of the Bloch spinor m = +½", fontsize=9)
    fig.tight_layout()
    return fig
