"""The disk filling up while loading: the run fails cleanly (exit 3, no traceback) and the
table keeps its pre-run content. Simulated with a file size limit (RLIMIT_FSIZE) on the
run's process, with SIGXFSZ ignored so a write past it fails with EFBIG like a full disk."""

from __future__ import annotations

import resource
import signal
import subprocess
from collections.abc import Callable

import pytest
from pipeline_kit import DATAWARD, stderr_events

# About the DuckDB warehouse alone: its file, its disk, its older format.
pytestmark = pytest.mark.duckdb_only


def _limited(limit_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def test_a_full_disk_during_the_load_leaves_the_table_as_it_was(new_project, tmp_path):
    rows = "\n".join(f"{i},{i}.50,paid" for i in range(1, 4))
    project = new_project(csv="order_id,amount,status\n" + rows + "\n")
    assert project.run().record.status == "succeeded"
    before = project.content_hash()
    size = project.warehouse.stat().st_size
    big = "\n".join(f"{i},{i}.25,s{i % 97}x{'y' * 40}" for i in range(1, 200_001))
    project.csv("order_id,amount,status\n" + big + "\n")
    result = subprocess.run(
        [str(DATAWARD), "run"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited(size + 2 * 1024 * 1024),  # room for the ledger, not the data
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "the disk is full or not writable" in result.stderr
    assert project.content_hash() == before
    stages = [e.get("stage") for e in stderr_events(result.stderr) if e.get("event") == "stage"]
    assert "validate" in stages and "verify" not in stages  # it failed while loading
    # The next run, with room, loads it all.
    assert project.run().record.status == "succeeded"
    assert len(project.rows()) == 200_000
