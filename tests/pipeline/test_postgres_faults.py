"""PostgreSQL under faults, on the real server: a killed client at several points of the
load, a backend terminated mid-load, a server that refuses connections, lock_timeout, two
runs of one table at once. Afterwards the table is its pre-run or its fully loaded content,
the ledger says which, and a re-run converges to what an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import pytest
from pipeline_kit import (
    PER_RUN,
    ProjectDir,
    assert_accounted,
    make_project,
    orders_csv,
    pipeline_toml,
)

from dataward.project.config import load_project
from dataward.warehouse import project_warehouse

pytestmark = pytest.mark.postgres_only

ROWS = 300_000


_csv = orders_csv


V1 = _csv(ROWS, None)
V2 = _csv(ROWS + 10_000, 10)  # 30,000 amounts changed and 10,000 new rows


def _dataward_backends(project: ProjectDir) -> list[tuple[int, str]]:
    """(pid, query) of the sessions dataward has open on the project's database."""
    return [
        (int(pid), str(query or ""))
        for pid, query in project.query(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'dataward' AND state = 'active'"
        )
    ]


def _wait_until_gone(project: ProjectDir, timeout: float = 60) -> None:
    """A killed client's backend ends when it next talks to the socket: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = project.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'dataward'"
        )[0][0]
        if not left:
            return
        time.sleep(0.05)
    pytest.fail("a dataward session outlived its process")


class _Run:
    """`dataward run` in a subprocess, its JSON events read as they come."""

    def __init__(self, project: ProjectDir, *args: str) -> None:
        self.process = project.popen("run", *args)
        self.events: list[dict] = []
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            if line.startswith("{"):
                self.events.append(json.loads(line))

    @property
    def run_id(self) -> str | None:
        return next((e["run_id"] for e in self.events if "run_id" in e), None)

    def saw(self, stage: str) -> bool:
        return any(e.get("stage") == stage for e in self.events)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=60)
        self._reader.join(timeout=10)

    def finish(self, timeout: float = 120) -> int:
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return self.process.returncode


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.003)
    pytest.fail(f"never saw {what}")


def _status(project: ProjectDir, run_id: str) -> str:
    return project.query("SELECT status FROM dataward.runs WHERE run_id = ?", [run_id])[0][0]


@pytest.fixture
def loaded(new_project) -> tuple[ProjectDir, str, str]:
    """A project holding V1, with V2 waiting; the table's hash before V2 and the hash an
    uninterrupted load of V2 gives (computed in a database of its own)."""
    project = new_project(csv=V1)
    assert project.run().record.status == "succeeded"
    before = project.content_hash()
    project.csv(V2)
    reference = new_project(csv=V1)
    reference.run()
    reference.csv(V2)
    counts = reference.run().record.counts
    assert (counts.updated, counts.inserted) == (30_000, 10_000)
    return project, before, reference.content_hash(exclude=PER_RUN)


def _running_statement(pattern: str) -> Callable[[ProjectDir], Callable[[], bool]]:
    def watching(project: ProjectDir) -> Callable[[], bool]:
        return lambda: any(
            re.match(pattern, q, re.I | re.S) for _, q in _dataward_backends(project)
        )

    return watching


# The statements of a load as the server sees them, in order.
DURING_COPY = r"\s*COPY "
DURING_MERGE = r"\s*WITH before AS"


@pytest.mark.parametrize(
    "point",
    ["copy", "merge", "verify", "before-commit"],
)
def test_kill_9_at_any_point_of_the_load(loaded, point):
    project, before, expected = loaded
    run = _Run(project)
    if point == "verify":
        # The load's statements are done and VERIFY's begin (they take milliseconds).
        _wait_for(lambda: run.saw("load"), "the load event")
    elif point == "before-commit":
        # VERIFY has passed and said so; what is left is the ledger's row and COMMIT.
        _wait_for(lambda: run.saw("verify"), "the verify event")
    else:
        pattern = {"copy": DURING_COPY, "merge": DURING_MERGE}[point]
        _wait_for(_running_statement(pattern)(project), f"the {point} statement on the server")
    run_id = run.run_id
    run.kill()
    assert run_id is not None
    _wait_until_gone(project)
    now = project.content_hash()
    if now == before:
        assert _status(project, run_id) == "running"  # never committed
    else:
        # The commit won the race: then the table is the whole load, not a part of it.
        assert _status(project, run_id) == "succeeded"
        assert project.content_hash(exclude=PER_RUN) == expected
    final = project.run()
    assert final.record.status == "succeeded"
    assert_accounted(final.record.counts)
    if now == before:
        assert _status(project, run_id) == "aborted"
    assert project.content_hash(exclude=PER_RUN) == expected


@pytest.mark.parametrize("point", ["copy", "merge"])
def test_the_backend_terminated_mid_load_fails_the_run_cleanly(loaded, point):
    project, before, expected = loaded
    run = _Run(project)
    pattern = {"copy": DURING_COPY, "merge": DURING_MERGE}[point]
    _wait_for(_running_statement(pattern)(project), f"the {point} statement on the server")
    (pid, _), *_ = [b for b in _dataward_backends(project) if re.match(pattern, b[1], re.I)]
    assert project.query("SELECT pg_terminate_backend(?)", [pid])[0][0] is True
    code = run.finish()
    stderr = "".join(run.stderr)
    assert code == 3, stderr
    assert "connection to PostgreSQL was lost" in stderr and "Traceback" not in stderr
    assert project.content_hash() == before
    assert run.run_id is not None and _status(project, run.run_id) == "failed"
    final = project.run()
    assert final.record.status == "succeeded"
    assert project.content_hash(exclude=PER_RUN) == expected


def test_lock_timeout_fails_the_run_and_writes_nothing(new_project):
    project = new_project(
        csv="order_id,amount,status\n1,1.00,a\n", config="lock_timeout_seconds = 1\n"
    )
    project.run()
    before = project.content_hash()
    project.csv("order_id,amount,status\n1,2.00,a\n2,3.00,b\n")
    holder = psycopg.connect(project.pg_url)
    try:
        # Another session locks the table against writers (readers still pass).
        holder.execute("LOCK TABLE orders IN EXCLUSIVE MODE")
        started = time.monotonic()
        result = project.cli("run")
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 3, result.stderr
    assert "lock_timeout (1 s) reached" in result.stderr and "Traceback" not in result.stderr
    assert elapsed < 30
    assert project.content_hash() == before
    last = project.runs()[-1]
    assert last["status"] == "failed" and "lock_timeout" in last["reason"]
    assert project.run().record.counts.updated == 1


def test_a_server_refusing_connections_exits_3_with_a_clear_message(new_project):
    project = new_project(csv="order_id,amount,status\n1,1.00,a\n")
    refused = "postgresql://postgres@127.0.0.1:1/nowhere"
    result = project.cli("run", "--warehouse", refused)
    assert result.returncode == 3, result.stderr
    assert "cannot connect to PostgreSQL" in result.stderr
    assert "127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr


# A transform that holds its run until the test says go: "at once" without a race on a
# busy machine (the first run cannot finish before the second one starts).
HOLD = """import time
from pathlib import Path


def hold(rows):
    gate = Path(__file__).parent / "go"
    deadline = time.monotonic() + 120
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows
"""


def test_two_runs_of_one_table_at_once_one_loads_the_other_exits_4(new_project, tmp_path):
    project = new_project(csv=V1, pipeline=pipeline_toml(transform="pipelines/hold.py:hold"))
    project.write("pipelines/hold.py", HOLD)
    # The same pipeline from a second checkout: only the server can tell them apart.
    twin = make_project(tmp_path / "twin", csv=V1, pg_url=project.pg_url)
    first = _Run(project)
    _wait_for(lambda: first.saw("start"), "the first run start")
    started = time.monotonic()
    second = twin.cli("run")
    elapsed = time.monotonic() - started
    (project.root / "pipelines" / "go").touch()
    assert first.finish() == 0, "".join(first.stderr)
    assert second.returncode == 4, second.stderr
    assert "another run holds table 'orders'" in second.stderr
    assert "dataward" in second.stderr and "Traceback" not in second.stderr
    assert elapsed < 15  # at once: start-up is most of it
    assert [r["status"] for r in project.runs()] == ["succeeded"]


def test_every_session_names_itself_and_bounds_its_statements(new_project):
    project = new_project(
        csv="order_id,amount,status\n1,1.00,a\n",
        config="lock_timeout_seconds = 2.5\nstatement_timeout_seconds = 600\n",
    )
    wh = project_warehouse(load_project(project.root))
    try:
        wh.open()
        settings = dict(
            wh.rows(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('application_name', 'lock_timeout', 'statement_timeout', 'TimeZone')"
            )
        )
    finally:
        wh.close()
    assert settings == {
        "application_name": "dataward",
        "lock_timeout": "2500",
        "statement_timeout": "600000",
        "TimeZone": "UTC",
    }


SECRET = "s3cr3t-Pa55"


def _with_password(url: str, password: str = SECRET) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)


def test_a_password_is_never_shown_logged_or_recorded(new_project):
    project = new_project(csv="order_id,amount,status\n1,1.00,a\n2,x,b\n")
    url = _with_password(project.pg_url)  # the server trusts local logins: any password does
    env = {"DATAWARD_WAREHOUSE": url}
    outputs = [project.cli("run", env=env), project.cli("runs", "--format", "json", env=env)]
    failed = project.cli("rejects", "nope", env=env)
    wrong_db = project.cli("run", "--warehouse", url.rsplit("/", 1)[0] + "/no_such_db")
    for result in [*outputs, failed, wrong_db]:
        assert SECRET not in result.stdout + result.stderr
    assert outputs[0].returncode == 1  # the bad amount: above the reject rate
    assert "postgresql://postgres@" in outputs[0].stderr  # the URL shown, without it
    assert wrong_db.returncode == 3 and "no_such_db" in wrong_db.stderr
    for table in ("runs", "rejects", "changes"):
        _, rows = project.look.described(f"SELECT * FROM dataward.{table}")
        assert SECRET not in repr(rows)


def test_credentials_from_libpq_environment_variables(new_project):
    project = new_project(csv="order_id,amount,status\n1,1.00,a\n")
    parts = urlsplit(project.pg_url)
    env = {
        "PGHOST": parts.hostname or "",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "",
        "DATAWARD_WAREHOUSE": f"postgresql:///{parts.path.lstrip('/')}",
    }
    result = project.cli("run", env=env)
    assert result.returncode == 0, result.stderr
    assert [r["order_id"] for r in project.rows()] == [1]


def test_statement_timeout_fails_the_run_and_writes_nothing(new_project):
    project = new_project(csv=V1)
    project.run()
    before = project.content_hash()
    project.csv(V2)
    # 1 ms: the comparison of 310,000 keys cannot finish in it.
    project.write(
        "dataward.toml",
        (project.root / "dataward.toml").read_text() + "statement_timeout_seconds = 0.001\n",
    )
    result = project.cli("run")
    assert result.returncode == 3, result.stderr
    assert "statement_timeout (0.001 s) reached" in result.stderr
    assert "Traceback" not in result.stderr
    assert project.content_hash() == before
