"""`dataward migrate plan CHANGE`: the expand/contract sequence of a change that cannot be
made in one step without locking out or breaking the application.

Each step is a migration file pair (up and down) that is safe on its own: short locks
under lock_timeout, long work outside a transaction in small batches, constraints added
NOT VALID and validated apart. Where the application must change between two steps, the
file says so at its top: that release goes out before the migration is applied.

  change-type TABLE.COLUMN TYPE   new column + two-way sync trigger, batched backfill,
                                  NOT NULL by a validated CHECK, the swap, and the old
                                  column dropped after the next release
  rename-column TABLE.OLD NEW     the same without the type change
  add-not-null-column TABLE.COLUMN TYPE DEFAULT
                                  nullable column with its default, batched backfill,
                                  validated CHECK, SET NOT NULL
  add-foreign-key TABLE(COLS) PARENT(COLS)
                                  the referencing index (concurrently), the key NOT VALID,
                                  then VALIDATE
  set-not-null TABLE.COLUMN       validated CHECK, SET NOT NULL, the CHECK dropped
  add-index TABLE(COLS)           CREATE INDEX CONCURRENTLY
  add-unique TABLE(COLS)          CREATE UNIQUE INDEX CONCURRENTLY, then the constraint
                                  USING INDEX

The SQL is PostgreSQL's (the plans exist for its locks); names are quoted as psycopg's
sql.Identifier quotes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg import sql

from dataward.errors import UsageError
from dataward.migrate.files import NO_TRANSACTION

BATCH_ROWS = 10_000
LOCK_TIMEOUT = "SET lock_timeout = '5s';"
# The lint rules a step knowingly breaks, each ignored with its reason in the file.
DROP_COLUMN = "drop-column"
RENAME_COLUMN = "rename-column"
DROP_NOT_NULL = "drop-not-null"
VALIDATED_AT_ONCE = "constraint-validated-in-same-migration"
BACKFILL_WITH_DDL = "backfill-with-ddl"
SET_NOT_NULL = "set-not-null"
UPDATE_WITHOUT_WHERE = "update-without-where"
ADD_COLUMN_AND_SET_NOT_NULL = "add-column-and-set-not-null"
INDEX_NOT_CONCURRENTLY = "create-index-not-concurrently"
WAS_NOT_NULL = "undoes the contract step: it was NOT NULL"
REBUILT_INDEX = "undoes the attach: the index went with the constraint"
REFILL = "undoes the contract step: refills every row of the column it puts back"
UNDO_NOT_NULL = "undoes this plan: the column is already NOT NULL, the scan finds nothing"


@dataclass(frozen=True)
class Step:
    name: str
    up: str
    down: str
    transactional: bool = True
    release: str | None = None  # what must ship before this step is applied


@dataclass(frozen=True)
class Column:
    """What a plan needs to know of an existing column and its table."""

    table: str
    name: str
    type: str
    not_null: bool
    key: tuple[str, ...]  # the table's primary key, for batched backfills


def q(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _ignore(rule: str, reason: str) -> str:
    return f"-- dataward:ignore {rule} {reason}"


def _batched_update(table: str, key: tuple[str, ...], assignment: str, needed: str) -> str:
    """A DO block that updates `table` BATCH_ROWS rows at a time in key order, committing
    after each batch (it must run outside a transaction), so no lock is held for long
    and a restart resumes where it stopped (`needed` selects the rows still to do)."""
    if len(key) != 1:
        raise UsageError(
            f"a batched backfill walks the table by a one-column key; {table!r} has "
            f"({', '.join(key) or 'no primary key'})"
        )
    k = q(key[0])
    return f"""DO $$
DECLARE
  done bigint;
BEGIN
  LOOP
    UPDATE {q(table)} SET {assignment}
    WHERE {k} IN (SELECT {k} FROM {q(table)} WHERE {needed} ORDER BY {k} LIMIT {BATCH_ROWS});
    GET DIAGNOSTICS done = ROW_COUNT;
    EXIT WHEN done = 0;
    COMMIT;
  END LOOP;
END $$;"""


def _not_null_steps(column: Column, target: str, label: str) -> list[Step]:
    """NOT NULL on a filled column without a long exclusive lock: a CHECK added NOT VALID,
    validated apart (a lighter lock), then SET NOT NULL, which the validated CHECK lets
    PostgreSQL do without scanning, and the CHECK dropped."""
    check = f"{column.table}_{target}_not_null"[:63]
    t, c, k = q(column.table), q(target), q(check)
    add = f"ALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({c} IS NOT NULL) NOT VALID;"
    validate = f"ALTER TABLE {t} VALIDATE CONSTRAINT {k};"
    return [
        Step(
            f"{label}_check_not_null",
            f"{LOCK_TIMEOUT}\n{add}\n",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} DROP CONSTRAINT {k};\n",
        ),
        Step(
            f"{label}_validate_not_null",
            f"{LOCK_TIMEOUT}\n{validate}\n",
            # A constraint cannot be made NOT VALID again: dropped and added back as it was.
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} DROP CONSTRAINT {k};\n{add}\n",
        ),
        Step(
            f"{label}_set_not_null",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
            f"ALTER TABLE {t} DROP CONSTRAINT {k};\n",
            f"{LOCK_TIMEOUT}\n{_ignore(VALIDATED_AT_ONCE, UNDO_NOT_NULL)}\n"
            f"{add}\n{validate}\n"
            f"{_ignore(DROP_NOT_NULL, 'undoes this plan: back to the validated CHECK')}\n"
            f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n",
        ),
    ]


def _sync_trigger(column: Column, new: str, new_type: str, both_ways: bool) -> tuple[str, str]:
    """A trigger keeping `new` equal to the old column (and, both ways, the old to the
    new) on every insert and update while old and new application code run side by side."""
    t, old, fresh = q(column.table), q(column.name), q(new)
    function = q(f"{column.table}_{new}_sync"[:63])
    back = (
        f"    ELSIF NEW.{fresh} IS DISTINCT FROM OLD.{fresh} THEN\n"
        f"      NEW.{old} := CAST(NEW.{fresh} AS {column.type});\n"
        if both_ways
        else ""
    )
    insert_back = (
        f"    ELSIF NEW.{old} IS NULL THEN\n"
        f"      NEW.{old} := CAST(NEW.{fresh} AS {column.type});\n"
        if both_ways
        else ""
    )
    up = f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.{fresh} IS NULL THEN
      NEW.{fresh} := CAST(NEW.{old} AS {new_type});
{insert_back}    END IF;
  ELSE
    IF NEW.{old} IS DISTINCT FROM OLD.{old} THEN
      NEW.{fresh} := CAST(NEW.{old} AS {new_type});
{back}    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON {t}
  FOR EACH ROW EXECUTE FUNCTION {function}();"""
    down = f"DROP TRIGGER {function} ON {t};\nDROP FUNCTION {function}();"
    return up, down


def change_type(column: Column, new_type: str, *, rename_to: str | None = None) -> list[Step]:
    """The column takes `new_type` (or, with `rename_to` and the same type, a new name)."""
    label = f"{column.table}_{column.name}"
    new = f"{rename_to or column.name}__new"[:63]
    final = rename_to or column.name
    old_kept = f"{column.name}__old"[:63]
    t, old, fresh = q(column.table), q(column.name), q(new)
    trigger_up, trigger_down = _sync_trigger(column, new, new_type, both_ways=True)
    steps = [
        Step(
            f"{label}_expand",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} ADD COLUMN {fresh} {new_type};\n{trigger_up}\n",
            f"{LOCK_TIMEOUT}\n{trigger_down}\n"
            f"{_ignore(DROP_COLUMN, 'undoes this plan: the column it added')}\n"
            f"ALTER TABLE {t} DROP COLUMN {fresh};\n",
        ),
        Step(
            f"{label}_backfill",
            f"{NO_TRANSACTION}\n"
            + _batched_update(
                column.table,
                column.key,
                f"{fresh} = CAST({old} AS {new_type})",
                f"{fresh} IS DISTINCT FROM CAST({old} AS {new_type})",
            )
            + "\n",
            "-- Nothing to undo: the expand step's down drops the new column.\nSELECT 1;\n",
            transactional=False,
        ),
    ]
    if column.not_null:
        steps += _not_null_steps(column, new, label)
    swap_up = (
        f"{LOCK_TIMEOUT}\n{trigger_down}\n"
        f"{_ignore(RENAME_COLUMN, 'the swap itself: the application already reads both')}\n"
        f"ALTER TABLE {t} RENAME COLUMN {old} TO {q(old_kept)};\n"
        f"{_ignore(RENAME_COLUMN, 'the swap itself: the application already reads both')}\n"
        f"ALTER TABLE {t} RENAME COLUMN {fresh} TO {q(final)};\n"
    )
    swap_down = (
        f"{LOCK_TIMEOUT}\n"
        f"{_ignore(RENAME_COLUMN, 'undoes the swap')}\n"
        f"ALTER TABLE {t} RENAME COLUMN {q(final)} TO {fresh};\n"
        f"{_ignore(RENAME_COLUMN, 'undoes the swap')}\n"
        f"ALTER TABLE {t} RENAME COLUMN {q(old_kept)} TO {old};\n{trigger_up}\n"
    )
    steps.append(
        Step(
            f"{label}_swap",
            swap_up,
            swap_down,
            release=(
                f"the application reads {column.table}.{final} as {new_type} (and writes it "
                f"as such); until this step it is {column.table}.{new}"
                if not rename_to
                else f"the application reads and writes {column.table}.{final}, the new name, "
                f"where it exists, and {column.table}.{column.name} otherwise"
            ),
        )
    )
    steps.append(
        Step(
            f"{label}_contract",
            f"{LOCK_TIMEOUT}\n"
            f"{_ignore(DROP_COLUMN, 'the contract step: no release reads it any more')}\n"
            f"ALTER TABLE {t} DROP COLUMN {q(old_kept)};\n",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} ADD COLUMN {q(old_kept)} {column.type};\n"
            # The old values went with the column: rebuilt from the new one (an emergency
            # path, so one statement under lock rather than another plan).
            f"{_ignore(f'{BACKFILL_WITH_DDL},{UPDATE_WITHOUT_WHERE}', REFILL)}\n"
            f"UPDATE {t} SET {q(old_kept)} = CAST({q(final)} AS {column.type});\n"
            + (
                f"{_ignore(ADD_COLUMN_AND_SET_NOT_NULL, WAS_NOT_NULL)}\n"
                f"ALTER TABLE {t} ALTER COLUMN {q(old_kept)} SET NOT NULL;\n"
                if column.not_null
                else ""
            ),
            release=f"no running release reads or writes {column.table}.{old_kept}",
        )
    )
    return steps


def add_not_null_column(
    table: str, column: str, new_type: str, default: str, key: tuple[str, ...]
) -> list[Step]:
    """A NOT NULL column on a filled table: the default fills new rows at once (a
    constant default is free since PostgreSQL 11), old rows are backfilled in batches,
    then the NOT NULL goes on through a validated CHECK."""
    t, c = q(table), q(column)
    label = f"{table}_{column}"
    meta = Column(table, column, new_type, True, key)
    return [
        Step(
            f"{label}_add",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} ADD COLUMN {c} {new_type} DEFAULT {default};\n",
            f"{LOCK_TIMEOUT}\n{_ignore(DROP_COLUMN, 'undoes this plan: the column it added')}\n"
            f"ALTER TABLE {t} DROP COLUMN {c};\n",
        ),
        Step(
            f"{label}_backfill",
            f"{NO_TRANSACTION}\n"
            + _batched_update(table, key, f"{c} = {default}", f"{c} IS NULL")
            + "\n",
            "-- Nothing to undo: the add step's down drops the column.\nSELECT 1;\n",
            transactional=False,
        ),
        *_not_null_steps(meta, column, label),
    ]


def set_not_null(column: Column) -> list[Step]:
    """NOT NULL on an existing, filled column: a validated CHECK first, then SET NOT NULL."""
    return _not_null_steps(column, column.name, f"{column.table}_{column.name}")


def add_index(table: str, columns: list[str], *, unique: bool = False) -> list[Step]:
    name = q(f"{table}_{'_'.join(columns)}_{'key' if unique else 'idx'}"[:63])
    cols = ", ".join(q(c) for c in columns)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    return [
        Step(
            f"{table}_{'_'.join(columns)}_{'unique_index' if unique else 'index'}",
            f"{NO_TRANSACTION}\n{LOCK_TIMEOUT}\n"
            f"CREATE {kind} CONCURRENTLY {name} ON {q(table)} ({cols});\n",
            f"{NO_TRANSACTION}\n{LOCK_TIMEOUT}\nDROP INDEX CONCURRENTLY {name};\n",
            transactional=False,
        )
    ]


def add_unique(table: str, columns: list[str]) -> list[Step]:
    """The unique index built concurrently, then made the constraint (USING INDEX takes a
    brief lock and no scan)."""
    index = f"{table}_{'_'.join(columns)}_key"[:63]
    steps = add_index(table, columns, unique=True)
    steps.append(
        Step(
            f"{table}_{'_'.join(columns)}_unique",
            f"{LOCK_TIMEOUT}\nALTER TABLE {q(table)} ADD CONSTRAINT {q(index)} UNIQUE USING INDEX "
            f"{q(index)};\n",
            f"{LOCK_TIMEOUT}\nALTER TABLE {q(table)} DROP CONSTRAINT {q(index)};\n"
            # The constraint takes its index with it; the step before expects the index.
            # Built in the same transaction so that the down is all or nothing: a
            # rollback path, paid with a write lock while it builds.
            f"{_ignore(INDEX_NOT_CONCURRENTLY, REBUILT_INDEX)}\n"
            f"CREATE UNIQUE INDEX {q(index)} ON {q(table)} "
            f"({', '.join(q(c) for c in columns)});\n",
        )
    )
    return steps


def add_foreign_key(
    table: str, columns: list[str], parent: str, parent_columns: list[str]
) -> list[Step]:
    """An index on the referencing columns (so deletes in the parent do not scan the
    child), the key added NOT VALID (new rows are checked from then on), then VALIDATE,
    which checks the old rows under a lock that lets reads and writes go on."""
    name = f"{table}_{'_'.join(columns)}_fkey"[:63]
    t, k = q(table), q(name)
    cols = ", ".join(q(c) for c in columns)
    refs = ", ".join(q(c) for c in parent_columns)
    add = (
        f"ALTER TABLE {t} ADD CONSTRAINT {k} FOREIGN KEY ({cols}) REFERENCES {q(parent)} "
        f"({refs}) NOT VALID;"
    )
    return [
        *add_index(table, columns),
        Step(
            f"{table}_{'_'.join(columns)}_foreign_key",
            f"{LOCK_TIMEOUT}\n{add}\n",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} DROP CONSTRAINT {k};\n",
        ),
        Step(
            f"{table}_{'_'.join(columns)}_validate_foreign_key",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} VALIDATE CONSTRAINT {k};\n",
            f"{LOCK_TIMEOUT}\nALTER TABLE {t} DROP CONSTRAINT {k};\n{add}\n",
        ),
    ]


def write(steps: list[Step], directory: Path, start: datetime | None = None) -> list[Path]:
    """The steps as native migration files, one second apart so they sort in order."""
    directory.mkdir(parents=True, exist_ok=True)
    moment = start or datetime.now(UTC)
    written = []
    for number, step in enumerate(steps, start=1):
        version = (moment + timedelta(seconds=number - 1)).strftime("%Y%m%d%H%M%S")
        while any(directory.glob(f"{version}_*")):
            version = str(int(version) + 1)
        name = re.sub(r"[^a-z0-9_]+", "_", step.name.lower()).strip("_")
        header = f"-- Step {number} of {len(steps)} of a plan (dataward migrate plan).\n"
        if step.release:
            header += f"-- Before applying it, ship the release in which {step.release}.\n"
        up = directory / f"{version}_{name}.up.sql"
        down = directory / f"{version}_{name}.down.sql"
        up.write_text(_with_header(header, step.up), encoding="utf-8")
        down.write_text(_with_header(header, step.down), encoding="utf-8")
        written += [up, down]
    return written


def _with_header(header: str, body: str) -> str:
    # The no-transaction marker stays a line of its own; the header goes after it.
    if body.startswith(NO_TRANSACTION):
        return f"{NO_TRANSACTION}\n{header}{body[len(NO_TRANSACTION) + 1 :]}"
    return header + body
