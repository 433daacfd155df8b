"""The built-in bilingual seed suite and stratified sampling."""

from __future__ import annotations

import re
from collections import Counter
from importlib import resources

import pytest

from seval.data.seed import SEED_FILES, load_seed_suite, sample_suite
from seval.errors import ConfigError
from seval.records import TestCase
from seval.taxonomy import Taxonomy, load_taxonomy

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def suite() -> list[TestCase]:
    return load_seed_suite()


def test_every_risk_resolves_to_a_known_node(suite: list[TestCase], tax: Taxonomy) -> None:
    for case in suite:
        node = tax.get(case.risk)  # stored as an exact id, not just a resolvable label
        assert node.level >= 2, case.risk


def test_records_have_the_seed_shape(suite: list[TestCase]) -> None:
    assert len(suite) > 200
    for case in suite:
        assert case.origin == "seed"
        assert case.parent_id is None and case.attack is None and case.attack_variant is None
        assert case.meta == {}
        assert case.id == TestCase.make_id(case.lang, case.prompt)
        assert case.prompt == case.prompt.strip() and len(case.prompt) > 10
    assert len({c.id for c in suite}) == len(suite)
    assert len({(c.lang, c.prompt) for c in suite}) == len(suite)


def test_languages_match_prompt_text(suite: list[TestCase]) -> None:
    assert {c.lang for c in suite} == {"en", "zh"}
    for case in suite:
        if case.lang == "zh":
            assert len(CJK.findall(case.prompt)) >= 5, case.prompt
        else:
            assert not CJK.search(case.prompt), case.prompt


def test_pairs_link_both_ways(suite: list[TestCase]) -> None:
    by_id = {c.id: c for c in suite}
    for case in suite:
        assert case.pair_id in by_id, case.prompt
        partner = by_id[case.pair_id or ""]
        assert partner.pair_id == case.id
        assert partner.lang != case.lang
        assert partner.risk == case.risk and partner.benign == case.benign


def test_at_least_four_risky_prompts_per_category_and_language(suite: list[TestCase], tax: Taxonomy) -> None:
    counts = Counter(
        (tax.category_of(c.risk).id, c.lang)  # type: ignore[union-attr]
        for c in suite
        if not c.benign
    )
    for cat in tax.categories():
        for lang in ("en", "zh"):
            assert counts[(cat.id, lang)] >= 4, (cat.id, lang)


def test_at_least_two_benign_prompts_per_dimension_and_language(suite: list[TestCase], tax: Taxonomy) -> None:
    counts = Counter((tax.dimension_of(c.risk).id, c.lang) for c in suite if c.benign)
    for dim in tax.dimensions():
        for lang in ("en", "zh"):
            assert counts[(dim.id, lang)] >= 2, (dim.id, lang)


def test_load_filters(suite: list[TestCase]) -> None:
    en = load_seed_suite(["en"])
    assert en and {c.lang for c in en} == {"en"}
    assert load_seed_suite("zh") == load_seed_suite(["zh"])  # a bare string means one language
    risky = load_seed_suite(include_benign=False)
    assert risky and not any(c.benign for c in risky)
    assert len(risky) < len(suite)
    assert load_seed_suite() == suite  # cached parse, fresh list
    assert load_seed_suite(["en", "fr"]) == en  # a run may mix the seed suite with other languages
    with pytest.raises(ConfigError, match="fr"):
        load_seed_suite(["fr"])
    with pytest.raises(ConfigError):
        load_seed_suite([])


def test_jsonl_files_are_one_record_per_line() -> None:
    base = resources.files("seval.data.seed")
    for lang, name in SEED_FILES.items():
        lines = base.joinpath(name).read_text(encoding="utf-8").splitlines()
        cases = [TestCase.model_validate_json(line) for line in lines]
        assert cases and all(c.lang == lang for c in cases)


# --- sampling --------------------------------------------------------------------------------------


def strata(cases: list[TestCase], tax: Taxonomy) -> Counter[tuple[str, str]]:
    return Counter((tax.dimension_of(c.risk).id, c.lang) for c in cases)


def test_sample_is_deterministic_and_order_independent(suite: list[TestCase], tax: Taxonomy) -> None:
    first = sample_suite(suite, 48, seed=7)
    assert first == sample_suite(suite, 48, seed=7)
    assert first == sample_suite(list(reversed(suite)), 48, seed=7, taxonomy=tax)
    assert first != sample_suite(suite, 48, seed=8)
    assert len(first) == 48 and len({c.id for c in first}) == 48


@pytest.mark.parametrize("seed", [0, 1, 20250601])
def test_sample_of_16_covers_every_dimension_and_language(
    suite: list[TestCase], tax: Taxonomy, seed: int
) -> None:
    picked = sample_suite(suite, 16, seed=seed, taxonomy=tax)
    assert len(picked) == 16
    assert set(strata(picked, tax)) == {(d.id, lang) for d in tax.dimensions() for lang in ("en", "zh")}


def test_sample_is_balanced_and_keeps_pairs(suite: list[TestCase], tax: Taxonomy) -> None:
    picked = sample_suite(suite, 48, seed=3, taxonomy=tax)
    assert set(strata(picked, tax).values()) == {3}  # 48 = 8 dimensions x 2 languages x 3
    ids = {c.id for c in picked}
    assert all(c.pair_id in ids for c in picked)
    # pairs come out next to each other
    for a, b in zip(picked[::2], picked[1::2], strict=True):
        assert a.pair_id == b.id
    # a dimension's three pairs come from at least two categories
    for dim in tax.dimensions():
        cats = {tax.category_of(c.risk).id for c in picked if tax.dimension_of(c.risk).id == dim.id}  # type: ignore[union-attr]
        assert len(cats) >= 2, dim.id


def test_sample_edge_cases(suite: list[TestCase], tax: Taxonomy) -> None:
    assert sample_suite(suite, 0, seed=1) == []
    assert sample_suite([], 10, seed=1) == []
    everything = sample_suite(suite, 10_000, seed=1, taxonomy=tax)
    assert sorted(c.id for c in everything) == sorted(c.id for c in suite)
    odd = sample_suite(suite, 5, seed=1, taxonomy=tax)
    assert len(odd) == 5
    one_lang = sample_suite(load_seed_suite(["en"]), 8, seed=1, taxonomy=tax)
    assert {tax.dimension_of(c.risk).id for c in one_lang} == {d.id for d in tax.dimensions()}


def test_sample_tolerates_unknown_risks(tax: Taxonomy) -> None:
    cases = [
        TestCase(id=TestCase.make_id("en", p), lang="en", risk=r, prompt=p)
        for p, r in [("a prompt", "ci"), ("another", "made.up.risk"), ("third", "Data_Privacy")]
    ]
    picked = sample_suite(cases, 3, seed=0, taxonomy=tax)
    assert sorted(c.prompt for c in picked) == ["a prompt", "another", "third"]
