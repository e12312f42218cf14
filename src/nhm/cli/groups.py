"""``nhm group``, ``nhm irreps``, ``nhm ebr``, ``nhm classify``: space groups, their irreps and band
representations, and Krüger's tests on a band (tables by default, ``--json`` for machines).

The commands' options and help are here; what ``group``, ``irreps`` and ``ebr`` print is in
:mod:`nhm.cli.show` (their plain forms run it without typer). Everything heavy is imported inside the
commands, so that ``nhm group 229`` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nhm.cli._common import DoubleFlag, JsonFlag, TrFlag, emit_json, stdout_console
from nhm.cli.show import show_ebr, show_group, show_irreps
from nhm.crystal import DEFAULT_SYMPREC


def group(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    json_out: JsonFlag = False,
) -> None:
    """Setting, points of symmetry and Wyckoff positions of a space group (BCS setting)."""
    show_group(space_group, json_out)


def irreps(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    k: Annotated[str, typer.Argument(help="BCS name of a maximal k-vector (GM or Γ, X, ...).")],
    double: DoubleFlag = False,
    tr: TrFlag = False,
    convention: Annotated[
        str, typer.Option(help="Characters as Bilbao prints them ('bcs') or as D({E|t}) = exp(-ik.t) gives them ('physics').")
    ] = "bcs",
    json_out: JsonFlag = False,
) -> None:
    """Character table of the little group of k, with BCS labels."""
    show_irreps(space_group, k, double, tr, convention, json_out)


def ebr(
    space_group: Annotated[str, typer.Argument(help="Space-group number 1-230.")],
    double: DoubleFlag = False,
    tr: TrFlag = False,
    wyckoff: Annotated[
        str | None, typer.Option(help="Band representations induced from this Wyckoff position only (any position).")
    ] = None,
    all_positions: Annotated[
        bool, typer.Option("--all-positions", help="Band representations from every Wyckoff position, maximal or not.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Elementary band representations (or band representations from chosen positions)."""
    show_ebr(space_group, double, tr, wyckoff, all_positions, json_out)


def classify(
    band: Annotated[str, typer.Option(help="The band: one 'K:LABEL' per point of symmetry, e.g. 'GM:GM1+ H:H1+ P:P1 N:N2+'.")],
    group: Annotated[str | None, typer.Option(help="Space-group number (or take it from --structure).")] = None,
    wyckoff: Annotated[list[str] | None, typer.Option(help="Wyckoff position(s) of the Wannier centres, e.g. 2a.")] = None,
    structure: Annotated[str | None, typer.Option(help="Crystal (file or element symbol): group and atom positions.")] = None,
    reading: Annotated[str, typer.Option(help="R1 (strict), R2 (relaxed) or both (docs/theory.md).")] = "both",
    kramers: Annotated[bool, typer.Option("--kramers", help="Pair 1-dim double site irreps by time reversal.")] = False,
    wfs_per_atom: Annotated[int, typer.Option(help="Usual WFs per atom (site-representation dimension).")] = 1,
    symprec: Annotated[float, typer.Option("--symprec", metavar="Å", help="With --structure: spglib's tolerance for the space group (Å).")] = DEFAULT_SYMPREC,
    json_out: JsonFlag = False,
) -> None:
    """Krüger's tests: usual WFs, spin-dependent WFs, or neither (a superconducting band passes only the second)."""
    from nhm.cli.output import console_hooks
    from nhm.report.run_groups import classify_band

    run = classify_band(band, group=group, wyckoff=wyckoff, structure=structure, reading=reading, kramers=kramers,
                        wfs_per_atom=wfs_per_atom, symprec=symprec, hooks=console_hooks(stdout_console(stderr=True)))
    if json_out:
        from nhm.api import ClassifyResult

        emit_json(ClassifyResult(run).to_dict())
        return
    n, b, crystal, results = run.space_group, run.band, run.crystal, run.results
    from rich.table import Table

    console = stdout_console()
    if crystal is not None:
        console.print(
            f"{structure}: space group {crystal.space_group} ({crystal.international}) at symprec {crystal.symprec:g} Å, "
            f"atoms on {', '.join(f'{o.element} {o.label}' for o in crystal.orbits)}"
        )
    for c in results:
        colour = {"usual": "green", "superconducting": "bold magenta", "neither": "yellow"}[c.verdict]
        console.print(
            f"[bold]SG {n}[/bold], band {b.text()}, centres {', '.join(c.centres)}, reading {c.reading}: "
            f"[{colour}]{c.verdict}[/{colour}]  (usual WFs: {'yes' if c.usual else 'no'}, "
            f"spin-dependent WFs: {'yes' if c.spin_dependent else 'no'})"
        )
        for label, sites in (("usual", c.usual_site_representations), ("spin-dependent", c.spin_site_representations)):
            if sites:
                console.print(f"  site representations for {label} WFs: " + "; ".join(" ⊕ ".join(s) for s in sites))
        t = Table(title=f"why (reading {c.reading}; the best-matching site representation)")
        for col in ("k", "band", "band ⊗ D½", "induced (spin-dependent)", "agrees"):
            t.add_column(col)
        for p in c.points_spin:
            t.add_row(p.k, p.band, p.band_spinor, p.induced, "yes" if p.agrees else "[red]no[/red]")
        console.print(t)
        for note in c.notes:
            console.print(f"  note: {note}")
