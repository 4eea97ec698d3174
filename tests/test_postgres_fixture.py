"""The PostgreSQL fixtures in conftest.py give each test a database of its own.

The lifecycle checks run an inner pytest session (pytester) with the same conftest, so the
database's creation and drop are observed from outside the test that used it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

pytest_plugins = ("pytester",)

CONFTEST = Path(__file__).with_name("conftest.py")
PG_KIT = Path(__file__).with_name("pg_kit.py")  # the conftest imports it

# An inner test that records its database name and leaves a table behind in it.
RECORDING_TEST = """
import time
from pathlib import Path


def test_record(pg_conn, pg_url):
    pg_conn.execute("CREATE TABLE leftover (id int)")
    pg_conn.commit()
    name = pg_conn.execute("SELECT current_database()").fetchone()[0]
    Path("dbname-{tag}.txt").write_text(name)
    time.sleep({sleep})
"""


def database_exists(server_url: str, dbname: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


def user_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchall()
    return [name for (name,) in rows]


def test_database_exists_and_is_writable(pg_conn, pg_url, pg_server_url):
    dbname = pg_conn.execute("SELECT current_database()").fetchone()[0]
    assert urlsplit(pg_url).path == f"/{dbname}"
    assert dbname.startswith("dw_test_")
    assert database_exists(pg_server_url, dbname)
    assert not pg_conn.autocommit

    pg_conn.execute("CREATE TABLE orders (id int PRIMARY KEY, amount numeric(12, 2))")
    pg_conn.execute("INSERT INTO orders VALUES (1, 12.50), (2, 7.25)")
    pg_conn.commit()

    # pg_url reaches the same database from a separate connection.
    with psycopg.connect(pg_url) as other:
        total = other.execute("SELECT sum(amount)::text FROM orders").fetchone()[0]
    assert total == "19.75"


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_an_empty_database(pg_conn, run):
    # The same table name in both runs: a shared database would make the second CREATE fail.
    assert user_tables(pg_conn) == []
    pg_conn.execute("CREATE TABLE marker (run int)")
    pg_conn.execute("INSERT INTO marker VALUES (%s)", (run,))
    pg_conn.commit()
    assert pg_conn.execute("SELECT run FROM marker").fetchall() == [(run,)]


def test_database_is_dropped_after_the_test(pytester, pg_server_url):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(pg_kit=PG_KIT.read_text())
    pytester.makepyfile(RECORDING_TEST.format(tag="a", sleep=0))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    dbname = (pytester.path / "dbname-a.txt").read_text()
    assert dbname.startswith("dw_test_")
    assert not database_exists(pg_server_url, dbname)
    # The per-process template is gone too.
    session_prefix = dbname.rsplit("_", 1)[0]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (session_prefix + "%",)
        ).fetchall()
    assert left == []


def test_parallel_sessions_use_separate_databases(pytester, pg_server_url):
    # Two pytest processes at once, each creating the same table: both pass, on two databases.
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(pg_kit=PG_KIT.read_text())
    pytester.makepyfile(
        test_a=RECORDING_TEST.format(tag="a", sleep=1),
        test_b=RECORDING_TEST.format(tag="b", sleep=1),
    )
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    processes = [
        subprocess.Popen(
            [*command, f"test_{tag}.py"],
            cwd=pytester.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tag in "ab"
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]

    assert [p.returncode for p in processes] == [0, 0], "\n".join(outputs)
    names = {(pytester.path / f"dbname-{tag}.txt").read_text() for tag in "ab"}
    assert len(names) == 2
    assert not any(database_exists(pg_server_url, name) for name in names)


def test_unreachable_server_fails_instead_of_skipping(pytester, monkeypatch):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATAWARD_TEST_PG_URL", f"postgresql://postgres@127.0.0.1:{port}/postgres")
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(pg_kit=PG_KIT.read_text())
    pytester.makepyfile(
        """
        def test_needs_db(pg_conn):
            pass

        def test_needs_url(pg_url):
            pass

        def test_needs_nothing():
            pass
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")

    result.assert_outcomes(passed=1, errors=2, skipped=0)
    result.stdout.fnmatch_lines([f"*PostgreSQL is not reachable at *127.0.0.1:{port}*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
