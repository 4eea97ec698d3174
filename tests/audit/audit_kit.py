"""Running the real `dataward audit` in a subprocess, and reading what it reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
DATAWARD = Path(sys.executable).parent / "dataward"


def dataward(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        [str(DATAWARD), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def audit_json(*args: str | Path) -> dict[str, Any]:
    result = dataward("audit", *args, "--format", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_rule(findings: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """rule -> the locations it was reported at (a Counter: one location may hold two)."""
    found: dict[str, Counter[str]] = {}
    for item in findings:
        found.setdefault(item["rule"], Counter())[item["location"]] += 1
    return found
