"""The ``nhm`` command line: one module per command group, one entry point.

========================  ==========================================================================
module                    commands
========================  ==========================================================================
:mod:`nhm.cli.groups`     ``group``, ``irreps``, ``ebr``, ``classify`` (group theory, Krüger's tests)
:mod:`nhm.cli.analyze`    ``analyze`` (DFT bands, connected superconducting bands, verdict)
:mod:`nhm.cli.kspace`     ``kspace`` (k-space magnetism of a band)
:mod:`nhm.cli.manybody`   ``manybody`` (exact diagonalization of the NHM Hamiltonian)
:mod:`nhm.cli.screen`     ``screen`` (many crystals on Dask into an ASE database; report vs measured Tc)
========================  ==========================================================================

:func:`main` is the entry point (``nhm = "nhm.cli:main"``, ``python -m nhm.cli``); error handling,
exit statuses and signals belong to :func:`nhm.entrypoint.run`. To start fast, ``main`` imports only
the module of the command it runs (``nhm group 229`` never imports the DFT, k-space or many-body code);
``--help``, a bare ``nhm`` and unknown commands get the whole application. :data:`COMMANDS` lists the
commands and their modules; a new command is one entry there (its module defines a function of the
same name, a typer command).

The plain forms of the small commands (:data:`PLAIN_FORMS`: positional arguments and flags, nothing
else) are parsed here and run without typer: building the typer application (typer builds a pydantic
adapter for every option) costs more than ``nhm group 229`` itself. Every other form (``--help``, an
option with a value, a flag given twice, a missing or an extra argument, ``--``) goes to typer, which
parses it and words its errors; both print the same (:mod:`nhm.cli.show`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "PLAIN_FORMS", "app", "build_app", "main"]

HELP = "nhm — the nonadiabatic Heisenberg model: superconducting bands and their group theory."

COMMANDS: dict[str, str] = {  # command -> module defining a function of that name, in the order of --help
    "group": "nhm.cli.groups",
    "irreps": "nhm.cli.groups",
    "ebr": "nhm.cli.groups",
    "classify": "nhm.cli.groups",
    "analyze": "nhm.cli.analyze",
    "kspace": "nhm.cli.kspace",
    "manybody": "nhm.cli.manybody",
    "screen": "nhm.cli.screen",
}


# command -> (module, function, its positional parameters in order, {flag: its boolean parameter})
PLAIN_FORMS: dict[str, tuple[str, str, tuple[str, ...], dict[str, str]]] = {
    "group": ("nhm.cli.show", "show_group", ("space_group",), {"--json": "json_out"}),
    "irreps": ("nhm.cli.show", "show_irreps", ("space_group", "k"), {"--double": "double", "--tr": "tr", "--json": "json_out"}),
    "ebr": (
        "nhm.cli.show", "show_ebr", ("space_group",),
        {"--double": "double", "--tr": "tr", "--all-positions": "all_positions", "--json": "json_out"},
    ),
}


def plain_form(args: list[str]) -> tuple[Callable[..., Any], dict[str, Any]] | None:
    """``(function, arguments)`` if ``args`` is a plain form of a command in :data:`PLAIN_FORMS`, else None."""
    if not args or args[0] not in PLAIN_FORMS:
        return None
    module, name, positional, flags = PLAIN_FORMS[args[0]]
    values: list[str] = []
    arguments: dict[str, Any] = {}
    for token in args[1:]:
        if token.startswith("-"):
            if token not in flags or flags[token] in arguments:
                return None
            arguments[flags[token]] = True
        else:
            values.append(token)
    if len(values) != len(positional):
        return None
    arguments.update(zip(positional, values))
    return getattr(importlib.import_module(module), name), arguments


def build_app(names: list[str] | None = None) -> typer.Typer:
    """The typer application with the commands ``names`` (default: all of :data:`COMMANDS`)."""
    import typer

    app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP, pretty_exceptions_enable=False)
    if names is not None:
        app.callback()(lambda: None)  # keeps `nhm NAME ...` a subcommand even with one command registered
    for name in COMMANDS if names is None else names:
        app.command(name)(getattr(importlib.import_module(COMMANDS[name]), name))
    return app


_APP: typer.Typer | None = None


def __getattr__(name: str):
    if name == "app":  # the whole application, built on first use
        global _APP
        if _APP is None:
            _APP = build_app()
        return _APP
    raise AttributeError(f"module 'nhm.cli' has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: user and usage errors are one line on stderr (exit 2), Ctrl-C exits 130, SIGTERM 143, a
    bug keeps its traceback (exit 1); see :mod:`nhm.entrypoint`."""
    from nhm.entrypoint import run, run_plain

    args = list(sys.argv[1:] if argv is None else argv)
    plain = plain_form(args)
    if plain is not None:
        sys.exit(run_plain(*plain))
    first = args[0] if args else None
    app = build_app([first]) if first in COMMANDS else __getattr__("app")
    sys.exit(run(app, args))
