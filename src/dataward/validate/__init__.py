"""`dataward validate`: check files against a contract, in one bounded-memory pass."""

from dataward.validate.engine import validate_files
from dataward.validate.result import CheckResult, ValidationResult

__all__ = ["CheckResult", "ValidationResult", "validate_files"]
