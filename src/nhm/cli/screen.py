"""``nhm screen``: the command (a typer function; the CLI registers it with ``app.command()(screen)``).

``main(argv)`` runs it as a program of its own (``python -m nhm.cli.screen ...``), with the same
error handling as ``nhm`` (one line ``nhm: error: ...``, exit 2).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from nhm.cli._common import json_text
from nhm.results import json_document
from nhm.errors import InputError

__all__ = ["main", "screen"]


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, width=None if (sys.stderr if stderr else sys.stdout).isatty() else 132)


def screen(
    crystals: Annotated[list[str] | None, typer.Argument(help="Element symbols (ASE's reference crystal), compounds of the shipped table (NbC, MgB2: at the measured lattice constants), structure files (CIF, POSCAR, ...) or directories of them.", show_default=False)] = None,
    elements: Annotated[str | None, typer.Option("--elements", help="'all': every element with an ASE reference crystal and a GPAW PAW setup that the model covers (the others are listed with the reason).")] = None,
    compounds: Annotated[str | None, typer.Option("--compounds", help="A family of the shipped compound table, built at the measured lattice constants: rocksalt-carbides, rocksalt-nitrides, diborides, or 'all'.")] = None,
    include_flagged: Annotated[bool, typer.Option("--include-flagged", help="With --elements all: also magnetic elements and those whose reference crystal is not the measured phase.")] = False,
    db: Annotated[str, typer.Option("--db", help="ASE database: an SQLite file or a server URL such as postgresql://user@host:5432/db.")] = "nhm-screen.db",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler (e.g. tcp://10.0.0.1:8786, or cluster.scheduler_address of a dask-jobqueue cluster); default: a local cluster started and closed by nhm.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes of the local cluster, one thread each (default: one per core).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute crystals that already have a row (the DFT cache is still used unless --no-cache).")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Recompute crystals whose row records a failure.")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds one crystal may take; then it is stopped and recorded as failed.")] = None,
    kmesh: Annotated[int, typer.Option(help="n for the Γ-centred n×n×n k-mesh of the SCF (also the zone mesh unless --mesh).")] = 12,
    ecut: Annotated[float, typer.Option(help="Plane-wave cutoff (eV).")] = 500.0,
    xc: Annotated[str, typer.Option(help="Exchange–correlation functional.")] = "PBE",
    smearing: Annotated[float, typer.Option(help="Fermi–Dirac smearing kT (eV).")] = 0.1,
    spacing: Annotated[float, typer.Option(help="Distance between samples on the lines of symmetry (1/Å).")] = 0.08,
    mesh: Annotated[int | None, typer.Option(help="n of the zone mesh for width, filling and DOS (default: --kmesh).")] = None,
    window: Annotated[float | None, typer.Option(help="Narrow the search range to ±window eV around E_F (default: the bands that cross E_F decide, as in nhm analyze).")] = None,
    reading: Annotated[str, typer.Option(help="R1, R2 or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    filling_min: Annotated[float | None, typer.Option(help="Verdict: lowest filling of a 'roughly half-filled' band (default 0.25). With --report: judge the stored rows again.")] = None,
    filling_max: Annotated[float | None, typer.Option(help="Verdict: highest filling of a 'roughly half-filled' band (default 0.75). With --report: judge again.")] = None,
    width_factor: Annotated[float | None, typer.Option(help="Verdict: a narrow band is at most this times the reference width (default 1). With --report: judge again.")] = None,
    width_reference: Annotated[str | None, typer.Option("--width-reference", help="Verdict: free-electron (default: W_FE(μ) of the lattice), median or widest (of the bands at E_F). With --report: judge again.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute the DFT even if a cached result exists.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be computed, skipped and left out.")] = False,
    report: Annotated[bool, typer.Option("--report", help="No computation: the table, confusion matrix against measured superconductivity, precision/recall of the database.")] = False,
    out: Annotated[str | None, typer.Option("--out", help="Directory for the report: screen-results.csv, screen-report.json, periodic-table.png/.svg/.html (after a screen too).")] = None,
    params_hash: Annotated[str | None, typer.Option("--params-hash", help="--report: the parameter set to report (default: that of the newest row).")] = None,
    json_file: Annotated[str | None, typer.Option("--json", help="Write the summary (or with --report the report) as JSON to this file ('-': stdout).")] = None,
) -> None:
    """Screen many crystals: nhm analyze on each (Dask), one row per crystal in an ASE database; --report compares with measured Tc."""
    from nhm.atomic import check_outputs, write_atomically
    from nhm.screen.database import is_url
    from nhm.screen.exports import EXPORT_FILES

    # before any work: the outputs can be written, and none replaces the database, a crystal or another output
    check_outputs(files={"--json": json_file}, directories={"--out": (out, EXPORT_FILES)},
                  inputs={"the database --db": None if is_url(db) else db, **_crystal_files(crystals or [])})
    human = _console(stderr=json_file == "-")
    from nhm.wannier.verdict import Criteria

    given = {k: v for k, v in (("filling_min", filling_min), ("filling_max", filling_max), ("width_factor", width_factor),
                               ("width_reference", width_reference)) if v is not None}
    criteria = Criteria(**given)
    if report:
        if crystals or elements or compounds:
            raise InputError("--report reads the database only: give no crystals, no --elements and no --compounds")
        _report(db, params_hash, out, json_file, human, criteria if given else None)
        return
    if params_hash is not None:
        raise InputError("--params-hash applies to --report only")
    from nhm.report.run_analyze import readings_of
    from nhm.screen.params import checked_parameters
    from nhm.screen.run import plan, screen as run_screen

    params = checked_parameters(
        scheduler=scheduler, workers=workers, timeout=timeout, ecut=ecut, xc=xc, kmesh=kmesh, smearing=smearing,
        spacing=spacing, mesh=mesh, window=window, readings=readings_of(reading), kramers=kramers, criteria=criteria,
    )
    if dry_run:
        pl = plan(crystals or [], elements=elements, compounds=compounds, include_flagged=include_flagged, db=db,
                  parameters=params, force=force, retry_failed=retry_failed)
        doc = {
            "params_hash": pl.params_hash,
            "compute": [p.input.name for p, _ in pl.todo],
            "unreadable": {p.input.name: p.error for p, _ in pl.unreadable},
            "skip": [n for n, _ in pl.skipped],
            "excluded": {e.name: e.reason for e in pl.excluded},
        }
        human.print(f"params {pl.params_hash}: {len(pl.todo)} to compute ({', '.join(doc['compute']) or 'none'}), "
                    f"{len(pl.skipped)} finished in {db}, {len(pl.unreadable)} unreadable")
        from rich.markup import escape

        for line in _compound_lines(pl.crystals):
            human.print(escape(line), highlight=False)
        for name, err in doc["unreadable"].items():
            human.print(escape(f"  unreadable: {name}: {err}"), highlight=False)
        for name, reason in doc["excluded"].items():
            human.print(escape(f"  left out: {name}: {reason}"), highlight=False)
        if json_file:
            write_atomically(json_file, json_text(json_document(doc)).encode())
        return
    summary = run_screen(
        crystals or [], elements=elements, compounds=compounds, include_flagged=include_flagged, db=db,
        scheduler=scheduler, workers=workers,
        force=force, retry_failed=retry_failed, parameters=params, timeout=timeout, use_cache=not no_cache,
    )
    _print_summary(summary, human)
    if json_file:
        write_atomically(json_file, json_text(json_document(summary.as_dict())).encode())
    if out:
        from nhm.screen.exports import write_exports
        from nhm.screen.report import build_report

        files = write_exports(build_report(db, summary.params_hash), out)
        human.print("Report: " + ", ".join(files))


def _compound_lines(names: list[str]) -> list[str]:
    """One line per compound of the shipped table among ``names``: structure, lattice, VEC, what was measured."""
    from nhm.screen.compounds import measured_compounds
    from nhm.screen.report import format_tc

    table = measured_compounds()
    lines = []
    for name in names:
        e = table.get(name)
        if e is None:
            continue
        s, lat = e["structure"], e["lattice"]
        cell = f"a = {lat['a_A']:g} Å" + (f", c = {lat['c_A']:g} Å" if lat.get("c_A") else "")
        if e["superconducting"]:
            measured = f"Tc {format_tc(e['tc_K'])}"
        else:
            down = e.get("not_superconducting_down_to_K")
            measured = "not superconducting" + (f" down to {format_tc(down)}" if down else "")
        flag = "" if e["confidence"] in ("standard", "approximate") else f" ({e['confidence']})"
        lines.append(f"  {name}: {e['family']}, {s['international']} ({s['pearson']}), {cell}, VEC {e['vec']}, "
                     f"measured: {measured}{flag}")
    return lines


def _crystal_files(crystals: list[str]) -> dict[str, str]:
    """The structure files a screen reads (given, or in a given directory): outputs must not replace them."""
    import os

    files: dict[str, str] = {}
    for item in crystals:
        if os.path.isdir(item):
            for entry in os.scandir(item):
                files[f"the crystal {entry.path}"] = entry.path
        elif os.path.isfile(item):
            files[f"the crystal {item}"] = item
    return files


def _print_summary(summary, console: Console) -> None:
    from rich.markup import escape

    from nhm.screen.database import describe

    s = summary
    console.print(
        f"[bold]nhm screen[/bold] {describe(s.db)} (params {s.params_hash}): {len(s.crystals)} crystals — "
        f"{len(s.computed)} computed, {len(s.failed)} failed, {len(s.skipped)} already in the database; "
        f"{s.elapsed_s / 60:.1f} min" + (f" on {s.workers} workers" if s.workers else "")
    )
    if s.superconducting:
        console.print("superconducting band: " + escape(", ".join(s.superconducting)), highlight=False)
    for name, err in s.errors.items():
        console.print(f"[red]failed[/red] {escape(name)}: {escape(err)}", highlight=False)
    if s.excluded:
        by_reason: dict[str, list[str]] = {}
        for e in s.excluded:
            by_reason.setdefault(e.reason, []).append(e.name)
        console.print(f"left out by --elements all ({len(s.excluded)}; --dry-run lists them one by one):")
        for reason, names in by_reason.items():
            console.print(escape(f"  {', '.join(names)}: {reason}"), highlight=False)
    console.print(f"query: ase db {describe(s.db)} verdict=superconducting; report: nhm screen --report --db {describe(s.db)}")


def _report(db: str, params_hash: str | None, out: str | None, json_file: str | None, console: Console, criteria=None) -> None:
    from nhm.atomic import write_atomically
    from nhm.screen.console import print_report
    from nhm.screen.exports import report_json, write_exports
    from nhm.screen.report import build_report

    rep = build_report(db, params_hash, criteria)
    print_report(rep, console)
    if json_file:
        write_atomically(json_file, json_text(json_document(report_json(rep))).encode())
    if out:
        files = write_exports(rep, out)
        console.print("Written: " + ", ".join(files))


def main(argv: list[str] | None = None) -> None:
    """``python -m nhm.cli.screen ARGS``: the command alone, with nhm's exit statuses."""
    from nhm.entrypoint import run

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(screen)
    sys.exit(run(app, argv))


if __name__ == "__main__":
    main()
