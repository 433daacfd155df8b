#!/usr/bin/env bash
# Rebuild the local critic that ships in src/seval/critic/local/model/ from the exact data list below.
# The shared data lives beside the checkout (../shared/data); its files' sha256 are recorded in the
# model's manifest.json, and training is deterministic (fixed seeds, sorted folds), so the same files give
# the same weights. Embeddings are cached in $SEVAL_CRITIC_CACHE (default /tmp/seval-emb) between runs.
#
#   training/critic/train.sh [OUT]                     train, write the artifacts to OUT (default: shipped)
#   training/critic/train.sh --cross-source [--json]   hold each of our labeled sets out in turn, train on
#                                                      the rest of this same data list, measure on it
#                                                      (extra flags go to `seval critic crossval`)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${SEVAL_SHARED_DATA:-../shared/data}"
CACHE="${SEVAL_CRITIC_CACHE:-/tmp/seval-emb}"
MODE=train
if [[ "${1:-}" == "--cross-source" ]]; then
  MODE=crossval
  shift
else
  OUT="${1:-src/seval/critic/local/model}"
fi
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
# Real models' answers labeled by hand (training/critic/real/): their S-Eval prompts are filled in from
# the release beside the checkout, which is not committed here.
REAL="$CACHE/real-rows"
rm -rf "$REAL"
"${PYTHON:-.venv/bin/python}" training/critic/materialize_real.py --shared "$SHARED" --out "$REAL"
for f in "$REAL"/*.jsonl; do
  args+=(--data "$f:responses")
done
if [[ "$MODE" == crossval ]]; then
  exec "${PYTHON:-.venv/bin/python}" -m seval.cli.main critic crossval "${args[@]}" --cache "$CACHE" "$@"
fi
exec "${PYTHON:-.venv/bin/python}" -m seval.cli.main critic train "${args[@]}" --out "$OUT" --cache "$CACHE"
