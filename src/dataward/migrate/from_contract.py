"""`dataward migrate new NAME --from-contract C.yaml`: the migration that brings the live
table to what its contract now says.

Each difference between the table (as the warehouse has it) and the contract's DDL
becomes, when it is safe in one step, its direct DDL; when it is not, the steps of a plan
(migrate/plan.py):

  a new nullable column                 ADD COLUMN (down: DROP COLUMN)
  a new required column                 ADD COLUMN, nullable: the expand step; the data
                                        to fill it is the team's, then the same command
                                        again writes the set-not-null step
  a column the contract no longer has   DROP COLUMN, as the contract step of a plan: after
                                        the release that stopped using it
  a type that only widens               ALTER COLUMN TYPE (no rewrite: varchar longer or
                                        to text, numeric with more precision, same scale)
  any other type change                 the change-type plan
  NOT NULL dropped by the contract      DROP NOT NULL
  NOT NULL added by the contract        the set-not-null plan (a validated CHECK first)

On DuckDB every difference is direct DDL: a file has one writer, there is no lock to
wait for. A changed primary key is not planned: it needs a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataward.checks import compile_checks
from dataward.contract.model import Contract, Table
from dataward.errors import Location, UsageError
from dataward.migrate import plan
from dataward.migrate.plan import Column, Step, q
from dataward.pipeline.schema import LINEAGE, expected_columns
from dataward.warehouse import Warehouse


@dataclass(frozen=True)
class Outcome:
    steps: list[Step]
    notes: list[str]


def migration_for(wh: Warehouse, contract: Contract, table: Table, title: str) -> Outcome:
    """The steps bringing `table` to the contract; the direct DDL is one migration named
    `title`, planned changes keep their plan's names."""
    name = table.storage_name
    live = wh.live_columns(name)
    if live is None:
        raise UsageError(
            f"table {name!r} is not in the warehouse {wh.display_url}: `dataward run` creates "
            "it from the contract; there is nothing to migrate",
            Location(file=contract.source, table=name),
        )
    wanted = expected_columns(wh, table, compile_checks(contract, table))
    if list(wh.primary_key(name)) != list(table.primary_key):
        raise UsageError(
            f"the contract's primary key of {name!r} differs from the table's: a key change "
            "needs a person (a unique index built concurrently, then the constraint swapped)",
            Location(file=contract.source, table=name),
        )
    have = {c.name: c for c in live}
    want = {c.name: c for c in wanted}
    key = tuple(table.primary_key)
    postgres = wh.dialect == "postgres"
    t = q(name)
    direct: list[str] = []
    undo: list[str] = []
    planned: list[Step] = []
    notes: list[str] = []
    for column in wanted:
        c = q(column.name)
        found = have.get(column.name)
        if found is None:
            direct.append(f"ALTER TABLE {t} ADD COLUMN {c} {column.type};")
            undo.insert(0, f"{_ignore_drop()}\nALTER TABLE {t} DROP COLUMN {c};")
            if not column.nullable:
                notes.append(
                    f"{name}.{column.name} is required: it is added nullable (the expand "
                    "step); fill it, then run `dataward migrate new ... --from-contract` "
                    "again: it writes the migration that makes it NOT NULL"
                    + (" without a long lock" if postgres else "")
                )
            continue
        if found.type != column.type:
            if not postgres or _widens(found.type, column.type):
                direct.append(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {column.type};")
                undo.insert(0, f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {found.type};")
            else:
                planned += plan.change_type(
                    Column(name, column.name, found.type, not found.nullable, key), column.type
                )
                continue
        if found.nullable and not column.nullable:
            if postgres:
                planned += plan.set_not_null(Column(name, column.name, found.type, False, key))
            else:
                direct.append(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;")
                undo.insert(0, f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;")
        elif not found.nullable and column.nullable:
            direct.append(
                f"{plan._ignore(plan.DROP_NOT_NULL, 'the contract made it optional')}\n"
                f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;"
            )
            undo.insert(0, f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;")
    prefix = f"{plan.LOCK_TIMEOUT}\n" if postgres else ""
    for column in live:
        if column.name not in want and column.name not in LINEAGE:
            planned.append(
                Step(
                    f"{name}_{column.name}_drop",
                    f"{prefix}{plan._ignore(plan.DROP_COLUMN, 'the contract no longer has it')}\n"
                    f"ALTER TABLE {t} DROP COLUMN {q(column.name)};\n",
                    f"{prefix}ALTER TABLE {t} ADD COLUMN {q(column.name)} "
                    f"{column.type};\n-- Its old values went with it: the column comes back "
                    "empty.\n",
                    release=f"no running release reads or writes {name}.{column.name}",
                )
            )
    steps = []
    if direct:
        steps.append(
            Step(
                title,
                prefix + "\n".join(direct) + "\n",
                prefix + "\n".join(undo) + "\n",
            )
        )
    return Outcome(steps + planned, notes)


def _ignore_drop() -> str:
    return plan._ignore(plan.DROP_COLUMN, "undoes this migration: the column it added")


_VARCHAR = re.compile(r"^(?:character varying|varchar)\((\d+)\)$")
_NUMERIC = re.compile(r"^(?:numeric|decimal)\((\d+),\s*(\d+)\)$")


def _widens(old: str, new: str) -> bool:
    """A type change PostgreSQL makes without rewriting the table (binary coercible)."""
    old, new = old.lower(), new.lower()
    if (varchar := _VARCHAR.match(old)) and new in ("text", "character varying"):
        return True
    if varchar and (longer := _VARCHAR.match(new)):
        return int(longer.group(1)) >= int(varchar.group(1))
    if (numeric := _NUMERIC.match(old)) and (wider := _NUMERIC.match(new)):
        return wider.group(2) == numeric.group(2) and int(wider.group(1)) >= int(numeric.group(1))
    return False
