"""Guard models as critics: Llama Guard 3/4, Qwen3Guard-Gen, WildGuard and ShieldGemma.

Each adapter speaks its model's own interface, because a guard model is only accurate on the input it was
trained on: Llama Guard and Qwen3Guard get a chat (`user` prompt + `assistant` response) and the server
applies the model's chat template, which holds the policy; WildGuard and ShieldGemma get their documented
text prompt, sent to the legacy completions endpoint so that no chat template wraps it. Each maps the
model's own categories to our taxonomy ids (category level where one fits, dimension level where the
guard's category spans several of ours).

Serve the model with any OpenAI-compatible server (vLLM, SGLang) and name it in the spec:

    llama-guard:openai-compatible:meta-llama/Llama-Guard-3-8B@http://127.0.0.1:8000/v1
    qwen3guard:vllm:Qwen/Qwen3Guard-Gen-8B@http://127.0.0.1:8000/v1

Scores: where the verdict is the first token the model writes (Llama Guard, ShieldGemma) and the server
returns log-probabilities, risk = p(unsafe) / (p(unsafe) + p(safe)); otherwise the stated verdict maps to
0.9 / 0.1, and Qwen3Guard's "Controversial" to 0.5 with the label "controversial". An output that does
not follow the model's format is an "error" verdict with `parse_error`, never a guess.

Guard formats carry no nonce, so a response that imitates a guard's output could in principle confuse a
lenient parser; each parser therefore reads only the model's own first lines, in the model's own order.
"""

from seval.critic.guards.base import GuardCritic, GuardParseError, GuardPrompt, GuardReading
from seval.critic.guards.llama_guard import LLAMA_GUARD_CATEGORIES, LlamaGuardCritic
from seval.critic.guards.qwen3guard import QWEN3GUARD_CATEGORIES, Qwen3GuardCritic
from seval.critic.guards.shieldgemma import SHIELDGEMMA_POLICIES, SHIELDGEMMA_TEMPLATE, ShieldGemmaCritic
from seval.critic.guards.wildguard import WILDGUARD_TEMPLATE, WildGuardCritic

__all__ = [
    "LLAMA_GUARD_CATEGORIES",
    "QWEN3GUARD_CATEGORIES",
    "SHIELDGEMMA_POLICIES",
    "SHIELDGEMMA_TEMPLATE",
    "WILDGUARD_TEMPLATE",
    "GuardCritic",
    "GuardParseError",
    "GuardPrompt",
    "GuardReading",
    "LlamaGuardCritic",
    "Qwen3GuardCritic",
    "ShieldGemmaCritic",
    "WildGuardCritic",
]
