"""What ``nhm group``, ``nhm irreps`` and ``nhm ebr`` print (rich tables, or JSON with ``--json``), from
their arguments as given on the command line.

No command-line parsing here and no typer: the typer commands of :mod:`nhm.cli.groups` (options, help)
call these, and so do the plain forms that :func:`nhm.cli.main` runs without building the typer
application (``nhm group 229`` and the like), so both print the same. Everything heavy is imported
inside the functions.
"""

from __future__ import annotations

from nhm.cli.output import emit_json, stdout_console


def _fmt_vec(v) -> str:
    return "(" + ", ".join(str(x) for x in v) + ")"


def _fmt_complex(z: complex) -> str:
    z = complex(z)
    re_, im = round(z.real, 4) + 0.0, round(z.imag, 4) + 0.0
    if abs(im) < 1e-4:
        return f"{re_:g}"
    if abs(re_) < 1e-4:
        return f"{im:g}i"
    return f"{re_:g}{im:+g}i"


def show_group(space_group: str, json_out: bool = False) -> None:
    """``nhm group``: setting, points of symmetry and Wyckoff positions of a space group (BCS setting)."""
    from nhm.groups.kpoints import points_of_symmetry
    from nhm.groups.wyckoff import wyckoff_positions
    from nhm.crystal.setting import check_space_group_number, setting_summary

    n = check_space_group_number(space_group)
    setting = setting_summary(n)
    points = points_of_symmetry(n)
    wyck = wyckoff_positions(n)
    if json_out:
        emit_json(
            {
                "space_group": n,
                "setting": setting,
                "points_of_symmetry": [p.as_dict() for p in points],
                "wyckoff_positions": [
                    {
                        "label": w.label,
                        "site_symmetry": w.site_symmetry,
                        "maximal": w.maximal,
                        "coordinates": list(w.coordinates),
                    }
                    for w in wyck
                ],
            }
        )
        return
    console = stdout_console()
    # rich's highlighting (numbers, brackets) shows only in colour: without colours, skip its first use
    # (compiling its patterns costs more than the rest of this line)
    console.print(f"[bold]Space group {n}[/bold] {setting['symbol']}  (Hall number {setting['hall_number']}, "
                  f"{setting['description']})", highlight=console.color_system is not None)
    from rich.table import Table

    t = Table(title="Points of symmetry (Bilbao maximal k-vectors)")
    for col in ("name", "k (conventional)", "k (primitive)", "|G_k/T|"):
        t.add_column(col)
    for p in points:
        t.add_row(p.name, _fmt_vec(p.conventional), _fmt_vec(p.primitive), str(p.little_cogroup_order))
    console.print(t)
    t = Table(title="Wyckoff positions")
    for col in ("position", "site symmetry", "maximal", "coordinates"):
        t.add_column(col)
    for w in wyck:
        coords = " ".join(f"({c})" for c in w.coordinates[:4]) + (" …" if len(w.coordinates) > 4 else "")
        t.add_row(w.label, w.site_symmetry, "yes" if w.maximal else "", coords)
    console.print(t)


def show_irreps(
    space_group: str, k: str, double: bool = False, tr: bool = False, convention: str = "bcs", json_out: bool = False
) -> None:
    """``nhm irreps``: character table of the little group of k, with BCS labels."""
    from nhm.report.run_groups import irrep_table

    table = irrep_table(space_group, k, double, tr, convention)
    if json_out:
        from nhm.api import IrrepsResult

        emit_json(IrrepsResult(table).to_dict())
        return
    from rich.table import Table

    lg, n = table.little_group, table.space_group
    title = f"SG {n}, k = {lg.name} {_fmt_vec(lg.k)}: {'co-representations' if tr else 'irreps'}"
    title += f" ({'double' if double else 'single'}-valued, {convention} convention)"
    t = Table(title=title)
    t.add_column("irrep")
    t.add_column("dim")
    for symbol in table.operations:
        t.add_column(symbol, justify="right")
    for r, chars in zip(table.representations, table.characters):
        t.add_row(r.label, str(r.dimension), *(_fmt_complex(c) for c in chars))
    stdout_console().print(t)


def show_ebr(
    space_group: str, double: bool = False, tr: bool = False, wyckoff: str | None = None, all_positions: bool = False,
    json_out: bool = False,
) -> None:
    """``nhm ebr``: elementary band representations (or band representations from chosen positions)."""
    from nhm.report.run_groups import ebr_table

    table = ebr_table(space_group, double, tr, wyckoff, all_positions)
    if json_out:
        from nhm.api import EbrResult

        emit_json(EbrResult(table).to_dict())
        return
    from rich.table import Table

    n, kpoints = table.space_group, table.kpoints
    t = Table(title=f"{table.title} of SG {n} ({'double' if double else 'single'}-valued, {'with' if tr else 'without'} time reversal)")
    for col in ("position", "site sym.", "site irrep", "bands", "EBR"):
        t.add_column(col)
    for k in kpoints:
        t.add_column(k)
    for br, e in table.rows:
        cells = [
            " ".join(f"{m}{lbl}" if m > 1 else lbl for lbl, m in br.multiplicities.get(k, {}).items()) for k in kpoints
        ]
        t.add_row(br.wyckoff, br.site_symmetry, br.site_irrep, str(br.dimension), "yes" if e else "no", *cells)
    stdout_console().print(t)
