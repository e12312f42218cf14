"""No behaviour change: the ``--json`` of four commands from two source trees, compared (timings and paths aside).

Runs, with each tree first on ``PYTHONPATH`` (``python -m nhm.cli``, a fresh working directory each time, the DFT
cache of the environment shared, so that ``nhm analyze Nb`` reads its cached GPAW results):

- ``nhm analyze Nb --json -``
- ``nhm kspace Nb --mesh 8 --json -``
- ``nhm classify --group 229 --wyckoff 2a --band "GM:GM1+ H:H1+ P:P1 N:N2+" --json``
- ``nhm ebr 229 --double --tr --json``

(``classify`` and ``ebr`` take ``--json`` as a flag and print the document).

and compares the JSON documents value by value: exactly (floats too), except keys that hold a time or a path
(``IGNORED``). Prints one line per command and the first differences; exits 1 if any document differs.

    .venv/bin/python benchmarks/check_identical.py --reference /path/to/main/src --candidate src
    .venv/bin/python benchmarks/check_identical.py --reference OLD/src --candidate src --only classify,ebr
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "analyze": ["analyze", "Nb", "--json", "-"],
    "kspace": ["kspace", "Nb", "--mesh", "8", "--json", "-"],
    "classify": ["classify", "--group", "229", "--wyckoff", "2a", "--band", "GM:GM1+ H:H1+ P:P1 N:N2+", "--json"],
    "ebr": ["ebr", "229", "--double", "--tr", "--json"],
}
# keys whose values are wall-clock times or file-system paths: they differ from run to run by nature
IGNORED = re.compile(r"(^|_)(time|times|seconds|elapsed|elapsed_s|duration|timing|timings|path|paths|directory|file)($|_)")


def run(tree: Path, args: list[str], timeout: float) -> tuple[dict | list, float]:
    """The JSON document of ``nhm ARGS`` with ``tree`` first on PYTHONPATH, and the wall time (s)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory(prefix="nhm-identical-") as work:
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "nhm.cli", *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=timeout)
        wall = time.perf_counter() - start
    if r.returncode:
        sys.exit(f"nhm {' '.join(args)} with {tree} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads(r.stdout), wall


def differences(a, b, where: str = "$") -> list[str]:
    """Where the documents ``a`` and ``b`` differ (JSON paths), ignoring the keys IGNORED matches."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if IGNORED.search(str(key)):
                continue
            if key not in a or key not in b:
                out.append(f"{where}.{key}: only in the {'candidate' if key in b else 'reference'}")
            else:
                out += differences(a[key], b[key], f"{where}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items in the reference, {len(b)} in the candidate"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    if type(a) is not type(b) or a != b:
        return [f"{where}: {a!r} (reference) != {b!r} (candidate)"]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="source tree of the reference (the directory holding nhm/)")
    parser.add_argument("--candidate", type=Path, required=True, help="source tree to check against it")
    parser.add_argument("--only", default=",".join(COMMANDS), help=f"comma-separated subset of {', '.join(COMMANDS)}")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per command")
    args = parser.parse_args()
    trees = [args.reference.resolve(), args.candidate.resolve()]
    for tree in trees:
        if not (tree / "nhm" / "__init__.py").is_file():
            sys.exit(f"{tree} holds no nhm package")
    failed = False
    for name in args.only.split(","):
        cmd = COMMANDS[name.strip()]
        (ref, t_ref), (new, t_new) = (run(tree, cmd, args.timeout) for tree in trees)
        diff = differences(ref, new)
        failed |= bool(diff)
        print(f"{'identical' if not diff else 'DIFFERENT'}  nhm {' '.join(cmd)}  ({t_ref:.1f} s / {t_new:.1f} s)")
        for d in diff[:20]:
            print(f"    {d}")
        if len(diff) > 20:
            print(f"    ... and {len(diff) - 20} more")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
