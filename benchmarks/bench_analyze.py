"""Benchmark: `nhm analyze Nb`, cold (empty cache) and cached, as a user runs it.

    .venv/bin/python benchmarks/bench_analyze.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    nhm = Path(sys.executable).with_name("nhm")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "NHM_CACHE_DIR": cache}
        for label in ("cold", "cached"):
            t = time.perf_counter()
            r = subprocess.run([str(nhm), "analyze", "Nb", "--json", "nb.json"], cwd=work, env=env,
                               capture_output=True, text=True)
            dt = time.perf_counter() - t
            if r.returncode:
                sys.exit(r.stderr)
            print(f"nhm analyze Nb ({label}): {dt:.1f} s")


if __name__ == "__main__":
    main()
