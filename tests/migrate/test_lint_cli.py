"""`dataward migrate lint` as a command: paths, formats, --output, --fail-on, exit codes."""

from __future__ import annotations

import json

from lint_kit import CORPUS, cli, write_migrations

SET = "SET lock_timeout = '5s';"
CLEAN = f"{SET}\nALTER TABLE orders ADD COLUMN note text;"
DOWN = f"{SET}\nALTER TABLE orders DROP COLUMN note;\n"
WARNS = "ALTER TABLE orders ADD COLUMN note text;"  # missing-lock-timeout (a warning)
ERRS = f"{SET}\nCREATE INDEX orders_note_idx ON orders (note);"


def test_clean_migrations_exit_0(tmp_path):
    directory = write_migrations(tmp_path / "m", CLEAN, down=DOWN)
    result = cli(directory)
    assert result.exit_code == 0, result.output
    assert "no findings in 1 migration" in result.output


def test_text_lines_name_file_line_column_rule_and_help(tmp_path):
    directory = write_migrations(tmp_path / "m", ERRS)
    result = cli(directory)
    assert result.exit_code == 1
    up = directory / "0001_step.up.sql"
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{up}:2:1: create-index-not-concurrently error: CREATE INDEX on orders without "
        "CONCURRENTLY holds a SHARE lock on orders until the index is built: every INSERT, "
        "UPDATE and DELETE on it waits that long"
    )
    assert lines[1].startswith("  help: CREATE INDEX CONCURRENTLY")
    assert lines[-1] == "1 finding (1 error) in 1 migration"


def test_fail_on_sets_the_threshold(tmp_path):
    directory = write_migrations(tmp_path / "m", WARNS)
    assert cli(directory).exit_code == 0  # a warning, below the default threshold
    assert cli(directory, "--fail-on", "warning").exit_code == 1
    assert cli(directory, "--fail-on", "info").exit_code == 1
    errors = write_migrations(tmp_path / "e", ERRS)
    assert cli(errors, "--fail-on", "error").exit_code == 1


def test_json_is_a_list_of_findings(tmp_path):
    directory = write_migrations(tmp_path / "m", ERRS, WARNS)
    result = cli(directory, "--format", "json")
    found = json.loads(result.output)
    assert result.exit_code == 1
    assert [f["rule"] for f in found] == ["create-index-not-concurrently", "missing-lock-timeout"]
    assert set(found[0]) == {"rule", "severity", "message", "fix", "file", "line", "column"}
    assert found[0]["severity"] == "error" and found[0]["line"] == 2
    assert found[1]["file"].endswith("0002_step.up.sql") and found[1]["severity"] == "warning"


def test_output_writes_the_report_to_a_file(tmp_path):
    directory = write_migrations(tmp_path / "m", ERRS)
    report = tmp_path / "lint.sarif"
    result = cli(directory, "--format", "sarif", "--output", report)
    assert result.exit_code == 1
    assert json.loads(report.read_text())["version"] == "2.1.0"
    assert "report written to" in result.output and '"runs"' not in result.output


def test_a_file_is_linted_with_its_directory_as_history(tmp_path):
    create = "CREATE TABLE orders (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  note text\n);"
    rename = f"{SET}\nALTER TABLE orders RENAME COLUMN note TO memo;"
    directory = write_migrations(tmp_path / "m", create, rename, down="SELECT 1;\n")
    result = cli(directory / "0002_step.up.sql", "--format", "json")
    found = json.loads(result.output)
    # Only the named migration is reported ...
    assert {f["file"].rsplit("/", 1)[-1] for f in found} == {"0002_step.up.sql"}
    assert [f["rule"] for f in found] == ["rename-column"]
    # ... and a down file names its migration too.
    assert cli(directory / "0002_step.down.sql").exit_code == 1


def test_default_is_the_projects_migrations_directory(tmp_path, monkeypatch):
    (tmp_path / "dataward.toml").write_text('[project]\nname = "shop"\n')
    write_migrations(tmp_path / "migrations", ERRS)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = cli()
    assert result.exit_code == 1
    assert "create-index-not-concurrently" in result.output


def test_outside_a_project_a_path_is_required(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli()
    assert result.exit_code == 2
    assert "name the migration files or directories" in result.output


def test_bad_options_and_missing_paths_exit_2(tmp_path):
    directory = write_migrations(tmp_path / "m", CLEAN, down=DOWN)
    assert cli(directory, "--format", "xml").exit_code == 2
    assert cli(directory, "--fail-on", "fatal").exit_code == 2
    missing = cli(tmp_path / "nowhere")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert "Traceback" not in missing.output


def test_a_parse_error_names_file_and_line_and_linting_goes_on(tmp_path):
    broken = f"{SET}\n\nALTER TABLE orders ADD COLUMN note text,;"
    directory = write_migrations(tmp_path / "m", broken, ERRS)
    result = cli(directory, "--format", "json")
    found = json.loads(result.output)
    assert result.exit_code == 2  # bad input outranks findings
    syntax = [f for f in found if f["rule"] == "syntax-error"]
    assert len(syntax) == 1
    assert syntax[0]["file"].endswith("0001_step.up.sql") and syntax[0]["line"] == 3
    assert 'syntax error at or near ";"' in syntax[0]["message"]
    # The next migration was still linted.
    assert any(f["rule"] == "create-index-not-concurrently" for f in found)


def test_a_non_utf8_file_is_reported_and_other_paths_still_linted(tmp_path):
    latin = write_migrations(tmp_path / "latin", CLEAN, down=DOWN)
    (latin / "0001_step.up.sql").write_bytes(b"SET lock_timeout = '5s';\n-- caf\xe9\nSELECT 1;\n")
    other = write_migrations(tmp_path / "other", ERRS)
    result = cli(latin, other)
    assert result.exit_code == 2
    assert (
        f"{latin / '0001_step.up.sql'}:2:1: unreadable-migration error: not UTF-8 (byte 0xe9)"
        in result.output
    )
    assert "create-index-not-concurrently" in result.output


def test_a_file_no_layout_names_is_reported(tmp_path):
    directory = write_migrations(tmp_path / "m", CLEAN, down=DOWN)
    stray = directory / "notes.sql"
    stray.write_text("SELECT 1;\n")
    result = cli(stray)
    assert result.exit_code == 2
    assert f"{stray}:1:1: unreadable-migration error: not a migration file" in result.output


def test_the_whole_corpus_runs_through_the_command():
    """Every bad case fails, every good one passes (the unreadable and syntax cases exit 2)."""
    for case in sorted(CORPUS.iterdir()):
        bad, good = cli(case / "bad", "--fail-on", "info"), cli(case / "good", "--fail-on", "info")
        assert bad.exit_code == (
            2 if case.name in ("syntax-error", "unreadable-migration") else 1
        ), case
        assert good.exit_code == 0, (case, good.output)
