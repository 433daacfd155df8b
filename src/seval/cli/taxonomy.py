"""`seval taxonomy`: show the risk tree a run will use, including the user's override files.

Users need to see the ids they can put in a run file and the names reports will print; `--json` gives
the same nodes to scripts. The main app registers this with `app.command("taxonomy")(taxonomy)`.
"""

# No `from __future__ import annotations` here: Typer reads the parameter annotations at runtime.

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from seval.errors import SevalError
from seval.records import RiskNode
from seval.taxonomy import Taxonomy, load_taxonomy

_LANGS = ("en", "zh", "both")


def _name(node: RiskNode, lang: str) -> str:
    if lang == "zh":
        return node.name_zh
    if lang == "both":
        return f"{node.name_en} / {node.name_zh}"
    return node.name_en


def _render_tree(tax: Taxonomy, lang: str, depth: int | None) -> Tree:
    """A rich tree: dimensions with their counts, then categories and finer risks down to `depth`."""
    dims = tax.dimensions()
    finer = sum(1 for n in tax.nodes if n.level >= 3)
    root = Tree(
        f"[bold]{escape(tax.version)}[/]  {len(dims)} dimensions · {len(tax.categories())} categories · "
        f"{finer} finer risks"
    )

    def add(branch: Tree, node: RiskNode) -> None:
        for child in tax.children(node.id):
            if depth is not None and child.level > depth:
                return
            label = f"{escape(_name(child, lang))}  [dim]{escape(child.id)}[/]"
            add(branch.add(label), child)

    for dim in dims:
        below = tax.descendants(dim.id)
        n_cat = sum(1 for n in below if n.level == 2)
        counts = f"{n_cat} categories, {len(below) - n_cat} finer" if below else "no children"
        codes = [a for a in dim.aliases if len(a) == 2 and a.isupper()]
        code = f"[bold cyan]{escape(codes[0])}[/] " if codes else ""
        branch = root.add(
            f"{code}[bold]{escape(_name(dim, lang))}[/]  [dim]{escape(dim.id)}[/]  [green]({counts})[/]"
        )
        if depth is None or depth > 1:
            add(branch, dim)
    return root


def taxonomy(
    json_out: bool = typer.Option(False, "--json", help="Print a flat JSON list of nodes instead of a tree."),
    file: list[Path] = typer.Option(
        [], "--file", "-f", help="override/extension YAML (repeatable; applied in order)"
    ),
    lang: str = typer.Option("en", "--lang", help="Names to show in the tree: en, zh or both."),
    depth: int | None = typer.Option(None, "--depth", min=1, help="Show levels 1..DEPTH only."),
) -> None:
    """Show the risk taxonomy: S-Eval's 8 dimensions and 25 categories, and finer risks below them."""
    if lang not in _LANGS:
        raise typer.BadParameter(f"must be one of {', '.join(_LANGS)}", param_hint="--lang")
    try:
        tax = load_taxonomy(overrides=file)
    except SevalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc

    nodes = [n for n in tax.nodes if depth is None or n.level <= depth]
    if json_out:
        # Plain print: no rich markup, wrapping or highlighting may leak into machine-readable output.
        print(json.dumps([n.model_dump(mode="json") for n in nodes], ensure_ascii=False, indent=2))
        return
    Console().print(_render_tree(tax, lang, depth))
