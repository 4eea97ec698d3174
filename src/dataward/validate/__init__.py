"""`dataward validate`: check files against a contract, in one bounded-memory pass."""

from dataward.validate.engine import CheckResult, ValidationResult, validate_files

__all__ = ["CheckResult", "ValidationResult", "validate_files"]
