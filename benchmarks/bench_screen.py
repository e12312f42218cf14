"""Benchmark: throughput of `nhm screen` (crystals per hour) with 1 and with 2 local workers, same list.

Every run starts from an empty DFT cache and an empty database, so each crystal is computed in full;
the wall time includes starting and closing the Dask cluster. The CPU time of all processes (workers,
analyses, GPAW) and the load average tell whether something else shared the machine. The parameters are small (k mesh 4, 300 eV,
lines every 0.3 1/Å) so that the run takes minutes; the ratio, not the absolute number, is the point.

    .venv/bin/python benchmarks/bench_screen.py [--elements Li Na K Al Mg Cu] [--workers 1 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time


def one_run(elements: list[str], workers: int) -> dict:
    from nhm.bands.dft import DftParameters
    from nhm.screen.params import ScreenParameters
    from nhm.screen.run import screen

    params = ScreenParameters(dft=DftParameters(mode_ecut_eV=300, kmesh=4), spacing=0.3)
    def cpu() -> float:  # the cluster's workers, the analysis and GPAW processes are all waited-for descendants
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    with tempfile.TemporaryDirectory(prefix="nhm-bench-screen-") as tmp:
        t, c = time.perf_counter(), cpu()
        s = screen(elements, db=os.path.join(tmp, "bench.db"), workers=workers, parameters=params,
                   cache_dir=os.path.join(tmp, "cache"), progress=False)
        wall, cpu_s = time.perf_counter() - t, cpu() - c
    if s.failed:
        raise SystemExit(f"failed crystals: {s.errors}")
    n = len(s.computed)
    return {"workers": workers, "crystals": n, "wall_s": wall, "per_hour": 3600 * n / wall, "cpu_s_per_crystal": cpu_s / n,
            "load_average": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", nargs="+", default=["Li", "Na", "K", "Al", "Mg", "Cu"])
    ap.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    print(f"nhm screen of {' '.join(args.elements)} (k mesh 4, 300 eV, spacing 0.3 1/Å, empty cache), "
          f"{os.cpu_count()} cores")
    results = []
    for _ in range(args.repeat):
        for w in args.workers:
            r = one_run(args.elements, w)
            results.append(r)
            print(f"  {w} worker(s): {r['crystals']} crystals in {r['wall_s']:.1f} s = {r['per_hour']:.0f} crystals/hour "
                  f"({r['cpu_s_per_crystal']:.0f} CPU s per crystal; load average {r['load_average']:.1f} at the end)",
                  flush=True)
    best = {w: max(r["per_hour"] for r in results if r["workers"] == w) for w in args.workers}
    if len(best) > 1:
        base = best[min(best)]
        print("speed-up: " + ", ".join(f"{w} workers {v / base:.2f}×" for w, v in best.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
