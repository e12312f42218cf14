"""The worker process of a GPAW run, seen from nhm: start it, read its progress, collect its result, stop it.

Each GPAW run happens in a separate Python process (``python -m nhm.bands.dft WORKDIR``, which runs
:func:`nhm.bands.dft_gpaw.worker_main`) started with one OpenMP/BLAS thread: the thread count must be fixed before
numpy and GPAW's BLAS are loaded (two threads made bcc Nb 2–3× slower on two cores), and the process keeps GPAW's
global state and memory out of the caller. The request goes in as a pickle in a private temporary directory
(:func:`base_request` and the task), progress comes back line by line as JSON, the result as a pickle
(:func:`run_worker`). :func:`stop_workers` kills every running worker (the CLI's signal handlers call it); the GPAW
log of a failed run is kept (:func:`logs_directory`).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from nhm.bands.dft_keys import atoms_of
from nhm.bands.dft_parameters import DftParameters, Progress, ProgressEvent
from nhm.errors import InputError, NhmError


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def base_request(crystal: Any, params: DftParameters) -> dict[str, Any]:
    """What every request to a worker holds: the BCS primitive cell of ``crystal`` (cell, scaled positions, atomic
    numbers) and the parameters; the caller adds the task."""
    atoms = atoms_of(crystal)
    if len(atoms) == 0:
        raise InputError("the crystal has no atoms")
    return {
        "cell": np.asarray(atoms.cell[:], dtype=float),
        "positions": atoms.get_scaled_positions(wrap=True),
        "numbers": np.asarray(atoms.numbers, dtype=int),
        "params": params.as_dict(),
    }


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = "1"
    env["NHM_PARENT_PID"] = str(os.getpid())
    return env


_WORKERS: set[subprocess.Popen] = set()  # running GPAW children (several at once: dft_zone runs chunks in threads)
_WORKERS_LOCK = threading.Lock()
_STOPPING = threading.Event()  # set by stop_workers(): the process is going down, failures are not GPAW's
LOG_DIR_NAME = "logs"  # GPAW logs of failed runs are kept in $NHM_CACHE_DIR/logs
_KEPT_LOGS = 50  # the newest this many are kept there


def stop_workers() -> None:
    """Kill every running GPAW worker process (the CLI's SIGINT/SIGTERM handlers call this).

    The threads and frames waiting for them then see end-of-file, and their temporary directories are
    removed as they unwind; no log is kept for a run stopped this way.
    """
    _STOPPING.set()
    with _WORKERS_LOCK:
        procs = list(_WORKERS)
    for proc in procs:
        try:
            proc.kill()
        except OSError:
            pass


def logs_directory() -> Path:
    """Where the GPAW logs of failed runs are kept: ``logs/`` in the cache directory (``$NHM_CACHE_DIR``)."""
    from nhm.bands.cache import default_cache_dir

    return default_cache_dir() / LOG_DIR_NAME


def request_formula(request: dict[str, Any]) -> str:
    """The chemical formula of a request's cell ("cell" if it has no atoms), for messages and log names."""
    from collections import Counter

    from ase.data import chemical_symbols

    counts = Counter(int(z) for z in np.asarray(request.get("numbers", []), dtype=int).ravel())
    return "".join(f"{chemical_symbols[z]}{n if n > 1 else ''}" for z, n in sorted(counts.items())) or "cell"


def _keep_log(work: Path, stage: str, request: dict[str, Any]) -> Path | None:
    """Copy what the failed worker left (GPAW's text log, its stderr, the traceback) out of ``work``.

    Into :func:`logs_directory` (the newest ``_KEPT_LOGS`` are kept), else into the temporary directory;
    None if neither can be written.
    """
    parts = []
    for name, title in (("gpaw-scf.txt", "GPAW log (SCF)"), ("gpaw-nscf.txt", "GPAW log (non-self-consistent)"),
                        ("stderr.txt", "standard error of the worker"), ("traceback.txt", "traceback")):
        f = work / name
        if f.is_file():
            parts.append(f"===== {title} =====\n" + f.read_text(errors="replace"))
    text = "\n".join(parts) or "(the worker left no output)\n"
    tag = re.sub(r"[^A-Za-z0-9]+", "-", f"{request_formula(request)}-{stage}").strip("-")
    prefix = f"nhm-log-{time.strftime('%Y%m%d-%H%M%S')}-{tag}-"
    for directory, prune in ((logs_directory(), True), (Path(tempfile.gettempdir()), False)):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".txt")
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        except OSError:
            continue
        if prune:
            _prune_logs(directory)
        return Path(name)
    return None


def _prune_logs(directory: Path) -> None:
    try:
        logs = sorted(directory.glob("nhm-log-*.txt"), key=lambda f: f.stat().st_mtime)
        for old in logs[:-_KEPT_LOGS]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _signal_name(code: int) -> str:
    import signal

    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_worker(request: dict[str, Any], progress: Progress | None, stage: str) -> dict[str, Any]:
    """Run one GPAW task in a child process; returns its result dict, raises NhmError on failure. Callers go through
    ``nhm.bands.dft._run_worker``, which first checks that GPAW is installed.

    A failure is one line naming the cause, and the path of the GPAW log, which is copied out of the
    temporary directory first (:func:`logs_directory`). The temporary directory (``nhm-gpaw-*``) is
    always removed, also when the caller is interrupted or terminated (the child is killed first).
    """
    with tempfile.TemporaryDirectory(prefix="nhm-gpaw-") as tmp:
        work = Path(tmp)
        if "gpw_bytes" in request:  # the SCF restart file, handed over on disk
            (work / "input.gpw").write_bytes(request.pop("gpw_bytes"))
            request["gpw"] = str(work / "input.gpw")
        (work / "request.pkl").write_bytes(pickle.dumps(request))
        stderr_path = work / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "nhm.bands.dft", str(work)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=_worker_env(),
                text=True,
            )
            with _WORKERS_LOCK:
                _WORKERS.add(proc)
            try:
                if _STOPPING.is_set():  # a signal came while this worker was being started
                    proc.kill()
                assert proc.stdout is not None
                for line in proc.stdout:
                    if progress is None:
                        continue
                    try:
                        msg = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    progress(ProgressEvent(**msg))
                proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                with _WORKERS_LOCK:
                    _WORKERS.discard(proc)
        if _STOPPING.is_set():
            raise NhmError(f"the GPAW {stage} calculation was stopped")
        error = work / "error.json"
        result = work / "result.pkl"
        if error.exists() or proc.returncode != 0 or not result.exists():
            try:
                cause = json.loads(error.read_text())["message"]
            except (OSError, ValueError, KeyError, TypeError):
                how = f"killed by {_signal_name(proc.returncode)}" if proc.returncode < 0 else f"exit code {proc.returncode}"
                hint = ", out of memory?" if proc.returncode == -9 else ""
                cause = f"the GPAW {stage} calculation of {request_formula(request)} stopped ({how}{hint})"
            log = _keep_log(work, stage, request)
            raise NhmError(one_line(cause) + (f"; GPAW log: {log}" if log else "; its log could not be kept"))
        return pickle.loads(result.read_bytes())


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
