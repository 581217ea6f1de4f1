"""The Python SDK under plain CPython: packing, the checks on what functions return, the host
doubles. Run: `python -m pytest sdk/python/tests` (with sdk/python on PYTHONPATH)."""
import pytest

import confiture_plugin as confiture
from confiture_plugin import PluginError, _batch, testing


@pytest.fixture(autouse=True)
def fresh():
    testing.reset()
    confiture.PLUGIN.strategies.clear()
    confiture.plugin("sdk-test", "1.0.0", "SDK test")


@pytest.mark.parametrize(
    "values",
    [[], ["a"], [None], ["", None, "é", "x" * 1000], [None] * 17 + ["last"], ["日本", "ascii"]],
)
def test_packing_round_trips(values):
    data, offsets, nulls = _batch.encode(values)
    assert len(offsets) == len(values) + 1 and offsets[0] == 0
    assert len(nulls) == (len(values) + 7) // 8
    assert _batch.decode(data, offsets, nulls) == values


def test_the_null_bitmap_is_least_significant_bit_first():
    assert _batch.encode(["a", None, "b", None])[2] == bytes([0b1010])


def test_a_strategy_must_return_one_text_value_per_input():
    @confiture.strategy("short", "drops a value")
    def short(values, call):
        return values[1:]

    @confiture.strategy("numbers", "returns ints")
    def numbers(values, call):
        return [1 for _ in values]

    with pytest.raises(PluginError, match="plugin sdk-test: strategy short on t.c: returned 1 values for 2"):
        testing.run_strategy("short", ["a", "b"])
    with pytest.raises(PluginError, match="value 0 is int, not str or None"):
        testing.run_strategy("numbers", ["a"])
    with pytest.raises(PluginError, match="no strategy 'nope' \\(it has: short, numbers\\)"):
        testing.run_strategy("nope", ["a"])


def test_exceptions_become_errors_naming_the_plugin_the_call_and_the_type():
    @confiture.strategy("boom", "fails")
    def boom(values, call):
        raise ValueError(f"bad {call.params['p']} in {call.column.name}")

    with pytest.raises(PluginError, match="plugin sdk-test: strategy boom on t.c: ValueError: bad 1 in c"):
        testing.run_strategy("boom", ["a"], params={"p": "1"})


def test_params_and_context_columns_reach_the_strategy():
    @confiture.strategy("by_country", "uses the row", context_columns=["country"])
    def by_country(values, call):
        return [f"{v}@{c}{call.params['sep']}" for v, c in zip(values, call.context["country"])]

    out = testing.run_strategy("by_country", ["a", "b"], params={"sep": "!"},
                               context={"country": ["FR", "DE"]})
    assert out == ["a@FR!", "b@DE!"]


def test_keyed_hash_batch_is_keyed_hash_of_each_item_and_needs_a_secret():
    with pytest.raises(RuntimeError, match="secret"):
        confiture.keyed_hash(b"x")
    testing.set_secret(b"Jefe")
    # RFC 4231, test case 2.
    assert confiture.keyed_hash(b"what do ya want for nothing?").hex().startswith("5bdcc146")
    items = [b"a", b"", "é".encode()]
    assert confiture.keyed_hash_batch(items) == [confiture.keyed_hash(i) for i in items]
    assert confiture.keyed_hash_batch([]) == []


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="hook event 'post-exec' is not one of"):
        confiture.hook("post-exec")
    with pytest.raises(ValueError, match="severity 'error' is not one of"):
        confiture.rule("r", "d", severity="error")
    with pytest.raises(ValueError, match="capability 'db-admin'"):
        confiture.plugin("x", "1", "d", ["db-admin"])
    with pytest.raises(ValueError, match="log level 'fatal'"):
        confiture.log("fatal", "x")


def test_config_logs_and_database_doubles():
    testing.set_config("table", "users")
    assert confiture.config("table") == "users"
    assert confiture.config("missing", "default") == "default"
    confiture.log("warn", "careful")
    assert testing.logs() == [("warn", "careful")]
    db = confiture.Database()
    with pytest.raises(confiture.DbError, match="host: no query answer set up"):
        db.query("SELECT 1")
    testing.on_execute(lambda sql, params: len(params))
    assert db.execute("UPDATE t SET a = $1 WHERE b = $2", 1, None) == 2
    assert testing.db_calls()[-1] == ("UPDATE t SET a = $1 WHERE b = $2", ["1", None])
