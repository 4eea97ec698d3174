"""`dataward revert RUN_ID`: put a table back as it was before one run.

What a run did is all in the ledger: the rows it inserted carry its run id, and the
before-state of every row it updated or deleted is in dataward.changes. Undoing it is
therefore: remove the rows it wrote (and those at the keys it changed), then restore the
before-states, all in one transaction, recorded as a new run whose own changes hold
what it removed (so a revert can be reverted too).

A later run that touched the same keys would be silently undone as well; the revert
refuses and names those runs, unless `cascade` asks to revert them first, newest first.
A run already undone by a revert (that was not itself reverted) no longer counts: the
pair cancels out.

A revert's changelog holds, for each key it touched, the state just before the revert:
a `delete` with the row it removed, or a `restore` (with an empty before-state) for a
key that was absent and that it brought back. Undoing the revert removes every such key
and puts back the `delete` before-states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dataward.checks.sql_render import sql_type
from dataward.contract.loader import load_contract
from dataward.errors import DatawardError, ExitCode, UsageError
from dataward.pipeline import ledger
from dataward.pipeline.ledger import RunRecord
from dataward.pipeline.run import new_run_id
from dataward.pipeline.schema import LINEAGE, LINEAGE_TYPES, RUN_COLUMN
from dataward.project.config import Project
from dataward.warehouse import Warehouse, project_warehouse
from dataward.warehouse.base import LEDGER_SCHEMA


class RevertRefused(DatawardError):
    exit_code = ExitCode.CHECKS_FAILED


@dataclass
class RevertOutcome:
    record: RunRecord
    reverted: list[str] = field(default_factory=list)


def revert_run(project: Project, run_id: str, *, cascade: bool = False) -> RevertOutcome:
    wh = project_warehouse(project)
    try:
        wh.open()
        if not ledger.ledger_exists(wh):
            raise UsageError("this warehouse has no dataward ledger: nothing was ever run here")
        wh.begin()
        ledger.ensure_ledger(wh)  # an older ledger gains the columns this version reads
        wh.commit()
        found = ledger.read_runs(wh, "WHERE run_id = ?", [run_id])
        if not found:
            raise UsageError(f"no run {run_id!r} in the ledger (see `dataward runs`)")
        target = found[0]
        _check_revertible(wh, target)
        spec = project.pipelines.get(target.pipeline)
        if spec is None:
            raise UsageError(
                f"run {run_id} belongs to pipeline {target.pipeline!r}, which this project "
                "no longer defines: its contract is needed to restore the rows"
            )
        table = load_contract(spec.contract).table(spec.table)
        later = _later_runs_touching(wh, target, table.primary_key)
        if later and not cascade:
            names = ", ".join(f"{r.run_id} ({r.pipeline})" for r in later)
            raise RevertRefused(
                f"later runs changed rows that run {run_id} wrote: {names}; reverting it alone "
                "would undo their changes too. Revert them first, or pass --cascade to revert "
                "them (newest first) and this run in one transaction"
            )
        record = RunRecord(
            run_id=new_run_id(),
            pipeline=target.pipeline,
            target_table=target.target_table,
            mode="revert",
            kind="revert",
            reverts=run_id,
        )
        wh.begin()
        try:
            ledger.insert_run(wh, record)
            order = [*later, target]  # later is newest first
            for run in order:
                _undo(wh, run, record, [c.name for c in table.columns], table)
            leftover = wh.first_row(
                f"SELECT count(*) FROM {wh.quote(target.target_table)} WHERE "
                f"{wh.quote(RUN_COLUMN)} = ?",
                [run_id],
            )
            if leftover and leftover[0]:
                raise RevertRefused(f"verify: {leftover[0]} rows of run {run_id} remain")
            record.status = "succeeded"
            record.reverts = ",".join(r.run_id for r in order)
            ledger.finish_run(wh, record)
            wh.commit()
        except BaseException:
            wh.rollback()
            raise
        return RevertOutcome(record, [r.run_id for r in order])
    finally:
        wh.close()


def _check_revertible(wh: Warehouse, run: RunRecord) -> None:
    if run.status != "succeeded":
        raise RevertRefused(
            f"run {run.run_id} is {run.status}: only a succeeded run changed anything"
        )
    undone_by = _undone(wh).get(run.run_id)
    if undone_by:
        raise RevertRefused(f"run {run.run_id} was already reverted by run {undone_by}")


def _undone(wh: Warehouse) -> dict[str, str]:
    """Each run whose effect is currently undone, with the revert that undid it.

    Newest first: a revert that was itself reverted undoes nothing (its runs count
    again); one that stands undoes the runs it names.
    """
    undone: dict[str, str] = {}
    for revert in ledger.read_runs(wh, "WHERE kind = 'revert' AND status = 'succeeded'"):
        if revert.run_id in undone:
            continue
        for run_id in (revert.reverts or "").split(","):
            if run_id:
                undone.setdefault(run_id, revert.run_id)
    return undone


def _inert(wh: Warehouse) -> set[str]:
    """Runs that no longer change the table: those undone, and the reverts undoing them."""
    undone = _undone(wh)
    return set(undone) | set(undone.values())


def _key_json(wh: Warehouse, key: tuple[str, ...], alias: str) -> str:
    from dataward.pipeline.row_hash import HASH_COLUMN

    return wh.json_of_columns(key or (HASH_COLUMN,), alias)


def _touched_keys_sql(wh: Warehouse, run: RunRecord, key: tuple[str, ...]) -> str:
    """The keys `run` wrote or changed: its changes, its rows still in the table, and its
    rows that later runs changed (their before-states carry its run id)."""
    t = wh.quote(run.target_table)
    before_run = wh.json_text("before", RUN_COLUMN)
    return (
        f"SELECT row_key FROM {LEDGER_SCHEMA}.changes WHERE run_id = '{_esc(run.run_id)}' "
        f"UNION SELECT {_key_json(wh, key, 't')} FROM {t} t WHERE t.{wh.quote(RUN_COLUMN)} = "
        f"'{_esc(run.run_id)}' UNION SELECT row_key FROM {LEDGER_SCHEMA}.changes WHERE "
        f"target_table = '{_esc(run.target_table)}' AND {before_run} = '{_esc(run.run_id)}'"
    )


def _later_runs_touching(wh: Warehouse, run: RunRecord, key: tuple[str, ...]) -> list[RunRecord]:
    t = wh.quote(run.target_table)
    touched = _touched_keys_sql(wh, run, key)
    ids = {
        row[0]
        for row in wh.rows(
            f"SELECT DISTINCT c.run_id FROM {LEDGER_SCHEMA}.changes c WHERE c.target_table = ? "
            f"AND c.run_seq > ? AND c.row_key IN ({touched}) UNION SELECT DISTINCT "
            f"t.{wh.quote(RUN_COLUMN)} FROM {t} t JOIN {LEDGER_SCHEMA}.runs r ON r.run_id = "
            f"t.{wh.quote(RUN_COLUMN)} WHERE r.seq > ? AND "
            f"{_key_json(wh, key, 't')} IN ({touched})",
            [run.target_table, run.seq, run.seq],
        )
    }
    inert = _inert(wh)
    later = [
        r
        for r in ledger.read_runs(wh)
        if r.run_id in ids and r.run_id != run.run_id and r.run_id not in inert
    ]
    return sorted(later, key=lambda r: -(r.seq or 0))


def _undo(wh: Warehouse, run: RunRecord, revert: RunRecord, columns: list[str], table) -> None:
    t = wh.quote(run.target_table)
    key = table.primary_key
    everything = [*columns, *LINEAGE]
    mine = f"SELECT row_key FROM {LEDGER_SCHEMA}.changes WHERE run_id = '{_esc(run.run_id)}'"
    doomed = (
        f"(t.{wh.quote(RUN_COLUMN)} = '{_esc(run.run_id)}' OR "
        f"{_key_json(wh, key, 't')} IN ({mine}))"
    )
    # The revert's own changelog: what it removes, so it can be reverted in turn. Only
    # the first state of a key counts (a cascade may remove a key it restored itself).
    recorded = f"SELECT row_key FROM {LEDGER_SCHEMA}.changes WHERE run_id = '{_esc(revert.run_id)}'"
    wh.execute(
        f"INSERT INTO {LEDGER_SCHEMA}.changes SELECT ?, ?, ?, 'delete', {_key_json(wh, key, 't')}, "
        f"{wh.json_of_columns(everything, 't')} FROM {t} t WHERE {doomed} AND "
        f"{_key_json(wh, key, 't')} NOT IN ({recorded})",
        [revert.run_id, revert.seq, run.target_table],
    )
    removed = max(wh.execute(f"DELETE FROM {t} t WHERE {doomed}"), 0)
    types = {c.name: sql_type(c.type).sql(wh.dialect) for c in table.columns}
    types.update({name: kind for name, kind, _ in LINEAGE_TYPES})
    restored_columns = ", ".join(
        wh.column_from_json("c.before", name, types[name]) for name in everything
    )
    # Restore the state before `run`: for each key, the earliest before-state it recorded.
    restored = max(
        wh.execute(
            f"INSERT INTO {t} ({', '.join(wh.quote(n) for n in everything)}) SELECT "
            f"{restored_columns} FROM {LEDGER_SCHEMA}.changes c WHERE c.run_id = ? AND "
            "c.op IN ('update', 'delete')",
            [run.run_id],
        ),
        0,
    )
    # Keys absent before the revert that it brings back: undoing the revert removes them.
    empty = wh.as_json("'{}'")
    wh.execute(
        f"INSERT INTO {LEDGER_SCHEMA}.changes SELECT DISTINCT ?, ?, ?, 'restore', c.row_key, "
        f"{empty} FROM {LEDGER_SCHEMA}.changes c WHERE c.run_id = ? AND "
        f"c.op IN ('update', 'delete') AND c.row_key NOT IN ({recorded})",
        [revert.run_id, revert.seq, run.target_table, run.run_id],
    )
    revert.counts.deleted += removed
    revert.counts.inserted += restored


def _esc(text: str) -> str:
    return text.replace("'", "''")
