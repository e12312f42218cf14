"""How the ``nhm`` command ends: exit statuses and the one line a user sees when something is wrong.

- user errors (:class:`nhm.errors.NhmError`) and usage errors (missing argument, unknown option or
  command, a value that is not a number, ...): ``nhm: error: <message>`` on stderr, exit 2;
- bare ``nhm``: the help on stderr, exit 2 (as click does); ``--help``: exit 0;
- Ctrl-C (SIGINT) anywhere: ``nhm: interrupted``, exit 130; SIGTERM (SIGHUP): ``nhm: terminated``, exit
  143 (129). Both first kill the GPAW worker processes, then unwind, so that every temporary
  directory (``nhm-gpaw-*``) is removed on the way out;
- warnings (:class:`nhm.errors.NhmWarning`, e.g. an unwritable cache): ``nhm: warning: <message>``,
  one line on stderr, and the run goes on;
- stdout closed early (``nhm ... | head``): quiet, exit 1;
- anything else is a bug: the traceback is kept (exit 1).

The click context is driven here rather than through ``app()``: in non-standalone mode typer turns
Ctrl-C into a *return value* 130 and usage errors into click's multi-line panels. :func:`run_plain`
runs a command function on arguments parsed without typer (the plain forms of :mod:`nhm.cli`), with
the same statuses and messages; typer is imported only by :func:`run`.
"""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from nhm.errors import NhmError, NhmWarning, Terminated

if TYPE_CHECKING:
    import typer

PROG = "nhm"


def _click_exceptions() -> ModuleType:
    try:  # typer ≥ 0.26 ships its own copy of click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click import exceptions
    return exceptions


LONG_WORD = 160
"""Longest word of a message shown whole: a longer one (a 100 000-character material name, a path or
a band echoed back) keeps its head and tail, so that an error stays one readable line."""


def shorten(word: str, limit: int = LONG_WORD) -> str:
    """``word`` itself, or its head and tail around the number of characters left out."""
    if len(word) <= limit:
        return word
    head, tail = word[: limit * 2 // 3], word[-(limit // 6):]
    return f"{head}…[{len(word) - len(head) - len(tail):,} characters]…{tail}"


def _one_line(text: str) -> str:
    return " ".join(shorten(word) for word in text.split())


def _error(message: str, status: int = 2) -> int:
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)
    return status


class _QuietStdout:
    """Stands in for a stdout whose reader went away, so that the final flush raises nothing."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def warn(message: str) -> None:
    """``nhm: warning: <message>`` on stderr, one line (rich, yellow on a terminal)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[yellow]{PROG}: warning:[/yellow] {escape(_one_line(message))}")


def _show_warning(message, category, filename, lineno, file=None, line=None, _default=warnings.showwarning) -> None:
    if isinstance(category, type) and issubclass(category, NhmWarning):
        warn(str(message))
    else:
        _default(message, category, filename, lineno, file, line)


def _stop_workers() -> None:
    """Kill the GPAW worker processes, if any were started (without importing the DFT module)."""
    dft = sys.modules.get("nhm.bands.dft")
    if dft is not None:
        dft.stop_workers()


def _on_interrupt(signum, frame) -> None:
    _stop_workers()
    raise KeyboardInterrupt


def _on_terminate(signum, frame) -> None:
    _stop_workers()
    raise Terminated(signum)


@contextmanager
def _handlers() -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP handlers that kill the GPAW workers and unwind (main thread only).

    SIGINT is taken over only where Python's own handler is in place (not where it is ignored, as for
    a background job); SIGTERM and SIGHUP only where they have their default action.
    """
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        wanted = {signal.SIGINT: (_on_interrupt, signal.default_int_handler), signal.SIGTERM: (_on_terminate, signal.SIG_DFL)}
        if hasattr(signal, "SIGHUP"):
            wanted[signal.SIGHUP] = (_on_terminate, signal.SIG_DFL)
        for signum, (handler, expected) in wanted.items():
            if signal.getsignal(signum) is expected:
                previous[signum] = signal.signal(signum, handler)
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        warnings.showwarning = old_show
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def run(app: typer.Typer, args: Sequence[str] | None = None) -> int:
    """Run the typer ``app`` on ``args`` (default ``sys.argv[1:]``) and return the exit status."""
    with _handlers():
        return _run(app, args)


def run_plain(command: Callable[..., Any], arguments: Mapping[str, Any]) -> int:
    """Call ``command(**arguments)`` (arguments already parsed) and return the exit status, as :func:`run` would."""
    with _handlers():
        return _guarded(lambda: command(**arguments))


def _guarded(call: Callable[[], Any]) -> int:
    """Run ``call``: 0, or the status and message of what any command may raise (besides typer's own)."""
    try:
        call()
        return 0
    except KeyboardInterrupt:
        _stop_workers()
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Terminated as err:
        _stop_workers()
        print(f"{PROG}: terminated ({signal.Signals(err.signum).name})", file=sys.stderr)
        return 128 + err.signum
    except NhmError as err:
        return _error(str(err))
    except BrokenPipeError:
        sys.stdout = _QuietStdout(sys.stdout)
        return 1


def _run(app: typer.Typer, args: Sequence[str] | None) -> int:
    import typer

    exc = _click_exceptions()
    no_args_is_help = getattr(exc, "NoArgsIsHelpError", ())
    exit_types = tuple({typer.Exit, getattr(exc, "Exit", typer.Exit)})
    abort_types = tuple({typer.Abort, getattr(exc, "Abort", typer.Abort)})
    argv = list(sys.argv[1:] if args is None else args)

    def invoke() -> None:
        command = typer.main.get_command(app)
        with command.make_context(PROG, argv) as ctx:
            command.invoke(ctx)

    try:
        return _guarded(invoke)
    except no_args_is_help as err:  # type: ignore[misc]
        text = err.format_message()  # typer's rich help is printed already (to stdout) and leaves this empty
        if text.strip():
            print(text, file=sys.stderr)
        return err.exit_code
    except exc.UsageError as err:
        ctx_ = getattr(err, "ctx", None)
        hint = f" (see '{ctx_.command_path} --help')" if ctx_ is not None else ""
        return _error(err.format_message().rstrip(".") + hint, err.exit_code)
    except exc.ClickException as err:
        return _error(err.format_message(), err.exit_code)
    except exit_types as err:  # --help, --version, typer.Exit(n)
        return int(getattr(err, "exit_code", 0) or 0)
    except abort_types:
        print(f"{PROG}: aborted", file=sys.stderr)
        return 130
