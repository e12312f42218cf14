"""Measured Tc against the valence-electron count (VEC) per family, with nhm's verdict on every point.

:func:`compound_points` lays out the points (shared with the HTML page of :mod:`nhm.screen.pages`):
x is the VEC per formula unit, spread by a small offset where several compounds of a family share it; y is
the measured Tc of the headline report (0 for "not superconducting"); the other reports of the compound
(other samples, disputed claims) are kept as secondary points. :func:`render_compounds` draws one panel per
family with matplotlib: the marker's shape is nhm's verdict (circle: superconducting band found, square:
none, cross: failed), its fill the best candidate band's filling (grey: no candidate), its edge whether the
verdict agrees with experiment (green), disagrees (red) or the compound is outside the confusion matrix
(grey, dashed label: disputed or uncertain measurement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nhm.screen.report import ReportRow, ScreenReport, format_tc

__all__ = ["CompoundPoint", "compound_points", "render_compounds"]

SPREAD = 0.28  # horizontal offset between compounds of one family with the same VEC
AGREE, DISAGREE, OUTSIDE = "#1b8a3a", "#c62828", "#8a8a8a"
NO_CANDIDATE = "#d0d0d0"
FILLING_CMAP = "viridis"


@dataclass
class CompoundPoint:
    row: ReportRow
    x: float
    tc: float  # measured Tc of the headline report, 0 if not superconducting (K)
    others: list[dict[str, Any]] = field(default_factory=list)  # the other reports on the computed phase
    tier: int = 0  # 0 or 1: labels of neighbours with the same VEC alternate in height so that they do not overlap

    @property
    def shape(self) -> str:
        if self.row.status != "ok":
            return "failed"
        return "sc" if self.row.verdict == "superconducting" else "none"

    @property
    def edge(self) -> str:
        if not self.row.in_matrix:
            return OUTSIDE
        return AGREE if self.row.outcome in ("TP", "TN") else DISAGREE

    @property
    def filling(self) -> float | None:
        return self.row.best.get("filling")


def compound_points(rep: ScreenReport) -> dict[str, list[CompoundPoint]]:
    """``{family: points}`` in the order of the compound table's families."""
    from nhm.screen.compounds import families, measured_compounds

    table = measured_compounds()
    out: dict[str, list[CompoundPoint]] = {f: [] for f in families()}
    for r in rep.group_rows("compound"):
        entry = table[r.compound]
        others = [x for x in entry["reports"][1:] if x.get("computed_phase", True)]
        out.setdefault(r.family, []).append(CompoundPoint(r, float(r.vec or 0), r.measured_tc_K or 0.0, others))
    for points in out.values():
        by_vec: dict[float, list[CompoundPoint]] = {}
        for p in points:
            by_vec.setdefault(p.x, []).append(p)
        for group in by_vec.values():
            for i, p in enumerate(group):
                p.x += (i - (len(group) - 1) / 2) * SPREAD
                p.tier = i % 2
    return {f: pts for f, pts in out.items() if pts}


def vec_range(family: str) -> tuple[int, int]:
    """The VEC range of a family over the whole compound table (panels keep their axes whatever was computed)."""
    from nhm.screen.compounds import measured_compounds

    vecs = [e["vec"] for e in measured_compounds().values() if e["family"] == family]
    return min(vecs), max(vecs)


def measured_label(row: ReportRow) -> str:
    if row.measured_superconducting:
        return f"Tc {format_tc(row.measured_tc_K)}"
    down = row.measured_down_to_K
    return "not superconducting" + (f" (down to {format_tc(down)})" if down else "")


def render_compounds(rep: ScreenReport, formats: tuple[str, ...] = ("png", "svg")) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors
    from matplotlib.lines import Line2D

    from nhm.screen.compounds import families
    from nhm.screen.figure import parameters_lines, save_figure

    panels = compound_points(rep)
    names = families()
    cmap = plt.get_cmap(FILLING_CMAP)
    norm = colors.Normalize(0.0, 1.0)
    top = max([p.tc for pts in panels.values() for p in pts]
              + [o["tc_K"] or 0.0 for pts in panels.values() for p in pts for o in p.others] + [1.0])
    fig, axes = plt.subplots(2, len(panels), figsize=(5.6 * len(panels) + 1.2, 10.0), sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": (1.25, 1.0)})
    for ax, (family, points) in zip(axes[1], panels.items()):
        _draw_centre_fillings(ax, family, points, rep)
    for ax, (family, points) in zip(axes[0], panels.items()):
        for p in points:
            for o in p.others:  # other reports: where the literature disagrees or scatters
                y = o["tc_K"] or 0.0
                ax.plot([p.x, p.x], [p.tc, y], ls=":", color="0.55", lw=1, zorder=1)
                ax.scatter([p.x], [y], marker="_" if not o["superconducting"] else "D", s=40, color="0.45", zorder=2)
            face = NO_CANDIDATE if p.filling is None else cmap(norm(p.filling))
            marker = {"sc": "o", "none": "s", "failed": "X"}[p.shape]
            ax.scatter([p.x], [p.tc], marker=marker, s=170, c=[face], edgecolors=p.edge, linewidths=2.4, zorder=3)
            label = p.row.name + ("" if p.row.in_matrix else "?")
            ax.annotate(label, (p.x, p.tc), xytext=(0, 11 + 11 * p.tier), textcoords="offset points", ha="center",
                        fontsize=9, fontweight="bold" if p.row.in_matrix else "normal", zorder=4)
            other = _centre_marks(p.row)
            if other:
                ax.annotate(other, (p.x, p.tc), xytext=(0, -17 - 10 * p.tier), textcoords="offset points", ha="center",
                            fontsize=6.5, color="0.25", zorder=4)
        lo, hi = vec_range(family)
        ax.set_xticks(range(lo, hi + 1))
        ax.set_xlim(lo - 0.75, hi + 0.75)
        ax.set_title(names.get(family, family), fontsize=11)
        ax.grid(alpha=0.3)
        ax.axhline(0, color="0.6", lw=0.8)
    axes[0][0].set_ylabel("measured Tc (K); 0: not superconducting")
    axes[0][0].set_ylim(-0.14 * top - 2.5, 1.15 * top + 1)
    axes[1][0].set_ylabel("filling of the best candidate band,\neach atom orbit alone as centres")
    sm = cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(sm, cax=fig.add_axes((0.915, 0.5, 0.012, 0.36)))
    bar.set_label("filling of the best candidate band (grey: no candidate)")
    for f in (0.25, 0.75):
        bar.ax.axhline(f, color="white", lw=1.5)
    handles = [
        Line2D([], [], marker="o", ls="", ms=10, mfc="0.8", mec="0.3", label="superconducting band found"),
        Line2D([], [], marker="s", ls="", ms=9, mfc="0.8", mec="0.3", label="no superconducting band"),
        Line2D([], [], marker="X", ls="", ms=10, mfc="0.8", mec="0.3", label="computation failed"),
        Line2D([], [], marker="o", ls="", ms=10, mfc="white", mec=AGREE, mew=2.4, label="agrees with experiment"),
        Line2D([], [], marker="o", ls="", ms=10, mfc="white", mec=DISAGREE, mew=2.4, label="disagrees"),
        Line2D([], [], marker="o", ls="", ms=10, mfc="white", mec=OUTSIDE, mew=2.4,
               label="NAME?: measurement disputed/uncertain"),
        Line2D([], [], marker="D", ls=":", color="0.45", ms=5, label="other reports (Tc; bar: none)"),
        Line2D([], [], marker="o", ls="", ms=8, mfc=METAL_SITE, mec="k", label="lower panels: metal site"),
        Line2D([], [], marker="o", ls="", ms=8, mfc=OTHER_SITE, mec="k", label="lower panels: C, N or B site"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8.5, frameon=False, bbox_to_anchor=(0.45, -0.005))
    sc = rep.compounds
    summary = "" if sc is None else (
        f"all atoms as centres: TP {sc.matrix['TP']}, FP {sc.matrix['FP']}, FN {sc.matrix['FN']}, TN {sc.matrix['TN']}")
    fig.suptitle("Measured Tc against electron count, with nhm's verdict (Krüger's NHM)   " + summary, fontsize=12,
                 y=0.985)
    lines = parameters_lines(rep)
    if lines:
        fig.text(0.5, 0.948, "; ".join(lines) + ". Under each point: the verdict with each atom orbit alone as centres.",
                 fontsize=7, color="0.35", ha="center")
    fig.subplots_adjust(bottom=0.12, top=0.91, left=0.07, right=0.9, wspace=0.08, hspace=0.12)
    return save_figure(fig, formats)


METAL_SITE, OTHER_SITE = "#6a3d9a", "#ff7f00"


def _draw_centre_fillings(ax: Any, family: str, points: list[CompoundPoint], rep: ScreenReport) -> None:
    """The electron count tunes the filling: the best candidate's filling of every single-orbit choice of centres
    against VEC (● superconducting band, ■ none), the filling window of the criteria shaded."""
    from nhm.screen.compounds import measured_compounds

    table = measured_compounds()
    crit = rep.criteria[0] if rep.criteria else {}
    ax.axhspan(crit.get("filling_min", 0.25), crit.get("filling_max", 0.75), color="0.92", zorder=0)
    for p in points:
        metal = _metal_of(table.get(p.row.compound or "", {}))
        for c in p.row.centres:
            f = c.best.get("filling")
            if c.default or f is None:
                continue
            element = c.name.split()[0]
            colour = METAL_SITE if element == metal else OTHER_SITE
            lo, hi = c.best.get("filling_min"), c.best.get("filling_max")
            if lo is not None and hi is not None and hi - lo > 5e-3:
                ax.plot([p.x, p.x], [lo, hi], color=colour, lw=1.2, alpha=0.6, zorder=2)
            marker = "o" if c.verdict == "superconducting" else "s"
            ax.scatter([p.x], [f], marker=marker, s=60, c=colour, edgecolors="k", linewidths=0.6, zorder=3)
            ax.annotate(f"{p.row.name} ({element})", (p.x, f), xytext=(5, -3), textcoords="offset points", fontsize=6.5,
                        color="0.25", zorder=4)
    lo, hi = vec_range(family)
    ax.set_xticks(range(lo, hi + 1))
    ax.set_xlim(lo - 0.75, hi + 0.75)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("valence electrons per formula unit (VEC)")
    ax.grid(alpha=0.3)


def _metal_of(entry: dict[str, Any]) -> str | None:
    """The compound's metal: the first element of its formula (TiC, MgB2)."""
    import re

    name = entry.get("formula") or entry.get("name") or ""
    m = re.match(r"[A-Z][a-z]?", name)
    return m.group(0) if m else None


def _centre_marks(row: ReportRow) -> str:
    """``Nb ● C ■``: the verdict with each orbit alone (● superconducting band, ■ none, ✕ failed)."""
    marks = []
    for c in row.centres:
        if c.default:
            continue
        element = c.name.split()[0]
        marks.append(f"{element} " + ("✕" if c.verdict is None else ("●" if c.verdict == "superconducting" else "■")))
    return " ".join(marks)
