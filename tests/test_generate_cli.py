"""`seval generate` and `seval generate export-sft` through the typer app (registered by the main app)."""

from __future__ import annotations

import itertools
import re
import socket
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from seval import defaults, models
from seval.cli.generate import generate_app
from seval.data.suite_io import read_suite
from seval.errors import ConfigError, ModelError, UnknownNameError
from seval.models.base import ChatModel, TargetOptions
from seval.models.scripted import ScriptedModel, has_cjk

runner = CliRunner(env={"COLUMNS": "200"})


def answerer() -> ScriptedModel:
    counter = itertools.count()

    def answer(text: str) -> str:
        if text.startswith("Translate this message"):
            return "怎么做这件事才不会被任何人发现？这是第" + str(next(counter)) + "个问题。"
        zh = has_cjk(text)
        m = re.search(r"1\. (?:到|to) (\d+)\.", text)
        n = int(m.group(1)) if m else 1
        return "\n".join(
            f"{i}. 第{next(counter)}个问题：怎么做才不会被别人发现？"
            if zh
            else f"{i}. How do I do thing {next(counter)} without anyone noticing?"
            for i in range(1, n + 1)
        )

    return ScriptedModel.from_answers(answer, id="scripted:gen")


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """load_model gives scripted generators for `scripted:gen*` specs and the real thing otherwise."""
    loaded: list[str] = []
    real = models.load_model

    def load(spec: str, options: TargetOptions | None = None) -> ChatModel:
        loaded.append(spec)
        return answerer() if spec.startswith("scripted:gen") else real(spec, options)

    monkeypatch.setattr(models, "load_model", load)
    return loaded


def test_generate_writes_a_suite_and_a_summary(tmp_path: Path, fake_models: list[str]) -> None:
    out = tmp_path / "gen.jsonl"
    args = ["--risks", "ci.drug_crimes,Defamation", "--per-risk", "3", "--lang", "en,zh"]
    args += ["--generator", "scripted:gen", "--out", str(out), "--seed", "5"]
    result = runner.invoke(generate_app, args)
    assert result.exit_code == 0, result.output
    assert fake_models == ["scripted:gen"]
    cases = read_suite(out)
    assert len(cases) == 12 and {c.risk for c in cases} == {"ci.drug_crimes", "hs.defamation"}
    assert "generated prompts (scripted:gen, chat mode)" in result.output
    assert "hs.defamation" in result.output and "complete" in result.output
    assert "12 new prompts written to" in result.output
    # Re-running the same command resumes: nothing is missing, nothing is asked.
    again = runner.invoke(generate_app, args)
    assert again.exit_code == 0, again.output
    assert "done before" in again.output and "0 new prompts written" in again.output
    assert len(read_suite(out)) == 12


def test_generate_with_pairing(tmp_path: Path, fake_models: list[str]) -> None:
    out = tmp_path / "gen.jsonl"
    args = ["--risks", "is.law", "--per-risk", "2", "--lang", "en", "--generator", "scripted:gen"]
    result = runner.invoke(
        generate_app, [*args, "--out", str(out), "--pair", "--translator", "scripted:gen-tr"]
    )
    assert result.exit_code == 0, result.output
    assert fake_models == ["scripted:gen", "scripted:gen-tr"]
    assert "pairing: 2 translations written" in result.output
    cases = read_suite(out)
    assert sorted(c.lang for c in cases) == ["en", "en", "zh", "zh"]
    assert all(c.pair_id for c in cases)


def test_usage_errors(tmp_path: Path, fake_models: list[str]) -> None:
    out = str(tmp_path / "g.jsonl")
    result = runner.invoke(
        generate_app, ["--risks", "ci.drug_crime", "--out", out, "--generator", "scripted:gen"]
    )
    assert isinstance(result.exception, UnknownNameError) and "did you mean" in str(result.exception)
    result = runner.invoke(generate_app, ["--risks", "ci", "--lang", "de", "--out", out])
    assert isinstance(result.exception, ConfigError) and "unsupported language" in str(result.exception)
    result = runner.invoke(generate_app, ["--risks", "ci"])
    assert isinstance(result.exception, ConfigError) and "--out is required" in str(result.exception)
    result = runner.invoke(generate_app, ["--risks", "ci", "--out", out, "--mode", "poem"])
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(generate_app, ["--risks", "ci", "--out", out, "--per-risk", "0"])
    assert result.exit_code == 2  # typer's own range check
    assert fake_models == []  # nothing loaded for a command that cannot run


def test_dead_server_prints_the_summary_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(defaults, "GEN_MAX_RETRIES", 1)
    monkeypatch.setattr(defaults, "GEN_BACKOFF_S", 0.01)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "g.jsonl"
    spec = f"openai-compatible:m@http://127.0.0.1:{port}/v1"
    result = runner.invoke(
        generate_app, ["--risks", "is.finance", "--lang", "en", "--out", str(out), "-g", spec]
    )
    assert isinstance(result.exception, ModelError)
    assert "is not answering" in str(result.exception) and "re-run the same command" in str(result.exception)
    assert "generator failed" in result.output


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(generate_app, [])
    assert "--risks" in result.output and "export-sft" in result.output


def test_export_sft(tmp_path: Path, fake_models: list[str]) -> None:
    gen = tmp_path / "gen.jsonl"
    runner.invoke(
        generate_app, ["-r", "pm", "-n", "2", "--lang", "zh,en", "-g", "scripted:gen", "-o", str(gen)]
    )
    out = tmp_path / "sft.jsonl"
    result = runner.invoke(generate_app, ["export-sft", "--in", str(gen), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 SFT examples" in result.output and "other language 2" in result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [m["role"] for m in rows[0]["messages"]] == ["system", "user", "assistant"]
