"""Judge stored responses with a critic, once per (response, critic), in batches.

Critique is a stage of its own, not part of answering, so that a stored run can be judged again by
another critic without calling any target, and so that verdicts of several critics coexist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seval.critic.base import Critic, JudgeItem
from seval.engine.store import RunStore
from seval.errors import SevalError


@dataclass
class CritiqueStats:
    judged: int = 0
    skipped: int = 0
    parse_errors: int = 0


async def critique_run(
    store: RunStore,
    critic: Critic,
    *,
    batch_size: int = 64,
    on_batch: Callable[[int], None] | None = None,
) -> CritiqueStats:
    store.add_critic(critic.id, {"id": critic.id, "description": critic.description})
    judged = store.judged_keys(critic.id)
    tests = store.tests_by_id()
    todo = [r for r in store.responses(ok_only=True) if r.key not in judged and r.test_id in tests]
    stats = CritiqueStats(skipped=len(judged))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        verdicts = await critic.judge([JudgeItem(tests[r.test_id], r) for r in batch])
        if len(verdicts) != len(batch):
            raise RuntimeError(f"critic {critic.id} returned {len(verdicts)} verdicts for {len(batch)} items")
        store.add_verdicts(verdicts)
        stats.judged += len(verdicts)
        stats.parse_errors += sum(1 for v in verdicts if v.parse_error)
        if on_batch is not None:
            on_batch(len(verdicts))
    return stats


def latest_critic(store: RunStore) -> str | None:
    """The critic whose verdicts were written last: after `seval critique` it is the new critic, so the
    summary shows what was just judged rather than whichever id sorts first."""
    row = store.db.execute(
        "SELECT critic FROM verdicts GROUP BY critic ORDER BY MAX(created_at) DESC, critic LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def pick_critic(store: RunStore, critic: str | None) -> str | None:
    """A critic id of this run: `critic` may be a full id or a prefix (`rules` for `rules@1a2b...`);
    None picks the most recently judged critic. None when the run has no verdicts yet."""
    critics = store.critic_ids()
    if not critics:
        return None
    if critic is None:
        return latest_critic(store)
    if critic in critics:
        return critic
    matches = [c for c in critics if c.startswith(critic)]
    if not matches:
        raise SevalError(f"run has no verdicts of critic '{critic}' (has: {', '.join(critics)})")
    return matches[0]
