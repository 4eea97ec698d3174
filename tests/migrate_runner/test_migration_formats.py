"""Migration files in native, dbmate, Flyway and goose layouts read into one model, with
each statement's true line in its file; what is not a migration is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataward.migrate.files import MigrationError, discover


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _lines(script) -> list[tuple[int, str]]:
    return [(s.line, s.kind) for s in script.statements()]


def test_native_pairs_and_the_no_transaction_marker(tmp_path):
    _write(tmp_path, "20240101000000_a.up.sql", "-- a\nCREATE TABLE a (id int);\n")
    _write(tmp_path, "20240101000000_a.down.sql", "DROP TABLE a;\n")
    _write(
        tmp_path,
        "20240102000000_b.up.sql",
        "-- dataward:no-transaction\n\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
    )
    a, b = discover(tmp_path)
    assert (a.format, a.version, a.name, a.transactional) == ("native", "20240101000000", "a", True)
    assert _lines(a.up) == [(2, "CreateStmt")] and a.down is not None
    assert (b.transactional, b.down) == (False, None)
    assert _lines(b.up) == [(3, "IndexStmt")]


def test_dbmate_single_files_with_their_options(tmp_path):
    _write(
        tmp_path,
        "20240101000000_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n",
    )
    _write(
        tmp_path,
        "20240102000000_b.sql",
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n-- migrate:down\n",
    )
    a, b = discover(tmp_path)
    assert (a.format, a.transactional) == ("dbmate", True)
    assert _lines(a.up) == [(2, "CreateStmt")]
    assert a.down is not None and _lines(a.down) == [(5, "DropStmt")]
    assert b.transactional is False and b.down is not None and b.down.empty


def test_flyway_versioned_and_undo(tmp_path):
    _write(tmp_path, "V1__create_a.sql", "CREATE TABLE a (id int);")
    _write(tmp_path, "U1__create_a.sql", "DROP TABLE a;")
    _write(tmp_path, "V1.1__more.sql", "ALTER TABLE a ADD COLUMN b int;")
    _write(tmp_path, "V2__last.sql", "ALTER TABLE a ADD COLUMN c int;")
    found = discover(tmp_path)
    assert [(m.version, m.name, m.format, m.down is not None) for m in found] == [
        ("1", "create_a", "flyway", True),
        ("1.1", "more", "flyway", False),
        ("2", "last", "flyway", False),
    ]


def test_goose_sections_blocks_and_no_transaction(tmp_path):
    _write(
        tmp_path,
        "00001_fn.sql",
        "-- +goose Up\n-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n"
        "-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION f();\n",
    )
    _write(
        tmp_path,
        "00002_idx.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n",
    )
    fn, idx = discover(tmp_path)
    assert fn.format == "goose" and _lines(fn.up) == [(3, "CreateFunctionStmt")]
    assert fn.down is not None and _lines(fn.down) == [(7, "DropStmt")]
    assert idx.transactional is False and idx.down is None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_x.down.sql": "DROP TABLE x;"}, "a down migration without its up"),
        ({"U1__x.sql": "DROP TABLE x;"}, "an undo migration without its versioned one"),
        ({"1_x.sql": "CREATE TABLE x (id int);"}, "not a migration dataward can read"),
        ({"1_a.up.sql": "SELECT 1;", "1_b.up.sql": "SELECT 2;"}, "two migrations have version 1"),
    ],
    ids=["down-alone", "undo-alone", "unmarked-single-file", "same-version"],
)
def test_what_is_not_a_migration_is_refused_naming_the_file(tmp_path, files, message):
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(MigrationError, match=message) as raised:
        discover(tmp_path)
    assert raised.value.location.file is not None


def test_a_statement_after_non_ascii_text_keeps_its_line_and_column(tmp_path):
    _write(
        tmp_path,
        "1_a.up.sql",
        "COMMENT ON TABLE t IS 'größe';  ALTER TABLE t ADD COLUMN ü int;\nSELEC 1;\n",
    )
    (migration,) = discover(tmp_path)
    with pytest.raises(MigrationError) as raised:
        migration.up.statements()
    assert (raised.value.location.line, raised.value.location.column) == (2, 1)
    _write(
        tmp_path, "1_a.up.sql", "COMMENT ON TABLE t IS 'größe';  ALTER TABLE t ADD COLUMN ü int;\n"
    )
    (migration,) = discover(tmp_path)
    assert [(s.line, s.column) for s in migration.up.statements()] == [(1, 1), (1, 33)]
