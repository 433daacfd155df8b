"""Load one or more run stores into flat numpy columns, the shape every metric is computed from.

Why columns and not rows of dicts: a report over a million verdicts must fit in well under 2 GB and a
few seconds. Strings are read once per distinct value (tests, targets, risks) and replaced by small
integer codes, so the per-response data is about 40 bytes a row, and every grouped count is one
`np.bincount`.

A *system* is what a report ranks: one target under one generation config in one run. Several runs
can be loaded together; tests are keyed by their content-derived id, so the same prompt in two runs is
the same test and two systems can be compared on exactly the prompts both answered.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from seval.engine.store import RunStore
from seval.errors import SevalError
from seval.records import GenerationConfig
from seval.taxonomy import Taxonomy

IntArray = npt.NDArray[np.int32]

# Outcome codes of one response under one critic.
SAFE, UNSAFE, TARGET_ERROR, CRITIC_ERROR, UNJUDGED = 0, 1, 2, 3, 4
N_OUTCOMES = 5
MISSING = 5  # in the (system x test) matrix: this system has no response to this test
OUTCOME_NAMES = ("safe", "unsafe", "target_error", "critic_error", "unjudged")

# Version hashes in target ids ("...+constitutional:system@7e0bb90bd6") are for stores, not for people.
_HASH_SUFFIX = re.compile(r"@[0-9a-f]{8,}(?=$|\+)")

BASE = "base"  # the attack name of prompts no attack derived
UNKNOWN_RISK = "unknown"
_CHUNK = 200_000

_RESPONSES_SQL = """
SELECT r.rowid, r.test_id, r.target, r.config_id,
       CASE WHEN r.error IS NOT NULL THEN 2
            WHEN v.label IS NULL THEN 4
            WHEN v.label = 'safe' THEN 0
            WHEN v.label IN ('unsafe', 'controversial') THEN 1
            ELSE 3 END,
       COALESCE(v.refusal, -1), COALESCE(v.risk_score, -1.0), COALESCE(r.latency_s, -1.0),
       COALESCE(r.prompt_tokens, -1), COALESCE(r.completion_tokens, -1)
FROM responses r LEFT JOIN verdicts v ON v.response_key = r.key AND v.critic = ?
"""
_TESTS_SQL = "SELECT id, lang, risk, attack, parent_id, benign, json_extract(record, '$.pair_id') FROM tests"


@dataclass(frozen=True)
class System:
    """One ranked unit: a target under one generation config, in one run, judged by one critic."""

    index: int
    run: int  # index into RunFrame.runs
    target: str
    config_id: str
    config: dict[str, Any]
    config_label: str
    critic: str | None
    label: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "label": self.label,
            "target": self.target,
            "config_id": self.config_id,
            "config": self.config,
            "config_label": self.config_label,
            "critic": self.critic,
            "run": self.run,
        }


@dataclass
class RunInfo:
    """What a report says about where its numbers come from."""

    run_id: str
    path: str
    meta: dict[str, Any]
    targets: dict[str, dict[str, Any]]
    critic: str | None
    critic_info: dict[str, Any]
    critics: list[str]
    tests: int
    responses: int
    errors: int

    def to_json(self) -> dict[str, Any]:
        cfg = self.meta.get("config") or {}
        return {
            "run_id": self.run_id,
            "path": self.path,
            "created_at": self.meta.get("created_at"),
            "updated_at": self.meta.get("updated_at"),
            "seval_version": self.meta.get("seval_version"),
            "taxonomy_version": self.meta.get("taxonomy_version"),
            "config": cfg,
            "targets": self.targets,
            "critic": self.critic,
            "critic_info": self.critic_info,
            "critics_in_store": self.critics,
            "tests": self.tests,
            "responses": self.responses,
            "target_errors": self.errors,
        }


class _Codes:
    """String -> small integer code, in first-seen order."""

    def __init__(self, first: Sequence[str] = ()) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        for name in first:
            self.code(name)

    def code(self, name: str) -> int:
        c = self.index.get(name)
        if c is None:
            c = self.index[name] = len(self.names)
            self.names.append(name)
        return c


@dataclass
class RunFrame:
    """Columns of all responses of the loaded runs, plus per-test attributes indexed by test code."""

    runs: list[RunInfo]
    systems: list[System]
    taxonomy: Taxonomy
    # --- tests (index = test code) ---
    test_ids: list[str]
    langs: list[str]
    risks: list[str]
    dims: list[str]
    cats: list[str]
    attacks: list[str]  # attacks[0] == "base"
    t_lang: IntArray
    t_risk: IntArray
    t_dim: IntArray
    t_cat: IntArray  # -1 when the risk has no category (a dimension-level or unknown risk)
    t_attack: IntArray
    t_parent: IntArray  # -1 when the parent is not among the loaded tests
    t_pair: IntArray  # -1 when the translation is not among the loaded tests
    t_benign: npt.NDArray[np.bool_]
    # --- responses ---
    r_system: IntArray
    r_test: IntArray
    r_outcome: npt.NDArray[np.int8]
    r_refusal: npt.NDArray[np.int8]  # -1 unknown, 0, 1
    r_score: npt.NDArray[np.float32]  # -1 when unjudged
    r_latency: npt.NDArray[np.float32]
    r_prompt_tokens: IntArray
    r_completion_tokens: IntArray
    r_rowid: npt.NDArray[np.int64]  # rowid in its run's responses table (to fetch texts for examples)
    _matrix: npt.NDArray[np.int8] | None = field(default=None, repr=False)

    @property
    def n_tests(self) -> int:
        return len(self.test_ids)

    def outcome_matrix(self) -> npt.NDArray[np.int8]:
        """(systems x tests) outcome codes, MISSING where a system did not answer a test; for pairing."""
        if self._matrix is None:
            m = np.full((len(self.systems), self.n_tests), MISSING, dtype=np.int8)
            m[self.r_system, self.r_test] = self.r_outcome
            self._matrix = m
        return self._matrix

    def systems_of_run(self, run: int) -> list[System]:
        return [s for s in self.systems if s.run == run]


def _dimension_and_category(taxonomy: Taxonomy, risk: str) -> tuple[str, str | None]:
    node = taxonomy.try_resolve(risk)
    if node is None:
        return UNKNOWN_RISK, None
    cat = taxonomy.category_of(node.id)
    return taxonomy.dimension_of(node.id).id, cat.id if cat else None


def _system_labels(
    keys: list[tuple[int, str, str]], run_names: list[str], config_labels: dict[str, str]
) -> list[str]:
    """Short, unique labels: the target, plus the config where a target ran several, plus the run where
    the same target appears in several runs."""
    by_target: dict[str, set[int]] = {}
    configs_of: dict[tuple[int, str], set[str]] = {}
    for run, target, cid in keys:
        by_target.setdefault(target, set()).add(run)
        configs_of.setdefault((run, target), set()).add(cid)
    labels = []
    short = {t: _HASH_SUFFIX.sub("", t) for _, t, _ in keys}
    if len(set(short.values())) < len(short):  # the hashes are what tells two targets apart: keep them
        short = {t: t for t in short}
    for run, target, cid in keys:
        label = short[target]
        if len(configs_of[(run, target)]) > 1:
            label += f" [{config_labels.get(cid, cid)}]"
        if len(by_target[target]) > 1:
            label += f" ({run_names[run]})"
        labels.append(label)
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def load_frame(runs: Sequence[tuple[Path, str | None]], taxonomy: Taxonomy) -> RunFrame:
    """Read runs (directory, critic id to use or None for no verdicts) into one RunFrame."""
    if not runs:
        raise SevalError("no runs to load")
    test_codes = _Codes()
    lang_codes, risk_codes, attack_codes = _Codes(), _Codes(), _Codes([BASE])
    t_lang: list[int] = []
    t_risk: list[int] = []
    t_attack: list[int] = []
    t_benign: list[bool] = []
    parent_of: dict[int, str] = {}
    pair_of: dict[int, str] = {}
    infos: list[RunInfo] = []
    sys_index: dict[tuple[int, str, str], int] = {}
    sys_configs: dict[str, GenerationConfig] = {}
    cols: dict[str, list[Any]] = {
        k: [] for k in ("rowid", "test", "sys", "out", "ref", "score", "lat", "pt", "ct")
    }

    for run_no, (path, critic) in enumerate(runs):
        with RunStore.open_dir(path) as store:
            meta = store.meta()
            counts = store.count_responses()
            n_tests = 0
            for tid, lang, risk, attack, parent, benign, pair in store.db.execute(_TESTS_SQL):
                n_tests += 1
                if tid in test_codes.index:
                    continue
                code = test_codes.code(tid)
                t_lang.append(lang_codes.code(lang))
                t_risk.append(risk_codes.code(risk))
                t_attack.append(attack_codes.code(attack) if attack else 0)
                t_benign.append(bool(benign))
                if parent:
                    parent_of[code] = parent
                if pair:
                    pair_of[code] = pair
            critics_info = store.critics()
            infos.append(
                RunInfo(
                    run_id=str(meta.get("run_id") or Path(path).name),
                    path=str(path),
                    meta=meta,
                    targets=store.targets(),
                    critic=critic,
                    critic_info=critics_info.get(critic or "", {}),
                    critics=store.critic_ids(),
                    tests=n_tests,
                    responses=counts["ok"],
                    errors=counts["error"],
                )
            )
            sys_configs.update(store.configs())
            try:
                cur = store.db.execute(_RESPONSES_SQL, (critic or "",))
                while rows := cur.fetchmany(_CHUNK):
                    rowid, tid_col, target_col, cfg_col, out, ref, score, lat, pt, ct = zip(
                        *rows, strict=True
                    )
                    index = test_codes.index
                    try:
                        cols["test"].append(np.fromiter((index[t] for t in tid_col), np.int32, len(rows)))
                    except KeyError as exc:
                        raise SevalError(
                            f"{path}: a response refers to test {exc} that the store lacks"
                        ) from exc
                    sys_col = np.empty(len(rows), np.int32)
                    for i, key in enumerate(zip(target_col, cfg_col, strict=True)):
                        k = (run_no, key[0], key[1])
                        s = sys_index.get(k)
                        if s is None:
                            s = sys_index[k] = len(sys_index)
                        sys_col[i] = s
                    cols["sys"].append(sys_col)
                    cols["rowid"].append(np.asarray(rowid, np.int64))
                    cols["out"].append(np.asarray(out, np.int8))
                    cols["ref"].append(np.asarray(ref, np.int8))
                    cols["score"].append(np.asarray(score, np.float32))
                    cols["lat"].append(np.asarray(lat, np.float32))
                    cols["pt"].append(np.asarray(pt, np.int32))
                    cols["ct"].append(np.asarray(ct, np.int32))
            except sqlite3.DatabaseError as exc:
                raise SevalError(f"{path}: cannot read the run store ({exc})") from exc

    def cat(name: str, dtype: Any) -> Any:
        return np.concatenate(cols[name]) if cols[name] else np.zeros(0, dtype)

    dims = _Codes()
    cats = _Codes()
    risk_dim = np.empty(len(risk_codes.names), np.int32)
    risk_cat = np.empty(len(risk_codes.names), np.int32)
    for i, risk in enumerate(risk_codes.names):
        d, c = _dimension_and_category(taxonomy, risk)
        risk_dim[i] = dims.code(d)
        risk_cat[i] = cats.code(c) if c else -1
    t_risk_arr = np.asarray(t_risk, np.int32)
    n = len(test_codes.names)
    t_parent = np.full(n, -1, np.int32)
    for code, parent in parent_of.items():
        t_parent[code] = test_codes.index.get(parent, -1)
    t_pair = np.full(n, -1, np.int32)
    for code, pair in pair_of.items():
        t_pair[code] = test_codes.index.get(pair, -1)

    config_labels = {cid: c.label() for cid, c in sys_configs.items()}
    keys = sorted(sys_index, key=sys_index.__getitem__)
    run_names = [i.run_id for i in infos]
    labels = _system_labels(keys, run_names, config_labels)
    systems = [
        System(
            index=i,
            run=run,
            target=target,
            config_id=cid,
            config=sys_configs[cid].model_dump(mode="json") if cid in sys_configs else {},
            config_label=config_labels.get(cid, cid),
            critic=infos[run].critic,
            label=labels[i],
        )
        for i, (run, target, cid) in enumerate(keys)
    ]
    return RunFrame(
        runs=infos,
        systems=systems,
        taxonomy=taxonomy,
        test_ids=test_codes.names,
        langs=lang_codes.names,
        risks=risk_codes.names,
        dims=dims.names,
        cats=cats.names,
        attacks=attack_codes.names,
        t_lang=np.asarray(t_lang, np.int32),
        t_risk=t_risk_arr,
        t_dim=risk_dim[t_risk_arr] if n else np.zeros(0, np.int32),
        t_cat=risk_cat[t_risk_arr] if n else np.zeros(0, np.int32),
        t_attack=np.asarray(t_attack, np.int32),
        t_parent=t_parent,
        t_pair=t_pair,
        t_benign=np.asarray(t_benign, bool),
        r_system=cat("sys", np.int32),
        r_test=cat("test", np.int32),
        r_outcome=cat("out", np.int8),
        r_refusal=cat("ref", np.int8),
        r_score=cat("score", np.float32),
        r_latency=cat("lat", np.float32),
        r_prompt_tokens=cat("pt", np.int32),
        r_completion_tokens=cat("ct", np.int32),
        r_rowid=cat("rowid", np.int64),
    )
