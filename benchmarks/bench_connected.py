"""Connected superconducting bands on real metals: candidate counts before (levels at the points only)
and after (connected along the lines: path variants and bands), the best candidate band with its
intervals, the verdict, and the time of the connected search alone (DFT cached after the first run).

    .venv/bin/python benchmarks/bench_connected.py Nb V Al Cu Pb Mg MgB2.cif Bi

Element symbols use ASE's reference crystals; a path is read as a structure file. Prints one row
per material and, with --json FILE, writes the rows.
"""

from __future__ import annotations

import argparse
import json
import time

from nhm.report.analyze import analyze
from nhm.wannier.connected import LevelChoice, connected_search
from nhm.wannier.points_only import points_only_search


def row(material: str) -> dict:
    t0 = time.perf_counter()
    an = analyze(material)
    total = time.perf_counter() - t0
    levels = an.levels
    flat = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in levels.values() for lv in lvs]
    old = points_only_search(flat, an.crystal.space_group, an.centres, fermi_level=an.fermi_level, window=an.window)
    choice = [LevelChoice(lv.k, lv.energy, lv.irrep, lv.dimension) for lvs in levels.values() for lv in lvs]
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        connected_search(choice, an.zone.lines, an.crystal.space_group, an.centres, fermi_level=an.fermi_level, window=an.window)
        runs.append(time.perf_counter() - t)
    v = an.verdict
    best = v.superconducting[0] if v.superconducting else None
    return {
        "material": an.formula,
        "space_group": an.crystal.space_group,
        "centres": [w.label for w in an.centres],
        "window_eV": list(an.window),
        "before": len(old.superconducting),
        "after": sum(len(b.variants) for b in v.superconducting),
        "after_level_choices": len(v.superconducting),
        "usual_after": len(v.usual),
        "best": None if best is None else {
            "band": best.band_text(),
            "reading": best.reading,
            "width_eV": round(best.best.width, 3),
            "width_interval_eV": [round(x, 3) for x in best.width],
            "filling": round(best.best.filling, 3),
            "filling_interval": [round(x, 3) for x in best.filling],
            "dos_at_fermi": round(best.best.dos_at_fermi, 4),
            "passes": best.passes,
            "marginal": best.marginal,
        },
        "reference_width_eV": round(v.reference_width, 3),
        "verdict": v.verdict,
        "reason": v.reason,
        "search_s": round(min(runs), 4),
        "analyze_s": round(total, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("materials", nargs="+")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    print(f"{'material':10} {'SG':>4} {'before':>6} {'after':>5} {'(lev)':>5} {'best connected candidate':40} {'R':3} {'width':>6} "
          f"{'fill':>5} {'DOS':>6} {'ref.w':>6} {'search s':>8}  verdict")
    for m in args.materials:
        r = row(m)
        rows.append(r)
        b = r["best"] or {}
        print(f"{r['material']:10} {r['space_group']:>4} {r['before']:>6} {r['after']:>5} {r['after_level_choices']:>5} {b.get('band', '-'):40} "
              f"{b.get('reading', '-'):3} {b.get('width_eV', float('nan')):6.2f} {b.get('filling', float('nan')):5.2f} "
              f"{b.get('dos_at_fermi', float('nan')):6.3f} {r['reference_width_eV']:6.2f} {r['search_s']:8.3f}  {r['verdict']}",
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
