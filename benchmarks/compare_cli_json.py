"""No behaviour change: the ``--json`` of the group-theory commands from two source trees, byte for byte.

Runs each command with ``PYTHONPATH=BEFORE`` and ``PYTHONPATH=AFTER`` (the same interpreter) and compares
stdout, stderr and the exit status. Prints one line per command (``identical`` or where they first differ)
and exits 1 if any differs.

    .venv/bin/python benchmarks/compare_cli_json.py --before ../main/src --after src
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("ebr", "229", "--double", "--tr", "--json"),
    ("irreps", "229", "N", "--json"),
    ("group", "229", "--json"),
    ("classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1 N:N2+", "--json"),
)


def run(src: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-m", "nhm.cli", *args], capture_output=True, text=True, env=env)


def first_difference(a: str, b: str) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return f"line {n}: {x!r} vs {y!r}"
    return f"lengths {len(a.splitlines())} vs {len(b.splitlines())} lines"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="source tree before the change (its src/)")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    differ = 0
    for cmd in COMMANDS:
        a, b = run(args.before.resolve(), cmd), run(args.after.resolve(), cmd)
        text = "nhm " + " ".join(f"'{x}'" if " " in x else x for x in cmd)
        if (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr):
            print(f"identical  {text}  ({len(a.stdout)} bytes, exit {a.returncode})")
            continue
        differ += 1
        what = "exit status" if a.returncode != b.returncode else "stdout" if a.stdout != b.stdout else "stderr"
        where = first_difference(a.stdout, b.stdout) if what == "stdout" else first_difference(a.stderr, b.stderr)
        print(f"DIFFERS    {text}: {what} ({where})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
