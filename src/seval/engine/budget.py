"""A run-wide budget on model calls and tokens, so a long run cannot spend more than agreed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Budget:
    max_requests: int | None = None
    max_tokens: int | None = None
    requests: int = 0
    tokens: int = 0

    def exhausted(self) -> bool:
        return (self.max_requests is not None and self.requests >= self.max_requests) or (
            self.max_tokens is not None and self.tokens >= self.max_tokens
        )

    def describe(self) -> str:
        parts = []
        if self.max_requests is not None:
            parts.append(f"{self.requests}/{self.max_requests} requests")
        if self.max_tokens is not None:
            parts.append(f"{self.tokens}/{self.max_tokens} tokens")
        return ", ".join(parts) or "unlimited"
