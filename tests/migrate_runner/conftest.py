"""A project with a migrations/ directory and a warehouse of its own (a DuckDB file, or a
PostgreSQL database created for the test and dropped after it), driven through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from warehouse_look import DuckDBLook, PostgresLook

DATAWARD = Path(sys.executable).parent / "dataward"


@dataclass
class MigratingProject:
    root: Path
    url: str

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def look(self) -> DuckDBLook | PostgresLook:
        if self.url.startswith("postgresql"):
            return PostgresLook(self.url)
        return DuckDBLook(self.root / "wh.duckdb")

    @property
    def dialect(self) -> str:
        return self.look.dialect

    def write(self, version: str, name: str, up: str, down: str | None = None) -> Path:
        self.migrations.mkdir(exist_ok=True)
        path = self.migrations / f"{version}_{name}.up.sql"
        path.write_text(up, encoding="utf-8")
        if down is not None:
            (self.migrations / f"{version}_{name}.down.sql").write_text(down, encoding="utf-8")
        return path

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DATAWARD), "migrate", *args],
            cwd=self.root,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.look.query(sql, params)

    def tables(self) -> list[str]:
        return self.look.table_names()

    def ledger(self) -> list[tuple]:
        return self.query("SELECT version, dirty FROM dataward.migrations ORDER BY version")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "warehouse_kind" in metafunc.fixturenames:
        kinds = ["duckdb", "postgres"]
        if metafunc.definition.get_closest_marker("postgres_only"):
            kinds = ["postgres"]
        if metafunc.definition.get_closest_marker("duckdb_only"):
            kinds = ["duckdb"]  # the warehouse plays no part (lint reads files only)
        metafunc.parametrize("warehouse_kind", kinds)


@pytest.fixture
def project(
    tmp_path: Path, warehouse_kind: str, request: pytest.FixtureRequest
) -> MigratingProject:
    url = (
        request.getfixturevalue("pg_url") if warehouse_kind == "postgres" else "duckdb:///wh.duckdb"
    )
    (tmp_path / "dataward.toml").write_text(
        f'[project]\nname = "m"\n\n[warehouse]\nurl = "{url}"\n', encoding="utf-8"
    )
    (tmp_path / "migrations").mkdir()
    return MigratingProject(tmp_path, url)
