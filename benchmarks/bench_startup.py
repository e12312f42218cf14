"""Start-up time of ``nhm group 229`` (a group-theory command: no ASE file readers, no GPAW, no matplotlib).

Prints the median (and the spread) of several runs of ``python -m nhm.cli group 229``, wall clock and CPU
time (user + system of the child: steadier than the wall clock on a busy machine), output discarded, and
for comparison the floor that nhm cannot go below: the same interpreter importing numpy
(spglib needs it) and typer with the pydantic adapters typer ≥ 0.26 builds for every option. Also lists
the heavy modules the command imported (there should be none of ase.io, matplotlib, scipy, GPAW).
Byte-code is cached (in a temporary PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE says), as
in a normal installation: without it every start would also compile nhm's modules.

    .venv/bin/python benchmarks/bench_startup.py            # 11 runs each
    .venv/bin/python benchmarks/bench_startup.py --runs 21
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

COMMAND = [sys.executable, "-m", "nhm.cli", "group", "229"]
FLOOR = [sys.executable, "-c", "import numpy, typer, typer._adapters"]
HEAVY = ("ase.io", "matplotlib", "scipy", "gpaw", "nhm.bands.dft", "nhm.kspace", "nhm.manybody", "nhm.report")
PROBE = (
    "import sys\n"
    "from nhm.cli import main\n"
    "try:\n"
    "    main(['group', '229'])\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "nhm-bench-startup-pycache")


def timed(cmd: list[str], runs: int) -> tuple[list[float], list[float]]:
    """(wall times, CPU times) of ``runs`` runs of ``cmd``, in seconds."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    timed(COMMAND, 2)  # warm the file cache and the byte-code
    timed(FLOOR, 1)
    t, tc = timed(COMMAND, args.runs)
    f, fc = timed(FLOOR, args.runs)
    heavy = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=ENV).stderr.strip().splitlines()
    med = statistics.median
    print(f"nhm group 229: median {med(t):.3f} s wall (min {min(t):.3f}, max {max(t):.3f}), {med(tc):.3f} s CPU; {args.runs} runs")
    print(f"floor (python + numpy + typer with its pydantic adapters): median {med(f):.3f} s wall, {med(fc):.3f} s CPU")
    print(f"heavy modules imported: {heavy[-1] if heavy and heavy[-1] else 'none'}")


if __name__ == "__main__":
    main()
