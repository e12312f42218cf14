"""Start-up time of ``nhm group 229`` (a group-theory command: no ASE file readers, no GPAW, no matplotlib)
against the floor that nhm cannot go below, ``python -c "import numpy, spglib"``.

The two commands run in turn (command, floor, command, floor, ...) so that a machine whose speed drifts
affects both alike; prints the median (and the spread) of each, wall clock and CPU time (user + system
of the child: steadier than the wall clock on a busy machine), and the median of the run-by-run ratios
(issue 22 asks for at most 1.5). Output is discarded. Also lists the heavy modules the command imported:
there should be none of ase.io, matplotlib, scipy, GPAW, nor typer and pydantic (its plain form is
parsed without typer, see nhm.cli). Byte-code is cached (in a temporary PYTHONPYCACHEPREFIX, whatever
PYTHONDONTWRITEBYTECODE says), as in a normal installation: without it every start would also compile
nhm's modules.

    .venv/bin/python benchmarks/bench_startup.py            # 11 runs each
    .venv/bin/python benchmarks/bench_startup.py --runs 21
    .venv/bin/python benchmarks/bench_startup.py -- irreps 229 N --json   # another command line
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

FLOOR = [sys.executable, "-c", "import numpy, spglib"]
HEAVY = (
    "ase.io", "matplotlib", "scipy", "gpaw", "typer", "pydantic", "nhm.bands.dft", "nhm.kspace", "nhm.manybody",
    "nhm.report",
)

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "nhm-bench-startup-pycache")


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall time, CPU time) of one run of ``cmd``, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def probe(args: list[str]) -> str:
    """The heavy modules that ``nhm ARGS`` imports (run in-process in a child interpreter)."""
    code = (
        "import sys\n"
        "from nhm.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    lines = r.stderr.strip().splitlines()
    return lines[-1] if lines and lines[-1] else "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("nhm_args", nargs="*", default=["group", "229"], help="the nhm command line (default: group 229)")
    args = parser.parse_args()
    command = [sys.executable, "-c", "import sys; from nhm.cli import main; sys.exit(main())", *args.nhm_args]  # as the nhm script
    for _ in range(2):  # warm the file cache and the byte-code
        timed(command)
        timed(FLOOR)
    runs = [(timed(command), timed(FLOOR)) for _ in range(args.runs)]
    med = statistics.median
    cw, cc = [c[0] for c, _ in runs], [c[1] for c, _ in runs]
    fw, fc = [f[0] for _, f in runs], [f[1] for _, f in runs]
    name = "nhm " + " ".join(args.nhm_args)
    print(f"{name}: median {med(cw):.3f} s wall (min {min(cw):.3f}, max {max(cw):.3f}), {med(cc):.3f} s CPU; {args.runs} runs")
    print(f"floor (python -c 'import numpy, spglib'): median {med(fw):.3f} s wall (min {min(fw):.3f}, max {max(fw):.3f}), {med(fc):.3f} s CPU")
    print(
        f"ratio to the floor, median of the paired runs: {med(a / b for a, b in zip(cw, fw)):.2f} wall, "
        f"{med(a / b for a, b in zip(cc, fc)):.2f} CPU"
    )
    print(f"heavy modules imported: {probe(args.nhm_args)}")


if __name__ == "__main__":
    main()
