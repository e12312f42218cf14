"""The ``nhm`` command line: one module per command group, one entry point.

========================  ==========================================================================
module                    commands
========================  ==========================================================================
:mod:`nhm.cli.groups`     ``group``, ``irreps``, ``ebr``, ``classify`` (group theory, Krüger's tests)
:mod:`nhm.cli.analyze`    ``analyze`` (DFT bands, connected superconducting bands, verdict)
:mod:`nhm.cli.kspace`     ``kspace`` (k-space magnetism of a band)
:mod:`nhm.cli.manybody`   ``manybody`` (exact diagonalization of the NHM Hamiltonian)
:mod:`nhm.screen.command` ``screen`` (many crystals on Dask into an ASE database; report vs measured Tc)
========================  ==========================================================================

:func:`main` is the entry point (``nhm = "nhm.cli:main"``, ``python -m nhm.cli``); error handling,
exit statuses and signals belong to :func:`nhm.entrypoint.run`. To start fast, ``main`` imports only
the module of the command it runs (``nhm group 229`` never imports the DFT, k-space or many-body code);
``--help``, a bare ``nhm`` and unknown commands get the whole application. :data:`COMMANDS` lists the
commands and their modules; a new command is one entry there (its module defines a function of the
same name, a typer command).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "app", "build_app", "main"]

HELP = "nhm — the nonadiabatic Heisenberg model: superconducting bands and their group theory."

COMMANDS: dict[str, str] = {  # command -> module defining a function of that name, in the order of --help
    "group": "nhm.cli.groups",
    "irreps": "nhm.cli.groups",
    "ebr": "nhm.cli.groups",
    "classify": "nhm.cli.groups",
    "analyze": "nhm.cli.analyze",
    "kspace": "nhm.cli.kspace",
    "manybody": "nhm.cli.manybody",
    "screen": "nhm.screen.command",
}


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
    from nhm.entrypoint import run

    args = list(sys.argv[1:] if argv is None else argv)
    first = args[0] if args else None
    app = build_app([first]) if first in COMMANDS else __getattr__("app")
    sys.exit(run(app, args))
