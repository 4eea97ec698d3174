"""One pipeline run: EXTRACT → VALIDATE → TRANSFORM → LOAD → VERIFY → ALERT.

Extraction, validation and the transform stream batch by batch into a staging table
(bounded memory; nothing holds the warehouse meanwhile). Then one transaction: resolve
duplicate and foreign keys, apply the write mode, record the changelog, the rejects and
the run, VERIFY (row accounting, the contract's checks as SQL on the table as it would
be committed) and COMMIT, or ROLLBACK and record the run as failed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from dataward.checks import CheckKind, Scope, compile_checks
from dataward.checks.at_rest import evaluate
from dataward.checks.polars_render import violation
from dataward.checks.sql_render import sql_type
from dataward.contract.loader import load_contract
from dataward.contract.model import Contract, Severity, Table
from dataward.errors import (
    ContractError,
    DatawardError,
    ExitCode,
    Location,
    SourceError,
    UsageError,
)
from dataward.events import get_logger
from dataward.observe.lineage import (
    DatasetRef,
    Lineage,
    RunOutput,
    file_dataset,
    http_dataset,
    query_datasets,
    warehouse_dataset,
)
from dataward.observe.metrics import delivery_metrics, run_metrics, source_column_metrics
from dataward.observe.store import DISTINCT_COUNT, NULL_RATE, Metric
from dataward.observe.watch import watch
from dataward.pipeline import ledger
from dataward.pipeline.key_order import AscendingKeys
from dataward.pipeline.ledger import REJECT_COLUMNS, Counts, RunRecord
from dataward.pipeline.load import STAGE, STAGE_REJECTS, LoadPlan
from dataward.pipeline.lock import PipelineLock
from dataward.pipeline.row_hash import duckdb_hashing_select
from dataward.pipeline.schema import (
    RUN_COLUMN,
    compare_with_contract,
    constraint_checks,
    target_ddl,
    upgrade_row_hash_column,
)
from dataward.pipeline.stager import BackgroundStager
from dataward.pipeline.transform import (
    TRANSFORM_REASON,
    TransformError,
    apply_transform,
    load_transform,
)
from dataward.project.config import DEFAULT_MAX_REJECT_RATE, PipelineSpec, Project
from dataward.sources import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    expand_paths,
    read_batches,
)
from dataward.sources.prefetch import prefetch
from dataward.validate.engine import BatchValidator, check_columns
from dataward.validate.result import ValidationResult
from dataward.warehouse import Warehouse, project_warehouse
from dataward.warehouse.base import LEDGER_SCHEMA

LOCATION = [SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN]
# Judged in flight by the validator; everything else is judged by SQL at load time.
_LOAD_TIME_KINDS = (CheckKind.UNIQUE, CheckKind.FOREIGN_KEY)

Progress = Callable[[int], None]


class SchemaMismatchError(ContractError):
    """The live table no longer matches the contract: a migration is needed."""


class RunFailed(DatawardError):
    exit_code = ExitCode.CHECKS_FAILED


@dataclass
class RunOutcome:
    record: RunRecord
    dry_run: bool = False
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record.status in ("succeeded", "dry-run")


def new_run_id() -> str:
    """A UUID version 7 (RFC 9562): sortable by time, so listings read naturally, unique
    without coordination, and a valid OpenLineage run id, so both name a run the same way.
    Python 3.11's uuid module has no uuid7 yet: 48 bits of Unix milliseconds, then the
    version and variant bits around 74 random ones."""
    millis = int(datetime.now(UTC).timestamp() * 1000)
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10)) >> 6
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def run_pipeline(
    project: Project,
    spec: PipelineSpec,
    *,
    dry_run: bool = False,
    partition_value: str | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    replay: list[dict[str, Any]] | None = None,
    recheck: bool = False,
) -> RunOutcome:
    contract = load_contract(spec.contract)
    try:
        table = contract.table(spec.table)
    except KeyError:
        names = ", ".join(t.name for t in contract.tables)
        raise ContractError(
            f"pick the contract's table with `table = ...` (one of: {names})",
            Location(file=str(spec.file), path="table"),
        ) from None
    if partition_value is not None and not spec.partition:
        raise UsageError(
            f"--partition needs a pipeline with a partition column; {spec.name!r} has none",
            Location(file=str(spec.file), path="partition"),
        )
    if spec.partition and spec.partition not in {c.name for c in table.columns}:
        raise ContractError(
            f"partition column {spec.partition!r} is not a column of {table.name!r}",
            Location(file=str(spec.file), path="partition"),
        )
    log = get_logger(pipeline=spec.name)
    with PipelineLock(project.state_dir, spec.name):
        wh = project_warehouse(project)
        try:
            run = _Run(project, spec, contract, table, wh, log, dry_run, partition_value)
            run.record.run_id = run_id or run.record.run_id
            run.recheck = recheck
            if replay is not None:
                run.record.kind = "replay"
            return run.execute(progress, replay)
        finally:
            wh.close()


class _Run:
    def __init__(
        self,
        project: Project,
        spec: PipelineSpec,
        contract: Contract,
        table: Table,
        wh: Warehouse,
        log: Any,
        dry_run: bool,
        partition_value: str | None,
    ) -> None:
        self.project = project
        self.spec = spec
        self.contract = contract
        self.table = table
        self.target = table.storage_name
        self.wh = wh
        self.dry_run = dry_run
        self.partition_value = partition_value
        self.checks = compile_checks(contract, table)
        self.record = RunRecord(
            run_id=new_run_id(),
            pipeline=spec.name,
            target_table=self.target,
            mode=spec.mode,
            partition_value=partition_value,
        )
        self.log = log
        self.transform = (
            load_transform(spec.transform, project.root, spec.file) if spec.transform else None
        )
        self.transform_file = (
            project.root / spec.transform.rpartition(":")[0]
            if spec.transform and spec.transform.rpartition(":")[0].endswith(".py")
            else None
        )
        self.record.contract_fingerprint = self._settings_fingerprint()
        self.recheck = False
        self._file_digest: _FileDigest | None = None
        self.staged = 0
        self.staged_keys = AscendingKeys(table.primary_key)
        self.transform_rejects: list[dict[str, Any]] = []
        self.table_exists = False
        # What the run measured of its delivery, stored and judged after it (observe/).
        self.delivered = False  # the source was read (an identical re-run skips it)
        self.source_columns: list[str] | None = None
        self.delivery_metrics: list[Metric] = []
        self.delivered_rows = 0  # rows staged to load: what the null counts are of
        # Read now: lineage configured but unusable is a configuration error before any work.
        self.lineage = None if dry_run else Lineage.from_environment(project.root, project.name)
        self._lineage_started = False

    @property
    def counts(self) -> Counts:
        return self.record.counts

    def event(self, stage: str, **extra: Any) -> None:
        self.log.info(
            "stage",
            stage=stage,
            run_id=self.record.run_id,
            table=self.target,
            **self.counts.as_dict(),
            **extra,
        )

    # ------------------------------------------------------------ the stages

    def execute(self, progress: Progress | None, replay: list[dict[str, Any]] | None) -> RunOutcome:
        self._prepare()
        if replay is None and not self.recheck and self.spec.source.kind == "files":
            try:
                already = self._already_loaded()
            except DatawardError as exc:
                self._fail_without_load(exc)
                raise
            if already is not None:
                return already
        try:
            validation = self._extract_and_validate(progress, replay)
        except DatawardError as exc:
            self._fail_without_load(exc)
            raise
        self._stage_validation_rejects(validation)
        self.record.warnings.extend(_warnings(validation))
        return self._load(validation)

    def _prepare(self) -> None:
        """Before reading the source: the table must match the contract, the ledger must
        exist, runs that died holding this pipeline are closed, and this run is recorded."""
        self.wh.open()
        # Until close: a second run of this table, from any machine, stops at once.
        self.wh.lock_table(self.target)
        try:
            self.wh.begin()
            ledger.ensure_ledger(self.wh)
            # Like ensure_ledger, a format upgrade of dataward's own columns (values kept),
            # so it happens in a dry run too.
            if upgrade_row_hash_column(self.wh, self.target, self.table.primary_key):
                self.log.warning("table.upgraded", table=self.target, column="_dw_row_hash")
            mismatch = compare_with_contract(self.wh, self.table, self.target, self.checks)
            problem: SchemaMismatchError | None = None
            if mismatch:
                details = "; ".join(str(m) for m in mismatch)
                problem = SchemaMismatchError(
                    f"table {self.target!r} does not match the contract ({details}); write a "
                    f"migration under migrations/ that brings {self.target!r} to the contract "
                    "before this pipeline can load it",
                    Location(file=str(self.spec.contract), table=self.target),
                )
                self.record.status = "failed"
                self.record.reason = problem.message
            self.table_exists = mismatch is not None
            if not self.dry_run:
                stale = ledger.abort_stale_runs(self.wh, self.spec.name)
                if stale:
                    self.log.warning("runs.aborted", runs=stale)
                ledger.insert_run(self.wh, self.record)
                if problem is not None:
                    ledger.finish_run(self.wh, self.record)
            else:
                self.record.seq = ledger.next_seq(self.wh)
            self.wh.commit()
        finally:
            self.wh.release()
        if problem is not None:
            # A scheduled job must hear about it: recorded above, announced here.
            self.event("finish", status="failed", reason=problem.message)
            self._observe()
            raise problem
        self.event("start", mode=self.spec.mode, warehouse=self.wh.display_url)
        self._lineage_start()

    def _source_batches(self) -> tuple[Iterator[pl.DataFrame], Callable[[], str]]:
        source = self.spec.source
        if source.kind == "files":
            files = self._files()
            digest = self._file_digest or _FileDigest([f.path for f in files])

            def batches() -> Iterator[pl.DataFrame]:
                for data in files:
                    for batch in prefetch(read_batches(data)):
                        columns = [n for n in batch.columns if n not in LOCATION]
                        check_columns(self.table, data, columns, False, None)
                        yield batch

            return batches(), digest.result
        if source.kind == "sql":
            from dataward.sources.sql import SqlSource

            sql = SqlSource(str(source.url), str(source.query))
            return sql.batches(), lambda: sql.fingerprint
        from dataward.sources.http import HttpSource

        http = HttpSource(
            str(source.url), records=source.records, next=source.next, headers=source.headers
        )
        return http.batches(), lambda: http.fingerprint

    def _files(self) -> list[DataFile]:
        source = self.spec.source
        return [
            dataclasses.replace(f, shown_as=self._display_name(f.path))
            for f in expand_paths(
                list(source.paths), source.format, source.delimiter, source.null_values
            )
        ]

    def _settings_fingerprint(self) -> str:
        """What decides the outcome besides the input: the contract, the transform's code
        and the pipeline's settings. Two runs that agree on this and on the input
        fingerprint load the same rows."""
        digest = hashlib.sha256(self.spec.contract.read_bytes())
        if self.transform_file is not None and self.transform_file.is_file():
            digest.update(self.transform_file.read_bytes())
        settings = {
            "table": self.spec.table,
            "mode": self.spec.mode,
            "partition": self.spec.partition,
            "partition_value": self.partition_value,
            "transform": self.spec.transform,
            "max_reject_rate": self.spec.max_reject_rate,
            "allow_empty": self.spec.allow_empty,
            "source": dataclasses.asdict(self.spec.source),
        }
        digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
        return digest.hexdigest()

    def _already_loaded(self) -> RunOutcome | None:
        """The same input, contract and settings as the pipeline's last successful load,
        into a table no run has touched since (its rows per run id are what that run left):
        the full comparison would find every row unchanged, so it is skipped. The input
        is still read once, to fingerprint it; `--recheck` forces the full comparison
        (to repair a table someone edited outside dataward)."""
        files = self._files()
        self._file_digest = _FileDigest([f.path for f in files])
        fingerprint = self._file_digest.result()
        self.wh.open()
        try:
            previous = ledger.read_runs(
                self.wh,
                "WHERE pipeline = ? AND kind = 'load' AND status = 'succeeded'",
                [self.spec.name],
            )[:1]
            if not previous or not self.table_exists:
                return None
            last = previous[0]
            if (
                last.input_fingerprint != fingerprint
                or last.contract_fingerprint != self.record.contract_fingerprint
                or last.table_state is None
                or last.table_state != self._table_state()
            ):
                return None
            c, before = self.counts, last.counts
            c.extracted, c.rejected = before.extracted, before.rejected
            c.duplicates_dropped = before.duplicates_dropped
            c.unchanged = before.inserted + before.updated + before.unchanged
            self.record.input_fingerprint = fingerprint
            self.record.table_state = last.table_state
            self.record.warnings = [
                f"input already loaded by run {last.run_id} and the table is as it left it: "
                "nothing to compare (dataward run --recheck compares every row)",
                *last.warnings,
            ]
            if self.dry_run:
                self.record.status = "dry-run"
                return RunOutcome(self.record, True, [])
            self.wh.begin()
            try:
                self.wh.execute(
                    f"INSERT INTO {LEDGER_SCHEMA}.rejects SELECT ?, target_table, source, "
                    f"source_row, source_line, stage, record, reasons FROM {LEDGER_SCHEMA}.rejects "
                    "WHERE run_id = ?",
                    [self.record.run_id, last.run_id],
                )
                self.record.status = "succeeded"
                ledger.finish_run(self.wh, self.record)
                self.wh.commit()
            except BaseException:
                self.wh.rollback()
                raise
        finally:
            self.wh.release()
        self.event("finish", status=self.record.status, same_as=last.run_id)
        self._observe()
        return RunOutcome(self.record, False, [])

    def _table_state(self) -> str:
        return json.dumps(self._rows_per_run())

    def _rows_per_run(self) -> list[list[Any]]:
        q = self.wh.quote
        counted = self.wh.rows(
            f"SELECT {q(RUN_COLUMN)}, count(*) FROM {q(self.target)} GROUP BY 1 ORDER BY 1"
        )
        return [[run, int(n)] for run, n in counted]

    def _display_name(self, path: Path) -> str:
        """Lineage names a file the same way on every machine: `package:path` inside an
        installed package, a path relative to the project inside it, else the full path."""
        source = self.spec.source
        candidates = []
        if source.package and source.package_dir:
            candidates.append((Path(source.package_dir), f"{source.package}:"))
        candidates.append((self.project.root, ""))
        for base, prefix in candidates:
            try:
                return prefix + path.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                continue
        return str(path)

    def _extract_and_validate(
        self, progress: Progress | None, replay: list[dict[str, Any]] | None
    ) -> ValidationResult:
        checks = [
            c
            for c in self.checks
            if c.is_row_level and c.kind not in _LOAD_TIME_KINDS and c.scope is Scope.ROW
        ]
        result = ValidationResult(contract=self.contract.source, table=self.table.name, files=[])
        validator = BatchValidator(
            self.contract, self.table, checks, result, on_accepted=self._accept
        )
        self.validator = validator
        self.delivered = True
        self.stager = BackgroundStager(self._stage_batch)
        try:
            if replay is not None:
                batches: Iterator[pl.DataFrame] = iter([_replay_frame(replay, self.table)])
                fingerprint: Callable[[], str] = lambda: _records_digest(replay)  # noqa: E731
            else:
                batches, fingerprint = self._source_batches()
            for batch in batches:
                if self.source_columns is None:
                    self.source_columns = [c for c in batch.columns if c not in LOCATION]
                if self.partition_value is not None and self.spec.partition:
                    batch = batch.filter(
                        pl.col(self.spec.partition).cast(pl.String) == self.partition_value
                    )
                # Counted first: a transform that raises on this batch still read it.
                self.counts.extracted += batch.height
                validator.add_batch(batch)
                self.event("extract", batch_rows=batch.height)
                if progress:
                    progress(batch.height)
            validator.finish()
            self.stager.close()
            self.record.input_fingerprint = fingerprint()
        finally:
            # On any failure the stager still stops before the connection is used again.
            try:
                self.stager.close()
            finally:
                validator.close()
        self.counts.rejected += result.rejected
        self.event("validate", source=self._source_name())
        return result

    def _source_name(self) -> str:
        source = self.spec.source
        if source.kind == "files":
            return ", ".join(source.paths)
        if source.kind == "sql":
            from dataward.sources.sql import redact_url

            return f"{redact_url(str(source.url))}#query"
        return str(source.url)

    def _accept(self, rows: pl.DataFrame) -> None:
        """A validated batch: transform it (if any), then stage it with its row hashes."""
        if rows.height == 0:
            return
        if self.transform is not None:
            rows = self._transformed(rows)
            self.counts.transformed += rows.height
            if rows.height == 0:
                return
        self.staged += rows.height
        self.staged_keys.see(rows)
        self.stager.put(rows.to_arrow())

    def _stage_batch(self, arrow: pa.Table) -> None:
        """On the stager's thread: cast to the table's types, hash, append to the stage."""
        select = ", ".join(
            f"CAST({self.wh.quote(c.name)} AS {sql_type(c.type).sql('duckdb')}) AS "
            f"{self.wh.quote(c.name)}"
            for c in self.table.columns
        )
        location = ", ".join(self.wh.quote(n) for n in LOCATION)
        self.wh.staging.stage(
            STAGE,
            arrow,
            duckdb_hashing_select(self.table.columns, f"SELECT {select}, {location} FROM batch"),
        )

    def _transformed(self, rows: pl.DataFrame) -> pl.DataFrame:
        assert self.transform is not None
        out = apply_transform(self.transform, rows, self.transform_file)
        expected = [c.name for c in self.table.columns]
        allowed = {*expected, *LOCATION, TRANSFORM_REASON}
        extra = [n for n in out.columns if n not in allowed]
        if extra:
            raise TransformError(
                f"the transform returned column(s) {', '.join(map(repr, extra))} that the "
                f"contract's table {self.table.name!r} does not have",
                Location(file=str(self.transform_file or self.spec.file)),
            )
        missing = [n for n in [*expected, SOURCE_COLUMN, ROW_COLUMN] if n not in out.columns]
        if missing:
            raise TransformError(
                f"the transform dropped column(s) {', '.join(map(repr, missing))}; keep every "
                "contract column and the _dw_source/_dw_source_row lineage columns",
                Location(file=str(self.transform_file or self.spec.file)),
            )
        if out.height != rows.height:
            raise TransformError(
                f"the transform returned {out.height} rows for {rows.height}: rows may not "
                "be dropped or added silently; mark unwanted rows with dataward.reject()",
                Location(file=str(self.transform_file or self.spec.file)),
            )
        if LINE_COLUMN not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=pl.Int64).alias(LINE_COLUMN))
        for col in self.table.columns:
            want = rows.schema[col.name]
            if out.schema[col.name] != want:
                try:
                    out = out.with_columns(pl.col(col.name).cast(want, strict=True))
                except pl.exceptions.PolarsError:
                    raise TransformError(
                        f"the transform returned {col.name!r} as {out.schema[col.name]}, "
                        f"which does not convert exactly to the contract's {col.type}",
                        Location(file=str(self.transform_file or self.spec.file)),
                    ) from None
        # What the transform made must still satisfy the contract's row checks.
        row_checks = [
            c
            for c in self.checks
            if c.is_row_level
            and c.kind not in _LOAD_TIME_KINDS
            and c.scope is Scope.ROW
            and c.severity is Severity.ERROR
        ]
        reason = (
            pl.col(TRANSFORM_REASON) if TRANSFORM_REASON in out.columns else pl.lit(None, pl.String)
        )
        for check in row_checks:
            reason = (
                pl.when(reason.is_null() & violation(check).fill_null(False))
                .then(pl.lit(f"after the transform: {check.message}"))
                .otherwise(reason)
            )
        out = out.with_columns(reason.alias(TRANSFORM_REASON))
        rejected = out.filter(pl.col(TRANSFORM_REASON).is_not_null())
        for row in rejected.iter_rows(named=True):
            self.transform_rejects.append(
                {
                    "record": {c.name: _text(row[c.name]) for c in self.table.columns},
                    "source": row[SOURCE_COLUMN],
                    "row": row[ROW_COLUMN],
                    "line": row.get(LINE_COLUMN),
                    "reasons": [
                        {
                            "check": "transform",
                            "column": None,
                            "value": None,
                            "message": row[TRANSFORM_REASON],
                        }
                    ],
                    "stage": "transform",
                }
            )
        self.counts.rejected += rejected.height
        return out.filter(pl.col(TRANSFORM_REASON).is_null()).select(*expected, *LOCATION)

    def _stage_validation_rejects(self, validation: ValidationResult) -> None:
        records = [
            {**r, "stage": "validate"} for r in self.validator.rejected_rows()
        ] + self.transform_rejects
        # Built by Polars: pyarrow's pa.array(list) imports pandas when it is installed
        # (0.24 s of a run's wall time).
        frame = pl.DataFrame(
            {
                "source": [r["source"] for r in records],
                "source_row": [r["row"] for r in records],
                "source_line": [r["line"] for r in records],
                "stage": [r["stage"] for r in records],
                "record": [json.dumps(r["record"], default=str) for r in records],
                "reasons": [json.dumps(r["reasons"], default=str) for r in records],
            },
            schema={
                "source": pl.String,
                "source_row": pl.Int64,
                "source_line": pl.Int64,
                "stage": pl.String,
                "record": pl.String,
                "reasons": pl.String,
            },
        ).to_arrow()
        self.wh.staging.stage(STAGE_REJECTS, frame, "SELECT * FROM batch")
        if not self.staged:
            # Every row was rejected (or there were none): the stage still needs its shape.
            self._empty_stage()
        del validation

    def _empty_stage(self) -> None:
        empty = pl.DataFrame(
            schema={
                **{c.name: pl.String for c in self.table.columns},
                SOURCE_COLUMN: pl.String,
                ROW_COLUMN: pl.Int64,
                LINE_COLUMN: pl.Int64,
            }
        )
        self._stage_batch(empty.to_arrow())

    # ------------------------------------------------------------ LOAD + VERIFY

    def _load(self, validation: ValidationResult) -> RunOutcome:
        self.wh.open()
        plan_class: type = LoadPlan
        if self.wh.dialect == "postgres":
            from dataward.pipeline.load_postgres import PostgresLoadPlan

            plan_class = PostgresLoadPlan
        plan = plan_class(
            wh=self.wh,
            table=self.table,
            target=self.target,
            run_id=self.record.run_id,
            run_seq=int(self.record.seq or 0),
            mode=self.spec.mode,
            partition=self.spec.partition,
            keep_versions=self.spec.keep_versions,
            counts=self.counts,
            warnings=self.record.warnings,
            checks=self.checks,
            recheck=self.recheck,
        )
        failure: str | None = None
        error: DatawardError | None = None
        load_rejects: pa.Table | None = None
        try:
            self.wh.begin()
            if not self.table_exists:
                self.wh.execute(target_ddl(self.table, self.target, self.wh.dialect, self.checks))
            rows_before = self._row_count()
            if not self.staged_keys.unique:
                plan.resolve_duplicate_keys()
            plan.resolve_unique_columns(self.checks)
            plan.resolve_foreign_keys(self.checks, self._table_exists)
            plan.resolve_changed_events()
            self._measure_delivery()
            failure = self._empty_replace_failure() or self._reject_rate_failure()
            if failure is None:
                plan.apply()
                self.event("load")
                failure = self._verify(rows_before)
                self.event("verify", ok=failure is None)
            if failure is None and not self.dry_run:
                self._record_rejects()
                self.record.status = "succeeded"
                ledger.finish_run(self.wh, self.record)
                self.wh.commit()
            else:
                # The rows rejected inside this transaction must outlive its rollback.
                load_rejects = self.wh.staging.fetch_arrow(
                    f"SELECT * FROM temp.{STAGE_REJECTS} WHERE stage = 'load'"
                )
                self.wh.rollback()
        except DatawardError as exc:
            # The transaction is aborted: what it rejected cannot be read back any more.
            self.wh.rollback()
            failure, error = str(exc), exc
        except BaseException:
            self.wh.rollback()
            raise
        try:
            if failure is not None and not self.dry_run:
                if load_rejects is not None and load_rejects.num_rows:
                    self.wh.staging.stage(STAGE_REJECTS, load_rejects, "SELECT * FROM batch")
                self._forget_rolled_back_counts()
                self._record_failure(failure)
        finally:
            self.wh.release()
        if error is not None and not isinstance(error, RunFailed | TransformError | ContractError):
            if self.record.status == "failed":
                self._observe()  # recorded as failed: it is alerted, and lineage hears FAIL
            raise error
        if self.dry_run:
            self.record.status = "dry-run" if failure is None else "failed"
            self.record.reason = failure
        outcome = RunOutcome(self.record, self.dry_run, self._examples(validation))
        self.event("finish", status=self.record.status)
        self._observe()
        return outcome

    def _forget_rolled_back_counts(self) -> None:
        """A failed run wrote nothing: only what it read and rejected stays true."""
        c = self.counts
        c.duplicates_dropped = c.inserted = c.updated = c.unchanged = c.deleted = 0
        self.record.table_state = None  # what VERIFY saw was rolled back

    def _table_exists(self, name: str) -> bool:
        return self.wh.live_columns(name) is not None

    def _row_count(self) -> int:
        row = self.wh.first_row(f"SELECT count(*) FROM {self.wh.quote(self.target)}")
        return int(row[0]) if row else 0

    def _empty_replace_failure(self) -> str | None:
        """A delivery with no rows would empty a replaced table: an empty or truncated
        file is far likelier than a source that really has nothing. Refused unless the
        pipeline says `allow_empty = true`."""
        if self.spec.mode != "replace" or self.counts.extracted or self.spec.allow_empty:
            return None
        return (
            f"the source has no rows: replace would empty {self.target!r}; nothing was "
            "loaded (set allow_empty = true in the pipeline if an empty table is right)"
        )

    def _reject_rate_failure(self) -> str | None:
        limit = reject_rate_limit(self.spec, self.contract)
        extracted = self.counts.extracted
        rate = self.counts.rejected / extracted if extracted else 0.0
        if rate > limit:
            return (
                f"{self.counts.rejected} of {extracted} rows rejected ({rate:.2%}), above the "
                f"maximum reject rate {limit:.2%}: nothing was loaded; the rejects are recorded "
                f"(dataward rejects {self.record.run_id})"
            )
        return None

    def _verify(self, rows_before: int) -> str | None:
        """Inside the load transaction, before COMMIT: the counts add up, the table holds
        what they say, and the contract's checks pass on the table as it would commit."""
        c = self.counts
        problems = []
        if c.extracted != c.accounted:
            problems.append(
                f"row accounting: extracted {c.extracted} != rejected {c.rejected} + "
                f"duplicates_dropped {c.duplicates_dropped} + inserted {c.inserted} + "
                f"updated {c.updated} + unchanged {c.unchanged}"
            )
        # One pass gives the table's rows per run: the row count, this run's rows, and
        # the state the ledger keeps (what lets an identical re-run skip the comparison).
        per_run = self._rows_per_run()
        self.record.table_state = json.dumps(per_run)
        rows_after = sum(n for _, n in per_run)
        if rows_after != rows_before + c.inserted - c.deleted:
            problems.append(
                f"row count: the table went from {rows_before} to {rows_after} rows, but the "
                f"run inserted {c.inserted} and deleted {c.deleted}"
            )
        written = sum(n for run, n in per_run if run == self.record.run_id)
        if written != c.inserted + c.updated:
            problems.append(
                f"lineage: {written} rows carry this run's id, but it inserted {c.inserted} "
                f"and updated {c.updated}"
            )
        problems.extend(self._contract_checks(everything_is_new=rows_before == 0))
        return "; ".join(problems) if problems else None

    def _contract_checks(self, everything_is_new: bool) -> list[str]:
        """Row-scope checks over the rows this run wrote; uniqueness and dataset measures
        over the whole table. Warnings are recorded, errors fail the run. When the table
        held nothing before the run, its rows are the run's rows: one pass does both."""
        run_view = "dw_run_rows"
        q = self.wh.quote
        self.wh.execute(
            f"CREATE OR REPLACE TEMP VIEW {q(run_view)} AS SELECT * FROM {q(self.target)} "
            f"WHERE {q(RUN_COLUMN)} = '{self.record.run_id}'"
        )
        enforced = self._enforced_by_table()
        checks = [c for c in self.checks if c.id not in enforced]
        per_row = [
            c
            for c in checks
            if c.is_row_level
            and c.scope is Scope.ROW
            and c.kind is not CheckKind.UNIQUE
            and not (
                c.kind is CheckKind.FOREIGN_KEY and not self._table_exists(c.referenced_table or "")
            )
        ]
        whole = [
            c
            for c in checks
            if (c.kind is CheckKind.UNIQUE or c.scope is Scope.DATASET or not c.is_row_level)
            and c.kind is not CheckKind.FRESHNESS
        ]
        problems = []
        verdicts = []
        if everything_is_new:
            whole, per_row = per_row + whole, []
        if per_row:
            verdicts += evaluate(self.wh.first_row, run_view, per_row, self.wh.dialect)
        if whole:
            verdicts += evaluate(self.wh.first_row, self.target, whole, self.wh.dialect)
        for verdict in verdicts:
            if verdict.passed:
                continue
            check = verdict.check
            shown = verdict.violations if verdict.violations is not None else verdict.measured
            text = f"{check.id}: {check.message} (measured {shown})"
            if check.severity is Severity.ERROR and check.kind is not CheckKind.FOREIGN_KEY:
                problems.append(f"verify {text}")
            elif check.kind is not CheckKind.FOREIGN_KEY and not any(
                # VALIDATE already reported this warning, counted over the rows it read.
                w.startswith(f"{check.id}:")
                for w in self.record.warnings
            ):
                self.record.warnings.append(f"{text} (warning)")
        return problems

    def _enforced_by_table(self) -> set[str]:
        """Error checks the table's own constraints guarantee on every row it holds, so
        measuring them again on the table cannot fail: NOT NULL columns, the primary key,
        and (on a table this run created from the contract) its CHECK constraints. At 5M
        rows that pass costs about a second."""
        live = {c.name: c for c in self.wh.live_columns(self.target) or []}
        key = tuple(self.wh.primary_key(self.target))
        created_here = not self.table_exists
        from_ddl = {c.id for c in constraint_checks(self.checks)} if created_here else set()
        enforced = set(from_ddl)
        for check in self.checks:
            if not check.rejects_rows:
                continue
            not_null = check.kind is CheckKind.NOT_NULL and all(
                n in live and not live[n].nullable for n in check.columns
            )
            primary_key = check.kind is CheckKind.UNIQUE and bool(key) and check.columns == key
            if not_null or primary_key:
                enforced.add(check.id)
        return enforced

    def _record_rejects(self) -> None:
        self.wh.copy_from_staging(
            f"SELECT ?, ?, source, source_row, source_line, stage, record, reasons "
            f"FROM temp.{STAGE_REJECTS}",
            [self.record.run_id, self.target],
            f"{LEDGER_SCHEMA}.rejects",
            REJECT_COLUMNS,
        )

    def _record_failure(self, reason: str) -> None:
        """The load rolled back; record why, with the rejects, in a transaction of its own."""
        if self.dry_run:
            return
        self.record.status = "failed"
        self.record.reason = reason
        self.wh.open()
        self.wh.begin()
        try:
            self._record_rejects()
            ledger.finish_run(self.wh, self.record)
            self.wh.commit()
        except BaseException:
            self.wh.rollback()
            raise

    def _fail_without_load(self, exc: DatawardError) -> None:
        if self.dry_run:
            return
        self.record.status = "failed"
        self.record.reason = str(exc)
        self.wh.open()
        try:
            self.wh.begin()
            ledger.finish_run(self.wh, self.record)
            self.wh.commit()
        finally:
            self.wh.release()
        self.event("finish", status="failed", reason=str(exc))
        self._observe()

    def _measure_delivery(self) -> None:
        """The staged rows as they will load (after the load-time rejects): per column
        null rate and distinct count, per check the rows rejected."""
        if self.dry_run:
            return
        self.delivery_metrics, self.delivered_rows = delivery_metrics(
            self.wh.staging,
            STAGE,
            STAGE_REJECTS,
            [c.name for c in self.table.columns],
            # Every row check, so one that rejected nothing this time says 0.
            [c.id for c in self.checks if c.is_row_level],
            self.record.run_id,
            self.target,
            self.record.started_at,
        )

    def _observe(self) -> None:
        """After the run is recorded: its metrics stored, the pipeline judged (anomalies,
        freshness, the run itself), alerts and lineage sent. Nothing here changes the
        run's outcome: it is committed already."""
        if self.dry_run:
            return
        record = self.record
        skipped = record.status == "succeeded" and not self.delivered
        metrics: list[Metric] = []
        if not skipped:  # an identical re-run is not a new delivery: no new history
            duration = (
                (record.finished_at - record.started_at).total_seconds()
                if record.finished_at
                else None
            )
            metrics = run_metrics(
                record.run_id, self.target, record.started_at, self.counts, duration
            )
            metrics += self.delivery_metrics
            if self.source_columns is not None:
                metrics += source_column_metrics(
                    self.source_columns, record.run_id, self.target, record.started_at
                )
        try:
            watch(self.project, self.wh, [self.spec], metrics=metrics, run_id=record.run_id)
        except DatawardError as exc:
            # The run stands as recorded; what could not be watched is said, loudly.
            self.log.error(  # noqa: TRY400 - a user-facing failure: no traceback
                "observe.failed", run_id=record.run_id, problem=str(exc)
            )
        try:
            self._lineage_finish()
        except DatawardError as exc:
            self.log.error(  # noqa: TRY400 - a user-facing failure: no traceback
                "lineage.failed", run_id=record.run_id, problem=str(exc)
            )

    def _lineage_start(self) -> None:
        if self.lineage is None or self._lineage_started:
            return
        self._lineage_started = True
        self.lineage.start(
            self.record.run_id,
            self.spec.name,
            self._lineage_inputs(),
            self._lineage_output(),
            self.record.started_at,
        )

    def _lineage_finish(self) -> None:
        if self.lineage is None:
            return
        # A run that failed before it started (the table does not match the contract) is
        # still a run: START, then FAIL.
        self._lineage_start()
        record, finished = self.record, self.record.finished_at or datetime.now(UTC)
        inputs, output = self._lineage_inputs(), self._lineage_output()
        if record.status == "succeeded":
            nulls = {
                m.subject: round(m.value * self.delivered_rows)
                for m in self.delivery_metrics
                if m.metric == NULL_RATE
            }
            distinct = {
                m.subject: int(m.value) for m in self.delivery_metrics if m.metric == DISTINCT_COUNT
            }
            result = RunOutput(
                rows_extracted=self.delivered_rows,
                rows_written=self.counts.inserted + self.counts.updated,
                null_counts=nulls,
                distinct_counts=distinct,
            )
            self.lineage.complete(record.run_id, self.spec.name, inputs, output, result, finished)
        else:
            message = record.reason or record.status
            self.lineage.fail(record.run_id, self.spec.name, inputs, output, message, finished)
        self.lineage.close()

    def _lineage_inputs(self) -> list[DatasetRef]:
        source = self.spec.source
        if source.kind == "files":
            try:
                return [file_dataset(f.path) for f in self._files()]
            except DatawardError:
                return []  # the source is what failed: the FAIL event says so
        try:
            if source.kind == "http" and source.url:
                return [http_dataset(source.url)]
            if source.kind == "sql" and source.url and source.query:
                return query_datasets(source.url, self.project.root, source.query)
        except DatawardError:
            pass  # a source URL lineage cannot name is the run's to report, not lineage's
        return []

    def _lineage_output(self) -> DatasetRef:
        fields = tuple((c.name, str(c.type)) for c in self.table.columns)
        return warehouse_dataset(self.project.warehouse_url, self.project.root, self.target, fields)

    def _examples(self, validation: ValidationResult) -> list[dict[str, Any]]:
        rows = self.wh.staging.rows(
            f"SELECT source, source_row, source_line, stage, reasons FROM temp.{STAGE_REJECTS} "
            "ORDER BY source, source_row LIMIT 5"
        )
        del validation
        return [
            {"source": r[0], "row": r[1], "line": r[2], "stage": r[3], "reasons": json.loads(r[4])}
            for r in rows
        ]


def reject_rate_limit(spec: PipelineSpec, contract: Contract) -> float:
    """The pipeline's max_reject_rate, else the contract's maxRejectRate, else 1%."""
    if spec.max_reject_rate is not None:
        return spec.max_reject_rate
    value = contract.settings.get("maxRejectRate")
    return float(value) if value is not None else DEFAULT_MAX_REJECT_RATE


def _warnings(validation: ValidationResult) -> list[str]:
    return [
        f"{c.id}: {c.message} ({c.violations} rows; warning, loaded)"
        for c in validation.checks
        if not c.passed and c.severity == Severity.WARNING.value and c.violations
    ]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _replay_frame(records: list[dict[str, Any]], table: Table) -> pl.DataFrame:
    """Rejected rows, as they were read (text), back into a batch to validate again."""
    data = {c.name: [r["record"].get(c.name) for r in records] for c in table.columns}
    frame = pl.DataFrame(data, schema={c.name: pl.String for c in table.columns})
    return frame.with_columns(
        pl.Series(SOURCE_COLUMN, [r["source"] for r in records], dtype=pl.String),
        pl.Series(ROW_COLUMN, [r["row"] for r in records], dtype=pl.Int64),
        pl.Series(LINE_COLUMN, [r["line"] for r in records], dtype=pl.Int64),
    )


def _records_digest(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


class _FileDigest:
    """sha256 of the input files, computed on a thread beside extraction (hashlib
    releases the GIL on large buffers, so it costs little wall time).

    The files are read twice (by the reader and here), so each file's identity (device,
    inode, size, modification time) is taken before anything reads it and compared at
    the end: a file replaced, changed or removed during the run fails the run instead of
    leaving a fingerprint of bytes that were never loaded.
    """

    def __init__(self, paths: list[Path]) -> None:
        self._digest = hashlib.sha256()
        self._error: OSError | None = None
        self._paths = paths
        self._before = {path: _identity(path) for path in paths}
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            for path in self._paths:
                self._digest.update(str(path.name).encode() + b"\0")
                with path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        self._digest.update(chunk)
        except OSError as exc:
            self._error = exc

    def result(self) -> str:
        self._thread.join()
        for path, before in self._before.items():
            try:
                after = _identity(path)
            except OSError:
                after = None
            if after != before:
                what = "was removed" if after is None else "changed"
                raise SourceError(
                    f"the file {what} while this run read it; nothing was loaded: run again "
                    "once the file is complete",
                    Location(file=str(path)),
                )
        if self._error is not None:
            raise SourceError(
                f"the source could not be read to the end: {self._error.strerror}",
                Location(file=str(self._error.filename)),
            )
        return self._digest.hexdigest()


def _identity(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
