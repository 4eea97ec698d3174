from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pipeline_kit import ProjectDir, make_project


@pytest.fixture
def new_project(tmp_path: Path) -> Callable[..., ProjectDir]:
    """make_project in a fresh directory under tmp_path (several per test are fine)."""
    made = 0

    def factory(**kwargs: Any) -> ProjectDir:
        nonlocal made
        made += 1
        root = tmp_path / f"project{made}"
        root.mkdir()
        return make_project(root, **kwargs)

    return factory


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
