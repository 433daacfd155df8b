"""Getting test prompts out of what a generator wrote.

Generators rarely answer in the exact format asked for. Instruction models wrap the list in a preamble
("Here are 5 prompts:"), number it in any of a dozen styles (`1.`, `1)`, `1、`, `（1）`, `Prompt 3:`,
bullets, bold), answer in JSON, or end with advice. Base models continuing a list drift: the numbering
breaks, they start answering, loop on one phrase, or stop mid-sentence at the token limit.

So parsing is strict about what counts as an item and lenient about decoration: every candidate is
cleaned (numbering, labels, quotes, markdown stripped) and then checked (`check_prompt`), and whatever
is dropped is counted by reason, so a run can say how much of a generator's output was usable.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from seval.models.base import split_reasoning

# Bounds of a usable prompt. Below: fragments ("How to"), above: a model that never stopped.
MIN_WORDS_EN = 4
MIN_CHARS_EN = 15
MIN_CJK_ZH = 6
MAX_CHARS = 800
# Two identical items in a row after this many items means the generator is looping: stop there.
LOOP_REPEATS = 2

# An item that ends like this was cut off (by a stop string, or a model that lost its thread).
_DANGLING_PUNCT = (",", "，", "、", ";", "；", "-", "(", "（", "“", "‘")
_DANGLING_EN_RE = re.compile(
    r"\b(?:a|an|the|to|of|and|or|but|with|for|in|on|at|by|from|that|which|who|is|are|my|your|his|her|their|"
    r"our|its|this|these|those|if|as|than|into|about)$",
    re.IGNORECASE,
)
_SENTENCE_ENDS = ("?", ".", "!", "？", "。", "！")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# A list marker at the start of a line, after optional markdown (heading hashes, bold, blockquote).
_MARKER_RE = re.compile(
    r"""^[ \t]*(?:>[ \t]*)?(?:\#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*
    (?:
        [(（][ \t]*(?P<paren>\d{1,3}|[一二三四五六七八九十]{1,3})[ \t]*[)）]
      | (?P<num>\d{1,3})[ \t]*(?:[.．](?!\d)|[、:：)）]|[ \t]*-[ \t])
      | (?P<cn>[一二三四五六七八九十]{1,3})[ \t]*[、.．:：]
      | 第[ \t]*(?P<ordinal>\d{1,3}|[一二三四五六七八九十]{1,3})[ \t]*[条个题项则][ \t]*[:：、.]?
      | (?:test[ \t]*prompt|prompt|question|request|example|query|测试提示词|提示词|提示|问题|请求|示例)
        [ \t]*\#?[ \t]*(?P<label>\d{1,3})[ \t]*(?:[:：.)、]|[ \t]-[ \t])
      | (?P<bullet>[-*•·●▪◦–—])[ \t]+
    )
    (?:[ \t]*(?:\*\*|__))?[ \t]*""",
    re.VERBOSE | re.IGNORECASE,
)
# "Prompt:" / "User:" labels left in front of the text after the marker is gone.
_LABEL_RE = re.compile(
    r"^(?:\*\*|__)?[ \t]*"
    r"(?:test[ \t]*prompt|prompt|user|question|request|query|用户|提示词|测试提示词|问题|请求)"
    r"[ \t]*#?[ \t]*\d{0,3}[ \t]*(?:\*\*|__)?[ \t]*[:：][ \t]*(?:\*\*|__)?[ \t]*",
    re.IGNORECASE,
)
_QUOTES = [('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("'", "'"), ("‘", "’"), ("《", "》")]
_FENCE_RE = re.compile(r"^[ \t]*```[\w-]*[ \t]*$", re.MULTILINE)
_MARKUP_RE = re.compile(r"</?(?:strong|b|i|em|h\d|p|br|div|span|li|ul|ol|a)\b[^>]*>", re.IGNORECASE)
# A unit of 3-60 characters repeated 3+ times in a row: the loop small models fall into.
_LOOP_RE = re.compile(r"(.{3,60}?)(?:[\s,，、;；]*(?:(?:and|or)\s+|和|或)?\1){2,}", re.DOTALL)
_ANSWER_EN = re.compile(
    r"^(?:sure\b|certainly\b|of course\b|absolutely\b|here(?:'s| is| are)\b|i(?:'m| am) sorry\b|"
    r"sorry\b|i can(?:'t|not)\b|i won't\b|as an ai\b|step \d|first(?:ly)?,|to do this\b|"
    r"answer\b|response\b|note:|disclaimer\b|warning:)",
    re.IGNORECASE,
)
# A line about the list itself rather than an item of it ("These questions are ...").
_META_RE = re.compile(
    r"\b(?:these|the above|the following|this|above) "
    r"(?:questions|prompts|messages|requests|lines|list|items)\b|"
    r"(?:以上|这些|上述|下面这些)(?:问题|提示词|消息|请求|内容)",
    re.IGNORECASE,
)
_ANSWER_ZH = re.compile(
    r"^(?:好的|当然|以下是|下面是|这里是|抱歉|对不起|很抱歉|我不能|我无法|作为一?个?AI|作为人工智能|第一步|首先[，,]|"
    r"答[:：]|回答[:：]|注意[:：]|提醒[:：])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Item:
    """One prompt found in a generator's output; `index` is its position there (1-based)."""

    text: str
    index: int


@dataclass
class Parsed:
    """The usable prompts of one output, what was dropped (by reason), and why parsing stopped early."""

    items: list[Item] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())


# --- text helpers ------------------------------------------------------------------------------------------


def cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


def latin_count(text: str) -> int:
    return sum(1 for ch in text if ch.isascii() and ch.isalpha())


def normalize(text: str) -> str:
    """The comparison key for duplicates: case, width, punctuation and spacing do not count."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _to_int(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + _CN_DIGITS.get(token[1:], 0)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(token, 0)


def _strip_quotes(text: str) -> str:
    changed = True
    while changed and len(text) >= 2:
        changed = False
        for left, right in _QUOTES:
            inner = text[len(left) : len(text) - len(right)]
            if text.startswith(left) and text.endswith(right) and left not in inner and right not in inner:
                text = text[len(left) : len(text) - len(right)].strip()
                changed = True
    return text


def clean_item(text: str) -> str:
    """Remove the decoration around a prompt: labels, markdown emphasis, wrapping quotes, blank space."""
    text = " ".join(text.split())
    for _ in range(2):
        text = _LABEL_RE.sub("", text).strip()
        if text.startswith(("**", "__")) and text.endswith(("**", "__")) and len(text) > 4:
            text = text[2:-2].strip()
        text = text.strip("*_ ").strip()
        text = _strip_quotes(text)
    return text


def check_prompt(text: str, lang: str, max_chars: int = MAX_CHARS) -> str | None:
    """Why `text` is not a usable test prompt in `lang`, or None when it is."""
    if not text:
        return "empty"
    if len(text) > max_chars:
        return "too long"
    cjk, latin = cjk_count(text), latin_count(text)
    if lang == "zh":
        if cjk < MIN_CJK_ZH:
            return "too short" if cjk or not latin else "wrong language"
        if latin > 2 * cjk:
            return "wrong language"
    else:
        if cjk > 0 and cjk * 2 >= latin:
            return "wrong language"
        if len(text) < MIN_CHARS_EN or len(text.split()) < MIN_WORDS_EN:
            return "too short"
    if text.endswith((":", "：")):
        return "heading"
    if text.endswith(_DANGLING_PUNCT) or (lang != "zh" and _DANGLING_EN_RE.search(text)):
        return "truncated"
    if _MARKUP_RE.search(text) or "http://" in text or "https://" in text or "www." in text:
        return "markup or link"
    if (_ANSWER_ZH if lang == "zh" else _ANSWER_EN).match(text):
        return "an answer, not a request"
    if _META_RE.search(text):
        return "comment on the list"
    for m in _LOOP_RE.finditer(text):
        if sum(ch.isalpha() for ch in m.group(1)) >= 2:
            return "repetition loop"
    return None


# How a request opens (or what it contains, in Chinese); anything else ending without a question mark
# is a statement, which a base model drifting away from its list writes often ("毒品犯罪是我的爱好。").
_REQUEST_EN_RE = re.compile(
    r"^(?:how|what|where|which|who|whom|whose|why|when|can|could|would|will|should|shall|is|are|am|do|"
    r"does|did|have|has|may|might|write|tell|give|help|explain|show|list|create|make|find|teach|"
    r"describe|generate|suggest|recommend|draft|compose|design|plan|outline|provide|send|get|let|act|"
    r"pretend|imagine|roleplay|role-play|please|i need|i want|i'd like|i would like|i'm looking for|"
    r"i am looking for)\b",
    re.IGNORECASE,
)
_REQUEST_ZH_RE = re.compile(
    r"[?？吗呢]|怎么|怎样|如何|帮我|帮忙|教我|请|能不能|可不可以|可以|哪里|哪儿|哪些|哪个|什么|为什么|给我|写|"
    r"告诉我|我想|我要|有没有|推荐|介绍|列出|设计|制定|编"
)


def looks_like_request(text: str, lang: str) -> bool:
    """Whether `text` asks for something (a question, or an instruction), rather than states something."""
    if text.rstrip().endswith(("?", "？")):
        return True
    return bool(_REQUEST_ZH_RE.search(text) if lang == "zh" else _REQUEST_EN_RE.match(text) or "?" in text)


# --- parsers -----------------------------------------------------------------------------------------------


class _Collector:
    """Cleans, checks and de-duplicates candidates in order, and notices loops."""

    def __init__(
        self, lang: str, known: Iterable[str], max_chars: int = MAX_CHARS, require_request: bool = False
    ) -> None:
        self.lang = lang
        self.max_chars = max_chars
        self.require_request = require_request
        self.known = {normalize(k) for k in known}
        self.seen: set[str] = set()
        self.out = Parsed()
        self._repeats = 0

    def add(self, raw: str, index: int) -> bool:
        """Consider one candidate; False when the output has fallen into a loop (stop reading it)."""
        text = clean_item(raw)
        reason = check_prompt(text, self.lang, self.max_chars)
        if reason is None and self.require_request and not looks_like_request(text, self.lang):
            reason = "not a request"
        key = normalize(text)
        if reason is None and key in self.seen:
            self._repeats += 1
            self.out.rejected["duplicate in output"] += 1
            if self._repeats >= LOOP_REPEATS:
                self.out.stopped = "loop"
                return False
            return True
        self._repeats = 0
        if reason is None and key in self.known:
            reason = "copy of an example"
        if reason is not None:
            self.out.rejected[reason] += 1
            return True
        self.seen.add(key)
        self.out.items.append(Item(text, index))
        return True


def parse_continuation(
    text: str,
    first_number: int,
    lang: str,
    *,
    prefix: str = "",
    finish_reason: str | None = None,
    known: Iterable[str] = (),
    max_chars: int = MAX_CHARS,
    require_request: bool = True,
) -> Parsed:
    """Items a base model wrote when continuing a numbered list at `first_number`.

    Only well-formed continued items count: line k must be item `first_number + k`, one per line. The
    first line that breaks the numbering ends the list (the model has moved on to something else), and
    a last line cut off by the token limit is dropped as truncated. `prefix` is the start of the first
    item that the document already wrote (an opener); `known` (the few-shot examples) are not new
    prompts; items longer than `max_chars` are rambling, not prompts; with `require_request`, items
    that state rather than ask (`looks_like_request`) are dropped too.
    """
    col = _Collector(lang, known, max_chars, require_request)
    sep = "" if not prefix or lang == "zh" or text[:1].isspace() else " "
    text = prefix + sep + text if prefix else text
    lines = text.split("\n")
    if finish_reason == "length" and len(lines) > 0:
        # The generation stopped inside the last line: whatever it holds is unfinished.
        last = lines.pop()
        if last.strip():
            col.out.rejected["truncated"] += 1
    expected = first_number
    number_re = re.compile(r"^[ \t]*(\d{1,3})[ \t]*[.．、][ \t]*(.*)$")
    for i, line in enumerate(lines):
        if i == 0:
            body = line
        else:
            m = number_re.match(line)
            if m is None or int(m.group(1)) != expected:
                if line.strip() or any(rest.strip() for rest in lines[i + 1 :]):
                    col.out.stopped = "numbering break"
                break
            body = m.group(2)
        if not col.add(body, expected - first_number + 1):
            break
        expected += 1
    return col.out


def _json_candidates(text: str) -> list[str] | None:
    """Prompts from a JSON array (of strings or of objects with a prompt field) or from JSON lines."""

    def from_value(value: object) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            for key in ("prompt", "text", "question", "request", "content", "query"):
                v = value.get(key)
                if isinstance(v, str):
                    return v
        return None

    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        try:
            data = orjson.loads(text[start : end + 1])
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, list) and data:
            found = [s for s in map(from_value, data) if s is not None]
            if found:
                return found
    lines = [line.strip().rstrip(",") for line in text.splitlines() if line.strip()]
    values: list[str] = []
    for line in lines:
        if not line.startswith(("{", '"')):
            continue
        try:
            value = from_value(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
        if value is not None:
            values.append(value)
    return values if values and len(values) * 2 >= len(lines) else None


def parse_list(
    text: str, lang: str, *, finish_reason: str | None = None, known: Iterable[str] = ()
) -> Parsed:
    """Prompts from an instruction model's answer to "write N prompts" (any list style, or JSON).

    Lines before the first list marker are a preamble and ignored; a line without a marker right after
    an item continues it; text after a blank line that follows the list (advice, the model starting to
    answer its own prompts) ends it. An answer without any list marker is one prompt per paragraph.
    """
    text, _ = split_reasoning(text)
    text = _FENCE_RE.sub("", text).strip()
    col = _Collector(lang, known)
    candidates = _json_candidates(text)
    truncated_tail = finish_reason == "length"
    if candidates is not None:
        for i, cand in enumerate(candidates, start=1):
            if not col.add(cand, i):
                break
        return col.out

    blocks: list[list[str]] = []  # one list of lines per item
    preamble = 0  # blocks before the first list marker ("Here are 5 prompts:")
    marked = False
    blank_after_item = False
    for line in text.splitlines():
        m = _MARKER_RE.match(line)
        if m and line[m.end() :].strip():
            if not marked:
                preamble, marked = len(blocks), True
            blocks.append([line[m.end() :]])
            blank_after_item = False
        elif not line.strip():
            blank_after_item = bool(blocks)
        elif marked and blocks and not blank_after_item:
            blocks[-1].append(line)
        elif marked:
            col.out.stopped = "text after the list"
            truncated_tail = False
            break
        elif blank_after_item or not blocks:
            blocks.append([line])
            blank_after_item = False
        else:
            blocks[-1].append(line)
    if marked:
        blocks = blocks[preamble:]
    else:
        blocks = [part for block in blocks for part in _split_unmarked(block, lang)]
    if truncated_tail and blocks:
        blocks.pop()
        col.out.rejected["truncated"] += 1
    for i, block in enumerate(blocks, start=1):
        if not col.add(" ".join(block), i):
            break
    return col.out


def _split_unmarked(block: list[str], lang: str) -> list[list[str]]:
    """A paragraph without list markers: one prompt, unless every line is a whole prompt of its own
    (a model that wrote one prompt per line and left out the numbers)."""
    if len(block) > 1 and all(
        line.rstrip().endswith(_SENTENCE_ENDS) and check_prompt(clean_item(line), lang) is None
        for line in block
    ):
        return [[line] for line in block]
    return [block]
