"""dataward: data infrastructure that cannot silently lose, duplicate or corrupt a row."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dataward")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from dataward.pipeline.transform import reject  # the transform helper, public API

__all__ = ["__version__", "reject"]
