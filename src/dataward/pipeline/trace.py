"""`dataward trace TABLE KEY...`: where a row came from and everything that happened to it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dataward.checks.sql_render import sql_type
from dataward.contract.model import Table
from dataward.errors import UsageError
from dataward.pipeline.schema import LINEAGE
from dataward.warehouse import Warehouse
from dataward.warehouse.base import LEDGER_SCHEMA


@dataclass
class Trace:
    table: str
    key: dict[str, str]
    current: dict[str, Any] | None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "current": self.current,
            "history": self.history,
        }


def trace_row(wh: Warehouse, table: Table, key_values: list[str]) -> Trace:
    key = table.primary_key
    if not key:
        raise UsageError(f"table {table.name!r} has no primary key to trace a row by")
    if len(key_values) != len(key):
        raise UsageError(
            f"table {table.name!r} is keyed by ({', '.join(key)}): give {len(key)} value(s)"
        )
    types = {c.name: sql_type(c.type).sql(wh.dialect) for c in table.columns}
    t = wh.quote(table.storage_name)
    match = " AND ".join(f"{wh.quote(k)} = CAST(? AS {types[k]})" for k in key)
    everything = [*(c.name for c in table.columns), *LINEAGE]
    try:
        found = wh.rows(
            f"SELECT {', '.join(wh.quote(n) for n in everything)} FROM {t} WHERE {match}",
            key_values,
        )
    except Exception as exc:  # noqa: BLE001 - a value that does not cast is a usage error
        raise UsageError(f"cannot read the key {key_values}: {exc}") from None
    current = (
        {name: _plain(value) for name, value in zip(everything, found[0], strict=True)}
        if found
        else None
    )
    # The after-state of the latest change is the row as it is now, in the changelog's
    # own text form so that before and after compare value for value.
    now = wh.first_row(
        f"SELECT {wh.json_of_columns(everything, 't')} FROM {t} t WHERE {match}", key_values
    )
    current_text = json.loads(now[0]) if now else None
    row_key = wh.json_object([(k, f"CAST(CAST(? AS {types[k]}) AS VARCHAR)") for k in key])
    history = wh.rows(
        f"SELECT h.run_id, h.op, h.before, h.after, h.after_is_current, r.pipeline, r.kind, "
        f"r.started_at "
        f"FROM {LEDGER_SCHEMA}.change_history h JOIN {LEDGER_SCHEMA}.runs r USING (run_id) "
        f"WHERE h.target_table = ? AND h.row_key = {row_key} ORDER BY h.run_seq",
        [table.storage_name, *key_values],
    )
    return Trace(
        table=table.storage_name,
        key=dict(zip(key, key_values, strict=True)),
        current=current,
        history=[
            {
                "run_id": run_id,
                "op": op,
                "before": json.loads(before),
                "after": json.loads(after) if after else (current_text if is_last else None),
                "pipeline": pipeline,
                "kind": kind,
                "at": started.isoformat() if started else None,
            }
            for run_id, op, before, after, is_last, pipeline, kind, started in history
        ],
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)
