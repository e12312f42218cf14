"""What the commands print with: the rich consoles, JSON on stdout, warnings (typer-free, so that the plain
forms of the small commands, run without typer, print exactly what the typer commands print)."""

from __future__ import annotations

import codecs
import json
import sys
from typing import Any


def stdout_console(stderr: bool = False):
    """A rich console for human output on stdout (or stderr); wide tables (132 columns) when not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 132)


def json_text(data: Any) -> str:
    """``data`` as strict JSON text (RFC 8259: a NaN or infinite number becomes null; numpy scalars plain
    numbers), indented, with a final newline: what every command writes for ``--json``."""
    from nhm.jsondata import clean_json

    return json.dumps(clean_json(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def emit_json(data: Any) -> None:
    """:func:`json_text` of ``data`` on stdout, flushed.

    As click's ``echo`` writes it: a stream whose encoding is ASCII (or unknown) but that has a binary
    buffer gets UTF-8 bytes rather than an encoding error.
    """
    text = json_text(data)
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    if binary is not None and codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "ascii":
        stream.flush()
        binary.write(text.encode("utf-8", "replace"))
        binary.flush()
        return
    stream.write(text)
    stream.flush()


def warn(message: str) -> None:
    """``nhm: warning: <message>``, one line on stderr (see :func:`nhm.entrypoint.warn`)."""
    from nhm.entrypoint import warn as _warn

    _warn(message)


def console_hooks(console):
    """The :class:`nhm.report.hooks.Hooks` of the command line: warnings as ``nhm: warning: ...`` lines, news and
    spinners on ``console``, GPAW's progress as a rich spinner (:func:`nhm.bands.dft.rich_progress`)."""
    from nhm.report.hooks import Hooks

    def progress(title: str):
        from nhm.bands.dft import rich_progress

        return rich_progress(title, console=console)

    return Hooks(warn=warn, say=console.print, status=console.status, progress=progress)
