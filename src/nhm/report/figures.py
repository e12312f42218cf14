"""Band-structure figure of ``nhm analyze``: the branches along every line of symmetry, the levels at the
points of symmetry with their irreps, and the best connected candidate drawn as a thick line that
follows its branches, its branch switches marked."""

from __future__ import annotations

import io
import re
from pathlib import Path

import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules and "IPython" not in sys.modules:
    matplotlib.use("Agg")  # files only, no display needed; a session that chose its backend (a notebook) keeps it
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nhm.atomic import write_atomically  # noqa: E402
from nhm.report.analyze import Analysis  # noqa: E402

_HIGHLIGHT = ("#c2185b", "#1565c0", "#2e7d32", "#ef6c00")


def _pretty(name: str) -> str:
    return name.replace("GM", "Γ")


def path_order(lines) -> list[list[tuple[int, bool]]]:
    """The lines as drawable chains: [(line index, reversed), ...] per chain, walking from Γ."""
    unused = list(range(len(lines)))
    chains: list[list[tuple[int, bool]]] = []
    while unused:
        first = next((i for i in unused if "GM" in (lines[i].line.start, lines[i].line.end)), unused[0])
        rev = lines[first].line.end == "GM" and lines[first].line.start != "GM"
        chain = [(first, rev)]
        unused.remove(first)
        cur = lines[first].line.start if rev else lines[first].line.end
        while True:
            nxt = next((i for i in unused if cur in (lines[i].line.start, lines[i].line.end)), None)
            if nxt is None:
                break
            rev = lines[nxt].line.start != cur
            chain.append((nxt, rev))
            unused.remove(nxt)
            cur = lines[nxt].line.start if rev else lines[nxt].line.end
        chains.append(chain)
    return chains


def band_figure(
    an: Analysis, *, emin: float | None = None, emax: float | None = None, candidates: int = 1, ax=None
):
    """The figure (matplotlib Figure). Energies relative to E_F (eV). ``ax``: draw into this Axes (the legend
    then goes inside it, and the figure's layout is left alone); default a figure of its own."""
    if an.zone is None or an.verdict is None:
        raise ValueError("the figure needs the bands along the lines (an analysis with the zone)")
    ef = an.fermi_level
    zone = an.zone
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(8.5, 5.8))
    else:
        fig = ax.figure
    chains = path_order(zone.lines)
    x0 = 0.0
    ticks: list[tuple[float, str]] = []
    xmap: dict[int, tuple[float, float, bool]] = {}  # line -> (x start, x length, reversed)
    for ci, chain in enumerate(chains):
        for j, (i, rev) in enumerate(chain):
            ln = zone.lines[i].line
            length = ln.length * 2 * np.pi
            a, b = (ln.end, ln.start) if rev else (ln.start, ln.end)
            if j == 0:
                if ticks and abs(ticks[-1][0] - x0) < 1e-9:
                    ticks[-1] = (x0, f"{ticks[-1][1]}|{_pretty(a)}")
                else:
                    ticks.append((x0, _pretty(a)))
            xmap[i] = (x0, length, rev)
            x0 += length
            ticks.append((x0, _pretty(b)))
    for i, lb in enumerate(zone.lines):
        xs, length, rev = xmap[i]
        x = xs + (1 - lb.s if rev else lb.s) * length
        for br in lb.branches:
            ax.plot(x, br.energies - ef, color="0.55", lw=0.9, zorder=1)
    for xt, _ in ticks:
        ax.axvline(xt, color="0.85", lw=0.6, zorder=0)
    ax.axhline(0.0, color="0.4", ls="--", lw=0.8, zorder=0)
    shown = [mc for mc in an.verdict.superconducting[:candidates]]
    band_lo, band_hi = [], []
    for rank, mc in enumerate(shown):
        colour = _HIGHLIGHT[rank % len(_HIGHLIGHT)]
        lw = 3.2 if rank == 0 else 1.8
        for p in mc.candidate.paths:
            i = next(n for n, lb in enumerate(zone.lines) if lb.name == p.line)
            lb = zone.lines[i]
            xs, length, rev = xmap[i]
            x = xs + (1 - lb.s if rev else lb.s) * length
            for col in range(p.energies.shape[1]):
                ax.plot(x, p.energies[:, col] - ef, color=colour, lw=lw, alpha=0.85 if rank == 0 else 0.7, zorder=3 + (candidates - rank))
            for sw in p.switches:
                xsw = xs + (1 - sw.s if rev else sw.s) * length
                ax.plot([xsw], [sw.energy - ef], "o", ms=7 if rank == 0 else 5, mfc="white", mec=colour, mew=1.8, zorder=6)
            band_lo.append(float(p.energies.min()) - ef)
            band_hi.append(float(p.energies.max()) - ef)
        m = mc.measures
        ax.plot([], [], color=colour, lw=lw, label=(
            f"{rank + 1}: {_pretty(mc.candidate.band_text())} ({mc.reading}); width {m.width:.2f} eV{_span(mc.width)}, "
            f"filling {m.filling:.2f}{_span(mc.filling)}{' ✓' if mc.passes else ''}{' (marginal)' if mc.marginal else ''}; "
            f"best of {len(mc.variants)} path variant{'s' if len(mc.variants) > 1 else ''}"
        ))
    if shown:
        ax.plot([], [], "o", mfc="white", mec="0.3", mew=1.5, label="branch switch (allowed crossing)")
    lo = min([-3.0, *band_lo]) - 1.0 if emin is None else emin
    hi = max([3.0, *band_hi]) + 1.0 if emax is None else emax
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, x0)
    ax.set_xticks([t for t, _ in ticks], [lbl for _, lbl in ticks])
    _label_levels(ax, an, ticks, lo, hi)
    ax.set_ylabel("E − E_F (eV)")
    ax.set_xlabel("k along the lines of symmetry (1/Å)")
    c = an.crystal
    ax.set_title(
        f"{an.formula}: {c.international} (No. {c.space_group}), GPAW {an.parameters.xc} — {an.verdict.verdict}"
        + (" (marginal)" if an.verdict.marginal else ""),
        fontsize=11,
    )
    if not own:
        if shown:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
        return fig
    entries = len(shown) + (1 if shown else 0)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.11 + 0.032 * entries)
    if shown:  # below the axes, so that it never hides a band
        fig.legend(loc="lower left", bbox_to_anchor=(0.07, 0.0), fontsize=7.5, frameon=False, ncol=1)
    return fig


def _span(interval: tuple[float, float]) -> str:
    lo, hi = interval
    return "" if hi - lo < 5e-3 else f" [{lo:.2f}–{hi:.2f}]"


def _label_levels(ax, an: Analysis, ticks, lo: float, hi: float) -> None:
    """Irrep labels of the levels at the first tick of each point, spread so that they do not overlap."""
    ef = an.fermi_level
    done: set[str] = set()
    gap = 0.035 * (hi - lo)
    for x, label in ticks:
        for name in label.split("|"):
            key = name.replace("Γ", "GM")
            if key in done or key not in an.levels:
                continue
            done.add(key)
            last = -np.inf
            for lv in sorted(an.levels[key], key=lambda lv: lv.energy):
                e = lv.energy - ef
                if not lo <= e <= hi:
                    continue
                y = max(e, last + gap)
                ax.annotate(_pretty(lv.irrep), (x, e), xytext=(x, y), textcoords="data", fontsize=6.5, color="0.2",
                            ha="left", va="center", zorder=7,
                            bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.7))
                last = y


FIGURE_FORMATS = ("png", "svg")  # what render_band_figure draws


def _stem(formula: str, space_group: int) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{formula}-{space_group}-bands")


def figure_stem(an: Analysis) -> str:
    """File stem of the figures: the formula and space group, sanitized (never the user's path)."""
    return _stem(an.formula, an.crystal.space_group)


def figure_files(crystal) -> list[str]:
    """The names of the figure files of the analysis of ``crystal`` (known before the analysis runs, so that
    ``nhm analyze`` can refuse an output that would collide with one of them)."""
    stem = _stem(crystal.atoms.get_chemical_formula(mode="metal", empirical=True), crystal.space_group)
    return [f"{stem}.{fmt}" for fmt in FIGURE_FORMATS]


def render_band_figure(an: Analysis, **kwargs) -> dict[str, bytes]:
    """The figure as PNG and SVG bytes (nothing written): {"png": ..., "svg": ...}."""
    fig = band_figure(an, **kwargs)
    try:
        out = {}
        for fmt in FIGURE_FORMATS:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=150)
            out[fmt] = buf.getvalue()
        return out
    finally:
        plt.close(fig)


def save_band_figure(an: Analysis, directory: str | Path, stem: str | None = None, **kwargs) -> list[Path]:
    """Write PNG and SVG atomically into ``directory``; returns the paths."""
    stem = stem or figure_stem(an)
    out = []
    for fmt, data in render_band_figure(an, **kwargs).items():
        target = Path(directory) / f"{stem}.{fmt}"
        write_atomically(target, data)
        out.append(target)
    return out
