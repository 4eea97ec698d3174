"""OpenLineage RunEvents for dataward runs: START, then COMPLETE or FAIL, via openlineage-python.

The client configures itself the OpenLineage way (OPENLINEAGE_URL, OPENLINEAGE_CONFIG, an
`openlineage.yml`, OPENLINEAGE__* variables); dataward adds one place to look, the project
directory, and one rule: when nothing is configured there is no client at all, so a project
that does not use lineage pays nothing (the client is not even imported). Lineage reports on
a run and is never a cause of its failure: a receiver that is down or refuses an event is
logged as `lineage.emit.failed`, without secrets, and the run goes on.

Lookup order and what each event carries: docs/lineage.md.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from dataward import __version__
from dataward.errors import Location, UsageError
from dataward.events import get_logger
from dataward.redact import redact_urls

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent
    from openlineage.client.transport import Transport

log = get_logger()

CONFIG_FILE = "openlineage.yml"
PRODUCER = f"https://pypi.org/project/dataward/{__version__}/"
# The client's HTTP defaults (5 s timeout, 5 retries with backoff) hold a run ~9 s per
# event when the receiver is down; lineage must not delay a load that long. These apply
# only where the configuration left the client's defaults in place.
HTTP_TIMEOUT_SECONDS = 2.0
HTTP_RETRY = {"total": 1, "connect": 1, "read": 1, "backoff_factor": 0.3}

_SECRET_KEY = re.compile(r"key|secret|token|password|auth", re.IGNORECASE)


@dataclass(frozen=True)
class DatasetRef:
    """A dataset as OpenLineage names it (https://openlineage.io/docs/spec/naming), with its
    columns for the schema facet. Never holds a password: the namespace is scheme + host."""

    namespace: str
    name: str
    fields: tuple[tuple[str, str], ...] = ()  # (column, type)


@dataclass(frozen=True)
class RunOutput:
    """What a finished run measured, as the COMPLETE event reports it.

    `rows_written` goes to outputStatistics.rowCount (the spec: "rows written to the
    dataset"); `rows_extracted` is the dataQualityMetrics.rowCount the column counts were
    taken over: the delivery, as the ledger's metrics measure it."""

    rows_extracted: int | None
    rows_written: int | None  # inserted + updated
    null_counts: Mapping[str, int] = field(default_factory=dict)
    distinct_counts: Mapping[str, int] = field(default_factory=dict)


def file_dataset(path: Path, fields: Sequence[tuple[str, str]] = ()) -> DatasetRef:
    """A local file: namespace `file`, name its absolute path (the naming spec)."""
    from openlineage.client.naming.dataset import LocalFileSystem

    naming = LocalFileSystem(path=str(Path(path).resolve()))
    return DatasetRef(naming.get_namespace(), naming.get_name(), tuple(fields))


def warehouse_dataset(
    url: str, project_root: Path, table: str, fields: Sequence[tuple[str, str]] = ()
) -> DatasetRef:
    """A table in the warehouse a dataward URL names. `table` may carry its schema
    ("sales.orders"); without one it is DuckDB's `main` or PostgreSQL's `public`.

    DuckDB has no entry in the naming spec; like the spec's file systems the datasource is
    the file: namespace `duckdb://<absolute path>`, name `<database>.<schema>.<table>` with
    DuckDB's own database name, the file's stem."""
    namespace, database, default_schema = _datasource(url, project_root)
    schema, _, name = table.rpartition(".")
    return DatasetRef(namespace, f"{database}.{schema or default_schema}.{name}", tuple(fields))


def http_dataset(url: str, fields: Sequence[tuple[str, str]] = ()) -> DatasetRef:
    """An HTTP JSON source: namespace scheme://host[:port], name the path. The user info
    and the query string stay out: either may carry a token."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"an HTTP source URL looks like https://host/path, got {redact_urls(url)!r}"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    authority = f"{host}:{parts.port}" if parts.port else host
    return DatasetRef(f"{parts.scheme}://{authority}", parts.path or "/", tuple(fields))


def query_datasets(url: str, project_root: Path, query: str) -> list[DatasetRef]:
    """The tables a SQL source's query reads (sqlglot finds them), named in the database
    `url` names; the query's own CTEs and table functions are not datasets. A query sqlglot
    cannot parse yields none: the run itself will say what is wrong with it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    namespace, database, default_schema = _datasource(url, project_root)
    dialect = "duckdb" if urlsplit(url).scheme == "duckdb" else "postgres"
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except SqlglotError:
        return []
    found: dict[str, DatasetRef] = {}
    for statement in statements:
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier) or (not table.db and table.name in ctes):
                continue
            name = f"{table.catalog or database}.{table.db or default_schema}.{table.name}"
            found.setdefault(name, DatasetRef(namespace, name))
    return list(found.values())


def _datasource(url: str, project_root: Path) -> tuple[str, str, str]:
    """Namespace, database name and default schema of a dataward warehouse URL."""
    scheme = urlsplit(url).scheme
    if scheme == "duckdb":
        from dataward.warehouse import duckdb_path

        path = duckdb_path(url, project_root).resolve()
        return f"duckdb://{path}", path.stem, "main"
    if scheme in ("postgresql", "postgres"):
        from openlineage.client.naming.dataset import Postgres

        host, port, database = _postgres_address(url)
        naming = Postgres(host=host, port=port, database=database, schema="public", table="-")
        return naming.get_namespace(), database, "public"
    raise UsageError(
        f"unknown warehouse URL scheme {scheme or '(none)'!r}: use duckdb:///path.duckdb or "
        "postgresql://user@host/database",
        Location(path="warehouse.url"),
    )


def _postgres_address(url: str) -> tuple[str, str, str]:
    """Host, port and database of a PostgreSQL URL; the user and password are left behind.
    Missing parts take libpq's defaults (localhost, 5432, the user's name)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(
            "the warehouse URL's port is not a number", Location(path="warehouse.url")
        ) from exc
    host = parts.hostname or query.get("host", ["localhost"])[0]
    if ":" in host:  # an IPv6 address: bracketed, so the port stays readable
        host = f"[{host}]"
    database = parts.path.lstrip("/") or query.get("dbname", [parts.username or "postgres"])[0]
    return host, str(port or 5432), database


class Lineage:
    """Sends one run's events through a configured OpenLineage client.

    Job namespace: OPENLINEAGE_NAMESPACE if set (the convention OpenLineage integrations
    share), else the dataward project's name. Job name: the pipeline's name."""

    def __init__(
        self, client: OpenLineageClient, namespace: str, secrets: Sequence[str] = ()
    ) -> None:
        self._client = client
        self.namespace = namespace
        self._secrets = tuple(s for s in secrets if s)

    @classmethod
    def from_environment(cls, project_root: Path, namespace: str) -> Lineage | None:
        """A Lineage when OpenLineage is configured, None when it is not or is disabled.
        Raises UsageError when the configuration is there but unusable (call it before the
        run starts, so a mistyped openlineage.yml stops nothing half way)."""
        if os.environ.get("OPENLINEAGE_DISABLED", "").lower().strip() == "true":
            return None
        files, dataward_reads_first = _config_files(project_root)
        contents = [_read_config(path) for path in files]
        if not _has_transport(contents):
            return None
        own = None
        if dataward_reads_first:
            own = _anchor_file_paths(contents[0], project_root)
        client = _make_client(own, files[0] if files else None)
        if client.transport.kind == "noop":
            return None
        _shorten_http_waits(client.transport)
        secrets = [
            os.environ.get("OPENLINEAGE_API_KEY", ""),
            *_secret_values(client.config.transport),
        ]
        return cls(client, os.environ.get("OPENLINEAGE_NAMESPACE") or namespace, secrets)

    def start(
        self,
        run_id: str,
        job_name: str,
        inputs: Sequence[DatasetRef],
        output: DatasetRef,
        started_at: datetime,
    ) -> None:
        self._emit(self._event("START", run_id, job_name, started_at, inputs, output))

    def complete(
        self,
        run_id: str,
        job_name: str,
        inputs: Sequence[DatasetRef],
        output: DatasetRef,
        result: RunOutput,
        finished_at: datetime,
    ) -> None:
        self._emit(
            self._event("COMPLETE", run_id, job_name, finished_at, inputs, output, result=result)
        )

    def fail(
        self,
        run_id: str,
        job_name: str,
        inputs: Sequence[DatasetRef],
        output: DatasetRef,
        message: str,
        finished_at: datetime,
    ) -> None:
        from openlineage.client.facet_v2 import error_message_run

        error = error_message_run.ErrorMessageRunFacet(
            message=self._redact(message), programmingLanguage="python", producer=PRODUCER
        )
        self._emit(
            self._event(
                "FAIL",
                run_id,
                job_name,
                finished_at,
                inputs,
                output,
                run_facets={"errorMessage": error},
            )
        )

    def close(self) -> None:
        """Releases the transport's connections (an HTTP session); safe to call twice."""
        self._client.close(timeout=HTTP_TIMEOUT_SECONDS)

    def _emit(self, event: RunEvent) -> None:
        try:
            self._client.emit(event)
        except Exception as exc:  # noqa: BLE001 - lineage reports on a run, never fails it
            log.warning(
                "lineage.emit.failed",
                event_type=event.eventType.value,
                run_id=event.run.runId,
                job=f"{event.job.namespace}/{event.job.name}",
                transport=self._client.transport.kind,
                problem=self._redact(f"{type(exc).__name__}: {exc}"),
            )
        else:
            log.debug("lineage.emitted", event_type=event.eventType.value, run_id=event.run.runId)

    def _event(
        self,
        state: str,
        run_id: str,
        job_name: str,
        when: datetime,
        inputs: Sequence[DatasetRef],
        output: DatasetRef,
        *,
        result: RunOutput | None = None,
        run_facets: dict[str, Any] | None = None,
    ) -> RunEvent:
        from openlineage.client.constants import __version__ as client_version
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import job_type_job, processing_engine_run

        if when.tzinfo is None:
            raise ValueError(f"the {state} event time {when.isoformat()} has no time zone")
        engine = processing_engine_run.ProcessingEngineRunFacet(
            version=__version__,
            name="dataward",
            openlineageAdapterVersion=client_version,
            producer=PRODUCER,
        )
        job_type = job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="DATAWARD", jobType="JOB", producer=PRODUCER
        )
        return RunEvent(
            eventType=RunState[state],
            eventTime=when.isoformat(),
            run=Run(runId=run_id, facets={"processing_engine": engine, **(run_facets or {})}),
            job=Job(namespace=self.namespace, name=job_name, facets={"jobType": job_type}),
            inputs=[_input(ref) for ref in inputs],
            outputs=[_output(output, result)],
            producer=PRODUCER,
        )

    def _redact(self, text: str) -> str:
        """The text without credentials: URL user info and query strings, and any value
        the configuration holds as a key, token or password."""
        text = redact_urls(text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:1000]


def _input(ref: DatasetRef) -> InputDataset:
    from openlineage.client.event_v2 import InputDataset

    return InputDataset(namespace=ref.namespace, name=ref.name, facets=_schema_facets(ref))


def _output(ref: DatasetRef, result: RunOutput | None) -> OutputDataset:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import (
        data_quality_metrics_dataset as dq,
    )
    from openlineage.client.facet_v2 import (
        output_statistics_output_dataset as stats,
    )

    facets: dict[str, Any] = _schema_facets(ref)
    output_facets: dict[str, Any] = {}
    if result is not None:
        columns = sorted({*result.null_counts, *result.distinct_counts})
        facets["dataQualityMetrics"] = dq.DataQualityMetricsDatasetFacet(
            rowCount=result.rows_extracted,
            columnMetrics={
                column: dq.ColumnMetrics(
                    nullCount=result.null_counts.get(column),
                    distinctCount=result.distinct_counts.get(column),
                )
                for column in columns
            },
            producer=PRODUCER,
        )
        output_facets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
            rowCount=result.rows_written, producer=PRODUCER
        )
    return OutputDataset(
        namespace=ref.namespace, name=ref.name, facets=facets, outputFacets=output_facets
    )


def _schema_facets(ref: DatasetRef) -> dict[str, Any]:
    from openlineage.client.facet_v2 import schema_dataset

    if not ref.fields:
        return {}
    fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in ref.fields]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)}


def _config_files(project_root: Path) -> tuple[list[Path], bool]:
    """The openlineage.yml files in force, the one that wins first, and whether dataward
    must hand the first to the client (the project's file, which the client does not know).

    Order: OPENLINEAGE_CONFIG, ./openlineage.yml, <project>/openlineage.yml,
    ~/.openlineage/openlineage.yml. The client merges its own find (the home file) under the
    project's, so both are in force then."""
    explicit = os.environ.get("OPENLINEAGE_CONFIG")
    if explicit:
        if not Path(explicit).is_file():
            raise UsageError(f"OPENLINEAGE_CONFIG names {explicit}, which is not a file")
        return [Path(explicit)], False
    here = Path.cwd() / CONFIG_FILE
    if here.is_file():
        return [here], False
    home = Path("~/.openlineage").expanduser() / CONFIG_FILE
    homes = [home] if home.is_file() else []
    project = project_root / CONFIG_FILE
    if project.is_file():
        return [project, *homes], True
    return homes, False


def _read_config(path: Path) -> dict[str, Any]:
    """The file's mapping; a file the client would shrug off (it logs and goes on without
    lineage) is an error here, naming the file and line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read the OpenLineage config: {exc}", Location(file=str(path))
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(
            f"the OpenLineage config is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            Location(
                file=str(path),
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ),
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"the OpenLineage config must be a mapping (transport:, facets: ...), "
            f"not a {type(data).__name__}",
            Location(file=str(path)),
        )
    transport = data.get("transport")
    if transport is not None and not isinstance(transport, dict):
        raise UsageError(
            "transport must be a mapping with a type (http, file, kafka, ...)",
            Location(file=str(path), path="transport"),
        )
    return data


def _has_transport(contents: Sequence[dict[str, Any]]) -> bool:
    """Whether the client would get a transport of its own choosing. Without one it would
    fall back to printing events to the console: for dataward, that is "not configured"."""
    if os.environ.get("OPENLINEAGE_URL", "").strip():
        return True
    if os.environ.get("OPENLINEAGE__TRANSPORT__TYPE", "").strip():
        return True
    return any((content.get("transport") or {}).get("type") for content in contents)


def _anchor_file_paths(config: dict[str, Any], project_root: Path) -> dict[str, Any]:
    """A file transport's relative log_file_path in the project's openlineage.yml is
    relative to the project, as every path in a dataward project is."""
    transport = config.get("transport") or {}
    path = transport.get("log_file_path")
    if transport.get("type") != "file" or not isinstance(path, str) or "://" in path:
        return config
    if Path(path).is_absolute():
        return config
    return {**config, "transport": {**transport, "log_file_path": str(project_root / path)}}


def _make_client(own: dict[str, Any] | None, source: Path | None) -> OpenLineageClient:
    from openlineage.client import OpenLineageClient

    # Without a handler of its own the client's warnings reach logging's last-resort
    # handler: bare lines among dataward's JSON events on stderr, repeating error texts
    # unredacted. A logging setup of the user's own (a root handler) still receives them.
    library = logging.getLogger("openlineage")
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())

    # The client copies OPENLINEAGE_URL and OPENLINEAGE_API_KEY into new OPENLINEAGE__*
    # variables while it configures itself; it has read them once it is built, so they are
    # removed again rather than left to spread the key to every child process.
    before = {k: v for k, v in os.environ.items() if k.startswith("OPENLINEAGE__")}
    try:
        return OpenLineageClient(config=own)
    except Exception as exc:  # re-raised: whatever the client refuses is configuration
        where = "this configuration" if source else "OPENLINEAGE_URL / OPENLINEAGE__* variables"
        problem = redact_urls(str(exc))
        key = os.environ.get("OPENLINEAGE_API_KEY")
        if key:
            problem = problem.replace(key, "***")
        raise UsageError(
            f"the OpenLineage client refused {where}: {type(exc).__name__}: {problem}",
            Location(file=str(source)) if source else None,
        ) from exc
    finally:
        for key in [k for k in os.environ if k.startswith("OPENLINEAGE__") and k not in before]:
            del os.environ[key]
        os.environ.update(before)


def _transports(transport: Transport) -> Iterator[Transport]:
    from openlineage.client.transport.composite import CompositeTransport

    if isinstance(transport, CompositeTransport):
        for child in transport.transports:
            yield from _transports(child)
    else:
        yield transport


def _shorten_http_waits(transport: Transport) -> None:
    """dataward's HTTP timeout and retries wherever the configuration kept the client's
    defaults; a timeout or retry set in openlineage.yml or OPENLINEAGE__TRANSPORT__* stays."""
    import attr
    from openlineage.client.transport.http import HttpConfig, HttpTransport
    from openlineage.client.transport.http_common import DEFAULT_RETRY_CONFIG

    default_timeout = attr.fields(HttpConfig).timeout.default
    for http in _transports(transport):
        if not isinstance(http, HttpTransport):
            continue
        if http.config.timeout == default_timeout:
            http.timeout = http.config.timeout = HTTP_TIMEOUT_SECONDS
        if http.config.retry == DEFAULT_RETRY_CONFIG:
            # Read when the transport opens its session, at the first event.
            http.config.retry = {**DEFAULT_RETRY_CONFIG, **HTTP_RETRY}


def _secret_values(config: Any) -> Iterator[str]:
    """Every string the transport configuration holds under a key-, token- or password-like
    name, at any depth (auth: {apiKey: ...}), so no failure message can repeat it."""
    if isinstance(config, dict):
        for key, value in config.items():
            if isinstance(value, str) and _SECRET_KEY.search(str(key)) and len(value) >= 4:
                yield value
            else:
                yield from _secret_values(value)
    elif isinstance(config, list):
        for item in config:
            yield from _secret_values(item)
