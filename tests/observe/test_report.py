"""`dataward report`: the page's content from a real DuckDB ledger, its charts compiled by
the real Vega-Lite compiler, no network reference, hostile names escaped, and the command
on an empty ledger and on bad inputs.

`sample_report` builds the ledger the browser test (test_report_browser.py) opens too: two
tables, two weeks of daily runs with one failed run, a volume drop and a null-rate spike
recorded as anomalies, rejects, freshness within and over the SLA, and a real audit."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
import vl_convert
from typer.testing import CliRunner

from dataward.audit.report import as_json, as_sarif
from dataward.audit.run import audit
from dataward.cli.report import report
from dataward.errors import UsageError
from dataward.observe.freshness import Freshness
from dataward.observe.report import chart_specs, render_report, write_atomically
from dataward.observe.report_data import (
    ReportData,
    collect_report_data,
    read_audit_file,
)
from dataward.observe.store import (
    NULL_RATE,
    ROWS_EXTRACTED,
    ROWS_LOADED,
    Anomaly,
    Metric,
    ensure_observe_tables,
    record_anomalies,
    write_metrics,
)
from dataward.pipeline.ledger import Counts, RunRecord, ensure_ledger, insert_run
from dataward.warehouse import Warehouse, connect_warehouse

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
CHARTS = ["chart-runs", "chart-volume", "chart-rejects", "chart-null-rates", "chart-freshness"]
HOSTILE = '<img src=x onerror="alert(1)">'
HOSTILE_CHECK = "</script><script>alert(2)</script>"


# ---------------------------------------------------------------- a ledger to report on


@dataclass
class TableHistory:
    table: str
    days: int = 14
    drop_day: int | None = None  # rows extracted fall to 200 that day: a volume anomaly
    spike_day: int | None = None  # email is 40% null that day: a null-rate anomaly
    failed_day: int | None = None
    check: str = "not_null"


def open_warehouse(root: Path, url: str = "duckdb:///wh.duckdb") -> Warehouse:
    wh = connect_warehouse(url, root, 5)
    wh.open()
    return wh


def fill_history(wh: Warehouse, history: TableHistory) -> None:
    """Daily runs ending yesterday, their metrics, rejects and the anomalies a detector
    would have recorded, all in one transaction."""
    wh.begin()
    ensure_ledger(wh)
    ensure_observe_tables(wh)
    seen: list[Anomaly] = []
    for day in range(history.days):
        started = NOW - timedelta(days=history.days - day, hours=1)
        extracted = 200 if day == history.drop_day else 1000 + (day * 37) % 50
        rejected = 2 + day % 3
        failed = day == history.failed_day
        run = RunRecord(
            run_id=f"{history.table}-{day:02d}",
            pipeline=history.table,
            target_table=history.table,
            mode="merge",
            status="failed" if failed else "succeeded",
            started_at=started,
            finished_at=started + timedelta(seconds=20 + (day % 5) * 4 + (30 if failed else 0)),
            counts=Counts(
                extracted=extracted,
                rejected=rejected,
                inserted=0 if failed else extracted - rejected,
            ),
            reason="the source file is truncated" if failed else None,
        )
        insert_run(wh, run)
        _insert_rejects(wh, run, history.check)
        if failed:
            continue
        email_nulls = 0.4 if day == history.spike_day else 0.01 + (day % 4) / 200
        write_metrics(
            wh,
            [
                Metric(run.run_id, history.table, started, ROWS_EXTRACTED, "", extracted),
                Metric(run.run_id, history.table, started, ROWS_LOADED, "", extracted - rejected),
                Metric(run.run_id, history.table, started, NULL_RATE, "email", email_nulls),
                Metric(run.run_id, history.table, started, NULL_RATE, "amount", 0.0),
            ],
        )
        if day == history.drop_day:
            seen.append(_anomaly(history.table, ROWS_EXTRACTED, "", extracted, 950, 1100, run))
        if day == history.spike_day:
            seen.append(_anomaly(history.table, NULL_RATE, "email", email_nulls, 0, 0.05, run))
    record_anomalies(wh, seen, [history.table])
    wh.commit()


def _insert_rejects(wh: Warehouse, run: RunRecord, check: str) -> None:
    for row in range(run.counts.rejected):
        reasons = [{"check": check, "column": "amount", "value": "", "message": "is null"}]
        if row == 0:  # the first reject of a run fails two checks
            reasons.append(
                {"check": "accepted_values", "column": "status", "value": "x", "message": "?"}
            )
        wh.execute(
            "INSERT INTO dataward.rejects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run.run_id,
                run.target_table,
                "data.csv",
                row,
                row + 2,
                "validate",
                "{}",
                json.dumps(reasons),
            ],
        )


def _anomaly(
    table: str, metric: str, subject: str, value: float, low: float, high: float, run: RunRecord
) -> Anomaly:
    return Anomaly(
        target_table=table,
        metric=metric,
        subject=subject,
        detector="robust",
        value=value,
        expected_low=low,
        expected_high=high,
        message=f"{table}: {metric}({subject}) was {value:g}, expected {low:g} to {high:g}",
        observed_at=run.started_at,
        run_id=run.run_id,
        detected_at=run.finished_at or NOW,
    )


def freshness_of(table: str, newest_age: timedelta, sla: timedelta | None) -> Freshness:
    return Freshness(
        pipeline=table,
        table=table,
        time_column="updated_at",
        newest_row_at=NOW - newest_age,
        last_success_at=NOW - timedelta(hours=23),
        sla=sla,
        checked_at=NOW,
    )


def audit_file(directory: Path) -> Path:
    """A real `dataward audit --format json` report of a repository with one migration."""
    repo = directory / "repo"
    (repo / "migrations").mkdir(parents=True)
    (repo / "migrations" / "001_init.sql").write_text(
        "CREATE TABLE orders (id int PRIMARY KEY, amount float);\n"
        "ALTER TABLE orders ADD COLUMN note text NOT NULL;\n"
    )
    path = directory / "audit.json"
    path.write_text(json.dumps(as_json(audit(repo)), indent=2))
    return path


def sample_report(root: Path, tables: tuple[str, str] = ("orders", "customers")) -> ReportData:
    orders, customers = tables
    wh = open_warehouse(root)
    try:
        fill_history(wh, TableHistory(orders, drop_day=9, failed_day=11))
        fill_history(wh, TableHistory(customers, spike_day=12, check="unique"))
        freshness = [
            freshness_of(orders, timedelta(hours=3), timedelta(hours=26)),
            freshness_of(customers, timedelta(hours=50), timedelta(hours=26)),
        ]
        return collect_report_data(
            wh,
            project="shop",
            freshness=freshness,
            audit=read_audit_file(audit_file(root)),
            now=NOW,
        )
    finally:
        wh.close()


def specs_in(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="dataward-specs">(.*?)</script>', page)
    assert found, "the page holds no chart specs"
    return json.loads(found.group(1))


def page_without_bundle(page: str) -> str:
    """The page with the inlined Vega scripts cut out: what this module wrote itself."""
    head, rest = page.split("<script>", 1)
    return head + rest.split("</script>", 1)[1]


# ---------------------------------------------------------------- the page


@dataclass
class Sample:
    data: ReportData
    page: str


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    # Built once: rendering validates every chart against the Vega-Lite schema (~1 s).
    data = sample_report(tmp_path_factory.mktemp("sample"))
    return Sample(data, render_report(data))


def test_every_chart_is_valid_vega_lite_with_the_ledgers_numbers(sample):
    specs = specs_in(sample.page)
    assert list(specs) == CHARTS
    for spec in specs.values():
        vl_convert.vegalite_to_vega(spec)  # the real compiler: raises on a broken spec
    text = json.dumps(specs)
    # The volume drop, its band, the null-rate spike, the failed run's reason.
    assert '"rows": 200.0' in text
    assert '"low": 950.0, "high": 1100.0' in text
    assert '"rate": 0.4' in text
    assert "the source file is truncated" in text
    for key in CHARTS:
        assert f'<div class="dataward-chart" id="{key}"></div>' in sample.page


def test_the_page_needs_no_network_and_carries_the_scripts_once(sample):
    page = sample.page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"@import|url\(", page_without_bundle(page))
    # The only addresses outside the scripts name each spec's schema (never fetched).
    addresses = set(re.findall(r"https?://[^\s\"']+", page_without_bundle(page)))
    assert addresses == {"https://vega.github.io/schema/vega-lite/v6.4.1.json"}
    assert page.count("window.vegaEmbed=") == 1
    assert page.count("<script>") == 2  # the bundle and the driver
    assert 800_000 < len(page) < 2_000_000


def test_rejects_are_counted_per_table_check_and_column(sample):
    data = sample.data
    counted = {(c.target_table, c.check, c.column): c.rows for c in data.rejects}
    # The latest 20 runs with rejects: customers' 14 (2 + day % 3 rejects each: 41 rows)
    # and orders' days 8 to 13 (18 rows), every reject null in amount ...
    assert data.reject_scope.runs == 20
    assert counted[("customers", "unique", "amount")] == 41
    assert counted[("orders", "not_null", "amount")] == 18
    # ... and the first of each run also failed accepted_values on status.
    assert counted[("customers", "accepted_values", "status")] == 14
    assert counted[("orders", "accepted_values", "status")] == 6
    assert data.reject_scope.rows_read == data.reject_scope.rows_total == 59


def test_the_audit_findings_are_listed_by_severity(sample):
    assert sample.data.audit is not None
    severities = [f.severity for f in sample.data.audit.findings]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    assert severities[0] == "high"
    assert '<tr class="severity-high"><td>high</td><td>float-for-money</td>' in sample.page


def test_without_an_audit_the_section_says_how_to_add_one(tmp_path):
    wh = open_warehouse(tmp_path)
    try:
        fill_history(wh, TableHistory("orders", days=3))
        page = render_report(collect_report_data(wh, project="shop", now=NOW))
    finally:
        wh.close()
    assert "No audit attached" in page
    assert "dataward audit --format json --output audit.json" in page


def test_names_and_reasons_are_escaped(tmp_path):
    data = sample_report(tmp_path, tables=(HOSTILE, HOSTILE_CHECK))
    page = render_report(data)
    for raw in (HOSTILE, HOSTILE_CHECK, "<script>alert"):
        assert raw not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    # Inside the chart data the names are exact (Vega draws them as text).
    assert json.dumps(HOSTILE) in json.dumps(specs_in(page))
    assert page.count("</script>") == 3


def test_only_the_latest_runs_are_read(tmp_path):
    wh = open_warehouse(tmp_path)
    try:
        fill_history(wh, TableHistory("orders", days=30))
        data = collect_report_data(wh, project="shop", now=NOW, max_runs=10)
    finally:
        wh.close()
    assert [r.run_id for r in data.runs] == [f"orders-{d:02d}" for d in range(29, 19, -1)]
    assert data.total_runs == 30
    assert {m.run_id for m in data.metrics} <= {r.run_id for r in data.runs}
    assert data.summary().startswith("latest 10 of 30 runs of 1 table (10 succeeded)")


def test_postgresql_gives_the_same_report(tmp_path, pg_url):
    """The ledger queries (the latest-runs window, the rejects) are the same SQL on both."""

    def collected(url: str) -> tuple:
        wh = open_warehouse(tmp_path, url)
        try:
            fill_history(wh, TableHistory("orders", days=30, drop_day=25, failed_day=27))
            data = collect_report_data(wh, project="shop", now=NOW, max_runs=10)
        finally:
            wh.close()
        return (
            [(r.run_id, r.status, r.started_at, r.finished_at) for r in data.runs],
            data.total_runs,
            [(m.run_id, m.metric, m.subject, m.value, m.measured_at) for m in data.metrics],
            [(a.key, a.value, a.expected_low, a.expected_high) for a in data.anomalies],
            data.rejects,
            data.reject_scope,
        )

    on_duckdb = collected("duckdb:///wh.duckdb")
    assert on_duckdb[1] == 30 and len(on_duckdb[0]) == 10
    assert on_duckdb[3] == [("robust:orders:rows_extracted:", 200.0, 950.0, 1100.0)]
    assert collected(pg_url) == on_duckdb


def test_unreadable_reasons_are_counted_not_dropped(tmp_path):
    wh = open_warehouse(tmp_path)
    try:
        fill_history(wh, TableHistory("orders", days=1))
        wh.begin()
        wh.execute("UPDATE dataward.rejects SET reasons = 'not json' WHERE source_row = 1")
        wh.commit()
        data = collect_report_data(wh, project="shop", now=NOW)
    finally:
        wh.close()
    counted = {(c.check, c.column): c.rows for c in data.rejects}
    assert counted == {
        ("not_null", "amount"): 1,
        ("accepted_values", "status"): 1,
        ("(unreadable reasons)", ""): 1,
    }


# ---------------------------------------------------------------- an empty ledger


@pytest.mark.parametrize("ledger", [False, True], ids=["no-ledger", "ledger-without-runs"])
def test_an_empty_ledger_makes_a_page_that_says_no_history_yet(tmp_path, ledger):
    wh = open_warehouse(tmp_path)
    try:
        if ledger:
            wh.begin()
            ensure_ledger(wh)
            wh.commit()
        data = collect_report_data(wh, project="shop", now=NOW)
    finally:
        wh.close()
    assert not data.has_history
    assert chart_specs(data) == {}
    page = render_report(data)
    assert "No history yet" in page
    assert CHARTS[0] not in page
    assert data.summary().startswith("no history yet")


# ---------------------------------------------------------------- the command


def project_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataward.toml").write_text(
        '[project]\nname = "shop"\n\n[warehouse]\nurl = "duckdb:///wh.duckdb"\n'
    )
    return root


def cli(*args: str | Path):
    app = typer.Typer()
    app.command()(report)
    app.command("unused")(lambda: None)  # two commands: typer keeps `report` as a name
    return CliRunner().invoke(app, ["report", *map(str, args)])


def test_the_command_writes_the_page_and_prints_a_summary(tmp_path):
    root = project_dir(tmp_path / "shop")
    wh = open_warehouse(root)
    try:
        fill_history(wh, TableHistory("orders", days=5, failed_day=4))
    finally:
        wh.close()
    out = tmp_path / "report.html"
    result = cli("--project", root, "--out", out, "--audit", audit_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 5 runs of 1 table (1 failed, 4 succeeded)" in result.stdout
    page = out.read_text()
    assert "chart-runs" in page and "float-for-money" in page
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_command_on_an_empty_ledger_exits_0_saying_no_history_yet(tmp_path):
    root = project_dir(tmp_path / "shop")
    out = tmp_path / "report.html"
    result = cli("--project", root, "--out", out)
    assert result.exit_code == 0, result.output
    assert "no history yet" in result.stdout
    assert "No history yet" in out.read_text()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an audit report"),
        ("SARIF", "not an audit report"),
        ('{"version": 2, "findings": []}', "version 2"),
        ('{"version": 1, "findings": [{"severity": "urgent"}]}', "findings[0]"),
        (None, "no such file"),
    ],
    ids=["not-json", "a-list", "sarif", "other-version", "bad-finding", "missing"],
)
def test_a_file_that_is_not_the_audits_json_is_a_usage_error(tmp_path, content, says):
    root = project_dir(tmp_path / "shop")
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    bad = tmp_path / "audit.json"
    if content == "SARIF":
        bad.write_text(json.dumps(as_sarif(audit(project_dir(tmp_path / "repo")))))
    elif content is not None:
        bad.write_text(content)
    result = cli("--project", root, "--out", out, "--audit", bad)
    assert result.exit_code == 2, result.output
    assert str(bad) in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.output
    assert out.read_text() == "the previous report"
    with pytest.raises(UsageError):
        read_audit_file(bad)


def test_an_out_path_in_a_missing_directory_is_a_usage_error(tmp_path):
    root = project_dir(tmp_path / "shop")
    result = cli("--project", root, "--out", tmp_path / "nowhere" / "report.html")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert str(tmp_path / "nowhere") in result.stderr


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(out, "half a page \udc80 never written")
    assert out.read_text() == "the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_the_report_of_real_pipeline_runs(tmp_path):
    """`dataward init`'s project run twice (the second delivery with a null country and a
    bad e-mail), then the command: every chart is there, drawn from what the runs wrote."""
    from dataward.pipeline.run import run_pipeline
    from dataward.project.config import load_project
    from dataward.project.init import init_project

    root = tmp_path / "shop"
    init_project(root)
    (root / "pipelines" / "customers.toml").write_text(
        'contract = "contracts/customers.odcs.yaml"\nmode = "merge"\nmax_reject_rate = 0.5\n'
        '[source]\npath = "data/customers.csv"\n'
    )
    project = load_project(root)
    run_pipeline(project, project.pipeline("customers"))
    with (root / "data" / "customers.csv").open("a") as csv:
        csv.write(
            "5,eve@example.com,,2025-03-01T09:00:00Z\n6,not-an-email,FR,2025-03-02T09:00:00Z\n"
        )
    second = run_pipeline(project, project.pipeline("customers"))
    assert second.record.counts.rejected == 1
    out = tmp_path / "report.html"
    result = cli("--project", root, "--out", out)
    assert result.exit_code == 0, result.output
    assert "2 runs of 1 table (2 succeeded)" in result.stdout
    specs = specs_in(out.read_text())
    assert list(specs) == CHARTS
    assert '"column": "country"' in json.dumps(specs["chart-null-rates"])
    assert "customers: " in json.dumps(specs["chart-rejects"])


def test_the_chromium_setup_never_fails_the_build(tmp_path):
    """Where it cannot install (here: no apt-get on PATH), one line and exit 0."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "ensure_chromium.py"
    # The real lookup of apt-get, on a PATH that has none.
    code = (
        f"import pathlib, runpy; setup = runpy.run_path({str(script)!r}); "
        f"print(setup['ensure_chromium'](pathlib.Path({str(tmp_path / 'chromium')!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "chromium: not installed and no apt-get here; the browser test will skip"
    ]
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith("chromium: ")


def test_the_page_gets_the_usual_file_mode(tmp_path):
    import os

    out = tmp_path / "report.html"
    umask = os.umask(0o022)
    try:
        write_atomically(out, "<p>page</p>")
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644
    assert out.read_text() == "<p>page</p>"
