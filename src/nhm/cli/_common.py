"""What the command modules share: option types, the consoles, JSON on stdout, warnings."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DoubleFlag = Annotated[bool, typer.Option("--double", help="Double-valued (spinor) representations.")]
TrFlag = Annotated[bool, typer.Option("--tr", help="With time reversal (co-representations of the grey group).")]


def stdout_console(stderr: bool = False):
    """A rich console for human output on stdout (or stderr); wide tables (132 columns) when not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 132)


def json_text(data: Any) -> str:
    """``data`` as strict JSON text (RFC 8259: a NaN or infinite number becomes null; numpy scalars plain
    numbers), indented, with a final newline: what every command writes for ``--json``."""
    from nhm.screen.task import clean_json

    return json.dumps(clean_json(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def emit_json(data: Any) -> None:
    typer.echo(json_text(data), nl=False)


def warn(message: str) -> None:
    """``nhm: warning: <message>``, one line on stderr (see :func:`nhm.entrypoint.warn`)."""
    from nhm.entrypoint import warn as _warn

    _warn(message)
