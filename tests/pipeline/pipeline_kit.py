"""A throwaway dataward project in a directory: contract, data files, pipeline files.

Tests describe a project in a few lines of text (the contract's columns, the CSV, the
pipeline's settings), run it through the library (`ProjectDir.run`) or the real CLI
(`ProjectDir.cli`), and look at the warehouse from outside: a read-only DuckDB connection
to the file, or a psycopg connection to the project's own PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dataward.pipeline.run import RunOutcome, run_pipeline
from dataward.project.config import load_project
from warehouse_look import DuckDBLook, PostgresLook

DATAWARD = Path(sys.executable).parent / "dataward"
WAREHOUSE = "wh.duckdb"
# Lineage columns that differ between two runs loading the same data.
PER_RUN = ("_dw_run_id", "_dw_loaded_at")


def contract_yaml(
    table: str,
    columns: list[tuple[str, str, dict[str, Any]]],
    quality: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
) -> str:
    """An ODCS v3 contract of one table; columns are (name, physicalType, extra keys)."""
    properties = []
    position = 0
    for name, kind, extra in columns:
        prop: dict[str, Any] = {"name": name, "physicalType": kind, **extra}
        if prop.get("primaryKey"):
            position += 1
            prop.setdefault("primaryKeyPosition", position)
            prop.setdefault("required", True)
        properties.append(prop)
    schema: dict[str, Any] = {"name": table, "physicalType": "table", "properties": properties}
    if quality:
        schema["quality"] = quality
    doc: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"urn:test:{table}",
        "name": table,
        "version": "1.0.0",
        "status": "active",
        "schema": [schema],
    }
    if settings:
        doc["customProperties"] = [{"property": k, "value": v} for k, v in settings.items()]
    return yaml.safe_dump(doc, sort_keys=False)


# The table most tests load: a key, a decimal, a text with a closed set of values.
ORDERS_COLUMNS: list[tuple[str, str, dict[str, Any]]] = [
    ("order_id", "BIGINT", {"primaryKey": True}),
    ("amount", "DECIMAL(10,2)", {"required": True}),
    ("status", "TEXT", {}),
]
ORDERS = contract_yaml("orders", ORDERS_COLUMNS)


def pipeline_toml(
    contract: str = "contracts/orders.odcs.yaml",
    path: str | list[str] = "data/orders.csv",
    **settings: Any,
) -> str:
    lines = [f"contract = {json.dumps(contract)}"]
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines.append("[source]")
    lines.append(f"path = {json.dumps(path)}" if isinstance(path, str) else f"paths = {path!r}")
    return "\n".join(lines) + "\n"


@dataclass
class ProjectDir:
    root: Path
    warehouse_name: str = WAREHOUSE
    pg_url: str | None = None  # set: the project's warehouse is this PostgreSQL database

    @property
    def look(self) -> DuckDBLook | PostgresLook:
        if self.pg_url:
            return PostgresLook(self.pg_url)
        return DuckDBLook(self.root / self.warehouse_name)

    @property
    def dialect(self) -> str:
        return self.look.dialect

    @property
    def warehouse_url(self) -> str:
        return self.pg_url or f"duckdb:///{self.warehouse_name}"

    # ---------------------------------------------------------------- writing

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def csv(self, text: str, relative: str = "data/orders.csv") -> Path:
        return self.write(relative, text)

    def contract(self, text: str, relative: str = "contracts/orders.odcs.yaml") -> Path:
        return self.write(relative, text)

    def pipeline(self, name: str, text: str) -> Path:
        return self.write(f"pipelines/{name}.toml", text)

    @property
    def warehouse(self) -> Path:
        """The DuckDB warehouse file (DuckDB projects only)."""
        assert self.pg_url is None, "a PostgreSQL project has no warehouse file"
        return self.root / self.warehouse_name

    def viewing(self, warehouse_name: str) -> ProjectDir:
        """The same project, looking at (and running into) another warehouse file."""
        return ProjectDir(self.root, warehouse_name)

    # ---------------------------------------------------------------- running

    def run(self, pipeline: str = "orders", **options: Any) -> RunOutcome:
        """One run through the library, with the project read afresh."""
        project = load_project(self.root, warehouse=self.warehouse_url)
        return run_pipeline(project, project.pipeline(pipeline), **options)

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DATAWARD), *args],
            cwd=self.root,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(DATAWARD), *args],
            cwd=self.root,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # ---------------------------------------------------------------- looking

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.look.query(sql, params)

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Write to the warehouse from outside dataward (a tampering test)."""
        self.look.query(sql, params, write=True)

    def exists(self, table: str) -> bool:
        return table in self.tables()

    def tables(self) -> list[str]:
        return self.look.table_names()

    def content_hash(self, table: str = "orders", exclude: tuple[str, ...] = ()) -> str:
        """md5 over the table's shape and every row (all columns, rows in order): equal
        hashes mean equal tables, byte for byte, lineage included."""
        look = self.look
        shape = [tuple(s) for s in look.shape(table)]
        columns = [s[0] for s in shape if s[0] not in exclude]
        quoted = '"' + table.replace('"', '""') + '"'
        row = look.query(
            f"SELECT md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) FROM "
            f"(SELECT {look.row_text(columns)} AS r FROM {quoted}) x"
        )[0]
        return json.dumps([s for s in shape if s[0] not in exclude]) + ":" + row[0]

    def rows(self, table: str = "orders", columns: str = "*") -> list[dict[str, Any]]:
        quoted = '"' + table.replace('"', '""') + '"'
        names, found = self.look.described(f"SELECT {columns} FROM {quoted}")
        rows = [dict(zip(names, r, strict=True)) for r in found]
        return sorted(rows, key=lambda r: [(v is None, str(type(v)), v) for v in r.values()])

    def runs(self) -> list[dict[str, Any]]:
        names, found = self.look.described("SELECT * FROM dataward.runs ORDER BY seq")
        return [dict(zip(names, r, strict=True)) for r in found]

    def rejects(self, run_id: str) -> list[dict[str, Any]]:
        found = self.query(
            "SELECT source, source_row, source_line, stage, record, reasons FROM "
            "dataward.rejects WHERE run_id = ? ORDER BY source_row",
            [run_id],
        )
        return [
            {
                "source": source,
                "row": row,
                "line": line,
                "stage": stage,
                "record": json.loads(record),
                "reasons": json.loads(reasons),
            }
            for source, row, line, stage, record, reasons in found
        ]


def make_project(
    root: Path,
    *,
    contract: str = ORDERS,
    csv: str | None = None,
    pipeline: str | None = None,
    config: str = "",
    name: str = "orders",
    pg_url: str | None = None,
) -> ProjectDir:
    """dataward.toml (with `config` appended), contracts/orders.odcs.yaml, the CSV and
    pipelines/<name>.toml, all under `root`; the warehouse is a DuckDB file in it, or the
    PostgreSQL database at `pg_url`."""
    project = ProjectDir(root, pg_url=pg_url)
    project.write(
        "dataward.toml",
        f'[project]\nname = "test"\n\n[warehouse]\nurl = "{project.warehouse_url}"\n' + config,
    )
    project.contract(contract)
    if csv is not None:
        project.csv(csv)
    project.pipeline(name, pipeline or pipeline_toml())
    return project


def orders_csv(rows: int, changed_every: int | None = None) -> str:
    """order_id, amount, status for `rows` orders; with `changed_every`, every n-th
    amount differs (one cent more) from the same call without it."""
    lines = ["order_id,amount,status"]
    for i in range(rows):
        cents = (i + (1 if changed_every and i % changed_every == 0 else 0)) % 100
        lines.append(f"{i},{i % 1000}.{cents:02d},{'paid' if i % 3 else 'new'}")
    return "\n".join(lines) + "\n"


def assert_accounted(counts: Any) -> None:
    """extracted = rejected + duplicates_dropped + inserted + updated + unchanged."""
    c = counts if isinstance(counts, dict) else counts.as_dict()
    assert c["extracted"] == (
        c["rejected"] + c["duplicates_dropped"] + c["inserted"] + c["updated"] + c["unchanged"]
    ), c


def stderr_events(stderr: str) -> list[dict[str, Any]]:
    events = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events
