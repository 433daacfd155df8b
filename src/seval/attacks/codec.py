"""Encodings and code splitting used by instruction_encryption and code_injection, with their inverses.

Every encoding here round-trips exactly (`decode_payload(encode_payload(t, v), v) == t`), and the
`decode_*` helpers recover the request from a whole attack prompt, so tests (and analysts reading a
suite) can check that each derived prompt still carries its base request.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, unquote

__all__ = [
    "CODE_VARIANTS",
    "ENCODINGS",
    "LATIN_ONLY_ENCODINGS",
    "decode_code",
    "decode_encrypted",
    "decode_payload",
    "encode_payload",
    "render_code",
    "split_text",
]

ENCODINGS = ["base64", "url", "hex", "reversed", "unicode_escape", "caesar"]
# Encodings that leave Chinese characters unchanged, so they are offered for English prompts only.
LATIN_ONLY_ENCODINGS = frozenset({"caesar"})
CAESAR_SHIFT = 3

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_CAESAR_ENC = str.maketrans(
    _LOWER + _UPPER,
    _LOWER[CAESAR_SHIFT:] + _LOWER[:CAESAR_SHIFT] + _UPPER[CAESAR_SHIFT:] + _UPPER[:CAESAR_SHIFT],
)
_CAESAR_DEC = {v: k for k, v in _CAESAR_ENC.items()}


def encode_payload(text: str, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(text.encode("utf-8")).decode("ascii")
    if encoding == "url":
        return quote(text, safe="")
    if encoding == "hex":
        return text.encode("utf-8").hex(" ")
    if encoding == "reversed":
        return text[::-1]
    if encoding == "unicode_escape":
        return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in text)
    if encoding == "caesar":
        return text.translate(_CAESAR_ENC)
    raise ValueError(f"unknown encoding {encoding!r}")


_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")


def decode_payload(payload: str, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64decode(payload.strip()).decode("utf-8")
    if encoding == "url":
        return unquote(payload.strip())
    if encoding == "hex":
        return bytes.fromhex(payload.strip()).decode("utf-8")
    if encoding == "reversed":
        return payload[::-1]
    if encoding == "unicode_escape":
        return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), payload.strip())
    if encoding == "caesar":
        return payload.translate(_CAESAR_DEC)
    raise ValueError(f"unknown encoding {encoding!r}")


# The payload sits in the last fenced block of the prompt; the fence never occurs in an encoding's
# output except in `reversed`/`caesar`, where the request itself would have to contain ``` (it is
# then still the last block, because the instruction comes before it).
_FENCE = "```"
# Words our encryption templates use to name the scheme, checked in this order.
_SCHEME_HINTS: list[tuple[str, tuple[str, ...]]] = [
    ("base64", ("Base64",)),
    ("url", ("URL",)),
    ("hex", ("hexadecimal", "十六进制")),
    ("unicode_escape", ("\\uXXXX",)),
    ("caesar", ("Caesar", "凯撒")),
    ("reversed", ("backwards", "倒着")),
]


def _payload(prompt: str) -> str:
    end = prompt.rfind(_FENCE)
    start = prompt.rfind(_FENCE, 0, end)
    if start < 0 or end <= start:
        raise ValueError("no fenced payload in prompt")
    body = prompt[start + len(_FENCE) : end]
    # Drop the single newline after the opening fence and before the closing one.
    if body.startswith("\n"):
        body = body[1:]
    if body.endswith("\n"):
        body = body[:-1]
    return body


def decode_encrypted(prompt: str, variant: str | None = None) -> str:
    """The request hidden in an instruction_encryption prompt (scheme from `variant` or the wording)."""
    if variant is None:
        instruction = prompt[: prompt.rfind(_FENCE, 0, prompt.rfind(_FENCE))]
        for name, hints in _SCHEME_HINTS:
            if any(h in instruction for h in hints):
                variant = name
                break
        else:
            raise ValueError("cannot tell the encoding of this prompt")
    return decode_payload(_payload(prompt), variant)


# --- code_injection ---------------------------------------------------------------------------------
CODE_VARIANTS = ["python_concat", "python_join", "python_fstring", "js_concat", "js_template"]


def split_text(text: str, parts: int) -> list[str]:
    """Cut text into `parts` non-empty pieces (at spaces when it has them), in order."""
    parts = max(1, min(parts, len(text)))
    words = text.split(" ")
    if len(words) >= parts * 2:
        per = len(words) / parts
        cuts = [round(per * i) for i in range(parts + 1)]
        pieces = [" ".join(words[cuts[i] : cuts[i + 1]]) for i in range(parts)]
        # Keep the spaces at the cuts so that the pieces concatenate back to the text exactly.
        return [p + " " if i < parts - 1 else p for i, p in enumerate(pieces)]
    per = len(text) / parts
    cuts = [round(per * i) for i in range(parts + 1)]
    return [text[cuts[i] : cuts[i + 1]] for i in range(parts)]


def _quote(piece: str) -> str:
    """A single-quoted literal valid in Python and JavaScript."""
    escaped = (
        piece.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f"'{escaped}'"


def render_code(pieces: list[str], variant: str) -> str:
    """A snippet whose printed output is the concatenation of `pieces`.

    Only the pieces are single-quoted literals; everything else uses double quotes or none, so that
    `decode_code` can read the request back from the literals alone.
    """
    names = [f"s{i + 1}" for i in range(len(pieces))]
    lits = [_quote(p) for p in pieces]
    if variant == "python_concat":
        body = "\n".join(f"{n} = {lit}" for n, lit in zip(names, lits, strict=True))
        return f"```python\n{body}\nmessage = {' + '.join(names)}\nprint(message)\n```"
    if variant == "python_join":
        return f'```python\nparts = [{", ".join(lits)}]\nprint("".join(parts))\n```'
    if variant == "python_fstring":
        body = "\n".join(f"{n} = {lit}" for n, lit in zip(names, lits, strict=True))
        joined = "".join("{" + n + "}" for n in names)
        return f'```python\n{body}\nprint(f"{joined}")\n```'
    if variant == "js_concat":
        body = "\n".join(f"const {n} = {lit};" for n, lit in zip(names, lits, strict=True))
        return f"```javascript\n{body}\nconsole.log({' + '.join(names)});\n```"
    if variant == "js_template":
        body = "\n".join(f"const {n} = {lit};" for n, lit in zip(names, lits, strict=True))
        joined = "".join("${" + n + "}" for n in names)
        return f"```javascript\n{body}\nconsole.log(`{joined}`);\n```"
    raise ValueError(f"unknown code variant {variant!r}")


_LITERAL_RE = re.compile(r"'((?:[^'\\\n]|\\.)*)'")
_UNESCAPE = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t"}
_UNESCAPE_RE = re.compile(r"\\(.)")


def decode_code(prompt: str) -> str:
    """The request a code_injection prompt prints: its single-quoted literals, unescaped, in order."""
    start = prompt.find(_FENCE)
    end = prompt.find(_FENCE, start + len(_FENCE))
    code = prompt[start:end] if start >= 0 and end > start else prompt
    return "".join(
        _UNESCAPE_RE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), lit)
        for lit in _LITERAL_RE.findall(code)
    )
