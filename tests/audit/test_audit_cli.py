"""`dataward audit` end to end: the installed command over a real repository and a real
PostgreSQL database; exit codes, formats, TODO.md across runs, baselines."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import psycopg
from audit_kit import FIXTURES, audit_json, dataward

PLAIN = FIXTURES / "plain_sql"
ENTRY = re.compile(r"<!-- dataward:[0-9a-f]{12}")


def test_fail_on_sets_the_exit_code() -> None:
    # plain_sql has high findings: the default threshold (high) fails
    assert dataward("audit", PLAIN).returncode == 1
    assert dataward("audit", PLAIN, "--fail-on", "never").returncode == 0
    assert dataward("audit", PLAIN, "--fail-on", "low").returncode == 1
    bad = dataward("audit", PLAIN, "--fail-on", "severe")
    assert bad.returncode == 2
    assert "--fail-on must be one of high, medium, low, never" in bad.stderr


def test_only_low_findings_pass_a_high_threshold(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n")
    assert dataward("audit", tmp_path).returncode == 0
    assert dataward("audit", tmp_path, "--fail-on", "low").returncode == 1


def test_sarif_is_2_1_0_with_fingerprints_and_rule_metadata(tmp_path: Path) -> None:
    out = tmp_path / "audit.sarif"
    result = dataward("audit", PLAIN, "--format", "sarif", "--output", out, "--fail-on", "never")
    assert result.returncode == 0 and "report written to" in result.stderr
    document = json.loads(out.read_text())
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert {r["ruleId"] for r in results} == set(rules)
    for item in results:
        assert rules[item["ruleId"]]["help"]["text"]
        assert len(item["partialFingerprints"]["dataward/v1"]) == 12
        assert run["tool"]["driver"]["rules"][item["ruleIndex"]]["id"] == item["ruleId"]
    replace = next(r for r in results if r["ruleId"] == "to-sql-replace")
    location = replace["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "pipelines/load_orders.py"
    assert location["region"]["startLine"] == 22
    assert "```python" in rules["to-sql-replace"]["help"]["markdown"]


def test_todo_md_across_runs_keeps_statuses_and_hand_written_text(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PLAIN, repo)
    todo = tmp_path / "TODO.md"
    first = dataward("audit", repo, "--todo", todo, "--fail-on", "never")
    assert f"{todo}: created with 17 entries" in first.stderr
    text = todo.read_text()
    assert len(ENTRY.findall(text)) == 17
    # People start one, finish one, and write notes in the middle of the list.
    lines = text.splitlines(keepends=True)
    started = next(i for i, line in enumerate(lines) if "#to-sql-replace)" in line)
    lines[started] = lines[started].replace("- [ ]", "- [-]", 1)
    lines.insert(started + 2, "\nAsk Priya: the export table feeds the finance report.\n\n")
    todo.write_text("".join(lines))
    # The truncate-and-reload is fixed: the TRUNCATE goes.
    load = repo / "pipelines" / "load_orders.py"
    load.write_text(load.read_text().replace('    cur.execute("TRUNCATE customers")\n', ""))
    second = dataward("audit", repo, "--todo", todo, "--fail-on", "never")
    assert "0 added, 16 kept, 1 closed (finding gone)" in second.stderr
    updated = todo.read_text()
    assert len(ENTRY.findall(updated)) == 17
    assert "Ask Priya: the export table feeds the finance report." in updated
    assert "- [-] pipelines/load_orders.py:22: to_sql" in updated
    assert "- [x] pipelines/load_orders.py:34: TRUNCATE customers" in updated
    third = dataward("audit", repo, "--todo", todo, "--fail-on", "never")
    assert "already up to date" in third.stderr
    assert todo.read_text() == updated


def test_baseline_reports_only_what_is_new(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PLAIN, repo)
    baseline = tmp_path / "baseline.json"
    saved = dataward("audit", repo, "--format", "json", "-o", baseline, "--fail-on", "never")
    assert saved.returncode == 0
    # Lines move (a comment on top) but nothing new: nothing is reported, exit 0.
    load = repo / "pipelines" / "load_orders.py"
    load.write_text("# moved down by one line\n" + load.read_text())
    report = audit_json(repo, "--baseline", baseline)
    assert report["findings"] == []
    assert dataward("audit", repo, "--baseline", baseline).returncode == 0
    # A new defect is the only finding.
    (repo / "pipelines" / "new_job.py").write_text(
        'def reload(frame, engine):\n    frame.to_sql("t", engine, if_exists="replace")\n'
    )
    report = audit_json(repo, "--baseline", baseline)
    assert [(f["rule"], f["location"]) for f in report["findings"]] == [
        ("to-sql-replace", "pipelines/new_job.py:2")
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"findings": [')
    result = dataward("audit", repo, "--baseline", broken)
    assert result.returncode == 2 and str(broken) in result.stderr


def test_the_live_database_is_audited_read_only(
    tmp_path: Path, pg_url: str, pg_conn: psycopg.Connection
) -> None:
    pg_conn.execute(
        """
        CREATE TABLE invoices (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          total real NOT NULL,
          issued_at timestamp NOT NULL
        );
        INSERT INTO invoices (total, issued_at) VALUES (9.99, now());
        """
    )
    pg_conn.commit()
    (tmp_path / "README.md").write_text("nothing here\n")
    report = audit_json(tmp_path, "--db", pg_url)
    found = {(f["rule"], f["location"]) for f in report["findings"]}
    assert ("float-for-money", "public.invoices.total") in found
    assert ("timestamp-without-time-zone", "public.invoices.issued_at") in found
    live = report["orientation"]["live"]
    assert any(
        note.startswith("database postgresql://") and ": 1 table, " in note for note in live
    ), live
    with pg_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM invoices")
        assert cur.fetchone() == (1,)


def test_a_database_that_refuses_exits_3_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://auditor:s3cret-pw@127.0.0.1:1/shop"
    result = dataward("audit", tmp_path, "--db", url)
    assert result.returncode == 3
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "127.0.0.1" in result.stderr
