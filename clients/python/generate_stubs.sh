#!/usr/bin/env bash
# Generates the Python code of the serving API (featurestore/v1/serving_pb2*.py) from Protos/ into src/, with the
# grpcio-tools of the repository's .venv (scripts/setup). The generated code is committed; run this after changing a
# .proto file.   --check   regenerate into a temporary folder and fail when the committed code differs.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=../..
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
TARGET=src
if [ "${1:-}" = "--check" ]; then TARGET=$(mktemp -d); fi
"$PYTHON" -m grpc_tools.protoc -I "$ROOT/Protos" --python_out="$TARGET" --grpc_python_out="$TARGET" --pyi_out="$TARGET" featurestore/v1/serving.proto
touch "$TARGET/featurestore/v1/__init__.py"
if [ "${1:-}" = "--check" ]; then
  for f in serving_pb2.py serving_pb2.pyi serving_pb2_grpc.py; do
    if ! diff -q "src/featurestore/v1/$f" "$TARGET/featurestore/v1/$f" >/dev/null; then
      echo "generate_stubs: src/featurestore/v1/$f is stale; run clients/python/generate_stubs.sh and commit" >&2
      exit 1
    fi
  done
fi
