"""Write Confiture plugins in Python: anonymization strategies, migration hooks, lint rules.

A plugin is one module (``app.py``) that names itself, decorates one function per strategy,
hook or rule, and re-exports the classes componentize-py looks for::

    import confiture_plugin as confiture
    from confiture_plugin.exports import Metadata, Strategy  # noqa: F401

    confiture.plugin("upper", "0.1.0", "Upper-cases text")

    @confiture.strategy("upper", "Upper-cases text")
    def upper(values, call):
        return [None if v is None else v.upper() for v in values]

Functions get plain Python values (``list[str | None]`` for a batch, a :class:`HookContext`
and a :class:`Database` for hooks, the schema model for rules) and the SDK packs the results;
any exception becomes the call's error, which the host reports with the plugin's name. Batch
helpers (:func:`keyed_hash_batch`, :func:`digits`, :func:`replace_digits`) do a strategy's work
for a whole batch with builtins, which is what keeps it fast. Under
plain CPython, :mod:`confiture_plugin.testing` runs the same functions with test doubles for
the host. The guide is docs/plugins/authoring-python.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from ._digits import digits, replace_digits
from ._host import Database, config, keyed_hash, keyed_hash_batch, log
from .types import (
    Column,
    DbError,
    HookContext,
    LintContext,
    Location,
    Migration,
    PluginError,
    Rows,
    StrategyCall,
    Violation,
)

__all__ = [
    "Column", "Database", "DbError", "HookContext", "LintContext", "Location", "Migration",
    "PluginError", "Rows", "StrategyCall", "Violation", "config", "digits", "hook", "keyed_hash",
    "keyed_hash_batch", "log", "plugin", "replace_digits", "rule", "strategy",
]

HOOK_EVENTS = (
    "pre-validate", "post-validate", "pre-execute", "post-execute", "post-rollback", "on-error",
)
SEVERITIES = ("info", "warning", "critical")
CAPABILITIES = ("db-read", "db-write")


@dataclass
class _Strategy:
    name: str
    description: str
    run: Callable
    context_columns: list[str]
    accepted_types: list[str]
    deterministic: bool


@dataclass
class _Rule:
    id: str
    category: str
    severity: str
    description: str
    run: Callable


@dataclass
class _Plugin:
    name: str = ""
    version: str = ""
    description: str = ""
    capabilities: list[str] = field(default_factory=list)
    strategies: dict[str, _Strategy] = field(default_factory=dict)
    hooks: dict[str, Callable] = field(default_factory=dict)
    rules: dict[str, _Rule] = field(default_factory=dict)


#: What this module declared; read by :mod:`.exports` and :mod:`.testing`.
PLUGIN = _Plugin()


def plugin(name: str, version: str, description: str, capabilities: Iterable[str] = ()) -> None:
    """Names the plugin (lower-case ``a-z0-9-``) and the capabilities it asks for
    (``db-read``, ``db-write``; the environment file decides which it gets)."""
    capabilities = list(capabilities)
    for capability in capabilities:
        _check(capability, CAPABILITIES, "capability")
    PLUGIN.name, PLUGIN.version, PLUGIN.description = name, version, description
    PLUGIN.capabilities = capabilities


def strategy(
    name: str,
    description: str,
    *,
    context_columns: Iterable[str] = (),
    accepted_types: Iterable[str] = ("text", "character varying"),
    deterministic: bool = True,
):
    """Declares ``function(values, call)`` as strategy ``name``: it gets a batch of a column's
    values (``list[str | None]``, ``None`` for NULL) and a :class:`StrategyCall`, and returns
    as many values, in order."""

    def register(function):
        PLUGIN.strategies[name] = _Strategy(
            name, description, function, list(context_columns), list(accepted_types),
            deterministic,
        )
        return function

    return register


def hook(*events: str):
    """Declares ``function(context, db)`` as the hook for ``events`` (``pre-execute``,
    ``post-execute``, …). Raising fails the hook; the environment file's policy decides what
    that does to the migration."""
    for event in events:
        _check(event, HOOK_EVENTS, "hook event")

    def register(function):
        for event in events:
            PLUGIN.hooks[event] = function
        return function

    return register


def rule(id: str, description: str, *, category: str = "structure", severity: str = "warning"):
    """Declares ``function(context)`` as lint rule ``id``: it gets the schema model and
    statements and yields or returns :class:`Violation` values."""
    _check(severity, SEVERITIES, "severity")

    def register(function):
        PLUGIN.rules[id] = _Rule(id, category, severity, description, function)
        return function

    return register


def _check(value: str, allowed: tuple, what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
