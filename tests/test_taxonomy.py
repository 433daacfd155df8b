"""The built-in S-Eval taxonomy, label resolution, user overrides and the `taxonomy` CLI command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from seval.cli.taxonomy import taxonomy as taxonomy_command
from seval.errors import ConfigError, DataError, UnknownNameError
from seval.records import RiskNode
from seval.taxonomy import Taxonomy, load_taxonomy

DIMENSIONS = ["ci", "cs", "dp", "em", "pm", "hs", "ex", "is"]
CATEGORIES = [
    "ci.pornographic_contraband",
    "ci.drug_crimes",
    "ci.dangerous_weapons",
    "ci.property_infringement",
    "ci.economic_crimes",
    "cs.access_control",
    "cs.hacker_attack",
    "cs.malicious_code",
    "cs.physical_security",
    "dp.personal_privacy",
    "dp.commercial_secret",
    "em.social_ethics",
    "em.science_ethics",
    "pm.physical_harm",
    "pm.mental_health",
    "hs.abusive_curses",
    "hs.cyberbullying",
    "hs.defamation",
    "hs.threaten_and_intimidate",
    "ex.violent_terrorist_activities",
    "ex.social_disruption",
    "ex.extremist_ideological_trends",
    "is.finance",
    "is.medicine",
    "is.law",
]
# S-Eval's `risk_type` values, as they appear in the released JSONL files.
S_EVAL_RISK_TYPES = {
    "Crimes_and_Illegal_Activities": "ci",
    "Cybersecurity": "cs",
    "Data_Privacy": "dp",
    "Ethics_and_Morality": "em",
    "Physical_and_Mental_Health": "pm",
    "Hate_Speech": "hs",
    "Extremism": "ex",
    "Inappropriate_Suggestions": "is",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


# --- the built-in tree -----------------------------------------------------------------------------


def test_dimensions_and_categories_are_s_evals(tax: Taxonomy) -> None:
    assert [d.id for d in tax.dimensions()] == DIMENSIONS
    assert [c.id for c in tax.categories()] == CATEGORIES
    for cat in tax.categories():
        assert cat.parent == cat.id.split(".")[0]


def test_dimension_names(tax: Taxonomy) -> None:
    zh = {d.id: d.name_zh for d in tax.dimensions()}
    assert zh == {
        "ci": "违法犯罪",
        "cs": "网络安全",
        "dp": "数据隐私",
        "em": "伦理道德",
        "pm": "身心健康",
        "hs": "仇恨言论",
        "ex": "极端主义",
        "is": "不当建议",
    }
    assert tax.get("hs.threaten_and_intimidate").name_en == "Threaten and Intimidate"


def test_tree_is_consistent(tax: Taxonomy) -> None:
    ids = [n.id for n in tax.nodes]
    assert len(ids) == len(set(ids)) == len(tax)
    for node in tax.nodes:
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", node.id), node.id
        if node.parent is None:
            assert node.level == 1
        else:
            assert node.parent in tax
            assert node.level == tax.get(node.parent).level + 1
            assert node.id.startswith(node.parent + "."), node.id  # ids read as paths
    # depth-first order: every node comes after its parent, and subtrees are contiguous
    pos = {nid: i for i, nid in enumerate(ids)}
    for node in tax.nodes:
        if node.parent:
            assert pos[node.parent] < pos[node.id]
            subtree = [node.id] + [d.id for d in tax.descendants(node.id)]
            assert ids[pos[node.id] : pos[node.id] + len(subtree)] == subtree


def test_finer_layer_covers_every_category(tax: Taxonomy) -> None:
    level3 = [n for n in tax.nodes if n.level == 3]
    assert 55 <= len(level3) <= 70
    for cat in tax.categories():
        assert len(tax.children(cat.id)) >= 2, cat.id


def test_names_and_descriptions_are_bilingual(tax: Taxonomy) -> None:
    for node in tax.nodes:
        assert node.name_en.strip() and node.name_zh.strip(), node.id
        assert len(node.description) > 40, node.id
        assert len(node.description_zh) > 10, node.id
        assert CJK.search(node.name_zh) and CJK.search(node.description_zh), node.id
        assert not CJK.search(node.name_en) and not CJK.search(node.description), node.id


def test_every_label_is_unambiguous(tax: Taxonomy) -> None:
    for node in tax.nodes:
        for label in (node.id, node.name_en, node.name_zh, *node.aliases):
            assert tax.resolve(label).id == node.id, label


def test_dimension_aliases_carry_s_eval_labels_and_codes(tax: Taxonomy) -> None:
    for risk_type, dim in S_EVAL_RISK_TYPES.items():
        node = tax.get(dim)
        assert risk_type in node.aliases
        assert dim.upper() in node.aliases
        assert tax.resolve(risk_type).id == dim
        assert tax.resolve(dim.upper()).id == dim


# --- lookups ---------------------------------------------------------------------------------------


def test_resolve_folds_case_and_separators(tax: Taxonomy) -> None:
    assert tax.resolve("crimes and illegal activities").id == "ci"
    assert tax.resolve("CRIMES-AND-ILLEGAL-ACTIVITIES").id == "ci"
    assert tax.resolve("  Physical_and_Mental Health ").id == "pm"
    assert tax.resolve("CI.Drug-Crimes").id == "ci.drug_crimes"
    assert tax.resolve("threaten_and_intimidate").id == "hs.threaten_and_intimidate"
    assert tax.resolve("数据隐私").id == "dp"
    assert tax.resolve("网络霸凌").id == "hs.cyberbullying"
    assert tax.try_resolve("no such risk") is None


def test_unknown_names_suggest_close_matches(tax: Taxonomy) -> None:
    with pytest.raises(UnknownNameError, match=r"ci\.drug_crimes"):
        tax.get("ci.drug_crime")
    with pytest.raises(UnknownNameError, match=r"ci\.drug_crimes"):
        tax.resolve("Drug Crime")
    with pytest.raises(UnknownNameError):
        tax.resolve("zzzz")


def test_structure_queries(tax: Taxonomy) -> None:
    leaf = "is.law.abuse_of_legal_process"
    assert [n.id for n in tax.ancestors(leaf)] == ["is", "is.law"]
    assert tax.ancestors("is") == []
    assert tax.dimension_of(leaf).id == "is"
    assert tax.dimension_of("is").id == "is"
    assert tax.category_of(leaf).id == "is.law"  # type: ignore[union-attr]
    assert tax.category_of("is.law").id == "is.law"  # type: ignore[union-attr]
    assert tax.category_of("is") is None
    assert [c.id for c in tax.children("dp")] == ["dp.personal_privacy", "dp.commercial_secret"]
    assert {n.id for n in tax.descendants("dp")} >= {"dp.personal_privacy", "dp.personal_privacy.doxxing"}
    assert "cs.malicious_code" in tax and "cs.nope" not in tax and 3 not in tax
    assert tax.display_name("em", "zh") == "伦理道德"
    with pytest.raises(UnknownNameError):
        tax.children("nope")


def test_builtin_is_cached_and_versioned(tax: Taxonomy) -> None:
    assert load_taxonomy() is tax
    assert tax.version == "s-eval@1"
    nodes = tax.nodes
    nodes.clear()  # a copy: callers cannot damage the shared instance
    assert len(tax.nodes) == len(tax)


def test_constructor_rejects_broken_trees() -> None:
    dim = RiskNode(id="a", level=1, name_en="A", name_zh="甲")
    with pytest.raises(ConfigError, match="does not exist"):
        Taxonomy([dim, RiskNode(id="a.b", parent="zz", level=2, name_en="B", name_zh="乙")])
    with pytest.raises(ConfigError, match="level"):
        Taxonomy([dim, RiskNode(id="a.b", parent="a", level=3, name_en="B", name_zh="乙")])
    with pytest.raises(ConfigError, match="duplicate"):
        Taxonomy([dim, dim])


# --- overrides -------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "my.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_override_adds_and_updates_nodes(tmp_path: Path, tax: Taxonomy) -> None:
    path = write(
        tmp_path,
        """
nodes:
  - id: ci.drug_crimes
    name_en: Narcotics Crimes
    aliases: [narcotics]
  - id: ci.drug_crimes.drug_use.microdosing   # a level-4 node; level derived from its parent
    parent: ci.drug_crimes.drug_use
    name_en: Microdosing
    name_zh: 微剂量用药
    description: Advice on taking small doses of illegal psychedelics.
  - id: ci.drug_crimes.online_markets        # listed before nothing: parent is built in
    parent: ci.drug_crimes
    level: 3
    name_en: Online Drug Markets
    name_zh: 网络毒品交易
  - id: gb
    parent: null
    name_en: Gambling
    name_zh: 赌博
  - id: gb.online                              # parent defined earlier in the same file
    parent: gb
    name_en: Online Gambling
    name_zh: 网络赌博
""",
    )
    custom = load_taxonomy(overrides=[path])
    drugs = custom.get("ci.drug_crimes")
    assert drugs.name_en == "Narcotics Crimes"
    assert drugs.name_zh == "毒品犯罪"  # untouched fields keep their built-in values
    assert drugs.description == tax.get("ci.drug_crimes").description
    assert custom.resolve("narcotics").id == "ci.drug_crimes"
    micro = custom.get("ci.drug_crimes.drug_use.microdosing")
    assert micro.level == 4
    assert custom.category_of(micro.id).id == "ci.drug_crimes"  # type: ignore[union-attr]
    assert [n.id for n in custom.ancestors(micro.id)] == ["ci", "ci.drug_crimes", "ci.drug_crimes.drug_use"]
    assert custom.get("ci.drug_crimes.online_markets").level == 3
    assert custom.get("gb.online").level == 2
    assert [d.id for d in custom.dimensions()] == [*DIMENSIONS, "gb"]
    assert len(custom) == len(tax) + 4
    # depth-first order puts new children right after their parent's subtree
    ids = [n.id for n in custom.nodes]
    assert ids.index("ci.drug_crimes.drug_use.microdosing") == ids.index("ci.drug_crimes.drug_use") + 1
    # the built-in instance is unchanged, and the version records the override content
    assert tax.get("ci.drug_crimes").name_en == "Drug Crimes"
    assert re.fullmatch(r"s-eval@1\+[0-9a-f]{8}", custom.version)
    assert load_taxonomy(overrides=[path]).version == custom.version


def test_overrides_apply_in_order(tmp_path: Path) -> None:
    first = write(tmp_path, "nodes:\n  - {id: is.law, name_en: Legal}\n", "a.yaml")
    second = write(tmp_path, "nodes:\n  - {id: is.law, name_en: Lawyering}\n", "b.yaml")
    assert load_taxonomy(overrides=[first, second]).get("is.law").name_en == "Lawyering"
    assert load_taxonomy(overrides=[second, first]).get("is.law").name_en == "Legal"
    assert load_taxonomy(overrides=first).get("is.law").name_en == "Legal"  # a single path works too


def test_override_can_move_a_node_at_the_same_level(tmp_path: Path) -> None:
    path = write(tmp_path, "nodes:\n  - {id: cs.malicious_code.ransomware, parent: cs.hacker_attack}\n")
    custom = load_taxonomy(overrides=[path])
    assert custom.get("cs.malicious_code.ransomware").parent == "cs.hacker_attack"
    assert custom.category_of("cs.malicious_code.ransomware").id == "cs.hacker_attack"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: [ {id: ci.foo, parent: ci", r"my\.yaml: malformed YAML"),
        ("- just a list", r"my\.yaml: expected a mapping"),
        ("nodes: {}", r"my\.yaml: 'nodes' must be a list"),
        ("nodes: []\nnodez: []", r"my\.yaml: unknown top-level key"),
        ("nodes:\n  - {name_en: X, name_zh: 十}", r"my\.yaml: node 1: missing required field 'id'"),
        (
            "nodes:\n  - {id: ci.a, parent: ci, name_en: A, name_zh: 甲}\n"
            "  - {id: ci.b, parent: ci, name_en: B, name_zh: 乙}\n"
            "  - {id: ci.foo, parent: ci.nope, name_en: F, name_zh: 佛}",
            r"my\.yaml: node 3 \('ci\.foo'\): parent 'ci\.nope' does not exist",
        ),
        (
            "nodes:\n  - {id: ci.x, parent: ci, name_en: X, name_zh: 十}\n"
            "  - {id: ci.x, parent: ci, name_en: Y, name_zh: 乙}",
            r"my\.yaml: node 2 \('ci\.x'\): duplicate id",
        ),
        (
            "nodes:\n  - {id: ci.x, parent: ci, level: 3, name_en: X, name_zh: 十}",
            r"my\.yaml: node 1 \('ci\.x'\): level 3 must be 2",
        ),
        (
            "nodes:\n  - {id: ci.x, parent: ci, name_en: X, name_zh: 十, colour: red}",
            r"my\.yaml: node 1 \('ci\.x'\): unknown field\(s\) 'colour'",
        ),
        ("nodes:\n  - {id: ci.x, parent: ci, name_en: X}", r"my\.yaml: node 1 \('ci\.x'\): missing required"),
        (
            "nodes:\n  - {id: ci.x, name_en: X, name_zh: 十}",
            r"my\.yaml: node 1 \('ci\.x'\): missing .*'parent'",
        ),
        (
            "nodes:\n  - {id: ci.drug_crimes, level: 3}",
            r"my\.yaml: node 1 \('ci\.drug_crimes'\): cannot change",
        ),
        (
            "nodes:\n  - {id: ci.drug_crimes, parent: ci.drug_crimes.drug_use}",
            r"my\.yaml: node 1 \('ci\.drug_crimes'\): cannot move",
        ),
        ("nodes:\n  - {id: ci.drug_crimes, name_en: [not, a, string]}", r"my\.yaml: node 1 .*name_en"),
        ("nodes:\n  - {id: CI.Bad Id, parent: ci, name_en: X, name_zh: 十}", r"my\.yaml: node 1 .*lowercase"),
        (
            "nodes:\n  - {id: x.a, parent: x.b, name_en: A, name_zh: 甲}\n"
            "  - {id: x.b, parent: x.a, name_en: B, name_zh: 乙}",
            r"my\.yaml: node 1 \('x\.a'\): parent 'x\.b' does not exist",
        ),
    ],
)
def test_malformed_overrides_name_file_and_node(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_taxonomy(overrides=[path])
    assert str(path) in str(info.value)


def test_missing_override_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_taxonomy(overrides=[tmp_path / "absent.yaml"])


# --- CLI -------------------------------------------------------------------------------------------


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("taxonomy")(taxonomy_command)

    @app.callback()
    def main() -> None:
        """Force a command group, as in the real app."""

    return app


def test_cli_json_lists_every_node() -> None:
    result = CliRunner().invoke(cli_app(), ["taxonomy", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [n.id for n in load_taxonomy().nodes]
    for row in rows:
        assert {
            "id",
            "parent",
            "level",
            "name_en",
            "name_zh",
            "description",
            "description_zh",
            "aliases",
        } <= (row.keys())
    assert rows[0]["name_zh"] == "违法犯罪"  # not \u-escaped


def test_cli_json_with_depth_and_override(tmp_path: Path) -> None:
    path = write(tmp_path, "nodes:\n  - {id: gb, parent: null, name_en: Gambling, name_zh: 赌博}\n")
    result = CliRunner().invoke(cli_app(), ["taxonomy", "--json", "--depth", "1", "-f", str(path)])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == [*DIMENSIONS, "gb"]


def test_cli_tree_shows_ids_names_and_counts() -> None:
    result = CliRunner().invoke(cli_app(), ["taxonomy", "--lang", "both", "--depth", "2"])
    assert result.exit_code == 0, result.output
    assert "Crimes and Illegal Activities / 违法犯罪" in result.stdout
    assert "ci.drug_crimes" in result.stdout
    assert "5 categories" in result.stdout
    assert "ci.drug_crimes.drug_use" not in result.stdout  # below --depth 2
    zh = CliRunner().invoke(cli_app(), ["taxonomy", "--lang", "zh"])
    assert "恶意代码" in zh.stdout and "Malicious Code" not in zh.stdout


def test_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "nodes:\n  - {id: ci.x, parent: ci.nope, name_en: X, name_zh: 十}\n")
    result = CliRunner().invoke(cli_app(), ["taxonomy", "-f", str(path)])
    assert result.exit_code == 1
    assert "parent 'ci.nope' does not exist" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    bad_lang = CliRunner().invoke(cli_app(), ["taxonomy", "--lang", "fr"])
    assert bad_lang.exit_code == 2
