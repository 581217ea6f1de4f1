"""The three calls the host makes, in the SDK's plain types: run the author's functions and
check what they return. :mod:`.exports` feeds them the contract's records inside a component;
:mod:`.testing` feeds them directly under plain CPython."""

from __future__ import annotations

from typing import Optional

from . import PLUGIN
from ._host import Database
from .types import HookContext, PluginError, StrategyCall, Violation


def _failure(what: str, error: BaseException) -> PluginError:
    return PluginError(f"{what}: {type(error).__name__}: {error}")


def anonymize(call: StrategyCall, values: list[Optional[str]]) -> list[Optional[str]]:
    """Runs strategy ``call.strategy`` on ``values``; the output must hold as many values,
    each ``str`` or ``None``."""
    found = PLUGIN.strategies.get(call.strategy)
    if found is None:
        raise PluginError(
            f"no strategy {call.strategy!r} (it has: {', '.join(PLUGIN.strategies) or 'none'})"
        )
    what = f"strategy {call.strategy} on {call.column.table}.{call.column.name}"
    try:
        out = list(found.run(values, call))
    except Exception as error:
        raise _failure(what, error) from error
    if len(out) != len(values):
        raise PluginError(f"{what}: returned {len(out)} values for {len(values)}")
    return out


def handle(context: HookContext) -> None:
    """Runs the hook declared for ``context.event``."""
    function = PLUGIN.hooks.get(context.event)
    if function is None:
        raise PluginError(f"no hook for {context.event}")
    try:
        function(context, Database())
    except Exception as error:
        raise _failure(f"hook {context.event}", error) from error


def check(context) -> list[tuple[str, str, Violation]]:
    """Runs every enabled rule; ``(rule id, severity, violation)`` for each finding."""
    enabled = set(context.enabled_rules) or set(PLUGIN.rules)
    found = []
    for rule in PLUGIN.rules.values():
        if rule.id not in enabled:
            continue
        try:
            violations = list(rule.run(context) or ())
        except Exception as error:
            raise _failure(f"rule {rule.id}", error) from error
        for violation in violations:
            if not isinstance(violation, Violation):
                raise PluginError(
                    f"rule {rule.id}: returned {type(violation).__name__}, not Violation"
                )
            found.append((rule.id, rule.severity, violation))
    return found
