"""One crystal of a screen: the Dask task (runs on a worker) and the process it supervises.

:func:`run_task` is what the client submits. It runs :func:`analyze_crystal` — the whole ``nhm analyze``
pipeline — in a child process of its own (``python -m nhm.screen.task DIR``), in a new process group,
so that a per-crystal timeout can stop it together with the GPAW processes it started, a crash of GPAW
cannot take the Dask worker down, and the memory of one crystal is returned when it ends. If the worker
itself dies (the cluster is closed, the client was killed), the child notices that its parent is gone
and ends its process group.

The task never raises for a failing crystal: it returns a plain, JSON-able dict, ``status`` "ok" with
``analysis`` (the ``--json`` document of ``nhm analyze``) and ``summary`` (the database columns), or
``status`` "failed" with ``error`` (one line) and ``error_type``. Nothing here writes to the database:
the client alone does.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from nhm.jsondata import clean_json

__all__ = ["analyze_crystal", "atoms_from_dict", "atoms_to_dict", "clean_json", "run_task", "summarize"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_PARENT_POLL_S = 0.5
TASK_PREFIX = "nhm-screen-"  # + the screen's token + "-": the task's temporary directory
GROUP_FILE = "group"  # in that directory: the process group of the analysis (for the client's clean-up)


def atoms_to_dict(atoms) -> dict[str, Any]:
    return {
        "numbers": [int(z) for z in atoms.numbers],
        "cell": atoms.cell[:].tolist(),
        "scaled_positions": atoms.get_scaled_positions(wrap=False).tolist(),
        "pbc": [bool(p) for p in atoms.pbc],
    }


def atoms_from_dict(d: dict[str, Any]):
    import ase

    return ase.Atoms(numbers=d["numbers"], cell=d["cell"], scaled_positions=d["scaled_positions"], pbc=d["pbc"])


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None


def summarize(doc: dict[str, Any]) -> dict[str, Any]:
    """The database columns of one analysis (``analysis_json`` document): verdict, best candidate, criteria.

    ``verdict`` is "superconducting" or "none" (``verdict_marginal`` when a criterion's interval straddles
    its bound for the best candidate); ``best_*`` describe the first candidate band in nhm's ranking (meets
    the criteria, then closest to half filling, then narrowest) with the intervals over its admissible
    assignments (``*_min``/``*_max``), absent if there is none. ``width_fe``, ``width_median``,
    ``width_widest`` are the width references (eV). Keys whose value is unknown are left out (ASE's
    database takes no None).
    """
    v = doc.get("verdict") or {}
    refs = v.get("width_references") or {}
    out: dict[str, Any] = {
        "space_group": doc.get("space_group"),
        "international": doc.get("international"),
        "fermi_level": _number(doc.get("fermi_level_eV")),
        "verdict": "superconducting" if v.get("verdict") == "superconducting band" else "none",
        "verdict_marginal": bool(v.get("marginal")) if v else None,
        "verdict_reason": v.get("reason") or ("no verdict (points only)" if not v else None),
        "reference_width": _number(v.get("reference_width_eV")),
        "width_fe": _number(refs.get("free_electron_eV")),
        "width_median": _number(refs.get("median_eV")),
        "width_widest": _number(refs.get("widest_eV")),
        "bands_at_fermi_level": len(v.get("bands_at_fermi_level") or []),
        "n_candidates": len(doc.get("superconducting_bands") or []),
        "n_usual": len(doc.get("usual_bands") or []),
    }
    crit = v.get("criteria") or {}
    for key in ("filling_min", "filling_max", "width_factor"):
        out[key] = _number(crit.get(key))
    out["width_reference"] = crit.get("width_reference")
    sc = doc.get("superconducting_bands") or []
    if sc:
        best = sc[0]
        w_lo, w_hi = best.get("width_interval_eV") or (None, None)
        f_lo, f_hi = best.get("filling_interval") or (None, None)
        out.update(
            best_band=best.get("band"),
            best_reading=best.get("reading"),
            best_site="; ".join(" ⊕ ".join(s) for s in best.get("site_representations") or []) or None,
            best_width=_number(best.get("width_eV")),
            best_width_min=_number(w_lo),
            best_width_max=_number(w_hi),
            best_filling=_number(best.get("filling")),
            best_filling_min=_number(f_lo),
            best_filling_max=_number(f_hi),
            best_dos=_number(best.get("dos_at_fermi_per_eV_spin_cell")),
            best_variants=len(best.get("variants") or []) or None,
            best_passes=bool(best.get("passes")) if best.get("passes") is not None else None,
            best_marginal=bool(best.get("marginal")) if best.get("marginal") is not None else None,
        )
    return {k: val for k, val in out.items() if val is not None}


def analyze_crystal(request: dict[str, Any]) -> dict[str, Any]:
    """Run ``nhm analyze`` on one crystal of a screen (in the current process).

    ``request``: ``name``, ``atoms`` (:func:`atoms_to_dict`), ``parameters`` (ScreenParameters.as_dict()),
    ``use_cache``, ``cache_dir``. Returns ``{"analysis": ..., "summary": ..., "dft_cached": bool,
    "centre_choices": [...], "centre_key_values": {...}}``; raises on failure (NhmError for the user's kind of
    failure: no convergence, no setup, ...). A crystal of several atom orbits is judged again for each orbit
    alone as the Wannier centres (:mod:`nhm.screen.centres`) from the same DFT run: without ``use_cache`` the
    run is cached in a temporary directory for the length of this call, so that ``--no-cache`` still computes
    the DFT once.
    """
    import tempfile

    from nhm.report.analyze import analyze
    from nhm.screen.centres import centre_choices, centre_key_values
    from nhm.screen.params import ScreenParameters

    p = ScreenParameters.from_dict(request["parameters"])
    atoms = atoms_from_dict(request["atoms"])
    use_cache = bool(request.get("use_cache", True))
    with tempfile.TemporaryDirectory(prefix="nhm-screen-dft-") as private:
        options = dict(
            parameters=p.dft, window_eV=p.window, readings=p.readings, kramers=p.kramers, criteria=p.criteria,
            spacing=p.spacing, mesh=p.mesh, use_cache=True, cache_dir=request.get("cache_dir") if use_cache else private,
        )
        an = analyze(atoms, **options)
        doc = _document(an, request["name"])
        choices = centre_choices(an.crystal)
        entries = []
        for choice in choices if len(choices) > 1 else ():
            entry = {"key": choice.key, "name": choice.name, "labels": list(choice.labels),
                     "elements": list(choice.elements), "default": choice.default}
            if choice.default:  # the headline: its analysis is the row's own
                entries.append({**entry, "summary": summarize(doc)})
                continue
            try:
                alt = _document(analyze(atoms, centres=list(choice.labels), **options), request["name"])
            except Exception as exc:  # noqa: BLE001 - one choice failing leaves the headline and the others standing
                entries.append({**entry, "error": " ".join(str(exc).split()) or type(exc).__name__})
                continue
            entries.append({**entry, "summary": summarize(alt), "analysis": alt})
    return {"analysis": doc, "summary": summarize(doc), "dft_cached": bool(an.from_cache),
            "centre_choices": entries, "centre_key_values": centre_key_values(entries)}


def _document(an, name: str) -> dict[str, Any]:
    from nhm.report.analyze import analysis_json

    doc = clean_json(analysis_json(an))
    doc["material"] = name
    return doc


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _failure(error: str, error_type: str, detail: str = "") -> dict[str, Any]:
    out = {"status": "failed", "error": _one_line(error) or error_type, "error_type": error_type}
    if detail:
        out["detail"] = detail
    return out


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = "1"
    env["NHM_ZONE_WORKERS"] = "1"  # one core per crystal: the screen runs crystals side by side
    return env


def _run_isolated(request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    token = request.get("token")
    with tempfile.TemporaryDirectory(prefix=f"{TASK_PREFIX}{token}-" if token else TASK_PREFIX) as tmp:
        work = Path(tmp)
        (work / "request.json").write_text(json.dumps(request))
        with open(work / "stderr.txt", "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "nhm.screen.task", str(work)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                env=_child_env(), start_new_session=True,  # its own process group: GPAW's processes go with it
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return _failure(f"timed out after {timeout:g} s (--timeout)", "Timeout")
            except BaseException:
                _kill_group(proc)
                raise
        result, error = work / "result.json", work / "error.json"
        if result.exists():
            return {"status": "ok", **json.loads(result.read_text())}
        if error.exists():
            info = json.loads(error.read_text())
            return _failure(info["message"], info["type"], info.get("traceback", ""))
        tail = "\n".join((work / "stderr.txt").read_text(errors="replace").strip().splitlines()[-15:])
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        return _failure(f"the analysis process died ({how})", "ProcessDied", tail)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_task(request: dict[str, Any], timeout: float | None = None, isolate: bool = True) -> dict[str, Any]:
    """The Dask task: analyse one crystal and return a JSON-able record (never raises for the crystal).

    ``isolate``: run the analysis in a child process (needed for ``timeout``); False runs it in the
    worker itself (tests with a fake :func:`analyze_crystal` on a threaded cluster).
    """
    from nhm.screen.params import versions

    start = time.perf_counter()
    try:
        if isolate:
            out = _run_isolated(request, timeout)
        else:
            from nhm.screen import task as this  # looked up at run time, so that tests can replace it

            out = {"status": "ok", **this.analyze_crystal(request)}
    except Exception as exc:  # noqa: BLE001 - a failing crystal is a record, not a failed screen
        out = _failure(str(exc), type(exc).__name__, traceback.format_exc(limit=6))
    out.update(name=request["name"], runtime_s=time.perf_counter() - start, host=socket.gethostname(), **versions())
    return out


# --- the child process --------------------------------------------------------------------------


def _watch_parent(parent: int, work: Path) -> None:
    """End this process group when the supervising worker is gone (we were re-parented): the GPAW workers
    first, then the task's directory (the GPAW runs' own directories are inside it), then everything left.
    A killed worker never removes the directory itself; on a remote cluster nobody else would."""
    while True:
        time.sleep(_PARENT_POLL_S)
        if os.getppid() != parent:
            from nhm.bands.dft import stop_workers

            stop_workers()
            shutil.rmtree(work, ignore_errors=True)
            os.killpg(os.getpgrp(), signal.SIGKILL)


def _child_main(workdir: str) -> int:
    work = Path(workdir)
    (work / GROUP_FILE).write_text(str(os.getpgrp()))
    # the GPAW runs' temporary directories (nhm-gpaw-*) go inside the task's, so that removing it removes them
    os.environ["TMPDIR"] = tempfile.tempdir = str(work)
    threading.Thread(target=_watch_parent, args=(os.getppid(), work), daemon=True).start()
    try:
        request = json.loads((work / "request.json").read_text())
        result = analyze_crystal(request)
    except BaseException as exc:  # noqa: BLE001 - reported to the supervisor, one record per crystal
        info = {"message": str(exc) or type(exc).__name__, "type": type(exc).__name__,
                "traceback": traceback.format_exc(limit=6)}
        (work / "error.json").write_text(json.dumps(info))
        return 1
    tmp = work / "result.json.tmp"
    tmp.write_text(json.dumps(result, ensure_ascii=False))
    os.replace(tmp, work / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1]))
