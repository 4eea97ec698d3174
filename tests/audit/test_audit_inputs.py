"""Bad input to `dataward audit`, each through the real command: a clear line naming
what is wrong, never a traceback, and whatever can still be read is still audited."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from audit_kit import FIXTURES, audit_json, dataward

BAD_PYTHON = "def load(rows:\n    return rows\n"
SWALLOW = "try:\n    load()\nexcept Exception:\n    pass\n"


def _repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _rules(report: dict) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["location"]) for f in report["findings"])


def _skipped(report: dict) -> dict[str, str]:
    return {s["what"]: s["why"] for s in report["skipped"]}


def test_a_path_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    result = dataward("audit", tmp_path / "nowhere")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path / 'nowhere'}: {tmp_path / 'nowhere'} does not exist"
    )


def test_python_and_sql_that_do_not_parse_are_findings_and_the_rest_goes_on(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "etl/broken.py": BAD_PYTHON,
            "etl/load.py": SWALLOW,
            "db/schema.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, amount float8 NOT NULL;\n",
            "db/other.sql": "CREATE TABLE fees (id bigint PRIMARY KEY, fee real NOT NULL);\n",
        },
    )
    report = audit_json(repo)
    assert _rules(report) == [
        ("float-for-money", "db/other.sql:1"),
        ("swallowed-exception", "etl/load.py:3"),
        ("syntax-error", "db/schema.sql:1"),
        ("unparseable-file", "etl/broken.py:1"),
    ]
    broken = next(f for f in report["findings"] if f["rule"] == "unparseable-file")
    assert broken["message"] == "Python does not parse: '(' was never closed"
    assert broken["evidence"] == "def load(rows:"


def test_a_binary_file_named_sql_is_skipped_and_said_so(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "dump.sql": b"PGDMP\x00\x01\x02 custom-format dump\x00",
            "schema.sql": "CREATE TABLE t (id bigint PRIMARY KEY, price double precision NOT NULL);\n",
        },
    )
    report = audit_json(repo)
    assert _skipped(report) == {"dump.sql": "binary, not text"}
    assert _rules(report) == [("float-for-money", "schema.sql:1")]
    text = dataward("audit", repo, "--fail-on", "never").stdout
    assert "Not read (1):\n    dump.sql: binary, not text" in text


def test_a_symlink_loop_and_a_link_out_of_the_repository_are_not_followed(tmp_path: Path) -> None:
    outside = _repo(tmp_path / "outside", {"secret_etl.py": SWALLOW})
    repo = _repo(tmp_path / "repo", {"etl/load.py": SWALLOW})
    (repo / "etl" / "again").symlink_to(repo / "etl", target_is_directory=True)
    (repo / "elsewhere").symlink_to(outside, target_is_directory=True)
    report = audit_json(repo)
    assert _rules(report) == [("swallowed-exception", "etl/load.py:3")]
    assert _skipped(report) == {
        "elsewhere": "a symlink out of the repository",
        "etl/again": "a symlink loop: this directory was read already",
    }


def test_dependency_directories_and_large_files_are_not_read(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "node_modules/pkg/x.py": SWALLOW,
            ".venv/lib/y.py": SWALLOW,
            "vendor/z.py": SWALLOW,
            "huge.sql": "-- " + "x" * (3 * 1024 * 1024) + "\n",
            "etl/load.py": SWALLOW,
        },
    )
    report = audit_json(repo)
    assert _rules(report) == [("swallowed-exception", "etl/load.py:3")]
    assert list(_skipped(report)) == ["huge.sql"]
    assert "over the 2,097,152 limit" in _skipped(report)["huge.sql"]


def _audit_as_nobody(repo: Path) -> dict:
    """The audit, in-process, in a forked child that has dropped root: root reads any
    file whatever its mode, so only another user can meet a file it may not read. The
    parent has imported everything the audit needs (the child may not read the venv)."""
    from dataward.audit.report import as_json
    from dataward.audit.run import audit

    audit(repo)  # warm: every lazy import happens here, as root
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            payload = json.dumps(as_json(audit(repo))).encode()
        except BaseException as exc:  # noqa: BLE001  (the child reports anything, then leaves)
            payload = json.dumps({"error": repr(exc)}).encode()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(child, 0)
    return json.loads(data)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX permissions")
def test_an_unreadable_file_is_skipped_and_the_rest_is_audited() -> None:
    root = Path(tempfile.mkdtemp(prefix="dataward-audit-"))
    try:
        root.chmod(0o755)
        repo = _repo(root / "repo", {"etl/load.py": SWALLOW, "etl/private.py": SWALLOW})
        for directory in (root / "repo", root / "repo" / "etl"):
            directory.chmod(0o755)
        (repo / "etl" / "load.py").chmod(0o644)
        (repo / "etl" / "private.py").chmod(0o000)
        report = _audit_as_nobody(repo) if os.geteuid() == 0 else audit_json(repo)
        assert "error" not in report, report
        assert _rules(report) == [("swallowed-exception", "etl/load.py:3")]
        assert _skipped(report) == {"etl/private.py": "cannot be read: Permission denied"}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_secrets_in_configuration_never_reach_any_output(tmp_path: Path) -> None:
    repo = FIXTURES / "plain_sql"
    secret = "hunter2-secret"
    todo = tmp_path / "TODO.md"
    text = dataward("audit", repo, "--fail-on", "never", "--todo", todo)
    data = dataward("audit", repo, "--format", "json", "--fail-on", "never")
    sarif = dataward("audit", repo, "--format", "sarif", "--fail-on", "never")
    for result in (text, data, sarif):
        assert secret not in result.stdout + result.stderr
    assert secret not in todo.read_text()
    assert ".env: DATABASE_URL=postgresql://etl:***@db.internal:5432/shop" in text.stdout
