"""The screen's ASE database: one row per crystal and parameter set, written by the client alone.

A row is written by one ``db.write`` (one transaction: it is there whole or not at all, also after
kill -9). Its key-value pairs are what ``ase db`` shows and queries (``ase db nhm-screen.db
verdict=superconducting``); ``data`` holds the whole ``nhm analyze --json`` document and the parameters.
A crystal is identified by ``name`` (element symbol, or the path as given) and ``params_hash``; a row
for the same pair and the same structure (``structure_hash``) is a finished crystal. When a crystal is
recomputed (``--force``, ``--retry-failed``, or its file changed) the new row is written first and the
old one deleted after, so a kill in between leaves two rows, of which readers take the newest.
"""

from __future__ import annotations

import inspect
import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nhm.errors import InputError

__all__ = ["ScreenRow", "busy_timeout", "connect", "database_errors", "describe", "latest_rows", "make_key_value_pairs",
           "write_row"]

URL_SCHEMES = ("postgresql://", "postgres://", "mysql://", "mariadb://")

BUSY_TIMEOUT_S = 30.0
"""How long a busy database (another process writing: a second screen, ``ase db`` editing it) is waited for
before nhm gives up with one line: long enough for any single row to be written (well under a second),
short enough that a database held for good is reported, not waited on forever. ``NHM_DB_TIMEOUT`` sets it."""

BUSY_TIMEOUT_ENV = "NHM_DB_TIMEOUT"

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a database server (PostgreSQL) to answer at all: a wrong host fails in one line."""

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file


def busy_timeout() -> float:
    """Seconds to wait for a locked database: $NHM_DB_TIMEOUT, else :data:`BUSY_TIMEOUT_S`."""
    text = os.environ.get(BUSY_TIMEOUT_ENV)
    if not text:
        return BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 <= value <= 24 * 3600):
        raise InputError(f"{BUSY_TIMEOUT_ENV}={text!r} must be a number of seconds between 0 and 86400")
    return value


def _cause(exc: BaseException) -> str:
    """One line for a database error: a locked database says how long it was waited for, and how to wait longer."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "locked" in text or "lock timeout" in text or "canceling statement due to lock" in text:
        return (f"it is locked by another process (waited {busy_timeout():g} s; set {BUSY_TIMEOUT_ENV} to wait longer, "
                "or let the other process finish)")
    if "file is not a database" in text:
        return "it is not an SQLite database (file is not a database)"
    return text


def _is_database_error(exc: BaseException) -> bool:
    import sqlite3

    return isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] in ("psycopg2", "psycopg", "pymysql")


@contextmanager
def database_errors(db: str) -> Iterator[None]:
    """Errors of the database driver (SQLite, PostgreSQL) inside the block become one line naming the
    database and the cause (InputError): locked, corrupt, unreadable, disk full, connection lost."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the drivers' errors share no base class nhm could name
        if not _is_database_error(exc):
            raise
        raise InputError(f"the database {describe(db)}: {_cause(exc)}") from None


def _with_timeouts(url: str) -> str:
    """A PostgreSQL URL that fails instead of hanging: libpq's connect_timeout (an unreachable server) and
    lock_timeout (rows locked by another process), unless the URL sets them itself."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    if not url.startswith(("postgresql://", "postgres://")):
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    if "lock_timeout" not in query.get("options", ""):
        query["options"] = (query.get("options", "") + f" -c lock_timeout={int(busy_timeout() * 1000)}").strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))  # libpq reads %20, not +, as a space


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_sqlite_file(db: str) -> None:
    """Refuse, before any work, an SQLite --db that exists but is not a screen database nhm can use: not a
    regular file (a FIFO or /dev/null would hang or fail with "disk I/O error"), unreadable, not SQLite (a
    CIF given by mistake), an SQLite database of another program (ASE would add its tables to it), corrupt,
    or locked beyond :func:`busy_timeout`. A missing or empty file is a new database."""
    import sqlite3

    try:
        st = os.stat(db)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot open the database {db}: {exc.strerror}") from None
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise InputError(f"--db {db} is {kind}, not a database file (an SQLite file such as nhm-screen.db, or a postgresql:// URL)")
    if not os.access(db, os.R_OK):
        raise InputError(f"cannot open the database {db}: permission denied")
    if st.st_size == 0:
        return
    with open(db, "rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise InputError(f"--db {db} is not an SQLite database (its first bytes are not SQLite's header): is it the right file?")
    try:
        con = sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True, timeout=busy_timeout())
        try:
            tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InputError(f"the database {db}: {_cause(exc)}") from None
    if tables and "systems" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise InputError(f"--db {db} is an SQLite database of another program (tables {shown}), not an ASE database: "
                         "nhm would add its tables to it; give another file")


def is_url(db: str) -> bool:
    return db.startswith(URL_SCHEMES)


def describe(db: str) -> str:
    """The database for messages, without a password."""
    if is_url(db):
        from urllib.parse import urlsplit

        u = urlsplit(db)
        host = u.hostname or ""
        user = f"{u.username}@" if u.username else ""
        port = f":{u.port}" if u.port else ""
        return f"{u.scheme}://{user}{host}{port}{u.path}"
    return db


def check_target(db: str) -> None:
    """Refuse, before any work, a database nhm cannot write (one-line InputError)."""
    if is_url(db):
        return
    if db.endswith(".json"):
        raise InputError(f"--db {db}: ASE's JSON backend rewrites the whole file for every row (not safe against a "
                         "kill); use an SQLite file (e.g. nhm-screen.db) or a postgresql:// URL")
    from nhm.atomic import check_writable

    check_writable(db)
    check_sqlite_file(db)


def connect(db: str, *, must_exist: bool = False):
    """``ase.db.connect`` on an SQLite file (any suffix but .json) or a server URL, checked first
    (:func:`check_sqlite_file`) and with a stated busy timeout (:func:`busy_timeout`)."""
    import ase.db

    if is_url(db):
        try:
            _check_postgresql_schema(db)
            con = ase.db.connect(_with_timeouts(db))
            con.count()  # opens the connection now: a bad URL is an error here, not after the first crystal
        except InputError:
            raise
        except ModuleNotFoundError as exc:
            raise InputError(f"--db {describe(db)}: ASE needs the package ase-db-backends (and psycopg2 or pymysql) "
                             f"for server databases ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - driver errors have many types
            raise InputError(f"cannot open the database {describe(db)}: {_cause(exc)}") from None
        return _Guarded(con, db)
    if must_exist and not os.path.lexists(db):
        raise InputError(f"no screen database {db} (run nhm screen first, or give --db)")
    check_sqlite_file(db)
    try:
        con = ase.db.connect(db, type="db")
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot open the database {db}: {_cause(exc)}") from None
    _set_busy_timeout(con)
    return _Guarded(con, db)


def _check_postgresql_schema(db: str) -> None:
    """A PostgreSQL database that holds tables of another program (and no ASE ``systems`` table) is refused:
    ASE would add its own tables to it. Connection faults surface here already, in one line (see connect)."""
    if not db.startswith(("postgresql://", "postgres://")):
        return
    import psycopg2

    con = psycopg2.connect(_with_timeouts(db))
    try:
        with con.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
            tables = {name for (name,) in cur.fetchall()}
    finally:
        con.close()
    if tables and "systems" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise InputError(f"--db {describe(db)} is a PostgreSQL database of another program (tables {shown}), not an ASE "
                         "database: nhm would add its tables to it; give another database")


class _Guarded:
    """An ASE database whose driver errors, in any call (and while iterating a ``select``), are one line naming
    the database and the cause (:func:`database_errors`): a database locked or broken after it was opened,
    while a screen or a report runs, ends the command cleanly instead of in a traceback."""

    def __init__(self, con, db: str) -> None:
        self._con, self._db = con, db

    def __getattr__(self, name: str):
        attr = getattr(self._con, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with database_errors(self._db):
                result = attr(*args, **kwargs)
            return self._iterate(result) if inspect.isgenerator(result) else result

        return call

    def _iterate(self, rows):
        with database_errors(self._db):
            yield from rows


def _set_busy_timeout(con) -> None:
    """ASE opens SQLite with a fixed 20 s timeout; nhm's is :func:`busy_timeout` (its own, stated in the error)."""
    import sqlite3

    filename, timeout = con.filename, busy_timeout()
    con._connect = lambda: sqlite3.connect(filename, timeout=timeout)  # per instance: ASE calls self._connect()


@dataclass(frozen=True)
class ScreenRow:
    """The parts of a database row the screen needs."""

    id: int
    name: str
    params_hash: str
    status: str
    structure_hash: str | None
    key_value_pairs: dict[str, Any]


def _rows(con, **selection) -> list[ScreenRow]:
    out = []
    for row in con.select(include_data=False, **selection):
        kvp = dict(row.key_value_pairs)
        if "name" not in kvp or "params_hash" not in kvp:
            continue  # a row someone else wrote into the same database
        out.append(ScreenRow(row.id, str(kvp["name"]), str(kvp["params_hash"]), str(kvp.get("status", "")),
                             kvp.get("structure_hash"), kvp))
    return out


def latest_rows(con, params_hash: str | None = None) -> dict[tuple[str, str], list[ScreenRow]]:
    """``{(name, params_hash): rows, newest first}`` (of one parameter set, or all)."""
    sel = {"params_hash": params_hash} if params_hash else {}
    by_key: dict[tuple[str, str], list[ScreenRow]] = {}
    for r in _rows(con, **sel):
        by_key.setdefault((r.name, r.params_hash), []).append(r)
    for rows in by_key.values():
        rows.sort(key=lambda r: -r.id)
    return by_key


def _kvp_value(value: Any) -> Any:
    """A value ASE's database keeps as given, or None to leave the key out."""
    from ase.db.core import str_represents

    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    text = " ".join(str(value).split())
    if not text:
        return None
    if any(str_represents(text, t) for t in (bool, int, float)):
        text = f"'{text}'"  # ASE refuses strings that read as numbers
    return text


def make_key_value_pairs(**values: Any) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        v = _kvp_value(value)
        if v is not None:
            out[key] = v
    return out


def write_row(con, atoms, key_value_pairs: dict[str, Any], data: dict[str, Any], replaces: list[int] = ()) -> int:
    """Write one row (one transaction), then delete the rows it replaces. Returns the new row's id."""
    new_id = con.write(atoms, key_value_pairs=key_value_pairs, data=data)
    old = [i for i in replaces if i != new_id]
    if old:
        con.delete(old)
    return new_id
