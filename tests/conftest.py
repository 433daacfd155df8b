"""Shared fixtures. Every test runs with its own cache and runs folders, never the user's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seval import defaults


@pytest.fixture(autouse=True)
def isolated_seval_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("seval-home")
    monkeypatch.setattr(defaults, "CACHE_DIR", base / "cache")
    monkeypatch.setattr(defaults, "RUNS_DIR", base / "runs")
    monkeypatch.setenv("SEVAL_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("SEVAL_RUNS_DIR", str(base / "runs"))
    yield base
