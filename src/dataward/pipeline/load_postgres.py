"""LOAD into PostgreSQL: ship as little as possible, then one statement per mode.

The staged batch stays on this machine (the staging DuckDB, as for the DuckDB warehouse),
where duplicate keys inside the batch are resolved by the same code (pipeline/load.py).
What needs the server's tables goes there by binary COPY into temporary tables:

  keys      the batch's keys and row hashes (and partition values): the server compares
            them with the target and answers with the keys that are new or changed
  rows      then only those rows, in full (every row when the target is empty)

and one set-based statement applies the mode, recording before-states in the same
statement that changes the rows (a data-modifying CTE; PostgreSQL before 18 cannot
return old values from an upsert, so the CTE reads them from the statement's snapshot):

  merge                 INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE the hash differs
  append                INSERT ... ON CONFLICT DO NOTHING (changed events are rejected
                        before, by the comparison)
  overwrite-partition   DELETE of the partitions' rows the batch no longer has (RETURNING
                        their before-states) + the upsert
  replace               the new version built beside the old one, swapped by rename, the
                        old one kept

Every identifier goes through psycopg's sql.Identifier; values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from psycopg import sql

from dataward.checks import Check
from dataward.checks.sql_render import sql_type, storage_type
from dataward.contract.model import Table
from dataward.contract.types import TypeKind
from dataward.errors import ContractError
from dataward.pipeline.ledger import Counts
from dataward.pipeline.load import STAGE, LoadPlan
from dataward.pipeline.row_hash import HASH_COLUMN, duckdb_row_hash
from dataward.pipeline.schema import LINEAGE, LOADED_AT_COLUMN, RUN_COLUMN, target_ddl
from dataward.sources import ROW_COLUMN, SOURCE_COLUMN
from dataward.warehouse.base import LEDGER_SCHEMA
from dataward.warehouse.postgres import PostgresWarehouse

KEYS = "dw_keys"
ROWS = "dw_rows"
CLASS = "stage_class"


def _id(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _list(names: Sequence[str], alias: str | None = None) -> sql.Composed:
    return sql.SQL(", ").join(_id(alias, n) if alias else _id(n) for n in names)


@dataclass
class PostgresLoadPlan:
    wh: PostgresWarehouse
    table: Table
    target: str
    run_id: str
    run_seq: int
    mode: str
    partition: str | None
    keep_versions: int = 2
    checks: list[Check] = field(default_factory=list)
    recheck: bool = False
    counts: Counts = field(default_factory=Counts)
    warnings: list[str] = field(default_factory=list)
    classified: bool = field(default=False, init=False)
    states: dict[str, int] = field(default_factory=dict, init=False)
    _now: object = field(default=None, init=False)  # the server's transaction time

    def __post_init__(self) -> None:
        # The staged batch is resolved where it is, by the DuckDB plan's own statements.
        self.local = LoadPlan(
            wh=self.wh.staging,  # type: ignore[arg-type]
            table=self.table,
            target=self.target,
            run_id=self.run_id,
            run_seq=self.run_seq,
            mode=self.mode,
            partition=self.partition,
            checks=self.checks,
            counts=self.counts,
            warnings=self.warnings,
        )

    # ------------------------------------------------------------ helpers

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns]

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.primary_key

    @property
    def t(self) -> sql.Identifier:
        return _id(self.target)

    def _pg_type(self, name: str) -> sql.SQL:
        if name == HASH_COLUMN:
            return sql.SQL("uuid")
        if name == ROW_COLUMN:
            return sql.SQL("bigint")
        if name == SOURCE_COLUMN:
            return sql.SQL("text")
        return sql.SQL(storage_type(self.table.column(name).type).sql("postgres"))

    def _typed(self, alias: str, name: str) -> sql.Composed:
        """A shipped column read in the target's type (the wire type follows Arrow)."""
        return sql.SQL("CAST({} AS {})").format(_id(alias, name), self._pg_type(name))

    def _match(self, left: str, right: str, names: Sequence[str], cast_right: bool) -> sql.Composed:
        return sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(
                _id(left, n), self._typed(right, n) if cast_right else _id(right, n)
            )
            for n in names
        )

    def _ship(self, name: str, select_sql: str, params: Sequence[object] = ()) -> int:
        """A staging query's rows into the server's temporary table `name`."""
        reader = self.wh.staging.reader(select_sql, params)
        return self.wh.copy_in(name, reader, temporary_types=self._wire_overrides())

    def _wire(self, name: str, alias: str = "s") -> str:
        """A staged column as it travels: in the binary form of its target type. A UUID
        (the row hash too) goes as its 16 bytes, a JSONB document with the version byte
        jsonb's binary form starts with; everything else Arrow already carries as is."""
        q = self.wh.staging.quote
        ref = f"{q(alias)}.{q(name)}"
        if name == HASH_COLUMN or (
            name in self.columns and self.table.column(name).type.kind is TypeKind.UUID
        ):
            return f"unhex(replace(CAST({ref} AS VARCHAR), '-', '')) AS {q(name)}"
        if name in self.columns and self.table.column(name).type.kind is TypeKind.JSONB:
            return f"'\\x01'::BLOB || encode(CAST({ref} AS VARCHAR)) AS {q(name)}"
        return f"{ref} AS {q(name)}"

    def _wire_overrides(self) -> dict[str, str]:
        """Shipped columns take the target's own types on the server (their binary forms
        are what `_wire` sends), so reading them back needs no cast: JSON, for one, has
        no implicit cast from text."""
        found = {
            column.name: storage_type(column.type).sql("postgres") for column in self.table.columns
        }
        found[HASH_COLUMN] = "uuid"
        return found

    def _row_select(self, where: str | None = None) -> tuple[str, list[object]]:
        """Staged rows as the target's rows, lineage included (their load time is the
        server's transaction time, as every other statement of the run has it)."""
        if self._now is None:
            row = self.wh.first_row("SELECT now()")
            assert row is not None
            self._now = row[0]
        q = self.wh.staging.quote
        picked = [
            *(self._wire(n) for n in self.columns),
            f"CAST(? AS VARCHAR) AS {q(RUN_COLUMN)}",
            f"s.{q(SOURCE_COLUMN)}",
            f"s.{q(ROW_COLUMN)}",
            self._wire(HASH_COLUMN),
            f"CAST(? AS TIMESTAMPTZ) AS {q(LOADED_AT_COLUMN)}",
        ]
        filtered = f" WHERE {where}" if where else ""
        return (
            f"SELECT {', '.join(picked)} FROM temp.{STAGE} s{filtered}",
            [self.run_id, self._now],
        )

    def _fetch_to_staging(
        self, name: str, statement: sql.Composable, types: dict[str, str], params=()
    ) -> None:
        """A server query's rows (read as text, cast exactly) into a staging table."""
        found = self.wh.rows(statement, params)
        names = list(types)
        frame = pl.DataFrame(
            [[None if v is None else str(v) for v in row] for row in found],
            schema=dict.fromkeys(names, pl.String),
            orient="row",
        )
        staging = self.wh.staging
        staging.execute(f"DROP TABLE IF EXISTS temp.{staging.quote(name)}")
        casts = ", ".join(
            f"CAST({staging.quote(n)} AS {t}) AS {staging.quote(n)}" for n, t in types.items()
        )
        staging.stage(name, frame.to_arrow(), f"SELECT {casts} FROM batch")

    def _duckdb_type(self, name: str) -> str:
        return sql_type(self.table.column(name).type).sql("duckdb")

    def _as_text(self, alias: str, names: Sequence[str]) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.SQL("CAST({} AS text) AS {}").format(_id(alias, n), _id(n)) for n in names
        )

    # ------------------------------------------------------------ in-batch resolution

    def resolve_duplicate_keys(self) -> None:
        self.local.resolve_duplicate_keys()

    def resolve_unique_columns(self, checks: Sequence[Check]) -> None:
        self.local.resolve_unique_columns(checks, held_elsewhere=self._held_under_another_key)

    def _held_under_another_key(self, check: Check) -> str:
        """The staged values of a unique column go to the server with their keys; those
        the target holds under another key come back (staging table dw_taken)."""
        q = self.wh.staging.quote
        cols = list(check.columns)
        held = " AND ".join(f"s.{q(c)} IS NOT NULL" for c in cols)
        wired = ", ".join(self._wire(n) for n in dict.fromkeys([*cols, *self.key]))
        self._ship("dw_unique", f"SELECT DISTINCT {wired} FROM temp.{STAGE} s WHERE {held}")
        other_key = (
            sql.SQL(" OR ").join(
                sql.SQL("o.{} IS DISTINCT FROM u.{}").format(_id(k), _id(k)) for k in self.key
            )
            if self.key
            else sql.SQL("TRUE")
        )
        taken = sql.SQL("SELECT DISTINCT {} FROM {} u JOIN {} o ON {} WHERE {}").format(
            self._as_text("u", cols),
            _id("dw_unique"),
            self.t,
            sql.SQL(" AND ").join(sql.SQL("o.{} = u.{}").format(_id(c), _id(c)) for c in cols),
            other_key,
        )
        self._fetch_to_staging("dw_taken", taken, {c: self._duckdb_type(c) for c in cols})
        same = " AND ".join(f"o.{q(c)} = s.{q(c)}" for c in cols)
        return f"EXISTS (SELECT 1 FROM temp.dw_taken o WHERE {same})"

    def resolve_foreign_keys(self, checks: Sequence[Check], parent_exists) -> None:
        self.local.resolve_foreign_keys(checks, parent_exists, orphaned=self._without_parent)

    def _without_parent(self, check: Check) -> str:
        """The batch's distinct values go to the server; the ones no row of the parent
        table has come back (staging table dw_orphans)."""
        q = self.wh.staging.quote
        cols = list(check.columns)
        refs = list(check.referenced_columns or ())
        present = " AND ".join(f"s.{q(c)} IS NOT NULL" for c in cols)
        wired = ", ".join(self._wire(c) for c in cols)
        self._ship("dw_fk", f"SELECT DISTINCT {wired} FROM temp.{STAGE} s WHERE {present}")
        orphans = sql.SQL(
            "SELECT {} FROM {} f WHERE NOT EXISTS (SELECT 1 FROM {} p WHERE {})"
        ).format(
            self._as_text("f", cols),
            _id("dw_fk"),
            _id(check.referenced_table or ""),
            sql.SQL(" AND ").join(
                sql.SQL("p.{} = f.{}").format(_id(r), _id(c))
                for c, r in zip(cols, refs, strict=True)
            ),
        )
        self._fetch_to_staging("dw_orphans", orphans, {c: self._duckdb_type(c) for c in cols})
        match = " AND ".join(f"o.{q(c)} = s.{q(c)}" for c in cols)
        return f"EXISTS (SELECT 1 FROM temp.dw_orphans o WHERE {match})"

    def resolve_changed_events(self) -> None:
        if self.mode != "append" or not self.key:
            return
        self._classify()
        if self.states.get("changed"):
            self.local._reject_changed_events()
            self._count_states()

    # ------------------------------------------------------------ comparison

    def _target_rows(self) -> int:
        row = self.wh.first_row(sql.SQL("SELECT count(*) FROM {}").format(self.t))
        return int(row[0]) if row else 0

    def _stage_rows(self) -> int:
        row = self.wh.staging.first_row(f"SELECT count(*) FROM temp.{STAGE}")
        return int(row[0]) if row else 0

    def _classify(self) -> None:
        """stage_class (in staging): the staged keys that are new or changed. The server
        gets only keys and hashes; the answer is as small as the change."""
        if self.classified:
            return
        self.classified = True
        keys = list(self.key)
        partition = [self.partition] if self.partition and self.partition not in keys else []
        wired = ", ".join(self._wire(n) for n in [*keys, *partition, HASH_COLUMN])
        self._ship(KEYS, f"SELECT {wired} FROM temp.{STAGE} s")
        stored = sql.SQL("t.{}").format(_id(HASH_COLUMN))
        if self.recheck:
            stored = self._recomputed_hashes()
        changed = sql.SQL(
            "SELECT {}, CASE WHEN t.{} IS NULL THEN 'new' ELSE 'changed' END AS state "
            "FROM {} k LEFT JOIN {} t ON {} WHERE t.{} IS NULL OR {} IS DISTINCT FROM {}"
        ).format(
            self._as_text("k", keys),
            _id(keys[0]),
            _id(KEYS),
            self.t,
            self._match("t", "k", keys, cast_right=True),
            _id(keys[0]),
            stored,
            self._typed("k", HASH_COLUMN),
        )
        types = {k: self._duckdb_type(k) for k in keys}
        self._fetch_to_staging(CLASS, changed, {**types, "state": "VARCHAR"})
        self._count_states()

    def _recomputed_hashes(self) -> sql.Composable:
        """--recheck: each stored row's hash computed again from its values (in staging,
        by the same code that hashed the batch), so a row edited outside dataward reads
        as changed and is repaired."""
        names = [*self.columns]
        found = self.wh.rows(
            sql.SQL("SELECT {} FROM {}").format(self._as_text(self.target, names), self.t)
        )
        staging = self.wh.staging
        frame = pl.DataFrame(
            [[None if v is None else str(v) for v in row] for row in found],
            schema=dict.fromkeys(names, pl.String),
            orient="row",
        )
        casts = ", ".join(
            f"CAST({staging.quote(n)} AS {self._duckdb_type(n)}) AS {staging.quote(n)}"
            for n in names
        )
        staging.execute("DROP TABLE IF EXISTS temp.dw_stored")
        staging.stage(
            "dw_stored",
            frame.to_arrow(),
            f"SELECT *, {duckdb_row_hash(self.table.columns, 'typed')}::VARCHAR AS h "
            f"FROM (SELECT {casts} FROM batch) typed",
        )
        q = staging.quote
        self._ship(
            "dw_stored", f"SELECT {', '.join(q(k) for k in self.key)}, h FROM temp.dw_stored"
        )
        return sql.SQL("(SELECT CAST(r.h AS uuid) FROM {} r WHERE {})").format(
            _id("dw_stored"), self._match("t", "r", list(self.key), cast_right=True)
        )

    def _count_states(self) -> None:
        staging = self.wh.staging
        key_match = " AND ".join(f"c.{staging.quote(k)} = s.{staging.quote(k)}" for k in self.key)
        found = dict(
            staging.rows(
                f"SELECT c.state, count(*) FROM temp.{STAGE} s JOIN temp.{CLASS} c ON "
                f"{key_match} GROUP BY 1"
            )
        )
        new, changed = int(found.get("new", 0)), int(found.get("changed", 0))
        self.states = {"new": new, "changed": changed, "same": self._stage_rows() - new - changed}

    def _ship_rows(self, only_classified: bool, where: str | None = None) -> int:
        """The staged rows in full (those the comparison returned, or those `where`
        picks, over alias `s`) into the server's `dw_rows`, shaped as the target."""
        q = self.wh.staging.quote
        conditions = [where] if where else []
        if only_classified:
            key_match = " AND ".join(f"c.{q(k)} = s.{q(k)}" for k in self.key)
            conditions.append(f"EXISTS (SELECT 1 FROM temp.{CLASS} c WHERE {key_match})")
        select, params = self._row_select(" AND ".join(conditions) or None)
        return self._ship(ROWS, select, params)

    def _copy_into_target(self) -> int:
        """An empty target takes the staged rows straight from COPY: every row is new,
        and the server checks the key and the constraints as they arrive."""
        select, params = self._row_select()
        return self.wh.copy_in(self.target, self.wh.staging.reader(select, params))

    # ------------------------------------------------------------ modes

    def apply(self) -> None:
        if self.mode in ("merge", "append") and not self.key:
            raise ContractError(
                f"mode {self.mode} needs a primary key: mark the key columns of "
                f"{self.table.name!r} with primaryKey: true"
            )
        empty = self._target_rows() == 0
        if empty:
            self.counts.inserted += self._copy_into_target()
            return
        if self.mode == "replace":
            self._replace()
        elif self.mode == "overwrite-partition":
            self._overwrite_partitions()
        else:
            self._merge_or_append()

    def _insert_rows(self, conflict: sql.Composable | None, into: str | None = None) -> int:
        everything = [*self.columns, *LINEAGE]
        statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s").format(
            _id(into or self.target), _list(everything), _list(everything, "s"), _id(ROWS)
        )
        if conflict is not None:
            statement = sql.SQL("{} {}").format(statement, conflict)
        return max(self.wh.execute(statement), 0)

    def _before_json(self, alias: str) -> tuple[sql.SQL, sql.SQL]:
        key = self.wh.json_of_columns(self.key or (HASH_COLUMN,), alias)
        state = self.wh.json_of_columns([*self.columns, *LINEAGE], alias)
        return sql.SQL(key), sql.SQL(state)

    def _merge_or_append(self) -> None:
        self._classify()
        if self.mode == "append" and self.states.get("changed"):
            self.local._reject_changed_events()  # apply() alone never updates an event
            self._count_states()
        new, changed = self.states.get("new", 0), self.states.get("changed", 0)
        self.counts.unchanged += self.states.get("same", 0)
        if not new and not changed:
            return
        self._ship_rows(only_classified=True)
        if self.mode == "append":
            inserted = self._insert_rows(
                sql.SQL("ON CONFLICT ({}) DO NOTHING").format(_list(self.key))
            )
            self.counts.inserted += inserted
            return
        inserted, updated = self._upsert()
        self.counts.inserted += inserted
        self.counts.updated += updated

    def _upsert(self, prelude: sql.Composable | None = None) -> tuple[int, int]:
        """One statement: the before-states of the rows that change, and the upsert. A row
        is rewritten only when its hash differs; on --recheck a stored hash may be stale
        (the row edited outside dataward), so every shipped row, found changed by its
        recomputed hash, is rewritten."""
        key_json, state_json = self._before_json("t")
        differs = (
            sql.SQL("TRUE")
            if self.recheck
            else sql.SQL("t.{h} IS DISTINCT FROM {n}").format(
                h=_id(HASH_COLUMN), n=self._typed("s", HASH_COLUMN)
            )
        )
        rewritten = (
            sql.SQL("TRUE")
            if self.recheck
            else sql.SQL("{t}.{h} IS DISTINCT FROM EXCLUDED.{h}").format(
                t=self.t, h=_id(HASH_COLUMN)
            )
        )
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(_id(n), _id(n))
            for n in [*self.columns, *LINEAGE]
            if n not in self.key
        )
        statement = sql.SQL(
            "WITH before AS (SELECT {key_json} AS row_key, {state_json} AS state FROM {t} t "
            "JOIN {rows} s ON {match} WHERE {differs}), "
            "logged AS (INSERT INTO {changes} SELECT {run}, {seq}, {target}, 'update', "
            "row_key, state FROM before RETURNING 1), "
            "written AS (INSERT INTO {t} ({cols}) SELECT {values} FROM {rows} s "
            "ON CONFLICT ({key}) DO UPDATE SET {assignments} WHERE {rewritten} "
            "RETURNING 1) "
            "SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM logged)"
        ).format(
            key_json=key_json,
            state_json=state_json,
            t=self.t,
            rows=_id(ROWS),
            match=self._match("t", "s", list(self.key), cast_right=True),
            differs=differs,
            rewritten=rewritten,
            changes=_id(LEDGER_SCHEMA, "changes"),
            run=sql.Literal(self.run_id),
            seq=sql.Literal(self.run_seq),
            target=sql.Literal(self.target),
            cols=_list([*self.columns, *LINEAGE]),
            values=_list([*self.columns, *LINEAGE], "s"),
            key=_list(self.key),
            assignments=assignments,
        )
        row = self.wh.first_row(statement)
        assert row is not None
        # The rows written are the inserted plus the updated; the updated are exactly those
        # whose before-state was recorded (the same condition, in the same snapshot).
        # Telling them apart by xmax would not work through a partitioned table.
        written, updated = (int(v) for v in row)
        return written - updated, updated

    def _record_before(self, op: str, table: sql.Composable, where: sql.Composable) -> int:
        """The before-state of `table`'s rows (alias `t`) matching `where`, into the
        changelog, for a table that is about to be replaced rather than changed in place."""
        key_json, state_json = self._before_json("t")
        return max(
            self.wh.execute(
                sql.SQL("INSERT INTO {} SELECT {}, {}, {}, {}, {}, {} FROM {} t WHERE {}").format(
                    _id(LEDGER_SCHEMA, "changes"),
                    sql.Literal(self.run_id),
                    sql.Literal(self.run_seq),
                    sql.Literal(self.target),
                    sql.Literal(op),
                    key_json,
                    state_json,
                    table,
                    where,
                )
            ),
            0,
        )

    def _delete_returning(self, where: sql.Composable, op: str = "delete") -> int:
        """DELETE rows of the target, their before-states recorded by the same statement."""
        key_json, state_json = self._before_json("gone")
        statement = sql.SQL(
            "WITH gone AS (DELETE FROM {t} t WHERE {where} RETURNING t.*) "
            "INSERT INTO {changes} SELECT {run}, {seq}, {target}, {op}, {key_json}, {state_json} "
            "FROM gone"
        ).format(
            t=self.t,
            where=where,
            changes=_id(LEDGER_SCHEMA, "changes"),
            run=sql.Literal(self.run_id),
            seq=sql.Literal(self.run_seq),
            target=sql.Literal(self.target),
            op=sql.Literal(op),
            key_json=key_json,
            state_json=state_json,
        )
        return max(self.wh.execute(statement), 0)

    def _in_batch_partitions(self, alias: str) -> sql.Composed:
        part = _id(self.partition or "")
        return sql.SQL(
            "EXISTS (SELECT 1 FROM (SELECT DISTINCT {p} AS p FROM {keys}) b WHERE "
            "CAST(b.p AS {kind}) IS NOT DISTINCT FROM {a}.{p})"
        ).format(
            p=part,
            keys=_id(KEYS),
            kind=self._pg_type(self.partition or ""),
            a=sql.Identifier(alias),
        )

    def _overwrite_partitions(self) -> None:
        if not self.key:
            self._rewrite_changed_partitions()
            return
        self._classify()
        children = self._swappable_partitions()
        if children is not None:
            self._swap_partitions(children)
            return
        gone = sql.SQL("{} AND NOT EXISTS (SELECT 1 FROM {} k WHERE {})").format(
            self._in_batch_partitions("t"),
            _id(KEYS),
            self._match("t", "k", list(self.key), cast_right=True),
        )
        self.counts.deleted += self._delete_returning(gone)
        self.counts.unchanged += self.states.get("same", 0)
        if self.states.get("new") or self.states.get("changed"):
            self._ship_rows(only_classified=True)
            inserted, updated = self._upsert()
            self.counts.inserted += inserted
            self.counts.updated += updated

    # ------------------------------------------------------------ native partitions

    def _swappable_partitions(self) -> dict[str | None, str | None] | None:
        """When the target is natively partitioned (PARTITION BY LIST on the partition
        column) and each of the batch's values that already has rows lives in a
        partition of that one value: {value as text: that partition, or None when the
        value has no rows yet}. None when the batch cannot be loaded by swapping."""
        part = self.partition or ""
        found = self.wh.first_row(
            "SELECT p.partstrat, p.partnatts, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = to_regclass(?)",
            [self.wh.quote(self.target)],
        )
        if not found or found[0] != "l" or found[1] != 1 or found[2] != part:
            return None
        q = self.wh.staging.quote
        values = [
            v
            for (v,) in self.wh.staging.rows(
                f"SELECT DISTINCT CAST({q(part)} AS VARCHAR) FROM temp.{STAGE}"
            )
        ]
        children: dict[str, str | None] = {}
        for value in values:
            holders = self.wh.rows(
                sql.SQL(
                    "SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid), "
                    "pg_get_partition_constraintdef(c.oid) FROM (SELECT DISTINCT t.tableoid AS "
                    "holder FROM {t} t WHERE t.{p} IS NOT DISTINCT FROM CAST({v} AS {kind})) h "
                    "JOIN pg_class c ON c.oid = h.holder"
                ).format(t=self.t, p=_id(part), v=sql.Literal(value), kind=self._pg_type(part))
            )
            if not holders:
                children[value] = None
                continue
            if len(holders) != 1:
                return None  # rows of one value in several partitions: not a list of values
            name, kind, bound, constraint = holders[0]
            # A partition of exactly this value: not DEFAULT, not a list of several values,
            # not partitioned further (its constraint reads `col = value`).
            if kind != "r" or bound == "DEFAULT" or "ANY (ARRAY" in (constraint or ""):
                return None
            children[value] = str(name)
        return children

    def _swap_partitions(self, children: dict[str | None, str | None]) -> None:
        """Each of the batch's partitions is rebuilt beside the one it replaces (its
        unchanged rows kept with their lineage, the new and changed rows added) and
        swapped in by DETACH and ATTACH; the replaced partition is kept, renamed."""
        new, changed = self.states.get("new", 0), self.states.get("changed", 0)
        self._ship_rows(only_classified=True)
        in_batch = sql.SQL("EXISTS (SELECT 1 FROM {} k WHERE {})").format(
            _id(KEYS), self._match("t", "k", list(self.key), cast_right=True)
        )
        rewritten = sql.SQL("EXISTS (SELECT 1 FROM {} r WHERE {})").format(
            _id(ROWS), self._match("t", "r", list(self.key), cast_right=True)
        )
        for value, child in children.items():
            if child is None:
                continue  # no rows of this value yet: the upsert below adds them
            for op, where in (
                ("delete", sql.SQL("NOT {}").format(in_batch)),
                ("update", rewritten),
            ):
                found = self._record_before(op, _id(child), where)
                if op == "delete":
                    self.counts.deleted += max(found, 0)
            built = f"{child}__dw_new"[:63]
            version = f"{child}__dw_v{self.run_seq}"[:63]
            everything = [*self.columns, *LINEAGE]
            self.wh.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_id(built)))
            self.wh.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                ).format(_id(built), self.t)
            )
            self.wh.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} t WHERE {} AND NOT {}").format(
                    _id(built),
                    _list(everything),
                    _list(everything, "t"),
                    _id(child),
                    in_batch,
                    rewritten,
                )
            )
            self.wh.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE {}").format(
                    _id(built),
                    _list(everything),
                    _list(everything, "s"),
                    _id(ROWS),
                    self._of_value(value),
                )
            )
            old_indexes = self._partition_indexes(child)
            self.wh.execute(
                sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(self.t, _id(child))
            )
            self.wh.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(_id(child), _id(version)))
            self.wh.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(_id(built), _id(child)))
            self.wh.execute(
                sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                    self.t, _id(child), sql.Literal(value)
                )
            )
            # The indexes ATTACH made are named after the table's build name: they take
            # the replaced partition's names (which move to its kept version).
            for parent_index, built_name in self._partition_indexes(child).items():
                old_name = old_indexes.get(parent_index)
                if old_name is None:
                    continue
                self.wh.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                        _id(old_name), _id(f"{old_name}__dw_v{self.run_seq}"[:63])
                    )
                )
                self.wh.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(_id(built_name), _id(old_name))
                )
            self._drop_old_versions(prefix=f"{child}__dw_v")
        # Rows of values that had none yet go in through the parent.
        fresh = [v for v, child in children.items() if child is None]
        if fresh:
            self.wh.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE {}").format(
                    self.t,
                    _list([*self.columns, *LINEAGE]),
                    _list([*self.columns, *LINEAGE], "s"),
                    _id(ROWS),
                    sql.SQL(" OR ").join(self._of_value(v) for v in fresh),
                )
            )
        self.counts.inserted += new
        self.counts.updated += changed
        self.counts.unchanged += self.states.get("same", 0)

    def _of_value(self, value: str | None) -> sql.Composed:
        """A shipped row (alias `s`) of partition `value` (its staging text form)."""
        part = self.partition or ""
        return sql.SQL("s.{} IS NOT DISTINCT FROM CAST({} AS {})").format(
            _id(part), sql.Literal(value), self._pg_type(part)
        )

    def _partition_indexes(self, table: str) -> dict[int, str]:
        """{the partitioned index it belongs to: index name} for a partition's indexes."""
        return {
            int(parent): str(name)
            for parent, name in self.wh.rows(
                "SELECT i.inhparent::bigint, c.relname FROM pg_index x JOIN pg_class c ON "
                "c.oid = x.indexrelid JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
                "WHERE x.indrelid = to_regclass(?)",
                [self.wh.quote(table)],
            )
        }

    def _rewrite_changed_partitions(self) -> None:
        """Without a key a partition is compared as a multiset of row hashes (on the
        server, from the shipped hashes): the same one is left alone; a different one is
        deleted and loaded again."""
        staging = self.wh.staging
        q = staging.quote
        part = self.partition or ""
        wired = ", ".join(self._wire(n) for n in [part, HASH_COLUMN])
        self._ship(KEYS, f"SELECT {wired} FROM temp.{STAGE} s")
        changed = sql.SQL(
            "SELECT CAST(b.p AS text) AS p FROM (SELECT {p} AS p, {fb} AS f FROM {keys} "
            "GROUP BY 1) b LEFT JOIN (SELECT {p} AS p, {ft} AS f FROM {t} GROUP BY 1) t "
            "ON CAST(b.p AS {kind}) IS NOT DISTINCT FROM t.p WHERE t.f IS DISTINCT FROM b.f"
        ).format(
            p=_id(part),
            fb=_hash_fingerprint(),
            ft=_hash_fingerprint(),
            keys=_id(KEYS),
            t=self.t,
            kind=self._pg_type(part),
        )
        self._fetch_to_staging("changed_parts", changed, {"p": self._duckdb_type(part)})
        in_changed = (
            "EXISTS (SELECT 1 FROM temp.changed_parts c WHERE c.p IS NOT DISTINCT FROM "
            f"s.{q(part)})"
        )
        to_load = staging.first_row(f"SELECT count(*) FROM temp.{STAGE} s WHERE {in_changed}")
        self.counts.unchanged += self._stage_rows() - int(to_load[0] if to_load else 0)
        parts = [r[0] for r in staging.rows("SELECT CAST(p AS VARCHAR) FROM temp.changed_parts")]
        if not parts:
            return
        # A partition whose value is null is named by a null in the array.
        target_in = sql.SQL(
            "EXISTS (SELECT 1 FROM unnest(CAST({} AS text[])) c(p) WHERE "
            "CAST(c.p AS {}) IS NOT DISTINCT FROM t.{})"
        ).format(sql.Literal(parts), self._pg_type(part), _id(part))
        self.counts.deleted += self._delete_returning(target_in)
        self._ship_rows(only_classified=False, where=in_changed)
        self.counts.inserted += self._insert_rows(conflict=None)

    def _replace(self) -> None:
        """The table becomes exactly the batch. Unchanged rows keep their lineage; when
        nothing differs nothing is written. Otherwise the new version is built beside the
        old one and swapped in by rename; the old one is kept as a previous version."""
        if self.key:
            self._classify()
            gone = sql.SQL("NOT EXISTS (SELECT 1 FROM {} k WHERE {})").format(
                _id(KEYS), self._match("t", "k", list(self.key), cast_right=True)
            )
        else:
            # Without a key every row is its own identity: hashes compared as a multiset.
            self._ship(KEYS, f"SELECT {self._wire(HASH_COLUMN)} FROM temp.{STAGE} s")
            same = self.wh.first_row(
                sql.SQL("SELECT ({}) IS NOT DISTINCT FROM ({})").format(
                    _hash_bag(_id(KEYS)), _hash_bag(self.t)
                )
            )
            unchanged = bool(same and same[0])
            n = self._stage_rows()
            self.states = {"same": n} if unchanged else {"new": n}
            gone = sql.SQL("FALSE" if unchanged else "TRUE")
        gone_rows = self.wh.first_row(
            sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(self.t, gone)
        )
        n_gone = int(gone_rows[0]) if gone_rows else 0
        new, changed = self.states.get("new", 0), self.states.get("changed", 0)
        if not new and not changed and not n_gone:
            self.counts.unchanged += self.states.get("same", 0)
            return
        self._ship_rows(only_classified=bool(self.key))
        # A target row whose key came back as new or changed is a changed one.
        changed_where = (
            sql.SQL("EXISTS (SELECT 1 FROM {} r WHERE {})").format(
                _id(ROWS), self._match("t", "r", list(self.key), cast_right=True)
            )
            if self.key
            else sql.SQL("FALSE")
        )
        for op, where in (("delete", gone), ("update", changed_where)):
            self._record_before(op, self.t, where)
        version = f"{self.target}__dw_v{self.run_seq}"
        new_name = f"{self.target}__dw_new"
        self.wh.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_id(new_name)))
        self.wh.execute(target_ddl(self.table, new_name, "postgres", self.checks))
        if self.key:
            self.wh.execute(
                sql.SQL("INSERT INTO {} SELECT t.* FROM {} t WHERE NOT ({}) AND NOT ({})").format(
                    _id(new_name), self.t, gone, changed_where
                )
            )
        written = self._insert_rows(conflict=None, into=new_name)
        self.counts.updated += changed
        self.counts.inserted += written - changed
        self.counts.unchanged += self.states.get("same", 0)
        self.counts.deleted += n_gone
        self._swap(new_name, version)
        self._drop_old_versions()

    def _swap(self, new_name: str, version: str) -> None:
        """Rename the old version aside and the new one in; their primary-key indexes
        (relations of the schema, so their names must differ) follow the tables."""
        old_key = self._key_constraint(self.target)
        new_key = self._key_constraint(new_name)
        self.wh.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(self.t, _id(version)))
        if old_key:
            self.wh.execute(
                sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                    _id(version), _id(old_key), _id(f"{version}_pkey"[:63])
                )
            )
        self.wh.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(_id(new_name), self.t))
        if new_key:
            self.wh.execute(
                sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                    self.t, _id(new_key), _id(f"{self.target}_pkey"[:63])
                )
            )

    def _key_constraint(self, table: str) -> str | None:
        row = self.wh.first_row(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype = 'p'",
            [self.wh.quote(table)],
        )
        return str(row[0]) if row else None

    def _drop_old_versions(self, prefix: str | None = None) -> None:
        prefix = prefix or f"{self.target}__dw_v"
        versions = [n for n in self.wh.tables_starting_with(prefix) if n[len(prefix) :].isdigit()]
        versions.sort(key=lambda n: int(n[len(prefix) :]))
        for name in versions[: max(0, len(versions) - self.keep_versions)]:
            self.wh.execute(sql.SQL("DROP TABLE {}").format(_id(name)))


def _hash_fingerprint() -> sql.Composed:
    """A multiset of row hashes as one value (sorted, so order does not matter)."""
    h = _id(HASH_COLUMN)
    return sql.SQL("md5(string_agg(CAST({h} AS text), ',' ORDER BY CAST({h} AS text)))").format(h=h)


def _hash_bag(relation: sql.Composable) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {}").format(_hash_fingerprint(), relation)
