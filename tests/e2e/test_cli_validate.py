"""The real `dataward` command in a subprocess: exit codes, output, events, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "orders"
DATAWARD = Path(sys.executable).parent / "dataward"


def dataward(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(DATAWARD), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_help_lists_command_groups():
    result = dataward("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "contract" in result.stdout


def test_version():
    result = dataward("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("dataward ")


def test_example_fails_with_exit_1_and_writes_rejects(tmp_path):
    rejects = tmp_path / "rejects.parquet"
    result = dataward(
        "validate",
        EXAMPLE / "orders.csv",
        "--contract",
        EXAMPLE / "orders.odcs.yaml",
        "--rejects",
        rejects,
    )
    assert result.returncode == 1, result.stderr
    assert "12 rows, 9 rejected" in result.stdout
    frame = pl.read_parquet(rejects)
    assert frame.height == 9
    assert set(frame["_dw_source_line"].to_list()) == {5, 6, 7, 8, 9, 10, 11, 12, 13}


def test_json_output_is_machine_readable(tmp_path):
    result = dataward(
        "validate", EXAMPLE / "orders.csv", "-c", EXAMPLE / "orders.odcs.yaml", "--format", "json"
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["rows"] == 12 and report["rejected"] == 9 and report["ok"] is False
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["orders.primary_key"]["violations"] == 2
    assert by_id["orders.rowCount"]["passed"] is True


def test_events_are_json_lines_when_not_on_a_terminal():
    result = dataward(
        "validate", EXAMPLE / "orders.csv", "-c", EXAMPLE / "orders.odcs.yaml", "--format", "json"
    )
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names[0] == "validate.start" and names[-1] == "validate.finish"
    assert events[-1]["rejected"] == 9


def test_passing_data_exits_0(tmp_path):
    data = tmp_path / "ok.csv"
    data.write_text(
        "order_id,customer_id,amount,email,created_at,status,country,quantity\n"
        "1,1,1.0000,a@b.co,2025-01-01T00:00:00Z,paid,PT,1\n"
    )
    result = dataward("validate", data, "-c", EXAMPLE / "orders.odcs.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout


@pytest.mark.parametrize(
    ("contract_text", "expected"),
    [
        ("schema: [\n", "malformed YAML"),
        (
            'apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: "1"\nstatus: a\nbogus: 1\n',
            "unknown key 'bogus'",
        ),
    ],
)
def test_bad_contract_exits_2_with_location(tmp_path, contract_text, expected):
    contract = tmp_path / "bad.yaml"
    contract.write_text(contract_text)
    result = dataward("validate", EXAMPLE / "orders.csv", "-c", contract)
    assert result.returncode == 2
    assert expected in result.stderr and str(contract) in result.stderr
    assert_no_traceback(result)


def test_unreadable_input_exits_2(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_bytes(b"order_id,customer_id\n1,\xff\n")
    result = dataward("validate", data, "-c", EXAMPLE / "orders.odcs.yaml")
    assert result.returncode == 2
    assert f"{data}:2:3" in result.stderr and "invalid UTF-8" in result.stderr
    assert_no_traceback(result)


def test_missing_file_exits_2(tmp_path):
    result = dataward("validate", tmp_path / "none.csv", "-c", EXAMPLE / "orders.odcs.yaml")
    assert result.returncode == 2 and "file not found" in result.stderr
    assert_no_traceback(result)


def test_usage_error_exits_2():
    result = dataward("validate", "--format", "xml", "x.csv", "-c", "y.yaml")
    assert result.returncode == 2
    assert_no_traceback(result)


def test_hostile_names_are_quoted_in_generated_sql(tmp_path):
    """A column called `id; DROP TABLE x` and a SQL check over it run as data, not code."""
    contract = tmp_path / "c.yaml"
    contract.write_text(
        """apiVersion: v3.1.0
kind: DataContract
id: urn:x
version: 1.0.0
status: active
schema:
  - name: 'x"; DROP TABLE y; --'
    properties:
      - {name: "id; DROP TABLE x", physicalType: BIGINT, primaryKey: true}
      - {name: "=cmd|' /C calc'!A0", physicalType: TEXT}
    quality:
      - {type: sql, query: "SELECT COUNT(*) FROM ${object}", mustBe: 2}
"""
    )
    data = tmp_path / "d.csv"
    data.write_text('"id; DROP TABLE x","=cmd|\' /C calc\'!A0"\n1,a\n2,b\n')
    result = dataward("validate", data, "-c", contract, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    sql_check = next(c for c in report["checks"] if c["kind"] == "sql")
    assert sql_check["measured"] == 2 and sql_check["passed"]
