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

import math
import os
from dataclasses import dataclass
from typing import Any

from nhm.errors import InputError

__all__ = ["ScreenRow", "connect", "describe", "latest_rows", "make_key_value_pairs", "write_row"]

URL_SCHEMES = ("postgresql://", "postgres://", "mysql://", "mariadb://")


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


def connect(db: str, *, must_exist: bool = False):
    """``ase.db.connect`` on an SQLite file (any suffix but .json) or a server URL."""
    import ase.db

    if is_url(db):
        try:
            con = ase.db.connect(db)
            con.count()  # opens the connection now: a bad URL is an error here, not after the first crystal
        except ModuleNotFoundError as exc:
            raise InputError(f"--db {describe(db)}: ASE needs the package ase-db-backends (and psycopg2 or pymysql) "
                             f"for server databases ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - driver errors have many types
            raise InputError(f"cannot open the database {describe(db)}: {' '.join(str(exc).split())}") from None
        return con
    if must_exist and not os.path.isfile(db):
        raise InputError(f"no screen database {db} (run nhm screen first, or give --db)")
    try:
        return ase.db.connect(db, type="db")
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot open the database {db}: {' '.join(str(exc).split())}") from None


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
