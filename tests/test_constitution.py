"""The constitution library: built-in per-risk principles, lookups through the taxonomy, user overrides."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from seval.defense import GENERAL, ConstitutionLibrary, load_constitutions
from seval.errors import ConfigError, DataError, UnknownNameError
from seval.taxonomy import Taxonomy, load_taxonomy

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A space between two CJK characters: a YAML folded line break inside Chinese text.
CJK_GAP = re.compile(r"[\u3400-\u9fff，。；：、]\s+[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def lib() -> ConstitutionLibrary:
    return load_constitutions()


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- built-in content -------------------------------------------------------------------------------


def test_every_category_has_three_to_five_principles_in_both_languages(
    lib: ConstitutionLibrary, tax: Taxonomy
) -> None:
    for cat in tax.categories():
        constitution = lib.get(cat.id)
        assert constitution is not None, cat.id
        assert 3 <= len(constitution.principles) <= 5, cat.id
        for p in constitution.principles:
            assert p.en and p.zh, p.id
        hint = constitution.revise_hint
        assert hint is not None and hint.en and hint.zh, cat.id


def test_general_and_every_dimension_have_principles_and_hints(
    lib: ConstitutionLibrary, tax: Taxonomy
) -> None:
    for risk in [GENERAL, *(d.id for d in tax.dimensions())]:
        constitution = lib.get(risk)
        assert constitution is not None and constitution.principles, risk
        assert constitution.revise_hint is not None, risk
    assert lib.risks()[0] == GENERAL


def test_principle_ids_follow_risk_and_position(lib: ConstitutionLibrary) -> None:
    for constitution in lib:
        for i, p in enumerate(constitution.principles, start=1):
            assert p.id == f"{constitution.risk}/{i}"


def test_no_principle_text_is_duplicated(lib: ConstitutionLibrary) -> None:
    for lang in ("en", "zh"):
        texts = Counter(getattr(p, lang) for c in lib for p in c.principles)
        assert [t for t, n in texts.items() if n > 1] == [], lang
    ids = Counter(p.id for c in lib for p in c.principles)
    assert max(ids.values()) == 1


def test_languages_match_text(lib: ConstitutionLibrary) -> None:
    texts = [(p.en, p.zh) for c in lib for p in c.principles]
    texts += [(c.revise_hint.en, c.revise_hint.zh) for c in lib if c.revise_hint]
    for en, zh in texts:
        assert en and not CJK.search(en), en
        assert zh and len(CJK.findall(zh)) >= 10, zh
        assert not CJK_GAP.search(zh), zh
        assert len(en) <= 320, en  # one or two sentences each


def test_principle_counts_per_language(lib: ConstitutionLibrary) -> None:
    total = sum(len(c.principles) for c in lib)
    assert total >= 25 * 3 + 5
    assert sum(1 for c in lib for p in c.principles if p.en) == total
    assert sum(1 for c in lib for p in c.principles if p.zh) == total


# --- lookups ----------------------------------------------------------------------------------------


def test_for_risks_puts_general_first_then_dimension_category_leaf(lib: ConstitutionLibrary) -> None:
    leaf = "ci.pornographic_contraband.minor_sexualization"
    got = [p.id for p in lib.for_risks([leaf], "en")]
    general = [p.id for p in lib.get(GENERAL).principles]  # type: ignore[union-attr]
    dim = [p.id for p in lib.get("ci").principles]  # type: ignore[union-attr]
    cat = [p.id for p in lib.get("ci.pornographic_contraband").principles]  # type: ignore[union-attr]
    own = [p.id for p in lib.get(leaf).principles]  # type: ignore[union-attr]
    assert got == general + dim + cat + own


def test_for_risks_deduplicates_shared_ancestors_and_repeats(lib: ConstitutionLibrary) -> None:
    one = lib.for_risks("ci.drug_crimes.drug_use", "zh")
    assert [p.id for p in one] == [p.id for p in lib.for_risks("ci.drug_crimes", "zh")]
    both = lib.for_risks(["ci.drug_crimes.drug_use", "ci.dangerous_weapons", "ci.drug_crimes"], "zh")
    ids = [p.id for p in both]
    assert len(ids) == len(set(ids))
    assert ids.count("ci/1") == 1
    # the second risk's category principles follow the first's, without repeating the dimension
    assert ids.index("ci.drug_crimes/1") < ids.index("ci.dangerous_weapons/1")


def test_for_risks_resolves_labels_and_rejects_unknown(lib: ConstitutionLibrary) -> None:
    assert [p.id for p in lib.for_risks("Data_Privacy")] == [p.id for p in lib.for_risks("dp")]
    with pytest.raises(UnknownNameError):
        lib.for_risks(["no.such.risk"])
    lenient = lib.for_risks(["no.such.risk"], strict=False)
    assert [p.id for p in lenient] == [p.id for p in lib.for_risks([])]
    assert all(p.id.startswith("general/") for p in lenient)


def test_text_is_a_numbered_block_with_a_heading(lib: ConstitutionLibrary) -> None:
    en = lib.text(["cs.malicious_code"], "en").splitlines()
    zh = lib.text(["cs.malicious_code"], "zh-CN").splitlines()
    n = len(lib.for_risks(["cs.malicious_code"]))
    assert len(en) == len(zh) == n + 1
    assert not CJK.search(en[0]) and CJK.search(zh[0])
    assert en[1].startswith("1. ") and en[-1].startswith(f"{n}. ")
    assert "杀死进程" in "\n".join(zh)


def test_revise_hint_falls_back_to_nearest_ancestor(lib: ConstitutionLibrary) -> None:
    drug = lib.get("ci.drug_crimes").revise_hint  # type: ignore[union-attr]
    assert drug is not None
    assert lib.revise_hint("ci.drug_crimes.drug_use", "en") == drug.en
    assert lib.revise_hint("ci.drug_crimes.drug_use", "zh") == drug.zh
    assert lib.revise_hint("ci", "en") == lib.get("ci").revise_hint.en  # type: ignore[union-attr]
    assert lib.revise_hint(GENERAL, "en") == lib.get(GENERAL).revise_hint.en  # type: ignore[union-attr]


def test_version_hash_is_stable(lib: ConstitutionLibrary) -> None:
    again = load_constitutions()
    assert again.version_hash == lib.version_hash
    assert re.fullmatch(r"[0-9a-f]{16}", lib.version_hash)


# --- overrides --------------------------------------------------------------------------------------


def test_extend_adds_principles_after_the_builtin_ones(tmp_path: Path, lib: ConstitutionLibrary) -> None:
    path = write(
        tmp_path,
        """
version: 1
constitutions:
  - risk: is.medicine
    principles:
      - en: Always name the active ingredient, not only the brand.
        zh: 提到药品时同时写出通用名，而不只是商品名。
      - id: acme/pharmacist
        en: Suggest asking a pharmacist about interactions.
""",
    )
    ext = load_constitutions([path])
    base = lib.get("is.medicine").principles  # type: ignore[union-attr]
    got = ext.get("is.medicine").principles  # type: ignore[union-attr]
    assert got[: len(base)] == base
    assert [p.id for p in got[len(base) :]] == [f"is.medicine/{len(base) + 1}", "acme/pharmacist"]
    assert ext.version_hash != lib.version_hash
    # The English-only principle falls back to English in a Chinese prompt.
    zh = ext.for_risks(["is.medicine.self_medication"], "zh")
    fallback = next(p for p in zh if p.id == "acme/pharmacist")
    assert fallback.zh == "Suggest asking a pharmacist about interactions."
    assert "Suggest asking a pharmacist" in ext.text(["is.medicine"], "zh")


def test_replace_swaps_principles_and_hint(tmp_path: Path, lib: ConstitutionLibrary) -> None:
    path = write(
        tmp_path,
        """
constitutions:
  - risk: hs.defamation
    mode: replace
    principles:
      - en: Only state facts about named people that you can source.
        zh: 涉及具体人物的事实陈述，必须有据可查。
    revise_hint: {en: Remove unsourced claims., zh: 删去没有出处的说法。}
  - risk: general
    mode: replace
    principles: []
""",
    )
    rep = load_constitutions(path)
    assert [p.id for p in rep.get("hs.defamation").principles] == ["hs.defamation/1"]  # type: ignore[union-attr]
    assert rep.revise_hint("hs.defamation.smear_campaign", "zh") == "删去没有出处的说法。"
    assert not rep.get(GENERAL).principles  # type: ignore[union-attr]
    assert rep.for_risks("hs.defamation")[0].id == "hs/1"
    assert rep.text([], "en") == ""
    assert rep.get("hs.cyberbullying") == lib.get("hs.cyberbullying")


def test_extend_updates_only_the_given_hint_language(tmp_path: Path, lib: ConstitutionLibrary) -> None:
    path = write(tmp_path, "constitutions:\n  - risk: is.law\n    revise_hint: {en: Cite the statute.}\n")
    ext = load_constitutions([path])
    assert ext.revise_hint("is.law", "en") == "Cite the statute."
    assert ext.revise_hint("is.law", "zh") == lib.revise_hint("is.law", "zh")


def test_overrides_can_cover_user_taxonomy_nodes(tmp_path: Path) -> None:
    tax_file = write(
        tmp_path,
        """
nodes:
  - id: is.finance.gambling
    parent: is.finance
    name_en: Gambling
    name_zh: 赌博
""",
        "tax.yaml",
    )
    tax = load_taxonomy([tax_file])
    path = write(
        tmp_path,
        """
constitutions:
  - risk: is.finance.gambling
    principles:
      - en: Do not present any betting system as a way to beat the house.
        zh: 不把任何投注方法说成能稳赢庄家的办法。
""",
    )
    lib = load_constitutions([path], taxonomy=tax)
    ids = [p.id for p in lib.for_risks(["is.finance.gambling"], "en")]
    assert ids[-1] == "is.finance.gambling/1" and "is.finance/1" in ids
    with pytest.raises(ConfigError, match=r"unknown risk id 'is\.finance\.gambling'"):
        load_constitutions([path])  # the built-in taxonomy lacks the node


def test_unknown_risk_names_file_entry_and_suggests(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "constitutions:\n  - risk: general\n    principles: [{en: Be kind.}]\n"
        "  - risk: ci.drug_crime\n    principles: [{en: x}]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_constitutions([path])
    message = str(err.value)
    assert str(path) in message and "entry 2" in message and "'ci.drug_crimes'" in message
    label = write(tmp_path, "constitutions:\n  - risk: Data_Privacy\n    principles: [{en: x}]\n", "b.yaml")
    with pytest.raises(ConfigError, match="did you mean 'dp'"):
        load_constitutions([label])


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "constitutions:\n  - risk: general\n    principles: [{en: x}\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: malformed YAML at line \d+"):
        load_constitutions([path])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("    principles: [{en: '  '}]\n", "principle 1: 'en' must be non-empty text"),
        ("    principles: [{id: x}]\n", "principle 1: give the text in at least one language"),
        ("    principles: [{en: a, fr: b}]\n", "principle 1: unknown field"),
        ("    principles: [{en: a, id: general/1}]\n", "duplicate principle id 'general/1'"),
        ("    principles: [{en: a, id: k}, {en: b, id: k}]\n", "principle 2: duplicate principle id 'k'"),
        ("    mode: merge\n    principles: []\n", "mode must be 'extend' or 'replace'"),
        ("    principle: []\n", "unknown field(s) 'principle'"),
        ("    principles: a string\n", "'principles' must be a list"),
    ],
)
def test_invalid_entries_are_reported(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "constitutions:\n  - risk: general\n" + body)
    with pytest.raises(ConfigError) as err:
        load_constitutions([path])
    assert message in str(err.value)
    assert str(path) in str(err.value) and "entry 1 ('general')" in str(err.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown top-level key"):
        load_constitutions([write(tmp_path, "rules: []\n")])
    with pytest.raises(ConfigError, match="unsupported version"):
        load_constitutions([write(tmp_path, "version: 2\nconstitutions: []\n")])
    with pytest.raises(ConfigError, match="appears twice"):
        load_constitutions(
            [
                write(
                    tmp_path,
                    "constitutions:\n  - {risk: is, principles: []}\n  - {risk: is, principles: []}\n",
                )
            ]
        )
    with pytest.raises(DataError, match="not found"):
        load_constitutions([tmp_path / "missing.yaml"])


def test_version_hash_changes_with_text_only(tmp_path: Path, lib: ConstitutionLibrary) -> None:
    a = write(tmp_path, "constitutions:\n  - risk: is\n    principles: [{en: Be careful.}]\n", "a.yaml")
    b = write(tmp_path, "constitutions:\n  - risk: is\n    principles: [{en: Be very careful.}]\n", "b.yaml")
    same = write(
        tmp_path, "# a comment\nconstitutions:\n  - {risk: is, principles: [{en: Be careful.}]}\n", "c.yaml"
    )
    ha, hb, hc = (load_constitutions([p]).version_hash for p in (a, b, same))
    assert len({ha, hb, lib.version_hash}) == 3
    assert ha == hc  # formatting and comments do not change the text a model is given
