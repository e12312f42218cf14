"""Band-structure figure of ``nhm analyze``: bands along the lines of symmetry, levels labelled with their
irreps at the points of symmetry, and the best superconducting-band candidate highlighted."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

from nhm.atomic import write_atomically  # noqa: E402
from nhm.report.analyze import Analysis  # noqa: E402

_HIGHLIGHT = ("#c2185b", "#1565c0", "#2e7d32")


def band_figure(an: Analysis, *, window_eV: tuple[float, float] = (-7.0, 7.0), candidates: int = 1):
    """The figure (matplotlib Figure). Energies relative to E_F (eV)."""
    ef = an.fermi_level
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    path = an.path
    xpos: dict[str, list[float]] = {}
    if path is not None:
        # ASE marks a break in the path ("H,P") by two consecutive k-points at the same x
        breaks = [0, *(i + 1 for i in range(len(path.x) - 1) if path.x[i + 1] == path.x[i]), len(path.x)]
        for a, b in zip(breaks[:-1], breaks[1:]):
            ax.plot(path.x[a:b], path.energies_eV[a:b] - ef, color="0.35", lw=1.0)
        ticks: dict[float, list[str]] = {}
        for x, label in path.special:
            ax.axvline(x, color="0.8", lw=0.6, zorder=0)
            xpos.setdefault(label, []).append(x)
            if label not in ticks.setdefault(x, []):
                ticks[x].append(label)
        ax.set_xticks(list(ticks), ["|".join(v).replace("GM", "Γ") for v in ticks.values()])
        ax.set_xlim(path.x[0], path.x[-1])
    ax.axhline(0.0, color="0.5", ls="--", lw=0.8)
    for k, lvs in an.levels.items():
        for x in xpos.get(k, []):
            for lv in lvs:
                e = lv.energy - ef
                if window_eV[0] <= e <= window_eV[1]:
                    ax.annotate(lv.irrep.replace("GM", "Γ"), (x, e), xytext=(3, 2), textcoords="offset points", fontsize=6.5, color="0.25")
    for rank, cand in enumerate(an.result.superconducting[:candidates]):
        colour = _HIGHLIGHT[rank % len(_HIGHLIGHT)]
        for lv in cand.levels:
            for x in xpos.get(lv.k, []):
                ax.plot([x], [lv.energy - ef], "o", ms=8, mfc="none", mec=colour, mew=2)
        ax.plot([], [], "o", mfc="none", mec=colour, mew=2, label=f"SC candidate {rank + 1} ({cand.reading}): {cand.band_text()}")
    ax.set_ylim(*window_eV)
    ax.set_ylabel("E − E_F (eV)")
    ax.set_title(f"{an.material}: {an.crystal.international} (No. {an.crystal.space_group}), GPAW {an.parameters.xc}")
    if an.result.superconducting:
        ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return fig


def save_band_figure(an: Analysis, directory: str | Path, stem: str | None = None) -> list[Path]:
    """Write PNG and SVG atomically; returns the paths."""
    fig = band_figure(an)
    out = []
    stem = stem or f"{an.material}-bands"
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150)
        target = Path(directory) / f"{stem}.{fmt}"
        write_atomically(target, buf.getvalue())
        out.append(target)
    plt.close(fig)
    return out
