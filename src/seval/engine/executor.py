"""Answer every unit of work (test x target x generation config) exactly once, and persist it.

The unit of work is independent and keyed (`Response.make_key`), so the same code shards across
processes or machines: each executor takes the units whose key falls in its shard and writes to a store
that is merged afterwards (`RunStore.merge_from`). Today one asyncio loop runs them all.

Retries, backoff, adaptive concurrency and the budget live here rather than in adapters, so that every
model, built-in or plugin, gets the same operational behaviour.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from seval import defaults
from seval.engine.budget import Budget
from seval.engine.cache import CacheMode, ResponseCache, cache_applies, cache_key
from seval.engine.limiter import AdaptiveLimiter
from seval.engine.store import RunStore
from seval.errors import ModelError, SevalError, TransientModelError
from seval.models.base import ChatModel, build_messages
from seval.records import GenerationConfig, ModelOutput, Response, TestCase


@dataclass(frozen=True, slots=True)
class WorkUnit:
    key: str
    test: TestCase
    target: str
    config: GenerationConfig


def plan_units(
    tests: Sequence[TestCase],
    targets: Sequence[str],
    configs: Sequence[GenerationConfig],
    *,
    shard: tuple[int, int] | None = None,
) -> list[WorkUnit]:
    """All units of a run, optionally only those of shard (index, count) by key."""
    units = []
    for target in targets:
        for config in configs:
            cid = config.id
            for test in tests:
                key = Response.make_key(test.id, target, cid)
                if shard and int(key[:8], 16) % shard[1] != shard[0]:
                    continue
                units.append(WorkUnit(key, test, target, config))
    return units


@dataclass
class TargetState:
    model: ChatModel
    limiter: AdaptiveLimiter
    succeeded: int = 0
    failed: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass
class RespondStats:
    planned: int = 0
    skipped: int = 0  # already in the store
    answered: int = 0
    cached: int = 0
    errors: int = 0
    retries: int = 0
    rate_limited: int = 0
    stopped_by_budget: bool = False
    per_target: dict[str, dict[str, int]] = field(default_factory=dict)


class _Stop(Exception):
    """Internal: stop dispatching (budget reached or a target is down)."""


class Executor:
    def __init__(
        self,
        store: RunStore,
        models: dict[str, ChatModel],
        *,
        cache: ResponseCache | None = None,
        cache_mode: CacheMode = "auto",
        budget: Budget | None = None,
        max_retries: int = defaults.MAX_RETRIES,
        request_timeout_s: float = defaults.REQUEST_TIMEOUT_S,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        backoff_max_s: float = defaults.BACKOFF_MAX_S,
        retry_errors: bool = True,
        on_result: Callable[[Response], None] | None = None,
    ) -> None:
        self.store = store
        self.targets = {tid: TargetState(m, AdaptiveLimiter(m.max_concurrency)) for tid, m in models.items()}
        self.cache = cache
        self.cache_mode = cache_mode
        self.budget = budget or Budget()
        self.max_retries = max_retries
        self.request_timeout_s = request_timeout_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_errors = retry_errors
        self.on_result = on_result
        self._buffer: list[Response] = []
        self._last_flush = time.monotonic()
        self._stop_reason: str | None = None
        self._rng = random.Random(0)
        self.stats = RespondStats()

    # --- public -----------------------------------------------------------------------------------
    def pending(self, units: Sequence[WorkUnit]) -> list[WorkUnit]:
        done = self.store.done_keys(include_errors=not self.retry_errors)
        return [u for u in units if u.key not in done]

    async def run(self, units: Sequence[WorkUnit]) -> RespondStats:
        """Answer the units not yet in the store. Raises SevalError when a target is down."""
        todo = self.pending(units)
        self.stats.planned = len(units)
        self.stats.skipped = len(units) - len(todo)
        prior_requests, prior_tokens = self.store.usage()
        self.budget.requests += prior_requests
        self.budget.tokens += prior_tokens
        by_target: dict[str, list[WorkUnit]] = {}
        for u in todo:
            by_target.setdefault(u.target, []).append(u)
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await asyncio.gather(*(self._run_target(t, us) for t, us in by_target.items()))
        finally:
            flusher.cancel()
            self.flush()
        for tid, st in self.targets.items():
            self.stats.per_target[tid] = {"ok": st.succeeded, "error": st.failed}
            self.stats.rate_limited += st.limiter.rate_limited
        if self._stop_reason == "budget":
            self.stats.stopped_by_budget = True
        elif self._stop_reason:
            raise SevalError(
                self._stop_reason, hint="finished work is saved; re-run the same command to resume"
            )
        return self.stats

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.store.add_responses(batch)
        if self.cache is not None:
            self.cache.flush()
        self._last_flush = time.monotonic()

    # --- internals --------------------------------------------------------------------------------
    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(defaults.STORE_FLUSH_INTERVAL_S)
            if self._buffer:
                self.flush()

    async def _run_target(self, target: str, units: list[WorkUnit]) -> None:
        state = self.targets[target]
        it: Iterator[WorkUnit] = iter(units)
        n_workers = min(len(units), state.model.max_concurrency)

        async def worker() -> None:
            # Workers share one iterator: next() is atomic on a single event loop.
            for unit in it:
                if self._stop_reason:
                    return
                try:
                    resp = await self._answer(state, unit)
                except _Stop:
                    return
                self._record(resp)

        await asyncio.gather(*(worker() for _ in range(n_workers)))

    def _record(self, resp: Response) -> None:
        self._buffer.append(resp)
        if resp.cached:
            self.stats.cached += 1
        if resp.error is None:
            self.stats.answered += 1
        else:
            self.stats.errors += 1
        if self.on_result is not None:
            self.on_result(resp)
        if (
            len(self._buffer) >= defaults.STORE_FLUSH_ROWS
            or time.monotonic() - self._last_flush >= defaults.STORE_FLUSH_INTERVAL_S
        ):
            self.flush()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, defaults.RETRY_AFTER_MAX_S)
        delay = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return delay * (0.5 + self._rng.random() / 2)  # jitter spreads retries of a burst

    async def _answer(self, state: TargetState, unit: WorkUnit) -> Response:
        model = state.model
        messages = build_messages(unit.test.prompt, unit.config)
        ck = None
        if self.cache is not None and cache_applies(self.cache_mode, unit.config):
            ck = cache_key(model.id, unit.config, messages)
            hit = self.cache.get(ck)
            if hit is not None:
                return self._response(unit, hit, attempts=0)
        attempt = 0
        while True:
            attempt += 1
            if self._stop_reason:
                raise _Stop
            if self.budget.exhausted():
                self._stop_reason = self._stop_reason or "budget"
                raise _Stop
            await state.limiter.acquire()
            self.budget.requests += 1
            try:
                async with asyncio.timeout(self.request_timeout_s):
                    out = await model.generate(messages, unit.config)
            except (TransientModelError, TimeoutError) as exc:
                retry_after = None
                if isinstance(exc, TransientModelError):
                    retry_after = exc.retry_after
                    if exc.rate_limited:
                        state.limiter.on_rate_limited(retry_after)
                state.limiter.release(success=False)
                message = str(exc) or "request timed out"
                # A target that has never answered gets few retries: a wrong URL or a server that is
                # down should fail in seconds, not after minutes of backoff on every unit.
                limit = self.max_retries if state.succeeded else min(self.max_retries, 2)
                if attempt > limit:
                    return self._fail(state, unit, message, attempt)
                self.stats.retries += 1
                await asyncio.sleep(self._backoff(attempt, retry_after))
                continue
            except ModelError as exc:
                state.limiter.release(success=False)
                return self._fail(state, unit, str(exc), attempt)
            except asyncio.CancelledError:
                state.limiter.release(success=False)
                raise
            except Exception as exc:  # an adapter bug must not take the whole run down
                state.limiter.release(success=False)
                return self._fail(state, unit, f"{type(exc).__name__}: {exc}", attempt)
            state.limiter.release(success=True)
            state.succeeded += 1
            state.consecutive_failures = 0
            self.budget.tokens += (out.prompt_tokens or 0) + (out.completion_tokens or 0)
            if ck is not None and self.cache is not None:
                self.cache.put(ck, out)
            return self._response(unit, out, attempts=attempt)

    def _fail(self, state: TargetState, unit: WorkUnit, message: str, attempts: int) -> Response:
        state.failed += 1
        state.consecutive_failures += 1
        state.last_error = message
        # Stop early when a target is plainly down rather than recording an error for every unit.
        if (state.succeeded == 0 and state.consecutive_failures >= 3) or state.consecutive_failures >= 25:
            self._stop_reason = self._stop_reason or (f"target {unit.target} is failing: {message}")
        return Response(
            key=unit.key,
            test_id=unit.test.id,
            target=unit.target,
            config_id=unit.config.id,
            error=message[:2000],
            attempts=attempts,
            created_at=time.time(),
        )

    @staticmethod
    def _response(unit: WorkUnit, out: ModelOutput, *, attempts: int) -> Response:
        return Response(
            key=unit.key,
            test_id=unit.test.id,
            target=unit.target,
            config_id=unit.config.id,
            answer=out.text,
            reasoning=out.reasoning,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.completion_tokens,
            latency_s=out.latency_s,
            finish_reason=out.finish_reason,
            attempts=attempts,
            cached=out.cached,
            created_at=time.time(),
        )


__all__ = ["Executor", "RespondStats", "WorkUnit", "plan_units"]
