"""kill -9 at any moment: the table is as before the run or as after it, never between;
the killed run stays `running` in the ledger until the next run marks it `aborted`; a
re-run converges to what an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import signal

import pytest
from pipeline_kit import PER_RUN, assert_accounted, orders_csv

ROWS = 300_000


_csv = orders_csv


def _kill_at(project, stage: str) -> str:
    """Start `dataward run`, kill -9 it as soon as the event of `stage` is on stderr;
    the id of the run it started."""
    process = project.popen("run")
    assert process.stderr is not None
    run_id = None
    try:
        for line in process.stderr:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            run_id = event.get("run_id", run_id)
            if event.get("stage") == stage:
                os.kill(process.pid, signal.SIGKILL)
                break
        else:
            pytest.fail(f"the run ended before its {stage!r} event")
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert run_id is not None
    return run_id


def _status(project, run_id: str) -> str:
    return project.query("SELECT status FROM dataward.runs WHERE run_id = ?", [run_id])[0][0]


def test_kill_9_during_extract_and_after_load_never_leaves_a_partial_table(new_project):
    project = new_project(csv=_csv(ROWS, None))
    assert project.run().record.status == "succeeded"
    before = project.content_hash()
    # v2: 30,000 amounts changed and 10,000 new rows.
    project.csv(_csv(ROWS + 10_000, 10))

    # What an uninterrupted run of v2 gives, in a warehouse of its own that loaded v1 too.
    uninterrupted = new_project(csv=_csv(ROWS, None))
    uninterrupted.run()
    uninterrupted.csv(_csv(ROWS + 10_000, 10))
    reference = uninterrupted.run()
    assert (reference.record.counts.updated, reference.record.counts.inserted) == (30_000, 10_000)
    expected = uninterrupted.content_hash(exclude=PER_RUN)

    # 1. Killed while extracting (just after the run started): nothing changed.
    during_extract = _kill_at(project, "start")
    assert project.content_hash() == before
    assert _status(project, during_extract) == "running"

    # 2. Killed once the load's statements ran, before or while it commits.
    after_load = _kill_at(project, "load")
    assert _status(project, during_extract) == "aborted"  # marked by the run that followed
    now = project.content_hash()
    if now == before:
        assert _status(project, after_load) == "running"
    else:
        # The commit won the race: then the table is the whole load, not a part of it.
        assert _status(project, after_load) == "succeeded"

    # 3. The next run marks the dead one aborted and converges.
    final = project.run()
    assert final.record.status == "succeeded"
    assert_accounted(final.record.counts)
    if now == before:
        assert _status(project, after_load) == "aborted"
        (reason,) = project.query("SELECT reason FROM dataward.runs WHERE run_id = ?", [after_load])
        assert "before it committed" in reason[0]
    assert project.content_hash(exclude=PER_RUN) == expected
