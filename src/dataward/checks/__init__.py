"""The engine-neutral check list and its renderers (Polars in flight, SQL at rest)."""

from dataward.checks.compile import compile_checks
from dataward.checks.model import Check, CheckKind, Scope

__all__ = ["Check", "CheckKind", "Scope", "compile_checks"]
