"""An on-disk cache for first-principles results (SCF densities, Bloch states, band paths).

Entries live in one directory: ``$NHM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/nhm``, else
``~/.cache/nhm``. Each entry is ONE ``.npz`` file named by its key: numpy arrays plus a JSON metadata
document stored inside the same archive (as the array ``__metadata__``), so an entry is complete or
absent, never half-written.

Keys are SHA-256 hashes of a canonical JSON document (sorted keys, floats rounded) of everything the
result depends on: the structure actually computed (cell in Å, fractional positions, atomic
numbers), the calculation parameters, the version of the code that computed it and the cache format.
Rounding (``CELL_DECIMALS``, ``POSITION_DECIMALS``) makes the key insensitive to the last bits of
floating-point noise, e.g. 1.6499999999999997 Å and 1.65 Å give the same key.

Writes are atomic: a temporary file in the cache directory is written, flushed, fsync'ed and then
``os.replace``d onto the final name (atomic on POSIX within one file system), so an interrupted run
leaves at most a stray temporary file (never read; removed later), not a corrupt entry. An entry
that fails to load anyway (disk full, truncated by hand, ...), or whose content does not fit the
request (``load(key, check=...)``: arrays of the wrong shape, missing fields), is reported with a
``CacheWarning``, removed, and treated as a miss. A cache directory that cannot be created or written
is reported once (``CacheWarning``) and the run goes on uncached (``writable``, ``store`` never raises
for it): a cache must never cost the result it was meant to keep. Bypassing the cache
(``--no-cache``) is the callers' business: they simply don't call ``load``/``store``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nhm.errors import NhmWarning

__all__ = [
    "CACHE_ENV",
    "CACHE_FORMAT",
    "BandCache",
    "CacheEntry",
    "CacheWarning",
    "cache_key",
    "default_cache_dir",
    "structure_fingerprint",
]

CACHE_ENV = "NHM_CACHE_DIR"
CACHE_FORMAT = 1  # bump when the layout of entries changes: old entries then simply miss
CELL_DECIMALS = 6  # Å: 1e-6 Å is far below any physical relevance and above float noise
POSITION_DECIMALS = 8  # fractional coordinates
_METADATA = "__metadata__"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 24 * 3600  # temporaries older than this were left by a killed process


class CacheWarning(NhmWarning):
    """A cache entry could not be read (it is removed and recomputed), or the cache cannot be written."""


_UNWRITABLE_WARNED: set[str] = set()  # directories already reported in this process


@dataclass(frozen=True)
class CacheEntry:
    """One cached result: named numpy arrays and a JSON-compatible metadata dict."""

    key: str
    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)


def default_cache_dir() -> Path:
    """``$NHM_CACHE_DIR``, else ``$XDG_CACHE_HOME/nhm``, else ``~/.cache/nhm`` (not created here)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "nhm"


def _round(values: Any, decimals: int) -> list:
    # + 0.0 turns -0.0 into 0.0, so that a sign of zero never changes a key
    return (np.round(np.asarray(values, dtype=float), decimals) + 0.0).tolist()


def structure_fingerprint(cell: Any, scaled_positions: Any, numbers: Any) -> dict[str, Any]:
    """JSON-ready, rounded description of a periodic structure for cache keys.

    ``cell``: (3, 3) rows = cell vectors in Å; ``scaled_positions``: (n, 3) fractional, wrapped into
    [0, 1) here (a position at 0.9999999999 counts as 0); ``numbers``: atomic numbers.
    """
    frac = np.asarray(scaled_positions, dtype=float).reshape(-1, 3)
    frac = np.round(frac, POSITION_DECIMALS) % 1.0
    return {
        "cell": _round(cell, CELL_DECIMALS),
        "positions": _round(frac, POSITION_DECIMALS),
        "numbers": [int(z) for z in np.asarray(numbers).ravel()],
    }


def _canonical(obj: Any, decimals: int | None = 10) -> Any:
    """Plain JSON types (tuples become lists, numpy scalars Python ones); floats rounded to
    ``decimals`` (for keys; None keeps them exact, for metadata)."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v, decimals) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canonical(v, decimals) for v in obj]
    if isinstance(obj, np.ndarray):
        return _canonical(obj.tolist(), decimals)
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if decimals is None else float(np.round(float(obj), decimals)) + 0.0
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)  # Fractions and the like: their exact text


def cache_key(kind: str, payload: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``kind`` + canonical JSON of ``payload`` (+ the cache format version)."""
    doc = {"kind": kind, "format": CACHE_FORMAT, "payload": _canonical(payload)}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class BandCache:
    """The cache directory. ``load`` returns ``None`` on a miss; ``store`` writes atomically."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / f"{key}.npz"

    def __contains__(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except OSError:
            return False

    def writable(self) -> bool:
        """Create the directory if needed; False (and one CacheWarning per directory) if it cannot be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not os.access(self.directory, os.W_OK | os.X_OK):
                raise PermissionError(13, "permission denied")
        except OSError as exc:
            self._unwritable(exc)
            return False
        return True

    def _unwritable(self, exc: OSError) -> None:
        name = str(self.directory)
        if name not in _UNWRITABLE_WARNED:
            _UNWRITABLE_WARNED.add(name)
            warnings.warn(
                f"cannot write the nhm cache directory {name} ({exc.strerror or exc}): results are not cached "
                f"(set {CACHE_ENV} to a writable directory, or pass --no-cache)",
                CacheWarning,
                stacklevel=3,
            )

    def load(self, key: str, check: Callable[[CacheEntry], Any] | None = None) -> CacheEntry | None:
        """The entry stored under ``key``, or None (missing, or corrupt: then warned about and removed).

        ``check(entry)`` may test that the content fits the request (shapes, fields); if it raises
        (KeyError, IndexError, ValueError, TypeError, AssertionError), the entry is warned about,
        removed and None returned, so that the caller recomputes it.
        """
        entry = self._read(key)
        if entry is None or check is None:
            return entry
        try:
            check(entry)
        except (KeyError, IndexError, ValueError, TypeError, AssertionError, AttributeError) as exc:
            self.evict(key, f"its content does not fit the request: {type(exc).__name__}: {exc}")
            return None
        return entry

    def evict(self, key: str, reason: str) -> None:
        """Warn that the entry under ``key`` is unusable (``reason``) and remove it."""
        path = self.path(key)
        warnings.warn(
            f"ignoring the nhm cache entry {path} ({reason}); removing it, the result will be recomputed",
            CacheWarning,
            stacklevel=3,
        )
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

    def _unreadable(self, exc: OSError) -> None:
        """An entry that cannot even be looked at (a directory of mode 000): a miss, reported once per directory
        (not at all if the directory was reported as unwritable already: that warning said enough)."""
        name = str(self.directory)
        if name not in _UNWRITABLE_WARNED:
            _UNWRITABLE_WARNED.add(name)
            warnings.warn(
                f"cannot read the nhm cache directory {name} ({exc.strerror or exc}): results are recomputed "
                f"(set {CACHE_ENV} to a readable directory, or pass --no-cache)",
                CacheWarning,
                stacklevel=4,
            )

    def _read(self, key: str) -> CacheEntry | None:
        path = self.path(key)
        try:
            if not path.is_file():
                return None
        except OSError as exc:  # the directory cannot be searched (is_file raises for EACCES)
            self._unreadable(exc)
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if _METADATA not in data.files:
                    raise ValueError("no metadata")
                metadata = json.loads(str(data[_METADATA][()]))
                if not isinstance(metadata, dict) or metadata.get("key") != key:
                    raise ValueError("metadata names another key")
                arrays = {name: data[name] for name in data.files if name != _METADATA}
        except PermissionError as exc:  # unreadable, not corrupt: leave it where it is
            self._unreadable(exc)
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            self.evict(key, f"corrupt: {type(exc).__name__}: {exc}")
            return None
        return CacheEntry(key, arrays, metadata)

    def store(
        self, key: str, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, Any] | None = None
    ) -> Path | None:
        """Write an entry atomically (temporary file + fsync + ``os.replace``); returns its path.

        If the directory cannot be written (permissions, disk full, ...) nothing is stored: one
        CacheWarning, and None is returned.
        """
        if _METADATA in arrays:
            raise ValueError(f"array name {_METADATA!r} is reserved")
        path = self.path(key)
        if not self.writable():
            return None
        try:
            return self._store(path, key, arrays, metadata)
        except OSError as exc:
            self._unwritable(exc)
            return None

    def _store(self, path: Path, key: str, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, Any] | None) -> Path:
        self._remove_stale_temporaries()
        meta = {**_canonical(dict(metadata or {}), None), "key": key, "format": CACHE_FORMAT}
        payload = {name: np.asarray(a) for name, a in arrays.items()}
        payload[_METADATA] = np.array(json.dumps(meta, sort_keys=True))
        fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".npz", dir=self.directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_directory(self.directory)
        return path

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def _remove_stale_temporaries(self) -> None:
        # A process killed between mkstemp and os.replace leaves its temporary behind.
        now = time.time()
        for tmp in self.directory.glob(f"{_TMP_PREFIX}*"):
            try:
                if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                    tmp.unlink()
            except OSError:
                pass


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
