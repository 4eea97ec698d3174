"""PostgreSQL fixtures: a fresh database per test on the server in DATAWARD_TEST_PG_URL.

pytest-postgresql's no-process fixture creates one template database per pytest process;
each test that asks for `pg_url` or `pg_conn` gets its own database cloned from it and
dropped afterwards. Names carry the process id and a random token, so several pytest
processes (or xdist workers) can share one server. An unreachable server fails the tests
that need it, with the reason; it never skips them.
"""

from __future__ import annotations

import itertools
import os
import secrets

import psycopg
import pytest
from pytest_postgresql import factories
from pytest_postgresql.executors import NoopExecutor

from pg_kit import PG_URL_ENV, SERVER_URL, libpq_url, server

_server = server
_SESSION_DBNAME = f"dw_test_{os.getpid()}_{secrets.token_hex(3)}"
_test_numbers = itertools.count(1)


class _PerTestDatabase(NoopExecutor):
    """The session's server details with a database name of the test's own.

    pytest-postgresql's `postgresql` client fixture creates `dbname` from `template_dbname`
    and drops it after the test; pointing it at this object gives every test a new name.
    """

    def __init__(self, base: NoopExecutor, dbname: str):
        super().__init__(
            host=base.host,
            port=base.port,
            user=base.user,
            password=base.password,
            options=base.options,
            dbname=dbname,
            maintenance_dbname=base.maintenance_dbname,
        )
        self._template_dbname = base.template_dbname

    @property
    def template_dbname(self) -> str:
        return self._template_dbname


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The server's URL, once it has answered; fails (never skips) when it does not."""
    try:
        with psycopg.connect(SERVER_URL, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        problem = str(exc).strip() or type(exc).__name__
    else:
        return SERVER_URL
    # Failed outside the except block, so the report shows the reason once, without a chain.
    source = PG_URL_ENV if os.environ.get(PG_URL_ENV) else f"the default; {PG_URL_ENV} is unset"
    shown = libpq_url(str(_server.get("dbname", "postgres")), redact=True)
    pytest.fail(
        f"PostgreSQL is not reachable at {shown} ({source}): {problem}\n"
        "Run the tests with `make test`, which finds or starts a server, "
        f"or set {PG_URL_ENV} to one that answers.",
        pytrace=False,
    )


_template_database = factories.postgresql_noproc(
    host=str(_server.get("host", "127.0.0.1")),
    port=_server.get("port", 5432),
    user=str(_server.get("user", "postgres")),
    password=_server.get("password"),
    dbname=_SESSION_DBNAME,
    maintenance_dbname=str(_server.get("dbname", "postgres")),
)


@pytest.fixture(scope="session")
def postgresql_noproc(pg_server_url: str, request: pytest.FixtureRequest) -> NoopExecutor:
    """pytest-postgresql's server fixture, after the reachability check."""
    return request.getfixturevalue("_template_database")


@pytest.fixture
def pg_database(postgresql_noproc: NoopExecutor) -> _PerTestDatabase:
    return _PerTestDatabase(postgresql_noproc, f"{_SESSION_DBNAME}_{next(_test_numbers)}")


# Overrides the plugin's `postgresql`, which would start a server of its own.
postgresql = factories.postgresql("pg_database")


@pytest.fixture
def pg_conn(postgresql: psycopg.Connection) -> psycopg.Connection:
    """A psycopg connection to the test's own database (autocommit off)."""
    assert not postgresql.autocommit
    return postgresql


@pytest.fixture
def pg_url(pg_database: _PerTestDatabase, postgresql: psycopg.Connection) -> str:
    """A libpq URL to the test's own database, created for it and dropped after it."""
    return libpq_url(pg_database.dbname)
