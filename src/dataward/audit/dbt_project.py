"""A dbt project as the dbt rules read it: models (their SQL config and the properties
their .yml files give them), sources with their freshness, all with file and line. Read
statically, like everything the audit reads: no dbt, no Jinja rendering, no database.

What a model's config says comes from three places, as in dbt: the `config()` call in
its .sql, its entry in a properties .yml, and `models:` in dbt_project.yml by folder; the
.sql wins, then the .yml, then the project file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dataward.audit.walk import read_text
from dataward.contract.yaml_lines import LineIndex

# libyaml's loader when PyYAML was built with it: a dbt project has hundreds of .yml files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CONFIG = re.compile(r"\{\{\s*config\s*\((?P<args>.*?)\)\s*\}\}", re.DOTALL)
_ARGUMENT = re.compile(r"(\w+)\s*=\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\"|[\w.]+)")


@dataclass
class ModelColumn:
    name: str
    tests: set[str]
    primary_key: bool  # a primary_key constraint
    line: int


@dataclass
class DbtModel:
    name: str
    sql_file: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    config_line: int = 1
    yml_file: str | None = None
    yml_line: int | None = None
    columns: dict[str, ModelColumn] = field(default_factory=dict)
    model_tests: list[Any] = field(default_factory=list)  # tests on the whole model
    primary_key: tuple[str, ...] = ()  # declared: constraints or meta

    @property
    def materialized(self) -> str:
        return str(self.config.get("materialized", "view"))


@dataclass
class DbtSource:
    source: str
    table: str
    freshness: Any  # None when not set at the table or the source
    file: str
    line: int


@dataclass
class DbtProject:
    root: str  # relative directory of dbt_project.yml
    name: str
    models: dict[str, DbtModel] = field(default_factory=dict)
    sources: list[DbtSource] = field(default_factory=list)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, message


def read_dbt_project(project_file: Path, files: list[Path], relative: Any) -> DbtProject:
    """`relative(path)` names a file as the audit shows it."""
    directory = project_file.parent
    settings = _yaml(project_file, relative, None) or {}
    project = DbtProject(relative(directory) or ".", str(settings.get("name", directory.name)))
    model_paths = [directory / p for p in settings.get("model-paths", ["models"])]
    inside = [f for f in files if any(_under(f, p) for p in model_paths)]
    folder_config = settings.get("models", {}).get(project.name, {}) if settings else {}
    for sql in (f for f in inside if f.suffix == ".sql"):
        model = project.models.setdefault(sql.stem, DbtModel(sql.stem))
        model.sql_file = relative(sql)
        text = read_text(sql) or ""
        model.config = {**_folder_config(folder_config, sql, model_paths), **model.config}
        if match := _CONFIG.search(text):
            model.config.update(_arguments(match["args"]))
            model.config_line = text[: match.start()].count("\n") + 1
    for yml in (f for f in inside if f.suffix in {".yml", ".yaml"}):
        loaded = _yaml_with_lines(yml, relative, project)
        if loaded is not None:
            _properties(project, yml, relative, *loaded)
    return project


def _under(path: Path, directory: Path) -> bool:
    return directory in path.parents


def _folder_config(config: dict[str, Any], sql: Path, model_paths: list[Path]) -> dict[str, Any]:
    """dbt_project.yml's `models: {project: {folder: {+materialized: ...}}}` for `sql`."""
    found = {k.lstrip("+"): v for k, v in config.items() if not isinstance(v, dict)}
    base = next((p for p in model_paths if _under(sql, p)), None)
    if base is None:
        return found
    node = config
    for part in sql.relative_to(base).parts[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else {}
        if not isinstance(node, dict):
            break
        found.update({k.lstrip("+"): v for k, v in node.items() if not isinstance(v, dict)})
    return found


def _arguments(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, raw in _ARGUMENT.findall(text):
        try:
            found[key] = yaml.safe_load(raw)
        except yaml.YAMLError:
            found[key] = raw
    return found


def _yaml(path: Path, relative: Any, project: DbtProject | None) -> Any:
    loaded = _yaml_with_lines(path, relative, project)
    return loaded[0] if loaded else None


def _yaml_with_lines(
    path: Path, relative: Any, project: DbtProject | None
) -> tuple[Any, LineIndex] | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader, C or Python
        return data, LineIndex(yaml.compose(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        column = f", column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if project is not None:
            project.problems.append(
                (relative(path), line, f"YAML does not parse: {problem} (line {line}{column})")
            )
        return None


def _test_names(tests: Any) -> set[str]:
    names: set[str] = set()
    for test in tests or []:
        if isinstance(test, str):
            names.add(test.split(".")[-1])
        elif isinstance(test, dict):
            names.update(str(k).split(".")[-1] for k in test)
    return names


def _properties(project: DbtProject, yml: Path, relative: Any, data: Any, lines: LineIndex) -> None:
    if not isinstance(data, dict):
        return
    shown = relative(yml)
    for i, entry in enumerate(data.get("models") or []):
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        model = project.models.setdefault(str(entry["name"]), DbtModel(str(entry["name"])))
        model.yml_file, model.yml_line = shown, lines.line(("models", i))
        config = entry.get("config") or {}
        model.config = {**config, **model.config} if model.sql_file else dict(config)
        model.model_tests = list(entry.get("data_tests") or entry.get("tests") or [])
        meta = entry.get("meta") or config.get("meta") or {}
        declared = meta.get("primary_key") or meta.get("primary-key")
        for constraint in entry.get("constraints") or []:
            if isinstance(constraint, dict) and constraint.get("type") == "primary_key":
                declared = constraint.get("columns")
        if declared:
            model.primary_key = tuple([declared] if isinstance(declared, str) else declared)
        for j, column in enumerate(entry.get("columns") or []):
            if not isinstance(column, dict) or "name" not in column:
                continue
            tests = _test_names(column.get("data_tests") or column.get("tests"))
            constraints = {
                c.get("type") for c in column.get("constraints") or [] if isinstance(c, dict)
            }
            tests |= {"not_null"} & constraints
            model.columns[str(column["name"])] = ModelColumn(
                str(column["name"]),
                tests,
                "primary_key" in constraints,
                lines.line(("models", i, "columns", j)) or 1,
            )
    for i, source in enumerate(data.get("sources") or []):
        if not isinstance(source, dict):
            continue
        inherited = source.get("freshness") or (source.get("config") or {}).get("freshness")
        for j, table in enumerate(source.get("tables") or []):
            if not isinstance(table, dict) or "name" not in table:
                continue
            if "freshness" in table:
                freshness = table["freshness"]  # null switches an inherited one off
            else:
                freshness = (table.get("config") or {}).get("freshness", inherited)
            project.sources.append(
                DbtSource(
                    str(source.get("name", "")),
                    str(table["name"]),
                    freshness,
                    shown,
                    lines.line(("sources", i, "tables", j)) or 1,
                )
            )
