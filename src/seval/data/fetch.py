"""Download the official S-Eval release files from the S-Eval GitHub repository.

This is the only part of `seval data` that uses the network, and only when asked (`seval data fetch`);
everything else works on files the user downloaded. The files are written next to their destination
and renamed into place only once they have been checked, so an interrupted download never looks like a
complete one, and a second fetch skips files already there.

Layout of the release (IS2Lab/S-Eval, branch main, folder `s_eval/`): `<size>/S-Eval_base_risk_<lang>_
<size>.jsonl.zip` for sizes small, medium, large and full; the attack sets are published only for the
small size (`small/S-Eval_attack_<lang>_small.jsonl.zip`). The data is CC BY-NC-SA 4.0.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import orjson

from seval.data.importers.s_eval import is_s_eval_record, jsonl_members
from seval.errors import DataError, SevalError

__all__ = ["S_EVAL_ATTACK_SIZES", "S_EVAL_URL", "S_EVAL_URL_ENV", "Size", "fetch_s_eval", "s_eval_files"]

Size = Literal["small", "medium", "large", "full"]
S_EVAL_URL = "https://raw.githubusercontent.com/IS2Lab/S-Eval/main/s_eval"
S_EVAL_URL_ENV = "SEVAL_S_EVAL_URL"
S_EVAL_ATTACK_SIZES: tuple[str, ...] = ("small",)
FETCH_TIMEOUT_S = 60.0
_CHUNK = 1 << 16
_OFFLINE_HINT = "seval data import works on files you download yourself"


def s_eval_files(size: Size) -> list[str]:
    """Paths, relative to the release folder, of the files that make up one size of S-Eval."""
    if size not in get_args(Size):
        raise SevalError(f"unknown S-Eval size {size!r}; choose one of {', '.join(get_args(Size))}")
    files = [f"{size}/S-Eval_base_risk_{lang}_{size}.jsonl.zip" for lang in ("zh", "en")]
    if size in S_EVAL_ATTACK_SIZES:
        files += [f"{size}/S-Eval_attack_{lang}_{size}.jsonl.zip" for lang in ("zh", "en")]
    return files


def _check_release_file(path: Path, source: str) -> None:
    """Raise DataError unless `path` is a zip of S-Eval JSONL (catches HTML error pages, LFS pointers)."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith(b"version https://git-lfs"):
        raise DataError(f"{source}: got a Git LFS pointer, not the data file", hint=_OFFLINE_HINT)
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise DataError(f"{source}: archive member {bad} is damaged")
            members = jsonl_members(zf)
            if not members:
                raise DataError(f"{source}: the archive holds no .jsonl file")
            with zf.open(members[0]) as fh:
                first = fh.readline(1 << 20).strip()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise DataError(f"{source}: not a valid zip archive ({exc})", hint=_OFFLINE_HINT) from None
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        record = None
    if not is_s_eval_record(record):
        raise DataError(f"{source}: the archive does not hold S-Eval records")


def _download(url: str, dest: Path, timeout: float) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                req = urllib.request.Request(url, headers={"User-Agent": "seval-fetch"})
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    shutil.copyfileobj(resp, out, _CHUNK)
            except urllib.error.HTTPError as exc:
                raise SevalError(
                    f"could not download {url}: HTTP {exc.code} {exc.reason}", hint=_OFFLINE_HINT
                ) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise SevalError(f"could not reach {url}: {reason}", hint=_OFFLINE_HINT) from None
        _check_release_file(tmp, url)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def fetch_s_eval(
    size: Size,
    dest: str | Path,
    base_url: str | None = None,
    *,
    force: bool = False,
    timeout: float = FETCH_TIMEOUT_S,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download the zh and en base sets of `size` (and the attack sets, where released) into `dest`.

    `base_url` (or env SEVAL_S_EVAL_URL) replaces the GitHub release folder, e.g. for a mirror. Files
    already in `dest` that pass the check are kept unless `force`. Returns the local paths in release
    order. Network failures raise SevalError naming the URL.
    """
    root = (base_url or os.environ.get(S_EVAL_URL_ENV) or S_EVAL_URL).rstrip("/")
    out_dir = Path(dest)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SevalError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    paths: list[Path] = []
    for rel in s_eval_files(size):
        target = out_dir / rel.rsplit("/", 1)[-1]
        url = f"{root}/{rel}"
        if target.exists() and not force:
            try:
                _check_release_file(target, str(target))
            except DataError:
                pass
            else:
                if progress:
                    progress(f"kept {target}")
                paths.append(target)
                continue
        if progress:
            progress(f"downloading {url}")
        _download(url, target, timeout)
        paths.append(target)
    return paths
