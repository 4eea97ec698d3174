"""Notices delivered to real sinks on 127.0.0.1: an HTTP receiver (up, answering 500, down),
an aiosmtpd server (plain, STARTTLS with login, down) and a JSON-lines file; failures are
retried, recorded in dataward.alert_deliveries, and never carry a secret out."""

from __future__ import annotations

import json
import logging
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from alert_servers import closed_port, http_receiver, self_signed_certificate, smtp_server
from structlog.testing import capture_logs

from dataward.events import configure
from dataward.observe.alerts import (
    AlertSettings,
    Delivery,
    Notice,
    deliver,
    json_body,
    parse_alert_settings,
    read_deliveries,
    record_deliveries,
    slack_body,
    summary,
)
from dataward.observe.store import Anomaly
from dataward.warehouse import Warehouse, connect_warehouse

HOOK = "DW_TEST_ALERT_HOOK"
FAST = "retries = 2\nbackoff_seconds = 0.01\n"  # three attempts, 0.03 s of waiting in all
DETECTED = datetime(2024, 5, 3, 8, 0, 5, tzinfo=UTC)


def freshness(**changes: object) -> Anomaly:
    anomaly = Anomaly(
        target_table="flights.flights",
        metric="freshness_seconds",
        subject="time_hour",
        detector="freshness",
        value=266400.0,
        expected_low=None,
        expected_high=86400.0,
        message="newest row is 3 d 2 h old, SLA 1 d",
        observed_at=datetime(2024, 5, 3, 8, 0, tzinfo=UTC),
        run_id="run-7",
        severity="error",
        detected_at=DETECTED,
    )
    return replace(anomaly, **changes)


def opened(**changes: object) -> Notice:
    return Notice(
        "opened", freshness(**changes), project="flights", pipeline="flights", run_id="r8"
    )


def resolved() -> Notice:
    anomaly = freshness(status="resolved", resolved_at=DETECTED + timedelta(hours=5, minutes=2))
    return Notice("resolved", anomaly, project="flights", pipeline="flights", run_id="r9")


def settings(tmp_path: Path, sinks: str, top: str = FAST) -> AlertSettings:
    text = f"[alerts]\n{top}\n{sinks}"
    config = tmp_path / "dataward.toml"
    config.write_text(text)
    return parse_alert_settings(tomllib.loads(text)["alerts"], config, tmp_path)


def webhook(fmt: str = "generic", extra: str = "") -> str:
    return f'[[alerts.sinks]]\ntype = "webhook"\nurl_env = "{HOOK}"\nformat = "{fmt}"\n{extra}'


def smtp(port: int, extra: str = "") -> str:
    return (
        f'[[alerts.sinks]]\ntype = "smtp"\nhost = "127.0.0.1"\nport = {port}\n'
        f'from = "dataward@example.com"\nto = ["oncall@example.com"]\ntimeout_seconds = 2\n{extra}'
    )


def events_named(logs: list[dict], name: str) -> list[dict]:
    return [e for e in logs if e["event"] == name]


# ------------------------------------------------------------------ messages


def test_the_summary_says_project_event_detector_table_and_what_was_seen():
    assert summary(opened()) == (
        "[dataward flights] OPENED freshness on flights.flights: newest row is 3 d 2 h old, SLA 1 d"
    )
    assert summary(resolved()) == (
        "[dataward flights] RESOLVED freshness on flights.flights after 5 h 2 min "
        "(was: newest row is 3 d 2 h old, SLA 1 d)"
    )


def test_a_notice_is_opened_or_resolved():
    with pytest.raises(ValueError, match="opened or resolved"):
        Notice("reopened", freshness(), project="p")


# ------------------------------------------------------------------ webhooks


def test_a_generic_webhook_receives_the_json_body(tmp_path, monkeypatch):
    with http_receiver() as hook:
        monkeypatch.setenv(HOOK, f"{hook.url}/alerts")
        (delivery,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert (delivery.ok, delivery.attempts, delivery.problem) == (True, 1, None)
    assert (delivery.sink, delivery.key, delivery.event) == (
        f"webhook:{HOOK}",
        "freshness:flights.flights:freshness_seconds:time_hour",
        "opened",
    )
    (request,) = hook.requests
    assert request.path == "/alerts"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body == json_body(opened())
    assert body["event"] == "opened" and body["summary"] == summary(opened())
    assert (body["project"], body["pipeline"], body["run_id"]) == ("flights", "flights", "r8")
    assert body["anomaly"]["value"] == 266400.0
    assert body["anomaly"]["expected_low"] is None and body["anomaly"]["expected_high"] == 86400.0
    assert body["anomaly"]["detected_at"] == "2024-05-03T08:00:05+00:00"
    assert body["anomaly"]["message"] == "newest row is 3 d 2 h old, SLA 1 d"


def test_a_slack_webhook_receives_text_and_blocks(tmp_path, monkeypatch):
    notice = opened(message="rows < expected & late")
    with http_receiver() as hook:
        monkeypatch.setenv(HOOK, hook.url)
        (delivery,) = deliver(settings(tmp_path, webhook("slack")), [notice])
    assert delivery.ok
    body = hook.requests[0].json()
    assert body == slack_body(notice)
    assert body["text"] == summary(notice).replace("&", "&amp;").replace("<", "&lt;")
    assert body["blocks"][0]["text"]["text"] == ":red_circle: OPENED: freshness on flights.flights"
    assert body["blocks"][1]["text"]["text"] == "rows &lt; expected &amp; late"
    fields = [f["text"] for f in body["blocks"][2]["fields"]]
    assert "*expected*\nat most 86400" in fields and "*run*\nr8" in fields


def test_a_server_answering_500_twice_then_200_gets_it_on_the_third_attempt(tmp_path, monkeypatch):
    with http_receiver(statuses=(500, 500), then=200) as hook, capture_logs() as logs:
        monkeypatch.setenv(HOOK, hook.url)
        (delivery,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert (delivery.ok, delivery.attempts) == (True, 3)
    assert len(hook.requests) == 3
    retries = events_named(logs, "alert.delivery.retry")
    assert [(e["attempt"], e["problem"], e["wait_seconds"]) for e in retries] == [
        (1, "HTTP 500: server says no", 0.01),
        (2, "HTTP 500: server says no", 0.02),
    ]
    assert events_named(logs, "alert.delivery.failed") == []


def test_a_server_that_always_answers_500_is_a_recorded_failure_not_an_exception(
    tmp_path, monkeypatch
):
    wh = duckdb_warehouse(tmp_path)
    with http_receiver(then=500) as hook, capture_logs() as logs:
        monkeypatch.setenv(HOOK, hook.url)
        deliveries = deliver(settings(tmp_path, webhook()), [opened()])
    (delivery,) = deliveries
    assert (delivery.ok, delivery.attempts, delivery.problem) == (
        False,
        3,
        "HTTP 500: server says no",
    )
    assert len(hook.requests) == 3
    (failed,) = events_named(logs, "alert.delivery.failed")
    assert failed["sink"] == f"webhook:{HOOK}" and failed["problem"] == "HTTP 500: server says no"
    assert failed["log_level"] == "error"
    record(wh, deliveries)
    assert ledger_rows(wh) == [
        (f"webhook:{HOOK}", delivery.key, "opened", False, 3, "HTTP 500: server says no")
    ]


def test_a_client_error_is_not_retried_but_429_is(tmp_path, monkeypatch):
    with http_receiver(then=404) as hook:
        monkeypatch.setenv(HOOK, hook.url)
        (refused,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert (refused.ok, refused.attempts, len(hook.requests)) == (False, 1, 1)
    assert refused.problem == "HTTP 404: server says no"
    with http_receiver(statuses=(429,), then=204) as hook:
        monkeypatch.setenv(HOOK, hook.url)
        (throttled,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert (throttled.ok, throttled.attempts) == (True, 2)


def test_a_redirect_is_not_followed(tmp_path, monkeypatch):
    with http_receiver(then=301) as hook:
        monkeypatch.setenv(HOOK, hook.url)
        (delivery,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert "redirects are not followed" in (delivery.problem or "")


def test_a_webhook_that_is_down_fails_fast_with_a_small_backoff(tmp_path, monkeypatch):
    monkeypatch.setenv(HOOK, f"http://127.0.0.1:{closed_port()}/hook")
    started = time.monotonic()
    (delivery,) = deliver(settings(tmp_path, webhook()), [opened()])
    assert time.monotonic() - started < 2
    assert (delivery.ok, delivery.attempts) == (False, 3)
    assert (delivery.problem or "").startswith("cannot connect: ConnectError")


def test_a_sink_down_through_all_its_retries_is_tried_once_for_the_next_notices(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(HOOK, f"http://127.0.0.1:{closed_port()}/hook")
    notices = [opened(), opened(subject="dep_time"), resolved()]
    deliveries = deliver(settings(tmp_path, webhook()), notices)
    assert [(d.ok, d.attempts) for d in deliveries] == [(False, 3), (False, 1), (False, 1)]


def test_a_per_sink_retry_setting_overrides_the_global_one(tmp_path, monkeypatch):
    monkeypatch.setenv(HOOK, f"http://127.0.0.1:{closed_port()}/hook")
    (delivery,) = deliver(settings(tmp_path, webhook(extra="retries = 0\n")), [opened()])
    assert delivery.attempts == 1


def test_an_unset_variable_is_reported_as_not_configured_and_recorded(tmp_path, monkeypatch):
    monkeypatch.delenv(HOOK, raising=False)
    wh = duckdb_warehouse(tmp_path)
    with capture_logs() as logs:
        deliveries = deliver(settings(tmp_path, webhook()), [opened()])
    (delivery,) = deliveries
    assert (delivery.ok, delivery.attempts) == (False, 0)
    assert delivery.problem == f"not configured: variable {HOOK} is unset"
    assert events_named(logs, "alert.delivery.failed")[0]["problem"] == delivery.problem
    record(wh, deliveries)
    assert ledger_rows(wh)[0][3:] == (False, 0, delivery.problem)


# ------------------------------------------------------------------ e-mail


def test_an_email_carries_the_summary_in_its_subject_and_body(tmp_path):
    with smtp_server() as server:
        deliveries = deliver(settings(tmp_path, smtp(server.port)), [opened(), resolved()])
        assert [(d.ok, d.attempts) for d in deliveries] == [(True, 1), (True, 1)]
        first, second = server.messages
    assert server.mailbox.envelopes[0] == ("dataward@example.com", ["oncall@example.com"])
    assert first["Subject"] == summary(opened())
    assert first["To"] == "oncall@example.com" and first["From"] == "dataward@example.com"
    text = first.get_content().replace("\r\n", "\n")  # as it travelled: CRLF lines
    assert text.startswith(summary(opened()) + "\n")
    assert "expected  at most 86400" in text and "run       r8" in text
    # The resolved message answers the opened one: one thread per incident.
    assert second["Subject"] == summary(resolved())
    assert second["In-Reply-To"] == first["Message-ID"]


def test_smtp_with_starttls_and_login(tmp_path, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's own certificate
    monkeypatch.setenv("DW_T_SMTP_USER", "alerts")
    monkeypatch.setenv("DW_T_SMTP_PASSWORD", "pa55-w0rd-xyz")
    extra = (
        'starttls = true\nusername_env = "DW_T_SMTP_USER"\npassword_env = "DW_T_SMTP_PASSWORD"\n'
    )
    with smtp_server(login=("alerts", "pa55-w0rd-xyz"), tls=(cert, key)) as server:
        (delivery,) = deliver(settings(tmp_path, smtp(server.port, extra)), [opened()])
        assert (delivery.ok, delivery.attempts) == (True, 1)
        assert len(server.messages) == 1
        monkeypatch.setenv("DW_T_SMTP_PASSWORD", "wrong-pa55-abc")
        (refused,) = deliver(settings(tmp_path, smtp(server.port, extra)), [opened()])
    assert (refused.ok, refused.attempts) == (False, 1)  # a bad password is not retried
    assert (refused.problem or "").startswith("SMTP 535")


def test_smtp_without_a_trusted_certificate_is_refused_not_retried(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    with smtp_server(tls=(cert, key)) as server:
        (delivery,) = deliver(
            settings(tmp_path, smtp(server.port, "starttls = true\n")), [opened()]
        )
        assert server.messages == []
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert "certificate is not trusted" in (delivery.problem or "")


def test_an_smtp_server_that_is_down_is_a_failed_delivery(tmp_path):
    port = closed_port()
    wh = duckdb_warehouse(tmp_path)
    deliveries = deliver(settings(tmp_path, smtp(port)), [opened()])
    (delivery,) = deliveries
    assert (delivery.ok, delivery.attempts, delivery.sink) == (False, 3, f"smtp:127.0.0.1:{port}")
    assert "ConnectionRefusedError" in (delivery.problem or "")
    record(wh, deliveries)
    assert ledger_rows(wh)[0][3:5] == (False, 3)


def test_an_unset_smtp_password_is_not_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("DW_T_SMTP_USER", "alerts")
    monkeypatch.delenv("DW_T_SMTP_PASSWORD", raising=False)
    extra = 'username_env = "DW_T_SMTP_USER"\npassword_env = "DW_T_SMTP_PASSWORD"\n'
    (delivery,) = deliver(settings(tmp_path, smtp(closed_port(), extra)), [opened()])
    assert (delivery.ok, delivery.attempts) == (False, 0)
    assert delivery.problem == "not configured: variable DW_T_SMTP_PASSWORD is unset"


# ------------------------------------------------------------------ JSON lines and stderr


def test_a_jsonl_file_gets_one_line_per_notice(tmp_path):
    sink = '[[alerts.sinks]]\ntype = "jsonl"\npath = "logs/alerts.jsonl"\n'
    notices = [opened(), resolved()]
    deliveries = deliver(settings(tmp_path, sink), notices)
    deliver(settings(tmp_path, sink), [opened(subject="dep_time")])  # appends, keeps the rest
    assert all(d.ok for d in deliveries)
    lines = (tmp_path / "logs" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines[:2]] == [json_body(n) for n in notices]
    assert len(lines) == 3 and json.loads(lines[2])["anomaly"]["subject"] == "dep_time"


def test_a_jsonl_file_that_cannot_be_written_fails_that_sink_only(tmp_path, monkeypatch):
    (tmp_path / "logs").write_text("a file where a directory should be")
    sinks = '[[alerts.sinks]]\ntype = "jsonl"\npath = "logs/alerts.jsonl"\n' + webhook()
    with http_receiver() as hook:
        monkeypatch.setenv(HOOK, hook.url)
        broken, delivered = deliver(settings(tmp_path, sinks), [opened()])
    assert (broken.ok, broken.attempts) == (False, 1)
    assert "cannot write" in (broken.problem or "")
    assert delivered.ok and len(hook.requests) == 1


def test_every_notice_is_an_event_on_stderr_even_with_no_sinks(tmp_path):
    with capture_logs() as logs:
        assert deliver(settings(tmp_path, ""), [opened(), resolved()]) == []
    (alert,) = events_named(logs, "alert")
    assert alert["log_level"] == "error" and alert["summary"] == summary(opened())
    assert alert["table"] == "flights.flights" and alert["value"] == 266400.0
    (cleared,) = events_named(logs, "alert.resolved")
    assert cleared["log_level"] == "info" and cleared["key"] == alert["key"]


def test_a_notice_a_sink_cannot_render_is_a_failed_delivery_and_still_announced(
    tmp_path, monkeypatch
):
    broken = opened(value="not a number")  # a caller's bug: the type says float
    with http_receiver() as hook, capture_logs() as logs:
        monkeypatch.setenv(HOOK, hook.url)
        (delivery,) = deliver(settings(tmp_path, webhook()), [broken, opened(subject="x")])[:1]
    assert not delivery.ok and "unexpected" in (delivery.problem or "")
    assert len(events_named(logs, "alert")) == 2
    assert len(hook.requests) == 1  # the next notice still went out


# ------------------------------------------------------------------ the ledger


WarehouseAt = Callable[[], Warehouse]  # a new connection each time: a closed one is spent


def duckdb_warehouse(tmp_path: Path) -> WarehouseAt:
    return lambda: connect_warehouse("duckdb:///warehouse.duckdb", tmp_path)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> WarehouseAt:
    if request.param == "duckdb":
        return duckdb_warehouse(tmp_path)
    url = request.getfixturevalue("pg_url")
    return lambda: connect_warehouse(url, tmp_path)


def record(at: WarehouseAt, deliveries: list[Delivery]) -> None:
    wh = at()
    wh.open()
    try:
        wh.begin()
        record_deliveries(wh, deliveries)
        wh.commit()
    finally:
        wh.close()


def query(at: WarehouseAt, sql: str) -> list[tuple]:
    wh = at()
    wh.open()
    try:
        return wh.rows(sql)
    finally:
        wh.close()


def ledger_rows(at: WarehouseAt) -> list[tuple]:
    return query(
        at,
        "SELECT sink, anomaly_key, event, ok, attempts, problem "
        "FROM dataward.alert_deliveries ORDER BY delivered_at, sink",
    )


def read_back(at: WarehouseAt, *, failed_only: bool = False) -> list[Delivery]:
    wh = at()
    wh.open()
    try:
        return read_deliveries(wh, failed_only=failed_only)
    finally:
        wh.close()


def test_deliveries_are_recorded_and_read_back_on_both_warehouses(warehouse):
    at = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)
    deliveries = [
        Delivery("jsonl:a.jsonl", "k1", "opened", True, 1, None, "id1", "r1", at),
        Delivery(f"webhook:{HOOK}", "k1", "opened", False, 4, "HTTP 503", "id1", "r1", at),
    ]
    record(warehouse, deliveries)
    record(warehouse, deliveries[1:])  # the table exists now: appended to
    assert read_back(warehouse) == [*deliveries, deliveries[1]]
    assert read_back(warehouse, failed_only=True) == [deliveries[1], deliveries[1]]


def test_reading_deliveries_before_any_were_recorded_finds_none(tmp_path):
    assert read_back(duckdb_warehouse(tmp_path)) == []


# ------------------------------------------------------------------ secrets


TOKEN = "xoxb-T0KEN-s3cr3t"
PASSWORD = "hunter2-Pa55w0rd"


@pytest.fixture
def printed_events() -> Iterator[None]:
    """The test renders events as the CLI does (configure); the defaults come back after."""
    saved = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**saved)


def test_no_secret_reaches_the_output_the_file_or_the_ledger(
    tmp_path, monkeypatch, capfd, caplog, printed_events
):
    configure(json=True, level="debug")  # JSON lines on stderr (now captured), as the CLI
    caplog.set_level(logging.DEBUG)  # an application that logs everything, httpx included
    monkeypatch.setenv("DW_T_SMTP_USER", "alerts")
    monkeypatch.setenv("DW_T_SMTP_PASSWORD", PASSWORD)
    login = 'username_env = "DW_T_SMTP_USER"\npassword_env = "DW_T_SMTP_PASSWORD"\n'
    sinks = "\n".join(
        [
            webhook(),
            webhook("slack", 'name = "slack"\n'),
            smtp(0, login).replace("port = 0", "port = PORT"),
            '[[alerts.sinks]]\ntype = "jsonl"\npath = "alerts.jsonl"\n',
        ]
    )
    wh = duckdb_warehouse(tmp_path)
    # The server answers with the path it was sent (the token), then accepts.
    with http_receiver(statuses=(500, 500, 500, 500), echo_path=True) as hook:
        monkeypatch.setenv(HOOK, f"{hook.url}/services/{TOKEN}?token={TOKEN}")
        with smtp_server(login=("alerts", "not-the-password")) as server:
            config = settings(tmp_path, sinks.replace("PORT", str(server.port)))
            deliveries = deliver(config, [opened(), resolved()])
        down = deliver(config, [opened()])  # SMTP is gone now
    assert any(TOKEN in r.path for r in hook.requests)  # the secret was used...
    assert any(d.problem == "HTTP 500: no route for ***" for d in deliveries)
    record(wh, [*deliveries, *down])
    out, err = capfd.readouterr()
    assert "alert.delivery.failed" in err and "alert.delivery.retry" in err
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # httpx did log
    ledger = json.dumps(query(wh, "SELECT * FROM dataward.alert_deliveries"), default=str)
    places = {
        "stdout": out,
        "stderr": err,
        "logging": caplog.text,
        "jsonl": (tmp_path / "alerts.jsonl").read_text(),
        "ledger": ledger,
    }
    for where, text in places.items():  # ...and is nowhere else
        assert TOKEN not in text, where
        assert PASSWORD not in text, where
        assert hook.url.split("//")[1] + "/services" not in text, where
