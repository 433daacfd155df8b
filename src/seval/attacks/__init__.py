"""Adversarial instruction attacks: derive attack prompts from base prompts, with lineage.

    attacks = load_attacks("all")                      # or "code_injection,goal_hijacking"
    derived = apply_attacks(cases, attacks, seed=0)    # one derived case per (case, attack)

Built-in attacks are registered as entry points in seval's pyproject.toml (group `seval.attacks`),
the same door a third-party package uses:

    [project.entry-points."seval.attacks"]
    my_attack = "my_pkg.attacks:MyAttack"      # a subclass of seval.attacks.Attack

The variant (and every other random choice) of a derived prompt depends only on (seed, case id, attack
name), so a run is reproducible whatever the order or subset of cases.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Sequence

from seval import registry
from seval.attacks.base import Attack, has_cjk, is_refusal, lang_key
from seval.attacks.codec import decode_code, decode_encrypted
from seval.errors import ConfigError
from seval.models.base import ChatModel
from seval.records import TestCase

__all__ = [
    "Attack",
    "apply_attacks",
    "apply_attacks_async",
    "attack_rng",
    "decode_code",
    "decode_encrypted",
    "has_cjk",
    "is_refusal",
    "lang_key",
    "load_attack",
    "load_attacks",
]

# Rewriter calls in flight at once when the rewriter does not say how many it takes.
DEFAULT_REWRITER_CONCURRENCY = 8


def load_attack(name: str) -> Attack:
    """One attack by registry name (UnknownNameError lists the known ones)."""
    factory = registry.attacks.get(name)
    obj = factory()
    if not isinstance(obj, Attack):
        raise ConfigError(f"attack plugin '{name}' did not produce a seval.attacks.Attack")
    return obj


def load_attacks(names: str | Sequence[str]) -> list[Attack]:
    """Attacks from "all", a comma-separated string, or a list of names, in the order given."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    wanted = [n for n in names if n]
    if not wanted:
        raise ConfigError("no attack named", hint="use 'all' or a comma-separated list of attack names")
    if "all" in wanted:
        wanted = registry.attacks.names()
    unique = list(dict.fromkeys(wanted))
    return [load_attack(n) for n in unique]


def attack_rng(seed: int, case_id: str, attack: str) -> random.Random:
    """The random source of one (case, attack) pair: depends on nothing else."""
    return random.Random(f"{seed}:{case_id}:{attack}")


def apply_attacks(
    cases: Iterable[TestCase],
    attacks: Sequence[Attack],
    seed: int = 0,
    rewriter: ChatModel | None = None,
    max_concurrency: int | None = None,
) -> list[TestCase]:
    """Derive one case per (case, attack), case-major. With a rewriter, runs the LLM-assisted form.

    Do not call this from inside a running event loop with a rewriter; await `apply_attacks_async`.
    """
    if rewriter is not None:
        return asyncio.run(apply_attacks_async(cases, attacks, seed, rewriter, max_concurrency))
    out: list[TestCase] = []
    append = out.append
    for case in cases:
        cid = case.id
        for attack in attacks:
            append(attack.derive(case, random.Random(f"{seed}:{cid}:{attack.name}")))
    return out


async def apply_attacks_async(
    cases: Iterable[TestCase],
    attacks: Sequence[Attack],
    seed: int = 0,
    rewriter: ChatModel | None = None,
    max_concurrency: int | None = None,
) -> list[TestCase]:
    """Like `apply_attacks`; rewriter calls run concurrently, at most `max_concurrency` at a time."""
    case_list = list(cases)
    if rewriter is None:
        return apply_attacks(case_list, attacks, seed)
    own = getattr(rewriter, "max_concurrency", 1) or 1
    limit = max(1, max_concurrency or min(own, DEFAULT_REWRITER_CONCURRENCY))
    sem = asyncio.Semaphore(limit)
    out: list[TestCase | None] = []
    jobs: list[tuple[int, Attack, TestCase]] = []
    for case in case_list:
        for attack in attacks:
            rng = attack_rng(seed, case.id, attack.name)
            if attack.needs_rewriter:
                jobs.append((len(out), attack, case))
                out.append(None)
            else:
                out.append(attack.derive(case, rng))

    async def one(index: int, attack: Attack, case: TestCase) -> None:
        async with sem:
            out[index] = await attack.derive_with(case, rewriter, attack_rng(seed, case.id, attack.name))

    await asyncio.gather(*(one(i, a, c) for i, a, c in jobs))
    return [c for c in out if c is not None]
