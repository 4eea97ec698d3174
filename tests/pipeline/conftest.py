from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pipeline_kit import ProjectDir, make_project
from pytest_postgresql.janitor import DatabaseJanitor

from pg_kit import libpq_url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of run semantics runs on both warehouses, unless it is about one."""
    if "warehouse_kind" in metafunc.fixturenames:
        kinds = ["duckdb", "postgres"]
        if metafunc.definition.get_closest_marker("duckdb_only"):
            kinds = ["duckdb"]
        if metafunc.definition.get_closest_marker("postgres_only"):
            kinds = ["postgres"]
        metafunc.parametrize("warehouse_kind", kinds)


@pytest.fixture
def new_project(
    tmp_path: Path, warehouse_kind: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ProjectDir]]:
    """make_project in a fresh directory under tmp_path (several per test are fine), its
    warehouse a DuckDB file there or a PostgreSQL database of its own, created for it and
    dropped after the test. Afterwards every succeeded load in every one of them must add
    up: extracted = rejected + duplicates_dropped + inserted + updated + unchanged."""
    made: list[ProjectDir] = []
    janitors: list[DatabaseJanitor] = []
    # Asked for now, so that it outlives the check below: pytest-postgresql's own database.
    first_url = request.getfixturevalue("pg_url") if warehouse_kind == "postgres" else None

    def database() -> str:
        if not made:
            assert first_url is not None
            return first_url
        base = request.getfixturevalue("pg_database")
        name = f"{base.dbname}_{len(made) + 1}"
        janitor = DatabaseJanitor(
            user=base.user,
            host=base.host,
            port=base.port,
            password=base.password,
            dbname=name,
            template_dbname=base.template_dbname,
            maintenance_dbname=base.maintenance_dbname,
        )
        janitor.init()
        janitors.append(janitor)
        return libpq_url(name)

    def factory(**kwargs: Any) -> ProjectDir:
        root = tmp_path / f"project{len(made) + 1}"
        root.mkdir()
        pg_url = database() if warehouse_kind == "postgres" else None
        project = make_project(root, pg_url=pg_url, **kwargs)
        made.append(project)
        return project

    yield factory
    try:
        for project in made:
            if project.pg_url:
                assert_runs_add_up(project)
    finally:
        for janitor in janitors:
            janitor.drop()


def assert_runs_add_up(project: ProjectDir) -> None:
    if not project.look.exists():
        return
    broken = project.query(
        "SELECT run_id, extracted, rejected, duplicates_dropped, inserted, updated, "
        "unchanged FROM dataward.runs WHERE kind IN ('load', 'replay') AND status = "
        "'succeeded' AND extracted <> rejected + duplicates_dropped + inserted + "
        "updated + unchanged"
    )
    assert not broken, f"row accounting broken in {project.warehouse_url}: {broken}"


@pytest.fixture(autouse=True)
def every_run_adds_up(tmp_path: Path) -> Iterator[None]:
    """After each test: every succeeded load in every warehouse it made satisfies
    extracted = rejected + duplicates_dropped + inserted + updated + unchanged."""
    yield
    for warehouse in tmp_path.rglob("*.duckdb"):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            if not con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'dataward' "
                "AND table_name = 'runs'"
            ).fetchone()[0]:
                continue
            broken = con.execute(
                "SELECT run_id, extracted, rejected, duplicates_dropped, inserted, updated, "
                "unchanged FROM dataward.runs WHERE kind IN ('load', 'replay') AND status = "
                "'succeeded' AND extracted <> rejected + duplicates_dropped + inserted + "
                "updated + unchanged"
            ).fetchall()
        finally:
            con.close()
        assert not broken, f"row accounting broken in {warehouse}: {broken}"
