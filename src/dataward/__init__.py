"""dataward: data infrastructure that cannot silently lose, duplicate or corrupt a row."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("dataward")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "reject"]


def __getattr__(name: str) -> Any:
    # `dataward.reject` (the transform helper, public API) imports polars: loaded when
    # asked for, so commands that never touch a DataFrame (lint, audit) start fast.
    if name == "reject":
        from dataward.pipeline.transform import reject

        return reject
    raise AttributeError(f"module 'dataward' has no attribute {name!r}")
