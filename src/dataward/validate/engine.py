"""Validate data files against a contract table.

One pass over the batches: cast, evaluate every row-level check as Polars expressions,
count, and keep only the rows that failed something. Uniqueness needs every key, so keys
(not rows) are kept; when a duplicate's first occurrence was already passed over, a second
pass picks up just those rows. Dataset checks judge the rows that would be loaded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dataward.checks import Check, CheckKind, Scope, compile_checks
from dataward.checks.polars_render import polars_type, violation
from dataward.checks.sql_render import sql_check_query
from dataward.contract.model import Contract, Severity, Table
from dataward.errors import Location, SourceError
from dataward.sources import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    read_batches,
    read_columns,
)
from dataward.sources.cast import Cast, cast_column

REJECTED = "_dw_rejected"
REASONS = "reasons"
_CAST = "cast"
REASON_TYPE = pl.List(
    pl.Struct({"check": pl.String, "column": pl.String, "value": pl.String, "message": pl.String})
)


@dataclass
class CheckResult:
    id: str
    kind: str
    scope: str
    severity: str
    columns: list[str]
    message: str
    violations: int = 0
    measured: float | None = None
    passed: bool = True
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ValidationResult:
    contract: str
    table: str
    files: list[str]
    rows: int = 0
    rejected: int = 0
    flagged: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    rejects_file: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and all(
            c.passed or c.severity == Severity.WARNING for c in self.checks
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "contract": self.contract,
            "table": self.table,
            "files": self.files,
            "rows": self.rows,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "accepted": self.rows - self.rejected,
            "checks": [c.to_dict() for c in self.checks],
            "examples": self.examples,
            "rejects_file": self.rejects_file,
            "notes": self.notes,
        }


Progress = Callable[[int], None]


def validate_files(
    contract: Contract,
    files: list[DataFile],
    *,
    table: str | None = None,
    rejects_path: str | Path | None = None,
    allow_extra_columns: bool = False,
    examples: int = 5,
    progress: Progress | None = None,
) -> ValidationResult:
    target = contract.table(table)
    checks = compile_checks(contract, target)
    result = ValidationResult(
        contract=contract.source, table=target.name, files=[f.name for f in files]
    )
    for data in files:
        _check_columns(target, data, read_columns(data), allow_extra_columns)
    run = _Run(contract, target, checks, result)
    for data in files:
        for batch in read_batches(data):
            run.add_batch(batch)
            if progress:
                progress(batch.height)
    run.finish()
    result.examples = run.examples(examples)
    if rejects_path is not None:
        run.write_rejects(Path(rejects_path))
        result.rejects_file = str(rejects_path)
    return result


def _check_columns(table: Table, data: DataFile, present: list[str], allow_extra: bool) -> None:
    expected = {c.name for c in table.columns}
    missing = [c.name for c in table.columns if c.name not in present and c.required]
    if missing:
        raise SourceError(
            f"required column(s) {', '.join(map(repr, missing))} missing from the data",
            Location(file=data.name, line=1 if data.format == "csv" else None),
        )
    extra = [name for name in present if name not in expected]
    if extra and not allow_extra:
        raise SourceError(
            f"column(s) {', '.join(map(repr, extra))} are not in the contract's table "
            f"{table.name!r}; add them to the contract or pass --allow-extra-columns",
            Location(file=data.name, line=1 if data.format == "csv" else None),
        )


class _Run:
    def __init__(
        self, contract: Contract, table: Table, checks: list[Check], result: ValidationResult
    ) -> None:
        self.contract = contract
        self.table = table
        self.checks = checks
        self.result = result
        self.row_checks = [
            c
            for c in checks
            if c.is_row_level and c.kind not in (CheckKind.UNIQUE, CheckKind.FOREIGN_KEY)
        ]
        self.unique_checks = [c for c in checks if c.kind is CheckKind.UNIQUE]
        self.counts: dict[str, int] = dict.fromkeys((c.id for c in checks), 0)
        self.cast_failures: dict[str, int] = dict.fromkeys((c.name for c in table.columns), 0)
        self.failed_rows: list[pl.DataFrame] = []
        self.keys: list[pl.DataFrame] = []
        self.accepted_rows = 0
        self.sql_checks = [c for c in checks if c.kind is CheckKind.SQL]
        self.freshness = [c for c in checks if c.kind is CheckKind.FRESHNESS]
        self.newest: dict[str, Any] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._duck: duckdb.DuckDBPyConnection | None = None
        self._spilled: list[int] = []

    # ------------------------------------------------------------ one batch

    def _casts(self, batch: pl.DataFrame) -> list[Cast]:
        schema = batch.schema
        casts = []
        for column in self.table.columns:
            if column.name not in schema:
                absent = pl.lit(None, dtype=polars_type(column.type)).alias(column.name)
                casts.append(Cast(column.name, absent, pl.lit("")))
            else:
                casts.append(
                    cast_column(column, schema[column.name], self.contract.default_timezone)
                )
        return casts

    def add_batch(self, batch: pl.DataFrame) -> None:
        if batch.height == 0:
            return
        casts = self._casts(batch)
        raw_names = [c.name for c in self.table.columns if c.name in batch.schema]
        location = [SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN]
        cast_flags = [
            c.failed(f"raw:{c.column}").alias(f"{_CAST}:{c.column}")
            for c in casts
            if c.column in batch.schema
        ]
        typed = (
            batch.lazy()
            .select(
                *[c.value for c in casts],
                *[pl.col(name).cast(pl.String).alias(f"raw:{name}") for name in raw_names],
                *location,
            )
            .with_columns(cast_flags)
        )
        # A value that failed its cast is null to the checks; its reason is the cast
        # failure alone, so checks on that column are masked where the cast failed.
        cast_of = {c.column: f"{_CAST}:{c.column}" for c in casts if c.column in batch.schema}
        flag_exprs = [
            (violation(c) & ~pl.col(cast_of[c.column])).alias(c.id)
            if c.column in cast_of
            else violation(c)
            for c in self.row_checks
        ]
        cast_ids = [f"{_CAST}:{c.column}" for c in casts if c.column in batch.schema]
        rejecting = [c.id for c in self.row_checks if c.rejects_rows] + cast_ids
        any_flag = [c.id for c in self.row_checks] + cast_ids
        flags = (
            typed.with_columns(flag_exprs)
            .with_columns(
                pl.any_horizontal(rejecting).alias(REJECTED)
                if rejecting
                else pl.lit(False).alias(REJECTED)
            )
            .collect()
        )
        sums = flags.select(
            *[pl.col(c).sum().alias(c) for c in any_flag],
            *[
                (pl.col(c.id) & ~pl.col(REJECTED)).sum().alias(f"accepted:{c.id}")
                for c in self.row_checks
                if c.scope is Scope.DATASET
            ],
            (~pl.col(REJECTED)).sum().alias("accepted"),
            *[
                pl.col(c.columns[0]).filter(~pl.col(REJECTED)).max().alias(f"newest:{c.id}")
                for c in self.freshness
            ],
        ).row(0, named=True)
        for check in self.row_checks:
            key = f"accepted:{check.id}" if check.scope is Scope.DATASET else check.id
            self.counts[check.id] += int(sums[key])
        for column, flag in cast_of.items():
            self.cast_failures[column] += int(sums[flag])
        self.accepted_rows += int(sums["accepted"])
        for check in self.freshness:
            newest = sums[f"newest:{check.id}"]
            if newest is not None and (
                self.newest.get(check.id) is None or newest > self.newest[check.id]
            ):
                self.newest[check.id] = newest
        self.result.rows += batch.height
        if any_flag:
            failed = flags.filter(pl.any_horizontal(any_flag))
            if failed.height:
                self.failed_rows.append(self._with_reasons(failed, casts, raw_names))
        if self.unique_checks:
            self._spill(batch.select(*raw_names, *location))
        for check in self.unique_checks:
            self.keys.append(
                flags.select(
                    pl.lit(check.id).alias("check"),
                    pl.struct(list(check.columns)).alias("key"),
                    pl.col(ROW_COLUMN),
                    pl.col(SOURCE_COLUMN),
                    pl.col(REJECTED),
                )
            )
        if self.sql_checks:
            self._stash_accepted(
                flags.filter(~pl.col(REJECTED)).select([c.name for c in self.table.columns])
            )

    def _with_reasons(
        self, failed: pl.DataFrame, casts: list[Cast], raw_names: list[str]
    ) -> pl.DataFrame:
        """Rows that failed anything, as raw text plus a list of {check, column, value, message}."""
        entries: list[pl.Expr] = []
        raw_lookup = set(raw_names)
        for cast in casts:
            if cast.column not in raw_lookup:
                continue
            entries.append(
                pl.when(pl.col(f"{_CAST}:{cast.column}")).then(
                    pl.struct(
                        check=pl.lit(f"{self.table.name}.{cast.column}.type"),
                        column=pl.lit(cast.column),
                        value=pl.col(f"raw:{cast.column}"),
                        message=cast.reason.cast(pl.String),
                    )
                )
            )
        for check in self.row_checks:
            column = check.column
            value = (
                pl.col(f"raw:{column}") if column in raw_lookup else pl.lit(None, dtype=pl.String)
            )
            entries.append(
                pl.when(pl.col(check.id)).then(
                    pl.struct(
                        check=pl.lit(check.id),
                        column=pl.lit(column, dtype=pl.String),
                        value=value,
                        message=pl.lit(check.message),
                    )
                )
            )
        # Cast reasons are computed from the raw column, so evaluate them on raw names.
        renamed = failed.with_columns([pl.col(f"raw:{n}").alias(n) for n in raw_names])
        return renamed.select(
            *[pl.col(f"raw:{n}").alias(n) for n in raw_names],
            SOURCE_COLUMN,
            ROW_COLUMN,
            LINE_COLUMN,
            REJECTED,
            pl.concat_list(entries).list.drop_nulls().alias(REASONS)
            if entries
            else pl.lit([], dtype=REASON_TYPE).alias(REASONS),
        )

    def _workdir(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dataward-")
        return Path(self._tmp.name)

    def _spill(self, raw: pl.DataFrame) -> None:
        """Keep the raw rows on local disk (Arrow IPC, uncompressed: about memcpy speed).

        A duplicate key's first occurrence is only known to be one at the end; reading it
        back from here is far cheaper than parsing the source a second time, and memory
        stays bounded by the batch size.
        """
        raw.write_ipc(
            self._workdir() / f"raw-{len(self._spilled):06d}.arrow", compression="uncompressed"
        )
        self._spilled.append(raw.height)

    def _stash_accepted(self, frame: pl.DataFrame) -> None:
        """Keep accepted rows in a temporary DuckDB file so SQL checks can query them."""
        if self._duck is None:
            self._duck = duckdb.connect(str(self._workdir() / "validate.duckdb"))
            self._duck.register("dw_batch", frame.to_arrow())
            self._duck.execute(
                f"CREATE TABLE {_quote(self.table.storage_name)} AS SELECT * FROM dw_batch"
            )
        else:
            self._duck.register("dw_batch", frame.to_arrow())
            self._duck.execute(
                f"INSERT INTO {_quote(self.table.storage_name)} SELECT * FROM dw_batch"
            )
        self._duck.unregister("dw_batch")

    # ------------------------------------------------------------ the whole data set

    def finish(self) -> None:
        duplicates = self._duplicates()
        if duplicates is not None and duplicates.height:
            self._merge_duplicates(duplicates)
        failed = pl.concat(self.failed_rows, how="diagonal_relaxed") if self.failed_rows else None
        self.failed = failed
        self.result.rejected = int(failed[REJECTED].sum()) if failed is not None else 0
        self.result.flagged = (failed.height - self.result.rejected) if failed is not None else 0
        accepted = self.result.rows - self.result.rejected
        results = []
        for column, count in self.cast_failures.items():
            if count:
                results.append(
                    CheckResult(
                        id=f"{self.table.name}.{column}.type",
                        kind="type",
                        scope=Scope.ROW.value,
                        severity=Severity.ERROR.value,
                        columns=[column],
                        message=f"{column} must be a valid {self.table.column(column).type}",
                        violations=count,
                        passed=False,
                    )
                )
        for check in self.checks:
            results.append(self._judge(check, accepted))
        self.result.checks = results
        if self.result.rows == 0:
            self.result.notes.append("the data has no rows")
        if self._duck is not None:
            self._duck.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _judge(self, check: Check, accepted: int) -> CheckResult:
        outcome = CheckResult(
            id=check.id,
            kind=check.kind.value,
            scope=check.scope.value,
            severity=check.severity.value,
            columns=list(check.columns),
            message=check.message,
        )
        if check.kind is CheckKind.FOREIGN_KEY:
            outcome.skipped = f"needs the data of {check.referenced_table}; checked at load time"
            return outcome
        if check.kind is CheckKind.ROW_COUNT:
            outcome.measured = accepted
            outcome.passed = check.passes(accepted, accepted)
            return outcome
        if check.kind is CheckKind.SQL:
            outcome.measured = self._run_sql(check)
            outcome.passed = outcome.measured is not None and check.passes(
                outcome.measured, accepted
            )
            return outcome
        if check.kind is CheckKind.FRESHNESS:
            newest = self.newest.get(check.id)
            outcome.measured = None
            if newest is None:
                outcome.passed = False
                outcome.message += " (no value found)"
                return outcome
            age = _age(newest)
            outcome.measured = age.total_seconds()
            outcome.passed = check.latency is not None and age <= check.latency
            return outcome
        count = self.counts[check.id]
        outcome.violations = count
        if check.scope is Scope.ROW:
            outcome.passed = count == 0
        else:
            outcome.measured = (
                (100.0 * count / accepted if accepted else 0.0)
                if check.unit == "percent"
                else count
            )
            outcome.passed = check.passes(count, accepted)
        return outcome

    def _run_sql(self, check: Check) -> float | None:
        if self._duck is None:
            connection = duckdb.connect()
            empty = pl.DataFrame(schema={c.name: polars_type(c.type) for c in self.table.columns})
            connection.register("dw_empty", empty.to_arrow())
            connection.execute(
                f"CREATE TABLE {_quote(self.table.storage_name)} AS SELECT * FROM dw_empty"
            )
        else:
            connection = self._duck
        query = sql_check_query(check, self.table.storage_name, "duckdb")
        try:
            row = connection.execute(query).fetchone()
        except duckdb.Error as exc:
            self.result.notes.append(f"{check.id}: the query failed: {exc}")
            return None
        if row is None or row[0] is None:
            return None
        return float(row[0])

    def _duplicates(self) -> pl.DataFrame | None:
        """Every row whose complete key occurs more than once, per uniqueness check."""
        if not self.keys:
            return None
        found = []
        for check in self.unique_checks:
            keys = (
                pl.concat([k for k in self.keys if k["check"][0] == check.id])
                if self.keys
                else None
            )
            if keys is None or keys.height == 0:
                continue
            complete = keys.filter(
                pl.all_horizontal(
                    [pl.col("key").struct.field(c).is_not_null() for c in check.columns]
                )
            )
            if check.scope is Scope.DATASET:
                complete = complete.filter(~pl.col(REJECTED))
            dupes = complete.filter(pl.col("key").is_duplicated())
            self.counts[check.id] = dupes.height
            if dupes.height and check.scope is Scope.ROW:
                found.append(dupes.select("check", SOURCE_COLUMN, ROW_COLUMN))
        self.keys = []
        return pl.concat(found) if found else None

    def _merge_duplicates(self, duplicates: pl.DataFrame) -> None:
        """Attach a uniqueness reason to each duplicate row, fetching rows not yet kept."""
        messages = {c.id: c for c in self.unique_checks}
        known = (
            pl.concat(self.failed_rows, how="diagonal_relaxed").select(SOURCE_COLUMN, ROW_COLUMN)
            if self.failed_rows
            else pl.DataFrame(schema={SOURCE_COLUMN: pl.String, ROW_COLUMN: pl.Int64})
        )
        missing = duplicates.join(known, on=[SOURCE_COLUMN, ROW_COLUMN], how="anti")
        if missing.height:
            self._fetch_rows(missing)
        failed = pl.concat(self.failed_rows, how="diagonal_relaxed")
        reasons = duplicates.join(
            failed.select(
                SOURCE_COLUMN,
                ROW_COLUMN,
                *[c.name for c in self.table.columns if c.name in failed.columns],
            ),
            on=[SOURCE_COLUMN, ROW_COLUMN],
        )
        entries = []
        for check_id, check in messages.items():
            shown = (
                pl.concat_str([pl.col(c).fill_null("") for c in check.columns], separator=",")
                if all(c in reasons.columns for c in check.columns)
                else pl.lit(None, dtype=pl.String)
            )
            entries.append((check_id, check, shown))
        extra = []
        for check_id, check, shown in entries:
            part = reasons.filter(pl.col("check") == check_id).select(
                SOURCE_COLUMN,
                ROW_COLUMN,
                pl.struct(
                    check=pl.lit(check_id),
                    column=pl.lit(",".join(check.columns)),
                    value=shown,
                    message=pl.lit(check.message),
                ).alias("dup_reason"),
                pl.lit(check.rejects_rows).alias("dup_rejects"),
            )
            extra.append(part)
        additions = (
            pl.concat(extra)
            .group_by(SOURCE_COLUMN, ROW_COLUMN)
            .agg(pl.col("dup_reason"), pl.col("dup_rejects").any())
        )
        merged = (
            failed.join(additions, on=[SOURCE_COLUMN, ROW_COLUMN], how="left")
            .with_columns(
                pl.concat_list(
                    REASONS, pl.col("dup_reason").fill_null(pl.lit([], dtype=REASON_TYPE))
                ).alias(REASONS),
                (pl.col(REJECTED) | pl.col("dup_rejects").fill_null(False)).alias(REJECTED),
            )
            .drop("dup_reason", "dup_rejects")
        )
        self.failed_rows = [merged]

    def _fetch_rows(self, wanted: pl.DataFrame) -> None:
        """The rows a duplicate key points at that passed everything else, from the spill."""
        spilled = pl.scan_ipc(self._workdir() / "raw-*.arrow")
        picked = spilled.join(
            wanted.lazy().select(SOURCE_COLUMN, ROW_COLUMN).unique(),
            on=[SOURCE_COLUMN, ROW_COLUMN],
            how="semi",
        ).collect()
        raw_names = [c.name for c in self.table.columns if c.name in picked.schema]
        self.failed_rows.append(
            picked.select(
                *[pl.col(n).cast(pl.String).alias(n) for n in raw_names],
                SOURCE_COLUMN,
                ROW_COLUMN,
                LINE_COLUMN,
                pl.lit(False).alias(REJECTED),
                pl.lit([], dtype=REASON_TYPE).alias(REASONS),
            )
        )

    # ------------------------------------------------------------ output

    def examples(self, limit: int) -> list[dict[str, Any]]:
        if self.failed is None or limit <= 0:
            return []
        rows = self.failed.sort(SOURCE_COLUMN, ROW_COLUMN).head(limit)
        return [
            {
                "source": r[SOURCE_COLUMN],
                "row": r[ROW_COLUMN],
                "line": r[LINE_COLUMN],
                "rejected": r[REJECTED],
                "reasons": r[REASONS],
            }
            for r in rows.iter_rows(named=True)
        ]

    def write_rejects(self, path: Path) -> None:
        columns = [c.name for c in self.table.columns]
        schema = {
            **dict.fromkeys(columns, pl.String),
            SOURCE_COLUMN: pl.String,
            ROW_COLUMN: pl.Int64,
            LINE_COLUMN: pl.Int64,
            REASONS: REASON_TYPE,
        }
        if self.failed is None:
            frame = pl.DataFrame(schema=schema)
        else:
            frame = (
                self.failed.filter(pl.col(REJECTED))
                .sort(SOURCE_COLUMN, ROW_COLUMN)
                .select(
                    [
                        pl.col(n) if n in self.failed.columns else pl.lit(None, dtype=d).alias(n)
                        for n, d in schema.items()
                    ]
                )
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            frame.write_parquet(path)
        except OSError as exc:
            from dataward.errors import InfrastructureError

            raise InfrastructureError(
                f"cannot write rejects: {exc.strerror}", Location(file=str(path))
            ) from None


def _age(newest: Any) -> Any:
    if isinstance(newest, datetime):
        now = datetime.now(UTC) if newest.tzinfo else datetime.now(UTC).replace(tzinfo=None)
        return now - newest
    return datetime.now(UTC).date() - newest


def _quote(name: str) -> str:
    from dataward.checks.sql_render import identifier

    return identifier(name).sql(dialect="duckdb")
