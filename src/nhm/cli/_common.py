"""What the command modules share: option types, and (from :mod:`nhm.cli.output`) the consoles, JSON text
and JSON on stdout, warnings."""

from __future__ import annotations

from typing import Annotated

import typer

from nhm.cli.output import emit_json, json_text, stdout_console, warn

__all__ = ["DoubleFlag", "JsonFlag", "TrFlag", "emit_json", "json_text", "stdout_console", "warn"]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DoubleFlag = Annotated[bool, typer.Option("--double", help="Double-valued (spinor) representations.")]
TrFlag = Annotated[bool, typer.Option("--tr", help="With time reversal (co-representations of the grey group).")]
