"""Run a plugin's functions under plain CPython (pytest), without building a component: the
host functions read the doubles set up here, and ``run_strategy`` / ``run_hook`` /
``run_lint`` go through the same checks and packing as the component does::

    import app  # the plugin module, which declares itself on import
    from confiture_plugin import testing

    def test_mask():
        testing.set_secret(b"test secret")
        assert testing.run_strategy("phone_mask", ["+33 6 12 34 56 78", None])[1] is None

State is per process; call :func:`reset` between tests that set it up differently (a pytest
fixture with ``autouse=True`` does it for every test).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Optional

from .types import (
    Column,
    DbError,
    HookContext,
    LintContext,
    PluginError,
    Rows,
    StrategyCall,
    Violation,
)

_state: dict = {}


def reset() -> None:
    """Forgets the secret, config, logs, database answers and recorded calls."""
    _state.clear()
    _state.update(config={}, secret=None, logs=[], calls=[], on_query=None, on_execute=None)


reset()


def set_secret(secret: bytes) -> None:
    """The deployment secret the keyed hash uses (HMAC-SHA-256, as the host computes it).
    Without it, ``keyed_hash`` fails as it does when no secret is configured."""
    _state["secret"] = secret


def set_config(key: str, value: str) -> None:
    """The plugin's setting ``key``, as the environment file's ``config:`` gives it."""
    _state["config"][key] = value


def on_query(handler: Callable[[str, list], Rows]) -> None:
    """Answers ``db.query(sql, *params)`` with ``handler(sql, params)``."""
    _state["on_query"] = handler


def on_execute(handler: Callable[[str, list], int]) -> None:
    """Answers ``db.execute(sql, *params)`` with ``handler(sql, params)``."""
    _state["on_execute"] = handler


def logs() -> list[tuple[str, str]]:
    """``(level, message)`` of every line logged since the last :func:`reset`."""
    return list(_state["logs"])


def db_calls() -> list[tuple[str, list]]:
    """``(sql, params)`` of every query and statement run since the last :func:`reset`."""
    return list(_state["calls"])


def _plugin_error(error: PluginError) -> PluginError:
    from . import PLUGIN

    return PluginError(f"plugin {PLUGIN.name}: {error}")


def run_strategy(
    name: str,
    values: list[Optional[str]],
    column: Column = Column(),
    params: Optional[dict] = None,
    context: Optional[dict] = None,
) -> list[Optional[str]]:
    """Runs strategy ``name`` on ``values`` as the host would (through the batch packing);
    raises :class:`PluginError` naming the plugin when the call fails."""
    from . import _batch, _calls

    data, offsets, nulls = _batch.encode(list(values))
    call = StrategyCall(name, column, dict(params or {}), dict(context or {}))
    try:
        out = _calls.anonymize(call, _batch.decode(data, offsets, nulls))
        return _batch.decode(*_batch.encode(out))
    except (PluginError, TypeError) as error:
        raise _plugin_error(PluginError(str(error))) from None


def run_hook(context: HookContext) -> None:
    """Runs the hook for ``context.event``; raises :class:`PluginError` when it fails."""
    from . import _calls

    try:
        _calls.handle(context)
    except PluginError as error:
        raise _plugin_error(error) from None


def run_lint(context: LintContext) -> list[tuple[str, str, Violation]]:
    """Runs the enabled rules: ``(rule id, severity, violation)`` for each finding."""
    from . import _calls

    try:
        return _calls.check(context)
    except PluginError as error:
        raise _plugin_error(error) from None


# The host functions of plain CPython, used by confiture_plugin._host.


def _config(key: str) -> Optional[str]:
    return _state["config"].get(key)


def _log(level: str, message: str) -> None:
    _state["logs"].append((level, message))


def _keyed_hash(data: bytes) -> bytes:
    if _state["secret"] is None:
        raise RuntimeError(
            "no anonymization secret is configured (in tests, call testing.set_secret first)"
        )
    return hmac.new(_state["secret"], bytes(data), hashlib.sha256).digest()


def _query(sql: str, params: list) -> Rows:
    _state["calls"].append((sql, params))
    if _state["on_query"] is None:
        raise DbError("host", "no query answer set up (call testing.on_query first)")
    return _state["on_query"](sql, params)


def _execute(sql: str, params: list) -> int:
    _state["calls"].append((sql, params))
    if _state["on_execute"] is None:
        raise DbError("host", "no execute answer set up (call testing.on_execute first)")
    return _state["on_execute"](sql, params)
