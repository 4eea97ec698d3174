"""Contract settings the pipelines read: relationship severity, maxRejectRate; CSV null markers."""

from __future__ import annotations

import pytest

from dataward.checks import CheckKind, compile_checks
from dataward.contract.loader import parse_contract
from dataward.contract.model import Severity
from dataward.errors import ContractError
from dataward.sources import expand_paths, read_batches

BASE = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:t
version: 1.0.0
status: active
{top}schema:
  - name: flights
    properties:
      - name: tailnum
        physicalType: TEXT
        relationships:
          - type: foreignKey
            to: planes.tailnum
{rel}"""


def test_a_relationship_can_be_a_warning():
    rel = "            customProperties:\n              - property: severity\n                value: warning\n"
    contract = parse_contract(BASE.format(top="", rel=rel), "c.yaml")
    (check,) = [c for c in compile_checks(contract) if c.kind is CheckKind.FOREIGN_KEY]
    assert check.severity is Severity.WARNING


def test_a_relationship_is_an_error_by_default_and_refuses_an_unknown_severity():
    contract = parse_contract(BASE.format(top="", rel=""), "c.yaml")
    (check,) = [c for c in compile_checks(contract) if c.kind is CheckKind.FOREIGN_KEY]
    assert check.severity is Severity.ERROR
    rel = "            customProperties:\n              - property: severity\n                value: loud\n"
    with pytest.raises(ContractError, match=r"c.yaml:\d+.*relationships\[0\].*severity"):
        parse_contract(BASE.format(top="", rel=rel), "c.yaml")


@pytest.mark.parametrize("value", ["0.05", "1"])
def test_max_reject_rate_is_a_fraction(value):
    top = f"customProperties:\n  - property: maxRejectRate\n    value: {value}\n"
    contract = parse_contract(BASE.format(top=top, rel=""), "c.yaml")
    assert contract.settings["maxRejectRate"] == float(value)


@pytest.mark.parametrize("value", ["5", "-0.1", "lots", "true"])
def test_a_bad_max_reject_rate_is_refused_with_its_line(value):
    top = f"customProperties:\n  - property: maxRejectRate\n    value: {value}\n"
    with pytest.raises(ContractError, match=r"c.yaml:8.*maxRejectRate"):
        parse_contract(BASE.format(top=top, rel=""), "c.yaml")


def test_csv_null_markers_read_as_missing_only_when_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,NA\n2,\n3,"NA"\n4,na\n')
    (plain,) = expand_paths([str(path)])
    assert list(next(read_batches(plain))["b"]) == ["NA", None, "NA", "na"]
    (marked,) = expand_paths([str(path)], null_markers=("NA",))
    assert list(next(read_batches(marked))["b"]) == [None, None, None, "na"]
