"""TRANSFORM: user code on a Polars LazyFrame, and the helper it rejects rows with.

A transform is `def name(rows: pl.LazyFrame) -> pl.LazyFrame`, named in a pipeline as
`transform = "pipelines/orders.py:clean"`. It sees one batch of validated rows at a time
(typed by the contract, with their `_dw_source`/`_dw_source_row` columns) and returns
them, changed. It may not drop rows silently: a row it does not want is marked with
`reject(rows, condition, reason)` and lands in dataward.rejects with that reason.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import polars as pl

from dataward.errors import DatawardError, ExitCode, Location, UsageError

TRANSFORM_REASON = "_dw_transform_reason"

Transform = Callable[[pl.LazyFrame], pl.LazyFrame]


class TransformError(DatawardError):
    """The user's transform raised or broke its contract; the run fails and loads nothing."""

    exit_code = ExitCode.CHECKS_FAILED


def reject(rows: pl.LazyFrame, condition: pl.Expr, reason: str) -> pl.LazyFrame:
    """Mark the rows where `condition` holds as rejected with `reason`.

    The first reason given to a row is kept. Rejected rows are not loaded; they are
    stored in dataward.rejects with the reason and their source location.
    """
    previous = (
        pl.col(TRANSFORM_REASON)
        if TRANSFORM_REASON in rows.collect_schema().names()
        else pl.lit(None, dtype=pl.String)
    )
    return rows.with_columns(
        pl.when(previous.is_null() & condition.fill_null(False))
        .then(pl.lit(reason))
        .otherwise(previous)
        .alias(TRANSFORM_REASON)
    )


def load_transform(spec: str, root: Path, pipeline_file: Path) -> Transform:
    """`path/to/file.py:function` (relative to the project) or `package.module:function`."""
    where = Location(file=str(pipeline_file), path="transform")
    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise UsageError(f"transform must look like pipelines/x.py:function, got {spec!r}", where)
    if target.endswith(".py"):
        path = root / target
        if not path.is_file():
            raise UsageError(f"transform file {path} not found", where)
        module_name = f"dataward_transform_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - user code: re-raised as TransformError
            raise TransformError(
                f"importing the transform failed: {type(exc).__name__}: {exc}",
                _user_frame(exc, path) or where,
            ) from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise UsageError(f"cannot import transform module {target!r}: {exc}", where) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UsageError(f"{target} has no function {name!r}", where)
    return function


def apply_transform(
    function: Transform, rows: pl.DataFrame, source_file: Path | None
) -> pl.DataFrame:
    try:
        result = function(rows.lazy())
        if not isinstance(result, pl.LazyFrame | pl.DataFrame):
            raise TransformError(f"the transform returned {type(result).__name__}, not a LazyFrame")
        return result.collect() if isinstance(result, pl.LazyFrame) else result
    except TransformError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code: re-raised with its location
        raise TransformError(
            f"the transform raised {type(exc).__name__}: {exc}",
            _user_frame(exc, source_file) or Location(),
        ) from None


def _user_frame(exc: BaseException, path: Path | None) -> Location | None:
    """The innermost frame of the traceback that is in the user's file."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return Location(file=exc.filename, line=exc.lineno, column=exc.offset)
    for frame in reversed(frames):
        if path is not None and Path(frame.filename).resolve() == path.resolve():
            return Location(file=frame.filename, line=frame.lineno)
    return None
