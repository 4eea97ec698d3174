"""`dataward migrate test`: up, down, up on a scratch database with the catalog compared at
each step; with --rows, timed on synthetic data, its locks, rewrites and lossy downs."""

from __future__ import annotations

import json

import pytest

THINGS = (
    "CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL, amount NUMERIC(10,2), "
    "day DATE, seen_at TIMESTAMPTZ, ok BOOLEAN, ref UUID, doc JSON);\n"
)
CHILDREN = (
    "CREATE TABLE children (id BIGINT PRIMARY KEY, thing_id BIGINT NOT NULL REFERENCES things, "
    "label VARCHAR(8));\n"
)


def _tested(project, *args: str) -> tuple[int, list[dict]]:
    result = project.cli("test", "--format", "json", *args)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_migrations_whose_downs_undo_them_pass(project):
    project.write("1", "things", THINGS, "DROP TABLE things;")
    project.write("2", "children", CHILDREN, "DROP TABLE children;")
    project.write(
        "3",
        "index",
        "CREATE INDEX children_label ON children (label);",
        "DROP INDEX children_label;",
    )
    code, results = _tested(project)
    assert code == 0, results
    assert [(r["version"], r["ok"]) for r in results] == [("1", True), ("2", True), ("3", True)]
    # The project's own warehouse was never touched.
    assert not project.look.exists() if project.dialect == "duckdb" else project.tables() == []


def test_a_down_that_leaves_something_behind_fails_with_the_difference(project):
    project.write("1", "things", THINGS, "DROP TABLE things;")
    project.write(
        "2",
        "two_columns",
        "ALTER TABLE things ADD COLUMN a TEXT;\nALTER TABLE things ADD COLUMN b TEXT;",
        "ALTER TABLE things DROP COLUMN a;",  # forgets b
    )
    project.write("3", "never", "SELECT 1;", "SELECT 1;")
    code, results = _tested(project)
    assert code == 1
    assert [r["version"] for r in results] == ["1", "2"]  # stops at the failure
    (problem,) = results[1]["problems"]
    assert "the down does not bring the schema back" in problem
    assert "+column main.things.b" in problem or "+column public.things.b" in problem


def test_a_migration_without_a_down_fails_at_once(project):
    project.write("1", "things", THINGS)
    code, results = _tested(project)
    assert code == 1
    assert results[0]["problems"] == ["it has no down: it cannot be undone, and is not tested"]


def test_a_statement_that_fails_names_its_file_and_line(project):
    path = project.write(
        "1",
        "broken",
        "CREATE TABLE a (id INT);\nALTER TABLE nowhere ADD COLUMN x INT;",
        "DROP TABLE a;",
    )
    code, results = _tested(project)
    assert code == 1
    assert f"{path}:2:1" in results[0]["problems"][0]


def test_a_down_that_loses_data_is_lossy_with_rows(project):
    project.write("1", "things", THINGS, "DROP TABLE things;")
    project.write(
        "2",
        "drop_name",
        "ALTER TABLE things DROP COLUMN amount;",
        "ALTER TABLE things ADD COLUMN amount NUMERIC(10,2);",  # the schema comes back, not the data
    )
    code, results = _tested(project, "--rows", "200")
    assert code == 1
    assert results[0]["ok"] is True and results[0]["lossy"] == []
    (lossy,) = results[1]["lossy"]
    assert "things" in lossy and "rows differ" in lossy


def test_synthetic_rows_respect_keys_and_foreign_keys(project):
    project.write("1", "things", THINGS, "DROP TABLE things;")
    project.write("2", "children", CHILDREN, "DROP TABLE children;")
    project.write("3", "noop", "SELECT 1;", "SELECT 1;")
    code, results = _tested(project, "--rows", "300")
    assert code == 0, results
    assert all(r["notes"] == [] for r in results), results  # every table could be filled


@pytest.mark.postgres_only
def test_a_rewrite_and_its_locks_are_reported_and_projected(project):
    project.write("1", "things", THINGS, "DROP TABLE things;")
    project.write(
        "2",
        "widen_amount",
        "ALTER TABLE things ALTER COLUMN amount TYPE NUMERIC(12,4);",  # a new scale: rewrites
        "ALTER TABLE things ALTER COLUMN amount TYPE NUMERIC(10,2);",
    )
    code, results = _tested(project, "--rows", "50000", "--estimate-rows", "5000000")
    assert code == 0, results
    widened = results[1]
    assert widened["rewritten"] == ["public.things"]
    locks = {lock["relation"]: lock["mode"] for lock in widened["locks"]}
    assert locks.get("things") == "AccessExclusiveLock"
    assert widened["seconds"] > 0
    assert widened["estimate_seconds"] == pytest.approx(widened["seconds"] * 100)
    text = project.cli("test", "--rows", "50000")
    assert "lock things: AccessExclusiveLock" in text.stdout
    assert "blocks every read and write" in text.stdout and "rewrote public.things" in text.stdout
