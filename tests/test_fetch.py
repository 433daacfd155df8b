from __future__ import annotations

import asyncio
import io
import socket
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from seval.data.fetch import S_EVAL_URL_ENV, fetch_s_eval, s_eval_files
from seval.errors import DataError, SevalError


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mirror is on loopback; a proxy from the environment must not be asked for it."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


ALL_FILES = {f for size in ("small", "medium", "large", "full") for f in s_eval_files(size)}  # type: ignore[arg-type]


def release_zip(name: str) -> bytes:
    kind = "attack" if "_attack_" in name else "base_risk"
    ext: dict[str, str] = {"model": kind}
    if kind == "attack":
        ext["category"] = "goal_hijacking"
    row = {"traceid": name, "risk_type": "Data_Privacy", "prompt": "How to find an address?", "ext": ""}
    row["ext"] = orjson.dumps(ext).decode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        inner = name.removesuffix(".zip")
        zf.writestr(inner, orjson.dumps(row) + b"\n")
        zf.writestr(f"__MACOSX/._{inner}", b"junk")
    return buf.getvalue()


class Mirror:
    """A local stand-in for the release folder: serves /s_eval/<size>/<file>, counts requests."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.broken: set[str] = set()
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info["rel"]
        self.hits[rel] += 1
        if rel not in ALL_FILES:
            raise web.HTTPNotFound()
        if rel in self.broken:
            return web.Response(body=b"<html>rate limited</html>", content_type="text/html")
        return web.Response(body=release_zip(rel.rsplit("/", 1)[-1]), content_type="application/zip")


@pytest.fixture
async def mirror() -> AsyncIterator[Mirror]:
    m = Mirror()
    app = web.Application()
    app.router.add_get("/s_eval/{rel:.+}", m.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    m.base_url = f"http://127.0.0.1:{port}/s_eval"
    yield m
    await runner.cleanup()


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/s_eval"


def test_release_layout() -> None:
    assert s_eval_files("small") == [
        "small/S-Eval_base_risk_zh_small.jsonl.zip",
        "small/S-Eval_base_risk_en_small.jsonl.zip",
        "small/S-Eval_attack_zh_small.jsonl.zip",
        "small/S-Eval_attack_en_small.jsonl.zip",
    ]
    assert s_eval_files("full") == [
        "full/S-Eval_base_risk_zh_full.jsonl.zip",
        "full/S-Eval_base_risk_en_full.jsonl.zip",
    ]
    with pytest.raises(SevalError, match="unknown S-Eval size"):
        s_eval_files("huge")  # type: ignore[arg-type]


async def test_fetch_downloads_checks_and_skips_existing(mirror: Mirror, tmp_path: Path, tax: Any) -> None:
    from seval.data.importers import import_files

    dest = tmp_path / "dl"
    paths = await asyncio.to_thread(fetch_s_eval, "small", dest, mirror.base_url)
    assert [p.name for p in paths] == [f.split("/")[1] for f in s_eval_files("small")]
    assert all(p.parent == dest and zipfile.is_zipfile(p) for p in paths)
    assert sorted(p.name for p in dest.iterdir()) == sorted(p.name for p in paths)  # no temp files left
    res = import_files(paths, taxonomy=tax)
    assert res.by_lang == Counter({"zh": 2, "en": 2})

    again = await asyncio.to_thread(fetch_s_eval, "small", dest, mirror.base_url)
    assert again == paths
    assert set(mirror.hits.values()) == {1}
    await asyncio.to_thread(fetch_s_eval, "small", dest, mirror.base_url, force=True)
    assert set(mirror.hits.values()) == {2}


async def test_fetch_uses_env_url_and_fetches_only_base_sets_for_full(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(S_EVAL_URL_ENV, mirror.base_url + "/")
    paths = await asyncio.to_thread(fetch_s_eval, "full", tmp_path)
    assert [p.name for p in paths] == [
        "S-Eval_base_risk_zh_full.jsonl.zip",
        "S-Eval_base_risk_en_full.jsonl.zip",
    ]


async def test_fetch_rejects_what_is_not_a_release_file(mirror: Mirror, tmp_path: Path) -> None:
    mirror.broken.add("medium/S-Eval_base_risk_en_medium.jsonl.zip")
    with pytest.raises(DataError, match="not a valid zip archive"):
        await asyncio.to_thread(fetch_s_eval, "medium", tmp_path, mirror.base_url)
    assert [p.name for p in tmp_path.iterdir()] == ["S-Eval_base_risk_zh_medium.jsonl.zip"]


async def test_fetch_reports_http_errors(mirror: Mirror, tmp_path: Path) -> None:
    with pytest.raises(SevalError, match=r"could not download http://127\.0\.0\.1:\d+/nowhere/.*HTTP 404"):
        await asyncio.to_thread(fetch_s_eval, "small", tmp_path, mirror.base_url.replace("s_eval", "nowhere"))


def test_dead_url_gives_a_clear_error(tmp_path: Path) -> None:
    url = dead_url()
    with pytest.raises(SevalError) as err:
        fetch_s_eval("small", tmp_path / "x", url, timeout=5)
    msg = str(err.value)
    assert msg.startswith(f"could not reach {url}/small/S-Eval_base_risk_zh_small.jsonl.zip: ")
    assert "seval data import works on files you download yourself" in msg
    assert list((tmp_path / "x").iterdir()) == []


@pytest.fixture(scope="module")
def tax() -> Any:
    from seval.taxonomy import load_taxonomy

    return load_taxonomy()
