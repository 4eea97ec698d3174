"""`dataward contract infer|diff` through the real command."""

from __future__ import annotations

import json

from test_cli_validate import EXAMPLE, assert_no_traceback, dataward

from dataward.contract.loader import load_contract


def test_infer_drafts_a_contract_the_data_passes(tmp_path):
    draft = tmp_path / "draft.yaml"
    result = dataward("contract", "infer", EXAMPLE / "orders.csv", "--output", draft)
    assert result.returncode == 0, result.stderr
    contract = load_contract(draft)
    assert contract.table().name == "orders"
    assert "DRAFT" in draft.read_text()
    check = dataward("validate", EXAMPLE / "orders.csv", "-c", draft)
    assert check.returncode == 0, check.stdout + check.stderr


def test_infer_to_stdout(tmp_path):
    result = dataward("contract", "infer", EXAMPLE / "orders.csv")
    assert result.returncode == 0
    assert result.stdout.startswith("#") and "apiVersion: v3.1.0" in result.stdout


def test_infer_empty_file_exits_2(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = dataward("contract", "infer", empty)
    assert result.returncode == 2 and str(empty) in result.stderr
    assert_no_traceback(result)


def test_diff_exit_code_follows_the_mode():
    old, new = EXAMPLE / "orders.odcs.yaml", EXAMPLE / "orders.v2.odcs.yaml"
    assert dataward("contract", "diff", old, new, "--mode", "backward").returncode == 1
    assert dataward("contract", "diff", old, old, "--mode", "full").returncode == 0
    result = dataward("contract", "diff", old, new, "--mode", "full", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["compatible"] is False
    kinds = {c["column"]: c for c in report["changes"]}
    assert kinds["currency"]["breaks"] == ["backward", "full"]
    assert kinds["quantity"]["breaks"] == ["forward", "full"]


def test_diff_bad_mode_exits_2():
    old = EXAMPLE / "orders.odcs.yaml"
    result = dataward("contract", "diff", old, old, "--mode", "sideways")
    assert result.returncode == 2 and "backward, forward or full" in result.stderr
    assert_no_traceback(result)
