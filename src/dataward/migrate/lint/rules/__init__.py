"""The rules, one module per group; importing this package registers every one."""

from dataward.migrate.lint.rules import (  # noqa: F401
    column_types,
    columns,
    constraints,
    data,
    design,
    index,
    meta,
    safety,
)
