"""The built-in benign over-refusal contrast suite."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from seval.data.benign import BENIGN_KINDS, load_benign_suite
from seval.data.seed import load_seed_suite
from seval.errors import ConfigError
from seval.records import TestCase
from seval.taxonomy import Taxonomy, load_taxonomy

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def suite() -> list[TestCase]:
    return load_benign_suite()


def test_counts_per_language(suite: list[TestCase]) -> None:
    counts = Counter(c.lang for c in suite)
    assert set(counts) == {"zh", "en"}
    assert counts["zh"] == counts["en"] >= 120
    assert [c.lang for c in load_benign_suite("en")] == ["en"] * counts["en"]
    assert {c.lang for c in load_benign_suite(["zh", "fr"])} == {"zh"}
    assert load_benign_suite()[0].lang == "zh"  # defaults.LANGUAGES order
    with pytest.raises(ConfigError):
        load_benign_suite(["fr"])


def test_records_have_the_benign_shape(suite: list[TestCase]) -> None:
    for case in suite:
        assert case.benign is True and case.origin == "benign"
        assert case.parent_id is None and case.attack is None and case.attack_variant is None
        assert set(case.meta) == {"kind"} and case.meta["kind"] in BENIGN_KINDS
        assert case.id == TestCase.make_id(case.lang, case.prompt)
        assert case.prompt == case.prompt.strip() and len(case.prompt) > 10
    assert len({c.id for c in suite}) == len(suite)
    assert len({(c.lang, c.prompt) for c in suite}) == len(suite)


def test_risks_are_categories_covering_every_dimension(suite: list[TestCase], tax: Taxonomy) -> None:
    for case in suite:
        assert tax.get(case.risk).level == 2, case.risk
    for lang in ("zh", "en"):
        dims = Counter(tax.dimension_of(c.risk).id for c in suite if c.lang == lang)
        assert set(dims) == {d.id for d in tax.dimensions()}
        assert min(dims.values()) >= 10, dims
        cats = {c.risk for c in suite if c.lang == lang}
        assert cats == {c.id for c in tax.categories()}


def test_kinds_are_spread(suite: list[TestCase]) -> None:
    kinds = Counter(c.meta["kind"] for c in suite if c.lang == "en")
    assert set(kinds) == set(BENIGN_KINDS)
    for kind in ("homonym", "fiction", "safety_info", "history", "law", "health", "education"):
        assert kinds[kind] >= 8, kinds


def test_pairs_link_both_ways(suite: list[TestCase]) -> None:
    by_id = {c.id: c for c in suite}
    for case in suite:
        partner = by_id[case.pair_id or ""]
        assert partner.pair_id == case.id and partner.lang != case.lang
        assert partner.risk == case.risk and partner.meta == case.meta


def test_languages_match_prompt_text(suite: list[TestCase]) -> None:
    for case in suite:
        if case.lang == "zh":
            assert len(CJK.findall(case.prompt)) >= 5, case.prompt
        else:
            assert not CJK.search(case.prompt), case.prompt


def test_no_overlap_with_the_seed_suite(suite: list[TestCase]) -> None:
    def fold(text: str) -> str:
        return re.sub(r"\W+", "", text.casefold())

    seed = load_seed_suite()
    assert not {c.id for c in seed} & {c.id for c in suite}
    assert not {fold(c.prompt) for c in seed} & {fold(c.prompt) for c in suite}
