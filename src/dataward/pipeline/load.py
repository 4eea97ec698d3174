"""LOAD: set-based SQL from the staged batch into the target, inside the run's transaction.

The staged batch is the temporary table `stage`: the contract's columns (typed), where
each row came from, and its `_dw_row_hash`. Rows found unloadable here (conflicting
duplicate keys, foreign keys that point nowhere, an append that would change an event)
move to the temporary table `stage_rejects` with their reasons. Every statement reports
how many rows it touched; the counts feed the row-accounting identity VERIFY checks.

Modes (docs/pipelines.md):
  merge                 upsert on the primary key; a row whose hash is unchanged is not written
  append                insert absent keys; an identical re-delivery is a no-op; a changed
                        row with a known key is rejected (events are never updated)
  overwrite-partition   the batch's partitions become exactly the batch
  replace               the table becomes exactly the batch: built beside the old one and
                        swapped in by rename; the old version is kept
The before-state of every row updated or deleted goes to dataward.changes first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dataward.checks import Check, CheckKind, Scope
from dataward.contract.model import Severity, Table
from dataward.pipeline.ledger import Counts
from dataward.pipeline.row_hash import HASH_COLUMN, duckdb_row_hash
from dataward.pipeline.schema import LINEAGE, target_ddl
from dataward.sources import LINE_COLUMN, ROW_COLUMN, SOURCE_COLUMN
from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

STAGE = "stage"
STAGE_REJECTS = "stage_rejects"


@dataclass
class LoadPlan:
    wh: Warehouse
    table: Table
    target: str  # the table's name in the warehouse
    run_id: str
    run_seq: int
    mode: str
    partition: str | None
    keep_versions: int = 2
    checks: list[Check] = field(default_factory=list)
    recheck: bool = False
    counts: Counts = field(default_factory=Counts)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ helpers

    @property
    def q(self):
        return self.wh.quote

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns]

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.primary_key

    def _cols(self, alias: str | None = None, names: Sequence[str] | None = None) -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{self.q(n)}" for n in (names or self.columns))

    def _key_match(self, left: str, right: str, names: Sequence[str] | None = None) -> str:
        return " AND ".join(f"{left}.{self.q(k)} = {right}.{self.q(k)}" for k in names or self.key)

    def _key_json(self, alias: str) -> str:
        return self.wh.json_of_columns(self.key or (HASH_COLUMN,), alias)

    @property
    def t(self) -> str:
        return self.q(self.target)

    def _reject(self, where_sql: str, reasons_sql: str, source: str = "s") -> int:
        """Move staged rows matching `where_sql` (over alias `s`) to stage_rejects."""
        moved = self.wh.execute(
            f"INSERT INTO temp.{STAGE_REJECTS} SELECT {source}.{self.q(SOURCE_COLUMN)}, "
            f"{source}.{self.q(ROW_COLUMN)}, {source}.{self.q(LINE_COLUMN)}, 'load', "
            f"{self.wh.json_of_columns(self.columns, source)}, {reasons_sql} "
            f"FROM temp.{STAGE} {source} WHERE {where_sql}"
        )
        if moved > 0:
            self.wh.execute(f"DELETE FROM temp.{STAGE} s WHERE {where_sql}")
        self.counts.rejected += max(moved, 0)
        return max(moved, 0)

    def _reason(self, check: str, column: str, value_sql: str, message_sql: str) -> str:
        return (
            f"json_array(json_object('check', {_lit(check)}, 'column', {_lit(column)}, "
            f"'value', ({value_sql})::VARCHAR, 'message', {message_sql}))"
        )

    # ------------------------------------------------------------ in-batch resolution

    def resolve_duplicate_keys(self) -> None:
        """Identical rows under one key: keep the first, count the rest. Different rows
        under one key: reject them all (which one is right cannot be known)."""
        if not self.key:
            return
        keys = self._cols(names=self.key)
        # Repeated keys are rare: find them with a bare count first, then describe only them
        # (a DISTINCT and an ordered string_agg over every key costs seconds per million).
        self.wh.execute(
            f"CREATE OR REPLACE TEMP TABLE dup_keys AS SELECT {self._cols('s', self.key)}, "
            f"count(*) AS n, count(DISTINCT s.{self.q(HASH_COLUMN)}) AS variants, "
            f"string_agg(s.{self.q(ROW_COLUMN)}::VARCHAR, ', ' ORDER BY s.{self.q(ROW_COLUMN)}) "
            f"AS source_rows FROM temp.{STAGE} s SEMI JOIN (SELECT {keys} FROM temp.{STAGE} "
            f"GROUP BY {keys} HAVING count(*) > 1) r ON {self._key_match('r', 's')} "
            f"GROUP BY {self._cols('s', self.key)}"
        )
        found = self.wh.first_row("SELECT count(*) FROM temp.dup_keys")
        if not found or not found[0]:
            return
        key_name = ",".join(self.key)
        shown = " || ',' || ".join(f"s.{self.q(k)}::VARCHAR" for k in self.key)
        reasons = self._reason(
            f"{self.table.name}.{key_name}.primary_key",
            key_name,
            shown,
            "'this key occurs ' || d.n || ' times in the batch with different values "
            "(source rows ' || d.source_rows || '); none is loaded'",
        )
        conflicting = (
            f"EXISTS (SELECT 1 FROM temp.dup_keys d WHERE d.variants > 1 AND "
            f"{self._key_match('d', 's')})"
        )
        # The reason reads d.n, so the insert joins dup_keys itself.
        moved = self.wh.execute(
            f"INSERT INTO temp.{STAGE_REJECTS} SELECT s.{self.q(SOURCE_COLUMN)}, "
            f"s.{self.q(ROW_COLUMN)}, s.{self.q(LINE_COLUMN)}, 'load', "
            f"{self.wh.json_of_columns(self.columns, 's')}, {reasons} "
            f"FROM temp.{STAGE} s JOIN temp.dup_keys d ON {self._key_match('d', 's')} "
            "WHERE d.variants > 1"
        )
        if moved > 0:
            self.wh.execute(f"DELETE FROM temp.{STAGE} s WHERE {conflicting}")
            self.counts.rejected += moved
        dropped = self.wh.execute(
            f"DELETE FROM temp.{STAGE} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
            f"row_number() OVER (PARTITION BY {keys} ORDER BY {self.q(SOURCE_COLUMN)}, "
            f"{self.q(ROW_COLUMN)}) AS copy FROM temp.{STAGE} s WHERE EXISTS (SELECT 1 FROM "
            f"temp.dup_keys d WHERE d.variants = 1 AND {self._key_match('d', 's')})) "
            "WHERE copy > 1)"
        )
        self.counts.duplicates_dropped += max(dropped, 0)

    def resolve_unique_columns(
        self, checks: Sequence[Check], held_elsewhere: Callable[[Check], str] | None = None
    ) -> None:
        """A `unique` column other than the key: a value held by two staged rows, or by a
        row of the table under another key, rejects the staged rows. `held_elsewhere`
        gives, for a check, the condition (over staged alias `s`) that the table holds the
        value under another key, when the table is not reachable from here."""
        for check in checks:
            if check.kind is not CheckKind.UNIQUE or check.scope is not Scope.ROW:
                continue
            if check.severity is not Severity.ERROR:
                continue  # a warning-level uniqueness is measured by VERIFY, and loads
            if tuple(check.columns) == tuple(self.key):
                continue
            cols = check.columns
            present = " AND ".join(f"s.{self.q(c)} IS NOT NULL" for c in cols)
            same = " AND ".join(f"o.{self.q(c)} = s.{self.q(c)}" for c in cols)
            in_batch = f"EXISTS (SELECT 1 FROM temp.{STAGE} o WHERE {same} AND o.rowid <> s.rowid)"
            if held_elsewhere is not None:
                in_table = held_elsewhere(check)
            else:
                other_key = (
                    " OR ".join(f"o.{self.q(k)} IS DISTINCT FROM s.{self.q(k)}" for k in self.key)
                    if self.key
                    else "o.rowid <> s.rowid"
                )
                in_table = f"EXISTS (SELECT 1 FROM {self.t} o WHERE {same} AND ({other_key}))"
            shown = " || ',' || ".join(f"s.{self.q(c)}::VARCHAR" for c in cols)
            self._reject(
                f"{present} AND ({in_batch} OR {in_table})",
                self._reason(check.id, ",".join(cols), shown, _lit(check.message)),
            )

    def resolve_foreign_keys(
        self,
        checks: Sequence[Check],
        parent_exists: Callable[[str], bool],
        orphaned: Callable[[Check], str] | None = None,
    ) -> None:
        """Relationship checks against the parent tables as they are in the warehouse.
        `orphaned` gives, for a check, the condition (over staged alias `s`) that the
        parent has no row for the value, when the parent is not reachable from here."""
        for check in checks:
            if check.kind is not CheckKind.FOREIGN_KEY:
                continue
            parent = check.referenced_table or ""
            if not parent_exists(parent):
                message = (
                    f"{check.id}: the referenced table {parent!r} is not in the warehouse "
                    "yet; load it first (`dataward run` orders pipelines by their keys)"
                )
                if check.severity is Severity.ERROR:
                    from dataward.errors import ContractError

                    raise ContractError(message)
                self.warnings.append(message)
                continue
            present = " AND ".join(f"s.{self.q(c)} IS NOT NULL" for c in check.columns)
            if orphaned is not None:
                missing = orphaned(check)
            else:
                refs = check.referenced_columns or ()
                match = " AND ".join(
                    f"p.{self.q(r)} = s.{self.q(c)}"
                    for c, r in zip(check.columns, refs, strict=True)
                )
                missing = f"NOT EXISTS (SELECT 1 FROM {self.q(parent)} p WHERE {match})"
            orphan = f"{present} AND {missing}"
            shown = " || ',' || ".join(f"s.{self.q(c)}::VARCHAR" for c in check.columns)
            if check.severity is Severity.ERROR:
                self._reject(
                    orphan,
                    self._reason(check.id, ",".join(check.columns), shown, _lit(check.message)),
                )
            else:
                counted = self.wh.rows(
                    f"SELECT {shown} AS v, count(*) AS n FROM temp.{STAGE} s WHERE {orphan} "
                    "GROUP BY 1 ORDER BY n DESC, v"
                )
                if counted:
                    rows = sum(int(n) for _, n in counted)
                    shown_values = ", ".join(f"{v} ({n})" for v, n in counted[:10])
                    more = f", and {len(counted) - 10} more" if len(counted) > 10 else ""
                    self.warnings.append(
                        f"{check.id} (warning): {rows} row(s) point to no row of {parent}: "
                        f"{len(counted)} value(s), most frequent {shown_values}{more}; "
                        "loaded anyway"
                    )

    # ------------------------------------------------------------ modes

    def apply(self) -> None:
        staged = self.wh.first_row(f"SELECT count(*) FROM temp.{STAGE}")
        target_rows = self.wh.first_row(f"SELECT count(*) FROM {self.t}")
        assert staged is not None and target_rows is not None
        if self.mode in ("merge", "append") and not self.key:
            from dataward.errors import ContractError

            raise ContractError(
                f"mode {self.mode} needs a primary key: mark the key columns of "
                f"{self.table.name!r} with primaryKey: true"
            )
        if self.mode == "replace":
            self._replace(int(target_rows[0]))
        elif self.mode == "overwrite-partition":
            self._overwrite_partitions()
        elif int(target_rows[0]) == 0:
            # An empty table: every staged row is new, nothing to compare with.
            self.counts.inserted += self._insert(f"SELECT * FROM temp.{STAGE}")
        else:
            self._merge_or_append()

    def _classify(self) -> None:
        """stage_class: each staged key with whether it is new, changed or the same."""
        keys = self._cols("s", self.key)
        # A recheck recomputes each stored row's hash from its values, so a row edited
        # outside dataward (its stored hash now stale) compares as changed and is repaired.
        stored = (
            duckdb_row_hash(self.table.columns, "t") if self.recheck else f"t.{self.q(HASH_COLUMN)}"
        )
        self.wh.execute(
            f"CREATE OR REPLACE TEMP TABLE stage_class AS SELECT {keys}, "
            f"CASE WHEN t.{self.q(self.key[0])} IS NULL THEN 'new' "
            f"WHEN {stored} = s.{self.q(HASH_COLUMN)} THEN 'same' "
            f"ELSE 'changed' END AS state FROM temp.{STAGE} s LEFT JOIN {self.t} t "
            f"ON {self._key_match('t', 's')}"
        )

    def _state_counts(self) -> dict[str, int]:
        return {
            state: int(n)
            for state, n in self.wh.rows("SELECT state, count(*) FROM temp.stage_class GROUP BY 1")
        }

    def resolve_changed_events(self) -> None:
        """append: a staged event whose key is already loaded with other values is
        rejected (events are never updated). Called before the reject rate is judged, so
        these rejects count towards it like every other."""
        if self.mode != "append" or not self.key:
            return
        self._classify()
        if self._state_counts().get("changed"):
            self._reject_changed_events()

    def _reject_changed_events(self) -> None:
        key_name = ",".join(self.key)
        shown = " || ',' || ".join(f"s.{self.q(k)}::VARCHAR" for k in self.key)
        self._reject(
            f"EXISTS (SELECT 1 FROM temp.stage_class c WHERE c.state = 'changed' AND "
            f"{self._key_match('c', 's')})",
            self._reason(
                f"{self.table.name}.{key_name}.append",
                key_name,
                shown,
                "'an event with this key is already loaded with different values; "
                "append never updates an event'",
            ),
        )

    def _merge_or_append(self) -> None:
        self._classify()
        states = self._state_counts()
        if states.get("changed") and self.mode == "append":
            # Already done when the run called resolve_changed_events; kept so that
            # apply() alone never updates an event.
            self._reject_changed_events()
            states["changed"] = 0
        self._write_classified(states)

    def _write_classified(self, states: dict[str, int]) -> None:
        """Write the new and the changed keys; the before-state of a changed row is
        recorded first. A changed row is replaced by its new version (delete, then insert
        with the new rows): DuckDB updates in place vector by vector, and 50,000 changed
        rows scattered over 5M took 1.5 s to UPDATE against 0.5 s this way."""
        changed = states.get("changed", 0)
        if changed:
            is_changed = (
                f"EXISTS (SELECT 1 FROM temp.stage_class c WHERE c.state = 'changed' AND "
                f"{self._key_match('c', 't')})"
            )
            self._record_before("update", is_changed)
            # VERIFY's row count fails the run if this deletes anything but those rows.
            self.wh.execute(f"DELETE FROM {self.t} t WHERE {is_changed}")
        if changed or states.get("new"):
            written = self._insert(
                f"SELECT s.* FROM temp.{STAGE} s JOIN temp.stage_class c ON "
                f"{self._key_match('c', 's')} WHERE c.state IN ('new', 'changed')"
            )
            self.counts.updated += changed
            self.counts.inserted += written - changed
        self.counts.unchanged += states.get("same", 0)

    def _overwrite_partitions(self) -> None:
        part = self.q(self.partition or "")
        in_batch = (
            f"EXISTS (SELECT 1 FROM (SELECT DISTINCT {part} AS p FROM temp.{STAGE}) b "
            f"WHERE b.p IS NOT DISTINCT FROM t.{part})"
        )
        if not self.key:
            self._rewrite_changed_partitions(part)
            return
        self._classify()
        states = self._state_counts()
        # Rows of the batch's partitions that the batch no longer holds.
        gone = (
            f"{in_batch} AND NOT EXISTS (SELECT 1 FROM temp.{STAGE} s WHERE "
            f"{self._key_match('s', 't')})"
        )
        gone_rows = self.wh.first_row(f"SELECT count(*) FROM {self.t} t WHERE {gone}")
        if gone_rows and gone_rows[0]:
            self._record_before("delete", gone)
            self.counts.deleted += max(self.wh.execute(f"DELETE FROM {self.t} t WHERE {gone}"), 0)
        self._write_classified(states)

    def _rewrite_changed_partitions(self, part: str) -> None:
        """Without a key, a partition is compared as a multiset of row hashes: the same
        multiset is left alone; a different one is deleted and loaded again."""
        fingerprint = (
            f"md5(string_agg({self.q(HASH_COLUMN)}::VARCHAR, ',' ORDER BY {self.q(HASH_COLUMN)}))"
        )
        self.wh.execute(
            "CREATE OR REPLACE TEMP TABLE changed_parts AS "
            f"SELECT b.p FROM (SELECT {part} AS p, {fingerprint} AS f FROM temp.{STAGE} "
            f"GROUP BY 1) b LEFT JOIN (SELECT {part} AS p, {fingerprint} AS f FROM {self.t} "
            "GROUP BY 1) t ON b.p IS NOT DISTINCT FROM t.p WHERE t.f IS DISTINCT FROM b.f"
        )
        in_changed = (
            "EXISTS (SELECT 1 FROM temp.changed_parts c WHERE c.p IS NOT DISTINCT FROM {a}.{p})"
        )
        target_in = in_changed.format(a="t", p=part)
        stage_in = in_changed.format(a="s", p=part)
        self._record_before("delete", target_in)
        self.counts.deleted += max(self.wh.execute(f"DELETE FROM {self.t} t WHERE {target_in}"), 0)
        self.counts.inserted += self._insert(f"SELECT s.* FROM temp.{STAGE} s WHERE {stage_in}")
        same = self.wh.first_row(f"SELECT count(*) FROM temp.{STAGE} s WHERE NOT ({stage_in})")
        self.counts.unchanged += int(same[0]) if same else 0

    def _replace(self, target_rows: int) -> None:
        """The table becomes exactly the batch. Unchanged rows keep their lineage; when
        nothing differs nothing is written. Otherwise the new version is built beside the
        old one and swapped in by rename; the old one is kept as a previous version."""
        if target_rows == 0:
            # An empty table (a first load): there is no previous version worth keeping.
            self.counts.inserted += self._insert(f"SELECT * FROM temp.{STAGE}")
            return
        if self.key:
            self._classify()
            states = self._state_counts()
            gone = f"NOT EXISTS (SELECT 1 FROM temp.{STAGE} s WHERE {self._key_match('s', 't')})"
            changed_where = (
                f"EXISTS (SELECT 1 FROM temp.stage_class c WHERE c.state = 'changed' AND "
                f"{self._key_match('c', 't')})"
            )
        else:
            # Without a key every row is its own identity: compare hashes as a multiset.
            bag = f"md5(string_agg({self.q(HASH_COLUMN)}::VARCHAR, ',' ORDER BY 1))"
            same_bag = self.wh.first_row(
                f"SELECT (SELECT {bag} FROM temp.{STAGE}) IS NOT DISTINCT FROM "
                f"(SELECT {bag} FROM {self.t})"
            )
            staged = self.wh.first_row(f"SELECT count(*) FROM temp.{STAGE}")
            n = int(staged[0]) if staged else 0
            states = {"same": n} if same_bag and same_bag[0] else {"new": n}
            gone = "TRUE" if not (same_bag and same_bag[0]) else "FALSE"
            changed_where = "FALSE"
        gone_count = self.wh.first_row(f"SELECT count(*) FROM {self.t} t WHERE {gone}")
        n_gone = int(gone_count[0]) if gone_count else 0
        if not states.get("changed") and not states.get("new") and not n_gone:
            self.counts.unchanged += states.get("same", 0)
            return
        if n_gone:
            self._record_before("delete", gone)
        if states.get("changed"):
            self._record_before("update", changed_where)
        version = f"{self.target}__dw_v{self.run_seq}"
        new_name = f"{self.target}__dw_new"
        self.wh.execute(f"DROP TABLE IF EXISTS {self.q(new_name)}")
        self.wh.execute(target_ddl(self.table, new_name, self.wh.dialect, self.checks))
        kept = (
            f"SELECT t.* FROM {self.t} t WHERE EXISTS (SELECT 1 FROM temp.stage_class c WHERE "
            f"c.state = 'same' AND {self._key_match('c', 't')})"
            if self.key
            else f"SELECT t.* FROM {self.t} t WHERE FALSE"
        )
        self.wh.execute(f"INSERT INTO {self.q(new_name)} {kept}")
        fresh = (
            f"SELECT s.* FROM temp.{STAGE} s JOIN temp.stage_class c ON "
            f"{self._key_match('c', 's')} WHERE c.state <> 'same'"
            if self.key
            else f"SELECT s.* FROM temp.{STAGE} s"
        )
        written = self._insert(fresh, into=new_name)
        self.counts.updated += states.get("changed", 0)
        self.counts.inserted += written - states.get("changed", 0)
        self.counts.unchanged += states.get("same", 0)
        self.counts.deleted += n_gone
        self.wh.execute(self.wh.rename_table(self.target, version))
        self.wh.execute(self.wh.rename_table(new_name, self.target))
        self._drop_old_versions()

    def _drop_old_versions(self) -> None:
        prefix = f"{self.target}__dw_v"
        versions = [
            name for name in self.wh.tables_starting_with(prefix) if name[len(prefix) :].isdigit()
        ]
        versions.sort(key=lambda n: int(n[len(prefix) :]))
        for name in versions[: max(0, len(versions) - self.keep_versions)]:
            self.wh.execute(f"DROP TABLE {self.q(name)}")

    # ------------------------------------------------------------ writes

    def _record_before(self, op: str, where_sql: str) -> None:
        """Copy the current state of the rows about to change into dataward.changes."""
        everything = [*self.columns, *LINEAGE]
        self.wh.execute(
            f"INSERT INTO {LEDGER_SCHEMA}.changes SELECT ?, ?, ?, ?, {self._key_json('t')}, "
            f"{self.wh.json_of_columns(everything, 't')} FROM {self.t} t WHERE {where_sql}",
            [self.run_id, self.run_seq, self.target, op],
        )

    def _insert(self, select_sql: str, into: str | None = None) -> int:
        return max(
            self.wh.execute(
                f"INSERT INTO {self.q(into or self.target)} ({self._cols()}, "
                f"{self._cols(names=LINEAGE)}) SELECT {self._cols('s')}, ?, "
                f"s.{self.q(SOURCE_COLUMN)}, s.{self.q(ROW_COLUMN)}, s.{self.q(HASH_COLUMN)}, "
                f"current_timestamp FROM ({select_sql}) s",
                [self.run_id],
            ),
            0,
        )


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
