"""The host functions: inside a component they call the host (``wit_world.imports``); under
plain CPython they read the doubles of :mod:`confiture_plugin.testing`."""

from __future__ import annotations

from itertools import accumulate
from typing import Iterable, Optional

from .types import DbError, Rows

try:
    from componentize_py_types import Err
    from wit_world.imports import host as _host
except ImportError:  # plain CPython: native tests
    _host = None
    Err = None

if _host is None:
    from . import testing as _backend
else:
    _backend = None

_LEVELS = ("trace", "debug", "info", "warn", "error")


def config(key: str, default: Optional[str] = None) -> Optional[str]:
    """The plugin's setting ``key`` from the environment file, or ``default`` when unset."""
    value = _host.config(key) if _host else _backend._config(key)
    return default if value is None else value


def log(level: str, message: str) -> None:
    """Writes ``message`` to the host's log at ``level`` (trace, debug, info, warn, error)."""
    if level not in _LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(_LEVELS)}")
    if _host:
        _host.log(_host.LogLevel[level.upper()], message)
    else:
        _backend._log(level, message)


def keyed_hash(data: bytes) -> bytes:
    """HMAC-SHA-256 of ``data`` under the deployment secret, which the plugin never sees."""
    if not _host:
        return _backend._keyed_hash(data)
    try:
        return _host.keyed_hash(data)
    except Err as error:
        raise RuntimeError(error.value) from None


def keyed_hash_batch(items: Iterable[bytes]) -> list[bytes]:
    """:func:`keyed_hash` of every item in one host call: the 32-byte digests, in order.

    One call per batch instead of one per value is what lets an interpreted strategy keep up.
    """
    items = list(items)
    data = b"".join(items)
    offsets = list(accumulate(map(len, items), initial=0))
    if _host:
        try:
            digests = _host.keyed_hash_batch(data, offsets)
        except Err as error:
            raise RuntimeError(error.value) from None
    else:
        digests = b"".join(_backend._keyed_hash(item) for item in items)
    starts = range(0, len(digests), 32)
    return list(map(digests.__getitem__, map(slice, starts, range(32, len(digests) + 32, 32))))


class Database:
    """The database a hook may use, on the migration's own transaction: ``query`` needs the
    ``db-read`` grant, ``execute`` ``db-write``. Parameters are ``$1``, ``$2``, …, given as
    text (``None`` binds NULL). A refused or failed call raises :class:`DbError`."""

    def query(self, sql: str, *params: Optional[str]) -> Rows:
        """Runs a query and returns its rows."""
        return self._call("query", sql, params)

    def execute(self, sql: str, *params: Optional[str]) -> int:
        """Runs a statement and returns the number of rows it affected."""
        return self._call("execute", sql, params)

    @staticmethod
    def _call(name: str, sql: str, params):
        params = [None if p is None else str(p) for p in params]
        if not _host:
            return getattr(_backend, "_" + name)(sql, params)
        from wit_world.imports import database

        try:
            result = getattr(database, name)(sql, params)
        except Err as error:
            raise DbError(error.value.code, error.value.message) from None
        return Rows(result.columns, result.values) if name == "query" else result
