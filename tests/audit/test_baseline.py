"""--baseline: only findings new since an earlier audit, matched by fingerprint; a baseline
that cannot be read is an error naming the file and where in it, never an empty set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataward.audit.baseline import load_baseline, new_since, write_baseline
from dataward.audit.model import AuditFinding
from dataward.errors import UsageError
from dataward.migrate.lint.model import Severity


def finding(rule: str, file: str, line: int, evidence: str) -> AuditFinding:
    return AuditFinding(
        rule=rule,
        severity=Severity.ERROR,
        location=f"{file}:{line}",
        message="m",
        evidence=evidence,
        why="w",
        fix="f",
        file=file,
        line=line,
    )


AMOUNT = finding("float-for-money", "schema/orders.sql", 4, "amount float")
PRICE = finding("float-for-money", "schema/items.sql", 7, "price float")
EVENTS = finding("missing-primary-key", "schema/events.sql", 1, "create table events (")
NAIVE = finding("timestamp-without-time-zone", "schema/events.sql", 3, "at timestamp")


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(path, [AMOUNT, PRICE, EVENTS, AMOUNT])

    assert load_baseline(path) == {AMOUNT.fingerprint, PRICE.fingerprint, EVENTS.fingerprint}
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert [(f["location"], f["rule"]) for f in document["findings"]] == [
        ("schema/events.sql:1", "missing-primary-key"),
        ("schema/items.sql:7", "float-for-money"),
        ("schema/orders.sql:4", "float-for-money"),
    ]


def test_only_new_findings_are_reported_and_moved_lines_are_not_new(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(path, [AMOUNT, EVENTS])
    now = [finding("float-for-money", "schema/orders.sql", 40, "amount  float"), NAIVE, EVENTS]

    assert new_since(now, load_baseline(path)) == [NAIVE]


def test_a_saved_audit_json_report_is_a_baseline(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    report = {
        "version": 1,
        "root": ".",
        "orientation": {"root": "."},
        "counts": {"high": 2, "medium": 0, "low": 0},
        "findings": [AMOUNT.to_dict(), PRICE.to_dict()],
        "skipped": [{"what": "etl/broken.py", "why": "not UTF-8"}],
    }
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")

    assert load_baseline(path) == {AMOUNT.fingerprint, PRICE.fingerprint}


def test_a_hand_made_list_of_fingerprints(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"fingerprints": [NAIVE.fingerprint]}), encoding="utf-8")
    assert load_baseline(path) == {NAIVE.fingerprint}


def test_an_empty_baseline_of_the_right_shape_holds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(path, [])
    assert load_baseline(path) == set()
    assert new_since([AMOUNT], set()) == [AMOUNT]


def test_a_missing_baseline_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(UsageError, match="baseline not found") as raised:
        load_baseline(path)
    assert raised.value.location.file == str(path)


def test_a_baseline_that_is_not_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text('{\n  "version": 1,\n  "findings": [,]\n}\n', encoding="utf-8")

    with pytest.raises(UsageError, match="not JSON") as raised:
        load_baseline(path)

    where = raised.value.location
    assert (where.file, where.line, where.column) == (str(path), 3, 16)
    assert str(raised.value).startswith(f"{path}:3:16: the baseline is not JSON")


@pytest.mark.parametrize(
    ("content", "message", "json_path"),
    [
        ("", "empty", None),
        ("[]", "must be a JSON object", None),
        ('{"version": 1}', "neither `findings` nor `fingerprints`", None),
        ('{"version": 2, "findings": []}', "version 2", "version"),
        ('{"findings": {"a": 1}}', "`findings` must be a list", "findings"),
        (
            '{"findings": [{"fingerprint": "0123456789ab"}, {"rule": "x"}]}',
            "no `fingerprint`",
            "findings[1]",
        ),
        ('{"fingerprints": "0123456789ab"}', "`fingerprints` must be a list", "fingerprints"),
        ('{"fingerprints": ["0123456789AB"]}', "not 12 lowercase hex", "fingerprints[0]"),
        ('{"fingerprints": [12]}', "not 12 lowercase hex", "fingerprints[0]"),
        ('{"version": "2.1.0", "runs": []}', "SARIF", None),
    ],
)
def test_a_baseline_of_the_wrong_shape(
    tmp_path: Path, content: str, message: str, json_path: str | None
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(UsageError, match=message) as raised:
        load_baseline(path)

    assert raised.value.location.file == str(path)
    assert raised.value.location.path == json_path


def test_a_baseline_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(b'{\n"fingerprints": ["\xff"]}')
    with pytest.raises(UsageError, match="not UTF-8") as raised:
        load_baseline(path)
    assert raised.value.location.line == 2


def test_a_directory_is_not_a_baseline(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the baseline") as raised:
        load_baseline(tmp_path)
    assert raised.value.location.file == str(tmp_path)
