"""The ledger: `dataward.runs`, `dataward.rejects`, `dataward.changes` in the warehouse.

It lives in the warehouse itself so the load and its record commit (or roll back)
together. `changes` is append-only: the before-state of every row a run updated or
deleted, as JSON whose values are text (exact for decimals, instants and doubles). An
inserted row needs no copy: it carries its run id. The view `dataward.change_history`
pairs each change with its after-state (the next change's before-state, or the current
row when there is none).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataward.warehouse.base import LEDGER_SCHEMA, Warehouse

COUNTS = (
    "extracted",
    "rejected",
    "transformed",
    "duplicates_dropped",
    "inserted",
    "updated",
    "unchanged",
    "deleted",
)


REJECT_COLUMNS = (
    "run_id",
    "target_table",
    "source",
    "source_row",
    "source_line",
    "stage",
    "record",
    "reasons",
)


@dataclass
class Counts:
    extracted: int = 0
    rejected: int = 0
    transformed: int = 0
    duplicates_dropped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def accounted(self) -> int:
        return (
            self.rejected + self.duplicates_dropped + self.inserted + self.updated + self.unchanged
        )


@dataclass
class RunRecord:
    run_id: str
    pipeline: str
    target_table: str
    mode: str
    kind: str = "load"  # load | revert | replay
    status: str = "running"  # running | succeeded | failed | aborted
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    input_fingerprint: str | None = None
    contract_fingerprint: str | None = None
    partition_value: str | None = None
    counts: Counts = field(default_factory=Counts)
    reason: str | None = None
    reverts: str | None = None
    warnings: list[str] = field(default_factory=list)
    seq: int | None = None
    # The target's rows per run id after this run: what lets an identical re-run see
    # that nothing has touched the table since (see pipeline/run.py, _already_loaded).
    table_state: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "target_table": self.target_table,
            "mode": self.mode,
            "kind": self.kind,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "input_fingerprint": self.input_fingerprint,
            "contract_fingerprint": self.contract_fingerprint,
            "partition": self.partition_value,
            "counts": self.counts.as_dict(),
            "reason": self.reason,
            "reverts": self.reverts,
            "warnings": self.warnings,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def ensure_ledger(wh: Warehouse) -> None:
    # Two sessions creating the same tables at once can collide in PostgreSQL's catalog.
    wh.serialize("dataward:ledger")
    s = wh.quote(LEDGER_SCHEMA)
    count_columns = ", ".join(f"{name} BIGINT NOT NULL DEFAULT 0" for name in COUNTS)
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"CREATE SEQUENCE IF NOT EXISTS {s}.run_seq",
        f"""CREATE TABLE IF NOT EXISTS {s}.runs (
            run_id VARCHAR PRIMARY KEY,
            seq BIGINT NOT NULL,
            pipeline VARCHAR NOT NULL,
            target_table VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            input_fingerprint VARCHAR,
            contract_fingerprint VARCHAR,
            partition_value VARCHAR,
            {count_columns},
            reason VARCHAR,
            reverts VARCHAR,
            warnings VARCHAR,
            table_state VARCHAR
        )""",
        # Ledgers written before table_state existed gain it.
        f"ALTER TABLE {s}.runs ADD COLUMN IF NOT EXISTS table_state VARCHAR",
        f"""CREATE TABLE IF NOT EXISTS {s}.rejects (
            run_id VARCHAR NOT NULL,
            target_table VARCHAR NOT NULL,
            source VARCHAR,
            source_row BIGINT,
            source_line BIGINT,
            stage VARCHAR NOT NULL,
            record VARCHAR NOT NULL,
            reasons VARCHAR NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {s}.changes (
            run_id VARCHAR NOT NULL,
            run_seq BIGINT NOT NULL,
            target_table VARCHAR NOT NULL,
            op VARCHAR NOT NULL,
            row_key {wh.json_type} NOT NULL,
            before {wh.json_type} NOT NULL
        )""",
        f"""CREATE OR REPLACE VIEW {s}.change_history AS
            SELECT run_id, run_seq, target_table, op, row_key, before,
                   lead(before) OVER w AS after,
                   lead(run_id) OVER w IS NULL AS after_is_current
            FROM {s}.changes
            WINDOW w AS (PARTITION BY target_table, row_key ORDER BY run_seq)""",
    ):
        wh.execute(statement)


def next_seq(wh: Warehouse) -> int:
    row = wh.first_row(f"SELECT nextval('{LEDGER_SCHEMA}.run_seq')")
    assert row is not None
    return int(row[0])


def insert_run(wh: Warehouse, run: RunRecord) -> None:
    if run.seq is None:
        run.seq = next_seq(wh)
    columns = [
        "run_id",
        "seq",
        "pipeline",
        "target_table",
        "mode",
        "kind",
        "status",
        "started_at",
        "finished_at",
        "input_fingerprint",
        "contract_fingerprint",
        "partition_value",
        *COUNTS,
        "reason",
        "reverts",
        "warnings",
        "table_state",
    ]
    values = [
        run.run_id,
        run.seq,
        run.pipeline,
        run.target_table,
        run.mode,
        run.kind,
        run.status,
        run.started_at,
        run.finished_at,
        run.input_fingerprint,
        run.contract_fingerprint,
        run.partition_value,
        *run.counts.as_dict().values(),
        run.reason,
        run.reverts,
        json.dumps(run.warnings),
        run.table_state,
    ]
    marks = ", ".join("?" for _ in columns)
    wh.execute(f"INSERT INTO {LEDGER_SCHEMA}.runs ({', '.join(columns)}) VALUES ({marks})", values)


def finish_run(wh: Warehouse, run: RunRecord) -> None:
    run.finished_at = datetime.now(UTC)
    assignments = ", ".join(f"{name} = ?" for name in COUNTS)
    wh.execute(
        f"UPDATE {LEDGER_SCHEMA}.runs SET status = ?, finished_at = ?, input_fingerprint = ?, "
        f"contract_fingerprint = ?, {assignments}, reason = ?, reverts = ?, warnings = ?, "
        "table_state = ? WHERE run_id = ?",
        [
            run.status,
            run.finished_at,
            run.input_fingerprint,
            run.contract_fingerprint,
            *run.counts.as_dict().values(),
            run.reason,
            run.reverts,
            json.dumps(run.warnings),
            run.table_state,
            run.run_id,
        ],
    )


def abort_stale_runs(wh: Warehouse, pipeline: str) -> list[str]:
    """Runs of `pipeline` still marked running died without finishing (kill -9, power):
    the caller holds the pipeline's lock, so none of them can be alive. Their load never
    committed (it shares the transaction that would have finished the record)."""
    stale = [
        row[0]
        for row in wh.rows(
            f"SELECT run_id FROM {LEDGER_SCHEMA}.runs WHERE pipeline = ? AND status = 'running'",
            [pipeline],
        )
    ]
    if stale:
        wh.execute(
            f"UPDATE {LEDGER_SCHEMA}.runs SET status = 'aborted', finished_at = ?, "
            "reason = 'the run stopped before it committed (process killed or crashed); "
            "nothing it loaded is visible' WHERE pipeline = ? AND status = 'running'",
            [datetime.now(UTC), pipeline],
        )
    return stale


RUN_COLUMNS = (
    "run_id, seq, pipeline, target_table, mode, kind, status, started_at, finished_at, "
    "input_fingerprint, contract_fingerprint, partition_value, "
    + ", ".join(COUNTS)
    + ", reason, reverts, warnings, table_state"
)


def read_runs(wh: Warehouse, where: str = "", params: list[Any] | None = None) -> list[RunRecord]:
    found = wh.rows(
        f"SELECT {RUN_COLUMNS} FROM {LEDGER_SCHEMA}.runs {where} ORDER BY seq DESC", params or []
    )
    runs = []
    for row in found:
        counts = Counts(*[int(v) for v in row[12 : 12 + len(COUNTS)]])
        rest = row[12 + len(COUNTS) :]
        runs.append(
            RunRecord(
                run_id=row[0],
                seq=row[1],
                pipeline=row[2],
                target_table=row[3],
                mode=row[4],
                kind=row[5],
                status=row[6],
                started_at=row[7],
                finished_at=row[8],
                input_fingerprint=row[9],
                contract_fingerprint=row[10],
                partition_value=row[11],
                counts=counts,
                reason=rest[0],
                reverts=rest[1],
                warnings=json.loads(rest[2]) if rest[2] else [],
                table_state=rest[3],
            )
        )
    return runs


def ledger_exists(wh: Warehouse) -> bool:
    return wh.live_columns("runs", LEDGER_SCHEMA) is not None
