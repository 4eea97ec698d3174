"""Readers that turn files into batches tagged with where each row came from."""

from dataward.sources.files import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DataFile,
    expand_paths,
    read_batches,
    read_columns,
)

__all__ = [
    "LINE_COLUMN",
    "ROW_COLUMN",
    "SOURCE_COLUMN",
    "DataFile",
    "expand_paths",
    "read_batches",
    "read_columns",
]
