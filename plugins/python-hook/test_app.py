"""Native tests of the hook (plain CPython: `python -m pytest`), with the database doubles."""
import pytest

import app  # noqa: F401  (declares the plugin)
from confiture_plugin import HookContext, Migration, PluginError, Rows, testing

CONTEXT = HookContext(
    "post-execute", Migration("20261206000000", "add_email", "0" * 64, "up", "m.up.sql", "")
)


@pytest.fixture(autouse=True)
def fresh():
    testing.reset()


def answer(table, nulls):
    testing.on_query(lambda sql, params: Rows(["x"], [[table if "to_regclass" in sql else nulls]]))


def test_passes_when_no_row_lacks_the_column():
    answer("users", "0")
    testing.run_hook(CONTEXT)
    assert testing.db_calls()[0] == ("SELECT to_regclass($1)::text", ["users"])
    assert testing.logs() == [("info", "users.email has no NULLs after add_email")]


def test_fails_naming_the_count_and_the_migration():
    testing.set_config("table", "accounts")
    answer("accounts", "3")
    with pytest.raises(PluginError, match="3 rows of accounts have no email after add_email"):
        testing.run_hook(CONTEXT)


def test_skips_a_table_that_does_not_exist_yet():
    answer(None, "?")
    testing.run_hook(CONTEXT)
    assert len(testing.db_calls()) == 1
