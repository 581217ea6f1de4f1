"""Lint rule `python_created_at_required`: every table has a `created_at` column (config `column`)."""
import confiture_plugin as confiture
from confiture_plugin.exports import Lint, Metadata  # noqa: F401  (what the component exports)

confiture.plugin("python-lint", "0.2.0", "Every table records when its rows were created")


@confiture.rule(
    "python_created_at_required",
    "Every table has a created_at column, so rows can be audited and synced incrementally",
    category="structure",
    severity="warning",
)
def created_at_required(context):
    column = confiture.config("column", "created_at")
    for table in context.tables:
        if not any(c.name == column for c in table.columns):
            yield confiture.Violation(
                f"table {table.schema}.{table.name} has no {column} column",
                location=table.location,
                suggestion=f"add `{column} timestamptz NOT NULL DEFAULT now()`",
                fix=f"ALTER TABLE {table.schema}.{table.name} ADD COLUMN {column} timestamptz NOT NULL DEFAULT now();",
            )
