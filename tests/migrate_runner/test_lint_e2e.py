"""`dataward migrate lint` run as a user runs it: the installed command in a subprocess,
in a project, on its migrations/ by default; on what `migrate plan` writes; and on an
Alembic project, whose findings point at the revision file's upgrade()."""

from __future__ import annotations

import json

import pytest
from test_alembic import CHAIN, _alembic_project


@pytest.mark.duckdb_only
def test_lint_in_a_project_reads_its_migrations_and_writes_sarif(project):
    project.write(
        "1",
        "orders",
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n",
        "DROP TABLE orders;\n",
    )
    project.write(
        "2",
        "note_index",
        "CREATE INDEX orders_note_idx ON orders (note);\n",
        "DROP INDEX orders_note_idx;\n",
    )
    found = project.cli("lint")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "2_note_index.up.sql:1:1: create-index-not-concurrently error" in found.stdout
    sarif = project.root / "lint.sarif"
    written = project.cli("lint", "--format", "sarif", "--output", str(sarif))
    assert written.returncode == 1 and "report written to" in written.stderr
    log = json.loads(sarif.read_text())
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"create-index-not-concurrently"}
    spot = results[0]["locations"][0]["physicalLocation"]
    assert spot["artifactLocation"]["uri"].endswith(".sql") and spot["region"]["startLine"] >= 1


@pytest.mark.duckdb_only
def test_lint_of_a_file_that_does_not_parse_exits_2_and_goes_on(project):
    project.write("1", "broken", "ALTER TABLE orders ADD COLUM note text;\n", "SELECT 1;\n")
    other = project.root / "other"
    other.mkdir()
    (other / "1_index.up.sql").write_text("CREATE INDEX i ON orders (note);\n")
    (other / "1_index.up.sql").with_name("1_index.down.sql").write_text("DROP INDEX i;\n")
    found = project.cli("lint", "migrations", "other")
    assert found.returncode == 2, found.stdout + found.stderr
    assert "1_broken.up.sql:1:" in found.stdout and "syntax-error" in found.stdout
    assert "create-index-not-concurrently" in found.stdout  # the other directory was linted
    assert "Traceback" not in found.stderr


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("change", "arguments"),
    [
        ("change-type", ["orders.amount", "numeric(19,4)"]),
        ("add-foreign-key", ["orders.customer_id", "customers.id"]),
        ("add-unique", ["orders.note"]),
    ],
)
def test_what_plan_writes_lints_clean(project, change, arguments):
    project.write(
        "1",
        "base",
        "CREATE TABLE customers (id bigint PRIMARY KEY);\n"
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount double precision NOT NULL, "
        "note text, customer_id bigint);\n",
        "DROP TABLE orders;\nDROP TABLE customers;\n",
    )
    assert project.cli("up").returncode == 0
    assert project.cli("plan", change, *arguments).returncode == 0
    planned = sorted(p for p in project.migrations.glob("*.sql") if not p.name.startswith("1_"))
    found = project.cli("lint", "--fail-on", "warning", *map(str, planned))
    assert found.returncode == 0, found.stdout


@pytest.mark.postgres_only
def test_lint_of_an_alembic_project_points_at_the_revision(project):
    chain = [
        *CHAIN[:2],
        (
            "d4e5f6a1b2c3",
            "index note",
            '    op.create_index("orders_note", "orders", ["note"])',
            '    op.drop_index("orders_note")',
        ),
    ]
    _alembic_project(project, chain)
    found = project.cli("lint", "--format", "json")
    assert found.returncode == 1, found.stdout + found.stderr
    findings = json.loads(found.stdout)
    index = [f for f in findings if f["rule"] == "create-index-not-concurrently"]
    assert len(index) == 1, findings
    revision = project.migrations / "versions" / "d4e5f6a1b2c3_index_note.py"
    assert index[0]["file"] == str(revision)
    upgrade_line = revision.read_text().splitlines().index("def upgrade() -> None:") + 1
    assert index[0]["line"] == upgrade_line
    # The first two revisions (a table, a nullable column) are clean.
    assert {f["file"] for f in findings if f["severity"] == "error"} == {str(revision)}


SIX_INDEXES = (
    "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, c int, d int, e int);\n"
    + "".join(f"CREATE INDEX t_{c} ON t ({c});\n" for c in "abcde")
)


@pytest.mark.duckdb_only
@pytest.mark.parametrize(
    ("config", "arguments", "flagged"),
    [
        ("", [], True),  # 6 indexes, the default limit is 5
        ("\n[lint]\nmax_indexes_per_table = 6\n", [], False),
        ("\n[lint]\nmax_indexes_per_table = 6\n", ["--max-indexes", "5"], True),
    ],
    ids=["default", "dataward.toml", "option-over-toml"],
)
def test_the_index_limit_is_configurable(project, config, arguments, flagged):
    toml = project.root / "dataward.toml"
    toml.write_text(toml.read_text() + config)
    project.write("1", "t", SIX_INDEXES, "DROP TABLE t;\n")
    found = project.cli("lint", "--fail-on", "info", *arguments)
    assert ("too-many-indexes" in found.stdout) is flagged, found.stdout + found.stderr


@pytest.mark.duckdb_only
@pytest.mark.parametrize(
    ("config", "arguments", "message"),
    [
        ("\n[lint]\nmax_indexes_per_table = 0\n", [], "max_indexes_per_table must be"),
        ("\n[lint]\nmax_indexes = 3\n", [], "max_indexes"),
        ("", ["--max-indexes", "0"], "--max-indexes must be at least 1"),
    ],
    ids=["zero-in-toml", "unknown-key", "zero-option"],
)
def test_a_bad_index_limit_exits_2(project, config, arguments, message):
    toml = project.root / "dataward.toml"
    toml.write_text(toml.read_text() + config)
    project.write("1", "t", SIX_INDEXES, "DROP TABLE t;\n")
    found = project.cli("lint", *arguments)
    assert found.returncode == 2, found.stdout + found.stderr
    assert message in found.stderr and "Traceback" not in found.stderr
