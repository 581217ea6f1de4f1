"""The plain values a plugin's functions receive and return.

Hooks get a :class:`HookContext` (with its :class:`Migration`) and a :class:`Database`; a
strategy gets its values as ``list[str | None]`` and a :class:`StrategyCall`; a lint rule gets
the schema model (:class:`LintContext`, the same fields as the contract's ``lint-context``) and
returns :class:`Violation` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


class PluginError(Exception):
    """A failure the host reports with the plugin's name (raised by :mod:`.testing`)."""


@dataclass
class DbError(Exception):
    """A refused or failed database call: ``code`` is PostgreSQL's SQLSTATE, ``not-granted``
    or ``host``."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Rows:
    """A query's result: column names and rows of text values (``None`` is SQL NULL)."""

    columns: list[str]
    values: list[list[Optional[str]]]

    def scalar(self) -> Optional[str]:
        """The first column of the first row, or ``None``."""
        return self.values[0][0] if self.values and self.values[0] else None


@dataclass
class Migration:
    """The migration a per-migration event is about."""

    version: str
    name: str
    checksum: str
    direction: str  # "up" or "down"
    path: str
    sql: str


@dataclass
class HookContext:
    """Everything a hook knows about the moment it is called."""

    event: str  # "pre-validate", "post-validate", "pre-execute", "post-execute", ...
    migration: Optional[Migration] = None
    environment: str = "test"
    status: str = "running"
    duration_ms: Optional[int] = None
    error: Optional[str] = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        """True in a dry run (nothing the hook writes survives it)."""
        return self.metadata.get("dry-run") == "true"


@dataclass
class Column:
    """The column a strategy anonymizes."""

    schema: str = "public"
    table: str = "t"
    name: str = "c"
    type_name: str = "text"


@dataclass
class StrategyCall:
    """What a strategy is told besides its values."""

    strategy: str
    column: Column
    params: dict[str, str] = field(default_factory=dict)
    context: dict[str, list[Optional[str]]] = field(default_factory=dict)


@dataclass
class Location:
    """Where something is written: file relative to the project root, 1-based line and column."""

    file: str
    line: int = 1
    column: int = 1


@dataclass
class LintColumn:
    """A column of a table in the schema model."""

    name: str
    type_name: str = "text"
    nullable: bool = True
    default: Optional[str] = None
    comment: Optional[str] = None
    location: Location = field(default_factory=lambda: Location("schema.sql"))


@dataclass
class ForeignKey:
    """A foreign key."""

    name: Optional[str]
    columns: list[str]
    referenced_table: str
    referenced_columns: list[str]


@dataclass
class Table:
    """A table after every file's DDL was applied in order."""

    name: str
    columns: list[LintColumn] = field(default_factory=list)
    schema: str = "public"
    primary_key: list[str] = field(default_factory=list)
    unique_keys: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    comment: Optional[str] = None
    location: Location = field(default_factory=lambda: Location("schema.sql"))


@dataclass
class Index:
    """An index."""

    name: str
    table: str
    columns: list[str]
    unique: bool = False
    predicate: Optional[str] = None
    location: Location = field(default_factory=lambda: Location("schema.sql"))


@dataclass
class Statement:
    """One SQL statement as the analysis layer saw it."""

    kind: str
    text: str
    location: Location = field(default_factory=lambda: Location("schema.sql"))
    parsed: bool = True
    in_migration: bool = False
    no_transaction: bool = False


@dataclass
class LintContext:
    """What a rule is given (inside the component: the contract's own record, same fields)."""

    tables: list[Table] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    enabled_rules: list[str] = field(default_factory=list)


@dataclass
class Violation:
    """A finding of a rule; the rule's id and severity are filled in by the SDK."""

    message: str
    location: Optional[Location] = None
    suggestion: Optional[str] = None
    fix: Optional[str] = None
