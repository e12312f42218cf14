"""How a long run talks to whoever started it: warnings, a line of news, a spinner, a progress display.

The pipelines of :mod:`nhm.report` (``analyze``, ``kspace``, ...) are the same for the command line and for
Python (:mod:`nhm.api`); only these hooks differ. From Python (:data:`QUIET`, the default) a warning is a
Python warning of category :class:`nhm.errors.NhmWarning` and nothing else is shown; the command line passes
hooks that print to its rich console (:func:`nhm.cli.output.console_hooks`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from nhm.errors import NhmWarning

__all__ = ["Hooks", "QUIET"]


def python_warning(message: str) -> None:
    """``message`` as a Python warning (:class:`nhm.errors.NhmWarning`)."""
    warnings.warn(message, NhmWarning, stacklevel=3)


def _nothing(message: str) -> None:
    return None


@contextmanager
def _no_status(text: str) -> Iterator[None]:
    yield None


@contextmanager
def _no_progress(title: str) -> Iterator[None]:
    yield None  # the DFT functions take progress=None as "no progress display"


@dataclass(frozen=True)
class Hooks:
    """What a pipeline calls to be heard: ``warn(message)`` (something the user should know; the run goes on),
    ``say(message)`` (what is about to run), ``status(text)`` (a context: a spinner while a quiet step runs),
    ``progress(title)`` (a context yielding the progress callback of the GPAW runs, or None)."""

    warn: Callable[[str], None] = python_warning
    say: Callable[[str], None] = _nothing
    status: Callable[[str], AbstractContextManager[Any]] = _no_status
    progress: Callable[[str], AbstractContextManager[Any]] = _no_progress


QUIET = Hooks()
"""The hooks of the Python API: warnings as :class:`nhm.errors.NhmWarning`, nothing printed."""
