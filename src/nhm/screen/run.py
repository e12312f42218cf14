"""``screen``: many crystals through ``nhm analyze`` on Dask, one row per crystal in an ASE database.

The client (this process) reads the crystals, skips the ones the database already has for the same
parameters (resumable after a crash or kill -9), submits one task per remaining crystal
(:func:`nhm.screen.task.run_task`) to a ``distributed.LocalCluster`` it starts (one single-threaded
worker process per core) or to an existing scheduler, and writes each result as it arrives. Workers
never touch the database. A failing crystal is a row with ``status=failed`` and its error; it does not
stop the others.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nhm.errors import InputError
from nhm.screen.database import (
    check_sqlite_file,
    check_target,
    connect,
    describe,
    is_url,
    latest_rows,
    make_key_value_pairs,
    write_row,
)
from nhm.screen.inputs import Excluded, Prepared, prepare, resolve
from nhm.screen.params import ScreenParameters, check_scheduler_address, versions

__all__ = ["Plan", "ScreenSummary", "default_workers", "plan", "screen"]

SCHEDULER_CONNECT_TIMEOUT = "20s"  # how long a scheduler that does not answer is waited for (then one line)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class ScreenSummary:
    """What a screen did. Names are the rows' ``name``s."""

    db: str
    params_hash: str
    parameters: ScreenParameters
    crystals: list[str] = field(default_factory=list)  # in order, every crystal of this screen
    computed: list[str] = field(default_factory=list)  # analysed now, status ok
    failed: list[str] = field(default_factory=list)  # analysed (or read) now, status failed
    skipped: list[str] = field(default_factory=list)  # finished rows already in the database
    excluded: list[Excluded] = field(default_factory=list)  # left out by --elements all, with the reason
    superconducting: list[str] = field(default_factory=list)  # verdict superconducting (new or skipped rows)
    row_ids: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    workers: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "db": describe(self.db),
            "params_hash": self.params_hash,
            "parameters": self.parameters.as_dict(),
            "crystals": self.crystals,
            "computed": self.computed,
            "failed": self.failed,
            "skipped": self.skipped,
            "excluded": [{"name": e.name, "reason": e.reason} for e in self.excluded],
            "superconducting": self.superconducting,
            "row_ids": self.row_ids,
            "errors": self.errors,
            "workers": self.workers,
            "elapsed_s": self.elapsed_s,
        }


# --- progress -------------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar (done / failed / running, ETA) on a terminal; plain lines on stderr otherwise."""

    def __init__(self, total: int, enabled: bool, console=None) -> None:
        self.total, self.enabled = total, enabled
        self.done = self.failed = 0
        self.start = time.perf_counter()
        self.bar = None
        if not enabled:
            return
        from rich.console import Console

        self.console = console or Console(stderr=True)
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("[bold]screen[/bold]"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                TextColumn("{task.fields[last]}"), console=self.console, transient=False,
            )
            self.task = self.bar.add_task("screen", total=total, counts="", last="")
            self.bar.start()

    def _counts(self, running: int) -> str:
        return f"failed {self.failed}, running {running}"

    def update(self, name: str, status: str, running: int, detail: str = "") -> None:
        self.done += 1
        self.failed += status == "failed"
        if not self.enabled:
            return
        if self.bar is not None:
            from rich.markup import escape

            self.bar.update(self.task, completed=self.done, counts=self._counts(running), last=escape(f"{name}: {status}"))
            if status == "failed":
                from rich.markup import escape

                self.bar.console.print(f"[red]{escape(name)}: failed[/red] — {escape(detail)}")
            return
        elapsed = time.perf_counter() - self.start
        remaining = self.total - self.done
        eta = elapsed / self.done * remaining if self.done else float("nan")
        eta_text = f"{eta / 60:.1f} min" if remaining else "0 min"
        print(f"nhm screen: [{self.done}/{self.total}] {name} {status}{(' — ' + detail) if detail else ''}; "
              f"{self._counts(running)}; elapsed {elapsed / 60:.1f} min, ETA {eta_text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# --- the cluster ----------------------------------------------------------------------------------


def _quiet_dask() -> None:
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.http.proxy", "distributed.utils_perf", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _client(scheduler: Any, workers: int | None):
    """``(client, cluster_or_None, owned)``: a LocalCluster nhm starts, or a connection to ``scheduler``."""
    import distributed

    _quiet_dask()
    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, None, False  # a distributed.Client the caller owns
    if scheduler:
        check_scheduler_address(scheduler)
        try:
            client = distributed.Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} (waited up to {SCHEDULER_CONNECT_TIMEOUT}): "
                             f"{' '.join(str(exc).split())}") from None
        return client, None, True
    n = default_workers() if workers is None else int(workers)
    if n < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    import warnings

    with warnings.catch_warnings():  # the scheduler's HTTP server moves to another port if 8787 is taken: fine
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        # the workers' own log stays silent even at ERROR: nhm reports every task's failure as a row and a stopped or
        # lost worker through the client; a worker that outlives the scheduler by a heartbeat on Ctrl-C would print
        # a traceback ("Failed to communicate with scheduler during heartbeat") after nhm's one line
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL,
        )
    return distributed.Client(cluster), cluster, True


def _threads(client) -> int:
    try:
        return sum(client.nthreads().values())
    except Exception:  # noqa: BLE001 - only for the progress display
        return 1


# --- rows -----------------------------------------------------------------------------------------


def _row(prep: Prepared, result: dict[str, Any], params: ScreenParameters, params_hash: str) -> tuple[Any, dict, dict]:
    import ase

    p = params.dft
    base = dict(
        name=prep.input.name,
        kind=prep.input.kind,
        source=prep.input.source,
        crystal_formula=prep.formula or None,
        space_group=prep.space_group,
        international=prep.international or None,
        pearson=prep.pearson or None,
        structure_hash=prep.structure_hash or None,
        params_hash=params_hash,
        status=result["status"],
        flagged=bool(prep.flags),
        flags="; ".join(prep.flags) or None,
        kmesh=p.kmesh, ecut=p.mode_ecut_eV, xc=p.xc, smearing=p.smearing_eV, spacing=params.spacing,
        mesh=params.mesh or p.kmesh,
        runtime_s=result.get("runtime_s"),
        nhm_version=result.get("nhm_version"),
        gpaw_version=result.get("gpaw_version"),
        host=result.get("host"),
    )
    if result["status"] == "ok":
        for key, value in result.get("summary", {}).items():
            base.setdefault(key, value)  # the client's reading of the structure names it
        for key, value in result.get("centre_key_values", {}).items():
            base.setdefault(key, value)
        base["dft_cached"] = bool(result.get("dft_cached", False))
    else:
        base.update(error=result.get("error") or "unknown error", error_type=result.get("error_type"))
    kvp = make_key_value_pairs(**base)
    data = {"parameters": params.as_dict(), "nhm_version": result.get("nhm_version")}
    if result["status"] == "ok":
        data["analysis"] = result["analysis"]
        if result.get("centre_choices"):
            data["centre_choices"] = result["centre_choices"]
    elif result.get("detail"):
        data["error_detail"] = result["detail"]
    atoms = prep.primitive if prep.primitive is not None else ase.Atoms()
    return atoms, kvp, data


# --- the screen -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a screen will do: crystals to compute (with the rows they replace), finished ones, exclusions."""

    params_hash: str
    crystals: list[str]
    todo: list[tuple[Prepared, list[int]]]
    unreadable: list[tuple[Prepared, list[int]]]
    skipped: list[tuple[str, int]]  # (name, row id)
    skipped_superconducting: list[str]
    excluded: list[Excluded]


def plan(
    crystals: Iterable[str] = (),
    *,
    elements: str | None = None,
    compounds: str | None = None,
    include_flagged: bool = False,
    db: str = "nhm-screen.db",
    parameters: ScreenParameters | None = None,
    force: bool = False,
    retry_failed: bool = False,
) -> Plan:
    """Read the crystals and the database (never created here) and decide what to compute."""
    params = parameters if parameters is not None else ScreenParameters()
    inputs, excluded = resolve(list(crystals), elements, compounds=compounds, include_flagged=include_flagged,
                               xc=params.dft.xc)
    h = params.hash()
    if not is_url(db):
        check_sqlite_file(db)  # a FIFO, /dev/null, a CIF or a foreign SQLite file: refused, also by --dry-run
    existing = latest_rows(connect(db), h) if is_url(db) or os.path.isfile(db) else {}
    out = Plan(h, [ci.name for ci in inputs], [], [], [], [], excluded)
    for ci in inputs:
        prep = prepare(ci)
        rows = existing.get((ci.name, h), [])
        newest = rows[0] if rows else None
        same = newest is not None and (newest.structure_hash or "") == (prep.structure_hash or "")
        finished = newest is not None and (newest.status == "ok" or (newest.status == "failed" and not retry_failed))
        if same and finished and not force:
            out.skipped.append((ci.name, newest.id))
            if newest.key_value_pairs.get("verdict") == "superconducting":
                out.skipped_superconducting.append(ci.name)
            continue
        (out.unreadable if prep.error else out.todo).append((prep, [r.id for r in rows]))
    return out


def screen(
    crystals: Iterable[str] = (),
    *,
    elements: str | None = None,
    compounds: str | None = None,
    include_flagged: bool = False,
    db: str = "nhm-screen.db",
    scheduler: Any = None,
    workers: int | None = None,
    force: bool = False,
    retry_failed: bool = False,
    parameters: ScreenParameters | None = None,
    timeout: float | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    isolate: bool = True,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
) -> ScreenSummary:
    """Analyse every crystal with the same parameters and write one database row per crystal.

    ``crystals``: element symbols, compounds of the shipped table, structure files, directories;
    ``elements="all"``: every feasible element the model covers (``include_flagged``: also magnetic ones and
    those whose reference crystal is not the measured phase); ``compounds``: a family of the compound table
    or "all" (:mod:`nhm.screen.compounds`). ``db``: SQLite file or a server URL (``postgresql://user@host:port/db``).
    ``scheduler``: None (a LocalCluster of ``workers`` single-threaded processes, default one per core,
    started and closed here), a scheduler address, or a ``distributed.Client``. Crystals with a finished
    row for the same parameters and structure are skipped (failed ones too, unless ``retry_failed``);
    ``force`` recomputes all. ``timeout``: seconds per crystal. ``use_cache``/``cache_dir``: the DFT cache
    of ``nhm analyze``. ``isolate=False`` runs each analysis inside the worker (no timeout possible).
    ``on_result(name, record)`` is called in the client after each row is written.
    """
    t0 = time.perf_counter()
    params = parameters if parameters is not None else ScreenParameters()
    if timeout is not None and not (timeout > 0):
        raise InputError(f"--timeout must be a positive number of seconds, got {timeout}")
    if timeout is not None and not isolate:
        raise InputError("a timeout needs each crystal in its own process (isolate=True)")
    check_target(db)
    pl = plan(crystals, elements=elements, compounds=compounds, include_flagged=include_flagged, db=db,
              parameters=params, force=force, retry_failed=retry_failed)
    con = connect(db)
    h = pl.params_hash
    summary = ScreenSummary(db, h, params, crystals=pl.crystals, excluded=pl.excluded,
                            skipped=[name for name, _ in pl.skipped], row_ids=dict(pl.skipped),
                            superconducting=list(pl.skipped_superconducting))
    todo, unreadable = pl.todo, pl.unreadable
    for prep, replaces in unreadable:  # nothing to compute: the reading error is the row
        result = {"status": "failed", "error": f"cannot read the crystal: {prep.error}", "error_type": prep.error_type,
                  "runtime_s": 0.0, **versions()}
        _record(con, prep, result, params, h, replaces, summary, on_result)

    if todo:
        _compute(con, todo, params, h, summary, scheduler=scheduler, workers=workers, timeout=timeout,
                 use_cache=use_cache, cache_dir=cache_dir, progress=progress, isolate=isolate, on_result=on_result)
    order = {name: i for i, name in enumerate(summary.crystals)}
    for names in (summary.computed, summary.failed, summary.superconducting):
        names.sort(key=order.get)
    summary.elapsed_s = time.perf_counter() - t0
    return summary


def _record(con, prep, result, params, h, replaces, summary, on_result) -> None:
    atoms, kvp, data = _row(prep, result, params, h)
    name = prep.input.name
    summary.row_ids[name] = write_row(con, atoms, kvp, data, replaces)
    if result["status"] == "ok":
        summary.computed.append(name)
        if kvp.get("verdict") == "superconducting":
            summary.superconducting.append(name)
    else:
        summary.failed.append(name)
        summary.errors[name] = kvp.get("error", "")
    if on_result is not None:
        on_result(name, {"kvp": kvp, "id": summary.row_ids[name]})


def _remove_task_directories(token: str) -> None:
    """After the local cluster is closed (normally, or on Ctrl-C/SIGTERM): stop what the tasks of this screen
    left running and remove their temporary directories (``nhm-screen-TOKEN-*``, with the ``nhm-gpaw-*``
    directories of their GPAW runs inside). A closed cluster kills its worker processes without unwinding
    them, so their own clean-up never runs; the analysis processes they started are ended here, by the
    process group each recorded in its directory."""
    from nhm.screen.task import GROUP_FILE, TASK_PREFIX

    for work in Path(tempfile.gettempdir()).glob(f"{TASK_PREFIX}{token}-*"):
        try:
            os.killpg(int((work / GROUP_FILE).read_text()), signal.SIGKILL)
        except (OSError, ValueError):  # already gone, or it never got that far
            pass
        shutil.rmtree(work, ignore_errors=True)


def _compute(con, todo, params, h, summary, *, scheduler, workers, timeout, use_cache, cache_dir, progress, isolate, on_result):
    import distributed

    from nhm.screen import task as task_module
    from nhm.screen.task import atoms_to_dict

    client, cluster, owned = _client(scheduler, workers)
    bar = None
    futures = []
    token = uuid.uuid4().hex[:8]
    try:
        summary.workers = _threads(client)
        by_key: dict[str, tuple[Prepared, list[int]]] = {}
        for i, (prep, replaces) in enumerate(todo):
            request = {
                "name": prep.input.name,
                "atoms": atoms_to_dict(prep.atoms),
                "parameters": params.as_dict(),
                "use_cache": use_cache,
                "cache_dir": None if cache_dir is None else os.fspath(cache_dir),
                "token": token,  # names the task's temporary directory, so that this client can remove it
            }
            key = f"nhm-screen-{i}-{token}"
            fut = client.submit(task_module.run_task, request, timeout, isolate, key=key, pure=False)
            by_key[fut.key] = (prep, replaces)
            futures.append(fut)
        bar = _Progress(len(futures), progress)
        remaining = len(futures)
        for fut in distributed.as_completed(futures):
            prep, replaces = by_key[fut.key]
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker (KilledWorker), a task that could not run
                result = {"status": "failed", "error": f"the task did not run: {type(exc).__name__}: {exc}",
                          "error_type": type(exc).__name__, "runtime_s": None, **versions()}
            remaining -= 1
            summary.workers = max(summary.workers, _threads(client))  # a remote cluster may still be growing
            _record(con, prep, result, params, h, replaces, summary, on_result)
            fut.release()
            detail = result.get("error", "") if result["status"] == "failed" else result.get("summary", {}).get("verdict", "")
            bar.update(prep.input.name, result["status"], min(remaining, summary.workers or 1), detail)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
        if owned:
            client.close()
        if cluster is not None:
            try:
                cluster.close()
            finally:  # also when closing is interrupted by a second Ctrl-C
                _remove_task_directories(token)
