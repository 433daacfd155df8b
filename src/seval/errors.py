"""Errors that reach the user as one clear line.

The CLI catches `SevalError` and prints its message without a traceback; anything else is a bug.
"""

from __future__ import annotations


class SevalError(Exception):
    """A problem the user can fix: bad input, unknown names, unreachable servers."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} ({self.hint})" if self.hint else base


class ConfigError(SevalError):
    """A run file, CLI flag or override file that does not validate."""


class DataError(SevalError):
    """A malformed or unreadable input file."""


class UnknownNameError(SevalError):
    """A risk id, model provider, attack or critic that no registry knows."""


class ModelError(SevalError):
    """A model call that failed for good (after retries, or not retryable)."""


class TransientModelError(Exception):
    """A model call that may succeed if retried (5xx, dropped connection, timeout, 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited
