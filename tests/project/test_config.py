"""dataward.toml and pipeline files: what loads, and every bad input with its location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataward.errors import UsageError
from dataward.pipeline.order import dependency_order
from dataward.project.config import load_project
from dataward.project.init import init_project

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:t:{name}
version: 1.0.0
status: active
schema:
  - name: {name}
    properties:
      - name: id
        physicalType: BIGINT
        primaryKey: true
{extra}"""

FK = """\
      - name: parent_id
        physicalType: BIGINT
        relationships:
          - type: foreignKey
            to: {parent}.id
"""


def project(tmp_path: Path, pipelines: dict[str, str], toml: str = "[project]\nname='t'\n") -> Path:
    (tmp_path / "dataward.toml").write_text(toml)
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    (tmp_path / "contracts").mkdir(exist_ok=True)
    for name, body in pipelines.items():
        (tmp_path / "pipelines" / f"{name}.toml").write_text(body)
    return tmp_path


def contract(tmp_path: Path, name: str, parent: str | None = None) -> str:
    extra = FK.format(parent=parent) if parent else ""
    (tmp_path / "contracts").mkdir(exist_ok=True)
    (tmp_path / "contracts" / f"{name}.yaml").write_text(CONTRACT.format(name=name, extra=extra))
    return f'contract = "contracts/{name}.yaml"\n[source]\npath = "x.csv"\n'


def test_a_pipeline_file_loads_with_its_defaults(tmp_path):
    root = project(tmp_path, {"a": contract(tmp_path, "a")})
    loaded = load_project(root)
    spec = loaded.pipeline("a")
    assert spec.mode == "merge"
    assert spec.source.kind == "files"
    assert spec.source.paths == (str(root / "x.csv"),)
    assert loaded.warehouse_url == "duckdb:///warehouse.duckdb"


def test_the_warehouse_url_comes_from_the_flag_then_the_environment_then_the_file(
    tmp_path, monkeypatch
):
    root = project(tmp_path, {}, "[warehouse]\nurl = 'duckdb:///from-file.duckdb'\n")
    assert load_project(root).warehouse_url == "duckdb:///from-file.duckdb"
    monkeypatch.setenv("DATAWARD_WAREHOUSE", "duckdb:///from-env.duckdb")
    assert load_project(root).warehouse_url == "duckdb:///from-env.duckdb"
    assert load_project(root, "duckdb:///flag.duckdb").warehouse_url == "duckdb:///flag.duckdb"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('mode = "merge"\n[source]\npath = "x.csv"\n', "needs `contract"),
        ('contract = "contracts/nope.yaml"\n[source]\npath = "x.csv"\n', "not found"),
        ('contract = "contracts/a.yaml"\nmode = "upsert"\n[source]\npath="x"\n', "mode must be"),
        (
            'contract = "contracts/a.yaml"\nmode = "overwrite-partition"\n[source]\npath="x"\n',
            "needs `partition",
        ),
        (
            'contract = "contracts/a.yaml"\nmax_reject_rate = 5\n[source]\npath="x"\n',
            "between 0 and 1",
        ),
        (
            'contract = "contracts/a.yaml"\ncolour = "red"\n[source]\npath="x"\n',
            "unknown key 'colour'",
        ),
        ('contract = "contracts/a.yaml"\n', "needs a [source]"),
        (
            'contract = "contracts/a.yaml"\n[source]\npath = "x"\nquery = "select 1"\n',
            "exactly one of",
        ),
        ('contract = "contracts/a.yaml"\n[source]\nquery = "select 1"\n', "needs `url`"),
        (
            'contract = "contracts/a.yaml"\n[source]\nquery = "q"\nurl_env = "DW_NOPE_X"\n',
            "DW_NOPE_X",
        ),
        (
            'contract = "contracts/a.yaml"\n[source]\npath = "x"\nnull_values = "NA"\n',
            "list of strings",
        ),
        (
            'contract = "contracts/a.yaml"\n[source]\npackage = "no_such_pkg_dw"\npath = "x"\n',
            "not installed",
        ),
        ('contract = "contracts/a.yaml"\n[source\npath = "x"\n', "at line 2"),
    ],
)
def test_a_bad_pipeline_file_is_refused_naming_the_file(tmp_path, body, message):
    contract(tmp_path, "a")
    root = project(tmp_path, {"a": body})
    with pytest.raises(UsageError) as caught:
        load_project(root)
    assert message in str(caught.value)
    assert "pipelines/a.toml" in str(caught.value)


def test_an_unknown_key_in_dataward_toml_is_refused(tmp_path):
    root = project(tmp_path, {}, "[warehouse]\nurll = 'x'\n")
    with pytest.raises(UsageError, match=r"dataward.toml.*warehouse.urll"):
        load_project(root)


def test_warehouse_timeouts_are_read_and_bad_ones_refused(tmp_path):
    root = project(
        tmp_path, {}, "[warehouse]\nlock_timeout_seconds = 2.5\nstatement_timeout_seconds = 60\n"
    )
    loaded = load_project(root)
    assert (loaded.lock_timeout_seconds, loaded.statement_timeout_seconds) == (2.5, 60.0)
    for bad in ('"10s"', "0", "-1", "true"):
        (root / "dataward.toml").write_text(f"[warehouse]\nlock_timeout_seconds = {bad}\n")
        with pytest.raises(UsageError, match=r"warehouse.lock_timeout_seconds.*positive"):
            load_project(root)


def test_an_unknown_warehouse_scheme_is_a_usage_error(tmp_path):
    from dataward.warehouse import connect_warehouse

    with pytest.raises(UsageError, match=r"unknown warehouse URL scheme 'mysql'.*postgresql://"):
        connect_warehouse("mysql://u@h/db", tmp_path)


def test_no_project_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="dataward init"):
        load_project(tmp_path)


def test_pipelines_run_parents_first(tmp_path):
    pipelines = {
        "a_child": contract(tmp_path, "child", parent="parent"),
        "b_grandchild": contract(tmp_path, "grandchild", parent="child"),
        "z_parent": contract(tmp_path, "parent"),
    }
    root = project(tmp_path, pipelines)
    ordered = dependency_order(list(load_project(root).pipelines.values()))
    assert [p.name for p in ordered] == ["z_parent", "a_child", "b_grandchild"]


def test_a_foreign_key_cycle_is_refused(tmp_path):
    pipelines = {
        "one": contract(tmp_path, "one", parent="two"),
        "two": contract(tmp_path, "two", parent="one"),
    }
    root = project(tmp_path, pipelines)
    with pytest.raises(UsageError, match="cycle"):
        dependency_order(list(load_project(root).pipelines.values()))


def test_init_writes_a_project_and_never_overwrites(tmp_path):
    written = init_project(tmp_path / "shop")
    assert (tmp_path / "shop" / "dataward.toml").is_file()
    assert (tmp_path / "shop" / "migrations").is_dir()
    assert ".gitignore" in {p.name for p in written}
    assert "warehouse.duckdb" in (tmp_path / "shop" / ".gitignore").read_text()
    with pytest.raises(UsageError, match="never overwrites"):
        init_project(tmp_path / "shop")


@pytest.mark.e2e
def test_init_then_run_works_from_the_cli(tmp_path):
    dataward = str(Path(sys.executable).parent / "dataward")
    env = {**os.environ, "NO_COLOR": "1"}
    subprocess.run(
        [dataward, "init", "shop"], cwd=tmp_path, check=True, env=env, capture_output=True
    )
    first = subprocess.run(
        [dataward, "run"], cwd=tmp_path / "shop", env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "inserted 4" in first.stdout
    again = subprocess.run(
        [dataward, "run", "--format", "json"],
        cwd=tmp_path / "shop",
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0
    assert '"unchanged": 4' in again.stdout
    assert "Traceback" not in first.stderr + again.stderr
