#!/usr/bin/env bash
# Rebuild the defense's risk router (src/seval/defense/router_model/) from the exact data it was trained
# on; the manifest lists every file with its sha256, and two runs write byte-identical weights.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${SEVAL_SHARED_DATA:-../shared/data}"
.venv/bin/python -m seval.defense.router_train \
  --out "${1:-src/seval/defense/router_model}" \
  --s-eval "$SHARED/s-eval" \
  --prompts "$SHARED/critic-train/prompts_en.jsonl" \
  --handmade training/critic/handmade
