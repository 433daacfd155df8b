"""`seval defend serve`: deploy the defense a run evaluated, as an OpenAI-compatible proxy;
`seval defend route`: see what it would do with one prompt."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from seval import defaults
from seval.errors import ConfigError

defend_app = typer.Typer(
    help="Deploy a defense in front of any OpenAI-compatible model, without touching its weights.",
    no_args_is_help=True,
)


@defend_app.callback()
def _group() -> None:
    """Keeps the commands subcommands (`seval defend serve`, `seval defend route`)."""


@defend_app.command("serve")
def serve_command(
    upstream: str = typer.Option(
        ..., "--upstream", help="the upstream's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"
    ),
    mode: str = typer.Option(
        defaults.DEFAULT_DEFENSE_MODE,
        "--mode",
        help="system (principles in the system prompt; streams) | revise (critique and revise) | none",
    ),
    host: str = typer.Option(defaults.PROXY_HOST, "--host", help="address to listen on"),
    port: int = typer.Option(defaults.PROXY_PORT, "--port", help="port to listen on (0 picks a free one)"),
    api_key_env: str | None = typer.Option(
        None,
        "--api-key-env",
        help="environment variable holding the upstream's key; replaces the clients' Authorization "
        "(default: forward the clients' own)",
    ),
    model: str | None = typer.Option(
        None, "--model", help="model name sent upstream in chat calls, whatever the clients ask for"
    ),
    quiet: bool = typer.Option(False, "--quiet", help="no per-request log line on stderr"),
    allow_unguarded: bool = typer.Option(
        False,
        "--allow-unguarded",
        help="also pass through /v1/completions, /v1/responses and other paths the defense does not cover",
    ),
) -> None:
    """Serve /v1/chat/completions (streaming included) with the constitutional defense applied; other
    /v1/* calls pass through. Clients point their OpenAI base URL at http://HOST:PORT/v1."""
    from seval.defense import load_defense
    from seval.defense.proxy import normalise_upstream, serve

    normalise_upstream(upstream)  # a typo in the URL is one clear line, before anything loads
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ConfigError(
                f"environment variable {api_key_env} is not set",
                hint=f"export {api_key_env}=... (the key is read from the environment and never logged)",
            )
    defense = load_defense(f"constitutional:{mode}")
    if api_key and host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"warning: listening on {host} with the upstream key from {api_key_env}: anyone who can reach "
            "this port can use that key",
            err=True,
        )
    serve(
        upstream,
        defense,
        host=host,
        port=port,
        api_key=api_key,
        model=model,
        quiet=quiet,
        allow_unguarded=allow_unguarded,
    )


@defend_app.command("route")
def route_command(
    prompt: str = typer.Argument(..., help="a prompt, as a user would send it"),
    mode: str = typer.Option(defaults.DEFAULT_DEFENSE_MODE, "--mode", help="system | revise | none"),
    constitution: list[Path] | None = typer.Option(
        None, "--constitution", help="YAML file extending/replacing the built-in constitutions"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show what the defense does with one prompt: the routed risks and the system prompt it adds."""
    import orjson
    from rich.console import Console

    from seval.defense.constitution import load_constitutions
    from seval.defense.constitutional import ConstitutionalDefense
    from seval.records import Message

    defense = ConstitutionalDefense(mode)
    if constitution:
        defense = defense.with_library(load_constitutions(constitution))
    route = defense.router.route(prompt)
    prepared = defense.prepare([Message(role="user", content=prompt)])
    system = next((m.content for m in prepared.messages if m.role == "system"), "")
    if json_out:
        payload: dict[str, object] = {"defense": defense.id, "lang": route.lang, "risks": list(route.risks)}
        payload |= {"probs": route.probs, "system_prompt": system}
        print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    top = sorted(route.probs.items(), key=lambda kv: -kv[1])[:4]
    console.print(f"[bold]defense[/bold] {defense.id}  [bold]lang[/bold] {route.lang}", highlight=False)
    console.print(
        f"[bold]routed risks[/bold] {', '.join(route.risks) or 'none (general principles only)'}  "
        f"[dim]({', '.join(f'{k} {v:.2f}' for k, v in top)})[/dim]",
        highlight=False,
    )
    if system:
        console.print("[bold]system prompt added[/bold]:", highlight=False)
        console.print(system, highlight=False, markup=False)
