"""Native tests of the lint rule (plain CPython: `python -m pytest`)."""
import app  # noqa: F401  (declares the plugin)
from confiture_plugin import LintContext, Location, testing
from confiture_plugin.types import LintColumn, Table


def test_reports_tables_without_the_column_where_they_are_created():
    testing.reset()
    where = Location("db/schema/10_orders.sql", 3, 1)
    context = LintContext(tables=[
        Table("users", [LintColumn("id"), LintColumn("created_at")]),
        Table("orders", [LintColumn("id")], location=where),
    ])
    [(rule, severity, violation)] = testing.run_lint(context)
    assert (rule, severity) == ("python_created_at_required", "warning")
    assert violation.message == "table public.orders has no created_at column"
    assert violation.location == where
    assert violation.fix.startswith("ALTER TABLE public.orders ADD COLUMN created_at")


def test_the_column_comes_from_the_config():
    testing.reset()
    testing.set_config("column", "inserted_at")
    context = LintContext(tables=[Table("users", [LintColumn("inserted_at")])])
    assert testing.run_lint(context) == []
