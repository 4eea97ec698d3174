"""`dataward migrate new|up|down|status|resolve` on both warehouses, and every bad input the
runner meets: an edited applied migration, one out of order, a failure half-way (in and
out of a transaction), an empty one, no down, two runners, a lock held too long."""

from __future__ import annotations

import json
import re
import time

import psycopg
import pytest

CREATE = "CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT);\n"
DROP = "DROP TABLE things;\n"


def _states(project) -> dict[str, str]:
    result = project.cli("status", "--format", "json")
    assert result.returncode == 0, result.stderr
    return {line["version"]: line["state"] for line in json.loads(result.stdout)}


def test_new_writes_an_up_and_a_down_that_up_and_down_apply(project):
    made = project.cli("new", "create_things")
    assert made.returncode == 0, made.stderr
    up_file, down_file = sorted(project.migrations.glob("*.sql"), key=lambda p: "down" in p.name)
    assert re.fullmatch(r"\d{14}_create_things\.up\.sql", up_file.name)
    assert down_file.name == up_file.name.replace(".up.", ".down.")
    version = up_file.name[:14]
    assert _states(project) == {version: "pending"}
    empty = project.cli("up")
    assert empty.returncode == 2 and "is empty" in empty.stderr  # nothing written yet
    up_file.write_text(up_file.read_text() + CREATE)
    down_file.write_text(down_file.read_text() + DROP)
    applied = project.cli("up")
    assert applied.returncode == 0, applied.stderr
    assert "things" in project.tables()
    assert _states(project) == {version: "applied"}
    ((_, name, checksum, by, dirty),) = project.query(
        "SELECT version, name, checksum, applied_by, dirty FROM dataward.migrations"
    )
    assert name == "create_things" and len(checksum) == 64 and "@" in by and dirty is False
    undone = project.cli("down")
    assert undone.returncode == 0, undone.stderr
    assert "things" not in project.tables()
    assert _states(project) == {version: "pending"}


def test_up_to_a_version_and_down_by_steps(project):
    project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);", "DROP TABLE a;")
    project.write("2", "b", "CREATE TABLE b (id BIGINT PRIMARY KEY);", "DROP TABLE b;")
    project.write("3", "c", "CREATE TABLE c (id BIGINT PRIMARY KEY);", "DROP TABLE c;")
    assert project.cli("up", "--to", "2").returncode == 0
    assert _states(project) == {"1": "applied", "2": "applied", "3": "pending"}
    assert project.cli("up").returncode == 0
    assert project.cli("down", "--steps", "2").returncode == 0
    assert _states(project) == {"1": "applied", "2": "pending", "3": "pending"}
    assert [t for t in project.tables() if t in "abc"] == ["a"]
    unknown = project.cli("up", "--to", "9")
    assert unknown.returncode == 2 and "no migration has version 9" in unknown.stderr


def test_a_failure_half_way_rolls_the_migration_back(project):
    path = project.write(
        "1",
        "broken",
        "CREATE TABLE a (id BIGINT PRIMARY KEY);\n\nINSERT INTO a VALUES (1);\nINSERT INTO nowhere VALUES (1);\n",
        "DROP TABLE a;",
    )
    result = project.cli("up")
    assert result.returncode == 1, result.stderr
    assert f"{path}:4:1" in result.stderr  # the failing statement's own line
    assert "nowhere" in result.stderr and "rolled back" in result.stderr
    assert "Traceback" not in result.stderr
    assert "a" not in project.tables()
    assert project.ledger() == []


def test_an_applied_migration_edited_since_is_refused(project):
    path = project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);", "DROP TABLE a;")
    assert project.cli("up").returncode == 0
    path.write_text("CREATE TABLE a (id BIGINT PRIMARY KEY, x INT);")
    project.write("2", "b", "CREATE TABLE b (id BIGINT PRIMARY KEY);", "DROP TABLE b;")
    for command in ("up", "down"):
        refused = project.cli(command)
        assert refused.returncode == 2
        assert "has changed since" in refused.stderr and str(path) in refused.stderr
    assert _states(project) == {"1": "changed", "2": "pending"}
    assert "b" not in project.tables()


def test_a_pending_migration_older_than_the_newest_applied_is_refused(project):
    project.write("2", "b", "CREATE TABLE b (id BIGINT PRIMARY KEY);", "DROP TABLE b;")
    assert project.cli("up").returncode == 0
    late = project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);", "DROP TABLE a;")
    refused = project.cli("up")
    assert refused.returncode == 2
    assert "out of order" in refused.stderr and str(late) in refused.stderr
    assert "a" not in project.tables()


def test_a_migration_without_a_down_cannot_be_undone(project):
    project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);")
    assert project.cli("up").returncode == 0
    refused = project.cli("down")
    assert refused.returncode == 2 and "has no down" in refused.stderr
    assert "a" in project.tables()


def test_two_migrations_with_one_version_are_refused(project):
    project.write("1", "a", "SELECT 1;", "SELECT 1;")
    project.write("1", "b", "SELECT 2;", "SELECT 2;")
    refused = project.cli("status")
    assert refused.returncode == 2
    assert "two migrations have version 1" in refused.stderr


def test_a_file_that_is_not_utf8_is_refused_with_its_line(project):
    path = project.write("1", "a", "SELECT 1;", "SELECT 1;")
    path.write_bytes(b"SELECT 1;\nSELECT '\xff';\n")
    refused = project.cli("status")
    assert refused.returncode == 2
    assert f"{path}:2" in refused.stderr and "not UTF-8" in refused.stderr


def test_sql_that_does_not_parse_is_refused_before_anything_runs(project):
    path = project.write("1", "a", "CREATE TABLE a (id BIGINT);\nCREAT TABLE b (id BIGINT);\n")
    refused = project.cli("up")
    assert refused.returncode == 2
    assert f"{path}:2:1" in refused.stderr and "does not parse" in refused.stderr
    assert "a" not in project.tables()


def test_a_missing_file_is_shown_and_keeps_down_from_running(project):
    path = project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);", "DROP TABLE a;")
    assert project.cli("up").returncode == 0
    path.unlink()
    (project.migrations / "1_a.down.sql").unlink()
    assert _states(project) == {"1": "missing"}
    refused = project.cli("down")
    assert refused.returncode == 2 and "its file is gone" in refused.stderr


@pytest.mark.postgres_only
def test_a_failure_outside_a_transaction_leaves_it_dirty_until_resolved(project):
    project.write("1", "things", CREATE, DROP)
    project.write(
        "2",
        "indexes",
        "-- dataward:no-transaction\n"
        "CREATE INDEX CONCURRENTLY things_name ON things (name);\n"
        "CREATE INDEX CONCURRENTLY broken ON nowhere (x);\n",
        "DROP INDEX things_name;",
    )
    failed = project.cli("up")
    assert failed.returncode == 1
    assert "outside a transaction" in failed.stderr and "dirty" in failed.stderr
    assert project.ledger() == [("1", False), ("2", True)]
    assert project.query("SELECT to_regclass('things_name') IS NOT NULL")[0][0]  # ran
    status = project.cli("status")
    assert "dirty" in status.stdout and "migrate resolve 2 --applied" in status.stderr
    refused = project.cli("up")
    assert refused.returncode == 2 and "marked dirty" in refused.stderr
    # Someone finished it by hand (the second index was a mistake); then says so.
    resolved = project.cli("resolve", "2", "--applied")
    assert resolved.returncode == 0, resolved.stderr
    assert project.ledger() == [("1", False), ("2", False)]
    assert project.cli("up").returncode == 0


@pytest.mark.postgres_only
def test_a_question_mark_in_a_migration_is_sql_not_a_placeholder(project):
    project.write(
        "1",
        "docs",
        "CREATE TABLE docs (id BIGINT PRIMARY KEY, body JSONB);\n"
        "INSERT INTO docs VALUES (1, '{\"a\": 1}');\n"
        "CREATE VIEW with_a AS SELECT id FROM docs WHERE body ? 'a';\n",
        "DROP VIEW with_a; DROP TABLE docs;",
    )
    result = project.cli("up")
    assert result.returncode == 0, result.stderr
    assert project.query("SELECT id FROM with_a") == [(1,)]


@pytest.mark.postgres_only
def test_a_second_runner_exits_4_while_the_first_holds_the_lock(project):
    project.write("1", "a", "CREATE TABLE a (id BIGINT PRIMARY KEY);", "DROP TABLE a;")
    holder = psycopg.connect(project.url, autocommit=True, application_name="other-runner")
    try:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('dataward:migrate', 0))")
        started = time.monotonic()
        refused = project.cli("up")
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    assert refused.returncode == 4, refused.stderr
    assert "another run holds the migrations" in refused.stderr
    assert "other-runner" in refused.stderr and elapsed < 15
    assert project.cli("up").returncode == 0


@pytest.mark.postgres_only
def test_a_lock_held_too_long_is_retried_with_backoff_then_refused(project):
    project.write("1", "things", CREATE, DROP)
    assert project.cli("up").returncode == 0
    project.write(
        "2",
        "add_column",
        "ALTER TABLE things ADD COLUMN note TEXT;",
        "ALTER TABLE things DROP COLUMN note;",
    )
    holder = psycopg.connect(project.url)
    try:
        holder.execute("LOCK TABLE things IN ACCESS SHARE MODE")  # a long report, say
        started = time.monotonic()
        refused = project.cli("up", "--lock-timeout", "0.2")
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert refused.returncode == 1, refused.stderr
    assert "lock_timeout (0.2 s), 4 times" in refused.stderr
    assert refused.stderr.count("trying again") == 3
    assert elapsed >= 0.2 * 4 + 1 + 2 + 4  # the pauses double: 1, 2 and 4 s
    assert _states(project)["2"] == "pending"
    assert project.cli("up").returncode == 0  # the lock is gone: it applies
