"""ALERT: a failed run POSTs JSON to the webhook named in dataward.toml (the legacy
`[alerts] webhook_url_env`, the same as one webhook sink: docs/alerts.md), once per
incident; a webhook that is down changes nothing about the run's outcome."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pipeline_kit import pipeline_toml, stderr_events

ENV = "DW_TEST_WEBHOOK_URL"
CONFIG = f'\n[alerts]\nwebhook_url_env = "{ENV}"\n'
# Half the rows do not parse: far above the threshold, so the run fails.
BAD = "order_id,amount,status\n1,1.50,paid\n2,abc,new\n"


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(
            {"content_type": self.headers.get("Content-Type"), "body": self.rfile.read(length)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    class Handler(_Receiver):
        received: list[dict] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", Handler.received
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_run_posts_its_pipeline_run_status_and_reason(new_project, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv(ENV, url)
    project = new_project(csv=BAD, pipeline=pipeline_toml(max_reject_rate=0.1), config=CONFIG)
    outcome = project.run()
    assert outcome.record.status == "failed"
    (post,) = received
    assert post["content_type"] == "application/json"
    body = json.loads(post["body"])
    assert body["event"] == "opened"
    assert body["pipeline"] == "orders"
    assert body["run_id"] == outcome.record.run_id
    assert body["anomaly"]["detector"] == "reject_rate"
    assert "rejected 1 of 2 rows" in body["anomaly"]["message"]
    # Failing again is the same incident: no second POST; a success resolves it.
    assert project.run().record.status == "failed"
    assert len(received) == 1
    project.csv("order_id,amount,status\n1,1.50,paid\n")
    assert project.run().record.status == "succeeded"
    assert [json.loads(p["body"])["event"] for p in received] == ["opened", "resolved"]


def test_a_succeeded_run_posts_nothing(new_project, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv(ENV, url)
    project = new_project(csv="order_id,amount,status\n1,1.50,paid\n", config=CONFIG)
    assert project.run().record.status == "succeeded"
    assert received == []


def test_a_webhook_that_is_down_does_not_change_the_exit_code(new_project):
    project = new_project(csv=BAD, pipeline=pipeline_toml(max_reject_rate=0.1), config=CONFIG)
    result = project.cli("run", env={ENV: f"http://127.0.0.1:{_free_port()}/hook"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    events = [e["event"] for e in stderr_events(result.stderr)]
    assert "alert" in events and "alert.delivery.failed" in events
    assert "127.0.0.1" not in json.dumps(
        [e for e in stderr_events(result.stderr) if e["event"].startswith("alert.")]
    )  # the URL may hold a token: only the variable is named
