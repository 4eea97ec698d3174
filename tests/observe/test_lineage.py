"""OpenLineage events for a run, through the real client: written by its file transport,
posted to a real HTTP receiver on 127.0.0.1, and never a reason for a run to fail or wait."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alert_servers import closed_port, http_receiver
from structlog.testing import capture_logs

from dataward.errors import UsageError
from dataward.observe.lineage import (
    CONFIG_FILE,
    PRODUCER,
    DatasetRef,
    Lineage,
    RunOutput,
    file_dataset,
    http_dataset,
    query_datasets,
    warehouse_dataset,
)

RUN_ID = "01936a4e-8f3c-7b2a-9d4e-5f6a7b8c9d0e"  # dataward's run ids are UUID v7
API_KEY = "ol-key-7f3a9c2e"
FIELDS = (("id", "BIGINT"), ("email", "VARCHAR"), ("amount", "DECIMAL(12,2)"))
STARTED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
FINISHED = datetime(2025, 3, 1, 12, 0, 4, tzinfo=UTC)
RESULT = RunOutput(
    rows_extracted=5,
    rows_written=4,
    null_counts={"id": 0, "email": 2, "amount": 1},
    distinct_counts={"id": 5},
)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No OpenLineage setting from the machine running the tests; a home and a working
    directory of the test's own; and the environment exactly as it was afterwards."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(key)
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "cwd")
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "data").mkdir(parents=True)
    return root


def datasets(project: Path) -> tuple[list[DatasetRef], DatasetRef]:
    inputs = [file_dataset(project / "data" / "orders.csv", FIELDS)]
    output = warehouse_dataset("duckdb:///warehouse.duckdb", project, "orders", FIELDS)
    return inputs, output


def write_config(path: Path, transport: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"transport": transport}))  # JSON is YAML
    return path


def file_transport(log: Path) -> dict[str, Any]:
    return {"type": "file", "log_file_path": str(log), "append": True}


def read_events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_valid_event(event: dict[str, Any]) -> None:
    """What the RunEvent schema requires (the package ships no JSON schema to validate
    against): a UUID run id, a timestamp with a zone, URIs, and facets that say who made
    them and which schema they follow."""
    assert {"eventTime", "eventType", "producer", "schemaURL", "run", "job"} <= event.keys()
    assert str(uuid.UUID(event["run"]["runId"])) == event["run"]["runId"]
    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
    assert event["producer"] == PRODUCER
    assert event["schemaURL"].startswith("https://openlineage.io/spec/")
    groups = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        assert dataset["namespace"] and dataset["name"]
        groups += [dataset.get("facets", {}), dataset.get("inputFacets", {})]
        groups.append(dataset.get("outputFacets", {}))
    for facets in groups:
        for name, facet in facets.items():
            assert facet["_producer"].startswith("https://"), name
            assert facet["_schemaURL"].startswith("https://openlineage.io/spec/"), name


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ),  # the fixture's: no OPENLINEAGE settings, a home of its own
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def failures(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "lineage.emit.failed"]


# --- the events -------------------------------------------------------------------------


def test_start_then_complete_through_a_file_transport_set_in_the_project(project: Path):
    # A relative log path in the project's openlineage.yml is relative to the project,
    # whatever the working directory (the fixture's, elsewhere).
    write_config(project / CONFIG_FILE, file_transport(Path("lineage.jsonl")))
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    inputs, output = datasets(project)

    lineage.start(RUN_ID, "orders", inputs, output, STARTED)
    lineage.complete(RUN_ID, "orders", inputs, output, RESULT, FINISHED)

    start, complete = read_events(project / "lineage.jsonl")
    for event in (start, complete):
        assert_valid_event(event)
        assert event["run"]["runId"] == RUN_ID
        assert event["job"] == {**event["job"], "namespace": "shop", "name": "orders"}
        assert event["job"]["facets"]["jobType"]["processingType"] == "BATCH"
        assert event["run"]["facets"]["processing_engine"]["name"] == "dataward"
        [source] = event["inputs"]
        assert (source["namespace"], source["name"]) == ("file", str(project / "data/orders.csv"))
        [table] = event["outputs"]
        assert table["namespace"] == f"duckdb://{project / 'warehouse.duckdb'}"
        assert table["name"] == "warehouse.main.orders"
        schema = [(f["name"], f["type"]) for f in table["facets"]["schema"]["fields"]]
        assert schema == list(FIELDS)
        assert [f["name"] for f in source["facets"]["schema"]["fields"]] == [
            "id",
            "email",
            "amount",
        ]
    assert (start["eventType"], start["eventTime"]) == ("START", STARTED.isoformat())
    assert "dataQualityMetrics" not in start["outputs"][0]["facets"]
    assert (complete["eventType"], complete["eventTime"]) == ("COMPLETE", FINISHED.isoformat())
    quality = complete["outputs"][0]["facets"]["dataQualityMetrics"]
    assert quality["rowCount"] == 5
    assert {c: m["nullCount"] for c, m in quality["columnMetrics"].items()} == {
        "amount": 1,
        "email": 2,
        "id": 0,
    }
    assert quality["columnMetrics"]["id"]["distinctCount"] == 5
    assert "distinctCount" not in quality["columnMetrics"]["email"]
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 4


def test_fail_carries_the_error_message_without_credentials(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    log = tmp_path / "events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(log))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    inputs, output = datasets(project)
    message = (
        "verify failed: 3 rows lost; source postgresql://loader:hunter2@db:5432/shop?sslpassword=x9"
    )

    lineage.start(RUN_ID, "orders", inputs, output, STARTED)
    lineage.fail(RUN_ID, "orders", inputs, output, message, FINISHED)

    start, fail = read_events(log)
    assert [start["eventType"], fail["eventType"]] == ["START", "FAIL"]
    assert_valid_event(fail)
    assert fail["run"]["runId"] == RUN_ID
    error = fail["run"]["facets"]["errorMessage"]
    assert error["message"].startswith("verify failed: 3 rows lost; source postgresql://")
    assert error["programmingLanguage"] == "python"
    assert "hunter2" not in log.read_text() and "x9" not in log.read_text()
    assert "outputStatistics" not in fail["outputs"][0]["outputFacets"]


def test_an_http_receiver_gets_each_event_at_the_lineage_endpoint(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    with http_receiver() as receiver:
        monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
        monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
        lineage = Lineage.from_environment(project, "shop")
        assert lineage is not None
        inputs, output = datasets(project)
        lineage.start(RUN_ID, "orders", inputs, output, STARTED)
        lineage.complete(RUN_ID, "orders", inputs, output, RESULT, FINISHED)
        lineage.close()

    assert [r.path for r in receiver.requests] == ["/api/v1/lineage"] * 2
    events = [r.json() for r in receiver.requests]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event, request in zip(events, receiver.requests, strict=True):
        assert_valid_event(event)
        assert event["run"]["runId"] == RUN_ID
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    # The client copies the key into OPENLINEAGE__TRANSPORT__TRANSPORTS__* variables while
    # it configures itself; they are gone again, so no child process inherits a copy.
    assert [k for k, v in os.environ.items() if API_KEY in v] == ["OPENLINEAGE_API_KEY"]


def test_the_job_namespace_follows_openlineage_namespace_when_set(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_config(tmp_path / "cwd" / CONFIG_FILE, file_transport(tmp_path / "events.jsonl"))
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "warehouse-jobs")
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    lineage.start(RUN_ID, "orders", *datasets(project), STARTED)
    [event] = read_events(tmp_path / "events.jsonl")
    assert event["job"]["namespace"] == "warehouse-jobs"


# --- on or off --------------------------------------------------------------------------


def test_nothing_configured_means_no_lineage(project: Path):
    assert Lineage.from_environment(project, "shop") is None


@pytest.mark.parametrize(
    "config",
    [
        {"facets": {"environment_variables": ["USER"]}},  # settings, but nowhere to send
        {"transport": {"type": "noop"}},
    ],
    ids=["no-transport", "noop"],
)
def test_a_config_without_a_destination_means_no_lineage(project: Path, config: dict[str, Any]):
    (project / CONFIG_FILE).write_text(json.dumps(config))
    assert Lineage.from_environment(project, "shop") is None


def test_not_configured_costs_no_import(project: Path, tmp_path: Path):
    """A project that does not use lineage never loads the OpenLineage client."""
    code = (
        "import sys; from pathlib import Path\n"
        "from dataward.observe.lineage import Lineage\n"
        f"assert Lineage.from_environment(Path({str(project)!r}), 'shop') is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('openlineage')))\n"
    )
    done = run_python(code, tmp_path / "cwd")
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_openlineage_disabled_turns_it_off_whatever_else_is_set(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
):
    write_config(project / CONFIG_FILE, file_transport(tmp_path / "events.jsonl"))
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("OPENLINEAGE_DISABLED", value)
    assert Lineage.from_environment(project, "shop") is None


def test_openlineage_disabled_false_leaves_it_on(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_config(project / CONFIG_FILE, file_transport(tmp_path / "events.jsonl"))
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "false")
    assert Lineage.from_environment(project, "shop") is not None


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        (("env", "cwd", "project", "home"), "env"),
        (("cwd", "project", "home"), "cwd"),
        (("project", "home"), "project"),
        (("home",), "home"),
    ],
)
def test_config_file_lookup_order(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    present: tuple[str, ...],
    winner: str,
):
    places = {
        "env": tmp_path / "elsewhere" / "lineage.yml",
        "cwd": tmp_path / "cwd" / CONFIG_FILE,
        "project": project / CONFIG_FILE,
        "home": tmp_path / "home" / ".openlineage" / CONFIG_FILE,
    }
    for name in present:
        write_config(places[name], file_transport(tmp_path / f"{name}.jsonl"))
    if "env" in present:
        monkeypatch.setenv("OPENLINEAGE_CONFIG", str(places["env"]))
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    lineage.start(RUN_ID, "orders", *datasets(project), STARTED)
    written = sorted(p.stem for p in tmp_path.glob("*.jsonl"))
    assert written == [winner]


# --- a receiver that is down or refuses -------------------------------------------------


def test_a_receiver_that_is_down_costs_the_run_nothing_but_a_logged_event(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    inputs, output = datasets(project)
    began = time.monotonic()
    with capture_logs() as logged:
        lineage.start(RUN_ID, "orders", inputs, output, STARTED)
        lineage.complete(RUN_ID, "orders", inputs, output, RESULT, FINISHED)
    # The client's own defaults retry five times with backoff: about 9 s per event.
    assert time.monotonic() - began < 3
    start, complete = failures(logged)
    assert (start["event_type"], complete["event_type"]) == ("START", "COMPLETE")
    assert start["run_id"] == RUN_ID and start["transport"] == "http"
    assert start["log_level"] == "warning"
    assert "ConnectionError" in start["problem"] and "refused" in start["problem"]
    assert API_KEY not in repr(logged)


def test_a_receiver_answering_500_is_retried_once_then_logged(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    with http_receiver(then=500) as receiver:
        monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
        monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
        lineage = Lineage.from_environment(project, "shop")
        assert lineage is not None
        began = time.monotonic()
        with capture_logs() as logged:
            lineage.start(RUN_ID, "orders", *datasets(project), STARTED)
        elapsed = time.monotonic() - began
    assert elapsed < 3
    assert len(receiver.requests) == 2  # the first try and dataward's one retry
    [failure] = failures(logged)
    assert failure["event_type"] == "START"
    assert "500" in failure["problem"]
    assert API_KEY not in repr(logged)


def test_a_key_in_the_endpoint_path_is_not_repeated_in_the_failure(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    # Webhook-style receivers take the token in the path; the client's error names the path.
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", f"hooks/{API_KEY}")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    with capture_logs() as logged:
        lineage.start(RUN_ID, "orders", *datasets(project), STARTED)
    [failure] = failures(logged)
    assert "/hooks/***" in failure["problem"]
    assert API_KEY not in repr(logged)


def test_a_timeout_set_in_the_config_is_kept(project: Path, tmp_path: Path):
    # A server that accepts the connection and never answers: only the timeout ends it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        transport = {"type": "http", "url": url, "timeout": 0.3, "retry": {"total": 0}}
        write_config(tmp_path / "cwd" / CONFIG_FILE, transport)
        lineage = Lineage.from_environment(project, "shop")
        assert lineage is not None
        began = time.monotonic()
        with capture_logs() as logged:
            lineage.start(RUN_ID, "orders", *datasets(project), STARTED)
        elapsed = time.monotonic() - began
    # dataward's own default (2 s, one retry) would take 4 s here.
    assert elapsed < 1.5
    [failure] = failures(logged)
    assert "timed out" in failure["problem"].lower()


# --- configuration that is there but wrong ----------------------------------------------


def test_a_config_file_that_is_not_yaml_is_named_with_its_line(project: Path):
    (project / CONFIG_FILE).write_text("transport:\n  type: file\n  log_file_path: [oops\n")
    with pytest.raises(UsageError) as caught:
        Lineage.from_environment(project, "shop")
    assert caught.value.location.file == str(project / CONFIG_FILE)
    assert caught.value.location.line == 4
    assert "not valid YAML" in caught.value.message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- type: http\n", "must be a mapping"),
        ("transport: http\n", "transport must be a mapping"),
    ],
)
def test_a_config_file_of_the_wrong_shape_is_refused(project: Path, text: str, says: str):
    (project / CONFIG_FILE).write_text(text)
    with pytest.raises(UsageError, match=says) as caught:
        Lineage.from_environment(project, "shop")
    assert caught.value.location.file == str(project / CONFIG_FILE)


def test_openlineage_config_naming_a_missing_file_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(tmp_path / "nope.yml"))
    with pytest.raises(UsageError, match=r"OPENLINEAGE_CONFIG names .*nope\.yml"):
        Lineage.from_environment(project, "shop")


def test_a_transport_the_client_refuses_is_a_usage_error_naming_the_file(project: Path):
    write_config(project / CONFIG_FILE, {"type": "http", "timeout": 1})
    with pytest.raises(UsageError, match=r"client refused this configuration.*url") as caught:
        Lineage.from_environment(project, "shop")
    assert caught.value.location.file == str(project / CONFIG_FILE)


def test_an_unknown_transport_type_is_refused_without_noise_on_stderr(
    project: Path, tmp_path: Path
):
    """In a process of its own: pytest's log capture would hide what the client prints."""
    write_config(project / CONFIG_FILE, {"type": "kafkaa"})
    code = (
        "from pathlib import Path\n"
        "from dataward.errors import UsageError\n"
        "from dataward.observe.lineage import Lineage\n"
        "try:\n"
        f"    Lineage.from_environment(Path({str(project)!r}), 'shop')\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
    )
    done = run_python(code, tmp_path / "cwd")
    assert "the OpenLineage client refused this configuration" in done.stdout
    assert "kafkaa" in done.stdout
    # The client logs its own complaint; dataward's stderr holds events, not stray lines.
    assert done.stderr == ""


def test_an_unusable_openlineage_url_is_refused_without_its_password(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENLINEAGE_URL", "http://loader:hunter2@")
    with pytest.raises(UsageError, match="OPENLINEAGE_URL") as caught:
        Lineage.from_environment(project, "shop")
    assert "hunter2" not in str(caught.value)
    assert not [k for k in os.environ if k.startswith("OPENLINEAGE__")]


def test_an_event_time_without_a_zone_is_a_programming_error(project: Path, tmp_path: Path):
    write_config(project / CONFIG_FILE, file_transport(tmp_path / "events.jsonl"))
    lineage = Lineage.from_environment(project, "shop")
    assert lineage is not None
    with pytest.raises(ValueError, match="no time zone"):
        lineage.start(RUN_ID, "orders", *datasets(project), datetime(2025, 3, 1, 12))


# --- dataset names ----------------------------------------------------------------------


def test_duckdb_tables_are_named_by_the_file_and_duckdbs_database_name(project: Path):
    relative = warehouse_dataset("duckdb:///warehouse.duckdb", project, "sales.orders")
    assert relative.namespace == f"duckdb://{project / 'warehouse.duckdb'}"
    assert relative.name == "warehouse.sales.orders"
    absolute = warehouse_dataset("duckdb:////srv/dw/prod.duckdb", project, "orders", FIELDS)
    assert (absolute.namespace, absolute.name) == (
        "duckdb:///srv/dw/prod.duckdb",
        "prod.main.orders",
    )
    assert absolute.fields == FIELDS


@pytest.mark.parametrize(
    ("url", "namespace", "name"),
    [
        (
            "postgresql://loader:hunter2@db.example.com:6543/shop?sslmode=require",
            "postgres://db.example.com:6543",
            "shop.public.orders",
        ),
        (
            "postgres://loader@db.example.com/shop",
            "postgres://db.example.com:5432",
            "shop.public.orders",
        ),
        (
            "postgresql:///shop?host=/var/run/postgresql",
            "postgres:///var/run/postgresql:5432",
            "shop.public.orders",
        ),
        (
            "postgresql://loader:hunter2@[::1]:5433/",
            "postgres://[::1]:5433",
            "loader.public.orders",
        ),
    ],
)
def test_postgres_tables_are_named_by_host_and_port_never_the_password(
    project: Path, url: str, namespace: str, name: str
):
    ref = warehouse_dataset(url, project, "orders")
    assert (ref.namespace, ref.name) == (namespace, name)
    assert "hunter2" not in repr(ref) and "loader:" not in repr(ref)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://db/shop", "unknown warehouse URL scheme 'mysql'"),
        ("duckdb://warehouse.duckdb", "a DuckDB warehouse URL looks like"),
        ("postgresql://db:port/shop", "port is not a number"),
    ],
)
def test_a_warehouse_url_that_cannot_be_named_is_refused(project: Path, url: str, says: str):
    with pytest.raises(UsageError, match=says):
        warehouse_dataset(url, project, "orders")


def test_files_are_named_by_their_absolute_path(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    ref = file_dataset(Path("data/orders.csv"), FIELDS)
    assert (ref.namespace, ref.name, ref.fields) == (
        "file",
        str(project / "data/orders.csv"),
        FIELDS,
    )


def test_http_sources_are_named_without_credentials_or_query():
    ref = http_dataset("https://bot:s3cret@api.example.com:8443/v1/orders?token=abc&page=2")
    assert (ref.namespace, ref.name) == ("https://api.example.com:8443", "/v1/orders")
    with pytest.raises(UsageError, match="looks like https://host/path"):
        http_dataset("ftp://files.example.com/orders.csv")


def test_a_sql_source_reads_the_tables_its_query_names(project: Path):
    query = (
        "WITH recent AS (SELECT * FROM sales.orders o JOIN customers c ON o.customer = c.id) "
        "SELECT * FROM recent, read_csv('extra.csv'), archive.sales.orders_2024"
    )
    refs = query_datasets("duckdb:///warehouse.duckdb", project, query)
    namespace = f"duckdb://{project / 'warehouse.duckdb'}"
    assert {r.namespace for r in refs} == {namespace}
    assert sorted(r.name for r in refs) == [
        "archive.sales.orders_2024",
        "warehouse.main.customers",
        "warehouse.sales.orders",
    ]
    postgres = query_datasets("postgresql://u:pw@db/shop", project, "SELECT * FROM orders")
    assert [(r.namespace, r.name) for r in postgres] == [
        ("postgres://db:5432", "shop.public.orders")
    ]
    assert query_datasets("duckdb:///warehouse.duckdb", project, "SELEC oops FROM (") == []
