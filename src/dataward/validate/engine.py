"""Validate data files against a contract table.

One pass over the batches: cast, evaluate every row-level check as Polars expressions,
count, and keep only the rows that failed something. Uniqueness needs every key, so keys
(not rows) are kept, with each batch's location; a duplicate's first occurrence is read
again from the source (sources/refetch.py) to be reported as it was written. Dataset
checks judge the rows that would be loaded (those no row check rejected).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dataward.checks import Check, CheckKind, Scope, compile_checks
from dataward.checks.at_rest import freshness_age
from dataward.checks.polars_render import polars_type, violation
from dataward.contract.model import Contract, Severity, Table
from dataward.errors import InfrastructureError, Location, SourceError, UsageError
from dataward.sources import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    read_batches,
    read_columns,
)
from dataward.sources.cast import Cast, as_text, cast_column
from dataward.sources.prefetch import prefetch
from dataward.sources.refetch import refetch
from dataward.validate.raw_store import DEFAULT_MEMORY_BUDGET, RawStore
from dataward.validate.reasons import REASON_TYPE, attach_reasons, reason
from dataward.validate.result import CheckResult, ValidationResult
from dataward.validate.sql_checks import SqlCheckRunner

REJECTED = "_dw_rejected"
REASONS = "_dw_reasons"  # written as `reasons` unless the table has a column of that name
BATCH = "_dw_batch"
OFFSET = "_dw_offset"
LOCATION = [SOURCE_COLUMN, ROW_COLUMN, LINE_COLUMN]
ROW_ID = [BATCH, OFFSET]

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
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> ValidationResult:
    """Check `files` against one table of `contract`; see docs/validate.md.

    `memory_budget` bounds the Parquet batches kept in memory for reporting duplicates;
    beyond it they are spilled to a temporary directory.
    """
    target = contract.table(table)
    result = ValidationResult(
        contract=contract.source, table=target.name, files=[f.name for f in files]
    )
    result.notes.extend(f"contract: {warning}" for warning in contract.warnings)
    if rejects_path is not None and any(
        Path(rejects_path).resolve() == f.path.resolve() for f in files
    ):
        raise UsageError(f"--rejects {rejects_path} is one of the input files; pick another path")
    for data in files:
        # NDJSON records name their own keys: they are checked batch by batch, with lines.
        if data.format != "ndjson":
            check_columns(target, data, read_columns(data), allow_extra_columns)
    by_name = {data.name: data for data in files}

    def read_again(wanted: pl.DataFrame) -> pl.DataFrame:
        parts = [
            refetch(by_name[str(name)], rows) for (name,), rows in wanted.group_by(SOURCE_COLUMN)
        ]
        return pl.concat(parts, how="diagonal_relaxed")

    run = BatchValidator(
        contract,
        target,
        compile_checks(contract, target),
        result,
        refetch=read_again,
        # Text files are read again by line; Parquet batches are kept (see BatchValidator).
        rereadable=frozenset(f.name for f in files if f.format in ("csv", "ndjson")),
        memory_budget=memory_budget,
    )
    try:
        for data in files:
            for batch in prefetch(read_batches(data)):
                if data.format == "ndjson":
                    columns = [n for n in batch.columns if n not in LOCATION]
                    check_columns(
                        target, data, columns, allow_extra_columns, _first_line(batch, target)
                    )
                run.add_batch(batch)
                if progress:
                    progress(batch.height)
        run.finish()
        result.examples = run.examples(examples)
        if rejects_path is not None:
            run.write_rejects(Path(rejects_path))
            result.rejects_file = str(rejects_path)
    finally:
        run.close()
    return result


def check_columns(
    table: Table,
    data: DataFile,
    present: list[str],
    allow_extra: bool,
    line: int | None = None,
) -> None:
    """The file's columns against the table's. NDJSON records each name their own keys:
    a key missing from a record is a null in that row (judged by `required`), and an
    unexpected key is refused on the line where it first appears."""
    expected = {c.name for c in table.columns}
    header_line = 1 if data.format == "csv" else line
    missing = [
        c.name
        for c in table.columns
        if c.name not in present and c.required and data.format != "ndjson"
    ]
    if missing:
        raise SourceError(
            f"required column(s) {', '.join(map(repr, missing))} missing from the data",
            Location(file=data.name, line=header_line),
        )
    extra = [name for name in present if name not in expected]
    if extra and not allow_extra:
        raise SourceError(
            f"column(s) {', '.join(map(repr, extra))} are not in the contract's table "
            f"{table.name!r}; add them to the contract or pass --allow-extra-columns",
            Location(file=data.name, line=header_line),
        )


def _first_line(batch: pl.DataFrame, table: Table) -> int | None:
    """The line of the first record holding a key the table does not know."""
    known = {c.name for c in table.columns} | set(LOCATION)
    extra = [n for n in batch.columns if n not in known]
    if not extra:
        return None
    holding = batch.filter(pl.any_horizontal(pl.col(extra).is_not_null()))
    return holding[LINE_COLUMN][0] if holding.height else None


Refetch = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class _Origin:
    """Where one batch's rows came from, kept small: a file's batches hold consecutive
    record numbers, and lines that run in step with them unless a value spans lines."""

    source: str
    first_row: int | None  # rows are first_row, first_row + 1, ...; else `rows` holds them
    rows: pl.Series | None
    line_offset: int | None  # line = row + line_offset; else `lines` holds them
    lines: pl.Series | None

    @staticmethod
    def of(batch: pl.DataFrame) -> _Origin:
        # Vectorised comparisons only: hashing the columns (unique()) cost 7 ms a batch.
        source = _source_of(batch)
        rows, lines = batch[ROW_COLUMN], batch[LINE_COLUMN]
        first = int(rows[0])
        consecutive = rows.len() == 1 or bool((rows.diff(null_behavior="drop") == 1).all())
        offsets = lines - rows
        lineless = lines.null_count() == lines.len()  # Parquet: records have no line
        in_step = not lineless and offsets.null_count() == 0 and offsets.min() == offsets.max()
        return _Origin(
            source=str(source),
            first_row=first if consecutive else None,
            rows=None if consecutive else rows,
            line_offset=int(offsets[0]) if in_step else None,  # type: ignore[arg-type]
            lines=None if in_step or lineless else lines,
        )

    def locate(self, offsets: pl.Series) -> pl.DataFrame:
        offsets = offsets.sort()
        if self.first_row is not None:
            rows = (offsets.cast(pl.Int64) + self.first_row).alias(ROW_COLUMN)
        else:
            assert self.rows is not None
            rows = self.rows.gather(offsets)
        if self.line_offset is not None:
            lines = (rows + self.line_offset).alias(LINE_COLUMN)
        elif self.lines is not None:
            lines = self.lines.gather(offsets)
        else:
            lines = pl.Series(LINE_COLUMN, [None] * len(offsets), dtype=pl.Int64)
        return pl.DataFrame([pl.Series(SOURCE_COLUMN, [self.source] * len(offsets)), rows, lines])


def _source_of(batch: pl.DataFrame) -> str:
    """The one source a batch's rows come from. Asked through an expression: the readers
    add the source as a constant column, and taking it as a Series would spell it out
    once per row (250,000 strings a batch: 0.2 s of a 5M-row file)."""
    first, same = batch.select(
        pl.col(SOURCE_COLUMN).first().alias("first"),
        (pl.col(SOURCE_COLUMN) == pl.col(SOURCE_COLUMN).first()).all().alias("same"),
    ).row(0)
    if not same:
        raise ValueError("a batch to be read again must come from one source")
    return str(first)


def _compacted(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` with text of their own. A filtered frame's text is string views into the
    whole batch's buffers, so keeping a batch's few failing rows to the end would keep
    all its text alive (25 MB a batch of 250,000 rows: 0.5 GB at 5M). Arrow's export
    copies the values out, in offset form, and Polars reads them back."""
    copied = pl.from_arrow(rows.to_arrow())
    assert isinstance(copied, pl.DataFrame)
    return copied


def _raw(name: str) -> str:
    return f"raw:{name}"


def _cast_flag(name: str) -> str:
    return f"cast:{name}"


class BatchValidator:
    def __init__(
        self,
        contract: Contract,
        table: Table,
        checks: list[Check],
        result: ValidationResult,
        on_accepted: Callable[[pl.DataFrame], None] | None = None,
        refetch: Refetch | None = None,
        rereadable: frozenset[str] = frozenset(),
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> None:
        # `on_accepted` receives, batch by batch, the cast rows no row check rejected
        # (with their location columns): the pipeline stages them for loading.
        self.on_accepted = on_accepted
        # A repeated key's first occurrence has usually been passed over by the time the
        # repeat shows. From a source in `rereadable` (a CSV or NDJSON file) it is read
        # again by `refetch`, by its line: cheap, where keeping the raw text of every
        # row cost up to 512 MB at 5M rows. Any other batch is kept (`raw`): a Parquet
        # batch is compact (typed), and reading a Parquet file again means decoding all
        # of it (0.25 s of 1.1 s at 5M rows).
        self.refetch = refetch
        self.rereadable = rereadable
        self.origins: dict[int, _Origin] = {}
        self.raw = RawStore(memory_budget)
        self.kept: dict[int, int] = {}  # batch index -> its index in `raw`
        self.contract = contract
        self.table = table
        self.checks = checks
        self.result = result
        in_flight = (CheckKind.UNIQUE, CheckKind.FOREIGN_KEY)
        self.row_checks = [c for c in checks if c.is_row_level and c.kind not in in_flight]
        self.unique_checks = [c for c in checks if c.kind is CheckKind.UNIQUE]
        self.freshness = [c for c in checks if c.kind is CheckKind.FRESHNESS]
        self.counts: dict[str, int] = dict.fromkeys((c.id for c in checks), 0)
        self.cast_failures: dict[str, int] = dict.fromkeys((c.name for c in table.columns), 0)
        self.fresh_parts: dict[str, list[pl.DataFrame]] = {c.id: [] for c in self.freshness}
        self.newest: dict[str, Any] = {}
        self.failed_parts: list[pl.DataFrame] = []
        self.failed: pl.DataFrame | None = None
        self.keys: dict[str, list[pl.DataFrame]] = {c.id: [] for c in self.unique_checks}
        self.batches = 0
        sql_checks = [c for c in checks if c.kind is CheckKind.SQL]
        self.sql = SqlCheckRunner(table) if sql_checks else None

    def close(self) -> None:
        self.raw.close()
        if self.sql is not None:
            self.sql.close()

    # ------------------------------------------------------------ one batch

    def _casts(self, schema: pl.Schema) -> list[Cast]:
        casts = []
        for column in self.table.columns:
            if column.name in schema:
                casts.append(
                    cast_column(column, schema[column.name], self.contract.default_timezone)
                )
            else:
                absent = pl.lit(None, dtype=polars_type(column.type)).alias(column.name)
                casts.append(Cast(column.name, absent, pl.lit(""), can_fail=False))
        return casts

    def add_batch(self, batch: pl.DataFrame) -> None:
        if batch.height == 0:
            return
        index = self.batches
        self.batches += 1
        casts = self._casts(batch.schema)
        present = [c.column for c in casts if c.column in batch.schema]
        cast_flags = {
            c.column: _cast_flag(c.column) for c in casts if c.column in batch.schema and c.can_fail
        }
        # A value that failed its cast is null to the checks; its reason is the cast
        # failure alone, so a column's checks are masked where its cast failed.
        check_flags = [
            (violation(c) & ~pl.col(cast_flags[c.column])).alias(c.id)
            if c.column in cast_flags
            else violation(c)
            for c in self.row_checks
        ]
        rejecting = [c.id for c in self.row_checks if c.rejects_rows] + list(cast_flags.values())
        flagged = [c.id for c in self.row_checks] + list(cast_flags.values())
        flags = (
            batch.lazy()
            .select(
                *[c.value for c in casts],
                # The source value, in the source's type: text is only made for the few
                # rows that fail (formatting every timestamp would cost more than checking).
                *[pl.col(name).alias(_raw(name)) for name in present],
                *LOCATION,
                pl.lit(index, dtype=pl.Int32).alias(BATCH),
                pl.int_range(pl.len(), dtype=pl.Int32).alias(OFFSET),
            )
            .with_columns(
                [
                    c.failed(_raw(c.column)).alias(cast_flags[c.column])
                    for c in casts
                    if c.column in cast_flags
                ]
            )
            .with_columns(check_flags)
            .with_columns(
                pl.any_horizontal(rejecting).alias(REJECTED)
                if rejecting
                else pl.lit(False).alias(REJECTED)
            )
            .collect()
        )
        self._count(flags, cast_flags)
        self.result.rows += batch.height
        if self.on_accepted is not None:
            self.on_accepted(
                flags.filter(~pl.col(REJECTED)).select(
                    *[c.name for c in self.table.columns], *LOCATION
                )
            )
        if flagged:
            # Only the flags and the source values of failing rows are kept; their reasons
            # are written once, for all of them, when the data set is complete.
            failing = flags.filter(pl.any_horizontal(flagged)).select(
                *[_raw(n) for n in present], *LOCATION, *ROW_ID, REJECTED, *flagged
            )
            if failing.height:
                self.failed_parts.append(_compacted(failing))
        if self.unique_checks:
            if self.refetch is not None and _source_of(batch) in self.rereadable:
                self.origins[index] = _Origin.of(batch)
            else:
                self.kept[index] = self.raw.add(batch.select(*present, *LOCATION))
            for check in self.unique_checks:
                self.keys[check.id].append(
                    flags.select(
                        *[pl.col(c).alias(f"k{i}") for i, c in enumerate(check.columns)],
                        *ROW_ID,
                        REJECTED,
                    )
                )
        if self.sql is not None:
            self.sql.add(flags.filter(~pl.col(REJECTED)).select(*ROW_ID, *self.sql.columns))

    def _count(self, flags: pl.DataFrame, cast_flags: dict[str, str]) -> None:
        """Violations of row-scope checks and casts, over every row.

        Dataset checks judge the rows that will be loaded, which is only known once
        duplicates are resolved at the end; they are counted in `finish`.
        """
        sums = flags.select(
            *[pl.col(c.id).sum() for c in self.row_checks if c.scope is Scope.ROW],
            *[pl.col(flag).sum() for flag in cast_flags.values()],
        ).row(0, named=True)
        for check in self.row_checks:
            if check.scope is Scope.ROW:
                self.counts[check.id] += int(sums[check.id])
        for column, flag in cast_flags.items():
            self.cast_failures[column] += int(sums[flag])
        for check in self.freshness:
            # The newest value per batch among rows not rejected so far, with its row:
            # a duplicate rejected at the end must not count as fresh data.
            column = check.columns[0]
            self.fresh_parts[check.id].append(
                flags.filter(~pl.col(REJECTED) & pl.col(column).is_not_null()).select(
                    *ROW_ID, pl.col(column).alias("value")
                )
            )

    # ------------------------------------------------------------ the whole data set

    def finish(self) -> None:
        duplicates = self._duplicates()
        self.failed = self._explain(duplicates)
        rejected_ids = (
            self.failed.filter(pl.col(REJECTED)).select(ROW_ID)
            if self.failed is not None
            else pl.DataFrame(schema={BATCH: pl.Int32, OFFSET: pl.Int32})
        )
        self._count_dataset_checks()
        self._find_newest(rejected_ids)
        if self.sql is not None:
            self.sql.seal(rejected_ids)
        failed = self.failed
        self.result.rejected = int(failed[REJECTED].sum()) if failed is not None else 0
        self.result.flagged = (failed.height if failed is not None else 0) - self.result.rejected
        accepted = self.result.rows - self.result.rejected
        results = [
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
            for column, count in self.cast_failures.items()
            if count
        ]
        results.extend(self._judge(check, accepted) for check in self.checks)
        self.result.checks = results
        if self.result.rows == 0:
            self.result.notes.append("the data has no rows")

    def _duplicates(self) -> pl.DataFrame:
        """(check, batch, offset) of every row whose complete key occurs more than once.

        Row-scope uniqueness (primary keys) is resolved first; a dataset-scope
        duplicateValues rule then counts repeats among the rows still to be loaded.
        """
        found = [pl.DataFrame(schema={"check": pl.String, BATCH: pl.Int32, OFFSET: pl.Int32})]
        ordered = sorted(self.unique_checks, key=lambda c: c.scope is Scope.DATASET)
        for check in ordered:
            parts = self.keys.pop(check.id)
            if not parts:
                continue
            keys = pl.concat(parts)
            names = [f"k{i}" for i in range(len(check.columns))]
            keys = keys.filter(pl.all_horizontal([pl.col(n).is_not_null() for n in names]))
            if check.scope is Scope.DATASET:
                rejecting = [c.id for c in self.unique_checks if c.rejects_rows]
                removed = pl.concat(found).filter(pl.col("check").is_in(rejecting))
                keys = keys.filter(~pl.col(REJECTED)).join(removed, on=ROW_ID, how="anti")
            # Sorted, a repeated key sits next to its twin. Keys often arrive nearly in
            # order, which makes this sort cheap; measured 2-3x faster than hashing.
            ordered_keys = keys.sort(names)
            same_as_previous = pl.all_horizontal([pl.col(n) == pl.col(n).shift(1) for n in names])
            same_as_next = pl.all_horizontal([pl.col(n) == pl.col(n).shift(-1) for n in names])
            dupes = ordered_keys.filter(
                same_as_previous.fill_null(False) | same_as_next.fill_null(False)
            )
            self.counts[check.id] = dupes.height
            if dupes.height and check.scope is Scope.ROW:
                found.append(dupes.select(pl.lit(check.id).alias("check"), *ROW_ID))
        return pl.concat(found)

    def _count_dataset_checks(self) -> None:
        """Dataset-scope predicates, counted over the rows that will be loaded."""
        failed = self.failed
        for check in self.row_checks:
            if check.scope is Scope.DATASET:
                self.counts[check.id] = (
                    0
                    if failed is None or check.id not in failed.columns
                    else failed.filter(pl.col(check.id) & ~pl.col(REJECTED)).height
                )

    def _find_newest(self, rejected_ids: pl.DataFrame) -> None:
        for check_id, parts in self.fresh_parts.items():
            if not parts:
                continue
            values = pl.concat(parts).join(rejected_ids, on=ROW_ID, how="anti")
            self.newest[check_id] = values["value"].max() if values.height else None

    def _explain(self, duplicates: pl.DataFrame) -> pl.DataFrame | None:
        """All failing rows as read (text), each with the reasons for every flag it raised."""
        parts = self.failed_parts + self._rows_only_duplicated(duplicates)
        if not parts:
            return None
        failed = pl.concat(parts, how="diagonal_relaxed")
        flag_names = [n for n in failed.columns if n.startswith("cast:")] + [
            c.id for c in self.row_checks if c.id in failed.columns
        ]
        failed = failed.with_columns(pl.col(flag_names).fill_null(False))
        for check in self.unique_checks:
            mine = duplicates.filter(pl.col("check") == check.id).select(
                *ROW_ID, pl.lit(True).alias(check.id)
            )
            failed = failed.join(mine, on=ROW_ID, how="left").with_columns(
                pl.col(check.id).fill_null(False)
            )
            if check.rejects_rows:
                failed = failed.with_columns(pl.col(REJECTED) | pl.col(check.id))
        present = [c.name for c in self.table.columns if _raw(c.name) in failed.columns]
        schema = failed.schema
        # The reasons read each value by its column's own name, as text.
        as_read = failed.with_columns(
            [as_text(pl.col(_raw(n)), schema[_raw(n)]).alias(n) for n in present]
        )
        entries: list[tuple[pl.Expr, pl.Expr]] = []
        for cast in self._casts(pl.Schema({n: as_read.schema[n] for n in present})):
            if _cast_flag(cast.column) in failed.columns:
                check_id = f"{self.table.name}.{cast.column}.type"
                entries.append(
                    (
                        pl.col(_cast_flag(cast.column)),
                        reason(check_id, cast.column, pl.col(cast.column), cast.reason),
                    )
                )
        for check in self.row_checks + self.unique_checks:
            if check.id not in failed.columns:
                continue
            values = [pl.col(c) if c in present else pl.lit(None, pl.String) for c in check.columns]
            shown = values[0] if len(values) == 1 else pl.concat_str(values, separator=",")
            column = check.column or ",".join(check.columns)
            entries.append((pl.col(check.id), reason(check.id, column, shown, check.message)))
        explained = attach_reasons(as_read, entries, ROW_ID, REASONS)
        flags = [c.id for c in self.row_checks if c.id in explained.columns]
        return explained.select(*present, *LOCATION, *ROW_ID, REJECTED, REASONS, *flags)

    def _rows_only_duplicated(self, duplicates: pl.DataFrame) -> list[pl.DataFrame]:
        """Duplicate rows that failed nothing else, fetched back from the raw store."""
        known = (
            pl.concat([p.select(ROW_ID) for p in self.failed_parts])
            if self.failed_parts
            else pl.DataFrame(schema={BATCH: pl.Int32, OFFSET: pl.Int32})
        )
        unseen = duplicates.select(ROW_ID).unique().join(known, on=ROW_ID, how="anti")
        reread = unseen.filter(pl.col(BATCH).is_in(list(self.origins)))
        fetched = self._refetched(reread)
        for (batch,), wanted in unseen.filter(~pl.col(BATCH).is_in(list(self.origins))).group_by(
            BATCH
        ):
            offsets = wanted[OFFSET].sort()
            rows = self.raw.take(self.kept[int(batch)], offsets)  # type: ignore[arg-type]
            fetched.append(
                rows.select(
                    *[pl.col(n).alias(_raw(n)) for n in rows.columns if n not in LOCATION],
                    *LOCATION,
                    pl.lit(batch, dtype=pl.Int32).alias(BATCH),
                    offsets.alias(OFFSET),
                    pl.lit(False).alias(REJECTED),
                )
            )
        return fetched

    def _refetched(self, unseen: pl.DataFrame) -> list[pl.DataFrame]:
        """The rows at `unseen` (batch, offset), read again from the source."""
        if unseen.height == 0:
            return []
        assert self.refetch is not None
        located = pl.concat(
            [
                self.origins[int(batch)]
                .locate(wanted[OFFSET])
                .with_columns(pl.lit(batch, dtype=pl.Int32).alias(BATCH), wanted[OFFSET].sort())
                for (batch,), wanted in unseen.group_by(BATCH)
            ]
        )
        rows = self.refetch(located.select(LOCATION))
        names = [c.name for c in self.table.columns if c.name in rows.columns]
        return [
            rows.select(*[pl.col(n).alias(_raw(n)) for n in names], SOURCE_COLUMN, ROW_COLUMN)
            .join(located, on=[SOURCE_COLUMN, ROW_COLUMN], how="inner")
            .with_columns(pl.lit(False).alias(REJECTED))
            .select(*[_raw(n) for n in names], *LOCATION, *ROW_ID, REJECTED)
        ]

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
        elif check.kind is CheckKind.ROW_COUNT:
            outcome.measured = accepted
            outcome.passed = check.passes(accepted, accepted)
        elif check.kind is CheckKind.SQL:
            runner = self.sql
            assert runner is not None
            outcome.measured = runner.measure(check, self.contract.source)
            outcome.passed = check.passes(outcome.measured, accepted)
        elif check.kind is CheckKind.FRESHNESS:
            newest = self.newest.get(check.id)
            if newest is None:
                outcome.passed = False
                outcome.message += " (no value found)"
            else:
                age = freshness_age(newest)
                outcome.measured = age.total_seconds()
                outcome.passed = check.latency is not None and age <= check.latency
        else:
            count = self.counts[check.id]
            outcome.violations = count
            if check.scope is Scope.ROW:
                outcome.passed = count == 0
            else:
                percent = 100.0 * count / accepted if accepted else 0.0
                outcome.measured = percent if check.unit == "percent" else count
                outcome.passed = check.passes(count, accepted)
        return outcome

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

    def rejected_rows(self) -> list[dict[str, Any]]:
        """Every rejected row: its values as read (text), location and reasons."""
        if self.failed is None:
            return []
        names = [c.name for c in self.table.columns if c.name in self.failed.columns]
        rows = self.failed.filter(pl.col(REJECTED)).sort(SOURCE_COLUMN, ROW_COLUMN)
        return [
            {
                "record": {n: r[n] for n in names},
                "source": r[SOURCE_COLUMN],
                "row": r[ROW_COLUMN],
                "line": r[LINE_COLUMN],
                "reasons": r[REASONS],
            }
            for r in rows.select(*names, *LOCATION, REASONS).iter_rows(named=True)
        ]

    def write_rejects(self, path: Path) -> None:
        schema = {
            **{c.name: pl.String for c in self.table.columns},
            SOURCE_COLUMN: pl.String,
            ROW_COLUMN: pl.Int64,
            LINE_COLUMN: pl.Int64,
            REASONS: REASON_TYPE,
        }
        shown = "reasons" if "reasons" not in schema else REASONS
        if self.failed is None:
            frame = pl.DataFrame(schema=schema)
        else:
            present = self.failed.columns
            frame = (
                self.failed.filter(pl.col(REJECTED))
                .sort(SOURCE_COLUMN, ROW_COLUMN)
                .select(
                    [
                        pl.col(name).cast(dtype)
                        if name in present
                        else pl.lit(None, dtype=dtype).alias(name)
                        for name, dtype in schema.items()
                    ]
                )
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.rename({REASONS: shown}).write_parquet(path)
        except OSError as exc:
            raise InfrastructureError(
                f"cannot write rejects: {exc.strerror}", Location(file=str(path))
            ) from None
