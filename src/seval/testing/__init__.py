"""Helpers for seval's own tests and benchmarks (and for plugin authors' tests)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def shared_data_dir() -> Path:
    """The development data folder: $SEVAL_SHARED_DATA, else `shared/data` beside the checkout.

    The data there (the S-Eval release, labeled critic data) is never part of the package; tests that
    need it skip when it is absent.
    """
    env = os.environ.get("SEVAL_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data"


def run_cli(monkeypatch: Any, capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run `seval ARGS...` in-process as a user would (through `main`, so one-line errors and exit codes
    are what a shell sees) and return (exit code, stdout, stderr). Takes pytest's `monkeypatch` and
    `capsys` fixtures; typed loosely so that importing this module never needs pytest."""
    from seval.cli.main import main

    monkeypatch.setattr(sys, "argv", ["seval", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
