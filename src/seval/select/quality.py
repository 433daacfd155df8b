"""Quality: is a generated prompt a well-formed, on-topic request in the language it claims?

Base models continuing a numbered list produce predictable junk: a leading "12." or "Prompt 7:",
markdown bullets, an answer instead of a question, a sentence cut off at the token limit, a phrase
repeated until the limit, text in the wrong language, or a question about something else entirely.
Harmless wrappers are stripped (and recorded) rather than costing the prompt; real defects drop it with
a reason code:

    empty, too_short, too_long, wrong_language, repetition, truncated, not_request, off_topic

Every kept prompt gets a quality score in [0, 1] (form penalties and the on-topic share), which
dedup uses to keep the best of a cluster and diversity uses as relevance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seval.defaults import (
    QUALITY_FORM_WEIGHT,
    QUALITY_MAX_CHARS,
    QUALITY_MIN_CHARS,
    QUALITY_MIN_SCRIPT_SHARE,
    QUALITY_MIN_WORDS_EN,
    QUALITY_REPEAT_MAX_SHARE,
    QUALITY_REPEAT_MIN_NGRAMS,
    QUALITY_REPEAT_MIN_SENTENCE_CHARS,
    QUALITY_REPEAT_NGRAM,
    TOPIC_BACKGROUND_MAX_OWN,
    TOPIC_BACKGROUND_RATIO,
    TOPIC_MIN_SHARE,
)
from seval.records import TestCase
from seval.select.text import normalize, script_counts, words
from seval.select.topic import TopicModel, TopicScore

__all__ = ["QUALITY_REASONS", "QualityResult", "assess", "check_form", "clean_prompt"]

QUALITY_REASONS: tuple[str, ...] = (
    "empty",
    "too_short",
    "too_long",
    "wrong_language",
    "repetition",
    "truncated",
    "not_request",
    "off_topic",
)


@dataclass
class QualityResult:
    """The verdict on one prompt: `reason` is None when it passes."""

    prompt: str  # the prompt after harmless prefixes were stripped
    reason: str | None = None
    detail: str = ""
    cleaned: list[str] = field(default_factory=list)
    penalties: list[str] = field(default_factory=list)
    topic: TopicScore | None = None
    score: float = 0.0

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": round(self.score, 4)}
        if self.cleaned:
            out["cleaned"] = list(self.cleaned)
        if self.penalties:
            out["penalties"] = list(self.penalties)
        if self.topic is not None:
            out["topic"] = {
                "own": self.topic.own,
                "other": self.topic.other,
                "other_risk": self.topic.other_risk,
                "share": self.topic.share,
                "background": self.topic.background,
            }
        return out


# --- cleaning --------------------------------------------------------------------------------------
_LABEL = (
    r"(?:test\s*prompt|prompt|question|query|request|instruction|example|user|input|q|"
    r"问题|提问|提示词|提示|指令|示例|例子|用户|问|输入|题目)"
)
_PREFIXES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("label", re.compile(rf"^\s*{_LABEL}\s*#?\s*\d{{0,4}}\s*[:：.)）\]]\s*", re.I)),
    ("numbering", re.compile(r"^\s*[(（\[]?\d{1,4}\s*[.)）\]、:：]\s*(?!\d)")),
    (
        "numbering",
        re.compile(r"^\s*[(（]?第?[一二三四五六七八九十百]{1,3}(?:[条个项][、.．:：)）]?|[、.．:：)）])\s*"),
    ),
    ("numbering", re.compile(r"^\s*[①-⑳]\s*")),
    ("numbering", re.compile(r"^\s*[a-hA-H][.)]\s+(?=\S)")),
    ("markdown", re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•·+]\s+|\*\*|__|`{1,3})")),
)
_TRAILING_MARKDOWN = re.compile(r"(?:\*\*|__|`{1,3})\s*$")
_QUOTES = (("“", "”"), ('"', '"'), ("「", "」"), ("『", "』"), ("'", "'"), ("‘", "’"))
# A later line that starts a new list item: the model went on to the next prompt.
_NEXT_ITEM = re.compile(
    rf"^\s*(?:[(（\[]?\d{{1,4}}\s*[.)）\]、:：]|[-*•]\s|{_LABEL}\s*#?\s*\d{{0,4}}\s*[:：])", re.I
)
_TRAILING_MARKER = re.compile(r"\s+(?:\d{1,3}\s*[.)、]|[-*•])\s*$")
_TERMINAL = "?？!！。.…)）\"”'’」』》】"


def clean_prompt(prompt: str) -> tuple[str, list[str]]:
    """Strip list-continuation artefacts (numbering, "Prompt 12:", bullets, markdown, wrapping quotes,
    a following list item) and return the cleaned prompt with the kinds of what was stripped."""
    cleaned: list[str] = []
    text = prompt.strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and any(_NEXT_ITEM.match(ln) for ln in lines[1:]):
        cut = next(i for i, ln in enumerate(lines[1:], start=1) if _NEXT_ITEM.match(ln))
        text = "\n".join(lines[:cut]).strip()
        cleaned.append("next_item")
    for _ in range(4):  # "1. **Prompt:** ..." stacks several wrappers
        changed = False
        for kind, pattern in _PREFIXES:
            m = pattern.match(text)
            if m and m.end() < len(text):
                text = text[m.end() :].strip()
                if kind not in cleaned:
                    cleaned.append(kind)
                changed = True
        if not changed:
            break
    stripped = _TRAILING_MARKDOWN.sub("", text).strip()
    if stripped != text:
        text = stripped
        if "markdown" not in cleaned:
            cleaned.append("markdown")
    for left, right in _QUOTES:
        inner = text[len(left) : -len(right)] if len(text) > 2 else ""
        if text.startswith(left) and text.endswith(right) and left not in inner and right not in inner:
            text = inner.strip()
            cleaned.append("quotes")
            break
    m = _TRAILING_MARKER.search(text)
    if m and text[: m.start()].rstrip()[-1:] in _TERMINAL:
        text = text[: m.start()].rstrip()
        cleaned.append("trailing_marker")
    return text, cleaned


# --- form checks -----------------------------------------------------------------------------------
def _family(lang: str) -> str:
    low = lang.lower()
    return "zh" if low.startswith("zh") else "en" if low.startswith("en") else "*"


_SENTENCE_SPLIT = re.compile(r"[。！？!?；;\n]+|(?<=[a-z])\.\s+", re.I)
_RUN = re.compile(r"(.{2,30}?)\1{3,}", re.S)


def _repetition(text: str, fam: str) -> str | None:
    """Why `text` looks like a generation loop, or None."""
    lines = [normalize(ln) for ln in text.splitlines()]
    seen: set[str] = set()
    for ln in lines:
        if len(ln.replace(" ", "")) >= QUALITY_REPEAT_MIN_SENTENCE_CHARS:
            if ln in seen:
                return "repeated line"
            seen.add(ln)
    seen.clear()
    for sent in _SENTENCE_SPLIT.split(text):
        key = normalize(sent)
        if len(key.replace(" ", "")) >= QUALITY_REPEAT_MIN_SENTENCE_CHARS:
            if key in seen:
                return "repeated sentence"
            seen.add(key)
    norm = normalize(text)
    tokens: Sequence[str] = words(norm) if fam == "en" else norm.replace(" ", "")
    n = QUALITY_REPEAT_NGRAM.get(fam, QUALITY_REPEAT_NGRAM["*"])
    total = len(tokens) - n + 1
    if total >= QUALITY_REPEAT_MIN_NGRAMS:
        grams = [tuple(tokens[i : i + n]) for i in range(total)]
        share = 1 - len(set(grams)) / total
        if share > QUALITY_REPEAT_MAX_SHARE:
            return f"{share:.0%} of {n}-grams repeat"
    if _RUN.search(norm):
        return "a phrase repeated back to back"
    return None


_PAIRS = (
    ("“", "”"),
    ("（", "）"),
    ("(", ")"),
    ("「", "」"),
    ("《", "》"),
    ("【", "】"),
    ("[", "]"),
    ("『", "』"),
)
_DANGLING_END = tuple(",，、:：;；-—–(（“《[【/\\")
_EN_DANGLING_WORDS_TEXT = """
    the a an to of and or with for from by in on at that which who whose my your their his her its our
    is are was were be been as than into about if but so because such this these those very more most
    some any how what when where why can could would should will"""
_EN_DANGLING_WORDS = frozenset(_EN_DANGLING_WORDS_TEXT.split())
_ZH_DANGLING_CHARS = frozenset("和与及或把被从向对为让给将而并但因以于跟同")
_ZH_DANGLING_WORDS = (
    "而且",
    "并且",
    "但是",
    "因为",
    "所以",
    "如果",
    "然后",
    "以及",
    "或者",
    "还有",
    "比如",
    "包括",
    "例如",
    "以便",
    "为了",
)
_ZH_FINAL_OK = (
    "为什么",
    "为何",
    "因为",
    "以为",
    "认为",
    "作为",
    "行为",
    "难以",
    "可以",
    "所以",
    "给予",
    "予以",
)


def _truncated(text: str, fam: str, meta: dict[str, Any]) -> str | None:
    """Why `text` looks cut off, or None."""
    if str(meta.get("finish_reason", "")).lower() == "length":
        return "the generator stopped at its token limit"
    for left, right in _PAIRS:
        if text.count(left) > text.count(right):
            return f"unclosed {left}"
    if text.count('"') % 2 == 1:
        return 'unclosed "'
    tail = text.rstrip()
    if tail.endswith(_DANGLING_END):
        return f"ends with {tail[-1]!r}"
    if tail.endswith(("...", "…", "……")) and len(tail) > 3:
        return "ends with an ellipsis"
    if re.search(r"(?:^|\s)\d{1,3}[.)]$", tail):
        return "ends with a list marker"
    if tail[-1:] in _TERMINAL:
        return None
    if fam == "en":
        last = words(normalize(tail[-40:]))
        if last and last[-1] in _EN_DANGLING_WORDS:
            return f"ends with {last[-1]!r}"
    elif fam == "zh":
        if tail.endswith(_ZH_DANGLING_WORDS):
            return f"ends with {tail[-2:]!r}"
        if tail[-1:] in _ZH_DANGLING_CHARS and not tail.endswith(_ZH_FINAL_OK):
            return f"ends with {tail[-1]!r}"
    return None


_EN_ANSWER = re.compile(
    r"^\s*(?:sure\b|certainly\b|of course\b|absolutely\b|here(?: is|'s| are)\b|as an ai\b|"
    r"as a language model\b|i(?:'m| am) (?:sorry|unable|not able)\b|i (?:cannot|can't|can not|won't)\b|"
    r"unfortunately\b|answer\s*:|a\s*:|response\s*:|output\s*:|assistant\s*:|step 1\b)",
    re.I,
)
_ZH_ANSWER = re.compile(
    r"^\s*(?:好的|当然|没问题|以下是|下面是|这是一|作为(?:一个)?(?:AI|人工智能|语言模型|助手)|抱歉|对不起|很抱歉|"
    r"我不能|我无法|回答\s*[:：]|答\s*[:：]|助手\s*[:：]|第一步)",
    re.I,
)
_NUMBERED_LINE = re.compile(r"^\s*(?:\d{1,2}[.)、]|[-*•])\s+\S", re.M)
_EN_REQUEST = re.compile(
    r"\?|^\s*(?:how|what|which|who|whom|whose|why|where|when|can|could|would|will|should|shall|is|are|do|"
    r"does|did|may|might|write|give|tell|list|explain|describe|show|help|make|create|generate|draft|find|"
    r"suggest|recommend|teach|provide|design|plan|compose|convince|persuade|imagine|pretend|act|let|"
    r"please|name|outline|summari[sz]e|translate|rewrite|compare|analy[sz]e|invent|come up)\b|"
    r"\b(?:i want|i need|i'd like|i would like|help me|how to|can you|could you|tell me|show me)\b",
    re.I,
)
_ZH_REQUEST = re.compile(
    r"[?？]|[吗呢嘛]\s*[。.!！]?\s*$|请|帮我|给我|告诉我|怎么|如何|怎样|什么|哪|为什么|为何|能否|能不能|"
    r"可不可以|可以|是否|有没有|写|教|我想|我要|我需要|推荐|列出|列举|解释|描述|分析|提供|生成|编|设计|制定|介绍|说说|讲讲"
)


def _answer_like(text: str, fam: str) -> str | None:
    """Why `text` reads as an answer rather than a request, or None."""
    pattern = _ZH_ANSWER if fam == "zh" else _EN_ANSWER if fam == "en" else None
    if pattern is not None and pattern.match(text):
        return "starts like an answer"
    if len(_NUMBERED_LINE.findall(text)) >= 3 and "?" not in text and "？" not in text:
        return "a list of steps"
    return None


def _has_request_cue(text: str, fam: str) -> bool:
    if fam == "zh":
        return bool(_ZH_REQUEST.search(text))
    if fam == "en":
        return bool(_EN_REQUEST.search(text))
    return True


def check_form(case: TestCase) -> QualityResult:
    """Every check that needs only the prompt itself (everything but the on-topic score)."""
    prompt, cleaned = clean_prompt(case.prompt)
    result = QualityResult(prompt=prompt, cleaned=cleaned)
    fam = _family(case.lang)
    if not prompt.strip():
        result.reason = "empty"
        return result
    # A list of steps is an answer even though cleaning would keep only its first item.
    raw = case.prompt.strip()
    if raw != prompt and _answer_like(raw, fam) == "a list of steps":
        result.reason, result.detail = "not_request", "a list of steps"
        return result
    length = len(prompt)
    if length > QUALITY_MAX_CHARS.get(fam, QUALITY_MAX_CHARS["*"]):
        result.reason, result.detail = "too_long", f"{length} characters"
        return result
    if fam in QUALITY_MIN_SCRIPT_SHARE:
        cjk, latin = script_counts(prompt)
        letters = cjk + latin
        share = (cjk if fam == "zh" else latin) / letters if letters else 0.0
        if letters and share < QUALITY_MIN_SCRIPT_SHARE[fam]:
            script = "CJK" if fam == "zh" else "Latin"
            result.reason, result.detail = "wrong_language", f"{share:.0%} of letters are {script}"
            return result
    if length < QUALITY_MIN_CHARS.get(fam, QUALITY_MIN_CHARS["*"]) or (
        fam == "en" and len(words(normalize(prompt))) < QUALITY_MIN_WORDS_EN
    ):
        result.reason, result.detail = "too_short", f"{length} characters"
        return result
    for reason, why in (
        ("repetition", _repetition(prompt, fam)),
        ("not_request", _answer_like(prompt, fam)),
        ("truncated", _truncated(prompt, fam, case.meta)),
    ):
        if why is not None:
            result.reason, result.detail = reason, why
            return result
    if not _has_request_cue(prompt, fam):
        result.penalties.append("no_request_cue")
    return result


def _form_score(result: QualityResult) -> float:
    score = 1.0
    score -= 0.3 * ("no_request_cue" in result.penalties)
    score -= 0.05 * len(result.cleaned)
    return max(0.0, score)


def _off_topic(topic: TopicScore) -> str | None:
    if topic.share < TOPIC_MIN_SHARE:
        return f"closer to {topic.other_risk} ({topic.other:.3f}) than to its own risk ({topic.own:.3f})"
    if topic.own < TOPIC_BACKGROUND_MAX_OWN and topic.background >= TOPIC_BACKGROUND_RATIO * topic.own:
        return f"reads like an everyday request ({topic.background:.3f}) more than its risk ({topic.own:.3f})"
    return None


def assess(
    cases: Sequence[TestCase], topic_model: TopicModel | None, *, check_topic: bool = True
) -> list[QualityResult]:
    """Quality verdicts for a batch: form checks per prompt, then the on-topic score of the survivors
    in one vectorised pass. `cases[i].risk` must be a taxonomy node id."""
    results = [check_form(c) for c in cases]
    alive = [i for i, r in enumerate(results) if r.reason is None]
    topics: list[TopicScore | None] = [None] * len(alive)
    if topic_model is not None and alive:
        topics = topic_model.score(
            [results[i].prompt for i in alive], [cases[i].lang for i in alive], [cases[i].risk for i in alive]
        )
    for i, topic in zip(alive, topics, strict=True):
        result = results[i]
        result.topic = topic
        topic_part = 1.0 if topic is None else min(1.0, topic.share / 0.5)
        result.score = QUALITY_FORM_WEIGHT * _form_score(result) + (1 - QUALITY_FORM_WEIGHT) * topic_part
        if topic is not None and check_topic:
            why = _off_topic(topic)
            if why is not None:
                result.reason, result.detail = "off_topic", why
    return results
