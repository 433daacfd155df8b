"""Helpers for seval's own tests and benchmarks (and for plugin authors' tests)."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path:
    """The development data folder: $SEVAL_SHARED_DATA, else `shared/data` beside the checkout.

    The data there (the S-Eval release, labeled critic data) is never part of the package; tests that
    need it skip when it is absent.
    """
    env = os.environ.get("SEVAL_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data"
