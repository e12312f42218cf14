"""Safe output: every file nhm writes appears whole or not at all, and nothing else is ever replaced.

A regular file (or a new path) is written atomically: temporary file in the same directory (so that
``os.replace`` stays on one file system), fsync, rename; an existing file keeps its permissions. A
symlink to a regular file is followed (the link stays, its target is replaced atomically). A FIFO or a
character/block device (``/dev/stdout``, a named pipe) is written directly, streaming, and ``-`` means
standard output. A directory, a socket or an unwritable target is an :class:`InputError` with a
one-line reason; :func:`check_writable` / :func:`check_writable_dir` raise the same errors up front, so
the CLI can refuse a bad ``--json``/``--plot`` target before a long computation starts.
:func:`all_or_nothing` makes the outputs of one command appear together or not at all.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from nhm.errors import InputError

STDOUT = "-"


def _is_stdout(path: str | os.PathLike[str]) -> bool:
    return isinstance(path, str) and path == STDOUT


def _stat(path: Path, what: str) -> os.stat_result | None:
    """``os.stat`` following symlinks; None if nothing is there (a dangling link counts as nothing)."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot write {what}: {exc.strerror}") from exc


def _check_new(path: Path, what: str) -> None:
    """A path that does not exist yet: its nearest existing ancestor must be a writable directory."""
    parent = path.absolute().parent
    while True:
        st = _stat(parent, what)
        if st is not None:
            break
        if parent == parent.parent:
            raise InputError(f"cannot write {what}: no existing directory above it")
        parent = parent.parent
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {what}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what}: directory {parent} is not writable")


def _streamable(path: str | os.PathLike[str], st: os.stat_result) -> bool:
    """Written in place: FIFOs, devices, and the /dev/fd, /dev/stdout, /proc/*/fd aliases of open files."""
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return True
    name = os.fspath(path)
    return name in ("/dev/stdout", "/dev/stderr") or name.startswith("/dev/fd/") or os.path.realpath(path).startswith("/proc/")


def _plan(path: str | os.PathLike[str]) -> tuple[str, Path, os.stat_result | None]:
    """``(how, target, stat)``: how is "stdout", "stream" (in place) or "atomic" (temp file + rename)."""
    if _is_stdout(path):
        return "stdout", Path(STDOUT), None
    what = os.fspath(path)
    st = _stat(Path(path), what)  # follows symlinks, including the /proc/self/fd magic links
    if st is None:
        target = Path(os.path.realpath(path))  # a dangling symlink: create its target
        _check_new(target, what)
        return "atomic", target, None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {what}: it is a directory")
    if _streamable(path, st):
        if not os.access(path, os.W_OK):
            raise InputError(f"cannot write {what}: permission denied")
        return "stream", Path(path), st
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"cannot write {what}: it is neither a regular file nor a pipe or device")
    target = Path(os.path.realpath(path))
    if not os.access(target, os.W_OK):
        raise InputError(f"cannot write {what}: permission denied")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what}: directory {target.parent} is not writable (needed to replace the file atomically)")
    return "atomic", target, st


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise InputError (one line) unless ``path`` can take a file written by :func:`write_atomically`."""
    _plan(path)


def check_writable_dir(path: str | os.PathLike[str]) -> None:
    """Raise InputError (one line) unless ``path`` is, or can be created as, a writable directory."""
    what = os.fspath(path)
    target = Path(os.path.realpath(path))
    st = _stat(target, what)
    if st is None:
        _check_new(target, what)
    elif not stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write figures to {what}: it exists and is not a directory")
    elif not os.access(target, os.W_OK | os.X_OK):
        raise InputError(f"cannot write figures to {what}: directory not writable")


PathLike = str | os.PathLike[str]


def _identity(path: PathLike) -> tuple | None:
    """What a path refers to: the file's (device, inode) if it exists, else its resolved path; None for
    standard output and for pipes and devices (written in place, they replace nothing)."""
    if _is_stdout(path):
        return None
    target = os.path.realpath(path)  # where nhm would write (see _plan): "x/../in.cif" is in.cif even if x is missing
    try:
        st = os.stat(target)
    except OSError:
        return ("path", target)
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return None
    return ("file", st.st_dev, st.st_ino)


def _no_empty_name(option: str, path: PathLike, what: str) -> None:
    if not os.fspath(path).strip():
        hint = "give a path, or - for standard output" if what == "file" else "give a path, or leave the option out"
        raise InputError(f"{option} {os.fspath(path)!r} names no {what}: {hint}")


def check_outputs(
    files: dict[str, PathLike | None] | None = None,
    directories: dict[str, tuple[PathLike | None, tuple[str, ...] | list[str]]] | None = None,
    inputs: dict[str, PathLike | None] | None = None,
) -> None:
    """The output guard of every command: refuse, before any work, outputs that cannot be written, that
    would replace an input, or that would replace each other (one line, InputError).

    ``files``: option → file (``-``: standard output; None: not asked for). ``directories``: option →
    (directory, the names of the files the run writes into it). ``inputs``: description → a file the run
    reads (None or a path that does not exist: nothing to protect, except a database the run will create).
    An empty name is refused (it would otherwise be taken for "no output"). Paths are compared by what they
    resolve to — through symlinks, ``..`` and hard links — so ``--json fig/Al-225-bands.png`` is caught as
    the figure of ``--plot fig``, and ``--json s.db`` as the database ``--db s.db``.
    """
    targets: list[tuple[str, PathLike]] = []  # (how the user named it, path)
    for option, path in (files or {}).items():
        if path is None:
            continue
        _no_empty_name(option, path, "file")
        check_writable(path)
        targets.append((f"{option} {os.fspath(path)}", path))
    for option, (directory, names) in (directories or {}).items():
        if directory is None:
            continue
        _no_empty_name(option, directory, "directory")
        check_writable_dir(directory)
        for name in names:
            check_writable(Path(directory) / name)
            targets.append((f"the file {Path(directory) / name} of {option}", Path(directory) / name))
    protected = {}
    for what, path in (inputs or {}).items():
        if path is not None and os.fspath(path).strip() and not _is_stdout(path):
            identity = _identity(path)
            if identity is not None:
                protected.setdefault(identity, f"{what} {os.fspath(path)}")
    claimed: dict[tuple, str] = {}
    for named, path in targets:
        identity = _identity(path)
        if identity is None:
            continue
        if identity in protected:
            raise InputError(f"refusing to write {named}: it is {protected[identity]} (an output never replaces an input); "
                             "choose another path")
        if identity in claimed:
            raise InputError(f"{named} and {claimed[identity]} are the same file: one would replace the other; choose another path")
        claimed[identity] = named


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced sys.stdout (tests, notebooks)
        sys.stdout.write(data.decode())
    else:
        buffer.write(data)
        buffer.flush()


def _write_stream(target: Path, data: bytes) -> None:
    sys.stdout.flush()  # the target may be an alias of stdout
    try:
        with open(target, "ab") as f:  # in place, no rename; append: never truncate what stdout already holds
            f.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from exc


def _new_file_mode(existing: os.stat_result | None) -> int:
    if existing is not None:
        return stat.S_IMODE(existing.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write_temporary(path: str | os.PathLike[str], target: Path, existing: os.stat_result | None, data: bytes) -> str:
    """``data`` in a new temporary file beside ``target`` (flushed, fsync'ed, final mode); returns its name."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {os.fspath(path)}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(existing))
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {os.fspath(path)}: {exc.strerror}") from exc
        raise
    return tmp


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path``: atomically for regular files, in place for pipes/devices, ``-`` = stdout.

    Inside :func:`all_or_nothing` the write is only recorded; the block writes everything at its end.
    """
    batch = _BATCH.get()
    if batch is not None:
        _plan(path)  # a bad target fails here, at the first attempt, not only at the end
        batch.append((path, bytes(data)))
        return
    how, target, existing = _plan(path)
    if how == "stdout":
        _write_stdout(data)
        return
    if how == "stream":
        _write_stream(target, data)
        return
    tmp = _write_temporary(path, target, existing, data)
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {os.fspath(path)}: {exc.strerror}") from exc
        raise


_BATCH: ContextVar[list[tuple[str | os.PathLike[str], bytes]] | None] = ContextVar("nhm_output_batch", default=None)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """A set of outputs that appears whole or not at all (``--plot`` and ``--json`` of one command).

    Inside the block :func:`write_atomically` (and the functions built on it) only record what to
    write. If the block raises, nothing is written. At its normal end the outputs are written in two
    phases: every regular file to a temporary file beside its target, then all are renamed into place;
    pipes, devices and standard output come last (they cannot be taken back). A failure while writing
    the temporaries (disk full, permissions) leaves every target as it was; a failure while renaming
    removes the files this block had newly created.
    """
    batch: list[tuple[str | os.PathLike[str], bytes]] = []
    token = _BATCH.set(batch)
    try:
        yield
    finally:
        _BATCH.reset(token)
    _commit(batch)


def _commit(batch: list[tuple[str | os.PathLike[str], bytes]]) -> None:
    plans: dict[Path | str, tuple[str, str | os.PathLike[str], Path, os.stat_result | None, bytes]] = {}
    for path, data in batch:  # a later write to the same target replaces an earlier one
        how, target, existing = _plan(path)
        plans[STDOUT if how == "stdout" else target] = (how, path, target, existing, data)
    temporaries: list[tuple[str, Path]] = []
    try:
        for how, path, target, existing, data in plans.values():
            if how == "atomic":
                temporaries.append((_write_temporary(path, target, existing, data), target))
    except BaseException:
        for tmp, _ in temporaries:
            Path(tmp).unlink(missing_ok=True)
        raise
    created: list[Path] = []
    try:
        while temporaries:
            tmp, target = temporaries[0]
            existed = os.path.lexists(target)
            os.replace(tmp, target)
            temporaries.pop(0)
            if not existed:
                created.append(target)
    except BaseException as exc:
        for tmp, _ in temporaries:
            Path(tmp).unlink(missing_ok=True)
        for target in created:
            target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {temporaries[0][1] if temporaries else 'the outputs'}: {exc.strerror}") from exc
        raise
    for how, _, target, _, data in plans.values():
        if how == "stream":
            _write_stream(target, data)
        elif how == "stdout":
            _write_stdout(data)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """:func:`write_atomically` for text (UTF-8)."""
    write_atomically(path, text.encode())


def save_figure_atomically(fig, path: str | os.PathLike[str], **savefig_kwargs) -> Path:
    """Render a matplotlib figure in memory (format from the suffix) and write it atomically."""
    target = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=target.suffix.lstrip(".") or "png", **savefig_kwargs)
    write_atomically(target, buf.getvalue())
    return target
