"""An Alembic project, read through Alembic's offline `--sql` output: `migrate status`
follows the database's alembic_version, `migrate test` runs every revision's upgrade,
downgrade and upgrade again on a scratch database, `up` and `down` are left to Alembic,
and a Python without alembic is named, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres_only

ALEMBIC = Path(sys.executable).parent / "alembic"

REVISION = '''"""{message}

Revision ID: {revision}
Revises: {down}
"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down_repr}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

CHAIN = [
    (
        "a1b2c3d4e5f6",
        "create orders",
        '    op.create_table("orders", sa.Column("id", sa.BigInteger, primary_key=True),\n'
        '                    sa.Column("amount", sa.Numeric(19, 4), nullable=False))',
        '    op.drop_table("orders")',
    ),
    (
        "b2c3d4e5f6a1",
        "add note",
        '    op.add_column("orders", sa.Column("note", sa.Text))',
        '    op.drop_column("orders", "note")',
    ),
    (
        "c3d4e5f6a1b2",
        "index amount",
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("orders_amount", "orders", ["amount"], '
        "postgresql_concurrently=True)",
        "    with op.get_context().autocommit_block():\n"
        '        op.drop_index("orders_amount", postgresql_concurrently=True)',
    ),
]


def _alembic_project(project, chain=CHAIN) -> Path:
    """`alembic init` in the project (its script directory is migrations/, as dataward's
    default), the database URL in alembic.ini, and the chain's revision files."""
    shutil.rmtree(project.migrations)
    made = subprocess.run(
        [str(ALEMBIC), "init", "migrations"], cwd=project.root, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    ini = project.root / "alembic.ini"
    url = project.url.replace("postgresql://", "postgresql+psycopg://", 1)
    lines = [
        f"sqlalchemy.url = {url}" if line.startswith("sqlalchemy.url") else line
        for line in ini.read_text().splitlines()
    ]
    ini.write_text("\n".join(lines) + "\n")
    down = None
    for revision, message, upgrade, downgrade in chain:
        (project.migrations / "versions" / f"{revision}_{message.replace(' ', '_')}.py").write_text(
            REVISION.format(
                message=message,
                revision=revision,
                down=down or "",
                down_repr=repr(down),
                upgrade=upgrade,
                downgrade=downgrade,
            )
        )
        down = revision
    return ini


def _alembic(project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ALEMBIC), *args], cwd=project.root, capture_output=True, text=True, check=False
    )


def _states(project) -> list[tuple[str, str]]:
    import json

    shown = project.cli("status", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return [(line["version"], line["state"]) for line in json.loads(shown.stdout)]


def test_status_follows_alembic_version(project):
    _alembic_project(project)
    assert _states(project) == [
        ("a1b2c3d4e5f6", "pending"),
        ("b2c3d4e5f6a1", "pending"),
        ("c3d4e5f6a1b2", "pending"),
    ]
    applied = _alembic(project, "upgrade", "b2c3d4e5f6a1")
    assert applied.returncode == 0, applied.stderr
    assert _states(project) == [
        ("a1b2c3d4e5f6", "applied"),
        ("b2c3d4e5f6a1", "applied"),
        ("c3d4e5f6a1b2", "pending"),
    ]
    # dataward applies nothing of an Alembic project: Alembic keeps its history.
    for command, verb in (("up", "alembic upgrade"), ("down", "alembic downgrade")):
        refused = project.cli(command)
        assert refused.returncode == 2, refused.stderr
        assert verb in refused.stderr and "Traceback" not in refused.stderr
    assert project.query("SELECT version_num FROM alembic_version") == [("b2c3d4e5f6a1",)]
    assert "migrations" not in [
        r[0]
        for r in project.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'dataward'"
        )
    ]


def test_migrate_test_runs_each_revision_up_down_up(project):
    _alembic_project(project)
    tested = project.cli("test", "--rows", "500")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    for revision in ("a1b2c3d4e5f6", "b2c3d4e5f6a1", "c3d4e5f6a1b2"):
        assert revision in tested.stdout
    # The revisions ran on a scratch database; the project's own one is untouched.
    assert project.query(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders'"
    ) == [(0,)]


@pytest.mark.parametrize(
    ("downgrade", "said"),
    [
        ('    op.alter_column("orders", "note", new_column_name="memo")', "memo"),
        ("    pass", "it has no down"),
    ],
    ids=["renames-instead", "empty"],
)
def test_a_downgrade_that_does_not_undo_fails_the_test(project, downgrade, said):
    broken = [*CHAIN[:1], (CHAIN[1][0], "add note", CHAIN[1][2], downgrade)]
    _alembic_project(project, broken)
    tested = project.cli("test")
    assert tested.returncode == 1, tested.stdout + tested.stderr
    lines = tested.stdout.splitlines()
    assert "a1b2c3d4e5f6_create_orders  ok" in lines, tested.stdout
    assert "b2c3d4e5f6a1_add_note  FAILED" in lines, tested.stdout
    assert said in tested.stdout, tested.stdout


def test_a_python_without_alembic_is_named(project, tmp_path):
    _alembic_project(project)
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)  # a real interpreter, without alembic in it
    python = bare / "bin" / "python"
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "dataward"), "migrate", "status"],
        cwd=project.root,
        env={**os.environ, "DATAWARD_ALEMBIC_PYTHON": str(python), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 2, shown.stderr
    assert "alembic is not installed" in shown.stderr and str(python) in shown.stderr
    assert "DATAWARD_ALEMBIC_PYTHON" in shown.stderr and "Traceback" not in shown.stderr


def test_an_env_py_that_fails_offline_is_reported(project):
    _alembic_project(project)
    env = project.migrations / "env.py"
    env.write_text(
        env.read_text().replace(
            "def run_migrations_offline", "raise SystemExit('no offline')\ndef _unused", 1
        )
    )
    shown = project.cli("status")
    assert shown.returncode == 2, shown.stderr
    assert "offline" in shown.stderr and "alembic.ini" in shown.stderr
    assert "Traceback" not in shown.stderr
