"""`seval data import|fetch`: turn prompt files into a suite file, or download the S-Eval release.

Errors a user can fix are raised as SevalError and printed as one line by the main app.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from seval.defaults import CACHE_DIR, LANGUAGES
from seval.errors import ConfigError

if TYPE_CHECKING:
    from seval.data.importers import ImportResult
    from seval.data.importers._common import TaxonomyLike

data_app = typer.Typer(
    help="Import prompt files (S-Eval release, JSONL, CSV, Parquet) into a test suite, or fetch S-Eval.",
    no_args_is_help=True,
)

# Column order of the summary table; dimensions a custom taxonomy adds come after these.
DIMENSION_ORDER = ("ci", "cs", "dp", "em", "pm", "hs", "ex", "is")


class Dataset(StrEnum):
    s_eval = "s-eval"


class SizeChoice(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"
    full = "full"


def _load_taxonomy(files: list[Path] | None) -> TaxonomyLike:
    from seval.taxonomy import load_taxonomy

    tax: TaxonomyLike = load_taxonomy(overrides=list(files or []))
    return tax


def _dimension(tax: TaxonomyLike, risk: str) -> str:
    """The level-1 ancestor of a risk id, so the summary stays one column per dimension."""
    node = tax.try_resolve(risk)
    seen = 0
    while node is not None and node.parent and seen < 10:
        parent = tax.try_resolve(node.parent)
        if parent is None:
            break
        node, seen = parent, seen + 1
    return node.id if node is not None else risk


def _rank(order: tuple[str, ...], key: str) -> int:
    return order.index(key) if key in order else len(order)


def print_summary(console: Console, result: ImportResult, tax: TaxonomyLike, out: Path | None) -> None:
    """Counts per language x dimension, attacks and links: what to check before spending a run."""
    counts: dict[tuple[str, str], int] = {}
    for (lang, risk), n in result.by_lang_risk.items():
        key = (lang, _dimension(tax, risk))
        counts[key] = counts.get(key, 0) + n
    dims = sorted(
        {d for _, d in counts}, key=lambda d: (DIMENSION_ORDER.index(d) if d in DIMENSION_ORDER else 99, d)
    )
    langs = sorted(
        {lang for lang, _ in counts}, key=lambda x: (LANGUAGES.index(x) if x in LANGUAGES else 99, x)
    )

    if out is not None:
        console.print(f"wrote {len(result.cases)} test cases to {out}", highlight=False, soft_wrap=True)
    table = Table(title="test cases by language and risk dimension", show_footer=True)
    table.add_column("lang", footer="total")
    for d in dims:
        table.add_column(d.upper(), justify="right", footer=str(sum(counts.get((x, d), 0) for x in langs)))
    table.add_column("total", justify="right", footer=str(len(result.cases)))
    for lang in langs:
        row = [str(counts.get((lang, d), 0)) for d in dims]
        table.add_row(lang, *row, str(sum(counts.get((lang, d), 0) for d in dims)))
    console.print(table)

    attack_counts: dict[tuple[str, str], int] = {}
    linked: dict[str, int] = {}
    for c in result.cases:
        if c.attack:
            attack_counts[(c.attack, c.lang)] = attack_counts.get((c.attack, c.lang), 0) + 1
            if c.parent_id:
                linked[c.attack] = linked.get(c.attack, 0) + 1
    if attack_counts:
        attack_langs = sorted({la for _, la in attack_counts}, key=lambda x: (_rank(LANGUAGES, x), x))
        t = Table(title="attack prompts (linked = base prompt found)")
        t.add_column("attack")
        for lang in attack_langs:
            t.add_column(lang, justify="right")
        t.add_column("linked", justify="right")
        for attack in sorted({a for a, _ in attack_counts}):
            t.add_row(
                attack,
                *(str(attack_counts.get((attack, la), 0)) for la in attack_langs),
                str(linked.get(attack, 0)),
            )
        console.print(t)
    console.print(
        f"unmapped risk labels: 0; duplicate ids dropped: {result.duplicates_dropped}; "
        f"empty prompts skipped: {result.empty_skipped}",
        highlight=False,
    )


def _parse_maps(specs: list[str] | None) -> dict[str, str]:
    from seval.data.importers import parse_mapping

    mapping: dict[str, str] = {}
    for spec in specs or []:
        mapping.update(parse_mapping(spec))
    return mapping


def _check_lang(lang: str | None) -> str | None:
    if lang is None:
        return None
    from seval.data.importers import normalize_lang

    code = normalize_lang(lang)
    if code not in LANGUAGES:
        raise ConfigError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return code


@data_app.command("import")
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="S-Eval release files (.jsonl.zip/.jsonl) or .jsonl/.csv/.tsv/.parquet files"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite file to write (JSONL).")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="Columns of tabular files: FIELD=COLUMN[,FIELD=COLUMN], e.g. prompt=question."
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of prompts without one (zh|en); default: detected.")
    ] = None,
    risk: Annotated[
        str | None, typer.Option("--risk", help="Risk (id or name) of rows without a risk column or value.")
    ] = None,
    file_taxonomy: Annotated[
        list[Path] | None,
        typer.Option("--file-taxonomy", help="Taxonomy override YAML (extra risks or aliases); repeatable."),
    ] = None,
) -> None:
    """Import prompt files into one suite file (duplicate ids dropped, first one wins)."""
    from seval.data.importers import import_files
    from seval.data.suite_io import write_suite

    mapping = _parse_maps(map_)
    code = _check_lang(lang)
    tax = _load_taxonomy(file_taxonomy)
    result = import_files(files, mapping=mapping or None, default_lang=code, default_risk=risk, taxonomy=tax)
    write_suite(result.cases, out)
    print_summary(Console(), result, tax, out)


@data_app.command("fetch")
def fetch_cmd(
    dataset: Annotated[Dataset, typer.Argument(help="Dataset to download.")],
    size: Annotated[
        SizeChoice, typer.Option("--size", help="Release size (attack sets exist for small).")
    ] = (SizeChoice.small),
    dest: Annotated[Path, typer.Option("--dest", help="Folder for the downloaded files.")] = CACHE_DIR
    / "s-eval",
    import_to: Annotated[
        Path | None, typer.Option("--import-to", help="Also import the files into this suite file.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if the files are there.")
    ] = False,
) -> None:
    """Download the official S-Eval release files (CC BY-NC-SA 4.0: non-commercial use)."""
    from seval.data.fetch import fetch_s_eval

    console = Console()
    paths = fetch_s_eval(
        size.value, dest, force=force, progress=lambda msg: console.print(msg, highlight=False)
    )
    for p in paths:
        console.print(f"  {p}", highlight=False)
    console.print("S-Eval is licensed CC BY-NC-SA 4.0: non-commercial use, share alike, credit the authors.")
    if import_to is not None:
        from seval.data.importers import import_files
        from seval.data.suite_io import write_suite

        tax = _load_taxonomy(None)
        result = import_files(paths, taxonomy=tax)
        write_suite(result.cases, import_to)
        print_summary(console, result, tax, import_to)
