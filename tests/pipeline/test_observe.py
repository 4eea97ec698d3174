"""Observability after real runs: metrics, anomalies, freshness, status and check.

Every test runs real pipelines into a real warehouse (DuckDB and PostgreSQL) and reads
what they stored; `status` and `check` are the real CLI. Histories older than the test
are written into the ledger the way runs write them (runs + metrics), dated in the past.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_kit import contract_yaml, pipeline_toml

from dataward.observe.store import Metric, ensure_observe_tables, write_metrics
from dataward.pipeline import ledger
from dataward.pipeline.ledger import Counts, RunRecord
from dataward.pipeline.run import new_run_id
from dataward.project.config import load_project
from dataward.warehouse import project_warehouse

NOW = datetime.now(UTC)

EVENTS = contract_yaml(
    "orders",
    [
        ("order_id", "BIGINT", {"primaryKey": True}),
        ("amount", "DECIMAL(10,2)", {"required": True}),
        ("status", "TEXT", {}),
        ("created_at", "TIMESTAMPTZ", {"required": True}),
    ],
)


def with_sla(contract: str, days: int) -> str:
    import yaml

    doc = yaml.safe_load(contract)
    doc["slaProperties"] = [
        {"property": "latency", "value": days, "unit": "d", "element": "orders.created_at"}
    ]
    return yaml.safe_dump(doc, sort_keys=False)


def events_csv(rows: int, created: datetime, start: int = 0, status: bool = True) -> str:
    header = "order_id,amount,created_at" + (",status" if status else "")
    lines = [header]
    for i in range(start, start + rows):
        stamp = (created - timedelta(seconds=i)).isoformat()
        lines.append(
            f"{i},{i % 100}.50,{stamp}" + (f",{'paid' if i % 2 else 'new'}" if status else "")
        )
    return "\n".join(lines) + "\n"


def metrics_of(project, run_id: str) -> dict[tuple[str, str], float]:
    found = project.query(
        "SELECT metric, subject, value FROM dataward.metrics WHERE run_id = ?", [run_id]
    )
    return {(m, s): v for m, s, v in found}


def anomalies(project, status: str = "open") -> list[dict]:
    names = ("detector", "metric", "subject", "value", "expected_low", "expected_high", "message")
    found = project.query(
        f"SELECT {', '.join(names)} FROM dataward.anomalies WHERE status = ? ORDER BY detector",
        [status],
    )
    return [dict(zip(names, r, strict=True)) for r in found]


def test_a_run_stores_its_metrics(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(10, NOW))
    outcome = project.run()
    measured = metrics_of(project, outcome.record.run_id)
    assert measured[("rows_extracted", "")] == 10
    assert measured[("rows_loaded", "")] == 10
    assert measured[("reject_rate", "")] == 0
    assert measured[("null_rate", "status")] == 0
    assert measured[("null_rate", "order_id")] == 0
    # HyperLogLog is exact at this size.
    assert measured[("distinct_count", "status")] == 2
    assert measured[("distinct_count", "order_id")] == 10
    assert {s for (m, s) in measured if m == "source_column"} == {
        "order_id",
        "amount",
        "created_at",
        "status",
    }


def test_an_identical_rerun_adds_no_history(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(10, NOW))
    project.run()
    again = project.run()
    assert again.record.status == "succeeded"
    assert metrics_of(project, again.record.run_id) == {}


def test_rejects_are_counted_per_check(new_project):
    csv = events_csv(10, NOW).replace("\n3,3.50,", "\n3,abc,")
    project = new_project(contract=EVENTS, csv=csv, pipeline=pipeline_toml(max_reject_rate=0.5))
    outcome = project.run()
    measured = metrics_of(project, outcome.record.run_id)
    assert measured[("rows_rejected", "")] == 1
    assert measured[("reject_rate", "")] == pytest.approx(0.1)
    checks = {s: v for (m, s), v in measured.items() if m == "rejects"}
    assert sum(checks.values()) == 1, checks


def test_a_failed_run_opens_one_incident_and_the_next_success_resolves_it(new_project):
    bad = events_csv(4, NOW).replace("\n1,1.50,", "\n1,abc,")
    project = new_project(contract=EVENTS, csv=bad, pipeline=pipeline_toml(max_reject_rate=0.1))
    assert project.run().record.status == "failed"
    (incident,) = anomalies(project)
    assert incident["detector"] == "reject_rate"
    assert incident["value"] == pytest.approx(0.25) and incident["expected_high"] == 0.1
    assert "1 of 4 rows (25.00%)" in incident["message"]
    # Failing again is the same incident: still one.
    assert project.run().record.status == "failed"
    assert len(anomalies(project)) == 1
    status = project.cli("status", "--format", "json")
    assert status.returncode == 1, status.stderr
    (row,) = json.loads(status.stdout)
    assert row["last_run"]["status"] == "failed"
    assert [a["detector"] for a in row["open_anomalies"]] == ["reject_rate"]
    project.csv(events_csv(4, NOW))
    assert project.run().record.status == "succeeded"
    assert anomalies(project) == []
    (resolved,) = anomalies(project, "resolved")
    assert resolved["detector"] == "reject_rate"
    status = project.cli("status", "--format", "json")
    assert status.returncode == 0, status.stdout + status.stderr


def test_stale_rows_breach_the_sla_and_status_says_so(new_project):
    project = new_project(contract=with_sla(EVENTS, 1), csv=events_csv(5, NOW - timedelta(days=3)))
    project.run()
    (incident,) = anomalies(project)
    assert incident["detector"] == "freshness"
    assert incident["metric"] == "newest_row_age_seconds"
    assert incident["value"] == pytest.approx(3 * 86400, rel=0.01)
    assert incident["expected_high"] == 86400
    assert "3 d 0 h old, SLA 1 d 0 h" in incident["message"]
    text = project.cli("status")
    assert text.returncode == 1
    assert "breached" in text.stdout and "3 d 0 h" in text.stdout
    # Fresh rows clear it.
    project.csv(events_csv(5, NOW, start=100))
    project.run()
    assert anomalies(project) == []


def test_future_timestamps_are_a_finding_of_their_own(new_project):
    future = events_csv(2, NOW + timedelta(days=30), start=500).splitlines()[1:]
    csv = events_csv(3, NOW - timedelta(hours=2)) + "\n".join(future) + "\n"
    project = new_project(contract=with_sla(EVENTS, 1), csv=csv)
    project.run()
    (incident,) = anomalies(project)
    assert incident["detector"] == "future_timestamps"
    assert incident["value"] == 2
    status = json.loads(project.cli("status", "--format", "json").stdout)[0]
    assert status["future_rows"] == 2
    # Freshness is measured without them: the newest real row is the one two hours old.
    newest = datetime.fromisoformat(status["newest_row_at"])
    assert abs((newest - (NOW - timedelta(hours=2))).total_seconds()) < 1
    assert status["sla_breached"] is False


def test_a_source_that_stops_bringing_a_column_is_schema_drift(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(5, NOW))
    project.run()
    project.csv(events_csv(5, NOW, start=10, status=False))
    outcome = project.run()
    assert outcome.record.status == "succeeded"  # status is optional: the load is right
    (incident,) = anomalies(project)
    assert incident["detector"] == "schema_drift"
    assert "missing column(s) status" in incident["message"]


def _history(project, days: int, rows: int, table: str = "orders") -> None:
    """`days` daily successful runs of `rows` rows, ending yesterday, as runs record them."""
    dw = load_project(project.root, warehouse=project.warehouse_url)
    wh = project_warehouse(dw)
    wh.open()
    try:
        wh.begin()
        ledger.ensure_ledger(wh)
        ensure_observe_tables(wh)
        for day in range(days, 0, -1):
            at = NOW - timedelta(days=day)
            run = RunRecord(
                run_id=new_run_id(),
                pipeline="orders",
                target_table=table,
                mode="merge",
                status="succeeded",
                started_at=at,
                finished_at=at + timedelta(seconds=5),
                counts=Counts(extracted=rows, inserted=rows),
            )
            ledger.insert_run(wh, run)
            write_metrics(
                wh,
                [
                    Metric(run.run_id, table, at, "rows_extracted", "", rows + (day % 3) * 10),
                    Metric(run.run_id, table, at, "null_rate", "status", 0.0),
                ],
            )
        wh.commit()
    finally:
        wh.close()


def test_a_volume_drop_after_a_steady_history_is_flagged(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(300, NOW))
    _history(project, 14, 1000)
    project.run()
    found = {a["detector"]: a for a in anomalies(project)}
    assert set(found) == {"day_over_day", "robust"}, found
    drop = found["day_over_day"]
    assert drop["metric"] == "daily_rows_extracted" and drop["value"] == 300
    assert found["robust"]["metric"] == "rows_extracted"
    assert found["robust"]["expected_low"] > 300


def test_a_steady_delivery_after_a_steady_history_is_not_flagged(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(1005, NOW))
    _history(project, 14, 1000)
    project.run()
    assert anomalies(project) == []


def test_a_null_rate_surge_is_flagged(new_project):
    csv = events_csv(100, NOW)
    lines = csv.splitlines()
    lines = [lines[0]] + [line.rsplit(",", 1)[0] + "," for line in lines[1:]]
    project = new_project(contract=EVENTS, csv="\n".join(lines) + "\n")
    _history(project, 14, 100)
    project.run()
    found = [a for a in anomalies(project) if a["metric"] == "null_rate"]
    assert [a["subject"] for a in found] == ["status"]
    assert found[0]["value"] == 1.0


def test_one_run_of_history_says_so_and_flags_nothing(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(10, NOW))
    project.run()
    result = project.cli("check", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    (entry,) = json.loads(result.stdout)["pipelines"]
    assert entry["anomalies"] == []
    assert any("7 needed" in note or "needed" in note for note in entry["notes"]), entry


def test_status_and_check_on_an_empty_ledger_say_there_is_no_history(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(3, NOW))
    for command in ("status", "check"):
        result = project.cli(command)
        assert result.returncode == 0, result.stderr
        assert "no history yet" in result.stdout
        assert "Traceback" not in result.stderr


def test_status_of_an_unknown_table_is_a_usage_error(new_project):
    project = new_project(contract=EVENTS, csv=events_csv(3, NOW))
    project.run()
    result = project.cli("status", "nope")
    assert result.returncode == 2
    assert "no table or pipeline named 'nope'" in result.stderr


def _lineage_events(project) -> list[dict]:
    path = project.root / "lineage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_runs_emit_openlineage_events_through_the_project_config(new_project, monkeypatch):
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.delenv("OPENLINEAGE_DISABLED", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    project = new_project(contract=EVENTS, csv=events_csv(6, NOW))
    project.write(
        "openlineage.yml",
        "transport:\n  type: file\n  log_file_path: lineage.jsonl\n  append: true\n",
    )
    ok = project.run()
    project.csv(events_csv(4, NOW).replace("\n1,1.50,", "\n1,abc,"))
    project.write("pipelines/orders.toml", pipeline_toml(max_reject_rate=0.1))
    failed = project.run()
    assert failed.record.status == "failed"
    events = _lineage_events(project)
    assert [(e["eventType"], e["run"]["runId"]) for e in events] == [
        ("START", ok.record.run_id),
        ("COMPLETE", ok.record.run_id),
        ("START", failed.record.run_id),
        ("FAIL", failed.record.run_id),
    ]
    complete = events[1]
    assert complete["job"] == {**complete["job"], "namespace": "test", "name": "orders"}
    (output,) = complete["outputs"]
    assert output["name"].endswith("orders")
    fields = {f["name"]: f["type"] for f in output["facets"]["schema"]["fields"]}
    assert fields["amount"] == "DECIMAL(10,2)" and "created_at" in fields
    # A dataset facet in openlineage-python 1.x (the spec's DataQualityMetrics facet).
    quality = output["facets"]["dataQualityMetrics"]
    assert quality["rowCount"] == 6
    assert quality["columnMetrics"]["status"]["nullCount"] == 0
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 6
    (source,) = complete["inputs"]
    assert source["name"].endswith("data/orders.csv")
    error = events[3]["run"]["facets"]["errorMessage"]
    assert "rejected" in error["message"]


def test_a_source_url_token_never_reaches_the_anomaly_or_its_alert(new_project, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    project = new_project(contract=EVENTS, csv=events_csv(3, NOW))
    url = f"http://127.0.0.1:{port}/orders?api_key=SECRET-TOKEN-123"
    project.write(
        "pipelines/orders.toml",
        f'contract = "contracts/orders.odcs.yaml"\n[source]\nhttp = "{url}"\n',
    )
    alerts = tmp_path / "alerts.jsonl"
    project.write(
        "dataward.toml",
        (project.root / "dataward.toml").read_text()
        + f'\n[[alerts.sinks]]\ntype = "jsonl"\npath = "{alerts}"\n',
    )
    result = project.cli("run")
    assert result.returncode != 0
    (incident,) = anomalies(project)
    assert incident["detector"] == "run_failed"
    assert "SECRET-TOKEN-123" not in incident["message"]
    assert "127.0.0.1" in incident["message"] or "orders" in incident["message"]
    assert alerts.read_text().strip(), "the alert was delivered"
    assert "SECRET-TOKEN-123" not in alerts.read_text()


def test_one_pipeline_never_resolves_another_pipelines_failed_run(new_project):
    bad = events_csv(4, NOW).replace("\n1,1.50,", "\n1,abc,")
    project = new_project(contract=EVENTS, csv=events_csv(4, NOW))
    project.write("data/bad.csv", bad)
    # A second pipeline loading the same table from another source.
    project.write(
        "pipelines/backfill.toml", pipeline_toml(path="data/bad.csv", max_reject_rate=0.1)
    )
    assert project.run("backfill").record.status == "failed"
    assert [a["detector"] for a in anomalies(project)] == ["reject_rate"]
    assert project.run("orders").record.status == "succeeded"
    # orders succeeding says nothing about backfill: its incident stays open.
    assert [a["detector"] for a in anomalies(project)] == ["reject_rate"]
    assert anomalies(project, "resolved") == []
