"""Atomic output: every file nhm writes appears whole or not at all (temporary file, fsync, rename).

A run that is interrupted or fails half-way leaves no truncated JSON, figure or HTML behind. The
temporary file lives in the target's directory so that ``os.replace`` stays on one file system.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from nhm.errors import InputError


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory (no half-written output)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    write_atomically(path, text.encode())


def save_figure_atomically(fig, path: str | os.PathLike[str], **savefig_kwargs) -> Path:
    """Render a matplotlib figure in memory (format from the suffix) and write it atomically."""
    target = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=target.suffix.lstrip(".") or "png", **savefig_kwargs)
    write_atomically(target, buf.getvalue())
    return target
