"""The executor answers each unit exactly once, retries what is transient, and respects budgets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from seval.engine.budget import Budget
from seval.engine.cache import ResponseCache
from seval.engine.executor import Executor, plan_units
from seval.engine.limiter import AdaptiveLimiter
from seval.engine.store import RunStore
from seval.errors import ModelError, SevalError, TransientModelError
from seval.models.base import ChatModel
from seval.records import GenerationConfig, Message, ModelOutput, TestCase


class FakeModel(ChatModel):
    """A model whose failures are scripted per prompt."""

    def __init__(
        self,
        id: str = "fake:model",
        *,
        fail_first: int = 0,
        fatal: bool = False,
        rate_limit_first: int = 0,
        concurrency: int = 8,
    ) -> None:
        self.id = id
        self.max_concurrency = concurrency
        self.fail_first = fail_first
        self.rate_limit_first = rate_limit_first
        self.fatal = fatal
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.peak = 0

    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        prompt = messages[-1].content
        n = self.calls[prompt] = self.calls.get(prompt, 0) + 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0)
            if self.fatal:
                raise ModelError("401 unauthorized: bad key")
            if n <= self.rate_limit_first:
                raise TransientModelError("429 too many requests", retry_after=0.01, rate_limited=True)
            if n <= self.rate_limit_first + self.fail_first:
                raise TransientModelError("500 internal error")
            return ModelOutput(text=f"answer to {prompt}", prompt_tokens=5, completion_tokens=7)
        finally:
            self.in_flight -= 1


def make_tests(n: int) -> list[TestCase]:
    return [TestCase(id=f"t{i}", lang="en", risk="ci", prompt=f"prompt {i}") for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    s = RunStore(tmp_path / "store.sqlite")
    yield s
    s.close()


def run_units(store: RunStore, model: ChatModel, tests: list[TestCase], **kw) -> Executor:
    cfg = GenerationConfig()
    units = plan_units(tests, [model.id], [cfg])
    store.add_tests(tests)
    ex = Executor(store, {model.id: model}, backoff_base_s=0.001, backoff_max_s=0.01, **kw)
    asyncio.run(ex.run(units))
    return ex


def test_every_unit_answered_once_and_rerun_does_nothing(store: RunStore) -> None:
    model = FakeModel()
    tests = make_tests(50)
    ex = run_units(store, model, tests)
    assert ex.stats.answered == 50
    assert sorted(r.test_id for r in store.responses()) == sorted(t.id for t in tests)
    assert all(v == 1 for v in model.calls.values())
    model2 = FakeModel()
    ex2 = run_units(store, model2, tests)
    assert ex2.stats.skipped == 50 and ex2.stats.answered == 0
    assert model2.calls == {}


def test_transient_errors_are_retried(store: RunStore) -> None:
    model = FakeModel(fail_first=2)
    ex = run_units(store, model, make_tests(10))
    assert ex.stats.answered == 10 and ex.stats.errors == 0
    assert ex.stats.retries == 20
    assert all(r.attempts == 3 for r in store.responses())


def test_rate_limits_shrink_concurrency_and_are_survived(store: RunStore) -> None:
    model = FakeModel(rate_limit_first=1, concurrency=16)
    ex = run_units(store, model, make_tests(40))
    assert ex.stats.answered == 40
    assert ex.stats.rate_limited >= 1
    assert ex.targets[model.id].limiter.limit < 16


def test_retries_exhausted_record_error_then_resume_retries_it(store: RunStore) -> None:
    model = FakeModel(fail_first=100)
    tests = make_tests(1)
    # A target that has never answered fails fast with a clear error.
    with pytest.raises(SevalError, match="failing"):
        run_units(store, model, make_tests(5))
    assert store.count_responses()["error"] >= 1
    # The next run retries the errored units and replaces them with answers.
    good = FakeModel()
    run_units(store, good, make_tests(5))
    counts = store.count_responses()
    assert counts == {"ok": 5, "error": 0}
    del tests


def test_fatal_error_is_not_retried(store: RunStore) -> None:
    model = FakeModel(fatal=True, concurrency=1)
    with pytest.raises(SevalError, match="401"):
        run_units(store, model, make_tests(10))
    assert sum(model.calls.values()) == 3  # stops after three final failures with no success


def test_budget_stops_cleanly(store: RunStore) -> None:
    model = FakeModel(concurrency=1)
    ex = run_units(store, model, make_tests(20), budget=Budget(max_requests=7))
    assert ex.stats.stopped_by_budget
    assert store.count_responses()["ok"] == 7
    # The budget is run-wide: a resumed run with the same budget does no more work.
    ex2 = run_units(store, FakeModel(concurrency=1), make_tests(20), budget=Budget(max_requests=7))
    assert ex2.stats.answered == 0 and ex2.stats.stopped_by_budget


def test_token_budget(store: RunStore) -> None:
    ex = run_units(store, FakeModel(concurrency=1), make_tests(20), budget=Budget(max_tokens=36))
    assert ex.stats.stopped_by_budget
    assert store.count_responses()["ok"] == 3  # 12 tokens per answer


def test_concurrency_is_bounded(store: RunStore) -> None:
    model = FakeModel(concurrency=4)
    run_units(store, model, make_tests(40))
    assert model.peak <= 4


def test_cache_serves_repeat_prompts(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    tests = make_tests(5)
    with RunStore(tmp_path / "a.sqlite") as a:
        run_units(a, FakeModel(), tests, cache=cache)
    cache.flush()
    other = FakeModel()
    with RunStore(tmp_path / "b.sqlite") as b:
        ex = run_units(b, other, tests, cache=cache)
        assert ex.stats.cached == 5
        assert other.calls == {}
        assert all(r.cached for r in b.responses())
    # Sampling without a seed is not replayed from the cache in auto mode.
    sampled = FakeModel()
    with RunStore(tmp_path / "c.sqlite") as c:
        c.add_tests(tests)
        units = plan_units(tests, [sampled.id], [GenerationConfig(temperature=0.7)])
        asyncio.run(Executor(c, {sampled.id: sampled}, cache=cache).run(units))
    assert sum(sampled.calls.values()) == 5
    cache.close()


def test_shards_partition_the_work(store: RunStore) -> None:
    tests = make_tests(100)
    cfg = GenerationConfig()
    all_keys = {u.key for u in plan_units(tests, ["m"], [cfg])}
    parts = [{u.key for u in plan_units(tests, ["m"], [cfg], shard=(i, 3))} for i in range(3)]
    assert set().union(*parts) == all_keys
    assert sum(len(p) for p in parts) == len(all_keys)


def test_limiter_halves_on_rate_limit_and_pauses() -> None:
    lim = AdaptiveLimiter(64, initial=32)

    async def go() -> None:
        await lim.acquire()
        lim.release(success=False)
        lim.on_rate_limited(0.05)
        assert lim.limit == 16
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await lim.acquire()
        assert loop.time() - t0 >= 0.04
        lim.release(success=True)

    asyncio.run(go())
