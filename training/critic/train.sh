#!/usr/bin/env bash
# Rebuild the local critic that ships in src/seval/critic/local/model/ from the exact data list below.
# The shared data lives beside the checkout (../shared/data); its files' sha256 are recorded in the
# model's manifest.json, and training is deterministic (fixed seeds, sorted folds), so the same files give
# the same weights. Embeddings are cached in $SEVAL_CRITIC_CACHE (default /tmp/seval-emb) between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${SEVAL_SHARED_DATA:-../shared/data}"
CACHE="${SEVAL_CRITIC_CACHE:-/tmp/seval-emb}"
OUT="${1:-src/seval/critic/local/model}"
args=(
  --data "$SHARED/critic-train/responses_en.jsonl:responses"
  --data "$SHARED/critic-train/prompts_en.jsonl:prompts"
  --data "$SHARED/s-eval/S-Eval_base_risk_zh_small.jsonl.zip:s-eval"
  --data "$SHARED/s-eval/S-Eval_base_risk_en_small.jsonl.zip:s-eval"
  --data seed
)
# Every hand-written or hand-labeled set (training/critic/handmade/*/), in byte order of the path.
export LC_ALL=C
for f in training/critic/handmade/*/*.jsonl; do
  args+=(--data "$f:responses")
done
exec "${PYTHON:-.venv/bin/python}" -m seval.cli.main critic train "${args[@]}" --out "$OUT" --cache "$CACHE"
