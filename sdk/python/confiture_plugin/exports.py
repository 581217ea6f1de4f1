"""The classes componentize-py looks for in the plugin's module: re-export them from it
(``from confiture_plugin.exports import Metadata, Strategy``). Each turns the contract's
records into the SDK's plain values, runs the author's functions and packs the results.

Under plain CPython (no ``wit_world``) the names exist but are never called by a host."""

from __future__ import annotations

from . import PLUGIN, _batch, _calls
from .types import Column, HookContext, Migration, PluginError, StrategyCall

try:
    import wit_world.exports as _wit
    from componentize_py_types import Err
except ImportError:  # plain CPython: native tests
    _wit = None

    class Err(Exception):  # noqa: N818 - componentize-py's name
        pass


def _base(name: str):
    return getattr(_wit, name, object) if _wit else object


def _raise_err(error: PluginError):
    raise Err(str(error)) from None


class Metadata(_base("Metadata")):
    """``metadata.describe``: what the module declared."""

    def describe(self):
        from wit_world.exports import metadata
        from wit_world.imports import types

        return metadata.PluginInfo(
            name=PLUGIN.name,
            version=PLUGIN.version,
            description=PLUGIN.description,
            capabilities=[types.Capability[c.replace("-", "_").upper()] for c in PLUGIN.capabilities],
            hooks=[types.HookEvent[e.replace("-", "_").upper()] for e in PLUGIN.hooks],
            strategies=[
                metadata.StrategyInfo(
                    name=s.name,
                    description=s.description,
                    context_columns=s.context_columns,
                    accepted_types=s.accepted_types,
                    deterministic=s.deterministic,
                )
                for s in PLUGIN.strategies.values()
            ],
            rules=[
                metadata.RuleInfo(
                    id=r.id,
                    category=r.category,
                    default_severity=types.Severity[r.severity.upper()],
                    description=r.description,
                )
                for r in PLUGIN.rules.values()
            ],
        )


def _values(text_batch) -> list:
    return _batch.decode(text_batch.data, text_batch.offsets, text_batch.nulls)


class Strategy(_base("Strategy")):
    """``strategy.anonymize``: unpacks the batch, runs the strategy, packs its output."""

    def anonymize(self, batch):
        from wit_world.exports import strategy

        c = batch.column
        call = StrategyCall(
            strategy=batch.strategy,
            column=Column(c.schema, c.table, c.name, c.type_name),
            params={kv.key: kv.value for kv in batch.params},
            context={cc.name: _values(cc.values) for cc in batch.context},
        )
        try:
            out = _calls.anonymize(call, _values(batch.values))
            return strategy.TextBatch(*_batch.encode(out))
        except PluginError as error:
            _raise_err(error)
        except TypeError as error:
            _raise_err(PluginError(f"strategy {batch.strategy}: {error}"))


class Hooks(_base("Hooks")):
    """``hooks.handle``: the context in plain values, then the hook for its event."""

    def handle(self, context):
        m = context.migration
        migration = m and Migration(
            m.version, m.name, m.checksum, m.direction.name.lower(), m.path, m.sql
        )
        plain = HookContext(
            event=context.event.name.lower().replace("_", "-"),
            migration=migration,
            environment=context.environment,
            status=context.status,
            duration_ms=context.duration_ms,
            error=context.error,
            metadata={kv.key: kv.value for kv in context.metadata},
        )
        try:
            _calls.handle(plain)
        except PluginError as error:
            _raise_err(error)


class Lint(_base("Lint")):
    """``lint.check``: the rules see the contract's schema model as it is (same fields as
    :class:`confiture_plugin.LintContext`); their violations are packed with rule and
    severity."""

    def check(self, context):
        from wit_world.exports import lint
        from wit_world.imports import types

        def location(at):
            return at and lint.Location(at.file, at.line, at.column)

        return [
            lint.Violation(
                rule_id=rule_id,
                severity=types.Severity[severity.upper()],
                message=v.message,
                location=location(v.location),
                suggestion=v.suggestion,
                fix=v.fix,
            )
            for rule_id, severity, v in _calls.check(context)
        ]
