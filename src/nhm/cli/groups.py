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


def _centres_from_options(n: int, wyckoff: list[str] | None, structure_orbits) -> tuple:
    from nhm.groups.wyckoff import wyckoff_position

    if wyckoff:
        letters = [w.strip() for item in wyckoff for w in item.split(",") if w.strip()]
        return tuple(wyckoff_position(n, w) for w in letters)
    if structure_orbits:
        return tuple(wyckoff_position(n, o.wyckoff_letter) for o in structure_orbits)
    from nhm.errors import InputError

    raise InputError("give the Wannier centres: --wyckoff LETTER (repeatable) or --structure FILE")


def _r1_not_applicable(reason: str) -> str:
    """The note that reading R1 was tried and does not apply (e.g. a 3-dimensional level where the band has one
    branch): the verdict is then reading R2's, which a user of the default --reading both must be told."""
    return f"reading R1 does not apply ({reason.split(' (use reading R2)')[0]}); the verdict is reading R2's"


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
    from nhm.bands.symmetry import parse_band
    from nhm.crystal.setting import check_space_group_number
    from nhm.errors import InputError
    from nhm.validate import positive_finite, positive_int
    from nhm.wannier.krueger import classify as run_classify

    positive_int("--wfs-per-atom", wfs_per_atom)
    positive_finite("--symprec", symprec)
    orbits = None
    crystal = None
    if structure is not None:
        from nhm.crystal import read_crystal
        from nhm.crystal.caveats import symmetry_note
        from nhm.cli._common import warn

        crystal = read_crystal(structure, symprec=symprec)
        note = symmetry_note(crystal)
        if note:
            warn(note)
        if group is not None and check_space_group_number(group) != crystal.space_group:
            raise InputError(f"--group {group} contradicts the structure, whose space group is {crystal.space_group}")
        n = crystal.space_group
        orbits = crystal.orbits
    elif group is not None:
        n = check_space_group_number(group)
    else:
        raise InputError("give --group N or --structure FILE")
    if reading not in ("R1", "R2", "both"):
        raise InputError(f"--reading must be R1, R2 or both, got {reading!r}")
    centres = _centres_from_options(n, wyckoff, orbits)
    b = parse_band(band, n)
    readings = ("R1", "R2") if reading == "both" else (reading,)
    results = []
    r1_note = None
    for r in readings:
        try:
            results.append(run_classify(b, centres, reading=r, kramers=kramers, wfs_per_atom=wfs_per_atom))  # type: ignore[arg-type]
        except InputError as exc:
            if reading != "both" or r != "R1":
                raise
            r1_note = _r1_not_applicable(str(exc))
    if r1_note is not None:  # said, not swallowed: the verdict that follows is reading R2's alone
        from dataclasses import replace

        from nhm.cli._common import warn

        warn(r1_note)
        results = [replace(c, notes=(r1_note, *c.notes)) for c in results]
    if json_out:
        out = [{"space_group": n, "band": b.text(), **c.as_dict()} for c in results]
        emit_json(out[0] if len(out) == 1 else out)
        return
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
