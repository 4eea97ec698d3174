"""dataward: data infrastructure that cannot silently lose, duplicate or corrupt a row."""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["__version__", "reject"]


@cache
def _installed_version() -> str:
    # importlib.metadata costs 35 ms to import: paid by what prints the version, not by
    # every command's start.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dataward")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _installed_version()
    # `dataward.reject` (the transform helper, public API) imports polars: loaded when
    # asked for, so commands that never touch a DataFrame (lint, audit) start fast.
    if name == "reject":
        from dataward.pipeline.transform import reject

        return reject
    raise AttributeError(f"module 'dataward' has no attribute {name!r}")
