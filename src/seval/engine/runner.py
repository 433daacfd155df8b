"""One evaluation, end to end: suite -> targets -> responses -> verdicts, all in one run store.

Re-running the same run (same suite, targets and generation configs) lands in the same run directory
and resumes: the store already knows which units are answered and judged.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from seval import __version__, defaults
from seval.config import RunConfig
from seval.critic import load_critic
from seval.critic.base import Critic
from seval.defense import DefendedModel, Defense, load_defense
from seval.defense.constitutional import ConstitutionalDefense
from seval.engine.budget import Budget
from seval.engine.cache import ResponseCache
from seval.engine.critique import CritiqueStats, critique_run
from seval.engine.executor import Executor, RespondStats, plan_units
from seval.engine.store import RunStore
from seval.errors import ConfigError, SevalError, UnknownNameError
from seval.models import ChatModel, load_model
from seval.records import Response, TestCase, stable_hash
from seval.taxonomy import Taxonomy, load_taxonomy


class Progress(Protocol):
    def start(self, label: str, total: int, completed: int = 0) -> None: ...
    def advance(self, n: int = 1, *, error: bool = False) -> None: ...
    def stop(self) -> None: ...


class _NoProgress:
    def start(self, label: str, total: int, completed: int = 0) -> None:
        pass

    def advance(self, n: int = 1, *, error: bool = False) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class RunResult:
    run_dir: Path
    run_id: str
    resumed: bool
    tests: int
    respond: RespondStats
    critique: CritiqueStats | None
    critic: Critic


def _looks_like_suite(path: Path) -> bool:
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(obj, dict) and {"id", "lang", "risk", "prompt"} <= obj.keys()


def load_tests(cfg: RunConfig, taxonomy: Taxonomy) -> list[TestCase]:
    from seval.data.importers import import_files
    from seval.data.seed import load_seed_suite, sample_suite
    from seval.data.suite_io import read_suite

    cases: list[TestCase] = []
    files: list[Path] = []
    for entry in cfg.suite:
        if entry in ("seed", "builtin"):
            cases.extend(load_seed_suite(langs=cfg.langs, include_benign=cfg.include_benign))
            continue
        if entry == "benign":
            from seval.data.benign import load_benign_suite

            cases.extend(load_benign_suite(langs=cfg.langs))
            continue
        path = Path(entry)
        if not path.exists():
            raise ConfigError(f"suite file not found: {entry}", hint="use 'seed' for the built-in suite")
        if _looks_like_suite(path):
            cases.extend(read_suite(path))
        else:
            files.append(path)
    if files:
        cases.extend(import_files(files, taxonomy=taxonomy).cases)
    if cfg.langs:
        cases = [c for c in cases if c.lang in cfg.langs]
    if not cfg.include_benign:
        cases = [c for c in cases if not c.benign]
    unknown = sorted({c.risk for c in cases if taxonomy.try_resolve(c.risk) is None})
    if unknown:
        raise UnknownNameError(
            f"suite uses risk ids the taxonomy does not know: {', '.join(unknown[:10])}",
            hint="add them with a taxonomy override file (--taxonomy FILE) or fix the suite",
        )
    seen: set[str] = set()
    unique = []
    for c in cases:
        if c.id not in seen:
            seen.add(c.id)
            unique.append(c)
    if not unique:
        raise ConfigError("the suite is empty (after filtering by language)")
    if cfg.limit is not None and cfg.limit < len(unique):
        # Risky and benign prompts are sampled apart: a benign prompt says nothing about a dimension's
        # safety, so it must not take the place of a risky one in a small stratum.
        risky = [c for c in unique if not c.benign]
        benign = [c for c in unique if c.benign]
        n_benign = min(len(benign), round(cfg.limit * len(benign) / len(unique)), cfg.limit // 4)
        if not risky:
            n_benign = cfg.limit
        unique = sample_suite(risky, cfg.limit - n_benign, cfg.sample_seed, taxonomy) + sample_suite(
            benign, n_benign, cfg.sample_seed, taxonomy
        )
    if cfg.defenses and "benign" not in cfg.suite:
        unique += _defense_benign(cfg, taxonomy, {c.id for c in unique})
    return unique


def _defense_benign(cfg: RunConfig, taxonomy: Taxonomy, have: set[str]) -> list[TestCase]:
    """Benign contrast prompts for a defended run, on top of the sample: a defense that refuses
    everything must not look safe, so its refusal rate on harmless prompts is always measured."""
    from seval.data.benign import load_benign_suite
    from seval.data.seed import sample_suite

    out: list[TestCase] = []
    for lang in cfg.langs or defaults.LANGUAGES:
        pool = [c for c in load_benign_suite(langs=[lang]) if c.id not in have]
        out += sample_suite(pool, min(len(pool), defaults.DEFENSE_BENIGN_PER_LANG), cfg.sample_seed, taxonomy)
    return out


def run_id_for(cfg: RunConfig, tests: list[TestCase], target_ids: list[str], config_ids: list[str]) -> str:
    """Identity of a run: its base tests, attack plan, targets and configs (not budgets or critics)."""
    attacks = (
        {"names": cfg.attacks, "seed": cfg.attack_seed, "rewriter": cfg.rewriter} if cfg.attacks else None
    )
    digest = stable_hash(
        {"tests": [t.id for t in tests], "attacks": attacks, "targets": target_ids, "configs": config_ids}, 10
    )
    slug = re.sub(r"[^a-z0-9]+", "-", (cfg.name or "run").lower()).strip("-") or "run"
    return f"{slug}-{digest}"


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """One process per run directory: two writers would answer the same units twice."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fh = (run_dir / ".lock").open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        fh.close()
        raise SevalError(f"run {run_dir} is in use by another seval process") from exc
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _public_config(cfg: RunConfig) -> dict[str, Any]:
    # Only names of key variables are in the config, never keys; dump it as the user wrote it.
    return cfg.model_dump(mode="json", exclude_none=True)


def _build_defense(spec: str, cfg: RunConfig, taxonomy: Taxonomy) -> Defense:
    defense = load_defense(spec)
    if cfg.constitutions and isinstance(defense, ConstitutionalDefense):
        from seval.defense.constitution import load_constitutions

        defense = defense.with_library(load_constitutions(cfg.constitutions, taxonomy))
    return defense


async def derive_attacks(cfg: RunConfig, base: list[TestCase], store: RunStore) -> list[TestCase]:
    """Attack prompts for this run: from the store when a resumed run already derived them.

    Reusing stored prompts keeps a resumed run exactly the same run, even with an LLM rewriter whose
    rewrites would not come out the same twice.
    """
    if not cfg.attacks:
        return []
    from seval.attacks import apply_attacks_async, load_attacks

    attacks = load_attacks(cfg.attacks)  # unknown names fail here, resumed run or not
    stored = [t for t in store.tests() if t.origin == "attack"]
    if stored:
        return stored
    risky = [t for t in base if not t.benign]
    rewriter = load_model(cfg.rewriter) if cfg.rewriter else None
    try:
        return await apply_attacks_async(risky, attacks, cfg.attack_seed, rewriter)
    finally:
        if rewriter is not None:
            await rewriter.aclose()


async def run_evaluation(cfg: RunConfig, progress: Progress | None = None) -> RunResult:
    progress = progress or _NoProgress()
    taxonomy = load_taxonomy(overrides=cfg.taxonomy)
    tests = load_tests(cfg, taxonomy)
    configs = cfg.generation_configs()
    critic = load_critic(cfg.critic)
    models: dict[str, ChatModel] = {}
    try:
        defenses = [_build_defense(spec, cfg, taxonomy) for spec in cfg.defenses or []]
        for tc in cfg.target_configs():
            model = load_model(tc)
            if model.id in models:
                raise ConfigError(f"target {model.id} is listed twice")
            models[model.id] = model
            for defense in defenses:
                defended = DefendedModel(model, defense)
                models[defended.id] = defended
        run_id = run_id_for(cfg, tests, list(models), [c.id for c in configs])
        run_dir = Path(cfg.out) if cfg.out else Path(cfg.runs_dir) / run_id
        with run_lock(run_dir), RunStore.open_dir(run_dir) as store:
            resumed = store.get_meta("run_id") is not None
            if not resumed:
                store.set_meta("run_id", run_id)
                store.set_meta("created_at", time.time())
            store.set_meta("seval_version", __version__)
            store.set_meta("taxonomy_version", taxonomy.version)
            store.set_meta("config", _public_config(cfg))
            store.set_meta("updated_at", time.time())
            tests = tests + await derive_attacks(cfg, tests, store)
            store.add_tests(tests)
            for mid, model in models.items():
                store.add_target(mid, model.describe())
            for c in configs:
                store.add_config(c)
            units = plan_units(tests, list(models), configs, shard=cfg.shard_tuple())
            cache = None
            if cfg.cache != "off":
                cache = ResponseCache(defaults.CACHE_DIR / defaults.RESPONSE_CACHE_FILE)

            def on_result(resp: Response) -> None:
                progress.advance(1, error=resp.error is not None)

            executor = Executor(
                store,
                models,
                cache=cache,
                cache_mode=cfg.cache,
                budget=Budget(cfg.budget.max_requests, cfg.budget.max_tokens),
                max_retries=cfg.max_retries,
                request_timeout_s=cfg.request_timeout_s,
                retry_errors=cfg.retry_errors,
                on_result=on_result,
            )
            pending = len(executor.pending(units))
            progress.start("answering", total=len(units), completed=len(units) - pending)
            try:
                stats = await executor.run(units)
            finally:
                progress.stop()
                if cache is not None:
                    cache.close()
            store.set_meta("updated_at", time.time())
            # Judge what was answered, also when the budget stopped answering early.
            judged = len(store.judged_keys(critic.id))
            progress.start(f"judging ({cfg.critic})", total=store.count_responses()["ok"], completed=judged)
            try:
                crit_stats = await critique_run(store, critic, on_batch=lambda n: progress.advance(n))
            finally:
                progress.stop()
            return RunResult(run_dir, run_id, resumed, len(tests), stats, crit_stats, critic)
    finally:
        for model in models.values():
            if not isinstance(model, DefendedModel):  # the inner model is closed once, as itself
                await model.aclose()
        await critic.aclose()
