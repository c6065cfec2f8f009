#!/usr/bin/env bash
# Python side of the model pipeline: format writer/reader, goldens, fixture, reference.
# Uses Debian's interpreter, which sees the apt packages python3-numpy and python3-onnx.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if ! "$PY" -c 'import numpy, onnx' 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: $PY cannot import numpy and onnx; install them: apt-get install -y python3-numpy python3-onnx" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "skipped: install python3-numpy python3-onnx (apt) to run the Python pipeline tests"
  echo "0 passed, 0 failed"
  exit 0
fi

# No __pycache__ in the tree (it is git-ignored, but keep the checkout clean).
PYTHONDONTWRITEBYTECODE=1 exec "$PY" models/pipeline/run_tests.py
