"""Hook: fails a migration that leaves NULLs in a required column (config `table`, `column`)."""
import confiture_plugin as confiture
from confiture_plugin.exports import Hooks, Metadata  # noqa: F401  (what the component exports)

confiture.plugin("python-hook", "0.2.0", "Fails a migration that leaves NULLs", ["db-read"])


@confiture.hook("post-execute")
def require_values(context, db):
    table, column = confiture.config("table", "users"), confiture.config("column", "email")
    if db.query("SELECT to_regclass($1)::text", table).scalar() is None:
        return  # not created yet
    nulls = db.query(f'SELECT count(*) FROM {table} WHERE "{column}" IS NULL').scalar()
    if nulls != "0":
        raise ValueError(f"{nulls} rows of {table} have no {column} after {context.migration.name}")
    confiture.log("info", f"{table}.{column} has no NULLs after {context.migration.name}")
