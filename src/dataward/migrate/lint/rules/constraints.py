"""Constraints: added without a scan under an exclusive lock, validated apart.

SET NOT NULL, and why a CHECK validated in the same migration still counts: SET NOT NULL
scans the table under an ACCESS EXCLUSIVE lock unless a *validated* CHECK (col IS NOT
NULL) proves the column has no NULLs (PostgreSQL 12+), in which case it is instant. Where
that CHECK came from decides the cost:
  * added NOT VALID in an earlier migration, VALIDATEd earlier in this one: VALIDATE scans
    under SHARE UPDATE EXCLUSIVE (reads and writes go on), SET NOT NULL is then instant:
    safe, even in one transaction (the lock is upgraded briefly at the end);
  * added and VALIDATEd in this same transaction: ADD CONSTRAINT's ACCESS EXCLUSIVE lock is
    held until commit, so the validating scan runs under it. That is a full scan under the
    exclusive lock, but it is the ADD + VALIDATE pair that causes it, so it is reported
    once, there, by `constraint-validated-in-same-migration`, not again at SET NOT NULL;
  * added without NOT VALID: `constraint-without-not-valid` reports its scan.
So `set-not-null` accepts any CHECK that is valid by the time SET NOT NULL runs, and each
scan under an exclusive lock is reported at the statement that causes it.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from dataward.migrate.lint.context import ScriptContext, StatementContext
from dataward.migrate.lint.model import ERROR, Hit
from dataward.migrate.lint.nodes import commands, relation_of, table_name
from dataward.migrate.lint.registry import Registrar

rule = Registrar("constraints")

_LOCKS = {
    ConstrType.CONSTR_CHECK: "an ACCESS EXCLUSIVE lock on {table}: no reads or writes",
    ConstrType.CONSTR_FOREIGN: "SHARE ROW EXCLUSIVE locks on {table} and {parent}: no INSERT, "
    "UPDATE or DELETE on either",
}


def _added_constraints(node: ast.Node) -> Iterator[ast.Constraint]:
    for cmd in commands(node):
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            yield cmd.def_


def _lock(constraint: ast.Constraint, table: str) -> str:
    return _LOCKS[constraint.contype].format(table=table, parent=table_name(constraint.pktable))


@rule.statement(
    id="constraint-without-not-valid",
    severity=ERROR,
    title="CHECK or FOREIGN KEY added to an existing table without NOT VALID",
    what="ALTER TABLE ... ADD CONSTRAINT ... CHECK / FOREIGN KEY on a table this migration "
    "did not create, without NOT VALID.",
    why="PostgreSQL checks every existing row before the statement returns, holding an "
    "ACCESS EXCLUSIVE lock for a CHECK (no reads or writes) or SHARE ROW EXCLUSIVE locks on "
    "both tables for a FOREIGN KEY (no writes to either): for as long as the scan of a "
    "large table takes.",
    fix="add it NOT VALID (new rows are checked at once, the lock is brief), then ALTER "
    "TABLE ... VALIDATE CONSTRAINT in a later migration: it scans under a lock that lets "
    "reads and writes go on (`dataward migrate plan add-foreign-key` writes both)",
    bad="ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey\n"
    "  FOREIGN KEY (customer_id) REFERENCES customers (id);",
    good=(
        "-- dataward:no-transaction\nSET lock_timeout = '5s';\n"
        "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey\n"
        "  FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
        "SET lock_timeout = '5s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;",
    ),
)
def constraint_without_not_valid(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    for constraint in _added_constraints(ctx.node):
        if constraint.contype in _LOCKS and not constraint.skip_validation:
            kind = "CHECK" if constraint.contype == ConstrType.CONSTR_CHECK else "FOREIGN KEY"
            yield Hit(
                f"ADD {kind} without NOT VALID checks every row of {table} while holding "
                f"{_lock(constraint, table)} until the scan ends",
                ctx.statement,
                offset=constraint.location,
            )


@rule.script(
    id="constraint-validated-in-same-migration",
    severity=ERROR,
    title="A constraint added NOT VALID and validated in the same transaction",
    what="ADD CONSTRAINT ... NOT VALID followed by VALIDATE CONSTRAINT of the same "
    "constraint in one transaction (a transactional migration, or one BEGIN ... COMMIT). "
    "Reported at the ADD. In a migration marked `-- dataward:no-transaction` each statement "
    "commits on its own, and the pair is safe.",
    why="The lock ADD CONSTRAINT takes (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on "
    "both tables for a FOREIGN KEY) is held until commit, so the validating scan runs under "
    "it: exactly what NOT VALID was meant to avoid.",
    fix="move the VALIDATE CONSTRAINT to a later migration (it then takes only SHARE UPDATE "
    "EXCLUSIVE, and reads and writes go on)",
    bad="ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\n"
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;",
    good=(
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;",
        "SET lock_timeout = '5s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;",
    ),
)
def constraint_validated_in_same_migration(ctx: ScriptContext) -> Iterator[Hit]:
    for first, statement in enumerate(ctx.statements):
        table = relation_of(statement.node)
        if ctx.is_new(table):
            continue
        for constraint in _added_constraints(statement.node):
            if constraint.contype not in _LOCKS or not constraint.skip_validation:
                continue
            for later in range(first + 1, len(ctx.statements)):
                validated = ctx.statements[later]
                if _validates(validated.node, table, constraint.conname) and ctx.same_transaction(
                    first, later
                ):
                    yield Hit(
                        f"{constraint.conname} is added NOT VALID and validated at line "
                        f"{validated.line} in the same transaction: the validating scan runs "
                        f"under {_lock(constraint, table)}, held until commit",
                        statement,
                        offset=constraint.location,
                    )
                    break


def _validates(node: ast.Node, table: str, name: str | None) -> bool:
    return (
        name is not None
        and relation_of(node) == table
        and any(
            cmd.subtype == AlterTableType.AT_ValidateConstraint and cmd.name == name
            for cmd in commands(node)
        )
    )


@rule.statement(
    id="set-not-null",
    severity=ERROR,
    title="SET NOT NULL without a validated CHECK first",
    what="ALTER COLUMN ... SET NOT NULL on a column of a table this migration did not "
    "create, when no CHECK (col IS NOT NULL) is valid by then (added and validated in an "
    "earlier migration, or validated earlier in this one), and the column is not already "
    "NOT NULL. A column added in this same migration is `add-column-and-set-not-null`'s.",
    why="SET NOT NULL reads every row to prove there is no NULL, holding an ACCESS "
    "EXCLUSIVE lock the whole time: no reads or writes of the table until the scan ends.",
    fix="ADD CONSTRAINT name CHECK (col IS NOT NULL) NOT VALID; VALIDATE it in a later "
    "migration (reads and writes go on); then SET NOT NULL, which PostgreSQL 12+ does "
    "without a scan, and drop the CHECK (`dataward migrate plan set-not-null` writes these)",
    bad="ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;",
    good=(
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_currency_not_null\n"
        "  CHECK (currency IS NOT NULL) NOT VALID;",
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_currency_not_null;\n"
        "ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;\n"
        "ALTER TABLE orders DROP CONSTRAINT orders_currency_not_null;",
    ),
)
def set_not_null(ctx: StatementContext) -> Iterator[Hit]:
    table = ctx.table
    if ctx.is_new(table):
        return
    known = ctx.schema.table(table)
    for cmd in commands(ctx.node):
        if cmd.subtype != AlterTableType.AT_SetNotNull:
            continue
        if known is not None and known.proven_not_null(cmd.name):
            continue
        if ctx.added_column(table, cmd.name) is not None:
            continue
        yield Hit(
            f"SET NOT NULL on {table}.{cmd.name} reads every row of {table} under an ACCESS "
            "EXCLUSIVE lock (no validated CHECK proves it first): no reads or writes until "
            "the scan ends",
            ctx.statement,
        )
